//! Vocabularies (`Store::ensure_vocabulary`): installed when absent, left
//! alone at the same version, upgraded with the consumer's migration in one
//! transaction, refused when older than installed or in conflict with it —
//! and always visible to queries as data.

use factlite_edn::{parse, Keyword, Value};
use factlite_query::{parse_query, parse_tx_data};
use factlite_store::{Config, Db, Error, Migration, Store, Vocabulary, VocabularyOutcome};

const TODO_V1: &str = r#"[
 {:db/ident :todo/title :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :todo/tags :db/valueType :db.type/string :db/cardinality :db.cardinality/many}
 {:db/ident :todo/state :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :todo.state/open} {:db/ident :todo.state/done}]"#;

/// Version 2 adds a priority and stops listing the tags.
const TODO_V2: &str = r#"[
 {:db/ident :todo/title :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :todo/state :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :todo.state/open} {:db/ident :todo.state/done}
 {:db/ident :todo/priority :db/valueType :db.type/long :db/cardinality :db.cardinality/one
  :db/doc "1 is the most urgent"}]"#;

fn keyword(text: &str) -> Keyword {
    match parse(text).expect("keyword parses").into_keyword() {
        Ok(k) => k,
        Err(other) => panic!("{other} is not a keyword"),
    }
}

fn vocabulary(name: &str, version: i64, definitions: &str) -> Vocabulary {
    Vocabulary::new(
        keyword(name),
        version,
        &parse(definitions).expect("definitions parse"),
    )
    .expect("vocabulary is well formed")
}

/// What ensuring did, as text: `installed`, `upgraded from N`,
/// `unchanged`, or `:error/<category> <message>`.
fn ensure(store: &Store, vocabulary: &Vocabulary) -> String {
    match store.ensure_vocabulary(vocabulary) {
        Ok(VocabularyOutcome::Installed(_)) => "installed".into(),
        Ok(VocabularyOutcome::Upgraded { from, .. }) => format!("upgraded from {from}"),
        Ok(VocabularyOutcome::Unchanged) => "unchanged".into(),
        Err(e) => format!("{} {e}", e.category().keyword()),
    }
}

fn transact(store: &Store, text: &str) {
    let forms = parse_tx_data(&parse(text).expect("tx parses")).expect("tx data");
    store
        .transact(&forms)
        .unwrap_or_else(|e| panic!("{text}: {e}"));
}

fn query(db: &Db, text: &str) -> String {
    let query = parse_query(&parse(text).expect("query parses")).expect("query");
    db.query(&query, &[]).expect("query runs").to_string()
}

/// The installed vocabularies as data: `name version [idents]`.
fn installed(store: &Store) -> String {
    let db = store.db().expect("db");
    query(
        &db,
        "[:find ?n ?v (distinct ?i) :where [?e :db.vocabulary/name ?n]
          [?e :db.vocabulary/version ?v] [?e :db.vocabulary/attributes ?a] [?a :db/ident ?i]]",
    )
}

fn todo_store() -> Store {
    let store = Store::open_in_memory().expect("store");
    assert_eq!(
        ensure(&store, &vocabulary(":app/todo", 1, TODO_V1)),
        "installed"
    );
    transact(
        &store,
        r#"[{:todo/title "write" :todo/state :todo.state/open :todo/tags ["a"]}
            {:todo/title "test" :todo/state :todo.state/done}]"#,
    );
    store
}

#[test]
fn an_absent_vocabulary_is_installed_as_data() {
    let store = todo_store();
    assert_eq!(
        installed(&store),
        "#{[:app/todo 1 #{:todo/title :todo/tags :todo/state :todo.state/open :todo.state/done}]}"
    );
    assert_eq!(
        query(
            &store.db().expect("db"),
            "[:find ?t . :where [?e :todo/state :todo.state/done] [?e :todo/title ?t]]"
        ),
        r#""test""#
    );
}

#[test]
fn the_same_version_again_writes_nothing() {
    let store = todo_store();
    let before = store.latest_tx().expect("latest");
    assert_eq!(
        ensure(&store, &vocabulary(":app/todo", 1, TODO_V1)),
        "unchanged"
    );
    assert_eq!(store.latest_tx().expect("latest"), before);
}

