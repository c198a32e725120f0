//! [`Store`] and [`Db`]: the façade over the store, the planner and the
//! views. Text comes in as EDN, results go out as EDN values.

use factlite_edn::Value;
use factlite_query::TxForm;

use crate::error::Result;
use crate::prepared::{PlanCacheStats, PreparedQuery, Rows, SharedPlanCache};
use crate::{Entid, TxReport};

/// An open factlite store (a SQLite file, or memory), with its cache of
/// compiled query plans (shared by its clones and snapshots).
#[derive(Clone)]
pub struct Store {
    store: factlite_store::Store,
    plans: SharedPlanCache,
}

impl Store {
    /// Opens the store in a file, creating it if needed.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Store> {
        let store = factlite_store::Store::open(path, factlite_store::Config::default())?;
        Ok(Store {
            store,
            plans: SharedPlanCache::default(),
        })
    }

    /// Opens a new, empty store in memory.
    pub fn open_in_memory() -> Result<Store> {
        Ok(Store {
            store: factlite_store::Store::open_in_memory()?,
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
        Ok(self.store.transact(forms)?)
    }

    /// A snapshot of the current state.
    pub fn db(&self) -> Result<Db> {
        Ok(Db {
            db: self.store.db()?,
            plans: self.plans.clone(),
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
        }
    }

    /// Only the datoms asserted after transaction `tx`.
    pub fn since(&self, tx: Entid) -> Db {
        Db {
            db: self.db.since(tx),
            plans: self.plans.clone(),
        }
    }

    /// Every assertion and retraction.
    pub fn history(&self) -> Db {
        Db {
            db: self.db.history(),
            plans: self.plans.clone(),
        }
    }

    /// Runs a query (an EDN vector or map) with inputs for its `:in`
    /// (after `$`), and returns the result shaped by its find spec: a set of
    /// tuples for a relation, a set for a collection, a value (or nil) for a
    /// scalar, a vector (or nil) for a tuple; vectors when it has `:order-by`.
    ///
    /// The query is compiled once per input signature and its plan kept in
    /// the store's cache (see [`PreparedQuery`]), so running the same query
    /// again — with the same or other input values — only parses it.
    pub fn q(&self, query: &Value, inputs: &[Value]) -> Result<Value> {
        PreparedQuery::new(query)?.run(self, inputs)
    }

    /// [`Db::q`] on query text.
    pub fn q_str(&self, query: &str, inputs: &[Value]) -> Result<Value> {
        self.q(&factlite_edn::parse(query)?, inputs)
    }

    /// Runs a query like [`Db::q`], but hands `read` the result's items one
    /// at a time as SQLite produces them, instead of a whole set: a result
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

    /// Pulls a pattern for one entity, given as an id, a lookup ref
    /// `[:attr value]` or an ident.
    pub fn pull(&self, pattern: &Value, entity: &Value) -> Result<Value> {
        let pattern = factlite_query::parse_pull_pattern(pattern)?;
        Ok(self.db.pull(&pattern, entity)?)
    }
}
