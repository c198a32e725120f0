//! `Serialize` and `Deserialize` for [`Value`] and its parts (the `serde`
//! feature).
//!
//! Serde's data model has no keywords, symbols, instants, uuids, lists,
//! sets, tagged elements or numbers of arbitrary size. Each of them travels
//! as a newtype struct with a reserved name ([`KEYWORD`], [`SYMBOL`],
//! [`INSTANT`], [`UUID`], [`LIST`], [`SET`], [`TAGGED`], [`BIGINT`],
//! [`BIGDEC`]) around its text or its items, so a format that does not know
//! the names sees plain data — JSON gets `":person/name"`,
//! `"2024-01-10T09:00:00.000Z"`, `"12345678901234567890123"`, `"1.50"` and
//! arrays — while factlite's serializer
//! over values (`factlite::serde`) recognizes them and builds the value
//! itself. Coming back, a deserializer that knows the names offers such a
//! value to [`Value`]'s visitor as a map of one entry keyed by the reserved
//! name (the trick `toml` uses for its datetimes); from other formats a
//! string stays a string.
//!
//! ```
//! let value = factlite_edn::parse(r#"{:name "Ann" :tags #{:a}}"#).unwrap();
//! let json = serde_json::to_string(&value).unwrap();
//! assert_eq!(json, r#"{":name":"Ann",":tags":[":a"]}"#);
//! ```

use std::fmt;

use ::serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use ::serde::ser::{Serialize, SerializeSeq, Serializer};
use indexmap::{IndexMap, IndexSet};

use crate::{Instant, Keyword, Symbol, Uuid, Value};

/// The newtype name a [`Keyword`] serializes under, around its text
/// (`":person/name"`).
pub const KEYWORD: &str = "$factlite::Keyword";
/// The newtype name a [`Symbol`] serializes under, around its text.
pub const SYMBOL: &str = "$factlite::Symbol";
/// The newtype name an [`Instant`] serializes under, around its RFC 3339
/// text.
pub const INSTANT: &str = "$factlite::Instant";
/// The newtype name a [`Uuid`] serializes under, around its canonical text.
pub const UUID: &str = "$factlite::Uuid";
/// The newtype name a list serializes under, around its items.
pub const LIST: &str = "$factlite::List";
/// The newtype name a set serializes under, around its items.
pub const SET: &str = "$factlite::Set";
/// The newtype name a tagged element serializes under, around the pair of
/// its tag's text and its value.
pub const TAGGED: &str = "$factlite::Tagged";
/// The newtype name a big integer serializes under, around its decimal
/// digits (`"-12345678901234567890123"`, no `N`).
pub const BIGINT: &str = "$factlite::BigInt";
/// The newtype name a big decimal serializes under, around its digits with
/// the point where its scale puts it (`"1.50"`, `"15e2"`, no `M`).
pub const BIGDEC: &str = "$factlite::BigDec";

/// A big decimal's text without its `M`, as [`BIGDEC`] carries it.
pub fn decimal_text(decimal: &crate::BigDecimal) -> String {
    let mut text = Value::BigDec(decimal.clone()).to_string();
    text.pop();
    text
}

/// The big integer a [`BIGINT`] text holds.
pub fn parse_big_integer(text: &str) -> Result<crate::BigInt, String> {
    match crate::parse(&format!("{text}N")).as_mut() {
        Ok(Value::BigInt(integer)) => Ok(std::mem::take(integer)),
        _ => Err(format!("{text:?} is not an integer")),
    }
}

/// The big decimal a [`BIGDEC`] text holds.
pub fn parse_big_decimal(text: &str) -> Result<crate::BigDecimal, String> {
    match crate::parse(&format!("{text}M")).as_mut() {
        Ok(Value::BigDec(decimal)) => Ok(std::mem::take(decimal)),
        _ => Err(format!("{text:?} is not a decimal number")),
    }
}

impl Serialize for Keyword {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(KEYWORD, &format!(":{}", self.qualified_name()))
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(SYMBOL, &self.qualified_name())
    }
}

impl Serialize for Instant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(INSTANT, &self.to_rfc3339())
    }
}

