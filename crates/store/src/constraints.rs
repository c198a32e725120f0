//! Constraints a transaction must keep, as Datomic declares them:
//!
//! - **Attribute predicates** (`:db.attr/preds` on an attribute: names of
//!   functions registered on the store, `Store::register_function`, that
//!   take the value and return a boolean): every value the transaction
//!   asserts for the attribute must pass each one.
//! - **Entity specs** (`[:db/add e :db/ensure :some/spec]`): the spec
//!   entity's `:db.entity/attrs` must all be held by `e` once the
//!   transaction is applied, and each of its `:db.entity/preds` (names of
//!   entity predicates registered on the store,
//!   `Store::register_entity_predicate`) called with the database as the
//!   transaction leaves it and `e` must return `true`. The `:db/ensure`
//!   datom is never stored: the check is its only effect.
//!
//! A violation — a predicate returning `false`, failing or panicking
//! included — fails the transaction with [`Error::Constraint`]
//! (`:error/constraint`), naming the attribute, or the spec and the
//! predicate.

use std::collections::HashMap;

use factlite_core::bootstrap::{DB_ATTR_PREDS, DB_ENSURE, DB_ENTITY_ATTRS, DB_ENTITY_PREDS};
use factlite_core::{Entid, Schema, TypedValue};
use factlite_edn::{Keyword, Value};
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::functions::Functions;
use crate::transact::TxRecord;
use crate::Db;

/// Takes the `:db/ensure` assertions out of a record (they are checks, not
/// datoms): each entity with the spec it must meet.
pub fn take_ensures(record: &mut TxRecord) -> Vec<(Entid, Entid)> {
    let mut ensures = Vec::new();
    record.asserted.retain(|(e, a, v)| match (a, v) {
        (&DB_ENSURE, TypedValue::Ref(spec)) => {
            ensures.push((*e, *spec));
            false
        }
        _ => true,
    });
    ensures
}

/// The string values of attribute `a` of entity `e` in the current state.
fn strings(conn: &Connection, e: Entid, a: Entid) -> Result<Vec<String>> {
    let mut statement = conn.prepare_cached("SELECT v FROM datoms WHERE e = ?1 AND a = ?2")?;
    let rows = statement.query_map([e, a], |row| row.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn shown(schema: &Schema, attribute: Entid) -> String {
    schema.attribute(attribute).map_or_else(
        || format!("attribute {attribute}"),
        |a| Value::Keyword(a.ident.clone()).to_string(),
    )
}

/// Every value the record asserts passes its attribute's predicates (read
/// before the record is applied).
pub fn check_attribute_predicates(
    conn: &Connection,
    schema: &Schema,
    functions: &Functions,
    record: &TxRecord,
) -> Result<()> {
    let mut predicates: HashMap<Entid, Vec<String>> = HashMap::new();
    for (e, a, v) in &record.asserted {
        if !predicates.contains_key(a) {
            predicates.insert(*a, strings(conn, *a, DB_ATTR_PREDS)?);
        }
        let names = predicates.get(a).map(Vec::as_slice).unwrap_or_default();
        for name in names {
            let value = v.to_edn();
            match functions.predicate(name, &value) {
                Some(Ok(true)) => {}
                Some(Ok(false)) => {
                    return Err(Error::Constraint(format!(
                        "value {value} of {} for entity {e} fails its predicate {name}",
                        shown(schema, *a)
                    )))
                }
                Some(Err(message)) => return Err(Error::Constraint(message)),
                None => {
                    return Err(Error::Constraint(format!(
                        "{} names the predicate {name}, which is not registered on this store \
                         (Store::register_function, returning bool)",
                        shown(schema, *a)
                    )))
                }
            }
        }
    }
    Ok(())
}

/// Each entity meets its spec once the transaction is applied: `applied`
/// reads that state, inside the write transaction.
pub fn check_entity_specs(
    applied: &Db,
    schema: &Schema,
    functions: &Functions,
    ensures: &[(Entid, Entid)],
) -> Result<()> {
    let conn = &*applied.store().connection();
    for &(e, spec) in ensures {
        let spec_name = schema.ident(spec).map_or_else(
            || format!("entity {spec}"),
            |k| Value::Keyword(k.clone()).to_string(),
        );
        let mut required = strings(conn, spec, DB_ENTITY_ATTRS)?;
        let mut predicates = strings(conn, spec, DB_ENTITY_PREDS)?;
        if required.is_empty() && predicates.is_empty() {
            return Err(Error::Constraint(format!(
                "{spec_name}, named by :db/ensure, is not an entity spec: it has no \
                 :db.entity/attrs and no :db.entity/preds"
            )));
        }
        required.sort();
        let mut missing = Vec::new();
        for text in &required {
            let keyword = Keyword::from_str_lossy(text);
            let held = match schema.attribute_named(&keyword) {
                Some(attribute) => conn
                    .prepare_cached("SELECT 1 FROM datoms WHERE e = ?1 AND a = ?2 LIMIT 1")?
                    .exists([e, attribute.id])?,
                None => false,
            };
            if !held {
                missing.push(Value::Keyword(keyword).to_string());
            }
        }
        if !missing.is_empty() {
            return Err(Error::Constraint(format!(
                "entity {e} does not meet the spec {spec_name}: it lacks {}",
                missing.join(", ")
            )));
        }
        predicates.sort();
        for name in &predicates {
            let failed = |why: String| {
                Error::Constraint(format!(
                    "entity {e} does not meet the spec {spec_name}: its predicate {name} {why}"
                ))
            };
            match functions.call_entity_predicate(name, applied, e) {
                Some(Ok(true)) => {}
                Some(Ok(false)) => return Err(failed("returned false".to_string())),
                Some(Err(message)) => return Err(failed(format!("failed: {message}"))),
                None => {
                    return Err(Error::Constraint(format!(
                        "the spec {spec_name} names the entity predicate {name}, which is not \
                         registered on this store (Store::register_entity_predicate)"
                    )))
                }
            }
        }
    }
    Ok(())
}
