//! [`Store`] and [`Db`]: the façade over the store, the planner and the
//! views. Text comes in as EDN, results go out as EDN values.

use factlite_edn::Value;
use factlite_query::TxForm;

use std::cell::RefCell;
use std::rc::Rc;

use factlite_views::{AutoPolicy, ViewChange, ViewInfo, Views};

use crate::error::Result;
use crate::prepared::{PlanCacheStats, PreparedQuery, Rows, SharedPlanCache};
use crate::{Entid, QueryResult, TxReport};

/// An open factlite store (a SQLite file, or memory), with its cache of
/// compiled query plans (shared by its clones and snapshots).
#[derive(Clone)]
pub struct Store {
    store: factlite_store::Store,
    plans: SharedPlanCache,
    views: SharedViews,
}

/// The store's materialized views, shared by its clones and snapshots.
type SharedViews = Rc<RefCell<Views>>;

impl Store {
    /// Opens the store in a file, creating it if needed.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Store> {
        let store = factlite_store::Store::open(path, factlite_store::Config::default())?;
        Store::with_views(store)
    }

    /// Opens a new, empty store in memory.
    pub fn open_in_memory() -> Result<Store> {
        Store::with_views(factlite_store::Store::open_in_memory()?)
    }

    fn with_views(store: factlite_store::Store) -> Result<Store> {
        Ok(Store {
            views: Rc::new(RefCell::new(Views::load(&store)?)),
            store,
            plans: SharedPlanCache::default(),
        })
    }

    /// The underlying store, for lower-level access.
    pub fn inner(&self) -> &factlite_store::Store {
        &self.store
    }

    /// Transacts transaction data given as an EDN vector of forms.
    pub fn transact(&self, tx_data: &Value) -> Result<TxReport> {
        let forms = factlite_query::parse_tx_data(tx_data)?;
        self.transact_forms(&forms)
    }

    /// Transacts transaction data written as EDN text.
    pub fn transact_str(&self, tx_data: &str) -> Result<TxReport> {
        self.transact(&factlite_edn::parse(tx_data)?)
    }

    /// Transacts parsed forms.
    pub fn transact_forms(&self, forms: &[TxForm]) -> Result<TxReport> {
        Ok(self.views.borrow_mut().transact(&self.store, forms)?)
    }

    /// Materializes a query as the view `name`: its result becomes the
    /// SQLite table `"view_<name>"`, kept up to date by every later
    /// transaction inside that transaction. `inputs` are the query's
    /// inputs after `$`, rule sets only. The definition is stored as data
    /// (`:factlite.view/*`), so the view survives reopening.
    pub fn materialize(&self, name: &str, query: &Value, inputs: &[Value]) -> Result<ViewInfo> {
        Ok(self
            .views
            .borrow_mut()
            .materialize(&self.store, name, query, inputs)?)
    }

    /// [`Store::materialize`] on query text.
    pub fn materialize_str(&self, name: &str, query: &str, inputs: &[Value]) -> Result<ViewInfo> {
        self.materialize(name, &factlite_edn::parse(query)?, inputs)
    }

    /// Reads a view, shaped as its query's result.
    pub fn view(&self, name: &str) -> Result<QueryResult> {
        Ok(self.views.borrow_mut().read(&self.store, name)?)
    }

    /// Removes a view and its table.
    pub fn drop_view(&self, name: &str) -> Result<()> {
        Ok(self.views.borrow_mut().drop_view(&self.store, name)?)
    }

    /// Every view with its row count, reads, maintenance count and cost.
    pub fn views(&self) -> Result<Vec<ViewInfo>> {
        Ok(self.views.borrow_mut().list(&self.store)?)
    }

    /// Calls `subscriber` after each commit that changes the view with the
    /// rows added and removed (as the table holds them). Returns a key for
    /// [`Store::unsubscribe`].
    pub fn subscribe(
        &self,
        name: &str,
        subscriber: impl FnMut(&ViewChange) + 'static,
    ) -> Result<u64> {
        Ok(self
            .views
            .borrow_mut()
            .subscribe(name, Box::new(subscriber))?)
    }

    /// Ends a subscription; `false` when the key is unknown.
    pub fn unsubscribe(&self, key: u64) -> bool {
        self.views.borrow_mut().unsubscribe(key)
    }

    /// Sets the policy by which queries run often become views by
    /// themselves (off by default; see [`AutoPolicy`]).
    pub fn set_auto_materialize(&self, policy: AutoPolicy) {
        self.views.borrow_mut().set_auto_policy(policy);
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
        Ok(self
            .views
            .borrow_mut()
            .ensure_vocabulary(&self.store, vocabulary)?)
    }

    /// A migration step for [`Store::ensure_vocabulary`] that reads the
    /// store through the façade: `step` gets the snapshot before the
    /// upgrade (inside the upgrade's transaction) and the installed version,
    /// and returns the transaction data to add to the upgrade.
    pub fn migration_step(
        &self,
        step: impl Fn(&Db, i64) -> std::result::Result<Value, crate::MigrationError> + 'static,
    ) -> crate::Migration {
        let plans = self.plans.clone();
        crate::Migration::Step(Box::new(move |db, from| {
            let db = Db {
                db: db.clone(),
                plans: plans.clone(),
                views: None,
            };
            step(&db, from)
        }))
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
        self.ensure_vocabulary(&factlite_store::rules_vocabulary()?)?;
        let tx_data = self.store.db()?.install_rules_tx(rules)?;
        self.transact(&tx_data)
    }

    /// [`Store::install_rules`] on EDN text.
    pub fn install_rules_str(&self, rules: &str) -> Result<TxReport> {
        self.install_rules(&factlite_edn::parse(rules)?)
    }

    /// Removes installed rules by name (names not installed are ignored);
    /// refused while another installed rule calls one of them.
    pub fn remove_rules(&self, names: &[&str]) -> Result<TxReport> {
        let tx_data = self.store.db()?.remove_rules_tx(names)?;
        self.transact(&tx_data)
    }

    /// The installed rules, as one rule set (a vector of rules, by name).
    pub fn rules(&self) -> Result<Value> {
        let installed = self.store.db()?.installed_rules()?;
        let all: Vec<factlite_query::Rule> = installed.into_values().flatten().collect();
        Ok(factlite_query::rules_to_edn(&all))
    }

    /// A snapshot of the current state.
    pub fn db(&self) -> Result<Db> {
        Ok(Db {
            db: self.store.db()?,
            plans: self.plans.clone(),
            views: Some((self.store.clone(), self.views.clone())),
        })
    }

    /// How the cache of compiled plans has done so far (see
    /// [`PreparedQuery`]).
    pub fn plan_cache_stats(&self) -> PlanCacheStats {
        self.plans.borrow().stats()
    }
}

