//! The façade's error: every lower crate's error, with its category and a
//! message naming what went wrong.

use std::fmt;

use factlite_core::ErrorCategory;

/// Any error factlite returns.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Text that is not EDN.
    Edn(factlite_edn::ParseError),
    /// EDN that is not a valid query, rule, pull pattern or transaction.
    Syntax(factlite_query::ParseError),
    /// A query that parses but cannot run.
    Plan(factlite_planner::Error),
    /// Anything the store reports: transactions, schema, storage.
    Store(factlite_store::Error),
    /// Materialized-view failures.
    View(factlite_views::Error),
    /// A Rust value that does not convert to a value, or a value that does
    /// not convert to the Rust type asked for.
    Conversion(crate::ConversionError),
}

/// The façade's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The category tests and programs tell errors apart by.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::Edn(_) | Error::Syntax(_) => ErrorCategory::Parse,
            Error::Plan(error) => error.category(),
            Error::Store(error) => error.category(),
            Error::View(error) => error.category(),
            Error::Conversion(_) => ErrorCategory::TypeMismatch,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Edn(error) => write!(f, "not valid EDN: {error}"),
            Error::Syntax(error) => write!(f, "{error}"),
            Error::Plan(error) => write!(f, "{error}"),
            Error::Store(error) => write!(f, "{error}"),
            Error::View(error) => write!(f, "{error}"),
            Error::Conversion(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<factlite_edn::ParseError> for Error {
    fn from(error: factlite_edn::ParseError) -> Error {
        Error::Edn(error)
    }
}

impl From<factlite_query::ParseError> for Error {
    fn from(error: factlite_query::ParseError) -> Error {
        Error::Syntax(error)
    }
}

impl From<factlite_planner::Error> for Error {
    fn from(error: factlite_planner::Error) -> Error {
        Error::Plan(error)
    }
}

impl From<factlite_store::Error> for Error {
    fn from(error: factlite_store::Error) -> Error {
        Error::Store(error)
    }
}

impl From<factlite_views::Error> for Error {
    fn from(error: factlite_views::Error) -> Error {
        Error::View(error)
    }
}

impl From<crate::ConversionError> for Error {
    fn from(error: crate::ConversionError) -> Error {
        Error::Conversion(error)
    }
}
