//! Dumps read back into identical databases: a database with a history of
//! every kind (attributes defined and altered, values replaced and
//! retracted, entities retracted, transaction metadata, installed rules, a
//! materialized view, floats, big integers and big decimals, tuples of the
//! three kinds — a composite's datoms are not in the dump and come back as
//! its attributes are replayed —, an excision, whose record a current dump
//! leaves out) is dumped, imported into an empty file, and the two
//! databases' datoms compared — the history dump transaction by
//! transaction with the same ids and instants, the current dump datom by
//! datom. Also: a dump refuses a database that is not empty, and a tempid
//! names one entity however far apart, in the file, its uses are.

use std::path::Path;

use factlite::{Datom, Entid, Store};
use factlite_cli::dump::{write_dump, DumpKind};
use factlite_cli::transfer::{import_file, BATCH};
use factlite_core::bootstrap::{EXCISION_ATTRIBUTES, FIRST_USER_SCHEMA_ID};
use factlite_core::Partition;

const SCHEMA: &str = r#"[
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 {:db/ident :person/tags :db/valueType :db.type/keyword :db/cardinality :db.cardinality/many}
 {:db/ident :person/born :db/valueType :db.type/instant :db/cardinality :db.cardinality/one}
 {:db/ident :person/score :db/valueType :db.type/double :db/cardinality :db.cardinality/one}
 {:db/ident :person/id :db/valueType :db.type/uuid :db/cardinality :db.cardinality/one}
 {:db/ident :person/mood :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/noHistory true}
 {:db/ident :person/photo :db/valueType :db.type/bytes :db/cardinality :db.cardinality/one}
 {:db/ident :person/name+age :db/valueType :db.type/tuple :db/tupleAttrs [:person/name :person/age] :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
 {:db/ident :person/point :db/valueType :db.type/tuple :db/tupleType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :person/cards :db/valueType :db.type/tuple :db/tupleTypes [:db.type/string :db.type/ref] :db/cardinality :db.cardinality/many}
 {:db/ident :person/height :db/valueType :db.type/float :db/cardinality :db.cardinality/one}
 {:db/ident :person/wealth :db/valueType :db.type/bigint :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/debts :db/valueType :db.type/bigdec :db/cardinality :db.cardinality/many}
 {:db/ident :audit/by :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]"#;

/// A database with a history of every kind, in `dir/source.db`.
fn source(dir: &Path) -> Store {
    let store = Store::open(dir.join("source.db")).expect("store");
    let transactions = [
        SCHEMA,
        r#"[{:db/id "ann" :person/name "Ann" :person/age 31 :person/tags [:a :b]
             :person/born #inst "1990-01-02T03:04:05.006Z" :person/score 1.5
             :person/id #uuid "5a1f6c1e-0000-4000-8000-000000000001" :person/mood "calm"
             :person/friend "bob" :person/photo #bytes "00ff10" :person/point [1 -2 nil]}
            {:db/id "bob" :person/name "Bob" :person/age 40 :person/friend "ann" :person/height 1.85
             :person/wealth -123456789012345678901234567890N :person/debts [0.1M 12.50M -3M]}
            {:db/id "cy" :person/name "Cy"}]"#,
        r#"[[:db/add [:person/name "Ann"] :person/age 32]
            [:db/retract [:person/name "Ann"] :person/tags :a]
            [:db/add [:person/name "Ann"] :person/mood "glad"]
            [:db/add "datomic.tx" :audit/by "ann"]
            [:db/add [:person/name "Bob"] :person/cards ["x" 7]]
            [:db/add [:person/name "Bob"] :person/cards ["y" nil]]]"#,
        r#"[[:db/add :person/age :db/index true]
            [:db/retractEntity [:person/name "Cy"]]]"#,
        r#"[{:db/ident :person/nick :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
            {:person/name "Dee" :person/nick "D" :person/friend [:person/name "Bob"]}]"#,
        // A rename: a history dump writes the transactions before it
        // under the attribute's name of then.
        r#"[[:db/add :person/nick :db/ident :person/nickname]]"#,
        r#"[[:db/add [:person/name "Dee"] :person/nickname "Dd"]]"#,
    ];
    for tx_data in transactions {
        store.transact_str(tx_data).expect("transaction");
    }
    store
        .install_rules_str("[[(friends ?a ?b) [?a :person/friend ?b]]]")
        .expect("rules installed");
    store
        .materialize_str("named", "[:find ?n :where [_ :person/name ?n]]", &[])
        .expect("view");
    store
        .transact_str(r#"[[:db/add [:person/name "Bob"] :person/age 41]]"#)
        .expect("after the view");
    // An excision of Gus's first age: its record replays in a history
    // dump, and a current dump leaves it out.
    store
        .transact_str(r#"[{:person/name "Gus" :person/age 50}]"#)
        .expect("gus");
    let second_age = store
        .transact_str(r#"[{:person/name "Gus" :person/age 51}]"#)
        .expect("gus's age");
    store
        .transact_str(&format!(
            r#"[{{:db/excise [:person/name "Gus"] :db.excise/attrs [:person/age]
                 :db.excise/beforeT {}}}]"#,
            second_age.tx
        ))
        .expect("the first age excised");
    store
}

