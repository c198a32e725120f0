//! Two databases of one store as two data sources of one query
//! (Datomic's `(d/q query db (d/as-of db t))`): the current state joined
//! with a view of time of it — as-of, since, history, or another snapshot —
//! through patterns, rules, `or`, `not` and functions named by the second
//! source, in one SQL statement. The scenario format has no way to give a
//! database as an input, so these are Rust tests, each one query and its
//! expected result.

use factlite::{edn, Db, ErrorCategory, Inputs, QueryInput, Store};

/// A store where Ann was 30 and Bo 40 after transaction `t1`, then Ann
/// turned 31, Bo's age was retracted and Cy (25) arrived.
fn people() -> (Store, i64) {
    let store = Store::open_in_memory().expect("store");
    store
        .transact_str(
            r#"[{:db/ident :p/name :db/valueType :db.type/string
                 :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                {:db/ident :p/age :db/valueType :db.type/long
                 :db/cardinality :db.cardinality/one}
                {:db/ident :p/friend :db/valueType :db.type/ref
                 :db/cardinality :db.cardinality/many}]"#,
        )
        .expect("schema");
    let t1 = store
        .transact_str(
            r#"[{:db/id "ann" :p/name "Ann" :p/age 30 :p/friend "bo"}
                {:db/id "bo" :p/name "Bo" :p/age 40}]"#,
        )
        .expect("t1")
        .tx;
    store
        .transact_str(
            r#"[{:p/name "Ann" :p/age 31}
                [:db/retract [:p/name "Bo"] :p/age 40]
                {:p/name "Cy" :p/age 25}]"#,
        )
        .expect("t2");
    (store, t1)
}

/// Runs `query` on `db` with these inputs and compares its result, as EDN,
/// with `expected`.
fn check(db: &Db, query: &str, inputs: Vec<QueryInput>, expected: &str) {
    let result = db
        .q_str(query, inputs)
        .unwrap_or_else(|error| panic!("{query}: {error}"))
        .into_edn();
    assert_eq!(result, edn::parse(expected).expect("EDN"), "{query}");
}

fn database(db: Db) -> QueryInput {
    QueryInput::Database(db)
}

#[test]
fn a_pattern_on_an_as_of_database_joins_the_current_one() {
    let (store, t1) = people();
    let db = store.db().expect("db");
    let before = || database(db.as_of(t1));
    check(
        &db,
        "[:find ?n ?old ?new :in $ $before
          :where [?e :p/name ?n] [?e :p/age ?new] [$before ?e :p/age ?old]
                 [(not= ?old ?new)]]",
        vec![before()],
        r#"#{["Ann" 30 31]}"#,
    );
    check(
        &db,
        "[:find ?n :in $ $before :where [$before ?e :p/age] [?e :p/name ?n]
          (not [?e :p/age])]",
        vec![before()],
        r#"#{["Bo"]}"#,
    );
    check(
        &db,
        "[:find ?n :in $before $ :where [?e :p/name ?n] (not [$before ?e :p/age])]",
        vec![before()],
        r#"#{["Cy"]}"#,
    );
}

#[test]
fn or_not_and_rules_read_the_source_they_name() {
    let (store, t1) = people();
    let db = store.db().expect("db");
    let before = || database(db.as_of(t1));
    check(
        &db,
        "[:find ?n :in $ $before :where [?e :p/name ?n] ($before not [?e :p/age 30])]",
        vec![before()],
        r#"#{["Bo"] ["Cy"]}"#,
    );
    check(
        &db,
        "[:find ?n :in $ $before
          :where [?e :p/name ?n] ($before or [?e :p/age 40] [?e :p/age 30])]",
        vec![before()],
        r#"#{["Ann"] ["Bo"]}"#,
    );
    let rules = edn::parse("[[(aged ?e ?a) [?e :p/age ?a]]]").expect("rules");
    check(
        &db,
        "[:find ?n ?a :in $ $before % :where [?e :p/name ?n] ($before aged ?e ?a)]",
        vec![before(), QueryInput::Value(rules.clone())],
        r#"#{["Ann" 30] ["Bo" 40]}"#,
    );
    check(
        &db,
        "[:find ?n ?a :in $ $before % :where [?e :p/name ?n] (aged ?e ?a)]",
        vec![before(), QueryInput::Value(rules)],
        r#"#{["Ann" 31] ["Cy" 25]}"#,
    );
    check(
        &db,
        "[:find ?n ?a :in $ $before
          :where [?e :p/name ?n] [(get-else $before ?e :p/age 0) ?a]]",
        vec![before()],
        r#"#{["Ann" 30] ["Bo" 40] ["Cy" 0]}"#,
    );
    check(
        &db,
        "[:find ?n :in $ $before :where [?e :p/name ?n] [(missing? $before ?e :p/age)]]",
        vec![before()],
        r#"#{["Cy"]}"#,
    );
}

#[test]
fn installed_rules_merge_into_a_rule_set_after_a_second_source() {
    // Regression: the position of `%` among the inputs skipped every data
    // source, so after `$before` the given rule set was looked for one
    // input early (and the installed rules were merged into the database's
    // place).
    let (store, t1) = people();
    store
        .install_rules_str("[[(named ?e ?n) [?e :p/name ?n]]]")
        .expect("installed");
    let db = store.db().expect("db");
    let rules = edn::parse("[[(aged ?e ?a) [?e :p/age ?a]]]").expect("rules");
    check(
        &db,
        "[:find ?n ?a :in $ $before % :where (named ?e ?n) ($before aged ?e ?a)]",
        vec![database(db.as_of(t1)), QueryInput::Value(rules)],
        r#"#{["Ann" 30] ["Bo" 40]}"#,
    );
}

