//! The EDN reader: text → [`Value`], built from nom 8 parsers.
//!
//! The grammar is in `grammar/edn.ebnf`; this file follows it rule by rule.
//! Every form is chosen by its first character, so the reader never
//! backtracks: nom's recoverable `Err::Error` is only used inside a single
//! token, and every real problem is an `Err::Failure` carrying a [`Problem`]
//! (where, and what was expected). [`Problem`]s are turned into the public
//! [`ParseError`] with a line and column at the crate boundary, so nom's types
//! never leak out.
//!
//! Recursion is bounded by [`MAX_DEPTH`]: collections, tagged elements and
//! discarded forms each count as one level of nesting.

use std::borrow::Cow;

use indexmap::map::Entry;
use indexmap::{IndexMap, IndexSet};
use nom::bytes::complete::{take_till, take_while, take_while_m_n};
use nom::error::{ErrorKind, ParseError as NomParseError};
use nom::{Err, IResult, Parser};

use crate::error::ParseError;
use crate::{Instant, Keyword, Symbol, Uuid, Value};

/// The deepest nesting of collections, tagged elements and `#_` discards the
/// reader accepts; deeper input is an error rather than a stack overflow.
pub const MAX_DEPTH: usize = 256;

/// Reads exactly one value. Whitespace, commas, comments and `#_` discards
/// may surround it; anything else after it is an error.
///
/// ```
/// use factlite_edn::{parse, Keyword, Value};
/// let value = parse("[:a 1] ; trailing comment").unwrap();
/// assert_eq!(value, Value::Vector(vec![Value::Keyword(Keyword::plain("a")), Value::Integer(1)]));
/// assert_eq!(parse("1 2").unwrap_err().to_string(),
///            "line 1, column 3: expected end of input after the value, found '2'");
/// ```
pub fn parse(input: &str) -> Result<Value, ParseError> {
    let scratch = &mut Scratch::new();
    let result = skip_ignorable(input, 0, scratch).and_then(|(rest, ())| {
        if rest.is_empty() {
            return fail(rest, "expected a value, found end of input");
        }
        let (rest, value) = form(rest, 0, scratch)?;
        let (rest, ()) = skip_ignorable(rest, 0, scratch)?;
        if !rest.is_empty() {
            return fail(
                rest,
                format!(
                    "expected end of input after the value, found {}",
                    found(rest)
                ),
            );
        }
        Ok((rest, value))
    });
    result
        .map(|(_, value)| value)
        .map_err(|error| to_parse_error(input, error))
}

/// Reads zero or more top-level values, such as the maps of a scenario file.
pub fn parse_all(input: &str) -> Result<Vec<Value>, ParseError> {
    let scratch = &mut Scratch::new();
    let mut values = Vec::new();
    let mut rest = input;
    loop {
        rest = match skip_ignorable(rest, 0, scratch) {
            Ok((rest, ())) => rest,
            Err(error) => return Err(to_parse_error(input, error)),
        };
        if rest.is_empty() {
            return Ok(values);
        }
        match form(rest, 0, scratch) {
            Ok((after, value)) => {
                values.push(value);
                rest = after;
            }
            Err(error) => return Err(to_parse_error(input, error)),
        }
    }
}

/// `true` when `namespace`/`name` print as a symbol (or, after a `:`, a
/// keyword) that reads back as itself.
pub(crate) fn is_readable_name(namespace: Option<&str>, name: &str) -> bool {
    let text = match namespace {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_string(),
    };
    text.chars().all(is_constituent)
        && matches!(split_symbol(&text), Ok((parsed_namespace, parsed_name))
            if parsed_namespace == namespace && parsed_name == name)
}

/// What went wrong, and where: `at` is the rest of the input from the
/// offending character on.
pub(crate) struct Problem<'a> {
    at: &'a str,
    detail: Detail<'a>,
}

enum Detail<'a> {
    Message(Cow<'static, str>),
    /// A collection or string whose closing character is missing.
    Unclosed {
        what: &'static str,
        close: char,
        opened: &'a str,
    },
}

impl<'a> NomParseError<&'a str> for Problem<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        // Only token-level nom parsers produce these, and every caller replaces
        // them with a message of its own.
        Problem {
            at: input,
            detail: Detail::Message(Cow::Borrowed("unexpected input")),
        }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type Parsed<'a, T> = IResult<&'a str, T, Problem<'a>>;

fn fail<'a, T>(at: &'a str, message: impl Into<Cow<'static, str>>) -> Parsed<'a, T> {
    Err(Err::Failure(Problem {
        at,
        detail: Detail::Message(message.into()),
    }))
}

fn unclosed<'a, T>(at: &'a str, what: &'static str, close: char, opened: &'a str) -> Parsed<'a, T> {
    Err(Err::Failure(Problem {
        at,
        detail: Detail::Unclosed {
            what,
            close,
            opened,
        },
    }))
}

fn to_parse_error(input: &str, error: Err<Problem<'_>>) -> ParseError {
    let problem = match error {
        Err::Error(problem) | Err::Failure(problem) => problem,
        // Only streaming parsers report `Incomplete`; the reader uses none.
        Err::Incomplete(_) => {
            return ParseError::at_offset(input, input.len(), "unexpected end of input".into())
        }
    };
    let offset = offset_in(input, problem.at);
    let message = match problem.detail {
        Detail::Message(message) => message.into_owned(),
        Detail::Unclosed {
            what,
            close,
            opened,
        } => {
            let (line, column) = ParseError::position(input, offset_in(input, opened));
            format!(
                "expected '{close}' to close the {what} opened at line {line}, column {column}, found {}",
                found(problem.at)
            )
        }
    };
    ParseError::at_offset(input, offset, message)
}