#[test]
fn a_higher_version_upgrades_with_a_migration_step_in_one_transaction() {
    let store = todo_store();
    let before = store.latest_tx().expect("latest");
    // the step reads the store before the upgrade and returns tx data
    let step = Migration::Step(Box::new(|db: &Db, from: i64| {
        assert_eq!(from, 1);
        let titles = query(
            db,
            "[:find [?t ...] :where [?e :todo/state :todo.state/open] [?e :todo/title ?t]]",
        );
        let Value::Set(titles) = &parse(&titles)? else {
            return Err("titles are a set".into());
        };
        let data: Vec<String> = titles
            .iter()
            .map(|t| format!("{{:todo/title {t} :todo/priority 1}}"))
            .collect();
        Ok(parse(&format!("[{}]", data.join(" ")))?)
    }));
    let v2 = vocabulary(":app/todo", 2, TODO_V2).with_migration(step);
    assert_eq!(ensure(&store, &v2), "upgraded from 1");
    assert_eq!(
        store.latest_tx().expect("latest"),
        before + 1,
        "one transaction"
    );
    let db = store.db().expect("db");
    assert_eq!(
        query(
            &db,
            "[:find ?t ?p :where [?e :todo/priority ?p] [?e :todo/title ?t]]"
        ),
        r#"#{["write" 1]}"#
    );
    // the list forgets :todo/tags, but the attribute and its data stay
    assert_eq!(
        installed(&store),
        "#{[:app/todo 2 #{:todo/title :todo/state :todo.state/open :todo.state/done :todo/priority}]}"
    );
    assert_eq!(
        query(&db, "[:find ?g . :where [_ :todo/tags ?g]]"),
        r#""a""#
    );
    assert_eq!(ensure(&store, &v2), "unchanged");
}

