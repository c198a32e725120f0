//! What can go wrong with a materialized view, as a typed error with the
//! categories of the conformance format.

use std::fmt;

use factlite_core::ErrorCategory;

/// What can go wrong with a materialized view.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// No view has this name.
    UnknownView(String),
    /// A view with this name exists already.
    Exists(String),
    /// A view name must be 1 to 100 letters, digits, `_` or `-`.
    InvalidName(String),
    /// The query cannot be kept as a view (and why).
    Unsupported(String),
    /// The view's query or rules do not parse.
    Parse(String),
    /// A view's table holds a value its type column does not describe
    /// (someone wrote to the table by hand).
    Corrupt(String),
    /// The store failed.
    Store(factlite_store::Error),
    /// Maintaining or building a view failed; the transaction is rolled
    /// back.
    Maintenance { view: String, error: Box<Error> },
}

/// The views crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The category of the error.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::UnknownView(_)
            | Error::Exists(_)
            | Error::InvalidName(_)
            | Error::Unsupported(_)
            | Error::Corrupt(_) => ErrorCategory::Query,
            Error::Parse(_) => ErrorCategory::Parse,
            Error::Store(error) => error.category(),
            Error::Maintenance { error, .. } => error.category(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownView(name) => write!(f, "no materialized view is named {name:?}"),
            Error::Exists(name) => write!(f, "a materialized view named {name:?} exists already"),
            Error::InvalidName(name) => write!(
                f,
                "{name:?} is not a view name: use 1 to 100 letters, digits, '_' or '-'"
            ),
            Error::Unsupported(what) => write!(f, "cannot materialize this query: {what}"),
            Error::Parse(message) => write!(f, "{message}"),
            Error::Corrupt(message) => write!(f, "a view's table was changed by hand: {message}"),
            Error::Store(error) => write!(f, "{error}"),
            Error::Maintenance { view, error } => {
                write!(f, "maintaining materialized view {view:?} failed: {error}")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<factlite_store::Error> for Error {
    fn from(error: factlite_store::Error) -> Error {
        Error::Store(error)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Error {
        Error::Store(error.into())
    }
}
