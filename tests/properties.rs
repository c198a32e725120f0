//! Model-based property tests: random schemas, transaction sequences and
//! queries (`properties/generate.rs`) run against the store through the
//! `factlite` façade and against the reference model (`model/`), which
//! must agree after every step:
//!
//! - a transaction succeeds on both, with the same tempid resolutions and
//!   the same datoms, or fails on both with the same error category and
//!   changes nothing;
//! - the store holds the model's datoms now, as of every earlier
//!   transaction, and in its history; a snapshot taken before a
//!   transaction does not see it;
//! - every generated query gives the model's result, against the current
//!   database, as of or since an earlier transaction, or the history; and
//!   so does a pull of a few attributes of an entity;
//! - every materialized view equals its query run from scratch, and the
//!   model's answer, after every transaction;
//! - an excision (`{:db/excise e}`, now and then after a transaction)
//!   succeeds or fails on both, removes the current datoms the model says,
//!   and leaves nothing it covers in any view of time (current, as of
//!   every transaction, history), in the views or for the queries;
//! - a file store closed and reopened holds the same data;
//! - `Store::verify` finds nothing wrong at the end of every case.
//!
//! A failure is shrunk by proptest and written out as a conformance
//! scenario (`properties/scenario.rs`), printed and saved to
//! `$FACTLITE_SCENARIO_OUT` (default: a file in the temporary directory);
//! a property of its own checks that such scenarios replay in the runner.
//!
//! CI runs a modest number of cases; `FACTLITE_PROPTEST_CASES=N` runs N.

mod excise;
mod generate;
mod scenario;

use std::collections::BTreeSet;
use std::path::PathBuf;

use factlite::{
    ErrorCategory, IndexName, QueryInput, QueryResult, Store, TxReport, TypedValue, Value,
};
use factlite_cli::check::{run_files, CheckOptions};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::model::excise::Excision;
use crate::model::query::{evaluate, ordered, Datom, Elem, Find, Query, Tuples};
use crate::model::transact::{is_anonymous, Fact, Model, Outcome, Resolved};
use crate::model::value::{plain_entity, Val};
use generate::{render_entities, QueryGen, Tape, TxGen, View, VAR_COUNT};
use scenario::{entity_name, Scenario, Time};

/// Cases per property in CI, unless `FACTLITE_PROPTEST_CASES` says more.
const DEFAULT_CASES: u32 = 96;

fn cases(default: u32) -> u32 {
    std::env::var("FACTLITE_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// One generated case: tapes for the schema, each transaction and each
/// query (queries run after every transaction).
#[derive(Clone, Debug)]
struct Case {
    /// Whether the queries are also materialized as views, and after how
    /// many transactions (the rest maintain them).
    views: Option<u8>,
    schema: Vec<u8>,
    transactions: Vec<Vec<u8>>,
    queries: Vec<Vec<u8>>,
    /// Tape `n`, when not empty, is an excision after transaction `n`.
    excisions: Vec<Vec<u8>>,
}

fn case_strategy() -> impl Strategy<Value = Case> {
    // The excisions come last, so the other parts are what they were for
    // a seed (and the saved regressions) before there were excisions.
    (
        prop::option::of(0..4u8),
        prop::collection::vec(any::<u8>(), 0..12),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..8),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..48), 0..5),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..6), 0..8),
    )
        .prop_map(|(views, schema, transactions, queries, excisions)| Case {
            views,
            schema,
            transactions,
            queries,
            excisions,
        })
}

/// Where a run stores its data.
enum Storage {
    Memory,
    /// A file, closed and reopened after every transaction.
    File(PathBuf),
}

/// A store and the model side by side, with the scenario of what
/// happened so far.
struct Run {
    store: Store,
    storage: Storage,
    model: Model,
    /// The store's id of each model attribute.
    attr_ids: Vec<i64>,
    scenario: Scenario,
    /// Materialized views and the queries they hold.
    views: Vec<(String, Query)>,
    /// Whether the scenario records every check, not only a failing one.
    record_all: bool,
}

type Checked = Result<(), String>;

/// A datom of a model attribute as the store gives it: entity, attribute
/// number, value, transaction, added.
type StoreDatom = (i64, usize, Val, i64, bool);

impl Run {
    fn start(schema_tape: &[u8], storage: Storage) -> Run {
        let attrs = generate::schema(&mut Tape::new(schema_tape));
        let definitions = Value::Vector(attrs.iter().map(|a| a.definition()).collect());
        let store = match &storage {
            Storage::Memory => Store::open_in_memory(),
            Storage::File(path) => Store::open(path),
        }
        .expect("a new store");
        let report = store
            .transact(&definitions)
            .expect("a generated schema is valid");
        let schema = store.schema().expect("the schema");
        let attr_ids = attrs
            .iter()
            .map(|a| schema.entid(&a.ident).expect("a defined attribute"))
            .collect();
        let mut model = Model::new(attrs);
        let nothing = Outcome {
            declared: Vec::new(),
            tempids: Default::default(),
            retracted: BTreeSet::new(),
            asserted: BTreeSet::new(),
        };
        model.commit(&nothing, report.tx, &[]);
        Run {
            store,
            storage,
            model,
            attr_ids,
            scenario: Scenario::new(definitions),
            views: Vec::new(),
            record_all: false,
        }
    }

