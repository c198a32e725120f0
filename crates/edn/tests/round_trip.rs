//! Property test: every value the reader can produce prints as text that
//! reads back as an equal value (`parse(&v.to_string()) == Ok(v)`), across
//! all variants, nested, with awkward strings, floats (NaN, infinities,
//! -0.0, subnormals), big integers and decimals (a decimal also keeps its
//! scale), characters, namespaced keywords and symbols; the same for the
//! pretty printer at any width.

use factlite_edn::{parse, parse_all, BigDecimal, BigInt, Instant, Keyword, Symbol, Uuid, Value};
use indexmap::{IndexMap, IndexSet};
use proptest::prelude::*;

/// A name part as the grammar allows it (see `grammar/edn.ebnf`).
fn name_part() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z*!_?$%&=<>][a-zA-Z0-9.*+!_?$%&=<>:#-]{0,8}",
        "[-+.]([a-zA-Z*!_?$%&=<>:#.+-][a-zA-Z0-9.*+!_?$%&=<>:#-]{0,6})?",
        "[éß名λ][a-z0-9é]{0,3}",
    ]
}

fn qualified() -> impl Strategy<Value = (Option<String>, String)> {
    (proptest::option::of(name_part()), name_part())
}

fn keyword() -> impl Strategy<Value = Keyword> {
    qualified()
        .prop_map(|(namespace, name)| Keyword { namespace, name })
        .prop_filter("readable keyword", Keyword::is_readable)
}

fn symbol() -> impl Strategy<Value = Symbol> {
    prop_oneof![
        qualified().prop_map(|(namespace, name)| Symbol { namespace, name }),
        Just(Symbol::plain("/")),
    ]
    .prop_filter("readable symbol", Symbol::is_readable)
}

fn tag() -> impl Strategy<Value = Symbol> {
    (
        proptest::option::of("[a-z][a-z0-9.-]{0,5}"),
        "[a-zA-Z][a-zA-Z0-9-]{0,5}",
    )
        .prop_map(|(namespace, name)| Symbol { namespace, name })
        .prop_filter("not a built-in tag", |tag| {
            !tag.is("inst") && !tag.is("uuid")
        })
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_map(|x| if x.is_nan() { f64::NAN } else { x }),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.0),
        Just(f64::MIN_POSITIVE / 2.0),
        Just(1e16),
        Just(0.1),
    ]
}

/// Integers of up to 40 digits, either sign.
fn big_integer() -> impl Strategy<Value = BigInt> {
    (any::<bool>(), "[0-9]{1,40}").prop_map(|(negative, digits)| {
        let magnitude: BigInt = digits.parse().expect("digits");
        if negative {
            -magnitude
        } else {
            magnitude
        }
    })
}

/// Decimals of any digits with scales either way, trailing zeros included.
fn big_decimal() -> impl Strategy<Value = BigDecimal> {
    (big_integer(), -30i64..30).prop_map(|(digits, scale)| BigDecimal::new(digits, scale))
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\"\\\\\n\t\r\u{0}-\u{1f}\u{7f}\u{a0}\u{2028}\u{feff};#,]{0,10}",
        "[a-z \\\\\"]{0,10}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Integer),
        float().prop_map(Value::Float),
        big_integer().prop_map(Value::BigInt),
        big_decimal().prop_map(Value::BigDec),
        string().prop_map(Value::String),
        any::<char>().prop_map(Value::Char),
        keyword().prop_map(Value::Keyword),
        symbol().prop_map(Value::Symbol),
        any::<i64>().prop_map(|millis| Value::Inst(Instant(millis))),
        any::<u128>().prop_map(|bits| Value::Uuid(Uuid(bits))),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Vector),
            prop::collection::vec((inner.clone(), inner.clone()), 0..6)
                .prop_map(|entries| Value::Map(entries.into_iter().collect::<IndexMap<_, _>>())),
            prop::collection::vec(inner.clone(), 0..6)
                .prop_map(|elements| Value::Set(elements.into_iter().collect::<IndexSet<_>>())),
            (tag(), inner).prop_map(|(tag, value)| Value::Tagged(tag, Box::new(value))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn printed_values_read_back_equal(value in value()) {
        let printed = value.to_string();
        prop_assert_eq!(parse(&printed), Ok(value), "printed: {}", printed);
    }

    #[test]
    fn printed_decimals_keep_their_digits_and_scale(decimal in big_decimal()) {
        let printed = Value::BigDec(decimal.clone()).to_string();
        let Ok(Value::BigDec(read)) = &parse(&printed) else {
            return Err(TestCaseError::fail(format!("{printed} is not a decimal")));
        };
        prop_assert_eq!(read.as_bigint_and_exponent(), decimal.as_bigint_and_exponent());
    }

    #[test]
    fn pretty_printed_values_read_back_equal(value in value(), width in 0usize..60) {
        let printed = value.to_pretty_string(width);
        prop_assert_eq!(parse(&printed), Ok(value), "printed: {}", printed);
    }

    #[test]
    fn printed_sequences_read_back_equal(values in prop::collection::vec(value(), 0..5)) {
        let printed: Vec<String> = values.iter().map(Value::to_string).collect();
        prop_assert_eq!(parse_all(&printed.join(" ")), Ok(values));
    }
}
