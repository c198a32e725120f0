//! What a host program can rely on: the durability a store runs with on
//! every connection, queries bounded by a timeout and a result limit and
//! stopped by a cancel handle (the store usable after each), a store read
//! read-only, files refused by name, and NaN refused.

use std::time::{Duration, Instant};

use factlite::{Config, Db, Durability, Error, ErrorCategory, Store, Value};

const SCHEMA: &str = r#"[{:db/ident :n/value :db/valueType :db.type/long
                          :db/cardinality :db.cardinality/one}
                         {:db/ident :n/score :db/valueType :db.type/double
                          :db/cardinality :db.cardinality/one}]"#;

/// `synchronous` on the connection a snapshot reads through.
fn synchronous(db: &Db) -> i64 {
    db.with_connection(|conn| conn.query_row("PRAGMA synchronous", [], |row| row.get(0)))
        .expect("synchronous")
}

#[test]
fn every_reader_runs_the_configured_durability() {
    // SQLite's numbers for OFF, NORMAL and FULL.
    for (durability, expected) in [
        (Durability::Full, 2),
        (Durability::Normal, 1),
        (Durability::UnsafeNoSync, 0),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::default();
        config.durability = durability;
        config.readers = 3;
        let store = Store::open_with(dir.path().join("db.factlite"), config).expect("opens");
        store.transact(SCHEMA).expect("schema");
        // Snapshots held at once read through different readers.
        let snapshots: Vec<Db> = (0..3).map(|_| store.db().expect("db")).collect();
        for db in &snapshots {
            assert_eq!(synchronous(db), expected, "{durability}");
        }
    }
    assert_eq!(Config::default().durability, Durability::Full);
}

/// A store holding `count` numbers `0..count` (`:n/value`).
fn numbers(count: usize) -> Store {
    let store = Store::open_in_memory().expect("store");
    store.transact(SCHEMA).expect("schema");
    let entities: Vec<String> = (0..count).map(|i| format!("{{:n/value {i}}}")).collect();
    store
        .transact(format!("[{}]", entities.join(" ")).as_str())
        .expect("numbers");
    store
}

/// Three copies of the numbers side by side: `count`³ rows.
const CUBE: &str = "[:find ?a ?b ?c :where [_ :n/value ?a] [_ :n/value ?b] [_ :n/value ?c]]";

const COUNT: &str = "[:find (count ?v) . :where [_ :n/value ?v]]";

/// The store answers and takes writes: whatever stopped a query left it
/// usable.
fn assert_usable(store: &Store, count: i64) {
    let db = store.db().expect("db");
    assert_eq!(
        db.q_str(COUNT, &[]).expect("count").into_edn(),
        Value::Integer(count)
    );
    store.transact("[{:n/value -1}]").expect("a write after");
    store
        .transact("[[:db/retract [:n/value -1] :n/value -1]]")
        .ok();
}

fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let outcome = work();
    (outcome, started.elapsed())
}

#[test]
fn a_cross_product_stops_at_its_timeout_and_the_store_stays_usable() {
    let store = numbers(300);
    let db = store
        .db()
        .expect("db")
        .with_timeout(Duration::from_millis(50));
    let (outcome, elapsed) = timed(|| db.q_str(CUBE, &[]));
    let error = outcome.expect_err("27 million rows do not come in 50 ms");
    assert!(
        matches!(error, Error::Timeout { limit_ms: 50 }),
        "{error:?}"
    );
    assert_eq!(error.category(), ErrorCategory::Timeout);
    assert_eq!(error.category().keyword(), ":error/timeout");
    assert!(error.to_string().contains("time limit of 50 ms"), "{error}");
    assert!(
        elapsed < Duration::from_secs(5),
        "stopped after {elapsed:?}"
    );
    // the same snapshot runs a small query within the limit
    assert_eq!(
        db.q_str(COUNT, &[]).expect("count").into_edn(),
        Value::Integer(300)
    );
    assert_usable(&store, 300);
}

#[test]
fn a_recursive_rule_that_never_ends_stops_at_the_memory_limit() {
    let store = numbers(3);
    // Every number is followed by the next: SQLite's queue of answers
    // grows without end, with no result row to count.
    let counting = r#"[:find (count ?x) . :in $ %
                       :where (up ?x)]"#;
    let rules = factlite::edn::parse("[[(up ?x) [(ground 0) ?x]] [(up ?y) (up ?x) [(inc ?x) ?y]]]")
        .expect("rules");
    let db = store.db().expect("db").with_memory_limit(32 << 20);
    let (outcome, elapsed) = timed(|| db.q_str(counting, &[rules]));
    let error = outcome.expect_err("an endless rule does not finish");
    assert!(
        matches!(error, Error::MemoryLimit { limit_bytes } if limit_bytes == 32 << 20),
        "{error:?}"
    );
    assert_eq!(error.category(), ErrorCategory::Limit);
    assert!(error.to_string().contains("32 MiB"), "{error}");
    assert!(
        elapsed < Duration::from_secs(60),
        "stopped after {elapsed:?}"
    );
    assert_usable(&store, 3);
}

