//! How a store treats its file: the durability every connection runs
//! with (writer and siblings alike), a WAL that returns under its limit
//! once a long read ends, files that are refused untouched (another
//! program's SQLite database, a newer format) and a store read from a
//! read-only directory.

use factlite_edn::parse;
use factlite_query::parse_tx_data;
use factlite_store::{Config, Durability, Error, Store, FORMAT_VERSION};

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
        let sibling = writer
            .open_sibling()
            .expect("sibling")
            .expect("a file store");
        for store in [&writer, &sibling] {
            assert_eq!(
                pragmas(store),
                (expected, "wal".to_string()),
                "{durability}"
            );
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
    let reader = writer
        .open_sibling()
        .expect("sibling")
        .expect("a file store");
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
    assert!(
        held > 4 * limit,
        "the reader holds the WAL's frames: {held} bytes"
    );
    let still: i64 = reader
        .connection()
        .query_row("SELECT count(*) FROM datoms", [], |row| row.get(0))
        .expect("the reader still reads");
    assert_eq!(still, datoms, "the reader's snapshot did not move");
    drop(read);
    transact(&writer, r#"[{:note/text "the first after the read"}]"#);
    let after = wal_size(&path);
    assert!(
        after <= limit,
        "{after} bytes after the reader let go ({held} before)"
    );
}

/// Each file in the directory of `path` (the file, and whatever SQLite
/// keeps beside it): its name, length and a hash of its bytes.
fn bytes_beside(path: &std::path::Path) -> Vec<(String, usize, u64)> {
    use std::hash::{Hash, Hasher};
    let directory = path.parent().expect("in a directory");
    let mut files: Vec<(String, usize, u64)> = std::fs::read_dir(directory)
        .expect("lists")
        .map(|entry| {
            let entry = entry.expect("entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(entry.path()).expect("reads");
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut hasher);
            (name, bytes.len(), hasher.finish())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_plain_sqlite_file_is_refused_and_stays_byte_identical() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("other.db");
    let conn = rusqlite::Connection::open(&path).expect("raw connection");
    conn.execute_batch("CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('Ada');")
        .expect("another program's table");
    drop(conn);
    let before = bytes_beside(&path);
    for open in [Store::open, Store::open_read_only] {
        let error = open(&path, Config::default()).err().expect("refused");
        assert!(matches!(error, Error::NotFactlite { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("is not a factlite database"), "{message}");
        assert!(message.contains("another program"), "{message}");
        assert_eq!(bytes_beside(&path), before, "nothing written: {message}");
    }
    // not SQLite at all
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "shopping: bread, milk\n".repeat(100)).expect("writes");
    let before = bytes_beside(&text);
    let error = Store::open(&text, Config::default())
        .err()
        .expect("refused");
    assert!(
        error
            .to_string()
            .contains("is not a factlite database: it is not a SQLite database"),
        "{error}"
    );
    assert_eq!(bytes_beside(&text), before);
}

#[test]
fn a_file_of_a_newer_format_is_refused_with_its_version_and_stays_unchanged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("new.factlite");
    transact(
        &Store::open(&path, Config::default()).expect("opens"),
        SCHEMA,
    );
    let conn = rusqlite::Connection::open(&path).expect("raw connection");
    conn.execute_batch("PRAGMA user_version = 99")
        .expect("a future format");
    drop(conn);
    let before = bytes_beside(&path);
    for open in [Store::open, Store::open_read_only] {
        let error = open(&path, Config::default()).err().expect("refused");
        assert!(
            matches!(
                error,
                Error::NewerFormat {
                    format: 99,
                    supported: FORMAT_VERSION,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            error.to_string().contains(&format!(
                "was written by a newer factlite (format 99; this build reads up to {FORMAT_VERSION})"
            )),
            "{error}"
        );
        assert_eq!(bytes_beside(&path), before);
    }
}

/// Sets a file's or directory's permission bits.
fn chmod(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_store_in_a_read_only_directory_opens_read_only_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shelf = dir.path().join("shelf");
    std::fs::create_dir(&shelf).expect("directory");
    let path = shelf.join("notes.factlite");
    let store = Store::open(&path, Config::default()).expect("opens");
    transact(&store, SCHEMA);
    transact(&store, r#"[{:note/text "kept"}]"#);
    drop(store);
    chmod(&path, 0o444);
    chmod(&shelf, 0o555);
    let before = bytes_beside(&path);
    let reader = Store::open_read_only(&path, Config::default());
    let outcome = reader.and_then(|reader| {
        let query = factlite_query::parse_query(
            &parse("[:find [?t ...] :where [_ :note/text ?t]]").expect("parses"),
        )
        .expect("a query");
        let texts = reader.db()?.query(&query, &[])?;
        let write =
            parse_tx_data(&parse(r#"[{:note/text "new"}]"#).expect("parses")).expect("tx data");
        let refused = reader.transact(&write).err();
        let sibling = reader
            .open_sibling()?
            .map(|sibling| sibling.db().map(|db| db.basis_tx()));
        Ok((texts.into_edn(), refused, sibling))
    });
    // whether the directory really refuses writes to this user (root
    // writes anywhere)
    let probe = shelf.join("probe");
    let enforced = std::fs::write(&probe, b"").is_err();
    let _ = std::fs::remove_file(&probe);
    let refused_writer = Store::open(&path, Config::default()).err();
    let after = bytes_beside(&path);
    chmod(&shelf, 0o755);
    chmod(&path, 0o644);
    let (texts, refused, sibling) = outcome.expect("reads read-only");
    assert_eq!(texts, parse(r#"#{"kept"}"#).expect("parses"));
    assert!(matches!(refused, Some(Error::ReadOnly)), "{refused:?}");
    assert!(
        matches!(sibling, Some(Ok(_))),
        "a read-only sibling reads too"
    );
    assert_eq!(after, before, "nothing written to the file or beside it");
    if enforced {
        let error = refused_writer.expect("a writer cannot open it");
        assert!(
            matches!(&error, Error::NotWritable { path, directory: true } if *path == shelf),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains(&format!("the directory {} is read-only", shelf.display())),
            "{error}"
        );
    }
}
