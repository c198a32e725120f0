//! Prepared queries and the compiled-plan cache.
//!
//! A query is parsed once ([`PreparedQuery`]) and compiled once per input
//! signature: the plan's SQL reads the inputs as parameters filled at run
//! time, so one plan serves every input value of the same shape and types
//! (see `factlite_planner::signature`). Compiled plans are kept in a small
//! LRU cache per store, keyed by the query's normalized text, the kind of
//! view of time (current, as-of, since, history — not its transaction,
//! which is a parameter too) and the input signature. [`crate::Db::q`] goes
//! through the same cache.
//!
//! A plan is compiled against a schema and statistics: the cache is emptied
//! when the schema changes (a new schema value, after a schema transaction
//! or another connection's write), and a plan is compiled again when the
//! number of datoms has more than doubled or halved since, so its join
//! order follows the data.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use factlite_core::Schema;
use factlite_edn::Value;
use factlite_planner::{Plan, SignatureKey, Source};
use factlite_query::Query;

use crate::error::{Error, Result};
use crate::store::Db;
use crate::{Inputs, QueryResult};

/// How many compiled plans a store keeps.
pub const PLAN_CACHE_CAPACITY: usize = 64;

/// Counts of the plan cache's work, for tuning and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanCacheStats {
    /// Runs that found their plan compiled.
    pub hits: u64,
    /// Runs that compiled a plan.
    pub misses: u64,
    /// Plans held now.
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CacheKey {
    text: Arc<str>,
    source: Source,
    signature: SignatureKey,
}

struct Entry {
    plan: Arc<Plan>,
    /// The number of datoms when the plan was compiled.
    datoms: i64,
    /// When the entry was last used (a tick of the cache's clock).
    used: u64,
}

/// The compiled plans of one store: least recently used out first.
#[derive(Default)]
pub(crate) struct PlanCache {
    /// The schema every entry was compiled against.
    schema: Option<Arc<Schema>>,
    entries: HashMap<CacheKey, Entry>,
    clock: u64,
    hits: u64,
    misses: u64,
}

impl PlanCache {
    pub(crate) fn stats(&self) -> PlanCacheStats {
        PlanCacheStats {
            hits: self.hits,
            misses: self.misses,
            len: self.entries.len(),
        }
    }

    /// The cached plan for a key, if it was compiled against `schema` and
    /// about as many datoms.
    fn get(&mut self, key: &CacheKey, schema: &Arc<Schema>, datoms: i64) -> Option<Arc<Plan>> {
        if !self.schema.as_ref().is_some_and(|s| Arc::ptr_eq(s, schema)) {
            self.entries.clear();
            self.schema = Some(schema.clone());
        }
        self.clock += 1;
        let entry = self.entries.get_mut(key)?;
        if drifted(entry.datoms, datoms) {
            return None;
        }
        entry.used = self.clock;
        self.hits += 1;
        Some(entry.plan.clone())
    }

    fn insert(&mut self, key: CacheKey, plan: Arc<Plan>, datoms: i64) {
        self.misses += 1;
        if self.entries.len() >= PLAN_CACHE_CAPACITY && !self.entries.contains_key(&key) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.used)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        let used = self.clock;
        self.entries.insert(key, Entry { plan, datoms, used });
    }
}

/// Whether the data grew or shrank enough for a plan's join order to be
/// worth choosing again.
fn drifted(planned: i64, now: i64) -> bool {
    let (small, large) = (planned.min(now), planned.max(now));
    large > 2 * small + 1000
}

/// A parsed query, ready to run many times with different inputs. It is
/// compiled on its first run with inputs of each signature (the shapes and
/// types of the inputs), and that plan is reused from the store's cache.
///
/// ```
/// use factlite::{edn, Store, Value};
///
/// let store = Store::open_in_memory()?;
/// store.transact_str(r#"[{:db/ident :person/age :db/valueType :db.type/long
///                        :db/cardinality :db.cardinality/one}]"#)?;
/// store.transact_str("[{:person/age 30} {:person/age 40}]")?;
/// let db = store.db()?;
/// let older = db.prepare("[:find [?a ...] :in $ ?min :where [_ :person/age ?a] [(> ?a ?min)]]")?;
/// assert_eq!(older.run(&db, &[Value::Integer(35)])?, edn::parse("#{40}")?);
/// assert_eq!(older.run(&db, &[Value::Integer(20)])?, edn::parse("#{30 40}")?);
/// assert_eq!(store.plan_cache_stats().misses, 1); // compiled once
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct PreparedQuery {
    query: Query,
    text: Arc<str>,
}

