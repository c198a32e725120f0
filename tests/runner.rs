//! The scenario runner itself, on small scenario texts: it must fail what
//! is wrong as surely as it passes what is right. Each case is one text and
//! the exact failure lines `factlite check` prints for it. The steps use
//! transactions and pulls only, which do not depend on the query engine.

use std::path::Path;

use factlite_cli::check::{run_text, CheckOptions};

const SCHEMA: &str = r#":schema [{:db/ident :p/name :db/valueType :db.type/string
                            :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                           {:db/ident :p/age :db/valueType :db.type/long
                            :db/cardinality :db.cardinality/one}]"#;

/// Runs `text` (with `SCHEMA` spliced in for `SCHEMA`) as the file
/// `t.edn` and compares the failure lines with `expected`.
fn check(text: &str, expected: &[&str]) {
    let text = text.replace("SCHEMA", SCHEMA);
    let results = run_text(Path::new("t.edn"), &text, &CheckOptions::default());
    let lines: Vec<String> = results
        .iter()
        .flat_map(|result| result.failure_lines())
        .collect();
    assert_eq!(lines, expected, "{text}");
}

#[test]
fn passing_steps_print_nothing() {
    check(
        r#"{:name "ok" SCHEMA
            :steps [{:transact [{:db/id "a" :p/name "Ann" :p/age 3}] :tx "t1"}
                    {:pull [:p/name :p/age] :eid #ent "a" :expect {:p/name "Ann" :p/age 3}}
                    {:pull [:p/age] :eid [:p/name "Ann"] :expect {:p/age 3}}
                    {:transact [[:db/add #ent "never-made" :p/age 4]]
                     :expect-error :error/unknown-entity}
                    {:transact [[:db/add #ent "a" :p/age "old"]]
                     :expect-error :error/type-mismatch}
                    {:pull [:p/age] :eid #ent "a" :expect {:p/age 3}}]}"#,
        &[],
    );
}

#[test]
fn wrong_expectations_fail_with_expected_actual_and_note() {
    check(
        r#"{:name "wrong" SCHEMA
            :steps [{:transact [{:db/id "a" :p/name "Ann" :p/age 3}]}
                    {:pull [:p/age] :eid #ent "a" :expect {:p/age 3.0} :note "a long is not a double"}
                    {:transact [[:db/add #ent "a" :p/age 4]] :expect-error :error/type-mismatch}
                    {:transact [[:db/add #ent "a" :p/nope 4]]}]}"#,
        &[
            r#"t.edn: "wrong" step 2: expected {:p/age 3.0}, actual {:p/age 3} (at :p/age: expected 3.0, got 3) (note: a long is not a double)"#,
            r#"t.edn: "wrong" step 3: expected error :error/type-mismatch, actual success"#,
            r#"t.edn: "wrong" step 4: expected success, actual error :error/unknown-attribute: unknown attribute :p/nope: no schema defines it"#,
        ],
    );
}

#[test]
fn unknown_names_outside_transactions_are_malformed_steps() {
    check(
        r#"{:name "names" SCHEMA
            :steps [{:pull [:p/age] :eid #ent "ghost" :expect {}}
                    {:transact [[:db/add #ent "ghost" :p/age 1]]}]}"#,
        &[
            r#"t.edn: "names" step 1: malformed: #ent "ghost": no earlier transaction of this scenario made the tempid "ghost""#,
            r#"t.edn: "names" step 2: expected success, actual error :error/unknown-entity: #ent "ghost": no earlier transaction of this scenario made the tempid "ghost""#,
        ],
    );
}

#[test]
fn malformed_files_scenarios_and_steps_fail() {
    check(
        "{:name \"x\"\n :steps [}",
        &["t.edn:2:10: not EDN: expected ']' to close the vector opened at line 2, column 9, found '}'"],
    );
    check(
        r#"[:not :a :map] {:name "s" :steps [{:transact [] :expekt 1} {:pull [*]}]}"#,
        &[
            "t.edn: form 1: malformed: a scenario is a map with :name and :steps, not a vector",
            r#"t.edn: "s" step 1: malformed: unknown key :expekt in a step (allowed here: :transact :tx :expect-error :note)"#,
            r#"t.edn: "s" step 2: malformed: this step needs :eid"#,
        ],
    );
    check(
        r#"{:name "d" :steps []} {:name "d" :steps []}"#,
        &[r#"t.edn: "d" scenario: malformed: another scenario of this file has this name"#],
    );
}

#[test]
fn a_failing_schema_stops_the_scenario() {
    check(
        r#"{:name "bad schema" :schema [{:db/ident :x/y :db/valueType :db.type/nope}]
            :steps [{:pull [:x/y] :eid 1 :expect {}}]}"#,
        &[
            r#"t.edn: "bad schema" schema: expected success, actual error :error/schema: schema change refused: attribute :x/y has an invalid :db/valueType: :db.type/nope"#,
        ],
    );
}

#[test]
fn view_steps_materialize_read_and_drop() {
    check(
        r#"{:name "v" SCHEMA
            :steps [{:materialize "names" :query [:find ?n :where [_ :p/name ?n]]}
                    {:view "names" :expect #{}}
                    {:transact [{:p/name "Ann"}]}
                    {:view "names" :expect #{["Ann"]}}
                    {:drop-view "names"}]}"#,
        &[],
    );
}

/// A directory stands for its `*.edn` files, in name order; other files in
/// it are not scenarios.
#[test]
fn a_directory_runs_its_scenario_files_in_name_order() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(
        dir.path().join("b.edn"),
        r#"{:name "second" :steps [{:transact []}]}"#,
    )
    .expect("written");
    std::fs::write(
        dir.path().join("a.edn"),
        r#"{:name "first" :steps [{:transact [[:db/add "x" :nope 1]]}]}"#,
    )
    .expect("written");
    std::fs::write(dir.path().join("FORMAT.md"), "not a scenario").expect("written");
    let summary =
        factlite_cli::check::run_files(&[dir.path().to_path_buf()], &CheckOptions::default());
    assert_eq!(summary.summary_line(), "check: 1 passed, 1 failed");
    let lines: Vec<String> = summary.failure_lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("a.edn") && lines[0].contains("\"first\""),
        "{lines:?}"
    );
}
