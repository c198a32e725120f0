//! The store's error type: one variant per kind of failure, each naming the
//! entity, attribute and value involved, and each mapped to the category a
//! user or test tells it apart by.

use std::fmt;

use factlite_core::{ErrorCategory, ValueType};
use factlite_edn::Value;

/// Anything that can go wrong in the store.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Transaction data that is not a valid transaction form.
    Parse(String),
    /// An attribute no schema defines.
    UnknownAttribute { attribute: String },
    /// A value that does not fit its attribute's type.
    TypeMismatch {
        entity: String,
        attribute: String,
        value: Box<Value>,
        expected: ValueType,
    },
    /// A tuple that is not of its attribute's shape (arity or an
    /// element's type); `reason` says which.
    TupleMismatch {
        entity: String,
        attribute: String,
        value: Box<Value>,
        reason: String,
    },
    /// `##NaN` as a value in a transaction: refused, because NaN equals
    /// no value, itself included, so no query, lookup or retraction could
    /// ever match it (and SQLite stores it as NULL).
    NotANumber { entity: String, attribute: String },
    /// A uniqueness constraint would be violated.
    UniqueConflict(String),
    /// A lookup ref, ident or id that names no entity.
    UnknownEntity(String),
    /// `:db/cas` found another value.
    CasFailed {
        entity: String,
        attribute: String,
        expected: String,
        found: String,
    },
    /// A schema change that is not allowed.
    Schema(String),
    /// A transaction that breaks a declared constraint: an attribute
    /// predicate or an entity spec (`:db/ensure`).
    Constraint(String),
    /// A query that parses but cannot run.
    Query(String),
    /// A vocabulary that conflicts with what is installed.
    Vocabulary(String),
    /// The database stayed locked by another writer for longer than the busy
    /// timeout.
    Busy { waited_ms: u64 },
    /// A write through a store whose connection is already in a
    /// transaction: an open [`crate::Datoms`] range, or a write in progress
    /// (a migration step or a write hook trying to transact).
    AlreadyInTransaction,
    /// A transaction of a dump that cannot go where it was recorded
    /// ([`crate::Replay`]).
    Replay(String),
    /// The file holds data this version cannot read.
    Corrupt(String),
    /// The file is not a factlite store (nothing was written to it).
    NotFactlite {
        path: std::path::PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// The file was written by a newer factlite (nothing was written to
    /// it).
    NewerFormat {
        path: std::path::PathBuf,
        /// The file's format version.
        format: i64,
        /// The newest format this build reads.
        supported: i64,
    },
    /// The store cannot be opened for writing: `path` (the file, or with
    /// `directory` the directory it is in, where SQLite makes its WAL and
    /// shared-memory files) is read-only.
    NotWritable {
        path: std::path::PathBuf,
        directory: bool,
    },
    /// A write to a store opened with [`crate::Store::open_read_only`].
    ReadOnly,
    /// The statement was interrupted ([`crate::InterruptHandle`]); its
    /// transaction rolled back.
    Interrupted,
    /// A query ran past its time limit ([`crate::QueryLimits::timeout`])
    /// and was stopped; nothing it did was kept.
    Timeout { limit_ms: u64 },
    /// A query gathered more values than its limit allows
    /// ([`crate::QueryLimits::max_values`]) and was stopped.
    Limit {
        limit: usize,
        /// What was being gathered: "the result", "the rows to aggregate",
        /// "the rows a recursive rule derives".
        gathered: &'static str,
    },
    /// A query whose SQL grew SQLite's memory by more than `limit_bytes`
    /// ([`crate::QueryLimits::max_memory`]) and was stopped.
    MemoryLimit { limit_bytes: usize },
    /// A pull that would nest entities deeper than `limit` (a recursion
    /// `...` down a long chain, components within components).
    PullTooDeep { limit: usize },
    /// A replicated log's record does not follow from this store's state
    /// (resolved against another basis, a genesis of another log, a store
    /// with transactions of its own): the follower halts rather than skip
    /// it.
    Divergence(String),
    /// A transaction written through a replicated log was not appended to
    /// it (refused, or its outcome not known in time), and was rolled back.
    Unpublished(String),
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// Work a [`crate::WriteHook`] runs inside the write transaction (a
    /// materialized view's maintenance) failed, and the transaction was
    /// rolled back.
    Hook {
        message: String,
        category: ErrorCategory,
    },
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The category of the error, as the conformance format names them.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::Parse(_) => ErrorCategory::Parse,
            Error::UnknownAttribute { .. } => ErrorCategory::UnknownAttribute,
            Error::TypeMismatch { .. } | Error::TupleMismatch { .. } | Error::NotANumber { .. } => {
                ErrorCategory::TypeMismatch
            }
            Error::UniqueConflict(_) => ErrorCategory::UniqueConflict,
            Error::UnknownEntity(_) => ErrorCategory::UnknownEntity,
            Error::CasFailed { .. } => ErrorCategory::CasFailed,
            Error::Schema(_) | Error::Vocabulary(_) => ErrorCategory::Schema,
            Error::Query(_) => ErrorCategory::Query,
            Error::Constraint(_) => ErrorCategory::Constraint,
            Error::Interrupted => ErrorCategory::Cancelled,
            Error::Timeout { .. } => ErrorCategory::Timeout,
            Error::Limit { .. } | Error::PullTooDeep { .. } | Error::MemoryLimit { .. } => {
                ErrorCategory::Limit
            }
            Error::Busy { .. }
            | Error::AlreadyInTransaction
            | Error::Corrupt(_)
            | Error::Replay(_)
            | Error::NotFactlite { .. }
            | Error::NewerFormat { .. }
            | Error::NotWritable { .. }
            | Error::ReadOnly
            | Error::Divergence(_)
            | Error::Unpublished(_)
            | Error::Sqlite(_) => ErrorCategory::Storage,
            Error::Hook { category, .. } => *category,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse(message) => write!(f, "{message}"),
            Error::UnknownAttribute { attribute } => {
                write!(f, "unknown attribute {attribute}: no schema defines it")
            }
            Error::TypeMismatch { entity, attribute, value, expected } => write!(
                f,
                "value {value} for attribute {attribute} of entity {entity} is a {}, but the attribute holds {expected}",
                value.kind_name()
            ),
            Error::TupleMismatch { entity, attribute, reason, .. } => write!(
                f,
                "the value for attribute {attribute} of entity {entity} is not one of its tuples: {reason}"
            ),
            Error::NotANumber { entity, attribute } => write!(
                f,
                "##NaN for attribute {attribute} of entity {entity} cannot be stored: NaN equals no value, not even itself, so no query, lookup or retraction could find it again; store a number, or leave the attribute out"
            ),
            Error::UniqueConflict(message) => write!(f, "unique conflict: {message}"),
            Error::UnknownEntity(message) => write!(f, "unknown entity: {message}"),
            Error::CasFailed { entity, attribute, expected, found } => write!(
                f,
                "compare-and-swap failed on entity {entity}, attribute {attribute}: expected {expected}, found {found}"
            ),
            Error::Schema(message) => write!(f, "schema change refused: {message}"),
            Error::Query(message) => write!(f, "{message}"),
            Error::Constraint(message) => write!(f, "constraint broken: {message}"),
            Error::Vocabulary(message) => write!(f, "vocabulary refused: {message}"),
            Error::Busy { waited_ms } => write!(
                f,
                "the database is locked by another writer (waited {waited_ms} ms); try again later"
            ),
            Error::AlreadyInTransaction => write!(
                f,
                "this store's connection is already in a transaction (an index range still open, or a write in progress); finish it before writing"
            ),
            Error::Corrupt(message) => write!(f, "the database file is damaged: {message}"),
            Error::NotFactlite { path, reason } => write!(
                f,
                "{} is not a factlite database: {reason}; nothing was written to it",
                path.display()
            ),
            Error::NewerFormat { path, format, supported } => write!(
                f,
                "{} was written by a newer factlite (format {format}; this build reads up to {supported}); nothing was written to it",
                path.display()
            ),
            Error::NotWritable { path, directory: true } => write!(
                f,
                "the directory {} is read-only, and a store opened for writing needs its WAL and shared-memory files beside it",
                path.display()
            ),
            Error::NotWritable { path, directory: false } => write!(
                f,
                "{} is read-only, and a store opened for writing writes it",
                path.display()
            ),
            Error::ReadOnly => write!(
                f,
                "this store was opened read-only: it takes no transactions"
            ),
            Error::Interrupted => write!(f, "interrupted: the statement was cancelled and nothing it did was kept"),
            Error::Replay(message) => write!(f, "{message}"),
            Error::Timeout { limit_ms } => write!(
                f,
                "the query ran past its time limit of {limit_ms} ms and was stopped; nothing it did was kept. Narrow the query, or give it more time"
            ),
            Error::Limit { limit, gathered } => write!(
                f,
                "{gathered} passed the limit of {limit} values and the query was stopped; narrow the query, page it with :limit and :offset, stream it, or raise the limit"
            ),
            Error::MemoryLimit { limit_bytes } => write!(
                f,
                "the query took more than {} MiB of memory and was stopped; nothing it did was kept. Narrow the query (a recursive rule that never ends, a cross product), or raise the limit",
                limit_bytes / (1024 * 1024)
            ),
            Error::PullTooDeep { limit } => write!(
                f,
                "the pull nests entities deeper than {limit} levels (a recursion `...` down a chain that long, or components within components) and was stopped; bound the recursion, as in {{:person/friend 100}}"
            ),
            Error::Divergence(message) => write!(
                f,
                "the replicated log and this store disagree: {message}; the store follows the log no further"
            ),
            Error::Unpublished(message) => write!(
                f,
                "the transaction was not appended to the replicated log: {message}; nothing was committed"
            ),
            Error::Sqlite(error) => write!(f, "SQLite error: {error}"),
            Error::Hook { message, .. } => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Sqlite(error) => Some(error),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Error {
        match &error {
            // SQLite's sum() refuses a total past the 64-bit range: the
            // query's arithmetic, not the storage, failed.
            rusqlite::Error::SqliteFailure(_, Some(message)) if message == "integer overflow" => {
                Error::Query(format!("integer overflow: {message} in an aggregate"))
            }
            // A limit of the query's size, not a storage failure: each data
            // pattern is one table of the join.
            rusqlite::Error::SqliteFailure(_, Some(message))
                if message.starts_with("at most") && message.ends_with("tables in a join") =>
            {
                Error::Query(format!(
                    "the query is too large for SQLite: {message} (each data pattern, \
                     rule call and input collection is one); split it with rules"
                ))
            }
            rusqlite::Error::SqliteFailure(failure, _)
                if failure.code == rusqlite::ErrorCode::OperationInterrupted =>
            {
                Error::Interrupted
            }
            // A lookup ref in a query that names no entity (`sql_functions`).
            rusqlite::Error::SqliteFailure(_, Some(message))
                if message.ends_with(crate::sql_functions::NO_ENTITY) =>
            {
                Error::UnknownEntity(message.clone())
            }
            // A function the program registered failed or panicked.
            rusqlite::Error::SqliteFailure(_, Some(message))
                if message.starts_with(crate::functions::FAILED) =>
            {
                Error::Query(message.clone())
            }
            // A regular expression of a query that does not compile.
            rusqlite::Error::SqliteFailure(_, Some(message))
                if message.contains(crate::sql_functions::NOT_A_PATTERN) =>
            {
                Error::Query(message.clone())
            }
            // A query's own failure (`factlite_fail`).
            rusqlite::Error::SqliteFailure(_, Some(message))
                if message.ends_with(crate::sql_functions::QUERY_FAILED) =>
            {
                Error::Query(message.clone())
            }
            // A value of another type than a function of the query takes
            // (a UUID given to `re-find`): known only as the query runs.
            rusqlite::Error::SqliteFailure(_, Some(message))
                if message.starts_with("Invalid function parameter type") =>
            {
                Error::Query(format!(
                    "a function of the query was given a value of a type it does not take ({message})"
                ))
            }
            // A comparison of values without an order (`sql_functions`).
            rusqlite::Error::SqliteFailure(_, Some(message))
                if message.ends_with(crate::sql_functions::NO_ORDER) =>
            {
                Error::Query(message.clone())
            }
            _ => Error::Sqlite(error),
        }
    }
}

impl From<crate::encode::CorruptValue> for Error {
    fn from(error: crate::encode::CorruptValue) -> Error {
        Error::Corrupt(error.0)
    }
}
