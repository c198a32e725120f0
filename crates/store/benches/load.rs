//! Bulk-load benchmark (plain `main`, no harness): loads people with five
//! attributes each (email, name, age, score, friend) in transactions of
//! 200 entities (1,000 datoms) into a file store, and compares the rate with
//! a raw-SQLite baseline that inserts the same rows into the same tables and
//! indexes with prepared statements and no transactor logic. Also measures
//! the latency of small (5-datom) transactions — the per-commit cost — under
//! each durability setting side by side, and the peak memory. Last, the
//! cost of composite-tuple maintenance: the same transactions into two
//! stores, one whose schema adds the composite `:person/name+age`
//! (`:db/tupleAttrs [:person/name :person/age]`), taking turns
//! transaction by transaction, so both see the same machine state; it
//! prints each one's time per transaction and the ratio.
//!
//! `FACTLITE_BENCH_ENTITIES` scales the load (default 200,000 entities =
//! 1,000,000 datoms). Run with `cargo bench -p factlite-store --bench load`.

use std::path::Path;
use std::time::{Duration, Instant};

use factlite_core::{Partition, ValueType};
use factlite_edn::{Keyword, Value};
use factlite_query::{parse_tx_data, EntityRef, TxForm, TxMap};
use factlite_store::{Config, Durability, Store};
use indexmap::IndexMap;
use rusqlite::params;

const ENTITIES_PER_TX: usize = 200;
const ATTRIBUTES: usize = 5;

const SCHEMA: &str = r#"[
 {:db/ident :person/email :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :person/score :db/valueType :db.type/double :db/cardinality :db.cardinality/one}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}]"#;

/// One generated person: the values of its five attributes, and the index
/// of the earlier person it befriends (itself for the very first one).
struct Person {
    email: String,
    name: String,
    age: i64,
    score: f64,
    friend: usize,
}

fn person(i: usize, batch_start: usize) -> Person {
    let friend = if batch_start == 0 {
        i / 2
    } else {
        (i * 7919) % batch_start
    };
    Person {
        email: format!("person{i}@example.com"),
        name: format!("Person {i}"),
        age: (i % 90) as i64,
        score: (i % 1000) as f64 / 10.0,
        friend,
    }
}

fn kw(name: &str) -> Keyword {
    Keyword::namespaced("person", name)
}

/// The friend of person `i`: an entity id from an earlier batch, or a
/// tempid in the same (first) batch.
fn friend_value(p: &Person, ids: &[i64]) -> Value {
    match ids.get(p.friend) {
        Some(id) => Value::Integer(*id),
        None => Value::String(format!("p{}", p.friend)),
    }
}

fn batch_forms(start: usize, end: usize, ids: &[i64]) -> Vec<TxForm> {
    (start..end)
        .map(|i| {
            let p = person(i, start);
            let mut attrs = IndexMap::with_capacity(ATTRIBUTES);
            attrs.insert(kw("email"), Value::String(p.email.clone()));
            attrs.insert(kw("name"), Value::String(p.name.clone()));
            attrs.insert(kw("age"), Value::Integer(p.age));
            attrs.insert(kw("score"), Value::Float(p.score));
            attrs.insert(kw("friend"), friend_value(&p, ids));
            TxForm::Map(TxMap {
                db_id: Some(EntityRef::TempId(format!("p{i}"))),
                attrs,
            })
        })
        .collect()
}

fn batch_text(start: usize, end: usize, ids: &[i64]) -> String {
    let mut text = String::from("[");
    for i in start..end {
        let p = person(i, start);
        text.push_str(&format!(
            "{{:db/id \"p{i}\" :person/email {:?} :person/name {:?} :person/age {} :person/score {:?} :person/friend {}}}\n",
            p.email,
            p.name,
            p.age,
            p.score,
            friend_value(&p, ids)
        ));
    }
    text.push(']');
    text
}

