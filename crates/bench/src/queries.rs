//! DataScript's queries — q1 to q4, q2 with its clauses reversed, qpred1
//! and qpred2 (the bound from `:in`) — on the people loaded into every
//! system, and the plans of a query that misses its target.

use std::path::Path;

use factlite::{edn, Db, Entid, PreparedQuery, Store, Value};
use rusqlite::types::Value as SqlValue;

use crate::baseline::{self, Baseline, AGE, LAST_NAME, NAME, SALARY, SEX};
use crate::data::Person;
use crate::ours::{self, Place};
use crate::report::{Outcome, Row};
use crate::timing::{measure, take_turns, Contender};

/// The ratio to the plain-EAV SQL issue #16 sets for every query.
const QUERY_TARGET: f64 = 1.3;

/// One query: its Datalog, its inputs, the baseline's SQL and parameters.
struct Shape {
    name: &'static str,
    datalog: &'static str,
    inputs: Vec<Value>,
    sql: &'static str,
    params: Vec<SqlValue>,
}

const Q2_SQL: &str = "SELECT n.e, g.v FROM datoms AS n CROSS JOIN datoms AS g \
     WHERE n.a = ?1 AND n.v = ?2 AND g.e = n.e AND g.a = ?3";
const QPRED_SQL: &str = "SELECT e, v FROM datoms WHERE a = ?1 AND v > ?2";

fn shapes() -> Vec<Shape> {
    let ivan = || SqlValue::Text("Ivan".into());
    let male = || SqlValue::Text(":male".into());
    let int = SqlValue::Integer;
    vec![
        Shape {
            name: "q1",
            datalog: r#"[:find ?e :where [?e :person/name "Ivan"]]"#,
            inputs: vec![],
            sql: "SELECT e FROM datoms WHERE a = ?1 AND v = ?2",
            params: vec![int(NAME), ivan()],
        },
        Shape {
            name: "q2",
            datalog: r#"[:find ?e ?a :where [?e :person/name "Ivan"] [?e :person/age ?a]]"#,
            inputs: vec![],
            sql: Q2_SQL,
            params: vec![int(NAME), ivan(), int(AGE)],
        },
        Shape {
            name: "q2-switch",
            datalog: r#"[:find ?e ?a :where [?e :person/age ?a] [?e :person/name "Ivan"]]"#,
            inputs: vec![],
            sql: Q2_SQL,
            params: vec![int(NAME), ivan(), int(AGE)],
        },
        Shape {
            name: "q3",
            datalog: r#"[:find ?e ?a :where [?e :person/name "Ivan"] [?e :person/age ?a]
                                            [?e :person/sex :male]]"#,
            inputs: vec![],
            sql: "SELECT n.e, g.v FROM datoms AS n CROSS JOIN datoms AS s CROSS JOIN datoms AS g \
                  WHERE n.a = ?1 AND n.v = ?2 AND s.e = n.e AND s.a = ?3 AND s.v = ?4 \
                  AND g.e = n.e AND g.a = ?5",
            params: vec![int(NAME), ivan(), int(SEX), male(), int(AGE)],
        },
        Shape {
            name: "q4",
            datalog: r#"[:find ?e ?l ?a :where [?e :person/name "Ivan"] [?e :person/last-name ?l]
                                               [?e :person/age ?a] [?e :person/sex :male]]"#,
            inputs: vec![],
            sql: "SELECT n.e, l.v, g.v FROM datoms AS n CROSS JOIN datoms AS s \
                  CROSS JOIN datoms AS l CROSS JOIN datoms AS g \
                  WHERE n.a = ?1 AND n.v = ?2 AND s.e = n.e AND s.a = ?3 AND s.v = ?4 \
                  AND l.e = n.e AND l.a = ?5 AND g.e = n.e AND g.a = ?6",
            params: vec![
                int(NAME),
                ivan(),
                int(SEX),
                male(),
                int(LAST_NAME),
                int(AGE),
            ],
        },
        Shape {
            name: "qpred1",
            datalog: "[:find ?e ?s :where [?e :person/salary ?s] [(> ?s 50000)]]",
            inputs: vec![],
            sql: QPRED_SQL,
            params: vec![int(SALARY), int(50_000)],
        },
        Shape {
            name: "qpred2",
            datalog: "[:find ?e ?s :in $ ?min_s :where [?e :person/salary ?s] [(> ?s ?min_s)]]",
            inputs: vec![Value::Integer(50_000)],
            sql: QPRED_SQL,
            params: vec![int(SALARY), int(50_000)],
        },
    ]
}