#[test]
fn a_query_map_sets_its_own_timeout_in_milliseconds() {
    let store = numbers(300);
    let query = "{:find [?a ?b ?c] :where [[_ :n/value ?a] [_ :n/value ?b] [_ :n/value ?c]]
                  :timeout 30}";
    let error = store
        .db()
        .expect("db")
        .q_str(query, &[])
        .expect_err("times out");
    assert!(
        matches!(error, Error::Timeout { limit_ms: 30 }),
        "{error:?}"
    );
    // the query's own timeout wins over the snapshot's
    let generous = store
        .db()
        .expect("db")
        .with_timeout(Duration::from_secs(600));
    let error = generous.q_str(query, &[]).expect_err("times out");
    assert!(
        matches!(error, Error::Timeout { limit_ms: 30 }),
        "{error:?}"
    );
    // streamed, the query is bounded by its time limit too
    let streamed = store.db().expect("db").q_rows(
        &factlite::edn::parse(query).expect("query parses"),
        &[],
        |rows| rows.find_map(|row| row.err()),
    );
    let error = streamed.expect("runs").expect("an item fails");
    assert!(
        matches!(error, Error::Timeout { limit_ms: 30 }),
        "{error:?}"
    );
    assert_usable(&store, 300);
}

#[test]
fn the_configured_timeout_bounds_every_snapshot_of_a_file_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.query_timeout = Some(Duration::from_millis(40));
    config.durability = Durability::Normal;
    let store = Store::open_with(dir.path().join("db.factlite"), config).expect("opens");
    store.transact(SCHEMA).expect("schema");
    let entities: Vec<String> = (0..300).map(|i| format!("{{:n/value {i}}}")).collect();
    store
        .transact(format!("[{}]", entities.join(" ")).as_str())
        .expect("numbers");
    let error = store
        .db()
        .expect("db")
        .q_str(CUBE, &[])
        .expect_err("times out");
    assert!(
        matches!(error, Error::Timeout { limit_ms: 40 }),
        "{error:?}"
    );
    assert_usable(&store, 300);
}

#[test]
fn a_whole_result_stops_at_the_result_limit_but_a_stream_does_not() {
    let store = numbers(200);
    let square = "[:find ?a ?b :where [_ :n/value ?a] [_ :n/value ?b]]";
    // 40,000 rows of two values
    let db = store.db().expect("db").with_result_limit(10_000);
    let error = db.q_str(square, &[]).expect_err("80,000 values");
    assert!(
        matches!(
            error,
            Error::Limit {
                limit: 10_000,
                gathered: "the result"
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.category().keyword(), ":error/limit");
    let streamed = db
        .q_rows(
            &factlite::edn::parse(square).expect("parses"),
            &[],
            |rows| rows.count(),
        )
        .expect("streams");
    assert_eq!(streamed, 40_000);
    // within the limit, the same query answers
    let roomy = store.db().expect("db").with_result_limit(80_000);
    let rows = roomy.q_str(square, &[]).expect("fits");
    assert!(matches!(rows, factlite::QueryResult::Relation(relation) if relation.len() == 40_000));
    // the rows an aggregate computed in Rust gathers count too
    let median = "[:find (median ?a) . :with ?b :where [_ :n/value ?a] [_ :n/value ?b]]";
    let error = db.q_str(median, &[]).expect_err("40,000 rows to aggregate");
    assert!(
        matches!(
            error,
            Error::Limit {
                gathered: "the rows to aggregate",
                ..
            }
        ),
        "{error:?}"
    );
    assert_usable(&store, 200);
    assert_eq!(Config::default().result_limit, 10_000_000);
}

/// A cycle of `count` nodes and the non-linear closure over it (evaluated
/// by semi-naive rounds: the body calls the rule twice).
fn cycle(count: usize) -> Store {
    let store = Store::open_in_memory().expect("store");
    store
        .transact(
            "[{:db/ident :node/id :db/valueType :db.type/long :db/cardinality :db.cardinality/one
               :db/unique :db.unique/identity}
              {:db/ident :node/next :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}]",
        )
        .expect("schema");
    let nodes: Vec<String> = (0..count)
        .map(|i| {
            format!(
                "{{:node/id {i} :node/next \"n{}\" :db/id \"n{i}\"}}",
                (i + 1) % count
            )
        })
        .collect();
    store
        .transact(format!("[{}]", nodes.join(" ")).as_str())
        .expect("cycle");
    store
}

