//! The property the `transactor` fuzz target checks, in one place: included
//! with `#[path]` by `fuzz/fuzz_targets/transactor.rs` and by the ordinary
//! test `tests/fuzz_corpus.rs`, which runs it over the committed seeds and
//! over the transactions of every conformance scenario.
//!
//! The input is EDN text holding a sequence of values; each one is
//! transacted, in order, against an in-memory store that starts with a
//! small schema ([`SCHEMA`]). For every call:
//!
//! - nothing panics;
//! - a failing call changes nothing: the log, the current datoms and the
//!   latest transaction are as before;
//! - a successful call appends exactly the datoms of its report, all in its
//!   transaction, and every assertion adds a datom that did not hold and
//!   every retraction removes one that did (replaying the log gives the
//!   current datoms);
//! - the database as of the previous transaction still shows the previous
//!   state;
//! - except for an excision (`:db/excise`), which removes its entities'
//!   past from the log and logs no retraction of the current datoms it
//!   removes (its report lists them): the log of every other entity is
//!   kept as it was, nothing is added to the past, and the as-of check is
//!   left out;
//! - the current datoms respect the schema: values of the attribute's type,
//!   at most one value of a cardinality-one attribute per entity, at most
//!   one entity per value of a unique attribute.

use std::collections::{BTreeMap, BTreeSet};

use factlite::{Datom, Entid, IndexName, Store, TypedValue};
use factlite_core::{Cardinality, Schema};

/// The schema every run starts with: one attribute of each interesting kind
/// (shared with the `query_runner` target's store).
pub const SCHEMA: &str = include_str!("schema.edn");

/// Transactions read from one input at most, so a run stays fast.
pub const MAX_TRANSACTIONS: usize = 8;

type Fact = (Entid, Entid, TypedValue);

/// Everything the store holds that a call may change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    latest_tx: Entid,
    log: Vec<Datom>,
    current: BTreeSet<Fact>,
}

fn snapshot(store: &Store) -> Snapshot {
    let db = store.db().expect("a snapshot of the store");
    let latest_tx = db.basis_tx();
    let log = db.tx_range(0, latest_tx).expect("the log");
    Snapshot {
        latest_tx,
        log,
        current: current_facts(store, None),
    }
}

/// The current facts, or those as of transaction `as_of`.
fn current_facts(store: &Store, as_of: Option<Entid>) -> BTreeSet<Fact> {
    let mut db = store.db().expect("a snapshot of the store");
    if let Some(tx) = as_of {
        db = db.as_of(tx);
    }
    let mut datoms = db.datoms(IndexName::Eavt, &[]).expect("the datoms");
    let facts = datoms
        .iter()
        .expect("the datoms")
        .map(|datom| {
            let datom = datom.expect("a datom");
            assert!(datom.added, "a current datom is a retraction: {datom:?}");
            (datom.e, datom.a, datom.v)
        })
        .collect();
    facts
}

/// Replays a log, checking that every assertion adds a fact that did not
/// hold and every retraction removes one that did.
fn replay(log: &[Datom]) -> BTreeSet<Fact> {
    let mut facts = BTreeSet::new();
    for datom in log {
        let fact = (datom.e, datom.a, datom.v.clone());
        if datom.added {
            assert!(
                facts.insert(fact),
                "the log asserts a fact that holds: {datom:?}"
            );
        } else {
            assert!(
                facts.remove(&fact),
                "the log retracts a fact that does not hold: {datom:?}"
            );
        }
    }
    facts
}

