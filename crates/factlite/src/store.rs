//! [`Store`] and [`Db`]: the façade over the store, the planner and the
//! views. Text comes in as EDN, results go out as EDN values.
//!
//! A `Store` is a cheap handle (`Send + Sync + Clone`; clones share one
//! store). Every write goes through one writer connection, with the views
//! maintained inside its transactions. Snapshots of a file store read
//! through a small pool of reader connections (WAL readers, each used by one
//! thread at a time), so reads from several threads run in parallel; a
//! store in memory has one connection, which its reads share. The lock
//! order is fixed: a connection, then the views, then the plan cache — a
//! write takes the writer's connection before the views, and so does a read
//! answered from a view.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use factlite_edn::Value;
use parking_lot::Mutex;

use factlite_views::{AutoPolicy, ViewChange, ViewInfo, Views};

use crate::error::Result;
use crate::prepared::{PlanCache, PlanCacheStats, PreparedQuery, Rows};
use crate::{Config, Entid, Inputs, IntoTxData, QueryResult, TxReport, VerifyReport};

/// An open factlite store (a SQLite file, or memory): a handle that clones
/// cheaply and crosses threads. Clones share the connections, the views and
/// the cache of compiled query plans.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

/// What the handles of one store share.
struct Shared {
    /// The connection every write goes through.
    writer: factlite_store::Store,
    /// The materialized views, kept by every write. Locked after the
    /// writer's connection, never before.
    views: Mutex<Views>,
    /// Whether a query on the current state may be answered from a view
    /// (`Views::answers_queries`, kept here to be read without a lock).
    views_answer: AtomicBool,
    /// The reader connections opened so far (none in memory).
    readers: Mutex<Vec<factlite_store::Store>>,
    /// How many reader connections may be opened.
    max_readers: usize,
    /// The memory map each reader connection gets ([`Config::mmap_size`]).
    mmap_size: u64,
    /// The limits of the snapshots [`Store::db`] hands out.
    limits: factlite_store::QueryLimits,
    /// Interrupt handles of every connection, for [`CancelHandle`].
    interrupts: Mutex<Vec<factlite_store::InterruptHandle>>,
    /// The compiled plans, shared by every snapshot.
    pub(crate) plans: Mutex<PlanCache>,
    /// Whether the watcher runs (see `watcher`).
    watching: Arc<AtomicBool>,
    /// How often it looks ([`Config::watch_interval`]); none in memory,
    /// where no other process can write.
    watch_interval: Option<std::time::Duration>,
}

impl Store {
    /// Opens the store in a file, creating it if needed, with the default
    /// [`Config`].
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Store> {
        Store::open_with(path, Config::default())
    }

    /// Opens the store in a file, creating it if needed.
    pub fn open_with(path: impl AsRef<std::path::Path>, config: Config) -> Result<Store> {
        let store = factlite_store::Store::open(path, config.store_config())?;
        map_memory(&store, config.mmap_size)?;
        Store::with_views(store, config, true)
    }

    /// Opens the store in a file for reading only: nothing is written to
    /// the file or beside it (no WAL switch, no upgrade), so a file on
    /// read-only media or in a read-only directory can be read; every write
    /// fails with [`crate::Error::ReadOnly`]. The file must be a factlite
    /// database of this build's format.
    pub fn open_read_only(path: impl AsRef<std::path::Path>) -> Result<Store> {
        let config = Config::default();
        let store = factlite_store::Store::open_read_only(path, config.store_config())?;
        map_memory(&store, config.mmap_size)?;
        Store::with_views(store, config, true)
    }

    /// Opens a new, empty store in memory. It has one connection, which
    /// reads and writes share.
    pub fn open_in_memory() -> Result<Store> {
        let config = Config {
            readers: 0,
            ..Config::default()
        };
        Store::with_views(factlite_store::Store::open_in_memory()?, config, false)
    }

    fn with_views(writer: factlite_store::Store, config: Config, file: bool) -> Result<Store> {
        let views = Views::load(&writer)?;
        Ok(Store {
            shared: Arc::new(Shared {
                views_answer: AtomicBool::new(views.answers_queries()),
                views: Mutex::new(views),
                interrupts: Mutex::new(vec![writer.interrupt_handle()]),
                writer,
                readers: Mutex::new(Vec::new()),
                max_readers: config.readers,
                mmap_size: config.mmap_size,
                limits: config.query_limits(),
                plans: Mutex::new(PlanCache::default()),
                watching: Arc::new(AtomicBool::new(false)),
                watch_interval: file.then_some(config.watch_interval),
            }),
        })
    }

    /// Runs `work` on the views with the writer's connection held (the
    /// lock order: connection, then views), then notes whether queries
    /// may be answered from views.
    fn with_writer<T>(&self, work: impl FnOnce(&mut Views, &factlite_store::Store) -> T) -> T {
        let shared = &*self.shared;
        let _connection = shared.writer.connection();
        let mut views = shared.views.lock();
        let outcome = work(&mut views, &shared.writer);
        shared
            .views_answer
            .store(views.answers_queries(), Ordering::Release);
        outcome
    }

    /// The connection a new snapshot reads through: in memory the writer's;
    /// in a file the least shared reader, or a new one while fewer than
    /// the configured number are open.
    fn reader(&self) -> Result<factlite_store::Store> {
        let shared = &*self.shared;
        let mut readers = shared.readers.lock();
        let least_shared = readers.iter().min_by_key(|reader| reader.handles());
        match least_shared {
            Some(reader) if reader.handles() == 1 || readers.len() >= shared.max_readers => {
                return Ok(reader.clone());
            }
            None if shared.max_readers == 0 => return Ok(shared.writer.clone()),
            _ => {}
        }
        let Some(reader) = shared.writer.open_sibling()? else {
            return Ok(shared.writer.clone());
        };
        map_memory(&reader, shared.mmap_size)?;
        shared.interrupts.lock().push(reader.interrupt_handle());
        readers.push(reader.clone());
        Ok(reader)
    }

