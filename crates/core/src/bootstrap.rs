//! The attributes and idents every store starts with, at fixed entity ids in
//! the schema partition. Their definitions are written as ordinary datoms in
//! the first transaction of a new store, so they can be queried like any
//! other schema.

use factlite_edn::Keyword;

use crate::{Attribute, Cardinality, Entid, Unique, ValueType};

pub const DB_IDENT: Entid = 1;
pub const DB_VALUE_TYPE: Entid = 2;
pub const DB_CARDINALITY: Entid = 3;
pub const DB_UNIQUE: Entid = 4;
pub const DB_IS_COMPONENT: Entid = 5;
pub const DB_INDEX: Entid = 6;
pub const DB_DOC: Entid = 7;
pub const DB_NO_HISTORY: Entid = 8;
pub const DB_FULLTEXT: Entid = 9;
pub const DB_TX_INSTANT: Entid = 10;

/// The first id of the enum idents (`:db.type/...`, `:db.cardinality/...`).
const FIRST_ENUM: Entid = 20;

/// The first id that user-defined schema entities get.
pub const FIRST_USER_SCHEMA_ID: Entid = 100;

/// The schema attributes whose change alters the schema.
pub const SCHEMA_ATTRIBUTES: [Entid; 9] = [
    DB_IDENT,
    DB_VALUE_TYPE,
    DB_CARDINALITY,
    DB_UNIQUE,
    DB_IS_COMPONENT,
    DB_INDEX,
    DB_DOC,
    DB_NO_HISTORY,
    DB_FULLTEXT,
];

fn kw(namespace: &str, name: &str) -> Keyword {
    Keyword::namespaced(namespace, name)
}

fn attribute(id: Entid, name: &str, value_type: ValueType) -> Attribute {
    Attribute::new(id, kw("db", name), value_type)
}

/// The built-in attributes.
pub fn attributes() -> Vec<Attribute> {
    vec![
        Attribute {
            unique: Some(Unique::Identity),
            ..attribute(DB_IDENT, "ident", ValueType::Keyword)
        },
        attribute(DB_VALUE_TYPE, "valueType", ValueType::Ref),
        attribute(DB_CARDINALITY, "cardinality", ValueType::Ref),
        attribute(DB_UNIQUE, "unique", ValueType::Ref),
        attribute(DB_IS_COMPONENT, "isComponent", ValueType::Boolean),
        attribute(DB_INDEX, "index", ValueType::Boolean),
        attribute(DB_DOC, "doc", ValueType::String),
        attribute(DB_NO_HISTORY, "noHistory", ValueType::Boolean),
        attribute(DB_FULLTEXT, "fulltext", ValueType::Boolean),
        Attribute {
            index: true,
            ..attribute(DB_TX_INSTANT, "txInstant", ValueType::Instant)
        },
    ]
}

/// The built-in enum idents with their ids: value types, cardinalities,
/// uniqueness kinds and partitions.
pub fn enum_idents() -> Vec<(Entid, Keyword)> {
    let mut idents: Vec<Keyword> = ValueType::ALL.iter().map(|t| t.ident()).collect();
    idents.extend([Cardinality::One.ident(), Cardinality::Many.ident()]);
    idents.extend([Unique::Identity.ident(), Unique::Value.ident()]);
    idents.extend([
        kw("db.part", "db"),
        kw("db.part", "tx"),
        kw("db.part", "user"),
    ]);
    idents
        .into_iter()
        .enumerate()
        .map(|(i, k)| (FIRST_ENUM + i as Entid, k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_ids_stay_below_user_schema_ids() {
        let idents = enum_idents();
        assert!(idents.iter().all(|(id, _)| *id < FIRST_USER_SCHEMA_ID));
        assert!(attributes().iter().all(|a| a.id < FIRST_ENUM));
    }
}
