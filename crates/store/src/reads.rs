//! Point reads of the current state that the transactor and the entity API
//! share. Every statement is cached and takes its values as parameters.

use factlite_core::{Entid, TypedValue};
use rusqlite::{params, Connection, OptionalExtension};

use crate::encode::{from_sql, SqlParam};
use crate::error::Result;

/// The current values of attribute `a` on entity `e`.
pub fn values(conn: &Connection, e: Entid, a: Entid) -> Result<Vec<TypedValue>> {
    let mut statement = conn.prepare_cached("SELECT v, t FROM datoms WHERE e = ?1 AND a = ?2")?;
    let mut rows = statement.query(params![e, a])?;
    let mut values = Vec::new();
    while let Some(row) = rows.next()? {
        values.push(from_sql(row.get_ref(0)?, row.get(1)?)?);
    }
    Ok(values)
}

/// Whether the datom (e, a, v) currently holds.
pub fn holds(conn: &Connection, e: Entid, a: Entid, v: &TypedValue) -> Result<bool> {
    let mut statement =
        conn.prepare_cached("SELECT 1 FROM datoms WHERE e = ?1 AND a = ?2 AND v = ?3 AND t = ?4")?;
    Ok(statement.exists(params![e, a, SqlParam(v), v.value_type().tag()])?)
}

/// The entity that holds value `v` of a unique (so AVET-indexed) attribute.
pub fn holder(conn: &Connection, a: Entid, v: &TypedValue) -> Result<Option<Entid>> {
    let mut statement = conn.prepare_cached(
        "SELECT e FROM datoms WHERE a = ?1 AND v = ?2 AND t = ?3 AND avet = 1 LIMIT 1",
    )?;
    Ok(statement
        .query_row(params![a, SqlParam(v), v.value_type().tag()], |row| {
            row.get(0)
        })
        .optional()?)
}

/// Whether any entity holds a value of attribute `a`.
pub fn in_use(conn: &Connection, a: Entid) -> Result<bool> {
    let mut statement = conn.prepare_cached("SELECT 1 FROM datoms WHERE a = ?1 LIMIT 1")?;
    Ok(statement.exists(params![a])?)
}

/// Every current datom of entity `e`, as (a, v), in attribute order.
pub fn entity(conn: &Connection, e: Entid) -> Result<Vec<(Entid, TypedValue)>> {
    let mut statement =
        conn.prepare_cached("SELECT a, v, t FROM datoms WHERE e = ?1 ORDER BY a, v")?;
    let mut rows = statement.query(params![e])?;
    let mut datoms = Vec::new();
    while let Some(row) = rows.next()? {
        datoms.push((row.get(0)?, from_sql(row.get_ref(1)?, row.get(2)?)?));
    }
    Ok(datoms)
}

/// Every current datom whose ref value is `e`, as (entity, attribute).
pub fn referrers(conn: &Connection, e: Entid) -> Result<Vec<(Entid, Entid)>> {
    let mut statement = conn.prepare_cached("SELECT e, a FROM datoms WHERE v = ?1 AND t = 0")?;
    let rows = statement.query_map(params![e], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
