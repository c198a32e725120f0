//! Materialized views benchmark (plain `main`, no harness), on a file store
//! of customers (name, region, tier) and their orders (customer, total,
//! status): about 1,000,000 datoms, and a second store ten times larger.
//! Prints, in one run:
//!
//! (a) reading a materialized join with an aggregate (revenue per region)
//!     beside running the same query from scratch — target ≥ 100× faster;
//! (b) the median cost of a one-datom transaction (an order's total or
//!     status changes) with ten views installed beside none, on the same
//!     store — target ≤ 3×;
//! (c) that cost with ten views on the store ten times larger, beside (b)
//!     — target ≤ 1.5×: maintenance follows the delta, not the data (the
//!     same transactions without views on the larger store are printed
//!     too: what the store itself costs more there).
//!
//! Before timing, every view is checked against its query from scratch.
//! `FACTLITE_BENCH_DATOMS` sets the base size (default 1,000,000),
//! `FACTLITE_BENCH_TXS` the timed transactions (default 400). Run with
//! `cargo bench -p factlite --bench views`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use factlite::edn::Keyword;
use factlite::{Store, Value};

const SCHEMA: &str = r#"[
 {:db/ident :customer/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :customer/region :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :customer/tier :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :order/customer :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :order/total :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :order/status :db/valueType :db.type/keyword :db/cardinality :db.cardinality/one}]"#;

/// The ten views: joins, aggregates (grouped coarsely and finely),
/// predicates, constants, and a negation.
const VIEWS: [(&str, &str); 10] = [
    ("revenue-by-region", REVENUE_BY_REGION),
    ("revenue-by-customer", "[:find ?c (count ?o) (sum ?t) (max ?t) :where [?o :order/customer ?c] [?o :order/total ?t]]"),
    ("orders-by-status", "[:find ?s (count ?o) :where [?o :order/status ?s]]"),
    ("big-orders", "[:find ?o ?t :where [?o :order/total ?t] [(> ?t 990)]]"),
    ("customers-by-tier", "[:find ?tier (count ?c) :where [?c :customer/tier ?tier]]"),
    ("open-gold-orders", "[:find ?o :where [?o :order/status :open] [?o :order/customer ?c] [?c :customer/tier 3]]"),
    ("region-status", "[:find ?r ?s (count ?o) :where [?o :order/status ?s] [?o :order/customer ?c] [?c :customer/region ?r]]"),
    ("customer-regions", "[:find ?n ?r :where [?c :customer/name ?n] [?c :customer/region ?r]]"),
    ("largest-by-region", "[:find ?r (max ?t) :where [?o :order/customer ?c] [?c :customer/region ?r] [?o :order/total ?t]]"),
    ("without-orders", "[:find ?n :where [?c :customer/name ?n] (not [_ :order/customer ?c])]"),
];

const REVENUE_BY_REGION: &str = "[:find ?r (count ?o) (sum ?t) :where [?o :order/customer ?c] \
                                 [?c :customer/region ?r] [?o :order/total ?t]]";

const STATUSES: [&str; 5] = ["open", "paid", "shipped", "returned", "closed"];
const REGIONS: usize = 20;
/// Orders per customer, on average.
const ORDERS_PER_CUSTOMER: usize = 16;
const BATCH: usize = 2_000;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn kw(text: &str) -> Value {
    Value::Keyword(Keyword::from_str_lossy(text))
}

fn entity(attrs: Vec<(&str, Value)>) -> Value {
    Value::Map(attrs.into_iter().map(|(k, v)| (kw(k), v)).collect())
}

/// A deterministic stream of numbers (a linear congruential generator).
fn numbers(seed: u64) -> impl FnMut(usize) -> usize {
    let mut state = seed;
    move |bound| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % bound
    }
}

fn fail(what: &str, error: impl std::fmt::Display) -> ! {
    eprintln!("views benchmark: {what}: {error}");
    std::process::exit(1)
}

