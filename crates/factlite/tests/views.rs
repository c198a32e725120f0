//! Materialized views through the façade: the table another SQLite client
//! reads, persistence across reopening, subscriptions, the automatic
//! policy, schema changes, and failures that roll the transaction back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use factlite::{edn, AutoPolicy, ErrorCategory, Store, Value, ViewChange};

const SCHEMA: &str = r#"[
 {:db/ident :emp/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :emp/dept :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :emp/salary :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :dept/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}]"#;

const STAFF: &str = "[:find ?n ?d :where [?e :emp/name ?n] [?e :emp/dept ?x] [?x :dept/name ?d]]";

const PAYROLL: &str =
    "[:find ?d (count ?e) (sum ?s) :where [?e :emp/dept ?x] [?x :dept/name ?d] [?e :emp/salary ?s]]";

fn value(text: &str) -> Value {
    edn::parse(text).expect("test EDN parses")
}

fn store_with_staff() -> Store {
    let store = Store::open_in_memory().expect("opens");
    store.transact_str(SCHEMA).expect("schema");
    store
        .transact_str(
            r#"[{:db/id "eng" :dept/name "eng"}
                {:db/id "ann" :emp/name "Ann" :emp/dept "eng" :emp/salary 10}
                {:db/id "bo" :emp/name "Bo" :emp/dept "eng" :emp/salary 20}]"#,
        )
        .expect("data");
    store
}

