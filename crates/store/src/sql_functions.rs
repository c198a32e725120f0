//! The SQL functions the planner's SQL calls that SQLite lacks, registered
//! on every store connection ([`register`]):
//!
//! - `factlite_comparable(tag_a, tag_b, call)`: true when values of the
//!   two type tags have an order (`ValueType::is_comparable_with`), else
//!   an error naming both types and the predicate `call` — a comparison
//!   whose types are known only when the query runs (a value of any
//!   attribute) fails on the first pair that cannot be ordered, as in
//!   Datomic, instead of ordering a string against a number.
//! - `factlite_lookup(e, lookup_ref)`: the entity `e` a lookup ref written
//!   in a query resolved to, or an error naming the lookup ref when it
//!   names no entity (`:error/unknown-entity`, as for one given as input).
//! - `factlite_re_find(pattern, text)` and `factlite_re_matches(pattern,
//!   text)`: the first match of a regular expression in the text, or the
//!   text when the whole of it matches; `NULL` when nothing matches (the
//!   `regex` crate's syntax; a pattern is compiled once per statement).
//! - `factlite_re_find_groups(pattern, text)`,
//!   `factlite_re_matches_groups(pattern, text)`: the match and each of
//!   its groups, as a JSON array (`null` for a group that took no part),
//!   for `re-find` and `re-matches` bound to a tuple `[?match ?group]`;
//!   `NULL` when nothing matches.
//! - `factlite_split(text, pattern)`: the parts of the text between the
//!   matches of a regular expression, as a JSON array of strings, trailing
//!   empty parts dropped (as `clojure.string/split` does).
//! - `factlite_re_seq(pattern, text)`: every match of a regular expression
//!   in the text, in order, as a JSON array of strings (`re-seq`; each
//!   match whole, as `factlite_re_find` gives it).
//! - `generate_series(start, stop)` (rusqlite's table-valued function):
//!   the integers `range` counts through.
//! - `factlite_lower(text)`, `factlite_upper(text)`: case mapping of the
//!   whole of Unicode (SQLite's `lower` and `upper` map ASCII only).
//! - `factlite_tuple(v0, t0, v1, t1, ...)`: the stored tuple (blob,
//!   `core::tuple`'s encoding) of these values and type tags, a `NULL` tag
//!   for `nil`; `factlite_tuple_value(tuple, i)` and
//!   `factlite_tuple_tag(tuple, i)`: element `i` of a stored tuple and its
//!   tag, `NULL` for `nil` or past the end (the planner's
//!   `tuple_values`).
//! - `factlite_number_key(v, t)`: the number key (`core::number::key`)
//!   of a stored number of any type, `NULL` for NaN and for values that
//!   are no numbers; big integers and decimals are stored as their key,
//!   so comparing keys orders them with longs and doubles (`encode`).
//! - `factlite_big_arithmetic(op, result_tag, v0, t0, v1, t1, ...)`: `+`,
//!   `-`, `*`, `inc`, `dec`, `abs`, `min` or `max` of numbers among which
//!   is a big integer or a big decimal, computed exactly and returned as a
//!   value of the result type the planner chose (a big number as its key,
//!   a double as a real); `NULL` when an argument is `NULL` or NaN.
//! - `factlite_number_text(v, t)`: a stored big number's text as `str`
//!   gives it (`1`, `1.5`: no `N` or `M`).
//! - `factlite_fts_query(search)`: a `fulltext` search in Lucene's
//!   syntax as an FTS5 query (`fulltext_query`); one without a word, or
//!   `NULL`, matches nothing.
//! - `factlite_fail(message)`: fails the statement with `message` (a
//!   division by zero, a string index out of range: `:error/query`).
//! - the collation `factlite_keyword` (`order::KEYWORD_COLLATION`), which
//!   orders keywords' stored text by namespace and then name.

use factlite_core::{order, tuple, ValueType};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;

use crate::encode::{from_sql, to_sql};
use rusqlite::Connection;

/// The end of the message of a comparison between values that have no
/// order: the store's error conversion tells it apart by it.
pub const NO_ORDER: &str = "values of different types have no order";

