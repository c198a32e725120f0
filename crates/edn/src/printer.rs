//! The EDN printer: `Display` for [`Value`], [`Keyword`] and [`Symbol`].
//!
//! The printed text reads back as an equal value (`parse(&v.to_string()) ==
//! Ok(v)`) for every value the reader can produce. Values built by hand can
//! break that in ways EDN has no syntax for: a keyword or symbol whose name
//! is not a valid EDN name (see [`Keyword::is_readable`],
//! [`Symbol::is_readable`]), a symbol named `nil`, `true` or `false`, a tag
//! `inst` or `uuid` on a [`Value::Tagged`], a map or set holding equal
//! elements, or a NaN other than the one `##NaN` reads as (`f64::NAN`).

use std::fmt::{self, Display, Formatter, Write};

use crate::{Keyword, Symbol, Value};

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Boolean(flag) => f.write_str(if *flag { "true" } else { "false" }),
            Value::Integer(integer) => write!(f, "{integer}"),
            Value::Float(float) => write_float(f, *float),
            Value::BigInt(integer) => write!(f, "{integer}N"),
            Value::BigDec(decimal) => write_decimal(f, decimal),
            Value::String(text) => write_string(f, text),
            Value::Char(c) => write_char(f, *c),
            Value::Keyword(keyword) => keyword.fmt(f),
            Value::Symbol(symbol) => symbol.fmt(f),
            Value::List(items) => write_items(f, "(", items, ")"),
            Value::Vector(items) => write_items(f, "[", items, "]"),
            Value::Map(entries) => {
                f.write_char('{')?;
                for (index, (key, value)) in entries.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{key} {value}")?;
                }
                f.write_char('}')
            }
            Value::Set(elements) => write_items(f, "#{", elements, "}"),
            Value::Inst(instant) => write!(f, "#inst \"{instant}\""),
            Value::Uuid(uuid) => write!(f, "#uuid \"{uuid}\""),
            Value::Tagged(tag, value) => write!(f, "#{tag} {value}"),
        }
    }
}

/// A decimal as its digits with the point where its scale puts it, so it
/// reads back with the same scale: `1.50M`, `3M`, `0.001M`, and `15e2M`
/// for a negative scale (trailing zeros the value does not hold).
fn write_decimal(f: &mut Formatter<'_>, decimal: &crate::BigDecimal) -> fmt::Result {
    let (unscaled, scale) = decimal.as_bigint_and_exponent();
    let digits = unscaled.magnitude().to_string();
    if unscaled.sign() == crate::Sign::Minus {
        f.write_char('-')?;
    }
    match usize::try_from(scale) {
        Ok(0) => write!(f, "{digits}M"),
        Ok(scale) => {
            let padded = format!("{digits:0>width$}", width = scale + 1);
            let (whole, fraction) = padded.split_at(padded.len() - scale);
            write!(f, "{whole}.{fraction}M")
        }
        Err(_) => write!(f, "{digits}e{}M", scale.unsigned_abs()),
    }
}

impl Value {
    /// Prints the value over several lines, indented, keeping each
    /// collection on one line when it fits in `width` characters from where
    /// it starts. The text reads back as the same value as [`Value`]'s
    /// `Display` output; only the whitespace differs.
    pub fn to_pretty_string(&self, width: usize) -> String {
        let mut out = String::new();
        write_pretty(&mut out, self, 0, width);
        out
    }
}