    /// Materializes the query read off `tape` (its constants name what the
    /// database holds now), unless it has inputs other than rules.
    fn materialize(&mut self, tape: &[u8]) -> Checked {
        let query = QueryGen::new(&self.model, &mut Tape::new(tape)).query(View::Current);
        // Views hold queries with rule inputs only, and no arithmetic that
        // could overflow while a transaction maintains them.
        if !query.inputs.is_empty() || query.does_arithmetic() {
            return Ok(());
        }
        let idents = self.idents();
        let edn = query.to_edn(&idents, &plain_entity);
        let args = query.args(&idents, &plain_entity);
        let name = format!("v{}", self.views.len());
        self.scenario.materialize(&name, edn.clone(), args.clone());
        self.store
            .materialize(&name, &edn, &args)
            .map_err(|e| format!("materializing {edn}: {} ({e})", e.category()))?;
        self.views.push((name, query));
        Ok(())
    }

    /// Every view equals its query run from scratch, and the model's
    /// answer.
    fn check_views(&mut self) -> Checked {
        let idents = self.idents();
        let datoms = self.view_datoms(View::Current).1;
        for (name, query) in &self.views {
            let edn = query.to_edn(&idents, &plain_entity);
            let args = query.args(&idents, &plain_entity);
            let db = self.store.db().map_err(|e| e.to_string())?;
            let fresh = db.q_from_scratch(&edn, &args).map_err(|e| e.to_string())?;
            let tuples =
                evaluate(query, &datoms, &[], &idents, VAR_COUNT).expect("views do no arithmetic");
            let outcome = match self.store.view(name) {
                Ok(view) if view == fresh => compare_result(&self.model, query, &tuples, &view),
                Ok(view) => Err(format!(
                    "holds {view}, the query from scratch gives {fresh}"
                )),
                Err(error) => Err(format!("cannot be read: {} ({error})", error.category())),
            };
            if outcome.is_err() || self.record_all {
                let names = &self.model.names;
                let named = |id| entity_name(names, id);
                let expected = shape(&self.model, query, &tuples, &named).unwrap_or(Value::Nil);
                self.scenario.view(name, expected);
            }
            outcome.map_err(|problem| format!("view {name} of {edn}: {problem}"))?;
        }
        Ok(())
    }

    /// `Store::verify` finds nothing wrong after the case's transactions.
    fn verify(&self) -> Checked {
        let report = self
            .store
            .verify()
            .map_err(|e| format!("verify fails: {e}"))?;
        if report.is_clean() {
            Ok(())
        } else {
            Err(format!("verify after the transactions: {report}"))
        }
    }

    fn idents(&self) -> Vec<factlite_edn::Keyword> {
        self.model.attrs.iter().map(|a| a.ident.clone()).collect()
    }

    /// Transaction number `number` read off `tape`, on both sides.
    fn transact(&mut self, number: usize, tape: &[u8]) -> Checked {
        let data = TxGen {
            model: &self.model,
            tape: &mut Tape::new(tape),
            number,
            nested: false,
            declared: false,
        }
        .tx_data();
        let for_store = render_entities(&data, &plain_entity);
        let expected = self.model.transact(&for_store);
        // A snapshot taken before must not see the transaction.
        let stale = self.store.db().map_err(|e| e.to_string())?;
        let stale_basis = *self.model.txs.last().expect("the schema transaction");
        // Datomic's `with`: the database as the transaction would leave it,
        // nothing committed; compared with the commit below.
        let speculative = self.store.with(&for_store, |db, report| {
            Ok((raw_datoms(db)?, report.tx, report.tempids.clone()))
        });
        let actual = self.store.transact(&for_store);
        let committed = self
            .store
            .db()
            .and_then(|db| raw_datoms(&db))
            .map_err(|e| e.to_string())?;
        check_with(&speculative, &actual, &committed)
            .map_err(|problem| format!("{for_store}: {problem}"))?;
        let error = expected.as_ref().err().map(|f| f.category.keyword());
        let tx = actual.as_ref().ok().map(|r| r.tx);
        self.scenario.transact(&data, &self.model.names, error, tx);
        match (expected, actual) {
            (Err(failure), Err(error)) if failure.category == error.category() => Ok(()),
            (Err(failure), Err(error)) => Err(format!(
                "{for_store}: the model fails with {} ({}), the store with {} ({error})",
                failure.category,
                failure.why,
                error.category()
            )),
            (Err(failure), Ok(_)) => Err(format!(
                "{for_store}: the model fails with {} ({}), the store commits",
                failure.category, failure.why
            )),
            (Ok(_), Err(error)) => Err(format!(
                "{for_store}: the model commits, the store fails with {} ({error})",
                error.category()
            )),
            (Ok(outcome), Ok(report)) => {
                let schema = self.store.schema().map_err(|e| e.to_string())?;
                for attr in &outcome.declared {
                    let id = schema.entid(&attr.ident);
                    self.attr_ids
                        .push(id.ok_or(format!("{} is not defined", attr.ident))?);
                }
                let new_ids = self.new_ids(&outcome, &report)?;
                self.model.commit(&outcome, report.tx, &new_ids);
                Ok(())
            }
        }?;
        let stale_facts: BTreeSet<Fact> = self
            .datoms_of(&stale)?
            .into_iter()
            .map(|(e, a, v, _, _)| (e, a, v))
            .collect();
        if stale_facts != self.model.facts(Some(stale_basis)) {
            self.record_datom_queries(Time::AsOf(stale_basis));
            return Err(format!(
                "a snapshot taken before the transaction sees {stale_facts:?}"
            ));
        }
        if let Storage::File(path) = &self.storage {
            self.store = Store::open(path).map_err(|e| format!("reopening the store: {e}"))?;
        }
        self.check_datoms()?;
        self.check_views()
    }