    /// A handle that stops whatever statement runs on this store's
    /// connections, from any thread: the query fails with SQLite's
    /// interrupt error and the store stays usable.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// The current schema: every attribute with its ident, type,
    /// cardinality and flags.
    pub fn schema(&self) -> Result<Arc<crate::Schema>> {
        Ok(self.shared.writer.schema()?)
    }

    /// Transacts transaction data: a [`crate::TxData`] or [`crate::Entity`]
    /// built from Rust values, an EDN vector of forms, or EDN text
    /// ([`IntoTxData`]). All or nothing: on an error nothing is written.
    ///
    /// ```
    /// use factlite::{Entity, Store};
    /// let store = Store::open_in_memory()?;
    /// store.transact(r#"[{:db/ident :person/name :db/valueType :db.type/string
    ///                     :db/cardinality :db.cardinality/one}]"#)?;
    /// let name = "O'Brien \"Bo\"";
    /// let report = store.transact(Entity::new().tempid("bo").set(":person/name", name))?;
    /// assert!(report.tempids.contains_key("bo"));
    /// # Ok::<(), factlite::Error>(())
    /// ```
    pub fn transact<'d>(&self, tx_data: impl IntoTxData<'d>) -> Result<TxReport> {
        let forms = crate::tx_data::tx_forms(tx_data.into_tx_data()?)?;
        Ok(self.with_writer(|views, writer| views.transact(writer, forms))?)
    }

    /// Runs `read` on the database as `tx_data` would leave it, given the
    /// transaction's report, and commits nothing (Datomic's `with`): how a
    /// program validates or previews a change. Queries, pulls and index
    /// ranges of the [`Db`] read the speculative state; every check of a
    /// transaction runs, so one that would fail fails here with its error.
    /// Views, subscribers and listeners hear nothing of it. The store's
    /// write lock is held while `read` runs, so keep it short.
    ///
    /// ```
    /// use factlite::{Entity, QueryResultExt, Store};
    /// let store = Store::open_in_memory()?;
    /// store.transact(r#"[{:db/ident :p/name :db/valueType :db.type/string
    ///                     :db/cardinality :db.cardinality/one}]"#)?;
    /// let count = "[:find (count ?e) . :where [?e :p/name]]";
    /// let would_be = store.with(Entity::new().set(":p/name", "Ann"), |db, report| {
    ///     assert_eq!(report.datoms.len(), 2); // the name and the transaction's instant
    ///     db.q_str(count, ())?.scalar::<i64>()
    /// })?;
    /// assert_eq!(would_be, Some(1));
    /// assert_eq!(store.db()?.q_str(count, ())?.scalar::<i64>()?, None); // nothing committed
    /// # Ok::<(), factlite::Error>(())
    /// ```
    pub fn with<'d, R>(
        &self,
        tx_data: impl IntoTxData<'d>,
        read: impl FnOnce(&Db, &TxReport) -> Result<R>,
    ) -> Result<R> {
        let forms = crate::tx_data::tx_forms(tx_data.into_tx_data()?)?;
        let mut outcome = None;
        self.shared.writer.speculate(forms, |db, report| {
            let db = Db {
                db: db.clone(),
                shared: self.shared.clone(),
                from_views: false,
            };
            outcome = Some(read(&db, report));
            Ok(())
        })?;
        // `speculate` calls `read` whenever it returns `Ok`.
        outcome.unwrap_or(Err(crate::Error::AlreadyInTransaction))
    }

    /// Transacts transaction data written as EDN text.
    pub fn transact_str(&self, tx_data: &str) -> Result<TxReport> {
        self.transact(tx_data)
    }

    /// Transacts a transaction of a dump where the dump recorded it: with
    /// the transaction id and instant `replay` gives (the next ones when
    /// `None`), naming entity ids the store has not allocated yet (its
    /// partitions move past them). A history dump replayed this way into
    /// an empty store gives it the same datoms, with the same ids,
    /// transactions and instants. Every check of a transaction still runs;
    /// an id already taken or an instant before the newest is refused.
    pub fn replay<'d>(
        &self,
        tx_data: impl IntoTxData<'d>,
        replay: crate::Replay,
    ) -> Result<TxReport> {
        let forms = crate::tx_data::tx_forms(tx_data.into_tx_data()?)?;
        Ok(self.with_writer(|views, writer| views.replay(writer, forms, &replay))?)
    }

    /// Applies records of a replicated log, each with its position, in one
    /// SQLite transaction, through the same path as a local write (views
    /// kept, subscribers and listeners told after the commit). Records at
    /// or below the stored position are skipped; see [`crate::replication`].
    pub fn apply_log_records(
        &self,
        records: Vec<(u64, crate::replication::LogRecord)>,
    ) -> Result<Vec<TxReport>> {
        Ok(self.with_writer(|views, writer| views.apply_log_records(writer, records))?)
    }

    /// Transacts through a replicated log: resolved and applied (views
    /// kept) inside the SQLite transaction, whose record `publish` appends
    /// to the log before the commit; see [`crate::replication`]. A reason
    /// from `publish` rolls everything back ([`crate::Error::Unpublished`]).
    pub fn transact_through_log<'d>(
        &self,
        tx_data: impl IntoTxData<'d>,
        record_id: [u8; 16],
        publish: &mut dyn FnMut(
            &crate::replication::Outgoing<'_>,
        ) -> std::result::Result<u64, String>,
    ) -> Result<TxReport> {
        let forms = crate::tx_data::tx_forms(tx_data.into_tx_data()?)?;
        Ok(self.with_writer(|views, writer| {
            views.transact_through_log(writer, forms, record_id, publish)
        })?)
    }

    /// The replicated log this store follows, if any.
    pub fn replication_state(&self) -> Result<Option<crate::replication::ReplicationState>> {
        Ok(self.shared.writer.replication_state()?)
    }

    /// The instant of the store's bootstrap transaction, which the genesis
    /// record of a log it starts carries.
    pub fn bootstrap_instant(&self) -> Result<i64> {
        Ok(self.shared.writer.bootstrap_instant()?)
    }

    /// Takes `count` entity ids of the user partition that no transaction
    /// will allocate, for entities a later transaction names by id (an
    /// import's tempid used before its entity is defined).
    pub fn reserve_entity_ids(&self, count: usize) -> Result<std::ops::Range<Entid>> {
        Ok(self.with_writer(|_, writer| writer.reserve_entity_ids(count))?)
    }

    /// Copies the whole database — datoms, log, views — into a file
    /// (replaced if it exists) with SQLite's online backup API.
    pub fn backup_to(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        Ok(self.shared.writer.backup_to(path.as_ref())?)
    }

    /// Materializes a query as the view `name`: its result becomes the
    /// SQLite table `"view_<name>"`, kept up to date by every later
    /// transaction inside that transaction. `inputs` are the query's
    /// inputs after `$`, rule sets only. The definition is stored as data
    /// (`:factlite.view/*`), so the view survives reopening.
    pub fn materialize(&self, name: &str, query: &Value, inputs: &[Value]) -> Result<ViewInfo> {
        crate::depth::check(query, "the view's query")?;
        crate::depth::check_inputs(inputs)?;
        Ok(self.with_writer(|views, writer| views.materialize(writer, name, query, inputs))?)
    }

    /// [`Store::materialize`] on query text.
    pub fn materialize_str(&self, name: &str, query: &str, inputs: &[Value]) -> Result<ViewInfo> {
        self.materialize(name, &factlite_edn::parse(query)?, inputs)
    }

    /// Reads a view, shaped as its query's result.
    pub fn view(&self, name: &str) -> Result<QueryResult> {
        Ok(self.with_writer(|views, writer| views.read(writer, name))?)
    }

    /// Removes a view and its table.
    pub fn drop_view(&self, name: &str) -> Result<()> {
        Ok(self.with_writer(|views, writer| views.drop_view(writer, name))?)
    }

    /// Every view with its row count, reads, maintenance count and cost.
    pub fn views(&self) -> Result<Vec<ViewInfo>> {
        Ok(self.with_writer(|views, writer| views.list(writer))?)
    }

    /// Checks the file and the store's own invariants and lists what is
    /// wrong ([`VerifyReport::is_clean`] on a sound store): SQLite's
    /// `PRAGMA integrity_check`; every current datom asserted in the log at
    /// its transaction and not retracted since; every datom the log leaves
    /// asserted current; no retraction without a standing assertion before
    /// it, no assertion repeated without a retraction between; the
    /// attribute statistics equal to the datoms' counts; the full-text
    /// index equal to the full-text attributes' values; no id in use past
    /// its partition's next id; every materialized view's table equal to
    /// its query run from scratch, and every stored view definition
    /// readable. Everything is read in one read transaction on the
    /// writer's connection, so the checks see one state.
    ///
    /// ```
    /// let store = factlite::Store::open_in_memory()?;
    /// assert!(store.verify()?.is_clean());
    /// # Ok::<(), factlite::Error>(())
    /// ```
    pub fn verify(&self) -> Result<VerifyReport> {
        self.with_writer(|views, writer| {
            let db = writer.db()?;
            let _read = db.read_guard()?;
            let mut problems = writer.verify()?;
            problems.extend(views.verify(writer)?);
            Ok(VerifyReport { problems })
        })
    }

    /// The stored view definitions that do not read back (written by hand,
    /// or by an older version), each name with why: they are neither
    /// maintained nor read, never disable the other views, and
    /// [`Store::drop_view`] removes them.
    pub fn unreadable_views(&self) -> Result<Vec<(String, String)>> {
        Ok(self.with_writer(|views, writer| views.unreadable(writer))?)
    }

    /// Calls `subscriber` after each commit that changes the view with the
    /// rows added and removed (as the table holds them), inside the
    /// store's write lock: it must not call back into the store (send the
    /// change to a channel instead). A commit through this store is told
    /// on the thread that committed; one another process made on the same
    /// file, on the store's watcher thread within
    /// [`Config::watch_interval`] (or at this store's next read or write),
    /// as the net change since the rows last delivered — several commits
    /// between two looks arrive as one change, labelled with the newest
    /// transaction. Returns a key for [`Store::unsubscribe`].
    pub fn subscribe(
        &self,
        name: &str,
        subscriber: impl FnMut(&ViewChange) + Send + 'static,
    ) -> Result<u64> {
        let key =
            self.with_writer(|views, writer| views.subscribe(writer, name, Box::new(subscriber)))?;
        if let Some(interval) = self.shared.watch_interval {
            let shared = Arc::downgrade(&self.shared);
            crate::watcher::start(&self.shared.watching, interval, move || {
                let Some(shared) = shared.upgrade() else {
                    return false;
                };
                let store = Store { shared };
                store.with_writer(|views, writer| {
                    // A busy file is looked at again next time.
                    let _ = views.poll(writer);
                    views.has_subscribers()
                })
            });
        }
        Ok(key)
    }

    /// Ends a subscription; `false` when the key is unknown.
    pub fn unsubscribe(&self, key: u64) -> bool {
        self.with_writer(|views, _| views.unsubscribe(key))
    }

    /// Sets the policy by which queries run often become views by
    /// themselves (off by default; see [`AutoPolicy`]).
    pub fn set_auto_materialize(&self, policy: AutoPolicy) {
        self.with_writer(|views, _| views.set_auto_policy(policy));
    }

    /// Installs, checks or upgrades a vocabulary — a named, versioned set
    /// of attributes this program relies on — in one transaction, keeping
    /// the views in step: call it each time the program opens the store.
    /// Absent, it is installed; at the same version, nothing is written;
    /// at a lower version, it is upgraded with its [`crate::Migration`];
    /// newer or in conflict with what is installed, it is refused with an
    /// `:error/schema`. Installed vocabularies are data:
    /// `[?v :db.vocabulary/name ?n] [?v :db.vocabulary/version ?version]`.
    pub fn ensure_vocabulary(
        &self,
        vocabulary: &crate::Vocabulary,
    ) -> Result<crate::VocabularyOutcome> {
        Ok(self.with_writer(|views, writer| views.ensure_vocabulary(writer, &vocabulary.0))?)
    }

    /// A migration step for [`Store::ensure_vocabulary`] that reads the
    /// store through the façade: `step` gets the snapshot before the
    /// upgrade (inside the upgrade's transaction) and the installed version,
    /// and returns the transaction data to add to the upgrade.
    pub fn migration_step(
        &self,
        step: impl Fn(&Db, i64) -> std::result::Result<Value, crate::MigrationError> + 'static,
    ) -> crate::Migration {
        let shared = self.shared.clone();
        crate::Migration(factlite_store::Migration::Step(Box::new(
            move |db, from| {
                let db = Db {
                    db: db.clone(),
                    shared: shared.clone(),
                    from_views: false,
                };
                let tx_data = step(&db, from)?;
                Ok(crate::depth::checked(
                    tx_data,
                    "the migration step's transaction data",
                )?)
            },
        )))
    }

    /// Installs named rules (an EDN rule set, as `%` takes): a query that
    /// calls a rule its `%` does not define finds it among the installed
    /// ones. The definitions of each name replace those installed under it;
    /// the rules are checked with the others installed (arity, undefined
    /// calls, stratification). Installed rules are data in the store (the
    /// vocabulary `:factlite/rules`), written by an ordinary transaction, so
    /// they persist in a file and a snapshot sees those of its basis.
    ///
    /// ```
    /// use factlite::{edn, Store};
    ///
    /// let store = Store::open_in_memory()?;
    /// store.transact_str(r#"[{:db/ident :node/next :db/valueType :db.type/ref
    ///                        :db/cardinality :db.cardinality/one}
    ///                       {:db/ident :node/name :db/valueType :db.type/string
    ///                        :db/cardinality :db.cardinality/one}]"#)?;
    /// store.transact_str(r#"[{:db/id "a" :node/name "a" :node/next "b"}
    ///                       {:db/id "b" :node/name "b" :node/next "c"}
    ///                       {:db/id "c" :node/name "c"}]"#)?;
    /// store.install_rules_str("[[(after ?x ?y) [?x :node/next ?y]]
    ///                           [(after ?x ?y) [?x :node/next ?m] (after ?m ?y)]]")?;
    /// let names = store.db()?.q_str(
    ///     r#"[:find [?n ...] :where [?a :node/name "a"] (after ?a ?b) [?b :node/name ?n]]"#,
    ///     &[],
    /// )?;
    /// assert_eq!(names, edn::parse(r#"#{"b" "c"}"#)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn install_rules(&self, rules: &Value) -> Result<TxReport> {
        crate::depth::check(rules, "the rule set")?;
        self.ensure_vocabulary(&crate::Vocabulary(factlite_store::rules_vocabulary()?))?;
        let tx_data = self.shared.writer.db()?.install_rules_tx(rules)?;
        self.transact(&tx_data)
    }

    /// [`Store::install_rules`] on EDN text.
    pub fn install_rules_str(&self, rules: &str) -> Result<TxReport> {
        self.install_rules(&factlite_edn::parse(rules)?)
    }

    /// Removes installed rules by name (a name not installed is an error);
    /// refused while another installed rule calls one of them.
    pub fn remove_rules(&self, names: &[&str]) -> Result<TxReport> {
        let tx_data = self.shared.writer.db()?.remove_rules_tx(names)?;
        self.transact(&tx_data)
    }

    /// The installed rules, as one rule set (a vector of rules, by name).
    pub fn rules(&self) -> Result<Value> {
        let installed = self.db()?.db.installed_rules()?;
        let all: Vec<factlite_query::Rule> = installed.into_values().flatten().collect();
        Ok(factlite_query::rules_to_edn(&all))
    }

    /// The installed rules whose stored definitions do not read back
    /// (written by hand, or by an older version), each name with why: they
    /// are left out of [`Store::rules`] and of every query, and
    /// [`Store::remove_rules`] removes them by name.
    pub fn unreadable_rules(&self) -> Result<Vec<(String, String)>> {
        Ok(self.db()?.db.installed_rules_all()?.unreadable)
    }

    /// Registers a function written in Rust that queries call by `name`, a
    /// symbol with a namespace of the program's own (`my/score`): as a
    /// function (`[(my/score ?a ?b) ?s]`) or, returning `bool`, as a
    /// predicate (`[(my/close? ?a ?b)]`). Its arguments convert from values
    /// as [`FromValue`](crate::FromValue) does and its result as
    /// [`ToValue`](crate::ToValue) does; it runs inside SQLite on every
    /// connection of the store, so a query calling it is still one
    /// statement. A panic inside it fails the query with an error naming
    /// it; a name registered already is refused.
    ///
    /// ```
    /// use factlite::{QueryResultExt, Store};
    /// let store = Store::open_in_memory()?;
    /// store.transact(r#"[{:db/ident :p/x :db/valueType :db.type/long
    ///                     :db/cardinality :db.cardinality/many} {:p/x [3 4]}]"#)?;
    /// store.register_function("geo/hypot", |a: i64, b: i64| ((a * a + b * b) as f64).sqrt())?;
    /// let d = store.db()?.q_str(
    ///     "[:find ?d . :where [_ :p/x 3] [(ground 4) ?y] [(geo/hypot 3 ?y) ?d]]", ())?;
    /// assert_eq!(d.scalar::<f64>()?, Some(5.0));
    /// # Ok::<(), factlite::Error>(())
    /// ```
    pub fn register_function<Args, F: crate::Function<Args>>(
        &self,
        name: &str,
        function: F,
    ) -> Result<()> {
        let body: factlite_store::FunctionBody = Arc::new(move |args| function.call(args));
        self.shared
            .writer
            .register_function(name, F::ARITY, F::result_type(), body)?;
        for reader in self.shared.readers.lock().iter() {
            reader.install_registered_functions()?;
        }
        Ok(())
    }

    /// Registers a transaction function: `[:bank/transfer from to amount]`
    /// in transaction data calls `function` with the database as it is
    /// inside the write transaction, before this transaction, and the
    /// call's arguments; the transaction data it returns (which may call
    /// transaction functions again, 16 deep at most) is expanded in its
    /// place, in the same transaction. So a read-modify-write needs no lock
    /// of its own: no other write can come between the read and the write.
    /// An error or a panic fails the transaction with `:error/constraint`,
    /// naming the function. The function runs inside the store's write
    /// lock: it reads the database it is given and must not call back into
    /// the store.
    ///
    /// ```
    /// use factlite::{Error, LookupRef, QueryResultExt, Store, TxData, Value};
    /// let store = Store::open_in_memory()?;
    /// store.transact(r#"[{:db/ident :acct/id :db/valueType :db.type/string
    ///                     :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
    ///                    {:db/ident :acct/balance :db/valueType :db.type/long
    ///                     :db/cardinality :db.cardinality/one}
    ///                    {:acct/id "a" :acct/balance 100} {:acct/id "b" :acct/balance 0}]"#)?;
    /// store.register_tx_function(":bank/transfer", |db, args| {
    ///     let [Value::String(from), Value::String(to), Value::Integer(amount)] = args else {
    ///         return Err(Error::Query { message: "[:bank/transfer from to amount]".into() });
    ///     };
    ///     let balance = |id: &str| -> factlite::Result<i64> {
    ///         let query = "[:find ?b . :in $ ?id :where [?a :acct/id ?id] [?a :acct/balance ?b]]";
    ///         Ok(db.q_str(query, (id,))?.scalar::<i64>()?.unwrap_or(0))
    ///     };
    ///     let (have, other) = (balance(from)?, balance(to)?);
    ///     if have < *amount {
    ///         return Err(Error::Query { message: format!("{from} has only {have}") });
    ///     }
    ///     Ok(TxData::new()
    ///         .add(LookupRef(":acct/id", from.as_str()), ":acct/balance", have - amount)
    ///         .add(LookupRef(":acct/id", to.as_str()), ":acct/balance", other + amount))
    /// })?;
    /// store.transact(r#"[[:bank/transfer "a" "b" 30]]"#)?;
    /// let refused = store.transact(r#"[[:bank/transfer "a" "b" 500]]"#).unwrap_err();
    /// assert_eq!(refused.category(), factlite::ErrorCategory::Constraint);
    /// let b = store.db()?.q_str("[:find ?b . :where [?a :acct/id \"b\"] [?a :acct/balance ?b]]", ())?;
    /// assert_eq!(b.scalar::<i64>()?, Some(30));
    /// # Ok::<(), factlite::Error>(())
    /// ```
    pub fn register_tx_function(
        &self,
        name: impl crate::ToKeyword,
        function: impl Fn(&Db, &[Value]) -> Result<crate::TxData> + Send + Sync + 'static,
    ) -> Result<()> {
        let shared = self.shared.clone();
        let body: factlite_store::TxFunctionBody = Arc::new(move |db, args| {
            let db = Db {
                db: db.clone(),
                shared: shared.clone(),
                from_views: false,
            };
            function(&db, args)
                .and_then(|tx_data| Ok(tx_data.build()?))
                .map_err(|error| error.to_string())
        });
        Ok(self
            .shared
            .writer
            .register_tx_function(name.to_keyword(), body)?)
    }

    /// Registers an entity predicate under `name` (a namespaced symbol,
    /// `my/valid-user?`), which an entity spec names in its
    /// `:db.entity/preds`. When a transaction asserts `:db/ensure` of that
    /// spec for an entity, `predicate` gets a read-only [`Db`] of the state
    /// the transaction leaves — its datoms applied, inside the write
    /// transaction, before the commit — and the entity's id, as in
    /// Datomic. `Ok(false)`, an error or a panic fails the transaction with
    /// `:error/constraint` ([`crate::Error::Constraint`]) naming the spec and the
    /// predicate, and nothing of it is kept. The `Db` only reads, and is
    /// not answered from views (they are brought in line after the
    /// checks).
    ///
    /// ```
    /// use factlite::{QueryResultExt, Store};
    /// let store = Store::open_in_memory()?;
    /// store.register_entity_predicate("shop/in-stock?", |db, item| {
    ///     let query = "[:find ?n . :in $ ?i :where [?i :item/count ?n]]";
    ///     Ok(db.q_str(query, (item,))?.scalar::<i64>()?.unwrap_or(0) > 0)
    /// })?;
    /// store.transact(r#"[{:db/ident :item/count :db/valueType :db.type/long
    ///                     :db/cardinality :db.cardinality/one}
    ///                    {:db/ident :shop/item :db.entity/preds [shop/in-stock?]}]"#)?;
    /// store.transact(r#"[{:item/count 2 :db/ensure :shop/item}]"#)?;
    /// let refused = store.transact(r#"[{:item/count 0 :db/ensure :shop/item}]"#).unwrap_err();
    /// assert_eq!(refused.category(), factlite::ErrorCategory::Constraint);
    /// # Ok::<(), factlite::Error>(())
    /// ```
    pub fn register_entity_predicate(
        &self,
        name: &str,
        predicate: impl Fn(&Db, Entid) -> Result<bool> + Send + Sync + 'static,
    ) -> Result<()> {
        let shared = self.shared.clone();
        let body: factlite_store::EntityPredicateBody = Arc::new(move |db, entity| {
            let db = Db {
                db: db.clone(),
                shared: shared.clone(),
                from_views: false,
            };
            predicate(&db, entity).map_err(|error| error.to_string())
        });
        Ok(self.shared.writer.register_entity_predicate(name, body)?)
    }

    /// Registers an aggregate written in Rust that `:find` calls by `name`
    /// (`(my/p90 ?x)`): `aggregate` gets the values of one group (as
    /// [`FromValue`](crate::FromValue) types) and returns the group's
    /// value. It is computed over each group's values as they come from
    /// the query's one statement.
    ///
    /// ```
    /// use factlite::{QueryResultExt, Store};
    /// let store = Store::open_in_memory()?;
    /// store.transact(r#"[{:db/ident :p/x :db/valueType :db.type/long
    ///                     :db/cardinality :db.cardinality/many} {:p/x [1 2 9]}]"#)?;
    /// store.register_aggregate("stats/spread", |xs: Vec<i64>| {
    ///     xs.iter().max().zip(xs.iter().min()).map_or(0, |(max, min)| max - min)
    /// })?;
    /// let spread = store.db()?.q_str("[:find (stats/spread ?x) . :where [_ :p/x ?x]]", ())?;
    /// assert_eq!(spread.scalar::<i64>()?, Some(8));
    /// # Ok::<(), factlite::Error>(())
    /// ```
    pub fn register_aggregate<T, R>(
        &self,
        name: &str,
        aggregate: impl Fn(Vec<T>) -> R + Send + Sync + 'static,
    ) -> Result<()>
    where
        T: crate::FromValue,
        R: crate::ToValue + crate::ResultType,
    {
        let body: factlite_store::FunctionBody = Arc::new(move |values: &[Value]| {
            let values = values
                .iter()
                .enumerate()
                .map(|(i, value)| {
                    T::from_value(value).map_err(|error| format!("value {}: {error}", i + 1))
                })
                .collect::<std::result::Result<Vec<T>, String>>()?;
            aggregate(values)
                .to_value()
                .map_err(|error| format!("the result: {error}"))
        });
        Ok(self
            .shared
            .writer
            .register_aggregate(name, R::value_type(), body)?)
    }

    /// A snapshot of the current state: the newest committed transaction
    /// is its basis, and it keeps that meaning whichever thread reads it and
    /// whatever is committed later.
    pub fn db(&self) -> Result<Db> {
        Ok(Db {
            db: self.reader()?.db()?.with_limits(self.shared.limits),
            shared: self.shared.clone(),
            from_views: true,
        })
    }

    /// How the cache of compiled plans has done so far (see
    /// [`PreparedQuery`]).
    pub fn plan_cache_stats(&self) -> PlanCacheStats {
        self.shared.plans.lock().stats()
    }
}