fn offset_in(input: &str, rest: &str) -> usize {
    input.len() - rest.len()
}

/// Describes the next character for an error message.
fn found(rest: &str) -> String {
    match rest.chars().next() {
        None => "end of input".to_string(),
        Some(c) if c == '\'' || c.is_control() || (c.is_whitespace() && c != ' ') => {
            format!("'{}'", c.escape_default())
        }
        Some(c) => format!("'{c}'"),
    }
}

/// A value shown inside an error message, shortened if long.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

fn is_whitespace(c: char) -> bool {
    c == ',' || c.is_whitespace()
}

/// Characters that may appear in symbols, keywords, numbers, tags and
/// character names.
fn is_constituent(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '.' | '*'
                | '+'
                | '!'
                | '-'
                | '_'
                | '?'
                | '$'
                | '%'
                | '&'
                | '='
                | '<'
                | '>'
                | '/'
                | ':'
                | '#'
        )
        || (!c.is_ascii() && c.is_alphanumeric())
}

fn token(input: &str) -> Parsed<'_, &str> {
    take_while(is_constituent).parse(input)
}

fn is_closer(rest: &str) -> bool {
    matches!(rest.as_bytes().first(), Some(b')' | b']' | b'}'))
}

fn enter(at: &str, depth: usize) -> Result<usize, Err<Problem<'_>>> {
    if depth >= MAX_DEPTH {
        return Err(Err::Failure(Problem {
            at,
            detail: Detail::Message(format!("nesting is deeper than {MAX_DEPTH} levels").into()),
        }));
    }
    Ok(depth + 1)
}

/// Skips whitespace, commas, `;` comments and `#_` discarded forms.
fn skip_ignorable<'a>(
    mut input: &'a str,
    depth: usize,
    scratch: &mut Scratch<'a>,
) -> Parsed<'a, ()> {
    loop {
        (input, _) = take_while(is_whitespace).parse(input)?;
        if input.starts_with(';') {
            (input, _) = take_till(|c| c == '\n').parse(input)?;
        } else if let Some(after) = input.strip_prefix("#_") {
            let inner = enter(input, depth)?;
            let (rest, ()) = skip_ignorable(after, inner, scratch)?;
            if rest.is_empty() || is_closer(rest) {
                return fail(
                    rest,
                    format!("expected a form to discard after #_, found {}", found(rest)),
                );
            }
            (input, _) = form(rest, inner, scratch)?;
        } else {
            return Ok((input, ()));
        }
    }
}

/// One form; `input` starts at its first character (ignorables skipped).
fn form<'a>(input: &'a str, depth: usize, scratch: &mut Scratch<'a>) -> Parsed<'a, Value> {
    let Some(&first) = input.as_bytes().first() else {
        return fail(input, "expected a value, found end of input");
    };
    match first {
        b'(' => {
            let (rest, items) = sequence(input, ')', "list", depth, scratch)?;
            Ok((rest, Value::List(items)))
        }
        b'[' => {
            let (rest, items) = sequence(input, ']', "vector", depth, scratch)?;
            Ok((rest, Value::Vector(items)))
        }
        b'{' => map(input, depth, scratch),
        b'"' => {
            let (rest, text) = string(input)?;
            Ok((rest, Value::String(text)))
        }
        b'\\' => character(input),
        b':' => keyword(input),
        b'#' => dispatch(input, depth, scratch),
        b'0'..=b'9' => number(input),
        b'+' | b'-' if input.as_bytes().get(1).is_some_and(u8::is_ascii_digit) => number(input),
        b')' | b']' | b'}' => fail(input, format!("unmatched '{}'", first as char)),
        _ => symbolic(input),
    }
}

/// Values of the collections being read, kept on one stack shared by all
/// nesting levels so each collection is allocated once at its exact size.
struct Scratch<'a> {
    values: Vec<Value>,
    /// Where each key of an open map (or element of an open set) starts,
    /// to point at a duplicate.
    positions: Vec<&'a str>,
}

impl Scratch<'_> {
    fn new() -> Self {
        Scratch {
            values: Vec::new(),
            positions: Vec::new(),
        }
    }
}

/// Reads the forms of a collection onto `scratch.values` (and, for maps and
/// sets, their start positions onto `scratch.positions`) up to `close`.
/// `input` starts at the opening bracket, which is `open_length` bytes long.
fn elements<'a>(
    input: &'a str,
    open_length: usize,
    close: char,
    what: &'static str,
    depth: usize,
    scratch: &mut Scratch<'a>,
) -> Parsed<'a, ()> {
    let inner = enter(input, depth)?;
    let keep_positions = what != "list" && what != "vector";
    let mut rest = &input[open_length..];
    // In a map, whether the next form is a value (the last one was a key).
    let mut after_key = false;
    loop {
        (rest, ()) = skip_ignorable(rest, inner, scratch)?;
        if rest.starts_with(close) {
            if after_key {
                let key = scratch.values.last().map_or_else(String::new, shown);
                let message = format!("map has an odd number of forms: key {key} has no value");
                return fail(rest, message);
            }
            return Ok((&rest[1..], ()));
        }
        if rest.is_empty() || is_closer(rest) {
            return unclosed(rest, what, close, input);
        }
        if keep_positions && !after_key {
            scratch.positions.push(rest);
        }
        let (after, item) = form(rest, inner, scratch)?;
        scratch.values.push(item);
        after_key = what == "map" && !after_key;
        rest = after;
    }
}

