//! Numbers of every type in one exact order, and the byte key that
//! carries it.
//!
//! Longs, entity ids, doubles, floats, big integers and big decimals order
//! together by numeric value (`core::order`), exactly: `2^63N` is above
//! every long, `0.1M` is below the double `0.1` (whose binary value is
//! `0.1000000000000000055…`), and `9007199254740993N` above the double
//! `9007199254740992.0` it would round to. [`compare`] is that order in
//! Rust. [`key`] writes a number as a byte string whose unsigned byte
//! order (SQLite's `memcmp` order for blobs) is the same order, and that
//! two numbers share exactly when they are equal in value: big integers
//! and big decimals are stored as their key (`store::encode`), so SQLite
//! compares, indexes and looks them up as blobs, and a long or double
//! compared with one is turned into its key first.
//!
//! The key of a number `x`:
//! - `00` for −∞, `02` for zero, `04` for +∞ (NaN has none);
//! - otherwise `x = ±0.d₁d₂…dₙ × 10^E` with `d₁ ≠ 0` and `dₙ ≠ 0` (no
//!   trailing zeros: one form per value), written as a sign byte (`03`
//!   positive, `01` negative), `E` as 8 big-endian bytes with the sign
//!   bit flipped (so unsigned order is signed order), each digit as the
//!   byte `d + 1` (`01`…`0A`) and a terminator `00`; a negative number's
//!   exponent, digits and terminator are complemented (`FF − b`), so a
//!   larger magnitude orders first.
//!
//! Why it orders: numbers of different signs differ in the first byte.
//! Two positives with different exponents differ in the exponent bytes,
//! and the larger exponent is the larger number because `d₁ ≠ 0`. With
//! the same exponent the digit strings compare digit by digit; where one
//! ends, its terminator `00` is below any digit byte, so `0.12 < 0.123`.
//! For negatives everything after the sign byte is complemented, which
//! reverses each of those comparisons (the terminator becomes `FF`, above
//! every complemented digit). The key is self-delimiting (fixed exponent,
//! then digits up to the terminator), so it can stand inside a tuple's
//! encoding followed by more elements.
//!
//! A big decimal is a number: `1.50M` and `1.5M` have one key, are one
//! value (as Clojure's `=` and `compareTo` have it) and come back as
//! `1.5M`, the canonical form ([`canonical`]). A big integer and a big decimal of the same
//! value share a key too; their type tags tell them apart.

use std::cmp::Ordering;

use factlite_edn::{BigDecimal, BigInt, Sign, Value};

use crate::TypedValue;