    /// The excision read off `tape`, on both sides: it fails on both, or
    /// removes the same current datoms, and then nothing it covers is in
    /// any view of time.
    fn excise(&mut self, tape: &[u8]) -> Checked {
        let Some(excision) = excise::excision(&self.model, &mut Tape::new(tape)) else {
            return Ok(());
        };
        let data = excise::tx_data(&excision, &self.model, &|tx| Value::Integer(tx));
        let for_store = render_entities(&data, &plain_entity);
        let expected = self.model.excision_failure(&excision);
        let actual = self.store.transact(&for_store);
        let recorded = excise::tx_data(&excision, &self.model, &|tx| self.scenario.tx_ref(tx));
        let error = expected.as_ref().map(|f| f.category.keyword());
        let tx = actual.as_ref().ok().map(|r| r.tx);
        self.scenario
            .transact(&recorded, &self.model.names, error, tx);
        let tx = match (expected, actual) {
            (Some(failure), Err(error)) if failure.category == error.category() => return Ok(()),
            (Some(failure), outcome) => {
                return Err(format!(
                    "{for_store}: the model fails with {} ({}), the store gives {:?}",
                    failure.category,
                    failure.why,
                    outcome.map(|r| r.tx).map_err(|e| e.category())
                ))
            }
            (None, Err(error)) => {
                return Err(format!(
                    "{for_store}: the model excises, the store fails with {} ({error})",
                    error.category()
                ))
            }
            (None, Ok(report)) => {
                let removed: BTreeSet<Fact> = report
                    .datoms
                    .iter()
                    .filter(|d| !d.added)
                    .filter_map(|d| {
                        let a = self.attr_ids.iter().position(|id| *id == d.a)?;
                        Some((d.e, a, model_value(&d.v)))
                    })
                    .collect();
                let expected = self.model.excised_facts(&excision, report.tx);
                if removed != expected {
                    return Err(format!(
                        "{for_store}: the store's report retracts {removed:?}, the model's {expected:?}"
                    ));
                }
                self.model.excise(&excision, report.tx);
                report.tx
            }
        };
        if let Storage::File(path) = &self.storage {
            self.store = Store::open(path).map_err(|e| format!("reopening the store: {e}"))?;
        }
        self.check_forgotten(&excision, tx)?;
        self.check_datoms()?;
        self.check_views()
    }

    /// No view of time — now, as of every transaction, the history — holds
    /// a datom the excision by transaction `tx` covers.
    fn check_forgotten(&self, excision: &Excision, tx: i64) -> Checked {
        let mut times = vec![Time::Current, Time::History];
        times.extend(self.model.txs.iter().map(|t| Time::AsOf(*t)));
        for time in times {
            let datoms = self.store_datoms(|db| match time {
                Time::Current | Time::Since(_) => db,
                Time::AsOf(t) => db.as_of(t),
                Time::History => db.history(),
            })?;
            let left = datoms
                .iter()
                .find(|(e, a, _, at, _)| self.model.excises(excision, tx, *e, *a, *at));
            if let Some(datom) = left {
                return Err(format!(
                    "after {excision:?} at {tx}, {time:?} still shows {datom:?}"
                ));
            }
        }
        Ok(())
    }

