//! factlite's storage: datoms, the log and the schema in one SQLite file, and
//! the transactor that appends to them. This is the only crate that links
//! rusqlite.
//!
//! A [`Store`] is a handle on one SQLite connection (clones share it; it is
//! `Send` and `Sync`, the connection behind a re-entrant lock, so one thread
//! uses it at a time). [`Store::transact`] resolves transaction data against
//! the current state and applies it in one SQLite transaction; [`Store::db`]
//! gives a [`Db`], an immutable snapshot that queries, pulls and index reads
//! run against (see `db`). [`Store::open_sibling`] opens another connection
//! to the same file, sharing the schema, for reading in parallel.

mod config;
mod constraints;
mod db;
mod encode;
mod error;
mod excision;
mod fixpoint;
mod fulltext_query;
pub(crate) mod functions;
mod inputs;
mod layout;
mod limits;
mod named_rules;
mod partitions;
mod pull;
mod query;
mod reads;
pub mod record;
mod replication;
mod result;
mod schema_io;
mod sql_functions;
mod statistics;
pub mod transact;
mod verify;
mod vocabulary;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use factlite_core::{Entid, Partition, Schema, ValueType};
use factlite_query::TxForm;
use parking_lot::{Mutex, ReentrantMutex, ReentrantMutexGuard};
use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use config::{Config, Durability, UnknownDurability, DEFAULT_WAL_LIMIT};
pub use db::{Datoms, Db, DbView, IndexName, ReadTransaction};
pub use encode::{from_sql, to_sql, SqlParam};
pub use error::{Error, Result};
pub use functions::{Body as FunctionBody, EntityPredicateBody, TxBody as TxFunctionBody};
pub use layout::FORMAT_VERSION;
pub use limits::QueryLimits;
pub use named_rules::{rules_vocabulary, InstalledRules};
pub use pull::MAX_NESTING as MAX_PULL_NESTING;
pub use query::{shape_rows, ResultRows};
pub use record::{Genesis, LogRecord, RecordBody, RecordError, RECORD_VERSION};
pub use replication::{Outgoing, ReplicationState};
pub use result::{QueryResult, Relation};
pub use transact::{TxRecord, TxReport, TX_TEMPID};
pub use verify::{counted, Finding, Problem, ProblemKind, EXAMPLES};
pub use vocabulary::{Migration, MigrationError, MigrationStep, Vocabulary, VocabularyOutcome};

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

/// Where [`Store::replay_with`] places a transaction of a dump.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Replay {
    /// The transaction id the dump recorded: no transaction may have taken
    /// it (or a later one) yet. `None`: the next one.
    pub tx: Option<Entid>,
    /// The instant the dump recorded, in milliseconds since the epoch: not
    /// before the newest transaction's. `None`: now.
    pub instant: Option<i64>,
}

impl Replay {
    /// The transaction id and instant, given the next free transaction id
    /// and the newest instant.
    fn place(&self, next_tx: Entid, last_instant: i64) -> Result<(Entid, i64)> {
        let tx = self.tx.unwrap_or(next_tx);
        if tx < next_tx || Partition::of(tx) != Some(Partition::Tx) {
            return Err(Error::Replay(format!(
                "transaction {tx} cannot be replayed here: the next transaction id is {next_tx} \
                 (a history dump goes into an empty database)"
            )));
        }
        let instant = match self.instant {
            Some(instant) if instant < last_instant => {
                return Err(Error::Replay(format!(
                    "transaction {tx} has the instant {}, before the newest transaction's {}: \
                     instants never go backwards",
                    factlite_edn::Instant(instant),
                    factlite_edn::Instant(last_instant)
                )))
            }
            Some(instant) => instant,
            None => now_ms().max(last_instant),
        };
        Ok((tx, instant))
    }
}

/// A listener for committed transactions.
pub type Listener = Box<dyn FnMut(&TxReport) + Send>;

/// The connection, locked for the current thread (see [`Store::connection`]).
pub type ConnectionGuard<'s> = ReentrantMutexGuard<'s, Connection>;

/// How deep transaction functions may call each other (one returning a
/// call of another).
pub const MAX_TX_FUNCTION_DEPTH: usize = 16;

/// An open store: one SQLite connection to the database holding datoms, log
/// and schema. Clones share the connection.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// The value `datom_count` holds while the count is unknown.
const UNCOUNTED: i64 = -1;

