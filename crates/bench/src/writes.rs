//! DataScript's write workloads, each round on fresh stores: add-1 (one
//! transaction per datom), add-5 (one per person), add-all (one
//! transaction) and retract-5 (`:db/retractEntity`, one per person, in a
//! random order). The count each system reports is the datoms it holds
//! after the workload (retract-5: the datoms it removed).

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

use factlite::Value;
use rusqlite::types::Value as SqlValue;

use crate::baseline::{self, Baseline};
use crate::data::{Person, Random};
use crate::ours::{self, Place};
use crate::pages::{PageCounter, Pages};
use crate::report::{Outcome, PagesPerCommit, Row};
use crate::timing::{measure, take_turns, Contender, Measured};

/// How many people each write workload writes.
pub struct WriteScale {
    pub add_one: usize,
    pub add_five: usize,
    pub add_all: usize,
    pub retract: usize,
}

/// A fresh path under `dir` for each new database, and, in the pass that
/// counts pages, the pages each contender's workload wrote.
struct Paths<'a> {
    dir: &'a Path,
    next: Cell<usize>,
    counting: Cell<bool>,
    counted: RefCell<Vec<(String, Pages)>>,
}

impl Paths<'_> {
    fn fresh(&self, name: &str) -> PathBuf {
        self.next.set(self.next.get() + 1);
        self.dir.join(format!("{name}-{}.db", self.next.get()))
    }

    /// Runs `work` on the file at `path`, counting the pages it writes in
    /// the counting pass.
    fn write(&self, contender: &str, path: &Path, work: impl FnOnce() -> Measured) -> Measured {
        if !self.counting.get() {
            return work();
        }
        let counter = PageCounter::start(path).expect("the page counter starts");
        let measured = work();
        let pages = counter.finish().expect("the pages are counted");
        self.counted
            .borrow_mut()
            .push((contender.to_string(), pages));
        measured
    }

    /// Runs each contender on a file once more, counting the pages its
    /// commits write: the baseline's and factlite's.
    fn count_pages(&self, contenders: &mut [Contender<'_>]) -> [Pages; 2] {
        self.counting.set(true);
        for (name, run) in contenders.iter_mut() {
            if *name != MEMORY {
                run();
            }
        }
        self.counting.set(false);
        let mut counted = self.counted.take();
        let mut take = |name: &str| {
            counted
                .iter()
                .position(|(contender, _)| contender == name)
                .map(|at| counted.swap_remove(at).1)
                .unwrap_or_default()
        };
        [take(BASELINE), take(FILE)]
    }
}

const BASELINE: &str = "plain-EAV SQLite";
const FILE: &str = "factlite file";
const MEMORY: &str = "factlite memory";

fn baseline_datoms(baseline: &Baseline) -> u64 {
    baseline
        .count("SELECT count(*) FROM datoms", &[])
        .expect("the baseline counts")
}

/// factlite's side of a write workload, prepared outside the timing (its
/// transaction data built) and run inside it.
type Work<'a> = Box<dyn FnOnce(&factlite::Store) + 'a>;

/// One write workload: the baseline's transactions (groups of datoms) and
/// factlite's run on a fresh store of each place.
fn contenders<'a>(
    paths: &'a Paths<'a>,
    groups: &'a [Vec<(i64, i64, SqlValue)>],
    prepare: &'a dyn Fn() -> Work<'a>,
) -> Vec<Contender<'a>> {
    let factlite = move |place: Place, name: &'a str| {
        move || {
            let path = paths.fresh("factlite");
            let store = ours::open(place, &path, ours::PEOPLE_SCHEMA);
            let work = prepare();
            let mut measured = paths.write(name, &path, || {
                measure(|| {
                    work(&store);
                    0
                })
            });
            measured.count = ours::person_datoms(&store);
            measured
        }
    };
    vec![
        (
            BASELINE,
            Box::new(move || {
                let path = paths.fresh("eav");
                let mut baseline = Baseline::create(&path).expect("the baseline opens");
                let mut measured = paths.write(BASELINE, &path, || {
                    measure(|| {
                        baseline.transact_each(groups).expect("the baseline writes");
                        0
                    })
                });
                measured.count = baseline_datoms(&baseline);
                measured
            }),
        ),
        (FILE, Box::new(factlite(Place::File, FILE))),
        (MEMORY, Box::new(factlite(Place::Memory, MEMORY))),
    ]
}

fn row(
    name: &str,
    transactions: usize,
    count: u64,
    times: &[std::time::Duration],
    [baseline, file]: [Pages; 2],
) -> Row {
    let per = if transactions == 1 {
        "1 transaction".to_string()
    } else {
        format!("{transactions} transactions")
    };
    println!(
        "writes {name:<10} pages per commit: plain-EAV SQLite {}; factlite file {}",
        baseline.per_commit(transactions),
        file.per_commit(transactions)
    );
    Row {
        section: "writes".into(),
        workload: format!("{name} ({per})"),
        count,
        baseline: times[0],
        file: Outcome::Time(times[1]),
        memory: Outcome::Time(times[2]),
        target: Some(if name == "add-all" { 2.0 } else { 1.5 }),
        plans: None,
        pages: Some(PagesPerCommit {
            baseline,
            file,
            commits: transactions,
        }),
    }
}

