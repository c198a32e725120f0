//! The one error type of this crate: [`ParseError`], a message naming the
//! offending form and what was expected.

use std::fmt;

use factlite_edn::Value;

/// EDN that is not a valid query, rule, pull pattern or transaction form.
///
/// Every such error is a user-facing error of category `:error/parse`. The
/// message names the offending form (printed as EDN) and says what was
/// expected, e.g. `42 is not a clause; expected ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The full, human-readable message.
    pub message: String,
}

/// The result type of this crate's parsers.
pub type Result<T, E = ParseError> = std::result::Result<T, E>;

impl ParseError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// The longest printed form quoted in a message; longer forms are cut.
const MAX_SHOWN_CHARS: usize = 160;

/// A form printed as EDN for an error message, cut short when very long.
pub(crate) fn show(form: &Value) -> String {
    let text = form.to_string();
    if text.chars().count() <= MAX_SHOWN_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_SHOWN_CHARS).collect();
    cut.push_str(" ...");
    cut
}