const CLOSURE: &str = "[:find (count ?y) . :with ?x :in $ % :where (reach ?x ?y)]";
/// A non-linear closure the planner does not make linear (its two calls
/// sit inside `or-join`), so it runs as semi-naive rounds over temporary
/// tables: `(reach ?x ?m) (reach ?m ?y)` alone is rewritten as the linear
/// closure, one `WITH RECURSIVE` CTE.
const NON_LINEAR: &str = "[[(reach ?x ?y) [?x :node/next ?y]]
                           [(reach ?x ?y) (or-join [?x ?y] (and (reach ?x ?m) (reach ?m ?y)))]]";

#[test]
fn a_non_linear_recursive_rule_gets_the_same_limits() {
    let store = cycle(150);
    let rules = factlite::edn::parse(NON_LINEAR).expect("rules parse");
    // 150² pairs derived, counted by SQLite: only the derivation gathers
    // them
    let db = store.db().expect("db");
    let all = db
        .q_str(CLOSURE, std::slice::from_ref(&rules))
        .expect("the closure");
    assert_eq!(all.into_edn(), Value::Integer(150 * 150));
    let error = db
        .with_result_limit(5_000)
        .q_str(CLOSURE, std::slice::from_ref(&rules))
        .expect_err("22,500 derived rows");
    assert!(
        matches!(
            error,
            Error::Limit {
                limit: 5_000,
                gathered: "the rows a recursive rule derives"
            }
        ),
        "{error:?}"
    );
    let big = cycle(3_000);
    let (outcome, elapsed) = timed(|| {
        big.db()
            .expect("db")
            .with_timeout(Duration::from_millis(100))
            .q_str(CLOSURE, std::slice::from_ref(&rules))
    });
    let error = outcome.expect_err("nine million pairs take longer than 100 ms");
    assert!(
        matches!(error, Error::Timeout { limit_ms: 100 }),
        "{error:?}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "stopped after {elapsed:?}"
    );
    // the stopped evaluation left no temporary table behind, and the store
    // answers
    let left = big.db().expect("db").with_connection(|conn| {
        conn.query_row(
            "SELECT count(*) FROM sqlite_temp_master WHERE name LIKE 'fixpoint%'",
            [],
            |row| row.get::<_, i64>(0),
        )
    });
    assert_eq!(left.expect("temp tables"), 0);
    let nodes = big
        .db()
        .expect("db")
        .q_str("[:find (count ?n) . :where [?n :node/id _]]", &[])
        .expect("count");
    assert_eq!(nodes.into_edn(), Value::Integer(3_000));
    // and the limit left the small store's closure runnable
    let again = db
        .q_str(CLOSURE, std::slice::from_ref(&rules))
        .expect("again");
    assert_eq!(again.into_edn(), Value::Integer(150 * 150));
}

#[test]
fn a_cancel_handle_stops_a_query_from_another_thread() {
    let store = numbers(300);
    let cancel = store.cancel_handle();
    let db = store.db().expect("db");
    let running = std::thread::spawn(move || timed(|| db.q_str(CUBE, &[])));
    std::thread::sleep(Duration::from_millis(100));
    assert!(cancel.cancel());
    let (outcome, elapsed) = running.join().expect("the query's thread");
    let error = outcome.expect_err("cancelled");
    assert!(matches!(error, Error::Cancelled), "{error:?}");
    assert_eq!(error.category().keyword(), ":error/cancelled");
    assert!(
        elapsed < Duration::from_secs(10),
        "stopped after {elapsed:?}"
    );
    assert_usable(&store, 300);
}

