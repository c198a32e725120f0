//! Runs the `edn_reader` fuzz property (`fuzz/checks/edn_reader.rs`, the same
//! file the fuzz target includes) over the committed seed corpus and the
//! grammar examples, so an ordinary `cargo test` checks it without a fuzzer,
//! plus the regressions the fuzzer found.

use std::fs;
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/checks/edn_reader.rs"]
mod edn_reader_check;

use edn_reader_check::check_edn_reader;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Only the committed seeds (`seed-*`): files the fuzzer adds to the corpus
/// directory stay local and come and go while it runs.
#[test]
fn seed_corpus_satisfies_the_fuzz_property() {
    let corpus = manifest_dir().join("../../fuzz/corpus/edn_reader");
    let seeds: Vec<PathBuf> = files_under(&corpus)
        .into_iter()
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("seed-"))
        })
        .collect();
    assert!(
        seeds.len() >= 10,
        "expected the seed corpus in {}",
        corpus.display()
    );
    for path in seeds {
        let data = fs::read(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        check_edn_reader(&data);
    }
}

#[test]
fn grammar_examples_satisfy_the_fuzz_property() {
    let files = files_under(&manifest_dir().join("../../grammar/edn"));
    assert!(files.len() >= 10, "expected the grammar examples");
    for path in files {
        let data = fs::read(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        check_edn_reader(&data);
    }
}

#[test]
fn property_holds_on_tricky_inputs() {
    for input in [
        "",
        "\\",
        "\"\\",
        "#",
        "##",
        "#_",
        "-",
        "+",
        "[\\a\\b]",
        "{##NaN 1}",
        "#{-0.0 0.0}",
        "\"\\ud83d\\ude00\"",
        "#a/b #c/d [1]",
        "\\,",
        "\u{a0}1\u{2028}",
    ] {
        check_edn_reader(input.as_bytes());
    }
    check_edn_reader(&[0xff, 0xfe, b'[']);
}
