//! The façade end to end: transact, query, pull, explain and views of time.

use factlite::{edn, Store};

fn store() -> Store {
    let store = Store::open_in_memory().expect("in-memory store");
    store
        .transact_str(
            r#"[{:db/ident :person/name :db/valueType :db.type/string
                 :db/cardinality :db.cardinality/one :db/index true}
                {:db/ident :person/age :db/valueType :db.type/long
                 :db/cardinality :db.cardinality/one}]"#,
        )
        .expect("schema");
    store
}

#[test]
fn explain_shows_sql_parameters_and_the_index_sqlite_uses() {
    let store = store();
    store
        .transact_str(r#"[{:person/name "Ivan" :person/age 30}]"#)
        .expect("data");
    let db = store.db().expect("db");
    let query = edn::parse(r#"[:find ?a :where [?e :person/name "Ivan"] [?e :person/age ?a]]"#)
        .expect("edn");
    let explanation = db.explain(&query, &[]).expect("explain");
    assert!(
        explanation.sql.starts_with("SELECT DISTINCT"),
        "{}",
        explanation.sql
    );
    assert!(explanation
        .params
        .contains(&factlite_planner::SqlLiteral::Text("Ivan".into())));
    let plan = explanation.query_plan.join("\n");
    assert!(
        plan.contains("datoms_avet"),
        "the constant name should use AVET:\n{plan}"
    );
    assert_eq!(
        db.q(&query, &[]).expect("query"),
        edn::parse("#{[30]}").expect("edn")
    );
}

#[test]
fn a_snapshot_does_not_see_later_transactions() {
    let store = store();
    store
        .transact_str(r#"[{:person/name "Ann"}]"#)
        .expect("ann");
    let before = store.db().expect("db");
    store.transact_str(r#"[{:person/name "Bo"}]"#).expect("bo");
    let names = "[:find [?n ...] :where [_ :person/name ?n]]";
    assert_eq!(
        before.q_str(names, &[]).expect("q"),
        edn::parse(r#"#{"Ann"}"#).expect("edn")
    );
    assert_eq!(
        store.db().expect("db").q_str(names, &[]).expect("q"),
        edn::parse(r#"#{"Ann" "Bo"}"#).expect("edn")
    );
}

#[test]
fn errors_carry_categories() {
    let store = store();
    let error = store
        .transact_str(r#"[{:person/age "old"}]"#)
        .expect_err("type mismatch");
    assert_eq!(error.category().keyword(), ":error/type-mismatch");
    let error = store
        .db()
        .expect("db")
        .q_str("[:find ?x :where [?e :person/nope ?x]]", &[])
        .expect_err("unknown");
    assert_eq!(error.category().keyword(), ":error/unknown-attribute");
    let error = store
        .db()
        .expect("db")
        .q_str("[:find ?x :where", &[])
        .expect_err("not edn");
    assert_eq!(error.category().keyword(), ":error/parse");
}

/// Regression: `explain` of a query with inputs failed ("the plan reads
/// input 1 but 0 were given") once inputs became run-time parameters.
#[test]
fn explain_shows_the_values_of_inputs() {
    let store = store();
    let db = store.db().expect("db");
    let query = edn::parse(
        "[:find ?e :in $ ?min [?name ...] :where [?e :person/name ?name] [?e :person/age ?a] [(> ?a ?min)]]",
    )
    .expect("edn");
    let inputs = [
        edn::Value::Integer(30),
        edn::parse(r#"["Ann" "Bo"]"#).expect("edn"),
    ];
    let explanation = db.explain(&query, &inputs).expect("explain");
    assert!(
        explanation.sql.contains("json_each(?2)"),
        "{}",
        explanation.sql
    );
    assert_eq!(
        explanation.params[0],
        factlite_planner::SqlLiteral::Integer(30)
    );
    assert_eq!(
        explanation.params[1],
        factlite_planner::SqlLiteral::Text(format!(
            r#"[["Ann",{0}],["Bo",{0}]]"#,
            factlite::ValueType::String.tag()
        ))
    );
    assert!(!explanation.query_plan.is_empty());
}

#[test]
fn a_since_view_of_an_older_snapshot_ignores_later_transactions() {
    let store = Store::open_in_memory().expect("opens");
    store
        .transact_str(
            "[{:db/ident :p/n :db/valueType :db.type/long :db/cardinality :db.cardinality/many}]",
        )
        .expect("schema");
    let first = store
        .transact_str(r#"[[:db/add "x" :p/n 1]]"#)
        .expect("tx")
        .tx;
    store.transact_str(r#"[[:db/add "y" :p/n 2]]"#).expect("tx");
    let snapshot = store.db().expect("db");
    store
        .transact_str(r#"[[:db/add "z" :p/n 3]]"#)
        .expect("a later transaction");
    let query = "[:find [?v ...] :where [_ :p/n ?v]]";
    assert_eq!(
        snapshot.since(first).q_str(query, &[]).expect("runs"),
        factlite::edn::parse("#{2}").expect("EDN"),
        "asserted after the first transaction and before the snapshot"
    );
    assert_eq!(
        store
            .db()
            .expect("db")
            .since(first)
            .q_str(query, &[])
            .expect("runs"),
        factlite::edn::parse("#{2 3}").expect("EDN")
    );
}

/// An entity id and a long of the same number join as one value, and are
/// one row of a result too (as in Datomic, where both are longs): the rows
/// of a relation stay distinct once read.
#[test]
fn an_entity_id_and_a_long_of_the_same_number_are_one_row() {
    let store = Store::open_in_memory().expect("in-memory store");
    store
        .transact_str(
            r#"[{:db/ident :x/n :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
                {:db/ident :x/r :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}]"#,
        )
        .expect("schema");
    let a = store
        .transact_str(r#"[{:db/id "a" :x/n 1}]"#)
        .expect("a")
        .tempids["a"];
    store
        .transact_str(&format!("[{{:x/n {a} :x/r {a}}}]"))
        .expect("both point at a");
    let db = store.db().expect("db");
    for query in [
        "[:find ?v :where (or [_ :x/n ?v] [_ :x/r ?v]) [(!= ?v 1)]]",
        "[:find [?v ...] :where (or [_ :x/n ?v] [_ :x/r ?v]) [(!= ?v 1)]]",
    ] {
        let result = db.q_str(query, &[]).expect("query");
        assert_eq!(result.len(), 1, "{query}: {result}");
    }
}

/// A query of more data patterns than SQLite joins in one SELECT is a
/// query error that says so, not a storage error.
#[test]
fn a_query_joining_more_tables_than_sqlite_allows_is_a_query_error() {
    let store = store();
    store
        .transact_str(r#"[{:person/name "Ivan" :person/age 30}]"#)
        .expect("data");
    let patterns: String = (0..70)
        .map(|i| format!("[?e{i} :person/name ?n]"))
        .collect();
    let query = format!("[:find ?n :where {patterns}]");
    let error = store
        .db()
        .expect("db")
        .q_str(&query, &[])
        .expect_err("too many tables");
    assert_eq!(error.category(), factlite::ErrorCategory::Query, "{error}");
    assert!(error.to_string().contains("64 tables"), "{error}");
}
