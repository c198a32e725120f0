//! The property the `edn_reader` fuzz target checks, in one place: included
//! with `#[path]` by `fuzz/fuzz_targets/edn_reader.rs` and by the ordinary
//! test `crates/edn/tests/fuzz_corpus.rs`, which runs it over the seed corpus.
//!
//! For any input: reading never panics, and every value read prints as text
//! that reads back as an equal value and prints identically again.

use factlite_edn::{parse, parse_all, Value};

/// Panics (which the fuzzer reports) when the property fails for `data`.
pub fn check_edn_reader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let single = parse(text);
    let all = parse_all(text);
    if let Ok(value) = &single {
        check_round_trip(value);
        // One value is also a valid sequence of values.
        assert_eq!(
            all.as_ref().ok(),
            Some(&vec![value.clone()]),
            "parse accepted {text:?}, parse_all did not agree"
        );
    }
    if let Ok(values) = &all {
        for value in values {
            check_round_trip(value);
        }
        let printed: Vec<String> = values.iter().map(Value::to_string).collect();
        let reread = parse_all(&printed.join("\n"));
        assert_eq!(
            reread.as_ref(),
            Ok(values),
            "printed sequence {printed:?} did not read back"
        );
    }
}

fn check_round_trip(value: &Value) {
    let printed = value.to_string();
    match parse(&printed) {
        Ok(reread) => {
            assert_eq!(&reread, value, "{printed:?} read back as a different value");
            assert_eq!(
                reread.to_string(),
                printed,
                "printing is not stable for {printed:?}"
            );
        }
        Err(error) => panic!("printed value {printed:?} does not read back: {error}"),
    }
}
