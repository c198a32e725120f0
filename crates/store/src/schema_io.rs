//! Reading the schema from the datoms of the schema attributes, and the
//! former idents of renamed entities from the log.

use factlite_core::{bootstrap, Schema};
use rusqlite::Connection;

use crate::encode::from_sql;
use crate::error::{Error, Result};

/// The current schema, as the datoms define it.
pub fn load(conn: &Connection) -> Result<Schema> {
    // The schema attributes are ids 1–9, 18–19 and 90: three ranges, so
    // that the transactions' `:db/txInstant` (10) is never read.
    let mut statement = conn.prepare_cached(
        "SELECT e, a, v, t FROM datoms
         WHERE a BETWEEN ?1 AND ?2 OR a BETWEEN ?3 AND ?4 OR a = ?5
         ORDER BY e, a",
    )?;
    let mut rows = statement.query([
        bootstrap::DB_IDENT,
        bootstrap::DB_FULLTEXT,
        bootstrap::DB_TUPLE_TYPE,
        bootstrap::DB_TUPLE_TYPES,
        bootstrap::DB_TUPLE_ATTRS,
    ])?;
    let mut datoms = Vec::new();
    while let Some(row) = rows.next()? {
        datoms.push((
            row.get(0)?,
            row.get(1)?,
            from_sql(row.get_ref(2)?, row.get(3)?)?,
        ));
    }
    let mut schema = Schema::from_datoms(datoms).map_err(|e| Error::Schema(e.0))?;
    // Renamed entities keep answering to their former idents, newest
    // rename first (as Datomic resolves both names).
    let mut former = conn.prepare_cached(
        "SELECT e, v, t FROM log WHERE a = ?1 AND added = 0 ORDER BY tx DESC, seq DESC",
    )?;
    let mut rows = former.query([bootstrap::DB_IDENT])?;
    while let Some(row) = rows.next()? {
        if let factlite_core::TypedValue::Keyword(ident) = from_sql(row.get_ref(1)?, row.get(2)?)? {
            schema.add_former_ident(row.get(0)?, (*ident).clone());
        }
    }
    Ok(schema)
}
