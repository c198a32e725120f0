//! Peak-memory benchmark (plain `main`, no harness): how much memory one
//! big transaction takes through the façade, each case in a child process
//! of its own (this binary run again with `FACTLITE_MEMORY_CASE`), so that
//! the peak it reports (`VmHWM` from `/proc/self/status`, Linux only) is
//! that case's alone:
//! - `datoms`: one transaction of 1,000,000 datoms (200,000 entity maps of
//!   five attributes: a unique email, a name, an age, a score and a ref),
//!   built as a `Value` and transacted into a file store (target < 500 MB);
//! - `string`: one datom whose value is a 100 MB string (target < 3× the
//!   string).
//!
//! Each is given to `Store::transact` by value (its values move into the
//! transaction) and, in a case of its own, by reference (`&Value`: the
//! transaction copies them).
//!
//! Each child prints its peak and the peak before the transaction (the
//! input built, the store open). `FACTLITE_MEMORY_ENTITIES` and
//! `FACTLITE_MEMORY_STRING_MB` scale the cases. Run with
//! `cargo bench -p factlite --bench memory`.

use std::process::Command;

use factlite::edn::{Keyword, Value};
use factlite::Store;
use indexmap::IndexMap;

const CASE: &str = "FACTLITE_MEMORY_CASE";

const SCHEMA: &str = r#"[
 {:db/ident :person/email :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :person/score :db/valueType :db.type/double :db/cardinality :db.cardinality/one}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :doc/text :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]"#;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn peak_memory_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .and_then(|line| line.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn open_store(dir: &std::path::Path) -> Store {
    let store = Store::open(dir.join("memory.db")).expect("store opens");
    store.transact(SCHEMA).expect("schema");
    store
}

fn person_attribute(name: &str) -> Value {
    Value::Keyword(Keyword::namespaced("person", name))
}

/// One transaction of `entities` people, five datoms each.
fn datoms_case(dir: &std::path::Path, by_value: bool) {
    let entities = setting("FACTLITE_MEMORY_ENTITIES", 200_000);
    let store = open_store(dir);
    let maps: Vec<Value> = (0..entities)
        .map(|i| {
            let mut map = IndexMap::with_capacity(6);
            map.insert(
                Value::Keyword(Keyword::namespaced("db", "id")),
                Value::String(format!("p{i}")),
            );
            map.insert(
                person_attribute("email"),
                Value::String(format!("person{i}@example.com")),
            );
            map.insert(
                person_attribute("name"),
                Value::String(format!("Person {i}")),
            );
            map.insert(person_attribute("age"), Value::Integer((i % 90) as i64));
            map.insert(
                person_attribute("score"),
                Value::Float((i % 1000) as f64 / 10.0),
            );
            map.insert(
                person_attribute("friend"),
                Value::String(format!("p{}", i / 2)),
            );
            Value::Map(map)
        })
        .collect();
    let data = Value::Vector(maps);
    let before = peak_memory_mb();
    let report = transact(&store, data, by_value);
    let peak = peak_memory_mb();
    println!(
        "one transaction of {} datoms {}: peak {peak:.1} MB (input built and store open: {before:.1} MB; target < 500 MB)",
        report.datoms.len() - 1,
        given(by_value)
    );
}

/// One datom holding a string of `FACTLITE_MEMORY_STRING_MB` megabytes.
fn string_case(dir: &std::path::Path, by_value: bool) {
    let megabytes = setting("FACTLITE_MEMORY_STRING_MB", 100);
    let store = open_store(dir);
    let text = "x".repeat(megabytes * 1_000_000);
    // The string moves into the transaction data: the input holds it once.
    let data = Value::Vector(vec![Value::Vector(vec![
        Value::Keyword(Keyword::namespaced("db", "add")),
        Value::String("big".to_string()),
        Value::Keyword(Keyword::namespaced("doc", "text")),
        Value::String(text),
    ])]);
    let before = peak_memory_mb();
    transact(&store, data, by_value);
    let peak = peak_memory_mb();
    let size = megabytes as f64 * 1e6 / (1024.0 * 1024.0);
    println!(
        "one {megabytes} MB ({size:.1} MiB) string value {}: peak {peak:.1} MB, {:.2}x the string (input built and store open: {before:.1} MB; target < 3x)",
        given(by_value),
        peak / size
    );
}

/// Transacts `data` given by value or by reference (kept until the
/// transaction is done, as a caller holding it would).
fn transact(store: &Store, data: Value, by_value: bool) -> factlite::TxReport {
    if by_value {
        return store.transact(data).expect("transaction");
    }
    let report = store.transact(&data).expect("transaction");
    drop(data);
    report
}

fn given(by_value: bool) -> &'static str {
    if by_value {
        "given by value"
    } else {
        "given by reference"
    }
}

fn main() {
    if let Ok(case) = std::env::var(CASE) {
        let dir = tempfile::tempdir().expect("temporary directory");
        match case.as_str() {
            "datoms" => datoms_case(dir.path(), true),
            "datoms-by-reference" => datoms_case(dir.path(), false),
            "string" => string_case(dir.path(), true),
            "string-by-reference" => string_case(dir.path(), false),
            other => panic!("no case {other}"),
        }
        return;
    }
    let me = std::env::current_exe().expect("this benchmark's path");
    for case in [
        "datoms",
        "datoms-by-reference",
        "string",
        "string-by-reference",
    ] {
        let status = Command::new(&me)
            .env(CASE, case)
            .status()
            .expect("the case runs");
        assert!(status.success(), "case {case} failed");
    }
}
