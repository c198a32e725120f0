//! Runs the example corpus in `grammar/{query,pull,tx}/{valid,invalid}` at
//! the root of the repository. Every valid example must parse and survive a
//! print → parse round trip unchanged; every invalid example must fail with a
//! message containing the fragment given on its first line,
//! `;; error: <fragment>`. Files in `grammar/query/` whose names start with
//! `rules-` are rule sets (the `%` input) rather than queries.

use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

use factlite_edn::Value;
use factlite_query::{
    parse_pull_pattern, parse_query, parse_rules, parse_tx_data, rules_to_edn, tx_data_to_edn,
    ParseError,
};

/// Which parser an example file is for.
#[derive(Clone, Copy, Debug)]
enum Language {
    Query,
    Rules,
    Pull,
    Tx,
}

fn grammar_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../grammar")
}

fn example_files(language: &str, kind: &str) -> Vec<PathBuf> {
    let dir = grammar_dir().join(language).join(kind);
    let entries =
        fs::read_dir(&dir).unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "edn"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no examples in {}", dir.display());
    files
}

fn language_of(dir: &str, path: &Path) -> Language {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    match dir {
        "query" if name.starts_with("rules-") => Language::Rules,
        "query" => Language::Query,
        "pull" => Language::Pull,
        _ => Language::Tx,
    }
}

/// Parses `form` and prints the AST back as EDN.
fn parse_and_print(language: Language, form: &Value) -> Result<(String, Value), ParseError> {
    fn done<T: Debug>(ast: T, printed: Value) -> (String, Value) {
        (format!("{ast:?}"), printed)
    }
    match language {
        Language::Query => parse_query(form).map(|query| {
            let printed = query.to_edn();
            done(query, printed)
        }),
        Language::Rules => parse_rules(form).map(|rules| {
            let printed = rules_to_edn(&rules);
            done(rules, printed)
        }),
        Language::Pull => parse_pull_pattern(form).map(|pattern| {
            let printed = pattern.to_edn();
            done(pattern, printed)
        }),
        Language::Tx => parse_tx_data(form).map(|forms| {
            let printed = tx_data_to_edn(&forms);
            done(forms, printed)
        }),
    }
}

fn read_form(path: &Path) -> Result<(String, Value), String> {
    let text = fs::read_to_string(path).map_err(|error| format!("cannot read: {error}"))?;
    let form = factlite_edn::parse(&text).map_err(|error| format!("not EDN: {error}"))?;
    Ok((text, form))
}

/// Checks one valid example; `Err` describes what went wrong.
fn check_valid(language: Language, path: &Path) -> Result<(), String> {
    let (_, form) = read_form(path)?;
    let (ast, printed) =
        parse_and_print(language, &form).map_err(|error| format!("does not parse: {error}"))?;
    let reread = factlite_edn::parse(&printed.to_string())
        .map_err(|error| format!("printed form {printed} is not EDN: {error}"))?;
    let (again, _) = parse_and_print(language, &reread)
        .map_err(|error| format!("printed form {printed} does not parse: {error}"))?;
    if ast != again {
        return Err(format!(
            "round trip through {printed} changed the AST:\n  {ast}\n  {again}"
        ));
    }
    Ok(())
}

/// Checks one invalid example; `Err` describes what went wrong.
fn check_invalid(language: Language, path: &Path) -> Result<(), String> {
    let (text, form) = read_form(path)?;
    let first_line = text.lines().next().unwrap_or_default();
    let fragment = first_line
        .strip_prefix(";; error:")
        .map(str::trim)
        .ok_or_else(|| {
            format!("first line must be `;; error: <fragment>`, found {first_line:?}")
        })?;
    match parse_and_print(language, &form) {
        Ok((ast, _)) => Err(format!("parsed, but should fail with {fragment:?}: {ast}")),
        Err(error) if error.message.contains(fragment) => Ok(()),
        Err(error) => Err(format!(
            "fails with {:?}, expected a message containing {fragment:?}",
            error.message
        )),
    }
}

fn run_corpus(kind: &str, check: fn(Language, &Path) -> Result<(), String>) -> usize {
    let mut failures = Vec::new();
    let mut count = 0;
    for dir in ["query", "pull", "tx"] {
        for path in example_files(dir, kind) {
            count += 1;
            if let Err(problem) = check(language_of(dir, &path), &path) {
                failures.push(format!("{}: {problem}", path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} examples failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    count
}

#[test]
fn valid_examples_parse_and_round_trip() {
    run_corpus("valid", check_valid);
}

#[test]
fn invalid_examples_fail_with_their_stated_message() {
    run_corpus("invalid", check_invalid);
}
