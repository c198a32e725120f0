//! Prepared queries and the plan cache: the cases in `prepared/cases.edn`
//! (a query, its runs with inputs and expected results, and how many plans
//! the runs compile), then invalidation and eviction.

use factlite::{edn, PreparedQuery, Store, Value, PLAN_CACHE_CAPACITY};

fn people() -> Store {
    let store = Store::open_in_memory().expect("in-memory store");
    store
        .transact_str(
            r#"[{:db/ident :person/name :db/valueType :db.type/string
                 :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                {:db/ident :person/age :db/valueType :db.type/long
                 :db/cardinality :db.cardinality/one}]"#,
        )
        .expect("schema");
    store
        .transact_str(
            r#"[{:person/name "Ann" :person/age 25} {:person/name "Bo" :person/age 30}
                {:person/name "Cy" :person/age 40} {:person/name "Di" :person/age 50}]"#,
        )
        .expect("people");
    store
}

fn field<'v>(case: &'v Value, name: &str) -> &'v Value {
    match case {
        Value::Map(map) => map
            .get(&edn::parse(name).expect("keyword"))
            .unwrap_or_else(|| panic!("a case needs {name}: {case}")),
        other => panic!("a case is a map, not {other}"),
    }
}

fn items(value: &Value) -> &[Value] {
    match value {
        Value::Vector(items) => items,
        other => panic!("expected a vector, got {other}"),
    }
}

#[test]
fn prepared_queries_compile_once_per_input_signature() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/prepared/cases.edn"
    ))
    .expect("cases");
    let cases = edn::parse_all(&text).expect("cases are EDN");
    assert!(cases.len() >= 8, "the cases file was read");
    for case in &cases {
        let store = people();
        let db = store.db().expect("db");
        let query = field(case, ":query");
        let prepared = PreparedQuery::new(query).expect("the query parses");
        for run in items(field(case, ":runs")) {
            let [inputs, expected] = items(run) else {
                panic!("a run is [inputs expected]: {run}");
            };
            let actual = prepared.run(&db, items(inputs)).expect("the query runs");
            assert_eq!(&actual, expected, "{query} with {inputs}");
            // `q` finds the plan `run` compiled.
            let misses = store.plan_cache_stats().misses;
            assert_eq!(&db.q(query, items(inputs)).expect("q"), expected);
            assert_eq!(
                store.plan_cache_stats().misses,
                misses,
                "q recompiled {query}"
            );
        }
        let Value::Integer(plans) = field(case, ":plans") else {
            panic!(":plans is a number");
        };
        assert_eq!(
            store.plan_cache_stats().misses,
            *plans as u64,
            "plans compiled for {query}"
        );
    }
}

#[test]
fn a_collection_input_may_have_thousands_of_values() {
    let store = people();
    let names: Vec<Value> = (0..5000)
        .map(|i| Value::String(format!("n{i}")))
        .chain([Value::String("Bo".into())])
        .collect();
    let result = store
        .db()
        .expect("db")
        .q_str(
            "[:find [?a ...] :in $ [?n ...] :where [?e :person/name ?n] [?e :person/age ?a]]",
            &[Value::Vector(names)],
        )
        .expect("query");
    assert_eq!(result, edn::parse("#{30}").expect("edn"));
}

#[test]
fn a_schema_change_empties_the_cache() {
    let store = people();
    let query = "[:find [?n ...] :where [_ :person/name ?n]]";
    store.db().expect("db").q_str(query, &[]).expect("q");
    store.db().expect("db").q_str(query, &[]).expect("q");
    assert_eq!(store.plan_cache_stats().misses, 1);
    store
        .transact_str(r#"[{:person/name "Ed"}]"#)
        .expect("data");
    store.db().expect("db").q_str(query, &[]).expect("q");
    assert_eq!(store.plan_cache_stats().misses, 1, "data alone keeps plans");
    store
        .transact_str(
            r#"[{:db/ident :person/email :db/valueType :db.type/string
                 :db/cardinality :db.cardinality/one}]"#,
        )
        .expect("schema");
    let names = store.db().expect("db").q_str(query, &[]).expect("q");
    assert_eq!(
        store.plan_cache_stats().misses,
        2,
        "a schema change recompiles"
    );
    assert_eq!(
        names,
        edn::parse(r#"#{"Ann" "Bo" "Cy" "Di" "Ed"}"#).expect("edn")
    );
}

#[test]
fn views_of_time_share_a_plan_across_transactions() {
    let store = people();
    let first = store.db().expect("db").basis_tx();
    store
        .transact_str(r#"[{:person/name "Ann" :person/age 26}]"#)
        .expect("birthday");
    let second = store.db().expect("db").basis_tx();
    store
        .transact_str(r#"[{:person/name "Ann" :person/age 27}]"#)
        .expect("birthday");
    let db = store.db().expect("db");
    let age = db
        .prepare(r#"[:find ?a . :where [?e :person/name "Ann"] [?e :person/age ?a]]"#)
        .expect("prepare");
    assert_eq!(
        age.run(&db.as_of(first), &[]).expect("q"),
        Value::Integer(25)
    );
    assert_eq!(
        age.run(&db.as_of(second), &[]).expect("q"),
        Value::Integer(26)
    );
    assert_eq!(age.run(&db, &[]).expect("q"), Value::Integer(27));
    // One plan for every as-of, one for the current state.
    assert_eq!(store.plan_cache_stats().misses, 2);
}

#[test]
fn the_least_recently_used_plan_goes_first() {
    let store = people();
    let db = store.db().expect("db");
    let query = |n: usize| format!("[:find ?e :where [?e :person/age {n}]]");
    db.q_str(&query(0), &[]).expect("q");
    for n in 1..PLAN_CACHE_CAPACITY {
        db.q_str(&query(n), &[]).expect("q");
    }
    assert_eq!(store.plan_cache_stats().len, PLAN_CACHE_CAPACITY);
    db.q_str(&query(0), &[]).expect("used again");
    db.q_str(&query(PLAN_CACHE_CAPACITY), &[])
        .expect("one more");
    let stats = store.plan_cache_stats();
    assert_eq!(stats.len, PLAN_CACHE_CAPACITY);
    db.q_str(&query(0), &[]).expect("still cached");
    assert_eq!(store.plan_cache_stats().misses, stats.misses);
    db.q_str(&query(1), &[]).expect("evicted");
    assert_eq!(store.plan_cache_stats().misses, stats.misses + 1);
}

/// Regression: a scalar query's `LIMIT 1` was a bound parameter, and SQLite
/// plans with a bound LIMIT's value, so it compiled the cached statement
/// again on every run (a point lookup cost 3-4× the hand-written SQL).
#[test]
fn sqlite_does_not_prepare_a_cached_plan_again_on_each_run() {
    let store = people();
    let db = store.db().expect("db");
    let text = "[:find ?a . :in $ ?name :where [?e :person/name ?name] [?e :person/age ?a]]";
    let prepared = db.prepare(text).expect("prepare");
    for name in ["Ann", "Bo", "Cy", "Di"] {
        prepared
            .run(&db, &[Value::String(name.into())])
            .expect("run");
    }
    let sql = db
        .explain(
            &edn::parse(text).expect("edn"),
            &[Value::String("Ann".into())],
        )
        .expect("explain")
        .sql;
    db.with_connection(|connection| {
        let statement = connection
            .prepare_cached(&sql)
            .expect("the plan's statement is cached");
        assert_eq!(statement.get_status(rusqlite::StatementStatus::Run), 4);
        assert_eq!(
            statement.get_status(rusqlite::StatementStatus::RePrepare),
            0
        );
    });
}
