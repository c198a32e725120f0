//! nom over EDN values: [`Forms`], a slice of values that nom parses one
//! value at a time, its error type [`Expected`], and the few primitives the
//! query, rule, pull and transaction parsers are built from.
//!
//! A nested form (a clause vector, a rule head list) is parsed by running a
//! parser over its items with [`parse_items`]. Parsers backtrack with
//! `Err::Error` only where an alternative may still match; once the shape of a
//! form is known they fail with `Err::Failure` and a message that names the
//! form. nom's types never leave this crate: [`into_parse_error`] turns the
//! final error into a [`ParseError`].

use std::iter::Enumerate;
use std::slice::Iter;

use factlite_edn::{Symbol, Value};
use nom::error::ErrorKind;
use nom::{Err, IResult, Needed, Parser};

use crate::error::{show, ParseError};

/// Forms may nest at most this deep (clauses inside `or`/`not`, pull maps
/// inside pull maps) before parsing stops with an error.
pub const MAX_DEPTH: usize = 128;

/// A sequence of EDN forms: the input type of every parser in this crate.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Forms<'a>(pub(crate) &'a [Value]);

impl<'a> nom::Input for Forms<'a> {
    type Item = &'a Value;
    type Iter = Iter<'a, Value>;
    type IterIndices = Enumerate<Iter<'a, Value>>;

    fn input_len(&self) -> usize {
        self.0.len()
    }

    fn take(&self, index: usize) -> Self {
        Forms(&self.0[..index])
    }

    fn take_from(&self, index: usize) -> Self {
        Forms(&self.0[index..])
    }

    fn take_split(&self, index: usize) -> (Self, Self) {
        let (prefix, suffix) = self.0.split_at(index);
        (Forms(suffix), Forms(prefix))
    }

    fn position<P>(&self, predicate: P) -> Option<usize>
    where
        P: Fn(Self::Item) -> bool,
    {
        self.0.iter().position(predicate)
    }

    fn iter_elements(&self) -> Self::Iter {
        self.0.iter()
    }

    fn iter_indices(&self) -> Self::IterIndices {
        self.0.iter().enumerate()
    }

    fn slice_index(&self, count: usize) -> Result<usize, Needed> {
        if self.0.len() >= count {
            Ok(count)
        } else {
            Err(Needed::new(count - self.0.len()))
        }
    }
}

/// The error of a parser over [`Forms`]: where it stopped and, once known,
/// the message for the user.
#[derive(Debug)]
pub(crate) struct Expected<'a> {
    at: Forms<'a>,
    message: Option<String>,
}

impl<'a> nom::error::ParseError<Forms<'a>> for Expected<'a> {
    fn from_error_kind(input: Forms<'a>, _kind: ErrorKind) -> Self {
        Expected {
            at: input,
            message: None,
        }
    }

    fn append(_input: Forms<'a>, _kind: ErrorKind, other: Self) -> Self {
        other
    }

    fn or(self, other: Self) -> Self {
        if other.message.is_some() {
            other
        } else {
            self
        }
    }
}

/// The result of a parser over [`Forms`].
pub(crate) type PResult<'a, T> = IResult<Forms<'a>, T, Expected<'a>>;

