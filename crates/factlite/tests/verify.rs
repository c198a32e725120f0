//! `Store::verify`: nothing on a sound store with views, history,
//! retractions, `:db/noHistory` and full-text values; and each
//! inconsistency planted through a plain SQLite connection is found, by
//! the name of the invariant it breaks.

use std::collections::BTreeSet;
use std::path::Path;

use factlite::rusqlite::{params, Connection};
use factlite::{ProblemKind, Store, PROBLEM_EXAMPLES};

const SCHEMA: &str = r#"[
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity :db/fulltext true}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :person/tag :db/valueType :db.type/string :db/cardinality :db.cardinality/many}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 {:db/ident :person/session :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/noHistory true}]"#;

/// The views: a join (kept by counting), an aggregate, a negation
/// (kept by rechecking) and a recursive rule.
const VIEWS: [(&str, &str); 4] = [
    (
        "ages",
        "[:find ?n ?a :where [?p :person/name ?n] [?p :person/age ?a]]",
    ),
    (
        "tags",
        "[:find ?n (count ?t) :where [?p :person/name ?n] [?p :person/tag ?t]]",
    ),
    (
        "friendless",
        "[:find ?n :where [?p :person/name ?n] (not [?p :person/friend _])]",
    ),
    (
        "reach",
        "[:find ?a ?b :in $ % :where [?x :person/name ?a] (reach ?x ?y) [?y :person/name ?b]]",
    ),
];

const REACH: &str =
    "[[(reach ?x ?y) [?x :person/friend ?y]] [(reach ?x ?y) [?x :person/friend ?z] (reach ?z ?y)]]";

