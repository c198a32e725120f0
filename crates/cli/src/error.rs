//! The command line's error: what the store said (with its category), a
//! dot command used wrongly, a file that cannot be read or written, an
//! import row that cannot become transaction data, or a statement cancelled
//! with Ctrl-C, a query input without a value, a transaction that does
//! not exist. [`Located`] adds where in a script or file it happened, and
//! what the script committed before it. Each prints as text and as JSON.

use std::fmt;
use std::path::PathBuf;

use crate::input::InputError;
use crate::words::counted;

/// How deep `.read` may nest scripts: a script that reads itself stops
/// with [`CliError::ReadTooDeep`] at this depth.
pub const MAX_READ_DEPTH: usize = 16;

/// Anything a statement can fail with.
#[derive(Debug)]
pub enum CliError {
    /// The store rejected a query, a transaction, a pull...
    Factlite(factlite::Error),
    /// A replicated node (`--replicate`) failed: the log, its servers, or
    /// the node's store.
    Replica(factlite_replica::Error),
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
    /// A query input (`:in ?x`) that `.param` gave no value.
    MissingInput(String),
    /// A transaction `.as-of` or `.since` names that is not in the log.
    NoSuchTransaction(String),
    /// A script that could not be read as statements: not text, or a
    /// statement that never ends.
    Input(crate::input::InputError),
    /// `.read` of a script from scripts already nested this deep.
    ReadTooDeep {
        /// The script that was to be read.
        path: PathBuf,
    },
    /// An error with a hint after its message ("did you mean ...").
    Hinted {
        /// The error.
        error: Box<CliError>,
        /// The hint, starting with a space: ` (did you mean ...?)`.
        hint: String,
    },
}

/// An error as the session prints it ([`crate::session::Session::print_error`]):
/// one of a statement, or one located in a script. Its `Display` is the
/// text.
pub trait ErrorReport: fmt::Display {
    /// The error as a JSON object.
    fn json(&self) -> serde_json::Value;
    /// Whether it is a statement cancelled with Ctrl-C.
    fn interrupted(&self) -> bool;
}

impl ErrorReport for CliError {
    fn json(&self) -> serde_json::Value {
        self.to_json()
    }

    fn interrupted(&self) -> bool {
        matches!(self, CliError::Interrupted)
    }
}

impl ErrorReport for Located {
    fn json(&self) -> serde_json::Value {
        self.to_json()
    }

    fn interrupted(&self) -> bool {
        self.error.interrupted()
    }
}

/// The command line's result type.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

