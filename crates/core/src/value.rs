//! Value types and typed values: what an attribute's `:db/valueType` allows,
//! and a value known to be of one of those types.
//!
//! Each type has a small integer tag stored beside the value in SQLite, so
//! values of every type share one column and a query compares values of one
//! type without decoding them.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use factlite_edn::{BigDecimal, BigInt, Instant, Keyword, Symbol, Uuid, Value};

use crate::Entid;

/// The value types an attribute may have (`:db.type/...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueType {
    Ref,
    Boolean,
    Instant,
    Long,
    Double,
    String,
    Keyword,
    Uuid,
    Bytes,
    /// A URI, `#uri "https://..."` in EDN (layout version 3).
    Uri,
    /// A symbol, `my/thing` in EDN (layout version 3).
    Symbol,
    /// A tuple, a vector in EDN; what it holds is the attribute's
    /// [`crate::TupleShape`] (the tuple layout).
    Tuple,
    /// A 32-bit float (the tuple layout): a double in EDN, rounded to the
    /// nearest float; a number like longs and doubles.
    Float,
    /// An integer of any size, `12345678901234567890123N` in EDN (layout
    /// version 6); a number like the others.
    BigInt,
    /// A decimal of any precision, `1.25M` in EDN (layout version 6): a
    /// number like the others, exact (`0.1M` is one tenth).
    BigDec,
}

impl ValueType {
    /// Every value type, in tag order.
    pub const ALL: [ValueType; 15] = [
        ValueType::Ref,
        ValueType::Boolean,
        ValueType::Instant,
        ValueType::Long,
        ValueType::Double,
        ValueType::String,
        ValueType::Keyword,
        ValueType::Uuid,
        ValueType::Bytes,
        ValueType::Uri,
        ValueType::Symbol,
        ValueType::Tuple,
        ValueType::Float,
        ValueType::BigInt,
        ValueType::BigDec,
    ];

    /// The tag stored in the `t` column beside each value.
    pub fn tag(self) -> i64 {
        match self {
            ValueType::Ref => 0,
            ValueType::Boolean => 1,
            ValueType::Instant => 2,
            ValueType::Long => 3,
            ValueType::Double => 4,
            ValueType::String => 5,
            ValueType::Keyword => 6,
            ValueType::Uuid => 7,
            ValueType::Bytes => 8,
            ValueType::Uri => 9,
            ValueType::Symbol => 10,
            ValueType::Tuple => 11,
            ValueType::Float => 12,
            ValueType::BigInt => 13,
            ValueType::BigDec => 14,
        }
    }

    /// The value type with this tag.
    pub fn from_tag(tag: i64) -> Option<ValueType> {
        ValueType::ALL.into_iter().find(|t| t.tag() == tag)
    }

    /// The name after `:db.type/`.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Ref => "ref",
            ValueType::Boolean => "boolean",
            ValueType::Instant => "instant",
            ValueType::Long => "long",
            ValueType::Double => "double",
            ValueType::String => "string",
            ValueType::Keyword => "keyword",
            ValueType::Uuid => "uuid",
            ValueType::Bytes => "bytes",
            ValueType::Uri => "uri",
            ValueType::Symbol => "symbol",
            ValueType::Tuple => "tuple",
            ValueType::Float => "float",
            ValueType::BigInt => "bigint",
            ValueType::BigDec => "bigdec",
        }
    }

    /// Whether a comparison (`<`, `>`, `<=`, `>=`) may order values of this
    /// type and `other`: numbers (longs, doubles, and entity ids, which are
    /// longs, floats, big integers and big decimals) with each other, any
    /// other type only with itself. Values of
    /// other pairs of types have no order: comparing them is an error, as
    /// in Datomic.
    pub fn is_comparable_with(self, other: ValueType) -> bool {
        self == other || (self.is_numeric() && other.is_numeric())
    }

    /// Whether the type's values are numbers, ordered together by value.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ValueType::Long
                | ValueType::Double
                | ValueType::Ref
                | ValueType::Float
                | ValueType::BigInt
                | ValueType::BigDec
        )
    }

    /// Whether the type's values are stored as their number key
    /// ([`crate::number::key`]) rather than as SQLite numbers.
    pub fn is_stored_as_number_key(self) -> bool {
        matches!(self, ValueType::BigInt | ValueType::BigDec)
    }

    /// The name with its article, for messages: "a long", "an instant".
    pub fn a_name(self) -> String {
        let article = if matches!(self, ValueType::Instant) {
            "an"
        } else {
            "a"
        };
        format!("{article} {}", self.name())
    }

    /// The ident keyword, `:db.type/string`.
    pub fn ident(self) -> Keyword {
        Keyword::namespaced("db.type", self.name())
    }

    /// The value type an ident such as `:db.type/long` names.
    pub fn from_ident(ident: &Keyword) -> Option<ValueType> {
        if ident.namespace.as_deref() != Some("db.type") {
            return None;
        }
        ValueType::ALL.into_iter().find(|t| t.name() == ident.name)
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ":db.type/{}", self.name())
    }
}