/// An immutable snapshot to query.
#[derive(Clone)]
pub struct Db {
    db: factlite_store::Db,
    plans: SharedPlanCache,
    /// The store's views, for a snapshot of the current state: a query
    /// that a view holds is answered from its table.
    views: Option<(factlite_store::Store, SharedViews)>,
}

impl Db {
    /// The underlying snapshot.
    pub fn inner(&self) -> &factlite_store::Db {
        &self.db
    }

    pub(crate) fn plans(&self) -> &SharedPlanCache {
        &self.plans
    }

    /// The newest transaction the snapshot includes.
    pub fn basis_tx(&self) -> Entid {
        self.db.basis_tx()
    }

    /// The database as it was right after transaction `tx`.
    pub fn as_of(&self, tx: Entid) -> Db {
        Db {
            db: self.db.as_of(tx),
            plans: self.plans.clone(),
            views: None,
        }
    }

    /// Only the datoms asserted after transaction `tx`.
    pub fn since(&self, tx: Entid) -> Db {
        Db {
            db: self.db.since(tx),
            plans: self.plans.clone(),
            views: None,
        }
    }

    /// Every assertion and retraction.
    pub fn history(&self) -> Db {
        Db {
            db: self.db.history(),
            plans: self.plans.clone(),
            views: None,
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
    pub fn q(&self, query: &Value, inputs: &[Value]) -> Result<QueryResult> {
        if let Some((store, views)) = &self.views {
            let answers = views.borrow().answers_queries();
            if answers && store.latest_tx()? == self.db.basis_tx() {
                if let Some(answer) = views.borrow_mut().answer(store, query, inputs)? {
                    return Ok(answer);
                }
            }
        }
        self.q_from_scratch(query, inputs)
    }

    /// Runs a query from scratch, never answering from a materialized view:
    /// what a view is checked against.
    pub fn q_from_scratch(&self, query: &Value, inputs: &[Value]) -> Result<QueryResult> {
        PreparedQuery::new(query)?.run(self, inputs)
    }

    /// [`Db::q`] on query text.
    pub fn q_str(&self, query: &str, inputs: &[Value]) -> Result<QueryResult> {
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
    ///         if let Value::Vector(tuple) = row? {
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
        inputs: &[Value],
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
        Ok(self.db.datoms(index, prefix)?)
    }

    /// Pulls a pattern for one entity, given as an id, a lookup ref
    /// `[:attr value]` or an ident.
    pub fn pull(&self, pattern: &Value, entity: &Value) -> Result<Value> {
        let pattern = factlite_query::parse_pull_pattern(pattern)?;
        Ok(self.db.pull(&pattern, entity)?)
    }
}