/// Stops the statements running on a store's connections, from any thread
/// (see [`Store::cancel_handle`]). It does not keep the store open.
#[derive(Clone)]
pub struct CancelHandle {
    shared: Weak<Shared>,
}

impl CancelHandle {
    /// Interrupts every statement running on the store now; `false` when
    /// the store is closed.
    pub fn cancel(&self) -> bool {
        let Some(shared) = self.shared.upgrade() else {
            return false;
        };
        for handle in shared.interrupts.lock().iter() {
            handle.interrupt();
        }
        true
    }
}

/// An immutable snapshot to query: `Send + Sync`, readable from any thread.
/// It reads through one connection of its store (its clones and the
/// snapshots made from it share that connection, one thread at a time):
/// for reads in parallel, give each thread a snapshot of its own
/// ([`Store::db`], or [`Db::as_of`] with the same basis).
#[derive(Clone)]
pub struct Db {
    db: factlite_store::Db,
    shared: Arc<Shared>,
    /// Whether a query may be answered from a materialized view (a
    /// snapshot of the current state taken from the store).
    from_views: bool,
}

impl Db {
    pub(crate) fn inner(&self) -> &factlite_store::Db {
        &self.db
    }

    pub(crate) fn plans(&self) -> &Mutex<PlanCache> {
        &self.shared.plans
    }

