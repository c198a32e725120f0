//! The command line's error: what the store said (with its category), a
//! dot command used wrongly, a file that cannot be read or written, an
//! import row that cannot become transaction data, or a statement cancelled
//! with Ctrl-C. [`Located`] adds where in a script or file it happened.

use std::fmt;
use std::path::PathBuf;

/// Anything a statement can fail with.
#[derive(Debug)]
pub enum CliError {
    /// The store rejected a query, a transaction, a pull...
    Factlite(factlite::Error),
    /// A dot command that does not exist or got the wrong arguments.
    Usage(String),
    /// EDN that is neither a query nor transaction data.
    NotAStatement(String),
    /// A file that cannot be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        error: std::io::Error,
    },
    /// A line or record of an imported file that cannot become transaction
    /// data.
    Import {
        /// The file.
        path: PathBuf,
        /// Where in it (a line, a record, a form).
        place: String,
        /// What is wrong.
        message: String,
    },
    /// The statement was cancelled with Ctrl-C.
    Interrupted,
    /// A statement of a script run with `.read` failed.
    Script(Box<Located>),
}

/// The command line's result type.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

impl CliError {
    /// The category keyword shown before the message (`:error/parse`, ...).
    pub fn category(&self) -> &'static str {
        match self {
            CliError::Factlite(error) => error.category().keyword(),
            CliError::Usage(_) => ":error/usage",
            CliError::NotAStatement(_) => factlite::ErrorCategory::Parse.keyword(),
            CliError::Io { .. } => ":error/io",
            CliError::Import { .. } => ":error/import",
            CliError::Interrupted => ":error/interrupted",
            CliError::Script(located) => located.error.category(),
        }
    }

    /// The line and column inside the statement, when the reader found the
    /// problem at a known place.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            CliError::Factlite(factlite::Error::Edn(error)) => Some((error.line, error.column)),
            _ => None,
        }
    }

    /// The message without the reader's own position (which [`Located`]
    /// prints, counted from the start of the script).
    fn message(&self) -> String {
        match self {
            CliError::Factlite(factlite::Error::Edn(error)) => {
                format!("not valid EDN: {}", error.message)
            }
            CliError::Factlite(error) => error.to_string(),
            CliError::Usage(message) | CliError::NotAStatement(message) => message.clone(),
            CliError::Io { path, error } => format!("{}: {error}", path.display()),
            CliError::Import {
                path,
                place,
                message,
            } => format!("{} {place}: {message}", path.display()),
            CliError::Interrupted => "interrupted (Ctrl-C); nothing was changed".to_string(),
            CliError::Script(located) => located.to_string(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let CliError::Script(located) = self {
            return write!(f, "{located}");
        }
        match self.position() {
            Some((line, column)) => write!(
                f,
                "{} line {line}, column {column}: {}",
                self.category(),
                self.message()
            ),
            None => write!(f, "{} {}", self.category(), self.message()),
        }
    }
}

impl std::error::Error for CliError {}

impl From<factlite::Error> for CliError {
    fn from(error: factlite::Error) -> CliError {
        CliError::Factlite(error)
    }
}

impl From<factlite::edn::ParseError> for CliError {
    fn from(error: factlite::edn::ParseError) -> CliError {
        CliError::Factlite(factlite::Error::from(error))
    }
}

/// An error with the script it came from (`-e`, `stdin`, a file name) and
/// the line its statement starts on; the reader's position, when it has
/// one, is counted from the start of the script.
#[derive(Debug)]
pub struct Located {
    /// Where the statement came from.
    pub source: String,
    /// The statement's first line in it (1-based).
    pub line: usize,
    /// The error.
    pub error: CliError,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let CliError::Script(inner) = &self.error {
            return write!(f, "{}:{}: {inner}", self.source, self.line);
        }
        let (line, column) = match self.error.position() {
            Some((line, column)) => (self.line + line - 1, Some(column)),
            None => (self.line, None),
        };
        match column {
            Some(column) => write!(f, "{}:{line}:{column}: ", self.source)?,
            None => write!(f, "{}:{line}: ", self.source)?,
        }
        write!(f, "{} {}", self.error.category(), self.error.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_positions_count_from_the_start_of_the_script() {
        let error = CliError::from(factlite::edn::parse("[1\n 2 #{3 3}]").expect_err("duplicate"));
        assert_eq!(error.position(), Some((2, 8)));
        let located = Located {
            source: "stdin".to_string(),
            line: 5,
            error,
        };
        assert_eq!(
            located.to_string(),
            "stdin:6:8: :error/parse not valid EDN: duplicate element 3 in set"
        );
    }
}
