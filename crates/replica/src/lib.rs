//! factlite on several machines: every node keeps its own SQLite file (its
//! own datoms, log and views) and the transaction log is one NATS
//! JetStream stream, as Datomic keeps one ordered log of resolved
//! transactions that every peer indexes locally.
//!
//! - **Writes** are linearizable through the stream: a node resolves and
//!   applies the transaction in an open SQLite transaction (views
//!   maintained), appends its record with `Nats-Expected-Last-Sequence`
//!   set to the last position the node applied, and commits only once the
//!   servers acknowledge. A node behind loses that race (the servers refuse
//!   the append and nothing changes): it rolls back, catches up and
//!   resolves again, [`Config::write_attempts`] times at most
//!   ([`Error::Conflict`]). An append left unanswered is settled by a
//!   barrier appended after the same position, so the caller learns
//!   committed or not — or, when the servers stay silent for
//!   [`Config::settle_timeout`], [`Error::OutcomeUnknown`] with nothing
//!   committed locally and the node applying the record later if the
//!   stream holds it. Never a silent loss or a duplicate.
//! - **Reads** are local, on the node's own [`factlite::Db`], as of the
//!   last record it applied. [`ReplicatedStore::sync`] waits until the node
//!   has applied a transaction (read-your-writes across nodes, from a
//!   [`factlite::TxReport`]); [`ReplicatedStore::sync_latest`] until it has
//!   applied the stream's head. A node that cannot reach the servers times
//!   out ([`Error::Timeout`]) rather than claim freshness.
//! - **Following**: a tokio runtime on a thread of its own reads the stream
//!   with an ordered consumer; a follower thread applies what has arrived,
//!   in batches, through the store's own apply path (and the views' hook),
//!   the stream position stored in the same SQLite transaction, so a
//!   record is applied exactly once across restarts. A record that does
//!   not follow from the node's state halts the node ([`Error::Halted`]).
//! - **Genesis**: the first node to open an empty stream appends its
//!   genesis (store id, bootstrap instant); every node applies it first,
//!   so every node's tables are identical.
//!
//! ```no_run
//! use factlite_replica::{Config, ReplicatedStore};
//! use std::time::Duration;
//!
//! let config = Config::new(&["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"], "people");
//! let node = ReplicatedStore::open("people.db", config)?;
//! let report = node.transact(r#"[{:db/ident :person/name :db/valueType :db.type/string
//!                                 :db/cardinality :db.cardinality/one}]"#)?;
//! // On another node: wait for it before reading.
//! node.sync(report.tx, Duration::from_secs(5))?;
//! let names = node.db()?.q_str("[:find ?n :where [_ :person/name ?n]]", ())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod error;
mod follower;
mod log;
mod monitor;
mod snapshot;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use factlite::replication::{Genesis, LogRecord, RecordBody};
use factlite::{Entid, IntoTxData, TxReport};
use tokio::sync::mpsc;

pub use config::{Config, Durability};
pub use error::{Error, Result};
pub use snapshot::Snapshot;

use crate::log::{random_id, Failure, Log};

/// How many deliveries the reader may hold ahead of the follower.
const DELIVERY_QUEUE: usize = 10_000;

/// How long `sync` waits for the follower before it reads the records it
/// lacks itself.
const FOLLOWER_GRACE: Duration = Duration::from_millis(500);

/// A node of a replicated store: a local factlite store that follows, and
/// writes through, a log on NATS JetStream. `Send + Sync`: share it in an
/// `Arc`.
pub struct ReplicatedStore {
    store: factlite::Store,
    path: PathBuf,
    log: Arc<Log>,
    shared: Arc<follower::Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    reader: tokio::task::JoinHandle<()>,
    follower: Option<std::thread::JoinHandle<()>>,
    config: Config,
}

impl ReplicatedStore {
    /// Opens the node's store at `path`, connects to the servers, checks
    /// their durability (when [`Durability::Durable`]), finds or creates
    /// the stream and starts following the log. A file that does not exist
    /// is the log's newest snapshot, downloaded, when the log keeps one
    /// ([`Config::bootstrap_from_snapshot`]), or else a new store that
    /// applies the log's genesis (appending it first when the stream has
    /// none). A new node catches up in the background:
    /// [`ReplicatedStore::sync_latest`] waits for it.
    pub fn open(path: impl AsRef<Path>, config: Config) -> Result<ReplicatedStore> {
        ReplicatedStore::open_with(path, config, |_| Ok(()))
    }