    /// The schema: every attribute with its ident, type, cardinality and
    /// flags (the current one: attributes are never removed while in use,
    /// so it describes every past datom too).
    pub fn schema(&self) -> Result<Arc<crate::Schema>> {
        Ok(self.db.schema()?)
    }

    /// The entity an ident names.
    pub fn entid(&self, ident: &crate::Keyword) -> Result<Option<Entid>> {
        Ok(self.db.entid(ident)?)
    }

    /// The ident of an entity, if it has one.
    pub fn ident(&self, entity: Entid) -> Result<Option<crate::Keyword>> {
        Ok(self.db.ident(entity)?)
    }

    /// Runs `read` with the SQLite connection this snapshot reads through,
    /// locked for this thread meanwhile: for reading the view tables (or
    /// the datoms) with SQL of your own. Write only through the store: a
    /// write on this connection bypasses the transactor and the views.
    pub fn with_connection<R>(&self, read: impl FnOnce(&rusqlite::Connection) -> R) -> R {
        read(&self.db.store().connection())
    }

    /// The datoms of the transactions `from..=to` that this snapshot sees,
    /// in log order.
    pub fn tx_range(&self, from: Entid, to: Entid) -> Result<Vec<crate::Datom>> {
        Ok(self.db.tx_range(from, to)?)
    }