fn dump(store: &Store, kind: DumpKind, path: &Path) {
    let db = store.db().expect("snapshot");
    let mut file = std::fs::File::create(path).expect("dump file");
    write_dump(&db, kind, &mut file, path).expect("dump written");
}

/// Every datom of the log after the bootstrap, except the definitions of
/// materialized views (a dump leaves them out), as sortable text per
/// transaction.
fn log(store: &Store) -> Vec<(Entid, Vec<String>)> {
    let db = store.db().expect("snapshot");
    let schema = db.schema().expect("schema");
    let first = Partition::Tx.start() + 1;
    (first..=db.basis_tx())
        .map(|tx| {
            let mut datoms: Vec<String> = db
                .tx_range(tx, tx)
                .expect("log")
                .iter()
                .filter(|datom| !is_view_datom(&schema, datom))
                .map(|datom| format!("{datom:?}"))
                .collect();
            datoms.sort();
            (tx, datoms)
        })
        .collect()
}

fn is_view_datom(schema: &factlite::Schema, datom: &Datom) -> bool {
    schema
        .ident(datom.a)
        .is_some_and(|ident| ident.namespace.as_deref() == Some("factlite.view"))
}

/// The current datoms (e, a, v) outside the bootstrap, the transaction
/// entities, the views' definitions and the records of excisions (a
/// current dump leaves them out).
fn current(store: &Store) -> Vec<String> {
    let db = store.db().expect("snapshot");
    let schema = db.schema().expect("schema");
    let mut range = db.datoms(factlite::IndexName::Eavt, &[]).expect("range");
    range
        .iter()
        .expect("datoms")
        .map(|datom| datom.expect("datom"))
        .filter(|datom| {
            datom.e >= FIRST_USER_SCHEMA_ID
                && Partition::of(datom.e) != Some(Partition::Tx)
                && !is_view_datom(&schema, datom)
                && !EXCISION_ATTRIBUTES.contains(&datom.a)
        })
        .map(|datom| format!("{} {} {:?}", datom.e, datom.a, datom.v))
        .collect()
}

#[test]
fn a_history_dump_imports_into_the_same_datoms_in_the_same_transactions() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let original = source(dir.path());
    let path = dir.path().join("history.edn");
    dump(&original, DumpKind::History, &path);
    let text = std::fs::read_to_string(&path).expect("the dump reads");
    assert!(
        text.contains(":db/excise"),
        "the excision is replayed: {text}"
    );
    let copy = Store::open(dir.path().join("copy.db")).expect("copy");
    let summary = import_file(&copy, &path, false).expect("imported");
    let expected = log(&original);
    assert_eq!(summary.transactions, expected.len());
    assert_eq!(log(&copy), expected);
    // The same datoms hold now, and the copy takes new transactions.
    assert_eq!(current(&copy), current(&original));
    copy.transact_str(r#"[{:person/name "Eve"}]"#)
        .expect("a new transaction after the replayed ones");
    // Rules came along as data; the view did not, and the copy has none.
    assert_eq!(
        copy.rules().expect("rules"),
        original.rules().expect("rules")
    );
    assert!(copy.views().expect("views").is_empty());
}

#[test]
fn a_current_dump_imports_into_the_same_current_datoms() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let original = source(dir.path());
    let path = dir.path().join("current.edn");
    dump(&original, DumpKind::Current, &path);
    let text = std::fs::read_to_string(&path).expect("the dump reads");
    assert!(
        !text.contains(":db/excise") && !text.contains(":db.excise/"),
        "an excision's record, replayed, would excise again: {text}"
    );
    let copy = Store::open(dir.path().join("copy.db")).expect("copy");
    import_file(&copy, &path, false).expect("imported");
    assert_eq!(current(&copy), current(&original));
    let query = "[:find ?n ?a :where [?p :person/name ?n] [(get-else $ ?p :person/age 0) ?a]]";
    assert_eq!(
        copy.db()
            .expect("db")
            .q_str(query, &[])
            .expect("query")
            .into_edn(),
        original
            .db()
            .expect("db")
            .q_str(query, &[])
            .expect("query")
            .into_edn()
    );
    copy.transact_str(r#"[{:person/name "Eve"}]"#)
        .expect("a new entity gets an id none of the dump's");
}

#[test]
fn a_dump_refuses_a_database_that_is_not_empty() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let original = source(dir.path());
    for (kind, name) in [(DumpKind::History, "h.edn"), (DumpKind::Current, "c.edn")] {
        let path = dir.path().join(name);
        dump(&original, kind, &path);
        let error = import_file(&original, &path, false).expect_err("refused");
        let message = error.to_string();
        assert!(
            message.contains("line 3: a dump goes into an empty database"),
            "{message}"
        );
    }
}

