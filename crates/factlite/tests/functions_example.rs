//! The functions example (`examples/functions.rs`) runs and prints what
//! `tests/functions_example.out` holds (`UPDATE_SNAPSHOTS=1` rewrites it);
//! and registered functions behave: one statement, errors and panics as
//! query errors, names checked.

// The example's `main` is its own entry point, not this test's.
#[allow(dead_code)]
#[path = "../examples/functions.rs"]
mod functions;

use factlite::{edn, ErrorCategory, QueryResultExt, Store};

#[test]
fn the_functions_example_prints_what_it_should() {
    let store = Store::open_in_memory().expect("store");
    let mut out = Vec::new();
    functions::run(&store, &mut out).expect("the example runs");
    let actual = String::from_utf8(out).expect("UTF-8");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/functions_example.out");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &actual).expect("write functions_example.out");
    }
    let expected = std::fs::read_to_string(path).expect("functions_example.out");
    assert_eq!(actual, expected);
}

fn numbers() -> Store {
    let store = Store::open_in_memory().expect("store");
    store
        .transact(r#"[{:db/ident :n/x :db/valueType :db.type/long :db/cardinality :db.cardinality/many}
                      {:db/ident :n/s :db/valueType :db.type/string :db/cardinality :db.cardinality/many}
                      {:n/x [1 2 3] :n/s ["a"]}]"#)
        .expect("data");
    store
}

#[test]
fn a_registered_function_is_called_inside_the_one_statement() {
    let store = numbers();
    store
        .register_function("my/double", |x: i64| x * 2)
        .expect("registered");
    let query =
        edn::parse("[:find ?y :where [_ :n/x ?x] [(my/double ?x) ?y] [(> ?y 2)]]").expect("EDN");
    let db = store.db().expect("db");
    let explanation = db.explain(&query, &[]).expect("explains");
    assert!(
        explanation.sql.contains("factlite_registered_"),
        "{}",
        explanation.sql
    );
    assert_eq!(
        db.q(&query, ()).expect("runs").into_edn(),
        edn::parse("#{[4] [6]}").expect("EDN")
    );
}

#[test]
fn a_file_store_s_readers_get_functions_registered_before_and_after_they_opened() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(dir.path().join("f.db")).expect("store");
    store
        .transact(r#"[{:db/ident :n/x :db/valueType :db.type/long :db/cardinality :db.cardinality/many} {:n/x [1 2]}]"#)
        .expect("data");
    let early = store.db().expect("a reader opens");
    store
        .register_function("my/inc", |x: i64| x + 1)
        .expect("registered");
    let query = "[:find (sum ?y) . :where [_ :n/x ?x] [(my/inc ?x) ?y]]";
    assert_eq!(
        early
            .q_str(query, ())
            .expect("runs")
            .scalar::<i64>()
            .expect("long"),
        Some(5)
    );
    let readers: Vec<_> = (0..3).map(|_| store.db().expect("db")).collect();
    for db in &readers {
        assert_eq!(
            db.q_str(query, ())
                .expect("runs")
                .scalar::<i64>()
                .expect("long"),
            Some(5)
        );
    }
}

#[test]
fn a_failing_or_panicking_function_fails_the_query_and_nothing_else() {
    let store = numbers();
    store
        .register_function("my/boom", |x: i64| -> i64 {
            if x == 2 {
                panic!("two is not allowed")
            }
            x
        })
        .expect("registered");
    store
        .register_function("my/len", |s: String| s.len() as i64)
        .expect("registered");
    let panicked = store
        .db()
        .expect("db")
        .q_str("[:find ?y :where [_ :n/x ?x] [(my/boom ?x) ?y]]", ())
        .expect_err("panicked");
    assert_eq!(panicked.category(), ErrorCategory::Query);
    assert!(
        panicked.to_string().contains("my/boom panicked"),
        "{panicked}"
    );
    let mistyped = store
        .db()
        .expect("db")
        .q_str("[:find ?y :where [_ :n/x ?x] [(my/len ?x) ?y]]", ())
        .expect_err("a long is no string");
    assert_eq!(mistyped.category(), ErrorCategory::Query);
    assert!(
        mistyped
            .to_string()
            .contains("argument 1: expected String, found integer"),
        "{mistyped}"
    );
    let fine = store
        .db()
        .expect("db")
        .q_str("[:find ?y . :where [_ :n/s ?s] [(my/len ?s) ?y]]", ());
    assert_eq!(fine.expect("runs").scalar::<i64>().expect("long"), Some(1));
}

#[test]
fn function_names_are_namespaced_and_registered_once() {
    let store = numbers();
    for name in [
        "double",
        "clojure.string/upper-case",
        "str/x",
        "not a symbol",
    ] {
        let error = store.register_function(name, |x: i64| x).expect_err(name);
        assert_eq!(error.category(), ErrorCategory::Query, "{name}");
    }
    store
        .register_function("my/f", |x: i64| x)
        .expect("registered");
    assert!(
        store.register_function("my/f", |x: i64| x).is_err(),
        "a name once"
    );
    let error = store
        .db()
        .expect("db")
        .q_str("[:find ?y :where [_ :n/x ?x] [(my/f ?x ?x) ?y]]", ())
        .expect_err("wrong arity");
    assert!(error.to_string().contains("takes 1"), "{error}");
}
