//! The genealogy: the ancestors of one person (the youngest), and the
//! closure of the people with ids up to a prefix, written two ways — the
//! prefix restricted inside the rule's bodies, and naturally, the filter
//! before the rule call (`[?x :person/id ?i] [(<= ?i N)] (anc ?x ?a)`),
//! which runs under factlite's query timeout and is reported as timed out
//! rather than waited for. Parents have smaller ids than their children,
//! so both closures are the same pairs.

use std::path::Path;
use std::time::Duration;

use factlite::{edn, Db, Entid, Error, PreparedQuery, QueryResultExt, Value};
use rusqlite::types::Value as SqlValue;

use crate::baseline::{self, Baseline, PARENT, PERSON_ID};
use crate::ours::{self, Place};
use crate::queries::{plans, times_line};
use crate::report::{Outcome, Row};
use crate::timing::{measure, take_turns, Contender, Measured};

const RULES: &str = "[[(anc ?x ?a) [?x :person/parent ?a]]
                      [(anc ?x ?a) [?x :person/parent ?p] (anc ?p ?a)]]";

const ANCESTORS: &str = "[:find (count ?a) . :in $ % ?x :where (anc ?x ?a)]";
const ANCESTORS_SQL: &str =
    "WITH RECURSIVE anc(a) AS (SELECT v FROM datoms WHERE e = ?1 AND a = ?2 \
     UNION SELECT p.v FROM anc CROSS JOIN datoms AS p WHERE p.e = anc.a AND p.a = ?2) \
     SELECT count(*) FROM anc";
const CLOSURE: &str = "[:find (count ?a) . :with ?x :in $ % :where (anc ?x ?a)]";
const CLOSURE_SQL: &str = "WITH RECURSIVE anc(x, a) AS (\
     SELECT p.e, p.v FROM datoms AS i CROSS JOIN datoms AS p \
     WHERE i.a = ?1 AND i.v <= ?3 AND p.e = i.e AND p.a = ?2 \
     UNION SELECT anc.x, p.v FROM anc CROSS JOIN datoms AS p WHERE p.e = anc.a AND p.a = ?2) \
     SELECT count(*) FROM anc";

/// The scale of the genealogy workloads.
pub struct GenealogyScale {
    pub people: usize,
    pub prefix: usize,
    pub rounds: usize,
    pub timeout: Duration,
}

fn restricted_rules(prefix: usize) -> String {
    format!(
        "[[(anc ?x ?a) [?x :person/id ?i] [(<= ?i {prefix})] [?x :person/parent ?a]]
          [(anc ?x ?a) [?x :person/id ?i] [(<= ?i {prefix})] [?x :person/parent ?p] (anc ?p ?a)]]"
    )
}

fn natural_closure(prefix: usize) -> String {
    format!(
        "[:find (count ?a) . :with ?x :in $ % :where [?x :person/id ?i] [(<= ?i {prefix})] (anc ?x ?a)]"
    )
}

/// A count query's count, or `None` when it ran out of time.
fn count(db: &Db, prepared: &PreparedQuery, inputs: &[Value]) -> Option<u64> {
    match prepared.run(db, inputs) {
        Ok(result) => Some(result.scalar::<i64>().expect("a count").unwrap_or(0) as u64),
        Err(Error::Timeout { .. }) => None,
        Err(error) => panic!("the genealogy query failed: {error}"),
    }
}

/// One workload on the three systems.
struct Workload<'a> {
    name: String,
    datalog: String,
    inputs: [Vec<Value>; 2],
    sql: &'static str,
    params: Vec<SqlValue>,
    baseline: &'a Baseline,
}

