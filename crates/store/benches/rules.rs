//! Recursive-rule benchmark (plain `main`, no harness): a generated graph
//! of 100,000 nodes and 500,000 edges, queried through recursive rules and,
//! for the baseline measured in the same run, through hand-written SQL
//! (`WITH RECURSIVE`, join order pinned) on the same `datoms` table. Each
//! figure is its contender's best round, the contenders taking turns (two
//! rounds for the full closure and the grouped count, five from one node);
//! the non-linear rule runs once.
//!
//! The graph is 5,000 clusters of 20 nodes, each with 100 distinct edges
//! drawn at random inside its cluster (cycles and self-loops included), so
//! the full transitive closure (every pair, no bound) can be computed: about
//! two million pairs. Printed, each beside its baseline with the ratio:
//!
//! - the size of the full closure (`(count ?b)` with `:with ?a`);
//! - reachability from one bound node (the seed pushed into the
//!   recursion), averaged over many start nodes, for a right-linear and a
//!   left-linear rule, and its speed-up over the full closure;
//! - a grouped count over the rule's results (reachable nodes per node, the
//!   100,000 groups returned to the program by both);
//! - the full closure by the non-linear rule, which the planner rewrites
//!   as the right-linear closure;
//! - reachability from one node of a cycle of 100,000 nodes (every node
//!   reaches every other), by the right-linear rule and by the non-linear
//!   one (target: within 3x).
//!
//! `FACTLITE_BENCH_CLUSTERS` scales the graph (default 5,000),
//! `FACTLITE_BENCH_CYCLE` the cycle (default 100,000). Run with
//! `cargo bench -p factlite-store --bench rules`.

use std::time::{Duration, Instant};

use factlite_edn::{Keyword, Value};
use factlite_query::{parse_query, parse_tx_data, Query};
use factlite_store::{Db, Store};

const CLUSTER_SIZE: u64 = 20;
const EDGES_PER_CLUSTER: u64 = 100;
const CLUSTERS_PER_TX: u64 = 250;

const SCHEMA: &str = r#"[{:db/ident :node/id :db/valueType :db.type/long
                          :db/cardinality :db.cardinality/one}
                         {:db/ident :node/edge :db/valueType :db.type/ref
                          :db/cardinality :db.cardinality/many}]"#;

const RIGHT_LINEAR: &str =
    "[[(reach ?a ?b) [?a :node/edge ?b]] [(reach ?a ?b) [?a :node/edge ?m] (reach ?m ?b)]]";
const LEFT_LINEAR: &str =
    "[[(reach ?a ?b) [?a :node/edge ?b]] [(reach ?a ?b) (reach ?a ?m) [?m :node/edge ?b]]]";
const NON_LINEAR: &str =
    "[[(reach ?a ?b) [?a :node/edge ?b]] [(reach ?a ?b) (reach ?a ?m) (reach ?m ?b)]]";

/// SplitMix64: a small deterministic generator, so every run loads the
/// same graph.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Loads the graph; returns the entity id of every node, in node order.
fn load(store: &Store, clusters: u64) -> Vec<i64> {
    let schema =
        parse_tx_data(&factlite_edn::parse(SCHEMA).expect("schema parses")).expect("schema forms");
    store.transact(&schema).expect("schema transacts");
    let mut random = Random(42);
    let mut ids = Vec::new();
    let mut first = 0;
    while first < clusters {
        let last = (first + CLUSTERS_PER_TX).min(clusters);
        let mut text = String::from("[");
        for cluster in first..last {
            let base = cluster * CLUSTER_SIZE;
            for node in base..base + CLUSTER_SIZE {
                text.push_str(&format!("{{:db/id \"n{node}\" :node/id {node}}}"));
            }
            // Distinct edges: the first of a shuffle of every ordered pair.
            let mut pairs: Vec<u64> = (0..CLUSTER_SIZE * CLUSTER_SIZE).collect();
            for i in 0..EDGES_PER_CLUSTER as usize {
                let j = i + random.below((pairs.len() - i) as u64) as usize;
                pairs.swap(i, j);
                let (from, to) = (
                    base + pairs[i] / CLUSTER_SIZE,
                    base + pairs[i] % CLUSTER_SIZE,
                );
                text.push_str(&format!("[:db/add \"n{from}\" :node/edge \"n{to}\"]"));
            }
        }
        text.push(']');
        let forms =
            parse_tx_data(&factlite_edn::parse(&text).expect("tx parses")).expect("tx forms");
        let report = store.transact(&forms).expect("graph transacts");
        for node in first * CLUSTER_SIZE..last * CLUSTER_SIZE {
            ids.push(report.tempids[&format!("n{node}")]);
        }
        first = last;
    }
    ids
}