/// A list or vector; `input` starts at the opening bracket.
fn sequence<'a>(
    input: &'a str,
    close: char,
    what: &'static str,
    depth: usize,
    scratch: &mut Scratch<'a>,
) -> Parsed<'a, Vec<Value>> {
    let start = scratch.values.len();
    let (rest, ()) = elements(input, 1, close, what, depth, scratch)?;
    Ok((rest, scratch.values.drain(start..).collect()))
}

/// A map; `input` starts at the `{`.
fn map<'a>(input: &'a str, depth: usize, scratch: &mut Scratch<'a>) -> Parsed<'a, Value> {
    let start = scratch.values.len();
    let positions_start = scratch.positions.len();
    let (rest, ()) = elements(input, 1, '}', "map", depth, scratch)?;
    let mut entries = IndexMap::with_capacity((scratch.values.len() - start) / 2);
    let mut forms = scratch.values.drain(start..);
    let mut index = 0;
    while let (Some(key), Some(value)) = (forms.next(), forms.next()) {
        match entries.entry(key) {
            Entry::Occupied(entry) => {
                let message = format!("duplicate key {} in map", shown(entry.key()));
                return fail(scratch.positions[positions_start + index], message);
            }
            Entry::Vacant(entry) => {
                entry.insert(value);
            }
        }
        index += 1;
    }
    drop(forms);
    scratch.positions.truncate(positions_start);
    Ok((rest, Value::Map(entries)))
}

/// A set; `input` starts at the `#{`.
fn set<'a>(input: &'a str, depth: usize, scratch: &mut Scratch<'a>) -> Parsed<'a, Value> {
    let start = scratch.values.len();
    let positions_start = scratch.positions.len();
    let (rest, ()) = elements(input, 2, '}', "set", depth, scratch)?;
    let mut elements = IndexSet::with_capacity(scratch.values.len() - start);
    for (index, element) in scratch.values.drain(start..).enumerate() {
        if let Some(duplicate) = elements.replace(element) {
            let message = format!("duplicate element {} in set", shown(&duplicate));
            return fail(scratch.positions[positions_start + index], message);
        }
    }
    scratch.positions.truncate(positions_start);
    Ok((rest, Value::Set(elements)))
}

/// A string; `input` starts at the opening quote.
fn string(input: &str) -> Parsed<'_, String> {
    let is_special = |c: char| c == '"' || c == '\\';
    let (rest, plain) = take_till(is_special).parse(&input[1..])?;
    if let Some(after) = rest.strip_prefix('"') {
        return Ok((after, plain.to_string()));
    }
    let mut text = String::with_capacity(plain.len() + 16);
    text.push_str(plain);
    let mut rest = rest;
    loop {
        match rest.as_bytes().first() {
            Some(b'"') => return Ok((&rest[1..], text)),
            Some(b'\\') => {
                let (after, c) = escape(rest, input)?;
                text.push(c);
                rest = after;
            }
            _ => return unclosed(rest, "string", '"', input),
        }
        let (after, plain) = take_till(is_special).parse(rest)?;
        text.push_str(plain);
        rest = after;
    }
}

/// One escape sequence inside a string; `input` starts at the backslash.
fn escape<'a>(input: &'a str, string_start: &'a str) -> Parsed<'a, char> {
    let after = &input[1..];
    let Some(c) = after.chars().next() else {
        return unclosed(after, "string", '"', string_start);
    };
    let simple = match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        '"' => '"',
        '\\' => '\\',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'u' => return unicode_escape(input),
        _ => {
            return fail(
                input,
                format!("unknown escape \\{} in string", c.escape_debug()),
            )
        }
    };
    Ok((&after[1..], simple))
}

/// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`; `input` starts at the backslash.
fn unicode_escape(input: &str) -> Parsed<'_, char> {
    let (rest, high) = hex4(input)?;
    let code = if (0xD800..0xDC00).contains(&high) {
        match rest.strip_prefix("\\u").map(|_| hex4(rest)) {
            Some(Ok((after, low))) if (0xDC00..0xE000).contains(&low) => {
                let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                return char::from_u32(code).map_or_else(
                    || {
                        fail(
                            input,
                            format!("\\u{high:04X}\\u{low:04X} is not a character"),
                        )
                    },
                    |c| Ok((after, c)),
                );
            }
            Some(Err(error)) => return Err(error),
            _ => return fail(input, format!("unpaired surrogate \\u{high:04X} in string")),
        }
    } else {
        high
    };
    match char::from_u32(code) {
        Some(c) => Ok((rest, c)),
        None => fail(input, format!("unpaired surrogate \\u{code:04X} in string")),
    }
}

/// Four hex digits after `\u`; `input` starts at the backslash.
fn hex4(input: &str) -> Parsed<'_, u32> {
    let digits: Parsed<'_, &str> =
        take_while_m_n(4, 4, |c: char| c.is_ascii_hexdigit()).parse(&input[2..]);
    match digits {
        Ok((rest, digits)) => match u32::from_str_radix(digits, 16) {
            Ok(code) => Ok((rest, code)),
            Err(_) => fail(input, "expected four hexadecimal digits after \\u"),
        },
        Err(_) => fail(input, "expected four hexadecimal digits after \\u"),
    }
}

