//! The typed example (`examples/typed.rs`) runs, and prints what
//! `tests/typed_example.out` holds (`UPDATE_SNAPSHOTS=1` rewrites it).
#![cfg(feature = "serde")]

// The example's `main` is its own entry point, not this test's.
#[allow(dead_code)]
#[path = "../examples/typed.rs"]
mod typed;

#[test]
fn the_typed_example_prints_what_it_should() {
    let store = factlite::Store::open_in_memory().expect("store");
    let mut out = Vec::new();
    typed::run(&store, &mut out).expect("the example runs");
    let actual = String::from_utf8(out).expect("UTF-8");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/typed_example.out");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &actual).expect("write typed_example.out");
    }
    let expected = std::fs::read_to_string(path).expect("typed_example.out");
    assert_eq!(actual, expected);
}
