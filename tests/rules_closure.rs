//! Property: on random graphs (cycles and self-loops included), the
//! transitive closure computed by recursive rules equals the closure
//! computed here in plain Rust by a breadth-first search per node, which
//! shares no code with the planner or the store.
//!
//! Each graph is queried through every way the rules compile: an unbound
//! call (the whole relation), calls with a bound start node (the seed is
//! carried through a left-linear rule, or walked as goals through a
//! right-linear one), a bound end node, and the non-linear rule
//! `(path ?a ?b) :- (path ?a ?m) (path ?m ?b)`, which the planner rewrites
//! as the linear closure, in three spellings, and once in a shape it does
//! not rewrite (semi-naive evaluation over temporary tables) — as sets,
//! and counted (a count sees duplicate rows a set would hide). `FACTLITE_RULE_CASES` sets the number of graphs (24 by
//! default, for CI).

use std::collections::{BTreeSet, VecDeque};

use factlite::{edn, QueryResult, Store, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const SCHEMA: &str = r#"[{:db/ident :node/id :db/valueType :db.type/long
                          :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                         {:db/ident :node/edge :db/valueType :db.type/ref
                          :db/cardinality :db.cardinality/many}]"#;

/// The rule sets under test: each defines `(reach ?a ?b)`.
const RULE_SETS: [(&str, &str); 6] = [
    (
        "right-linear",
        "[[(reach ?a ?b) [?a :node/edge ?b]] [(reach ?a ?b) [?a :node/edge ?m] (reach ?m ?b)]]",
    ),
    (
        "left-linear",
        "[[(reach ?a ?b) [?a :node/edge ?b]] [(reach ?a ?b) (reach ?a ?m) [?m :node/edge ?b]]]",
    ),
    (
        "non-linear",
        "[[(reach ?a ?b) [?a :node/edge ?b]] [(reach ?a ?b) (reach ?a ?m) (reach ?m ?b)]]",
    ),
    // The planner makes the non-linear closures linear: with the calls
    // the other way round, and with two base bodies, one of which names a
    // variable of its own `?m` as the recursive body's middle is named.
    (
        "non-linear, calls swapped",
        "[[(reach ?a ?b) [?a :node/edge ?b]] [(reach ?a ?b) (reach ?m ?b) (reach ?a ?m)]]",
    ),
    (
        "non-linear, two base bodies",
        "[[(reach ?a ?b) [?a :node/edge ?b]] [(reach ?p ?q) [?p :node/edge ?q] [?q :node/id ?m]]
          [(reach ?a ?b) (reach ?a ?m) (reach ?m ?b)]]",
    ),
    // The same closure in a shape the rewrite leaves alone (a call inside
    // `or`): semi-naive rounds, the non-linear rule's own semantics.
    (
        "non-linear inside or (fixpoint)",
        "[[(reach ?a ?b) [?a :node/edge ?b]]
          [(reach ?a ?b) (or-join [?a ?b] (and (reach ?a ?m) (reach ?m ?b)))]]",
    ),
];

/// A graph: the number of nodes and its edges (pairs of node numbers).
#[derive(Clone, Debug)]
struct Graph {
    nodes: usize,
    edges: Vec<(usize, usize)>,
}

fn graph() -> impl Strategy<Value = Graph> {
    (1usize..10).prop_flat_map(|nodes| {
        prop::collection::vec((0..nodes, 0..nodes), 0..(nodes * 2 + 1))
            .prop_map(move |edges| Graph { nodes, edges })
    })
}

/// The closure by breadth-first search from every node: `(a, b)` when a
/// path of one or more edges leads from `a` to `b`.
fn closure(graph: &Graph) -> BTreeSet<(i64, i64)> {
    let mut out = BTreeSet::new();
    for start in 0..graph.nodes {
        let mut seen = vec![false; graph.nodes];
        let mut queue = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            for &(from, to) in &graph.edges {
                if from == node && !seen[to] {
                    seen[to] = true;
                    out.insert((start as i64, to as i64));
                    queue.push_back(to);
                }
            }
        }
    }
    out
}