fn query(text: &str) -> Query {
    parse_query(&factlite_edn::parse(text).expect("query parses")).expect("query is valid")
}

fn rules(text: &str) -> Value {
    factlite_edn::parse(text).expect("rules parse")
}

/// Runs `f` once and returns its result and time.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(name: &str, ours: Duration, baseline: Duration, agree: bool) {
    println!(
        "{name:<58} {:>10.3} ms  hand-written SQL {:>10.3} ms  ratio {:>5.2}{}",
        ms(ours),
        ms(baseline),
        ours.as_secs_f64() / baseline.as_secs_f64(),
        if agree { "" } else { "  RESULTS DIFFER" }
    );
}

fn scalar_i64(value: &Value) -> i64 {
    match value {
        Value::Integer(n) => *n,
        Value::Nil => 0,
        other => panic!("expected a count, got {other}"),
    }
}

fn sql_count(db: &Db, sql: &str, params: &[i64]) -> i64 {
    let conn = db.store().connection();
    let mut statement = conn.prepare_cached(sql).expect("baseline SQL prepares");
    statement
        .query_row(rusqlite::params_from_iter(params), |row| row.get(0))
        .expect("baseline SQL runs")
}

/// The full closure's size, by each rule set and by hand.
fn full_closure(db: &Db, edge: i64) -> Duration {
    let count = query("[:find (count ?b) . :with ?a :in $ % :where (reach ?a ?b)]");
    let baseline_sql = "WITH RECURSIVE r(a, b) AS (SELECT e, v FROM datoms WHERE a = ?1 \
         UNION SELECT r.a, d.v FROM r CROSS JOIN datoms AS d ON d.e = r.b AND d.a = ?1) \
         SELECT count(*) FROM r";
    let linear = [
        ("full closure, right-linear rule", RIGHT_LINEAR),
        ("full closure, left-linear rule", LEFT_LINEAR),
    ];
    // Rounds interleave the contenders, so that a busy spell of the machine
    // does not fall on one of them only; each keeps its best round.
    let mut expected = 0;
    let mut baseline = Duration::MAX;
    let mut ours = [(Duration::MAX, true); 2];
    for _ in 0..2 {
        let (pairs, time) = timed(|| sql_count(db, baseline_sql, &[edge]));
        expected = pairs;
        baseline = baseline.min(time);
        for (best, (_, rule_set)) in ours.iter_mut().zip(linear) {
            let (pairs, time) = timed(|| db.query(&count, &[rules(rule_set)]).expect("query runs"));
            *best = (
                best.0.min(time),
                best.1 && scalar_i64(&pairs.to_edn()) == expected,
            );
        }
    }
    for ((name, _), (time, agree)) in linear.iter().zip(ours) {
        report(name, time, baseline, agree);
    }
    let (pairs, non_linear) = timed(|| db.query(&count, &[rules(NON_LINEAR)]).expect("query runs"));
    report(
        "full closure, non-linear rule (made linear)",
        non_linear,
        baseline,
        scalar_i64(&pairs.to_edn()) == expected,
    );
    println!("  closure size: {expected} pairs");
    ours[0].0
}

