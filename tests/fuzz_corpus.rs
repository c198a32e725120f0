//! Runs the fuzz targets' properties (`fuzz/checks/*.rs`, the same files the
//! targets include) as ordinary tests, so CI checks them without a fuzzer:
//! over each target's committed seeds (`fuzz/corpus/<target>/seed-*`) and
//! over the inputs those seeds are derived from — the grammar examples and
//! the values of the conformance scenarios, shared and our own (queries, rule sets, pull
//! patterns, transaction data, each scenario's transactions in order, each
//! query followed by its inputs).
//!
//! `FACTLITE_WRITE_SEEDS=1 cargo test -p factlite-tests fuzz_corpus` writes
//! the derived inputs out as `seed-*` files for review and commit; seeds
//! named `seed-regression-*` are written by hand, one per fuzzer finding,
//! and so are the `query_runner` seeds `seed-store-*`, queries over the
//! fuzz store's own schema.

use std::fs;
use std::path::{Path, PathBuf};

use factlite_edn::Value;
use factlite_tests::{all_scenario_files, edn_files, workspace_root};

#[path = "../fuzz/checks/parsers.rs"]
mod parsers;
#[path = "../fuzz/checks/queries.rs"]
mod queries;
#[path = "../fuzz/checks/transactor.rs"]
mod transactor;

use parsers::{check_parser, Parser};
use queries::check_query_runner;
use transactor::check_transactor;

/// One fuzz input: a name for its seed file and its bytes.
struct Seed {
    name: String,
    text: String,
}

fn corpus_dir(target: &str) -> PathBuf {
    workspace_root().join("fuzz/corpus").join(target)
}

/// The committed seeds of a target.
fn committed_seeds(target: &str) -> Vec<PathBuf> {
    let dir = corpus_dir(target);
    let entries =
        fs::read_dir(&dir).unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    let mut seeds: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("seed-"))
        })
        .collect();
    seeds.sort();
    seeds
}

/// The grammar examples of one language, valid and invalid, as seeds.
fn grammar_seeds(language: &str) -> Vec<Seed> {
    let mut seeds = Vec::new();
    for kind in ["valid", "invalid"] {
        for path in edn_files(&workspace_root().join("grammar").join(language).join(kind)) {
            let stem = path.file_stem().expect("a file name").to_string_lossy();
            seeds.push(Seed {
                name: format!("seed-grammar-{kind}-{stem}.edn"),
                text: read(&path),
            });
        }
    }
    seeds
}

fn read(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Every scenario map of the shared conformance corpus (when present) and
/// of the project's own scenarios, with the stem of its file.
fn conformance_scenarios() -> Vec<(String, Value)> {
    let mut scenarios = Vec::new();
    for path in all_scenario_files() {
        let stem = path
            .file_stem()
            .expect("a file name")
            .to_string_lossy()
            .to_string();
        let values = factlite_edn::parse_all(&read(&path))
            .unwrap_or_else(|error| panic!("{} is not EDN: {error}", path.display()));
        scenarios.extend(values.into_iter().map(|value| (stem.clone(), value)));
    }
    scenarios
}

fn get<'v>(map: &'v Value, key: &str) -> Option<&'v Value> {
    match map {
        Value::Map(entries) => entries.get(&Value::keyword(key)),
        _ => None,
    }
}

fn steps(scenario: &Value) -> &[Value] {
    match get(scenario, "steps") {
        Some(Value::Vector(steps)) => steps,
        _ => &[],
    }
}

/// The values under `keys` in every step of every conformance scenario,
/// one seed each.
fn conformance_step_seeds(keys: &[&str]) -> Vec<Seed> {
    let mut seeds = Vec::new();
    for (scenario_index, (stem, scenario)) in conformance_scenarios().iter().enumerate() {
        let schema = keys
            .contains(&"schema")
            .then(|| get(scenario, "schema"))
            .flatten();
        let step_values = steps(scenario).iter().flat_map(|step| {
            keys.iter().filter_map(|key| match get(step, key) {
                Some(Value::Vector(args)) if *key == "args" => {
                    Some(args.iter().collect::<Vec<_>>())
                }
                Some(value) => Some(vec![value]),
                None => None,
            })
        });
        let values = schema.into_iter().chain(step_values.flatten());
        for (value_index, value) in values.enumerate() {
            seeds.push(Seed {
                name: format!("seed-conformance-{stem}-{scenario_index}-{value_index}.edn"),
                text: value.to_string(),
            });
        }
    }
    seeds
}