fn check_schema_invariants(schema: &Schema, facts: &BTreeSet<Fact>) {
    let mut values_of: BTreeMap<(Entid, Entid), usize> = BTreeMap::new();
    let mut holders_of: BTreeMap<(Entid, &TypedValue), Entid> = BTreeMap::new();
    for (e, a, v) in facts {
        let attribute = schema
            .attribute(*a)
            .unwrap_or_else(|| panic!("datom [{e} {a} {v}] of an attribute the schema lacks"));
        assert_eq!(
            v.value_type(),
            attribute.value_type,
            "datom [{e} {} {v}] has a value of the wrong type",
            attribute.ident
        );
        let count = values_of.entry((*e, *a)).or_default();
        *count += 1;
        assert!(
            attribute.cardinality == Cardinality::Many || *count == 1,
            "entity {e} holds several values of the cardinality-one {}",
            attribute.ident
        );
        if attribute.unique.is_some() {
            if let Some(other) = holders_of.insert((*a, v), *e) {
                panic!("{} value {v} is held by {other} and {e}", attribute.ident);
            }
        }
    }
}

/// One value of the input, with any `#ent "name"` (from conformance
/// scenarios) turned into the string tempid "name".
fn strip_entity_tags(value: &factlite::Value) -> factlite::Value {
    use factlite::Value;
    match value {
        Value::Tagged(tag, inner) if tag.is("ent") => strip_entity_tags(inner),
        Value::Vector(items) => Value::Vector(items.iter().map(strip_entity_tags).collect()),
        Value::List(items) => Value::List(items.iter().map(strip_entity_tags).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(key, value)| (strip_entity_tags(key), strip_entity_tags(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The entities a transaction's datoms excise (`:db/excise` assertions).
fn excised_entities(datoms: &[Datom]) -> BTreeSet<Entid> {
    datoms
        .iter()
        .filter(|datom| datom.added && datom.a == factlite_core::bootstrap::DB_EXCISE)
        .filter_map(|datom| match datom.v {
            TypedValue::Ref(target) => Some(target),
            _ => None,
        })
        .collect()
}

/// Panics (which the fuzzer reports) when the property fails for `data`.
pub fn check_transactor(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(values) = factlite_edn::parse_all(text) else {
        return;
    };
    let store = Store::open_in_memory().expect("an in-memory store");
    store.transact_str(SCHEMA).expect("the fuzz schema");
    for value in values.iter().take(MAX_TRANSACTIONS) {
        let tx_data = strip_entity_tags(value);
        let before = snapshot(&store);
        match store.transact(&tx_data) {
            Err(error) => {
                let after = snapshot(&store);
                assert!(
                    before == after,
                    "the failed transaction {tx_data} ({error}) changed the store"
                );
            }
            Ok(report) => {
                let after = snapshot(&store);
                assert!(report.tx > before.latest_tx, "transaction ids go backwards");
                assert_eq!(
                    after.latest_tx, report.tx,
                    "the report's tx is not the latest"
                );
                let excised = excised_entities(&report.datoms);
                let others = |log: &[Datom]| -> Vec<Datom> {
                    log.iter()
                        .filter(|datom| !excised.contains(&datom.e))
                        .cloned()
                        .collect()
                };
                let (others_before, others_after) = (others(&before.log), others(&after.log));
                assert_eq!(
                    others_after[..others_before.len()],
                    others_before[..],
                    "transaction {tx_data} rewrote the log"
                );
                assert!(
                    after
                        .log
                        .iter()
                        .filter(|datom| datom.tx < report.tx)
                        .all(|datom| before.log.contains(datom)),
                    "transaction {tx_data} added to the log's past"
                );
                let appended: Vec<&Datom> = after
                    .log
                    .iter()
                    .filter(|datom| datom.tx == report.tx)
                    .collect();
                // An excision's report lists the current datoms it removed
                // as retractions; the log keeps no trace of them.
                let logged: Vec<&Datom> = report
                    .datoms
                    .iter()
                    .filter(|datom| datom.added || !excised.contains(&datom.e))
                    .collect();
                assert_eq!(appended, logged, "the log differs from the report");
                assert_eq!(replay(&after.log), after.current, "log and datoms disagree");
                if excised.is_empty() {
                    assert_eq!(
                        current_facts(&store, Some(before.latest_tx)),
                        before.current,
                        "as-of the previous transaction shows another state"
                    );
                }
                let schema = store.schema().expect("the schema");
                check_schema_invariants(&schema, &after.current);
            }
        }
    }
}
