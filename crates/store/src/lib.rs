//! factlite's storage: datoms, the log and the schema in one SQLite file, and
//! the transactor that appends to them. This is the only crate that links
//! rusqlite.
//!
//! A [`Store`] owns the connection. [`Store::transact`] resolves transaction
//! data against the current state and applies it in one SQLite transaction;
//! [`Store::db`] gives a [`Db`], an immutable snapshot that queries, pulls and
//! index reads run against (see `db`).

mod db;
mod encode;
mod error;
mod fixpoint;
mod inputs;
mod layout;
mod named_rules;
mod pull;
mod query;
mod reads;
mod result;
mod schema_io;
pub mod transact;
mod vocabulary;

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use factlite_core::{Entid, Partition, Schema};
use factlite_query::TxForm;
use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use db::{Datoms, Db, DbView, IndexName, ReadTransaction};
pub use encode::{from_sql, to_sql, SqlParam};
pub use error::{Error, Result};
pub use layout::FORMAT_VERSION;
pub use named_rules::rules_vocabulary;
pub use query::{shape_rows, ResultRows};
pub use result::{QueryResult, Relation};
pub use transact::{TxRecord, TxReport, TX_TEMPID};
pub use vocabulary::{Migration, MigrationError, MigrationStep, Vocabulary, VocabularyOutcome};

/// How a store is opened.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long a writer waits for another writer's lock before failing
    /// with [`Error::Busy`].
    pub busy_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// Work done inside a write transaction, around the writing of the datoms:
/// an error from either step rolls the whole transaction back. The
/// materialized views use it to stay in step with the datoms.
pub trait WriteHook {
    /// Runs once the transaction's datoms are known (they are in `report`)
    /// and before they are written: the store still reads as before.
    fn before_write(&mut self, store: &Store, report: &TxReport) -> Result<()>;

    /// Runs after the datoms are written and before the commit. `db` reads
    /// the state the commit will make, through the schema after the
    /// transaction.
    fn after_write(&mut self, db: &Db, report: &TxReport) -> Result<()>;
}

/// The hook of a plain transaction: nothing to do.
struct NoHook;

impl WriteHook for NoHook {
    fn before_write(&mut self, _: &Store, _: &TxReport) -> Result<()> {
        Ok(())
    }

    fn after_write(&mut self, _: &Db, _: &TxReport) -> Result<()> {
        Ok(())
    }
}

/// A listener for committed transactions.
pub type Listener = Box<dyn FnMut(&TxReport)>;

/// An open store: one SQLite database holding datoms, log and schema.
#[derive(Clone)]
pub struct Store {
    inner: Rc<Inner>,
}

struct Inner {
    conn: Connection,
    config: Config,
    schema: RefCell<Rc<Schema>>,
    /// The newest transaction this connection knows of.
    latest_tx: Cell<Entid>,
    /// SQLite's `data_version` when the cached state was read: a change
    /// means another connection wrote.
    data_version: Cell<i64>,
    /// The number of current datoms, once counted in this state.
    datom_count: Cell<Option<i64>>,
    listeners: RefCell<Vec<(u64, Listener)>>,
    next_listener: Cell<u64>,
}

