//! Tuple values (`:db.type/tuple`): what an attribute's tuples hold
//! ([`TupleShape`]), how an EDN vector becomes a tuple of that shape, and
//! the order-preserving byte encoding tuples are stored as.
//!
//! A tuple attribute is one of three kinds, as in Datomic:
//! - homogeneous (`:db/tupleType :db.type/long`): 2 to 8 values of one type;
//! - heterogeneous (`:db/tupleTypes [:db.type/long :db.type/string]`): one
//!   value per listed type, 2 to 8 of them;
//! - composite (`:db/tupleAttrs [:reg/course :reg/student]`): the values of
//!   2 to 8 cardinality-one attributes of the same entity, kept by the
//!   transactor, never asserted by hand.
//!
//! Any element may be `nil`. An entity id inside a tuple is a long (as
//! Datomic prints it, and as `=` compares ids and longs), so a tuple built
//! in a query from numbers matches a stored one that holds refs
//! ([`element`]). The encoding ([`encode`]) is a byte string
//! whose unsigned byte order (SQLite's `memcmp` order for blobs) is the
//! order of [`TypedValue`]: element by element, `nil` first, values of
//! different types by type tag, a tuple that is a prefix of another first.
//! So an AVET range over a tuple attribute, uniqueness and equality all work
//! on the stored blob.

use factlite_edn::{Keyword, Symbol, Value};

use crate::{Entid, TypedValue, ValueType};

/// The most elements a tuple holds (Datomic's limit).
pub const MAX_TUPLE_LEN: usize = 8;

/// The fewest elements a tuple holds.
pub const MIN_TUPLE_LEN: usize = 2;

/// What the tuples of a `:db.type/tuple` attribute hold.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TupleShape {
    /// `:db/tupleType`: 2 to 8 values, all of this type.
    Homogeneous(ValueType),
    /// `:db/tupleTypes`: exactly one value of each type, in order.
    Heterogeneous(Vec<ValueType>),
    /// `:db/tupleAttrs`: the values of these attributes (id and value
    /// type), maintained by the transactor.
    Composite(Vec<(Entid, ValueType)>),
}

impl TupleShape {
    /// The type of the element at `index` of a tuple of this shape, when a
    /// tuple of that length may have one there.
    pub fn element_type(&self, index: usize) -> Option<ValueType> {
        match self {
            TupleShape::Homogeneous(value_type) => (index < MAX_TUPLE_LEN).then_some(*value_type),
            TupleShape::Heterogeneous(types) => types.get(index).copied(),
            TupleShape::Composite(attributes) => attributes.get(index).map(|(_, t)| *t),
        }
    }

    /// The element count a tuple of this shape must have, or `None` for a
    /// homogeneous one (2 to 8).
    pub fn fixed_len(&self) -> Option<usize> {
        match self {
            TupleShape::Homogeneous(_) => None,
            TupleShape::Heterogeneous(types) => Some(types.len()),
            TupleShape::Composite(attributes) => Some(attributes.len()),
        }
    }

    /// Whether the transactor keeps the attribute's values itself.
    pub fn is_composite(&self) -> bool {
        matches!(self, TupleShape::Composite(_))
    }

    /// What the shape says about its tuples, for messages: "2 to 8 longs",
    /// "[:db.type/long :db.type/string]".
    pub fn describe(&self) -> String {
        match self {
            TupleShape::Homogeneous(value_type) => {
                format!("{MIN_TUPLE_LEN} to {MAX_TUPLE_LEN} values of {value_type}")
            }
            TupleShape::Heterogeneous(types) => format!("[{}]", type_list(types)),
            TupleShape::Composite(attributes) => {
                let types: Vec<ValueType> = attributes.iter().map(|(_, t)| *t).collect();
                format!("[{}]", type_list(&types))
            }
        }
    }