impl CliError {
    /// The category keyword shown before the message (`:error/parse`, ...).
    pub fn category(&self) -> &'static str {
        match self {
            CliError::Factlite(error) => error.category().keyword(),
            CliError::Replica(_) => ":error/replication",
            CliError::Usage(_) => ":error/usage",
            CliError::NotAStatement(_) => factlite::ErrorCategory::Parse.keyword(),
            CliError::Io { .. } => ":error/io",
            CliError::Import { .. } => ":error/import",
            CliError::Interrupted => ":error/interrupted",
            CliError::Script(located) => located.error.category(),
            CliError::MissingInput(_) => factlite::ErrorCategory::Query.keyword(),
            CliError::NoSuchTransaction(_) => factlite::ErrorCategory::UnknownEntity.keyword(),
            CliError::Input(InputError::Io(_)) => ":error/io",
            CliError::Input(InputError::NotText { .. }) => factlite::ErrorCategory::Parse.keyword(),
            CliError::Input(InputError::TooLong { .. }) | CliError::ReadTooDeep { .. } => {
                factlite::ErrorCategory::Limit.keyword()
            }
            CliError::Hinted { error, .. } => error.category(),
        }
    }

    /// The line and column inside the statement, when the reader found the
    /// problem at a known place.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            CliError::Factlite(factlite::Error::Edn(error)) => Some((error.line, error.column)),
            CliError::Hinted { error, .. } => error.position(),
            _ => None,
        }
    }

    /// The message without the reader's own position (which [`Located`]
    /// prints, counted from the start of the script).
    pub fn message(&self) -> String {
        match self {
            CliError::Factlite(factlite::Error::Edn(error)) => {
                format!("not valid EDN: {}", error.message)
            }
            CliError::Factlite(error) => error.to_string(),
            CliError::Replica(error) => error.to_string(),
            CliError::Usage(message) | CliError::NotAStatement(message) => message.clone(),
            CliError::Io { path, error } => format!("{}: {error}", path.display()),
            CliError::Import {
                path,
                place,
                message,
            } => format!("{} {place}: {message}", path.display()),
            CliError::Interrupted => "interrupted (Ctrl-C); nothing was changed".to_string(),
            CliError::Script(located) => located.to_string(),
            CliError::MissingInput(name) => format!(
                "the query's input {name} has no value: give it one with `.param {name} VALUE` (with -e: `--param '{name}=VALUE'`)"
            ),
            CliError::NoSuchTransaction(message) => message.clone(),
            CliError::Input(error) => error.to_string(),
            CliError::ReadTooDeep { path } => format!(
                ".read {} would nest scripts more than {MAX_READ_DEPTH} deep: does a script read itself, or scripts read each other in a circle?",
                path.display()
            ),
            CliError::Hinted { error, hint } => format!("{}{hint}", error.message()),
        }
    }

    /// The error as a JSON object: its category, message and, when known,
    /// line and column.
    pub fn to_json(&self) -> serde_json::Value {
        if let CliError::Script(located) = self {
            return located.to_json();
        }
        let mut json = serde_json::json!({
            "category": self.category(),
            "message": self.message(),
        });
        if let Some((line, column)) = self.position() {
            json["line"] = line.into();
            json["column"] = column.into();
        }
        json
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

impl From<factlite_replica::Error> for CliError {
    /// The node's store's own errors arrive as the store's, as without
    /// replication.
    fn from(error: factlite_replica::Error) -> CliError {
        match error {
            factlite_replica::Error::Store(error) => CliError::Factlite(error),
            other => CliError::Replica(other),
        }
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
    /// What the script did before it, when it stops there (`.bail on`)
    /// after other statements ran.
    pub before: Option<Before>,
}

/// What a script did before the statement it stopped at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Before {
    /// The statements that ran before it.
    pub statements: usize,
    /// The transactions they committed, oldest first: they stay.
    pub committed: Vec<factlite::Entid>,
}

impl fmt::Display for Before {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ran = counted(self.statements, "statement");
        let ids: Vec<String> = self.committed.iter().map(i64::to_string).collect();
        match ids.as_slice() {
            [] => write!(f, "{ran} ran before it; nothing was committed"),
            [one] => write!(f, "{ran} ran before it; transaction {one} is committed"),
            [first, .., last] if ids.len() > 3 => write!(
                f,
                "{ran} ran before it; {} are committed ({first} to {last})",
                counted(ids.len(), "transaction")
            ),
            several => write!(
                f,
                "{ran} ran before it; transactions {} are committed",
                several.join(", ")
            ),
        }
    }
}

impl Located {
    /// Where the error is, in the script: its line and, when the reader
    /// found it, its column.
    fn place(&self) -> (usize, Option<usize>) {
        match self.error.position() {
            Some((line, column)) if !matches!(self.error, CliError::Script(_)) => {
                (self.line + line - 1, Some(column))
            }
            _ => (self.line, None),
        }
    }

    /// The error as a JSON object: the error's own fields, with the script,
    /// line and column, and what was committed before it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = self.error.to_json();
        let (line, column) = self.place();
        json["source"] = self.source.clone().into();
        json["line"] = line.into();
        if let Some(column) = column {
            json["column"] = column.into();
        }
        if let Some(before) = &self.before {
            json["statements_before"] = before.statements.into();
            json["committed"] = before.committed.clone().into();
        }
        json
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.place() {
            (line, Some(column)) => write!(f, "{}:{line}:{column}: ", self.source)?,
            (line, None) => write!(f, "{}:{line}: ", self.source)?,
        }
        match &self.error {
            CliError::Script(inner) => write!(f, "{inner}")?,
            error => write!(f, "{} {}", error.category(), error.message())?,
        }
        match &self.before {
            Some(before) => write!(f, "\n  {}: {before}", self.source),
            None => Ok(()),
        }
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
            before: None,
        };
        assert_eq!(
            located.to_string(),
            "stdin:6:8: :error/parse not valid EDN: duplicate element 3 in set"
        );
    }
}
