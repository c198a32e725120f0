//! Materialized queries: a query's result kept as an ordinary SQLite table
//! in the store's file, and updated from each transaction's delta inside
//! the same SQLite transaction that appends the datoms.
//!
//! [`Views`] is the registry of one connection's views. Every write goes
//! through [`Views::transact`] (or [`Views::ensure_vocabulary`]), which runs
//! it with the registry as its [`WriteHook`]:
//!
//! 1. before the datoms are written, they go into the connection's
//!    temporary table `fl_delta`, and each view whose attributes they touch
//!    asks the old state what they reach (see `view`): the derivations they
//!    destroy (a view kept by counting) or the keys of the rows they can
//!    remove (a view kept by rechecking);
//! 2. after they are written, the new state gives the derivations created
//!    or the keys of rows that can appear; the table is brought in line —
//!    rows removed and added, and the same as a change event for
//!    subscribers, delivered after the commit.
//!
//! A schema change to an attribute a view reads (cardinality, uniqueness,
//! indexing) rebuilds that view in the same transaction, visibly (its
//! `rebuilds` count); a renamed attribute rewrites the view's query to the
//! new ident. An error while maintaining a view fails the transaction,
//! naming the view.
//!
//! Definitions are data: each view is an entity with `:factlite.view/name`,
//! `:factlite.view/query`, `:factlite.view/args` and
//! `:factlite.view/automatic`, so views survive reopening and show in the
//! history. The table layout is in `table`; the automatic policy in `auto`.

mod auto;
mod counting;
mod definition;
mod error;
mod external;
mod rewrite;
mod state;
mod table;
mod verify;
mod view;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use factlite_core::{bootstrap, Entid, TypedValue};
use factlite_edn::{Keyword, Value};
use factlite_planner::Plan;

use definition::Definition;
use factlite_query::TxForm;
use factlite_store::{
    Db, LogRecord, Outgoing, QueryResult, Replay, Store, TxReport, Vocabulary, VocabularyOutcome,
    WriteHook,
};
use indexmap::IndexMap;

pub use auto::AutoPolicy;
pub use error::{Error, Result};
pub use rewrite::DELTA_SOURCE;
use view::{parse_edn, rows_of, View};

/// The attributes that hold view definitions (transaction data): a
/// replicated store writes them through its log before its first view.
pub const DEFINITION_SCHEMA: &str = r#"[
 {:db/ident :factlite.view/name :db/valueType :db.type/string
  :db/cardinality :db.cardinality/one :db/unique :db.unique/identity
  :db/doc "A materialized view's name; its table is \"view_<name>\"."}
 {:db/ident :factlite.view/query :db/valueType :db.type/string
  :db/cardinality :db.cardinality/one :db/doc "The view's query, as EDN text."}
 {:db/ident :factlite.view/args :db/valueType :db.type/string
  :db/cardinality :db.cardinality/one
  :db/doc "The view's inputs after $ (rule sets), as an EDN vector."}
 {:db/ident :factlite.view/automatic :db/valueType :db.type/boolean
  :db/cardinality :db.cardinality/one
  :db/doc "Whether the view was materialized by the automatic policy."}]"#;

/// Attributes of attributes whose change alters what a view reads.
const SCHEMA_ATTRIBUTES: [Entid; 10] = [
    bootstrap::DB_IDENT,
    bootstrap::DB_VALUE_TYPE,
    bootstrap::DB_CARDINALITY,
    bootstrap::DB_UNIQUE,
    bootstrap::DB_IS_COMPONENT,
    bootstrap::DB_INDEX,
    bootstrap::DB_FULLTEXT,
    bootstrap::DB_TUPLE_TYPE,
    bootstrap::DB_TUPLE_TYPES,
    bootstrap::DB_TUPLE_ATTRS,
];

/// A view as [`Views::list`] describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewInfo {
    /// The view's name.
    pub name: String,
    /// Its query, as EDN text.
    pub query: String,
    /// Its SQLite table (quoted).
    pub table: String,
    /// The rows in the table.
    pub rows: i64,
    /// Reads of the view through this connection.
    pub hits: u64,
    /// Transactions (through this connection) that had to update it.
    pub maintained: u64,
    /// Times it was recomputed whole (schema changes, recursion).
    pub rebuilds: u64,
    /// Time spent maintaining it in those transactions.
    pub maintenance: Duration,
    /// Whether the automatic policy created it.
    pub automatic: bool,
}