    /// [`ReplicatedStore::open`], calling `prepare` on the local store once
    /// it is open and before the node applies anything from the log: the
    /// place to register the functions and aggregates that the log's views
    /// call (`register_function`, `register_aggregate`), which live in the
    /// process — a view that meets an unregistered function halts the
    /// node.
    pub fn open_with(
        path: impl AsRef<Path>,
        config: Config,
        prepare: impl FnOnce(&factlite::Store) -> factlite::Result<()>,
    ) -> Result<ReplicatedStore> {
        check_stream_name(&config.stream)?;
        let path = path.as_ref().to_path_buf();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("factlite-replica")
            .enable_all()
            .build()
            .map_err(|error| Error::System(format!("starting the network runtime: {error}")))?;
        if config.durability == Durability::Durable {
            let monitors = monitor::endpoints(&config.servers, &config.monitor_urls)?;
            runtime.block_on(async {
                for monitor in &monitors {
                    monitor::check_durable(monitor, config.request_timeout).await?;
                }
                Ok::<_, Error>(())
            })?;
        }
        let log = Arc::new(runtime.block_on(Log::connect(&config))?);
        if config.bootstrap_from_snapshot && !path.exists() {
            runtime.block_on(snapshot::fetch(log.context(), &config.stream, &path))?;
        }
        let store = factlite::Store::open_with(&path, config.store.clone())?;
        prepare(&store)?;
        start_or_join(&runtime, &log, &store)?;
        let position = store.replication_state()?.map_or(0, |state| state.position);
        let (deliveries, received) = mpsc::channel(DELIVERY_QUEUE);
        let reader = {
            let log = log.clone();
            runtime.spawn(async move { log.follow(position + 1, deliveries).await })
        };
        let shared = Arc::new(follower::Shared::new(follower::Applied {
            tx: store.db()?.basis_tx(),
            position,
        }));
        let follower = {
            let (store, shared) = (store.clone(), shared.clone());
            let (handle, batch) = (runtime.handle().clone(), config.batch.max(1));
            std::thread::Builder::new()
                .name("factlite-follower".to_string())
                .spawn(move || follower::run(store, shared, handle, received, batch))
                .map_err(|error| Error::System(format!("starting the follower: {error}")))?
        };
        Ok(ReplicatedStore {
            store,
            path,
            log,
            shared,
            runtime: Some(runtime),
            reader,
            follower: Some(follower),
            config,
        })
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        // Taken only by drop.
        self.runtime
            .as_ref()
            .unwrap_or_else(|| unreachable!("the runtime lives as long as the node"))
    }

    fn check_halted(&self) -> Result<()> {
        match self.shared.halted() {
            Some(reason) => Err(Error::Halted(reason)),
            None => Ok(()),
        }
    }