#[test]
fn a_store_opened_read_only_reads_and_refuses_every_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.factlite");
    let store = Store::open(&path).expect("opens");
    store.transact(SCHEMA).expect("schema");
    store
        .transact("[{:n/value 1} {:n/value 2}]")
        .expect("numbers");
    drop(store);
    let reader = Store::open_read_only(&path).expect("opens read-only");
    let db = reader.db().expect("db");
    assert_eq!(
        db.q_str(COUNT, &[]).expect("count").into_edn(),
        Value::Integer(2)
    );
    let error = reader.transact("[{:n/value 3}]").expect_err("read-only");
    assert!(matches!(error, Error::ReadOnly), "{error:?}");
    assert_eq!(error.category(), ErrorCategory::Storage);
    assert!(error.to_string().contains("opened read-only"), "{error}");
    let refused = reader.install_rules_str("[[(one ?v) [_ :n/value ?v]]]");
    assert!(matches!(refused, Err(Error::ReadOnly)), "{refused:?}");
    // a foreign file is refused by name
    let other = dir.path().join("other.db");
    std::fs::write(&other, "not a database at all, just text\n".repeat(50)).expect("writes");
    let error = Store::open(&other).err().expect("refused");
    assert!(matches!(error, Error::NotFactlite { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("other.db is not a factlite database"),
        "{error}"
    );
}

#[test]
fn nan_is_refused_as_a_type_mismatch_that_says_why() {
    let store = numbers(1);
    for tx_data in [
        "[{:n/score ##NaN}]",
        "[[:db/add \"x\" :n/score ##NaN]]",
        "[{:n/value ##NaN}]",
    ] {
        let error = store.transact(tx_data).expect_err("NaN refused");
        assert!(
            matches!(error, Error::NotANumber { .. }),
            "{tx_data}: {error:?}"
        );
        assert_eq!(error.category().keyword(), ":error/type-mismatch");
        assert!(
            error
                .to_string()
                .contains("NaN equals no value, not even itself"),
            "{error}"
        );
    }
    let built = factlite::Entity::new().set(":n/score", f64::NAN);
    let error = store.transact(built).expect_err("NaN refused");
    assert!(
        matches!(&error, Error::NotANumber { attribute, .. } if attribute == ":n/score"),
        "{error:?}"
    );
    // nothing was written, and other doubles still are
    store
        .transact("[{:n/score 1.5} {:n/score ##Inf}]")
        .expect("doubles");
    let scores = store
        .db()
        .expect("db")
        .q_str("[:find (count ?s) . :where [_ :n/score ?s]]", &[])
        .expect("count");
    assert_eq!(scores.into_edn(), Value::Integer(2));
}

/// `levels` vectors, one inside the other, around `1`.
fn nested(levels: usize) -> Value {
    let mut value = Value::Integer(1);
    for _ in 0..levels {
        value = Value::Vector(vec![value]);
    }
    value
}

/// Runs `use_it` on a value nested 40,000 levels deep (as the issue's
/// transaction was), then drops it as any caller would (which recursed,
/// and overflowed the stack, before `Value` dropped level by level).
fn with_deep<T>(wrap: impl FnOnce(Value) -> Value, use_it: impl FnOnce(&Value) -> T) -> T {
    let deep = wrap(nested(40_000));
    let outcome = use_it(&deep);
    drop(deep);
    outcome
}

fn assert_too_deep<T: std::fmt::Debug>(outcome: factlite::Result<T>, what: &str) {
    let error = outcome.expect_err("too deep");
    assert!(
        matches!(&error, Error::TooDeep { limit, .. } if *limit == factlite::edn::MAX_DEPTH),
        "{what}: {error:?}"
    );
    assert_eq!(error.category().keyword(), ":error/limit", "{what}");
    assert!(error.to_string().contains("levels deep"), "{what}: {error}");
}

#[test]
fn values_nested_past_the_readers_limit_are_refused_wherever_they_enter() {
    let store = numbers(3);
    let db = store.db().expect("db");
    let query = factlite::edn::parse("[:find ?x . :in $ ?x]").expect("query");
    let same = |value: Value| value;
    assert_too_deep(
        with_deep(same, |deep| db.q(&query, std::slice::from_ref(deep))),
        "a query input",
    );
    assert_too_deep(
        with_deep(same, |deep| {
            db.q_from_scratch(&query, std::slice::from_ref(deep))
        }),
        "a query input, from scratch",
    );
    let add = |deep: Value| {
        Value::Vector(vec![Value::Vector(vec![
            Value::keyword(":db/add"),
            Value::String("x".into()),
            Value::keyword(":n/value"),
            deep,
        ])])
    };
    assert_too_deep(with_deep(add, |tx| store.transact(tx)), "transaction data");
    assert_too_deep(
        with_deep(same, |deep| db.pull(deep, Value::Integer(1))),
        "a pull pattern",
    );
    let find = |deep: Value| Value::Vector(vec![Value::keyword(":find"), deep]);
    assert_too_deep(with_deep(find, |query| db.q(query, &[])), "a query");
    assert_too_deep(with_deep(find, |query| db.explain(query, &[])), "explain");
    assert_too_deep(with_deep(same, |rules| store.install_rules(rules)), "rules");
    assert_too_deep(
        with_deep(find, |query| store.materialize("deep", query, &[])),
        "a view's query",
    );
    // nothing was written, and values within the limit are not refused
    assert_usable(&store, 3);
    let within = db.q(&query, &[nested(factlite::edn::MAX_DEPTH)]);
    assert!(!matches!(within, Err(Error::TooDeep { .. })), "{within:?}");
}
