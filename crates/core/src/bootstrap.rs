//! The attributes and idents every store starts with, at fixed entity ids in
//! the schema partition. Their definitions are written as ordinary datoms in
//! the first transaction of a new store, so they can be queried like any
//! other schema.
//!
//! Ids are never moved: an id, once given to a built-in, keeps it in every
//! store. Ids 1–10 are the `:db/*` attributes of the first layout, 11–13 the
//! `:db.vocabulary/*` attributes (added by layout version 2, which writes
//! them into older stores when it opens them), 14–17 the constraint
//! attributes `:db/ensure`, `:db.entity/attrs`, `:db.entity/preds` and
//! `:db.attr/preds` (added by layout version 3), 18–19 the tuple attributes
//! `:db/tupleType` and `:db/tupleTypes`, and the enum idents start at 20.
//! The enum idents stay below 90; 90–99 hold the built-in attributes that
//! did not fit below 20: 90 is `:db/tupleAttrs`, 91–94 the excision
//! attributes `:db/excise`, `:db.excise/attrs`, `:db.excise/before` and
//! `:db.excise/beforeT` ([`EXCISION_ATTRIBUTES`], layout version 7). The
//! three tuple attributes, `:db.type/tuple` and `:db.type/float` arrive
//! with the tuple layout ([`TUPLE_ATTRIBUTES`], [`TUPLE_VALUE_TYPES`]);
//! `:db.type/bigint` (40) and `:db.type/bigdec` (41) with layout 6
//! ([`BIG_NUMBER_VALUE_TYPES`]).

use factlite_edn::Keyword;

use crate::{Attribute, Cardinality, Entid, TupleShape, Unique, ValueType};

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
/// `:db.vocabulary/name`: the keyword naming a vocabulary (unique identity).
pub const DB_VOCABULARY_NAME: Entid = 11;
/// `:db.vocabulary/version`: the installed version of a vocabulary (long).
pub const DB_VOCABULARY_VERSION: Entid = 12;
/// `:db.vocabulary/attributes`: the attributes and enum idents a
/// vocabulary declares (refs, cardinality many).
pub const DB_VOCABULARY_ATTRIBUTES: Entid = 13;

/// `:db/ensure`: the entity spec a transaction checks an entity against
/// (a ref; never stored: the check is its only effect).
pub const DB_ENSURE: Entid = 14;
/// `:db.entity/attrs`: the attributes an entity spec requires (keywords).
pub const DB_ENTITY_ATTRS: Entid = 15;
/// `:db.entity/preds`: the predicates of an entity spec (function names).
pub const DB_ENTITY_PREDS: Entid = 16;
/// `:db.attr/preds`: the predicates every value of an attribute must pass
/// (names of functions registered on the store).
pub const DB_ATTR_PREDS: Entid = 17;

/// `:db/tupleType`: the value type of a homogeneous tuple attribute's
/// elements (a ref to a `:db.type/...` ident).
pub const DB_TUPLE_TYPE: Entid = 18;
/// `:db/tupleTypes`: the value types of a heterogeneous tuple attribute's
/// elements (a tuple of `:db.type/...` keywords).
pub const DB_TUPLE_TYPES: Entid = 19;
/// `:db/tupleAttrs`: the attributes a composite tuple attribute is made of
/// (a tuple of attribute idents).
pub const DB_TUPLE_ATTRS: Entid = 90;

/// `:db/excise`: the entity an excision removes the datoms of (a ref; the
/// excision entity that holds it is its record, kept).
pub const DB_EXCISE: Entid = 91;
/// `:db.excise/attrs`: the attributes an excision is limited to (refs to
/// attributes, cardinality many; none: every attribute).
pub const DB_EXCISE_ATTRS: Entid = 92;
/// `:db.excise/before`: an excision removes only the datoms of
/// transactions whose `:db/txInstant` is before this instant.
pub const DB_EXCISE_BEFORE: Entid = 93;
/// `:db.excise/beforeT`: an excision removes only the datoms of
/// transactions before this one (a transaction id, as a long).
pub const DB_EXCISE_BEFORE_T: Entid = 94;

/// The excision attributes the layouts before 7 lacked: a store of an
/// older layout gets them when it is opened.
pub const EXCISION_ATTRIBUTES: [Entid; 4] = [
    DB_EXCISE,
    DB_EXCISE_ATTRS,
    DB_EXCISE_BEFORE,
    DB_EXCISE_BEFORE_T,
];

