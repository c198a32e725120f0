//! The replication benchmark, in one run against a 3-node JetStream
//! cluster on loopback (started with `scripts/nats-cluster`, stopped at the
//! end): one-transaction latency replicated against a local store (median,
//! p99), sequential writer transactions per second, a new follower's apply
//! rate with ten views, the time from killing the stream's leader to the
//! first successful transaction, and every table of three nodes compared;
//! then, on a log of 1,000,000 datoms (`FACTLITE_BENCH_DATOMS`), a
//! restarted follower's catch-up and a new node's start from a snapshot.
//! `cargo bench -p factlite-replica --bench replication`; the server is
//! `$FACTLITE_NATS_SERVER` or `.nats/bin/nats-server` (installed by
//! `scripts/nats-cluster install .nats`). `FACTLITE_BENCH_TXS` sets the
//! number of timed transactions (default 500).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use factlite_replica::{Config, ReplicatedStore};

const SCHEMA: &str = r#"[{:db/ident :event/n :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :event/kind :db/valueType :db.type/keyword :db/cardinality :db.cardinality/one}
 {:db/ident :event/text :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]"#;

const BASE: u16 = 24_222;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cluster(command: &str, dir: &Path, binary: &Path) {
    let status = Command::new(root().join("scripts/nats-cluster"))
        .args([command.as_ref(), dir.as_os_str()])
        .env("NATS_SERVER_BIN", binary)
        .env("NATS_CLUSTER_PORT_BASE", BASE.to_string())
        .status()
        .expect("scripts/nats-cluster runs");
    assert!(status.success(), "nats-cluster {command}");
}

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = samples[(samples.len() * 99 / 100).min(samples.len() - 1)];
    (ms(samples[samples.len() / 2]), ms(p99))
}

fn event(n: usize) -> String {
    format!(
        r#"[{{:event/n {n} :event/kind :kind/k{} :event/text "event number {n}"}}]"#,
        n % 10
    )
}

/// A transaction of `entities` events (four datoms each) from `first`.
fn bulk(first: usize, entities: usize) -> String {
    let mut tx = String::from("[");
    for n in first..first + entities {
        tx.push_str(&format!(
            r#"{{:event/n {n} :event/kind :kind/k{} :event/text "bulk event {n}"}}"#,
            n % 10
        ));
    }
    tx.push(']');
    tx
}

/// What a large log costs a node: a follower that was closed while the
/// log grew by `datoms` datoms catches up; then a snapshot is published
/// and a new node starts from it. Prints the times, checks the tables.
fn large_log(work: &Path, config: &Config, datoms: usize) {
    let mut config = config.clone();
    config.stream = "bulk".to_string();
    let writer = ReplicatedStore::open(work.join("bulk-w.db"), config.clone()).expect("writer");
    writer.transact(SCHEMA).expect("schema");
    let follower_path = work.join("bulk-f.db");
    let follower = ReplicatedStore::open(&follower_path, config.clone()).expect("follower");
    follower
        .sync_latest(Duration::from_secs(60))
        .expect("at the head");
    drop(follower);
    let per_tx = 250;
    let started = Instant::now();
    let mut n = 0;
    while n * 4 < datoms {
        writer.transact(bulk(n, per_tx).as_str()).expect("bulk tx");
        n += per_tx;
    }
    let written = started.elapsed();
    let records = writer.position().expect("position");

    let started = Instant::now();
    let follower = ReplicatedStore::open(&follower_path, config.clone()).expect("follower again");
    follower
        .sync_latest(Duration::from_secs(1200))
        .expect("caught up");
    let catch_up = started.elapsed();

    let started = Instant::now();
    let snapshot = writer.publish_snapshot().expect("snapshot");
    let published = started.elapsed();
    let started = Instant::now();
    let fresh = ReplicatedStore::open(work.join("bulk-s.db"), config).expect("from the snapshot");
    fresh
        .sync_latest(Duration::from_secs(600))
        .expect("at the head");
    let bootstrapped = started.elapsed();
    drop((writer, follower, fresh));
    let same = ["bulk-f.db", "bulk-s.db"]
        .iter()
        .all(|file| tables(&work.join(file)) == tables(&work.join("bulk-w.db")));
    println!(
        "  a log of {} datoms ({records} records, written in {:.1} s):",
        n * 4,
        written.as_secs_f64()
    );
    println!(
        "    restarted follower caught up in {:.2} s = {:.0} datoms/s",
        catch_up.as_secs_f64(),
        (n * 4) as f64 / catch_up.as_secs_f64()
    );
    println!(
        "    snapshot of {:.1} MB published in {:.2} s; a new node started from it and reached the head in {:.2} s",
        snapshot.bytes as f64 / 1e6,
        published.as_secs_f64(),
        bootstrapped.as_secs_f64()
    );
    println!("    the three nodes' tables equal: {same}");
    assert!(same, "the large log's nodes differ");
}

fn stream_leader(stream: &str) -> u16 {
    for n in 0..3 {
        let output = Command::new("curl")
            .args(["-fsS", "--max-time", "2"])
            .arg(format!(
                "http://127.0.0.1:{}/jsz?streams=true",
                BASE + 4000 + n
            ))
            .output()
            .expect("curl runs");
        let Ok(jsz) = serde_json::from_slice::<serde_json::Value>(&output.stdout) else {
            continue;
        };
        for account in jsz["account_details"].as_array().into_iter().flatten() {
            for info in account["stream_detail"].as_array().into_iter().flatten() {
                if info["name"] == stream {
                    if let Some(leader) = info["cluster"]["leader"].as_str() {
                        return leader[1..].parse().expect("servers are named n1..n3");
                    }
                }
            }
        }
    }
    panic!("no leader of {stream}");
}

