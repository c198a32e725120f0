//! Attributes and the schema: which attributes exist, what values they hold,
//! and the idents (keyword names) of entities.
//!
//! The schema is data: it is read from the datoms of attribute entities
//! (`:db/ident`, `:db/valueType`, ...). This module only holds the decoded
//! form; the store builds it and keeps it current.

use std::collections::HashMap;

use factlite_edn::{Keyword, Value};
use indexmap::IndexMap;

use crate::{Entid, ValueType};

/// How many values an attribute holds per entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cardinality {
    One,
    Many,
}

impl Cardinality {
    /// The ident keyword, `:db.cardinality/one`.
    pub fn ident(self) -> Keyword {
        Keyword::namespaced("db.cardinality", self.name())
    }

    /// The name after `:db.cardinality/`.
    pub fn name(self) -> &'static str {
        match self {
            Cardinality::One => "one",
            Cardinality::Many => "many",
        }
    }

    /// The cardinality an ident names.
    pub fn from_ident(ident: &Keyword) -> Option<Cardinality> {
        match (ident.namespace.as_deref(), ident.name.as_str()) {
            (Some("db.cardinality"), "one") => Some(Cardinality::One),
            (Some("db.cardinality"), "many") => Some(Cardinality::Many),
            _ => None,
        }
    }
}

/// A uniqueness constraint on an attribute's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unique {
    /// Unique, and a tempid asserting a held value resolves to its holder.
    Identity,
    /// Unique; asserting a held value on another entity is an error.
    Value,
}

impl Unique {
    /// The ident keyword, `:db.unique/identity`.
    pub fn ident(self) -> Keyword {
        Keyword::namespaced("db.unique", self.name())
    }

    /// The name after `:db.unique/`.
    pub fn name(self) -> &'static str {
        match self {
            Unique::Identity => "identity",
            Unique::Value => "value",
        }
    }

    /// The uniqueness an ident names.
    pub fn from_ident(ident: &Keyword) -> Option<Unique> {
        match (ident.namespace.as_deref(), ident.name.as_str()) {
            (Some("db.unique"), "identity") => Some(Unique::Identity),
            (Some("db.unique"), "value") => Some(Unique::Value),
            _ => None,
        }
    }
}

/// An attribute as the schema defines it.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub id: Entid,
    pub ident: Keyword,
    pub value_type: ValueType,
    pub cardinality: Cardinality,
    pub unique: Option<Unique>,
    /// `:db/index`: values are kept in the AVET index. Unique attributes are
    /// always indexed.
    pub index: bool,
    pub is_component: bool,
    pub no_history: bool,
    pub fulltext: bool,
    pub doc: Option<String>,
}

impl Attribute {
    /// A cardinality-one attribute with no other options set.
    pub fn new(id: Entid, ident: Keyword, value_type: ValueType) -> Attribute {
        Attribute {
            id,
            ident,
            value_type,
            cardinality: Cardinality::One,
            unique: None,
            index: false,
            is_component: false,
            no_history: false,
            fulltext: false,
            doc: None,
        }
    }

    /// Whether the attribute's values belong in the AVET index.
    pub fn in_avet(&self) -> bool {
        self.index || self.unique.is_some()
    }
}

/// All attributes and idents of a database, at one point in time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    attributes: IndexMap<Entid, Attribute>,
    ident_to_id: HashMap<Keyword, Entid>,
    id_to_ident: HashMap<Entid, Keyword>,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Schema {
        Schema::default()
    }

    /// Records that entity `id` is named `ident`, replacing an earlier name.
    pub fn set_ident(&mut self, id: Entid, ident: Keyword) {
        if let Some(old) = self.id_to_ident.insert(id, ident.clone()) {
            self.ident_to_id.remove(&old);
        }
        self.ident_to_id.insert(ident, id);
    }

    /// Forgets the ident of entity `id`.
    pub fn remove_ident(&mut self, id: Entid) {
        if let Some(old) = self.id_to_ident.remove(&id) {
            self.ident_to_id.remove(&old);
        }
    }

    /// Adds or replaces an attribute.
    pub fn set_attribute(&mut self, attribute: Attribute) {
        self.set_ident(attribute.id, attribute.ident.clone());
        self.attributes.insert(attribute.id, attribute);
    }

    /// Removes an attribute definition (the ident stays).
    pub fn remove_attribute(&mut self, id: Entid) {
        self.attributes.shift_remove(&id);
    }

    /// The entity named by an ident.
    pub fn entid(&self, ident: &Keyword) -> Option<Entid> {
        self.ident_to_id.get(ident).copied()
    }

    /// The ident of an entity, if it has one.
    pub fn ident(&self, id: Entid) -> Option<&Keyword> {
        self.id_to_ident.get(&id)
    }

    /// The attribute with this id.
    pub fn attribute(&self, id: Entid) -> Option<&Attribute> {
        self.attributes.get(&id)
    }

    /// The attribute with this ident.
    pub fn attribute_named(&self, ident: &Keyword) -> Option<&Attribute> {
        self.entid(ident).and_then(|id| self.attributes.get(&id))
    }

    /// Every attribute, in definition order.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute> {
        self.attributes.values()
    }

    /// Every ident, in no particular order.
    pub fn idents(&self) -> impl Iterator<Item = (&Keyword, Entid)> {
        self.ident_to_id.iter().map(|(k, id)| (k, *id))
    }
}

