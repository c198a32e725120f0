//! Following a replicated log without a network: records written through
//! `transact_through_log` into a log kept in a vector, applied on other
//! stores with `apply_log_records`; the layout 4 → 5 upgrade.

use std::cell::RefCell;

use factlite_query::{parse_tx_data, TxForm};
use factlite_store::{
    Config, Error, Genesis, LogRecord, RecordBody, Store, WriteHook, FORMAT_VERSION,
};

/// A hook that does nothing, as a store without views runs.
struct NoViews;

impl WriteHook for NoViews {
    fn before_write(
        &mut self,
        _: &Store,
        _: &factlite_store::TxReport,
    ) -> factlite_store::Result<()> {
        Ok(())
    }

    fn after_write(
        &mut self,
        _: &factlite_store::Db,
        _: &factlite_store::TxReport,
    ) -> factlite_store::Result<()> {
        Ok(())
    }
}

fn forms(text: &str) -> Vec<TxForm> {
    parse_tx_data(&factlite_edn::parse(text).expect("EDN")).expect("tx data")
}

/// An in-memory log: positions are indexes + 1, appends compare the
/// expected last position as JetStream's `Nats-Expected-Last-Sequence`.
#[derive(Default)]
struct Log {
    records: RefCell<Vec<Vec<u8>>>,
}

impl Log {
    fn append(&self, bytes: Vec<u8>, expected_last: u64) -> Result<u64, String> {
        let mut records = self.records.borrow_mut();
        if records.len() as u64 != expected_last {
            return Err(format!(
                "wrong last sequence: {} (expected {expected_last})",
                records.len()
            ));
        }
        records.push(bytes);
        Ok(records.len() as u64)
    }

    fn entries(&self, from: usize) -> Vec<(u64, LogRecord)> {
        self.records.borrow()[from..]
            .iter()
            .enumerate()
            .map(|(i, bytes)| {
                (
                    (from + i + 1) as u64,
                    LogRecord::decode(bytes).expect("a record the log holds reads back"),
                )
            })
            .collect()
    }

    /// Starts the log from `store`: its genesis record, applied there.
    fn start(&self, store: &Store) {
        let genesis = LogRecord {
            id: [7; 16],
            basis: 0,
            body: RecordBody::Genesis(Genesis {
                layout: FORMAT_VERSION,
                store_id: [42; 16],
                bootstrap_instant: 1_000,
            }),
        };
        self.append(genesis.encode(), 0).expect("empty log");
        store
            .apply_log_records(self.entries(0), &mut NoViews)
            .expect("genesis applies on a new store");
    }

    fn write(
        &self,
        store: &Store,
        text: &str,
        id: u8,
    ) -> factlite_store::Result<factlite_store::TxReport> {
        store.transact_through_log(forms(text), &mut NoViews, [id; 16], &mut |outgoing| {
            self.append(outgoing.bytes.to_vec(), outgoing.expected_last)
        })
    }
}

/// Every table of a store, as text, for comparing two stores row by row.
fn tables(store: &Store) -> String {
    let conn = store.connection();
    let mut out = String::new();
    for query in [
        "SELECT e, a, quote(v), t, tx, avet FROM datoms ORDER BY e, a, v",
        "SELECT tx, seq, e, a, quote(v), t, added FROM log ORDER BY tx, seq",
        "SELECT part, next_id FROM partitions ORDER BY part",
        "SELECT a, datoms FROM attribute_stats ORDER BY a",
        "SELECT e, a, v FROM fulltext ORDER BY e, a, v",
        "SELECT id, hex(store_id), position FROM replication",
    ] {
        let mut statement = conn.prepare(query).expect("query");
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                let fields: Vec<String> = (0..columns)
                    .map(|i| match row.get_ref(i).expect("field") {
                        rusqlite::types::ValueRef::Null => "NULL".to_string(),
                        rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                        rusqlite::types::ValueRef::Real(x) => x.to_string(),
                        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                        rusqlite::types::ValueRef::Blob(b) => format!("{b:?}"),
                    })
                    .collect();
                Ok(fields.join(" "))
            })
            .expect("rows");
        for row in rows {
            out.push_str(&row.expect("row"));
            out.push('\n');
        }
        out.push_str("--\n");
    }
    out
}