    /// The ids the store gave the model's new entities, checking every
    /// tempid resolved as the model says. Entities that only maps without
    /// `:db/id` name get the new ids the report's datoms mention, in the
    /// one assignment that makes the model's datoms the store's.
    fn new_ids(&self, outcome: &Outcome, report: &TxReport) -> Result<Vec<i64>, String> {
        let new_count = outcome
            .tempids
            .values()
            .filter_map(|r| match r {
                Resolved::New(n) => Some(n + 1),
                Resolved::Existing(_) => None,
            })
            .max()
            .unwrap_or(0);
        let mut new_ids: Vec<Option<i64>> = vec![None; new_count];
        let in_use = |id: i64| self.model.entities.contains(&id) || self.model.txs.contains(&id);
        for (name, resolved) in outcome
            .tempids
            .iter()
            .filter(|(name, _)| !is_anonymous(name))
        {
            let Some(id) = report.tempids.get(name).copied() else {
                return Err(format!("the store reports no id for tempid {name:?}"));
            };
            match resolved {
                Resolved::Existing(expected) if *expected != id => {
                    return Err(format!(
                        "tempid {name:?} is {id}, the model says {expected}"
                    ))
                }
                Resolved::Existing(_) => {}
                Resolved::New(n) => match new_ids[*n] {
                    Some(other) if other != id => {
                        return Err(format!(
                            "tempid {name:?} is {id}, but shares its entity with {other}"
                        ))
                    }
                    _ if in_use(id) => {
                        return Err(format!("tempid {name:?} got {id}, an id already in use"))
                    }
                    _ => new_ids[*n] = Some(id),
                },
            }
        }
        let unknown: Vec<usize> = (0..new_count).filter(|n| new_ids[*n].is_none()).collect();
        let reported: BTreeSet<(bool, i64, usize, Val)> = report
            .datoms
            .iter()
            .filter_map(|d| {
                let a = self.attr_ids.iter().position(|id| *id == d.a)?;
                Some((d.added, d.e, a, model_value(&d.v)))
            })
            .collect();
        let mut candidates: BTreeSet<i64> = BTreeSet::new();
        for (_, e, _, v) in &reported {
            candidates.insert(*e);
            if let Val::Ref(id) = v {
                candidates.insert(*id);
            }
        }
        candidates.retain(|id| !in_use(*id) && !new_ids.contains(&Some(*id)) && *id != report.tx);
        let candidates: Vec<i64> = candidates.into_iter().collect();
        let modelled = |ids: &[Option<i64>]| -> BTreeSet<(bool, i64, usize, Val)> {
            let real = |e: i64| {
                if e < 0 {
                    ids[(-e - 1) as usize].unwrap_or(e)
                } else {
                    e
                }
            };
            let mut facts = BTreeSet::new();
            for (added, set) in [(false, &outcome.retracted), (true, &outcome.asserted)] {
                for (e, a, v) in set {
                    let v = match v {
                        Val::Ref(id) => Val::Ref(real(*id)),
                        other => other.clone(),
                    };
                    facts.insert((added, real(*e), *a, v));
                }
            }
            facts
        };
        let found = assignments(&candidates, unknown.len())
            .into_iter()
            .find_map(|choice| {
                let mut ids = new_ids.clone();
                for (n, id) in unknown.iter().zip(choice) {
                    ids[*n] = Some(id);
                }
                (modelled(&ids) == reported).then_some(ids)
            });
        let Some(ids) = found else {
            return Err(format!(
                "the store's datoms {reported:?} are not the model's {:?}",
                modelled(&new_ids)
            ));
        };
        Ok(ids
            .into_iter()
            .map(|id| id.expect("every new entity has an id"))
            .collect())
    }

    /// The store's datoms of the model's attributes, in a view of time.
    fn store_datoms(
        &self,
        view: impl Fn(factlite::Db) -> factlite::Db,
    ) -> Result<BTreeSet<StoreDatom>, String> {
        self.datoms_of(&view(self.store.db().map_err(|e| e.to_string())?))
    }

    /// The datoms of the model's attributes a snapshot sees.
    fn datoms_of(&self, db: &factlite::Db) -> Result<BTreeSet<StoreDatom>, String> {
        let mut datoms = db.datoms(IndexName::Eavt, &[]).map_err(|e| e.to_string())?;
        let mut result = BTreeSet::new();
        for datom in datoms.iter().map_err(|e| e.to_string())? {
            let datom = datom.map_err(|e| e.to_string())?;
            let Some(a) = self.attr_ids.iter().position(|id| *id == datom.a) else {
                continue;
            };
            result.insert((datom.e, a, model_value(&datom.v), datom.tx, datom.added));
        }
        Ok(result)
    }

    /// The store holds the model's datoms: now, as of every transaction,
    /// and in the history.
    fn check_datoms(&mut self) -> Checked {
        let facts = |datoms: BTreeSet<StoreDatom>| -> BTreeSet<Fact> {
            datoms
                .into_iter()
                .map(|(e, a, v, _, _)| (e, a, v))
                .collect()
        };
        let mut times = vec![Time::Current, Time::History];
        times.extend(self.model.txs.iter().map(|tx| Time::AsOf(*tx)));
        for time in times {
            let (actual, expected): (BTreeSet<Fact>, BTreeSet<Fact>) = match time {
                Time::Current => (facts(self.store_datoms(|db| db)?), self.model.facts(None)),
                Time::AsOf(tx) => (
                    facts(self.store_datoms(|db| db.as_of(tx))?),
                    self.model.facts(Some(tx)),
                ),
                Time::History | Time::Since(_) => {
                    let actual = self.store_datoms(|db| db.history())?;
                    let expected: BTreeSet<_> = self
                        .model
                        .log
                        .iter()
                        .map(|d| (d.e, d.a, d.v.clone(), d.tx, d.added))
                        .collect();
                    if actual != expected {
                        self.record_datom_queries(Time::History);
                        return Err(format!(
                            "history differs:\n store {actual:?}\n model {expected:?}"
                        ));
                    }
                    continue;
                }
            };
            if actual != expected {
                self.record_datom_queries(time);
                return Err(format!(
                    "datoms differ at {time:?}:\n store {actual:?}\n model {expected:?}"
                ));
            }
        }
        Ok(())
    }

