//! Named rules installed in the store: queries find rules their `%` does
//! not give among the installed ones; installing checks the rules, replaces
//! a name's definitions, persists in a file and follows the views of time.

use factlite::{edn, ErrorCategory, Store, Value};

const SCHEMA: &str = r#"[{:db/ident :node/name :db/valueType :db.type/string
                          :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                         {:db/ident :node/next :db/valueType :db.type/ref
                          :db/cardinality :db.cardinality/many}]"#;

/// a -> b -> c -> a, and c -> d.
const GRAPH: &str = r#"[{:db/id "a" :node/name "a" :node/next "b"}
                        {:db/id "b" :node/name "b" :node/next "c"}
                        {:db/id "c" :node/name "c" :node/next ["a" "d"]}
                        {:db/id "d" :node/name "d"}]"#;

const AFTER: &str = "[[(after ?x ?y) [?x :node/next ?y]]
                      [(after ?x ?y) [?x :node/next ?m] (after ?m ?y)]]";

const FROM_A: &str =
    r#"[:find [?n ...] :where [?a :node/name "a"] (after ?a ?b) [?b :node/name ?n]]"#;

fn graph(store: &Store) {
    store.transact_str(SCHEMA).expect("schema");
    store.transact_str(GRAPH).expect("graph");
}

fn store() -> Store {
    let store = Store::open_in_memory().expect("in-memory store");
    graph(&store);
    store
}

fn check(store: &Store, query: &str, inputs: &[Value], expected: &str) {
    let result = store
        .db()
        .expect("db")
        .q_str(query, inputs)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    assert_eq!(
        result,
        edn::parse(expected).expect("expected EDN"),
        "{query}"
    );
}

fn query_error(store: &Store, query: &str, inputs: &[Value]) -> ErrorCategory {
    match store.db().expect("db").q_str(query, inputs) {
        Ok(result) => panic!("{query} should fail, gave {result}"),
        Err(error) => error.category(),
    }
}

