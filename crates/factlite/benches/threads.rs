//! Thread benchmark (plain `main`, no harness): the query benchmark's
//! people in a file store, where each thread's snapshot reads through a
//! reader connection of its own (WAL readers in parallel).
//!
//! 1. **Read throughput with 1, 2 and 4 threads** sharing one `Store`
//!    (each thread a clone of it): every thread runs the six shapes in
//!    turn through `Db::q_str` for a time window, and the queries finished
//!    per second are summed. The hand-written SQL baseline of the query
//!    benchmark runs the same way, each thread on its own snapshot's
//!    connection, to show what the machine allows. The thread counts take
//!    turns within each round; the median round is printed with its ratio
//!    to one thread. Target on two cores: two threads at least 1.7× one.
//! 2. **The typed path against the EDN-text path**, on one thread, for the
//!    same queries: the typed path binds the name (and the minimum salary)
//!    as Rust values and reads each row's columns as `i64`/`String`
//!    (`Row::get`); the EDN-text path writes them into the query text and
//!    reads the result as EDN, matching each value by hand. Target: the
//!    typed path no slower (within 5%, the run-to-run noise).
//!
//! Prints the machine's load average before and after. `FACTLITE_BENCH_PEOPLE`
//! scales the data (default 100,000), `FACTLITE_BENCH_WINDOW_MS` the window
//! (default 1,000), `FACTLITE_BENCH_ROUNDS` the rounds (default 5),
//! `FACTLITE_BENCH_RUNS` the typed/text runs (default 41). Run with
//! `cargo bench -p factlite --bench threads`.

mod people;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use factlite::{QueryResultExt, Store, Value};
use people::{baseline, env_number, load, shapes, time, Shape};

const THREADS: [usize; 3] = [1, 2, 4];

/// Queries per second of `threads` threads, each running `work` (which
/// returns how many queries it ran) until the window closes.
fn throughput(
    store: &Store,
    threads: usize,
    window: Duration,
    work: fn(&Store, &[Shape]) -> usize,
    shapes: &Arc<Vec<Shape>>,
) -> f64 {
    let start = Arc::new(Barrier::new(threads + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (store, shapes) = (store.clone(), shapes.clone());
            let (start, stop) = (start.clone(), stop.clone());
            thread::spawn(move || {
                start.wait();
                let mut done = 0;
                while !stop.load(Ordering::Relaxed) {
                    done += work(&store, &shapes);
                }
                done
            })
        })
        .collect();
    start.wait();
    let started = Instant::now();
    thread::sleep(window);
    stop.store(true, Ordering::Relaxed);
    let done: usize = workers
        .into_iter()
        .map(|worker| worker.join().expect("worker"))
        .sum();
    done as f64 / started.elapsed().as_secs_f64()
}

/// Every shape once through `Db::q_str`.
fn factlite_queries(store: &Store, shapes: &[Shape]) -> usize {
    let db = store.db().expect("db");
    for shape in shapes {
        std::hint::black_box(db.q_str(shape.datalog, &shape.inputs).expect("q").len());
    }
    shapes.len()
}