    /// Adds to the scenario one query per attribute listing its datoms at
    /// `time`, expecting the model's.
    fn record_datom_queries(&mut self, time: Time) {
        let history = matches!(time, Time::History);
        for (a, attr) in self.model.attrs.iter().enumerate() {
            let text = if history {
                format!(
                    "[:find ?e ?v ?added :where [?e {} ?v _ ?added]]",
                    Value::Keyword(attr.ident.clone())
                )
            } else {
                format!(
                    "[:find ?e ?v :where [?e {} ?v]]",
                    Value::Keyword(attr.ident.clone())
                )
            };
            let query = factlite_edn::parse(&text).expect("a query");
            let names = &self.model.names;
            let expected: BTreeSet<Value> = match time {
                Time::History => self
                    .model
                    .log
                    .iter()
                    .filter(|d| d.a == a)
                    .map(|d| {
                        Value::Vector(vec![
                            entity_name(names, d.e),
                            d.v.to_edn(&|id| entity_name(names, id)),
                            Value::Boolean(d.added),
                        ])
                    })
                    .collect(),
                _ => {
                    let as_of = match time {
                        Time::AsOf(tx) => Some(tx),
                        _ => None,
                    };
                    self.model
                        .facts(as_of)
                        .into_iter()
                        .filter(|(_, fa, _)| *fa == a)
                        .map(|(e, _, v)| {
                            Value::Vector(vec![
                                entity_name(names, e),
                                v.to_edn(&|id| entity_name(names, id)),
                            ])
                        })
                        .collect()
                }
            };
            self.scenario.query(
                query,
                vec![],
                time,
                Value::Set(expected.into_iter().collect()),
            );
        }
    }

    /// Query number `number` read off `tape`, on both sides.
    fn query(&mut self, tape: &[u8]) -> Checked {
        let mut tape = Tape::new(tape);
        let user_txs = &self.model.txs[1..];
        let view = match (tape.pick(8), user_txs.is_empty()) {
            (5, false) => View::AsOf(tape.pick(user_txs.len())),
            (6, false) => View::Since(tape.pick(user_txs.len())),
            (7, _) => View::History,
            _ => View::Current,
        };
        let query = QueryGen::new(&self.model, &mut tape).query(view);
        let idents = self.idents();
        let edn = query.to_edn(&idents, &plain_entity);
        let args = query.args(&idents, &plain_entity);
        let (time, datoms) = self.view_datoms(view);
        let db = self.store.db().map_err(|e| e.to_string())?;
        // A second database, the store as of an earlier transaction: given
        // to the store as a `Db` in its place among the inputs.
        let (before, inputs) = match query.database_input() {
            Some((position, n)) => {
                let (Time::AsOf(tx), before) = self.view_datoms(View::AsOf(n)) else {
                    unreachable!("an as-of view");
                };
                let mut inputs: Vec<QueryInput> =
                    args.iter().cloned().map(QueryInput::Value).collect();
                inputs[position] = QueryInput::Database(db.as_of(tx));
                (before, inputs)
            }
            None => (
                Vec::new(),
                args.iter().cloned().map(QueryInput::Value).collect(),
            ),
        };
        let tuples = evaluate(&query, &datoms, &before, &idents, VAR_COUNT);
        let db = match time {
            Time::Current => db,
            Time::AsOf(tx) => db.as_of(tx),
            Time::Since(tx) => db.since(tx),
            Time::History => db.history(),
        };
        let Some(tuples) = tuples else {
            // Arithmetic past the 64-bit range: the store may answer (if
            // it never computed the overflowing row) or fail as a query.
            return match db.q(&edn, inputs) {
                Err(error) if error.category() != ErrorCategory::Query => Err(format!(
                    "query {edn} overflows and fails with {} ({error})",
                    error.category()
                )),
                _ => Ok(()),
            };
        };
        let outcome = match db.q(&edn, inputs) {
            Ok(actual) => compare_result(&self.model, &query, &tuples, &actual),
            Err(error) => Err(format!(
                "the store fails with {} ({error})",
                error.category()
            )),
        };
        let names = &self.model.names;
        let named = |id| entity_name(names, id);
        let expected = shape(&self.model, &query, &tuples, &named);
        // A query given a database cannot be written as a scenario (its
        // inputs are values): its failure is reported by its text alone.
        let writable = query.database_input().is_none();
        if writable && (outcome.is_err() || (self.record_all && expected.is_some())) {
            let (q, a) = (query.to_edn(&idents, &named), query.args(&idents, &named));
            self.scenario
                .query(q, a, time, expected.unwrap_or(Value::Nil));
        }
        outcome.map_err(|problem| format!("query {edn} with {args:?} at {time:?}: {problem}"))
    }

