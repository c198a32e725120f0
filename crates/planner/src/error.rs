//! The planner's errors: queries that parse but cannot run.

use std::fmt;

use factlite_core::ErrorCategory;

/// Why a query cannot be planned.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The query names an attribute no schema defines.
    UnknownAttribute(String),
    /// The query cannot run: an unbound variable, a missing rule, a wrong
    /// number of inputs, a constant of the wrong type...
    Query(String),
    /// A rule set or pull pattern given as input does not parse.
    Parse(String),
}

/// The planner's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The category of the error.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::UnknownAttribute(_) => ErrorCategory::UnknownAttribute,
            Error::Query(_) => ErrorCategory::Query,
            Error::Parse(_) => ErrorCategory::Parse,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownAttribute(attribute) => {
                write!(f, "unknown attribute {attribute}: no schema defines it")
            }
            Error::Query(message) => write!(f, "query cannot run: {message}"),
            Error::Parse(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for Error {}
