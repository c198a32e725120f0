//! Transaction functions: expanded inside the write transaction, so
//! concurrent read-modify-writes through one never lose an update; calls
//! nest (to a depth limit); unknown names, errors and panics fail the
//! transaction, naming the function, and write nothing.

use std::thread;

use factlite::{Error, ErrorCategory, LookupRef, QueryResultExt, Store, TxData, Value};

const SCHEMA: &str = r#"[{:db/ident :counter/name :db/valueType :db.type/string
                          :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                         {:db/ident :counter/n :db/valueType :db.type/long
                          :db/cardinality :db.cardinality/one}
                         {:counter/name "hits" :counter/n 0}]"#;

const COUNT: &str = r#"[:find ?n . :where [?c :counter/name "hits"] [?c :counter/n ?n]]"#;

fn increments(store: &Store) {
    store
        .register_tx_function(":counter/inc", |db, _| {
            let n = db.q_str(COUNT, ())?.scalar::<i64>()?.unwrap_or(0);
            Ok(TxData::new().add(LookupRef(":counter/name", "hits"), ":counter/n", n + 1))
        })
        .expect("registered");
}

#[test]
fn concurrent_read_modify_writes_through_a_transaction_function_lose_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(dir.path().join("counter.db")).expect("store");
    store.transact(SCHEMA).expect("schema");
    increments(&store);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            thread::spawn(move || {
                for _ in 0..25 {
                    store.transact("[[:counter/inc]]").expect("increments");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("no panic");
    }
    let n = store.db().expect("db").q_str(COUNT, ()).expect("runs");
    assert_eq!(n.scalar::<i64>().expect("long"), Some(100));
}

#[test]
fn calls_nest_to_a_limit_and_failures_name_the_function() {
    let store = Store::open_in_memory().expect("store");
    store.transact(SCHEMA).expect("schema");
    increments(&store);
    store
        .register_tx_function(":counter/twice", |_, _| {
            Ok(TxData::from_iter(std::iter::empty()))
        })
        .expect("registered");
    store
        .register_tx_function(":counter/fail", |_, args| match args {
            [Value::Integer(_)] => panic!("a bug in the function"),
            _ => Err(Error::Query {
                message: "no reason given".into(),
            }),
        })
        .expect("registered");
    let before = store.db().expect("db").basis_tx();
    for (tx, fragment) in [
        ("[[:counter/fail]]", ":counter/fail failed: no reason given"),
        ("[[:counter/fail 1]]", ":counter/fail panicked"),
    ] {
        let error = store.transact(tx).expect_err(tx);
        assert_eq!(error.category(), ErrorCategory::Constraint, "{tx}");
        assert!(error.to_string().contains(fragment), "{tx}: {error}");
    }
    let unknown = store
        .transact("[[:counter/nothing 1]]")
        .expect_err("unknown");
    assert!(
        unknown.to_string().contains(":counter/nothing"),
        "{unknown}"
    );
    assert_eq!(
        store.db().expect("db").basis_tx(),
        before,
        "nothing written"
    );
    assert!(store
        .register_tx_function(":counter/inc", |_, _| Ok(TxData::new()))
        .is_err());
    assert!(store
        .register_tx_function(":db/mine", |_, _| Ok(TxData::new()))
        .is_err());
    store
        .transact("[[:counter/inc] [:counter/twice]]")
        .expect("a call beside another");
    let n = store.db().expect("db").q_str(COUNT, ()).expect("runs");
    assert_eq!(n.scalar::<i64>().expect("long"), Some(1));
}

#[test]
fn calls_expand_again_and_a_call_of_itself_stops_at_the_depth_limit() {
    let store = Store::open_in_memory().expect("store");
    store.transact(SCHEMA).expect("schema");
    increments(&store);
    store
        .register_tx_function(":counter/inc-then", |_, args| {
            let [Value::Integer(left)] = args else {
                return Ok(TxData::new());
            };
            Ok(match left {
                0 => TxData::new().call(":counter/inc", &[]),
                n => TxData::new().call(":counter/inc-then", &[&(n - 1)]),
            })
        })
        .expect("registered");
    store
        .transact("[[:counter/inc-then 3]]")
        .expect("four levels deep");
    let n = store.db().expect("db").q_str(COUNT, ()).expect("runs");
    assert_eq!(n.scalar::<i64>().expect("long"), Some(1));
    store
        .register_tx_function(":loop/self", |_, _| {
            Ok(TxData::new().call(":loop/self", &[]))
        })
        .expect("registered");
    let error = store.transact("[[:loop/self]]").expect_err("endless");
    assert_eq!(error.category(), ErrorCategory::Constraint);
    assert!(error.to_string().contains("more than 16 deep"), "{error}");
}