    /// A pull read off `tape`, on both sides: cardinality-many values
    /// compare as sets.
    fn pull(&mut self, tape: &[u8]) -> Checked {
        let Some((e, attrs)) = generate::pull(&self.model, &mut Tape::new(tape)) else {
            return Ok(());
        };
        let pattern = self.model.pull_pattern(&attrs);
        let actual = self
            .store
            .db()
            .and_then(|db| db.pull(&pattern, Value::Integer(e)))
            .map_err(|error| format!("pull {pattern} of {e}: {} ({error})", error.category()))?;
        let wanted = self.model.pull(e, &attrs, &plain_entity);
        let as_sets = shaped_like(actual, &wanted);
        let names = &self.model.names;
        let named = |id| entity_name(names, id);
        if as_sets == wanted && !self.record_all {
            return Ok(());
        }
        let expected = self.model.pull(e, &attrs, &named);
        self.scenario.pull(pattern.clone(), named(e), expected);
        if as_sets == wanted {
            return Ok(());
        }
        Err(format!(
            "pull {pattern} of {e}: the store gives {as_sets}, the model {wanted}"
        ))
    }

    /// The model's datoms a query sees in `view`.
    fn view_datoms(&self, view: View) -> (Time, Vec<Datom>) {
        let user_txs = &self.model.txs[1..];
        let datom = |(e, a, v): (i64, usize, Val), tx: i64| Datom {
            e,
            a,
            v,
            tx,
            added: true,
        };
        match view {
            View::Current => (
                Time::Current,
                self.model
                    .facts(None)
                    .into_iter()
                    .map(|f| datom(f, 0))
                    .collect(),
            ),
            View::AsOf(n) => {
                let tx = user_txs[n];
                (
                    Time::AsOf(tx),
                    self.model
                        .facts(Some(tx))
                        .into_iter()
                        .map(|f| datom(f, 0))
                        .collect(),
                )
            }
            View::Since(n) => {
                let tx = user_txs[n];
                let datoms = self
                    .model
                    .assertion_txs()
                    .into_iter()
                    .filter(|(_, asserted)| *asserted > tx)
                    .map(|(f, asserted)| datom(f, asserted))
                    .collect();
                (Time::Since(tx), datoms)
            }
            View::History => (
                Time::History,
                self.model
                    .log
                    .iter()
                    .map(|d| Datom {
                        e: d.e,
                        a: d.a,
                        v: d.v.clone(),
                        tx: d.tx,
                        added: d.added,
                    })
                    .collect(),
            ),
        }
    }
}

/// A pulled map with its cardinality-many values (vectors where the model
/// has a set) as sets, and its tuples (vectors where the model has one)
/// kept as vectors; elsewhere as [`sets_in_maps`].
fn shaped_like(actual: Value, wanted: &Value) -> Value {
    match (actual, wanted) {
        (actual @ Value::Map(_), Value::Map(wanted)) => Value::Map(
            actual
                .into_map()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| {
                    let v = match (v, wanted.get(&k)) {
                        (tuple @ Value::Vector(_), Some(Value::Vector(_))) => tuple,
                        (items @ Value::Vector(_), _) => Value::Set(
                            items
                                .into_sequence()
                                .unwrap_or_default()
                                .into_iter()
                                .map(sets_in_maps)
                                .collect(),
                        ),
                        (other, Some(wanted)) => shaped_like(other, wanted),
                        (other, None) => sets_in_maps(other),
                    };
                    (k, v)
                })
                .collect(),
        ),
        (other, _) => sets_in_maps(other),
    }
}

/// A result with the collections inside maps (the cardinality-many values
/// of pulled maps) as sets: the store gives them in no particular order.
fn sets_in_maps(value: Value) -> Value {
    let in_map = |v: Value| match v {
        Value::Vector(_) => Value::Set(
            v.into_sequence()
                .unwrap_or_default()
                .into_iter()
                .map(sets_in_maps)
                .collect(),
        ),
        other => sets_in_maps(other),
    };
    scenario::rebuilt(value, in_map, sets_in_maps)
}

/// Every ordered choice of `count` distinct items of `items`.
fn assignments(items: &[i64], count: usize) -> Vec<Vec<i64>> {
    if count == 0 {
        return vec![vec![]];
    }
    let mut all = Vec::new();
    for (i, first) in items.iter().enumerate() {
        let rest: Vec<i64> = items
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, x)| *x)
            .collect();
        for mut tail in assignments(&rest, count - 1) {
            tail.insert(0, *first);
            all.push(tail);
        }
    }
    all
}

