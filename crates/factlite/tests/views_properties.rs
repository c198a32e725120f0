//! Model-based property test of materialized views: random schemas and
//! random transaction sequences (assertions, retractions, cardinality-one
//! replacement, retractEntity with components, upserts, cas, schema
//! alterations, transactions that must fail) against a family of queries
//! covering every shape the views maintain. After every transaction, every
//! view must equal its query run from scratch.
//!
//! `FACTLITE_VIEW_CASES` sets the number of cases (CI runs a modest number).

use factlite::{edn, Store, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// The queries kept as views: one per shape (joins, predicates, functions,
/// `or`, `or-join`, `not`, `not-join`, aggregates grouped and global,
/// non-recursive and recursive rules, `get-else`, `missing?`, pull, order
/// and limit, find specs).
const QUERIES: &[(&str, &str)] = &[
    ("join", "[:find ?n ?m :where [?e :p/name ?n] [?e :p/friend ?x] [?x :p/name ?m]]"),
    ("predicate", "[:find ?n ?k :where [?e :p/name ?n] [?e :p/age ?a] [(> ?a 2)] [(* ?a 10) ?k]]"),
    ("or", "[:find ?e :where (or [?e :p/flag true] [?e :p/tag \"t1\"])]"),
    ("or-join", "[:find ?n :where [?e :p/name ?n] (or-join [?e] [?e :p/tag \"t2\"] (and [?e :p/friend ?f] [?f :p/flag true]))]"),
    ("not", "[:find ?n :where [?e :p/name ?n] (not [?e :p/flag true]) (not [?e :p/tag \"t1\"])]"),
    ("not-join", "[:find ?n :where [?e :p/name ?n] (not-join [?e] [?e :p/friend ?x] [?x :p/age 3])]"),
    ("group", "[:find ?n (count ?x) (sum ?a) (max ?a) (min ?a) :where [?e :p/name ?n] [?e :p/friend ?x] [?x :p/age ?a]]"),
    ("median", "[:find ?t (median ?a) (count-distinct ?e) :with ?e :where [?e :p/tag ?t] [?e :p/age ?a]]"),
    ("global", "[:find (count ?e) . :where [?e :p/age]]"),
    ("rule", "[:find ?n :in $ % :where (named-friend ?e ?n)]"),
    ("recursive", "[:find ?a ?b :in $ % :where (reach ?a ?b)]"),
    ("get-else", "[:find ?e ?n :where [?e :p/tag _] [(get-else $ ?e :p/name \"none\") ?n]]"),
    ("missing", "[:find ?n :where [?e :p/name ?n] [(missing? $ ?e :p/friend)]]"),
    ("pull", "[:find (pull ?e [:p/name :p/age]) :where [?e :p/flag true]]"),
    ("ordered", "[:find ?n ?a :where [?e :p/name ?n] [?e :p/age ?a] :order-by (desc ?a) ?n :limit 3]"),
    ("collection", "[:find [?t ...] :where [_ :p/tag ?t]]"),
];

const RULES: &str = r#"[[(named-friend ?e ?n) [?e :p/friend ?f] [?f :p/name ?n]]
                        [(named-friend ?e ?n) [?e :p/flag true] [?e :p/name ?n]]
                        [(reach ?a ?b) [?a :p/friend ?b]]
                        [(reach ?a ?b) [?a :p/friend ?m] (reach ?m ?b)]]"#;

/// A schema: which of the choices the generator made.
#[derive(Clone, Debug)]
struct Schema {
    name_unique: bool,
    friend_many: bool,
    friend_component: bool,
    age_many: bool,
}

impl Schema {
    fn edn(&self) -> String {
        let one_or_many = |many: bool| {
            if many {
                ":db.cardinality/many"
            } else {
                ":db.cardinality/one"
            }
        };
        format!(
            "[{{:db/ident :p/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one {}}}
              {{:db/ident :p/friend :db/valueType :db.type/ref :db/cardinality {} :db/isComponent {}}}
              {{:db/ident :p/age :db/valueType :db.type/long :db/cardinality {}}}
              {{:db/ident :p/flag :db/valueType :db.type/boolean :db/cardinality :db.cardinality/one}}
              {{:db/ident :p/tag :db/valueType :db.type/string :db/cardinality :db.cardinality/many}}]",
            if self.name_unique {
                ":db/unique :db.unique/identity"
            } else {
                ""
            },
            one_or_many(self.friend_many),
            self.friend_component,
            one_or_many(self.age_many),
        )
    }
}

