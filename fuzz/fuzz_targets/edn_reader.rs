//! Fuzz target: the EDN reader never panics, and whatever it accepts prints
//! and reads back as an equal value (the property lives in
//! `fuzz/checks/edn_reader.rs`, shared with `crates/edn/tests/fuzz_corpus.rs`).

#![no_main]

#[path = "../checks/edn_reader.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_edn_reader(data));