fn write_pretty(out: &mut String, value: &Value, column: usize, width: usize) {
    let flat = value.to_string();
    if column + flat.chars().count() <= width {
        out.push_str(&flat);
        return;
    }
    let (open, items, close): (&str, Vec<&Value>, &str) = match value {
        Value::List(items) => ("(", items.iter().collect(), ")"),
        Value::Vector(items) => ("[", items.iter().collect(), "]"),
        Value::Set(elements) => ("#{", elements.iter().collect(), "}"),
        Value::Map(entries) => {
            out.push('{');
            for (index, (key, value)) in entries.iter().enumerate() {
                if index > 0 {
                    out.push('\n');
                    out.push_str(&" ".repeat(column + 1));
                }
                let key_start = column + 1;
                write_pretty(out, key, key_start, width);
                let key_width = out
                    .rsplit('\n')
                    .next()
                    .map_or(0, |line| line.chars().count());
                out.push(' ');
                write_pretty(out, value, key_width + 1, width);
            }
            out.push('}');
            return;
        }
        Value::Tagged(tag, inner) => {
            let prefix = format!("#{tag} ");
            out.push_str(&prefix);
            write_pretty(out, inner, column + prefix.chars().count(), width);
            return;
        }
        _ => {
            out.push_str(&flat);
            return;
        }
    };
    out.push_str(open);
    let item_column = column + open.len();
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(item_column));
        }
        write_pretty(out, item, item_column, width);
    }
    out.push_str(close);
}

/// `:name` or `:namespace/name`.
impl Display for Keyword {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char(':')?;
        write_qualified(f, self.namespace.as_deref(), &self.name)
    }
}

/// `name` or `namespace/name`.
impl Display for Symbol {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_qualified(f, self.namespace.as_deref(), &self.name)
    }
}

fn write_qualified(f: &mut Formatter<'_>, namespace: Option<&str>, name: &str) -> fmt::Result {
    if let Some(namespace) = namespace {
        f.write_str(namespace)?;
        f.write_char('/')?;
    }
    f.write_str(name)
}

fn write_items<'a>(
    f: &mut Formatter<'_>,
    open: &str,
    items: impl IntoIterator<Item = &'a Value>,
    close: &str,
) -> fmt::Result {
    f.write_str(open)?;
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            f.write_char(' ')?;
        }
        item.fmt(f)?;
    }
    f.write_str(close)
}

/// Rust's `Debug` for `f64` prints the shortest text that reads back to the
/// same bits, always with a `.` or an exponent (`1.0`, `1e-7`, `-0.0`), so it
/// reads back as a float, never as an integer.
fn write_float(f: &mut Formatter<'_>, float: f64) -> fmt::Result {
    if float.is_nan() {
        f.write_str("##NaN")
    } else if float.is_infinite() {
        f.write_str(if float > 0.0 { "##Inf" } else { "##-Inf" })
    } else {
        write!(f, "{float:?}")
    }
}

fn write_string(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    let mut plain_from = 0;
    for (index, c) in text.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\t' => "\\t",
            '\r' => "\\r",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            c if c.is_control() => "",
            _ => continue,
        };
        f.write_str(&text[plain_from..index])?;
        if escaped.is_empty() {
            write!(f, "\\u{:04x}", u32::from(c))?;
        } else {
            f.write_str(escaped)?;
        }
        plain_from = index + c.len_utf8();
    }
    f.write_str(&text[plain_from..])?;
    f.write_char('"')
}

fn write_char(f: &mut Formatter<'_>, c: char) -> fmt::Result {
    match c {
        '\n' => f.write_str("\\newline"),
        ' ' => f.write_str("\\space"),
        '\t' => f.write_str("\\tab"),
        '\r' => f.write_str("\\return"),
        '\u{c}' => f.write_str("\\formfeed"),
        '\u{8}' => f.write_str("\\backspace"),
        c if c.is_control() || c.is_whitespace() => write!(f, "\\u{:04x}", u32::from(c)),
        c => write!(f, "\\{c}"),
    }
}

#[cfg(test)]
mod tests {
    use indexmap::{IndexMap, IndexSet};

    use crate::{Instant, Uuid};

    use super::*;

    fn check(value: Value, expected: &str) {
        assert_eq!(value.to_string(), expected);
    }