/// A value of a known type, as stored in a datom.
#[derive(Clone, Debug)]
pub enum TypedValue {
    Ref(Entid),
    Boolean(bool),
    /// Milliseconds since the Unix epoch.
    Instant(i64),
    Long(i64),
    Double(f64),
    String(String),
    /// Boxed, as is [`TypedValue::Symbol`]: two strings inline would
    /// double the size of every value, and so of every datom a transaction
    /// or a query result holds.
    Keyword(Box<Keyword>),
    Uuid(u128),
    Bytes(Vec<u8>),
    /// A URI's text.
    Uri(String),
    /// A symbol.
    Symbol(Box<Symbol>),
    /// A tuple's elements, `None` for `nil`.
    Tuple(Vec<Option<TypedValue>>),
    /// A 32-bit float.
    Float(f32),
    /// An integer of any size; boxed to keep the value four words.
    BigInt(Box<BigInt>),
    /// A decimal of any precision, in its canonical form (no trailing
    /// zeros: [`crate::number::canonical`]), as equal decimals are one
    /// value; boxed to keep the value four words.
    BigDec(Box<BigDecimal>),
}

/// A value that does not fit the type it was meant for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeMismatch {
    pub expected: ValueType,
    pub found: Value,
}

impl fmt::Display for TypeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is a {}, not a {}",
            self.found,
            self.found.kind_name(),
            self.expected
        )
    }
}

impl TypedValue {
    /// The value's type.
    pub fn value_type(&self) -> ValueType {
        match self {
            TypedValue::Ref(_) => ValueType::Ref,
            TypedValue::Boolean(_) => ValueType::Boolean,
            TypedValue::Instant(_) => ValueType::Instant,
            TypedValue::Long(_) => ValueType::Long,
            TypedValue::Double(_) => ValueType::Double,
            TypedValue::String(_) => ValueType::String,
            TypedValue::Keyword(_) => ValueType::Keyword,
            TypedValue::Uuid(_) => ValueType::Uuid,
            TypedValue::Bytes(_) => ValueType::Bytes,
            TypedValue::Uri(_) => ValueType::Uri,
            TypedValue::Symbol(_) => ValueType::Symbol,
            TypedValue::Tuple(_) => ValueType::Tuple,
            TypedValue::Float(_) => ValueType::Float,
            TypedValue::BigInt(_) => ValueType::BigInt,
            TypedValue::BigDec(_) => ValueType::BigDec,
        }
    }

