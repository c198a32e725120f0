//! [`ParseError`]: the reader's one error type, a message with the line and
//! column where the problem was found.

use std::fmt;

/// A reading error: 1-based `line` and `column` (counted in characters) of
/// the offending input, and a message saying what was expected or what is
/// wrong, such as `duplicate key :a in map`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong, naming the offending thing.
    pub message: String,
}

impl ParseError {
    /// An error at byte `offset` of `input`.
    pub(crate) fn at_offset(input: &str, offset: usize, message: String) -> ParseError {
        let (line, column) = ParseError::position(input, offset);
        ParseError {
            line,
            column,
            message,
        }
    }

    /// The 1-based line and character column of byte `offset` in `input`.
    pub(crate) fn position(input: &str, offset: usize) -> (usize, usize) {
        let before = &input[..offset];
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        (line, before[line_start..].chars().count() + 1)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// The crate's result type.
pub type Result<T, E = ParseError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let input = "ab\nçé x\n";
        assert_eq!(ParseError::position(input, 0), (1, 1));
        assert_eq!(ParseError::position(input, 2), (1, 3));
        assert_eq!(ParseError::position(input, 3), (2, 1));
        assert_eq!(
            ParseError::position(input, input.find('x').unwrap()),
            (2, 4)
        );
        assert_eq!(ParseError::position(input, input.len()), (3, 1));
    }

    #[test]
    fn displays_position_then_message() {
        let error = ParseError {
            line: 3,
            column: 7,
            message: "expected ']'".into(),
        };
        assert_eq!(error.to_string(), "line 3, column 7: expected ']'");
    }
}
