//! Fuzz target: the transaction-data parser never panics, and all it accepts prints
//! and parses back to the same forms (the property lives in `fuzz/checks/parsers.rs`,
//! shared with `tests/fuzz_corpus.rs`).

#![no_main]

// The parser targets share one check file; this one uses `Tx`.
#[allow(dead_code)]
#[path = "../checks/parsers.rs"]
mod checks;

use checks::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::check_parser(Parser::Tx, data);
});