/// The rows a transaction added to and removed from a view, as the table
/// holds them (one value per find element; pulls as entity ids).
#[derive(Clone, Debug, PartialEq)]
pub struct ViewChange {
    /// The view.
    pub view: String,
    /// The transaction.
    pub tx: Entid,
    /// Rows that appeared.
    pub added: Vec<Vec<Value>>,
    /// Rows that went.
    pub removed: Vec<Vec<Value>>,
}

/// A callback for a view's changes.
pub type Subscriber = Box<dyn FnMut(&ViewChange) + Send>;

/// The materialized views of one store connection.
pub struct Views {
    views: IndexMap<String, View>,
    /// Stored definitions that do not read back (written by hand, or by an
    /// older version): name and why. They are neither maintained nor read,
    /// never disable the other views, and `drop_view` removes them.
    unreadable: IndexMap<String, String>,
    /// The newest transaction whose definitions are loaded.
    seen_tx: Entid,
    /// Changes of the transaction in progress, for subscribers.
    pending: Vec<ViewChange>,
    subscribers: Vec<(u64, String, Subscriber)>,
    next_subscriber: u64,
    /// The rows last delivered of each view with subscribers, for commits
    /// of other processes (see `external`).
    watched: external::Watched,
    /// The error behind a failed hook, returned instead of the store's.
    failure: Option<Error>,
    /// View to drop in the transaction in progress.
    dropping: Option<String>,
    /// Views whose query the transaction in progress rewrote (an attribute
    /// they read was renamed): name, query and inputs, recorded after the
    /// commit.
    redefined: Vec<(String, String, String)>,
    /// Views this write installed or dropped from definitions it carried
    /// (written elsewhere: another node of a replicated log): the registry
    /// is read again if the write fails.
    adopted: bool,
    /// The clock of `Stats::last_used`.
    uses: u64,
    auto: auto::Tracker,
}

