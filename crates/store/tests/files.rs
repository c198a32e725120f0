//! How a store treats its file: the durability every connection runs
//! with (writer and siblings alike).

use factlite_edn::parse;
use factlite_query::parse_tx_data;
use factlite_store::{Config, Durability, Store};

const SCHEMA: &str = r#"[{:db/ident :note/text :db/valueType :db.type/string
                          :db/cardinality :db.cardinality/one}]"#;

fn transact(store: &Store, text: &str) {
    let forms = parse_tx_data(&parse(text).expect("tx text parses")).expect("tx data parses");
    store
        .transact(&forms)
        .unwrap_or_else(|e| panic!("{text}: {e}"));
}

/// SQLite's `synchronous` and `journal_mode` on a connection.
fn pragmas(store: &Store) -> (i64, String) {
    let conn = store.connection();
    let synchronous = conn
        .query_row("PRAGMA synchronous", [], |row| row.get(0))
        .expect("synchronous");
    let journal = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .expect("journal_mode");
    (synchronous, journal)
}

#[test]
fn every_connection_runs_the_durability_asked_for_and_full_by_default() {
    assert_eq!(Config::default().durability, Durability::Full);
    // SQLite's numbers for OFF, NORMAL and FULL.
    for (durability, expected) in [
        (Durability::Full, 2),
        (Durability::Normal, 1),
        (Durability::UnsafeNoSync, 0),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            durability,
            ..Config::default()
        };
        let writer = Store::open(dir.path().join("db.factlite"), config).expect("opens");
        transact(&writer, SCHEMA);
        let sibling = writer.open_sibling().expect("sibling").expect("a file store");
        for store in [&writer, &sibling] {
            assert_eq!(pragmas(store), (expected, "wal".to_string()), "{durability}");
        }
    }
}

#[test]
fn durability_names_parse_and_a_wrong_one_lists_the_right_ones() {
    for durability in Durability::ALL {
        assert_eq!(durability.name().parse::<Durability>(), Ok(durability));
    }
    let error = "fast".parse::<Durability>().expect_err("not a durability");
    assert_eq!(
        error.to_string(),
        "\"fast\" is not a durability; choose one of full, normal, unsafe-no-sync"
    );
}

fn wal_size(path: &std::path::Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(&wal).map_or(0, |metadata| metadata.len())
}

#[test]
fn the_wal_grows_while_a_reader_holds_it_and_returns_under_its_limit_after() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.factlite");
    let limit = 256 * 1024;
    let config = Config {
        durability: Durability::Normal,
        wal_limit: limit,
        ..Config::default()
    };
    let writer = Store::open(&path, config).expect("opens");
    transact(&writer, SCHEMA);
    let reader = writer.open_sibling().expect("sibling").expect("a file store");
    let db = reader.db().expect("db");
    let read = db.read_guard().expect("a read transaction");
    let datoms: i64 = reader
        .connection()
        .query_row("SELECT count(*) FROM datoms", [], |row| row.get(0))
        .expect("the read fixes its snapshot");
    for i in 0..2_000 {
        transact(&writer, &format!(r#"[{{:note/text "note {i}"}}]"#));
    }
    let held = wal_size(&path);
    assert!(held > 4 * limit, "the reader holds the WAL's frames: {held} bytes");
    let still: i64 = reader
        .connection()
        .query_row("SELECT count(*) FROM datoms", [], |row| row.get(0))
        .expect("the reader still reads");
    assert_eq!(still, datoms, "the reader's snapshot did not move");
    drop(read);
    transact(&writer, r#"[{:note/text "the first after the read"}]"#);
    let after = wal_size(&path);
    assert!(after <= limit, "{after} bytes after the reader let go ({held} before)");
}