/// Each conformance scenario's schema and transactions, in order, as one
/// transactor input.
fn conformance_transaction_seeds() -> Vec<Seed> {
    conformance_scenarios()
        .iter()
        .enumerate()
        .map(|(index, (stem, scenario))| {
            let transactions = steps(scenario)
                .iter()
                .filter_map(|step| get(step, "transact"));
            let values: Vec<String> = get(scenario, "schema")
                .into_iter()
                .chain(transactions)
                .map(Value::to_string)
                .collect();
            Seed {
                name: format!("seed-conformance-{stem}-{index}.edn"),
                text: values.join("\n"),
            }
        })
        .collect()
}

/// Every query step of every conformance scenario, the query followed by
/// its `:args`, as one `query_runner` input.
fn conformance_query_seeds() -> Vec<Seed> {
    let mut seeds = Vec::new();
    for (scenario_index, (stem, scenario)) in conformance_scenarios().iter().enumerate() {
        let queries = steps(scenario).iter().filter_map(|step| {
            let query = get(step, "query")?;
            let args = match get(step, "args") {
                Some(Value::Vector(args)) => args.as_slice(),
                _ => &[],
            };
            let values: Vec<String> = std::iter::once(query)
                .chain(args)
                .map(Value::to_string)
                .collect();
            Some(values.join("\n"))
        });
        for (query_index, text) in queries.enumerate() {
            seeds.push(Seed {
                name: format!("seed-conformance-{stem}-{scenario_index}-{query_index}.edn"),
                text,
            });
        }
    }
    seeds
}

/// Checks `property` over the derived inputs and the committed seeds (and
/// writes the derived inputs as seeds in update mode).
fn check_corpus(target: &str, derived: Vec<Seed>, property: impl Fn(&[u8])) {
    assert!(!derived.is_empty(), "no inputs derived for {target}");
    if std::env::var_os("FACTLITE_WRITE_SEEDS").is_some() {
        let dir = corpus_dir(target);
        fs::create_dir_all(&dir).expect("the corpus directory");
        for seed in &derived {
            fs::write(dir.join(&seed.name), &seed.text).expect("a seed file");
        }
    }
    for seed in &derived {
        property(seed.text.as_bytes());
    }
    let committed = committed_seeds(target);
    assert!(
        !committed.is_empty(),
        "no committed seeds for {target}: run with FACTLITE_WRITE_SEEDS=1"
    );
    for path in committed {
        let data = fs::read(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        property(&data);
    }
}

#[test]
fn query_parser_corpus_satisfies_the_fuzz_property() {
    let mut derived = grammar_seeds("query");
    derived.extend(conformance_step_seeds(&["query", "args"]));
    check_corpus("query_parser", derived, |data| {
        check_parser(Parser::Query, data);
        check_parser(Parser::Rules, data);
    });
}

#[test]
fn pull_parser_corpus_satisfies_the_fuzz_property() {
    let mut derived = grammar_seeds("pull");
    derived.extend(conformance_step_seeds(&["pull"]));
    check_corpus("pull_parser", derived, |data| {
        check_parser(Parser::Pull, data)
    });
}

#[test]
fn tx_parser_corpus_satisfies_the_fuzz_property() {
    let mut derived = grammar_seeds("tx");
    derived.extend(conformance_step_seeds(&["schema", "transact"]));
    check_corpus("tx_parser", derived, |data| check_parser(Parser::Tx, data));
}

#[test]
fn transactor_corpus_satisfies_the_fuzz_property() {
    let mut derived = grammar_seeds("tx");
    derived.extend(conformance_transaction_seeds());
    check_corpus("transactor", derived, check_transactor);
}

#[test]
fn query_runner_corpus_satisfies_the_fuzz_property() {
    check_corpus(
        "query_runner",
        conformance_query_seeds(),
        check_query_runner,
    );
}
