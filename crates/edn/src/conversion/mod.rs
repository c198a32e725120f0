//! Values out as Rust types: `TryFrom<&Value>` for the types that are one
//! value each — integers of every width (range-checked), floats, big
//! integers and decimals, `bool`, strings, keywords, uuids and instants —
//! failing with a
//! [`ConversionError`] that names the type expected and the value found.
//! (factlite's `FromValue` builds on these for collections, tuples and
//! options.)
//!
//! ```
//! use factlite_edn::{Keyword, Value};
//!
//! assert_eq!(i32::try_from(&Value::Integer(7)), Ok(7));
//! assert_eq!(f64::try_from(&Value::Integer(2)), Ok(2.0)); // a long reads as a double
//! let value = Value::from("Ann");
//! let name: &str = (&value).try_into()?;
//! assert_eq!(name, "Ann");
//! assert!(Keyword::try_from(&Value::from("Ann")).is_err());
//! # Ok::<(), factlite_edn::ConversionError>(())
//! ```

mod error;

pub use error::ConversionError;

use crate::{Instant, Keyword, Uuid, Value};

macro_rules! integers {
    ($($t:ty),+) => { $(
        impl TryFrom<&Value> for $t {
            type Error = ConversionError;

            fn try_from(value: &Value) -> Result<$t, ConversionError> {
                match value {
                    Value::Integer(number) => <$t>::try_from(*number).map_err(|_| {
                        ConversionError::mismatch(
                            stringify!($t),
                            format!("integer {number} (out of range)"),
                        )
                    }),
                    other => Err(ConversionError::wrong_type(stringify!($t), other)),
                }
            }
        }
    )+ };
}

integers!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

/// A long reads as a double too (as an `f64` holds it: exactly up to 2^53).
impl TryFrom<&Value> for f64 {
    type Error = ConversionError;

    fn try_from(value: &Value) -> Result<f64, ConversionError> {
        match value {
            Value::Float(number) => Ok(*number),
            Value::Integer(number) => Ok(*number as f64),
            other => Err(ConversionError::wrong_type("f64", other)),
        }
    }
}

/// A big integer, or a long (exactly).
impl TryFrom<&Value> for crate::BigInt {
    type Error = ConversionError;

    fn try_from(value: &Value) -> Result<crate::BigInt, ConversionError> {
        match value {
            Value::BigInt(number) => Ok(number.clone()),
            Value::Integer(number) => Ok(crate::BigInt::from(*number)),
            other => Err(ConversionError::wrong_type("BigInt", other)),
        }
    }
}

/// A big decimal, or an integer of either size (exactly, scale 0); never a
/// double, whose binary fraction is not the decimal it was written as.
impl TryFrom<&Value> for crate::BigDecimal {
    type Error = ConversionError;

    fn try_from(value: &Value) -> Result<crate::BigDecimal, ConversionError> {
        match value {
            Value::BigDec(number) => Ok(number.clone()),
            Value::BigInt(number) => Ok(crate::BigDecimal::from(number.clone())),
            Value::Integer(number) => Ok(crate::BigDecimal::from(*number)),
            other => Err(ConversionError::wrong_type("BigDecimal", other)),
        }
    }
}

/// The nearest `f32` to the double (or long).
impl TryFrom<&Value> for f32 {
    type Error = ConversionError;

    fn try_from(value: &Value) -> Result<f32, ConversionError> {
        f64::try_from(value)
            .map(|number| number as f32)
            .map_err(|_| ConversionError::wrong_type("f32", value))
    }
}

/// A string value, borrowed.
impl<'v> TryFrom<&'v Value> for &'v str {
    type Error = ConversionError;

    fn try_from(value: &'v Value) -> Result<&'v str, ConversionError> {
        match value {
            Value::String(text) => Ok(text),
            other => Err(ConversionError::wrong_type("&str", other)),
        }
    }
}

/// `TryFrom<&Value>` for a type that is one variant of [`Value`], cloned.
macro_rules! variants {
    ($($t:ty => $variant:ident, $name:literal;)+) => { $(
        impl TryFrom<&Value> for $t {
            type Error = ConversionError;

            fn try_from(value: &Value) -> Result<$t, ConversionError> {
                match value {
                    Value::$variant(inner) => Ok(inner.clone()),
                    other => Err(ConversionError::wrong_type($name, other)),
                }
            }
        }
    )+ };
}

variants! {
    bool => Boolean, "bool";
    String => String, "String";
    Keyword => Keyword, "keyword";
    Uuid => Uuid, "uuid";
    Instant => Inst, "instant";
}
