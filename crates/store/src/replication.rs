//! A store that follows a replicated log of [`LogRecord`]s: the seams the
//! replica crate uses, with no network in sight.
//!
//! - [`Store::apply_log_records`] applies records that arrived from the log
//!   through the same `apply` (and write hook, so the views) as a local
//!   write, in one SQLite transaction that also moves the stored position
//!   (the `replication` table). A record at or below the position is
//!   skipped, so a record is applied exactly once however often it
//!   arrives; a transaction resolved against another basis than this
//!   store's newest transaction is a [`Error::Divergence`], never skipped.
//! - [`Store::transact_through_log`] resolves and applies a local
//!   transaction, hands its record to a publisher while the SQLite
//!   transaction is still open, and commits only once the publisher says
//!   at which position the log holds it; otherwise everything rolls back.
//!
//! The log's first record is its genesis: a new store applying it takes the
//! log's store id and bootstrap instant, so every node's tables are
//! identical, genesis included.

use std::borrow::Cow;
use std::sync::atomic::Ordering;

use factlite_core::{bootstrap, Entid, Partition};
use factlite_query::TxForm;
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::record::{Genesis, LogRecord, RecordBody};
use crate::{layout, partitions, Store, TxReport, WriteHook};

/// The replicated log a store follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicationState {
    /// The id the log's genesis gave the replicated store.
    pub store_id: [u8; 16],
    /// The position (stream sequence) of the last record applied.
    pub position: u64,
}

/// A transaction's record on its way to the log (see
/// [`Store::transact_through_log`]).
pub struct Outgoing<'r> {
    /// The record.
    pub record: &'r LogRecord,
    /// Its bytes, as the log is to hold them.
    pub bytes: &'r [u8],
    /// The position of the last record this store applied: the record is
    /// to be appended right after it, or not at all.
    pub expected_last: u64,
}

impl Store {
    /// The replicated log this store follows, if any.
    pub fn replication_state(&self) -> Result<Option<ReplicationState>> {
        read_state(&self.connection())
    }

    /// Applies records of the log, each with its position, in order and in
    /// one SQLite transaction (a batch, for catching up), running `hook`
    /// around each transaction's writing as a local write does. Records at
    /// or below the stored position are skipped. Returns the reports of
    /// the transactions applied, whose listeners are told after the
    /// commit. Any error rolls the whole batch back.
    pub fn apply_log_records(
        &self,
        records: Vec<(u64, LogRecord)>,
        hook: &mut dyn WriteHook,
    ) -> Result<Vec<TxReport>> {
        let conn = &*self.connection();
        let guard = self.begin_write(conn)?;
        self.refresh()?;
        let reports = match self.apply_locked(conn, records, hook) {
            Ok(reports) => reports,
            Err(error) => {
                drop(guard);
                self.reload_state(conn)?;
                return Err(error);
            }
        };
        if let Err(error) = guard.commit() {
            self.reload_state(conn)?;
            return Err(error);
        }
        self.keep_wal_small(conn);
        for report in &reports {
            self.after_commit(report)?;
        }
        Ok(reports)
    }

    fn apply_locked(
        &self,
        conn: &Connection,
        records: Vec<(u64, LogRecord)>,
        hook: &mut dyn WriteHook,
    ) -> Result<Vec<TxReport>> {
        let mut state = read_state(conn)?;
        let mut latest = self.inner.latest_tx.load(Ordering::Acquire);
        let mut reports = Vec::new();
        for (position, record) in records {
            if state.is_some_and(|state| position <= state.position) {
                continue;
            }
            match record.body {
                RecordBody::Genesis(genesis) => {
                    apply_genesis(conn, position, &genesis, state, latest)?;
                    state = Some(ReplicationState {
                        store_id: genesis.store_id,
                        position,
                    });
                }
                RecordBody::Barrier => {
                    following(state, position)?;
                    set_position(conn, position)?;
                }
                RecordBody::Transaction(tx_record) => {
                    following(state, position)?;
                    if record.basis != latest {
                        return Err(Error::Divergence(format!(
                            "the record at position {position} (transaction {}) was resolved \
                             against transaction {}, and this store's newest transaction is \
                             {latest}",
                            tx_record.tx, record.basis
                        )));
                    }
                    let next_tx = partitions::next_ids(conn)?[Partition::Tx as usize];
                    if tx_record.tx != next_tx {
                        return Err(Error::Divergence(format!(
                            "the record at position {position} is transaction {}, and this \
                             store's next transaction id is {next_tx}",
                            tx_record.tx
                        )));
                    }
                    let schema = self.inner.schema.lock().clone();
                    // Attribute predicates and entity specs were checked on
                    // the node that resolved the transaction (whose
                    // registered functions this node may lack).
                    let report = self.apply_record(&schema, tx_record, latest, &[], hook)?;
                    latest = report.tx;
                    // The next record of the batch reads this state.
                    self.inner.latest_tx.store(latest, Ordering::Release);
                    set_position(conn, position)?;
                    reports.push(report);
                }
            }
            if let Some(state) = state.as_mut() {
                state.position = position;
            }
        }
        Ok(reports)
    }