impl Store {
    /// Opens (creating if needed) the store in a file.
    pub fn open(path: impl AsRef<Path>, config: Config) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Store::from_connection(Connection::open_with_flags(path, flags)?, config)
    }

    /// Opens a new, empty store in memory.
    pub fn open_in_memory() -> Result<Store> {
        Store::from_connection(Connection::open_in_memory()?, Config::default())
    }

    fn from_connection(mut conn: Connection, config: Config) -> Result<Store> {
        layout::configure(&conn, config.busy_timeout.as_millis() as u64)?;
        layout::ensure(&mut conn, now_ms())?;
        let store = Store {
            inner: Rc::new(Inner {
                conn,
                config,
                schema: RefCell::new(Rc::new(Schema::new())),
                latest_tx: Cell::new(0),
                data_version: Cell::new(-1),
                datom_count: Cell::new(None),
                listeners: RefCell::new(Vec::new()),
                next_listener: Cell::new(0),
            }),
        };
        store.refresh()?;
        Ok(store)
    }

    /// The connection, for the crates above (views, façade) that keep their
    /// own tables in the same file.
    pub fn connection(&self) -> &Connection {
        &self.inner.conn
    }

    /// The current schema.
    pub fn schema(&self) -> Result<Rc<Schema>> {
        self.refresh()?;
        Ok(self.inner.schema.borrow().clone())
    }

    /// The newest committed transaction.
    pub fn latest_tx(&self) -> Result<Entid> {
        self.refresh()?;
        Ok(self.inner.latest_tx.get())
    }

    /// The number of current datoms (the sum of `attribute_stats`), counted
    /// once per state of the store.
    pub fn datom_count(&self) -> Result<i64> {
        self.refresh()?;
        if let Some(count) = self.inner.datom_count.get() {
            return Ok(count);
        }
        let count = self
            .inner
            .conn
            .prepare_cached("SELECT total(datoms) FROM attribute_stats")?
            .query_row([], |row| row.get::<_, f64>(0))? as i64;
        self.inner.datom_count.set(Some(count));
        Ok(count)
    }

    /// A snapshot of the current state.
    pub fn db(&self) -> Result<Db> {
        self.refresh()?;
        Ok(Db::new(
            self.clone(),
            self.inner.latest_tx.get(),
            DbView::Current,
        ))
    }

    /// Re-reads the schema and the newest transaction when another
    /// connection has written since we last looked.
    fn refresh(&self) -> Result<()> {
        let conn = &self.inner.conn;
        let version = data_version(conn)?;
        if version == self.inner.data_version.get() {
            return Ok(());
        }
        self.reload_state()?;
        self.inner.data_version.set(version);
        Ok(())
    }

    fn reload_state(&self) -> Result<()> {
        let conn = &self.inner.conn;
        self.inner.datom_count.set(None);
        *self.inner.schema.borrow_mut() = Rc::new(schema_io::load(conn)?);
        let next_tx: Entid = conn.query_row(
            "SELECT next_id FROM partitions WHERE part = ?1",
            [Partition::Tx as i64],
            |row| row.get(0),
        )?;
        self.inner.latest_tx.set(next_tx - 1);
        Ok(())
    }

    /// Transacts parsed transaction forms.
    pub fn transact(&self, forms: &[TxForm]) -> Result<TxReport> {
        self.transact_with(forms, &mut NoHook)
    }

    /// Transacts, running `hook` inside the SQLite transaction before the
    /// commit. Any error — from resolution, writing or the hook — rolls the
    /// whole transaction back.
    pub fn transact_with(&self, forms: &[TxForm], hook: &mut dyn WriteHook) -> Result<TxReport> {
        let conn = &self.inner.conn;
        let guard = WriteTransaction::begin(conn, self.inner.config.busy_timeout)?;
        // Another process may have written since we last looked.
        self.refresh()?;
        let report = self.transact_locked(forms, hook)?;
        guard.commit()?;
        self.after_commit(&report)?;
        Ok(report)
    }

    /// Resolves and applies forms inside the write transaction the caller
    /// holds (and has refreshed the state in).
    fn transact_locked(&self, forms: &[TxForm], hook: &mut dyn WriteHook) -> Result<TxReport> {
        let conn = &self.inner.conn;
        let schema = self.inner.schema.borrow().clone();
        let next_ids = read_next_ids(conn)?;
        let tx = next_ids[Partition::Tx as usize];
        let mut next_ids_after_tx = next_ids;
        next_ids_after_tx[Partition::Tx as usize] += 1;
        let context = transact::resolve::Context {
            conn,
            schema: &schema,
            tx,
            instant: now_ms().max(last_instant(conn)?),
            next_ids: next_ids_after_tx,
        };
        let record = transact::resolve::resolve(&context, forms)?;
        self.apply_record(&schema, &record, hook)
    }

    fn apply_record(
        &self,
        schema: &Rc<Schema>,
        record: &TxRecord,
        hook: &mut dyn WriteHook,
    ) -> Result<TxReport> {
        let conn = &self.inner.conn;
        let report = TxReport {
            tx: record.tx,
            instant: record.instant,
            basis_before: self.inner.latest_tx.get(),
            datoms: record.datoms(),
            tempids: record.tempids.clone(),
        };
        hook.before_write(self, &report)?;
        let new_schema = transact::apply::apply(conn, schema, record)?;
        let schema_after = new_schema.map(Rc::new).unwrap_or_else(|| schema.clone());
        let db = Db::in_write(self.clone(), report.basis_before, schema_after.clone());
        hook.after_write(&db, &report)?;
        *self.inner.schema.borrow_mut() = schema_after;
        Ok(report)
    }

    fn after_commit(&self, report: &TxReport) -> Result<()> {
        self.inner.latest_tx.set(report.tx);
        self.inner.datom_count.set(None);
        let version = data_version(&self.inner.conn)?;
        self.inner.data_version.set(version);
        let mut listeners = self.inner.listeners.borrow_mut();
        for (_, listener) in listeners.iter_mut() {
            listener(report);
        }
        Ok(())
    }

    /// Registers a listener called with the report of every transaction
    /// this store commits, after the commit. Returns a key for
    /// [`Store::unlisten`].
    pub fn listen(&self, listener: Listener) -> u64 {
        let key = self.inner.next_listener.get();
        self.inner.next_listener.set(key + 1);
        self.inner.listeners.borrow_mut().push((key, listener));
        key
    }

    /// Removes a listener; `false` when the key is unknown.
    pub fn unlisten(&self, key: u64) -> bool {
        let mut listeners = self.inner.listeners.borrow_mut();
        let before = listeners.len();
        listeners.retain(|(k, _)| *k != key);
        listeners.len() != before
    }
}

