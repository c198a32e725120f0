//! Fuzz target: the query and rule parsers never panic, and every query and rule set they
//! accept prints and parses back to the same AST (the property lives in `fuzz/checks/parsers.rs`,
//! shared with `tests/fuzz_corpus.rs`).

#![no_main]

// The parser targets share one check file; this one uses `Query` and `Rules`.
#[allow(dead_code)]
#[path = "../checks/parsers.rs"]
mod checks;

use checks::Parser;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::check_parser(Parser::Query, data);
    checks::check_parser(Parser::Rules, data);
});
