//! [`Db`]: an immutable view of a store at one transaction — the current
//! state, as of a past transaction, since a transaction, or the whole
//! history — and the reads that do not need the query engine: entities,
//! idents and index ranges.
//!
//! A `Db` is defined by its basis transaction. While the store has not moved
//! past the basis, reads go to the current-state tables; once later
//! transactions exist, the same `Db` reads "as of its basis" from the log, so
//! it never sees later writes. Which of the two applies is read from the
//! file, and index ranges, entity reads and pulls decide it and read their
//! rows inside one SQLite read transaction ([`Db::read`]): with WAL that is
//! one snapshot of the file, so another connection's commit cannot fall
//! between the decision and the rows. (`:db/noHistory` attributes keep no
//! past, so a `Db` reading as of its basis sees only their values that still
//! hold; see `transact::apply`.)

use std::ops::Bound;
use std::sync::Arc;

use factlite_core::{Datom, Entid, Schema, TypedValue};
use factlite_edn::Keyword;
use factlite_planner::Source;
use rusqlite::types::Value as SqlValue;

use crate::encode::from_sql;
use crate::error::Result;
use crate::{ConnectionGuard, QueryLimits, Store};

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
    schema: Option<Arc<Schema>>,
    /// What each query of this snapshot may spend.
    limits: QueryLimits,
    /// Databases of the same store its queries take as inputs (`:in $
    /// $h`), by input position (see `Db::with_database_inputs`).
    pub(crate) database_inputs: Vec<(usize, Db)>,
}

impl Db {
    pub(crate) fn new(store: Store, basis: Entid, view: DbView) -> Db {
        Db {
            store,
            basis,
            view,
            schema: None,
            limits: QueryLimits::default(),
            database_inputs: Vec::new(),
        }
    }

    /// The current state as a write hook sees it inside the write
    /// transaction (the datoms written so far, read through `schema`).
    pub(crate) fn in_write(store: Store, basis: Entid, schema: Arc<Schema>) -> Db {
        Db {
            store,
            basis,
            view: DbView::Current,
            schema: Some(schema),
            limits: QueryLimits::default(),
            database_inputs: Vec::new(),
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
            limits: self.limits,
            database_inputs: Vec::new(),
        }
    }

    /// This snapshot with other limits on its queries (none by default).
    pub fn with_limits(&self, limits: QueryLimits) -> Db {
        Db {
            limits,
            ..self.clone()
        }
    }

    /// The limits on this snapshot's queries.
    pub fn limits(&self) -> QueryLimits {
        self.limits
    }

    /// This snapshot with the time limit a query asks for itself
    /// (`:timeout`), when it asks for one.
    pub fn for_query(&self, query: &factlite_query::Query) -> Db {
        match query.timeout_ms {
            Some(ms) => self.with_limits(QueryLimits {
                timeout: Some(std::time::Duration::from_millis(ms)),
                ..self.limits
            }),
            None => self.clone(),
        }
    }

    /// The view the SQL must read, taking the basis into account: a
    /// current view whose basis is no longer the newest reads as of it.
    pub fn effective_view(&self) -> Result<DbView> {
        Ok(match self.view {
            DbView::Current if self.is_stale()? => DbView::AsOf(self.basis),
            view => view,
        })
    }

    /// Whether transactions after the basis exist, so the current-state
    /// tables hold more than this snapshot sees. The store's newest
    /// transaction is read again whenever `PRAGMA data_version` says another
    /// connection committed; the pragma reads the database, so inside a read
    /// transaction ([`Db::read`]) the answer and the rows read afterwards
    /// come from one SQLite snapshot. A `Db` a write hook gets reads the
    /// state being written, never as of before it.
    fn is_stale(&self) -> Result<bool> {
        if self.schema.is_some() {
            return Ok(false);
        }
        Ok(self.basis < self.store.latest_tx()?)
    }