impl PreparedQuery {
    /// Parses a query given as EDN.
    pub fn new(query: &Value) -> Result<PreparedQuery> {
        crate::depth::check(query, "the query")?;
        let query = factlite_query::parse_query(query)?;
        let text = factlite_query::normalized_text(&query).into();
        Ok(PreparedQuery { query, text })
    }

    /// The query's normalized text (its key in the plan cache).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Runs the query on a snapshot with inputs for its `:in` (after `$`);
    /// the result is shaped as [`Db::q`] shapes it.
    pub fn run(&self, db: &Db, inputs: impl Inputs) -> Result<QueryResult> {
        let (db, inputs) = crate::inputs::query_snapshot(db, inputs)?;
        self.run_values(&db, &inputs)
    }

    pub(crate) fn run_values(&self, db: &Db, inputs: &[Value]) -> Result<QueryResult> {
        // The plan is chosen for the snapshot's view of time and run in
        // one read transaction, so a commit elsewhere cannot come between.
        let _read = db.inner().read_guard()?;
        if let Some((prepared, inputs)) = self.with_installed_rules(db, inputs)? {
            return prepared.run_values(db, &inputs);
        }
        let (plan, inputs) = self.plan(db, inputs)?;
        Ok(db.inner().for_query(&self.query).run_plan(&plan, &inputs)?)
    }

    /// Runs the query and hands `read` its result's items as SQLite produces
    /// them (see [`Db::q_rows`]).
    pub fn rows<R>(
        &self,
        db: &Db,
        inputs: impl Inputs,
        read: impl FnOnce(&mut Rows<'_, '_>) -> R,
    ) -> Result<R> {
        let (db, inputs) = crate::inputs::query_snapshot(db, inputs)?;
        self.rows_values(&db, &inputs, read)
    }

    fn rows_values<R>(
        &self,
        db: &Db,
        inputs: &[Value],
        read: impl FnOnce(&mut Rows<'_, '_>) -> R,
    ) -> Result<R> {
        let _read = db.inner().read_guard()?;
        if let Some((prepared, inputs)) = self.with_installed_rules(db, inputs)? {
            return prepared.rows_values(db, &inputs, read);
        }
        let (plan, inputs) = self.plan(db, inputs)?;
        Ok(db
            .inner()
            .for_query(&self.query)
            .with_rows(&plan, &inputs, |rows| read(&mut Rows { rows }))?)
    }

    /// This query with the store's installed rules merged into its `%` (or
    /// added as one), when it calls rules its `%` does not define.
    fn with_installed_rules(
        &self,
        db: &Db,
        inputs: &[Value],
    ) -> Result<Option<(PreparedQuery, Vec<Value>)>> {
        let merged = db.inner().with_installed_rules(&self.query, inputs)?;
        Ok(merged.map(|(query, inputs)| {
            let prepared = PreparedQuery {
                query,
                text: self.text.clone(),
            };
            (prepared, inputs)
        }))
    }

    /// The plan for these inputs on this snapshot (cached, or compiled and
    /// cached), with the inputs it reads: their lookup refs resolved to
    /// entity ids.
    fn plan<'i>(&self, db: &Db, inputs: &'i [Value]) -> Result<(Arc<Plan>, Cow<'i, [Value]>)> {
        let inner = db.inner();
        let inputs = match inner.resolve_lookup_refs(&self.query, inputs)? {
            Some(resolved) => Cow::Owned(resolved),
            None => Cow::Borrowed(inputs),
        };
        let signature = inner.signature(&self.query, &inputs)?;
        let schema = inner.schema()?;
        let datoms = inner.datom_count()?;
        let key = CacheKey {
            text: self.text.clone(),
            source: inner.planner_source()?.kind(),
            signature: signature.key().clone(),
        };
        if let Some(plan) = db.plans().lock().get(&key, &schema, datoms) {
            return Ok((plan, inputs));
        }
        let plan = Arc::new(inner.compile(&self.query, &signature)?);
        db.plans().lock().insert(key, plan.clone(), datoms);
        Ok((plan, inputs))
    }
}

/// The items of a query's result as SQLite produces them: tuples (vectors,
/// or maps under `:keys`) for a relation, values for a collection, one
/// value for a scalar, one vector for a tuple.
///
/// Rows are not held in memory unless the find spec needs them all
/// (aggregates computed in Rust, and the ordering and paging that follow
/// them). A relation is de-duplicated by SQLite (`SELECT DISTINCT`), so the
/// items are distinct as they arrive.
pub struct Rows<'r, 's> {
    rows: &'r mut factlite_store::ResultRows<'s>,
}

impl Iterator for Rows<'_, '_> {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Result<Value>> {
        self.rows.next().map(|item| item.map_err(Error::from))
    }
}