/// The tuple attributes the layouts before the tuple layout lacked: a
/// store of an older layout gets them when it is opened.
pub const TUPLE_ATTRIBUTES: [Entid; 3] = [DB_TUPLE_TYPE, DB_TUPLE_TYPES, DB_TUPLE_ATTRS];

/// The constraint attributes layouts 1 and 2 lacked: a store of an older
/// layout gets them when it is opened.
pub const CONSTRAINT_ATTRIBUTES: [Entid; 4] =
    [DB_ENSURE, DB_ENTITY_ATTRS, DB_ENTITY_PREDS, DB_ATTR_PREDS];

/// The built-in attributes the first layout lacked: a store of an older
/// layout gets them when it is opened.
pub const VOCABULARY_ATTRIBUTES: [Entid; 3] = [
    DB_VOCABULARY_NAME,
    DB_VOCABULARY_VERSION,
    DB_VOCABULARY_ATTRIBUTES,
];

/// The value types added after the first layout (`:db.type/uri` and
/// `:db.type/symbol`, layout 3): their idents come after the first
/// layout's enum idents.
pub const LATER_VALUE_TYPES: [ValueType; 2] = [ValueType::Uri, ValueType::Symbol];

/// The value types the tuple layout adds (`:db.type/tuple` and
/// `:db.type/float`): their idents come after [`LATER_VALUE_TYPES`]'.
pub const TUPLE_VALUE_TYPES: [ValueType; 2] = [ValueType::Tuple, ValueType::Float];

/// The value types layout 6 adds (`:db.type/bigint` and
/// `:db.type/bigdec`): their idents come after [`TUPLE_VALUE_TYPES`]'.
pub const BIG_NUMBER_VALUE_TYPES: [ValueType; 2] = [ValueType::BigInt, ValueType::BigDec];

/// The first id of the enum idents (`:db.type/...`, `:db.cardinality/...`).
const FIRST_ENUM: Entid = 20;

/// The first id that user-defined schema entities get.
pub const FIRST_USER_SCHEMA_ID: Entid = 100;

/// The schema attributes whose change alters the schema.
pub const SCHEMA_ATTRIBUTES: [Entid; 12] = [
    DB_IDENT,
    DB_VALUE_TYPE,
    DB_CARDINALITY,
    DB_UNIQUE,
    DB_IS_COMPONENT,
    DB_INDEX,
    DB_DOC,
    DB_NO_HISTORY,
    DB_FULLTEXT,
    DB_TUPLE_TYPE,
    DB_TUPLE_TYPES,
    DB_TUPLE_ATTRS,
];

fn kw(namespace: &str, name: &str) -> Keyword {
    Keyword::namespaced(namespace, name)
}

fn attribute(id: Entid, name: &str, value_type: ValueType) -> Attribute {
    Attribute::new(id, kw("db", name), value_type)
}

/// A built-in attribute holding a tuple of keywords.
fn keyword_tuple(id: Entid, name: &str) -> Attribute {
    Attribute {
        tuple: Some(TupleShape::Homogeneous(ValueType::Keyword)),
        ..attribute(id, name, ValueType::Tuple)
    }
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
        Attribute {
            unique: Some(Unique::Identity),
            ..Attribute::new(
                DB_VOCABULARY_NAME,
                kw("db.vocabulary", "name"),
                ValueType::Keyword,
            )
        },
        Attribute::new(
            DB_VOCABULARY_VERSION,
            kw("db.vocabulary", "version"),
            ValueType::Long,
        ),
        Attribute {
            cardinality: Cardinality::Many,
            ..Attribute::new(
                DB_VOCABULARY_ATTRIBUTES,
                kw("db.vocabulary", "attributes"),
                ValueType::Ref,
            )
        },
        attribute(DB_ENSURE, "ensure", ValueType::Ref),
        Attribute {
            cardinality: Cardinality::Many,
            ..Attribute::new(
                DB_ENTITY_ATTRS,
                kw("db.entity", "attrs"),
                ValueType::Keyword,
            )
        },
        Attribute {
            cardinality: Cardinality::Many,
            ..Attribute::new(DB_ENTITY_PREDS, kw("db.entity", "preds"), ValueType::String)
        },
        Attribute {
            cardinality: Cardinality::Many,
            ..Attribute::new(DB_ATTR_PREDS, kw("db.attr", "preds"), ValueType::String)
        },
        attribute(DB_TUPLE_TYPE, "tupleType", ValueType::Ref),
        keyword_tuple(DB_TUPLE_TYPES, "tupleTypes"),
        keyword_tuple(DB_TUPLE_ATTRS, "tupleAttrs"),
        attribute(DB_EXCISE, "excise", ValueType::Ref),
        Attribute {
            cardinality: Cardinality::Many,
            ..Attribute::new(DB_EXCISE_ATTRS, kw("db.excise", "attrs"), ValueType::Ref)
        },
        Attribute::new(
            DB_EXCISE_BEFORE,
            kw("db.excise", "before"),
            ValueType::Instant,
        ),
        Attribute::new(
            DB_EXCISE_BEFORE_T,
            kw("db.excise", "beforeT"),
            ValueType::Long,
        ),
    ]
}