    /// Converts an EDN vector (or list) to a tuple of this shape: the right
    /// number of elements, each `nil` or a value of its position's type.
    /// The error says what is wrong, for a `:error/type-mismatch` message.
    pub fn tuple_from_edn(&self, value: &Value) -> Result<TypedValue, String> {
        let (Value::Vector(items) | Value::List(items)) = value else {
            return Err(format!(
                "{value} is a {}, not a tuple (a vector of {})",
                value.kind_name(),
                self.describe()
            ));
        };
        let arity_ok = match self.fixed_len() {
            Some(n) => items.len() == n,
            None => (MIN_TUPLE_LEN..=MAX_TUPLE_LEN).contains(&items.len()),
        };
        if !arity_ok {
            return Err(format!(
                "{value} has {} element{}, but the tuple holds {}",
                items.len(),
                if items.len() == 1 { "" } else { "s" },
                self.describe()
            ));
        }
        let mut elements = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let Some(expected) = self.element_type(index) else {
                unreachable!("the arity was checked against the shape")
            };
            if matches!(item, Value::Nil) {
                elements.push(None);
                continue;
            }
            if matches!(item, Value::Float(x) if x.is_nan()) {
                return Err(format!(
                    "element {index} of {value} is ##NaN, which no query could find again"
                ));
            }
            let element = TypedValue::from_edn(item, expected).map_err(|_| {
                format!(
                    "element {index} of {value}, {item}, is a {}, but the tuple holds {} there",
                    item.kind_name(),
                    expected
                )
            })?;
            elements.push(Some(self::element(element)));
        }
        Ok(TypedValue::Tuple(elements))
    }
}

/// A value as a tuple element: an entity id becomes the long it is.
pub fn element(value: TypedValue) -> TypedValue {
    match value {
        TypedValue::Ref(id) => TypedValue::Long(id),
        other => other,
    }
}