struct Inner {
    /// Re-entrant: a read that holds the connection may call code that
    /// takes it again, on the same thread.
    conn: ReentrantMutex<Connection>,
    config: Config,
    /// The file and how it was opened, for opening siblings (none in
    /// memory).
    file: Option<(PathBuf, Access)>,
    schema: Mutex<Arc<Schema>>,
    /// What this connection shares with its siblings.
    siblings: Arc<Siblings>,
    /// The newest transaction this connection knows of.
    latest_tx: AtomicI64,
    /// SQLite's `data_version` when the cached state was read: a change
    /// means another connection wrote.
    data_version: AtomicI64,
    /// The number of current datoms, once counted in this state
    /// ([`UNCOUNTED`] until then).
    datom_count: AtomicI64,
    listeners: Mutex<Vec<(u64, Listener)>>,
    next_listener: AtomicU64,
    /// Whether a query's time limit is being watched on this connection
    /// (see `limits::Watch`).
    watching: AtomicBool,
}

/// What the connections to one store file share (see
/// [`Store::open_sibling`]).
#[derive(Default)]
struct Siblings {
    /// The schema: an equal schema loaded by any of them is this one
    /// value, so whatever is keyed by it (the façade's plan cache) is
    /// shared too.
    schema: Mutex<Arc<Schema>>,
    /// The functions, aggregates and transaction functions registered on
    /// the store.
    functions: functions::Functions,
}

impl Store {
    /// Opens (creating if needed) the store in a file. Nothing is written
    /// to the file before it is known to be a factlite store of a version
    /// this build reads, or a new, empty file: another file is refused with
    /// [`Error::NotFactlite`] or [`Error::NewerFormat`], unchanged.
    pub fn open(path: impl AsRef<Path>, config: Config) -> Result<Store> {
        Store::open_file(path.as_ref(), config, Access::ReadWrite, Arc::default())
    }

    /// Opens the store in a file for reading only, writing nothing to the
    /// file or beside it, so a file on read-only media or in a read-only
    /// directory can be read. Transactions fail with [`Error::ReadOnly`].
    /// The file must hold a factlite store of this build's format (an
    /// older one is upgraded by opening it once with [`Store::open`]).
    pub fn open_read_only(path: impl AsRef<Path>, config: Config) -> Result<Store> {
        Store::open_file(path.as_ref(), config, Access::ReadOnly, Arc::default())
    }

    fn open_file(
        path: &Path,
        config: Config,
        access: Access,
        siblings: Arc<Siblings>,
    ) -> Result<Store> {
        let opened = match access {
            Access::ReadWrite => open_read_write(path),
            Access::ReadOnly => open_read_only(path),
        };
        let file = Some((path.to_path_buf(), access));
        opened
            .and_then(|(conn, contents)| {
                Store::from_connection(conn, contents, config, file, siblings)
            })
            .map_err(|error| not_writable(path, error))
    }