/// A file store with history: people added, changed, retracted, an entity
/// retracted whole, a no-history value replaced, views installed before
/// and after some of it, an entity excised whole and another's attribute.
fn sound_store(path: &Path) -> Store {
    let store = Store::open(path).expect("opens");
    store.transact_str(SCHEMA).expect("schema");
    for (name, query) in &VIEWS[..2] {
        store
            .materialize_str(name, query, &[])
            .expect("materializes");
    }
    store
        .transact_str(
            r#"[{:db/id "ann" :person/name "Ann" :person/age 31 :person/tag ["a" "b"]
                 :person/friend "bo" :person/session "s1"}
                {:db/id "bo" :person/name "Bo" :person/age 27 :person/tag "a"
                 :person/friend "cy"}
                {:db/id "cy" :person/name "Cy" :person/age 40}]"#,
        )
        .expect("people");
    store
        .transact_str(
            r#"[{:db/id [:person/name "Ann"] :person/age 32 :person/session "s2"}
                [:db/retract [:person/name "Ann"] :person/tag "b"]]"#,
        )
        .expect("changes");
    let rules = factlite::edn::parse(REACH).expect("rules parse");
    store
        .materialize_str(VIEWS[2].0, VIEWS[2].1, &[])
        .expect("materializes");
    store
        .materialize_str(VIEWS[3].0, VIEWS[3].1, &[rules])
        .expect("materializes");
    store
        .transact_str(
            r#"[[:db/retractEntity [:person/name "Cy"]] {:person/name "Dee" :person/tag "b"}]"#,
        )
        .expect("retracts an entity");
    store
        .transact_str(r#"[[:db/add [:person/name "Ann"] :person/tag "b"] {:db/id [:person/name "Bo"] :person/session "s3"}]"#)
        .expect("asserts again");
    store
        .transact_str(
            r#"[{:person/name "Eve" :person/age 50 :person/tag "e" :person/friend [:person/name "Ann"]}]"#,
        )
        .expect("eve");
    store
        .transact_str(r#"[{:person/name "Eve" :person/age 51}]"#)
        .expect("eve's age");
    store
        .transact_str(r#"[{:db/excise [:person/name "Eve"]}]"#)
        .expect("eve excised");
    store
        .transact_str(r#"[{:db/excise [:person/name "Dee"] :db.excise/attrs [:person/tag]}]"#)
        .expect("dee's tags excised");
    // The newest entity holds nothing now: only the partition's floor
    // keeps its id from being handed out again.
    let zed = store
        .transact_str(r#"[{:db/id "zed" :person/friend [:person/name "Ann"]}]"#)
        .expect("zed")
        .tempids["zed"];
    store
        .transact_str(&format!(
            r#"[[:db/retract {zed} :person/friend [:person/name "Ann"]]]"#
        ))
        .expect("zed's friend retracted");
    store
}

/// Builds a sound store, plants `plant` through a plain SQLite connection
/// while the store is closed, and checks that `verify` reports exactly
/// `expected`, each with its name in the report's text.
fn check(plant: &str, expected: &[ProblemKind]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("verify.db");
    let store = sound_store(&path);
    let ids = |ident: &str| {
        store
            .db()
            .expect("db")
            .entid(&factlite::Keyword::namespaced("person", ident))
            .expect("reads")
            .expect("an attribute")
    };
    let (age, tag) = (ids("age"), ids("tag"));
    drop(store);
    let conn = Connection::open(&path).expect("plain SQLite opens the file");
    conn.execute_batch(
        &plant
            .replace("AGE", &age.to_string())
            .replace("TAG", &tag.to_string()),
    )
    .expect("the plant runs");
    drop(conn);
    let report = Store::open(&path)
        .expect("reopens")
        .verify()
        .expect("verifies");
    let found: BTreeSet<ProblemKind> = report.problems.iter().map(|p| p.kind).collect();
    let expected: BTreeSet<ProblemKind> = expected.iter().copied().collect();
    assert_eq!(found, expected, "after {plant}:\n{report}");
    let text = report.to_string();
    for kind in expected {
        assert!(text.contains(kind.name()), "{kind} is named in:\n{text}");
    }
}

#[test]
fn a_sound_store_has_no_problems_open_and_reopened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sound.db");
    let store = sound_store(&path);
    let report = store.verify().expect("verifies");
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.to_string(), "no problems found");
    drop(store);
    let report = Store::open(&path)
        .expect("reopens")
        .verify()
        .expect("verifies");
    assert!(report.is_clean(), "{report}");
}

#[test]
fn an_empty_store_in_memory_has_no_problems() {
    let store = Store::open_in_memory().expect("opens");
    assert!(store.verify().expect("verifies").is_clean());
}

#[test]
fn a_deleted_log_row_is_a_datom_without_assertion() {
    check(
        "DELETE FROM log WHERE (tx, seq) = \
         (SELECT tx, seq FROM log WHERE a = AGE AND added = 1 ORDER BY tx DESC LIMIT 1)",
        &[ProblemKind::DatomWithoutAssertion],
    );
}

#[test]
fn a_current_datom_with_no_assertion_is_found() {
    check(
        "INSERT INTO datoms (e, a, v, t, tx, avet) \
         SELECT e, TAG, 'ghost', t, tx, 0 FROM datoms WHERE a = AGE LIMIT 1; \
         UPDATE attribute_stats SET datoms = datoms + 1 WHERE a = TAG",
        &[ProblemKind::DatomWithoutAssertion, ProblemKind::ViewDiffers],
    );
}

#[test]
fn a_retraction_without_assertion_is_found() {
    check(
        "INSERT INTO log (tx, seq, e, a, v, t, added) \
         SELECT tx, 1000, e, TAG, 'never', t, 0 FROM log WHERE a = TAG ORDER BY tx DESC LIMIT 1",
        &[ProblemKind::RetractionWithoutAssertion],
    );
}

#[test]
fn a_repeated_assertion_is_found() {
    check(
        "INSERT INTO log (tx, seq, e, a, v, t, added) \
         SELECT (SELECT max(tx) FROM log), 1000, e, a, v, t, 1 FROM datoms WHERE a = AGE LIMIT 1",
        &[
            ProblemKind::RepeatedAssertion,
            ProblemKind::DatomRetractedInLog,
            // The newest transactions' entries bring the written counts to
            // the present: one more assertion there is one datom more.
            ProblemKind::AttributeStats,
        ],
    );
}

#[test]
fn a_current_datom_deleted_is_an_assertion_without_datom() {
    check(
        "DELETE FROM datoms WHERE a = AGE AND v = 27; \
         UPDATE attribute_stats SET datoms = datoms - 1 WHERE a = AGE",
        &[ProblemKind::AssertionWithoutDatom, ProblemKind::ViewDiffers],
    );
}

#[test]
fn an_excised_datom_back_in_the_log_is_found() {
    check(
        "INSERT INTO log (tx, seq, e, a, v, t, added) \
         SELECT tx, 1000, (SELECT v FROM datoms WHERE a = 91 LIMIT 1), a, v, t, 1 \
         FROM log WHERE a = AGE ORDER BY tx LIMIT 1",
        &[
            ProblemKind::ExcisedDatomRemains,
            ProblemKind::AssertionWithoutDatom,
        ],
    );
}

#[test]
fn a_corrupt_view_row_is_found() {
    check(
        r#"UPDATE "view_ages" SET a = a + 100 WHERE n = 'Bo'"#,
        &[ProblemKind::ViewDiffers],
    );
}

#[test]
fn a_row_missing_from_a_view_kept_by_rechecking_is_found() {
    check(
        r#"DELETE FROM "view_friendless" WHERE n = 'Dee'"#,
        &[ProblemKind::ViewDiffers],
    );
}

#[test]
fn a_broken_attribute_statistic_is_found() {
    check(
        "UPDATE attribute_stats SET datoms = datoms + 1 WHERE a = AGE",
        &[ProblemKind::AttributeStats],
    );
}

#[test]
fn a_value_missing_from_the_fulltext_index_is_found() {
    check(
        "DELETE FROM fulltext WHERE rowid = (SELECT min(rowid) FROM fulltext)",
        &[ProblemKind::Fulltext],
    );
}

/// The newest user entity holds no datom, so the partition's next id is
/// its floor alone: lowered, it would hand that id out again.
#[test]
fn a_partition_behind_its_ids_is_found() {
    check(
        "UPDATE partitions SET next_id = next_id - 2 WHERE part = 2",
        &[ProblemKind::Partition],
    );
}

#[test]
fn an_unreadable_view_definition_is_found() {
    check(
        "UPDATE log SET v = '[:find' WHERE v LIKE '[:find ?n ?a %'; \
         UPDATE datoms SET v = '[:find' WHERE v LIKE '[:find ?n ?a %'",
        &[ProblemKind::ViewUnreadable],
    );
}

#[test]
fn a_problem_lists_its_count_and_first_examples() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("many.db");
    let store = sound_store(&path);
    drop(store);
    let conn = Connection::open(&path).expect("opens");
    conn.execute(
        "UPDATE attribute_stats SET datoms = datoms + ?1",
        params![7],
    )
    .expect("breaks every statistic");
    drop(conn);
    let report = Store::open(&path)
        .expect("reopens")
        .verify()
        .expect("verifies");
    let [problem] = &report.problems[..] else {
        panic!("one problem: {report}");
    };
    assert_eq!(problem.kind, ProblemKind::AttributeStats);
    assert!(problem.count > PROBLEM_EXAMPLES as u64, "{report}");
    assert_eq!(problem.examples.len(), PROBLEM_EXAMPLES, "{report}");
    assert!(
        problem.examples.iter().all(|e| e.starts_with(":db")),
        "examples name attributes by ident: {report}"
    );
}

#[test]
fn every_problem_kind_has_a_name_of_its_own() {
    let names: BTreeSet<&str> = ProblemKind::ALL.iter().map(|kind| kind.name()).collect();
    assert_eq!(names.len(), ProblemKind::ALL.len());
    for name in names {
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{name} is lower-case words joined by hyphens"
        );
    }
}

#[test]
fn an_index_that_disagrees_with_its_table_fails_the_integrity_check() {
    // The index's definition changed behind SQLite's back: its entries no
    // longer match the rows, which only SQLite's own check can see.
    check(
        "PRAGMA writable_schema = ON; \
         UPDATE sqlite_master SET sql = 'CREATE INDEX datoms_vaet ON datoms (v, e, a) WHERE t = 0' \
         WHERE name = 'datoms_vaet'; \
         PRAGMA writable_schema = OFF",
        &[ProblemKind::Integrity],
    );
}
