//! Contenders taking turns: each round runs every contender once, the first
//! of each round rotating, so that whatever else the machine does falls on
//! all of them alike; each contender reports its own time (so that setting
//! up a fresh store stays outside it) and its count, and the counts must
//! agree before any time is kept.

use std::time::{Duration, Instant};

/// What one run of a contender measured.
pub struct Measured {
    pub time: Duration,
    pub count: u64,
}

/// Times `work` alone.
pub fn measure(work: impl FnOnce() -> u64) -> Measured {
    let started = Instant::now();
    let count = work();
    Measured {
        time: started.elapsed(),
        count,
    }
}

/// A contender: its name and one run.
pub type Contender<'a> = (&'a str, Box<dyn FnMut() -> Measured + 'a>);

/// The median time of each contender over `rounds` rounds, and the count
/// they agree on; an error naming the counts when they differ (checked in
/// the first round, before any time is kept, and in every round after).
pub fn take_turns(
    workload: &str,
    rounds: usize,
    contenders: &mut [Contender<'_>],
) -> Result<(Vec<Duration>, u64), String> {
    let count = contenders.len();
    let mut times = vec![Vec::with_capacity(rounds); count];
    let mut agreed = None;
    for round in 0..rounds.max(1) {
        let mut counts = vec![0; count];
        for turn in 0..count {
            let which = (round + turn) % count;
            let measured = (contenders[which].1)();
            counts[which] = measured.count;
            times[which].push(measured.time);
        }
        if counts.iter().any(|&c| c != counts[0]) {
            let named: Vec<String> = contenders
                .iter()
                .zip(&counts)
                .map(|((name, _), count)| format!("{name} {count}"))
                .collect();
            return Err(format!(
                "{workload}: the counts differ: {}",
                named.join(", ")
            ));
        }
        agreed = Some(counts[0]);
    }
    Ok((
        times.into_iter().map(median).collect(),
        agreed.unwrap_or_default(),
    ))
}

pub fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
