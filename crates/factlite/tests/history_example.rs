//! The history example (`examples/history/`) runs on a small generated
//! history and prints what `tests/history_example.out` holds
//! (`UPDATE_SNAPSHOTS=1` rewrites it); after the generator's transactions
//! — an import in batches, then one visit per transaction — every view
//! of every consumer equals its query run from scratch.

// The example's `main` is its own entry point, not this test's.
#[allow(dead_code)]
#[path = "../examples/history/main.rs"]
mod history;

use history::model;

/// The views property: each view's table equals its query from scratch.
fn assert_views_hold(store: &factlite::Store) {
    let db = store.db().expect("db");
    for consumer in model::CONSUMERS {
        for view in consumer.views {
            let args = view.args().expect("args");
            let scratch = db
                .q_from_scratch(&view.parsed_query().expect("query"), &args[..])
                .expect("from scratch");
            assert_eq!(
                store.view(view.name).expect("view"),
                scratch,
                "view {}",
                view.name
            );
        }
    }
}

#[test]
fn the_history_example_prints_what_it_should() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/history_example.out");
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = factlite::Store::open(directory.path().join("places.db")).expect("store");
    let mut out = Vec::new();
    history::run(&store, 3_000, &mut out).expect("the example runs");
    let actual = String::from_utf8(out).expect("UTF-8");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &actual).expect("write history_example.out");
    }
    let expected = std::fs::read_to_string(path).expect("history_example.out");
    assert_eq!(actual, expected);
}

#[test]
fn every_view_equals_its_query_after_the_generators_transactions() {
    let store = factlite::Store::open_in_memory().expect("store");
    store
        .ensure_vocabulary(&model::core_vocabulary().expect("vocabulary"))
        .expect("core");
    model::register_functions(&store, model::history_now()).expect("functions");
    for consumer in model::CONSUMERS {
        consumer.install(&store).expect("installs");
    }
    history::generate(&store, 4_000).expect("generates");
    assert_views_hold(&store);
    assert!(store.verify().expect("verifies").is_clean());
}