/// Reachability from bound start nodes: the mean time per start node.
fn from_one_node(db: &Db, edge: i64, ids: &[i64], full: Duration) {
    let count = query("[:find (count ?b) . :in $ % ?start :where (reach ?start ?b)]");
    let baseline_sql = "WITH RECURSIVE r(x) AS (SELECT v FROM datoms WHERE e = ?1 AND a = ?2 \
         UNION SELECT d.v FROM r CROSS JOIN datoms AS d ON d.e = r.x AND d.a = ?2) \
         SELECT count(*) FROM r";
    let starts: Vec<i64> = ids
        .iter()
        .step_by((ids.len() / 500).max(1))
        .copied()
        .collect();
    // Compiled once, as a prepared query is: each run binds the start node.
    let contenders: Vec<(&str, Value, _)> = [
        (
            "from one node, right-linear rule (closure from the seed)",
            RIGHT_LINEAR,
        ),
        (
            "from one node, left-linear rule (seed carried)",
            LEFT_LINEAR,
        ),
    ]
    .into_iter()
    .map(|(name, rule_set)| {
        let rule_set = rules(rule_set);
        let signature = factlite_planner::signature(&count, &[rule_set.clone(), Value::Integer(0)])
            .expect("signature");
        let plan = db.compile(&count, &signature).expect("query compiles");
        (name, rule_set, plan)
    })
    .collect();
    // A first, untimed run gives the expected counts (and warms the cache
    // for every contender alike); then rounds interleave the contenders (as
    // for the full closure), each keeping its best round.
    let baseline_counts = || -> Vec<i64> {
        starts
            .iter()
            .map(|&start| sql_count(db, baseline_sql, &[start, edge]))
            .collect()
    };
    let expected = baseline_counts();
    let mut baseline = Duration::MAX;
    let mut ours = vec![(Duration::MAX, true); contenders.len()];
    for _ in 0..5 {
        let (_, time) = timed(baseline_counts);
        baseline = baseline.min(time);
        for (best, (_, rule_set, plan)) in ours.iter_mut().zip(&contenders) {
            let (counts, time) = timed(|| {
                starts
                    .iter()
                    .map(|&start| {
                        let inputs = [rule_set.clone(), Value::Integer(start)];
                        scalar_i64(&db.run_plan(plan, &inputs).expect("query runs").into_edn())
                    })
                    .collect::<Vec<_>>()
            });
            *best = (best.0.min(time), best.1 && counts == expected);
        }
    }
    let per_baseline = baseline / starts.len() as u32;
    for ((name, _, _), (time, agree)) in contenders.iter().zip(ours) {
        let per_query = time / starts.len() as u32;
        report(name, per_query, per_baseline, agree);
        println!(
            "  {:.0}x faster than the full closure (mean of {} start nodes)",
            full.as_secs_f64() / per_query.as_secs_f64(),
            starts.len()
        );
    }
}

