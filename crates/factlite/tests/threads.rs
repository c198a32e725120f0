//! Handles that cross threads: the compile-time guarantees (`Store: Send +
//! Sync + Clone`, `Db: Send + Sync`, `Error: Error + Send + Sync + 'static`)
//! and the behaviour behind them — readers in parallel with a writer, each
//! snapshot keeping its basis whichever thread reads it, views and plans
//! shared by every thread.

use std::sync::Arc;
use std::thread;

use factlite::{edn, Config, Db, Error, Store, Value};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_clone<T: Clone>() {}
fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}

#[test]
fn handles_are_send_and_sync() {
    assert_send_sync::<Store>();
    assert_clone::<Store>();
    assert_send_sync::<Db>();
    assert_error::<Error>();
    assert_send_sync::<factlite::CancelHandle>();
    assert_send_sync::<factlite::QueryResult>();
}

const SCHEMA: &str = r#"[{:db/ident :account/name :db/valueType :db.type/string
                          :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                         {:db/ident :account/balance :db/valueType :db.type/long
                          :db/cardinality :db.cardinality/one}]"#;

const TOTAL: &str = "[:find (sum ?b) . :with ?a :where [?a :account/balance ?b]]";

/// A file store with `accounts` accounts of 100 each.
fn bank(dir: &tempfile::TempDir, accounts: usize, config: Config) -> Store {
    let store = Store::open_with(dir.path().join("bank.db"), config).expect("opens");
    store.transact_str(SCHEMA).expect("schema");
    let entities: Vec<String> = (0..accounts)
        .map(|i| format!(r#"{{:account/name "a{i}" :account/balance 100}}"#))
        .collect();
    store
        .transact_str(&format!("[{}]", entities.join(" ")))
        .expect("accounts");
    store
}

/// Moves `amount` from one account to another, reading both balances in
/// the transaction with `:db/cas`, retrying when another writer got there
/// first.
fn transfer(store: &Store, from: usize, to: usize, amount: i64) {
    loop {
        let db = store.db().expect("db");
        let balance = |name: String| -> i64 {
            let query =
                "[:find ?b . :in $ ?n :where [?a :account/name ?n] [?a :account/balance ?b]]";
            match db
                .q_str(query, &[Value::String(name)])
                .expect("balance")
                .into_edn()
            {
                Value::Integer(b) => b,
                other => panic!("a balance, not {other}"),
            }
        };
        let (a, b) = (balance(format!("a{from}")), balance(format!("a{to}")));
        let tx = format!(
            r#"[[:db/cas [:account/name "a{from}"] :account/balance {a} {}]
                [:db/cas [:account/name "a{to}"] :account/balance {b} {}]]"#,
            a - amount,
            b + amount
        );
        match store.transact_str(&tx) {
            Ok(_) => return,
            Err(error) if error.category() == factlite::ErrorCategory::CasFailed => continue,
            Err(error) => panic!("transfer failed: {error}"),
        }
    }
}

#[test]
fn readers_on_many_threads_see_a_constant_total_while_writers_transfer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = bank(&dir, 10, Config::default());
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let store = store.clone();
            thread::spawn(move || {
                for i in 0..40 {
                    transfer(&store, (i + w) % 10, (i * 3 + 1 + w) % 10, 7);
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            thread::spawn(move || {
                let mut reads = 0;
                for _ in 0..60 {
                    let total = store.db().expect("db").q_str(TOTAL, &[]).expect("total");
                    assert_eq!(total.into_edn(), Value::Integer(1000));
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer");
    }
    let reads: i32 = readers.into_iter().map(|r| r.join().expect("reader")).sum();
    assert_eq!(reads, 180);
    let total = store.db().expect("db").q_str(TOTAL, &[]).expect("total");
    assert_eq!(total.into_edn(), Value::Integer(1000));
}

#[test]
fn a_snapshot_keeps_its_basis_on_another_thread() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = bank(&dir, 2, Config::default());
    let before = store.db().expect("db");
    store
        .transact_str(r#"[{:account/name "a0" :account/balance 5}]"#)
        .expect("write");
    let snapshot = before.clone();
    let seen = thread::spawn(move || snapshot.q_str(TOTAL, &[]).expect("q").into_edn())
        .join()
        .expect("reader");
    assert_eq!(seen, Value::Integer(200));
    let now = store.db().expect("db").q_str(TOTAL, &[]).expect("q");
    assert_eq!(now.into_edn(), Value::Integer(105));
    // One snapshot read from several threads at once.
    let shared = Arc::new(before);
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let db = shared.clone();
            thread::spawn(move || db.q_str(TOTAL, &[]).expect("q").into_edn())
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().expect("reader"), Value::Integer(200));
    }
}

#[test]
fn views_and_plans_are_shared_by_every_thread() {
    let store = Store::open_in_memory().expect("store");
    store.transact_str(SCHEMA).expect("schema");
    store
        .materialize_str("total", TOTAL, &[])
        .expect("materialize");
    let (sender, changes) = std::sync::mpsc::channel();
    store
        .subscribe("total", move |change| {
            let _ = sender.send(change.added.clone());
        })
        .expect("subscribe");
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let store = store.clone();
            thread::spawn(move || {
                store
                    .transact_str(&format!(
                        r#"[{{:account/name "t{i}" :account/balance 10}}]"#
                    ))
                    .expect("write");
                store
                    .db()
                    .expect("db")
                    .q_str(TOTAL, &[])
                    .expect("q")
                    .into_edn()
            })
        })
        .collect();
    for handle in handles {
        assert!(matches!(handle.join().expect("thread"), Value::Integer(_)));
    }
    assert_eq!(
        store.view("total").expect("view"),
        edn::parse("30").expect("edn")
    );
    assert_eq!(changes.try_iter().count(), 3, "one change per transaction");
    assert!(
        store.views().expect("views")[0].hits >= 3,
        "reads answered by the view"
    );
}

#[test]
fn a_cancel_handle_stops_a_query_on_another_thread() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = bank(&dir, 300, Config::default());
    let cancel = store.cancel_handle();
    let runner = {
        let store = store.clone();
        thread::spawn(move || {
            // A cross product of 300^4 rows: far longer than the test.
            store.db().expect("db").q_str(
                "[:find (count ?a) . :where [?a :account/balance] [?b :account/balance] \
                 [?c :account/balance] [?d :account/balance]]",
                &[],
            )
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !runner.is_finished() && std::time::Instant::now() < deadline {
        thread::sleep(std::time::Duration::from_millis(50));
        cancel.cancel();
    }
    let outcome = runner.join().expect("runner");
    assert!(outcome.is_err(), "the query was stopped");
    // The store stays usable.
    let total = store.db().expect("db").q_str(TOTAL, &[]).expect("q");
    assert_eq!(total.into_edn(), Value::Integer(30000));
    drop(store);
    assert!(!cancel.cancel(), "a closed store has nothing to cancel");
}

/// The memory map a snapshot of a file store reads through (what lets
/// readers skip the page cache SQLite shares behind one lock).
fn mmap_size(store: &Store) -> i64 {
    store.db().expect("db").with_connection(|conn| {
        conn.query_row("PRAGMA mmap_size", [], |row| row.get::<_, i64>(0))
            .expect("mmap_size")
    })
}

#[test]
fn file_snapshots_read_through_the_configured_memory_map() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(dir.path().join("mapped.db")).expect("opens");
    assert_eq!(mmap_size(&store) as u64, Config::default().mmap_size);
    assert!(mmap_size(&store) > 0, "mapped by default on 64-bit targets");
    drop(store);
    let mut config = Config::default();
    config.mmap_size = 0;
    let store = Store::open_with(dir.path().join("mapped.db"), config).expect("opens");
    assert_eq!(mmap_size(&store), 0);
}