/// The compiled regular expression of argument 0 (`anchored`: matching
/// the whole text only), kept with the statement while the pattern stays
/// the same.
fn pattern(
    context: &rusqlite::functions::Context<'_>,
    anchored: bool,
) -> rusqlite::Result<std::sync::Arc<regex::Regex>> {
    context.get_or_create_aux(0, |pattern| -> Result<regex::Regex, BoxError> {
        let text = pattern.as_str()?;
        let source = if anchored {
            format!("^(?:{text})$")
        } else {
            text.to_string()
        };
        regex::Regex::new(&source)
            .map_err(|error| format!("{text:?} {NOT_A_PATTERN}: {error}").into())
    })
}

/// What the message of a pattern that does not compile says.
pub const NOT_A_PATTERN: &str = "is not a regular expression";

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Registers `factlite_re_find`, `factlite_re_matches`, `factlite_lower`
/// and `factlite_upper`.
fn register_text_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("factlite_fts_query", 1, flags, |context| {
        let search: Option<String> = context.get(0)?;
        Ok(
            search.map_or(crate::fulltext_query::NOTHING.to_string(), |search| {
                crate::fulltext_query::to_fts5(&search)
            }),
        )
    })?;
    conn.create_scalar_function("factlite_re_find", 2, flags, |context| {
        let regex = pattern(context, false)?;
        let text: Option<String> = context.get(1)?;
        Ok(text.and_then(|text| regex.find(&text).map(|found| found.as_str().to_string())))
    })?;
    conn.create_scalar_function("factlite_re_matches", 2, flags, |context| {
        let regex = pattern(context, true)?;
        let text: Option<String> = context.get(1)?;
        Ok(text.filter(|text| regex.is_match(text)))
    })?;
    conn.create_scalar_function("factlite_split", 2, flags, |context| {
        let text: Option<String> = context.get(0)?;
        let Some(text) = text else {
            return Ok(None);
        };
        let regex = context.get_or_create_aux(1, |pattern| -> Result<regex::Regex, BoxError> {
            let source = pattern.as_str()?;
            regex::Regex::new(source)
                .map_err(|error| format!("{source:?} {NOT_A_PATTERN}: {error}").into())
        })?;
        let mut parts: Vec<&str> = regex.split(&text).collect();
        while parts.last() == Some(&"") && parts.len() > 1 {
            parts.pop();
        }
        Ok(Some(json_strings(parts)))
    })?;
    for (name, anchored) in [
        ("factlite_re_find_groups", false),
        ("factlite_re_matches_groups", true),
    ] {
        conn.create_scalar_function(name, 2, flags, move |context| {
            let regex = pattern(context, anchored)?;
            let text: Option<String> = context.get(1)?;
            Ok(text.and_then(|text| regex.captures(&text).map(|found| json_groups(&found))))
        })?;
    }
    conn.create_scalar_function("factlite_re_seq", 2, flags, |context| {
        let regex = pattern(context, false)?;
        let text: Option<String> = context.get(1)?;
        Ok(text.map(|text| json_strings(regex.find_iter(&text).map(|found| found.as_str()))))
    })?;
    conn.create_scalar_function("factlite_lower", 1, flags, |context| {
        Ok(context
            .get::<Option<String>>(0)?
            .map(|text| text.to_lowercase()))
    })?;
    conn.create_scalar_function("factlite_upper", 1, flags, |context| {
        Ok(context
            .get::<Option<String>>(0)?
            .map(|text| text.to_uppercase()))
    })
}

/// Strings as a JSON array, which `json_each` reads back a row each.
fn json_strings<'t>(strings: impl IntoIterator<Item = &'t str>) -> String {
    let mut json = String::from("[");
    for (i, string) in strings.into_iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        factlite_planner::push_json_string(&mut json, string);
    }
    json.push(']');
    json
}

/// A match and its groups as a JSON array, `null` for a group that took
/// no part in the match.
fn json_groups(found: &regex::Captures<'_>) -> String {
    let mut json = String::from("[");
    for (i, group) in found.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        match group {
            Some(group) => factlite_planner::push_json_string(&mut json, group.as_str()),
            None => json.push_str("null"),
        }
    }
    json.push(']');
    json
}