impl Views {
    /// Loads the views defined in a store.
    pub fn load(store: &Store) -> Result<Views> {
        // The connection's own table of the transaction's datoms, for the
        // delta queries; TEMP tables are never written to the file.
        store.connection().execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS fl_delta \
             (e INTEGER, a INTEGER, v, t INTEGER, tx INTEGER, avet INTEGER, added INTEGER)",
        )?;
        let mut views = Views {
            views: IndexMap::new(),
            unreadable: IndexMap::new(),
            seen_tx: store.latest_tx()?,
            pending: Vec::new(),
            subscribers: Vec::new(),
            next_subscriber: 0,
            watched: external::Watched::default(),
            failure: None,
            dropping: None,
            redefined: Vec::new(),
            adopted: false,
            uses: 0,
            auto: auto::Tracker::default(),
        };
        views.reload(store)?;
        Ok(views)
    }

    /// Re-reads the definitions (another connection may have changed
    /// them), keeping this connection's counters.
    fn reload(&mut self, store: &Store) -> Result<()> {
        let db = store.db()?;
        let mut loaded = IndexMap::new();
        let mut unreadable = IndexMap::new();
        if db.schema()?.attribute_named(&name_attribute()).is_some() {
            let query = factlite_query::parse_query(&parse_edn(
                "[:find ?n ?q ?a ?auto :where [?v :factlite.view/name ?n] \
                 [?v :factlite.view/query ?q] [?v :factlite.view/args ?a] \
                 [(get-else $ ?v :factlite.view/automatic false) ?auto]]",
            )?)
            .map_err(|e| Error::Parse(e.to_string()))?;
            for row in rows_of(db.query(&query, &[])?) {
                let [Value::String(name), Value::String(query_text), Value::String(args), Value::Boolean(automatic)] =
                    row.as_slice()
                else {
                    continue;
                };
                let read =
                    check_name(name).and_then(|()| View::new(name, query_text, args, *automatic));
                let mut view = match read {
                    Ok(view) => view,
                    Err(error) => {
                        unreadable.insert(name.clone(), error.to_string());
                        continue;
                    }
                };
                if let Some(old) = self.views.swap_remove(name) {
                    view.stats = old.stats;
                }
                loaded.insert(name.clone(), view);
            }
        }
        self.views = loaded;
        self.unreadable = unreadable;
        self.seen_tx = db.basis_tx();
        Ok(())
    }

    /// Catches up with commits another connection made (another process
    /// on the same file): the definitions are read again, and the
    /// subscribers of the views they changed hear of it.
    fn refresh(&mut self, store: &Store) -> Result<()> {
        let latest = store.latest_tx()?;
        if latest != self.seen_tx {
            self.reload(store)?;
            self.deliver_external(store, latest)?;
        }
        Ok(())
    }

    /// Delivers to the subscribers of each watched view the difference
    /// between its table now and the rows last delivered, as of `latest`;
    /// a view another process dropped loses its subscribers.
    fn deliver_external(&mut self, store: &Store, latest: Entid) -> Result<()> {
        for name in self.watched.views() {
            let Some(view) = self.views.get(&name) else {
                self.watched.forget(&name);
                self.subscribers.retain(|(_, view, _)| *view != name);
                continue;
            };
            let now = view.table.rows(&store.connection())?;
            if let Some(change) = self.watched.change_to(&name, now, latest) {
                self.pending.push(change);
            }
        }
        self.deliver();
        Ok(())
    }

    /// Checks for commits another process made on the file and tells the
    /// subscribers of the views they changed (see [`Views::subscribe`]).
    pub fn poll(&mut self, store: &Store) -> Result<()> {
        self.refresh(store)
    }

    /// Transacts parsed forms, keeping every view in step.
    pub fn transact<'f>(
        &mut self,
        store: &Store,
        forms: impl Into<Cow<'f, [TxForm]>>,
    ) -> Result<TxReport> {
        self.write(store, |views| store.transact_with(forms, views))
    }

    /// Replays a transaction of a dump (see `Store::replay_with`), keeping
    /// every view in step.
    pub fn replay<'f>(
        &mut self,
        store: &Store,
        forms: impl Into<Cow<'f, [TxForm]>>,
        replay: &Replay,
    ) -> Result<TxReport> {
        self.write(store, |views| store.replay_with(forms, replay, views))
    }

    /// Applies records of a replicated log (see `Store::apply_log_records`),
    /// keeping every view in step as a local write does.
    pub fn apply_log_records(
        &mut self,
        store: &Store,
        records: Vec<(u64, LogRecord)>,
    ) -> Result<Vec<TxReport>> {
        self.write(store, |views| store.apply_log_records(records, views))
    }

    /// Transacts parsed forms through a replicated log (see
    /// `Store::transact_through_log`), keeping every view in step.
    pub fn transact_through_log<'f>(
        &mut self,
        store: &Store,
        forms: impl Into<Cow<'f, [TxForm]>>,
        record_id: [u8; 16],
        publish: &mut dyn FnMut(&Outgoing<'_>) -> std::result::Result<u64, String>,
    ) -> Result<TxReport> {
        self.write(store, |views| {
            store.transact_through_log(forms, views, record_id, publish)
        })
    }

    /// Ensures a vocabulary (see `Store::ensure_vocabulary`), keeping every
    /// view in step when it writes.
    pub fn ensure_vocabulary(
        &mut self,
        store: &Store,
        vocabulary: &Vocabulary,
    ) -> Result<VocabularyOutcome> {
        self.write(store, |views| {
            store.ensure_vocabulary_with(vocabulary, views)
        })
    }

    /// Runs a write with the registry as its hook, then delivers the
    /// changes to subscribers (or, when it failed, forgets them).
    fn write<T>(
        &mut self,
        store: &Store,
        run: impl FnOnce(&mut Views) -> factlite_store::Result<T>,
    ) -> Result<T> {
        self.refresh(store)?;
        self.failure = None;
        self.pending.clear();
        self.adopted = false;
        let result = run(self);
        let redefined = std::mem::take(&mut self.redefined);
        if result.is_err() && std::mem::take(&mut self.adopted) {
            // The definitions it adopted went back with the transaction.
            self.reload(store)?;
        }
        let outcome = match result {
            Ok(written) => {
                self.seen_tx = store.latest_tx()?;
                self.finish_dropping();
                self.deliver();
                Ok(written)
            }
            Err(error) => {
                self.pending.clear();
                self.views.retain(|_, v| !v.installing);
                Err(self.failure.take().unwrap_or(Error::Store(error)))
            }
        };
        self.dropping = None;
        for view in self.views.values_mut() {
            view.reset();
        }
        if !redefined.is_empty() {
            match outcome {
                Ok(_) => self.record_definitions(store, redefined)?,
                // The views went back with the transaction.
                Err(_) => self.reload(store)?,
            }
        }
        outcome
    }

    /// Records rewritten queries of views as their definitions.
    fn record_definitions(
        &mut self,
        store: &Store,
        definitions: Vec<(String, String, String)>,
    ) -> Result<()> {
        let entities = definitions
            .into_iter()
            .map(|(name, query, args)| {
                Value::Map(
                    [
                        ("factlite.view/name", name),
                        ("factlite.view/query", query),
                        ("factlite.view/args", args),
                    ]
                    .into_iter()
                    .map(|(k, v)| (Value::Keyword(kw(k)), Value::String(v)))
                    .collect(),
                )
            })
            .collect();
        self.transact(store, &parse_tx(&Value::Vector(entities))?)
            .map(|_| ())
    }

    /// A renamed attribute keeps its views: their queries are rewritten to
    /// the new ident and rebuilt in the renaming transaction.
    fn follow_renames(
        &mut self,
        report: &TxReport,
        schema: &factlite_core::Schema,
    ) -> Result<(), (String, Error)> {
        let mut old_names: HashMap<Entid, Keyword> = HashMap::new();
        let mut new_names: HashMap<Entid, Keyword> = HashMap::new();
        for datom in report.datoms.iter().filter(|d| d.a == bootstrap::DB_IDENT) {
            if let TypedValue::Keyword(ident) = &datom.v {
                let names = if datom.added {
                    &mut new_names
                } else {
                    &mut old_names
                };
                names.insert(datom.e, (**ident).clone());
            }
        }
        let renames: HashMap<Keyword, Keyword> = old_names
            .into_iter()
            .filter(|(e, _)| schema.attribute(*e).is_some())
            .filter_map(|(e, old)| new_names.get(&e).map(|new| (old, new.clone())))
            .collect();
        if renames.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = self.views.keys().cloned().collect();
        for name in names {
            let Some(view) = self.views.get(&name) else {
                continue;
            };
            let reads_renamed = view
                .definition
                .attributes
                .as_ref()
                .is_none_or(|read| read.iter().any(|a| renames.contains_key(a)));
            if !reads_renamed || view.installing {
                continue;
            }
            let rewrite = |text: &str| -> Result<String> {
                Ok(rename_keywords(parse_edn(text)?, &renames).to_string())
            };
            let fail = |e: Error| (name.clone(), e);
            let query = rewrite(&view.query_text).map_err(fail)?;
            let args = rewrite(&view.args).map_err(fail)?;
            let mut renewed = View::new(&name, &query, &args, view.automatic).map_err(fail)?;
            renewed.stats = view.stats.clone();
            renewed.rebuild = true;
            self.redefined.push((name.clone(), query, args));
            self.views.insert(name, renewed);
        }
        Ok(())
    }

    fn finish_dropping(&mut self) {
        if let Some(name) = self.dropping.take() {
            self.views.shift_remove(&name);
            self.unreadable.shift_remove(&name);
            self.subscribers.retain(|(_, view, _)| *view != name);
            self.watched.forget(&name);
        }
    }

    fn deliver(&mut self) {
        for change in self.pending.drain(..) {
            self.watched.apply(&change);
            for (_, view, subscriber) in self.subscribers.iter_mut() {
                if *view == change.view {
                    subscriber(&change);
                }
            }
        }
    }

    /// Materializes `query` (with `inputs`, rule sets only, for its `:in`
    /// after `$`) as the view `name`, in one transaction that records the
    /// definition and fills the table.
    pub fn materialize(
        &mut self,
        store: &Store,
        name: &str,
        query: &Value,
        inputs: &[Value],
    ) -> Result<ViewInfo> {
        self.materialize_as(store, name, query, inputs, false)
    }

    fn materialize_as(
        &mut self,
        store: &Store,
        name: &str,
        query: &Value,
        inputs: &[Value],
        automatic: bool,
    ) -> Result<ViewInfo> {
        check_name(name)?;
        self.refresh(store)?;
        // SQLite tells table names apart without regard to ASCII case, so
        // view names are too ("ok" and "OK" would share a table).
        if let Some(taken) = self
            .views
            .keys()
            .chain(self.unreadable.keys())
            .find(|taken| taken.eq_ignore_ascii_case(name))
        {
            return Err(Error::Exists(taken.to_string()));
        }
        let args = Value::Vector(inputs.to_vec()).to_string();
        let mut view = View::new(name, &query.to_string(), &args, automatic)?;
        // Plan it now, so a query that cannot run fails before anything is
        // written.
        store
            .db()?
            .plan(&view.definition.materialized, &view.definition.inputs)?;
        self.ensure_schema(store)?;
        view.installing = true;
        self.views.insert(name.to_string(), view);
        let mut entity = vec![
            (kw("factlite.view/name"), Value::String(name.to_string())),
            (kw("factlite.view/query"), Value::String(query.to_string())),
            (kw("factlite.view/args"), Value::String(args)),
        ];
        if automatic {
            entity.push((kw("factlite.view/automatic"), Value::Boolean(true)));
        }
        let tx = Value::Vector(vec![Value::Map(
            entity
                .into_iter()
                .map(|(k, v)| (Value::Keyword(k), v))
                .collect(),
        )]);
        self.transact(store, &parse_tx(&tx)?)?;
        self.info(store, name)
    }

    /// Installs the attributes that hold definitions, once.
    fn ensure_schema(&mut self, store: &Store) -> Result<()> {
        if store.schema()?.attribute_named(&name_attribute()).is_none() {
            self.transact(store, &parse_tx(&parse_edn(DEFINITION_SCHEMA)?)?)?;
        }
        Ok(())
    }

    /// Removes a view: its definition is retracted and its table dropped in
    /// one transaction.
    pub fn drop_view(&mut self, store: &Store, name: &str) -> Result<()> {
        self.refresh(store)?;
        if !self.views.contains_key(name) && !self.unreadable.contains_key(name) {
            return Err(Error::UnknownView(name.to_string()));
        }
        self.dropping = Some(name.to_string());
        let tx = Value::Vector(vec![Value::Vector(vec![
            Value::Keyword(kw("db/retractEntity")),
            Value::Vector(vec![
                Value::Keyword(name_attribute()),
                Value::String(name.to_string()),
            ]),
        ])]);
        self.transact(store, &parse_tx(&tx)?).map(|_| ())
    }

    /// Whether a view of this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.views.contains_key(name)
    }

    /// Reads a view, shaped as the query would shape its result (find
    /// spec, `:keys`, `:order-by`, `:limit`, pulls).
    pub fn read(&mut self, store: &Store, name: &str) -> Result<QueryResult> {
        self.refresh(store)?;
        self.uses += 1;
        let uses = self.uses;
        if let Some(why) = self.unreadable.get(name) {
            return Err(Error::Corrupt(format!(
                "the definition of view {name:?} does not read back ({why}); drop it and \
                 materialize it again"
            )));
        }
        let view = self
            .views
            .get_mut(name)
            .ok_or_else(|| Error::UnknownView(name.to_string()))?;
        view.stats.hits += 1;
        view.stats.last_used = uses;
        let db = store.db()?;
        let plan = match &mut view.read_plan {
            Some(plan) => plan,
            unplanned => {
                let definition = &view.definition;
                unplanned.insert(db.plan(&definition.query, &definition.inputs)?)
            }
        };
        let rows = view.table.rows(&store.connection())?;
        shape(&db, &view.definition, plan, rows)
    }

    /// Every view, with its counters.
    pub fn list(&mut self, store: &Store) -> Result<Vec<ViewInfo>> {
        self.refresh(store)?;
        let names: Vec<String> = self.views.keys().cloned().collect();
        names.iter().map(|n| self.info(store, n)).collect()
    }

    /// The stored view definitions that do not read back, each name with
    /// why: they are not maintained, and `drop_view` removes them (a
    /// leftover table is replaced when the name is materialized again).
    pub fn unreadable(&mut self, store: &Store) -> Result<Vec<(String, String)>> {
        self.refresh(store)?;
        Ok(self
            .unreadable
            .iter()
            .map(|(name, why)| (name.clone(), why.clone()))
            .collect())
    }

    fn info(&self, store: &Store, name: &str) -> Result<ViewInfo> {
        let view = self
            .views
            .get(name)
            .ok_or_else(|| Error::UnknownView(name.to_string()))?;
        Ok(ViewInfo {
            name: name.to_string(),
            query: view.query_text.clone(),
            table: view.table.name.clone(),
            rows: view.table.count(&store.connection())?,
            hits: view.stats.hits,
            maintained: view.stats.maintained,
            rebuilds: view.stats.rebuilds,
            maintenance: view.stats.maintenance,
            automatic: view.automatic,
        })
    }

    /// Calls `subscriber` after every commit that changes the view, with
    /// the rows added and removed: a commit of this registry's store right
    /// after it, one of another process on the same file when
    /// [`Views::poll`] (or any read or write here) first sees it — as the
    /// net change since the rows last delivered. Returns a key for
    /// [`Views::unsubscribe`].
    pub fn subscribe(&mut self, store: &Store, name: &str, subscriber: Subscriber) -> Result<u64> {
        self.refresh(store)?;
        let Some(view) = self.views.get(name) else {
            return Err(Error::UnknownView(name.to_string()));
        };
        if !self.watched.contains(name) {
            self.watched
                .watch(name, view.table.rows(&store.connection())?);
        }
        let key = self.next_subscriber;
        self.next_subscriber += 1;
        self.subscribers.push((key, name.to_string(), subscriber));
        Ok(key)
    }

    /// Removes a subscription; `false` when the key is unknown.
    pub fn unsubscribe(&mut self, key: u64) -> bool {
        let before = self.subscribers.len();
        self.subscribers.retain(|(k, _, _)| *k != key);
        let watched = self.watched.views();
        for name in watched {
            if !self.subscribers.iter().any(|(_, view, _)| *view == name) {
                self.watched.forget(&name);
            }
        }
        before != self.subscribers.len()
    }

    /// Whether any view has a subscriber.
    pub fn has_subscribers(&self) -> bool {
        !self.subscribers.is_empty()
    }

    // ---- maintenance ---------------------------------------------------------

    /// Installs the views whose definitions a transaction asserts and drops
    /// those whose name it retracts, when this registry did not start that
    /// itself (`materialize`, `drop_view`): definitions written elsewhere —
    /// by another node of a replicated log — so a view defined on any node
    /// exists on every node, its table built in the same transaction.
    fn adopt_definitions(
        &mut self,
        store: &Store,
        report: &TxReport,
    ) -> Result<(), (String, Error)> {
        let fail = |e: Error| (String::new(), e);
        let schema = store.schema().map_err(|e| fail(e.into()))?;
        let Some(name_id) = schema.entid(&name_attribute()) else {
            return Ok(());
        };
        let field = |e: Entid, attribute: &str| {
            let id = schema.entid(&kw(attribute))?;
            report.datoms.iter().find_map(|d| match &d.v {
                TypedValue::String(text) if d.e == e && d.a == id && d.added => Some(text.clone()),
                _ => None,
            })
        };
        for datom in report.datoms.iter().filter(|d| d.a == name_id) {
            let TypedValue::String(name) = &datom.v else {
                continue;
            };
            if datom.added {
                if self.views.contains_key(name) || self.unreadable.contains_key(name) {
                    continue;
                }
                let (Some(query), Some(args)) = (
                    field(datom.e, "factlite.view/query"),
                    field(datom.e, "factlite.view/args"),
                ) else {
                    continue;
                };
                let automatic = schema
                    .entid(&kw("factlite.view/automatic"))
                    .is_some_and(|id| {
                        report.datoms.iter().any(|d| {
                            d.e == datom.e
                                && d.a == id
                                && d.added
                                && d.v == TypedValue::Boolean(true)
                        })
                    });
                self.adopted = true;
                // A definition that does not read back is kept as unreadable,
                // as `reload` keeps it: it disables nothing else.
                match check_name(name).and_then(|()| View::new(name, &query, &args, automatic)) {
                    Ok(mut view) => {
                        view.installing = true;
                        self.views.insert(name.clone(), view);
                    }
                    Err(error) => {
                        self.unreadable.insert(name.clone(), error.to_string());
                    }
                }
            } else if self.dropping.as_ref() != Some(name) && self.views.contains_key(name) {
                let renamed = report
                    .datoms
                    .iter()
                    .any(|d| d.e == datom.e && d.a == name_id && d.added);
                if !renamed {
                    self.dropping = Some(name.clone());
                    self.adopted = true;
                }
            }
        }
        Ok(())
    }

    fn hook_failure(&mut self, view: &str, error: Error) -> factlite_store::Error {
        let error = Error::Maintenance {
            view: view.to_string(),
            error: Box::new(error),
        };
        let converted = factlite_store::Error::Hook {
            message: error.to_string(),
            category: error.category(),
        };
        self.failure = Some(error);
        converted
    }

    fn before(&mut self, store: &Store, report: &TxReport) -> Result<(), (String, Error)> {
        let fail = |e: Error| (String::new(), e);
        let schema = store.schema().map_err(|e| fail(e.into()))?;
        fill_delta(store, report, &schema).map_err(fail)?;
        self.follow_renames(report, &schema)?;
        let attributes = attributes_of(report, &schema);
        // Attributes whose definition changed, and idents that appeared
        // or went (a plan resolves the idents a query names once).
        let mut changed_attributes: HashSet<Entid> = HashSet::new();
        let mut changed_idents: HashSet<Keyword> = HashSet::new();
        for datom in &report.datoms {
            if SCHEMA_ATTRIBUTES.contains(&datom.a) {
                changed_attributes.insert(datom.e);
            }
            if let (bootstrap::DB_IDENT, TypedValue::Keyword(ident)) = (datom.a, &datom.v) {
                changed_idents.insert((**ident).clone());
            }
        }
        let db = store.db().map_err(|e| fail(e.into()))?;
        for (name, view) in self.views.iter_mut() {
            if view.installing {
                continue;
            }
            let schema_touched = view.mentioned.iter().any(|k| changed_idents.contains(k))
                || !changed_attributes.is_empty()
                    && view.definition.attributes.as_ref().is_none_or(|read| {
                        read.iter().any(|k| {
                            schema
                                .entid(k)
                                .is_some_and(|id| changed_attributes.contains(&id))
                        })
                    });
            if schema_touched {
                view.rebuild = true;
                view.forget_plans();
            } else if !view.definition.reads_any(&attributes) {
                continue;
            } else {
                view.prepare(&db, &attributes)
                    .map_err(|e| (name.clone(), e))?;
            }
        }
        Ok(())
    }

    fn after(&mut self, db: &Db, report: &TxReport) -> Result<(), (String, Error)> {
        let conn = &*db.store().connection();
        if let Some(name) = &self.dropping {
            if let Some(view) = self.views.get(name) {
                view.drop_tables(conn).map_err(|e| (name.clone(), e))?;
            }
        }
        let schema = db.schema().map_err(|e| (String::new(), e.into()))?;
        let attributes = attributes_of(report, &schema);
        for (name, view) in self.views.iter_mut() {
            if Some(name) == self.dropping.as_ref() {
                continue;
            }
            let started = Instant::now();
            let change = view
                .maintain(db, report.tx, name, &attributes)
                .map_err(|e| (name.clone(), e))?;
            let Some(change) = change else {
                continue;
            };
            view.stats.maintained += 1;
            view.stats.maintenance += started.elapsed();
            if !change.added.is_empty() || !change.removed.is_empty() {
                self.pending.push(change);
            }
        }
        Ok(())
    }
}