const SCHEMA: &str = r#"[{:db/ident :person/name :db/valueType :db.type/string
  :db/cardinality :db.cardinality/one :db/unique :db.unique/identity :db/fulltext true}
 {:db/ident :person/score :db/valueType :db.type/double :db/cardinality :db.cardinality/one}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 {:db/ident :person/wealth :db/valueType :db.type/bigint :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/debts :db/valueType :db.type/bigdec :db/cardinality :db.cardinality/many}]"#;

#[test]
fn a_follower_applying_the_log_has_every_table_of_the_writer() {
    let log = Log::default();
    let writer = Store::open_in_memory().expect("writer");
    let follower = Store::open_in_memory().expect("follower");
    log.start(&writer);
    log.write(&writer, SCHEMA, 1).expect("schema");
    log.write(
        &writer,
        r#"[{:db/id "ann" :person/name "Ann" :person/score -0.0 :person/friend "bob"
             :person/wealth 123456789012345678901234567890N :person/debts [0.1M -2.50M]}
            {:db/id "bob" :person/name "Bob" :person/score 2.5 :person/wealth -9223372036854775809N}]"#,
        2,
    )
    .expect("people");
    log.write(
        &writer,
        r#"[[:db/retract [:person/name "Bob"] :person/score 2.5]
            [:db/retract [:person/name "Ann"] :person/debts 0.1M]
            [:db/add [:person/name "Ann"] :person/name "Anna"]]"#,
        3,
    )
    .expect("changes");
    let applied = follower
        .apply_log_records(log.entries(0), &mut NoViews)
        .expect("the follower applies every record");
    assert_eq!(applied.len(), 3, "three transactions after the genesis");
    assert_eq!(tables(&follower), tables(&writer));
    assert_eq!(
        follower
            .replication_state()
            .expect("state")
            .map(|s| s.position),
        Some(4)
    );
}