fn load(graph: &Graph) -> Result<Store, TestCaseError> {
    let store = Store::open_in_memory().map_err(fail)?;
    store.transact_str(SCHEMA).map_err(fail)?;
    let mut tx = String::from("[");
    for node in 0..graph.nodes {
        tx.push_str(&format!("{{:db/id \"n{node}\" :node/id {node}}}"));
    }
    for (from, to) in &graph.edges {
        tx.push_str(&format!("[:db/add \"n{from}\" :node/edge \"n{to}\"]"));
    }
    tx.push(']');
    store.transact_str(&tx).map_err(fail)?;
    Ok(store)
}

/// The pairs of node numbers a query's `[?x ?y]` rows name.
fn pairs(result: &QueryResult) -> Result<BTreeSet<(i64, i64)>, TestCaseError> {
    let QueryResult::Relation(rows) = result else {
        return Err(fail(format!("expected a relation, got {result}")));
    };
    let pairs = rows
        .rows()
        .map(|row| match row {
            [Value::Integer(a), Value::Integer(b)] => Ok((*a, *b)),
            _ => Err(fail(format!("unexpected row {row:?}"))),
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
    prop_assert_eq!(pairs.len(), rows.len(), "rows repeat in {}", result);
    Ok(pairs)
}

fn run_case(graph: &Graph) -> Result<(), TestCaseError> {
    let expected = closure(graph);
    let store = load(graph)?;
    let db = store.db().map_err(fail)?;
    for (kind, rules) in RULE_SETS {
        let rules = edn::parse(rules).map_err(fail)?;
        let all = db
            .q_str(
                "[:find ?x ?y :in $ % :where (reach ?a ?b) [?a :node/id ?x] [?b :node/id ?y]]",
                std::slice::from_ref(&rules),
            )
            .map_err(fail)?;
        prop_assert_eq!(pairs(&all)?, expected.clone(), "{} rules, unbound", kind);
        // Bound start node, then bound end node: each pushed into the rules.
        // The query with one end bound, and which end of a pair it binds.
        type End = (&'static str, fn(&(i64, i64)) -> i64);
        let ends: [End; 2] = [
            (
                "[:find ?x ?y :in $ % ?x :where [?a :node/id ?x] (reach ?a ?b) [?b :node/id ?y]]",
                |pair| pair.0,
            ),
            (
                "[:find ?x ?y :in $ % ?y :where [?b :node/id ?y] (reach ?a ?b) [?a :node/id ?x]]",
                |pair| pair.1,
            ),
        ];
        for node in 0..graph.nodes as i64 {
            for (query, end) in ends {
                let result = db
                    .q_str(query, &[rules.clone(), Value::Integer(node)])
                    .map_err(fail)?;
                let want: BTreeSet<_> = expected
                    .iter()
                    .filter(|p| end(p) == node)
                    .copied()
                    .collect();
                prop_assert_eq!(
                    pairs(&result)?,
                    want,
                    "{} rules, {} with {}",
                    kind,
                    query,
                    node
                );
            }
            // A count sees duplicates a set would hide; the start is an
            // entity id, bound straight into the call.
            let entity = db
                .q_str(
                    "[:find ?a . :in $ ?x :where [?a :node/id ?x]]",
                    &[Value::Integer(node)],
                )
                .map_err(fail)?;
            let count = db
                .q_str(
                    "[:find (count ?b) . :in $ % ?a :where (reach ?a ?b)]",
                    &[rules.clone(), entity.into_edn()],
                )
                .map_err(fail)?;
            let want = expected.iter().filter(|(a, _)| *a == node).count() as i64;
            let got = match count {
                QueryResult::Scalar(Some(Value::Integer(n))) => n,
                _ => 0,
            };
            prop_assert_eq!(got, want, "{} rules, count from {}", kind, node);
        }
    }
    Ok(())
}

fn fail(error: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(error.to_string())
}

#[test]
fn recursive_rules_compute_the_transitive_closure() {
    let cases = std::env::var("FACTLITE_RULE_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(24);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    if let Err(error) = runner.run(&graph(), |graph| run_case(&graph)) {
        panic!("{error}");
    }
}
