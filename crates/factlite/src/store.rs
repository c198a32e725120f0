//! [`Store`] and [`Db`]: the façade over the store, the planner and the
//! views. Text comes in as EDN, results go out as EDN values.

use factlite_edn::Value;
use factlite_query::TxForm;

use crate::error::Result;
use crate::{Entid, TxReport};

/// An open factlite store (a SQLite file, or memory).
#[derive(Clone)]
pub struct Store {
    store: factlite_store::Store,
}

impl Store {
    /// Opens the store in a file, creating it if needed.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Store> {
        let store = factlite_store::Store::open(path, factlite_store::Config::default())?;
        Ok(Store { store })
    }

    /// Opens a new, empty store in memory.
    pub fn open_in_memory() -> Result<Store> {
        Ok(Store {
            store: factlite_store::Store::open_in_memory()?,
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
        })
    }
}

/// An immutable snapshot to query.
#[derive(Clone)]
pub struct Db {
    db: factlite_store::Db,
}

impl Db {
    /// The underlying snapshot.
    pub fn inner(&self) -> &factlite_store::Db {
        &self.db
    }

    /// The newest transaction the snapshot includes.
    pub fn basis_tx(&self) -> Entid {
        self.db.basis_tx()
    }

    /// The database as it was right after transaction `tx`.
    pub fn as_of(&self, tx: Entid) -> Db {
        Db {
            db: self.db.as_of(tx),
        }
    }

    /// Only the datoms asserted after transaction `tx`.
    pub fn since(&self, tx: Entid) -> Db {
        Db {
            db: self.db.since(tx),
        }
    }

    /// Every assertion and retraction.
    pub fn history(&self) -> Db {
        Db {
            db: self.db.history(),
        }
    }

    /// Runs a query (an EDN vector or map) with inputs for its `:in`
    /// (after `$`), and returns the result shaped by its find spec: a set of
    /// tuples for a relation, a set for a collection, a value (or nil) for a
    /// scalar, a vector (or nil) for a tuple; vectors when it has `:order-by`.
    pub fn q(&self, query: &Value, inputs: &[Value]) -> Result<Value> {
        crate::query::run(&self.db, query, inputs)
    }

    /// [`Db::q`] on query text.
    pub fn q_str(&self, query: &str, inputs: &[Value]) -> Result<Value> {
        self.q(&factlite_edn::parse(query)?, inputs)
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
