//! The one total order of values that `:order-by`, `min`, `max` and the
//! n-ary aggregates use, whether SQLite or Rust does the ordering:
//!
//! 1. `nil` (an absent value) first;
//! 2. booleans, `false` before `true`;
//! 3. numbers — longs, doubles, floats, entity ids, big integers and big
//!    decimals — by exact numeric value, together (`1 < 1.5 < 2 <
//!    9223372036854775808N`, `0.1M < 0.1`: [`crate::number`]);
//! 4. instants, by time;
//! 5. strings, by code point;
//! 6. keywords as Clojure's `compare` orders them: those without a
//!    namespace first, then by namespace, then by name (`:b < :a/z <
//!    :a-/b`), not by their text;
//! 7. uuids, then byte strings, by their bytes;
//! 8. URIs, by their text;
//! 9. symbols, as keywords are;
//! 10. tuples, element by element (`nil` first, then each element's own
//!     order, values of different types by type tag), a prefix before the
//!     longer tuple.
//!
//! Values of other kinds (collections, symbols, tagged values) only reach
//! an ordering in Rust, and follow the kinds above in `Value`'s own order.
//! SQLite compares keywords through the collation [`KEYWORD_COLLATION`]
//! ([`compare_keyword_text`]) over the stored text `ns/name`, and orders
//! values of varying type by [`ValueType::order_class`] first.

use std::cmp::Ordering;

use crate::ValueType;

/// The name of the SQLite collation that orders keywords' stored text
/// (`ns/name`) by namespace and then name.
pub const KEYWORD_COLLATION: &str = "factlite_keyword";

/// Compares two keywords as stored (`ns/name`, or `name` without a
/// namespace): no namespace first, then namespace, then name.
pub fn compare_keyword_text(a: &str, b: &str) -> Ordering {
    split(a).cmp(&split(b))
}

/// `ns/name` → `(Some(ns), name)`; `name` (or `/`) → `(None, name)`.
fn split(text: &str) -> (Option<&str>, &str) {
    match text.split_once('/') {
        Some((namespace, name)) if !namespace.is_empty() => (Some(namespace), name),
        _ => (None, text),
    }
}

impl ValueType {
    /// The rank of the type's values in the total order (see the module
    /// doc): numbers share one; `nil` is 0.
    pub fn order_class(self) -> i64 {
        match self {
            ValueType::Boolean => 1,
            ValueType::Ref
            | ValueType::Long
            | ValueType::Double
            | ValueType::Float
            | ValueType::BigInt
            | ValueType::BigDec => 2,
            ValueType::Instant => 3,
            ValueType::String => 4,
            ValueType::Keyword => 5,
            ValueType::Uuid => 6,
            ValueType::Bytes => 7,
            ValueType::Uri => 8,
            ValueType::Symbol => 9,
            ValueType::Tuple => 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_order_by_namespace_then_name() {
        let mut texts = vec!["a-/b", "a/b", "b", "a/a", "a.b/c", "/"];
        texts.sort_by(|a, b| compare_keyword_text(a, b));
        assert_eq!(texts, ["/", "b", "a/a", "a/b", "a-/b", "a.b/c"]);
    }

    #[test]
    fn numbers_share_a_class_and_the_classes_follow_the_documented_order() {
        let classes: Vec<i64> = [
            ValueType::Boolean,
            ValueType::Long,
            ValueType::Instant,
            ValueType::String,
            ValueType::Keyword,
            ValueType::Uuid,
            ValueType::Bytes,
            ValueType::Uri,
            ValueType::Symbol,
            ValueType::Tuple,
        ]
        .map(ValueType::order_class)
        .to_vec();
        assert!(classes.windows(2).all(|pair| pair[0] < pair[1]));
        for number in [ValueType::Ref, ValueType::BigInt, ValueType::BigDec] {
            assert_eq!(number.order_class(), ValueType::Double.order_class());
        }
    }
}
