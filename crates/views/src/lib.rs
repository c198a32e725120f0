//! Materialized queries: a query's result kept as an ordinary SQLite table
//! and updated from each transaction's delta inside the same SQLite
//! transaction.

use std::fmt;

use factlite_core::ErrorCategory;

/// What can go wrong with a materialized view.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// No view has this name.
    UnknownView(String),
    /// The store failed while maintaining or reading a view.
    Store {
        view: String,
        error: factlite_store::Error,
    },
}

/// The views crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The category of the error.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::UnknownView(_) => ErrorCategory::Query,
            Error::Store { error, .. } => error.category(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownView(name) => write!(f, "no materialized view is named {name:?}"),
            Error::Store { view, error } => write!(f, "view {view:?}: {error}"),
        }
    }
}

impl std::error::Error for Error {}