/// Runs the four write workloads, a row each.
pub fn run(
    dir: &Path,
    people: &[Person],
    scale: &WriteScale,
    rounds: usize,
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let paths = Paths {
        dir,
        next: Cell::new(0),
        counting: Cell::new(false),
        counted: RefCell::new(Vec::new()),
    };
    let datoms = |people: &[Person]| -> Vec<(i64, i64, SqlValue)> {
        (1..)
            .zip(people)
            .flat_map(|(e, person)| baseline::person_datoms(e, person))
            .collect()
    };

    let add_one = &people[..scale.add_one.min(people.len())];
    let groups: Vec<_> = datoms(add_one).into_iter().map(|d| vec![d]).collect();
    let ours_add_one = || -> Work { Box::new(|store| ours::add_one_at_a_time(store, add_one)) };
    let mut add_one_contenders = contenders(&paths, &groups, &ours_add_one);
    let (times, count) = take_turns("add-1", rounds, &mut add_one_contenders)?;
    report("add-1", &times, count);
    let pages = paths.count_pages(&mut add_one_contenders);
    rows.push(row("add-1", groups.len(), count, &times, pages));

    let add_five = &people[..scale.add_five.min(people.len())];
    let groups: Vec<_> = (1..)
        .zip(add_five)
        .map(|(e, person)| baseline::person_datoms(e, person))
        .collect();
    let maps: Vec<Value> = add_five
        .iter()
        .map(|person| Value::Vector(vec![ours::entity_map(person, "p")]))
        .collect();
    let ours_add_five = || -> Work {
        let maps = maps.clone();
        Box::new(move |store| ours::transact_each(store, maps))
    };
    let mut add_five_contenders = contenders(&paths, &groups, &ours_add_five);
    let (times, count) = take_turns("add-5", rounds, &mut add_five_contenders)?;
    report("add-5", &times, count);
    let pages = paths.count_pages(&mut add_five_contenders);
    rows.push(row("add-5", groups.len(), count, &times, pages));

    let add_all = &people[..scale.add_all.min(people.len())];
    let groups = vec![datoms(add_all)];
    let all = vec![Value::Vector(
        add_all
            .iter()
            .enumerate()
            .map(|(i, person)| ours::entity_map(person, &format!("p{i}")))
            .collect(),
    )];
    let ours_add_all = || -> Work {
        let all = all.clone();
        Box::new(move |store| ours::transact_each(store, all))
    };
    let mut add_all_contenders = contenders(&paths, &groups, &ours_add_all);
    let (times, count) = take_turns("add-all", rounds, &mut add_all_contenders)?;
    report("add-all", &times, count);
    let pages = paths.count_pages(&mut add_all_contenders);
    rows.push(row("add-all", 1, count, &times, pages));

    let retracted = &people[..scale.retract.min(people.len())];
    let mut order: Vec<usize> = (0..retracted.len()).collect();
    Random::seeded().shuffle(&mut order);
    let retract = |place: Place, name: &'static str| {
        let (paths, order) = (&paths, &order);
        move || -> Measured {
            let path = paths.fresh("factlite");
            let store = ours::open(place, &path, ours::PEOPLE_SCHEMA);
            let ids = ours::load_people(&store, retracted);
            let forms = ours::retractions(&order.iter().map(|&i| ids[i]).collect::<Vec<_>>());
            let before = ours::person_datoms(&store);
            let mut measured = paths.write(name, &path, || {
                measure(|| {
                    ours::transact_each(&store, forms);
                    0
                })
            });
            measured.count = before - ours::person_datoms(&store);
            measured
        }
    };
    let mut retract_contenders: Vec<Contender> = vec![
        (
            BASELINE,
            Box::new(|| {
                let path = paths.fresh("eav");
                let mut baseline =
                    baseline::load_people(&path, retracted).expect("the baseline loads");
                let entities: Vec<i64> = order.iter().map(|&i| i as i64 + 1).collect();
                let before = baseline_datoms(&baseline);
                let mut measured = paths.write(BASELINE, &path, || {
                    measure(|| {
                        baseline
                            .retract_each(&entities)
                            .expect("the baseline retracts");
                        0
                    })
                });
                measured.count = before - baseline_datoms(&baseline);
                measured
            }),
        ),
        (FILE, Box::new(retract(Place::File, FILE))),
        (MEMORY, Box::new(retract(Place::Memory, MEMORY))),
    ];
    let (times, count) = take_turns("retract-5", rounds, &mut retract_contenders)?;
    report("retract-5", &times, count);
    let pages = paths.count_pages(&mut retract_contenders);
    rows.push(row("retract-5", retracted.len(), count, &times, pages));
    Ok(())
}

fn report(name: &str, times: &[std::time::Duration], count: u64) {
    println!(
        "writes {name:<10} {count:>8} datoms  ms: {}",
        crate::queries::times_line(times)
    );
}
