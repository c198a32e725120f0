//! Excision, as Datomic has it: a transaction that asserts a new entity
//! with `:db/excise e` (and optionally `:db.excise/attrs [..]`,
//! `:db.excise/before` an instant, `:db.excise/beforeT` a transaction id)
//! removes entity `e`'s datoms — all of them, only those of the named
//! attributes, only those of transactions before the point, or both —
//! from the present (`datoms`, the full-text index, `attribute_stats`) and
//! from the past (the `log` and its indexes), for data that must be
//! forgotten. The excision entity itself stays, as the record of what was
//! done, and can be queried like any other.
//!
//! What is removed is every log entry of `e` (of the attributes) whose
//! transaction is before the *bound*: the excising transaction itself,
//! `:db.excise/beforeT`, or the first transaction whose `:db/txInstant`
//! is at or after `:db.excise/before`, whichever comes first. The current
//! datoms among them stop holding. Datomic keeps the retraction of a
//! value whose assertion was excised when the retraction is at or after
//! the bound, so the history would still show the value; here such a
//! retraction goes with its assertion, so what the log holds of a datom
//! still starts with an assertion and alternates, and no view of time
//! sees an excised value. A composite tuple (`:db/tupleAttrs`) that holds
//! an excised attribute's value is excised with it.
//!
//! The two halves of the transactor see an excision as they see any
//! write: [`plan`], after resolution, checks the request and adds the
//! current datoms it removes to the record's retractions (so the report,
//! the views and a replicated follower see them stop holding); `apply`
//! asks [`requested`] for the excisions a record's datoms make, logs no
//! retraction for an excised datom ([`covers_current`]) and removes the
//! log's entries ([`purge`]). Both read the request from the record's own
//! datoms, so a follower applying the record does what the leader did.
//!
//! Refused, with nothing changed: an entity that holds nothing, schema
//! entities (the schema partition: attributes, idents, built-ins) and
//! transactions, the record of an excision (as target, or changed later),
//! `:db.excise/attrs` naming something other than an attribute, a
//! `:db.excise/beforeT` that is not a transaction id, excision attributes
//! without `:db/excise`, and an excision recorded on an entity that
//! already held facts.

use std::collections::BTreeSet;

use factlite_core::bootstrap::{
    DB_EXCISE, DB_EXCISE_ATTRS, DB_EXCISE_BEFORE, DB_EXCISE_BEFORE_T, DB_TX_INSTANT,
    EXCISION_ATTRIBUTES,
};
use factlite_core::{Datom, Entid, Partition, Schema, TupleShape, TypedValue};
use factlite_edn::Value;
use factlite_planner::LOGGED_ATTRIBUTES;
use rusqlite::{params, Connection, OptionalExtension};

use crate::encode::from_sql;
use crate::error::{Error, Result};
use crate::transact::TxRecord;

/// One excision, as a transaction's datoms request it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excision {
    /// The excision entity: its datoms are the record of the excision.
    pub record: Entid,
    /// The entity whose datoms go.
    pub entity: Entid,
    /// The attributes whose datoms go (with the composite tuples that
    /// hold them); empty: every attribute.
    pub attributes: Vec<Entid>,
    /// Only the datoms of transactions before this one go.
    pub bound: Entid,
}

impl Excision {
    /// Whether the datom `[e a _ tx]` is one this excision removes.
    fn covers(&self, e: Entid, a: Entid, tx: Entid) -> bool {
        self.entity == e
            && tx < self.bound
            && (self.attributes.is_empty() || self.attributes.contains(&a))
    }

    /// The attributes one by one, `None` standing for every attribute.
    fn attribute_filters(&self) -> Vec<Option<Entid>> {
        if self.attributes.is_empty() {
            vec![None]
        } else {
            self.attributes.iter().copied().map(Some).collect()
        }
    }
}

/// What one excision entity of a transaction asserts.
#[derive(Default)]
struct Request {
    entity: Option<Entid>,
    attributes: Vec<Entid>,
    before: Option<i64>,
    before_t: Option<i64>,
}

