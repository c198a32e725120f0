//! [`Deserializer`]: a borrowed [`Value`] into any `Deserialize`, and the
//! row deserializer behind `QueryResultExt::deserialize`. Map keys are
//! matched to struct fields by the rule in [`crate::serde`]; keywords,
//! symbols, instants, uuids, lists, sets and tagged elements reach a
//! [`Value`] (or [`crate::Keyword`], …) field through the newtype names
//! `factlite-edn` reserves; an error names the path to the value.

use ::serde::de::value::BorrowedStrDeserializer;
use ::serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use ::serde::forward_to_deserialize_any;
use factlite_core::{TypedValue, ValueType};
use factlite_edn::serde as reserved;
use factlite_edn::Value;
use indexmap::{IndexMap, IndexSet};

use crate::convert::ConversionError;

type Result<T, E = ConversionError> = std::result::Result<T, E>;

/// Deserializes from a borrowed [`Value`] (see [`crate::serde`] for the
/// mapping); strings can be borrowed from it.
///
/// ```
/// use serde::Deserialize;
/// let value = factlite::edn::parse(r#"["Ann" 31]"#)?;
/// let (name, age) = <(&str, u8)>::deserialize(factlite::serde::Deserializer::new(&value))?;
/// assert_eq!((name, age), ("Ann", 31));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Deserializer<'de>(&'de Value);

impl<'de> Deserializer<'de> {
    /// A deserializer reading `value`.
    pub fn new(value: &'de Value) -> Deserializer<'de> {
        Deserializer(value)
    }

    /// The error for a value of another kind than `visitor` wants.
    fn mismatch<V: Visitor<'de>>(&self, visitor: &V) -> ConversionError {
        de::Error::invalid_type(unexpected(self.0), visitor)
    }

    /// A scalar (boolean, number, string, character), or an error naming
    /// what the value is.
    fn scalar<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Boolean(_)
            | Value::Integer(_)
            | Value::Float(_)
            | Value::String(_)
            | Value::Char(_) => de::Deserializer::deserialize_any(self, visitor),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    /// The text a reserved newtype wraps, when the value is of its kind.
    fn reserved_text(&self, name: &str) -> Option<Option<String>> {
        let text = match (name, self.0) {
            (reserved::KEYWORD, Value::Keyword(keyword)) => {
                format!(":{}", keyword.qualified_name())
            }
            (reserved::SYMBOL, Value::Symbol(symbol)) => symbol.qualified_name(),
            (reserved::INSTANT, Value::Inst(instant)) => instant.to_rfc3339(),
            (reserved::UUID, Value::Uuid(uuid)) => uuid.to_string(),
            (reserved::KEYWORD | reserved::SYMBOL | reserved::INSTANT | reserved::UUID, _) => {
                return Some(None)
            }
            _ => return None,
        };
        Some(Some(text))
    }
}

impl<'de> IntoDeserializer<'de, ConversionError> for Deserializer<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

/// How serde names a value in an error.
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Boolean(flag) => Unexpected::Bool(*flag),
        Value::Integer(number) => Unexpected::Signed(*number),
        Value::Float(number) => Unexpected::Float(*number),
        Value::String(text) => Unexpected::Str(text),
        Value::Char(c) => Unexpected::Char(*c),
        other => Unexpected::Other(other.kind_name()),
    }
}

/// Hands `items` to `visitor` as a sequence; items it leaves unread are an
/// error (a tuple shorter than the vector).
fn visit_items<'de, V, D, I>(visitor: V, items: I) -> Result<V::Value>
where
    V: Visitor<'de>,
    D: de::Deserializer<'de, Error = ConversionError>,
    I: ExactSizeIterator<Item = D>,
{
    let len = items.len();
    let mut seq = Items(items.enumerate());
    let value = visitor.visit_seq(&mut seq)?;
    match seq.0.len() {
        0 => Ok(value),
        left => Err(ConversionError::mismatch(
            format!("{} values", len - left),
            format!("{len} values"),
        )),
    }
}

