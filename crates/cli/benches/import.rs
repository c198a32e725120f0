//! Import benchmark (plain `main`, no harness): writes the same people —
//! five attributes each, 200 entities (1,000 datoms) per transaction — as
//! an EDN file and as a CSV file, imports each with `transfer::import_file`
//! (reading, cutting, parsing, converting and transacting, as `.import` and
//! `factlite import` do), and compares the rates with a baseline measured
//! in the same run: the transactor alone, given the same transactions
//! already parsed.
//!
//! `FACTLITE_BENCH_ENTITIES` scales it (default 200,000 entities =
//! 1,000,000 datoms). Run with `cargo bench -p factlite-cli --bench import`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use factlite::edn::{self, Value};
use factlite::Store;
use factlite_cli::input::{FormReader, Framing};
use factlite_cli::transfer::import_file;

const ENTITIES_PER_TX: usize = 200;
const ATTRIBUTES: usize = 5;

const SCHEMA: &str = r#"[
 {:db/ident :person/email :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :person/score :db/valueType :db.type/double :db/cardinality :db.cardinality/one}
 {:db/ident :person/city :db/valueType :db.type/keyword :db/cardinality :db.cardinality/one}]"#;

fn person(i: usize) -> (String, String, i64, f64, String) {
    (
        format!("person{i}@example.com"),
        format!("Person {i}"),
        (i % 90) as i64,
        (i % 1000) as f64 / 10.0,
        format!("city/c{}", i % 50),
    )
}

/// The people as EDN: one vector of 200 entity maps per transaction.
fn edn_text(entities: usize) -> String {
    let mut text = String::new();
    for start in (0..entities).step_by(ENTITIES_PER_TX) {
        text.push('[');
        for i in start..(start + ENTITIES_PER_TX).min(entities) {
            let (email, name, age, score, city) = person(i);
            let _ = writeln!(
                text,
                "{{:person/email {email:?} :person/name {name:?} :person/age {age} :person/score {score:?} :person/city :{city}}}"
            );
        }
        text.push_str("]\n");
    }
    text
}

/// The people as CSV with a header row.
fn csv_text(entities: usize) -> String {
    let mut text = String::from("person/email,person/name,person/age,person/score,person/city\n");
    for i in 0..entities {
        let (email, name, age, score, city) = person(i);
        let _ = writeln!(text, "{email},{name},{age},{score:?},{city}");
    }
    text
}

fn store_with_schema(path: &Path) -> Store {
    let store = Store::open(path).expect("store opens");
    store.transact_str(SCHEMA).expect("schema");
    store
}

fn rate(datoms: usize, elapsed: Duration) -> f64 {
    datoms as f64 / elapsed.as_secs_f64()
}

fn main() {
    let entities: usize = std::env::var("FACTLITE_BENCH_ENTITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let datoms = entities * ATTRIBUTES;
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "import: {entities} entities x {ATTRIBUTES} attributes = {datoms} datoms, {} datoms per transaction",
        ENTITIES_PER_TX * ATTRIBUTES
    );
    let edn_path = dir.path().join("people.edn");
    let text = edn_text(entities);
    std::fs::write(&edn_path, &text).expect("EDN file written");
    std::fs::write(dir.path().join("people.csv"), csv_text(entities)).expect("CSV file written");

    // Baseline: the transactor alone, the transactions parsed beforehand.
    let forms: Vec<Value> = FormReader::new(text.as_bytes(), Framing::Sequence)
        .map(|form| edn::parse(&form.expect("UTF-8").text).expect("transaction parses"))
        .collect();
    let store = store_with_schema(&dir.path().join("baseline.db"));
    let started = Instant::now();
    for form in &forms {
        store.transact(form).expect("transaction");
    }
    let baseline = rate(datoms, started.elapsed());
    println!(
        "transactor alone (parsed forms): {baseline:>10.0} datoms/s  ({:.2} s)",
        started.elapsed().as_secs_f64()
    );
    drop(forms);

    for file in ["people.edn", "people.csv"] {
        let store = store_with_schema(&dir.path().join(format!("{file}.db")));
        let summary = import_file(&store, &dir.path().join(file), false).expect("import");
        assert_eq!(summary.datoms, datoms, "{file}");
        let imported = rate(datoms, summary.elapsed);
        println!(
            "import {file:<10}:             {imported:>10.0} datoms/s  ({:.2} s, {} transactions); ratio import / transactor: {:.2} (target >= 0.8)",
            summary.elapsed.as_secs_f64(),
            summary.transactions,
            imported / baseline
        );
    }
}