/// A backtrackable error: this parser does not apply here.
pub(crate) fn no_match(at: Forms<'_>) -> Err<Expected<'_>> {
    Err::Error(Expected { at, message: None })
}

/// A committed failure of a nested parse, to be returned by the parser
/// that contains it.
pub(crate) type Failed<'a> = Err<Expected<'a>>;

/// A committed failure with this message.
pub(crate) fn fail<'a>(message: String) -> Failed<'a> {
    Err::Failure(Expected {
        at: Forms(&[]),
        message: Some(message),
    })
}

/// Takes one form and classifies it: `Ok` consumes it, `Err` fails for good.
/// At the end of the input it backtracks, so `many0(one(..))` reads every
/// remaining form.
pub(crate) fn one<'a, T>(
    classify: impl Fn(&'a Value) -> Result<T, Failed<'a>>,
) -> impl FnMut(Forms<'a>) -> PResult<'a, T> {
    move |input: Forms<'a>| match input.0.split_first() {
        None => Err(no_match(input)),
        Some((first, rest)) => classify(first).map(|value| (Forms(rest), value)),
    }
}

/// Takes one form when `select` accepts it; backtracks otherwise.
pub(crate) fn one_if<'a, T>(
    select: impl Fn(&'a Value) -> Option<T>,
) -> impl FnMut(Forms<'a>) -> PResult<'a, T> {
    move |input: Forms<'a>| match input
        .0
        .split_first()
        .map(|(first, rest)| (select(first), rest))
    {
        Some((Some(value), rest)) => Ok((Forms(rest), value)),
        _ => Err(no_match(input)),
    }
}

/// The symbol `name` (no namespace).
pub(crate) fn symbol_named<'a>(name: &'static str) -> impl FnMut(Forms<'a>) -> PResult<'a, ()> {
    one_if(move |form: &Value| symbol_is(form, name).then_some(()))
}

/// `true` when `form` is the plain symbol `name`.
pub(crate) fn symbol_is(form: &Value, name: &str) -> bool {
    matches!(form, Value::Symbol(symbol) if symbol.is(name))
}

/// The head symbol of a list form such as `(or ...)`, if it has one.
pub(crate) fn head_symbol(items: &[Value]) -> Option<&Symbol> {
    items.first().and_then(Value::as_symbol)
}

/// Runs `parser` over `items`, which it must consume entirely. Forms left
/// over fail with `leftover(first_leftover_form)` as the message.
pub(crate) fn parse_items<'a, T>(
    items: &'a [Value],
    mut parser: impl Parser<Forms<'a>, Output = T, Error = Expected<'a>>,
    leftover: impl Fn(&Value) -> String,
) -> Result<T, Failed<'a>> {
    let (rest, value) = parser.parse(Forms(items))?;
    match rest.0.first() {
        None => Ok(value),
        Some(extra) => Err(fail(leftover(extra))),
    }
}

/// Fails for good when the nesting depth passes [`MAX_DEPTH`]. The message
/// leaves the form out: printing it would recurse as deep as it nests.
pub(crate) fn check_depth<'a>(depth: usize, form: &Value) -> Result<(), Failed<'a>> {
    if depth > MAX_DEPTH {
        return Err(fail(format!(
            "forms nested more than {MAX_DEPTH} levels deep (at a {})",
            form.kind_name()
        )));
    }
    Ok(())
}

/// Runs `parser` over `items`; any form it leaves over is "unexpected".
pub(crate) fn parse_rest<'a, T>(
    items: &'a [Value],
    parser: impl Parser<Forms<'a>, Output = T, Error = Expected<'a>>,
) -> Result<T, Failed<'a>> {
    parse_items(items, parser, |extra| format!("unexpected {}", show(extra)))
}

/// Prefixes the message of a committed failure with `context`.
pub(crate) fn in_context<'a, T>(
    context: &str,
    result: Result<T, Failed<'a>>,
) -> Result<T, Failed<'a>> {
    result.map_err(|error| {
        error.map(|mut expected| {
            if let Some(message) = expected.message.take() {
                expected.message = Some(format!("{context}: {message}"));
            }
            expected
        })
    })
}

/// The user-facing error for a failed parse. `what` names what was being
/// parsed, for errors that carry no message of their own.
pub(crate) fn into_parse_error(error: Err<Expected<'_>>, what: &str) -> ParseError {
    match error {
        Err::Error(expected) | Err::Failure(expected) => match expected.message {
            Some(message) => ParseError::new(message),
            None => match expected.at.0.first() {
                Some(form) => ParseError::new(format!("unexpected {} in {what}", show(form))),
                None => ParseError::new(format!("{what} ends too early")),
            },
        },
        Err::Incomplete(_) => ParseError::new(format!("{what} ends too early")),
    }
}

/// The first item that an earlier one equals.
pub(crate) fn first_repeated<T: PartialEq>(items: &[T]) -> Option<&T> {
    items
        .iter()
        .enumerate()
        .find_map(|(i, item)| items[..i].contains(item).then_some(item))
}