    /// Converts an EDN value to the given type, when it fits. Refs are not
    /// resolved here: only an integer entity id converts to a ref. A long
    /// converts to a double (an integer literal where a double is expected is
    /// exact); a double never converts to a long. A big integer that fits in
    /// 64 bits converts to a long (`7N` is `7`, as Clojure's `=` has it);
    /// any integer converts to a big integer or a big decimal, a big
    /// decimal to its canonical form; a double never converts to a big
    /// decimal (its binary fraction is not the decimal it was written
    /// as). A tuple needs its shape:
    /// see [`crate::Attribute::typed_value`].
    pub fn from_edn(value: &Value, expected: ValueType) -> Result<TypedValue, TypeMismatch> {
        let converted = match (expected, value) {
            (ValueType::Ref, Value::Integer(id)) => Some(TypedValue::Ref(*id)),
            (ValueType::Boolean, Value::Boolean(b)) => Some(TypedValue::Boolean(*b)),
            (ValueType::Instant, Value::Inst(Instant(ms))) => Some(TypedValue::Instant(*ms)),
            (ValueType::Long, Value::Integer(i)) => Some(TypedValue::Long(*i)),
            (ValueType::Long, Value::BigInt(i)) => i64::try_from(i).ok().map(TypedValue::Long),
            (ValueType::BigInt, Value::BigInt(i)) => Some(TypedValue::BigInt(Box::new(i.clone()))),
            (ValueType::BigInt, Value::Integer(i)) => {
                Some(TypedValue::BigInt(Box::new(BigInt::from(*i))))
            }
            (ValueType::BigDec, Value::BigDec(d)) => crate::number::decimal_in_range(d)
                .then(|| TypedValue::BigDec(Box::new(crate::number::canonical(d)))),
            (ValueType::BigDec, Value::BigInt(i)) => Some(TypedValue::BigDec(Box::new(
                crate::number::canonical(&BigDecimal::from(i.clone())),
            ))),
            (ValueType::BigDec, Value::Integer(i)) => Some(TypedValue::BigDec(Box::new(
                crate::number::canonical(&BigDecimal::from(*i)),
            ))),
            (ValueType::Double, Value::Float(x)) => Some(TypedValue::Double(*x)),
            (ValueType::Double, Value::Integer(i)) => Some(TypedValue::Double(*i as f64)),
            // Rounded to the nearest float; a finite double beyond the
            // floats' range does not fit, nor an integer a float cannot
            // hold exactly.
            (ValueType::Float, Value::Float(x)) => {
                let rounded = *x as f32;
                (rounded.is_finite() || !x.is_finite()).then_some(TypedValue::Float(rounded))
            }
            (ValueType::Float, Value::Integer(i)) => {
                let rounded = *i as f32;
                (rounded as i64 == *i && rounded.abs() < 9.0e18)
                    .then_some(TypedValue::Float(rounded))
            }
            (ValueType::String, Value::String(s)) => Some(TypedValue::String(s.clone())),
            (ValueType::Keyword, Value::Keyword(k)) => {
                Some(TypedValue::Keyword(Box::new(k.clone())))
            }
            (ValueType::Uuid, Value::Uuid(Uuid(u))) => Some(TypedValue::Uuid(*u)),
            (ValueType::Bytes, Value::Tagged(tag, inner)) if tag.is("bytes") => match &**inner {
                Value::String(hex) => decode_hex(hex).map(TypedValue::Bytes),
                _ => None,
            },
            (ValueType::Symbol, Value::Symbol(symbol)) => {
                Some(TypedValue::Symbol(Box::new(symbol.clone())))
            }
            (ValueType::Uri, Value::Tagged(tag, inner)) if tag.is("uri") => match &**inner {
                Value::String(text) if is_uri_text(text) => Some(TypedValue::Uri(text.clone())),
                _ => None,
            },
            _ => None,
        };
        converted.ok_or_else(|| TypeMismatch {
            expected,
            found: value.clone(),
        })
    }

    /// [`TypedValue::from_edn`] of a value given up: a string moves into
    /// the typed value instead of being copied.
    pub fn from_edn_owned(value: Value, expected: ValueType) -> Result<TypedValue, TypeMismatch> {
        let value = match expected {
            ValueType::String => match value.into_string() {
                Ok(text) => return Ok(TypedValue::String(text)),
                Err(value) => value,
            },
            ValueType::Keyword => match value.into_keyword() {
                Ok(keyword) => return Ok(TypedValue::Keyword(Box::new(keyword))),
                Err(value) => value,
            },
            _ => value,
        };
        TypedValue::from_edn(&value, expected)
    }