/// A `BEGIN IMMEDIATE` transaction that rolls back unless committed.
struct WriteTransaction<'c> {
    conn: &'c Connection,
    done: bool,
}

impl<'c> WriteTransaction<'c> {
    fn begin(conn: &'c Connection, timeout: Duration) -> Result<WriteTransaction<'c>> {
        if !conn.is_autocommit() {
            return Err(Error::AlreadyInTransaction);
        }
        match conn.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => Ok(WriteTransaction { conn, done: false }),
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == ErrorCode::DatabaseBusy
                    || failure.code == ErrorCode::DatabaseLocked =>
            {
                Err(Error::Busy {
                    waited_ms: timeout.as_millis() as u64,
                })
            }
            Err(other) => Err(other.into()),
        }
    }

    fn commit(mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        self.done = true;
        Ok(())
    }
}

impl Drop for WriteTransaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Nothing more can be done if the rollback itself fails: SQLite
            // rolls back an unfinished transaction when the connection closes.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// SQLite's `PRAGMA data_version`: it changes when another connection
/// commits. Asked on every read, so the statement is cached.
fn data_version(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |row| row.get(0))?)
}

fn read_next_ids(conn: &Connection) -> Result<[Entid; 3]> {
    let mut ids = [0; 3];
    let mut statement = conn.prepare_cached("SELECT part, next_id FROM partitions")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let part: usize = row.get::<_, i64>(0)? as usize;
        if part < ids.len() {
            ids[part] = row.get(1)?;
        }
    }
    Ok(ids)
}

/// The instant of the newest transaction: a new one is never earlier.
fn last_instant(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT max(v) FROM datoms WHERE a = ?1 AND avet = 1")?
        .query_row([factlite_core::bootstrap::DB_TX_INSTANT], |row| {
            row.get::<_, Option<i64>>(0)
        })?
        .unwrap_or(0))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