/// The excisions the asserted datoms `asserted` of transaction `tx`
/// request, in the order their excision entities first appear. The
/// request is read as it is: [`plan`] has judged it.
pub fn requested<'d>(
    conn: &Connection,
    schema: &Schema,
    tx: Entid,
    asserted: impl Iterator<Item = (Entid, Entid, &'d TypedValue)>,
) -> Result<Vec<Excision>> {
    let mut requests: Vec<(Entid, Request)> = Vec::new();
    for (e, a, v) in asserted.filter(|(_, a, _)| EXCISION_ATTRIBUTES.contains(a)) {
        let at = match requests.iter().position(|(record, _)| *record == e) {
            Some(at) => at,
            None => {
                requests.push((e, Request::default()));
                requests.len() - 1
            }
        };
        let request = &mut requests[at].1;
        match (a, v) {
            (DB_EXCISE, TypedValue::Ref(target)) => request.entity = Some(*target),
            (DB_EXCISE_ATTRS, TypedValue::Ref(attribute)) => request.attributes.push(*attribute),
            (DB_EXCISE_BEFORE, TypedValue::Instant(instant)) => request.before = Some(*instant),
            (DB_EXCISE_BEFORE_T, TypedValue::Long(t)) => request.before_t = Some(*t),
            _ => {}
        }
    }
    let mut excisions = Vec::with_capacity(requests.len());
    for (record, request) in requests {
        let Some(entity) = request.entity else {
            return Err(Error::Schema(format!(
                "entity {record} has excision attributes but no :db/excise naming the entity to excise"
            )));
        };
        let mut bound = tx.min(request.before_t.unwrap_or(tx));
        if let Some(instant) = request.before {
            bound = bound.min(first_transaction_at(conn, instant, tx)?);
        }
        excisions.push(Excision {
            record,
            entity,
            attributes: with_composites(schema, request.attributes),
            bound,
        });
    }
    Ok(excisions)
}

/// The first transaction before `tx` whose instant is at or after
/// `instant`; `tx` when there is none.
fn first_transaction_at(conn: &Connection, instant: i64, tx: Entid) -> Result<Entid> {
    let first: Option<Entid> = conn
        .prepare_cached(
            "SELECT min(e) FROM datoms WHERE a = ?1 AND avet = 1 AND v >= ?2 AND e < ?3",
        )?
        .query_row(params![DB_TX_INSTANT, instant, tx], |row| row.get(0))?;
    Ok(first.unwrap_or(tx))
}

/// The attributes with every composite tuple attribute that holds one of
/// them added; empty stays empty (every attribute).
fn with_composites(schema: &Schema, mut attributes: Vec<Entid>) -> Vec<Entid> {
    if attributes.is_empty() {
        return attributes;
    }
    for attribute in schema.attributes() {
        if let Some(TupleShape::Composite(components)) = &attribute.tuple {
            if components.iter().any(|(c, _)| attributes.contains(c))
                && !attributes.contains(&attribute.id)
            {
                attributes.push(attribute.id);
            }
        }
    }
    attributes
}

/// Judges the excisions a resolved record requests and adds the current
/// datoms they remove to its retractions (once each). `replaying`: a
/// dump's transaction, whose target's datoms the dump no longer holds, so
/// an excision that finds nothing is kept as it is.
pub fn plan(
    conn: &Connection,
    schema: &Schema,
    record: &mut TxRecord,
    replaying: bool,
) -> Result<()> {
    if let Some((e, a, _)) = record
        .retracted
        .iter()
        .find(|(_, a, _)| EXCISION_ATTRIBUTES.contains(a))
    {
        return Err(Error::Schema(format!(
            "{} of entity {e} is part of the record of an excision, which is kept as it is: it cannot be retracted or replaced",
            shown(schema, *a)
        )));
    }
    let asserted = record.asserted.iter().map(|(e, a, v)| (*e, *a, v));
    let excisions = requested(conn, schema, record.tx, asserted)?;
    if excisions.is_empty() {
        return Ok(());
    }
    let mut retracted: BTreeSet<(Entid, Entid, TypedValue)> =
        record.retracted.iter().cloned().collect();
    for excision in &excisions {
        check(conn, schema, record, excision, replaying)?;
        for datom in current_datoms(conn, excision)? {
            if retracted.insert(datom.clone()) {
                record.retracted.push(datom);
            }
        }
    }
    Ok(())
}