/// `value` with every keyword in `renames` replaced.
fn rename_keywords(mut value: Value, renames: &HashMap<Keyword, Keyword>) -> Value {
    let all = |items: &mut Vec<Value>| {
        for item in items.iter_mut() {
            *item = rename_keywords(item.take(), renames);
        }
    };
    match &mut value {
        Value::Keyword(k) => {
            if let Some(renamed) = renames.get(k) {
                *k = renamed.clone();
            }
        }
        Value::Vector(items) | Value::List(items) => all(items),
        Value::Set(items) => {
            *items = std::mem::take(items)
                .into_iter()
                .map(|item| rename_keywords(item, renames))
                .collect();
        }
        Value::Map(entries) => {
            *entries = std::mem::take(entries)
                .into_iter()
                .map(|(k, v)| (rename_keywords(k, renames), rename_keywords(v, renames)))
                .collect();
        }
        _ => {}
    }
    value
}

/// The idents of the attributes a transaction's datoms have.
fn attributes_of(report: &TxReport, schema: &factlite_core::Schema) -> HashSet<Keyword> {
    report
        .datoms
        .iter()
        .filter_map(|d| schema.ident(d.a).cloned())
        .collect()
}

impl WriteHook for Views {
    fn before_write(&mut self, store: &Store, report: &TxReport) -> factlite_store::Result<()> {
        let settled = self.dropping.is_none() && !self.views.values().any(|v| v.installing);
        if report.basis_before != self.seen_tx && settled {
            // Another connection committed after our last look and before
            // this write took the lock: the views it defined count too.
            self.reload(store)
                .map_err(|error| factlite_store::Error::Hook {
                    message: format!("reading the materialized views' definitions: {error}"),
                    category: error.category(),
                })?;
        }
        self.adopt_definitions(store, report)
            .map_err(|(view, error)| self.hook_failure(&view, error))?;
        if self.views.is_empty() {
            return Ok(());
        }
        self.before(store, report)
            .map_err(|(view, error)| self.hook_failure(&view, error))
    }

