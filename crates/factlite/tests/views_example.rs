//! The views example (`examples/views.rs`) runs and prints what
//! `tests/views_example.out` holds (`UPDATE_SNAPSHOTS=1` rewrites it).

// The example's `main` is its own entry point, not this test's.
#[allow(dead_code)]
#[path = "../examples/views.rs"]
mod views;

#[test]
fn the_views_example_prints_what_it_should() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let mut out = Vec::new();
    views::run(&directory.path().join("shop.db"), &mut out).expect("the example runs");
    let actual = String::from_utf8(out).expect("UTF-8");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/views_example.out");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &actual).expect("write views_example.out");
    }
    let expected = std::fs::read_to_string(path).expect("views_example.out");
    assert_eq!(actual, expected);
}