    /// Runs `reads` of this snapshot inside one SQLite read transaction
    /// (unless the connection is in a transaction already), so the choice
    /// between the current tables and the log and every row read come from
    /// one state of the file, whatever other connections commit meanwhile.
    /// Pulls, entity reads and index ranges do this themselves.
    pub fn read<T>(&self, reads: impl FnOnce() -> Result<T>) -> Result<T> {
        let _read = ReadTransaction::begin(self.store.connection())?;
        reads()
    }

    /// A read transaction that lasts as long as the guard (nothing when the
    /// connection is in a transaction already): choosing how to read this
    /// snapshot and reading it then see one state of the file, whatever
    /// other connections commit meanwhile. The guard's holder must not
    /// write through this store until it drops it.
    pub fn read_guard(&self) -> Result<ReadTransaction<'_>> {
        ReadTransaction::begin(self.store.connection())
    }

    /// The schema (the current one: attributes are never removed while in
    /// use, so it describes every past datom too).
    pub fn schema(&self) -> Result<Arc<Schema>> {
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
    /// added)`, with its parameters (`?1`, `?2`...). Pulls and index reads
    /// start from it.
    pub fn source_sql(&self) -> Result<(String, Vec<SqlValue>)> {
        let source = self.planner_source()?;
        let params = match source {
            Source::Current => vec![],
            Source::AsOf(t) | Source::Since(t) | Source::History(t) => vec![SqlValue::Integer(t)],
            Source::SinceAsOf { since, basis } => {
                vec![SqlValue::Integer(basis), SqlValue::Integer(since)]
            }
        };
        Ok((factlite_planner::source_sql(source, 1), params))
    }

    /// The planner's source for this snapshot. A since view whose basis is
    /// no longer the newest transaction reads as of its basis (the current
    /// tables hold later datoms).
    pub fn planner_source(&self) -> Result<Source> {
        Ok(match self.effective_view()? {
            DbView::Current => Source::Current,
            DbView::AsOf(t) => Source::AsOf(t),
            DbView::Since(t) if self.is_stale()? => Source::SinceAsOf {
                since: t,
                basis: self.basis,
            },
            DbView::Since(t) => Source::Since(t),
            DbView::History => Source::History(self.basis),
        })
    }

    /// The datoms of an index whose leading components equal `prefix`
    /// (entity, attribute, value in the index's order), ready to stream in
    /// index order with [`Datoms::iter`]. AVET holds only the datoms of
    /// indexed and unique attributes, VAET only refs, as in Datomic. On
    /// history views each component is followed by the transaction order,
    /// and retractions come as datoms with `added == false`.
    pub fn datoms(&self, index: IndexName, prefix: &[TypedValue]) -> Result<Datoms<'_>> {
        self.span(index, prefix, Span::Prefix)
    }

    /// The datoms of an index from the position `start` on (its leading
    /// components in the index's order; a datom at least as great, as
    /// Datomic's `seek-datoms`), in index order, to the index's end.
    pub fn seek_datoms(&self, index: IndexName, start: &[TypedValue]) -> Result<Datoms<'_>> {
        self.span(index, start, Span::Seek)
    }

    /// The AVET datoms of `attribute` whose values lie between `start` and
    /// `end` (each bound included, excluded or open), in value order, as
    /// Datomic's `index-range`; the attribute must be in AVET (`:db/index`
    /// or unique).
    pub fn index_range(
        &self,
        attribute: Entid,
        start: Bound<TypedValue>,
        end: Bound<TypedValue>,
    ) -> Result<Datoms<'_>> {
        self.span(
            IndexName::Avet,
            &[TypedValue::Ref(attribute)],
            Span::Range(start, end),
        )
    }

    fn span(&self, index: IndexName, prefix: &[TypedValue], span: Span) -> Result<Datoms<'_>> {
        let read = ReadTransaction::begin(self.store.connection())?;
        let (sql, params) = self.index_sql(index, prefix, span)?;
        // SAFETY: `read` holds the connection's lock for this thread, and
        // `Datoms` keeps it (declared last, so dropped after the statement
        // and every use of `conn`); the guard is not `Send`, so neither is
        // `Datoms`: no other thread can use the connection meanwhile.
        let conn: &rusqlite::Connection = unsafe { &*self.store.connection_ptr() };
        let statement = conn.prepare_cached(&sql)?;
        Ok(Datoms {
            conn,
            sql,
            statement,
            params,
            _read: read,
        })
    }

    /// The SQL of an index range and its parameters. The current state is
    /// read from `datoms` itself, so each index order is served by its
    /// (partial) SQLite index; other views read their source SQL.
    fn index_sql(
        &self,
        index: IndexName,
        prefix: &[TypedValue],
        span: Span,
    ) -> Result<(String, Vec<SqlValue>)> {
        let columns: &[&str] = match index {
            IndexName::Eavt => &["e", "a", "v"],
            IndexName::Aevt => &["a", "e", "v"],
            IndexName::Avet => &["a", "v", "e"],
            IndexName::Vaet => &["v", "a", "e"],
        };
        let mut conditions = Vec::new();
        let (from, mut params, current_table) = match self.effective_view()? {
            DbView::Current => ("datoms".to_string(), vec![], true),
            DbView::Since(t) if !self.is_stale()? => {
                conditions.push("tx > ?1".to_string());
                ("datoms".to_string(), vec![SqlValue::Integer(t)], true)
            }
            _ => {
                let (source, params) = self.source_sql()?;
                (format!("({source})"), params, false)
            }
        };
        match index {
            IndexName::Avet if current_table => conditions.push("avet = 1".to_string()),
            IndexName::Avet => {
                let schema = self.schema()?;
                let indexed: Vec<String> = schema
                    .attributes()
                    .filter(|attribute| attribute.in_avet())
                    .map(|attribute| {
                        params.push(SqlValue::Integer(attribute.id));
                        format!("?{}", params.len())
                    })
                    .collect();
                conditions.push(format!("a IN ({})", indexed.join(", ")));
            }
            IndexName::Vaet => conditions.push("t = 0".to_string()),
            IndexName::Eavt | IndexName::Aevt => {}
        }
        let bind = |value: &TypedValue, params: &mut Vec<SqlValue>| {
            params.push(crate::encode::to_sql(value));
            format!("?{}", params.len())
        };
        match &span {
            Span::Seek if !prefix.is_empty() => {
                let placeholders: Vec<String> =
                    prefix.iter().map(|v| bind(v, &mut params)).collect();
                let used = &columns[..placeholders.len().min(columns.len())];
                conditions.push(format!(
                    "({}) >= ({})",
                    used.join(", "),
                    placeholders[..used.len()].join(", ")
                ));
            }
            _ => {
                for (column, value) in columns.iter().zip(prefix) {
                    let placeholder = bind(value, &mut params);
                    conditions.push(format!("{column} = {placeholder}"));
                }
            }
        }
        if let Span::Range(start, end) = &span {
            let column = columns.get(prefix.len()).copied().unwrap_or("v");
            for (bound, included, excluded) in [(start, ">=", ">"), (end, "<=", "<")] {
                match bound {
                    Bound::Included(value) => {
                        let placeholder = bind(value, &mut params);
                        conditions.push(format!("{column} {included} {placeholder}"));
                    }
                    Bound::Excluded(value) => {
                        let placeholder = bind(value, &mut params);
                        conditions.push(format!("{column} {excluded} {placeholder}"));
                    }
                    Bound::Unbounded => {}
                }
            }
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let (added, order) = if current_table {
            ("1 AS added", columns.join(", "))
        } else {
            ("added", format!("{}, tx", columns.join(", ")))
        };
        let sql = format!("SELECT e, a, v, t, tx, {added} FROM {from}{filter} ORDER BY {order}");
        Ok((sql, params))
    }

    /// The current attributes and values of an entity, in attribute order.
    pub fn entity(&self, e: Entid) -> Result<Vec<(Entid, TypedValue)>> {
        let mut datoms = self.datoms(IndexName::Eavt, &[TypedValue::Ref(e)])?;
        let mut values = Vec::new();
        for datom in datoms.iter()? {
            let datom = datom?;
            if datom.added {
                values.push((datom.a, datom.v));
            }
        }
        Ok(values)
    }

    /// The datoms of the transactions in `from..=to`, in log order.
    pub fn tx_range(&self, from: Entid, to: Entid) -> Result<Vec<Datom>> {
        let conn = &*self.store.connection();
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

/// Which datoms of an index a range holds, beside its leading components.
enum Span {
    /// Those whose leading components equal the prefix.
    Prefix,
    /// Those at or after the prefix's position, to the index's end.
    Seek,
    /// Those whose leading components equal the prefix and whose next
    /// component lies between the bounds.
    Range(Bound<TypedValue>, Bound<TypedValue>),
}

/// A range of an index, prepared: [`Datoms::iter`] streams it, one row at
/// a time, from SQLite.
///
/// The range holds a read transaction on the store's connection until it
/// is dropped, so every run of it reads the snapshot's state: drop it
/// before transacting through the same [`Store`].
pub struct Datoms<'db> {
    conn: &'db rusqlite::Connection,
    sql: String,
    statement: rusqlite::CachedStatement<'db>,
    params: Vec<SqlValue>,
    /// Declared last: dropped after the statement.
    _read: ReadTransaction<'db>,
}

/// A deferred SQLite transaction, begun only when the connection is in
/// none, and ended when dropped. Its first read fixes the snapshot (WAL).
/// A read transaction held open until dropped (see [`Db::read_guard`]); it
/// holds the connection's lock for its thread meanwhile.
pub struct ReadTransaction<'c> {
    conn: ConnectionGuard<'c>,
    /// Whether this guard began the transaction (and so ends it).
    began: bool,
}

