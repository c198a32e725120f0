//! Reading the schema from the datoms of the schema attributes.

use factlite_core::{bootstrap, Schema};
use rusqlite::Connection;

use crate::encode::from_sql;
use crate::error::{Error, Result};

/// The current schema, as the datoms define it.
pub fn load(conn: &Connection) -> Result<Schema> {
    let mut statement = conn
        .prepare_cached("SELECT e, a, v, t FROM datoms WHERE a >= ?1 AND a <= ?2 ORDER BY e, a")?;
    let first = bootstrap::SCHEMA_ATTRIBUTES
        .iter()
        .min()
        .copied()
        .unwrap_or(bootstrap::DB_IDENT);
    let last = bootstrap::SCHEMA_ATTRIBUTES
        .iter()
        .max()
        .copied()
        .unwrap_or(bootstrap::DB_FULLTEXT);
    let mut rows = statement.query([first, last])?;
    let mut datoms = Vec::new();
    while let Some(row) = rows.next()? {
        datoms.push((
            row.get(0)?,
            row.get(1)?,
            from_sql(row.get_ref(2)?, row.get(3)?)?,
        ));
    }
    Schema::from_datoms(datoms).map_err(|e| Error::Schema(e.0))
}