/// The items of a sequence, numbered for errors.
struct Items<I>(std::iter::Enumerate<I>);

impl<'de, D, I> SeqAccess<'de> for Items<I>
where
    D: de::Deserializer<'de, Error = ConversionError>,
    I: ExactSizeIterator<Item = D>,
{
    type Error = ConversionError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.0.next() {
            Some((index, item)) => seed
                .deserialize(item)
                .map(Some)
                .map_err(|error| error.in_field(format!("[{index}]"))),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

/// A map key: a value, or a column's name.
#[derive(Clone, Copy)]
enum Key<'de> {
    Value(&'de Value),
    Name(&'de str),
}

impl Key<'_> {
    fn describe(&self) -> String {
        match self {
            Key::Value(value) => value.to_string(),
            Key::Name(name) => name.to_string(),
        }
    }
}

/// The field a keyword-like key (`namespace/name`) fills: the one whose
/// serde name is the whole key (with or without its colon), else the one
/// named after the key's name part.
fn field_name<'de>(
    namespace: Option<&str>,
    name: &'de str,
    fields: &'static [&'static str],
) -> &'de str {
    let is_whole = |field: &&str| {
        let field = field.strip_prefix(':').unwrap_or(field);
        match namespace {
            Some(namespace) => field.split_once('/') == Some((namespace, name)),
            None => field == name,
        }
    };
    fields.iter().copied().find(is_whole).unwrap_or(name)
}

/// A column name or a key's text, split like a keyword.
fn split_name(text: &str) -> (Option<&str>, &str) {
    match text.split_once('/') {
        Some((namespace, name)) if !namespace.is_empty() && !name.is_empty() => {
            (Some(namespace), name)
        }
        _ => (None, text),
    }
}

/// A map's entries (or a row's named columns); with `fields`, keys are
/// matched to a struct's fields.
struct Entries<'de, I> {
    entries: I,
    fields: Option<&'static [&'static str]>,
    value: Option<(Key<'de>, &'de Value)>,
}

impl<'de, I: Iterator<Item = (Key<'de>, &'de Value)>> Entries<'de, I> {
    fn new(entries: I, fields: Option<&'static [&'static str]>) -> Self {
        Entries {
            entries,
            fields,
            value: None,
        }
    }
}

impl<'de, I: Iterator<Item = (Key<'de>, &'de Value)>> MapAccess<'de> for Entries<'de, I> {
    type Error = ConversionError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        let named =
            |namespace, name| BorrowedStrDeserializer::new(name_for(self.fields, namespace, name));
        let key = match key {
            Key::Value(Value::Keyword(keyword)) if self.fields.is_some() => {
                seed.deserialize(named(keyword.namespace.as_deref(), &keyword.name))
            }
            Key::Value(Value::Symbol(symbol)) if self.fields.is_some() => {
                seed.deserialize(named(symbol.namespace.as_deref(), &symbol.name))
            }
            Key::Value(value) => seed.deserialize(Deserializer(value)),
            Key::Name(name) => {
                let (namespace, name) = split_name(name);
                seed.deserialize(named(namespace, name))
            }
        };
        key.map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let (key, value) = self
            .value
            .take()
            .ok_or_else(|| ConversionError::message("a map value was read before its key"))?;
        seed.deserialize(Deserializer(value))
            .map_err(|error| error.in_field(key.describe()))
    }

    fn size_hint(&self) -> Option<usize> {
        match self.entries.size_hint() {
            (low, Some(high)) if low == high => Some(low),
            _ => None,
        }
    }
}

/// Hands a map's entries to `visitor`, keys matched to `fields` if given.
fn visit_map<'de, V: Visitor<'de>>(
    map: &'de IndexMap<Value, Value>,
    fields: Option<&'static [&'static str]>,
    visitor: V,
) -> Result<V::Value> {
    let entries = map.iter().map(|(key, value)| (Key::Value(key), value));
    visitor.visit_map(Entries::new(entries, fields))
}