    fn after_write(&mut self, db: &Db, report: &TxReport) -> factlite_store::Result<()> {
        if !self.views.is_empty() {
            self.after(db, report)
                .map_err(|(view, error)| self.hook_failure(&view, error))?;
        }
        if self.adopted {
            // The next transaction of a batch sees the adopted views
            // installed and the dropped ones gone.
            for view in self.views.values_mut() {
                view.reset();
            }
            self.finish_dropping();
        }
        // A batch of replicated transactions runs this hook once per
        // transaction: the definitions loaded are those of this one's
        // state unless it wrote some, and the next need not reload them.
        if report.basis_before == self.seen_tx && !writes_definitions(db, report) {
            self.seen_tx = report.tx;
        }
        Ok(())
    }
}

/// Whether a transaction writes datoms of view definitions.
fn writes_definitions(db: &Db, report: &TxReport) -> bool {
    let Ok(schema) = db.schema() else {
        return true;
    };
    report.datoms.iter().any(|datom| {
        schema
            .ident(datom.a)
            .is_some_and(|ident| ident.namespace.as_deref() == Some("factlite.view"))
    })
}

/// Writes the transaction's datoms into the delta table, before they are
/// written to the store. A retraction carries the transaction of the
/// assertion it ends (the datom the old state holds), so a view binding
/// `?tx` loses the derivation it counted.
fn fill_delta(store: &Store, report: &TxReport, schema: &factlite_core::Schema) -> Result<()> {
    let conn = &*store.connection();
    conn.prepare_cached("DELETE FROM temp.fl_delta")?
        .execute([])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO temp.fl_delta (e, a, v, t, tx, avet, added) \
         VALUES (?1, ?2, ?3, ?4, CASE WHEN ?7 THEN ?5 ELSE COALESCE( \
         (SELECT tx FROM main.datoms WHERE e = ?1 AND a = ?2 AND v = ?3), ?5) END, ?6, ?7)",
    )?;
    for datom in &report.datoms {
        let avet = schema.attribute(datom.a).is_some_and(|a| a.in_avet());
        insert.execute(rusqlite::params![
            datom.e,
            datom.a,
            factlite_store::to_sql(&datom.v),
            datom.v.value_type().tag(),
            datom.tx,
            avet,
            datom.added,
        ])?;
    }
    Ok(())
}

