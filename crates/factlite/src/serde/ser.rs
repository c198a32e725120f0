//! [`Serializer`]: any `Serialize` into a [`Value`]. Integers go through
//! [`ToValue`] (range-checked into a long); the newtype names that
//! `factlite-edn` reserves become keywords, symbols, instants, uuids,
//! lists, sets, tagged elements, big integers and big decimals again.

use ::serde::ser::{self, Serialize};
use factlite_core::TypedValue;
use factlite_edn::serde as reserved;
use factlite_edn::{Instant, Keyword, Symbol, Uuid, Value};
use indexmap::IndexMap;

use crate::convert::{ConversionError, ToValue};

/// Serializes into a [`Value`] (see [`crate::serde`] for the mapping).
///
/// ```
/// use serde::Serialize;
/// let value = (1, "a", [true]).serialize(factlite::serde::Serializer)?;
/// assert_eq!(value.to_string(), r#"[1 "a" [true]]"#);
/// # Ok::<(), factlite::ConversionError>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Serializer;

type Result<T, E = ConversionError> = std::result::Result<T, E>;

/// A keyword from a field's or a variant's serde name.
fn keyword(name: &str) -> Value {
    Value::Keyword(Keyword::from_str_lossy(name))
}

/// An enum variant with a value: `{:Variant inner}`.
fn variant_map(variant: &str, inner: Value) -> Value {
    Value::Map(IndexMap::from([(keyword(variant), inner)]))
}

/// The value a newtype with one of `factlite-edn`'s reserved names stands
/// for; any other newtype is its inner value.
fn unwrap_newtype(name: &str, inner: Value) -> Result<Value> {
    let value = match (name, &inner) {
        (reserved::KEYWORD, Value::String(text)) => keyword(text),
        (reserved::SYMBOL, Value::String(text)) => Value::Symbol(Symbol::from_str_lossy(text)),
        (reserved::INSTANT, Value::String(text)) => {
            Value::Inst(Instant::parse_rfc3339(text).map_err(ConversionError::message)?)
        }
        (reserved::UUID, Value::String(text)) => {
            Value::Uuid(Uuid::parse(text).map_err(ConversionError::message)?)
        }
        (reserved::BIGINT, Value::String(text)) => {
            Value::BigInt(reserved::parse_big_integer(text).map_err(ConversionError::message)?)
        }
        (reserved::BIGDEC, Value::String(text)) => {
            Value::BigDec(reserved::parse_big_decimal(text).map_err(ConversionError::message)?)
        }
        (reserved::LIST, Value::Vector(_)) => {
            Value::List(inner.into_sequence().unwrap_or_default())
        }
        (reserved::SET, Value::Vector(_)) => Value::Set(
            inner
                .into_sequence()
                .unwrap_or_default()
                .into_iter()
                .collect(),
        ),
        (reserved::TAGGED, Value::Vector(_)) => {
            match <[Value; 2]>::try_from(inner.into_sequence().unwrap_or_default()) {
                Ok([tag, value]) => match &tag {
                    Value::String(text) => {
                        Value::Tagged(Symbol::from_str_lossy(text), Box::new(value))
                    }
                    _ => return Err(ConversionError::wrong_type("a tag's text", &tag)),
                },
                Err(pair) => {
                    return Err(ConversionError::mismatch(
                        "a tag and a value",
                        format!("{} values", pair.len()),
                    ))
                }
            }
        }
        _ => inner,
    };
    Ok(value)
}

impl ser::Serializer for Serializer {
    type Ok = Value;
    type Error = ConversionError;
    type SerializeSeq = Sequence;
    type SerializeTuple = Sequence;
    type SerializeTupleStruct = Sequence;
    type SerializeTupleVariant = Variant<Sequence>;
    type SerializeMap = Map;
    type SerializeStruct = Struct;
    type SerializeStructVariant = Variant<Struct>;

    fn serialize_bool(self, flag: bool) -> Result<Value> {
        flag.to_value()
    }

    fn serialize_i8(self, number: i8) -> Result<Value> {
        number.to_value()
    }

    fn serialize_i16(self, number: i16) -> Result<Value> {
        number.to_value()
    }

    fn serialize_i32(self, number: i32) -> Result<Value> {
        number.to_value()
    }

    fn serialize_i64(self, number: i64) -> Result<Value> {
        number.to_value()
    }

    fn serialize_i128(self, number: i128) -> Result<Value> {
        number.to_value()
    }

    fn serialize_u8(self, number: u8) -> Result<Value> {
        number.to_value()
    }

    fn serialize_u16(self, number: u16) -> Result<Value> {
        number.to_value()
    }

    fn serialize_u32(self, number: u32) -> Result<Value> {
        number.to_value()
    }

    fn serialize_u64(self, number: u64) -> Result<Value> {
        number.to_value()
    }

    fn serialize_u128(self, number: u128) -> Result<Value> {
        number.to_value()
    }