/// The people loaded into every system, for the queries and the hot
/// aggregate after them.
pub struct Loaded {
    pub file: Store,
    pub memory: Store,
    pub baseline: Baseline,
    /// factlite's entity id of each person, in person order (the
    /// baseline's entity is the index plus one).
    pub ids: Vec<Entid>,
}

/// Loads `people` into every system under `dir`.
pub fn load(dir: &Path, people: &[Person]) -> Loaded {
    let started = std::time::Instant::now();
    let baseline = baseline::load_people(&dir.join(format!("eav-{}.db", people.len())), people)
        .expect("the baseline loads");
    let baseline_time = started.elapsed();
    let started = std::time::Instant::now();
    let file = ours::open(
        Place::File,
        &dir.join(format!("factlite-{}.db", people.len())),
        ours::PEOPLE_SCHEMA,
    );
    let ids = ours::load_people(&file, people);
    let file_time = started.elapsed();
    let started = std::time::Instant::now();
    let memory = ours::open(Place::Memory, dir, ours::PEOPLE_SCHEMA);
    ours::load_people(&memory, people);
    println!(
        "loaded {} people ({} datoms): plain-EAV {:.1} s, factlite file {:.1} s, memory {:.1} s",
        people.len(),
        people.len() * 5,
        baseline_time.as_secs_f64(),
        file_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Loaded {
        file,
        memory,
        baseline,
        ids,
    }
}

fn prepared_rows(prepared: &PreparedQuery, db: &Db, inputs: &[Value]) -> u64 {
    prepared.run(db, inputs).expect("the query runs").len() as u64
}

/// Runs every query on every system, a row each.
pub fn run(
    section: &str,
    loaded: &Loaded,
    rounds: usize,
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let file_db = loaded.file.db().expect("a snapshot");
    let memory_db = loaded.memory.db().expect("a snapshot");
    for shape in shapes() {
        let prepared = PreparedQuery::new(&edn::parse(shape.datalog).expect("the query parses"))
            .expect("the query is valid");
        let mut contenders: Vec<Contender> = vec![
            (
                "plain-EAV SQLite",
                Box::new(|| {
                    measure(|| {
                        loaded
                            .baseline
                            .rows(shape.sql, &shape.params)
                            .expect("the baseline query runs")
                    })
                }),
            ),
            (
                "factlite file",
                Box::new(|| measure(|| prepared_rows(&prepared, &file_db, &shape.inputs))),
            ),
            (
                "factlite memory",
                Box::new(|| measure(|| prepared_rows(&prepared, &memory_db, &shape.inputs))),
            ),
        ];
        let (times, count) = take_turns(shape.name, rounds, &mut contenders)?;
        let mut row = Row {
            section: section.into(),
            workload: shape.name.into(),
            count,
            baseline: times[0],
            file: Outcome::Time(times[1]),
            memory: Outcome::Time(times[2]),
            target: Some(QUERY_TARGET),
            plans: None,
            pages: None,
        };
        if row.missed().is_some() {
            row.plans = Some(plans(
                &file_db,
                shape.datalog,
                &shape.inputs,
                &loaded.baseline,
                shape.sql,
                &shape.params,
            ));
        }
        println!(
            "{section} {:<10} {count:>8} rows  ms: {}",
            shape.name,
            times_line(&times)
        );
        rows.push(row);
    }
    Ok(())
}

/// The medians on one line, for the progress output.
pub fn times_line(times: &[std::time::Duration]) -> String {
    times
        .iter()
        .map(|t| format!("{:.3}", t.as_secs_f64() * 1000.0))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// factlite's `explain` of a query (its SQL, parameters and SQLite's plan)
/// and the baseline's `EXPLAIN QUERY PLAN`.
pub fn plans(
    db: &Db,
    datalog: &str,
    inputs: &[Value],
    baseline: &Baseline,
    sql: &str,
    params: &[SqlValue],
) -> (Vec<String>, Vec<String>) {
    let ours = edn::parse(datalog)
        .map_err(|e| e.to_string())
        .and_then(|query| db.explain(&query, inputs).map_err(|e| e.to_string()))
        .map(|explanation| {
            let mut lines = vec![explanation.sql];
            lines.push(format!("parameters: {:?}", explanation.params));
            lines.extend(explanation.query_plan);
            lines
        })
        .unwrap_or_else(|error| vec![format!("explain failed: {error}")]);
    let theirs = baseline
        .query_plan(sql, params)
        .map(|plan| {
            let mut lines = vec![sql.to_string()];
            lines.extend(plan);
            lines
        })
        .unwrap_or_else(|error| vec![format!("EXPLAIN QUERY PLAN failed: {error}")]);
    (ours, theirs)
}
