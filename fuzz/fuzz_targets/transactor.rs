//! Fuzz target: arbitrary transaction data against a small schema never
//! panics, is all or nothing, and leaves the store's invariants intact after
//! every call (the property lives in `fuzz/checks/transactor.rs`, shared
//! with `tests/fuzz_corpus.rs`).

#![no_main]

#[path = "../checks/transactor.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_transactor(data));