impl Serialize for Uuid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(UUID, &self.to_string())
    }
}

/// Items serialized as a sequence, whatever holds them.
struct Items<I>(I);

impl<'v, I: Iterator<Item = &'v Value> + ExactSizeIterator + Clone> Serialize for Items<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0.clone() {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => serializer.serialize_unit(),
            Value::Boolean(flag) => serializer.serialize_bool(*flag),
            Value::Integer(number) => serializer.serialize_i64(*number),
            Value::Float(number) => serializer.serialize_f64(*number),
            Value::BigInt(number) => {
                serializer.serialize_newtype_struct(BIGINT, &number.to_string())
            }
            Value::BigDec(number) => {
                serializer.serialize_newtype_struct(BIGDEC, &decimal_text(number))
            }
            Value::String(text) => serializer.serialize_str(text),
            Value::Char(c) => serializer.serialize_char(*c),
            Value::Keyword(keyword) => keyword.serialize(serializer),
            Value::Symbol(symbol) => symbol.serialize(serializer),
            Value::List(items) => serializer.serialize_newtype_struct(LIST, &Items(items.iter())),
            Value::Vector(items) => Items(items.iter()).serialize(serializer),
            Value::Map(map) => serializer.collect_map(map),
            Value::Set(items) => serializer.serialize_newtype_struct(SET, &Items(items.iter())),
            Value::Inst(instant) => instant.serialize(serializer),
            Value::Uuid(uuid) => uuid.serialize(serializer),
            Value::Tagged(tag, value) => {
                serializer.serialize_newtype_struct(TAGGED, &(tag.qualified_name(), &**value))
            }
        }
    }
}

/// Reads the text a reserved newtype wraps: `parse` turns it into the value.
struct TextVisitor<T> {
    expecting: &'static str,
    parse: fn(&str) -> Result<T, String>,
}

impl<'de, T> Visitor<'de> for TextVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.parse)(text).map_err(E::custom)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_str(self)
    }
}

fn deserialize_text<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    name: &'static str,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    deserializer.deserialize_newtype_struct(name, TextVisitor { expecting, parse })
}

impl<'de> Deserialize<'de> for Keyword {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Keyword, D::Error> {
        deserialize_text(deserializer, KEYWORD, "a keyword", |text| {
            Ok(Keyword::from_str_lossy(text))
        })
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Symbol, D::Error> {
        deserialize_text(deserializer, SYMBOL, "a symbol", |text| {
            Ok(Symbol::from_str_lossy(text))
        })
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Instant, D::Error> {
        deserialize_text(
            deserializer,
            INSTANT,
            "an instant in RFC 3339 text",
            Instant::parse_rfc3339,
        )
    }
}

impl<'de> Deserialize<'de> for Uuid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
        deserialize_text(deserializer, UUID, "a uuid in 8-4-4-4-12 form", Uuid::parse)
    }
}