/// A character literal; `input` starts at the backslash.
fn character(input: &str) -> Parsed<'_, Value> {
    let after = &input[1..];
    let Some(first) = after.chars().next() else {
        return fail(after, "expected a character after '\\', found end of input");
    };
    if first.is_whitespace() {
        return fail(
            after,
            format!("expected a character after '\\', found {}", found(after)),
        );
    }
    let (rest, more) = token(&after[first.len_utf8()..])?;
    if more.is_empty() {
        return Ok((rest, Value::Char(first)));
    }
    let name = &after[..first.len_utf8() + more.len()];
    let named = match name {
        "newline" => '\n',
        "space" => ' ',
        "tab" => '\t',
        "return" => '\r',
        "formfeed" => '\u{c}',
        "backspace" => '\u{8}',
        _ => {
            let code = name
                .strip_prefix('u')
                .filter(|hex| hex.len() == 4 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok());
            match code.map(|code| (code, char::from_u32(code))) {
                Some((_, Some(c))) => c,
                Some((code, None)) => {
                    return fail(
                        input,
                        format!("\\u{code:04X} is a surrogate, not a character"),
                    )
                }
                None => return fail(input, format!("unknown character name \\{name}")),
            }
        }
    };
    Ok((rest, Value::Char(named)))
}

/// A keyword; `input` starts at the colon.
fn keyword(input: &str) -> Parsed<'_, Value> {
    let (rest, text) = token(&input[1..])?;
    if text.is_empty() {
        return fail(
            input,
            format!("expected a keyword name after ':', found {}", found(rest)),
        );
    }
    if text.starts_with(':') {
        return fail(
            input,
            format!("auto-resolved keywords such as :{text} are not supported"),
        );
    }
    match split_symbol(text) {
        Ok((namespace, name)) => Ok((
            rest,
            Value::Keyword(Keyword {
                namespace: namespace.map(str::to_string),
                name: name.to_string(),
            }),
        )),
        Err(reason) => fail(input, format!("invalid keyword :{text}: {reason}")),
    }
}

/// `nil`, `true`, `false` or a symbol; `input` starts at its first character.
fn symbolic(input: &str) -> Parsed<'_, Value> {
    let (rest, text) = token(input)?;
    if text.is_empty() {
        return fail(input, format!("unexpected character {}", found(input)));
    }
    match text {
        "nil" => Ok((rest, Value::Nil)),
        "true" => Ok((rest, Value::Boolean(true))),
        "false" => Ok((rest, Value::Boolean(false))),
        _ => match split_symbol(text) {
            Ok((namespace, name)) => Ok((rest, Value::Symbol(make_symbol(namespace, name)))),
            Err(reason) => fail(input, format!("invalid symbol {text}: {reason}")),
        },
    }
}

fn make_symbol(namespace: Option<&str>, name: &str) -> Symbol {
    Symbol {
        namespace: namespace.map(str::to_string),
        name: name.to_string(),
    }
}

/// Splits symbol text (all constituent characters) into namespace and name,
/// or says why it is not a symbol.
fn split_symbol(text: &str) -> Result<(Option<&str>, &str), &'static str> {
    if text == "/" {
        return Ok((None, text));
    }
    match text.split_once('/') {
        None => check_symbol_part(text).map(|()| (None, text)),
        Some(("", _)) => Err("the namespace before '/' is empty"),
        Some((_, "")) => Err("the name after '/' is empty"),
        Some((_, name)) if name.contains('/') => Err("it has more than one '/'"),
        Some((namespace, name)) => {
            check_symbol_part(namespace)?;
            check_symbol_part(name)?;
            Ok((Some(namespace), name))
        }
    }
}

fn check_symbol_part(part: &str) -> Result<(), &'static str> {
    let mut chars = part.chars();
    match (chars.next(), chars.next()) {
        (Some('0'..='9'), _) => Err("a name cannot start with a digit"),
        (Some(':' | '#'), _) => Err("a name cannot start with ':' or '#'"),
        (Some('+' | '-' | '.'), Some('0'..='9')) => {
            Err("a name starting with '+', '-' or '.' cannot continue with a digit")
        }
        _ => Ok(()),
    }
}

/// An integer or float; `input` starts at its sign or first digit.
fn number(input: &str) -> Parsed<'_, Value> {
    let (rest, text) = token(input)?;
    let bytes = text.as_bytes();
    let mut position = usize::from(matches!(bytes[0], b'+' | b'-'));
    let digits_from = |position: usize| {
        bytes[position..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let integer_digits = digits_from(position);
    if integer_digits > 1 && bytes[position] == b'0' {
        return fail(
            input,
            format!("invalid number {text}: leading zeros are not allowed"),
        );
    }
    position += integer_digits;
    let mut is_float = false;
    if bytes.get(position) == Some(&b'.') {
        let fraction_digits = digits_from(position + 1);
        if fraction_digits == 0 {
            return fail(
                input,
                format!("invalid number {text}: expected digits after '.'"),
            );
        }
        position += 1 + fraction_digits;
        is_float = true;
    }
    if matches!(bytes.get(position), Some(b'e' | b'E')) {
        position += 1;
        if matches!(bytes.get(position), Some(b'+' | b'-')) {
            position += 1;
        }
        let exponent_digits = digits_from(position);
        if exponent_digits == 0 {
            return fail(
                input,
                format!("invalid number {text}: expected digits in the exponent"),
            );
        }
        position += exponent_digits;
        is_float = true;
    }
    let body = &text[..position];
    match &text[position..] {
        "" => {}
        "N" if !is_float => {
            return match body.parse::<crate::BigInt>() {
                Ok(integer) => Ok((rest, Value::BigInt(integer))),
                Err(_) => fail(input, format!("invalid number {text}")),
            }
        }
        "M" => return big_decimal(input, rest, text, body),
        _ => return fail(input, format!("invalid number {text}")),
    }
    if is_float {
        match body.parse::<f64>() {
            Ok(float) if float.is_finite() => Ok((rest, Value::Float(float))),
            _ => fail(input, format!("float literal {text} is out of range")),
        }
    } else {
        match body.parse::<i64>() {
            Ok(integer) => Ok((rest, Value::Integer(integer))),
            Err(_) => fail(
                input,
                format!("integer literal {text} does not fit in 64 bits (write {body}N for a big integer)"),
            ),
        }
    }
}

/// The largest exponent, either way, that a decimal literal may have: the
/// scale of a decimal is a 64-bit integer, and a bound far inside it keeps
/// every later step (printing, the store's encoding) from overflowing.
pub const MAX_DECIMAL_EXPONENT: i64 = 1 << 40;

/// `body` followed by `M`: an arbitrary-precision decimal, exactly as
/// written (`1.50M` keeps its two decimals).
fn big_decimal<'a>(input: &'a str, rest: &'a str, text: &str, body: &str) -> Parsed<'a, Value> {
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], body[at + 1..].parse::<i64>().ok()),
        None => (body, Some(0)),
    };
    let fraction_digits = mantissa.split_once('.').map_or(0, |(_, f)| f.len());
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let scale = exponent.and_then(|exponent| {
        i64::try_from(fraction_digits)
            .ok()
            .and_then(|fraction| fraction.checked_sub(exponent))
            .filter(|scale| scale.abs() <= MAX_DECIMAL_EXPONENT)
    });
    match (digits.parse::<crate::BigInt>(), scale) {
        (Ok(unscaled), Some(scale)) => {
            Ok((rest, Value::BigDec(crate::BigDecimal::new(unscaled, scale))))
        }
        _ => fail(input, format!("decimal literal {text} is out of range")),
    }
}

