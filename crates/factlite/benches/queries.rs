//! Query benchmark (plain `main`, no harness): 100,000 generated people
//! (first name, last name, age, salary, two or three friends) in an
//! in-memory store, and five query shapes — one pattern with a constant, a
//! three-clause join, a join with a predicate, an `or-join` after a join,
//! a join through refs. Each is timed
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

use std::time::{Duration, Instant};

use factlite::edn::{self, Keyword};
use factlite::{Db, Store, Value};
use rusqlite::types::Value as SqlValue;

const FIRST_NAMES: [&str; 20] = [
    "Ivan", "Petr", "Sergei", "Oleg", "Yuri", "Dmitry", "Fedor", "Denis", "Anna", "Maria", "Olga",
    "Irina", "Elena", "Nina", "Vera", "Lidia", "Boris", "Pavel", "Igor", "Artem",
];
const LAST_NAMES: [&str; 10] = [
    "Ivanov",
    "Petrov",
    "Sidorov",
    "Kovalev",
    "Kuznetsov",
    "Voronoi",
    "Popov",
    "Sokolov",
    "Lebedev",
    "Novikov",
];

const SCHEMA: &str = r#"[
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/last-name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/salary :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]"#;

const BATCH: usize = 5_000;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift), so every run has the same data.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn keyword(name: &str) -> Value {
    Value::Keyword(Keyword::namespaced("person", name))
}

