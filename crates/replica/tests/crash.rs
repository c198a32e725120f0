//! A node killed at the worst moments of following and writing the log,
//! in a child process of its own (this test binary run again with
//! `FACTLITE_CRASH_ROLE`), then opened again: it resumes from the position
//! its file stored and applies nothing twice.
//! - between apply and commit: the follower dies inside the SQLite
//!   transaction that applies a record (a view's registered function
//!   aborts the process when it meets the marked value);
//! - between commit and what follows it: a view's subscriber, told after
//!   the commit, aborts the process;
//! - a writer between the servers' acknowledgement and its local commit:
//!   the record is in the log but not in its file.

#[allow(dead_code)] // shared with the cluster tests, which use all of it
mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use factlite::{QueryResultExt, Value};
use factlite_replica::{Config, ReplicatedStore};
use support::{tables, Cluster};

const SCHEMA: &str = r#"[{:db/ident :event/n :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
  {:db/ident :event/text :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]"#;

const WAIT: Duration = Duration::from_secs(30);

/// The child's role, its file, the stream and the servers.
const ROLE: &str = "FACTLITE_CRASH_ROLE";
const FILE: &str = "FACTLITE_CRASH_FILE";
const STREAM: &str = "FACTLITE_CRASH_STREAM";
const SERVERS: &str = "FACTLITE_CRASH_SERVERS";

/// What the child prints once its trap is set.
const READY: &str = "crash-child-ready";

/// A view whose maintenance calls `test/crash` on every event's text.
const CRASHY: &str = "[:find ?e ?t :where [?e :event/text ?t] [(test/crash ?t)]]";

fn config(servers: &str, stream: &str) -> Config {
    let servers: Vec<&str> = servers.split(',').collect();
    let mut config = Config::new(&servers, stream);
    config.request_timeout = Duration::from_secs(2);
    config.settle_timeout = Duration::from_secs(20);
    config
}

/// Registers `test/crash` on a node's store: true, or the process
/// aborted when `crash_on` is the text it meets.
fn register_crash(store: &factlite::Store, crash_on: Option<&'static str>) -> factlite::Result<()> {
    store.register_function("test/crash", move |text: String| {
        if Some(text.as_str()) == crash_on {
            std::process::abort();
        }
        true
    })
}

/// A node on `path` with `test/crash` registered before it applies
/// anything.
fn node(path: impl AsRef<Path>, config: Config, crash_on: Option<&'static str>) -> ReplicatedStore {
    ReplicatedStore::open_with(path, config, |store| register_crash(store, crash_on))
        .expect("the node opens")
}

/// Runs this test again as a child in `role`, on `file`; returns once it
/// has said it is ready, with the child still running.
fn spawn(
    test: &str,
    role: &str,
    file: &Path,
    cluster: &Cluster,
    stream: &str,
) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(FILE, file)
        .env(STREAM, stream)
        .env(SERVERS, cluster.urls().join(","))
        .stdout(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let stdout = child.stdout.take().expect("its output");
    // The test harness writes the test's name on the same line first.
    for line in BufReader::new(stdout).lines() {
        if line.expect("a line").ends_with(READY) {
            return child;
        }
    }
    let _ = child.kill();
    let status = child.wait();
    panic!("the child ended before it was ready: {status:?}");
}

/// The child's side: opens its node, sets its trap, says it is ready,
/// and follows the log until the trap kills it.
fn child(role: &str) {
    let env = |name: &str| std::env::var(name).expect("set by the parent");
    let crash_on = (role == "follower-before-commit").then_some("crash");
    let node = node(env(FILE), config(&env(SERVERS), &env(STREAM)), crash_on);
    match role {
        "follower-before-commit" => {}
        "follower-after-commit" => {
            node.sync_latest(WAIT).expect("the view is there");
            node.subscribe("crashy", |change| {
                if change
                    .added
                    .iter()
                    .flatten()
                    .any(|value| *value == Value::from("crash"))
                {
                    std::process::abort();
                }
            })
            .expect("subscribed");
        }
        "writer-after-ack" => {
            node.sync_latest(WAIT).expect("at the head");
            println!("{READY}");
            write_and_die_before_commit(&node, &env(SERVERS), &env(STREAM));
        }
        other => panic!("no role {other}"),
    }
    node.sync_latest(WAIT).expect("at the head");
    println!("{READY}");
    std::thread::sleep(Duration::from_secs(120));
    panic!("the trap never sprang");
}