    /// The EDN form of the value. Refs become their entity id; bytes become
    /// `#bytes "hex"`.
    pub fn to_edn(&self) -> Value {
        match self {
            TypedValue::Ref(id) => Value::Integer(*id),
            TypedValue::Boolean(b) => Value::Boolean(*b),
            TypedValue::Instant(ms) => Value::Inst(Instant(*ms)),
            TypedValue::Long(i) => Value::Integer(*i),
            TypedValue::Double(x) => Value::Float(*x),
            TypedValue::String(s) => Value::String(s.clone()),
            TypedValue::Keyword(k) => Value::Keyword((**k).clone()),
            TypedValue::Uuid(u) => Value::Uuid(Uuid(*u)),
            TypedValue::Bytes(bytes) => Value::Tagged(
                Symbol::plain("bytes"),
                Box::new(Value::String(encode_hex(bytes))),
            ),
            TypedValue::Uri(text) => {
                Value::Tagged(Symbol::plain("uri"), Box::new(Value::String(text.clone())))
            }
            TypedValue::Symbol(symbol) => Value::Symbol((**symbol).clone()),
            TypedValue::Float(x) => Value::Float(f64::from(*x)),
            TypedValue::BigInt(i) => Value::BigInt((**i).clone()),
            TypedValue::BigDec(d) => Value::BigDec((**d).clone()),
            TypedValue::Tuple(elements) => Value::Vector(
                elements
                    .iter()
                    .map(|element| element.as_ref().map_or(Value::Nil, TypedValue::to_edn))
                    .collect(),
            ),
        }
    }

    /// The keyword text as stored in SQLite: `ns/name` (no colon).
    pub fn keyword_storage_text(keyword: &Keyword) -> String {
        keyword.qualified_name()
    }
}

impl PartialEq for TypedValue {
    fn eq(&self, other: &TypedValue) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for TypedValue {}

impl Hash for TypedValue {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value_type().hash(state);
        match self {
            TypedValue::Ref(i) | TypedValue::Instant(i) | TypedValue::Long(i) => i.hash(state),
            TypedValue::Boolean(b) => b.hash(state),
            TypedValue::Double(x) => x.to_bits().hash(state),
            TypedValue::String(s) | TypedValue::Uri(s) => s.hash(state),
            TypedValue::Keyword(k) => k.hash(state),
            TypedValue::Symbol(symbol) => symbol.hash(state),
            TypedValue::Uuid(u) => u.hash(state),
            TypedValue::Bytes(b) => b.hash(state),
            TypedValue::Tuple(elements) => elements.hash(state),
            TypedValue::Float(x) => x.to_bits().hash(state),
            TypedValue::BigInt(i) => i.hash(state),
            TypedValue::BigDec(d) => d.hash(state),
        }
    }
}