/// Runs the workloads of the genealogy, a row each.
pub fn run(dir: &Path, scale: &GenealogyScale, rows: &mut Vec<Row>) -> Result<(), String> {
    let parents = crate::data::genealogy(scale.people);
    let started = std::time::Instant::now();
    let baseline = baseline::load_genealogy(&dir.join("genealogy-eav.db"), &parents)
        .expect("the baseline genealogy loads");
    let file = ours::open(Place::File, &dir.join("genealogy.db"), "[]");
    let file_ids = ours::load_genealogy(&file, &parents);
    let memory = ours::open(Place::Memory, dir, "[]");
    let memory_ids = ours::load_genealogy(&memory, &parents);
    println!(
        "loaded a genealogy of {} people ({} datoms) into the three systems in {:.1} s",
        scale.people,
        parents.iter().map(|p| p.len() + 1).sum::<usize>() - 1,
        started.elapsed().as_secs_f64()
    );
    let rules = edn::parse(RULES).expect("the rules parse");
    let restricted = edn::parse(&restricted_rules(scale.prefix)).expect("the rules parse");
    let youngest = |ids: &[Entid]| Value::Integer(ids[scale.people]);
    let section = format!("genealogy {}k", scale.people / 1000);
    let int = SqlValue::Integer;
    let workloads = [
        Workload {
            name: "ancestors of one person".into(),
            datalog: ANCESTORS.into(),
            inputs: [
                vec![rules.clone(), youngest(&file_ids)],
                vec![rules.clone(), youngest(&memory_ids)],
            ],
            sql: ANCESTORS_SQL,
            params: vec![int(scale.people as i64), int(PARENT)],
            baseline: &baseline,
        },
        Workload {
            name: format!(
                "closure of the {} prefix, restricted in the rule",
                scale.prefix
            ),
            datalog: CLOSURE.into(),
            inputs: [vec![restricted.clone()], vec![restricted]],
            sql: CLOSURE_SQL,
            params: vec![int(PERSON_ID), int(PARENT), int(scale.prefix as i64)],
            baseline: &baseline,
        },
        Workload {
            name: format!(
                "closure of the {} prefix, filter before the rule call",
                scale.prefix
            ),
            datalog: natural_closure(scale.prefix),
            inputs: [vec![rules.clone()], vec![rules]],
            sql: CLOSURE_SQL,
            params: vec![int(PERSON_ID), int(PARENT), int(scale.prefix as i64)],
            baseline: &baseline,
        },
    ];
    let file_db = file.db().expect("a snapshot").with_timeout(scale.timeout);
    let memory_db = memory.db().expect("a snapshot").with_timeout(scale.timeout);
    for (index, workload) in workloads.iter().enumerate() {
        let target = if index == 0 { 1.5 } else { 1.3 };
        let prepared =
            PreparedQuery::new(&edn::parse(&workload.datalog).expect("the query parses"))
                .expect("the query is valid");
        let run_baseline = || {
            measure(|| {
                workload
                    .baseline
                    .count(workload.sql, &workload.params)
                    .expect("the baseline query runs")
            })
        };
        // One run each first, under the timeout: a contender that runs out
        // of time is reported as such and not run again.
        let first = [
            run_baseline(),
            timed(&file_db, &prepared, &workload.inputs[0]),
            timed(&memory_db, &prepared, &workload.inputs[1]),
        ];
        let timed_out = first[1..].iter().any(|m| m.count == u64::MAX);
        let mut row = Row {
            section: section.clone(),
            workload: workload.name.clone(),
            count: first[0].count,
            baseline: first[0].time,
            file: outcome(&first[1], scale.timeout),
            memory: outcome(&first[2], scale.timeout),
            target: Some(target),
            plans: None,
            pages: None,
        };
        if timed_out {
            let finished = first[1..].iter().filter(|m| m.count != u64::MAX);
            if let Some(differs) = finished.clone().find(|m| m.count != first[0].count) {
                return Err(format!(
                    "{}: the counts differ: plain-EAV SQLite {}, factlite {}",
                    workload.name, first[0].count, differs.count
                ));
            }
            println!(
                "{section} {}: factlite timed out after {} s",
                workload.name,
                scale.timeout.as_secs()
            );
        } else {
            let mut contenders: Vec<Contender> = vec![
                ("plain-EAV SQLite", Box::new(run_baseline)),
                (
                    "factlite file",
                    Box::new(|| timed(&file_db, &prepared, &workload.inputs[0])),
                ),
                (
                    "factlite memory",
                    Box::new(|| timed(&memory_db, &prepared, &workload.inputs[1])),
                ),
            ];
            let (times, count) = take_turns(&workload.name, scale.rounds, &mut contenders)?;
            println!(
                "{section} {} {count} ms: {}",
                workload.name,
                times_line(&times)
            );
            row.count = count;
            row.baseline = times[0];
            row.file = Outcome::Time(times[1]);
            row.memory = Outcome::Time(times[2]);
        }
        if row.missed().is_some() {
            row.plans = Some(plans(
                &file_db,
                &workload.datalog,
                &workload.inputs[0],
                workload.baseline,
                workload.sql,
                &workload.params,
            ));
        }
        rows.push(row);
    }
    Ok(())
}

/// One run of a factlite count; `u64::MAX` as the count when it timed out
/// (no count is that large).
fn timed(db: &Db, prepared: &PreparedQuery, inputs: &[Value]) -> Measured {
    measure(|| count(db, prepared, inputs).unwrap_or(u64::MAX))
}

fn outcome(measured: &Measured, limit: Duration) -> Outcome {
    if measured.count == u64::MAX {
        Outcome::TimedOut(limit)
    } else {
        Outcome::Time(measured.time)
    }
}
