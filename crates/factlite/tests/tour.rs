//! The tour example (`examples/tour.rs`) runs, and prints what
//! `tests/tour.out` holds (`UPDATE_SNAPSHOTS=1` rewrites it).

// The example's `main` is its own entry point, not this test's.
#[allow(dead_code)]
#[path = "../examples/tour.rs"]
mod tour;

#[test]
fn the_tour_prints_what_it_should() {
    let store = factlite::Store::open_in_memory().expect("store");
    let mut out = Vec::new();
    tour::run(&store, &mut out).expect("the tour runs");
    let actual = String::from_utf8(out).expect("UTF-8");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tour.out");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &actual).expect("write tour.out");
    }
    let expected = std::fs::read_to_string(path).expect("tour.out");
    assert_eq!(actual, expected);
}