fn open_store(path: &Path, durability: Durability) -> Store {
    let config = Config {
        durability,
        ..Config::default()
    };
    let store = Store::open(path, config).expect("store opens");
    let schema =
        parse_tx_data(&factlite_edn::parse(SCHEMA).expect("schema parses")).expect("schema forms");
    store.transact(&schema).expect("schema transacts");
    store
}

/// Records the ids the batch's tempids resolved to, in person order.
fn remember_ids(ids: &mut Vec<i64>, start: usize, end: usize, report: &factlite_store::TxReport) {
    for i in start..end {
        ids.push(report.tempids[&format!("p{i}")]);
    }
}

/// Loads `entities` people through `Store::transact`, building forms
/// directly (`via_text == false`) or parsing EDN text. Returns the time
/// spent and the time of which building/parsing forms took.
fn load_factlite(path: &Path, entities: usize, via_text: bool) -> (Duration, Duration) {
    // As the baseline runs: synchronous = NORMAL.
    let store = open_store(path, Durability::Normal);
    let mut ids: Vec<i64> = Vec::with_capacity(entities);
    let mut building = Duration::ZERO;
    let started = Instant::now();
    for start in (0..entities).step_by(ENTITIES_PER_TX) {
        let end = (start + ENTITIES_PER_TX).min(entities);
        let build_started = Instant::now();
        let forms = if via_text {
            let text = batch_text(start, end, &ids);
            parse_tx_data(&factlite_edn::parse(&text).expect("batch parses")).expect("batch forms")
        } else {
            batch_forms(start, end, &ids)
        };
        building += build_started.elapsed();
        let report = store.transact(&forms).expect("batch transacts");
        remember_ids(&mut ids, start, end, &report);
    }
    (started.elapsed(), building)
}