fn model_value(value: &TypedValue) -> Val {
    match value {
        TypedValue::Ref(id) => Val::Ref(*id),
        TypedValue::Long(i) => Val::Long(*i),
        TypedValue::Double(x) => Val::Double(*x),
        TypedValue::String(s) => Val::Str(s.clone()),
        TypedValue::Keyword(k) => Val::Kw((**k).clone()),
        TypedValue::Boolean(b) => Val::Bool(*b),
        TypedValue::Float(x) => Val::Float(*x),
        TypedValue::BigInt(i) => Val::BigInt((**i).clone()),
        TypedValue::BigDec(d) => Val::BigDec((**d).clone()),
        TypedValue::Tuple(elements) => Val::Tuple(
            elements
                .iter()
                .map(|element| element.as_ref().map(model_value))
                .collect(),
        ),
        other => panic!("the model has no values like {other:?}"),
    }
}

/// The model's result as the store shapes it; `None` for a scalar or
/// tuple find with several candidate answers.
fn shape(
    model: &Model,
    query: &Query,
    tuples: &Tuples,
    entity: &dyn Fn(i64) -> Value,
) -> Option<Value> {
    let elems: Vec<&Elem> = match &query.find {
        Find::Rel(elems) | Find::Tuple(elems) => elems.iter().collect(),
        Find::Coll(elem) | Find::Scalar(elem) => vec![elem],
    };
    // One element of a tuple: a pull shows the entity's attributes.
    let cell = |i: usize, v: &Val| match (elems[i], v) {
        (Elem::Pull(_, attrs), Val::Ref(e)) => model.pull(*e, attrs, entity),
        _ => v.to_edn(entity),
    };
    let row = |t: &Vec<Val>| -> Value {
        let cells = t.iter().enumerate().map(|(i, v)| cell(i, v));
        if query.keys {
            let keys = (0..t.len()).map(|n| Value::keyword(&format!("k{n}")));
            Value::Map(keys.zip(cells).collect())
        } else {
            Value::Vector(cells.collect())
        }
    };
    if !query.order_by.is_empty() {
        let rows = ordered(query, tuples).into_iter();
        return Some(Value::Vector(match &query.find {
            Find::Coll(_) => rows.map(|t| cell(0, &t[0])).collect(),
            _ => rows.map(|t| row(&t)).collect(),
        }));
    }
    match &query.find {
        Find::Rel(_) => Some(Value::Set(tuples.iter().map(row).collect())),
        Find::Coll(_) => Some(Value::Set(tuples.iter().map(|t| cell(0, &t[0])).collect())),
        Find::Scalar(_) | Find::Tuple(_) if tuples.is_empty() => Some(Value::Nil),
        Find::Scalar(_) if tuples.len() == 1 => tuples.first().map(|t| cell(0, &t[0])),
        Find::Tuple(_) if tuples.len() == 1 => tuples.first().map(row),
        _ => None,
    }
}

fn compare_result(model: &Model, query: &Query, tuples: &Tuples, result: &QueryResult) -> Checked {
    let entity = plain_entity;
    let actual = sets_in_maps(result.to_edn());
    check_distinct(query, result, &actual)?;
    if let Some(expected) = shape(model, query, tuples, &entity).map(sets_in_maps) {
        return if expected == actual {
            Ok(())
        } else {
            Err(format!("the store returns {actual}, the model {expected}"))
        };
    }
    // A scalar or tuple find with several answers: any one will do.
    let candidates: Vec<Value> = tuples
        .iter()
        .map(|t| match &query.find {
            Find::Scalar(_) => t[0].to_edn(&entity),
            _ => Value::Vector(t.iter().map(|v| v.to_edn(&entity)).collect()),
        })
        .collect();
    if candidates.contains(&actual) {
        Ok(())
    } else {
        Err(format!(
            "the store returns {actual}, not one of {candidates:?}"
        ))
    }
}

/// A relation's rows and a collection's values arrive distinct (SQLite
/// de-duplicates them): as many as in their EDN set. Pulls are left out,
/// since two entities may pull alike.
fn check_distinct(query: &Query, result: &QueryResult, edn: &Value) -> Checked {
    let pulls = match &query.find {
        Find::Rel(elements) | Find::Tuple(elements) => elements.iter().any(is_pull),
        Find::Coll(element) | Find::Scalar(element) => is_pull(element),
    };
    match edn {
        Value::Set(items) if !pulls && items.len() != result.len() => Err(format!(
            "the store returns {} rows, {} of them distinct: {edn}",
            result.len(),
            items.len()
        )),
        _ => Ok(()),
    }
}

fn is_pull(element: &Elem) -> bool {
    matches!(element, Elem::Pull(..))
}

/// Runs one case; on failure, the message ends with the scenario.
fn run_case(case: &Case, storage: Storage) -> Result<(), TestCaseError> {
    let mut run = Run::start(&case.schema, storage);
    let outcome = run_steps(&mut run, case);
    if let Storage::File(path) = &run.storage {
        remove_store_files(path);
    }
    outcome.map_err(|problem| {
        let (text, path) = run
            .scenario
            .write("found by the model-based property tests");
        TestCaseError::fail(format!(
            "{problem}\n\nscenario (also in {}):\n{text}",
            path.display()
        ))
    })
}