    /// Transacts through the log (see the crate's documentation): the
    /// report once the servers hold the transaction and the node has
    /// committed it.
    pub fn transact<'d>(&self, tx_data: impl IntoTxData<'d>) -> Result<TxReport> {
        let data = tx_data.into_tx_data()?;
        for _ in 0..self.config.write_attempts.max(1) {
            self.check_halted()?;
            let id = random_id()?;
            let mut failure = None;
            let mut appended_at = None;
            let written = self
                .store
                .transact_through_log(&*data, id, &mut |outgoing| {
                    let appended = self.runtime().block_on(self.log.append(
                        outgoing.bytes,
                        &id,
                        outgoing.expected_last,
                    ));
                    appended
                        .inspect(|position| appended_at = Some(*position))
                        .map_err(|refused| {
                            let reason = refused.to_string();
                            failure = Some(refused);
                            reason
                        })
                });
            if let (Err(error), Some(position)) = (&written, appended_at) {
                // The log holds it: sending it again would apply it twice.
                return Err(Error::NotCommittedHere {
                    position,
                    reason: error.to_string(),
                });
            }
            match (written, failure) {
                (Ok(report), _) => {
                    // The record's position is where the log took it.
                    let position = appended_at.unwrap_or(0);
                    self.shared
                        .applied_through(position, std::slice::from_ref(&report));
                    return Ok(report);
                }
                (Err(factlite::Error::Unpublished { .. }), Some(refused)) => match refused {
                    Failure::Conflict | Failure::NotStored => {
                        self.catch_up(self.config.settle_timeout)?;
                    }
                    Failure::TooLarge { bytes, limit } => {
                        return Err(Error::TooLarge { bytes, limit })
                    }
                    Failure::Unknown(waited) => return Err(Error::OutcomeUnknown { waited }),
                },
                (Err(error), _) => return Err(error.into()),
            }
        }
        Err(Error::Conflict {
            attempts: self.config.write_attempts.max(1),
        })
    }

    /// The node's local store, for reads (queries, pulls, views, dumps):
    /// it follows the log, so a write of its own is refused
    /// ([`factlite::Error::Unpublished`]) — write through
    /// [`ReplicatedStore::transact`].
    pub fn local(&self) -> &factlite::Store {
        &self.store
    }

    /// A snapshot of the node's store as of the last record it applied.
    pub fn db(&self) -> Result<factlite::Db> {
        Ok(self.store.db()?)
    }

    /// Materializes `query` (EDN text) as the view `name` on every node:
    /// its definition goes through the log, and each node that applies it
    /// builds the view's table in the same SQLite transaction.
    pub fn materialize(&self, name: &str, query: &str) -> Result<TxReport> {
        let query = factlite::edn::parse(query).map_err(factlite::Error::Edn)?;
        let definitions = factlite::Keyword::namespaced("factlite.view", "name");
        if self.db()?.schema()?.attribute_named(&definitions).is_none() {
            self.transact(factlite::replication::VIEW_DEFINITION_SCHEMA)?;
        }
        let definition = factlite::Value::Map(
            [
                (
                    "factlite.view/name",
                    factlite::Value::String(name.to_string()),
                ),
                (
                    "factlite.view/query",
                    factlite::Value::String(query.to_string()),
                ),
                (
                    "factlite.view/args",
                    factlite::Value::String("[]".to_string()),
                ),
            ]
            .into_iter()
            .map(|(attribute, value)| (factlite::Value::keyword(attribute), value))
            .collect(),
        );
        self.transact(factlite::Value::Vector(vec![definition]))
    }

    /// Drops the view `name` on every node, through the log.
    pub fn drop_view(&self, name: &str) -> Result<TxReport> {
        if !self.store.views()?.iter().any(|view| view.name == name) {
            return Err(factlite::Error::UnknownView {
                name: name.to_string(),
            }
            .into());
        }
        let lookup = factlite::Value::Vector(vec![
            factlite::Value::keyword("factlite.view/name"),
            factlite::Value::String(name.to_string()),
        ]);
        self.transact(factlite::Value::Vector(vec![factlite::Value::Vector(
            vec![factlite::Value::keyword("db/retractEntity"), lookup],
        )]))
    }

    /// Copies this node's file (SQLite's online backup, as of its last
    /// applied record) into the log's snapshot bucket as the newest
    /// snapshot: a node opened on a missing file starts from it, and the
    /// log may then be purged below it ([`ReplicatedStore::purge_log`]).
    pub fn publish_snapshot(&self) -> Result<Snapshot> {
        let copy = snapshot::partial_path(&self.path);
        let made = self.copy_with_position(&copy).and_then(|position| {
            self.runtime().block_on(snapshot::put(
                self.log.context(),
                &self.config.stream,
                self.config.replicas,
                &copy,
                position,
            ))
        });
        let _ = std::fs::remove_file(&copy);
        made
    }

    /// The file copied to `copy`, and the position it holds.
    fn copy_with_position(&self, copy: &Path) -> Result<u64> {
        self.store.backup_to(copy)?;
        let read = factlite::rusqlite::Connection::open(copy).and_then(|conn| {
            conn.query_row("SELECT position FROM replication", [], |row| row.get(0))
        });
        read.map_err(|error| {
            Error::Snapshot(format!(
                "the copy of {} names no position of the log: {error}",
                self.path.display()
            ))
        })
    }

    /// The log's newest snapshot, if it keeps one.
    pub fn latest_snapshot(&self) -> Result<Option<Snapshot>> {
        self.runtime()
            .block_on(snapshot::latest(self.log.context(), &self.config.stream))
    }

    /// Removes from the stream every record the newest snapshot holds
    /// (those up to its position), so the log stops growing without
    /// bound; how many records went. New nodes then start from the
    /// snapshot; a node whose file is behind it halts when it reaches the
    /// gap and must start from the snapshot again. Refused when the log
    /// keeps no snapshot.
    pub fn purge_log(&self) -> Result<u64> {
        let snapshot = self.latest_snapshot()?.ok_or_else(|| {
            Error::Snapshot(
                "the log keeps no snapshot, so nothing may be purged: publish one first"
                    .to_string(),
            )
        })?;
        self.runtime()
            .block_on(self.log.purge_through(snapshot.position))
    }

    /// A materialized view's rows, as this node holds them.
    pub fn view(&self, name: &str) -> Result<factlite::QueryResult> {
        Ok(self.store.view(name)?)
    }

    /// Calls `subscriber` with the rows a view gains and loses, for every
    /// transaction this node applies — written here or on another node.
    pub fn subscribe(
        &self,
        view: &str,
        subscriber: impl FnMut(&factlite::ViewChange) + Send + 'static,
    ) -> Result<u64> {
        Ok(self.store.subscribe(view, subscriber)?)
    }

    /// The position (stream sequence) of the last record this node applied.
    pub fn position(&self) -> Result<u64> {
        Ok(self
            .store
            .replication_state()?
            .map_or(0, |state| state.position))
    }

    /// Why the node stopped following the log, if it has.
    pub fn halted(&self) -> Option<String> {
        self.shared.halted()
    }

    /// Waits until this node has applied transaction `tx` (a
    /// [`TxReport::tx`] from any node): reads after it see that
    /// transaction, and the subscribers of its views have heard of it.
    pub fn sync(&self, tx: Entid, timeout: Duration) -> Result<()> {
        match self.reach(timeout, |applied| applied.tx >= tx)? {
            true => Ok(()),
            false => Err(Error::Timeout {
                waiting_for: format!("transaction {tx}"),
                waited: timeout,
            }),
        }
    }

    /// Waits until `reached` holds of what the node has applied, or
    /// `timeout` passes; whether it held. The follower usually gets there
    /// in moments; when it does not (its consumer comes back slowly after
    /// the stream's leader died), the records up to the stream's head are
    /// read by position and applied from this thread.
    fn reach(
        &self,
        timeout: Duration,
        reached: impl Fn(follower::Applied) -> bool,
    ) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        let followed = Instant::now() + FOLLOWER_GRACE.min(timeout);
        let holds = || reached(self.shared.applied());
        if self
            .shared
            .wait_until(followed, holds)
            .map_err(Error::Halted)?
        {
            return Ok(true);
        }
        match self.catch_up(deadline.saturating_duration_since(Instant::now())) {
            // Unreachable servers: the follower may still get there.
            Ok(()) | Err(Error::Timeout { .. }) => {}
            Err(error) => return Err(error),
        }
        self.shared
            .wait_until(deadline, holds)
            .map_err(Error::Halted)
    }

    /// Applies, from the writer's thread, the records between this node's
    /// position and the stream's head, read by position: a write that lost
    /// the race needs them now, and need not wait for the follower's
    /// consumer (which after a server's death takes a while to come back).
    /// The follower skips them when they reach it.
    fn catch_up(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        // The stream may be electing a leader: ask again until the deadline.
        let head = loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self.head(remaining.min(self.config.request_timeout)) {
                Ok(head) => break head,
                Err(Error::Timeout { .. }) if !remaining.is_zero() => {
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(error) => return Err(error),
            }
        };
        let mut position = self.position()?;
        while position < head {
            self.check_halted()?;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let end = head.min(position + self.config.batch.max(1) as u64);
            let fetched = self.runtime().block_on(async {
                tokio::time::timeout(remaining, async {
                    let mut records = Vec::new();
                    for at in position + 1..=end {
                        match self.log.record_at(at).await? {
                            Some(record) => records.push((at, record)),
                            None => {
                                return Err(Error::Halted(format!(
                                    "the log no longer holds its record at position {at} (it \
                                     was purged below this node); start the node again from a \
                                     snapshot"
                                )))
                            }
                        }
                    }
                    Ok(records)
                })
                .await
            });
            let records = fetched.map_err(|_elapsed| Error::Timeout {
                waiting_for: format!("the stream's head, position {head}"),
                waited: timeout,
            })??;
            let reports = self.store.apply_log_records(records)?;
            position = self.position()?;
            self.shared.applied_through(position, &reports);
        }
        Ok(())
    }

    /// The position of the stream's last record, as its leader names it
    /// now; a timeout when no answer comes.
    fn head(&self, timeout: Duration) -> Result<u64> {
        self.runtime()
            .block_on(async { tokio::time::timeout(timeout, self.log.last_position()).await })
            .map_err(|_elapsed| Error::Timeout {
                waiting_for: "an answer from the log's servers".to_string(),
                waited: timeout,
            })?
            .map_err(|error| match error {
                // An unreachable leader answers nothing in time either.
                Error::Stream { reason, .. } => Error::Timeout {
                    waiting_for: format!("the stream's head ({reason})"),
                    waited: timeout,
                },
                other => other,
            })
    }

    /// Waits until this node has applied the stream's last record, as the
    /// stream's leader names it now (subscribers told, as for
    /// [`ReplicatedStore::sync`]); the position reached.
    pub fn sync_latest(&self, timeout: Duration) -> Result<u64> {
        let started = Instant::now();
        let head = self.head(timeout)?;
        let left = timeout.saturating_sub(started.elapsed());
        match self.reach(left, |applied| applied.position >= head)? {
            true => Ok(head),
            false => Err(Error::Timeout {
                waiting_for: format!("the stream's head, position {head}"),
                waited: timeout,
            }),
        }
    }
}

