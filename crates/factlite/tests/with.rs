//! `Store::with`: reads of the database as a transaction would leave it,
//! on a file store with a materialized view and a subscriber — the query a
//! view answers is answered from the speculative state, the view's table,
//! the subscriber and the readers of other threads see nothing of it.

use std::sync::{Arc, Mutex};

use factlite::{Entity, ErrorCategory, QueryResultExt, Store};

const NAMES: &str = "[:find [?n ...] :where [_ :p/name ?n]]";

#[test]
fn a_speculative_read_leaves_views_subscribers_and_readers_untouched() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(dir.path().join("with.db")).expect("store");
    store
        .transact(r#"[{:db/ident :p/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
                      {:p/name "Ann"}]"#)
        .expect("data");
    store.materialize_str("names", NAMES, &[]).expect("view");
    let heard = Arc::new(Mutex::new(0));
    let count = heard.clone();
    store
        .subscribe("names", move |_| *count.lock().expect("count") += 1)
        .expect("subscribed");
    let reader = store.db().expect("a reader's snapshot");

    let inside = store
        .with(Entity::new().set(":p/name", "Bo"), |db, report| {
            assert_eq!(report.tempids.len(), 0);
            let mut names = db.q_str(NAMES, ())?.values::<String>()?;
            names.sort();
            Ok(names)
        })
        .expect("speculates");
    assert_eq!(inside, ["Ann", "Bo"]);

    assert_eq!(
        store
            .view("names")
            .expect("view")
            .values::<String>()
            .expect("names"),
        ["Ann"]
    );
    assert_eq!(*heard.lock().expect("count"), 0, "subscribers hear nothing");
    assert_eq!(
        reader
            .q_str(NAMES, ())
            .expect("reads")
            .values::<String>()
            .expect("names"),
        ["Ann"]
    );
    assert_eq!(
        store
            .db()
            .expect("db")
            .q_str(NAMES, ())
            .expect("reads")
            .values::<String>()
            .expect("names"),
        ["Ann"]
    );

    let refused = store
        .with(r#"[{:p/nothing 1}]"#, |_, _| Ok(()))
        .expect_err("the speculative transaction fails");
    assert_eq!(refused.category(), ErrorCategory::UnknownAttribute);
    store
        .transact(Entity::new().set(":p/name", "Cy"))
        .expect("the store still writes");
    assert_eq!(*heard.lock().expect("count"), 1);
}