/// Builds a [`Value`] from whatever a deserializer offers.
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an EDN value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Value, E> {
        Ok(Value::Boolean(flag))
    }

    fn visit_i64<E>(self, number: i64) -> Result<Value, E> {
        Ok(Value::Integer(number))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Value, E> {
        i64::try_from(number).map(Value::Integer).map_err(|_| {
            E::invalid_value(
                de::Unexpected::Unsigned(number),
                &"an integer in i64's range",
            )
        })
    }

    fn visit_f64<E>(self, number: f64) -> Result<Value, E> {
        Ok(Value::Float(number))
    }

    fn visit_char<E>(self, c: char) -> Result<Value, E> {
        Ok(Value::Char(c))
    }

    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        Ok(Value::String(text.to_string()))
    }

    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        Ok(Value::String(text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Vector(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(first) = map.next_key::<Value>()? else {
            return Ok(Value::Map(IndexMap::new()));
        };
        if let Value::String(name) = &first {
            if let Some(value) = reserved(name, &mut map)? {
                return Ok(value);
            }
        }
        let mut entries = IndexMap::with_capacity(map.size_hint().unwrap_or(0).min(4096) + 1);
        entries.insert(first, map.next_value()?);
        while let Some((key, value)) = map.next_entry()? {
            entries.insert(key, value);
        }
        Ok(Value::Map(entries))
    }
}

/// The value a map of one entry keyed by a reserved name stands for, or
/// `None` when `name` is not reserved.
fn reserved<'de, A: MapAccess<'de>>(name: &str, map: &mut A) -> Result<Option<Value>, A::Error> {
    let value = match name {
        KEYWORD => Value::Keyword(map.next_value()?),
        SYMBOL => Value::Symbol(map.next_value()?),
        INSTANT => Value::Inst(map.next_value()?),
        UUID => Value::Uuid(map.next_value()?),
        LIST => Value::List(map.next_value()?),
        SET => Value::Set(
            map.next_value::<Vec<Value>>()?
                .into_iter()
                .collect::<IndexSet<_>>(),
        ),
        BIGINT => Value::BigInt(
            parse_big_integer(&map.next_value::<String>()?).map_err(de::Error::custom)?,
        ),
        BIGDEC => Value::BigDec(
            parse_big_decimal(&map.next_value::<String>()?).map_err(de::Error::custom)?,
        ),
        TAGGED => {
            let (tag, value): (String, Value) = map.next_value()?;
            Value::Tagged(Symbol::from_str_lossy(&tag), Box::new(value))
        }
        _ => return Ok(None),
    };
    Ok(Some(value))
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_travel_through_json_as_plain_data() {
        let value = crate::parse(
            r#"{:a/b [1 2.5 "x" \c nil true] "k" (sym #{:s}) :at #inst "2024-01-10T09:00:00Z"
                :id #uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6" :t #point [1 2]}"#,
        )
        .expect("EDN");
        let json = serde_json::to_value(&value).expect("to JSON");
        assert_eq!(
            json,
            serde_json::json!({
                ":a/b": [1, 2.5, "x", "c", null, true],
                "k": ["sym", [":s"]],
                ":at": "2024-01-10T09:00:00.000Z",
                ":id": "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
                ":t": ["point", [1, 2]],
            })
        );
    }

    #[test]
    fn big_numbers_travel_as_their_text() {
        let value = crate::parse("[12345678901234567890123N 1.50M 15e2M]").expect("EDN");
        let json = serde_json::to_value(&value).expect("to JSON");
        assert_eq!(
            json,
            serde_json::json!(["12345678901234567890123", "1.50", "15e2"])
        );
        assert_eq!(
            parse_big_decimal("1.50").map(|d| Value::BigDec(d).to_string()),
            Ok("1.50M".to_string())
        );
        assert!(parse_big_integer("1.5").is_err());
        assert!(parse_big_decimal("x").is_err());
    }

    #[test]
    fn json_reads_back_as_strings_vectors_and_maps() {
        let value: Value =
            serde_json::from_str(r#"{"a": [1, 2.5, null, true, "x"], "b": {}}"#).expect("JSON");
        assert_eq!(
            value,
            crate::parse(r#"{"a" [1 2.5 nil true "x"] "b" {}}"#).expect("EDN")
        );
        let too_big = serde_json::from_str::<Value>("18446744073709551615");
        let message = too_big.expect_err("out of range").to_string();
        assert!(message.contains("an integer in i64's range"), "{message}");
    }

    #[test]
    fn parts_read_their_text() {
        let keyword: Keyword = serde_json::from_str(r#"":person/name""#).expect("keyword");
        assert_eq!(keyword, Keyword::namespaced("person", "name"));
        let instant: Instant = serde_json::from_str(r#""1970-01-01T00:00:01Z""#).expect("inst");
        assert_eq!(instant, Instant(1000));
        let uuid: Uuid =
            serde_json::from_str(r#""00000000-0000-0000-0000-00000000000f""#).expect("uuid");
        assert_eq!(uuid, Uuid(15));
        let symbol: Symbol = serde_json::from_str(r#""a/b""#).expect("symbol");
        assert_eq!(symbol, Symbol::from_str_lossy("a/b"));
        let bad = serde_json::from_str::<Instant>(r#""yesterday""#).expect_err("not RFC 3339");
        assert!(bad.to_string().contains("expected"), "{bad}");
    }
}