/// An excision travels as the datoms of its record (and the current
/// datoms it removes, as retractions): a follower applying it forgets the
/// same datoms, in its log and its full-text index too.
#[test]
fn a_follower_applying_an_excision_forgets_what_the_writer_forgot() {
    let log = Log::default();
    let writer = Store::open_in_memory().expect("writer");
    let follower = Store::open_in_memory().expect("follower");
    log.start(&writer);
    log.write(&writer, SCHEMA, 1).expect("schema");
    log.write(
        &writer,
        r#"[{:db/id "ann" :person/name "Ann" :person/score 1.5 :person/friend "bob"}
            {:db/id "bob" :person/name "Bob" :person/score 2.5}]"#,
        2,
    )
    .expect("people");
    log.write(&writer, r#"[{:person/name "Ann" :person/score 3.5}]"#, 3)
        .expect("a new score");
    log.write(&writer, r#"[{:db/excise [:person/name "Ann"]}]"#, 4)
        .expect("the excision");
    follower
        .apply_log_records(log.entries(0), &mut NoViews)
        .expect("the follower applies every record");
    assert_eq!(tables(&follower), tables(&writer));
    let conn = follower.connection();
    let ann_left: i64 = conn
        .query_row(
            "SELECT (SELECT count(*) FROM log WHERE v = 'Ann' OR v IN (1.5, 3.5))
                  + (SELECT count(*) FROM datoms WHERE v = 'Ann')
                  + (SELECT count(*) FROM fulltext WHERE fulltext MATCH 'Ann')",
            [],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(ann_left, 0, "nothing of Ann is left on the follower");
    drop(conn);
    assert_eq!(follower.verify().expect("verifies"), Vec::new());
}

#[test]
fn a_record_at_or_below_the_position_is_skipped() {
    let log = Log::default();
    let writer = Store::open_in_memory().expect("writer");
    let follower = Store::open_in_memory().expect("follower");
    log.start(&writer);
    log.write(&writer, SCHEMA, 1).expect("schema");
    log.write(&writer, r#"[{:person/name "Ann"}]"#, 2)
        .expect("ann");
    follower
        .apply_log_records(log.entries(0), &mut NoViews)
        .expect("first delivery");
    let before = tables(&follower);
    // The same records again (a redelivery), then once more with one new.
    let again = follower
        .apply_log_records(log.entries(0), &mut NoViews)
        .expect("a redelivery is no error");
    assert!(again.is_empty(), "nothing applied twice");
    assert_eq!(tables(&follower), before);
    log.write(&writer, r#"[{:person/name "Bob"}]"#, 3)
        .expect("bob");
    let overlapping = follower
        .apply_log_records(log.entries(1), &mut NoViews)
        .expect("an overlapping batch");
    assert_eq!(overlapping.len(), 1, "only the new record");
    assert_eq!(tables(&follower), tables(&writer));
}

#[test]
fn a_record_resolved_against_another_basis_halts_the_follower() {
    let log = Log::default();
    let writer = Store::open_in_memory().expect("writer");
    let follower = Store::open_in_memory().expect("follower");
    log.start(&writer);
    log.write(&writer, SCHEMA, 1).expect("schema");
    follower
        .apply_log_records(log.entries(0), &mut NoViews)
        .expect("caught up");
    // A record that claims a basis the follower never had.
    let mut record = log.entries(1).remove(0).1;
    record.basis += 100;
    let error = follower
        .apply_log_records(vec![(3, record)], &mut NoViews)
        .expect_err("a divergence");
    assert!(matches!(error, Error::Divergence(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("was resolved against transaction"),
        "{error}"
    );
    assert_eq!(
        follower
            .replication_state()
            .expect("state")
            .map(|s| s.position),
        Some(2),
        "the position did not move"
    );
}

#[test]
fn a_refused_publish_commits_nothing_and_restores_the_schema() {
    let log = Log::default();
    let writer = Store::open_in_memory().expect("writer");
    log.start(&writer);
    let before = tables(&writer);
    let error = writer
        .transact_through_log(forms(SCHEMA), &mut NoViews, [1; 16], &mut |_| {
            Err("wrong last sequence".to_string())
        })
        .expect_err("refused");
    assert!(matches!(&error, Error::Unpublished(reason) if reason == "wrong last sequence"));
    assert_eq!(tables(&writer), before, "nothing committed");
    assert!(
        writer
            .schema()
            .expect("schema")
            .attribute_named(&factlite_edn::Keyword::namespaced("person", "name"))
            .is_none(),
        "the attribute the rolled-back transaction defined is not cached"
    );
}

#[test]
fn a_genesis_is_refused_by_a_store_with_transactions_of_its_own() {
    let log = Log::default();
    let origin = Store::open_in_memory().expect("origin");
    log.start(&origin);
    let local = Store::open_in_memory().expect("local");
    local.transact(forms(SCHEMA)).expect("a local transaction");
    let error = local
        .apply_log_records(log.entries(0), &mut NoViews)
        .expect_err("refused");
    assert!(
        error.to_string().contains("has transactions of its own"),
        "{error}"
    );
    assert_eq!(local.replication_state().expect("state"), None);
}

#[test]
fn the_genesis_gives_every_node_the_same_bootstrap_instant() {
    let log = Log::default();
    let first = Store::open_in_memory().expect("first");
    log.start(&first);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let second = Store::open_in_memory().expect("second");
    assert_ne!(
        second.bootstrap_instant().expect("instant"),
        1_000,
        "a new store bootstraps at its own instant"
    );
    second
        .apply_log_records(log.entries(0), &mut NoViews)
        .expect("genesis");
    assert_eq!(second.bootstrap_instant().expect("instant"), 1_000);
    assert_eq!(tables(&second), tables(&first));
}

#[test]
fn a_transaction_written_without_a_genesis_is_refused() {
    let store = Store::open_in_memory().expect("store");
    let error = store
        .transact_through_log(forms(SCHEMA), &mut NoViews, [1; 16], &mut |_| Ok(1))
        .expect_err("no log followed");
    assert!(error.to_string().contains("no genesis applied"), "{error}");
}

#[test]
fn a_layout_4_file_gains_the_replication_table_and_no_transaction_for_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("four.db");
    let latest = {
        let store = Store::open(&path, Config::default()).expect("new store");
        store.transact(forms(SCHEMA)).expect("schema");
        let latest = store.latest_tx().expect("latest");
        let conn = store.connection();
        conn.execute_batch(include_str!("data/layout-5.sql"))
            .expect("made a layout 5 file");
        conn.execute_batch("DROP TABLE replication; PRAGMA user_version = 4;")
            .expect("made a layout 4 file");
        latest
    };
    // The ids 40 and 41 the bootstrap gave `:db.type/bigint` and
    // `:db.type/bigdec` are taken out too, so layout 6's step can add them.
    let conn = rusqlite::Connection::open(&path).expect("raw connection");
    conn.execute_batch(
        "DELETE FROM datoms WHERE e IN (40, 41); DELETE FROM log WHERE e IN (40, 41);
         UPDATE attribute_stats SET datoms = datoms - 2 WHERE a = 1;",
    )
    .expect("without layout 6's idents");
    drop(conn);
    let store = Store::open(&path, Config::default()).expect("upgrades");
    assert_eq!(
        store.latest_tx().expect("latest"),
        latest + 2,
        "no transaction written for the replication table; one each for layout 6's idents and layout 7's attributes"
    );
    let conn = store.connection();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("version");
    assert_eq!(version, FORMAT_VERSION);
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM replication", [], |row| row.get(0))
        .expect("the table exists");
    assert_eq!(rows, 0, "a local store follows no log");
}

#[test]
fn a_store_that_follows_a_log_refuses_writes_of_its_own() {
    let log = Log::default();
    let store = Store::open_in_memory().expect("store");
    log.start(&store);
    let before = tables(&store);
    let error = store.transact(forms(SCHEMA)).expect_err("refused");
    assert!(matches!(error, Error::Unpublished(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("write through the replicated node"),
        "{error}"
    );
    let error = store.reserve_entity_ids(3).expect_err("refused too");
    assert!(matches!(error, Error::Unpublished(_)), "{error:?}");
    assert_eq!(tables(&store), before);
    log.write(&store, SCHEMA, 1)
        .expect("through the log it goes");
}

/// A hook that fails when it meets a given transaction, as a follower
/// stopped between applying a record and committing would leave it.
struct FailAt(factlite_core::Entid);

impl WriteHook for FailAt {
    fn before_write(
        &mut self,
        _: &Store,
        _: &factlite_store::TxReport,
    ) -> factlite_store::Result<()> {
        Ok(())
    }

    fn after_write(
        &mut self,
        _: &factlite_store::Db,
        report: &factlite_store::TxReport,
    ) -> factlite_store::Result<()> {
        if report.tx == self.0 {
            return Err(Error::Constraint("stopped before the commit".into()));
        }
        Ok(())
    }
}

#[test]
fn a_batch_stopped_before_its_commit_leaves_nothing_and_applies_whole_later() {
    let log = Log::default();
    let writer = Store::open_in_memory().expect("writer");
    let follower = Store::open_in_memory().expect("follower");
    log.start(&writer);
    log.write(&writer, SCHEMA, 1).expect("schema");
    follower
        .apply_log_records(log.entries(0), &mut NoViews)
        .expect("caught up");
    let before = tables(&follower);
    let mut last = 0;
    for (i, name) in ["Ann", "Bob", "Cy"].iter().enumerate() {
        last = log
            .write(
                &writer,
                &format!(r#"[{{:person/name "{name}"}}]"#),
                10 + i as u8,
            )
            .expect("person")
            .tx;
    }
    let error = follower
        .apply_log_records(log.entries(2), &mut FailAt(last))
        .expect_err("stopped at the last record");
    assert!(
        error.to_string().contains("stopped before the commit"),
        "{error}"
    );
    assert_eq!(
        tables(&follower),
        before,
        "no record of the batch stayed, nor the position"
    );
    assert_eq!(
        follower.latest_tx().expect("latest"),
        writer.latest_tx().expect("w") - 3
    );
    let applied = follower
        .apply_log_records(log.entries(0), &mut NoViews)
        .expect("applied again from the stored position");
    assert_eq!(applied.len(), 3);
    assert_eq!(tables(&follower), tables(&writer));
}