/// A key's field name with `fields`, else its whole text.
fn name_for<'de>(
    fields: Option<&'static [&'static str]>,
    namespace: Option<&str>,
    name: &'de str,
) -> &'de str {
    match fields {
        Some(fields) => field_name(namespace, name, fields),
        None => name,
    }
}

/// A value serde's data model lacks, offered as a map of one entry keyed
/// by its reserved name (what `Value`'s `Deserialize` understands).
struct Reserved<'de> {
    name: Option<&'static str>,
    payload: Option<Payload<'de>>,
}

impl<'de> MapAccess<'de> for Reserved<'de> {
    type Error = ConversionError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        self.name
            .take()
            .map(|name| seed.deserialize(name.into_deserializer()))
            .transpose()
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let payload = self
            .payload
            .take()
            .ok_or_else(|| ConversionError::message("a reserved value was read twice"))?;
        seed.deserialize(payload)
    }
}

/// What a reserved name wraps: text, or the items of a list or set, or a
/// tag and its value.
enum Payload<'de> {
    Text(String),
    Value(&'de Value),
    List(&'de [Value]),
    Set(&'de IndexSet<Value>),
    Tagged(String, &'de Value),
}

impl<'de> de::Deserializer<'de> for Payload<'de> {
    type Error = ConversionError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self {
            Payload::Text(text) => visitor.visit_string(text),
            Payload::Value(value) => Deserializer(value).deserialize_any(visitor),
            Payload::List(items) => visit_items(visitor, items.iter().map(Deserializer)),
            Payload::Set(items) => visit_items(visitor, items.iter().map(Deserializer)),
            Payload::Tagged(tag, value) => visit_items(
                visitor,
                [Payload::Text(tag), Payload::Value(value)].into_iter(),
            ),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de> de::Deserializer<'de> for Deserializer<'de> {
    type Error = ConversionError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let (name, payload) = match self.0 {
            Value::Nil => return visitor.visit_unit(),
            Value::Boolean(flag) => return visitor.visit_bool(*flag),
            Value::Integer(number) => return visitor.visit_i64(*number),
            Value::Float(number) => return visitor.visit_f64(*number),
            Value::String(text) => return visitor.visit_borrowed_str(text),
            Value::Char(c) => return visitor.visit_char(*c),
            Value::Vector(items) => return visit_items(visitor, items.iter().map(Deserializer)),
            Value::Map(map) => return visit_map(map, None, visitor),
            Value::Keyword(keyword) => (
                reserved::KEYWORD,
                Payload::Text(format!(":{}", keyword.qualified_name())),
            ),
            Value::Symbol(symbol) => (reserved::SYMBOL, Payload::Text(symbol.qualified_name())),
            Value::Inst(instant) => (reserved::INSTANT, Payload::Text(instant.to_rfc3339())),
            Value::Uuid(uuid) => (reserved::UUID, Payload::Text(uuid.to_string())),
            Value::BigInt(number) => (reserved::BIGINT, Payload::Text(number.to_string())),
            Value::BigDec(number) => (
                reserved::BIGDEC,
                Payload::Text(reserved::decimal_text(number)),
            ),
            Value::List(items) => (reserved::LIST, Payload::List(items)),
            Value::Set(items) => (reserved::SET, Payload::Set(items)),
            Value::Tagged(tag, value) => (
                reserved::TAGGED,
                Payload::Tagged(tag.qualified_name(), value),
            ),
        };
        visitor.visit_map(Reserved {
            name: Some(name),
            payload: Some(payload),
        })
    }

    forward_to_deserialize_any! { ignored_any }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scalar(visitor)
    }

    /// `#bytes`, or a sequence of byte values.
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match TypedValue::from_edn(self.0, ValueType::Bytes) {
            Ok(TypedValue::Bytes(bytes)) => visitor.visit_byte_buf(bytes),
            _ => self.deserialize_seq(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Nil => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Nil => visitor.visit_unit(),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        match self.reserved_text(name) {
            Some(Some(text)) => visitor.visit_string(text),
            Some(None) => Err(self.mismatch(&visitor)),
            None => visitor.visit_newtype_struct(self),
        }
    }

    /// A vector, list or set.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Vector(items) | Value::List(items) => {
                visit_items(visitor, items.iter().map(Deserializer))
            }
            Value::Set(items) => visit_items(visitor, items.iter().map(Deserializer)),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Map(map) => visit_map(map, None, visitor),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    /// A map whose keys name the fields, or a sequence of the fields.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.0 {
            Value::Map(map) => visit_map(map, Some(fields), visitor),
            Value::Vector(_) | Value::List(_) => self.deserialize_seq(visitor),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    /// A keyword or string names a unit variant; a map of one entry a
    /// variant and its value.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let (key, value) = match self.0 {
            Value::Map(map) if map.len() == 1 => match map.iter().next() {
                Some((key, value)) => (key, Some(value)),
                None => return Err(self.mismatch(&visitor)),
            },
            key => (key, None),
        };
        let name = match key {
            Value::Keyword(keyword) => {
                field_name(keyword.namespace.as_deref(), &keyword.name, variants)
            }
            Value::String(text) => text.as_str(),
            _ => return Err(self.mismatch(&visitor)),
        };
        visitor.visit_enum(Variant { name, value })
    }
}

