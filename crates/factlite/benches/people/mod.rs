//! The people the query benchmarks read: 100,000 generated people (first
//! name, last name, age, salary, two or three friends) and six query
//! shapes over them, each with the hand-written SQL an expert would write
//! against the same tables; and the timing loop that lets contenders take
//! turns. Shared by the `queries` and `threads` benchmarks.

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

pub const SCHEMA: &str = r#"[
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/last-name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/salary :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]"#;

const BATCH: usize = 5_000;

pub fn env_number(name: &str, default: usize) -> usize {
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

/// Loads the people into an empty store.
pub fn load(store: &Store, people: usize) {
    store.transact(SCHEMA).expect("schema");
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
        let report = store.transact(Value::Vector(forms)).expect("people");
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
        store.transact(Value::Vector(forms)).expect("friends");
    }
}

/// One query shape: the Datalog, its inputs, and the hand-written SQL
/// (attribute ids and constants as parameters).
pub struct Shape {
    pub name: &'static str,
    pub datalog: &'static str,
    pub inputs: Vec<Value>,
    pub sql: &'static str,
    pub params: Vec<SqlValue>,
    /// Columns the baseline reads per row: integers, then strings.
    pub integers: usize,
    pub strings: usize,
}

pub fn shapes(store: &Store) -> Vec<Shape> {
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
            name: "range on an indexed value",
            datalog: r#"[:find ?e ?s :where [?e :person/salary ?s] [(> ?s 99000)]]"#,
            inputs: vec![],
            sql: "SELECT e, v FROM datoms WHERE a = ?1 AND v > ?2 AND avet = 1",
            params: vec![id("salary"), SqlValue::Integer(99_000)],
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
pub fn time(runs: usize, contenders: &mut [&mut dyn FnMut() -> usize]) -> Vec<(Duration, usize)> {
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

/// The baseline: the statement prepared once, each row read into Rust
/// values (the integer columns, then the text columns).
pub fn baseline<'a>(db: &'a Db, shape: &'a Shape) -> impl FnMut() -> usize + 'a {
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