/// Issue 13: in a 2,000-row CSV, a row whose friend is defined 1,999 rows
/// later failed ("tempid only used as a value") once the two rows fell in
/// different batches.
#[test]
fn a_tempid_names_one_entity_when_it_is_used_before_the_row_that_defines_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path().join("p.db")).expect("store");
    store.transact_str(SCHEMA).expect("schema");
    let rows = 2 * BATCH;
    let mut csv = String::from("db/id,person/name,person/friend\n");
    let mut json = String::from("[\n");
    for i in 0..rows {
        // The first row befriends the last; each other row the one before.
        let friend = if i == 0 { rows - 1 } else { i - 1 };
        csv.push_str(&format!("p{i},csv{i},p{friend}\n"));
        let separator = if i + 1 == rows { "\n" } else { ",\n" };
        json.push_str(&format!(
            r#"{{"db/id": "q{i}", "person/name": "json{i}", "person/friend": ["q{friend}"]}}{separator}"#
        ));
    }
    json.push(']');
    std::fs::write(dir.path().join("people.csv"), csv).expect("CSV written");
    std::fs::write(dir.path().join("people.json"), json).expect("JSON written");
    for file in ["people.csv", "people.json"] {
        let summary = import_file(&store, &dir.path().join(file), false).expect(file);
        assert_eq!(summary.transactions, 2, "{file}");
    }
    let db = store.db().expect("db");
    for prefix in ["csv", "json"] {
        let query = format!(
            r#"[:find ?n . :where [?p :person/name "{prefix}0"] [?p :person/friend ?f] [?f :person/name ?n]]"#
        );
        assert_eq!(
            db.q_str(&query, &[]).expect("query").into_edn().to_string(),
            format!("\"{prefix}{}\"", rows - 1)
        );
    }
    let nameless = "[:find (count ?f) . :where [_ :person/friend ?f] (not [?f :person/name _])]";
    assert_eq!(
        db.q_str(nameless, &[])
            .expect("query")
            .into_edn()
            .to_string(),
        "nil"
    );
}

#[test]
fn a_tempid_no_row_defines_is_an_error_naming_its_first_use() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path().join("p.db")).expect("store");
    store.transact_str(SCHEMA).expect("schema");
    let path = dir.path().join("orphan.csv");
    std::fs::write(&path, "db/id,person/name,person/friend\na,Ann,b\nc,Cy,a\n").expect("CSV");
    let message = import_file(&store, &path, false)
        .expect_err("refused")
        .to_string();
    assert!(
        message.contains(
            "the end of the file: tempid \"b\" is used as a value (line 2) but no row has it as its db/id"
        ),
        "{message}"
    );
}

/// JSON and CSV carry big numbers as text: their digits, with or without
/// the `N` or `M`, read as the attribute's type; a JSON integer fits both,
/// a JSON fraction (a double) does not fit a big decimal.
#[test]
fn big_numbers_import_from_json_and_csv_as_text() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path().join("p.db")).expect("store");
    store.transact_str(SCHEMA).expect("schema");
    std::fs::write(
        dir.path().join("rich.json"),
        r#"[{"person/name": "j1", "person/wealth": "12345678901234567890123", "person/debts": ["0.1", "2M", 3]},
            {"person/name": "j2", "person/wealth": 7}]"#,
    )
    .expect("JSON written");
    std::fs::write(
        dir.path().join("rich.csv"),
        "person/name,person/wealth,person/debts\nc1,-98765432109876543210,1.25\nc2,5N,0.5M\n",
    )
    .expect("CSV written");
    for file in ["rich.json", "rich.csv"] {
        import_file(&store, &dir.path().join(file), false).expect(file);
    }
    let db = store.db().expect("db");
    let query = r#"[:find ?n ?w :where [?p :person/name ?n] [?p :person/wealth ?w]]"#;
    assert_eq!(
        db.q_str(query, &[]).expect("query").into_edn(),
        factlite::edn::parse(
            r#"#{["j1" 12345678901234567890123N] ["j2" 7N] ["c1" -98765432109876543210N] ["c2" 5N]}"#
        )
        .expect("EDN")
    );
    let debts = r#"[:find [?d ...] :where [_ :person/debts ?d]]"#;
    assert_eq!(
        db.q_str(debts, &[]).expect("query").into_edn(),
        factlite::edn::parse("#{0.1M 2M 3M 1.25M 0.5M}").expect("EDN")
    );
    std::fs::write(
        dir.path().join("bad.json"),
        r#"[{"person/name": "j3", "person/debts": [0.1]}]"#,
    )
    .expect("JSON written");
    let error = import_file(&store, &dir.path().join("bad.json"), false).expect_err("a double");
    assert!(error.to_string().contains("not a bigdec"), "{error}");
}