/// Every shape once as hand-written SQL.
fn sql_queries(store: &Store, shapes: &[Shape]) -> usize {
    let db = store.db().expect("db");
    for shape in shapes {
        std::hint::black_box(baseline(&db, shape)());
    }
    shapes.len()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The shape's query with the name `"Ivan"` as an input `?name` after its
/// other inputs.
fn parameterized(datalog: &str) -> String {
    let named = datalog.replacen("\"Ivan\"", "?name", 1);
    match named.split_once(":in $") {
        Some((before, after)) => {
            let (inputs, rest) = after.split_once(":where").expect("a :where");
            format!("{before}:in ${inputs}?name :where{rest}")
        }
        None => named.replacen(":where", ":in $ ?name :where", 1),
    }
}

/// A contender's work: runs the shapes' queries on a store, giving how
/// many it ran.
type Workload = fn(&Store, &[Shape]) -> usize;

fn main() {
    let people = env_number("FACTLITE_BENCH_PEOPLE", 100_000);
    let window = Duration::from_millis(env_number("FACTLITE_BENCH_WINDOW_MS", 1_000) as u64);
    let rounds = env_number("FACTLITE_BENCH_ROUNDS", 5);
    let runs = env_number("FACTLITE_BENCH_RUNS", 41);
    println!("load average before: {}", load_average());
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(directory.path().join("people.db")).expect("store");
    let started = Instant::now();
    load(&store, people);
    println!(
        "loaded {people} people into a file store in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let shapes = Arc::new(shapes(&store));

    // 1. Throughput.
    let contenders: [(&str, Workload); 2] =
        [("factlite q", factlite_queries), ("SQL", sql_queries)];
    let mut rates = vec![vec![Vec::new(); THREADS.len()]; contenders.len()];
    for round in 0..rounds {
        for turn in 0..THREADS.len() {
            let which = (round + turn) % THREADS.len();
            for (contender, (_, work)) in contenders.iter().enumerate() {
                let rate = throughput(&store, THREADS[which], window, *work, &shapes);
                rates[contender][which].push(rate);
            }
        }
    }
    println!(
        "read throughput, queries/s (median of {rounds} windows of {} ms; the six shapes in turn)",
        window.as_millis()
    );
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "", "1 thread", "2 threads", "4 threads", "2 vs 1", "4 vs 1"
    );
    let mut two_vs_one = 0.0;
    for ((name, _), rates) in contenders.iter().zip(rates) {
        let [one, two, four] = [0, 1, 2].map(|i| median(rates[i].clone()));
        if *name == "factlite q" {
            two_vs_one = two / one;
        }
        println!(
            "{name:<12} {one:>10.0} {two:>10.0} {four:>10.0} {:>8.2}x {:>8.2}x",
            two / one,
            four / one
        );
    }
    println!(
        "factlite with 2 threads: {two_vs_one:.2}x one thread (target 1.7x): {}",
        if two_vs_one >= 1.7 { "met" } else { "missed" }
    );

    // 2. Typed against EDN text.
    let db = store.db().expect("db");
    println!("typed path against EDN text, one thread, medians of {runs} runs, ms");
    println!(
        "{:<26} {:>6} {:>9} {:>9} {:>11}",
        "query", "rows", "typed", "EDN text", "typed/text"
    );
    let mut worst: f64 = 0.0;
    for shape in shapes.iter() {
        let typed_query = parameterized(shape.datalog);
        let text_query = match shape.inputs.first() {
            Some(minimum) => shape.datalog.replacen(":in $ ?min", "", 1).replacen(
                "?min",
                &minimum.to_string(),
                1,
            ),
            None => shape.datalog.to_string(),
        };
        // The column types, from the first row.
        let kinds: Vec<bool> = db
            .q_str(shape.datalog, &shape.inputs)
            .expect("q")
            .rows()
            .expect("a relation")
            .next()
            .map(|row| {
                row.values()
                    .iter()
                    .map(|v| matches!(v, Value::String(_)))
                    .collect()
            })
            .unwrap_or_default();
        let mut run_typed = || {
            let result = match shape.inputs.is_empty() {
                true => db.q_str(&typed_query, ("Ivan",)),
                false => db.q_str(&typed_query, (50_000i64, "Ivan")),
            }
            .expect("typed query");
            let mut rows = 0;
            for row in result.rows().expect("a relation") {
                for (column, is_text) in kinds.iter().enumerate() {
                    match is_text {
                        true => drop(std::hint::black_box(
                            row.get::<String>(column).expect("a string"),
                        )),
                        false => {
                            std::hint::black_box(row.get::<i64>(column).expect("an integer"));
                        }
                    }
                }
                rows += 1;
            }
            rows
        };
        let mut run_text = || {
            let result = db.q_str(&text_query, ()).expect("text query").into_edn();
            let Value::Set(rows) = &result else {
                panic!("a relation is a set of tuples")
            };
            for row in rows {
                let Value::Vector(cells) = row else {
                    panic!("a tuple")
                };
                for cell in cells {
                    match cell {
                        Value::String(text) => drop(std::hint::black_box(text.clone())),
                        Value::Integer(n) => {
                            std::hint::black_box(*n);
                        }
                        other => panic!("unexpected {other}"),
                    }
                }
            }
            rows.len()
        };
        let timings = time(runs, &mut [&mut run_typed, &mut run_text]);
        let [(typed, typed_rows), (text, text_rows)] = timings[..] else {
            unreachable!("two contenders");
        };
        assert_eq!(typed_rows, text_rows, "{}: row counts differ", shape.name);
        let ratio = typed.as_secs_f64() / text.as_secs_f64();
        worst = worst.max(ratio);
        println!(
            "{:<26} {:>6} {:>9.3} {:>9.3} {:>10.2}x",
            shape.name,
            typed_rows,
            typed.as_secs_f64() * 1000.0,
            text.as_secs_f64() * 1000.0,
            ratio
        );
    }
    println!(
        "worst typed/text {worst:.2}x (target: no slower, 1.05x allowing for noise): {}",
        if worst <= 1.05 { "met" } else { "missed" }
    );
    println!("load average after: {}", load_average());
}
