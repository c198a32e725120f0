//! The replicated store against a real 3-node JetStream cluster on
//! loopback (see `support`): writes through the log from several nodes,
//! followers, failures of servers, refusals.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use factlite::{QueryResultExt, Value};
use factlite_replica::{Error, ReplicatedStore};
use support::{tables, Cluster, LoneServer};

const SCHEMA: &str = r#"[{:db/ident :counter/name :db/valueType :db.type/string
   :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
  {:db/ident :counter/value :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
  {:db/ident :person/email :db/valueType :db.type/string
   :db/cardinality :db.cardinality/one :db/unique :db.unique/value}
  {:db/ident :event/n :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
  {:db/ident :event/text :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]"#;

const WAIT: Duration = Duration::from_secs(30);

fn count(node: &ReplicatedStore, query: &str) -> i64 {
    node.db()
        .expect("db")
        .q_str(query, ())
        .expect("query")
        .scalar::<i64>()
        .expect("a count")
        .unwrap_or(0)
}

fn counter(node: &ReplicatedStore) -> i64 {
    count(
        node,
        r#"[:find ?v . :where [?c :counter/name "hits"] [?c :counter/value ?v]]"#,
    )
}

#[test]
fn two_writers_race_for_each_position_and_a_cas_counter_counts_every_success() {
    let Some(cluster) = Cluster::start("two_writers_race") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let a = Arc::new(
        ReplicatedStore::open(
            dir.path().join("a.db"),
            cluster.config(&cluster.urls(), "race"),
        )
        .expect("node a"),
    );
    let b = Arc::new(
        ReplicatedStore::open(
            dir.path().join("b.db"),
            cluster.config(&cluster.urls(), "race"),
        )
        .expect("node b"),
    );
    a.transact(SCHEMA).expect("schema");
    a.transact(r#"[{:counter/name "hits" :counter/value 0}]"#)
        .expect("counter");
    b.sync_latest(WAIT).expect("b caught up");

    // Each node increments by :db/cas, reading its own state: a stale read
    // loses the race for the position or fails its cas after catching up.
    let successes = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|node| {
            let successes = successes.clone();
            std::thread::spawn(move || {
                let mut mine = 0;
                while mine < 20 {
                    let current = counter(&node);
                    let tx = format!(
                        r#"[[:db/cas [:counter/name "hits"] :counter/value {current} {}]]"#,
                        current + 1
                    );
                    match node.transact(tx.as_str()) {
                        Ok(_) => {
                            mine += 1;
                            successes.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(Error::Store(factlite::Error::CasFailed { .. }))
                        | Err(Error::Conflict { .. }) => {}
                        Err(other) => panic!("an increment failed: {other}"),
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("writer thread");
    }
    a.sync_latest(WAIT).expect("a at the head");
    b.sync_latest(WAIT).expect("b at the head");
    let total = successes.load(Ordering::SeqCst) as i64;
    assert_eq!(total, 40);
    assert_eq!(counter(&a), total, "every success counted once on a");
    assert_eq!(counter(&b), total, "and on b");

    // Uniqueness holds across writers: both claim one email at once.
    let claims: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .enumerate()
        .map(|(i, node)| {
            std::thread::spawn(move || {
                node.transact(
                    format!(r#"[{{:person/email "x@example.org" :event/n {i}}}]"#).as_str(),
                )
            })
        })
        .collect();
    let outcomes: Vec<_> = claims
        .into_iter()
        .map(|claim| claim.join().expect("claim thread"))
        .collect();
    let won = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(won, 1, "exactly one claim wins: {outcomes:?}");
    assert!(outcomes.iter().any(|outcome| matches!(
        outcome,
        Err(Error::Store(factlite::Error::UniqueConflict { .. }))
    )));
    a.sync_latest(WAIT).expect("a at the head");
    b.sync_latest(WAIT).expect("b at the head");
    drop((a, b));
    assert_eq!(
        tables(&dir.path().join("a.db")),
        tables(&dir.path().join("b.db")),
        "every table equal, genesis and replication position included"
    );
}

#[test]
fn a_follower_applies_what_others_write_and_sync_gives_read_your_writes() {
    let Some(cluster) = Cluster::start("a_follower_applies") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = ReplicatedStore::open(
        dir.path().join("w.db"),
        cluster.config(&[cluster.url(1)], "follow"),
    )
    .expect("writer");
    writer.transact(SCHEMA).expect("schema");
    let mut last = 0;
    for n in 0..200 {
        last = writer
            .transact(format!(r#"[{{:event/n {n} :event/text "event {n}"}}]"#).as_str())
            .expect("event")
            .tx;
    }
    // A node that joins later catches up from the genesis, in batches.
    let reader = ReplicatedStore::open(
        dir.path().join("r.db"),
        cluster.config(&[cluster.url(3)], "follow"),
    )
    .expect("reader");
    reader
        .sync(last, WAIT)
        .expect("the reader reaches the writer's last tx");
    assert_eq!(
        count(&reader, "[:find (count ?e) . :where [?e :event/n]]"),
        200
    );
    let report = writer.transact(r#"[{:event/n 1000}]"#).expect("one more");
    reader.sync(report.tx, WAIT).expect("read your writes");
    assert_eq!(
        count(
            &reader,
            "[:find ?n . :where [?e :event/n 1000] [?e :event/n ?n]]"
        ),
        1000
    );
    assert_eq!(
        reader.position().expect("position"),
        writer.position().expect("position")
    );
    drop((writer, reader));
    assert_eq!(
        tables(&dir.path().join("w.db")),
        tables(&dir.path().join("r.db"))
    );
}

#[test]
fn a_restarted_follower_resumes_without_applying_anything_twice() {
    let Some(cluster) = Cluster::start("a_restarted_follower") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = ReplicatedStore::open(
        dir.path().join("w.db"),
        cluster.config(&cluster.urls(), "restart"),
    )
    .expect("writer");
    writer.transact(SCHEMA).expect("schema");
    let follower_path = dir.path().join("f.db");
    {
        let follower =
            ReplicatedStore::open(&follower_path, cluster.config(&cluster.urls(), "restart"))
                .expect("follower");
        follower.sync_latest(WAIT).expect("caught up");
    }
    for n in 0..50 {
        writer
            .transact(format!("[{{:event/n {n}}}]").as_str())
            .expect("event");
    }
    let follower =
        ReplicatedStore::open(&follower_path, cluster.config(&cluster.urls(), "restart"))
            .expect("follower again");
    follower.sync_latest(WAIT).expect("caught up again");
    assert_eq!(
        count(&follower, "[:find (count ?e) . :where [?e :event/n]]"),
        50
    );
    assert_eq!(follower.halted(), None);
    drop((writer, follower));
    assert_eq!(tables(&dir.path().join("w.db")), tables(&follower_path));
}

#[test]
fn the_leader_killed_during_a_write_loop_loses_no_acknowledged_transaction() {
    let Some(cluster) = Cluster::start("the_leader_killed") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let a = ReplicatedStore::open(
        dir.path().join("a.db"),
        cluster.config(&cluster.urls(), "kill"),
    )
    .expect("node a");
    let b = ReplicatedStore::open(
        dir.path().join("b.db"),
        cluster.config(&cluster.urls(), "kill"),
    )
    .expect("node b");
    a.transact(SCHEMA).expect("schema");
    let mut acknowledged = Vec::new();
    let mut killed_at = None;
    let mut recovered = None;
    let mut n = 0;
    while acknowledged.len() < 60 {
        if acknowledged.len() == 20 && killed_at.is_none() {
            cluster.signal(cluster.stream_leader("kill"), "KILL");
            killed_at = Some(Instant::now());
        }
        n += 1;
        match a.transact(format!("[{{:event/n {n}}}]").as_str()) {
            Ok(_) => {
                acknowledged.push(n);
                if let (Some(killed), None) = (killed_at, recovered) {
                    recovered = Some(killed.elapsed());
                }
            }
            // The write's outcome is known not to be committed here: the
            // loop goes on with a new value.
            Err(Error::OutcomeUnknown { .. })
            | Err(Error::Timeout { .. })
            | Err(Error::Conflict { .. }) => {}
            Err(other) => panic!("write {n}: {other}"),
        }
        assert!(
            killed_at.is_none_or(|killed| killed.elapsed() < Duration::from_secs(60)),
            "writes did not come back within 60 s of the kill"
        );
    }
    let recovered = recovered.expect("a write after the kill");
    eprintln!(
        "writes came back {} ms after the leader was killed",
        recovered.as_millis()
    );
    assert!(recovered < Duration::from_secs(15), "took {recovered:?}");
    // After a leader is killed a follower's ordered consumer can take
    // about 30 s to come back; `sync_latest` does not wait for it, it
    // reads what the node lacks by position.
    let synced = Instant::now();
    a.sync_latest(WAIT).expect("a at the head");
    b.sync_latest(WAIT).expect("b at the head");
    assert!(
        synced.elapsed() < Duration::from_secs(15),
        "both nodes reached the head in {:?}",
        synced.elapsed()
    );
    for node in [&a, &b] {
        let stored: Vec<i64> = node
            .db()
            .expect("db")
            .q_str("[:find [?n ...] :where [_ :event/n ?n]]", ())
            .expect("query")
            .values::<i64>()
            .expect("numbers");
        for n in &acknowledged {
            assert!(
                stored.contains(n),
                "acknowledged write {n} is on every node"
            );
        }
    }
    drop((a, b));
    assert_eq!(
        tables(&dir.path().join("a.db")),
        tables(&dir.path().join("b.db"))
    );
}

#[test]
fn a_publish_to_a_paused_server_is_settled_as_committed_or_not_never_lost_or_doubled() {
    let Some(cluster) = Cluster::start("a_publish_to_a_paused_server") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = cluster.config(&[cluster.url(1)], "pause");
    config.settle_timeout = Duration::from_secs(4);
    let a = ReplicatedStore::open(dir.path().join("a.db"), config).expect("node a");
    let b = ReplicatedStore::open(
        dir.path().join("b.db"),
        cluster.config(&[cluster.url(2), cluster.url(3)], "pause"),
    )
    .expect("node b");
    a.transact(SCHEMA).expect("schema");
    a.sync_latest(WAIT).expect("a at the head");
    cluster.signal(1, "STOP");
    let resume = std::thread::spawn({
        let started = Instant::now();
        move || {
            std::thread::sleep(Duration::from_secs(8).saturating_sub(started.elapsed()));
        }
    });
    let outcome = a.transact(r#"[{:event/n 7 :event/text "paused"}]"#);
    resume.join().expect("pause");
    cluster.signal(1, "CONT");
    // a's only server was paused past the settle timeout: not known.
    assert!(
        matches!(outcome, Err(Error::OutcomeUnknown { .. })),
        "{outcome:?}"
    );
    // The record may still be stored after a's server resumes (it held
    // the publish while paused), so the nodes are compared only once its
    // fate is sealed: a's next write appends after the position the
    // paused record expected, so that record is in the stream before it
    // or never will be.
    a.sync_latest(WAIT)
        .expect("a at the head once its server is back");
    let report = a
        .transact(r#"[{:event/n 8}]"#)
        .expect("a writes after the pause");
    b.sync(report.tx, WAIT).expect("b sees it");
    a.sync(report.tx, WAIT).expect("a sees it");
    let on_a = count(
        &a,
        r#"[:find (count ?e) . :where [?e :event/text "paused"]]"#,
    );
    let on_b = count(
        &b,
        r#"[:find (count ?e) . :where [?e :event/text "paused"]]"#,
    );
    assert!(on_a <= 1, "never doubled");
    assert_eq!(on_a, on_b, "the nodes agree whether it was stored");
    drop((a, b));
    assert_eq!(
        tables(&dir.path().join("a.db")),
        tables(&dir.path().join("b.db"))
    );
}

#[test]
fn a_paused_minority_nodes_sync_times_out() {
    let Some(cluster) = Cluster::start("a_paused_minority") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let writer = ReplicatedStore::open(
        dir.path().join("w.db"),
        cluster.config(&[cluster.url(1), cluster.url(2)], "minority"),
    )
    .expect("writer");
    let isolated = ReplicatedStore::open(
        dir.path().join("i.db"),
        cluster.config(&[cluster.url(3)], "minority"),
    )
    .expect("isolated node");
    writer.transact(SCHEMA).expect("schema");
    isolated
        .sync_latest(WAIT)
        .expect("caught up while connected");
    cluster.signal(3, "STOP");
    let report = writer
        .transact(r#"[{:event/n 1}]"#)
        .expect("the majority writes on");
    let started = Instant::now();
    let error = isolated
        .sync(report.tx, Duration::from_secs(3))
        .expect_err("the isolated node cannot reach the new transaction");
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    assert!(started.elapsed() >= Duration::from_secs(3));
    let error = isolated
        .sync_latest(Duration::from_secs(3))
        .expect_err("nor learn the stream's head");
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    cluster.signal(3, "CONT");
    isolated
        .sync(report.tx, WAIT)
        .expect("back once its server is");
}

#[test]
fn an_oversized_record_is_refused_with_nothing_committed() {
    let Some(cluster) = Cluster::start("an_oversized_record") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let node = ReplicatedStore::open(
        dir.path().join("n.db"),
        cluster.config(&cluster.urls(), "large"),
    )
    .expect("node");
    node.transact(SCHEMA).expect("schema");
    let position = node.position().expect("position");
    let big = "x".repeat(2 * 1024 * 1024);
    let tx = Value::Vector(vec![Value::Map(
        [(Value::keyword("event/text"), Value::String(big))]
            .into_iter()
            .collect(),
    )]);
    let error = node.transact(tx).expect_err("refused");
    assert!(matches!(error, Error::TooLarge { .. }), "{error}");
    assert!(
        error.to_string().contains("split the transaction"),
        "{error}"
    );
    assert_eq!(
        count(&node, "[:find (count ?e) . :where [?e :event/text]]"),
        0
    );
    assert_eq!(node.position().expect("position"), position);
    node.transact(r#"[{:event/text "small"}]"#)
        .expect("a small one goes through");
}

#[test]
fn a_divergent_record_halts_the_follower() {
    let Some(cluster) = Cluster::start("a_divergent_record") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let node = ReplicatedStore::open(
        dir.path().join("n.db"),
        cluster.config(&cluster.urls(), "diverge"),
    )
    .expect("node");
    node.transact(SCHEMA).expect("schema");
    let position = node.position().expect("position");
    // A transaction record resolved against a basis no node had, made on
    // a store in memory and appended by hand.
    let mut bytes = Vec::new();
    let other = factlite::Store::open_in_memory().expect("other");
    let genesis = factlite::replication::LogRecord {
        id: [1; 16],
        basis: 0,
        body: factlite::replication::RecordBody::Genesis(factlite::replication::Genesis {
            layout: factlite::replication::FORMAT_VERSION,
            store_id: [2; 16],
            bootstrap_instant: 0,
        }),
    };
    other
        .apply_log_records(vec![(1, genesis)])
        .expect("genesis");
    other
        .transact_through_log(SCHEMA, [3; 16], &mut |outgoing| {
            let mut record = outgoing.record.clone();
            record.basis = 12_345;
            bytes = record.encode();
            Ok(outgoing.expected_last + 1)
        })
        .expect("a record made");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = async_nats::connect(cluster.url(2)).await.expect("client");
        let context = async_nats::jetstream::new(client);
        context
            .publish("factlite.diverge", bytes.into())
            .await
            .expect("published")
            .await
            .expect("acknowledged");
    });
    let deadline = Instant::now() + WAIT;
    while node.halted().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let reason = node.halted().expect("the follower halted");
    assert!(
        reason.contains("was resolved against transaction 12345"),
        "{reason}"
    );
    assert_eq!(
        node.position().expect("position"),
        position,
        "nothing applied"
    );
    let error = node
        .transact(r#"[{:event/n 1}]"#)
        .expect_err("a halted node takes no writes");
    assert!(matches!(error, Error::Halted(_)), "{error}");
}

#[test]
fn a_durable_node_refuses_a_server_that_does_not_fsync_before_it_acknowledges() {
    let Some(server) = LoneServer::start("a_durable_node_refuses") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = factlite_replica::Config::new(&[server.url.as_str()], "lone");
    config.replicas = 1;
    let error = ReplicatedStore::open(dir.path().join("d.db"), config.clone())
        .err()
        .expect("refused");
    assert!(matches!(error, Error::NotDurable { .. }), "{error}");
    assert!(
        error.to_string().contains("sync_interval: always"),
        "{error}"
    );
    config.durability = factlite_replica::Durability::Relaxed;
    let node = ReplicatedStore::open(dir.path().join("r.db"), config).expect("relaxed opens");
    node.transact(SCHEMA).expect("and writes");
}

#[test]
fn a_view_defined_on_one_node_exists_on_every_node_and_its_subscribers_hear_every_write() {
    let Some(cluster) = Cluster::start("a_view_defined_on_one_node") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let a = ReplicatedStore::open(
        dir.path().join("a.db"),
        cluster.config(&cluster.urls(), "views"),
    )
    .expect("node a");
    let b = ReplicatedStore::open(
        dir.path().join("b.db"),
        cluster.config(&cluster.urls(), "views"),
    )
    .expect("node b");
    a.transact(SCHEMA).expect("schema");
    for n in 0..10 {
        a.transact(format!(r#"[{{:event/n {n} :event/text "t{}"}}]"#, n % 3).as_str())
            .expect("event");
    }
    // Defined on a, after the data, through the log.
    a.materialize(
        "per_text",
        "[:find ?t (count ?e) :where [?e :event/text ?t]]",
    )
    .expect("materialized");
    let synced = b.sync_latest(WAIT).expect("b caught up");
    assert_eq!(
        b.view("per_text").expect("b has the view"),
        a.view("per_text").expect("a's")
    );
    let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
    b.subscribe("per_text", {
        let heard = heard.clone();
        move |change| heard.lock().expect("lock").push(change.added.clone())
    })
    .expect("subscribed on b");
    // Written on a, heard on b.
    let report = a
        .transact(r#"[{:event/n 99 :event/text "new"}]"#)
        .expect("event");
    b.sync(report.tx, WAIT).expect("b applied it");
    assert!(synced > 0);
    assert_eq!(
        *heard.lock().expect("lock"),
        vec![vec![vec![Value::String("new".into()), Value::Integer(1)]]]
    );
    // Written on b, maintained on a.
    let report = b
        .transact(r#"[{:event/n 100 :event/text "new"}]"#)
        .expect("event on b");
    a.sync(report.tx, WAIT).expect("a applied it");
    assert_eq!(
        a.view("per_text").expect("a's"),
        b.view("per_text").expect("b's")
    );
    a.drop_view("per_text").expect("dropped on a");
    b.sync_latest(WAIT).expect("b caught up");
    let error = b.view("per_text").expect_err("gone on b too");
    assert!(
        matches!(error, Error::Store(factlite::Error::UnknownView { .. })),
        "{error}"
    );
    drop((a, b));
    assert_eq!(
        tables(&dir.path().join("a.db")),
        tables(&dir.path().join("b.db"))
    );
}

/// Appends a barrier to a new stream `name`, created as a node would
/// create it: what a genesis append left unanswered (on a stream still
/// electing its leader, say) leaves behind once a barrier settles it.
fn stream_starting_with_a_barrier(cluster: &Cluster, name: &str) {
    let config = cluster.config(&cluster.urls(), name);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = async_nats::connect(cluster.url(1)).await.expect("connect");
        let context = async_nats::jetstream::new(client);
        context
            .get_or_create_stream(async_nats::jetstream::stream::Config {
                name: config.stream.clone(),
                subjects: vec![config.subject()],
                num_replicas: config.replicas,
                storage: async_nats::jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await
            .expect("stream");
        let barrier = factlite::replication::LogRecord {
            id: [7; 16],
            basis: 0,
            body: factlite::replication::RecordBody::Barrier,
        };
        context
            .publish(config.subject(), barrier.encode().into())
            .await
            .expect("publish")
            .await
            .expect("stored");
    });
}

#[test]
fn nodes_join_a_log_whose_first_record_is_a_barrier() {
    let Some(cluster) = Cluster::start("nodes_join_a_log_whose_first_record") else {
        return;
    };
    stream_starting_with_a_barrier(&cluster, "barrier-first");
    let dir = tempfile::tempdir().expect("temp dir");
    let a = ReplicatedStore::open(
        dir.path().join("a.db"),
        cluster.config(&cluster.urls(), "barrier-first"),
    )
    .expect("a joins after the barrier");
    let b = ReplicatedStore::open(
        dir.path().join("b.db"),
        cluster.config(&cluster.urls(), "barrier-first"),
    )
    .expect("b joins the same log");
    a.transact(SCHEMA).expect("schema");
    let report = a.transact(r#"[{:event/n 1}]"#).expect("a writes");
    b.sync(report.tx, WAIT).expect("b follows");
    assert_eq!(count(&b, "[:find (count ?e) . :where [?e :event/n]]"), 1);
    drop((a, b));
    assert_eq!(
        tables(&dir.path().join("a.db")),
        tables(&dir.path().join("b.db"))
    );
}

#[test]
fn a_new_node_starts_from_a_snapshot_after_the_log_was_purged() {
    let Some(cluster) = Cluster::start("a_new_node_starts_from_a_snapshot") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let a = ReplicatedStore::open(
        dir.path().join("a.db"),
        cluster.config(&cluster.urls(), "snap"),
    )
    .expect("node a");
    let error = a.purge_log().expect_err("nothing to purge below");
    assert!(matches!(error, Error::Snapshot(_)), "{error}");
    a.transact(SCHEMA).expect("schema");
    a.materialize(
        "per_text",
        "[:find ?t (count ?e) :where [?e :event/text ?t]]",
    )
    .expect("a view");
    for n in 0..30 {
        a.transact(format!(r#"[{{:event/n {n} :event/text "t{}"}}]"#, n % 4).as_str())
            .expect("event");
    }
    let snapshot = a.publish_snapshot().expect("snapshot");
    assert_eq!(snapshot.position, a.position().expect("position"));
    assert_eq!(a.latest_snapshot().expect("latest"), Some(snapshot));
    for n in 30..35 {
        a.transact(format!(r#"[{{:event/n {n} :event/text "t{}"}}]"#, n % 4).as_str())
            .expect("event after the snapshot");
    }
    let purged = a.purge_log().expect("purged");
    assert_eq!(purged, snapshot.position, "every record the snapshot holds");

    // Without the snapshot, a new node cannot start: the log's start is gone.
    let mut replay = cluster.config(&cluster.urls(), "snap");
    replay.bootstrap_from_snapshot = false;
    let error = ReplicatedStore::open(dir.path().join("replay.db"), replay)
        .err()
        .expect("refused");
    assert!(error.to_string().contains("purged"), "{error}");

    let b = ReplicatedStore::open(
        dir.path().join("b.db"),
        cluster.config(&[cluster.url(3)], "snap"),
    )
    .expect("b starts from the snapshot");
    assert!(b.position().expect("position") >= snapshot.position);
    let head = b.sync_latest(WAIT).expect("b reaches the head");
    assert_eq!(head, a.position().expect("a's position"));
    assert_eq!(count(&b, "[:find (count ?e) . :where [?e :event/n]]"), 35);
    assert_eq!(
        b.view("per_text").expect("b has the view"),
        a.view("per_text").expect("a's")
    );
    let report = b.transact(r#"[{:event/n 99}]"#).expect("b writes");
    a.sync(report.tx, WAIT).expect("a sees it");
    drop((a, b));
    assert_eq!(
        tables(&dir.path().join("a.db")),
        tables(&dir.path().join("b.db"))
    );
}

#[test]
fn automatic_materialization_stays_off_on_a_node_and_its_queries_run() {
    let Some(cluster) = Cluster::start("automatic_materialization_stays_off") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let node = ReplicatedStore::open(
        dir.path().join("n.db"),
        cluster.config(&cluster.urls(), "auto"),
    )
    .expect("node");
    node.transact(SCHEMA).expect("schema");
    node.transact(r#"[{:event/n 1} {:event/n 2}]"#)
        .expect("events");
    node.local().set_auto_materialize(factlite::AutoPolicy {
        enabled: true,
        threshold: 1,
        ..Default::default()
    });
    for _ in 0..3 {
        assert_eq!(count(&node, "[:find (count ?e) . :where [?e :event/n]]"), 2);
    }
    // A view made here would not be in the log: none is made.
    assert!(node.local().views().expect("views").is_empty());
    assert_eq!(
        node.position().expect("position"),
        node.sync_latest(WAIT).expect("head")
    );
}
