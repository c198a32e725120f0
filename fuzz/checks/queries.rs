//! The property the `query_runner` fuzz target checks, in one place:
//! included with `#[path]` by `fuzz/fuzz_targets/query_runner.rs` and by the
//! ordinary test `tests/fuzz_corpus.rs`, which runs it over the committed
//! seeds and over every query of the conformance scenarios with its inputs.
//!
//! The input is EDN text holding a sequence of values: a query (vector or
//! map form), then up to [`MAX_INPUTS`] inputs for its `:in` after `$`. The
//! query runs (`Db::q`) against a small in-memory store built once per
//! thread ([`SCHEMA`], the installed [`RULES`] and `query_data.edn`): on the
//! present, as of the first data transaction, and on the history. For every
//! run:
//!
//! - nothing panics;
//! - a failing run fails with an error a user's bad query or input may
//!   cause (parse, query, unknown attribute, unknown entity, type
//!   mismatch): anything else — storage above all — means the planner wrote
//!   SQL that SQLite rejects, or a store bug; a query the parser rejects
//!   fails with a parse error;
//! - a successful result has the find spec's shape: a relation's rows and a
//!   tuple are as wide as the find spec (and as many names under
//!   `:keys`/`:strs`/`:syms`), and, without a pull in the find spec, the
//!   rows or values of a result whose EDN form is a set are distinct: the
//!   set has `len()` elements.

use std::cell::RefCell;

use factlite::{Db, ErrorCategory, QueryResult, Store, Value};
use factlite_query::{parse_query, FindElem, FindSpec};

/// The schema of the store: one attribute of each interesting kind (the
/// `transactor` target's).
pub const SCHEMA: &str = include_str!("schema.edn");

/// Rules installed in the store, so a query may call them without `%`:
/// `linked` (one step either way) and the recursive `reaches`.
pub const RULES: &str = r#"[[(linked ?a ?b) [?a :f/friend ?b]]
 [(linked ?a ?b) [?b :f/friend ?a]]
 [(reaches ?a ?b) [?a :f/friend ?b]]
 [(reaches ?a ?b) [?a :f/friend ?m] (reaches ?m ?b)]]"#;

/// Inputs read from one fuzz input at most (after the query).
pub const MAX_INPUTS: usize = 4;

/// Longer fuzz inputs are refused, so a run stays fast.
pub const MAX_INPUT_BYTES: usize = 4096;

/// The error categories a query or its inputs may legitimately cause.
const USER_ERRORS: [ErrorCategory; 5] = [
    ErrorCategory::Parse,
    ErrorCategory::Query,
    ErrorCategory::UnknownAttribute,
    ErrorCategory::UnknownEntity,
    ErrorCategory::TypeMismatch,
];

/// The store every run of a thread queries, with the first data
/// transaction (what `as_of` goes back to).
struct Fixture {
    store: Store,
    first_data_tx: i64,
}

fn build_fixture() -> Fixture {
    let store = Store::open_in_memory().expect("an in-memory store");
    store.transact_str(SCHEMA).expect("the fuzz schema");
    store.install_rules_str(RULES).expect("the installed rules");
    let data = factlite_edn::parse_all(include_str!("query_data.edn")).expect("the fuzz data");
    let mut reports = data
        .iter()
        .map(|tx_data| store.transact(tx_data).expect("a fuzz data transaction"));
    let first_data_tx = reports.next().expect("a first data transaction").tx;
    reports.for_each(drop);
    Fixture {
        store,
        first_data_tx,
    }
}

thread_local! {
    static FIXTURE: RefCell<Option<Fixture>> = const { RefCell::new(None) };
}

/// The three snapshots a query runs on: the present, as of the first data
/// transaction, the history.
fn snapshots() -> Vec<(&'static str, Db)> {
    FIXTURE.with(|fixture| {
        let mut fixture = fixture.borrow_mut();
        let fixture = fixture.get_or_insert_with(build_fixture);
        let db = fixture.store.db().expect("a snapshot of the fuzz store");
        vec![
            (
                "as of the first data transaction",
                db.as_of(fixture.first_data_tx),
            ),
            ("on the history", db.history()),
            ("on the present", db),
        ]
    })
}

/// Checks a successful result's shape against the find spec.
fn check_result(spec: &FindSpec, result: QueryResult, context: &str) {
    let width = spec.elements().len();
    let has_pull = spec
        .elements()
        .iter()
        .any(|element| matches!(element, FindElem::Pull { .. }));
    match &result {
        QueryResult::Relation(relation) => {
            assert_eq!(relation.width(), width, "{context}: relation width");
            assert!(
                relation.rows().remainder().is_empty(),
                "{context}: a relation holds a partial row"
            );
            if let Some(names) = relation.names() {
                assert_eq!(names.len(), width, "{context}: return-map names");
            }
        }
        QueryResult::Tuple(Some(tuple)) => {
            assert_eq!(tuple.len(), width, "{context}: tuple width");
        }
        QueryResult::Collection { .. } | QueryResult::Scalar(_) | QueryResult::Tuple(None) => {}
    }
    let len = result.len();
    if let Value::Set(set) = &result.into_edn() {
        assert!(
            has_pull || set.len() == len,
            "{context}: {len} rows, but {} distinct ones",
            set.len()
        );
    }
}

/// Panics (which the fuzzer reports) when the property fails for `data`.
pub fn check_query_runner(data: &[u8]) {
    if data.len() > MAX_INPUT_BYTES {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(values) = factlite_edn::parse_all(text) else {
        return;
    };
    let Some((query, inputs)) = values.split_first() else {
        return;
    };
    if inputs.len() > MAX_INPUTS {
        return;
    }
    let parsed = parse_query(query);
    for (when, db) in snapshots() {
        let context = format!("{query} with inputs {inputs:?} {when}");
        match (db.q(query, inputs), &parsed) {
            (Ok(result), Ok(parsed)) => check_result(&parsed.find, result, &context),
            (Ok(_), Err(error)) => panic!("{context}: ran, though it does not parse: {error}"),
            (Err(error), Ok(_)) => assert!(
                USER_ERRORS.contains(&error.category()),
                "{context}: failed with {} {error}",
                error.category().keyword()
            ),
            (Err(error), Err(_)) => assert_eq!(
                error.category(),
                ErrorCategory::Parse,
                "{context}: does not parse, but failed with {error}"
            ),
        }
    }
}
