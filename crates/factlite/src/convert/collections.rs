//! [`ToValue`], [`FromValue`] and [`FromRow`] for sequences (`Vec<T>`,
//! slices, arrays) and tuples of up to eight elements: the values of
//! collection, tuple and relation inputs, and of results.

use factlite_edn::Value;

use super::{row_of, ConversionError, FromRow, FromValue, ToValue};

impl<T: ToValue> ToValue for [T] {
    fn to_value(&self) -> Result<Value, ConversionError> {
        self.iter()
            .enumerate()
            .map(|(index, item)| {
                item.to_value()
                    .map_err(|error| error.in_field(format!("[{index}]")))
            })
            .collect::<Result<_, _>>()
            .map(Value::Vector)
    }
}

impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Result<Value, ConversionError> {
        self.as_slice().to_value()
    }
}

impl<T: ToValue, const N: usize> ToValue for [T; N] {
    fn to_value(&self) -> Result<Value, ConversionError> {
        self.as_slice().to_value()
    }
}

/// The items of a vector, a list or a set (a collection result's values).
fn items<'v>(expected: &'static str, value: &'v Value) -> Result<Vec<&'v Value>, ConversionError> {
    match value {
        Value::Vector(items) | Value::List(items) => Ok(items.iter().collect()),
        Value::Set(items) => Ok(items.iter().collect()),
        other => Err(ConversionError::wrong_type(expected, other)),
    }
}

/// From a vector, a list or a set (in its order).
impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: &Value) -> Result<Self, ConversionError> {
        items("a vector, list or set", value)?
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                T::from_value(item).map_err(|error| error.in_field(format!("[{index}]")))
            })
            .collect()
    }
}

macro_rules! tuples {
    ($($len:literal => ($($t:ident $var:ident $index:tt),+);)+) => { $(
        impl<$($t: ToValue),+> ToValue for ($($t,)+) {
            fn to_value(&self) -> Result<Value, ConversionError> {
                Ok(Value::Vector(vec![$(
                    self.$index.to_value().map_err(|error| error.at_column($index))?
                ),+]))
            }
        }

        impl<$($t: FromValue),+> FromRow for ($($t,)+) {
            fn from_row(row: &[Value]) -> Result<Self, ConversionError> {
                let [$($var),+] = row else {
                    return Err(ConversionError::mismatch(row_of($len), row_of(row.len())));
                };
                Ok(($($t::from_value($var).map_err(|error| error.at_column($index))?,)+))
            }
        }

        /// From a vector or list of as many values.
        impl<$($t: FromValue),+> FromValue for ($($t,)+) {
            fn from_value(value: &Value) -> Result<Self, ConversionError> {
                match value {
                    Value::Vector(items) | Value::List(items) => Self::from_row(items),
                    other => Err(ConversionError::wrong_type(
                        concat!("a tuple of ", $len, " values"),
                        other,
                    )),
                }
            }
        }
    )+ };
}

tuples! {
    1 => (A a 0);
    2 => (A a 0, B b 1);
    3 => (A a 0, B b 1, C c 2);
    4 => (A a 0, B b 1, C c 2, D d 3);
    5 => (A a 0, B b 1, C c 2, D d 3, E e 4);
    6 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5);
    7 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6);
    8 => (A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7);
}

#[cfg(test)]
mod tests {
    use super::*;
    use factlite_edn::parse;

    #[test]
    fn sequences_go_in_as_vectors_and_come_back_from_any_collection() {
        let value = vec![1u8, 2, 3].to_value().expect("converts");
        assert_eq!(value, parse("[1 2 3]").expect("EDN"));
        assert_eq!(
            ["a", "b"].to_value(),
            Ok(parse(r#"["a" "b"]"#).expect("EDN"))
        );
        assert_eq!([true][..].to_value(), Ok(parse("[true]").expect("EDN")));
        for text in ["[1 2 3]", "(1 2 3)", "#{1 2 3}"] {
            let back = Vec::<u8>::from_value(&parse(text).expect("EDN"));
            assert_eq!(back, Ok(vec![1, 2, 3]), "{text}");
        }
        let error = Vec::<u8>::from_value(&parse("[1 300]").expect("EDN")).expect_err("300");
        assert_eq!(
            error.to_string(),
            "[1]: expected u8, found integer 300 (out of range)"
        );
        let error = Vec::<u8>::from_value(&Value::Integer(1)).expect_err("not a vector");
        assert_eq!(
            error.to_string(),
            "expected a vector, list or set, found integer"
        );
        let error = vec![0, u64::MAX].to_value().expect_err("too big");
        assert_eq!(
            error.to_string(),
            "[1]: expected an integer in i64's range, found u64 18446744073709551615"
        );
    }

    #[test]
    fn tuples_and_relations_round_trip() {
        let relation = vec![("Ann", 31i32), ("Bo", 27)];
        let value = relation.to_value().expect("converts");
        assert_eq!(value, parse(r#"[["Ann" 31] ["Bo" 27]]"#).expect("EDN"));
        let back = Vec::<(String, i32)>::from_value(&value).expect("converts back");
        assert_eq!(back, vec![("Ann".to_string(), 31), ("Bo".to_string(), 27)]);
        let wide = (1i8, 2i16, 3i32, 4i64, 5u8, 6u16, 7u32, "8");
        let value = wide.to_value().expect("converts");
        assert_eq!(value, parse(r#"[1 2 3 4 5 6 7 "8"]"#).expect("EDN"));
        let back = <(i8, i16, i32, i64, u8, u16, u32, String)>::from_value(&value);
        assert_eq!(back, Ok((1, 2, 3, 4, 5, 6, 7, "8".to_string())));
        assert_eq!(
            <(bool,)>::from_value(&parse("(true)").expect("EDN")),
            Ok((true,))
        );
    }

    #[test]
    fn a_tuple_of_the_wrong_shape_says_so() {
        let check = crate::convert::assert_fails;
        let two = parse("[1 2]").expect("EDN");
        check(
            <(i64, i64, i64)>::from_value(&two).map(drop),
            "expected a row of 3 values, found a row of 2 values",
        );
        check(
            <(i64, String)>::from_value(&two).map(drop),
            "column 1: expected String, found integer",
        );
        check(
            <(i64, i64)>::from_value(&Value::Nil).map(drop),
            "expected a tuple of 2 values, found nil",
        );
        check(
            (1, u64::MAX).to_value().map(drop),
            "column 1: expected an integer in i64's range, found u64 18446744073709551615",
        );
    }
}
