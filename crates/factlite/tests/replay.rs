//! `Store::replay`, `Store::reserve_entity_ids` and `Store::backup_to`: a
//! transaction placed at the id and instant a dump recorded (and refused
//! where it cannot go), ids kept for later, and a copy of the whole file.

use factlite::{edn, ErrorCategory, Instant, Replay, Store, Value};

const SCHEMA: &str =
    "[{:db/ident :p/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]";

#[test]
fn a_replayed_transaction_keeps_its_id_instant_and_entity_ids() {
    let store = Store::open_in_memory().expect("store");
    let tx = 1_099_511_627_790;
    let instant = 86_400_000;
    let data = edn::parse(
        "[{:db/id 100 :db/ident :p/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
          [:db/add 2199023255600 :p/name \"Ann\"]]",
    )
    .expect("EDN");
    let report = store
        .replay(
            &data,
            Replay {
                tx: Some(tx),
                instant: Some(instant),
            },
        )
        .expect("replayed");
    assert_eq!((report.tx, report.instant.0), (tx, instant));
    // The partitions moved past the ids named: new ones come after them.
    let next = store
        .transact_str("[{:db/id \"b\" :p/name \"Bob\"}]")
        .expect("a transaction after it");
    assert_eq!(next.tx, tx + 1);
    assert_eq!(next.tempids["b"], 2_199_023_255_601);
    assert!(next.instant.0 >= instant);
}

#[test]
fn a_replay_is_refused_where_it_cannot_go() {
    let store = Store::open_in_memory().expect("store");
    store.transact_str(SCHEMA).expect("schema");
    let report = store.transact_str("[{:p/name \"Ann\"}]").expect("tx");
    let data = edn::parse("[[:db/add 2199023255552 :p/name \"Anne\"]]").expect("EDN");
    let taken = store
        .replay(
            &data,
            Replay {
                tx: Some(report.tx),
                instant: None,
            },
        )
        .expect_err("a taken transaction id");
    assert_eq!(taken.category(), ErrorCategory::Storage);
    assert!(
        taken.to_string().contains("cannot be replayed here"),
        "{taken}"
    );
    let backwards = store
        .replay(
            &data,
            Replay {
                tx: None,
                instant: Some(0),
            },
        )
        .expect_err("an instant before the newest");
    assert!(
        backwards.to_string().contains(&format!(
            "the instant {}, before the newest transaction's",
            Instant(0)
        )),
        "{backwards}"
    );
}

#[test]
fn reserved_ids_are_not_allocated_again_and_may_be_named() {
    let store = Store::open_in_memory().expect("store");
    store.transact_str(SCHEMA).expect("schema");
    let reserved = store.reserve_entity_ids(3).expect("reserved");
    assert_eq!(reserved.clone().count(), 3);
    let report = store
        .transact_str("[{:db/id \"x\" :p/name \"X\"}]")
        .expect("tx");
    assert_eq!(report.tempids["x"], reserved.end);
    let named = Value::Vector(vec![edn::parse(&format!(
        "[:db/add {} :p/name \"Reserved\"]",
        reserved.start
    ))
    .expect("EDN")]);
    store.transact(&named).expect("a reserved id may be named");
}

#[test]
fn a_backup_is_the_whole_database() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path().join("a.db")).expect("store");
    store.transact_str(SCHEMA).expect("schema");
    store.transact_str("[{:p/name \"Ann\"}]").expect("tx");
    store
        .materialize_str("names", "[:find ?n :where [_ :p/name ?n]]", &[])
        .expect("view");
    let copy_path = dir.path().join("copy.db");
    store.backup_to(&copy_path).expect("backed up");
    let copy = Store::open(&copy_path).expect("the copy opens");
    let query = "[:find ?n :where [_ :p/name ?n]]";
    assert_eq!(
        copy.db()
            .expect("db")
            .q_str(query, &[])
            .expect("q")
            .into_edn(),
        store
            .db()
            .expect("db")
            .q_str(query, &[])
            .expect("q")
            .into_edn()
    );
    assert_eq!(
        copy.view("names").expect("the view came along").into_edn(),
        edn::parse("#{[\"Ann\"]}").expect("EDN")
    );
}