/// The view's rows as its query's result: pulls, ordering, paging, shape.
fn shape(
    db: &Db,
    definition: &Definition,
    plan: &Plan,
    mut rows: Vec<Vec<Value>>,
) -> Result<QueryResult> {
    for row in rows.iter_mut() {
        for (value, pull) in row.iter_mut().zip(&definition.pulls) {
            if let Some(pattern) = pull {
                *value = db.pull(pattern, value)?;
            }
        }
    }
    let query = &definition.query;
    let shown = definition.shown_columns();
    for row in rows.iter_mut() {
        row.truncate(shown);
    }
    if !definition.order.is_empty() {
        rows.sort_by(|a, b| {
            definition
                .order
                .iter()
                .map(|&(i, descending)| {
                    let ordering = factlite_planner::aggregate::stored_order(&a[i], &b[i]);
                    if descending {
                        ordering.reverse()
                    } else {
                        ordering
                    }
                })
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    let offset = query.offset.unwrap_or(0) as usize;
    let limit = query.limit.map_or(usize::MAX, |l| l as usize);
    let rows: Vec<Vec<Value>> = rows.into_iter().skip(offset).take(limit).collect();
    Ok(factlite_store::shape_rows(plan, rows))
}

fn check_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidName(name.to_string()))
    }
}

fn kw(text: &str) -> Keyword {
    Keyword::from_str_lossy(text)
}

fn name_attribute() -> Keyword {
    kw("factlite.view/name")
}

fn parse_tx(value: &Value) -> Result<Vec<TxForm>> {
    factlite_query::parse_tx_data(value).map_err(|e| Error::Parse(e.to_string()))
}
