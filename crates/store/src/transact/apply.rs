//! The second half of the transactor: writes a [`super::TxRecord`]'s
//! datoms (moved into its [`TxReport`]) into the tables, inside the
//! caller's SQLite transaction, and checks the schema
//! changes that can only be judged against the written state.
//!
//! `:db/noHistory true` attributes keep no history, as in Datomic: when a
//! datom of such an attribute stops holding (retracted, replaced as a
//! cardinality-one value, or by `:db/retractEntity`), its assertion is
//! deleted from the log and the retraction is not logged. So the log only
//! ever holds the assertions of their datoms that still hold, each at the
//! transaction that asserted it, and:
//! - the current state (and a since view) is exact;
//! - as-of views, history views, the log of a transaction (`tx_range`) and
//!   a snapshot older than the newest transaction (which reads as of its
//!   basis) see of such an attribute only the values that still hold now
//!   and were asserted by then: a replaced value is gone, not shown as it
//!   was;
//! - the transaction's report (and listeners) still get every datom.
//!
//! The attribute's definition when the transaction starts decides; turning
//! `:db/noHistory` on keeps the history already logged until each of those
//! datoms stops holding.
//!
//! An excision (see `excision`) is applied here too: the current datoms it
//! removes are among the retractions, deleted with no retraction logged,
//! and then the log's entries it covers are removed.

use std::collections::BTreeMap;

use factlite_core::{bootstrap, Datom, Entid, Schema, TypedValue, ValueType};
use factlite_edn::Value;
use rusqlite::{params, Connection, OptionalExtension, ToSql};

use super::TxReport;
use crate::encode::SqlParam;
use crate::error::{Error, Result};
use crate::{excision, reads, schema_io};

