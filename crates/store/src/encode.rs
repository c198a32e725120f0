//! How typed values are stored in SQLite: one untyped `v` column plus the
//! type tag `t`. Refs, longs and instants are integers, booleans 0/1, doubles
//! and floats reals (a float's real is exact, so SQLite compares it with
//! longs and doubles by value), strings and keywords text (keywords without the colon), uuids,
//! bytes and tuples blobs (tuples in `core::tuple`'s order-preserving
//! encoding, so SQLite's blob order is the tuples' order).

use factlite_core::{tuple, TypedValue, ValueType};
use factlite_edn::Keyword;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::ToSql;

/// The SQLite form of a typed value.
pub fn to_sql(value: &TypedValue) -> SqlValue {
    match value {
        TypedValue::Ref(i) | TypedValue::Long(i) | TypedValue::Instant(i) => SqlValue::Integer(*i),
        TypedValue::Boolean(b) => SqlValue::Integer(i64::from(*b)),
        TypedValue::Double(x) => SqlValue::Real(*x),
        TypedValue::Float(x) => SqlValue::Real(f64::from(*x)),
        TypedValue::String(s) | TypedValue::Uri(s) => SqlValue::Text(s.clone()),
        TypedValue::Keyword(k) => SqlValue::Text(TypedValue::keyword_storage_text(k)),
        TypedValue::Symbol(symbol) => SqlValue::Text(symbol.qualified_name()),
        TypedValue::Uuid(u) => SqlValue::Blob(u.to_be_bytes().to_vec()),
        TypedValue::Bytes(b) => SqlValue::Blob(b.clone()),
        TypedValue::Tuple(elements) => SqlValue::Blob(tuple::encode(elements)),
    }
}

/// A typed value borrowed as a SQL parameter.
pub struct SqlParam<'a>(pub &'a TypedValue);

impl ToSql for SqlParam<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            TypedValue::Ref(i) | TypedValue::Long(i) | TypedValue::Instant(i) => {
                ToSqlOutput::Owned(SqlValue::Integer(*i))
            }
            TypedValue::Boolean(b) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*b))),
            TypedValue::Double(x) => ToSqlOutput::Owned(SqlValue::Real(*x)),
            TypedValue::Float(x) => ToSqlOutput::Owned(SqlValue::Real(f64::from(*x))),
            TypedValue::String(s) | TypedValue::Uri(s) => {
                ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
            }
            TypedValue::Keyword(k) => {
                ToSqlOutput::Owned(SqlValue::Text(TypedValue::keyword_storage_text(k)))
            }
            TypedValue::Symbol(symbol) => {
                ToSqlOutput::Owned(SqlValue::Text(symbol.qualified_name()))
            }
            TypedValue::Uuid(u) => ToSqlOutput::Owned(SqlValue::Blob(u.to_be_bytes().to_vec())),
            TypedValue::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            TypedValue::Tuple(elements) => {
                ToSqlOutput::Owned(SqlValue::Blob(tuple::encode(elements)))
            }
        })
    }
}

/// Why a stored value could not be decoded: the file holds something no
/// factlite version writes.
#[derive(Debug)]
pub struct CorruptValue(pub String);

/// Decodes a stored value given its type tag.
pub fn from_sql(value: ValueRef<'_>, tag: i64) -> Result<TypedValue, CorruptValue> {
    let value_type = ValueType::from_tag(tag)
        .ok_or_else(|| CorruptValue(format!("unknown value type tag {tag}")))?;
    let decoded = match (value_type, value) {
        (ValueType::Ref, ValueRef::Integer(i)) => Some(TypedValue::Ref(i)),
        (ValueType::Long, ValueRef::Integer(i)) => Some(TypedValue::Long(i)),
        (ValueType::Instant, ValueRef::Integer(i)) => Some(TypedValue::Instant(i)),
        (ValueType::Boolean, ValueRef::Integer(i)) => Some(TypedValue::Boolean(i != 0)),
        (ValueType::Double, ValueRef::Real(x)) => Some(TypedValue::Double(x)),
        (ValueType::Double, ValueRef::Integer(i)) => Some(TypedValue::Double(i as f64)),
        (ValueType::Float, ValueRef::Real(x)) => Some(TypedValue::Float(x as f32)),
        (ValueType::Float, ValueRef::Integer(i)) => Some(TypedValue::Float(i as f32)),
        (ValueType::String, ValueRef::Text(t)) => std::str::from_utf8(t)
            .ok()
            .map(|s| TypedValue::String(s.to_string())),
        (ValueType::Keyword, ValueRef::Text(t)) => std::str::from_utf8(t)
            .ok()
            .map(|s| TypedValue::Keyword(Box::new(Keyword::from_str_lossy(s)))),
        (ValueType::Uuid, ValueRef::Blob(b)) => <[u8; 16]>::try_from(b)
            .ok()
            .map(|bytes| TypedValue::Uuid(u128::from_be_bytes(bytes))),
        (ValueType::Bytes, ValueRef::Blob(b)) => Some(TypedValue::Bytes(b.to_vec())),
        (ValueType::Symbol, ValueRef::Text(t)) => {
            std::str::from_utf8(t)
                .ok()
                .and_then(|s| match factlite_edn::parse(s) {
                    Ok(factlite_edn::Value::Symbol(symbol)) => {
                        Some(TypedValue::Symbol(Box::new(symbol)))
                    }
                    _ => None,
                })
        }
        (ValueType::Uri, ValueRef::Text(t)) => std::str::from_utf8(t)
            .ok()
            .map(|s| TypedValue::Uri(s.to_string())),
        (ValueType::Tuple, ValueRef::Blob(b)) => {
            let elements = tuple::decode(b).map_err(|reason| {
                CorruptValue(format!("stored tuple {value:?} does not decode: {reason}"))
            })?;
            Some(TypedValue::Tuple(elements))
        }
        _ => None,
    };
    decoded.ok_or_else(|| {
        CorruptValue(format!(
            "stored value {value:?} does not decode as {value_type}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips() {
        let values = [
            TypedValue::Ref(7),
            TypedValue::Long(-3),
            TypedValue::Instant(1_700_000_000_000),
            TypedValue::Boolean(true),
            TypedValue::Double(2.5),
            TypedValue::Float(-0.125),
            TypedValue::String("hé".into()),
            TypedValue::Keyword(Box::new(Keyword::namespaced("a.b", "c"))),
            TypedValue::Uuid(0x1234_5678_9abc_def0_1234_5678_9abc_def0),
            TypedValue::Bytes(vec![1, 2, 3]),
            TypedValue::Tuple(vec![Some(TypedValue::Long(1)), None]),
        ];
        for value in values {
            let sql = to_sql(&value);
            let back = from_sql(ValueRef::from(&sql), value.value_type().tag()).unwrap();
            assert_eq!(back, value);
        }
    }
}
