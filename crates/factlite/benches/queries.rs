//! Query benchmark (plain `main`, no harness): 100,000 generated people
//! (first name, last name, age, salary, two or three friends) in an
//! in-memory store, and six query shapes — one pattern with a constant, a
//! range on an indexed value, a three-clause join, a join with a
//! predicate, an `or-join` after a join, a join through refs. Each is
//! timed
//!
//! - through a prepared query (`PreparedQuery::run`: the whole result as a
//!   `QueryResult`, its rows of values in one vector);
//! - through `Db::q` (which also parses the query text and finds the plan
//!   in the cache);
//! - as EDN (`PreparedQuery::run` then `into_edn`: a set of tuples, what
//!   the REPL prints), for information;
//! - streamed (`PreparedQuery::rows`, each item decoded and dropped);
//! - as hand-written SQL against the same tables run with rusqlite (the
//!   baseline: the join order pinned with `CROSS JOIN` as an expert would,
//!   the statement prepared once, its rows read into Rust values).
//!
//! They run in turn within each round, so they share the machine's load
//! alike. Prints each median and the ratio to the baseline; the target,
//! for the prepared query and `Db::q`, is 1.5× or less. Every shape checks
//! that all return as many rows.
//!
//! `FACTLITE_BENCH_PEOPLE` scales the data (default 100,000);
//! `FACTLITE_BENCH_RUNS` the timed runs per query (default 41);
//! `FACTLITE_BENCH_ONLY` keeps the shapes whose name contains it (for
//! profiling one). Run with
//! `cargo bench -p factlite --bench queries`.

mod people;

use std::time::{Duration, Instant};

use factlite::{Store, Value};
use people::{baseline, env_number, load, shapes, time};

fn count(result: &Value) -> usize {
    match result {
        Value::Set(items) => items.len(),
        Value::Vector(items) => items.len(),
        Value::Nil => 0,
        _ => 1,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn main() {
    let people = env_number("FACTLITE_BENCH_PEOPLE", 100_000);
    let runs = env_number("FACTLITE_BENCH_RUNS", 41);
    let started = Instant::now();
    let store = Store::open_in_memory().expect("store");
    load(&store, people);
    let datoms: i64 = store.db().expect("db").with_connection(|conn| {
        conn.query_row("SELECT count(*) FROM datoms", [], |row| row.get(0))
            .expect("count")
    });
    println!(
        "loaded {people} people ({datoms} datoms) in {:.1} s; medians of {runs} runs, ms",
        started.elapsed().as_secs_f64()
    );
    println!(
        "{:<26} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "query",
        "rows",
        "prepared",
        "q",
        "EDN",
        "streamed",
        "SQL",
        "prep/SQL",
        "q/SQL",
        "EDN/SQL",
        "strm/SQL"
    );
    let db = store.db().expect("db");
    let mut worst: f64 = 0.0;
    let only = std::env::var("FACTLITE_BENCH_ONLY").unwrap_or_default();
    for shape in shapes(&store)
        .into_iter()
        .filter(|shape| shape.name.contains(only.as_str()))
    {
        let prepared = db.prepare(shape.datalog).expect("prepare");
        let mut run_prepared = || {
            prepared
                .run(&db, &shape.inputs)
                .expect("prepared run")
                .len()
        };
        let mut run_q = || db.q_str(shape.datalog, &shape.inputs).expect("q").len();
        let mut run_edn = || {
            count(
                &prepared
                    .run(&db, &shape.inputs)
                    .expect("prepared run")
                    .into_edn(),
            )
        };
        let mut run_sql = baseline(&db, &shape);
        let mut run_streamed = || {
            prepared
                .rows(&db, &shape.inputs, |rows| {
                    rows.try_fold(0, |count, row| row.map(|_| count + 1))
                })
                .expect("streamed run")
                .expect("streamed rows")
        };
        let timings = time(
            runs,
            &mut [
                &mut run_prepared,
                &mut run_q,
                &mut run_edn,
                &mut run_streamed,
                &mut run_sql,
            ],
        );
        let [(prepared_time, prepared_rows), (q_time, q_rows), (edn_time, edn_rows), (streamed_time, streamed_rows), (sql_time, sql_rows)] =
            timings[..]
        else {
            unreachable!("five contenders");
        };
        for rows in [prepared_rows, q_rows, edn_rows, streamed_rows] {
            assert_eq!(rows, sql_rows, "{}: row counts differ", shape.name);
        }
        let ratio = |t: Duration| t.as_secs_f64() / sql_time.as_secs_f64();
        worst = worst.max(ratio(prepared_time)).max(ratio(q_time));
        println!(
            "{:<26} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8.2}x {:>8.2}x {:>8.2}x {:>8.2}x",
            shape.name,
            sql_rows,
            ms(prepared_time),
            ms(q_time),
            ms(edn_time),
            ms(streamed_time),
            ms(sql_time),
            ratio(prepared_time),
            ratio(q_time),
            ratio(edn_time),
            ratio(streamed_time)
        );
    }
    println!(
        "worst ratio of prepared and q {worst:.2}x (target 1.5x): {}",
        if worst <= 1.5 { "met" } else { "missed" }
    );
}
