//! Writes what a property test did as a conformance scenario
//! (`../shared/conformance/FORMAT.md`): the schema, every transaction (with
//! `:expect-error` where the model says it fails), and the check that
//! failed as a step whose expected value is the model's answer — ready to
//! add to `tests/scenarios/`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use factlite_edn::{Keyword, Symbol, Value};
use indexmap::IndexMap;

use super::generate::render_entities;
use crate::model::value::plain_entity;

fn kw(name: &str) -> Value {
    Value::keyword(name)
}

fn tagged(tag: &str, name: &str) -> Value {
    Value::Tagged(
        Symbol::plain(tag),
        Box::new(Value::String(name.to_string())),
    )
}

/// The steps of one run, as they happen.
pub struct Scenario {
    schema: Value,
    steps: Vec<Value>,
    /// The name of each committed transaction's id.
    tx_names: BTreeMap<i64, String>,
}

impl Scenario {
    pub fn new(schema: Value) -> Scenario {
        Scenario {
            schema,
            steps: Vec::new(),
            tx_names: BTreeMap::new(),
        }
    }

    fn step(&mut self, entries: Vec<(&str, Value)>) {
        let map: IndexMap<Value, Value> = entries
            .into_iter()
            .map(|(k, v)| match k {
                "expect" => (kw(k), vectors_in_maps(v)),
                _ => (kw(k), v),
            })
            .collect();
        self.steps.push(Value::Map(map));
    }

    /// A transaction (tx data with entity markers, entities named by
    /// `names`); `error` is the category the model expects, and `tx` the
    /// id the store gave it, when it committed.
    pub fn transact(
        &mut self,
        data: &Value,
        names: &BTreeMap<i64, String>,
        error: Option<&str>,
        tx: Option<i64>,
    ) {
        let data = render_entities(data, &|id| entity_name(names, id));
        let mut entries = vec![("transact", data)];
        if let Some(category) = error {
            entries.push((
                "expect-error",
                Value::Keyword(Keyword::from_str_lossy(category)),
            ));
        }
        if let Some(tx) = tx {
            let name = format!("tx{}", self.tx_names.len() + 1);
            entries.push(("tx", Value::String(name.clone())));
            self.tx_names.insert(tx, name);
        }
        self.step(entries);
    }

    /// A query step against the database of `time`.
    pub fn query(&mut self, query: Value, args: Vec<Value>, time: Time, expect: Value) {
        let mut entries = vec![("query", query)];
        if !args.is_empty() {
            entries.push(("args", Value::Vector(args)));
        }
        match time {
            Time::Current => {}
            Time::AsOf(tx) => entries.push(("as-of", self.tx_ref(tx))),
            Time::Since(tx) => entries.push(("since", self.tx_ref(tx))),
            Time::History => entries.push(("history", Value::Boolean(true))),
        }
        entries.push(("expect", expect));
        self.step(entries);
    }

    /// A pull step.
    pub fn pull(&mut self, pattern: Value, eid: Value, expect: Value) {
        self.step(vec![("pull", pattern), ("eid", eid), ("expect", expect)]);
    }

    /// Registers a materialized view.
    pub fn materialize(&mut self, name: &str, query: Value, args: Vec<Value>) {
        let mut entries = vec![
            ("materialize", Value::String(name.to_string())),
            ("query", query),
        ];
        if !args.is_empty() {
            entries.push(("args", Value::Vector(args)));
        }
        self.step(entries);
    }

    /// Reads a materialized view.
    pub fn view(&mut self, name: &str, expect: Value) {
        self.step(vec![
            ("view", Value::String(name.to_string())),
            ("expect", expect),
        ]);
    }

    /// A transaction as the scenario writes it: `#tx "txN"` when it
    /// committed in this run, else its number.
    pub fn tx_ref(&self, tx: i64) -> Value {
        match self.tx_names.get(&tx) {
            Some(name) => tagged("tx", name),
            None => Value::Integer(tx),
        }
    }

    /// The whole scenario, named `name`.
    pub fn to_edn(&self, name: &str) -> Value {
        let mut map = IndexMap::new();
        map.insert(kw("name"), Value::String(name.to_string()));
        map.insert(kw("schema"), self.schema.clone());
        map.insert(kw("steps"), Value::Vector(self.steps.clone()));
        Value::Map(map)
    }

    /// Writes the scenario to `$FACTLITE_SCENARIO_OUT` (or a file in the
    /// temporary directory) and returns its text and where it went.
    pub fn write(&self, name: &str) -> (String, PathBuf) {
        let text = format!(
            ";; Found by the model-based property tests (tests/properties.rs).\n{}\n",
            self.to_edn(name).to_pretty_string(96)
        );
        let path = std::env::var_os("FACTLITE_SCENARIO_OUT")
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("factlite-property-failure.edn"));
        if let Err(error) = std::fs::write(&path, &text) {
            eprintln!("cannot write {}: {error}", path.display());
        }
        (text, path)
    }
}

/// An expected value as a scenario writes pulled maps: the model's sets of
/// cardinality-many values as vectors (the runner compares them as sets).
fn vectors_in_maps(value: Value) -> Value {
    let in_map = |v: Value| match v.into_set() {
        Ok(items) => Value::Vector(items.into_iter().map(vectors_in_maps).collect()),
        Err(other) => vectors_in_maps(other),
    };
    rebuilt(value, in_map, vectors_in_maps)
}

/// `value` with each value of a map through `in_map` and each item of a
/// vector or set through `item`; anything else as it is.
pub fn rebuilt(value: Value, in_map: impl Fn(Value) -> Value, item: fn(Value) -> Value) -> Value {
    match value {
        Value::Map(_) => Value::Map(
            value
                .into_map()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, in_map(v)))
                .collect(),
        ),
        Value::Vector(_) => Value::Vector(
            value
                .into_sequence()
                .unwrap_or_default()
                .into_iter()
                .map(item)
                .collect(),
        ),
        Value::Set(_) => Value::Set(
            value
                .into_set()
                .unwrap_or_default()
                .into_iter()
                .map(item)
                .collect(),
        ),
        other => other,
    }
}

/// When a query step runs.
#[derive(Clone, Copy, Debug)]
pub enum Time {
    Current,
    AsOf(i64),
    Since(i64),
    History,
}

/// An entity as a scenario writes it: `#ent "tempid"` when a tempid named
/// it, else its number.
pub fn entity_name(names: &BTreeMap<i64, String>, id: i64) -> Value {
    match names.get(&id) {
        Some(name) => tagged("ent", name),
        None => plain_entity(id),
    }
}
