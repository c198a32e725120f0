//! Attributes and the schema: which attributes exist, what values they hold,
//! and the idents (keyword names) of entities.
//!
//! The schema is data: it is read from the datoms of attribute entities
//! (`:db/ident`, `:db/valueType`, ...). This module only holds the decoded
//! form; the store builds it and keeps it current.

use std::collections::HashMap;

use factlite_edn::{Keyword, Value};
use indexmap::IndexMap;

use crate::{Entid, TupleShape, TypeMismatch, TypedValue, ValueType};

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
    /// What a `:db.type/tuple` attribute's tuples hold (`:db/tupleType`,
    /// `:db/tupleTypes` or `:db/tupleAttrs`); `None` for other types.
    pub tuple: Option<TupleShape>,
}

/// Why a value does not fit an attribute: not of its type, or a tuple that
/// is not of its shape (the sentence says how).
#[derive(Clone, Debug, PartialEq)]
pub enum ValueMismatch {
    Type(TypeMismatch),
    Tuple { found: Value, reason: String },
}

impl ValueMismatch {
    /// The value refused.
    pub fn found(&self) -> &Value {
        match self {
            ValueMismatch::Type(mismatch) => &mismatch.found,
            ValueMismatch::Tuple { found, .. } => found,
        }
    }
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
            tuple: None,
        }
    }

    /// Whether the attribute's values belong in the AVET index. Unique and
    /// composite tuple attributes always are (as in Datomic).
    pub fn in_avet(&self) -> bool {
        self.index || self.unique.is_some() || self.is_composite()
    }

    /// Whether the transactor maintains the attribute (`:db/tupleAttrs`).
    pub fn is_composite(&self) -> bool {
        self.tuple.as_ref().is_some_and(TupleShape::is_composite)
    }

    /// Converts an EDN value to a value of this attribute: as
    /// [`TypedValue::from_edn`] for its type, and for a tuple attribute a
    /// vector of its shape.
    pub fn typed_value(&self, value: &Value) -> Result<TypedValue, ValueMismatch> {
        match &self.tuple {
            Some(shape) => shape
                .tuple_from_edn(value)
                .map_err(|reason| ValueMismatch::Tuple {
                    found: value.clone(),
                    reason,
                }),
            None => TypedValue::from_edn(value, self.value_type).map_err(ValueMismatch::Type),
        }
    }
}

/// All attributes and idents of a database, at one point in time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    attributes: IndexMap<Entid, Attribute>,
    ident_to_id: HashMap<Keyword, Entid>,
    id_to_ident: HashMap<Entid, Keyword>,
    /// Former idents of renamed entities, which still name them (as in
    /// Datomic) while no entity holds them as its ident.
    former: HashMap<Keyword, Entid>,
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

    /// The entity named by an ident: the entity that holds it, or the one
    /// that held it before a rename.
    pub fn entid(&self, ident: &Keyword) -> Option<Entid> {
        self.ident_to_id
            .get(ident)
            .or_else(|| self.former.get(ident))
            .copied()
    }

    /// Records that entity `id`, named otherwise now, was once named
    /// `ident`: the old name still resolves to it while no entity holds
    /// it. A name the entity holds, or that no longer names an entity, is
    /// ignored.
    pub fn add_former_ident(&mut self, id: Entid, ident: Keyword) {
        let renamed = self.id_to_ident.get(&id).is_some_and(|now| *now != ident);
        if renamed && !self.ident_to_id.contains_key(&ident) {
            self.former.entry(ident).or_insert(id);
        }
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
        let mut tuple_declarations: Vec<(Entid, TupleDeclaration)> = Vec::new();
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
            let mut tuple = TupleDeclaration::default();
            let mut attribute = Attribute::new(*e, ident.clone(), ValueType::Long);
            for (a, v) in entity_facts {
                let enum_ident = |v: &V| match v {
                    V::Ref(id) => schema.ident(*id).cloned(),
                    _ => None,
                };
                let bad = || {
                    SchemaDefinitionError(format!(
                        "attribute {} has an invalid value {} for {}",
                        Value::Keyword(ident.clone()),
                        v.to_edn(),
                        schema
                            .ident(*a)
                            .map_or(a.to_string(), |k| Value::Keyword(k.clone()).to_string())
                    ))
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
                    (b::DB_TUPLE_TYPE, v) => {
                        tuple.tuple_type = Some(enum_ident(v).ok_or_else(bad)?);
                    }
                    (b::DB_TUPLE_TYPES, V::Tuple(items)) => {
                        tuple.tuple_types = Some(keywords(items).ok_or_else(bad)?);
                    }
                    (b::DB_TUPLE_ATTRS, V::Tuple(items)) => {
                        tuple.tuple_attrs = Some(keywords(items).ok_or_else(bad)?);
                    }
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
                tuple_declarations.push((*e, tuple));
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
        // Composite tuples name other attributes: their shapes are read
        // once every attribute is known.
        for (e, declaration) in tuple_declarations {
            let Some(attribute) = schema.attributes.get(&e) else {
                continue;
            };
            let shape = declaration.shape(attribute, &schema)?;
            if let Some(attribute) = schema.attributes.get_mut(&e) {
                attribute.tuple = shape;
            }
        }
        Ok(schema)
    }
}

fn keywords(items: &[Option<crate::TypedValue>]) -> Option<Vec<Keyword>> {
    items
        .iter()
        .map(|item| match item {
            Some(crate::TypedValue::Keyword(k)) => Some((**k).clone()),
            _ => None,
        })
        .collect()
}

/// The tuple options of an attribute as written: `:db/tupleType`'s ident,
/// `:db/tupleTypes`' and `:db/tupleAttrs`' keywords.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TupleDeclaration {
    pub tuple_type: Option<Keyword>,
    pub tuple_types: Option<Vec<Keyword>>,
    pub tuple_attrs: Option<Vec<Keyword>>,
}