/// Inserts the same rows with prepared statements, one SQLite transaction
/// per batch, into the tables of an empty store.
fn load_raw(path: &Path, entities: usize) -> Duration {
    let first_tx = open_store(path, Durability::Normal)
        .latest_tx()
        .expect("latest tx")
        + 1;
    let conn = rusqlite::Connection::open(path).expect("raw connection");
    let _mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .expect("wal");
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;")
        .expect("pragmas");
    let attribute = |name: &str| -> i64 {
        conn.query_row(
            "SELECT e FROM datoms WHERE a = ?1 AND v = ?2",
            params![factlite_core::bootstrap::DB_IDENT, format!("person/{name}")],
            |row| row.get(0),
        )
        .unwrap_or_else(|e| panic!("attribute {name}: {e}"))
    };
    let [email, name, age, score, friend] =
        ["email", "name", "age", "score", "friend"].map(attribute);
    let instant_attribute = factlite_core::bootstrap::DB_TX_INSTANT;
    let first_id = Partition::User.start();
    let started = Instant::now();
    for (tx, start) in (first_tx..).zip((0..entities).step_by(ENTITIES_PER_TX)) {
        let end = (start + ENTITIES_PER_TX).min(entities);
        let batch = conn.unchecked_transaction().expect("begin");
        {
            let mut insert = batch
                .prepare_cached(
                    "INSERT INTO datoms (e, a, v, t, tx, avet) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .expect("prepare datoms");
            let mut log = batch
                .prepare_cached(
                    "INSERT INTO log (tx, seq, e, a, v, t, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)",
                )
                .expect("prepare log");
            let mut seq = 0_i64;
            let mut row = |e: i64, a: i64, v: &dyn rusqlite::ToSql, t: ValueType, avet: bool| {
                insert
                    .execute(params![e, a, v, t.tag(), tx, avet])
                    .expect("insert datom");
                log.execute(params![tx, seq, e, a, v, t.tag()])
                    .expect("insert log");
                seq += 1;
            };
            for i in start..end {
                let p = person(i, start);
                let e = first_id + i as i64;
                let friend_id = first_id + p.friend as i64;
                row(e, email, &p.email, ValueType::String, true);
                row(e, name, &p.name, ValueType::String, false);
                row(e, age, &p.age, ValueType::Long, false);
                row(e, score, &p.score, ValueType::Double, false);
                row(e, friend, &friend_id, ValueType::Ref, false);
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            row(tx, instant_attribute, &now, ValueType::Instant, true);
        }
        batch.commit().expect("commit");
    }
    started.elapsed()
}

/// Latencies of `count` one-entity, five-attribute transactions, sorted.
fn small_transactions(path: &Path, count: usize, durability: Durability) -> Vec<Duration> {
    let store = open_store(path, durability);
    let mut ids = Vec::new();
    let first = batch_forms(0, 1, &ids);
    remember_ids(&mut ids, 0, 1, &store.transact(&first).expect("first"));
    let mut latencies = Vec::with_capacity(count);
    for i in 1..=count {
        let forms = batch_forms(i, i + 1, &ids);
        let started = Instant::now();
        let report = store.transact(&forms).expect("small transaction");
        latencies.push(started.elapsed());
        remember_ids(&mut ids, i, i + 1, &report);
    }
    latencies.sort();
    latencies
}

/// The composite tuple the second contender's schema adds.
const COMPOSITE: &str = r#"[
 {:db/ident :person/name+age :db/valueType :db.type/tuple
  :db/tupleAttrs [:person/name :person/age] :db/cardinality :db.cardinality/one}]"#;

/// One contender of the composite comparison: a store, the ids its
/// people got, and the time its transactions took so far.
struct Contender {
    store: Store,
    ids: Vec<i64>,
    spent: Duration,
}

impl Contender {
    fn transact(&mut self, forms: &[TxForm]) -> factlite_store::TxReport {
        let started = Instant::now();
        let report = self.store.transact(forms).expect("contender transacts");
        self.spent += started.elapsed();
        report
    }
}

/// Runs `run` on both contenders, the one that goes first alternating
/// with `turn`.
fn take_turns(
    turn: usize,
    plain: &mut Contender,
    composite: &mut Contender,
    mut run: impl FnMut(&mut Contender),
) {
    if turn.is_multiple_of(2) {
        run(plain);
        run(composite);
    } else {
        run(composite);
        run(plain);
    }
}

/// The time each contender spent since the last call, and the clocks
/// reset.
fn spent(plain: &mut Contender, composite: &mut Contender) -> [Duration; 2] {
    let spent = [plain.spent, composite.spent];
    plain.spent = Duration::ZERO;
    composite.spent = Duration::ZERO;
    spent
}

/// Loads `entities` people in batches, then runs `count` one-person
/// transactions and `count` one-datom updates of `:person/age`, into a
/// store without and one with the composite, the two taking turns. Prints
/// the time per transaction of each kind and the ratio with the composite
/// to without.
fn composite_cost(dir: &Path, entities: usize, count: usize) {
    let mut plain = Contender {
        store: open_store(&dir.join("plain.db"), Durability::Normal),
        ids: Vec::new(),
        spent: Duration::ZERO,
    };
    let composite_store = open_store(&dir.join("composite.db"), Durability::Normal);
    let composite_schema =
        parse_tx_data(&factlite_edn::parse(COMPOSITE).expect("parses")).expect("composite forms");
    composite_store
        .transact(&composite_schema)
        .expect("composite transacts");
    let mut composite = Contender {
        store: composite_store,
        ids: Vec::new(),
        spent: Duration::ZERO,
    };
    let report = |kind: &str, transactions: usize, spent: [Duration; 2]| {
        let per = |d: Duration| d.as_secs_f64() * 1e3 / transactions as f64;
        println!(
            "  {kind:<28} without {:.3} ms/tx, with {:.3} ms/tx: {:.2}x",
            per(spent[0]),
            per(spent[1]),
            spent[1].as_secs_f64() / spent[0].as_secs_f64()
        );
    };
    println!(
        "composite tuple maintenance (:person/name+age), the same transactions without and with it:"
    );
    let starts: Vec<usize> = (0..entities).step_by(ENTITIES_PER_TX).collect();
    for (turn, start) in starts.iter().copied().enumerate() {
        let end = (start + ENTITIES_PER_TX).min(entities);
        take_turns(turn, &mut plain, &mut composite, |contender| {
            let forms = batch_forms(start, end, &contender.ids);
            let report = contender.transact(&forms);
            remember_ids(&mut contender.ids, start, end, &report);
        });
    }
    report(
        &format!("{}-datom batches", ENTITIES_PER_TX * ATTRIBUTES),
        starts.len(),
        spent(&mut plain, &mut composite),
    );
    for turn in 0..count {
        let n = entities + turn;
        take_turns(turn, &mut plain, &mut composite, |contender| {
            let forms = batch_forms(n, n + 1, &contender.ids);
            let report = contender.transact(&forms);
            remember_ids(&mut contender.ids, n, n + 1, &report);
        });
    }
    report(
        "5-datom new-person txs",
        count,
        spent(&mut plain, &mut composite),
    );
    for turn in 0..count {
        take_turns(turn, &mut plain, &mut composite, |contender| {
            let e = contender.ids[(turn * 7919) % contender.ids.len()];
            contender.transact(&[TxForm::Add {
                e: EntityRef::Id(e),
                a: factlite_query::AttrRef::Ident(kw("age")),
                v: Value::Integer(100 + turn as i64),
            }]);
        });
    }
    report(
        "1-datom :person/age updates",
        count,
        spent(&mut plain, &mut composite),
    );
}

fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn rate(datoms: usize, elapsed: Duration) -> f64 {
    datoms as f64 / elapsed.as_secs_f64()
}

fn main() {
    let entities: usize = std::env::var("FACTLITE_BENCH_ENTITIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let datoms = entities * ATTRIBUTES;
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "load: {entities} entities x {ATTRIBUTES} attributes = {datoms} datoms, {} datoms per transaction, durability normal",
        ENTITIES_PER_TX * ATTRIBUTES
    );

    let (elapsed, building) = load_factlite(&dir.path().join("factlite.db"), entities, false);
    let factlite_rate = rate(datoms, elapsed);
    println!(
        "factlite (TxForm values): {:>10.0} datoms/s  ({:.2} s, of which building forms {:.2} s)",
        factlite_rate,
        elapsed.as_secs_f64(),
        building.as_secs_f64()
    );
    if let Some(mb) = peak_memory_mb() {
        println!("peak memory after the load (VmHWM): {mb:.1} MB (target < 200 MB)");
    }

    let raw = load_raw(&dir.path().join("raw.db"), entities);
    let raw_rate = rate(datoms, raw);
    println!(
        "raw SQLite baseline:      {:>10.0} datoms/s  ({:.2} s)",
        raw_rate,
        raw.as_secs_f64()
    );
    println!(
        "ratio factlite / baseline: {:.2} (target >= 0.5)",
        factlite_rate / raw_rate
    );

    let text_entities = (entities / 4).max(ENTITIES_PER_TX);
    let (elapsed, parsing) = load_factlite(&dir.path().join("text.db"), text_entities, true);
    println!(
        "factlite (EDN text):      {:>10.0} datoms/s  ({} datoms, {:.2} s, of which printing+parsing {:.2} s)",
        rate(text_entities * ATTRIBUTES, elapsed),
        text_entities * ATTRIBUTES,
        elapsed.as_secs_f64(),
        parsing.as_secs_f64()
    );

    let count = (entities / 10).clamp(100, 2_000);
    println!("5-datom transaction latency (the per-commit cost) over {count} transactions:");
    let mut default_median = None;
    for durability in Durability::ALL {
        let file = format!("small-{durability}.db");
        let latencies = small_transactions(&dir.path().join(file), count, durability);
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        let median = at(0.5).as_secs_f64();
        let default_median = *default_median.get_or_insert(median);
        println!(
            "  {:<15} median {:.3} ms, p99 {:.3} ms, {:.2}x the default's median",
            durability.name(),
            median * 1e3,
            at(0.99).as_secs_f64() * 1e3,
            median / default_median
        );
    }

    composite_cost(dir.path(), (entities / 4).max(ENTITIES_PER_TX), count);
}