    /// The newest transaction the snapshot includes.
    pub fn basis_tx(&self) -> Entid {
        self.db.basis_tx()
    }

    /// The database as it was right after transaction `tx`.
    pub fn as_of(&self, tx: Entid) -> Db {
        self.derived(self.db.as_of(tx))
    }

    /// Only the datoms asserted after transaction `tx`.
    pub fn since(&self, tx: Entid) -> Db {
        self.derived(self.db.since(tx))
    }

    /// Every assertion and retraction.
    pub fn history(&self) -> Db {
        self.derived(self.db.history())
    }

    /// This snapshot with a time limit on each of its queries (and those
    /// of the snapshots made from it), in place of
    /// [`Config::query_timeout`]; a query's own `:timeout` still wins. A
    /// query past it stops with [`crate::Error::Timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use factlite::{ErrorCategory, Store};
    ///
    /// let store = Store::open_in_memory()?;
    /// store.transact_str("[{:db/ident :n/v :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]")?;
    /// let numbers: Vec<String> = (0..200).map(|i| format!("{{:n/v {i}}}")).collect();
    /// store.transact_str(&format!("[{}]", numbers.join(" ")))?;
    /// let db = store.db()?.with_timeout(Duration::from_millis(20));
    /// let cube = "[:find ?a ?b ?c :where [_ :n/v ?a] [_ :n/v ?b] [_ :n/v ?c]]";
    /// let error = db.q_str(cube, &[]).unwrap_err();
    /// assert_eq!(error.category(), ErrorCategory::Timeout);
    /// assert!(db.q_str("[:find (count ?v) . :where [_ :n/v ?v]]", &[]).is_ok());
    /// # Ok::<(), factlite::Error>(())
    /// ```
    pub fn with_timeout(&self, timeout: std::time::Duration) -> Db {
        let limits = factlite_store::QueryLimits {
            timeout: Some(timeout),
            ..self.db.limits()
        };
        self.with_limits(limits)
    }