/// Writes one event as a node does — resolved and applied in the open
/// SQLite transaction, appended to the log expecting the node's position
/// — and aborts the process once the servers have acknowledged it,
/// before the local commit.
fn write_and_die_before_commit(node: &ReplicatedStore, servers: &str, stream: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let context = runtime.block_on(async {
        let servers: Vec<async_nats::ServerAddr> = servers
            .split(',')
            .map(|server| server.parse().expect("a server URL"))
            .collect();
        async_nats::jetstream::new(async_nats::connect(servers).await.expect("connect"))
    });
    let subject = format!("factlite.{stream}");
    let outcome = node.local().transact_through_log(
        r#"[{:event/n 10 :event/text "acknowledged, not committed"}]"#,
        [9; 16],
        &mut |outgoing| {
            let publish = async_nats::jetstream::context::Publish::build()
                .payload(outgoing.bytes.to_vec().into())
                .message_id("09".repeat(16))
                .expected_last_sequence(outgoing.expected_last);
            let acknowledged = runtime.block_on(async {
                context
                    .send_publish(subject.clone(), publish)
                    .await
                    .expect("sent")
                    .await
            });
            acknowledged.expect("acknowledged");
            std::process::abort();
        },
    );
    panic!("the write went on past its acknowledgement: {outcome:?}");
}

fn events(node: &ReplicatedStore) -> Vec<i64> {
    let mut numbers: Vec<i64> = node
        .db()
        .expect("db")
        .q_str("[:find [?n ...] :with ?e :where [?e :event/n ?n]]", ())
        .expect("query")
        .values::<i64>()
        .expect("numbers");
    numbers.sort();
    numbers
}

/// The parent's side: a writer, the child following its log, a marked
/// event that kills the child (or, for `writer-after-ack`, the child's own
/// write, event 10); more events; then the child's file opened again here
/// must reach the head with every event exactly once.
fn kill_a_follower(test: &str, role: &str, stream: &str) {
    let Some(cluster) = Cluster::start(test) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let servers = cluster.urls().join(",");
    let writer = node(dir.path().join("w.db"), config(&servers, stream), None);
    writer.transact(SCHEMA).expect("schema");
    if role == "follower-after-commit" {
        writer.materialize("crashy", CRASHY).expect("the view");
    }
    let follower_path = dir.path().join("f.db");
    if role == "writer-after-ack" {
        writer.materialize("crashy", CRASHY).expect("the view");
        for n in 0..10 {
            writer
                .transact(format!(r#"[{{:event/n {n} :event/text "ok"}}]"#).as_str())
                .expect("event");
        }
    }
    let mut child = spawn(test, role, &follower_path, &cluster, stream);
    if role == "follower-before-commit" {
        writer.materialize("crashy", CRASHY).expect("the view");
    }
    if role != "writer-after-ack" {
        for n in 0..10 {
            writer
                .transact(format!(r#"[{{:event/n {n} :event/text "ok"}}]"#).as_str())
                .expect("event");
        }
        writer
            .transact(r#"[{:event/n 10 :event/text "crash"}]"#)
            .expect("the marked event");
    }
    let status = child.wait().expect("the child ends");
    assert!(!status.success(), "the child was killed by its trap");
    for n in 11..15 {
        writer
            .transact(format!(r#"[{{:event/n {n} :event/text "after"}}]"#).as_str())
            .expect("event after the kill");
    }
    let follower = node(&follower_path, config(&servers, stream), None);
    follower.sync_latest(WAIT).expect("at the head");
    assert_eq!(
        events(&follower),
        (0..15).collect::<Vec<i64>>(),
        "each event once"
    );
    assert_eq!(
        follower.position().expect("position"),
        writer.position().expect("position")
    );
    assert_eq!(follower.halted(), None);
    drop((writer, follower));
    assert_eq!(
        tables(&dir.path().join("w.db")),
        tables(&follower_path),
        "the follower's tables are the writer's"
    );
}

#[test]
fn a_follower_killed_between_apply_and_commit_resumes_and_applies_nothing_twice() {
    if let Ok(role) = std::env::var(ROLE) {
        return child(&role);
    }
    kill_a_follower(
        "a_follower_killed_between_apply_and_commit_resumes_and_applies_nothing_twice",
        "follower-before-commit",
        "crash-apply",
    );
}

#[test]
fn a_writer_killed_between_the_acknowledgement_and_its_commit_applies_its_record_once() {
    if let Ok(role) = std::env::var(ROLE) {
        return child(&role);
    }
    kill_a_follower(
        "a_writer_killed_between_the_acknowledgement_and_its_commit_applies_its_record_once",
        "writer-after-ack",
        "crash-ack",
    );
}

#[test]
fn a_follower_killed_right_after_a_commit_resumes_and_applies_nothing_twice() {
    if let Ok(role) = std::env::var(ROLE) {
        return child(&role);
    }
    kill_a_follower(
        "a_follower_killed_right_after_a_commit_resumes_and_applies_nothing_twice",
        "follower-after-commit",
        "crash-commit",
    );
}
