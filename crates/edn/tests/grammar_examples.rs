//! Runs the example files of `grammar/edn` through the reader (the
//! scenario files are read by `tests/conformance_parse.rs`).
//!
//! - `grammar/edn/valid/*.edn` must read (with `parse_all`) and every value
//!   must print as text that reads back as an equal value;
//! - `grammar/edn/invalid/*.edn` each open with `;; error: LINE:COLUMN FRAGMENT`
//!   and must fail at exactly that position with FRAGMENT in the message.

use std::fs;
use std::path::{Path, PathBuf};

use factlite_edn::{parse, parse_all, Value};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `*.edn` files of `dir`, sorted; panics if there are none.
fn edn_files(dir: &Path) -> Vec<PathBuf> {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "edn"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .edn files in {}", dir.display());
    files
}

fn read(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// Reads every value of `path` and checks each round-trips through the printer.
fn check_valid(path: &Path) -> Vec<Value> {
    let text = read(path);
    let values = parse_all(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    for value in &values {
        let printed = value.to_string();
        assert_eq!(
            parse(&printed).as_ref(),
            Ok(value),
            "{}: {printed} does not read back",
            path.display()
        );
    }
    values
}

#[test]
fn valid_examples_read_and_round_trip() {
    let files = edn_files(&manifest_dir().join("../../grammar/edn/valid"));
    for path in &files {
        let values = check_valid(path);
        assert!(!values.is_empty(), "{} holds no values", path.display());
    }
}

#[test]
fn invalid_examples_fail_where_stated() {
    let files = edn_files(&manifest_dir().join("../../grammar/edn/invalid"));
    for path in &files {
        let text = read(path);
        let first_line = text.lines().next().unwrap_or_default();
        let Some(spec) = first_line.strip_prefix(";; error: ") else {
            panic!(
                "{}: first line must be `;; error: LINE:COLUMN FRAGMENT`",
                path.display()
            );
        };
        let (position, fragment) = spec.split_once(' ').unwrap_or((spec, ""));
        let expected_position = position.to_string();
        match parse_all(&text) {
            Ok(values) => panic!(
                "{}: read {} values, expected an error",
                path.display(),
                values.len()
            ),
            Err(error) => {
                assert_eq!(
                    format!("{}:{}", error.line, error.column),
                    expected_position,
                    "{}: wrong position for: {error}",
                    path.display()
                );
                assert!(
                    error.message.contains(fragment),
                    "{}: message {:?} does not contain {fragment:?}",
                    path.display(),
                    error.message
                );
            }
        }
    }
}