fn tables(path: &Path) -> String {
    let conn = factlite::rusqlite::Connection::open(path).expect("file");
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE 'fulltext_%' ORDER BY name",
        )
        .expect("tables")
        .query_map([], |row| row.get(0))
        .expect("names")
        .map(|name| name.expect("name"))
        .collect();
    let mut out = String::new();
    for name in names {
        let mut statement = conn
            .prepare(&format!("SELECT * FROM \"{name}\""))
            .expect("select");
        let columns = statement.column_count();
        let mut rows: Vec<String> = statement
            .query_map([], |row| {
                Ok((0..columns)
                    .map(|i| format!("{:?}", row.get_ref(i).expect("field")))
                    .collect::<Vec<_>>()
                    .join(" "))
            })
            .expect("rows")
            .map(|row| row.expect("row"))
            .collect();
        rows.sort();
        out.push_str(&format!("== {name}\n{}\n", rows.join("\n")));
    }
    out
}

fn main() {
    let binary = std::env::var_os("FACTLITE_NATS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".nats/bin/nats-server"));
    if !binary.exists() {
        println!(
            "replication benchmark skipped: no nats-server (scripts/nats-cluster install .nats)"
        );
        return;
    }
    let setting = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let txs = setting("FACTLITE_BENCH_TXS", 500);
    let datoms = setting("FACTLITE_BENCH_DATOMS", 1_000_000);
    let work = tempfile::tempdir().expect("temp dir");
    let nats = work.path().join("nats");
    cluster("start", &nats, &binary);
    let urls: Vec<String> = (0..3)
        .map(|n| format!("nats://127.0.0.1:{}", BASE + n))
        .collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let config = Config::new(&urls, "bench");

    // Local: the same transactions on a plain file store.
    let local = factlite::Store::open(work.path().join("local.db")).expect("local store");
    local.transact(SCHEMA).expect("schema");
    let local_samples: Vec<Duration> = (0..txs)
        .map(|n| {
            let started = Instant::now();
            local.transact(event(n).as_str()).expect("local tx");
            started.elapsed()
        })
        .collect();

    let writer = ReplicatedStore::open(work.path().join("w.db"), config.clone()).expect("writer");
    writer.transact(SCHEMA).expect("schema");
    for v in 0..10 {
        let query = match v % 3 {
            0 => format!("[:find ?e :where [?e :event/kind :kind/k{v}]]"),
            1 => format!(
                "[:find ?k (count ?e) :where [?e :event/kind ?k] [?e :event/n ?n] [(> ?n {v})]]"
            ),
            _ => "[:find ?t :where [?e :event/text ?t] [?e :event/kind :kind/k2]]".to_string(),
        };
        writer.materialize(&format!("v{v}"), &query).expect("view");
    }
    let started_all = Instant::now();
    let replicated_samples: Vec<Duration> = (0..txs)
        .map(|n| {
            let started = Instant::now();
            writer.transact(event(n).as_str()).expect("replicated tx");
            started.elapsed()
        })
        .collect();
    let per_second = txs as f64 / started_all.elapsed().as_secs_f64();

    // A new follower catches up on everything, ten views maintained.
    let records = writer.position().expect("position");
    let started = Instant::now();
    let follower =
        ReplicatedStore::open(work.path().join("f.db"), config.clone()).expect("follower");
    follower
        .sync_latest(Duration::from_secs(600))
        .expect("caught up");
    let catch_up = started.elapsed();

    // The stream's leader killed: time to the first transaction that goes through.
    let leader = stream_leader("bench");
    let pid = std::fs::read_to_string(nats.join(format!("n{leader}/pid"))).expect("pid");
    Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .expect("kill");
    let killed = Instant::now();
    let mut n = txs;
    loop {
        n += 1;
        match writer.transact(event(n).as_str()) {
            Ok(_) => break,
            Err(error) => println!(
                "  (after the kill, {:.2} s: {error})",
                killed.elapsed().as_secs_f64()
            ),
        }
        assert!(
            killed.elapsed() < Duration::from_secs(120),
            "no write within 2 minutes"
        );
    }
    let recovery = killed.elapsed();
    cluster("start", &nats, &binary);
    let third =
        ReplicatedStore::open(work.path().join("t.db"), config.clone()).expect("third node");
    for node in [&writer, &follower, &third] {
        node.sync_latest(Duration::from_secs(120))
            .expect("at the head");
    }
    drop((writer, follower, third));
    let same = ["f.db", "t.db"]
        .iter()
        .all(|file| tables(&work.path().join(file)) == tables(&work.path().join("w.db")));

    let (local_median, local_p99) = percentiles(local_samples);
    let (median, p99) = percentiles(replicated_samples);
    println!("replication benchmark: {txs} one-entity transactions, 3 servers on loopback, sync_interval: always");
    println!("  local store        latency median {local_median:.2} ms, p99 {local_p99:.2} ms");
    println!("  replicated, 10 views latency median {median:.2} ms, p99 {p99:.2} ms; {per_second:.0} tx/s sequential");
    println!(
        "  new follower, 10 views: {records} records in {:.2} s = {:.0} records/s",
        catch_up.as_secs_f64(),
        records as f64 / catch_up.as_secs_f64()
    );
    println!(
        "  leader killed: first successful transaction after {:.2} s",
        recovery.as_secs_f64()
    );
    println!("  three nodes' tables (genesis and views included) equal: {same}");
    assert!(same, "the nodes' tables differ");
    large_log(work.path(), &config, datoms);
    cluster("stop", &nats, &binary);
}