/// Registers `factlite_tuple`, `factlite_tuple_value` and
/// `factlite_tuple_tag`.
fn register_tuple_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("factlite_tuple", -1, flags, |context| {
        if context.len() % 2 != 0 {
            return Err(user_error(
                "factlite_tuple takes values and type tags in pairs".into(),
            ));
        }
        let mut elements = Vec::with_capacity(context.len() / 2);
        for pair in (0..context.len()).step_by(2) {
            let tag: Option<i64> = context.get(pair + 1)?;
            let value = context.get_raw(pair);
            let element = match tag {
                None => None,
                Some(_) if value == ValueRef::Null => None,
                Some(tag) => Some(tuple::element(
                    from_sql(value, tag).map_err(|corrupt| user_error(corrupt.0))?,
                )),
            };
            elements.push(element);
        }
        Ok(tuple::encode(&elements))
    })?;
    conn.create_scalar_function("factlite_tuple_value", 2, flags, |context| {
        Ok(stored_element(context)?.map(|value| to_sql(&value)))
    })?;
    conn.create_scalar_function("factlite_tuple_tag", 2, flags, |context| {
        Ok(stored_element(context)?.map(|value| value.value_type().tag()))
    })
}

/// Element `i` (argument 1) of the stored tuple in argument 0.
fn stored_element(
    context: &rusqlite::functions::Context<'_>,
) -> rusqlite::Result<Option<factlite_core::TypedValue>> {
    let ValueRef::Blob(bytes) = context.get_raw(0) else {
        return Ok(None);
    };
    let index: i64 = context.get(1)?;
    let mut elements = tuple::decode(bytes).map_err(user_error)?;
    Ok(usize::try_from(index)
        .ok()
        .filter(|index| *index < elements.len())
        .and_then(|index| elements.swap_remove(index)))
}

fn user_error(message: String) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(message.into())
}

/// Registers `factlite_number_key`.
fn register_number_key(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("factlite_number_key", 2, flags, |context| {
        let tag: Option<i64> = context.get(1)?;
        let value = context.get_raw(0);
        let key = match (tag.and_then(ValueType::from_tag), value) {
            (Some(value_type), ValueRef::Blob(stored)) if value_type.is_stored_as_number_key() => {
                Some(stored.to_vec())
            }
            (Some(value_type), _) if value_type.is_numeric() => {
                let typed =
                    from_sql(value, value_type.tag()).map_err(|corrupt| user_error(corrupt.0))?;
                factlite_core::number::Number::of_typed(&typed).and_then(factlite_core::number::key)
            }
            _ => None,
        };
        Ok(key)
    })
}

/// A stored number (value and tag) as an exact big decimal; `None` for
/// `NULL` and NaN.
fn stored_big_decimal(
    value: ValueRef<'_>,
    tag: Option<i64>,
) -> rusqlite::Result<Option<factlite_edn::BigDecimal>> {
    let Some(tag) = tag else {
        return Ok(None);
    };
    if value == ValueRef::Null {
        return Ok(None);
    }
    let typed = from_sql(value, tag).map_err(|corrupt| user_error(corrupt.0))?;
    Ok(factlite_core::number::Number::of_typed(&typed)
        .and_then(factlite_core::number::to_big_decimal))
}

