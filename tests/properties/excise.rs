//! Excisions for the model-based property tests: read off a tape of their
//! own, after a transaction, an entity the model made (one the log may
//! hold nothing of any more), now and then limited to some attributes or
//! to the datoms before an earlier transaction; and their transaction data.

use factlite_edn::{Keyword, Value};
use indexmap::IndexMap;

use super::generate::{entity_marker, Tape};
use crate::model::excise::Excision;
use crate::model::transact::Model;

/// The user partition's entities: the only ones an excision may name.
fn in_user_partition(id: i64) -> bool {
    id >> 40 == 2
}

/// An excision read off `tape`; none when the model has made no entity.
pub fn excision(model: &Model, tape: &mut Tape) -> Option<Excision> {
    let entities: Vec<i64> = model
        .entities
        .iter()
        .copied()
        .filter(|id| in_user_partition(*id))
        .collect();
    if entities.is_empty() {
        return None;
    }
    let entity = entities[tape.pick(entities.len())];
    let attrs = if tape.flag(40) {
        (0..model.attrs.len()).filter(|_| tape.flag(50)).collect()
    } else {
        Vec::new()
    };
    // The first transaction is the schema's.
    let user_txs = &model.txs[1.min(model.txs.len())..];
    let before =
        (tape.flag(60) && !user_txs.is_empty()).then(|| user_txs[tape.pick(user_txs.len())]);
    Some(Excision {
        entity,
        attrs,
        before,
    })
}

/// The excision as transaction data: `[{:db/excise e ...}]`, the entity
/// marked (see `generate::render_entities`) and `:db.excise/beforeT` as
/// `tx` writes a transaction id.
pub fn tx_data(excision: &Excision, model: &Model, tx: &dyn Fn(i64) -> Value) -> Value {
    let kw = |ns: &str, name: &str| Value::Keyword(Keyword::namespaced(ns, name));
    let mut map = IndexMap::new();
    map.insert(kw("db", "excise"), entity_marker(excision.entity));
    if !excision.attrs.is_empty() {
        let attrs = excision
            .attrs
            .iter()
            .map(|a| Value::Keyword(model.attrs[*a].ident.clone()))
            .collect();
        map.insert(kw("db.excise", "attrs"), Value::Vector(attrs));
    }
    if let Some(before) = excision.before {
        map.insert(kw("db.excise", "beforeT"), tx(before));
    }
    Value::Vector(vec![Value::Map(map)])
}