/// Reachable nodes per node: a grouped count over the rule's results.
fn grouped_count(db: &Db, edge: i64) {
    let grouped = query("[:find ?a (count ?b) :in $ % :where (reach ?a ?b)]");
    let baseline_sql = "WITH RECURSIVE r(a, b) AS (SELECT e, v FROM datoms WHERE a = ?1 \
         UNION SELECT r.a, d.v FROM r CROSS JOIN datoms AS d ON d.e = r.b AND d.a = ?1) \
         SELECT a, count(*) FROM r GROUP BY a";
    let conn = db.store().connection();
    let mut baseline = Duration::MAX;
    let mut ours = Duration::MAX;
    let mut answers = ((0, 0), Value::Nil);
    // Interleaved rounds, each contender keeping its best (as above).
    for _ in 0..2 {
        // The groups come back to the program, as the query's set does.
        let (sums, time) = timed(|| {
            let mut statement = conn.prepare_cached(baseline_sql).expect("baseline SQL");
            let groups: Vec<(i64, i64)> = statement
                .query_map([edge], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("baseline SQL runs")
                .collect::<rusqlite::Result<_>>()
                .expect("baseline rows");
            let total: i64 = groups.iter().map(|(_, n)| n).sum();
            (groups.len() as i64, total)
        });
        baseline = baseline.min(time);
        let (result, time) = timed(|| {
            db.query(&grouped, &[rules(RIGHT_LINEAR)])
                .expect("query runs")
        });
        ours = ours.min(time);
        answers = (sums, result.into_edn());
    }
    let ((groups, total), result) = answers;
    let (our_groups, our_total) = match &result {
        Value::Set(rows) => (
            rows.len() as i64,
            rows.iter()
                .map(|row| match row {
                    Value::Vector(items) => scalar_i64(&items[1]),
                    _ => 0,
                })
                .sum::<i64>(),
        ),
        _ => (0, 0),
    };
    report(
        "grouped count (reachable per node), right-linear",
        ours,
        baseline,
        (our_groups, our_total) == (groups, total),
    );
    println!("  {groups} groups");
}

fn main() {
    let clusters: u64 = std::env::var("FACTLITE_BENCH_CLUSTERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000);
    let store = Store::open_in_memory().expect("store opens");
    let (ids, load_time) = timed(|| load(&store, clusters));
    let db = store.db().expect("snapshot");
    let edge = db
        .entid(&Keyword::namespaced("node", "edge"))
        .expect("schema reads")
        .expect(":node/edge exists");
    let edges: i64 = sql_count(&db, "SELECT count(*) FROM datoms WHERE a = ?1", &[edge]);
    println!(
        "graph: {} nodes, {edges} edges in {clusters} clusters of {CLUSTER_SIZE}, loaded in {:.1} s",
        ids.len(),
        load_time.as_secs_f64()
    );
    let full = full_closure(&db, edge);
    from_one_node(&db, edge, &ids, full);
    grouped_count(&db, edge);
    let nodes = std::env::var("FACTLITE_BENCH_CYCLE")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    around_a_cycle(nodes);
}

/// Reachability from one node of a cycle of `nodes` nodes, by the linear
/// and the non-linear rule, the rules taking turns (best of three each).
fn around_a_cycle(nodes: u64) {
    let store = Store::open_in_memory().expect("store opens");
    let schema = "[{:db/ident :node/next :db/valueType :db.type/ref \
                  :db/cardinality :db.cardinality/one}]";
    let schema =
        parse_tx_data(&factlite_edn::parse(schema).expect("schema parses")).expect("schema forms");
    store.transact(&schema).expect("schema transacts");
    let mut text = String::from("[");
    for node in 0..nodes {
        let next = (node + 1) % nodes;
        text.push_str(&format!("[:db/add \"n{node}\" :node/next \"n{next}\"]"));
    }
    text.push(']');
    let forms = parse_tx_data(&factlite_edn::parse(&text).expect("tx parses")).expect("tx forms");
    let report = store.transact(&forms).expect("cycle transacts");
    let start = Value::Integer(report.tempids["n0"]);
    let db = store.db().expect("snapshot");
    let count = query("[:find (count ?b) . :in $ % ?a :where (reach ?a ?b)]");
    let rule_sets = [
        (
            "right-linear",
            "[[(reach ?a ?b) [?a :node/next ?b]] [(reach ?a ?b) [?a :node/next ?m] (reach ?m ?b)]]",
        ),
        (
            "non-linear",
            "[[(reach ?a ?b) [?a :node/next ?b]] [(reach ?a ?b) (reach ?a ?m) (reach ?m ?b)]]",
        ),
    ];
    let mut best = [Duration::MAX; 2];
    for _ in 0..3 {
        for (best, (_, rule_set)) in best.iter_mut().zip(rule_sets) {
            let inputs = [rules(rule_set), start.clone()];
            let (reached, time) = timed(|| db.query(&count, &inputs).expect("query runs"));
            assert_eq!(
                scalar_i64(&reached.to_edn()),
                nodes as i64,
                "every node is reached"
            );
            *best = (*best).min(time);
        }
    }
    println!(
        "cycle of {nodes} nodes, reachable from one node: right-linear {:.1} ms, non-linear {:.1} ms, ratio {:.2} (target <= 3)",
        ms(best[0]),
        ms(best[1]),
        best[1].as_secs_f64() / best[0].as_secs_f64()
    );
}