impl PartialOrd for TypedValue {
    fn partial_cmp(&self, other: &TypedValue) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Values of one type compare naturally; different types order by tag.
impl Ord for TypedValue {
    fn cmp(&self, other: &TypedValue) -> Ordering {
        match (self, other) {
            (TypedValue::Ref(a), TypedValue::Ref(b))
            | (TypedValue::Instant(a), TypedValue::Instant(b))
            | (TypedValue::Long(a), TypedValue::Long(b)) => a.cmp(b),
            (TypedValue::Boolean(a), TypedValue::Boolean(b)) => a.cmp(b),
            (TypedValue::Double(a), TypedValue::Double(b)) => a.total_cmp(b),
            (TypedValue::Float(a), TypedValue::Float(b)) => a.total_cmp(b),
            (TypedValue::BigInt(a), TypedValue::BigInt(b)) => a.cmp(b),
            (TypedValue::BigDec(a), TypedValue::BigDec(b)) => a.cmp(b),
            (TypedValue::String(a), TypedValue::String(b))
            | (TypedValue::Uri(a), TypedValue::Uri(b)) => a.cmp(b),
            (TypedValue::Keyword(a), TypedValue::Keyword(b)) => a.cmp(b),
            (TypedValue::Symbol(a), TypedValue::Symbol(b)) => a.cmp(b),
            (TypedValue::Uuid(a), TypedValue::Uuid(b)) => a.cmp(b),
            (TypedValue::Bytes(a), TypedValue::Bytes(b)) => a.cmp(b),
            // Element by element, nil first, a prefix first: the order of
            // the stored encoding (`crate::tuple`).
            (TypedValue::Tuple(a), TypedValue::Tuple(b)) => a.cmp(b),
            _ => self.value_type().tag().cmp(&other.value_type().tag()),
        }
    }
}

impl fmt::Display for TypedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_edn())
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Whether text can be a URI reference (RFC 3986, as `java.net.URI`
/// parses one): no white space, control characters or the characters a
/// URI never holds unescaped (`"<>\^`{|}`), and `%` only before two hex
/// digits.
fn is_uri_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    let escapes_ok = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    escapes_ok
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"<>\\^`{|}".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every datom a transaction, a report or a result holds carries a
    /// value: a variant that grows it grows them all (box large ones).
    #[test]
    fn a_typed_value_takes_four_words() {
        assert_eq!(std::mem::size_of::<TypedValue>(), 32);
    }

    #[test]
    fn tags_round_trip() {
        for t in ValueType::ALL {
            assert_eq!(ValueType::from_tag(t.tag()), Some(t));
            assert_eq!(ValueType::from_ident(&t.ident()), Some(t));
        }
    }

    #[test]
    fn conversions_follow_the_type() {
        assert_eq!(
            TypedValue::from_edn(&Value::Integer(3), ValueType::Long),
            Ok(TypedValue::Long(3))
        );
        assert!(TypedValue::from_edn(&Value::Float(2.5), ValueType::Long).is_err());
        assert!(TypedValue::from_edn(&Value::from("2"), ValueType::Long).is_err());
        assert_eq!(
            TypedValue::from_edn(&Value::Integer(3), ValueType::Double),
            Ok(TypedValue::Double(3.0))
        );
        assert_eq!(
            TypedValue::from_edn(&Value::Float(0.1), ValueType::Float),
            Ok(TypedValue::Float(0.1))
        );
        assert!(TypedValue::from_edn(&Value::Float(1e300), ValueType::Float).is_err());
        assert!(TypedValue::from_edn(&Value::Integer((1 << 24) + 1), ValueType::Float).is_err());
        assert_eq!(
            TypedValue::Float(0.5).to_edn(),
            Value::Float(0.5),
            "a float reads back as the double it is"
        );
        let big = |text: &str| factlite_edn::parse(text).unwrap();
        assert_eq!(
            TypedValue::from_edn(&big("7N"), ValueType::Long),
            Ok(TypedValue::Long(7))
        );
        assert!(TypedValue::from_edn(&big("9223372036854775808N"), ValueType::Long).is_err());
        assert_eq!(
            TypedValue::from_edn(&Value::Integer(7), ValueType::BigInt),
            TypedValue::from_edn(&big("7N"), ValueType::BigInt)
        );
        assert_eq!(
            TypedValue::from_edn(&big("1.50M"), ValueType::BigDec)
                .map(|value| value.to_edn().to_string()),
            Ok("1.5M".to_string()),
            "a decimal is kept in its canonical form"
        );
        assert_eq!(
            TypedValue::from_edn(&big("100M"), ValueType::BigDec),
            TypedValue::from_edn(&Value::Integer(100), ValueType::BigDec)
        );
        assert!(TypedValue::from_edn(&Value::Float(0.1), ValueType::BigDec).is_err());
        assert!(TypedValue::from_edn(&big("1.5M"), ValueType::BigInt).is_err());
        assert!(TypedValue::from_edn(&big("1N"), ValueType::Double).is_err());
        let bytes = TypedValue::Bytes(vec![0, 255, 16]);
        assert_eq!(
            TypedValue::from_edn(&bytes.to_edn(), ValueType::Bytes),
            Ok(bytes)
        );
    }

    #[test]
    fn uris_are_checked_as_java_net_uri_reads_them() {
        let uri = |text: &str| {
            Value::Tagged(
                factlite_edn::Symbol::plain("uri"),
                Box::new(Value::String(text.into())),
            )
        };
        for good in [
            "https://example.org/a?b=c#d",
            "urn:isbn:0451450523",
            "relative/path",
            "a%20b",
        ] {
            assert!(
                TypedValue::from_edn(&uri(good), ValueType::Uri).is_ok(),
                "{good}"
            );
        }
        for bad in ["not a uri ::", "a<b>", "50%", "%zz", "tab\there"] {
            assert!(
                TypedValue::from_edn(&uri(bad), ValueType::Uri).is_err(),
                "{bad}"
            );
        }
    }
}