/// One operation of a transaction; entities are picked from a small pool
/// so operations collide.
#[derive(Clone, Debug)]
enum Op {
    Name(usize, usize),
    Friend(usize, usize),
    Age(usize, i64),
    Flag(usize, bool),
    Tag(usize, usize),
    RetractFriend(usize, usize),
    RetractAge(usize),
    RetractTags(usize),
    RetractEntity(usize),
    UpsertByName(usize, i64),
    Cas(usize, i64, i64),
    /// An assertion of the wrong type: the whole transaction must fail.
    WrongType(usize),
    /// Alter `:p/friend` to cardinality many (refused while it would not
    /// hold, accepted otherwise).
    FriendToMany,
}

const ENTITIES: usize = 6;

fn op() -> impl Strategy<Value = Op> {
    let e = || 0..ENTITIES;
    prop_oneof![
        4 => (e(), 0..5usize).prop_map(|(a, b)| Op::Name(a, b)),
        5 => (e(), e()).prop_map(|(a, b)| Op::Friend(a, b)),
        4 => (e(), 0..6i64).prop_map(|(a, b)| Op::Age(a, b)),
        2 => (e(), any::<bool>()).prop_map(|(a, b)| Op::Flag(a, b)),
        2 => (e(), 0..3usize).prop_map(|(a, b)| Op::Tag(a, b)),
        2 => (e(), e()).prop_map(|(a, b)| Op::RetractFriend(a, b)),
        1 => e().prop_map(Op::RetractAge),
        1 => e().prop_map(Op::RetractTags),
        2 => e().prop_map(Op::RetractEntity),
        1 => (0..5usize, 0..6i64).prop_map(|(a, b)| Op::UpsertByName(a, b)),
        1 => (e(), 0..6i64, 0..6i64).prop_map(|(a, b, c)| Op::Cas(a, b, c)),
        1 => e().prop_map(Op::WrongType),
        1 => Just(Op::FriendToMany),
    ]
}

fn schema() -> impl Strategy<Value = Schema> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(name_unique, friend_many, friend_component, age_many)| Schema {
            name_unique,
            friend_many,
            friend_component,
            age_many,
        },
    )
}

/// The transaction data of some operations; entity `i` is the tempid or
/// the id it got earlier.
fn tx_data(ops: &[Op], ids: &[Option<i64>], schema: &Schema) -> String {
    let entity = |i: usize| match ids[i] {
        Some(id) => id.to_string(),
        None => format!("\"e{i}\""),
    };
    let mut forms = Vec::new();
    for op in ops {
        forms.push(match op {
            Op::Name(e, n) => format!("[:db/add {} :p/name \"n{n}\"]", entity(*e)),
            Op::Friend(a, b) => format!("[:db/add {} :p/friend {}]", entity(*a), entity(*b)),
            Op::Age(e, a) => format!("[:db/add {} :p/age {a}]", entity(*e)),
            Op::Flag(e, f) => format!("[:db/add {} :p/flag {f}]", entity(*e)),
            Op::Tag(e, t) => format!("[:db/add {} :p/tag \"t{t}\"]", entity(*e)),
            Op::RetractFriend(a, b) => {
                format!("[:db/retract {} :p/friend {}]", entity(*a), entity(*b))
            }
            Op::RetractAge(e) => format!("[:db/retract {} :p/age]", entity(*e)),
            Op::RetractTags(e) => format!("[:db/retract {} :p/tag]", entity(*e)),
            Op::RetractEntity(e) => format!("[:db/retractEntity {}]", entity(*e)),
            Op::UpsertByName(n, a) if schema.name_unique => {
                format!("{{:p/name \"n{n}\" :p/age {a}}}")
            }
            Op::UpsertByName(n, a) => format!("{{:p/name \"new{n}\" :p/age {a}}}"),
            Op::Cas(e, old, new) => format!("[:db/cas {} :p/age {old} {new}]", entity(*e)),
            Op::WrongType(e) => format!("[:db/add {} :p/age \"not a number\"]", entity(*e)),
            Op::FriendToMany => "{:db/id :p/friend :db/cardinality :db.cardinality/many}".into(),
        });
    }
    format!("[{}]", forms.join(" "))
}