/// Everything that starts with `#`: sets, `##` symbolic values and tagged
/// elements (`#_` is consumed by [`skip_ignorable`] and never reaches here).
fn dispatch<'a>(input: &'a str, depth: usize, scratch: &mut Scratch<'a>) -> Parsed<'a, Value> {
    let after = &input[1..];
    match after.chars().next() {
        Some('{') => set(input, depth, scratch),
        Some('#') => {
            let (rest, name) = token(&after[1..])?;
            let float = match name {
                "Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                "NaN" => f64::NAN,
                _ => {
                    return fail(
                        input,
                        format!(
                            "unknown symbolic value ##{name} (expected ##Inf, ##-Inf or ##NaN)"
                        ),
                    )
                }
            };
            Ok((rest, Value::Float(float)))
        }
        Some(c) if c.is_alphabetic() => tagged(input, depth, scratch),
        _ => fail(
            input,
            format!(
                "expected '{{', '_', '#' or a tag name after '#', found {}",
                found(after)
            ),
        ),
    }
}

/// `#tag value`; `input` starts at the `#`.
fn tagged<'a>(input: &'a str, depth: usize, scratch: &mut Scratch<'a>) -> Parsed<'a, Value> {
    let (rest, text) = token(&input[1..])?;
    let tag = match split_symbol(text) {
        Ok((namespace, name)) => make_symbol(namespace, name),
        Err(reason) => return fail(input, format!("invalid tag #{text}: {reason}")),
    };
    let inner = enter(input, depth)?;
    let (rest, ()) = skip_ignorable(rest, inner, scratch)?;
    if rest.is_empty() || is_closer(rest) {
        return fail(
            rest,
            format!(
                "expected a value after the tag #{text}, found {}",
                found(rest)
            ),
        );
    }
    let value_at = rest;
    let (rest, mut value) = form(rest, inner, scratch)?;
    if tag.namespace.is_some() || !matches!(tag.name.as_str(), "inst" | "uuid") {
        return Ok((rest, Value::Tagged(tag, Box::new(value))));
    }
    let Value::String(text) = &mut value else {
        return fail(
            value_at,
            format!(
                "#{} expects a string, found {}",
                tag.name,
                value.kind_name()
            ),
        );
    };
    let converted = if tag.name == "inst" {
        Instant::parse_rfc3339(text).map(Value::Inst)
    } else {
        Uuid::parse(text).map(Value::Uuid)
    };
    match converted {
        Ok(value) => Ok((rest, value)),
        Err(reason) => fail(
            value_at,
            format!("invalid #{} {:?}: {reason}", tag.name, text),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `input` with [`parse`] and compares the printed value.
    fn check(input: &str, printed: &str) {
        match parse(input) {
            Ok(value) => assert_eq!(value.to_string(), printed, "input: {input:?}"),
            Err(error) => panic!("input {input:?} failed: {error}"),
        }
    }

    /// Reads `input` with [`parse`] and compares the error as `line:column message`.
    fn check_error(input: &str, expected: &str) {
        match parse(input) {
            Ok(value) => panic!("input {input:?} read as {value}, expected an error"),
            Err(error) => assert_eq!(
                format!("{}:{} {}", error.line, error.column, error.message),
                expected,
                "input: {input:?}"
            ),
        }
    }

    fn kw(text: &str) -> Value {
        Value::keyword(text)
    }

    #[test]
    fn nil_and_booleans() {
        assert_eq!(parse("nil"), Ok(Value::Nil));
        assert_eq!(parse("true"), Ok(Value::Boolean(true)));
        assert_eq!(parse("false"), Ok(Value::Boolean(false)));
        check("nil?", "nil?");
        check("truex", "truex");
    }

    #[test]
    fn integers() {
        for (input, expected) in [
            ("0", 0),
            ("42", 42),
            ("+1", 1),
            ("-1", -1),
            ("-0", 0),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ] {
            assert_eq!(parse(input), Ok(Value::Integer(expected)), "{input}");
        }
    }

    #[test]
    fn big_integers_take_any_size() {
        for (input, expected) in [
            ("7N", "7"),
            ("-0N", "0"),
            ("+12N", "12"),
            ("-9223372036854775809N", "-9223372036854775809"),
            ("12345678901234567890123N", "12345678901234567890123"),
        ] {
            let expected: crate::BigInt = expected.parse().unwrap();
            assert_eq!(parse(input), Ok(Value::BigInt(expected)), "{input}");
        }
        check_error(
            "012N",
            "1:1 invalid number 012N: leading zeros are not allowed",
        );
    }

    #[test]
    fn big_decimals_keep_their_digits_and_scale() {
        for (input, unscaled, scale) in [
            ("1.5M", "15", 1),
            ("1.50M", "150", 2),
            ("3M", "3", 0),
            ("-0.1M", "-1", 1),
            ("1.5e3M", "15", -2),
            ("2E-3M", "2", 3),
            ("0.000M", "0", 3),
            (
                "123456789012345678901234567890.123456789M",
                "123456789012345678901234567890123456789",
                9,
            ),
        ] {
            let Ok(Value::BigDec(read)) = &parse(input) else {
                panic!("{input} is not read as a decimal");
            };
            let (digits, read_scale) = read.as_bigint_and_exponent();
            assert_eq!(
                (digits.to_string(), read_scale),
                (unscaled.to_string(), scale),
                "{input}"
            );
        }
        assert_eq!(parse("1.50M"), parse("1.5M"), "decimals are equal by value");
    }

    #[test]
    fn floats() {
        for (input, expected) in [
            ("1.0", 1.0),
            ("-1.5", -1.5),
            ("+2.25", 2.25),
            ("1e3", 1000.0),
            ("1E3", 1000.0),
            ("1.5e-3", 0.0015),
            ("2e+2", 200.0),
            ("0.1", 0.1),
            ("1e-400", 0.0),
            ("##Inf", f64::INFINITY),
            ("##-Inf", f64::NEG_INFINITY),
            ("##NaN", f64::NAN),
        ] {
            assert_eq!(parse(input), Ok(Value::Float(expected)), "{input}");
        }
        let negative_zero = parse("-0.0");
        assert!(matches!(negative_zero, Ok(Value::Float(z)) if z == 0.0 && z.is_sign_negative()));
    }

    #[test]
    fn number_errors() {
        check_error(
            "99999999999999999999",
            "1:1 integer literal 99999999999999999999 does not fit in 64 bits (write 99999999999999999999N for a big integer)",
        );
        check_error(
            "-9223372036854775809",
            "1:1 integer literal -9223372036854775809 does not fit in 64 bits (write -9223372036854775809N for a big integer)",
        );
        check_error(
            "1e99999999999999M",
            "1:1 decimal literal 1e99999999999999M is out of range",
        );
        check_error("1.5MN", "1:1 invalid number 1.5MN");
        check_error("1e999", "1:1 float literal 1e999 is out of range");
        check_error(
            "012",
            "1:1 invalid number 012: leading zeros are not allowed",
        );
        check_error("1.", "1:1 invalid number 1.: expected digits after '.'");
        check_error(
            "1e",
            "1:1 invalid number 1e: expected digits in the exponent",
        );
        check_error("1.5N", "1:1 invalid number 1.5N");
        check_error("0x1F", "1:1 invalid number 0x1F");
        check_error("1/2", "1:1 invalid number 1/2");
        check_error("-1a", "1:1 invalid number -1a");
    }

    #[test]
    fn strings() {
        assert_eq!(parse(r#""""#), Ok(Value::from("")));
        assert_eq!(parse(r#""hello""#), Ok(Value::from("hello")));
        assert_eq!(
            parse(r#""a\nb\tc\rd\"e\\f\bg\fh""#),
            Ok(Value::from("a\nb\tc\rd\"e\\f\u{8}g\u{c}h"))
        );
        assert_eq!(parse(r#""\u00e9\u0041""#), Ok(Value::from("éA")));
        assert_eq!(parse(r#""\ud83d\ude00!""#), Ok(Value::from("😀!")));
        assert_eq!(parse("\"multi\nline\""), Ok(Value::from("multi\nline")));
        assert_eq!(parse("\"ü😀\""), Ok(Value::from("ü😀")));
    }

    #[test]
    fn string_errors() {
        check_error(r#""abc\q""#, r"1:5 unknown escape \q in string");
        check_error(
            "\"abc",
            "1:5 expected '\"' to close the string opened at line 1, column 1, found end of input",
        );
        check_error(
            "\"abc\\",
            "1:6 expected '\"' to close the string opened at line 1, column 1, found end of input",
        );
        check_error(
            r#""\u12""#,
            r"1:2 expected four hexadecimal digits after \u",
        );
        check_error(r#""\ud83d""#, r"1:2 unpaired surrogate \uD83D in string");
        check_error(
            r#""\ud83d\u0041""#,
            r"1:2 unpaired surrogate \uD83D in string",
        );
        check_error(r#""\ude00""#, r"1:2 unpaired surrogate \uDE00 in string");
        check_error(
            r#""\ud83d\u12""#,
            r"1:8 expected four hexadecimal digits after \u",
        );
    }

    #[test]
    fn characters() {
        for (input, expected) in [
            ("\\a", 'a'),
            ("\\A", 'A'),
            ("\\1", '1'),
            ("\\newline", '\n'),
            ("\\space", ' '),
            ("\\tab", '\t'),
            ("\\return", '\r'),
            ("\\formfeed", '\u{c}'),
            ("\\backspace", '\u{8}'),
            ("\\u", 'u'),
            ("\\u00e9", 'é'),
            ("\\(", '('),
            ("\\\\", '\\'),
            ("\\\"", '"'),
            ("\\,", ','),
            ("\\é", 'é'),
        ] {
            assert_eq!(parse(input), Ok(Value::Char(expected)), "{input}");
        }
        check("[\\a\\b \\c]", "[\\a \\b \\c]");
    }

    #[test]
    fn character_errors() {
        check_error("\\foo", r"1:1 unknown character name \foo");
        check_error("[\\newlines]", r"1:2 unknown character name \newlines");
        check_error("\\ud800", r"1:1 \uD800 is a surrogate, not a character");
        check_error(
            "\\",
            "1:2 expected a character after '\\', found end of input",
        );
        check_error("\\ x", "1:2 expected a character after '\\', found ' '");
    }

    #[test]
    fn keywords_and_symbols() {
        assert_eq!(parse(":a"), Ok(kw(":a")));
        assert_eq!(
            parse(":person/name"),
            Ok(Value::Keyword(Keyword::namespaced("person", "name")))
        );
        assert_eq!(
            parse(":db.type/long"),
            Ok(Value::Keyword(Keyword::namespaced("db.type", "long")))
        );
        assert_eq!(parse(":person/_friend"), Ok(kw(":person/_friend")));
        assert_eq!(parse(":nil"), Ok(kw(":nil")));
        for text in [
            "a",
            "?x",
            "+",
            "-",
            "/",
            "...",
            "_",
            "a.b/c",
            "str/starts-with?",
            "<=",
            "-a",
            "a:b",
            "x#",
            "名前",
        ] {
            assert_eq!(parse(text), Ok(Value::symbol(text)), "{text}");
        }
        assert_eq!(
            parse("a.b/c"),
            Ok(Value::Symbol(Symbol {
                namespace: Some("a.b".into()),
                name: "c".into()
            }))
        );
    }

    #[test]
    fn keyword_and_symbol_errors() {
        check_error(
            ":",
            "1:1 expected a keyword name after ':', found end of input",
        );
        check_error("[: a]", "1:2 expected a keyword name after ':', found ' '");
        check_error(
            "::foo",
            "1:1 auto-resolved keywords such as ::foo are not supported",
        );
        check_error(
            ":1",
            "1:1 invalid keyword :1: a name cannot start with a digit",
        );
        check_error(
            ":a/",
            "1:1 invalid keyword :a/: the name after '/' is empty",
        );
        check_error(
            "/a",
            "1:1 invalid symbol /a: the namespace before '/' is empty",
        );
        check_error(
            "a/b/c",
            "1:1 invalid symbol a/b/c: it has more than one '/'",
        );
        check_error(
            "a/1",
            "1:1 invalid symbol a/1: a name cannot start with a digit",
        );
        check_error(".5", "1:1 invalid symbol .5: a name starting with '+', '-' or '.' cannot continue with a digit");
        check_error(
            "a/:b",
            "1:1 invalid symbol a/:b: a name cannot start with ':' or '#'",
        );
        check_error("@x", "1:1 unexpected character '@'");
        check_error("'x", "1:1 unexpected character '\\''");
    }

    #[test]
    fn collections() {
        check("(1 2 3)", "(1 2 3)");
        check("[ 1,2 ,3 ]", "[1 2 3]");
        check("{:a 1 :b 2}", "{:a 1, :b 2}");
        check("{:b 2, :a 1}", "{:b 2, :a 1}");
        check("#{3 1 2}", "#{3 1 2}");
        check("[() [] {} #{}]", "[() [] {} #{}]");
        check("{[1 2] {:x #{nil}}}", "{[1 2] {:x #{nil}}}");
        check("[\"a\"\"b\"]", "[\"a\" \"b\"]");
        check("[a\"b\"]", "[a \"b\"]");
    }

    #[test]
    fn collection_errors() {
        check_error(
            "[1 2",
            "1:5 expected ']' to close the vector opened at line 1, column 1, found end of input",
        );
        check_error(
            "(1\n  [2)",
            "2:5 expected ']' to close the vector opened at line 2, column 3, found ')'",
        );
        check_error(
            "{:a 1",
            "1:6 expected '}' to close the map opened at line 1, column 1, found end of input",
        );
        check_error(
            "{:a]",
            "1:4 expected '}' to close the map opened at line 1, column 1, found ']'",
        );
        check_error(
            "#{1",
            "1:4 expected '}' to close the set opened at line 1, column 1, found end of input",
        );
        check_error(
            "(",
            "1:2 expected ')' to close the list opened at line 1, column 1, found end of input",
        );
        check_error(")", "1:1 unmatched ')'");
        check_error(
            "{:a 1 :b}",
            "1:9 map has an odd number of forms: key :b has no value",
        );
        check_error("{:a 1 :b 2 :a 3}", "1:12 duplicate key :a in map");
        // The message shows the key as first written.
        check_error(
            "{{:x 1 :y 2} 1 {:y 2 :x 1} 2}",
            "1:16 duplicate key {:x 1, :y 2} in map",
        );
        check_error("#{1 2 1}", "1:7 duplicate element 1 in set");
        check_error("#{##NaN ##NaN}", "1:9 duplicate element ##NaN in set");
    }

    #[test]
    fn whitespace_comments_and_discards() {
        check("  ; comment\n , 1 ; trailing", "1");
        check("[1 ;; a comment ]\n 2]", "[1 2]");
        check("[1 #_ 2 3]", "[1 3]");
        check("[1 #_#_ 2 3 4]", "[1 4]");
        check("[1 #_ #_ 2 3 4]", "[1 4]");
        check("[1 #_ [2 [3]] 4]", "[1 4]");
        check("{:a #_ :b 1}", "{:a 1}");
        check("#_ 1 2", "2");
        check("#ent #_ 1 \"x\"", "#ent \"x\"");
        check("[1\u{a0}2\u{2028}3]", "[1 2 3]");
        assert_eq!(parse_all("#_ 1"), Ok(vec![]));
        check_error(
            "[1 #_]",
            "1:6 expected a form to discard after #_, found ']'",
        );
        check_error(
            "#_",
            "1:3 expected a form to discard after #_, found end of input",
        );
        check_error("#_ 1", "1:5 expected a value, found end of input");
        check_error(
            "#_ [1 2",
            "1:8 expected ']' to close the vector opened at line 1, column 4, found end of input",
        );
    }

    #[test]
    fn tagged_elements() {
        assert_eq!(
            parse("#ent \"x\""),
            Ok(Value::Tagged(
                Symbol::plain("ent"),
                Box::new(Value::from("x"))
            ))
        );
        check("#approx [1.5 0.001]", "#approx [1.5 0.001]");
        check(
            "#myapp/Person {:name \"Ann\"}",
            "#myapp/Person {:name \"Ann\"}",
        );
        check("#tx\"t1\"", "#tx \"t1\"");
        check("#a #b 1", "#a #b 1");
        assert_eq!(
            parse("#inst \"1985-04-12T23:20:50.52Z\""),
            Ok(Value::Inst(Instant(482_196_050_520)))
        );
        check(
            "#inst \"1996-12-19T16:39:57-08:00\"",
            "#inst \"1996-12-20T00:39:57.000Z\"",
        );
        assert_eq!(
            parse("#uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\""),
            Ok(Value::Uuid(Uuid(0xf81d4fae_7dec_11d0_a765_00a0c91e6bf6)))
        );
        check("#foo/inst \"x\"", "#foo/inst \"x\"");
    }

    #[test]
    fn tagged_errors() {
        check_error("#inst 5", "1:7 #inst expects a string, found integer");
        check_error(
            "#inst \"2024-01-10T\"",
            "1:7 invalid #inst \"2024-01-10T\": expected a two-digit hour, found the end of the text",
        );
        check_error(
            "#uuid \"x\"",
            "1:7 invalid #uuid \"x\": expected 36 characters in the form 8-4-4-4-12, found 1",
        );
        check_error(
            "#ent",
            "1:5 expected a value after the tag #ent, found end of input",
        );
        check_error(
            "[#ent]",
            "1:6 expected a value after the tag #ent, found ']'",
        );
        check_error(
            "##foo",
            "1:1 unknown symbolic value ##foo (expected ##Inf, ##-Inf or ##NaN)",
        );
        check_error(
            "#\"re\"",
            "1:1 expected '{', '_', '#' or a tag name after '#', found '\"'",
        );
        check_error(
            "#:a{}",
            "1:1 expected '{', '_', '#' or a tag name after '#', found ':'",
        );
        check_error(
            "#",
            "1:1 expected '{', '_', '#' or a tag name after '#', found end of input",
        );
        check_error("#a/", "1:1 invalid tag #a/: the name after '/' is empty");
    }

    #[test]
    fn parse_reads_exactly_one_value() {
        check_error("", "1:1 expected a value, found end of input");
        check_error(
            "  ; only a comment\n",
            "2:1 expected a value, found end of input",
        );
        check_error(
            "1 2",
            "1:3 expected end of input after the value, found '2'",
        );
        check_error(
            "[1] ]",
            "1:5 expected end of input after the value, found ']'",
        );
    }

    #[test]
    fn parse_all_reads_every_value() {
        assert_eq!(parse_all(""), Ok(vec![]));
        assert_eq!(parse_all(" ; nothing\n"), Ok(vec![]));
        assert_eq!(
            parse_all("{:a 1} {:b 2}\n:c"),
            Ok(vec![
                parse("{:a 1}").unwrap(),
                parse("{:b 2}").unwrap(),
                kw(":c")
            ])
        );
        let error = parse_all("1\n2\n  )").unwrap_err();
        assert_eq!(error.to_string(), "line 3, column 3: unmatched ')'");
    }

    #[test]
    fn depth_is_bounded() {
        let deepest = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&deepest).is_ok());
        let too_deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        check_error(&too_deep, "1:257 nesting is deeper than 256 levels");
        check_error(
            &"(".repeat(100_000),
            "1:257 nesting is deeper than 256 levels",
        );
        check_error(
            &"#a ".repeat(100_000),
            "1:769 nesting is deeper than 256 levels",
        );
        check_error(
            &"#_ ".repeat(100_000),
            "1:769 nesting is deeper than 256 levels",
        );
        check_error(
            &format!("{}1", "{:a ".repeat(300)),
            "1:1025 nesting is deeper than 256 levels",
        );
    }

    #[test]
    fn readable_names() {
        assert!(Keyword::namespaced("a.b", "c-d?").is_readable());
        assert!(Keyword::plain("nil").is_readable());
        assert!(!Keyword::plain("1").is_readable());
        assert!(!Keyword::plain("a b").is_readable());
        assert!(!Keyword::namespaced("", "b").is_readable());
        assert!(Symbol::plain("/").is_readable());
        assert!(!Symbol::plain("nil").is_readable());
        assert!(Symbol::from_str_lossy("a/nil").is_readable());
        assert!(!Symbol {
            namespace: Some("a".into()),
            name: "/".into()
        }
        .is_readable());
    }
}
