//! The service example (`examples/service.rs`) runs with worker threads
//! sharing one file store, and prints what `tests/service_example.out`
//! holds (`UPDATE_SNAPSHOTS=1` rewrites it): every order counted once,
//! the unknown customer's order refused, hostile strings stored as data.
#![cfg(feature = "serde")]

// The example's `main` is its own entry point, not this test's.
#[allow(dead_code)]
#[path = "../examples/service.rs"]
mod service;

#[test]
fn the_service_example_prints_what_it_should_with_one_and_four_workers() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/service_example.out");
    for workers in [1, 4] {
        let directory = tempfile::tempdir().expect("temporary directory");
        let store = factlite::Store::open(directory.path().join("shop.db")).expect("store");
        let mut out = Vec::new();
        service::run(&store, workers, &mut out).expect("the example runs");
        let actual = String::from_utf8(out).expect("UTF-8");
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(path, &actual).expect("write service_example.out");
        }
        let expected = std::fs::read_to_string(path).expect("service_example.out");
        assert_eq!(actual, expected, "with {workers} workers");
    }
}