    /// Opens a new, empty store in memory.
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        let contents = layout::inspect(&conn)?;
        Store::from_connection(conn, contents, Config::default(), None, Arc::default())
    }

    /// Registers a function written in Rust that queries call by `name`
    /// (a namespaced symbol such as `my/score`) with `arity` arguments,
    /// returning values of type `result` (`nil` binds nothing). It runs
    /// inside SQLite on every connection of the store and its siblings.
    pub fn register_function(
        &self,
        name: &str,
        arity: usize,
        result: ValueType,
        body: FunctionBody,
    ) -> Result<()> {
        let conn = self.connection();
        let functions = &self.inner.siblings.functions;
        functions.register(&conn, name, arity, result, false, body)
    }

    /// Registers an aggregate written in Rust that `:find` calls by `name`
    /// (`(my/p90 ?x)`): `body` gets the values of one group and returns a
    /// value of type `result`.
    pub fn register_aggregate(
        &self,
        name: &str,
        result: ValueType,
        body: FunctionBody,
    ) -> Result<()> {
        let conn = self.connection();
        let functions = &self.inner.siblings.functions;
        functions.register(&conn, name, 1, result, true, body)
    }

    /// The functions and aggregates registered on this store, for
    /// planning.
    pub(crate) fn registered_functions(&self) -> Vec<factlite_planner::RegisteredFunction> {
        self.inner.siblings.functions.signatures()
    }

    /// Computes a registered aggregate over a group's values; `None` when
    /// none has this name.
    pub(crate) fn registered_aggregate(
        &self,
        name: &str,
        values: &[factlite_edn::Value],
    ) -> Option<Result<factlite_edn::Value>> {
        self.inner.siblings.functions.aggregate(name, values)
    }

    /// Installs on this connection the functions registered on a sibling
    /// since it was opened.
    pub fn install_registered_functions(&self) -> Result<()> {
        self.inner
            .siblings
            .functions
            .install_all(&self.connection())
    }

    /// Whether `other` is this store or a sibling of it (a connection to
    /// the same file that [`Store::open_sibling`] opened), so one SQL
    /// statement on either reads the datoms of both.
    pub fn same_store(&self, other: &Store) -> bool {
        Arc::ptr_eq(&self.inner.siblings, &other.inner.siblings)
    }

    /// Another connection to this store's file, with the same
    /// configuration and the same schema value (see [`Store::schema`]): a
    /// reader for another thread. `None` for a store in memory, which has
    /// one connection only.
    pub fn open_sibling(&self) -> Result<Option<Store>> {
        let Some((path, access)) = &self.inner.file else {
            return Ok(None);
        };
        let config = self.inner.config.clone();
        Store::open_file(path, config, *access, self.inner.siblings.clone()).map(Some)
    }

    /// A store on a connection whose file holds `contents` (see
    /// `layout::inspect`; a file store's connection was opened by
    /// `open_read_write` or `open_read_only`, which refused the rest).
    fn from_connection(
        mut conn: Connection,
        contents: layout::Contents,
        config: Config,
        file: Option<(PathBuf, Access)>,
        siblings: Arc<Siblings>,
    ) -> Result<Store> {
        let read_only = matches!(file, Some((_, Access::ReadOnly)));
        layout::configure(&conn, &config, read_only)?;
        siblings.functions.install_all(&conn)?;
        if !read_only {
            layout::ensure(&mut conn, contents, now_ms())?;
        }
        let store = Store {
            inner: Arc::new(Inner {
                conn: ReentrantMutex::new(conn),
                config,
                file,
                schema: Mutex::new(Arc::new(Schema::new())),
                siblings,
                latest_tx: AtomicI64::new(0),
                data_version: AtomicI64::new(-1),
                datom_count: AtomicI64::new(UNCOUNTED),
                listeners: Mutex::new(Vec::new()),
                next_listener: AtomicU64::new(0),
                watching: AtomicBool::new(false),
            }),
        };
        store.refresh()?;
        Ok(store)
    }

    /// The connection, for the crates above (views, façade) that keep their
    /// own tables in the same file. It is locked for this thread while the
    /// guard lives; the same thread may take it again.
    pub fn connection(&self) -> ConnectionGuard<'_> {
        self.inner.conn.lock()
    }

    /// The connection without its lock, for a borrow that outlives a guard
    /// the caller keeps (see `Db::datoms`).
    pub(crate) fn connection_ptr(&self) -> *mut Connection {
        self.inner.conn.data_ptr()
    }

    /// How many handles share this connection: this one, its clones and
    /// the snapshots reading through it.
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    /// An interrupt handle for the connection: any thread can stop the
    /// statement it runs (SQLite's `sqlite3_interrupt`).
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.connection().get_interrupt_handle())
    }

    /// Claims the connection's progress handler for a query's time limit;
    /// `false` when another query on it holds it already.
    pub(crate) fn begin_watch(&self) -> bool {
        !self.inner.watching.swap(true, Ordering::AcqRel)
    }

    /// Gives the progress handler back (see [`Store::begin_watch`]).
    pub(crate) fn end_watch(&self) {
        self.inner.watching.store(false, Ordering::Release);
    }

    /// The current schema. Siblings ([`Store::open_sibling`]) hand out the
    /// same value while it is unchanged.
    pub fn schema(&self) -> Result<Arc<Schema>> {
        self.refresh()?;
        Ok(self.inner.schema.lock().clone())
    }

    /// The newest committed transaction.
    pub fn latest_tx(&self) -> Result<Entid> {
        self.refresh()?;
        Ok(self.inner.latest_tx.load(Ordering::Acquire))
    }

    /// The number of current datoms (see `statistics`), counted
    /// once per state of the store.
    pub fn datom_count(&self) -> Result<i64> {
        let conn = &*self.connection();
        self.refresh()?;
        let count = self.inner.datom_count.load(Ordering::Acquire);
        if count != UNCOUNTED {
            return Ok(count);
        }
        let count = statistics::total(conn)?;
        self.inner.datom_count.store(count, Ordering::Release);
        Ok(count)
    }

    /// A snapshot of the current state.
    pub fn db(&self) -> Result<Db> {
        self.refresh()?;
        Ok(self.db_at(
            self.inner.latest_tx.load(Ordering::Acquire),
            DbView::Current,
        ))
    }

    /// A snapshot with a given basis and view of time, read through this
    /// connection: a snapshot taken on a sibling, read here.
    pub fn db_at(&self, basis: Entid, view: DbView) -> Db {
        Db::new(self.clone(), basis, view)
    }

    /// Re-reads the schema and the newest transaction when another
    /// connection has written since we last looked.
    fn refresh(&self) -> Result<()> {
        let conn = &*self.connection();
        let version = data_version(conn)?;
        if version == self.inner.data_version.load(Ordering::Acquire) {
            return Ok(());
        }
        self.reload_state(conn)?;
        self.inner.data_version.store(version, Ordering::Release);
        Ok(())
    }

    fn reload_state(&self, conn: &Connection) -> Result<()> {
        self.inner.datom_count.store(UNCOUNTED, Ordering::Release);
        self.set_schema(Arc::new(schema_io::load(conn)?));
        let next_tx = partitions::next_ids(conn)?[Partition::Tx as usize];
        self.inner.latest_tx.store(next_tx - 1, Ordering::Release);
        Ok(())
    }

    /// Takes `schema` as the current one: the siblings' value when equal,
    /// else the new siblings' value.
    fn set_schema(&self, schema: Arc<Schema>) {
        let schema = {
            let mut shared = self.inner.siblings.schema.lock();
            if **shared != *schema {
                *shared = schema;
            }
            shared.clone()
        };
        *self.inner.schema.lock() = schema;
    }

    /// Transacts parsed transaction forms. Forms given by value (a
    /// `Vec<TxForm>`) move their values into the datoms; borrowed ones
    /// (`&forms`) are copied a form at a time.
    pub fn transact<'f>(&self, forms: impl Into<Cow<'f, [TxForm]>>) -> Result<TxReport> {
        self.transact_with(forms, &mut NoHook)
    }

    /// Transacts, running `hook` inside the SQLite transaction before the
    /// commit. Any error — from resolution, writing or the hook — rolls the
    /// whole transaction back.
    pub fn transact_with<'f>(
        &self,
        forms: impl Into<Cow<'f, [TxForm]>>,
        hook: &mut dyn WriteHook,
    ) -> Result<TxReport> {
        self.write_forms(forms.into(), None, hook)
    }

    /// Transacts a transaction of a dump again, as [`Store::transact_with`]
    /// does but placed where `replay` says: its transaction id and instant
    /// those the dump recorded (the next ones when not given), and entity
    /// ids the partitions have not reached yet allowed (the partitions move
    /// past them). Every check of a transaction still runs.
    pub fn replay_with<'f>(
        &self,
        forms: impl Into<Cow<'f, [TxForm]>>,
        replay: &Replay,
        hook: &mut dyn WriteHook,
    ) -> Result<TxReport> {
        self.write_forms(forms.into(), Some(replay), hook)
    }

    fn write_forms(
        &self,
        forms: Cow<'_, [TxForm]>,
        replay: Option<&Replay>,
        hook: &mut dyn WriteHook,
    ) -> Result<TxReport> {
        let conn = &*self.connection();
        let guard = self.begin_local_write(conn)?;
        // Another process may have written since we last looked.
        self.refresh()?;
        let report = self.transact_locked(forms, replay, hook)?;
        guard.commit()?;
        self.keep_wal_small(conn);
        self.after_commit(&report)?;
        Ok(report)
    }

    /// Runs `read` on the database as `forms` would leave it — with the
    /// transaction's report — and then rolls the transaction back: nothing
    /// is committed, nothing is told to listeners (Datomic's `with`). The
    /// write lock is held while `read` runs. Every check of a transaction
    /// runs, so a transaction that would fail fails here with its error.
    pub fn speculate<'f, R>(
        &self,
        forms: impl Into<Cow<'f, [TxForm]>>,
        read: impl FnOnce(&Db, &TxReport) -> Result<R>,
    ) -> Result<R> {
        let conn = &*self.connection();
        let guard = self.begin_write(conn)?;
        self.refresh()?;
        let schema = self.inner.schema.lock().clone();
        let outcome = self
            .transact_locked(forms.into(), None, &mut NoHook)
            .and_then(|report| {
                let after = self.inner.schema.lock().clone();
                read(&Db::in_write(self.clone(), report.tx, after), &report)
            });
        drop(guard);
        // What the speculative transaction changed of the cached state.
        if !Arc::ptr_eq(&self.inner.schema.lock(), &schema) {
            self.set_schema(schema);
        }
        self.inner.datom_count.store(UNCOUNTED, Ordering::Release);
        outcome
    }

    /// After a commit: when the WAL file has grown past the configured
    /// limit (a long read held its frames), empties it if no reader needs
    /// them any more. The commit is done whatever happens here, so a
    /// checkpoint that fails is left to a later commit.
    fn keep_wal_small(&self, conn: &Connection) {
        let Some((path, _)) = &self.inner.file else {
            return;
        };
        let size = std::fs::metadata(wal_file(path)).map_or(0, |metadata| metadata.len());
        if size > self.inner.config.wal_limit {
            let _ = layout::truncate_wal(conn, self.inner.config.busy_timeout);
        }
    }

    /// Begins a write transaction on this store's connection; refused on a
    /// store opened read-only.
    pub(crate) fn begin_write<'c>(&self, conn: &'c Connection) -> Result<WriteTransaction<'c>> {
        if matches!(self.inner.file, Some((_, Access::ReadOnly))) {
            return Err(Error::ReadOnly);
        }
        WriteTransaction::begin(conn, self.inner.config.busy_timeout)
    }

    /// Begins a write of this store's own (not a replicated log's record):
    /// refused once the store follows a replicated log, where a write that
    /// is not in the log would make the log's next record diverge.
    pub(crate) fn begin_local_write<'c>(
        &self,
        conn: &'c Connection,
    ) -> Result<WriteTransaction<'c>> {
        let guard = self.begin_write(conn)?;
        if replication::follows_a_log(conn)? {
            return Err(Error::Unpublished(
                "this store follows a replicated log, and a write of its own would not be in it; write through the replicated node"
                    .to_string(),
            ));
        }
        Ok(guard)
    }

    /// Resolves and applies forms inside the write transaction the caller
    /// holds (and has refreshed the state in).
    fn transact_locked(
        &self,
        forms: Cow<'_, [TxForm]>,
        replay: Option<&Replay>,
        hook: &mut dyn WriteHook,
    ) -> Result<TxReport> {
        Ok(self.resolve_and_apply(forms, replay, hook)?.0)
    }

    /// [`Store::transact_locked`], giving the partitions' next ids after
    /// the transaction too (a replicated record carries them).
    fn resolve_and_apply(
        &self,
        forms: Cow<'_, [TxForm]>,
        replay: Option<&Replay>,
        hook: &mut dyn WriteHook,
    ) -> Result<(TxReport, [Entid; 3])> {
        let conn = &*self.connection();
        let schema = self.inner.schema.lock().clone();
        let next_ids = partitions::next_ids(conn)?;
        let next_tx = next_ids[Partition::Tx as usize];
        let (tx, instant) = match replay {
            None => (next_tx, now_ms().max(last_instant(conn, 0)?)),
            // The bootstrap transaction is made when the file is: a dump's
            // transactions keep their instants, however long before.
            Some(replay) => replay.place(next_tx, last_instant(conn, Partition::Tx.start())?)?,
        };
        let forms = self.expand_calls(forms, &schema, 0)?;
        let mut next_ids_after_tx = next_ids;
        next_ids_after_tx[Partition::Tx as usize] = tx + 1;
        let context = transact::resolve::Context {
            conn,
            schema: &schema,
            tx,
            instant,
            next_ids: next_ids_after_tx,
            unallocated_ids: replay.is_some(),
        };
        let mut record = transact::resolve::resolve(&context, forms)?;
        if replay.is_some() {
            record.cover_named_ids();
        }
        excision::plan(conn, &schema, &mut record, replay.is_some())?;
        let ensures = constraints::take_ensures(&mut record);
        constraints::check_attribute_predicates(
            conn,
            &schema,
            &self.inner.siblings.functions,
            &record,
        )?;
        let next_ids = record.next_ids;
        let basis_before = self.inner.latest_tx.load(Ordering::Acquire);
        let report = self.apply_record(&schema, record, basis_before, &ensures, hook)?;
        Ok((report, next_ids))
    }

    /// The forms with every transaction function call replaced by the
    /// transaction data it returns (expanded again, at most
    /// [`MAX_TX_FUNCTION_DEPTH`] deep), called on the database as it is
    /// inside the write transaction, before this transaction: a read-modify-
    /// write through a transaction function holds the write lock.
    fn expand_calls<'f>(
        &self,
        forms: Cow<'f, [TxForm]>,
        schema: &Arc<Schema>,
        depth: usize,
    ) -> Result<Cow<'f, [TxForm]>> {
        if !forms.iter().any(|form| matches!(form, TxForm::Call { .. })) {
            return Ok(forms);
        }
        if depth >= MAX_TX_FUNCTION_DEPTH {
            return Err(Error::Constraint(format!(
                "transaction functions called each other more than {MAX_TX_FUNCTION_DEPTH} deep"
            )));
        }
        let db = Db::in_write(
            self.clone(),
            self.inner.latest_tx.load(Ordering::Acquire),
            schema.clone(),
        );
        let mut expanded = Vec::with_capacity(forms.len());
        for form in forms.into_owned() {
            let TxForm::Call { function, args } = form else {
                expanded.push(form);
                continue;
            };
            let Some(result) = self.inner.siblings.functions.call_tx(&function, &db, &args) else {
                // No such function: resolution reports it.
                expanded.push(TxForm::Call { function, args });
                continue;
            };
            let tx_data = result.map_err(Error::Constraint)?;
            let inner = factlite_query::parse_tx_data(&tx_data).map_err(|e| {
                Error::Parse(format!(
                    "the transaction data {} returned: {e}",
                    factlite_edn::Value::Keyword(function.clone())
                ))
            })?;
            expanded.extend(
                self.expand_calls(Cow::Owned(inner), schema, depth + 1)?
                    .into_owned(),
            );
        }
        Ok(Cow::Owned(expanded))
    }

    /// Registers a transaction function: `[:ns/name arg ...]` in
    /// transaction data calls it with the database as it is inside the
    /// write transaction, before this transaction, and the call's
    /// arguments; the transaction data it returns is expanded in its place,
    /// in the same transaction. A failure or a panic fails the transaction
    /// (`:error/constraint`), naming the function.
    pub fn register_tx_function(
        &self,
        name: factlite_edn::Keyword,
        body: functions::TxBody,
    ) -> Result<()> {
        self.inner.siblings.functions.register_tx(name, body)
    }

    /// Registers an entity predicate: an entity spec (`:db/ensure`) whose
    /// `:db.entity/preds` names it calls it with the database as the
    /// transaction leaves it (its datoms applied, inside the write
    /// transaction) and the entity's id. `false`, a failure or a panic
    /// fails the transaction (`:error/constraint`), naming the spec and
    /// the predicate.
    pub fn register_entity_predicate(
        &self,
        name: &str,
        body: functions::EntityPredicateBody,
    ) -> Result<()> {
        self.inner
            .siblings
            .functions
            .register_entity_predicate(name, body)
    }

    /// Takes `count` ids of the user partition for entities to be named
    /// later (an import's tempid used before the row that defines it): no
    /// transaction allocates them, and a transaction may name them.
    pub fn reserve_entity_ids(&self, count: usize) -> Result<std::ops::Range<Entid>> {
        let conn = &*self.connection();
        let guard = self.begin_local_write(conn)?;
        let first = partitions::next_ids(conn)?[Partition::User as usize];
        let end = first + count as Entid;
        conn.prepare_cached("UPDATE partitions SET next_id = ?2 WHERE part = ?1")?
            .execute([Partition::User as i64, end])?;
        guard.commit()?;
        Ok(first..end)
    }

    /// Copies the whole database into the file at `path` (replaced if it
    /// exists) with SQLite's online backup, a few pages at a time, so other
    /// connections may go on reading and writing meanwhile.
    pub fn backup_to(&self, path: &Path) -> Result<()> {
        let conn = &*self.connection();
        let mut destination = Connection::open(path)?;
        let backup = rusqlite::backup::Backup::new(conn, &mut destination)?;
        backup.run_to_completion(256, Duration::from_millis(5), None)?;
        Ok(())
    }

    fn apply_record(
        &self,
        schema: &Arc<Schema>,
        record: TxRecord,
        basis_before: Entid,
        ensures: &[(Entid, Entid)],
        hook: &mut dyn WriteHook,
    ) -> Result<TxReport> {
        let conn = &*self.connection();
        let next_ids = record.next_ids;
        let report = record.into_report(basis_before);
        hook.before_write(self, &report)?;
        let new_schema = transact::apply::apply(conn, schema, &report, next_ids)?;
        let schema_after = new_schema.map(Arc::new).unwrap_or_else(|| schema.clone());
        if !ensures.is_empty() {
            let applied = Db::in_write(self.clone(), report.tx, schema_after.clone());
            constraints::check_entity_specs(
                &applied,
                &schema_after,
                &self.inner.siblings.functions,
                ensures,
            )?;
        }
        let db = Db::in_write(self.clone(), report.basis_before, schema_after.clone());
        hook.after_write(&db, &report)?;
        if !Arc::ptr_eq(&schema_after, schema) {
            self.set_schema(schema_after);
        }
        Ok(report)
    }

    fn after_commit(&self, report: &TxReport) -> Result<()> {
        self.inner.latest_tx.store(report.tx, Ordering::Release);
        self.inner.datom_count.store(UNCOUNTED, Ordering::Release);
        let version = data_version(&self.connection())?;
        self.inner.data_version.store(version, Ordering::Release);
        let mut listeners = self.inner.listeners.lock();
        for (_, listener) in listeners.iter_mut() {
            listener(report);
        }
        Ok(())
    }

    /// Registers a listener called with the report of every transaction
    /// this store commits, after the commit. Returns a key for
    /// [`Store::unlisten`].
    pub fn listen(&self, listener: Listener) -> u64 {
        let key = self.inner.next_listener.fetch_add(1, Ordering::Relaxed);
        self.inner.listeners.lock().push((key, listener));
        key
    }

    /// Removes a listener; `false` when the key is unknown.
    pub fn unlisten(&self, key: u64) -> bool {
        let mut listeners = self.inner.listeners.lock();
        let before = listeners.len();
        listeners.retain(|(k, _)| *k != key);
        listeners.len() != before
    }
}

