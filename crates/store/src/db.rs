//! [`Db`]: an immutable view of a store at one transaction — the current
//! state, as of a past transaction, since a transaction, or the whole
//! history — and the reads that do not need the query engine: entities,
//! idents and index ranges.
//!
//! A `Db` is defined by its basis transaction. While the store has not moved
//! past the basis, reads go to the current-state tables; once later
//! transactions exist, the same `Db` reads "as of its basis" from the log, so
//! it never sees later writes.

use std::rc::Rc;

use factlite_core::{Datom, Entid, Schema, TypedValue};
use factlite_edn::Keyword;
use factlite_planner::Source;
use rusqlite::types::Value as SqlValue;

use crate::encode::from_sql;
use crate::error::Result;
use crate::Store;

/// Which datoms a [`Db`] sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DbView {
    /// The datoms that hold at the basis.
    Current,
    /// The datoms that held after transaction `t`.
    AsOf(Entid),
    /// The datoms that hold now and were asserted after transaction `t`.
    Since(Entid),
    /// Every assertion and retraction ever made.
    History,
}

/// The four index orders of `datoms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexName {
    Eavt,
    Aevt,
    Avet,
    Vaet,
}

/// An immutable snapshot of a store.
#[derive(Clone)]
pub struct Db {
    store: Store,
    basis: Entid,
    view: DbView,
    /// The schema a write hook sees mid-transaction, when it differs from
    /// the store's committed one.
    schema: Option<Rc<Schema>>,
}

impl Db {
    pub(crate) fn new(store: Store, basis: Entid, view: DbView) -> Db {
        Db {
            store,
            basis,
            view,
            schema: None,
        }
    }

    /// The current state as a write hook sees it inside the write
    /// transaction (the datoms written so far, read through `schema`).
    pub(crate) fn in_write(store: Store, basis: Entid, schema: Rc<Schema>) -> Db {
        Db {
            store,
            basis,
            view: DbView::Current,
            schema: Some(schema),
        }
    }

    /// The store this snapshot reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The newest transaction this snapshot includes.
    pub fn basis_tx(&self) -> Entid {
        self.basis
    }

    /// Which datoms this snapshot sees.
    pub fn view(&self) -> DbView {
        self.view
    }

    /// The database as it was right after transaction `tx`.
    pub fn as_of(&self, tx: Entid) -> Db {
        self.with_view(self.basis.min(tx), DbView::AsOf(tx.min(self.basis)))
    }

    /// The datoms of this snapshot asserted after transaction `tx`.
    pub fn since(&self, tx: Entid) -> Db {
        self.with_view(self.basis, DbView::Since(tx))
    }

    /// Every assertion and retraction up to the basis.
    pub fn history(&self) -> Db {
        self.with_view(self.basis, DbView::History)
    }

    fn with_view(&self, basis: Entid, view: DbView) -> Db {
        Db {
            store: self.store.clone(),
            basis,
            view,
            schema: self.schema.clone(),
        }
    }

    /// The view the SQL must read, taking the basis into account: a
    /// current view whose basis is no longer the newest reads as of it.
    pub fn effective_view(&self) -> Result<DbView> {
        let latest = self.store.latest_tx()?;
        Ok(match self.view {
            DbView::Current if self.basis < latest => DbView::AsOf(self.basis),
            view => view,
        })
    }

    /// The schema (the current one: attributes are never removed while in
    /// use, so it describes every past datom too).
    pub fn schema(&self) -> Result<Rc<Schema>> {
        match &self.schema {
            Some(schema) => Ok(schema.clone()),
            None => self.store.schema(),
        }
    }

    /// The entity an ident names.
    pub fn entid(&self, ident: &Keyword) -> Result<Option<Entid>> {
        Ok(self.schema()?.entid(ident))
    }

    /// The ident of an entity.
    pub fn ident(&self, id: Entid) -> Result<Option<Keyword>> {
        Ok(self.schema()?.ident(id).cloned())
    }

    /// The SQL that yields this snapshot's datoms as rows `(e, a, v, t, tx,
    /// added)`, with its parameters. Queries, pulls and index reads all start
    /// from it.
    pub fn source_sql(&self) -> Result<(String, Vec<SqlValue>)> {
        let source = self.planner_source()?;
        let params = match source {
            Source::Current => vec![],
            Source::AsOf(t) | Source::Since(t) | Source::History(t) => vec![SqlValue::Integer(t)],
        };
        Ok((factlite_planner::source_sql(source, 1), params))
    }

    /// The planner's source for this snapshot.
    pub fn planner_source(&self) -> Result<Source> {
        Ok(match self.effective_view()? {
            DbView::Current => Source::Current,
            DbView::AsOf(t) => Source::AsOf(t),
            DbView::Since(t) => Source::Since(t),
            DbView::History => Source::History(self.basis),
        })
    }

    /// Every datom of an index whose leading components equal `prefix`
    /// (entity, attribute, value in the index's order), in index order.
    pub fn datoms(&self, index: IndexName, prefix: &[TypedValue]) -> Result<Vec<Datom>> {
        let (source, mut params) = self.source_sql()?;
        let columns: &[&str] = match index {
            IndexName::Eavt => &["e", "a", "v"],
            IndexName::Aevt => &["a", "e", "v"],
            IndexName::Avet => &["a", "v", "e"],
            IndexName::Vaet => &["v", "a", "e"],
        };
        let mut conditions = Vec::new();
        if index == IndexName::Vaet {
            conditions.push("t = 0".to_string());
        }
        for (column, value) in columns.iter().zip(prefix) {
            params.push(crate::encode::to_sql(value));
            conditions.push(format!("{column} = ?{}", params.len()));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT e, a, v, t, tx, added FROM ({source}) {filter} ORDER BY {}, tx",
            columns.join(", ")
        );
        let conn = self.store.connection();
        let mut statement = conn.prepare(&sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(params))?;
        let mut datoms = Vec::new();
        while let Some(row) = rows.next()? {
            datoms.push(read_datom(row)?);
        }
        Ok(datoms)
    }

    /// The current attributes and values of an entity, in attribute order.
    pub fn entity(&self, e: Entid) -> Result<Vec<(Entid, TypedValue)>> {
        Ok(self
            .datoms(IndexName::Eavt, &[TypedValue::Ref(e)])?
            .into_iter()
            .filter(|d| d.added)
            .map(|d| (d.a, d.v))
            .collect())
    }

    /// The datoms of the transactions in `from..=to`, in log order.
    pub fn tx_range(&self, from: Entid, to: Entid) -> Result<Vec<Datom>> {
        let conn = self.store.connection();
        let mut statement = conn.prepare_cached(
            "SELECT e, a, v, t, tx, added FROM log WHERE tx >= ?1 AND tx <= ?2 ORDER BY tx, seq",
        )?;
        let mut rows = statement.query([from, to.min(self.basis)])?;
        let mut datoms = Vec::new();
        while let Some(row) = rows.next()? {
            datoms.push(read_datom(row)?);
        }
        Ok(datoms)
    }
}

/// A datom from a row `(e, a, v, t, tx, added)`.
fn read_datom(row: &rusqlite::Row<'_>) -> Result<Datom> {
    Ok(Datom {
        e: row.get(0)?,
        a: row.get(1)?,
        v: from_sql(row.get_ref(2)?, row.get(3)?)?,
        tx: row.get(4)?,
        added: row.get(5)?,
    })
}