    /// This snapshot with another limit on the values a whole result may
    /// gather, in place of [`Config::result_limit`]. A query past it stops
    /// with [`crate::Error::Limit`].
    pub fn with_result_limit(&self, values: usize) -> Db {
        let limits = factlite_store::QueryLimits {
            max_values: Some(values),
            ..self.db.limits()
        };
        self.with_limits(limits)
    }

    /// This snapshot with another limit on the memory SQLite may take for
    /// one query, in place of [`Config::memory_limit`]. A query past it
    /// stops with [`crate::Error::MemoryLimit`].
    pub fn with_memory_limit(&self, bytes: usize) -> Db {
        let limits = factlite_store::QueryLimits {
            max_memory: Some(bytes),
            ..self.db.limits()
        };
        self.with_limits(limits)
    }

    fn with_limits(&self, limits: factlite_store::QueryLimits) -> Db {
        Db {
            db: self.db.with_limits(limits),
            shared: self.shared.clone(),
            from_views: self.from_views,
        }
    }

    /// This snapshot reading databases of its store as data sources of its
    /// queries, by input position (never answered from views).
    pub(crate) fn with_database_inputs(
        &self,
        databases: &[(usize, &factlite_store::Db)],
    ) -> Result<Db> {
        Ok(self.derived(self.db.with_database_inputs(databases)?))
    }