/// An enum variant's name and its value, if it has one.
struct Variant<'de> {
    name: &'de str,
    value: Option<&'de Value>,
}

impl<'de> Variant<'de> {
    fn value(&self) -> Result<Deserializer<'de>> {
        self.value.map(Deserializer).ok_or_else(|| {
            ConversionError::message(format!("the variant {} needs a value", self.name))
        })
    }
}

impl<'de> EnumAccess<'de> for Variant<'de> {
    type Error = ConversionError;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self)> {
        let variant = seed.deserialize(BorrowedStrDeserializer::new(self.name))?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for Variant<'de> {
    type Error = ConversionError;

    fn unit_variant(self) -> Result<()> {
        match self.value {
            None | Some(Value::Nil) => Ok(()),
            Some(value) => Err(ConversionError::wrong_type(
                format!("nothing after the unit variant {}", self.name),
                value,
            )),
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value> {
        seed.deserialize(self.value()?)
            .map_err(|error| error.in_field(self.name))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self.value()?, visitor)
            .map_err(|error| error.in_field(self.name))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_struct(self.value()?, "", fields, visitor)
            .map_err(|error| error.in_field(self.name))
    }
}

/// A relation's (or a tuple result's) row: a map of its column names
/// under `:keys`, `:strs` or `:syms`, else a sequence.
pub(crate) struct RowDeserializer<'de> {
    names: Option<&'de [String]>,
    values: &'de [Value],
}

impl<'de> RowDeserializer<'de> {
    pub(crate) fn new(names: Option<&'de [String]>, values: &'de [Value]) -> Self {
        RowDeserializer { names, values }
    }

    fn visit<V: Visitor<'de>>(
        self,
        fields: Option<&'static [&'static str]>,
        visitor: V,
    ) -> Result<V::Value> {
        match self.names {
            Some(names) => {
                let entries = names
                    .iter()
                    .zip(self.values)
                    .map(|(name, value)| (Key::Name(name), value));
                visitor.visit_map(Entries::new(entries, fields))
            }
            None => visit_items(visitor, self.values.iter().map(Deserializer)),
        }
    }
}

impl<'de> de::Deserializer<'de> for RowDeserializer<'de> {
    type Error = ConversionError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.visit(None, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.visit(Some(fields), visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}