impl Drop for ReplicatedStore {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        self.reader.abort();
        if let Some(follower) = self.follower.take() {
            // A follower that panicked has nothing more to say.
            let _ = follower.join();
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Applies the log's genesis on a store that follows no log yet, appending
/// one from this store first when the stream holds none; for a store that
/// follows a log, checks that the stream is that log.
fn start_or_join(
    runtime: &tokio::runtime::Runtime,
    log: &Log,
    store: &factlite::Store,
) -> Result<()> {
    let Some(state) = store.replication_state()? else {
        let (position, genesis) = runtime.block_on(join(log, store))?;
        store.apply_log_records(vec![(position, genesis)])?;
        return Ok(());
    };
    // A purged stream holds its genesis no more: nothing to compare.
    if let Start::Genesis(_, record) = runtime.block_on(first_genesis(log))? {
        if let RecordBody::Genesis(genesis) = record.body {
            if genesis.store_id != state.store_id {
                return Err(Error::Halted(
                    "the stream is the log of another store (its genesis names another store \
                     id); a node's file follows one log"
                        .to_string(),
                ));
            }
        }
    }
    Ok(())
}

/// How many times a node appends a genesis that a barrier or another
/// node's append kept out before it gives up.
const GENESIS_ATTEMPTS: usize = 3;

/// The log's genesis and its position, appended from this store when the
/// stream holds none yet. An append left unanswered (a stream still
/// electing its leader, say) is settled by a barrier at its position, so
/// a stream can begin with barriers: the genesis is appended again after
/// them.
async fn join(log: &Log, store: &factlite::Store) -> Result<(u64, LogRecord)> {
    for _ in 0..GENESIS_ATTEMPTS {
        match first_genesis(log).await? {
            Start::Genesis(position, record) => return Ok((position, record)),
            Start::Purged(position) => {
                return Err(Error::Halted(format!(
                    "the log no longer holds its first records (position {position} is gone: \
                     it was purged) and keeps no snapshot to start from; a new node needs one \
                     (ReplicatedStore::publish_snapshot on a node that has the log)"
                )))
            }
            Start::Empty => {}
        }
        let head = log.last_position().await?;
        let record = LogRecord {
            id: random_id()?,
            basis: 0,
            body: RecordBody::Genesis(Genesis {
                layout: factlite::replication::FORMAT_VERSION,
                store_id: random_id()?,
                bootstrap_instant: store.bootstrap_instant()?,
            }),
        };
        match log.append(&record.encode(), &record.id, head).await {
            // Another node's record came first, or a barrier took the
            // position: look again.
            Ok(_) | Err(Failure::Conflict) | Err(Failure::NotStored) => {}
            Err(Failure::Unknown(waited)) => return Err(Error::OutcomeUnknown { waited }),
            Err(Failure::TooLarge { bytes, limit }) => {
                return Err(Error::TooLarge { bytes, limit })
            }
        }
    }
    match first_genesis(log).await? {
        Start::Genesis(position, record) => Ok((position, record)),
        _ => Err(Error::Stream {
            stream: String::new(),
            reason: format!(
                "no genesis record reached the log in {GENESIS_ATTEMPTS} appends (each was kept \
                 out by another record); open the node again"
            ),
        }),
    }
}

/// How a stream begins.
enum Start {
    /// With its genesis record, at this position.
    Genesis(u64, LogRecord),
    /// With no genesis yet (empty, or only barriers).
    Empty,
    /// Purged: the record at this position, before any genesis seen, is
    /// gone.
    Purged(u64),
}

/// How the stream begins: its first genesis record and its position
/// (only barriers, settled appends that stored nothing, may come before
/// it), none yet, or purged.
async fn first_genesis(log: &Log) -> Result<Start> {
    let head = log.last_position().await?;
    for position in 1..=head {
        let Some(record) = log.record_at(position).await? else {
            return Ok(Start::Purged(position));
        };
        match record.body {
            RecordBody::Genesis(_) => return Ok(Start::Genesis(position, record)),
            RecordBody::Barrier => {}
            RecordBody::Transaction(_) => {
                return Err(Error::Halted(format!(
                    "the log's record at position {position} is a transaction before any \
                     genesis: the stream is not a factlite log"
                )))
            }
        }
    }
    Ok(Start::Empty)
}

fn check_stream_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "the stream name {name:?} is not letters, digits, - and _"
        )))
    }
}