#[test]
fn history_and_since_databases_beside_the_current_one() {
    let (store, t1) = people();
    let db = store.db().expect("db");
    check(
        &db,
        "[:find ?n ?v ?added :in $ $h
          :where [$h ?e :p/age ?v _ ?added] [?e :p/name ?n] [(= ?n \"Bo\")]]",
        vec![database(db.history())],
        r#"#{["Bo" 40 true] ["Bo" 40 false]}"#,
    );
    check(
        &db,
        "[:find [?n ...] :in $ $new :where [$new ?e :p/age] [?e :p/name ?n]]",
        vec![database(db.since(t1))],
        r#"#{"Ann" "Cy"}"#,
    );
    // The current database given as the second source, the past as $.
    check(
        &db.as_of(t1),
        "[:find ?n ?then ?now :in $ $now
          :where [?e :p/age ?then] [$now ?e :p/age ?now] [?e :p/name ?n]]",
        vec![database(db.clone())],
        r#"#{["Ann" 30 31]}"#,
    );
}

#[test]
fn a_pull_reads_the_database_it_names() {
    let (store, t1) = people();
    let db = store.db().expect("db");
    check(
        &db,
        "[:find (pull $before ?e [:p/name :p/age]) (pull ?e [:p/age]) :in $ $before
          :where [?e :p/name \"Ann\"]]",
        vec![database(db.as_of(t1))],
        r#"#{[{:p/name "Ann" :p/age 30} {:p/age 31}]}"#,
    );
    check(
        &db,
        "[:find ?n (pull $before ?e [:p/age]) :in $ $before
          :where [?e :p/name ?n] [$before ?e :p/age]]",
        vec![database(db.as_of(t1))],
        r#"#{["Ann" {:p/age 30}] ["Bo" {:p/age 40}]}"#,
    );
}

#[test]
fn another_snapshot_of_the_store_reads_as_of_its_basis() {
    // A file store: its snapshots read through a pool of connections, so
    // the two snapshots may come from different ones.
    let dir = tempfile::tempdir().expect("dir");
    let (memory, _) = people();
    memory
        .backup_to(dir.path().join("people.db"))
        .expect("backup");
    let store = Store::open(dir.path().join("people.db")).expect("store");
    let earlier = store.db().expect("earlier");
    store
        .transact_str(r#"[{:p/name "Ann" :p/age 32}]"#)
        .expect("t3");
    let db = store.db().expect("db");
    check(
        &db,
        "[:find [?old ?new] :in $ $earlier
          :where [?e :p/name \"Ann\"] [?e :p/age ?new] [$earlier ?e :p/age ?old]]",
        vec![database(earlier)],
        "[31 32]",
    );
}

#[test]
fn one_plan_serves_every_basis_of_a_kind_of_view() {
    let (store, t1) = people();
    let db = store.db().expect("db");
    let prepared = db
        .prepare("[:find [?a ...] :in $ $then :where [$then _ :p/age ?a]]")
        .expect("prepared");
    let misses = store.plan_cache_stats().misses;
    let at = |tx: i64| prepared.run(&db, (db.as_of(tx),)).expect("runs").into_edn();
    assert_eq!(at(t1), edn::parse("#{30 40}").expect("EDN"));
    assert_eq!(at(db.basis_tx()), edn::parse("#{31 25}").expect("EDN"));
    assert_eq!(store.plan_cache_stats().misses, misses + 1);
}

#[test]
fn a_database_where_none_fits_is_refused() {
    let (store, t1) = people();
    let db = store.db().expect("db");
    let other = Store::open_in_memory().expect("other store");
    let refused = |query: &str, inputs: Vec<QueryInput>| {
        let error = db.q_str(query, inputs).expect_err(query);
        assert_eq!(error.category(), ErrorCategory::Query, "{query}: {error}");
        error.to_string()
    };
    let message = refused(
        "[:find ?a :in $ $h :where [$h _ :p/age ?a]]",
        vec![database(other.db().expect("other db"))],
    );
    assert!(message.contains("another store"), "{message}");
    let message = refused(
        "[:find ?a :in $ ?x :where [_ :p/age ?a]]",
        vec![database(db.as_of(t1))],
    );
    assert!(message.contains("input 1 is a database"), "{message}");
    let message = refused(
        "[:find ?a :where [$h _ :p/age ?a]]",
        Vec::<QueryInput>::new(),
    );
    assert!(message.contains("unknown data source $h"), "{message}");
    let message = refused(
        "[:find ?a :in $ $2 :where [?e :p/name] [(get-else $2 ?e :p/age 0) ?a]]",
        vec![QueryInput::Value(edn::parse("[[1 2]]").expect("EDN"))],
    );
    assert!(message.contains("$2 is not a database"), "{message}");
    let message = refused(
        "[:find (pull $2 ?e [:p/age]) :in $ $2 :where [?e :p/name]]",
        vec![QueryInput::Value(edn::parse("[[1 2]]").expect("EDN"))],
    );
    assert!(message.contains("$2 is none of the query's"), "{message}");
    // Where only values are taken (`Db::explain`, views), a database is
    // refused by name.
    let error = (1, db.as_of(t1)).into_inputs().expect_err("a database");
    assert!(
        error.to_string().contains("input 1 is a database"),
        "{error}"
    );
}