/// The built-in enum idents with their ids: value types, cardinalities,
/// uniqueness kinds and partitions.
pub fn enum_idents() -> Vec<(Entid, Keyword)> {
    // The first layout's value types keep their ids; a type added later
    // comes after the partitions.
    let mut idents: Vec<Keyword> = ValueType::ALL
        .iter()
        .filter(|t| {
            !LATER_VALUE_TYPES.contains(t)
                && !TUPLE_VALUE_TYPES.contains(t)
                && !BIG_NUMBER_VALUE_TYPES.contains(t)
        })
        .map(|t| t.ident())
        .collect();
    idents.extend([Cardinality::One.ident(), Cardinality::Many.ident()]);
    idents.extend([Unique::Identity.ident(), Unique::Value.ident()]);
    idents.extend([
        kw("db.part", "db"),
        kw("db.part", "tx"),
        kw("db.part", "user"),
    ]);
    idents.extend(LATER_VALUE_TYPES.iter().map(|t| t.ident()));
    idents.extend(TUPLE_VALUE_TYPES.iter().map(|t| t.ident()));
    idents.extend(BIG_NUMBER_VALUE_TYPES.iter().map(|t| t.ident()));
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
        assert!(idents.iter().all(|(id, _)| *id < DB_TUPLE_ATTRS));
        assert!(attributes()
            .iter()
            .all(|a| a.id < FIRST_ENUM || (DB_TUPLE_ATTRS..FIRST_USER_SCHEMA_ID).contains(&a.id)));
    }

    /// Existing stores hold these ids: moving one would change the meaning
    /// of their datoms.
    #[test]
    fn built_in_ids_never_move() {
        let ids: Vec<(Entid, String)> = attributes()
            .iter()
            .map(|a| (a.id, a.ident.to_string()))
            .chain(enum_idents().into_iter().map(|(id, k)| (id, k.to_string())))
            .collect();
        let expected = [
            (1, ":db/ident"),
            (2, ":db/valueType"),
            (3, ":db/cardinality"),
            (4, ":db/unique"),
            (5, ":db/isComponent"),
            (6, ":db/index"),
            (7, ":db/doc"),
            (8, ":db/noHistory"),
            (9, ":db/fulltext"),
            (10, ":db/txInstant"),
            (11, ":db.vocabulary/name"),
            (12, ":db.vocabulary/version"),
            (13, ":db.vocabulary/attributes"),
            (14, ":db/ensure"),
            (17, ":db.attr/preds"),
            (18, ":db/tupleType"),
            (19, ":db/tupleTypes"),
            (36, ":db.type/uri"),
            (37, ":db.type/symbol"),
            (38, ":db.type/tuple"),
            (39, ":db.type/float"),
            (40, ":db.type/bigint"),
            (41, ":db.type/bigdec"),
            (90, ":db/tupleAttrs"),
            (91, ":db/excise"),
            (92, ":db.excise/attrs"),
            (93, ":db.excise/before"),
            (94, ":db.excise/beforeT"),
        ];
        for (id, ident) in expected {
            assert!(
                ids.contains(&(id, ident.to_string())),
                "{ident} must keep id {id}"
            );
        }
        assert_eq!(enum_idents()[0].0, FIRST_ENUM);
    }
}