/// Refuses an excision that cannot be done.
fn check(
    conn: &Connection,
    schema: &Schema,
    record: &TxRecord,
    excision: &Excision,
    replaying: bool,
) -> Result<()> {
    let target = excision.entity;
    if holds_facts(conn, excision.record)? {
        return Err(Error::Schema(format!(
            "entity {} already holds facts: an excision is recorded on a new entity of its own \
             (an entity map without :db/id, or a new tempid)",
            excision.record
        )));
    }
    match Partition::of(target) {
        Some(Partition::User) => {}
        Some(Partition::Db) => {
            return Err(Error::Schema(format!(
                "entity {target} is part of the schema (an attribute, an ident or a built-in \
                 entity): only entities of the user partition can be excised"
            )))
        }
        _ => {
            return Err(Error::Schema(format!(
            "entity {target} is a transaction: only entities of the user partition can be excised"
        )))
        }
    }
    let is_excision_record: bool = conn
        .prepare_cached("SELECT 1 FROM datoms WHERE e = ?1 AND a = ?2 LIMIT 1")?
        .exists(params![target, DB_EXCISE])?;
    if is_excision_record {
        return Err(Error::Schema(format!(
            "entity {target} is the record of an excision, which is kept: it cannot be excised"
        )));
    }
    for attribute in &excision.attributes {
        if schema.attribute(*attribute).is_none() {
            return Err(Error::UnknownAttribute {
                attribute: format!(
                    "{attribute} (named by :db.excise/attrs, which takes attributes)"
                ),
            });
        }
    }
    for (e, a, v) in &record.asserted {
        if let (true, DB_EXCISE_BEFORE_T, TypedValue::Long(t)) = (*e == excision.record, *a, v) {
            if Partition::of(*t) != Some(Partition::Tx) {
                return Err(Error::UnknownEntity(format!(
                    ":db.excise/beforeT {t} is not a transaction id (it takes the id of a \
                     transaction, as as-of does)"
                )));
            }
        }
    }
    if !replaying && !holds_facts(conn, target)? {
        return Err(Error::UnknownEntity(format!(
            "entity {target} holds no facts, now or in the past: there is nothing to excise"
        )));
    }
    Ok(())
}

/// Whether the log holds anything of entity `e`.
fn holds_facts(conn: &Connection, e: Entid) -> Result<bool> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT 1 FROM log WHERE a IN ({LOGGED_ATTRIBUTES}) AND e = ?1 LIMIT 1"
        ))?
        .exists(params![e])?)
}

/// The current datoms an excision removes, as (e, a, v).
fn current_datoms(
    conn: &Connection,
    excision: &Excision,
) -> Result<Vec<(Entid, Entid, TypedValue)>> {
    let mut statement = conn.prepare_cached(
        "SELECT a, v, t FROM datoms WHERE e = ?1 AND tx < ?2 AND (?3 IS NULL OR a = ?3)",
    )?;
    let mut datoms = Vec::new();
    for attribute in excision.attribute_filters() {
        let mut rows = statement.query(params![excision.entity, excision.bound, attribute])?;
        while let Some(row) = rows.next()? {
            let value = from_sql(row.get_ref(1)?, row.get(2)?)?;
            datoms.push((excision.entity, row.get(0)?, value));
        }
    }
    Ok(datoms)
}

/// Whether the current datom `[e a v]`, about to stop holding, is one of
/// the excisions removes (so no retraction of it is logged).
pub fn covers_current(conn: &Connection, excisions: &[Excision], datom: &Datom) -> Result<bool> {
    if !excisions.iter().any(|x| x.entity == datom.e) {
        return Ok(false);
    }
    let asserted_at: Option<Entid> = conn
        .prepare_cached("SELECT tx FROM datoms WHERE e = ?1 AND a = ?2 AND v = ?3 AND t = ?4")?
        .query_row(
            params![
                datom.e,
                datom.a,
                crate::encode::SqlParam(&datom.v),
                datom.v.value_type().tag()
            ],
            |row| row.get(0),
        )
        .optional()?;
    Ok(asserted_at.is_some_and(|tx| excisions.iter().any(|x| x.covers(datom.e, datom.a, tx))))
}

/// Removes from the log every entry an excision covers, and each
/// retraction left without an assertion before it.
pub fn purge(conn: &Connection, excision: &Excision) -> Result<()> {
    // The log's index is by attribute first: its entries of one entity are
    // found by one seek per attribute.
    let mut covered = conn.prepare_cached(&format!(
        "DELETE FROM log WHERE a IN ({LOGGED_ATTRIBUTES}) AND e = ?1 AND tx < ?2
           AND (?3 IS NULL OR a = ?3)"
    ))?;
    let mut orphaned = conn.prepare_cached(&format!(
        "DELETE FROM log WHERE a IN ({LOGGED_ATTRIBUTES}) AND e = ?1 AND (?2 IS NULL OR a = ?2)
           AND added = 0
           AND NOT EXISTS (SELECT 1 FROM log AS p INDEXED BY log_aevt
                           WHERE p.a = log.a AND p.e = log.e AND p.v = log.v
                             AND p.t = log.t AND p.added = 1 AND p.tx < log.tx)"
    ))?;
    for attribute in excision.attribute_filters() {
        covered.execute(params![excision.entity, excision.bound, attribute])?;
        orphaned.execute(params![excision.entity, attribute])?;
    }
    Ok(())
}

fn shown(schema: &Schema, attribute: Entid) -> String {
    schema.ident(attribute).map_or_else(
        || format!("attribute {attribute}"),
        |k| Value::Keyword(k.clone()).to_string(),
    )
}