    fn serialize_f32(self, number: f32) -> Result<Value> {
        number.to_value()
    }

    fn serialize_f64(self, number: f64) -> Result<Value> {
        number.to_value()
    }

    fn serialize_char(self, c: char) -> Result<Value> {
        Ok(Value::Char(c))
    }

    fn serialize_str(self, text: &str) -> Result<Value> {
        text.to_value()
    }

    fn serialize_bytes(self, bytes: &[u8]) -> Result<Value> {
        Ok(TypedValue::Bytes(bytes.to_vec()).to_edn())
    }

    fn serialize_none(self) -> Result<Value> {
        Ok(Value::Nil)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::Nil)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        Ok(Value::Nil)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value> {
        Ok(keyword(variant))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value> {
        unwrap_newtype(name, value.serialize(self)?)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value> {
        let inner = value
            .serialize(self)
            .map_err(|error| error.in_field(variant))?;
        Ok(variant_map(variant, inner))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Sequence> {
        Ok(Sequence(Vec::with_capacity(len.unwrap_or(0).min(4096))))
    }

    fn serialize_tuple(self, len: usize) -> Result<Sequence> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Sequence> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Sequence>> {
        Ok(Variant {
            variant,
            inner: self.serialize_seq(Some(len))?,
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Map> {
        Ok(Map {
            entries: IndexMap::with_capacity(len.unwrap_or(0).min(4096)),
            key: None,
        })
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Struct> {
        Ok(Struct(IndexMap::with_capacity(len)))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Struct>> {
        Ok(Variant {
            variant,
            inner: Struct(IndexMap::with_capacity(len)),
        })
    }
}

/// A sequence's, a tuple's or a tuple struct's items so far: a vector.
#[derive(Debug)]
pub struct Sequence(Vec<Value>);

impl Sequence {
    fn push<T: Serialize + ?Sized>(&mut self, item: &T) -> Result<()> {
        let index = self.0.len();
        let value = item
            .serialize(Serializer)
            .map_err(|error| error.in_field(format!("[{index}]")))?;
        self.0.push(value);
        Ok(())
    }
}

impl ser::SerializeSeq for Sequence {
    type Ok = Value;
    type Error = ConversionError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, item: &T) -> Result<()> {
        self.push(item)
    }

    fn end(self) -> Result<Value> {
        Ok(Value::Vector(self.0))
    }
}

impl ser::SerializeTuple for Sequence {
    type Ok = Value;
    type Error = ConversionError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, item: &T) -> Result<()> {
        self.push(item)
    }

    fn end(self) -> Result<Value> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Sequence {
    type Ok = Value;
    type Error = ConversionError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, item: &T) -> Result<()> {
        self.push(item)
    }

    fn end(self) -> Result<Value> {
        ser::SerializeSeq::end(self)
    }
}

/// A map's entries so far, and the key waiting for its value.
#[derive(Debug)]
pub struct Map {
    entries: IndexMap<Value, Value>,
    key: Option<Value>,
}

impl ser::SerializeMap for Map {
    type Ok = Value;
    type Error = ConversionError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key.serialize(Serializer)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| ConversionError::message("a map value came before its key"))?;
        let value = value
            .serialize(Serializer)
            .map_err(|error| error.in_field(key.to_string()))?;
        self.entries.insert(key, value);
        Ok(())
    }

    fn end(self) -> Result<Value> {
        Ok(Value::Map(self.entries))
    }
}

/// A struct's fields so far, keyed by keywords of their serde names;
/// `nil` fields left out.
#[derive(Debug)]
pub struct Struct(IndexMap<Value, Value>);

impl ser::SerializeStruct for Struct {
    type Ok = Value;
    type Error = ConversionError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        field: &'static str,
        value: &T,
    ) -> Result<()> {
        match value
            .serialize(Serializer)
            .map_err(|error| error.in_field(field))?
        {
            Value::Nil => {}
            value => {
                self.0.insert(keyword(field), value);
            }
        }
        Ok(())
    }

    fn end(self) -> Result<Value> {
        Ok(Value::Map(self.0))
    }
}

/// A tuple or struct variant: `{:Variant inner}`.
#[derive(Debug)]
pub struct Variant<T> {
    variant: &'static str,
    inner: T,
}

impl ser::SerializeTupleVariant for Variant<Sequence> {
    type Ok = Value;
    type Error = ConversionError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, item: &T) -> Result<()> {
        self.inner
            .push(item)
            .map_err(|error| error.in_field(self.variant))
    }

    fn end(self) -> Result<Value> {
        Ok(variant_map(self.variant, Value::Vector(self.inner.0)))
    }
}

impl ser::SerializeStructVariant for Variant<Struct> {
    type Ok = Value;
    type Error = ConversionError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        field: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(&mut self.inner, field, value)
            .map_err(|error| error.in_field(self.variant))
    }

    fn end(self) -> Result<Value> {
        Ok(variant_map(self.variant, Value::Map(self.inner.0)))
    }
}