fn type_list(types: &[ValueType]) -> String {
    types
        .iter()
        .map(ValueType::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether values of this type may be a tuple's elements: every type but
/// tuples themselves.
pub fn is_element_type(value_type: ValueType) -> bool {
    value_type != ValueType::Tuple
}

// ---- the encoding --------------------------------------------------------

/// The marker of a `nil` element; a value's marker is `VALUE_MARKER` plus
/// its type tag, so `nil` sorts first and types sort by tag.
const NIL_MARKER: u8 = 0x01;
const VALUE_MARKER: u8 = 0x10;

/// The order-preserving encoding of a tuple's elements (see the module
/// doc). Text and bytes are escaped (`00` → `00 FF`) and end with `00`,
/// so a shorter text sorts before a longer one that extends it.
pub fn encode(elements: &[Option<TypedValue>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(elements.len() * 10);
    for element in elements {
        let Some(value) = element else {
            out.push(NIL_MARKER);
            continue;
        };
        // Tags are small: the marker stays one byte. An id is a long.
        let value_type = match value.value_type() {
            ValueType::Ref => ValueType::Long,
            other => other,
        };
        out.push(VALUE_MARKER + value_type.tag() as u8);
        match value {
            TypedValue::Ref(i) | TypedValue::Long(i) | TypedValue::Instant(i) => {
                out.extend_from_slice(&((*i as u64) ^ (1 << 63)).to_be_bytes());
            }
            TypedValue::Boolean(b) => out.push(u8::from(*b)),
            TypedValue::Double(x) => out.extend_from_slice(&ordered_double_bits(*x).to_be_bytes()),
            TypedValue::Float(x) => {
                out.extend_from_slice(&ordered_double_bits(f64::from(*x)).to_be_bytes())
            }
            TypedValue::String(text) | TypedValue::Uri(text) => escaped(&mut out, text.as_bytes()),
            TypedValue::Bytes(bytes) => escaped(&mut out, bytes),
            TypedValue::Keyword(keyword) => {
                qualified(&mut out, keyword.namespace.as_deref(), &keyword.name)
            }
            TypedValue::Symbol(symbol) => {
                qualified(&mut out, symbol.namespace.as_deref(), &symbol.name)
            }
            TypedValue::Uuid(u) => out.extend_from_slice(&u.to_be_bytes()),
            // Self-delimiting and order-preserving (`crate::number`).
            TypedValue::BigInt(_) | TypedValue::BigDec(_) => {
                out.extend(crate::number::stored_key(value).unwrap_or_default())
            }
            TypedValue::Tuple(_) => unreachable!("a tuple's elements are not tuples"),
        }
    }
    out
}

/// A keyword's or a symbol's encoding: a marker for a namespace (absent
/// first), the namespace, then the name.
fn qualified(out: &mut Vec<u8>, namespace: Option<&str>, name: &str) {
    match namespace {
        None => out.push(0),
        Some(namespace) => {
            out.push(1);
            escaped(out, namespace.as_bytes());
        }
    }
    escaped(out, name.as_bytes());
}

/// A double's bits, arranged so that unsigned order is `f64::total_cmp`'s.
fn ordered_double_bits(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits ^ (1 << 63)
    }
}

fn double_from_ordered_bits(bits: u64) -> f64 {
    if bits >> 63 == 1 {
        f64::from_bits(bits ^ (1 << 63))
    } else {
        f64::from_bits(!bits)
    }
}

fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    for &byte in bytes {
        out.push(byte);
        if byte == 0 {
            out.push(0xFF);
        }
    }
    out.push(0);
}

/// Decodes what [`encode`] wrote; the error names what is malformed (a
/// file no factlite version wrote).
pub fn decode(bytes: &[u8]) -> Result<Vec<Option<TypedValue>>, String> {
    let mut reader = Reader { bytes, at: 0 };
    let mut elements = Vec::new();
    while reader.at < bytes.len() {
        let marker = reader.byte()?;
        if marker == NIL_MARKER {
            elements.push(None);
            continue;
        }
        let value_type = marker
            .checked_sub(VALUE_MARKER)
            .and_then(|tag| ValueType::from_tag(i64::from(tag)))
            .filter(|t| is_element_type(*t) && *t != ValueType::Ref)
            .ok_or_else(|| format!("unknown tuple element marker {marker:#04x}"))?;
        let value = match value_type {
            ValueType::Long => TypedValue::Long(reader.long()?),
            ValueType::Instant => TypedValue::Instant(reader.long()?),
            ValueType::Boolean => TypedValue::Boolean(reader.byte()? != 0),
            ValueType::Double => TypedValue::Double(double_from_ordered_bits(u64::from_be_bytes(
                reader.array()?,
            ))),
            ValueType::Float => TypedValue::Float(double_from_ordered_bits(u64::from_be_bytes(
                reader.array()?,
            )) as f32),
            ValueType::String => TypedValue::String(reader.text()?),
            ValueType::Uri => TypedValue::Uri(reader.text()?),
            ValueType::Bytes => TypedValue::Bytes(reader.escaped()?),
            ValueType::Keyword => {
                let (namespace, name) = reader.qualified()?;
                TypedValue::Keyword(Box::new(Keyword { namespace, name }))
            }
            ValueType::Symbol => {
                let (namespace, name) = reader.qualified()?;
                TypedValue::Symbol(Box::new(Symbol { namespace, name }))
            }
            ValueType::Uuid => TypedValue::Uuid(u128::from_be_bytes(reader.array()?)),
            ValueType::BigInt => TypedValue::BigInt(Box::new(crate::number::big_integer_from_key(
                reader.number_key()?,
            )?)),
            ValueType::BigDec => TypedValue::BigDec(Box::new(crate::number::big_decimal_from_key(
                reader.number_key()?,
            )?)),
            ValueType::Tuple | ValueType::Ref => unreachable!("filtered above"),
        };
        elements.push(Some(value));
    }
    Ok(elements)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A number key's bytes (`crate::number`).
    fn number_key(&mut self) -> Result<&'a [u8], String> {
        let rest = &self.bytes[self.at..];
        let length = crate::number::key_length(rest)?;
        self.at += length;
        Ok(&rest[..length])
    }

    fn byte(&mut self) -> Result<u8, String> {
        let byte = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| "a tuple's encoding ends inside an element".to_string())?;
        self.at += 1;
        Ok(byte)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.at + N;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| "a tuple's encoding ends inside an element".to_string())?;
        self.at = end;
        let mut array = [0; N];
        array.copy_from_slice(slice);
        Ok(array)
    }

    fn long(&mut self) -> Result<i64, String> {
        Ok((u64::from_be_bytes(self.array()?) ^ (1 << 63)) as i64)
    }

    fn escaped(&mut self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        loop {
            match self.byte()? {
                0 => {
                    if self.bytes.get(self.at) == Some(&0xFF) {
                        self.at += 1;
                        out.push(0);
                    } else {
                        return Ok(out);
                    }
                }
                byte => out.push(byte),
            }
        }
    }

    fn text(&mut self) -> Result<String, String> {
        String::from_utf8(self.escaped()?).map_err(|_| "a tuple's text is not UTF-8".to_string())
    }

    fn qualified(&mut self) -> Result<(Option<String>, String), String> {
        let namespace = match self.byte()? {
            0 => None,
            _ => Some(self.text()?),
        };
        Ok((namespace, self.text()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Vec<Option<TypedValue>>> {
        let long = |i| Some(TypedValue::Long(i));
        let text = |s: &str| Some(TypedValue::String(s.into()));
        vec![
            vec![],
            vec![None],
            vec![None, long(1)],
            vec![long(i64::MIN)],
            vec![long(-1), text("b")],
            vec![long(0)],
            vec![long(0), None],
            vec![long(0), text("")],
            vec![long(0), text("a")],
            vec![long(0), text("a\0")],
            vec![long(0), text("a\0b")],
            vec![long(0), text("ab")],
            vec![long(i64::MAX)],
            vec![Some(TypedValue::Double(f64::NEG_INFINITY))],
            vec![Some(TypedValue::Double(-1.5))],
            vec![Some(TypedValue::Double(-0.0))],
            vec![Some(TypedValue::Double(0.0))],
            vec![Some(TypedValue::Double(2.5))],
            vec![Some(TypedValue::Float(-3.5))],
            vec![Some(TypedValue::Float(0.25))],
            vec![text("z")],
            vec![Some(TypedValue::Keyword(Box::new(Keyword::plain("b"))))],
            vec![Some(TypedValue::Keyword(Box::new(Keyword::namespaced(
                "a", "z",
            ))))],
            vec![Some(TypedValue::Keyword(Box::new(Keyword::namespaced(
                "a-", "b",
            ))))],
            vec![Some(TypedValue::Uuid(7))],
            vec![Some(TypedValue::Bytes(vec![0, 1]))],
            vec![Some(TypedValue::Symbol(Box::new(Symbol::plain("s"))))],
            vec![big("-12345678901234567890123N"), long(1)],
            vec![big("-1N"), None],
            vec![big("0N")],
            vec![big("0N"), big("5N")],
            vec![big("9223372036854775808N")],
            vec![big("-0.5M")],
            vec![big("0.1M"), text("a")],
            vec![big("0.12M")],
        ]
    }

    /// The typed big integer or decimal `text` reads as.
    fn big(text: &str) -> Option<TypedValue> {
        let value = factlite_edn::parse(text).unwrap();
        let value_type = match value {
            Value::BigInt(_) => ValueType::BigInt,
            _ => ValueType::BigDec,
        };
        TypedValue::from_edn(&value, value_type).ok()
    }

    #[test]
    fn encodings_decode_to_what_was_encoded() {
        for elements in sample() {
            assert_eq!(decode(&encode(&elements)), Ok(elements.clone()));
        }
    }

    #[test]
    fn byte_order_is_value_order() {
        let tuples = sample();
        for a in &tuples {
            for b in &tuples {
                let by_value = TypedValue::Tuple(a.clone()).cmp(&TypedValue::Tuple(b.clone()));
                assert_eq!(encode(a).cmp(&encode(b)), by_value, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn conversion_checks_arity_and_element_types() {
        let shape = TupleShape::Heterogeneous(vec![ValueType::Long, ValueType::String]);
        let vector = |items: Vec<Value>| Value::Vector(items);
        assert_eq!(
            shape.tuple_from_edn(&vector(vec![Value::Integer(1), Value::Nil])),
            Ok(TypedValue::Tuple(vec![Some(TypedValue::Long(1)), None]))
        );
        let too_short = shape.tuple_from_edn(&vector(vec![Value::Integer(1)]));
        assert!(too_short.is_err_and(|e| e.contains("1 element,")));
        let wrong = shape.tuple_from_edn(&vector(vec![Value::from("a"), Value::from("b")]));
        assert!(wrong.is_err_and(|e| e.contains("element 0")));
        let homogeneous = TupleShape::Homogeneous(ValueType::Long);
        let nine = vector((0..9).map(Value::Integer).collect());
        assert!(homogeneous.tuple_from_edn(&nine).is_err());
        assert!(homogeneous.tuple_from_edn(&Value::Integer(1)).is_err());
    }
}