    /// Transacts parsed forms through a replicated log: resolves and
    /// applies them (running `hook`), then calls `publish` with the
    /// transaction's record while the SQLite transaction is open. When
    /// `publish` gives the position the log holds the record at, that
    /// position is stored and the transaction committed; when it gives a
    /// reason instead, everything rolls back and the result is
    /// [`Error::Unpublished`] with that reason. `record_id` is the record's
    /// random id.
    pub fn transact_through_log<'f>(
        &self,
        forms: impl Into<Cow<'f, [TxForm]>>,
        hook: &mut dyn WriteHook,
        record_id: [u8; 16],
        publish: &mut dyn FnMut(&Outgoing<'_>) -> std::result::Result<u64, String>,
    ) -> Result<TxReport> {
        let conn = &*self.connection();
        let guard = self.begin_write(conn)?;
        self.refresh()?;
        let Some(state) = read_state(conn)? else {
            return Err(Error::Unpublished(
                "this store follows no replicated log yet (no genesis applied)".into(),
            ));
        };
        let (report, next_ids) = self.resolve_and_apply(forms.into(), None, hook)?;
        let record = LogRecord::transaction(record_id, &report, next_ids);
        let bytes = record.encode();
        let outgoing = Outgoing {
            record: &record,
            bytes: &bytes,
            expected_last: state.position,
        };
        let published = publish(&outgoing).and_then(|position| {
            if position > state.position {
                Ok(position)
            } else {
                Err(format!(
                    "the log placed the record at position {position}, not after the last \
                     position applied here ({})",
                    state.position
                ))
            }
        });
        match published {
            Ok(position) => {
                set_position(conn, position)?;
                guard.commit()?;
                self.keep_wal_small(conn);
                self.after_commit(&report)?;
                Ok(report)
            }
            Err(reason) => {
                drop(guard);
                // The schema the transaction cached went back with it.
                self.reload_state(conn)?;
                Err(Error::Unpublished(reason))
            }
        }
    }
}

/// Refuses a record that comes before any genesis.
fn following(state: Option<ReplicationState>, position: u64) -> Result<()> {
    match state {
        Some(_) => Ok(()),
        None => Err(Error::Divergence(format!(
            "the record at position {position} comes before the log's genesis record"
        ))),
    }
}

/// A new store takes the log's identity: its store id, and its bootstrap
/// transaction's instant (the only datom in which two new stores of one
/// layout differ).
fn apply_genesis(
    conn: &Connection,
    position: u64,
    genesis: &Genesis,
    state: Option<ReplicationState>,
    latest: Entid,
) -> Result<()> {
    if let Some(state) = state {
        return Err(Error::Divergence(format!(
            "the record at position {position} is a genesis, and this store already follows the \
             log of store {} (at position {})",
            hex(&state.store_id),
            state.position
        )));
    }
    if genesis.layout != layout::FORMAT_VERSION {
        return Err(Error::Divergence(format!(
            "the log's stores are of layout {}, and this one is of layout {}",
            genesis.layout,
            layout::FORMAT_VERSION
        )));
    }
    let bootstrap_tx = Partition::Tx.start();
    if latest != bootstrap_tx {
        return Err(Error::Divergence(format!(
            "this store has transactions of its own (its newest is {latest}); a node joins a \
             replicated log with a new, empty file"
        )));
    }
    for table in ["datoms", "log"] {
        // The table is one of two fixed names, never user text.
        conn.prepare_cached(&format!(
            "UPDATE {table} SET v = ?1 WHERE e = ?2 AND a = ?3"
        ))?
        .execute(params![
            genesis.bootstrap_instant,
            bootstrap_tx,
            bootstrap::DB_TX_INSTANT
        ])?;
    }
    conn.prepare_cached("INSERT INTO replication (id, store_id, position) VALUES (1, ?1, ?2)")?
        .execute(params![&genesis.store_id[..], position as i64])?;
    Ok(())
}

/// Whether the store follows a replicated log (its genesis applied).
pub(crate) fn follows_a_log(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM replication")?
        .exists([])?)
}

fn read_state(conn: &Connection) -> Result<Option<ReplicationState>> {
    let row: Option<(Vec<u8>, i64)> = conn
        .prepare_cached("SELECT store_id, position FROM replication WHERE id = 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((store_id, position)) = row else {
        return Ok(None);
    };
    let store_id: [u8; 16] = store_id.try_into().map_err(|bytes: Vec<u8>| {
        Error::Corrupt(format!(
            "the replication table's store id has {} bytes, not 16",
            bytes.len()
        ))
    })?;
    let position = u64::try_from(position)
        .map_err(|_| Error::Corrupt(format!("the replication table's position is {position}")))?;
    Ok(Some(ReplicationState { store_id, position }))
}

fn set_position(conn: &Connection, position: u64) -> Result<()> {
    let position = i64::try_from(position)
        .map_err(|_| Error::Divergence(format!("a log position past 2^63: {position}")))?;
    conn.prepare_cached("UPDATE replication SET position = ?1 WHERE id = 1")?
        .execute([position])?;
    Ok(())
}

/// A store id as text, for messages.
fn hex(id: &[u8; 16]) -> String {
    id.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl Store {
    /// The instant of this store's bootstrap transaction, for the genesis
    /// record of a log it starts.
    pub fn bootstrap_instant(&self) -> Result<i64> {
        Ok(self
            .connection()
            .prepare_cached("SELECT v FROM datoms WHERE e = ?1 AND a = ?2")?
            .query_row(
                params![Partition::Tx.start(), bootstrap::DB_TX_INSTANT],
                |row| row.get(0),
            )?)
    }
}
