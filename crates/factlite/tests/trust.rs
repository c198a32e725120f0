//! What a host program can rely on: the durability a store runs with on
//! every connection, queries bounded by a timeout and a result limit and
//! stopped by a cancel handle (the store usable after each), and NaN
//! refused.

use factlite::{Config, Db, Durability, Store};

const SCHEMA: &str = r#"[{:db/ident :n/value :db/valueType :db.type/long
                          :db/cardinality :db.cardinality/one}
                         {:db/ident :n/score :db/valueType :db.type/double
                          :db/cardinality :db.cardinality/one}]"#;

/// `synchronous` on the connection a snapshot reads through.
fn synchronous(db: &Db) -> i64 {
    db.with_connection(|conn| conn.query_row("PRAGMA synchronous", [], |row| row.get(0)))
        .expect("synchronous")
}

#[test]
fn every_reader_runs_the_configured_durability() {
    // SQLite's numbers for OFF, NORMAL and FULL.
    for (durability, expected) in [
        (Durability::Full, 2),
        (Durability::Normal, 1),
        (Durability::UnsafeNoSync, 0),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::default();
        config.durability = durability;
        config.readers = 3;
        let store = Store::open_with(dir.path().join("db.factlite"), config).expect("opens");
        store.transact(SCHEMA).expect("schema");
        // Snapshots held at once read through different readers.
        let snapshots: Vec<Db> = (0..3).map(|_| store.db().expect("db")).collect();
        for db in &snapshots {
            assert_eq!(synchronous(db), expected, "{durability}");
        }
    }
    assert_eq!(Config::default().durability, Durability::Full);
}
