//! Every scenario file — the shared conformance corpus (when present) and
//! the project's own `tests/scenarios` — read by the EDN reader and printed
//! back as equal values, and every query, pull pattern, transaction and rule
//! set in them parsed. All must parse, except in steps that expect
//! `:error/parse`, where at least one must fail.
//!
//! `#ent "name"` and `#tx "name"` stand for ids that only a running store
//! knows; as the scenario runner does, they are replaced by entity ids (here
//! a placeholder number) before parsing.

use std::fs;
use std::path::Path;

use factlite_edn::{Keyword, Value};
use factlite_query::{parse_pull_pattern, parse_query, parse_rules, parse_tx_data, ParseError};
use factlite_tests::{all_scenario_files, shared_conformance_dir};

/// The id that stands in for every `#ent` and `#tx` value.
const PLACEHOLDER_ID: i64 = 4_242;

/// Replaces `#ent` and `#tx` tagged values by [`PLACEHOLDER_ID`], everywhere.
fn resolve_tags(value: &Value) -> Value {
    match value {
        Value::Tagged(tag, _) if tag.is("ent") || tag.is("tx") => Value::Integer(PLACEHOLDER_ID),
        Value::Tagged(tag, inner) => Value::Tagged(tag.clone(), Box::new(resolve_tags(inner))),
        Value::List(items) => Value::List(items.iter().map(resolve_tags).collect()),
        Value::Vector(items) => Value::Vector(items.iter().map(resolve_tags).collect()),
        Value::Set(items) => Value::Set(items.iter().map(resolve_tags).collect()),
        Value::Map(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (resolve_tags(k), resolve_tags(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn get<'a>(map: &'a Value, key: &str) -> Option<&'a Value> {
    match map {
        Value::Map(entries) => entries.get(&Value::keyword(key)),
        _ => None,
    }
}

/// `true` for a rule set among `:args`: a vector whose first element is a
/// vector starting with a list.
fn is_rule_set(arg: &Value) -> bool {
    let first = arg.as_sequence().and_then(<[Value]>::first);
    let head = first
        .filter(|rule| matches!(rule, Value::Vector(_)))
        .and_then(Value::as_sequence);
    matches!(head.and_then(<[Value]>::first), Some(Value::List(_)))
}

/// Every parse a step asks for, as (what, result).
fn parse_step(step: &Value) -> Vec<(String, Result<(), ParseError>)> {
    let mut parses = Vec::new();
    if let Some(query) = get(step, "query") {
        parses.push((format!("query {query}"), parse_query(query).map(drop)));
    }
    if let Some(pattern) = get(step, "pull") {
        parses.push((
            format!("pull {pattern}"),
            parse_pull_pattern(pattern).map(drop),
        ));
    }
    if let Some(tx) = get(step, "transact") {
        parses.push((format!("transact {tx}"), parse_tx_data(tx).map(drop)));
    }
    for arg in get(step, "args")
        .and_then(Value::as_sequence)
        .unwrap_or_default()
    {
        if is_rule_set(arg) {
            parses.push((format!("rules {arg}"), parse_rules(arg).map(drop)));
        }
    }
    parses
}

/// Checks one step; returns the number of parses and any problems.
fn check_step(step: &Value, problems: &mut Vec<String>) -> usize {
    let parse_error = Value::Keyword(Keyword::namespaced("error", "parse"));
    let expects_parse_error = get(step, "expect-error") == Some(&parse_error);
    let parses = parse_step(step);
    if expects_parse_error && parses.iter().all(|(_, result)| result.is_ok()) {
        problems.push(format!(
            "step {step} should fail to parse, but everything parsed"
        ));
    }
    if !expects_parse_error {
        for (what, result) in &parses {
            if let Err(error) = result {
                problems.push(format!("{what}: {error}"));
            }
        }
    }
    parses.len()
}

/// Reads a scenario file, checking that each value prints as text that
/// reads back as an equal value and that each is a map.
fn read_scenarios(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let scenarios = factlite_edn::parse_all(&text)
        .unwrap_or_else(|error| panic!("{} is not EDN: {error}", path.display()));
    for scenario in &scenarios {
        let printed = scenario.to_string();
        assert_eq!(
            factlite_edn::parse(&printed).as_ref(),
            Ok(scenario),
            "{}: {printed} does not read back",
            path.display()
        );
        assert!(
            matches!(scenario, Value::Map(_)),
            "{}: every scenario is a map",
            path.display()
        );
    }
    scenarios
}

#[test]
fn every_scenario_reads_round_trips_and_parses() {
    let mut problems = Vec::new();
    let mut parses = 0;
    for path in all_scenario_files() {
        for scenario in read_scenarios(&path).iter().map(resolve_tags) {
            if let Some(schema) = get(&scenario, "schema") {
                parses += 1;
                if let Err(error) = parse_tx_data(schema) {
                    problems.push(format!("{}: schema: {error}", path.display()));
                }
            }
            let steps = get(&scenario, "steps")
                .and_then(Value::as_sequence)
                .unwrap_or_default();
            for step in steps {
                let mut step_problems = Vec::new();
                parses += check_step(step, &mut step_problems);
                problems.extend(
                    step_problems
                        .into_iter()
                        .map(|p| format!("{}: {p}", path.display())),
                );
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The shared corpus alone holds over 200 forms: fewer means files went
    // missing.
    let expected = if shared_conformance_dir().is_some() {
        200
    } else {
        50
    };
    assert!(
        parses > expected,
        "only {parses} forms found; is the corpus complete?"
    );
}