/// Loads the people; returns the store.
fn load(people: usize) -> Store {
    let store = Store::open_in_memory().expect("store");
    store.transact_str(SCHEMA).expect("schema");
    let mut random = Random(0x2545_f491_4f6c_dd1d);
    let mut ids: Vec<i64> = Vec::with_capacity(people);
    for start in (0..people).step_by(BATCH) {
        let end = (start + BATCH).min(people);
        let forms: Vec<Value> = (start..end)
            .map(|i| {
                Value::Map(
                    [
                        (
                            keyword("name"),
                            Value::String(FIRST_NAMES[random.below(20)].into()),
                        ),
                        (
                            keyword("last-name"),
                            Value::String(LAST_NAMES[random.below(10)].into()),
                        ),
                        (keyword("age"), Value::Integer(random.below(100) as i64)),
                        (
                            keyword("salary"),
                            Value::Integer(random.below(100_000) as i64),
                        ),
                        (
                            edn::parse(":db/id").expect("keyword"),
                            Value::String(format!("p{i}")),
                        ),
                    ]
                    .into_iter()
                    .collect(),
                )
            })
            .collect();
        let report = store.transact(&Value::Vector(forms)).expect("people");
        ids.extend((start..end).map(|i| report.tempids[&format!("p{i}")]));
    }
    for chunk in ids.chunks(BATCH) {
        let forms: Vec<Value> = chunk
            .iter()
            .flat_map(|&id| {
                let friends = 2 + random.below(2);
                (0..friends)
                    .map(|_| {
                        Value::Vector(vec![
                            edn::parse(":db/add").expect("keyword"),
                            Value::Integer(id),
                            keyword("friend"),
                            Value::Integer(ids[random.below(ids.len())]),
                        ])
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        store.transact(&Value::Vector(forms)).expect("friends");
    }
    store
}

/// One query shape: the Datalog, its inputs, and the hand-written SQL
/// (attribute ids and constants as parameters).
struct Shape {
    name: &'static str,
    datalog: &'static str,
    inputs: Vec<Value>,
    sql: &'static str,
    params: Vec<SqlValue>,
    /// Columns the baseline reads per row: integers, then strings.
    integers: usize,
    strings: usize,
}

fn shapes(store: &Store) -> Vec<Shape> {
    let db = store.db().expect("db");
    let id = |name: &str| {
        let ident = Keyword::namespaced("person", name);
        SqlValue::Integer(db.entid(&ident).expect("schema").expect("attribute"))
    };
    let text = |s: &str| SqlValue::Text(s.to_string());
    vec![
        Shape {
            name: "one pattern, constant",
            datalog: r#"[:find ?e :where [?e :person/name "Ivan"]]"#,
            inputs: vec![],
            sql: "SELECT e FROM datoms WHERE a = ?1 AND v = ?2 AND avet = 1",
            params: vec![id("name"), text("Ivan")],
            integers: 1,
            strings: 0,
        },
        Shape {
            name: "3-clause join",
            datalog: r#"[:find ?e ?l ?a :where [?e :person/name "Ivan"]
                                              [?e :person/last-name ?l]
                                              [?e :person/age ?a]]"#,
            inputs: vec![],
            sql: "SELECT n.e, a.v, l.v FROM datoms AS n \
                  CROSS JOIN datoms AS l CROSS JOIN datoms AS a \
                  WHERE n.a = ?1 AND n.v = ?4 AND n.avet = 1 \
                  AND l.a = ?2 AND l.e = n.e AND a.a = ?3 AND a.e = n.e",
            params: vec![id("name"), id("last-name"), id("age"), text("Ivan")],
            integers: 2,
            strings: 1,
        },
        Shape {
            name: "join + predicate (input)",
            datalog: r#"[:find ?e ?s :in $ ?min :where [?e :person/name "Ivan"]
                                                      [?e :person/salary ?s]
                                                      [(> ?s ?min)]]"#,
            inputs: vec![Value::Integer(50_000)],
            sql: "SELECT n.e, s.v FROM datoms AS n CROSS JOIN datoms AS s \
                  WHERE n.a = ?1 AND n.v = ?3 AND n.avet = 1 \
                  AND s.a = ?2 AND s.e = n.e AND s.v > ?4",
            params: vec![
                id("name"),
                id("salary"),
                text("Ivan"),
                SqlValue::Integer(50_000),
            ],
            integers: 2,
            strings: 0,
        },
        Shape {
            name: "or-join after a join",
            datalog: r#"[:find ?e ?x :where [?e :person/name "Ivan"]
                                        [?e :person/last-name "Ivanov"]
                                        (or-join [?e ?x] [?e :person/age ?x]
                                                         [?e :person/salary ?x])]"#,
            inputs: vec![],
            sql: "SELECT e.e, x.v FROM datoms AS e CROSS JOIN datoms AS l \
                  CROSS JOIN datoms AS x \
                  WHERE e.a = ?1 AND e.v = ?4 AND e.avet = 1 \
                  AND l.a = ?2 AND l.e = e.e AND l.v = ?5 \
                  AND x.e = e.e AND x.a IN (?3, ?6)",
            params: vec![
                id("name"),
                id("last-name"),
                id("age"),
                text("Ivan"),
                text("Ivanov"),
                id("salary"),
            ],
            integers: 2,
            strings: 0,
        },
        Shape {
            name: "join through refs",
            datalog: r#"[:find ?e ?f ?n :where [?e :person/name "Ivan"]
                                             [?e :person/last-name "Ivanov"]
                                             [?e :person/friend ?f]
                                             [?f :person/name ?n]]"#,
            inputs: vec![],
            sql: "SELECT e.e, f.v, n.v FROM datoms AS e CROSS JOIN datoms AS l \
                  CROSS JOIN datoms AS f CROSS JOIN datoms AS n \
                  WHERE e.a = ?1 AND e.v = ?4 AND e.avet = 1 \
                  AND l.a = ?2 AND l.e = e.e AND l.v = ?5 \
                  AND f.a = ?3 AND f.e = e.e AND n.a = ?1 AND n.e = f.v",
            params: vec![
                id("name"),
                id("last-name"),
                id("friend"),
                text("Ivan"),
                text("Ivanov"),
            ],
            integers: 2,
            strings: 1,
        },
    ]
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The median times of `runs` rounds, each calling every contender once
/// (so they share whatever else the machine is doing), the first of each
/// round taking turns (so none always follows the same one), after two
/// untimed rounds; and the rows each returned.
fn time(runs: usize, contenders: &mut [&mut dyn FnMut() -> usize]) -> Vec<(Duration, usize)> {
    let rows: Vec<usize> = contenders.iter_mut().map(|work| work()).collect();
    contenders.iter_mut().for_each(|work| {
        work();
    });
    let count = contenders.len();
    let mut times = vec![Vec::with_capacity(runs); count];
    for round in 0..runs {
        for turn in 0..count {
            let which = (round + turn) % count;
            let started = Instant::now();
            std::hint::black_box(contenders[which]());
            times[which].push(started.elapsed());
        }
    }
    times.into_iter().map(median).zip(rows).collect()
}

fn count(result: &Value) -> usize {
    match result {
        Value::Set(items) => items.len(),
        Value::Vector(items) => items.len(),
        Value::Nil => 0,
        _ => 1,
    }
}

/// The baseline: the statement prepared once, each row read into Rust
/// values (the integer columns, then the text columns).
fn baseline<'a>(db: &'a Db, shape: &'a Shape) -> impl FnMut() -> usize + 'a {
    move || {
        db.with_connection(|conn| {
            let mut statement = conn.prepare_cached(shape.sql).expect("baseline SQL");
            let rows = statement
                .query_map(rusqlite::params_from_iter(&shape.params), |row| {
                    let mut integers = Vec::with_capacity(shape.integers);
                    for i in 0..shape.integers {
                        integers.push(row.get::<_, i64>(i)?);
                    }
                    let mut strings = Vec::with_capacity(shape.strings);
                    for i in 0..shape.strings {
                        strings.push(row.get::<_, String>(shape.integers + i)?);
                    }
                    Ok((integers, strings))
                })
                .expect("baseline runs");
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .expect("baseline rows")
                .len()
        })
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn main() {
    let people = env_number("FACTLITE_BENCH_PEOPLE", 100_000);
    let runs = env_number("FACTLITE_BENCH_RUNS", 41);
    let started = Instant::now();
    let store = load(people);
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
