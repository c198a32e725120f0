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
//! Each size is loaded once and its file copied, so that one copy has the
//! ten views and the other none; the transactions of (b) and (c) then take
//! turns over the four stores (the first of each round rotating), so that
//! whatever else the machine does falls on all four alike. Before timing,
//! and after, every view is checked against its query from scratch.
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
            .transact(Value::Vector(batch))
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
            .transact(Value::Vector(batch))
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

/// A store timed by one-datom transactions: each changes one of its
/// orders' total or status, drawn from its own stream of numbers.
struct Timed {
    store: Store,
    orders: Vec<i64>,
    next: Box<dyn FnMut(usize) -> usize>,
    samples: Vec<Duration>,
}

impl Timed {
    fn new(store: Store, orders: Vec<i64>, seed: u64) -> Timed {
        Timed {
            store,
            orders,
            next: Box::new(numbers(seed)),
            samples: Vec::new(),
        }
    }

    /// Times the `i`th transaction: even ones change a total, odd ones a
    /// status.
    fn transact(&mut self, i: usize) {
        let next = &mut self.next;
        let order = Value::Integer(self.orders[next(self.orders.len())]);
        let change = if i.is_multiple_of(2) {
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
        self.store
            .transact(&tx)
            .unwrap_or_else(|e| fail("one-datom transaction", e));
        self.samples.push(started.elapsed());
    }

    fn median(&self) -> Duration {
        median(self.samples.clone())
    }
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

/// Builds a store of about `datoms` datoms at `path` and a copy of its
/// file at `copy_path`; returns both, opened, with the order ids (the same
/// in both).
fn build_twice(path: &Path, copy_path: &Path, datoms: usize) -> (Store, Store, Vec<i64>) {
    let started = Instant::now();
    let (store, orders) = build(path, datoms);
    // Closing the last connection checkpoints the WAL into the file.
    drop(store);
    std::fs::copy(path, copy_path).unwrap_or_else(|e| fail("copying the store", e));
    let open = |path: &Path| Store::open(path).unwrap_or_else(|e| fail("open", e));
    println!(
        "loaded ~{datoms} datoms ({} orders) in {:.1} s",
        orders.len(),
        started.elapsed().as_secs_f64()
    );
    (open(path), open(copy_path), orders)
}

fn main() {
    let datoms = env_number("FACTLITE_BENCH_DATOMS", 1_000_000);
    let txs = env_number("FACTLITE_BENCH_TXS", 400);
    let paths = ["1x", "1x-views", "10x", "10x-views"].map(temp_path);

    let (small, small_views, small_orders) = build_twice(&paths[0], &paths[1], datoms);
    let (large, large_views, large_orders) = build_twice(&paths[2], &paths[3], datoms * 10);
    let install = install_views(&small_views);
    let install_large = install_views(&large_views);
    verify(&small_views);
    verify(&large_views);

    // (a) a join with an aggregate, from scratch and from its table.
    let query = factlite::edn::parse(REVENUE_BY_REGION).unwrap_or_else(|e| fail("query", e));
    let db = small_views.db().unwrap_or_else(|e| fail("db", e));
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
    drop(db);
    let read = median(
        (0..101)
            .map(|_| {
                let started = Instant::now();
                small_views
                    .view("revenue-by-region")
                    .unwrap_or_else(|e| fail("(a) view", e));
                started.elapsed()
            })
            .collect(),
    );

    // (b) and (c): the four stores take turns, one transaction each. The
    // two copies of a size make the same changes.
    let mut stores = [
        Timed::new(small, small_orders.clone(), 11),
        Timed::new(small_views, small_orders, 11),
        Timed::new(large, large_orders.clone(), 13),
        Timed::new(large_views, large_orders, 13),
    ];
    for i in 0..txs {
        for turn in 0..stores.len() {
            stores[(i + turn) % stores.len()].transact(i);
        }
    }
    verify(&stores[1].store);
    verify(&stores[3].store);
    let [bare, with_views, large_bare, large_with_views] = stores.each_ref().map(Timed::median);
    drop(stores);
    for path in &paths {
        let _ = std::fs::remove_file(path);
    }

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