/// How a file store was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

/// A read-write connection to a file (created empty if missing), once its
/// header says it holds a factlite store of a version this build reads or
/// nothing yet.
fn open_read_write(path: &Path) -> Result<(Connection, layout::Contents)> {
    inspect_untouched(path)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    let contents = readable(path, layout::inspect(&conn)?)?;
    Ok((conn, contents))
}

/// A read-only connection to a factlite store of this build's format.
/// In a read-only directory (or when SQLite cannot make its shared-memory
/// file beside the store, as on read-only media) the file is opened
/// `immutable=1`: SQLite then reads the file alone, with no locks and no
/// files beside it, so it must be a store no one writes meanwhile, closed
/// cleanly (a WAL left beside it is not read). Elsewhere it is opened
/// `mode=ro`, which sees other connections' commits (and, as any reader of
/// a WAL store, may leave SQLite's empty `-wal` and `-shm` files beside
/// it).
fn open_read_only(path: &Path) -> Result<(Connection, layout::Contents)> {
    let not_factlite = |reason: String| Error::NotFactlite {
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_file() {
        return Err(not_factlite("there is no such file".to_string()));
    }
    inspect_untouched(path)?;
    let open = |parameter: &str| -> Result<(Connection, layout::Contents)> {
        let conn = open_uri(path, parameter)?;
        let contents = layout::inspect(&conn)?;
        Ok((conn, contents))
    };
    let in_read_only_directory = is_read_only(directory_of(path));
    let (conn, contents) = match open(if in_read_only_directory {
        "immutable=1"
    } else {
        "mode=ro"
    }) {
        Err(Error::Sqlite(rusqlite::Error::SqliteFailure(failure, _)))
            if failure.code == ErrorCode::CannotOpen && !in_read_only_directory =>
        {
            open("immutable=1")?
        }
        opened => opened?,
    };
    match readable(path, contents)? {
        layout::Contents::Factlite { version } if version == FORMAT_VERSION => Ok((conn, contents)),
        layout::Contents::Factlite { version } => Err(not_factlite(format!(
            "it is a factlite store of format {version}, which needs an upgrade to format \
             {FORMAT_VERSION} before it can be read; open it once for writing"
        ))),
        _ => Err(not_factlite("the file is empty".to_string())),
    }
}

/// Refuses a file that is not a store this build reads, reading its header
/// with nothing written to it or beside it: through an `immutable=1`
/// connection, which reads the file alone. When a WAL lies beside the file
/// (a connection has it open, or did not close), the file alone may not
/// tell, and the connection that opens the store reads the header instead.
fn inspect_untouched(path: &Path) -> Result<()> {
    let is_empty = std::fs::metadata(path).map_or(true, |metadata| metadata.len() == 0);
    if is_empty || wal_file(path).exists() {
        return Ok(());
    }
    let conn = open_uri(path, "immutable=1")?;
    readable(path, layout::inspect(&conn)?).map(|_| ())
}

/// A read-only connection to a file through a URI with one parameter.
fn open_uri(path: &Path, parameter: &str) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Ok(Connection::open_with_flags(
        file_uri(path, parameter),
        flags,
    )?)
}