/// A file store with about `datoms` datoms; returns it with its order ids.
fn build(path: &Path, datoms: usize) -> (Store, Vec<i64>) {
    let _ = std::fs::remove_file(path);
    let store = Store::open(path).unwrap_or_else(|e| fail("open", e));
    store
        .transact_str(SCHEMA)
        .unwrap_or_else(|e| fail("schema", e));
    let customers = datoms / (3 + 3 * ORDERS_PER_CUSTOMER);
    let mut next = numbers(7);
    let mut customer_ids = Vec::with_capacity(customers);
    for start in (0..customers).step_by(BATCH) {
        let batch: Vec<Value> = (start..(start + BATCH).min(customers))
            .map(|i| {
                entity(vec![
                    ("db/id", Value::String(format!("c{i}"))),
                    ("customer/name", Value::String(format!("customer {i}"))),
                    (
                        "customer/region",
                        Value::String(format!("region {}", i % REGIONS)),
                    ),
                    ("customer/tier", Value::Integer(next(4) as i64)),
                ])
            })
            .collect();
        let report = store
            .transact(&Value::Vector(batch))
            .unwrap_or_else(|e| fail("customers", e));
        customer_ids.extend(report.tempids.values().copied());
    }
    let orders = customers * ORDERS_PER_CUSTOMER;
    let mut order_ids = Vec::with_capacity(orders);
    for start in (0..orders).step_by(BATCH) {
        let batch: Vec<Value> = (start..(start + BATCH).min(orders))
            .map(|i| {
                entity(vec![
                    ("db/id", Value::String(format!("o{i}"))),
                    (
                        "order/customer",
                        Value::Integer(customer_ids[next(customers)]),
                    ),
                    ("order/total", Value::Integer(next(1000) as i64)),
                    ("order/status", kw(STATUSES[next(STATUSES.len())])),
                ])
            })
            .collect();
        let report = store
            .transact(&Value::Vector(batch))
            .unwrap_or_else(|e| fail("orders", e));
        order_ids.extend(report.tempids.values().copied());
    }
    (store, order_ids)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The median time of `count` one-datom transactions: each changes one
/// order's total or status.
fn one_datom_transactions(store: &Store, orders: &[i64], count: usize, seed: u64) -> Duration {
    let mut next = numbers(seed);
    let samples = (0..count)
        .map(|i| {
            let order = Value::Integer(orders[next(orders.len())]);
            let change = if i % 2 == 0 {
                vec![
                    kw("db/add"),
                    order,
                    kw("order/total"),
                    Value::Integer(next(1000) as i64),
                ]
            } else {
                let status = kw(STATUSES[next(STATUSES.len())]);
                vec![kw("db/add"), order, kw("order/status"), status]
            };
            let tx = Value::Vector(vec![Value::Vector(change)]);
            let started = Instant::now();
            store
                .transact(&tx)
                .unwrap_or_else(|e| fail("one-datom transaction", e));
            started.elapsed()
        })
        .collect();
    median(samples)
}

fn install_views(store: &Store) -> Duration {
    let started = Instant::now();
    for (name, query) in VIEWS {
        store
            .materialize_str(name, query, &[])
            .unwrap_or_else(|e| fail(name, e));
    }
    started.elapsed()
}

/// Every view must equal its query run from scratch.
fn verify(store: &Store) {
    let db = store.db().unwrap_or_else(|e| fail("db", e));
    for (name, query) in VIEWS {
        let query = factlite::edn::parse(query).unwrap_or_else(|e| fail(name, e));
        let fresh = db
            .q_from_scratch(&query, &[])
            .unwrap_or_else(|e| fail(name, e));
        let kept = store.view(name).unwrap_or_else(|e| fail(name, e));
        if fresh != kept {
            fail(name, "the view differs from its query run from scratch");
        }
    }
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "factlite-views-bench-{}-{name}.db",
        std::process::id()
    ))
}

fn main() {
    let datoms = env_number("FACTLITE_BENCH_DATOMS", 1_000_000);
    let txs = env_number("FACTLITE_BENCH_TXS", 400);

    let small_path = temp_path("1x");
    let started = Instant::now();
    let (small, small_orders) = build(&small_path, datoms);
    println!(
        "loaded ~{datoms} datoms ({} orders) in {:.1} s",
        small_orders.len(),
        started.elapsed().as_secs_f64()
    );

    // (a) a join with an aggregate, from scratch and from its table.
    let query = factlite::edn::parse(REVENUE_BY_REGION).unwrap_or_else(|e| fail("query", e));
    let db = small.db().unwrap_or_else(|e| fail("db", e));
    let scratch = median(
        (0..5)
            .map(|_| {
                let started = Instant::now();
                db.q_from_scratch(&query, &[])
                    .unwrap_or_else(|e| fail("(a) from scratch", e));
                started.elapsed()
            })
            .collect(),
    );

    // (b) one-datom transactions without views, then with ten.
    let bare = one_datom_transactions(&small, &small_orders, txs, 11);
    let install = install_views(&small);
    verify(&small);
    let read = median(
        (0..101)
            .map(|_| {
                let started = Instant::now();
                small
                    .view("revenue-by-region")
                    .unwrap_or_else(|e| fail("(a) view", e));
                started.elapsed()
            })
            .collect(),
    );
    let with_views = one_datom_transactions(&small, &small_orders, txs, 13);
    verify(&small);
    drop(db);
    drop(small);
    let _ = std::fs::remove_file(&small_path);

    // (c) the same on a store ten times larger.
    let large_path = temp_path("10x");
    let started = Instant::now();
    let (large, large_orders) = build(&large_path, datoms * 10);
    println!(
        "loaded ~{} datoms ({} orders) in {:.1} s",
        datoms * 10,
        large_orders.len(),
        started.elapsed().as_secs_f64()
    );
    let large_bare = one_datom_transactions(&large, &large_orders, txs, 19);
    let install_large = install_views(&large);
    let large_with_views = one_datom_transactions(&large, &large_orders, txs, 17);
    verify(&large);
    drop(large);
    let _ = std::fs::remove_file(&large_path);

    println!(
        "ten views installed in {:.1} s (~{datoms} datoms) and {:.1} s (~{} datoms)",
        install.as_secs_f64(),
        install_large.as_secs_f64(),
        datoms * 10
    );
    println!(
        "(a) revenue by region: from scratch {:.3} ms, from the view {:.3} ms: {:.0}x faster (target >= 100x)",
        millis(scratch),
        millis(read),
        scratch.as_secs_f64() / read.as_secs_f64()
    );
    println!(
        "(b) one-datom transaction: no views {:.3} ms, ten views {:.3} ms: {:.2}x (target <= 3x)",
        millis(bare),
        millis(with_views),
        with_views.as_secs_f64() / bare.as_secs_f64()
    );
    println!(
        "(c) ten views on 10x the data: {:.3} ms, {:.2}x of (b) (target <= 1.5x); \
         without views there {:.3} ms, {:.2}x of the 1x store's",
        millis(large_with_views),
        large_with_views.as_secs_f64() / with_views.as_secs_f64(),
        millis(large_bare),
        large_bare.as_secs_f64() / bare.as_secs_f64()
    );
}
