//! Serde over factlite's values (the `serde` feature): [`to_value`] and
//! [`from_value`] turn any `Serialize` into a [`Value`] and a [`Value`] into
//! any `Deserialize`, with a [`Serializer`] and a [`Deserializer`] of our
//! own; [`crate::QueryResultExt::deserialize`] reads a query's rows into
//! structs, and [`Entity::from_serde`] transacts a struct as an entity map.
//!
//! How Rust types meet values:
//!
//! - A struct is a map keyed by keywords: a field `name` is `:name`, and a
//!   field renamed `":person/name"` (or `"person/name"`) is
//!   `:person/name`. `None` fields are left out.
//! - Reading a map into a struct, a keyword key matches the field whose
//!   name is its whole text (`#[serde(rename = ":person/name")]`), else the
//!   field named after its name part: `:person/name` fills `name`, `:db/id`
//!   fills `id`. So a pull result `{:person/name … :person/friend [{…}]}`
//!   fills `struct Person { name, friend: Vec<Person> }`. Two keys with the
//!   same name part are a duplicate field: rename one of them. A missing
//!   `Option` field is `None`; a pull leaves out the attributes an entity
//!   has no value for, so give `Vec` fields `#[serde(default)]`.
//! - A `:keys` (or `:strs`, `:syms`) query's row is a map of its names;
//!   rows without names are sequences, for tuples and tuple structs.
//! - Sequences are vectors; a vector, list or set reads back as one.
//!   Unit enum variants are keywords (`#[serde(rename = ":genre/drama")]`);
//!   other variants are maps of one entry, `{:Variant value}`.
//! - Bytes (`serialize_bytes`, [`crate::Bytes`]) are `#bytes`; keywords,
//!   symbols, instants and uuids are themselves ([`crate::Keyword`],
//!   [`crate::Instant`], [`crate::Uuid`] implement both traits), and a
//!   [`Value`] field holds any value as it is.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Person {
//!     name: String,
//!     #[serde(rename = ":person/email")]
//!     email: Option<String>,
//!     #[serde(default)]
//!     friend: Vec<Person>,
//! }
//!
//! let pulled = factlite::edn::parse(r#"{:person/name "Ann" :person/friend [{:person/name "Bo"}]}"#)?;
//! let ann: Person = factlite::serde::from_value(&pulled)?;
//! assert_eq!(ann.friend[0].name, "Bo");
//! let value = factlite::serde::to_value(&ann)?;
//! assert_eq!(value, factlite::edn::parse(r#"{:name "Ann" :friend [{:name "Bo" :friend []}]}"#)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod de;
mod ser;

use std::fmt;

use ::serde::de::{DeserializeOwned, Visitor};
use ::serde::{Deserialize, Serialize};
use factlite_edn::{Keyword, Value};
use factlite_store::QueryResult;

pub use de::Deserializer;
pub use ser::Serializer;

use crate::convert::ConversionError;
use crate::error::Result;
use crate::{Bytes, Entity};

/// Any `Serialize` as a [`Value`] (see the [module](self) for the mapping).
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ConversionError> {
    value.serialize(Serializer)
}

/// A [`Value`] as any `Deserialize` (see the [module](self) for the
/// mapping); an error names the field path and both types.
///
/// ```
/// #[derive(serde::Deserialize, Debug)]
/// struct Film { title: String, year: u16 }
///
/// let value = factlite::edn::parse(r#"{:film/title "Alien" :film/year "1979"}"#)?;
/// let error = factlite::serde::from_value::<Film>(&value).unwrap_err();
/// assert_eq!(error.to_string(), r#":film/year: expected u16, found string "1979""#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_value<'v, T: Deserialize<'v>>(value: &'v Value) -> Result<T, ConversionError> {
    T::deserialize(Deserializer::new(value))
}

/// The items of a result as `T`s (see [`crate::QueryResultExt::deserialize`]).
pub(crate) fn result_items<T: DeserializeOwned>(result: &QueryResult) -> Result<Vec<T>> {
    let items: Result<Vec<T>, ConversionError> = match result {
        QueryResult::Relation(relation) => relation
            .rows()
            .enumerate()
            .map(|(index, row)| {
                T::deserialize(de::RowDeserializer::new(relation.names(), row))
                    .map_err(|error| error.in_field(format!("row {index}")))
            })
            .collect(),
        QueryResult::Collection { values, .. } => values.iter().map(from_value).collect(),
        QueryResult::Scalar(value) => value.iter().map(from_value).collect(),
        QueryResult::Tuple(values) => values
            .iter()
            .map(|row| T::deserialize(de::RowDeserializer::new(None, row)))
            .collect(),
    };
    Ok(items?)
}

impl Entity {
    /// A `Serialize` struct (or map) as an entity map: each field is the
    /// attribute `:namespace/field` — `namespace` with or without its
    /// colon — unless its serde name has a namespace of its own
    /// (`#[serde(rename = ":person/email")]`, or `":db/id"` for the
    /// entity's id). `None` fields are left out; a `Vec` field's items are
    /// a cardinality-many attribute's values (a set of them, as with
    /// [`Entity::add`]). Nested structs keep their own field names, so
    /// give their fields full names or transact them as entities of their
    /// own.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Person { name: String, age: Option<u8>, #[serde(rename = ":db/id")] id: &'static str }
    ///
    /// let ann = Person { name: "Ann".into(), age: None, id: "ann" };
    /// let entity = factlite::Entity::from_serde(":person", &ann)?.build()?;
    /// assert_eq!(entity, factlite::edn::parse(r#"{:db/id "ann" :person/name "Ann"}"#)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_serde<T: Serialize + ?Sized>(
        namespace: &str,
        value: &T,
    ) -> Result<Entity, ConversionError> {
        let namespace = namespace.strip_prefix(':').unwrap_or(namespace);
        let map = match to_value(value)?.into_map() {
            Ok(map) => map,
            Err(other) => return Err(ConversionError::wrong_type("a struct or map", &other)),
        };
        let db_id = Keyword::namespaced("db", "id");
        let mut id = None;
        let mut attributes = indexmap::IndexMap::with_capacity(map.len());
        for (key, value) in map {
            let keyword = match key.into_keyword() {
                Ok(keyword) => keyword,
                Err(Value::String(ref text)) => Keyword::from_str_lossy(text),
                Err(other) => {
                    return Err(ConversionError::wrong_type(
                        "a keyword or string key",
                        &other,
                    ))
                }
            };
            let attribute = match keyword.namespace {
                Some(_) => keyword,
                None => Keyword::namespaced(namespace, keyword.name),
            };
            let value = match value {
                Value::Vector(_) => Value::Set(
                    value
                        .into_sequence()
                        .unwrap_or_default()
                        .into_iter()
                        .collect(),
                ),
                other => other,
            };
            if attribute == db_id {
                id = Some(value);
            } else {
                attributes.insert(attribute, value);
            }
        }
        Ok(Entity::from_parts(attributes, id))
    }
}

/// `#bytes` through factlite's serializer; a byte string elsewhere.
impl Serialize for Bytes {
    fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
        deserializer.deserialize_byte_buf(BytesVisitor)
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes")
    }

    fn visit_bytes<E>(self, bytes: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes(bytes.to_vec()))
    }

    fn visit_byte_buf<E>(self, bytes: Vec<u8>) -> Result<Bytes, E> {
        Ok(Bytes(bytes))
    }

    fn visit_seq<A: ::serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
        let mut bytes = Vec::new();
        while let Some(byte) = seq.next_element()? {
            bytes.push(byte);
        }
        Ok(Bytes(bytes))
    }
}