#[test]
fn a_query_calls_an_installed_rule_without_passing_it() {
    let store = store();
    assert_eq!(query_error(&store, FROM_A, &[]), ErrorCategory::Query);
    store.install_rules_str(AFTER).expect("install");
    check(&store, FROM_A, &[], r#"#{"a" "b" "c" "d"}"#);
    check(
        &store,
        r#"[:find ?n . :in $ ?target :where [?t :node/name ?target] (after ?s ?t) [?s :node/name ?n] [(= ?n "b")]]"#,
        &[Value::String("d".into())],
        r#""b""#,
    );
}

#[test]
fn rules_given_in_the_query_call_installed_ones_and_win_over_them() {
    let store = store();
    store.install_rules_str(AFTER).expect("install");
    let two_steps = edn::parse("[[(two ?x ?y) [?x :node/next ?m] (after ?m ?y)]]").expect("edn");
    check(
        &store,
        r#"[:find [?n ...] :in $ % :where [?d :node/name "d"] (two ?s ?d) [?s :node/name ?n]]"#,
        &[two_steps],
        r#"#{"a" "b" "c"}"#,
    );
    let direct_only = edn::parse("[[(after ?x ?y) [?x :node/next ?y]]]").expect("edn");
    check(
        &store,
        r#"[:find [?n ...] :in $ % :where [?a :node/name "a"] (after ?a ?b) [?b :node/name ?n]]"#,
        &[direct_only],
        r#"#{"b"}"#,
    );
}

#[test]
fn installing_replaces_a_names_definitions_and_checks_the_rules() {
    let store = store();
    store.install_rules_str(AFTER).expect("install");
    store
        .install_rules_str("[[(after ?x ?y) [?x :node/next ?y]]]")
        .expect("replace");
    check(&store, FROM_A, &[], r#"#{"b"}"#);
    let refused = [
        "[[(hop ?x ?y) (nowhere ?x ?y)]]",
        "[[(hop ?x) [?x :node/name _]] [(hop ?x ?y) [?x :node/next ?y]]]",
        "[[(odd ?x) [?x :node/name _] (not (odd ?x))]]",
    ];
    for rules in refused {
        let error = store.install_rules_str(rules).expect_err(rules);
        assert_eq!(error.category(), ErrorCategory::Query, "{rules}: {error}");
    }
    assert_eq!(
        store.rules().expect("rules"),
        edn::parse("[[(after ?x ?y) [?x :node/next ?y]]]").expect("edn"),
        "refused installs change nothing"
    );
}

#[test]
fn removing_a_rule_is_refused_while_another_calls_it() {
    let store = store();
    store.install_rules_str(AFTER).expect("install");
    store
        .install_rules_str("[[(two ?x ?y) [?x :node/next ?m] (after ?m ?y)]]")
        .expect("install two");
    let error = store.remove_rules(&["after"]).expect_err("two calls after");
    assert_eq!(error.category(), ErrorCategory::Query);
    let unknown = store
        .remove_rules(&["two", "nosuch"])
        .expect_err("a name not installed");
    assert!(
        unknown.to_string().contains("no rule named nosuch"),
        "{unknown}"
    );
    store.remove_rules(&["two", "after"]).expect("remove both");
    assert_eq!(
        store.rules().expect("rules"),
        edn::parse("[]").expect("edn")
    );
    assert_eq!(query_error(&store, FROM_A, &[]), ErrorCategory::Query);
}

#[test]
fn a_snapshot_sees_the_rules_installed_at_its_basis() {
    let store = store();
    let before = store.db().expect("db");
    let installed = store.install_rules_str(AFTER).expect("install");
    store
        .install_rules_str("[[(after ?x ?y) [?x :node/next ?y]]]")
        .expect("replace");
    let query = edn::parse(FROM_A).expect("edn");
    let at_install = store.db().expect("db").as_of(installed.tx);
    assert_eq!(
        at_install.q(&query, &[]).expect("as of the install"),
        edn::parse(r#"#{"a" "b" "c" "d"}"#).expect("edn")
    );
    assert_eq!(
        store.db().expect("db").q(&query, &[]).expect("now"),
        edn::parse(r#"#{"b"}"#).expect("edn")
    );
    let error = before.q(&query, &[]).expect_err("no rules back then");
    assert_eq!(error.category(), ErrorCategory::Query);
}

#[test]
fn installed_rules_persist_in_a_file_and_may_be_non_linear() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rules.db");
    {
        let store = Store::open(&path).expect("file store");
        graph(&store);
        store
            .install_rules_str(
                "[[(path ?x ?y) [?x :node/next ?y]] [(path ?x ?y) (path ?x ?m) (path ?m ?y)]]",
            )
            .expect("install");
    }
    let store = Store::open(&path).expect("reopened");
    check(
        &store,
        r#"[:find [?n ...] :where [?d :node/name "d"] (path ?s ?d) [?s :node/name ?n]]"#,
        &[],
        r#"#{"a" "b" "c"}"#,
    );
    check(
        &store,
        "[:find (count ?y) . :with ?x :where (path ?x ?y)]",
        &[],
        "12",
    );
}

#[test]
fn a_rule_name_must_be_a_symbol_that_reads_back() {
    let store = store();
    let hostile = edn::Symbol {
        namespace: None,
        name: "after ?x) DROP TABLE datoms; --".to_string(),
    };
    let rule = |name: Value| {
        Value::Vector(vec![Value::Vector(vec![
            Value::List(vec![name, Value::symbol("?x")]),
            edn::parse("[?x :node/name]").expect("clause"),
        ])])
    };
    for name in [
        Value::Symbol(hostile),
        Value::symbol("not"),
        Value::symbol("or-join"),
        Value::symbol("$src"),
        Value::symbol("_"),
    ] {
        let shown = format!("{name:?}");
        let error = store.install_rules(&rule(name)).expect_err(&shown);
        assert_eq!(error.category(), ErrorCategory::Parse, "{shown}: {error}");
        assert!(error.to_string().contains("rule name"), "{shown}: {error}");
    }
    assert_eq!(
        store.rules().expect("rules"),
        edn::parse("[]").expect("EDN")
    );
    store
        .install_rules(&rule(Value::symbol("graph/named")))
        .expect("a namespaced symbol is a name");
}

#[test]
fn a_stored_rule_that_does_not_read_back_disables_nothing_else_and_can_be_removed() {
    let store = store();
    store.install_rules_str(AFTER).expect("installs");
    // A definition written by hand (or by an older version) that is not a
    // rule set any more.
    store
        .transact_str(r#"[{:factlite.rule/name "broken" :factlite.rule/source "[[(broken ?a) "}]"#)
        .expect("written as data");
    assert_eq!(
        store.rules().expect("the others still list"),
        edn::parse(AFTER).expect("EDN")
    );
    check(&store, FROM_A, &[], r#"#{"a" "b" "c" "d"}"#);
    let unreadable = store.unreadable_rules().expect("listed");
    assert_eq!(unreadable.len(), 1);
    assert_eq!(unreadable[0].0, "broken");
    let error = store
        .db()
        .expect("db")
        .q_str("[:find ?a :where (broken ?a)]", ())
        .expect_err("the broken rule cannot run");
    assert_eq!(error.category(), ErrorCategory::Query);
    assert!(
        error
            .to_string()
            .contains("installed rule broken does not read back"),
        "{error}"
    );
    store.remove_rules(&["broken"]).expect("removed by name");
    assert!(store.unreadable_rules().expect("listed").is_empty());
    store
        .install_rules_str("[[(broken ?a) [?a :node/name]]]")
        .expect("installed again");
    let names = store
        .db()
        .expect("db")
        .q_str("[:find (count ?a) . :where (broken ?a)]", ())
        .expect("runs");
    assert_eq!(names.into_edn(), Value::Integer(4));
}