/// Committed transactions and non-empty view reads over the whole run: a
/// generator that makes every transaction fail would prove nothing.
#[derive(Default)]
struct Coverage {
    committed: usize,
    failed: usize,
    nonempty_reads: usize,
}

fn run_case(
    schema: &Schema,
    transactions: &[Vec<Op>],
    coverage: &mut Coverage,
) -> Result<(), TestCaseError> {
    let store = Store::open_in_memory().map_err(fail)?;
    store.transact_str(&schema.edn()).map_err(fail)?;
    let rules = edn::parse(RULES).map_err(fail)?;
    for (name, query) in QUERIES {
        let inputs = if query.contains(":in $ %") {
            vec![rules.clone()]
        } else {
            vec![]
        };
        store.materialize_str(name, query, &inputs).map_err(fail)?;
    }
    let mut ids: Vec<Option<i64>> = vec![None; ENTITIES];
    // Half the pool exists from the start, the rest appears as tempids.
    let seed: Vec<String> = (0..ENTITIES / 2)
        .map(|i| format!("{{:db/id \"e{i}\" :p/age {i}}}"))
        .collect();
    let report = store
        .transact_str(&format!("[{}]", seed.join(" ")))
        .map_err(fail)?;
    for (i, id) in ids.iter_mut().enumerate().take(ENTITIES / 2) {
        *id = report.tempids.get(&format!("e{i}")).copied();
    }
    for (step, ops) in transactions.iter().enumerate() {
        let text = tx_data(ops, &ids, schema);
        let outcome = store.transact_str(&text);
        match &outcome {
            Ok(_) => coverage.committed += 1,
            Err(_) => coverage.failed += 1,
        }
        if let Ok(report) = outcome {
            for (tempid, id) in &report.tempids {
                if let Some(i) = tempid
                    .strip_prefix('e')
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    ids[i] = Some(*id);
                }
            }
        }
        let db = store.db().map_err(fail)?;
        for (name, query) in QUERIES {
            let inputs = if query.contains(":in $ %") {
                vec![rules.clone()]
            } else {
                vec![]
            };
            let fresh = db
                .q_from_scratch(&edn::parse(query).map_err(fail)?, &inputs)
                .map_err(fail)?;
            let kept = store.view(name).map_err(fail)?;
            if !kept.is_empty() && kept != Value::Integer(0) {
                coverage.nonempty_reads += 1;
            }
            prop_assert_eq!(
                &kept,
                &fresh,
                "view {} differs from its query after transaction {}: {}",
                name,
                step,
                text
            );
        }
    }
    // The store's own invariants hold after any sequence (no false alarm).
    let report = store.verify().map_err(fail)?;
    prop_assert!(report.is_clean(), "verify after the sequence: {}", report);
    Ok(())
}

fn fail(error: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(error.to_string())
}

#[test]
fn every_view_equals_its_query_from_scratch_after_every_transaction() {
    let cases = std::env::var("FACTLITE_VIEW_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let strategy = (
        schema(),
        prop::collection::vec(prop::collection::vec(op(), 1..5), 1..12),
    );
    let coverage = std::cell::RefCell::new(Coverage::default());
    let result = runner.run(&strategy, |(schema, transactions)| {
        run_case(&schema, &transactions, &mut coverage.borrow_mut())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let coverage = coverage.into_inner();
    println!(
        "{cases} cases: {} transactions committed, {} refused, {} non-empty view reads",
        coverage.committed, coverage.failed, coverage.nonempty_reads
    );
    assert!(
        coverage.committed > coverage.failed,
        "most transactions must commit"
    );
    assert!(
        coverage.nonempty_reads > cases as usize,
        "views must hold rows"
    );
}