impl TupleDeclaration {
    /// The shape these options give `attribute` in `schema` (which holds
    /// the attributes a composite names), or why they give none: a tuple
    /// attribute needs exactly one of the three, any other attribute none;
    /// 2 to 8 types or attributes; no tuple inside a tuple; a composite and
    /// the attributes it is made of are cardinality one.
    pub fn shape(
        &self,
        attribute: &Attribute,
        schema: &Schema,
    ) -> Result<Option<TupleShape>, SchemaDefinitionError> {
        use crate::tuple::{is_element_type, MAX_TUPLE_LEN, MIN_TUPLE_LEN};
        let name = Value::Keyword(attribute.ident.clone());
        let fail = |what: String| Err(SchemaDefinitionError(format!("attribute {name} {what}")));
        let given = [
            self.tuple_type.is_some(),
            self.tuple_types.is_some(),
            self.tuple_attrs.is_some(),
        ]
        .into_iter()
        .filter(|given| *given)
        .count();
        if attribute.value_type != ValueType::Tuple {
            return if given == 0 {
                Ok(None)
            } else {
                fail(format!(
                    "holds {}, so it cannot have :db/tupleType, :db/tupleTypes or :db/tupleAttrs",
                    attribute.value_type
                ))
            };
        }
        if given != 1 {
            return fail(
                "is a tuple: it needs exactly one of :db/tupleType (one type for every element), :db/tupleTypes (a type per element) or :db/tupleAttrs (the attributes of a composite)".into(),
            );
        }
        let element_type = |ident: &Keyword| -> Result<ValueType, SchemaDefinitionError> {
            match ValueType::from_ident(ident) {
                Some(t) if is_element_type(t) => Ok(t),
                Some(t) => Err(SchemaDefinitionError(format!(
                    "attribute {name} cannot hold {t} inside a tuple"
                ))),
                None => Err(SchemaDefinitionError(format!(
                    "attribute {name}: {} is not a value type",
                    Value::Keyword(ident.clone())
                ))),
            }
        };
        let count_ok = |n: usize| (MIN_TUPLE_LEN..=MAX_TUPLE_LEN).contains(&n);
        if let Some(ident) = &self.tuple_type {
            return Ok(Some(TupleShape::Homogeneous(element_type(ident)?)));
        }
        if let Some(idents) = &self.tuple_types {
            if !count_ok(idents.len()) {
                return fail(format!(
                    "lists {} :db/tupleTypes; a tuple has {MIN_TUPLE_LEN} to {MAX_TUPLE_LEN}",
                    idents.len()
                ));
            }
            let types = idents.iter().map(element_type).collect::<Result<_, _>>()?;
            return Ok(Some(TupleShape::Heterogeneous(types)));
        }
        let idents = self.tuple_attrs.as_deref().unwrap_or_default();
        if !count_ok(idents.len()) {
            return fail(format!(
                "lists {} :db/tupleAttrs; a composite tuple has {MIN_TUPLE_LEN} to {MAX_TUPLE_LEN}",
                idents.len()
            ));
        }
        if attribute.cardinality != Cardinality::One {
            return fail("is a composite tuple, so it must be cardinality one".into());
        }
        let mut components = Vec::with_capacity(idents.len());
        for ident in idents {
            let shown = Value::Keyword(ident.clone());
            let Some(component) = schema.attribute_named(ident) else {
                return fail(format!(
                    "lists {shown} in :db/tupleAttrs, which is not an attribute"
                ));
            };
            if component.value_type == ValueType::Tuple {
                return fail(format!(
                    "lists {shown} in :db/tupleAttrs, a tuple; a composite cannot hold tuples"
                ));
            }
            if component.cardinality != Cardinality::One {
                return fail(format!(
                    "lists {shown} in :db/tupleAttrs, which is cardinality many; a composite is made of cardinality-one attributes"
                ));
            }
            if components.iter().any(|(id, _)| *id == component.id) {
                return fail(format!("lists {shown} twice in :db/tupleAttrs"));
            }
            components.push((component.id, component.value_type));
        }
        Ok(Some(TupleShape::Composite(components)))
    }
}