/// A number of any type, borrowed.
#[derive(Clone, Copy, Debug)]
pub enum Number<'a> {
    /// A long or an entity id.
    Long(i64),
    /// A double, or a float widened (exactly) to one.
    Double(f64),
    /// A big integer.
    BigInt(&'a BigInt),
    /// A big decimal.
    BigDec(&'a BigDecimal),
}

impl<'a> Number<'a> {
    /// The number a typed value is, if it is one.
    pub fn of_typed(value: &'a TypedValue) -> Option<Number<'a>> {
        match value {
            TypedValue::Long(i) | TypedValue::Ref(i) => Some(Number::Long(*i)),
            TypedValue::Double(x) => Some(Number::Double(*x)),
            TypedValue::Float(x) => Some(Number::Double(f64::from(*x))),
            TypedValue::BigInt(i) => Some(Number::BigInt(i)),
            TypedValue::BigDec(d) => Some(Number::BigDec(d)),
            _ => None,
        }
    }

    /// The number an EDN value is, if it is one.
    pub fn of_value(value: &'a Value) -> Option<Number<'a>> {
        match value {
            Value::Integer(i) => Some(Number::Long(*i)),
            Value::Float(x) => Some(Number::Double(*x)),
            Value::BigInt(i) => Some(Number::BigInt(i)),
            Value::BigDec(d) => Some(Number::BigDec(d)),
            _ => None,
        }
    }

    /// The number as an unscaled integer and a scale (`value = unscaled ×
    /// 10^−scale`), exactly; `None` for infinities and NaN.
    fn decimal(self) -> Option<(BigInt, i128)> {
        match self {
            Number::Long(i) => Some((BigInt::from(i), 0)),
            Number::BigInt(i) => Some((i.clone(), 0)),
            Number::BigDec(d) => {
                let (unscaled, scale) = d.as_bigint_and_exponent();
                Some((unscaled, i128::from(scale)))
            }
            Number::Double(x) if !x.is_finite() => None,
            Number::Double(x) => {
                // x = ±m × 2^e exactly; for e < 0 that is m × 5^−e × 10^e.
                let bits = x.to_bits();
                let biased = ((bits >> 52) & 0x7ff) as i32;
                let fraction = bits & ((1 << 52) - 1);
                let (mantissa, exponent) = if biased == 0 {
                    (fraction, -1074)
                } else {
                    (fraction | (1 << 52), biased - 1075)
                };
                let mut unscaled = BigInt::from(mantissa);
                if x.is_sign_negative() {
                    unscaled = -unscaled;
                }
                Some(if exponent >= 0 {
                    (unscaled << exponent.unsigned_abs(), 0)
                } else {
                    let power = exponent.unsigned_abs();
                    (unscaled * BigInt::from(5).pow(power), i128::from(power))
                })
            }
        }
    }
}

/// The number as an exact big decimal; `None` for infinities and NaN.
pub fn to_big_decimal(number: Number<'_>) -> Option<BigDecimal> {
    number
        .decimal()
        .and_then(|(unscaled, scale)| Some(BigDecimal::new(unscaled, i64::try_from(scale).ok()?)))
}

/// The double nearest to the number (±∞ beyond the doubles' range).
pub fn to_f64(number: Number<'_>) -> f64 {
    match number {
        Number::Long(i) => i as f64,
        Number::Double(x) => x,
        Number::BigInt(i) => i.to_string().parse().unwrap_or(f64::NAN),
        Number::BigDec(d) => {
            // The printed digits (`15e2M`, `1.50M`) without the `M` are a
            // text Rust's own parser rounds correctly.
            let mut text = Value::BigDec(d.clone()).to_string();
            text.pop();
            text.parse().unwrap_or(f64::NAN)
        }
    }
}

/// The sign byte of −∞, negatives, zero, positives and +∞.
const NEGATIVE_INFINITY: u8 = 0x00;
const NEGATIVE: u8 = 0x01;
const ZERO: u8 = 0x02;
const POSITIVE: u8 = 0x03;
const POSITIVE_INFINITY: u8 = 0x04;

/// The order-preserving key of a number (see the module doc); `None` for
/// NaN, which has no place in the order.
pub fn key(number: Number<'_>) -> Option<Vec<u8>> {
    let Some((unscaled, scale)) = number.decimal() else {
        return match number {
            Number::Double(x) if x == f64::INFINITY => Some(vec![POSITIVE_INFINITY]),
            Number::Double(x) if x == f64::NEG_INFINITY => Some(vec![NEGATIVE_INFINITY]),
            _ => None,
        };
    };
    if unscaled.sign() == Sign::NoSign {
        return Some(vec![ZERO]);
    }
    let negative = unscaled.sign() == Sign::Minus;
    let digits = unscaled.magnitude().to_string();
    let significant = digits.trim_end_matches('0');
    // Beyond 64 bits (a decimal of a scale near `i64::MIN` or `MAX`, which
    // no reader makes and `TypedValue::from_edn` refuses) the exponent
    // saturates: the order stays monotone, if no longer strict there.
    let exponent = digits.len() as i128 - scale;
    let exponent =
        i64::try_from(exponent).unwrap_or(if exponent > 0 { i64::MAX } else { i64::MIN });
    let flip = |byte: u8| if negative { 0xFF - byte } else { byte };
    let mut out = Vec::with_capacity(10 + significant.len());
    out.push(if negative { NEGATIVE } else { POSITIVE });
    out.extend(
        ((exponent as u64) ^ (1 << 63))
            .to_be_bytes()
            .into_iter()
            .map(flip),
    );
    out.extend(significant.bytes().map(|digit| flip(digit - b'0' + 1)));
    out.push(flip(0));
    Some(out)
}

/// The stored form of a big integer or big decimal: its key, which every
/// one has; `None` for other values.
pub fn stored_key(value: &TypedValue) -> Option<Vec<u8>> {
    match value {
        TypedValue::BigInt(_) | TypedValue::BigDec(_) => Number::of_typed(value).and_then(key),
        _ => None,
    }
}

/// A big number read back from its stored key, given its type.
pub fn from_stored_key(value_type: crate::ValueType, bytes: &[u8]) -> Result<TypedValue, String> {
    match value_type {
        crate::ValueType::BigInt => Ok(TypedValue::BigInt(Box::new(big_integer_from_key(bytes)?))),
        crate::ValueType::BigDec => Ok(TypedValue::BigDec(Box::new(big_decimal_from_key(bytes)?))),
        other => Err(format!("{other} is not stored as a number key")),
    }
}

/// A key read back: sign, significant digits, exponent (`±0.digits ×
/// 10^exponent`), and how many bytes it took.
struct Decoded {
    negative: bool,
    digits: String,
    exponent: i64,
    length: usize,
}

/// Reads the key at the start of `bytes`; `None` for zero (one byte),
/// an error for the infinities and anything malformed.
fn decode(bytes: &[u8]) -> Result<Option<Decoded>, String> {
    let negative = match bytes.first() {
        Some(&ZERO) => return Ok(None),
        Some(&NEGATIVE) => true,
        Some(&POSITIVE) => false,
        Some(other) => return Err(format!("number key starts with {other:#04x}")),
        None => return Err("empty number key".into()),
    };
    let flip = |byte: u8| if negative { 0xFF - byte } else { byte };
    let exponent_bytes: [u8; 8] = bytes
        .get(1..9)
        .and_then(|slice| slice.try_into().ok())
        .ok_or("number key ends inside its exponent")?;
    let exponent = (u64::from_be_bytes(exponent_bytes.map(flip)) ^ (1 << 63)) as i64;
    let mut digits = String::new();
    for (offset, &byte) in bytes[9..].iter().enumerate() {
        match flip(byte) {
            0 if !digits.is_empty() => {
                return Ok(Some(Decoded {
                    negative,
                    digits,
                    exponent,
                    length: 9 + offset + 1,
                }))
            }
            digit @ 1..=10 => digits.push(char::from(b'0' + digit - 1)),
            other => return Err(format!("number key holds the digit byte {other:#04x}")),
        }
    }
    Err("number key has no terminator".into())
}

/// The length of the number key at the start of `bytes` (for a tuple's
/// decoder), or why it is malformed.
pub fn key_length(bytes: &[u8]) -> Result<usize, String> {
    match bytes.first() {
        Some(&(NEGATIVE_INFINITY | POSITIVE_INFINITY)) => Ok(1),
        _ => Ok(decode(bytes)?.map_or(1, |decoded| decoded.length)),
    }
}

/// The most zeros a whole decimal is written out with (`1000M`); one with
/// more keeps a negative scale (`1e40M`), so that a huge exponent never
/// becomes that many digits.
const MAX_WRITTEN_ZEROS: i128 = 32;

/// The canonical unscaled digits and scale of `±0.digits × 10^exponent`
/// (`digits` without trailing zeros): no zeros after the point, and a
/// whole number written out up to [`MAX_WRITTEN_ZEROS`] zeros.
fn canonical_parts(negative: bool, digits: &str, exponent: i128) -> Result<(BigInt, i64), String> {
    if digits.is_empty() {
        return Ok((BigInt::from(0), 0));
    }
    let count = digits.len() as i128;
    let zeros = exponent - count;
    let (text, scale) = if (0..=MAX_WRITTEN_ZEROS).contains(&zeros) {
        (format!("{digits}{}", "0".repeat(zeros as usize)), 0)
    } else {
        (digits.to_string(), count - exponent)
    };
    let magnitude: BigInt = text
        .parse()
        .map_err(|_| "number key holds no digits".to_string())?;
    let scale = i64::try_from(scale).map_err(|_| "number key's exponent is out of range")?;
    Ok((if negative { -magnitude } else { magnitude }, scale))
}

/// The unscaled digits and scale a key holds, canonical.
fn unscaled_and_scale(bytes: &[u8]) -> Result<(BigInt, i64), String> {
    let Some(decoded) = decode(bytes)? else {
        return Ok((BigInt::from(0), 0));
    };
    if decoded.length != bytes.len() {
        return Err("number key has bytes after its terminator".into());
    }
    canonical_parts(
        decoded.negative,
        &decoded.digits,
        i128::from(decoded.exponent),
    )
}

/// The big integer a key holds; an error when it is no integer.
pub fn big_integer_from_key(bytes: &[u8]) -> Result<BigInt, String> {
    let (unscaled, scale) = unscaled_and_scale(bytes)?;
    if scale > 0 {
        return Err("number key holds a fraction, not an integer".into());
    }
    let zeros = u32::try_from(-scale).map_err(|_| "number key's integer is too large")?;
    Ok(unscaled * BigInt::from(10).pow(zeros))
}

/// The big decimal a key holds, in its canonical form ([`canonical`]).
pub fn big_decimal_from_key(bytes: &[u8]) -> Result<BigDecimal, String> {
    let (unscaled, scale) = unscaled_and_scale(bytes)?;
    Ok(BigDecimal::new(unscaled, scale))
}

/// A big decimal in its canonical form, the one equal decimals share and
/// the store keeps: no trailing zeros after the point, whole numbers
/// written out (up to 32 zeros; beyond, a negative scale): `1.50M` →
/// `1.5M`, `10.0M` → `10M`, `1e2M` → `100M`, `0.00M` → `0M`, `1e40M` stays.
pub fn canonical(decimal: &BigDecimal) -> BigDecimal {
    let (unscaled, scale) = decimal.as_bigint_and_exponent();
    let digits = unscaled.magnitude().to_string();
    let significant = digits.trim_end_matches('0');
    let exponent = digits.len() as i128 - i128::from(scale);
    match canonical_parts(unscaled.sign() == Sign::Minus, significant, exponent) {
        Ok((unscaled, scale)) => BigDecimal::new(unscaled, scale),
        // Only a scale beyond 64 bits fails: kept as it is.
        Err(_) => decimal.clone(),
    }
}

/// Whether the decimal's exponent fits the key (within
/// [`factlite_edn::MAX_DECIMAL_EXPONENT`] of zero, as the reader requires).
pub fn decimal_in_range(decimal: &BigDecimal) -> bool {
    let (unscaled, scale) = decimal.as_bigint_and_exponent();
    let digits = unscaled.magnitude().to_string().len() as i128;
    (digits - i128::from(scale)).abs() <= i128::from(factlite_edn::MAX_DECIMAL_EXPONENT)
}

/// Two numbers by exact value; `None` when either is NaN. Longs with
/// longs and doubles with doubles compare directly, the rest by key.
pub fn compare(a: Number<'_>, b: Number<'_>) -> Option<Ordering> {
    match (a, b) {
        (Number::Long(x), Number::Long(y)) => Some(x.cmp(&y)),
        (Number::Double(x), Number::Double(y)) => x.partial_cmp(&y),
        (Number::BigInt(x), Number::BigInt(y)) => Some(x.cmp(y)),
        _ => Some(key(a)?.cmp(&key(b)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(text: &str) -> BigInt {
        text.parse().unwrap()
    }

    /// The decimal `text` (without its `M`) reads as.
    fn dec(text: &str) -> BigDecimal {
        match factlite_edn::parse(&format!("{text}M")) {
            Ok(Value::BigDec(ref d)) => d.clone(),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn keys_order_numbers_of_every_type_by_value() {
        let huge = big("123456789012345678901234567890");
        let past_long = big("9223372036854775808");
        let near_double = big("9007199254740993");
        let ascending_owned = [
            dec("-123456789012345678901234567890.5"),
            dec("-1.25"),
            dec("-1.2"),
            dec("-0.001"),
            dec("0.1"),
            dec("0.12"),
            dec("0.123"),
        ];
        let numbers: Vec<Number<'_>> = vec![
            Number::Double(f64::NEG_INFINITY),
            Number::BigDec(&ascending_owned[0]),
            Number::Long(i64::MIN),
            Number::Long(-2),
            Number::BigDec(&ascending_owned[1]),
            Number::BigDec(&ascending_owned[2]),
            Number::Double(-1.0),
            Number::BigDec(&ascending_owned[3]),
            Number::Double(-1e-300),
            Number::Long(0),
            Number::Double(5e-324),
            Number::BigDec(&ascending_owned[4]),
            Number::Double(0.1),
            Number::BigDec(&ascending_owned[5]),
            Number::BigDec(&ascending_owned[6]),
            Number::Long(1),
            Number::Double(1.5),
            Number::Double(9007199254740992.0),
            Number::BigInt(&near_double),
            Number::Long(i64::MAX),
            Number::BigInt(&past_long),
            Number::Double(1e20),
            Number::BigInt(&huge),
            Number::Double(f64::MAX),
            Number::Double(f64::INFINITY),
        ];
        for pair in numbers.windows(2) {
            assert_eq!(compare(pair[0], pair[1]), Some(Ordering::Less), "{pair:?}");
            assert!(key(pair[0]) < key(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn doubles_round_to_nearest() {
        let third = dec("0.333333333333333333333333");
        assert_eq!(to_f64(Number::BigDec(&third)), 1.0 / 3.0);
        assert_eq!(to_f64(Number::BigDec(&dec("15e2"))), 1500.0);
        assert_eq!(
            to_f64(Number::BigInt(&big("-9007199254740993"))),
            -9007199254740992.0
        );
        assert_eq!(to_f64(Number::BigDec(&dec("1e400"))), f64::INFINITY);
    }

    #[test]
    fn equal_values_share_one_key() {
        let one = big("1");
        let hundred = dec("1e2");
        let one_dec = dec("1.000");
        assert_eq!(key(Number::Long(1)), key(Number::BigInt(&one)));
        assert_eq!(key(Number::Double(1.0)), key(Number::BigDec(&one_dec)));
        assert_eq!(key(Number::Long(100)), key(Number::BigDec(&hundred)));
        assert_eq!(key(Number::Double(-0.0)), key(Number::Long(0)));
        assert_eq!(key(Number::Double(f64::NAN)), None);
        assert_eq!(compare(Number::Double(f64::NAN), Number::Long(1)), None);
    }

    #[test]
    fn keys_read_back_as_the_canonical_form() {
        for text in ["1.50", "-0.001", "0.000", "1e30", "-12345678901234567890.5"] {
            let decimal = dec(text);
            let stored = key(Number::BigDec(&decimal)).unwrap();
            let back = big_decimal_from_key(&stored).unwrap();
            assert_eq!(back, decimal, "{text}");
            assert_eq!(
                back.as_bigint_and_exponent(),
                canonical(&decimal).as_bigint_and_exponent()
            );
            assert_eq!(key_length(&stored), Ok(stored.len()));
        }
        for text in ["0", "-1", "1000", "-98765432109876543210987654321"] {
            let integer = big(text);
            let stored = key(Number::BigInt(&integer)).unwrap();
            assert_eq!(big_integer_from_key(&stored), Ok(integer));
        }
        let half = dec("0.5");
        let fraction = key(Number::BigDec(&half)).unwrap();
        assert!(big_integer_from_key(&fraction).is_err());
        assert!(big_decimal_from_key(&fraction[..5]).is_err());
        assert!(big_decimal_from_key(&[0x07]).is_err());
    }

    #[test]
    fn the_canonical_form_has_no_zeros_after_the_point() {
        let cases = [
            ("1.50", "15", 1),
            ("10.0", "10", 0),
            ("1e2", "100", 0),
            ("0.00", "0", 0),
            ("-7", "-7", 0),
            ("1e32", "100000000000000000000000000000000", 0),
            ("1e40", "1", -40),
            ("-12.3400e-5", "-1234", 7),
        ];
        for (text, unscaled, scale) in cases {
            let (digits, found) = canonical(&dec(text)).as_bigint_and_exponent();
            assert_eq!((digits, found), (big(unscaled), scale), "{text}");
        }
        assert!(decimal_in_range(&dec("1e30")));
        let tiny = BigDecimal::new(big("1"), i64::MAX);
        assert!(!decimal_in_range(&tiny));
        assert!(
            key(Number::BigDec(&tiny)) > key(Number::Long(0)),
            "saturated, still ordered"
        );
    }
}