    /// Another view of time on the same connection, never answered from
    /// views.
    fn derived(&self, db: factlite_store::Db) -> Db {
        Db {
            db,
            shared: self.shared.clone(),
            from_views: false,
        }
    }

    /// Runs a query (an EDN vector or map) with inputs for its `:in`
    /// (after `$`), and returns the result shaped by its find spec (see
    /// [`QueryResult`]): the distinct rows of a relation, the distinct values
    /// of a collection (both in order under `:order-by`), a value for a
    /// scalar, a vector for a tuple. [`QueryResult::into_edn`] gives it as
    /// EDN: a set of tuples, a set, a value or nil, a vector or nil.
    ///
    /// The query is compiled once per input signature and its plan kept in
    /// the store's cache (see [`PreparedQuery`]), so running the same query
    /// again — with the same or other input values — only parses it.
    pub fn q(&self, query: &Value, inputs: impl Inputs) -> Result<QueryResult> {
        let prepared = PreparedQuery::new(query)?;
        let (db, inputs) = crate::inputs::query_snapshot(self, inputs)?;
        let inputs = &inputs[..];
        if db.from_views && self.shared.views_answer.load(Ordering::Acquire) {
            // Views live with the writer: read them through its connection,
            // taken before the views (the store's lock order).
            let writer = &self.shared.writer;
            let _connection = writer.connection();
            if writer.latest_tx()? == self.db.basis_tx() {
                let answer = self.shared.views.lock().answer(writer, query, inputs)?;
                if let Some(answer) = answer {
                    return Ok(answer);
                }
            }
        }
        prepared.run_values(&db, inputs)
    }

    /// Runs a query from scratch, never answering from a materialized view:
    /// what a view is checked against.
    pub fn q_from_scratch(&self, query: &Value, inputs: impl Inputs) -> Result<QueryResult> {
        PreparedQuery::new(query)?.run(self, inputs)
    }

    /// [`Db::q`] on query text.
    pub fn q_str(&self, query: &str, inputs: impl Inputs) -> Result<QueryResult> {
        self.q(&factlite_edn::parse(query)?, inputs)
    }

