//! Constants of a query as SQL literals: an EDN value ([`literal`]) or a
//! schema-typed value ([`typed_literal`]) in the form `v` stores it, so a
//! constant bound as a parameter compares with the column as it is.

use factlite_core::{TypedValue, ValueType};
use factlite_edn::Value;

use crate::SqlLiteral;

pub fn literal(value: &Value) -> Option<(SqlLiteral, ValueType)> {
    Some(match value {
        Value::Integer(i) => (SqlLiteral::Integer(*i), ValueType::Long),
        Value::Float(x) => (SqlLiteral::Real(*x), ValueType::Double),
        Value::String(s) => (SqlLiteral::Text(s.clone()), ValueType::String),
        Value::Boolean(b) => (SqlLiteral::Integer(i64::from(*b)), ValueType::Boolean),
        Value::Keyword(k) => (SqlLiteral::Text(k.qualified_name()), ValueType::Keyword),
        Value::Inst(i) => (SqlLiteral::Integer(i.0), ValueType::Instant),
        Value::Uuid(u) => (
            SqlLiteral::Blob(u.0.to_be_bytes().to_vec()),
            ValueType::Uuid,
        ),
        Value::Symbol(symbol) => (SqlLiteral::Text(symbol.qualified_name()), ValueType::Symbol),
        // Stored as their number key (`core::number`).
        Value::BigInt(_) => (number_key(value)?, ValueType::BigInt),
        Value::BigDec(_) => (number_key(value)?, ValueType::BigDec),
        Value::Tagged(tag, inner) if tag.is("uri") => match &**inner {
            Value::String(text) => (SqlLiteral::Text(text.clone()), ValueType::Uri),
            _ => return None,
        },
        _ => return None,
    })
}

/// A big number's number key, as it is stored.
fn number_key(value: &Value) -> Option<SqlLiteral> {
    factlite_core::number::Number::of_value(value)
        .and_then(factlite_core::number::key)
        .map(SqlLiteral::Blob)
}

/// A stored value as the SQL literal it is kept as.
pub(crate) fn typed_literal(value: &TypedValue) -> SqlLiteral {
    match value {
        TypedValue::Ref(i) | TypedValue::Long(i) | TypedValue::Instant(i) => {
            SqlLiteral::Integer(*i)
        }
        TypedValue::Boolean(b) => SqlLiteral::Integer(i64::from(*b)),
        TypedValue::Double(x) => SqlLiteral::Real(*x),
        TypedValue::Float(x) => SqlLiteral::Real(f64::from(*x)),
        TypedValue::String(s) | TypedValue::Uri(s) => SqlLiteral::Text(s.clone()),
        TypedValue::Keyword(k) => SqlLiteral::Text(k.qualified_name()),
        TypedValue::Symbol(symbol) => SqlLiteral::Text(symbol.qualified_name()),
        TypedValue::Uuid(u) => SqlLiteral::Blob(u.to_be_bytes().to_vec()),
        TypedValue::Bytes(b) => SqlLiteral::Blob(b.clone()),
        TypedValue::Tuple(elements) => SqlLiteral::Blob(factlite_core::tuple::encode(elements)),
        TypedValue::BigInt(_) | TypedValue::BigDec(_) => {
            SqlLiteral::Blob(factlite_core::number::stored_key(value).unwrap_or_default())
        }
    }
}
