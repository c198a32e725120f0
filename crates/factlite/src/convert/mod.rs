//! Rust values in and out of factlite's [`Value`]s, without EDN text:
//! [`ToValue`] for what goes in (query inputs, transaction data),
//! [`FromValue`] and [`FromRow`] for what comes out (a result's values and
//! rows), and [`ConversionError`] when a value does not fit.
//!
//! The types and the factlite value types they map to:
//!
//! | Rust | value | note |
//! |------|-------|------|
//! | `i8`…`i128`, `u8`…`u128`, `isize`, `usize` | long (`Value::Integer`) | range-checked into and out of `i64` |
//! | `f32`, `f64` | double (`Value::Float`) | a long reads as a double too |
//! | `bool` | boolean | |
//! | `&str`, `String` | string | as a ref's value in transaction data, a string is a tempid |
//! | [`Keyword`] | keyword | |
//! | [`Uuid`], `uuid::Uuid` (feature `uuid`) | uuid | |
//! | [`Instant`], `SystemTime`, `chrono::DateTime` (feature `chrono`), `time::OffsetDateTime` (feature `time`) | instant | milliseconds, sub-millisecond parts rounded down |
//! | [`Bytes`] | bytes (`#bytes "hex"`) | a newtype, since `Vec<u8>` is a vector of longs |
//! | `Option<T>` | `T`'s, or `nil` for `None` | |
//! | `Vec<T>`, `[T]`, `[T; N]` | vector | collection and relation inputs; a vector, list or set reads back |
//! | tuples of up to 8 | vector | tuple inputs; a row or a vector of as many values reads back |
//! | [`Value`] | itself | |
//!
//! ```
//! use factlite::{FromValue, ToValue, Value};
//!
//! let value = (1u8, "Ann", Some(2.5)).to_value()?;
//! assert_eq!(value, factlite::edn::parse(r#"[1 "Ann" 2.5]"#)?);
//! let back = <(i64, String, Option<f64>)>::from_value(&value)?;
//! assert_eq!(back, (1, "Ann".to_string(), Some(2.5)));
//! assert!(u64::MAX.to_value().is_err()); // no long holds it
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For the types that are one value each (integers, floats, `bool`,
//! strings, keywords, uuids, instants) `FromValue` is their
//! `TryFrom<&Value>`, which `factlite-edn` implements beside `Value`, with
//! the same [`ConversionError`]: `i64::try_from(&value)` and
//! `i64::from_value(&value)` are one conversion.

mod collections;
#[cfg(any(feature = "chrono", feature = "time", feature = "uuid"))]
mod external;
mod scalars;

use factlite_edn::Value;

/// `"a row of N values"` (`"1 value"`), for errors about a row's width.
pub(crate) fn row_of(len: usize) -> String {
    match len {
        1 => "a row of 1 value".to_string(),
        _ => format!("a row of {len} values"),
    }
}

pub use factlite_edn::ConversionError;
pub use scalars::Bytes;

#[cfg(doc)]
use factlite_edn::{Instant, Keyword, Uuid};

/// A Rust value that converts to a factlite [`Value`] (rusqlite's `ToSql`).
///
/// Only integers outside `i64`'s range (and instants outside its
/// milliseconds) fail to convert.
///
/// ```
/// use factlite::{ToValue, Value};
/// assert_eq!(42u16.to_value()?, Value::Integer(42));
/// assert_eq!(factlite::Keyword::from_str_lossy(":a/b").to_value()?, Value::keyword(":a/b"));
/// # Ok::<(), factlite::ConversionError>(())
/// ```
pub trait ToValue {
    /// The value.
    fn to_value(&self) -> Result<Value, ConversionError>;
}

/// A Rust value read from a factlite [`Value`] (rusqlite's `FromSql`).
///
/// ```
/// use factlite::{FromValue, Value};
/// assert_eq!(i32::from_value(&Value::Integer(-3))?, -3);
/// assert_eq!(Option::<String>::from_value(&Value::Nil)?, None);
/// let error = bool::from_value(&Value::Integer(1)).unwrap_err();
/// assert_eq!(error.to_string(), "expected bool, found integer");
/// # Ok::<(), factlite::ConversionError>(())
/// ```
pub trait FromValue: Sized {
    /// The Rust value, or an error naming the type expected and the value's
    /// kind.
    fn from_value(value: &Value) -> Result<Self, ConversionError>;
}

/// A Rust value read from a whole row of values (a relation's row, a
/// tuple result): implemented for tuples of [`FromValue`] types, column by
/// column.
///
/// ```
/// use factlite::{FromRow, Value};
/// let row = [Value::from("Ann"), Value::Integer(31)];
/// assert_eq!(<(String, u32)>::from_row(&row)?, ("Ann".to_string(), 31));
/// let error = <(String, bool)>::from_row(&row).unwrap_err();
/// assert_eq!(error.to_string(), "column 1: expected bool, found integer");
/// # Ok::<(), factlite::ConversionError>(())
/// ```
pub trait FromRow: Sized {
    /// The Rust value, or an error naming the column that did not convert.
    fn from_row(row: &[Value]) -> Result<Self, ConversionError>;
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Result<Value, ConversionError> {
        (**self).to_value()
    }
}

/// Asserts that `result` is the error printed as `message`.
#[cfg(test)]
pub(crate) fn assert_fails<T: std::fmt::Debug, E: std::fmt::Display>(
    result: Result<T, E>,
    message: &str,
) {
    match result {
        Ok(value) => panic!("expected the error {message:?}, got {value:?}"),
        Err(error) => assert_eq!(error.to_string(), message),
    }
}