impl<'c> ReadTransaction<'c> {
    pub(crate) fn begin(conn: ConnectionGuard<'c>) -> Result<ReadTransaction<'c>> {
        if !conn.is_autocommit() {
            return Ok(ReadTransaction { conn, began: false });
        }
        // Every query begins and ends one: the statements are cached.
        conn.prepare_cached("BEGIN DEFERRED")?.execute([])?;
        Ok(ReadTransaction { conn, began: true })
    }
}

impl ReadTransaction<'_> {
    /// The connection the transaction reads.
    pub(crate) fn connection(&self) -> &rusqlite::Connection {
        &self.conn
    }
}

impl Drop for ReadTransaction<'_> {
    fn drop(&mut self) {
        if self.began {
            // A read transaction has nothing to lose: if ending it fails,
            // the next statement's error will say why.
            let _ = self
                .conn
                .prepare_cached("COMMIT")
                .and_then(|mut commit| commit.execute([]));
        }
    }
}

impl Datoms<'_> {
    /// The datoms of the range in index order. Each call runs the range's
    /// statement anew; rows are decoded as the iterator advances.
    pub fn iter(&mut self) -> Result<impl Iterator<Item = Result<Datom>> + '_> {
        let mut rows = self
            .statement
            .query(rusqlite::params_from_iter(self.params.iter()))?;
        Ok(std::iter::from_fn(move || match rows.next() {
            Ok(Some(row)) => Some(read_datom(row)),
            Ok(None) => None,
            Err(error) => Some(Err(error.into())),
        }))
    }

    /// SQLite's `EXPLAIN QUERY PLAN` for the range, one line per step: which
    /// table and index it reads.
    pub fn query_plan(&self) -> Result<Vec<String>> {
        let mut statement = self
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", self.sql))?;
        let mut rows = statement.query(rusqlite::params_from_iter(self.params.iter()))?;
        let mut lines = Vec::new();
        while let Some(row) = rows.next()? {
            lines.push(row.get::<_, String>(3)?);
        }
        Ok(lines)
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