#[test]
fn a_higher_version_upgrades_with_migration_tx_data() {
    let store = todo_store();
    let data = parse_tx_data(
        &parse(r#"[[:db/retract [:todo/title "test"] :todo/state :todo.state/done]]"#)
            .expect("parses"),
    )
    .expect("tx data");
    let v2 = vocabulary(":app/todo", 2, TODO_V2).with_migration(Migration::TxData(data));
    assert_eq!(ensure(&store, &v2), "upgraded from 1");
    assert_eq!(
        query(
            &store.db().expect("db"),
            "[:find (count ?e) . :where [?e :todo/state]]"
        ),
        "1"
    );
}

/// Each refusal names what is wrong and leaves the store as it was.
#[test]
fn conflicting_declarations_are_refused_and_change_nothing() {
    let failing_step = Migration::Step(Box::new(|_: &Db, _: i64| Err("no network".into())));
    let cases: Vec<(Vocabulary, &str)> = vec![
        (
            vocabulary(":app/todo", 1, &TODO_V1.replace(":todo/tags :db/valueType :db.type/string", ":todo/tags :db/valueType :db.type/long")),
            ":error/schema vocabulary refused: vocabulary :app/todo version 1 is installed, but its :todo/tags is string many where this declaration says long many; declare a higher version to change it",
        ),
        (
            vocabulary(":app/todo", 1, TODO_V2),
            ":error/schema vocabulary refused: vocabulary :app/todo version 1 is installed, but it lists",
        ),
        (
            vocabulary(":app/other", 3, r#"[{:db/ident :todo/title :db/valueType :db.type/long}]"#),
            ":error/schema vocabulary refused: vocabulary :app/other version 3 declares :todo/title as long, but it already holds string values (it is listed by vocabulary :app/todo version 1)",
        ),
        (
            vocabulary(":app/todo", 2, &TODO_V1.replace(":todo/tags :db/valueType :db.type/string :db/cardinality :db.cardinality/many", ":todo/tags :db/valueType :db.type/string :db/cardinality :db.cardinality/one")),
            "",
        ),
        (
            vocabulary(":app/todo", 2, TODO_V2).with_migration(failing_step),
            ":error/schema vocabulary refused: vocabulary :app/todo version 2: the migration from version 1 failed: no network",
        ),
    ];
    for (vocabulary, expected) in cases {
        let store = todo_store();
        transact(&store, r#"[{:todo/title "write" :todo/tags "b"}]"#);
        let before = (installed(&store), store.latest_tx().expect("latest"));
        let outcome = ensure(&store, &vocabulary);
        if expected.is_empty() {
            assert!(outcome.starts_with(":error/schema "), "{outcome}");
        } else {
            assert!(
                outcome.starts_with(expected),
                "expected {expected}\n got {outcome}"
            );
        }
        assert_eq!(
            (installed(&store), store.latest_tx().expect("latest")),
            before,
            "{outcome}"
        );
    }
}

#[test]
fn an_older_version_than_installed_is_refused() {
    let store = todo_store();
    let v2 = vocabulary(":app/todo", 2, TODO_V2);
    assert_eq!(ensure(&store, &v2), "upgraded from 1");
    assert_eq!(
        ensure(&store, &vocabulary(":app/todo", 1, TODO_V1)),
        ":error/schema vocabulary refused: vocabulary :app/todo version 1 is older than the installed version 2; this program is out of date"
    );
}

#[test]
fn a_cardinality_change_the_data_forbids_is_refused_by_name() {
    let store = todo_store();
    transact(&store, r#"[{:todo/title "write" :todo/tags "b"}]"#);
    let one = TODO_V1.replace(
        ":todo/tags :db/valueType :db.type/string :db/cardinality :db.cardinality/many",
        ":todo/tags :db/valueType :db.type/string :db/cardinality :db.cardinality/one",
    );
    let write = query(
        &store.db().expect("db"),
        r#"[:find ?e . :where [?e :todo/title "write"]]"#,
    );
    assert_eq!(
        ensure(&store, &vocabulary(":app/todo", 2, &one)),
        format!(":error/schema vocabulary refused: vocabulary :app/todo version 2: :todo/tags cannot become cardinality one: entity {write} holds several values")
    );
}

#[test]
fn vocabularies_may_share_an_attribute_of_one_type() {
    let store = todo_store();
    let shared = r#"[{:db/ident :todo/title :db/valueType :db.type/string :db/cardinality :db.cardinality/one
                      :db/unique :db.unique/identity}
                     {:db/ident :board/name :db/valueType :db.type/string}]"#;
    assert_eq!(
        ensure(&store, &vocabulary(":app/board", 1, shared)),
        "installed"
    );
    assert_eq!(
        installed(&store),
        "#{[:app/todo 1 #{:todo/title :todo/tags :todo/state :todo.state/open :todo.state/done}] [:app/board 1 #{:todo/title :board/name}]}"
    );
}

#[test]
fn malformed_declarations_are_refused() {
    for (definitions, expected) in [
        (
            r#"[{:db/id "x" :db/ident :a/b :db/valueType :db.type/long}]"#,
            "names its entity by :db/ident, not :db/id",
        ),
        (
            r#"[[:db/add "x" :db/ident :a/b]]"#,
            "every definition is a map with a :db/ident",
        ),
        (
            r#"[{:db/doc "no ident"}]"#,
            "every definition is a map with a :db/ident",
        ),
        (
            r#"[{:db/ident :a/b :db/valueType :db.type/bogus}]"#,
            "invalid :db/valueType",
        ),
    ] {
        let error = Vocabulary::new(keyword(":v/v"), 1, &parse(definitions).expect("parses"))
            .err()
            .expect("refused");
        assert!(
            error.to_string().contains(expected),
            "{definitions}: {error}"
        );
    }
    let error = Vocabulary::new(keyword(":v/v"), 0, &parse("[]").expect("parses"))
        .err()
        .expect("refused");
    assert!(matches!(error, Error::Vocabulary(_)), "{error:?}");
}

/// Two handles (connections) on one file, as two programs would open it:
/// each ensure sees what the other installed.
#[test]
fn two_handles_on_one_file_see_each_others_vocabularies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.factlite");
    let handles = [
        Store::open(&path, Config::default()).expect("one opens"),
        Store::open(&path, Config::default()).expect("two opens"),
    ];
    let steps = [
        (0, 1, "installed"),
        (1, 1, "unchanged"),
        (1, 2, "upgraded from 1"),
        (0, 2, "unchanged"),
        (0, 1, ":error/schema vocabulary refused: vocabulary :app/todo version 1 is older than the installed version 2; this program is out of date"),
    ];
    for (handle, version, expected) in steps {
        let definitions = if version == 1 { TODO_V1 } else { TODO_V2 };
        assert_eq!(
            ensure(
                &handles[handle],
                &vocabulary(":app/todo", version, definitions)
            ),
            expected,
            "handle {handle}, version {version}"
        );
    }
}