/// What is wrong with a set of schema datoms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaDefinitionError(pub String);

impl Schema {
    /// Builds the schema from the current values of the schema attributes
    /// (`:db/ident`, `:db/valueType`, ...), given as (entity, attribute,
    /// value) triples. An entity with both an ident and a value type is an
    /// attribute; cardinality defaults to one.
    pub fn from_datoms(
        datoms: impl IntoIterator<Item = (Entid, Entid, crate::TypedValue)>,
    ) -> Result<Schema, SchemaDefinitionError> {
        use crate::bootstrap as b;
        use crate::TypedValue as V;

        let mut schema = Schema::new();
        let mut facts: IndexMap<Entid, Vec<(Entid, V)>> = IndexMap::new();
        for (e, a, v) in datoms {
            if a == b::DB_IDENT {
                if let V::Keyword(k) = &v {
                    schema.set_ident(e, (**k).clone());
                }
            }
            facts.entry(e).or_default().push((a, v));
        }
        for (e, entity_facts) in &facts {
            let Some(ident) = schema.ident(*e).cloned() else {
                continue;
            };
            let mut value_type = None;
            let mut attribute = Attribute::new(*e, ident.clone(), ValueType::Long);
            for (a, v) in entity_facts {
                let enum_ident = |v: &V| match v {
                    V::Ref(id) => schema.ident(*id).cloned(),
                    _ => None,
                };
                let bad = || {
                    SchemaDefinitionError(format!("attribute {ident:?} has an invalid value {v:?}"))
                };
                match (*a, v) {
                    (b::DB_VALUE_TYPE, v) => {
                        value_type = Some(
                            enum_ident(v)
                                .and_then(|k| ValueType::from_ident(&k))
                                .ok_or_else(bad)?,
                        );
                    }
                    (b::DB_CARDINALITY, v) => {
                        attribute.cardinality = enum_ident(v)
                            .and_then(|k| Cardinality::from_ident(&k))
                            .ok_or_else(bad)?;
                    }
                    (b::DB_UNIQUE, v) => {
                        attribute.unique = Some(
                            enum_ident(v)
                                .and_then(|k| Unique::from_ident(&k))
                                .ok_or_else(bad)?,
                        );
                    }
                    (b::DB_INDEX, V::Boolean(flag)) => attribute.index = *flag,
                    (b::DB_IS_COMPONENT, V::Boolean(flag)) => attribute.is_component = *flag,
                    (b::DB_NO_HISTORY, V::Boolean(flag)) => attribute.no_history = *flag,
                    (b::DB_FULLTEXT, V::Boolean(flag)) => attribute.fulltext = *flag,
                    (b::DB_DOC, V::String(doc)) => attribute.doc = Some(doc.clone()),
                    _ => {}
                }
            }
            if let Some(value_type) = value_type {
                attribute.value_type = value_type;
                if attribute.is_component && value_type != ValueType::Ref {
                    return Err(SchemaDefinitionError(format!(
                        "attribute {} is a component but not a ref",
                        Value::Keyword(ident)
                    )));
                }
                schema.attributes.insert(*e, attribute);
            } else if entity_facts
                .iter()
                .any(|(a, _)| *a != b::DB_IDENT && *a != b::DB_DOC)
            {
                return Err(SchemaDefinitionError(format!(
                    "attribute {} has no :db/valueType",
                    Value::Keyword(ident)
                )));
            }
        }
        Ok(schema)
    }
}