/// The WAL file SQLite keeps beside a database file.
fn wal_file(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// The contents, when a store may be opened on them; else why not.
fn readable(path: &Path, contents: layout::Contents) -> Result<layout::Contents> {
    let not_factlite = |reason: &str| Error::NotFactlite {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    match contents {
        layout::Contents::Empty | layout::Contents::Factlite { .. } => Ok(contents),
        layout::Contents::Newer { version } => Err(Error::NewerFormat {
            path: path.to_path_buf(),
            format: version,
            supported: FORMAT_VERSION,
        }),
        layout::Contents::Foreign => Err(not_factlite(
            "it is a SQLite database of another program (it has tables or a version, and not \
             factlite's application id)",
        )),
        layout::Contents::NotSqlite => Err(not_factlite("it is not a SQLite database")),
    }
}

/// The SQLite URI of a file with one query parameter: the path's bytes
/// other than letters, digits and `-._~/` percent-encoded (a path that is
/// not UTF-8 is read lossily).
fn file_uri(path: &Path, parameter: &str) -> String {
    let mut uri = String::from("file:");
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri.push('?');
    uri.push_str(parameter);
    uri
}

/// A failure to open a file for writing that a read-only directory or file
/// explains, as [`Error::NotWritable`] naming it; other errors unchanged.
fn not_writable(path: &Path, error: Error) -> Error {
    let Error::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) = &error else {
        return error;
    };
    if !matches!(failure.code, ErrorCode::CannotOpen | ErrorCode::ReadOnly) {
        return error;
    }
    let directory = directory_of(path);
    if is_read_only(directory) {
        Error::NotWritable {
            path: directory.to_path_buf(),
            directory: true,
        }
    } else if is_read_only(path) {
        Error::NotWritable {
            path: path.to_path_buf(),
            directory: false,
        }
    } else {
        error
    }
}

/// The directory a file is in.
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Whether a file or directory's permissions forbid writing it.
fn is_read_only(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|metadata| metadata.permissions().readonly())
}

/// Stops the statement a connection runs, from any thread (see
/// [`Store::interrupt_handle`]).
pub struct InterruptHandle(rusqlite::InterruptHandle);

impl InterruptHandle {
    /// Interrupts the running statement, if any: it fails with SQLite's
    /// interrupt error and its transaction rolls back.
    pub fn interrupt(&self) {
        self.0.interrupt();
    }
}

/// A `BEGIN IMMEDIATE` transaction that rolls back unless committed.
pub(crate) struct WriteTransaction<'c> {
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

/// The instant of the newest transaction: a new one is never earlier.
/// The newest instant of the transactions after `after`.
/// The newest `:db/txInstant` of the transactions after `after` (all of
/// them from 0; the user's from the transaction partition's start).
pub(crate) fn last_instant(conn: &Connection, after: Entid) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT max(v) FROM datoms WHERE a = ?1 AND avet = 1 AND e > ?2")?
        .query_row([factlite_core::bootstrap::DB_TX_INSTANT, after], |row| {
            row.get::<_, Option<i64>>(0)
        })?
        .unwrap_or(i64::MIN))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
