//! [`ToValue`] and [`FromValue`] for single values: integers of every
//! width, floats, big integers and decimals ([`BigInt`], [`BigDecimal`]:
//! `:db.type/bigint`, `:db.type/bigdec`), booleans, strings, keywords,
//! uuids, instants (`SystemTime` too), [`Bytes`], `Option` and [`Value`]
//! itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use factlite_core::{TypedValue, ValueType};
use factlite_edn::{BigDecimal, BigInt, Instant, Keyword, Uuid, Value};

use super::{ConversionError, FromValue, ToValue};

/// A byte string: the value type `:db.type/bytes`, written `#bytes "hex"`
/// in EDN. A newtype, because `Vec<u8>` and `[u8]` convert as vectors of
/// longs like every other `Vec<T>`.
///
/// ```
/// use factlite::{Bytes, FromValue, ToValue};
/// let value = Bytes(vec![0, 255]).to_value()?;
/// assert_eq!(value.to_string(), r#"#bytes "00ff""#);
/// assert_eq!(Bytes::from_value(&value)?, Bytes(vec![0, 255]));
/// # Ok::<(), factlite::ConversionError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

macro_rules! integers {
    ($($t:ty),+) => { $(
        impl ToValue for $t {
            fn to_value(&self) -> Result<Value, ConversionError> {
                i64::try_from(*self).map(Value::Integer).map_err(|_| {
                    ConversionError::mismatch(
                        "an integer in i64's range",
                        format!("{} {self}", stringify!($t)),
                    )
                })
            }
        }
    )+ };
}

/// `FromValue` as the type's `TryFrom<&Value>` (in `factlite-edn`).
macro_rules! from_value_by_try_from {
    ($($t:ty),+) => { $(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, ConversionError> {
                <$t>::try_from(value)
            }
        }
    )+ };
}

from_value_by_try_from!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f64, f32, bool, String,
    Keyword, Uuid, Instant, BigInt, BigDecimal
);

integers!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl ToValue for f64 {
    fn to_value(&self) -> Result<Value, ConversionError> {
        Ok(Value::Float(*self))
    }
}

impl ToValue for f32 {
    fn to_value(&self) -> Result<Value, ConversionError> {
        Ok(Value::Float(f64::from(*self)))
    }
}

/// `ToValue` for a type that is one variant of [`Value`], holding it as it
/// is.
macro_rules! variants {
    ($($t:ty => $variant:ident;)+) => { $(
        impl ToValue for $t {
            fn to_value(&self) -> Result<Value, ConversionError> {
                Ok(Value::$variant(self.clone()))
            }
        }
    )+ };
}

variants! {
    bool => Boolean;
    String => String;
    Keyword => Keyword;
    Uuid => Uuid;
    Instant => Inst;
    BigInt => BigInt;
    BigDecimal => BigDec;
}

impl ToValue for str {
    fn to_value(&self) -> Result<Value, ConversionError> {
        Ok(Value::String(self.to_string()))
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Result<Value, ConversionError> {
        Ok(self.clone())
    }
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, ConversionError> {
        Ok(value.clone())
    }
}

/// `None` is `nil`.
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Result<Value, ConversionError> {
        match self {
            Some(value) => value.to_value(),
            None => Ok(Value::Nil),
        }
    }
}