#[test]
fn a_plain_sqlite_connection_reads_the_view_table_while_the_store_is_open() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("plain-reader.db");
    let store = Store::open(&path).expect("opens");
    store.transact_str(SCHEMA).expect("schema");
    store
        .transact_str(
            r#"[{:db/id "eng" :dept/name "eng"} {:emp/name "Ann" :emp/dept "eng" :emp/salary 7}]"#,
        )
        .expect("data");
    store
        .materialize_str("payroll", PAYROLL, &[])
        .expect("materializes");
    store
        .transact_str(r#"[{:emp/name "Bo" :emp/dept [:dept/name "eng"] :emp/salary 5}]"#)
        .expect("more data");

    let plain = rusqlite::Connection::open(&path).expect("a second connection");
    let row: (String, String, i64, i64) = plain
        .query_row(
            r#"SELECT d, d_type, count_e, sum_s FROM "view_payroll""#,
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("the view's table is readable");
    assert_eq!(row, ("eng".to_string(), "string".to_string(), 2, 12));
}

#[test]
fn views_survive_reopening_and_their_definitions_are_data() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("reopen.db");
    {
        let store = Store::open(&path).expect("opens");
        store.transact_str(SCHEMA).expect("schema");
        store
            .materialize_str("staff", STAFF, &[])
            .expect("materializes");
        store
            .transact_str(r#"[{:db/id "x" :dept/name "ops"} {:emp/name "Cy" :emp/dept "x"}]"#)
            .expect("data");
    }
    let store = Store::open(&path).expect("reopens");
    assert_eq!(
        store.view("staff").expect("reads"),
        value(r#"#{["Cy" "ops"]}"#)
    );
    store
        .transact_str(r#"[{:emp/name "Di" :emp/dept [:dept/name "ops"]}]"#)
        .expect("more data");
    assert_eq!(
        store.view("staff").expect("reads"),
        value(r#"#{["Cy" "ops"] ["Di" "ops"]}"#),
        "a reopened store keeps maintaining the view"
    );
    let names = store
        .db()
        .expect("db")
        .q_str("[:find [?n ...] :where [_ :factlite.view/name ?n]]", &[])
        .expect("the definitions are queryable");
    assert_eq!(names, value(r#"#{"staff"}"#));
}

#[test]
fn subscribers_receive_exactly_the_rows_added_and_removed_after_commit() {
    let store = store_with_staff();
    store
        .materialize_str("staff", STAFF, &[])
        .expect("materializes");
    let seen: Arc<Mutex<Vec<ViewChange>>> = Arc::default();
    let sink = seen.clone();
    store
        .subscribe("staff", move |change| {
            sink.lock().expect("not poisoned").push(change.clone())
        })
        .expect("subscribes");
    store
        .transact_str(r#"[[:db/add [:dept/name "eng"] :dept/name "engineering"]]"#)
        .expect("rename the department");
    let changes = seen.lock().expect("not poisoned").clone();
    assert_eq!(changes.len(), 1);
    let mut added = changes[0].added.clone();
    added.sort();
    let mut removed = changes[0].removed.clone();
    removed.sort();
    assert_eq!(
        added,
        vec![
            vec![value(r#""Ann""#), value(r#""engineering""#)],
            vec![value(r#""Bo""#), value(r#""engineering""#)]
        ]
    );
    assert_eq!(
        removed,
        vec![
            vec![value(r#""Ann""#), value(r#""eng""#)],
            vec![value(r#""Bo""#), value(r#""eng""#)]
        ]
    );
    // A transaction that does not change the view notifies nobody; a failed
    // one neither.
    store
        .transact_str(r#"[[:db/add [:dept/name "engineering"] :emp/salary 1]]"#)
        .expect("unrelated");
    assert!(store
        .transact_str(r#"[[:db/add "x" :emp/name 12]]"#)
        .is_err());
    assert_eq!(seen.lock().expect("not poisoned").len(), 1);
}

#[test]
fn aggregates_follow_updates_per_group() {
    let store = store_with_staff();
    store
        .materialize_str("payroll", PAYROLL, &[])
        .expect("materializes");
    assert_eq!(
        store.view("payroll").expect("reads"),
        value(r#"#{["eng" 2 30]}"#)
    );
    store
        .transact_str(r#"[[:db/retractEntity [:dept/name "eng"]]]"#)
        .expect("the department goes");
    assert_eq!(store.view("payroll").expect("reads"), value("#{}"));
}

#[test]
fn a_cardinality_change_rebuilds_the_views_that_read_the_attribute() {
    let store = store_with_staff();
    let tags = "[:find ?n ?t :where [?e :emp/name ?n] [?e :emp/tag ?t]]";
    store
        .transact_str(
            "[{:db/ident :emp/tag :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]",
        )
        .expect("attribute");
    store
        .transact_str(r#"[[:db/add [:dept/name "eng"] :emp/tag "x"]]"#)
        .expect("a tag");
    store
        .materialize_str("tags", tags, &[])
        .expect("materializes");
    store
        .transact_str("[{:db/id :emp/tag :db/cardinality :db.cardinality/many}]")
        .expect("one to many");
    let info = store.views().expect("lists");
    assert_eq!(info[0].rebuilds, 1, "the schema change rebuilt the view");
    store
        .transact_str(r#"[{:emp/name "Eve" :emp/tag ["a" "b"]}]"#)
        .expect("two tags");
    assert_eq!(
        store.view("tags").expect("reads"),
        store
            .db()
            .expect("db")
            .q_from_scratch(&value(tags), &[])
            .expect("runs")
    );
}

#[test]
fn a_view_whose_maintenance_fails_fails_the_transaction_and_names_the_view() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("fail.db");
    let store = Store::open(&path).expect("opens");
    store.transact_str(SCHEMA).expect("schema");
    store
        .materialize_str("staff", STAFF, &[])
        .expect("materializes");
    let plain = rusqlite::Connection::open(&path).expect("a second connection");
    plain
        .execute_batch(r#"DROP TABLE "view_staff""#)
        .expect("someone drops the table by hand");
    let before = store.db().expect("db").basis_tx();
    let error = store
        .transact_str(r#"[{:db/id "d" :dept/name "ops"} {:emp/name "Fay" :emp/dept "d"}]"#)
        .expect_err("maintenance cannot write the table");
    assert!(error.to_string().contains("\"staff\""), "{error}");
    assert_eq!(
        store.db().expect("db").basis_tx(),
        before,
        "nothing was committed"
    );
    let found = store
        .db()
        .expect("db")
        .q_str("[:find ?n . :where [_ :emp/name ?n]]", &[])
        .expect("runs");
    assert_eq!(found, Value::Nil);
}

#[test]
fn bad_view_requests_are_clear_errors_that_change_nothing() {
    let store = store_with_staff();
    let basis = store.db().expect("db").basis_tx();
    let parameterized = store
        .materialize_str(
            "p",
            "[:find ?n :in $ ?d :where [?e :emp/name ?n] [?e :emp/dept ?d]]",
            &[],
        )
        .expect_err("parameterized queries are not materialized");
    assert!(
        parameterized.to_string().contains("rule sets"),
        "{parameterized}"
    );
    let unknown = store
        .materialize_str("u", "[:find ?n :where [?e :no/such ?n]]", &[])
        .expect_err("unknown attribute");
    assert_eq!(unknown.category(), ErrorCategory::UnknownAttribute);
    let bad_name = store
        .materialize_str("no spaces", STAFF, &[])
        .expect_err("bad name");
    assert!(
        bad_name.to_string().contains("not a view name"),
        "{bad_name}"
    );
    assert!(store.view("nothing").is_err());
    assert!(store.drop_view("nothing").is_err());
    assert_eq!(
        store.db().expect("db").basis_tx(),
        basis,
        "nothing was written"
    );
    store
        .materialize_str("staff", STAFF, &[])
        .expect("materializes");
    assert!(
        store.materialize_str("staff", STAFF, &[]).is_err(),
        "names are unique"
    );
    // SQLite's table names ignore case, so view names do too.
    let other_case = store
        .materialize_str("Staff", STAFF, &[])
        .expect_err("a name that differs only in case");
    assert!(other_case.to_string().contains("\"staff\""), "{other_case}");
    assert!(!store
        .view("staff")
        .expect("the first view stands")
        .is_empty());
}

#[test]
fn a_query_run_often_is_materialized_and_then_answered_from_its_table() {
    let store = store_with_staff();
    store.set_auto_materialize(AutoPolicy {
        enabled: true,
        threshold: 3,
        window: Duration::from_secs(60),
        max_views: 1,
        max_rows: 100,
    });
    let db = || store.db().expect("db");
    for _ in 0..2 {
        db().q_str(STAFF, &[]).expect("runs");
    }
    assert!(store.views().expect("lists").is_empty());
    let third = db().q_str(STAFF, &[]).expect("runs");
    let views = store.views().expect("lists");
    assert_eq!(views.len(), 1);
    assert!(views[0].automatic);
    assert_eq!(third, value(r#"#{["Ann" "eng"] ["Bo" "eng"]}"#));
    db().q_str(STAFF, &[]).expect("runs");
    assert_eq!(
        store.views().expect("lists")[0].hits,
        2,
        "answered from the table"
    );
    // A parameterized query is never materialized.
    let by_dept =
        "[:find ?n :in $ ?d :where [?e :emp/name ?n] [?e :emp/dept ?x] [?x :dept/name ?d]]";
    for _ in 0..5 {
        db().q_str(by_dept, &[value(r#""eng""#)]).expect("runs");
    }
    assert_eq!(store.views().expect("lists").len(), 1);
    // The budget holds one automatic view: a second hot query evicts the
    // least recently used.
    for _ in 0..3 {
        db().q_str(PAYROLL, &[]).expect("runs");
    }
    let views = store.views().expect("lists");
    assert_eq!(views.len(), 1);
    assert!(views[0].query.contains("sum"), "{views:?}");
    // Turned off, queries run from scratch again.
    store.set_auto_materialize(AutoPolicy::default());
    assert_eq!(
        db().q_str(PAYROLL, &[]).expect("runs"),
        value(r#"#{["eng" 2 30]}"#)
    );
}

#[test]
fn renaming_an_attribute_rewrites_and_rebuilds_the_views_that_read_it() {
    let store = store_with_staff();
    store
        .materialize_str("staff", STAFF, &[])
        .expect("materializes");
    store
        .materialize_str("payroll", PAYROLL, &[])
        .expect("materializes");
    store
        .transact_str("[{:db/id :emp/name :db/ident :employee/name}]")
        .expect("renames the attribute");
    let views = store.views().expect("lists");
    let staff = views
        .iter()
        .find(|v| v.name == "staff")
        .expect("still there");
    assert!(staff.query.contains(":employee/name"), "{}", staff.query);
    assert_eq!(staff.rebuilds, 1, "the rename rebuilt it, visibly");
    let payroll = views
        .iter()
        .find(|v| v.name == "payroll")
        .expect("still there");
    assert_eq!(
        payroll.rebuilds, 0,
        "a view that does not read the attribute is left alone"
    );
    store
        .transact_str(r#"[{:employee/name "Cy" :emp/dept [:dept/name "eng"]}]"#)
        .expect("data under the new name");
    assert_eq!(
        store.view("staff").expect("reads"),
        value(r#"#{["Ann" "eng"] ["Bo" "eng"] ["Cy" "eng"]}"#)
    );
    // A new attribute leaves every view as it is.
    store
        .transact_str("[{:db/ident :emp/email :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]")
        .expect("a new attribute");
    assert!(store
        .views()
        .expect("lists")
        .iter()
        .all(|v| v.rebuilds <= 1));
}

#[test]
fn a_second_connection_keeps_the_views_another_one_defined() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("two.db");
    let first = Store::open(&path).expect("opens");
    first.transact_str(SCHEMA).expect("schema");
    let second = Store::open(&path).expect("a second connection");
    first
        .materialize_str("staff", STAFF, &[])
        .expect("materializes");
    second
        .transact_str(r#"[{:db/id "d" :dept/name "ops"} {:emp/name "Gil" :emp/dept "d"}]"#)
        .expect("a write through the other connection");
    assert_eq!(
        first.view("staff").expect("reads"),
        value(r#"#{["Gil" "ops"]}"#),
        "the write through the other connection maintained the view"
    );
}

#[test]
fn a_stored_view_definition_that_does_not_read_back_disables_nothing_else() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("views.db");
    {
        let store = Store::open(&path).expect("opens");
        store.transact_str(SCHEMA).expect("schema");
        store.materialize_str("staff", STAFF, &[]).expect("view");
        // Definitions written as data by hand: a query that is not one, and
        // a name that is no view name (it would be spliced into a table name).
        store
            .transact_str(
                r#"[{:factlite.view/name "bad" :factlite.view/query "[:find" :factlite.view/args "[]"}
                    {:factlite.view/name "x\"; DROP TABLE datoms; --"
                     :factlite.view/query "[:find ?n :where [_ :emp/name ?n]]"
                     :factlite.view/args "[]"}]"#,
            )
            .expect("written as data");
    }
    let store = Store::open(&path).expect("the store still opens");
    let unreadable = store.unreadable_views().expect("listed");
    let names: Vec<&str> = unreadable.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["bad", "x\"; DROP TABLE datoms; --"]);
    store
        .transact_str(r#"[{:emp/name "Ann" :emp/dept {:dept/name "R&D"}}]"#)
        .expect("the good view is maintained");
    assert_eq!(
        store.view("staff").expect("reads"),
        value(r#"#{["Ann" "R&D"]}"#)
    );
    let error = store.view("bad").expect_err("cannot be read");
    assert!(error.to_string().contains("does not read back"), "{error}");
    assert!(
        store.materialize_str("bad", STAFF, &[]).is_err(),
        "the name is taken"
    );
    store.drop_view("bad").expect("dropped by name");
    store
        .drop_view("x\"; DROP TABLE datoms; --")
        .expect("dropped by name");
    assert!(store.unreadable_views().expect("listed").is_empty());
    store
        .materialize_str("bad", STAFF, &[])
        .expect("the name is free again");
    assert_eq!(
        store.view("bad").expect("reads"),
        value(r#"#{["Ann" "R&D"]}"#)
    );
}

/// An average's group keeps its exact sum in the view's table; a table an
/// older build made without those columns is made again at the next write
/// (and the view stays equal to its query).
#[test]
fn an_average_view_made_without_its_state_columns_is_made_again() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("average.db");
    let mean = "[:find ?d (avg ?s) :with ?e :where [?e :emp/dept ?x] [?x :dept/name ?d] [?e :emp/salary ?s]]";
    {
        let store = Store::open(&path).expect("opens");
        store.transact_str(SCHEMA).expect("schema");
        store
            .materialize_str("mean", mean, &[])
            .expect("materializes");
        store
            .transact_str(
                r#"[{:db/id "eng" :dept/name "eng"}
                    {:emp/name "Ann" :emp/dept "eng" :emp/salary 10}
                    {:emp/name "Bo" :emp/dept "eng" :emp/salary 21}]"#,
            )
            .expect("data");
    }
    {
        let raw = factlite::rusqlite::Connection::open(&path).expect("raw connection");
        let sums: i64 = raw
            .query_row("SELECT fl_avg0_sum FROM view_mean", [], |row| row.get(0))
            .expect("the state column");
        assert_eq!(sums, 31);
        raw.execute_batch(
            "ALTER TABLE view_mean DROP COLUMN fl_avg0_sum; \
             ALTER TABLE view_mean DROP COLUMN fl_avg0_magnitude;",
        )
        .expect("an older build's table");
    }
    let store = Store::open(&path).expect("reopens");
    store
        .transact_str(r#"[{:emp/name "Cy" :emp/dept [:dept/name "eng"] :emp/salary 2}]"#)
        .expect("a write maintains the view");
    assert_eq!(
        store.view("mean").expect("reads"),
        value(r#"#{["eng" 11.0]}"#)
    );
    let from_scratch = store.db().expect("db").q_str(mean, &[]).expect("query");
    assert_eq!(store.view("mean").expect("reads"), from_scratch);
}

const SPREAD: &str = "[:find ?d (variance ?s) (stddev ?s) :with ?e :where [?e :emp/dept ?x] [?x :dept/name ?d] [?e :emp/salary ?s]]";

/// A file with the view `spread` over Ann's 10 and Bo's 21 in "eng".
fn spread_store(path: &std::path::Path) {
    let store = Store::open(path).expect("opens");
    store.transact_str(SCHEMA).expect("schema");
    store
        .materialize_str("spread", SPREAD, &[])
        .expect("materializes");
    store
        .transact_str(
            r#"[{:db/id "eng" :dept/name "eng"}
                {:emp/name "Ann" :emp/dept "eng" :emp/salary 10}
                {:emp/name "Bo" :emp/dept "eng" :emp/salary 21}]"#,
        )
        .expect("data");
}

#[test]
fn a_variance_view_made_without_its_state_columns_is_made_again() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("spread.db");
    spread_store(&path);
    {
        let raw = factlite::rusqlite::Connection::open(&path).expect("raw connection");
        let sums: (i64, i64, i64, i64) = raw
            .query_row(
                "SELECT fl_var0_sum_high, fl_var0_sum_low, fl_var0_squares_high, \
                 fl_var0_squares_low FROM view_spread",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .expect("the state columns");
        assert_eq!(sums, (0, 31, 0, 100 + 441));
        raw.execute_batch("ALTER TABLE view_spread DROP COLUMN fl_var0_squares_low;")
            .expect("an older build's table");
    }
    let store = Store::open(&path).expect("reopens");
    store
        .transact_str(r#"[{:emp/name "Cy" :emp/dept [:dept/name "eng"] :emp/salary 2}]"#)
        .expect("a write maintains the view");
    let variance = 182.0 / 3.0;
    assert_eq!(
        store.view("spread").expect("reads"),
        Value::Set(
            [Value::Vector(vec![
                Value::String("eng".into()),
                Value::Float(variance),
                Value::Float(f64::sqrt(variance)),
            ])]
            .into_iter()
            .collect()
        )
    );
    let from_scratch = store.db().expect("db").q_str(SPREAD, &[]).expect("query");
    assert_eq!(store.view("spread").expect("reads"), from_scratch);
}

/// The cost of a one-datom write does not grow with the group: the
/// variance moves from the row's sums, never reading the group's tuples —
/// here one of them is taken out of the support table behind the view's
/// back, and the moved variance still counts it, as the query does.
#[test]
fn a_variance_moves_from_its_sums_without_reading_its_group() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("spread.db");
    spread_store(&path);
    {
        let raw = factlite::rusqlite::Connection::open(&path).expect("raw connection");
        let removed = raw
            .execute("DELETE FROM view_spread__support WHERE s_1 = 21", [])
            .expect("Bo's tuple");
        assert_eq!(removed, 1);
    }
    let store = Store::open(&path).expect("reopens");
    store
        .transact_str(r#"[{:emp/name "Cy" :emp/dept [:dept/name "eng"] :emp/salary 2}]"#)
        .expect("a write maintains the view");
    // Recomputed from the support table it would be over 10 and 2: 16.0.
    let from_scratch = store.db().expect("db").q_str(SPREAD, &[]).expect("query");
    assert_eq!(store.view("spread").expect("reads"), from_scratch);
    assert_eq!(
        from_scratch,
        Value::Set(
            [Value::Vector(vec![
                Value::String("eng".into()),
                Value::Float(182.0 / 3.0),
                Value::Float(f64::sqrt(182.0 / 3.0)),
            ])]
            .into_iter()
            .collect()
        )
    );
}

const MIDDLE: &str = "[:find ?d (median ?s) :with ?e :where [?e :emp/dept ?x] [?x :dept/name ?d] [?e :emp/salary ?s]]";

/// A median moves by reading, from the support table's index, only the
/// values between its old middle and its new one, counted from the state
/// it keeps, not the whole group: with the tuple of salary 1 deleted
/// behind the view's back (the state still counts it, as the datoms do),
/// adding a salary of 100 steps one value on from the old middle, 5, to 6
/// — the query's median — where recomputing from the table's ten tuples
/// would give 6.5.
#[test]
fn a_median_is_read_from_the_middle_of_its_group() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("middle.db");
    {
        let store = Store::open(&path).expect("opens");
        store.transact_str(SCHEMA).expect("schema");
        store
            .materialize_str("middle", MIDDLE, &[])
            .expect("materializes");
        let staff: Vec<String> = (1..=9)
            .map(|salary| {
                format!(r#"{{:emp/name "e{salary}" :emp/dept "eng" :emp/salary {salary}}}"#)
            })
            .collect();
        store
            .transact_str(&format!(
                r#"[{{:db/id "eng" :dept/name "eng"}} {}]"#,
                staff.join(" ")
            ))
            .expect("data");
        assert_eq!(
            store.view("middle").expect("reads"),
            value(r#"#{["eng" 5]}"#)
        );
        // A write that moves the median in place (an even group now).
        store
            .transact_str(r#"[{:emp/name "e10" :emp/dept [:dept/name "eng"] :emp/salary 10}]"#)
            .expect("a write");
        let from_scratch = store
            .db()
            .expect("db")
            .q_from_scratch(&value(MIDDLE), ())
            .expect("query");
        assert_eq!(store.view("middle").expect("reads"), from_scratch);
        assert_eq!(from_scratch, value(r#"#{["eng" 5.5]}"#));
    }
    {
        let raw = factlite::rusqlite::Connection::open(&path).expect("raw connection");
        let removed = raw
            .execute(r#"DELETE FROM "view_middle__support" WHERE s_1 = 1"#, [])
            .expect("e1's tuple");
        assert_eq!(removed, 1);
    }
    let store = Store::open(&path).expect("reopens");
    store
        .transact_str(r#"[{:emp/name "e100" :emp/dept [:dept/name "eng"] :emp/salary 100}]"#)
        .expect("a write maintains the view");
    let from_scratch = store
        .db()
        .expect("db")
        .q_from_scratch(&value(MIDDLE), ())
        .expect("query");
    assert_eq!(from_scratch, value(r#"#{["eng" 6]}"#));
    assert_eq!(store.view("middle").expect("reads"), from_scratch);
}

/// A median moved by many transactions — values added, changed and
/// retracted a few at a time, ties, longs beside equal doubles, groups
/// growing and shrinking through even and odd sizes — equals its query
/// from scratch after each.
#[test]
fn a_moving_median_equals_its_query_after_every_transaction() {
    let store = Store::open_in_memory().expect("opens");
    store.transact_str(SCHEMA).expect("schema");
    store
        .transact_str(
            "[{:db/ident :emp/bonus :db/valueType :db.type/double :db/cardinality :db.cardinality/one}
              {:db/ident :emp/key :db/valueType :db.type/string :db/cardinality :db.cardinality/one
               :db/unique :db.unique/identity}]",
        )
        .expect("a double attribute and a key");
    let query = "[:find ?d (median ?v) :with ?e :where [?e :emp/dept ?x] [?x :dept/name ?d]
                  (or [?e :emp/salary ?v] [?e :emp/bonus ?v])]";
    store
        .materialize_str("middle", query, &[])
        .expect("materializes");
    store
        .transact_str(r#"[{:db/id "a" :dept/name "a"} {:db/id "b" :dept/name "b"}]"#)
        .expect("departments");
    let mut seed: u64 = 7;
    let mut next = move |below: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % below
    };
    let mut committed = 0;
    for step in 0..300 {
        let mut forms = Vec::new();
        for _ in 0..=next(3) {
            let person = next(40);
            let dept = if next(4) == 0 { "b" } else { "a" };
            let value = next(12) as i64 - 3;
            forms.push(match next(5) {
                0 => format!(r#"[:db/retractEntity [:emp/key "p{person}"]]"#),
                1 => format!(
                    r#"{{:emp/key "p{person}" :emp/dept [:dept/name "{dept}"] :emp/bonus {value}.5}}"#
                ),
                2 => format!(
                    r#"{{:emp/key "p{person}" :emp/dept [:dept/name "{dept}"] :emp/bonus {value}.25}}"#
                ),
                _ => format!(
                    r#"{{:emp/key "p{person}" :emp/dept [:dept/name "{dept}"] :emp/salary {value}}}"#
                ),
            });
        }
        let data = format!("[{}]", forms.join(" "));
        if store.transact_str(&data).is_err() {
            // A person given two values in one transaction, or retracted
            // before it exists.
            continue;
        }
        committed += 1;
        let from_scratch = store
            .db()
            .expect("db")
            .q_from_scratch(&value(query), ())
            .expect("query");
        assert_eq!(
            store.view("middle").expect("reads"),
            from_scratch,
            "step {step}: {data}"
        );
    }
    assert!(committed > 150, "{committed} transactions committed");
}

/// A median over values that are not all numbers is recomputed from its
/// group, in the query's order.
#[test]
fn a_median_of_strings_is_recomputed_from_its_group() {
    let store = Store::open_in_memory().expect("opens");
    store.transact_str(SCHEMA).expect("schema");
    let names = "[:find ?d (median ?n) :with ?e :where [?e :emp/dept ?x] [?x :dept/name ?d] [?e :emp/name ?n]]";
    store
        .materialize_str("names", names, &[])
        .expect("materializes");
    store
        .transact_str(
            r#"[{:db/id "eng" :dept/name "eng"} {:emp/name "b" :emp/dept "eng"} {:emp/name "d" :emp/dept "eng"}]"#,
        )
        .expect("data");
    for name in ["a", "c", "e"] {
        store
            .transact_str(&format!(
                r#"[{{:emp/name "{name}" :emp/dept [:dept/name "eng"]}}]"#
            ))
            .expect("a write");
        let from_scratch = store
            .db()
            .expect("db")
            .q_from_scratch(&value(names), ())
            .expect("query");
        assert_eq!(store.view("names").expect("reads"), from_scratch);
    }
    assert_eq!(
        store.view("names").expect("reads"),
        value(r#"#{["eng" "c"]}"#)
    );
}

#[test]
fn a_view_ordered_by_an_aggregate_has_an_index_that_a_top_n_read_walks() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ordered.db");
    let store = Store::open(&path).expect("opens");
    store.transact_str(SCHEMA).expect("schema");
    store
        .transact_str(
            r#"[{:db/id "eng" :dept/name "eng"} {:db/id "ops" :dept/name "ops"}
                {:emp/name "Ann" :emp/dept "eng"} {:emp/name "Bo" :emp/dept "eng"}
                {:emp/name "Cy" :emp/dept "ops"}]"#,
        )
        .expect("data");
    store
        .materialize_str(
            "headcount",
            "[:find ?d (count ?e) :where [?e :emp/dept ?x] [?x :dept/name ?d]
              :order-by (desc (count ?e)) ?d]",
            &[],
        )
        .expect("materializes");
    let plain = rusqlite::Connection::open(&path).expect("a second connection");
    let top = r#"SELECT d, count_e FROM "view_headcount" ORDER BY count_e DESC, d LIMIT 1"#;
    let plan: Vec<String> = plain
        .prepare(&format!("EXPLAIN QUERY PLAN {top}"))
        .expect("explain")
        .query_map([], |row| row.get::<_, String>(3))
        .expect("plan")
        .collect::<rusqlite::Result<_>>()
        .expect("plan rows");
    assert!(
        plan.iter()
            .any(|step| step.contains("view_headcount_order"))
            && !plan.iter().any(|step| step.contains("TEMP B-TREE")),
        "the read walks the order index without sorting: {plan:?}"
    );
    let first: (String, i64) = plain
        .query_row(top, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("the top row");
    assert_eq!(first, ("eng".to_string(), 2));
    store
        .transact_str(r#"[{:emp/name "Di" :emp/dept [:dept/name "ops"]} {:emp/name "Ed" :emp/dept [:dept/name "ops"]}]"#)
        .expect("more data");
    let first: (String, i64) = plain
        .query_row(top, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("the top row");
    assert_eq!(first, ("ops".to_string(), 3));
    assert_eq!(
        store
            .view("headcount")
            .expect("read")
            .into_edn()
            .to_string(),
        r#"[["ops" 3] ["eng" 2]]"#
    );
}

#[test]
fn subscribers_hear_of_commits_another_connection_makes_on_the_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("shared.db");
    let here = Store::open(&path).expect("opens");
    here.transact_str(SCHEMA).expect("schema");
    here.materialize_str("names", "[:find ?n :where [_ :emp/name ?n]]", &[])
        .expect("materializes");
    let (sender, changes) = std::sync::mpsc::channel();
    here.subscribe("names", move |change| {
        let _ = sender.send(change.clone());
    })
    .expect("subscribes");
    // Another process on the same file: a store of its own connections.
    let there = Store::open(&path).expect("a second store on the file");
    let report = there
        .transact_str(r#"[{:emp/name "Ann"} {:emp/name "Bo"}]"#)
        .expect("written there");
    let heard = changes
        .recv_timeout(Duration::from_secs(10))
        .expect("the watcher tells of it");
    assert_eq!(heard.tx, report.tx);
    assert_eq!(
        heard.added,
        vec![vec![value(r#""Ann""#)], vec![value(r#""Bo""#)]]
    );
    assert!(heard.removed.is_empty());

    let own = here
        .transact_str(r#"[{:emp/name "Cy"}]"#)
        .expect("written here");
    let heard = changes.recv_timeout(Duration::from_secs(10)).expect("told");
    assert_eq!(
        (heard.tx, heard.added.clone()),
        (own.tx, vec![vec![value(r#""Cy""#)]])
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(changes.try_recv().is_err(), "its own commit is told once");

    let bo = there
        .db()
        .expect("db")
        .q_str(r#"[:find ?e . :where [?e :emp/name "Bo"]]"#, ())
        .expect("query")
        .into_edn();
    let last = there
        .transact_str(&format!("[[:db/retractEntity {bo}]]"))
        .expect("retracted there");
    let heard = changes.recv_timeout(Duration::from_secs(10)).expect("told");
    assert_eq!(
        (heard.tx, heard.added.is_empty(), heard.removed.clone()),
        (last.tx, true, vec![vec![value(r#""Bo""#)]])
    );
}