/// Writes a transaction's datoms (its report's, in log order) and leaves
/// the partitions' next ids at `next_ids` (see `partitions`). Returns the
/// new schema when the transaction changed it. `old_schema` is the schema
/// it was resolved against.
pub fn apply(
    conn: &Connection,
    old_schema: &Schema,
    report: &TxReport,
    next_ids: [Entid; 3],
) -> Result<Option<Schema>> {
    let touches_schema = report
        .datoms
        .iter()
        .any(|datom| bootstrap::SCHEMA_ATTRIBUTES.contains(&datom.a));
    let mut delete =
        conn.prepare_cached("DELETE FROM datoms WHERE e = ?1 AND a = ?2 AND v = ?3")?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO datoms (e, a, v, t, tx, avet) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut log = conn.prepare_cached(
        "INSERT INTO log (tx, seq, e, a, v, t, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut counts: BTreeMap<Entid, i64> = BTreeMap::new();
    let mut seq: i64 = 0;
    let mut log_row = |e: &Entid, a: &Entid, v: &TypedValue, added: bool| -> Result<()> {
        let tag = v.value_type().tag();
        execute_once(
            &mut log,
            params![report.tx, seq, e, a, SqlParam(v), tag, added],
        )?;
        seq += 1;
        Ok(())
    };
    let mut forget = conn.prepare_cached("DELETE FROM log WHERE e = ?1 AND a = ?2 AND v = ?3")?;
    let asserted = report.datoms.iter().filter(|datom| datom.added);
    let excisions = excision::requested(
        conn,
        old_schema,
        report.tx,
        asserted.map(|datom| (datom.e, datom.a, &datom.v)),
    )?;
    let forgets = !excisions.is_empty()
        || report.datoms.iter().any(|datom| {
            !datom.added
                && old_schema
                    .attribute(datom.a)
                    .is_some_and(|attr| attr.no_history)
        });
    let statistics =
        crate::statistics::Update::begin(conn, report.tx, report.datoms.len(), forgets)?;
    let mut forgot_text = false;
    // Retractions come first in the report, then assertions.
    for datom in report.datoms.iter().filter(|datom| !datom.added) {
        let Datom { e, a, v, .. } = datom;
        let excised = !excisions.is_empty() && excision::covers_current(conn, &excisions, datom)?;
        execute_once(&mut delete, params![e, a, SqlParam(v)])?;
        let attribute = old_schema.attribute(*a);
        if excised {
            forgot_text |= attribute.is_some_and(|attr| attr.fulltext);
        } else if attribute.is_some_and(|attr| attr.no_history) {
            execute_once(&mut forget, params![e, a, SqlParam(v)])?;
        } else {
            log_row(e, a, v, false)?;
        }
        *counts.entry(*a).or_default() -= 1;
        if attribute.is_some_and(|attr| attr.fulltext) {
            remove_fulltext(conn, *e, *a, v)?;
        }
    }
    // A new attribute's own datoms may appear in this record: the provisional
    // schema is not at hand, so avet for new attributes is fixed up below.
    for Datom { e, a, v, .. } in report.datoms.iter().filter(|datom| datom.added) {
        let attribute = old_schema.attribute(*a);
        let avet = attribute.is_some_and(|attr| attr.in_avet());
        execute_once(
            &mut insert,
            params![e, a, SqlParam(v), v.value_type().tag(), report.tx, avet],
        )?;
        log_row(e, a, v, true)?;
        *counts.entry(*a).or_default() += 1;
        if attribute.is_some_and(|attr| attr.fulltext) {
            add_fulltext(conn, *e, *a, v)?;
        }
    }
    for excision in &excisions {
        excision::purge(conn, excision)?;
    }
    if forgot_text {
        // Deleted rows leave their terms in the index's segments until
        // they are merged: merge them all, so the text is gone.
        conn.prepare_cached("INSERT INTO fulltext (fulltext) VALUES ('optimize')")?
            .execute([])?;
    }
    statistics.finish(conn, report.tx, &counts)?;
    crate::partitions::record(conn, next_ids)?;
    if !touches_schema {
        return Ok(None);
    }
    check_builtins_unchanged(report, old_schema)?;
    check_attributes_named(conn, report)?;
    check_cardinality_kept(conn, report, old_schema)?;
    let new_schema = schema_io::load(conn)?;
    check_schema_change(conn, old_schema, &new_schema)?;
    Ok(Some(new_schema))
}

/// Runs a statement once and lets go of its parameters: a cached statement
/// keeps the copies SQLite made of them until it is used again or put back
/// in the cache, so a large value would stay held once per statement until
/// the transaction ends.
fn execute_once(
    statement: &mut rusqlite::CachedStatement<'_>,
    params: &[&dyn ToSql],
) -> Result<()> {
    let result = statement.execute(params);
    statement.clear_bindings();
    result?;
    Ok(())
}

fn add_fulltext(conn: &Connection, e: Entid, a: Entid, v: &TypedValue) -> Result<()> {
    if let TypedValue::String(text) = v {
        conn.prepare_cached("INSERT INTO fulltext (v, e, a) VALUES (?1, ?2, ?3)")?
            .execute(params![text, e, a])?;
    }
    Ok(())
}

fn remove_fulltext(conn: &Connection, e: Entid, a: Entid, v: &TypedValue) -> Result<()> {
    if let TypedValue::String(text) = v {
        conn.prepare_cached("DELETE FROM fulltext WHERE e = ?1 AND a = ?2 AND v = ?3")?
            .execute(params![e, a, text])?;
    }
    Ok(())
}

/// An entity this transaction gives a `:db/valueType` or
/// `:db/cardinality` is an attribute, and an attribute has a `:db/ident`:
/// without one it would be no attribute anything could name (Datomic's
/// incomplete attribute install).
fn check_attributes_named(conn: &Connection, report: &TxReport) -> Result<()> {
    let mut has_ident =
        conn.prepare_cached("SELECT 1 FROM datoms WHERE e = ?1 AND a = ?2 LIMIT 1")?;
    for datom in report.datoms.iter().filter(|datom| {
        datom.added
            && matches!(
                datom.a,
                bootstrap::DB_VALUE_TYPE | bootstrap::DB_CARDINALITY
            )
    }) {
        if !has_ident.exists(params![datom.e, bootstrap::DB_IDENT])? {
            return Err(Error::Schema(format!(
                "entity {} is given :db/valueType or :db/cardinality but no :db/ident: an attribute is named by its :db/ident",
                datom.e
            )));
        }
    }
    Ok(())
}

/// The built-in entities (`:db/ident`, `:db.type/long`, ...: the ids below
/// the first user schema id) stay as the store made them: renamed or
/// redefined, a dump could no longer be read back, and every store knows
/// them by their ids.
fn check_builtins_unchanged(report: &TxReport, schema: &Schema) -> Result<()> {
    let builtin = 0..bootstrap::FIRST_USER_SCHEMA_ID;
    match report.datoms.iter().find(|datom| builtin.contains(&datom.e)) {
        Some(datom) => Err(Error::Schema(format!(
            "{} is built in (an attribute or value of the store's own schema); its definition cannot change",
            schema
                .ident(datom.e)
                .map_or(format!("entity {}", datom.e), |ident| Value::Keyword(ident.clone()).to_string())
        ))),
        None => Ok(()),
    }
}

/// An attribute keeps a `:db/cardinality`: it is altered by asserting the
/// other one, never retracted while the attribute stands (Datomic requires
/// it of every attribute; without it the definition would read as one).
fn check_cardinality_kept(conn: &Connection, report: &TxReport, schema: &Schema) -> Result<()> {
    let mut is_attribute =
        conn.prepare_cached("SELECT 1 FROM datoms WHERE e = ?1 AND a = ?2 LIMIT 1")?;
    for datom in report
        .datoms
        .iter()
        .filter(|datom| !datom.added && datom.a == bootstrap::DB_CARDINALITY)
    {
        let replaced = report
            .datoms
            .iter()
            .any(|other| other.added && other.e == datom.e && other.a == bootstrap::DB_CARDINALITY);
        if !replaced && is_attribute.exists(params![datom.e, bootstrap::DB_VALUE_TYPE])? {
            let name = schema.ident(datom.e).map_or(datom.e.to_string(), |ident| {
                Value::Keyword(ident.clone()).to_string()
            });
            return Err(Error::Schema(format!(
                "the :db/cardinality of {name} cannot be retracted; alter it by asserting the other cardinality"
            )));
        }
    }
    Ok(())
}

/// Judges every attribute whose definition changed, and brings the indexes
/// in line with the new definitions.
fn check_schema_change(conn: &Connection, old: &Schema, new: &Schema) -> Result<()> {
    for attribute in new.attributes() {
        let name = Value::Keyword(attribute.ident.clone());
        let previous = old.attribute(attribute.id);
        if attribute.ident.is_reverse() && previous.map(|p| &p.ident) != Some(&attribute.ident) {
            let forward = Value::Keyword(attribute.ident.to_forward());
            return Err(Error::Schema(format!(
                "{name} cannot name an attribute: a name that starts with _ reads as the reverse of {forward}"
            )));
        }
        if let Some(previous) = previous {
            if previous.value_type != attribute.value_type && reads::in_use(conn, attribute.id)? {
                return Err(Error::Schema(format!(
                    "{name} holds values of {}; its value type cannot change to {}",
                    previous.value_type, attribute.value_type
                )));
            }
            if previous.tuple != attribute.tuple && reads::in_use(conn, attribute.id)? {
                return Err(Error::Schema(format!(
                    "{name} holds tuples; what they hold (:db/tupleType, :db/tupleTypes, :db/tupleAttrs) cannot change"
                )));
            }
            if previous.cardinality != attribute.cardinality
                && attribute.cardinality == factlite_core::Cardinality::One
            {
                let several: Option<Entid> = conn
                    .prepare_cached(
                        "SELECT e FROM datoms WHERE a = ?1 GROUP BY e HAVING count(*) > 1 LIMIT 1",
                    )?
                    .query_row(params![attribute.id], |row| row.get(0))
                    .optional()?;
                if let Some(e) = several {
                    return Err(Error::Schema(format!(
                        "{name} cannot become cardinality one: entity {e} holds several values"
                    )));
                }
            }
            if previous.unique.is_none() && attribute.unique.is_some() {
                let mut duplicated = conn.prepare_cached(
                    "SELECT v, t FROM datoms WHERE a = ?1 GROUP BY v, t HAVING count(*) > 1 LIMIT 1",
                )?;
                if duplicated.exists(params![attribute.id])? {
                    return Err(Error::Schema(format!(
                        "{name} cannot become unique: two entities hold the same value"
                    )));
                }
            }
        }
        if attribute.is_component && attribute.value_type != ValueType::Ref {
            return Err(Error::Schema(format!(
                "{name} cannot be a component: it is not a ref"
            )));
        }
        if attribute.fulltext && attribute.value_type != ValueType::String {
            return Err(Error::Schema(format!(
                "{name} cannot be fulltext: it is not a string"
            )));
        }
        if previous.map(|p| p.in_avet()) != Some(attribute.in_avet()) {
            conn.prepare_cached("UPDATE datoms SET avet = ?2 WHERE a = ?1")?
                .execute(params![attribute.id, attribute.in_avet()])?;
        }
        let was_fulltext = previous.is_some_and(|p| p.fulltext);
        if was_fulltext != attribute.fulltext {
            if attribute.fulltext {
                conn.prepare_cached(
                    "INSERT INTO fulltext (v, e, a) SELECT v, e, a FROM datoms WHERE a = ?1",
                )?
                .execute(params![attribute.id])?;
            } else {
                conn.prepare_cached("DELETE FROM fulltext WHERE a = ?1")?
                    .execute(params![attribute.id])?;
            }
        }
    }
    for previous in old.attributes() {
        if new.attribute(previous.id).is_none() && reads::in_use(conn, previous.id)? {
            return Err(Error::Schema(format!(
                "{} holds values; its definition cannot be retracted",
                Value::Keyword(previous.ident.clone())
            )));
        }
    }
    Ok(())
}
