//! Reading a store: index ranges (`Db::datoms`) and the SQLite indexes
//! they use, reads of the past (as-of, since, history) and what they
//! cost, `:db/noHistory` attributes, snapshots that later writes must not
//! change (in one process and across connections), and the upgrade of a
//! file of the first layout.

use std::time::Duration;

use factlite_core::{bootstrap, Datom, Entid, TypedValue};
use factlite_edn::{parse, Value};
use factlite_query::{parse_pull_pattern, parse_query, parse_tx_data};
use factlite_store::{Config, Db, Error, IndexName, Store, TxReport, FORMAT_VERSION};

const SCHEMA: &str = r#"[
 {:db/ident :item/sku :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :item/price :db/valueType :db.type/long :db/cardinality :db.cardinality/one
  :db/index true}
 {:db/ident :item/note :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :item/parts :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 {:db/ident :item/views :db/valueType :db.type/long :db/cardinality :db.cardinality/one
  :db/noHistory true}
 {:db/ident :item/tags :db/valueType :db.type/string :db/cardinality :db.cardinality/many
  :db/noHistory true}]"#;

fn transact(store: &Store, text: &str) -> TxReport {
    let forms = parse_tx_data(&parse(text).expect("tx text parses")).expect("tx data parses");
    store
        .transact(&forms)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn attribute(store: &Store, ident: &str) -> Entid {
    let Value::Keyword(keyword) = &parse(ident).expect("ident parses") else {
        panic!("{ident} is not a keyword")
    };
    store
        .schema()
        .expect("schema")
        .entid(keyword)
        .unwrap_or_else(|| panic!("{ident} is defined"))
}

fn collect(db: &Db, index: IndexName, prefix: &[TypedValue]) -> Vec<Datom> {
    let mut range = db.datoms(index, prefix).expect("range prepares");
    let datoms = range
        .iter()
        .expect("range runs")
        .collect::<Result<Vec<_>, _>>()
        .expect("datoms decode");
    datoms
}

/// `e a v added` per datom, the attribute by ident, without tx instants.
fn lines(store: &Store, datoms: &[Datom]) -> Vec<String> {
    let schema = store.schema().expect("schema");
    datoms
        .iter()
        .filter(|d| d.a != bootstrap::DB_TX_INSTANT)
        .map(|d| {
            let a = schema.ident(d.a).map(|k| k.to_string()).unwrap_or_default();
            format!("{} {a} {} {}", d.e, d.v, d.added)
        })
        .collect()
}

fn query(db: &Db, text: &str) -> String {
    let query = parse_query(&parse(text).expect("query text parses")).expect("query parses");
    db.query(&query, &[]).expect("query runs").to_string()
}

fn pull(db: &Db, pattern: &str, e: Entid) -> String {
    let pattern = parse_pull_pattern(&parse(pattern).expect("pattern parses")).expect("pattern");
    db.pull(&pattern, &Value::Integer(e))
        .expect("pull runs")
        .to_string()
}

/// A store with two items: `a` (price 10, part `b`) then `b`'s price
/// raised; returns the store, the two entities and the two transactions.
fn items() -> (Store, Entid, Entid, Entid, Entid) {
    let store = Store::open_in_memory().expect("store");
    transact(&store, SCHEMA);
    let first = transact(
        &store,
        r#"[{:db/id "a" :item/sku "A" :item/price 10 :item/parts "b"}
            {:db/id "b" :item/sku "B" :item/price 5 :item/note "small"}]"#,
    );
    let second = transact(&store, r#"[{:item/sku "B" :item/price 6}]"#);
    (
        store,
        first.tempids["a"],
        first.tempids["b"],
        first.tx,
        second.tx,
    )
}

// ---- index ranges -----------------------------------------------------------

#[test]
fn ranges_follow_each_index_order_and_prefix() {
    let (store, a, b, _, _) = items();
    let db = store.db().expect("db");
    let price = attribute(&store, ":item/price");
    let parts = attribute(&store, ":item/parts");
    let sku = attribute(&store, ":item/sku");
    let note = attribute(&store, ":item/note");
    assert_eq!(
        lines(
            &store,
            &collect(&db, IndexName::Eavt, &[TypedValue::Ref(b)])
        ),
        [
            format!(r#"{b} :item/sku "B" true"#),
            format!("{b} :item/price 6 true"),
            format!(r#"{b} :item/note "small" true"#),
        ]
    );
    assert_eq!(
        lines(
            &store,
            &collect(&db, IndexName::Aevt, &[TypedValue::Ref(price)])
        ),
        [
            format!("{a} :item/price 10 true"),
            format!("{b} :item/price 6 true")
        ]
    );
    // AVET: by value, and only for indexed and unique attributes
    assert_eq!(
        lines(
            &store,
            &collect(&db, IndexName::Avet, &[TypedValue::Ref(price)])
        ),
        [
            format!("{b} :item/price 6 true"),
            format!("{a} :item/price 10 true")
        ]
    );
    assert_eq!(
        lines(
            &store,
            &collect(
                &db,
                IndexName::Avet,
                &[TypedValue::Ref(sku), TypedValue::String("A".into())]
            )
        ),
        [format!(r#"{a} :item/sku "A" true"#)]
    );
    assert!(collect(&db, IndexName::Avet, &[TypedValue::Ref(note)]).is_empty());
    // VAET: refs only
    assert_eq!(
        lines(
            &store,
            &collect(&db, IndexName::Vaet, &[TypedValue::Ref(b)])
        ),
        [format!("{a} :item/parts {b} true")]
    );
    assert_eq!(
        collect(&db, IndexName::Vaet, &[]).len(),
        collect(&db, IndexName::Aevt, &[])
            .iter()
            .filter(|d| matches!(d.v, TypedValue::Ref(_)) && d.a != parts)
            .count()
            + 1,
        "every ref datom, the bootstrap's enum refs included"
    );
}

#[test]
fn a_range_streams_and_can_stop_early() {
    let store = Store::open_in_memory().expect("store");
    transact(&store, SCHEMA);
    let items: Vec<String> = (0..500)
        .map(|i| format!(r#"{{:item/sku "s{i}" :item/price {i}}}"#))
        .collect();
    transact(&store, &format!("[{}]", items.join(" ")));
    let db = store.db().expect("db");
    let price = attribute(&store, ":item/price");
    let mut range = db
        .datoms(IndexName::Avet, &[TypedValue::Ref(price)])
        .expect("range");
    let first: Vec<TypedValue> = range
        .iter()
        .expect("runs")
        .take(3)
        .map(|d| d.expect("decodes").v)
        .collect();
    assert_eq!(
        first,
        [0, 1, 2].map(TypedValue::Long),
        "the first three by value"
    );
    // the same range runs again, whole
    assert_eq!(range.iter().expect("runs again").count(), 500);
}

/// A range reads one snapshot for as long as it lives; the store's own
/// writes wait until it is dropped.
#[test]
fn an_open_range_keeps_its_snapshot_and_holds_off_writes_through_its_store() {
    let (store, _, _, _, _) = items();
    let db = store.db().expect("db");
    let price = attribute(&store, ":item/price");
    let mut range = db
        .datoms(IndexName::Aevt, &[TypedValue::Ref(price)])
        .expect("range");
    let forms = parse_tx_data(&parse(r#"[{:item/sku "C" :item/price 1}]"#).expect("parses"))
        .expect("forms");
    let error = store
        .transact(&forms)
        .expect_err("the range holds a read transaction");
    assert!(matches!(error, Error::AlreadyInTransaction), "{error:?}");
    assert_eq!(range.iter().expect("runs").count(), 2);
    drop(range);
    store
        .transact(&forms)
        .expect("writes once the range is gone");
    assert_eq!(
        collect(&db, IndexName::Aevt, &[TypedValue::Ref(price)]).len(),
        2,
        "the old snapshot"
    );
    assert_eq!(
        collect(
            &store.db().expect("db"),
            IndexName::Aevt,
            &[TypedValue::Ref(price)]
        )
        .len(),
        3
    );
}

/// Which SQLite index each kind of read uses, on the current state and on
/// the views of time: `(view, index, prefix length, a line the plan must
/// contain)`. No read of an entity or attribute scans the log or `datoms`.
#[test]
fn ranges_use_the_matching_sqlite_index() {
    let (store, _, b, first_tx, _) = items();
    let price = attribute(&store, ":item/price");
    let current = store.db().expect("db");
    let cases: [(&str, Db, IndexName, Vec<TypedValue>, &str); 10] = [
        (
            "current",
            current.clone(),
            IndexName::Eavt,
            vec![TypedValue::Ref(b)],
            "SEARCH datoms USING PRIMARY KEY (e=?)",
        ),
        (
            "current",
            current.clone(),
            IndexName::Aevt,
            vec![TypedValue::Ref(price)],
            "SEARCH datoms USING INDEX datoms_aevt (a=?)",
        ),
        (
            "current",
            current.clone(),
            IndexName::Avet,
            vec![TypedValue::Ref(price), TypedValue::Long(6)],
            "SEARCH datoms USING INDEX datoms_avet (a=? AND v=?)",
        ),
        (
            "current",
            current.clone(),
            IndexName::Avet,
            vec![TypedValue::Ref(price)],
            "SEARCH datoms USING INDEX datoms_avet (a=?)",
        ),
        (
            "current",
            current.clone(),
            IndexName::Vaet,
            vec![TypedValue::Ref(b)],
            "SEARCH datoms USING INDEX datoms_vaet (v=?)",
        ),
        (
            "since",
            current.since(first_tx),
            IndexName::Avet,
            vec![TypedValue::Ref(price)],
            "SEARCH datoms USING INDEX datoms_avet (a=?)",
        ),
        (
            "as-of",
            current.as_of(first_tx),
            IndexName::Eavt,
            vec![TypedValue::Ref(b)],
            "SEARCH l USING INDEX log_aevt (a=? AND e=?)",
        ),
        (
            "as-of",
            current.as_of(first_tx),
            IndexName::Aevt,
            vec![TypedValue::Ref(price)],
            "SEARCH l USING INDEX log_aevt (a=?)",
        ),
        (
            "history",
            current.history(),
            IndexName::Eavt,
            vec![TypedValue::Ref(b)],
            "SEARCH log USING INDEX log_aevt (a=? AND e=?)",
        ),
        (
            "history",
            current.history(),
            IndexName::Aevt,
            vec![TypedValue::Ref(price)],
            "SEARCH log USING INDEX log_aevt (a=?)",
        ),
    ];
    for (view, db, index, prefix, expected) in cases {
        let plan = db
            .datoms(index, &prefix)
            .expect("range")
            .query_plan()
            .expect("plan");
        assert!(
            plan.iter().any(|line| line.starts_with(expected)),
            "{view} {index:?} {prefix:?}: expected {expected:?} in {plan:#?}"
        );
        assert!(
            !plan.iter().any(|line| scans_a_table(line)),
            "{view} {index:?} {prefix:?}: scans in {plan:#?}"
        );
    }
}

/// Whether a line of a query plan scans a stored table or index, rather
/// than a constant row or the list of the log's attributes
/// (`LOGGED_ATTRIBUTES`).
fn scans_a_table(line: &str) -> bool {
    line.starts_with("SCAN ")
        && !line.starts_with("SCAN CONSTANT ROW")
        && !line.starts_with("SCAN logged")
}

/// A pull reads each entity with `e = ?` on the snapshot's source SQL: as
/// of a past transaction that must search the log by entity (one seek per
/// attribute), not scan it.
#[test]
fn as_of_entity_reads_and_pulls_search_the_log_by_entity() {
    let (store, _, b, first_tx, _) = items();
    let db = store.db().expect("db").as_of(first_tx);
    let (source, mut params) = db.source_sql().expect("source");
    params.push(rusqlite::types::Value::Integer(b));
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT a, v, t, added FROM ({source}) WHERE e = ?{}",
        params.len()
    );
    let conn = store.connection();
    let mut statement = conn.prepare(&sql).expect("explain prepares");
    let plan: Vec<String> = statement
        .query_map(rusqlite::params_from_iter(params), |row| row.get(3))
        .expect("explain runs")
        .collect::<Result<_, _>>()
        .expect("plan rows");
    assert!(
        plan.iter()
            .any(|line| line.starts_with("SEARCH l USING INDEX log_aevt (a=? AND e=?")),
        "{plan:#?}"
    );
    assert!(!plan.iter().any(|l| scans_a_table(l)), "{plan:#?}");
    assert_eq!(pull(&db, "[:item/price]", b), "{:item/price 5}");
    assert_eq!(
        db.entity(b)
            .expect("entity")
            .iter()
            .map(|(_, v)| v.to_string())
            .collect::<Vec<_>>(),
        [r#""B""#, "5", r#""small""#]
    );
}

// ---- :db/noHistory ----------------------------------------------------------

#[test]
fn no_history_attributes_keep_only_what_holds() {
    let store = Store::open_in_memory().expect("store");
    transact(&store, SCHEMA);
    let views = attribute(&store, ":item/views");
    let tags = attribute(&store, ":item/tags");
    let price = attribute(&store, ":item/price");
    let t1 = transact(
        &store,
        r#"[{:db/id "a" :item/sku "A" :item/views 1 :item/price 1 :item/tags ["new" "red"]}]"#,
    );
    let a = t1.tempids["a"];
    let t2 = transact(
        &store,
        r#"[{:item/sku "A" :item/views 2 :item/price 2} [:db/retract [:item/sku "A"] :item/tags "new"]]"#,
    );
    let t3 = transact(&store, r#"[{:item/sku "A" :item/views 3 :item/price 3}]"#);
    // the report still tells everything that happened
    assert_eq!(
        lines(&store, &t2.datoms),
        [
            format!("{a} :item/views 1 false"),
            format!("{a} :item/price 1 false"),
            format!(r#"{a} :item/tags "new" false"#),
            format!("{a} :item/views 2 true"),
            format!("{a} :item/price 2 true"),
        ]
    );
    let db = store.db().expect("db");
    // the current value is right
    assert_eq!(
        pull(&db, "[:item/views :item/tags :item/price]", a),
        r#"{:item/views 3, :item/tags ["red"], :item/price 3}"#
    );
    // history keeps every price, but of views and tags only what holds
    let history = |a_id| {
        lines(
            &store,
            &collect(&db.history(), IndexName::Aevt, &[TypedValue::Ref(a_id)]),
        )
    };
    assert_eq!(
        history(price),
        [
            format!("{a} :item/price 1 true"),
            format!("{a} :item/price 1 false"),
            format!("{a} :item/price 2 true"),
            format!("{a} :item/price 2 false"),
            format!("{a} :item/price 3 true"),
        ]
    );
    assert_eq!(history(views), [format!("{a} :item/views 3 true")]);
    assert_eq!(history(tags), [format!(r#"{a} :item/tags "red" true"#)]);
    // as of t1, the replaced values are gone, not shown as they were
    assert_eq!(
        pull(&db.as_of(t1.tx), "[:item/views :item/tags :item/price]", a),
        r#"{:item/tags ["red"], :item/price 1}"#
    );
    assert_eq!(
        pull(&db.as_of(t3.tx), "[:item/views]", a),
        "{:item/views 3}"
    );
    // the log of t2 holds no datom of views or tags
    let logged = db.tx_range(t2.tx, t2.tx).expect("log");
    assert_eq!(
        lines(&store, &logged),
        [
            format!("{a} :item/price 1 false"),
            format!("{a} :item/price 2 true"),
        ]
    );
    // retracting the last value leaves no trace of the attribute
    transact(&store, r#"[[:db/retractEntity [:item/sku "A"]]]"#);
    let db = store.db().expect("db");
    assert!(collect(&db.history(), IndexName::Aevt, &[TypedValue::Ref(views)]).is_empty());
    assert!(collect(&db.history(), IndexName::Aevt, &[TypedValue::Ref(tags)]).is_empty());
    assert_eq!(
        collect(&db.history(), IndexName::Aevt, &[TypedValue::Ref(price)]).len(),
        6
    );
}

// ---- snapshots --------------------------------------------------------------

/// Everything a snapshot reads, as text: a query, a pull, an entity, an
/// index range, the history of one attribute and a since view.
fn everything(db: &Db, store: &Store, a: Entid, since: Entid) -> Vec<String> {
    let price = attribute(store, ":item/price");
    vec![
        query(
            db,
            "[:find ?s ?p :where [?e :item/sku ?s] [?e :item/price ?p]]",
        ),
        pull(db, "[:item/price :item/note]", a),
        format!("{:?}", db.entity(a).expect("entity")),
        format!(
            "{:?}",
            lines(
                store,
                &collect(db, IndexName::Avet, &[TypedValue::Ref(price)])
            )
        ),
        format!(
            "{:?}",
            lines(
                store,
                &collect(&db.history(), IndexName::Aevt, &[TypedValue::Ref(price)])
            )
        ),
        format!(
            "{:?}",
            lines(store, &collect(&db.since(since), IndexName::Eavt, &[]))
        ),
    ]
}

#[test]
fn a_snapshot_is_unaffected_by_later_writes_through_the_same_store() {
    let (store, a, _, first_tx, _) = items();
    let db = store.db().expect("db");
    let before = everything(&db, &store, a, first_tx);
    transact(
        &store,
        r#"[{:item/sku "A" :item/price 11 :item/note "new"} {:item/sku "C" :item/price 1}]"#,
    );
    transact(&store, r#"[[:db/retractEntity [:item/sku "B"]]]"#);
    assert_eq!(everything(&db, &store, a, first_tx), before);
    assert_ne!(
        everything(&store.db().expect("db"), &store, a, first_tx),
        before,
        "a new snapshot sees the writes"
    );
}

#[test]
fn a_snapshot_is_unaffected_by_writes_from_another_connection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.factlite");
    let reader = Store::open(&path, Config::default()).expect("reader opens");
    let writer = Store::open(&path, Config::default()).expect("writer opens");
    transact(&writer, SCHEMA);
    let first = transact(
        &writer,
        r#"[{:db/id "a" :item/sku "A" :item/price 10} {:item/sku "B" :item/price 5}]"#,
    );
    let a = first.tempids["a"];
    let db = reader.db().expect("db");
    assert_eq!(db.basis_tx(), first.tx);
    let before = everything(&db, &reader, a, first.tx - 1);
    transact(
        &writer,
        r#"[{:item/sku "A" :item/price 11} [:db/retractEntity [:item/sku "B"]]]"#,
    );
    assert_eq!(everything(&db, &reader, a, first.tx - 1), before);
    assert_eq!(
        query(
            &reader.db().expect("db"),
            "[:find ?p . :where [?e :item/sku \"A\"] [?e :item/price ?p]]"
        ),
        "11"
    );
}

const ACCOUNTS: i64 = 5;
const TRANSFERS: i64 = 150;

/// A file with `ACCOUNTS` accounts (`:item/price` is the balance) of 100.
fn accounts_file(path: &std::path::Path) {
    let store = Store::open(path, Config::default()).expect("store");
    transact(&store, SCHEMA);
    let accounts: Vec<String> = (0..ACCOUNTS)
        .map(|i| format!(r#"{{:item/sku "acct{i}" :item/price 100}}"#))
        .collect();
    transact(&store, &format!("[{}]", accounts.join(" ")));
}

/// The balances a snapshot sees, checked: they add up to the total, and
/// no datom is newer than the snapshot's basis.
fn check_balances(db: &Db, price: Entid) {
    let datoms = collect(db, IndexName::Aevt, &[TypedValue::Ref(price)]);
    let total: i64 = datoms
        .iter()
        .map(|d| match d.v {
            TypedValue::Long(n) => n,
            _ => panic!("a balance is a long"),
        })
        .sum();
    assert_eq!(total, 100 * ACCOUNTS, "snapshot at {}", db.basis_tx());
    assert!(
        datoms.iter().all(|d| d.tx <= db.basis_tx()),
        "snapshot at {} sees a later datom",
        db.basis_tx()
    );
}

/// `TRANSFERS` transactions, each moving 1 from one account to the next:
/// the total never changes. On its own this test runs on a fresh file;
/// `readers_see_whole_transactions_of_a_writer_in_another_process` runs it
/// again as a second process, on the file `FACTLITE_TRANSFER_FILE` names.
#[test]
fn transfers_keep_the_total() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = match std::env::var_os("FACTLITE_TRANSFER_FILE") {
        Some(path) => std::path::PathBuf::from(path),
        None => {
            let path = dir.path().join("db.factlite");
            accounts_file(&path);
            path
        }
    };
    let store = Store::open(&path, Config::default()).expect("writer opens");
    let before = store.latest_tx().expect("latest");
    for i in 0..TRANSFERS {
        let (from, to) = (i % ACCOUNTS, (i + 1) % ACCOUNTS);
        let db = store.db().expect("db");
        let balance = |n: i64| -> i64 {
            let text = query(
                &db,
                &format!(r#"[:find ?p . :where [?e :item/sku "acct{n}"] [?e :item/price ?p]]"#),
            );
            text.parse().expect("balance")
        };
        let (a, b) = (balance(from), balance(to));
        transact(
            &store,
            &format!(
                r#"[{{:item/sku "acct{from}" :item/price {}}} {{:item/sku "acct{to}" :item/price {}}}]"#,
                a - 1,
                b + 1
            ),
        );
    }
    assert_eq!(store.latest_tx().expect("latest"), before + TRANSFERS);
    check_balances(&store.db().expect("db"), attribute(&store, ":item/price"));
}

/// A writer process (this test binary, running `transfers_keep_the_total`)
/// transfers while this process keeps taking snapshots on the same file:
/// each must see whole transactions only, never one newer than its basis.
#[test]
fn readers_see_whole_transactions_of_a_writer_in_another_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.factlite");
    accounts_file(&path);
    let reader = Store::open(&path, Config::default()).expect("reader opens");
    let first = reader.latest_tx().expect("latest");
    let price = attribute(&reader, ":item/price");
    let mut writer = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "transfers_keep_the_total", "--test-threads", "1"])
        .env("FACTLITE_TRANSFER_FILE", &path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the writer process starts");
    let mut bases = std::collections::BTreeSet::new();
    while writer.try_wait().expect("writer status").is_none() {
        let db = reader.db().expect("db");
        check_balances(&db, price);
        bases.insert(db.basis_tx());
    }
    assert!(
        writer.wait().expect("writer ends").success(),
        "the writer's own checks"
    );
    let db = reader.db().expect("db");
    assert_eq!(db.basis_tx(), first + TRANSFERS, "every transfer committed");
    check_balances(&db, price);
    assert!(!bases.is_empty());
}

#[test]
fn a_second_writer_fails_busy_after_the_timeout_and_can_retry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.factlite");
    let config = Config {
        busy_timeout: Duration::from_millis(150),
        ..Config::default()
    };
    let first = Store::open(&path, config.clone()).expect("first opens");
    let second = Store::open(&path, config).expect("second opens");
    transact(&first, SCHEMA);
    // the first store's write hook holds the write lock while the second
    // tries to write
    let (holding_tx, holding_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder_path = path.clone();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&holder_path).expect("raw connection");
        conn.execute_batch("BEGIN IMMEDIATE").expect("write lock");
        holding_tx.send(()).expect("tell");
        release_rx.recv().expect("wait");
        conn.execute_batch("ROLLBACK").expect("let go");
    });
    holding_rx.recv().expect("the lock is held");
    let forms = parse_tx_data(&parse(r#"[{:item/sku "X"}]"#).expect("parses")).expect("forms");
    let started = std::time::Instant::now();
    let error = second.transact(&forms).expect_err("blocked");
    assert!(matches!(error, Error::Busy { waited_ms: 150 }), "{error:?}");
    assert!(started.elapsed() >= Duration::from_millis(140));
    // reading is never blocked by a writer
    assert_eq!(
        query(
            &second.db().expect("db"),
            "[:find (count ?e) . :where [?e :item/sku]]"
        ),
        "nil"
    );
    release_tx.send(()).expect("release");
    holder.join().expect("holder ends");
    second
        .transact(&forms)
        .expect("retries once the lock is free");
}

// ---- layout versions --------------------------------------------------------

/// A copy, in a temp dir, of `tests/data/layout-1.factlite`: a file the
/// first layout wrote (the store of commit 506d0aa, format version 1), with
/// three transactions after the bootstrap: `:item/sku` (unique identity)
/// and `:item/price` (indexed long); items A (price 1) and B (price 2);
/// A's price set to 3.
fn layout_1_copy(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("layout-1.factlite");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/layout-1.factlite"),
        &path,
    )
    .expect("fixture copies");
    path
}

fn user_version(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("version")
}

#[test]
fn a_layout_1_file_is_upgraded_when_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = layout_1_copy(&dir);
    let old_latest: Entid = {
        let conn = rusqlite::Connection::open(&path).expect("raw connection");
        assert_eq!(user_version(&conn), 1, "the fixture is of layout 1");
        conn.query_row(
            "SELECT next_id - 1 FROM partitions WHERE part = 1",
            [],
            |row| row.get(0),
        )
        .expect("latest tx")
    };
    let store = Store::open(&path, Config::default()).expect("upgrades");
    let conn = store.connection();
    assert_eq!(user_version(&conn), FORMAT_VERSION);
    // layout 2 built the log's entity index, layout 8 dropped it
    let log_indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'log' AND sql IS NOT NULL ORDER BY name")
        .expect("index list")
        .query_map([], |row| row.get(0))
        .expect("indexes")
        .collect::<Result<_, _>>()
        .expect("index names");
    assert_eq!(log_indexes, ["log_aevt"]);
    // the vocabulary attributes (layout 2), the constraint attributes
    // (layout 3), the tuple attributes (the tuple layout), the big number
    // types (layout 6) and the excision attributes (layout 7) came in a
    // transaction each
    let upgrade_tx = old_latest + 1;
    assert_eq!(store.latest_tx().expect("latest"), old_latest + 5);
    let db = store.db().expect("db");
    assert_eq!(
        lines(&store, &db.tx_range(upgrade_tx, upgrade_tx).expect("log"))[0],
        r#"11 :db/ident :db.vocabulary/name true"#
    );
    assert_eq!(
        lines(
            &store,
            &db.tx_range(upgrade_tx + 1, upgrade_tx + 1).expect("log")
        )[0],
        r#"14 :db/ident :db/ensure true"#
    );
    assert_eq!(
        lines(
            &store,
            &db.tx_range(upgrade_tx + 2, upgrade_tx + 2).expect("log")
        )[0],
        r#"18 :db/ident :db/tupleType true"#
    );
    assert_eq!(
        lines(
            &store,
            &db.tx_range(upgrade_tx + 3, upgrade_tx + 3).expect("log")
        )[0],
        r#"40 :db/ident :db.type/bigint true"#
    );
    assert_eq!(
        lines(
            &store,
            &db.tx_range(upgrade_tx + 4, upgrade_tx + 4).expect("log")
        )[0],
        r#"91 :db/ident :db/excise true"#
    );
    // the old data reads as before, its history by entity through log_aevt
    let a = query(&db, r#"[:find ?e . :where [?e :item/sku "A"]]"#);
    let a: Entid = a.parse().expect("an entity id");
    assert_eq!(pull(&db, "[:item/price]", a), "{:item/price 3}");
    assert_eq!(
        pull(&db.as_of(old_latest - 1), "[:item/price]", a),
        "{:item/price 1}"
    );
    let history_db = db.history();
    let mut history = history_db
        .datoms(IndexName::Eavt, &[TypedValue::Ref(a)])
        .expect("range");
    assert!(history
        .query_plan()
        .expect("plan")
        .iter()
        .any(|line| line.starts_with("SEARCH log USING INDEX log_aevt (a=? AND e=?)")));
    assert_eq!(
        history.iter().expect("runs").count(),
        4,
        "sku, price 1, its retraction, price 3"
    );
    drop(history);
    // vocabularies work on the upgraded file
    let vocabulary = factlite_store::Vocabulary::new(
        parse(":app/items")
            .expect("name")
            .into_keyword()
            .unwrap_or_else(|other| panic!("{other}")),
        1,
        &parse(r#"[{:db/ident :item/sku :db/valueType :db.type/string :db/cardinality :db.cardinality/one
                    :db/unique :db.unique/identity}]"#)
        .expect("definitions"),
    )
    .expect("vocabulary");
    assert!(matches!(
        store.ensure_vocabulary(&vocabulary).expect("installs"),
        factlite_store::VocabularyOutcome::Installed(_)
    ));
    // and opening it again upgrades nothing
    let latest = store.latest_tx().expect("latest");
    drop(db);
    drop(conn);
    drop(store);
    let again = Store::open(&path, Config::default()).expect("opens");
    assert_eq!(again.latest_tx().expect("latest"), latest);
}

/// A file of an older layout, made from a new store by taking out the
/// bootstrap's datoms of the `entities` the later layouts add (from
/// `datoms`, `log` and `attribute_stats`), running `sql` and setting the
/// version back: the older bootstrap wrote the same rows but those.
fn older_layout_file(
    dir: &tempfile::TempDir,
    version: i64,
    entities: &str,
    sql: &str,
) -> std::path::PathBuf {
    let path = dir.path().join(format!("layout-{version}.factlite"));
    let store = Store::open(&path, Config::default()).expect("new store");
    transact(&store, SCHEMA);
    drop(store);
    let conn = rusqlite::Connection::open(&path).expect("raw connection");
    // Before layout 8, `partitions` held each partition's next id itself,
    // not a floor under the datoms' ids, and `attribute_stats` the counts
    // themselves, with no basis and no tail in the log.
    conn.execute_batch(
        "UPDATE partitions SET next_id = max(next_id, coalesce(
             (SELECT max(e) + 1 FROM datoms
              WHERE e >= (partitions.part << 40) AND e < ((partitions.part + 1) << 40)), 0));
         DELETE FROM attribute_stats;
         INSERT INTO attribute_stats (a, datoms) SELECT a, count(*) FROM datoms GROUP BY a;
         DROP TABLE attribute_stats_basis;",
    )
    .expect("exact next ids and counts");
    conn.execute_batch(&format!(
        "UPDATE attribute_stats SET datoms = datoms - (SELECT count(*) FROM datoms d
             WHERE d.a = attribute_stats.a AND d.e IN ({entities}));
         DELETE FROM attribute_stats WHERE a IN ({entities}) OR datoms = 0;
         DELETE FROM datoms WHERE e IN ({entities});
         DELETE FROM log WHERE e IN ({entities});
         {sql}
         PRAGMA user_version = {version};"
    ))
    .expect("back to the older layout");
    path
}

/// A file of layout 3: without the tuple layout's entities 18, 19, 90, 38
/// and 39 (`:db.type/tuple`, `:db.type/float`), layout 5's `replication`
/// table, layout 6's idents 40 and 41 and layout 7's attributes 91–94.
fn layout_3_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    older_layout_file(
        dir,
        3,
        "18, 19, 90, 38, 39, 40, 41, 91, 92, 93, 94",
        "DROP TABLE replication;",
    )
}

#[test]
fn a_layout_6_file_gets_the_excision_attributes_when_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = older_layout_file(&dir, 6, "91, 92, 93, 94", "");
    let before: Entid = rusqlite::Connection::open(&path)
        .expect("raw connection")
        .query_row(
            "SELECT next_id - 1 FROM partitions WHERE part = 1",
            [],
            |row| row.get(0),
        )
        .expect("latest tx");
    let store = Store::open(&path, Config::default()).expect("upgrades");
    assert_eq!(user_version(&store.connection()), FORMAT_VERSION);
    assert_eq!(store.latest_tx().expect("latest"), before + 1);
    let db = store.db().expect("db");
    assert_eq!(
        lines(&store, &db.tx_range(before + 1, before + 1).expect("log"))[0],
        r#"91 :db/ident :db/excise true"#
    );
    // excision works on the upgraded file
    transact(
        &store,
        r#"[{:item/sku "A" :item/note "secret"} {:item/sku "B" :item/note "kept"}]"#,
    );
    transact(&store, r#"[{:db/excise [:item/sku "A"]}]"#);
    let db = store.db().expect("db");
    assert_eq!(
        query(&db, r#"[:find [?n ...] :where [_ :item/note ?n]]"#),
        r#"#{"kept"}"#
    );
    assert_eq!(store.verify().expect("verify"), Vec::new());
    // and opening it again upgrades nothing
    let latest = store.latest_tx().expect("latest");
    drop(db);
    drop(store);
    let again = Store::open(&path, Config::default()).expect("opens");
    assert_eq!(again.latest_tx().expect("latest"), latest);
}

#[test]
fn a_layout_5_file_gets_the_big_number_types_when_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = older_layout_file(&dir, 5, "40, 41, 91, 92, 93, 94", "");
    let before: Entid = rusqlite::Connection::open(&path)
        .expect("raw connection")
        .query_row(
            "SELECT next_id - 1 FROM partitions WHERE part = 1",
            [],
            |row| row.get(0),
        )
        .expect("latest tx");
    let store = Store::open(&path, Config::default()).expect("upgrades");
    assert_eq!(user_version(&store.connection()), FORMAT_VERSION);
    assert_eq!(
        store.latest_tx().expect("latest"),
        before + 2,
        "layout 6's transaction, then layout 7's"
    );
    let db = store.db().expect("db");
    assert_eq!(
        lines(&store, &db.tx_range(before + 1, before + 1).expect("log")),
        [
            "40 :db/ident :db.type/bigint true",
            "41 :db/ident :db.type/bigdec true"
        ]
    );
    // the new types work on the upgraded file
    transact(
        &store,
        r#"[{:db/ident :item/weight :db/valueType :db.type/bigdec :db/cardinality :db.cardinality/one}
            {:db/ident :item/serial :db/valueType :db.type/bigint :db/cardinality :db.cardinality/one}]"#,
    );
    transact(
        &store,
        r#"[{:item/sku "A" :item/weight 0.1M :item/serial 12345678901234567890123N}]"#,
    );
    let db = store.db().expect("db");
    assert_eq!(
        query(
            &db,
            r#"[:find [?w ?s] :where [?e :item/sku "A"] [?e :item/weight ?w] [?e :item/serial ?s]]"#
        ),
        "[0.1M 12345678901234567890123N]"
    );
    assert_eq!(store.verify().expect("verify"), Vec::new());
}

#[test]
fn a_layout_3_file_gets_the_tuple_attributes_when_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = layout_3_file(&dir);
    let before: Entid = rusqlite::Connection::open(&path)
        .expect("raw connection")
        .query_row(
            "SELECT next_id - 1 FROM partitions WHERE part = 1",
            [],
            |row| row.get(0),
        )
        .expect("latest tx");
    let store = Store::open(&path, Config::default()).expect("upgrades");
    assert_eq!(user_version(&store.connection()), FORMAT_VERSION);
    // the tuple layout's transaction, then layout 6's and layout 7's
    assert_eq!(store.latest_tx().expect("latest"), before + 3);
    let db = store.db().expect("db");
    assert_eq!(
        lines(&store, &db.tx_range(before + 1, before + 1).expect("log"))[0],
        r#"18 :db/ident :db/tupleType true"#
    );
    assert_eq!(
        query(
            &db,
            "[:find ?t . :where [:db/tupleAttrs :db/tupleType ?k] [?k :db/ident ?t]]"
        ),
        ":db.type/keyword"
    );
    // tuples work on the upgraded file
    transact(
        &store,
        r#"[{:db/ident :item/key :db/valueType :db.type/tuple
             :db/tupleAttrs [:item/sku :item/note] :db/cardinality :db.cardinality/one}]"#,
    );
    transact(&store, r#"[{:item/sku "T" :item/note "tuple"}]"#);
    let db = store.db().expect("db");
    assert_eq!(
        query(&db, r#"[:find ?k . :where [_ :item/key ?k]]"#),
        r#"["T" "tuple"]"#
    );
    assert_eq!(store.verify().expect("verify"), Vec::new());
}

#[test]
fn a_layout_1_file_whose_reserved_ids_hold_data_is_refused_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = layout_1_copy(&dir);
    rusqlite::Connection::open(&path)
        .expect("raw connection")
        .execute_batch(
            "INSERT INTO datoms (e, a, v, t, tx, avet) VALUES (12, 7, 'squatter', 4, 1, 0)",
        )
        .expect("squat");
    let error = Store::open(&path, Config::default())
        .err()
        .expect("refused");
    assert!(matches!(error, Error::Corrupt(_)), "{error:?}");
    assert!(error.to_string().contains("entity 12"), "{error}");
    let conn = rusqlite::Connection::open(&path).expect("raw connection");
    assert_eq!(user_version(&conn), 1, "the file is left at layout 1");
    let squatters: i64 = conn
        .query_row(
            "SELECT count(*) FROM datoms WHERE e IN (11, 12, 13)",
            [],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(squatters, 1);
}

#[test]
fn a_file_of_a_newer_layout_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.factlite");
    drop(Store::open(&path, Config::default()).expect("store"));
    rusqlite::Connection::open(&path)
        .expect("raw")
        .execute_batch(&format!("PRAGMA user_version = {};", FORMAT_VERSION + 1))
        .expect("bump");
    let error = Store::open(&path, Config::default())
        .err()
        .expect("refused");
    assert!(
        matches!(error, Error::NewerFormat { format, .. } if format == FORMAT_VERSION + 1),
        "{error}"
    );
}
