//! How typed values are stored in SQLite: one untyped `v` column plus the
//! type tag `t`. Refs, longs and instants are integers, booleans 0/1, doubles
//! and floats reals (a float's real is exact, so SQLite compares it with
//! longs and doubles by value), strings and keywords text (keywords without the colon), uuids,
//! bytes and tuples blobs (tuples in `core::tuple`'s order-preserving
//! encoding, so SQLite's blob order is the tuples' order).
//!
//! Big integers and big decimals are blobs too: their number key
//! (`core::number::key`), a byte string whose `memcmp` order is numeric
//! order and which two numbers share exactly when they are equal. Why this
//! and not SQLite's numbers: an INTEGER holds 64 bits and a REAL rounds,
//! and no TEXT form orders numerically, while SQLite orders every
//! INTEGER and REAL before every BLOB. With the key,
//! - values of one attribute (one type) compare, sort, index (AVET ranges,
//!   `index_range`), deduplicate and stay unique as blobs, and a lookup by
//!   value (`[?e :a 10N]`) is the blob's equality, which the index serves;
//! - a comparison of a big number with a long, a double or a float
//!   (`[(< ?x 10)]`) compares keys: the planner passes the other side
//!   through the SQL function `factlite_number_key` (`sql_functions`),
//!   which makes the same key of any number, so the order is exact across
//!   the i64 boundary and against a double's binary value; the column
//!   itself stays bare, so an index still serves the range;
//! - a big decimal's key is the same for `1.5M` and `1.50M`: equal
//!   decimals are one value, kept in the canonical form (`TypedValue`).

use factlite_core::number;
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
        TypedValue::BigInt(_) | TypedValue::BigDec(_) => SqlValue::Blob(number_key(value)),
    }
}

/// A big number's stored form, its key (`number::stored_key`).
fn number_key(value: &TypedValue) -> Vec<u8> {
    number::stored_key(value).unwrap_or_else(|| unreachable!("a big number has a key: {value:?}"))
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
            TypedValue::BigInt(_) | TypedValue::BigDec(_) => {
                ToSqlOutput::Owned(SqlValue::Blob(number_key(self.0)))
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
        (ValueType::Symbol, ValueRef::Text(t)) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| factlite_edn::parse(s).ok()?.into_symbol().ok())
            .map(|symbol| TypedValue::Symbol(Box::new(symbol))),
        (ValueType::Uri, ValueRef::Text(t)) => std::str::from_utf8(t)
            .ok()
            .map(|s| TypedValue::Uri(s.to_string())),
        (ValueType::BigInt | ValueType::BigDec, ValueRef::Blob(b)) => {
            Some(number::from_stored_key(value_type, b).map_err(|reason| {
                CorruptValue(format!(
                    "stored {value_type} value does not decode: {reason}"
                ))
            })?)
        }
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
            big("12345678901234567890123N"),
            big("-9223372036854775809N"),
            big("0.1M"),
            big("-1234567890.0987654321M"),
        ];
        for value in values {
            let sql = to_sql(&value);
            let back = from_sql(ValueRef::from(&sql), value.value_type().tag()).unwrap();
            assert_eq!(back.to_edn().to_string(), value.to_edn().to_string());
            assert_eq!(back, value);
            let borrowed = SqlParam(&value);
            let param = match borrowed.to_sql().unwrap() {
                ToSqlOutput::Borrowed(borrowed) => SqlValue::from(borrowed),
                ToSqlOutput::Owned(owned) => owned,
                other => panic!("{other:?}"),
            };
            assert_eq!(param, sql);
        }
    }

    /// The typed big integer or decimal `text` reads as.
    fn big(text: &str) -> TypedValue {
        let value = factlite_edn::parse(text).unwrap();
        let value_type = match value {
            factlite_edn::Value::BigInt(_) => ValueType::BigInt,
            _ => ValueType::BigDec,
        };
        TypedValue::from_edn(&value, value_type).unwrap()
    }

    /// SQLite itself orders the stored big numbers, and the keys of longs
    /// and doubles the SQL function makes, by value.
    #[test]
    fn sqlite_orders_stored_big_numbers_with_longs_and_doubles() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::sql_functions::register(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t (v, t INTEGER)").unwrap();
        let ascending = [
            big("-99999999999999999999N"),
            TypedValue::Long(i64::MIN),
            big("-1.5M"),
            TypedValue::Double(-1.25),
            TypedValue::Long(0),
            big("0.1M"),
            TypedValue::Double(0.1),
            TypedValue::Float(0.5),
            TypedValue::Long(i64::MAX),
            big("9223372036854775808N"),
            // The double 1e30 is 1000000000000000019884624838656 exactly.
            big("1000000000000000000000000000001N"),
            TypedValue::Double(1e30),
            big("1000000000000000019884624838657N"),
        ];
        for value in ascending.iter().rev() {
            conn.execute(
                "INSERT INTO t VALUES (?1, ?2)",
                rusqlite::params![SqlParam(value), value.value_type().tag()],
            )
            .unwrap();
        }
        let mut statement = conn
            .prepare("SELECT v, t FROM t ORDER BY factlite_number_key(v, t)")
            .unwrap();
        let sorted: Vec<TypedValue> = statement
            .query_map(
                [],
                |row| Ok(from_sql(row.get_ref(0)?, row.get(1)?).unwrap()),
            )
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(sorted, ascending);
        let below_ten: i64 = conn
            .query_row(
                "SELECT count(*) FROM t WHERE t IN (13, 14) AND v < factlite_number_key(10, 3)",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(below_ten, 3, "the big numbers below 10, compared as blobs");
    }
}