/// `nil` is `None`; anything else must convert to `T`.
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, ConversionError> {
        match value {
            Value::Nil => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl ToValue for Bytes {
    fn to_value(&self) -> Result<Value, ConversionError> {
        Ok(TypedValue::Bytes(self.0.clone()).to_edn())
    }
}

impl FromValue for Bytes {
    fn from_value(value: &Value) -> Result<Self, ConversionError> {
        match TypedValue::from_edn(value, ValueType::Bytes) {
            Ok(TypedValue::Bytes(bytes)) => Ok(Bytes(bytes)),
            _ => Err(ConversionError::wrong_type("bytes", value)),
        }
    }
}

/// Milliseconds since the Unix epoch, rounded down.
impl ToValue for SystemTime {
    fn to_value(&self) -> Result<Value, ConversionError> {
        let nanos = match self.duration_since(UNIX_EPOCH) {
            Ok(after) => i128::try_from(after.as_nanos()),
            Err(before) => i128::try_from(before.duration().as_nanos()).map(|nanos| -nanos),
        };
        nanos
            .ok()
            .and_then(|nanos| i64::try_from(nanos.div_euclid(1_000_000)).ok())
            .map(|millis| Value::Inst(Instant(millis)))
            .ok_or_else(|| {
                ConversionError::mismatch("an instant within i64 milliseconds", format!("{self:?}"))
            })
    }
}

impl FromValue for SystemTime {
    fn from_value(value: &Value) -> Result<Self, ConversionError> {
        let Value::Inst(Instant(millis)) = value else {
            return Err(ConversionError::wrong_type("SystemTime", value));
        };
        let offset = Duration::from_millis(millis.unsigned_abs());
        let time = if *millis >= 0 {
            UNIX_EPOCH.checked_add(offset)
        } else {
            UNIX_EPOCH.checked_sub(offset)
        };
        time.ok_or_else(|| {
            ConversionError::mismatch("SystemTime", format!("instant {value} (out of range)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: ToValue + FromValue + PartialEq + std::fmt::Debug>(value: T, expected: Value) {
        let converted = value.to_value().expect("converts");
        assert_eq!(converted, expected, "{value:?}");
        assert_eq!(T::from_value(&converted).expect("converts back"), value);
    }

    #[test]
    fn every_integer_width_round_trips_at_its_limits() {
        round_trip(i8::MIN, Value::Integer(-128));
        round_trip(i16::MAX, Value::Integer(32767));
        round_trip(i32::MIN, Value::Integer(i64::from(i32::MIN)));
        round_trip(i64::MIN, Value::Integer(i64::MIN));
        round_trip(i128::from(i64::MAX), Value::Integer(i64::MAX));
        round_trip(-5isize, Value::Integer(-5));
        round_trip(u8::MAX, Value::Integer(255));
        round_trip(u16::MAX, Value::Integer(65535));
        round_trip(u32::MAX, Value::Integer(i64::from(u32::MAX)));
        round_trip(i64::MAX as u64, Value::Integer(i64::MAX));
        round_trip(7u128, Value::Integer(7));
        round_trip(9usize, Value::Integer(9));
    }

    #[test]
    fn integers_outside_i64_do_not_go_in() {
        let check = crate::convert::assert_fails;
        check(
            (i64::MAX as u64 + 1).to_value(),
            "expected an integer in i64's range, found u64 9223372036854775808",
        );
        check(
            u128::MAX.to_value(),
            "expected an integer in i64's range, found u128 340282366920938463463374607431768211455",
        );
        check(
            (i128::from(i64::MIN) - 1).to_value(),
            "expected an integer in i64's range, found i128 -9223372036854775809",
        );
        check(
            (usize::MAX).to_value(),
            &format!(
                "expected an integer in i64's range, found usize {}",
                usize::MAX
            ),
        );
    }

    #[test]
    fn integers_outside_the_target_do_not_come_out() {
        let check = crate::convert::assert_fails;
        check(
            u8::from_value(&Value::Integer(256)).map(drop),
            "expected u8, found integer 256 (out of range)",
        );
        check(
            u64::from_value(&Value::Integer(-1)).map(drop),
            "expected u64, found integer -1 (out of range)",
        );
        check(
            i32::from_value(&Value::Integer(i64::MAX)).map(drop),
            "expected i32, found integer 9223372036854775807 (out of range)",
        );
        check(
            usize::from_value(&Value::Integer(-3)).map(drop),
            "expected usize, found integer -3 (out of range)",
        );
    }

    #[test]
    fn the_other_scalars_round_trip() {
        round_trip(2.5f64, Value::Float(2.5));
        round_trip(0.25f32, Value::Float(0.25));
        round_trip(true, Value::Boolean(true));
        round_trip("x".to_string(), Value::from("x"));
        round_trip(Keyword::namespaced("a", "b"), Value::keyword(":a/b"));
        round_trip(Uuid(42), Value::Uuid(Uuid(42)));
        round_trip(Instant(-1), Value::Inst(Instant(-1)));
        let big: BigInt = "12345678901234567890123".parse().expect("digits");
        round_trip(big.clone(), Value::BigInt(big));
        let tenth = BigDecimal::new(BigInt::from(1), 1);
        round_trip(tenth.clone(), Value::BigDec(tenth));
        assert_eq!(
            BigInt::from_value(&Value::Integer(-3)),
            Ok(BigInt::from(-3))
        );
        crate::convert::assert_fails(
            BigDecimal::from_value(&Value::Float(0.1)).map(drop),
            "expected BigDecimal, found float",
        );
        round_trip(
            Bytes(vec![1, 2, 254]),
            TypedValue::Bytes(vec![1, 2, 254]).to_edn(),
        );
        round_trip(Some(3i64), Value::Integer(3));
        round_trip(None::<i64>, Value::Nil);
        round_trip(Value::symbol("?x"), Value::symbol("?x"));
        assert_eq!("s".to_value(), Ok(Value::from("s")));
        assert_eq!(f64::from_value(&Value::Integer(3)), Ok(3.0));
        assert_eq!(f32::from_value(&Value::Integer(3)), Ok(3.0));
    }

    #[test]
    fn system_time_is_an_instant_in_milliseconds() {
        round_trip(
            UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
            Value::Inst(Instant(1_700_000_000_123)),
        );
        round_trip(
            UNIX_EPOCH - Duration::from_millis(1500),
            Value::Inst(Instant(-1500)),
        );
        let rounded_down = |time: SystemTime| time.to_value().expect("converts");
        assert_eq!(
            rounded_down(UNIX_EPOCH + Duration::from_micros(1999)),
            Value::Inst(Instant(1))
        );
        assert_eq!(
            rounded_down(UNIX_EPOCH - Duration::from_micros(1)),
            Value::Inst(Instant(-1))
        );
    }

    #[test]
    fn a_value_of_another_kind_names_both_types() {
        let check = crate::convert::assert_fails;
        check(
            i64::from_value(&Value::Float(1.0)).map(drop),
            "expected i64, found float",
        );
        check(
            f64::from_value(&Value::from("1")).map(drop),
            "expected f64, found string",
        );
        check(
            f32::from_value(&Value::Nil).map(drop),
            "expected f32, found nil",
        );
        check(
            String::from_value(&Value::keyword(":a")).map(drop),
            "expected String, found keyword",
        );
        check(
            Keyword::from_value(&Value::from(":a")).map(drop),
            "expected keyword, found string",
        );
        check(
            Uuid::from_value(&Value::Integer(1)).map(drop),
            "expected uuid, found integer",
        );
        check(
            Instant::from_value(&Value::Integer(1)).map(drop),
            "expected instant, found integer",
        );
        check(
            SystemTime::from_value(&Value::Integer(1)).map(drop),
            "expected SystemTime, found integer",
        );
        check(
            Bytes::from_value(&Value::from("00")).map(drop),
            "expected bytes, found string",
        );
        check(
            Option::<bool>::from_value(&Value::Integer(0)).map(drop),
            "expected bool, found integer",
        );
    }
}
