//! Read and print throughput of the EDN reader on ~10 MB of generated text:
//! vectors of maps holding strings, keywords, integers, floats, instants and
//! nested vectors. A plain `main` (no benchmark harness): each measurement
//! runs several times and the median is printed, in MB/s of EDN text.
//!
//! Run with `cargo bench -p factlite-edn`.

use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

use factlite_edn::{parse_all, Value};

const TARGET_BYTES: usize = 10_000_000;
const ITERATIONS: usize = 7;

/// A small deterministic pseudo-random generator (xorshift64*).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn generate_text() -> String {
    const WORDS: [&str; 8] = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
    ];
    const STATUSES: [&str; 4] = [
        ":status/active",
        ":status/inactive",
        ":status/pending",
        ":status/banned",
    ];
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    let mut text = String::with_capacity(TARGET_BYTES + 4096);
    let mut id = 0u64;
    while text.len() < TARGET_BYTES {
        text.push_str("[\n");
        for _ in 0..50 {
            id += 1;
            let word = WORDS[random.below(8) as usize];
            let status = STATUSES[random.below(4) as usize];
            let millis = 1_600_000_000_000 + random.below(100_000_000_000) as i64;
            let instant = factlite_edn::Instant(millis);
            let _ = writeln!(
                text,
                " {{:db/id {id} :person/name \"{word} {id}\" :person/email \"{word}.{id}@example.com\" \
                 :person/status {status} :person/age {} :person/score {:?} :person/joined #inst \"{instant}\" \
                 :person/tags [:tag/{word} :tag/t{}] :person/matrix [[{} {}] [{} -{}]] \
                 :person/note \"line one\\nline \\\"two\\\"\"}}",
                random.below(100),
                random.below(1_000_000) as f64 / 1000.0,
                random.below(20),
                random.below(1000),
                random.below(1000),
                random.below(1000),
                random.below(1000),
            );
        }
        text.push_str("]\n");
    }
    text
}

/// Runs `work` [`ITERATIONS`] times and returns the median duration; the
/// result of `work` is dropped after the clock stops (freeing a parsed
/// document is the caller's cost, not the reader's).
fn median_time<T>(mut work: impl FnMut() -> T) -> Duration {
    let mut times: Vec<Duration> = (0..ITERATIONS)
        .map(|_| {
            let start = Instant::now();
            let output = black_box(work());
            let elapsed = start.elapsed();
            drop(output);
            elapsed
        })
        .collect();
    times.sort();
    times[ITERATIONS / 2]
}

fn megabytes_per_second(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

fn main() {
    let text = generate_text();
    let values = parse_all(&text).expect("the generated text is valid EDN");
    let maps: usize = values
        .iter()
        .filter_map(Value::as_sequence)
        .map(<[Value]>::len)
        .sum();
    println!(
        "input: {:.1} MB, {} vectors, {maps} maps",
        text.len() as f64 / 1e6,
        values.len()
    );

    let read = median_time(|| parse_all(black_box(&text)).expect("valid EDN"));
    println!(
        "read:  median {:>7.1} ms  {:>7.1} MB/s",
        read.as_secs_f64() * 1e3,
        megabytes_per_second(text.len(), read)
    );

    let mut printed_bytes = 0;
    let print = median_time(|| {
        let mut out = String::with_capacity(text.len());
        for value in &values {
            let _ = writeln!(out, "{value}");
        }
        printed_bytes = out.len();
        out
    });
    println!(
        "print: median {:>7.1} ms  {:>7.1} MB/s ({:.1} MB printed)",
        print.as_secs_f64() * 1e3,
        megabytes_per_second(printed_bytes, print),
        printed_bytes as f64 / 1e6
    );
}