    /// Runs a query like [`Db::q`], but hands `read` the result's items one
    /// at a time as SQLite produces them, instead of a whole `QueryResult`: a result
    /// larger than memory can be read this way. The items are the tuples of
    /// a relation, the values of a collection, or the single value or
    /// vector of a scalar or tuple; they are distinct (SQLite de-duplicates
    /// a relation, `SELECT DISTINCT`) and in order under `:order-by`. Only
    /// aggregates computed in Rust (and ordering or paging after them) make
    /// the whole result be computed before the first item.
    ///
    /// ```
    /// use factlite::{Store, Value};
    ///
    /// let store = Store::open_in_memory()?;
    /// store.transact_str(r#"[{:db/ident :person/age :db/valueType :db.type/long
    ///                        :db/cardinality :db.cardinality/one}]"#)?;
    /// store.transact_str("[{:person/age 30} {:person/age 40} {:person/age 50}]")?;
    /// let db = store.db()?;
    /// let query = factlite::edn::parse("[:find ?a :where [_ :person/age ?a]]")?;
    /// let total = db.q_rows(&query, &[], |rows| -> factlite::Result<i64> {
    ///     let mut total = 0;
    ///     for row in rows {
    ///         if let Value::Vector(tuple) = &row? {
    ///             if let Some(Value::Integer(age)) = tuple.first() {
    ///                 total += age;
    ///             }
    ///         }
    ///     }
    ///     Ok(total)
    /// })??;
    /// assert_eq!(total, 120);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn q_rows<R>(
        &self,
        query: &Value,
        inputs: impl Inputs,
        read: impl FnOnce(&mut Rows<'_, '_>) -> R,
    ) -> Result<R> {
        PreparedQuery::new(query)?.rows(self, inputs, read)
    }

    /// Parses query text once for running many times with different inputs
    /// ([`PreparedQuery::run`]).
    pub fn prepare(&self, query: &str) -> Result<PreparedQuery> {
        PreparedQuery::new(&factlite_edn::parse(query)?)
    }

    /// The SQL a query compiles to, its parameters and SQLite's query plan,
    /// without running it.
    pub fn explain(&self, query: &Value, inputs: &[Value]) -> Result<crate::Explanation> {
        crate::depth::check(query, "the query")?;
        crate::depth::check_inputs(inputs)?;
        crate::query::explain(&self.db, query, inputs)
    }

    /// The datoms of an index (EAVT, AEVT, AVET, VAET) whose leading
    /// components equal `prefix`, streamed in index order by
    /// [`crate::Datoms::iter`]. The range reads this snapshot in one read
    /// transaction: drop it before transacting through the same store.
    pub fn datoms(
        &self,
        index: crate::IndexName,
        prefix: &[crate::TypedValue],
    ) -> Result<crate::Datoms<'_>> {
        Ok(crate::Datoms(self.db.datoms(index, prefix)?))
    }

    /// One entity of this snapshot to navigate attribute by attribute
    /// (Datomic's `d/entity`), given as an id, a lookup ref or an ident;
    /// see [`crate::EntityView`].
    pub fn entity(&self, entity: impl crate::ToValue) -> Result<crate::EntityView> {
        let entity = crate::depth::checked(entity.to_value()?, "the entity")?;
        let id = self.db.resolve_entity(&entity)?;
        Ok(crate::EntityView::new(self.clone(), id))
    }

    /// The datoms of an index from the position `start` on (its leading
    /// components in the index's order), in index order, to the index's
    /// end: Datomic's `seek-datoms`.
    pub fn seek_datoms(
        &self,
        index: crate::IndexName,
        start: &[crate::TypedValue],
    ) -> Result<crate::Datoms<'_>> {
        Ok(crate::Datoms(self.db.seek_datoms(index, start)?))
    }

    /// The datoms of an indexed (`:db/index`) or unique attribute whose
    /// values lie in `range`, in value order: Datomic's `index-range`.
    ///
    /// ```
    /// use factlite::Store;
    /// let store = Store::open_in_memory()?;
    /// store.transact(r#"[{:db/ident :p/age :db/valueType :db.type/long
    ///                     :db/cardinality :db.cardinality/one :db/index true}
    ///                    {:p/age 25} {:p/age 31} {:p/age 40} {:p/age 52}]"#)?;
    /// let db = store.db()?;
    /// let mut range = db.index_range(":p/age", 30..=40)?;
    /// let ages = range
    ///     .iter()?
    ///     .map(|datom| datom.map(|d| d.v.to_edn()))
    ///     .collect::<factlite::Result<Vec<_>>>()?;
    /// assert_eq!(ages, [factlite::Value::Integer(31), factlite::Value::Integer(40)]);
    /// # Ok::<(), factlite::Error>(())
    /// ```
    pub fn index_range<V: crate::ToValue>(
        &self,
        attribute: impl crate::ToKeyword,
        range: impl std::ops::RangeBounds<V>,
    ) -> Result<crate::Datoms<'_>> {
        use std::ops::Bound;
        let keyword = attribute.to_keyword();
        let schema = self.db.schema()?;
        let Some(attribute) = schema.attribute_named(&keyword) else {
            return Err(crate::Error::UnknownAttribute {
                attribute: Value::Keyword(keyword).to_string(),
            });
        };
        if !attribute.in_avet() {
            return Err(crate::Error::Query {
                message: format!(
                    "index_range reads AVET, which holds {} only when it is :db/index true or unique",
                    Value::Keyword(keyword)
                ),
            });
        }
        let typed = |value: &V| -> Result<crate::TypedValue> {
            let value = value.to_value()?;
            attribute
                .typed_value(&value)
                .map_err(|refused| match refused {
                    factlite_core::ValueMismatch::Tuple { found, reason } => {
                        crate::Error::TupleMismatch {
                            entity: "the range's bound".to_string(),
                            attribute: Value::Keyword(attribute.ident.clone()).to_string(),
                            value: Box::new(found),
                            reason,
                        }
                    }
                    factlite_core::ValueMismatch::Type(_) => crate::Error::TypeMismatch {
                        entity: "the range's bound".to_string(),
                        attribute: Value::Keyword(attribute.ident.clone()).to_string(),
                        value: Box::new(value.clone()),
                        expected: attribute.value_type,
                    },
                })
        };
        let bound = |bound: Bound<&V>| -> Result<Bound<crate::TypedValue>> {
            Ok(match bound {
                Bound::Included(value) => Bound::Included(typed(value)?),
                Bound::Excluded(value) => Bound::Excluded(typed(value)?),
                Bound::Unbounded => Bound::Unbounded,
            })
        };
        let (start, end) = (bound(range.start_bound())?, bound(range.end_bound())?);
        Ok(crate::Datoms(self.db.index_range(
            attribute.id,
            start,
            end,
        )?))
    }

    /// Pulls a pattern for one entity: an id, a [`crate::LookupRef`]
    /// (`[:attr value]`) or an ident, as any [`crate::ToValue`].
    pub fn pull(&self, pattern: &Value, entity: impl crate::ToValue) -> Result<Value> {
        crate::depth::check(pattern, "the pull pattern")?;
        let entity = crate::depth::checked(entity.to_value()?, "the entity to pull")?;
        let pattern = factlite_query::parse_pull_pattern(pattern)?;
        Ok(self.db.pull(&pattern, &entity)?)
    }

    /// [`Db::pull`] with the pattern written as EDN text.
    ///
    /// ```
    /// use factlite::{LookupRef, Store};
    /// let store = Store::open_in_memory()?;
    /// store.transact(r#"[{:db/ident :person/name :db/valueType :db.type/string
    ///                     :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
    ///                    {:person/name "Ann"}]"#)?;
    /// let ann = store.db()?.pull_str("[:person/name]", LookupRef(":person/name", "Ann"))?;
    /// assert_eq!(ann, factlite::edn::parse(r#"{:person/name "Ann"}"#)?);
    /// # Ok::<(), factlite::Error>(())
    /// ```
    pub fn pull_str(&self, pattern: &str, entity: impl crate::ToValue) -> Result<Value> {
        self.pull(&factlite_edn::parse(pattern)?, entity)
    }
}

/// Gives a file store's connection its memory map ([`Config::mmap_size`]).
fn map_memory(store: &factlite_store::Store, bytes: u64) -> Result<()> {
    let size = i64::try_from(bytes).unwrap_or(i64::MAX);
    let connection = store.connection();
    connection
        .pragma_update(None, "mmap_size", size)
        .map_err(factlite_store::Error::from)?;
    Ok(())
}