/// The transactions of a case, each followed by its queries and pulls,
/// with the views materialized after the case's number of transactions.
fn run_steps(run: &mut Run, case: &Case) -> Checked {
    let mut outcome = Ok(());
    'steps: for (number, tape) in case.transactions.iter().enumerate() {
        if case.views == Some(number as u8) {
            for tape in &case.queries {
                outcome = outcome.and_then(|()| run.materialize(tape));
            }
            outcome = outcome.and_then(|()| run.check_views());
        }
        if outcome.is_err() {
            break;
        }
        outcome = run.transact(number + 1, tape);
        match (&outcome, case.excisions.get(number)) {
            (Ok(()), Some(tape)) if !tape.is_empty() => outcome = run.excise(tape),
            _ => {}
        }
        if outcome.is_err() {
            break;
        }
        for tape in &case.queries {
            outcome = run.query(tape).and_then(|()| run.pull(tape));
            if outcome.is_err() {
                break 'steps;
            }
        }
    }
    outcome.and_then(|()| run.verify())
}

/// A datom as `with` and the commit are compared: entity, attribute id,
/// value, transaction, added.
type RawDatom = (i64, i64, Val, i64, bool);

/// What `with` gave: the datoms of its database, its transaction and its
/// tempids.
type Speculation = factlite::Result<(BTreeSet<RawDatom>, i64, factlite::IndexMap<String, i64>)>;

/// Every datom of `db` but the transactions' instants (the clock moves
/// between `with` and the commit).
fn raw_datoms(db: &factlite::Db) -> factlite::Result<BTreeSet<RawDatom>> {
    let instant = db
        .schema()?
        .entid(&factlite::Keyword::namespaced("db", "txInstant"));
    let mut datoms = db.datoms(IndexName::Eavt, &[])?;
    let mut result = BTreeSet::new();
    for datom in datoms.iter()? {
        let datom = datom?;
        if Some(datom.a) != instant {
            result.insert((
                datom.e,
                datom.a,
                model_value(&datom.v),
                datom.tx,
                datom.added,
            ));
        }
    }
    Ok(result)
}

/// The speculative database equals the committed one: the same datoms,
/// transaction and tempids, or the same failure.
fn check_with(
    speculative: &Speculation,
    actual: &factlite::Result<TxReport>,
    committed: &BTreeSet<RawDatom>,
) -> Checked {
    match (speculative, actual) {
        (Err(speculated), Err(error)) if speculated.category() == error.category() => Ok(()),
        (Err(speculated), Err(error)) => Err(format!(
            "with fails with {} ({speculated}), the commit with {} ({error})",
            speculated.category(),
            error.category()
        )),
        (Err(speculated), Ok(_)) => Err(format!("with fails ({speculated}), the commit does not")),
        (Ok(_), Err(error)) => Err(format!("the commit fails ({error}), with does not")),
        (Ok((datoms, tx, tempids)), Ok(report)) => {
            if (*tx, tempids) != (report.tx, &report.tempids) {
                return Err(format!(
                    "with gives transaction {tx} and tempids {tempids:?}, the commit {} and {:?}",
                    report.tx, report.tempids
                ));
            }
            if datoms != committed {
                let only_with: Vec<_> = datoms.difference(committed).collect();
                let only_committed: Vec<_> = committed.difference(datoms).collect();
                return Err(format!(
                    "with's database differs from the committed one: only with {only_with:?}, \
                     only committed {only_committed:?}"
                ));
            }
            Ok(())
        }
    }
}

fn remove_store_files(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

/// A fresh path for a file store in the temporary directory.
fn store_path() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("factlite-property-{}-{n}.db", std::process::id()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(DEFAULT_CASES), ..ProptestConfig::default() })]

    #[test]
    fn store_agrees_with_the_model(case in case_strategy()) {
        run_case(&case, Storage::Memory)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(DEFAULT_CASES / 8), ..ProptestConfig::default() })]

    /// What a run writes as a scenario — here every check, with the
    /// model's answers — replays in the scenario runner: the format a
    /// failure is reported in is one `factlite check` accepts.
    #[test]
    fn written_scenarios_replay_in_the_runner(case in case_strategy()) {
        let mut run = Run::start(&case.schema, Storage::Memory);
        run.record_all = true;
        run_steps(&mut run, &case).map_err(TestCaseError::fail)?;
        let path = store_path().with_extension("edn");
        let text = run.scenario.to_edn("a whole property run").to_pretty_string(96);
        std::fs::write(&path, &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let summary = run_files(std::slice::from_ref(&path), &CheckOptions::default());
        let _ = std::fs::remove_file(&path);
        let failures: Vec<String> = summary.failure_lines().collect();
        prop_assert!(summary.failed() == 0, "{}\n{text}", failures.join("\n"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(DEFAULT_CASES / 4), ..ProptestConfig::default() })]

    #[test]
    fn file_store_reopens_with_the_same_data(case in case_strategy()) {
        let case = Case { queries: vec![], ..case };
        run_case(&case, Storage::File(store_path()))?;
    }
}
