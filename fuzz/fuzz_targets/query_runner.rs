//! Fuzz target: arbitrary queries with inputs, run against a small store on
//! the present, as of the past and on the history, never panic, fail only
//! with errors a user's query may cause, and return results of the find
//! spec's shape (the property lives in `fuzz/checks/queries.rs`, shared with
//! `tests/fuzz_corpus.rs`).

#![no_main]

#[path = "../checks/queries.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_query_runner(data));