/// Registers `factlite_big_arithmetic` and `factlite_number_text`.
fn register_big_arithmetic(conn: &Connection) -> rusqlite::Result<()> {
    use factlite_core::TypedValue;
    use factlite_edn::BigDecimal;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("factlite_big_arithmetic", -1, flags, |context| {
        let operation: String = context.get(0)?;
        let result_tag: i64 = context.get(1)?;
        let mut numbers = Vec::with_capacity(context.len() / 2);
        for pair in (2..context.len()).step_by(2) {
            match stored_big_decimal(context.get_raw(pair), context.get(pair + 1)?)? {
                Some(number) => numbers.push(number),
                None => return Ok(None),
            }
        }
        let mut numbers = numbers.into_iter();
        let first = numbers
            .next()
            .ok_or_else(|| user_error(format!("({operation}) needs a number")))?;
        let result: BigDecimal = match operation.as_str() {
            "+" => numbers.fold(first, |sum, x| sum + x),
            "*" => numbers.fold(first, |product, x| product * x),
            "-" if context.len() == 4 => -first,
            "-" => numbers.fold(first, |difference, x| difference - x),
            "inc" => first + BigDecimal::from(1),
            "dec" => first - BigDecimal::from(1),
            "abs" => first.abs(),
            "min" => numbers.fold(first, |least, x| if x < least { x } else { least }),
            "max" => numbers.fold(first, |most, x| if x > most { x } else { most }),
            other => return Err(user_error(format!("({other} ...) is no big arithmetic"))),
        };
        let value = match ValueType::from_tag(result_tag) {
            Some(ValueType::BigInt) => {
                let (unscaled, scale) = result.with_scale(0).as_bigint_and_exponent();
                debug_assert_eq!(scale, 0);
                TypedValue::BigInt(Box::new(unscaled))
            }
            Some(ValueType::BigDec) => {
                TypedValue::BigDec(Box::new(factlite_core::number::canonical(&result)))
            }
            _ => TypedValue::Double(factlite_core::number::to_f64(
                factlite_core::number::Number::BigDec(&result),
            )),
        };
        Ok(Some(to_sql(&value)))
    })?;
    conn.create_scalar_function("factlite_number_text", 2, flags, |context| {
        let tag: Option<i64> = context.get(1)?;
        let value = context.get_raw(0);
        match tag {
            Some(tag) if value != ValueRef::Null => {
                let typed = from_sql(value, tag).map_err(|corrupt| user_error(corrupt.0))?;
                let mut text = typed.to_edn().to_string();
                if matches!(typed, TypedValue::BigInt(_) | TypedValue::BigDec(_)) {
                    text.pop();
                }
                Ok(Some(text))
            }
            _ => Ok(None),
        }
    })
}

/// The end of the message of a lookup ref that names no entity.
pub const NO_ENTITY: &str = "names no entity";

/// The end of the message of `factlite_fail`: a query's own failure
/// (division by zero, a string index out of range).
pub const QUERY_FAILED: &str = "(the query was stopped)";

/// Registers the functions on a connection.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "factlite_fail",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |context| -> rusqlite::Result<i64> {
            let message: String = context.get(0)?;
            Err(rusqlite::Error::UserFunctionError(
                format!("{message} {QUERY_FAILED}").into(),
            ))
        },
    )?;
    conn.create_collation(order::KEYWORD_COLLATION, order::compare_keyword_text)?;
    rusqlite::vtab::series::load_module(conn)?;
    register_text_functions(conn)?;
    register_tuple_functions(conn)?;
    register_number_key(conn)?;
    register_big_arithmetic(conn)?;
    conn.create_scalar_function(
        "factlite_lookup",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |context| match context.get::<Option<i64>>(0)? {
            Some(entity) => Ok(entity),
            None => {
                let lookup_ref: String = context.get(1)?;
                Err(rusqlite::Error::UserFunctionError(
                    format!("lookup ref {lookup_ref} {NO_ENTITY}").into(),
                ))
            }
        },
    )?;
    conn.create_scalar_function(
        "factlite_comparable",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |context| {
            let a: Option<i64> = context.get(0)?;
            let b: Option<i64> = context.get(1)?;
            let (Some(a), Some(b)) = (
                a.and_then(ValueType::from_tag),
                b.and_then(ValueType::from_tag),
            ) else {
                // A missing value: the comparison itself is NULL.
                return Ok(true);
            };
            if a.is_comparable_with(b) {
                return Ok(true);
            }
            let call: String = context.get(2)?;
            Err(rusqlite::Error::UserFunctionError(
                format!(
                    "{call} compares {} with {}: {NO_ORDER}",
                    a.a_name(),
                    b.a_name()
                )
                .into(),
            ))
        },
    )
}