    #[test]
    fn scalars() {
        check(Value::Nil, "nil");
        check(Value::Boolean(true), "true");
        check(Value::Boolean(false), "false");
        check(Value::Integer(-42), "-42");
        check(Value::Integer(i64::MIN), "-9223372036854775808");
        check(Value::keyword(":a"), ":a");
        check(Value::keyword(":person/name"), ":person/name");
        check(Value::symbol("str/starts-with?"), "str/starts-with?");
        check(Value::symbol("/"), "/");
        check(
            Value::Inst(Instant(482_196_050_520)),
            "#inst \"1985-04-12T23:20:50.520Z\"",
        );
        check(
            Value::Uuid(Uuid(0xf81d4fae_7dec_11d0_a765_00a0c91e6bf6)),
            "#uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\"",
        );
    }

    #[test]
    fn floats_always_read_back_as_floats() {
        check(Value::Float(1.0), "1.0");
        check(Value::Float(1.5e300), "1.5e300");
        check(Value::Float(1e16), "1e16");
        check(Value::Float(1e-7), "1e-7");
        check(Value::Float(-0.0), "-0.0");
        check(Value::Float(5e-324), "5e-324");
        check(Value::Float(f64::MAX), "1.7976931348623157e308");
        check(Value::Float(f64::NAN), "##NaN");
        check(Value::Float(f64::INFINITY), "##Inf");
        check(Value::Float(f64::NEG_INFINITY), "##-Inf");
        for text in [
            "1.50M",
            "3M",
            "-0.001M",
            "0.000M",
            "15e2M",
            "-7e30M",
            "0.1M",
            "123456789012345678901234567890.123456789M",
            "12345678901234567890123N",
            "-1N",
            "0N",
        ] {
            let read = crate::parse(text).unwrap();
            check(read, text);
        }
    }

    #[test]
    fn strings_are_escaped() {
        check(Value::from("plain"), "\"plain\"");
        check(Value::from("a\"b\\c"), r#""a\"b\\c""#);
        check(
            Value::from("line\nnext\ttab\rret"),
            r#""line\nnext\ttab\rret""#,
        );
        check(
            Value::from("\u{0}\u{8}\u{c}\u{7f}"),
            r#""\u0000\b\f\u007f""#,
        );
        check(Value::from("é😀"), "\"é😀\"");
    }

    #[test]
    fn characters() {
        check(Value::Char('a'), "\\a");
        check(Value::Char('\n'), "\\newline");
        check(Value::Char(' '), "\\space");
        check(Value::Char('\t'), "\\tab");
        check(Value::Char('\r'), "\\return");
        check(Value::Char('\u{c}'), "\\formfeed");
        check(Value::Char('\u{8}'), "\\backspace");
        check(Value::Char('\u{0}'), "\\u0000");
        check(Value::Char('\u{a0}'), "\\u00a0");
        check(Value::Char('('), "\\(");
        check(Value::Char('é'), "\\é");
    }

    #[test]
    fn pretty_printing_breaks_long_collections() {
        let value = crate::parse(
            r#"{:name "a scenario" :steps [{:transact [[:db/add "x" :a 1]]} {:query [:find ?x] :expect #{[1] [2]}}]}"#,
        )
        .unwrap();
        let expected = r#"{:name "a scenario"
 :steps [{:transact [[:db/add "x" :a 1]]}
         {:query [:find ?x], :expect #{[1] [2]}}]}"#;
        assert_eq!(value.to_pretty_string(50), expected);
        assert_eq!(crate::parse(expected).unwrap(), value);
        assert_eq!(value.to_pretty_string(200), value.to_string());
    }

    #[test]
    fn collections_and_tags() {
        check(
            Value::List(vec![Value::symbol("f"), Value::Integer(1)]),
            "(f 1)",
        );
        check(Value::Vector(vec![]), "[]");
        let mut map = IndexMap::new();
        map.insert(Value::keyword(":b"), Value::Integer(2));
        map.insert(Value::keyword(":a"), Value::Vector(vec![Value::Nil]));
        check(Value::Map(map), "{:b 2, :a [nil]}");
        let set: IndexSet<Value> = [Value::Integer(3), Value::Integer(1)].into_iter().collect();
        check(Value::Set(set), "#{3 1}");
        check(
            Value::Tagged(Symbol::plain("ent"), Box::new(Value::from("x"))),
            "#ent \"x\"",
        );
    }
}
