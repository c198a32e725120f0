//! The façade's error: one flat enum whose variants say what went wrong,
//! whichever crate found it. A transaction's type mismatch is
//! [`Error::TypeMismatch`] on every store, with views or without; the lower
//! crates' errors are taken apart here and never reach a caller wrapped.

use std::fmt;

use factlite_core::{ErrorCategory, ValueType};
use factlite_edn::Value;

/// Text that is not EDN, with the line and column where reading stopped.
pub use factlite_edn::ParseError as EdnError;

/// Any error factlite returns. Match on the variants to tell what happened,
/// or on [`Error::category`] for the kinds the conformance format names;
/// the `Display` text is for people and says what to do.
///
/// ```
/// use factlite::{Error, Store};
///
/// let store = Store::open_in_memory()?;
/// store.transact(r#"[{:db/ident :person/age :db/valueType :db.type/long
///                     :db/cardinality :db.cardinality/one}]"#)?;
/// match store.transact(r#"[{:person/age "forty"}]"#) {
///     Err(Error::TypeMismatch { attribute, expected, .. }) => {
///         assert_eq!((attribute.as_str(), expected), (":person/age", factlite::ValueType::Long));
///     }
///     other => panic!("expected a type mismatch, got {other:?}"),
/// }
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Text that is not EDN.
    Edn(EdnError),
    /// EDN that is not a valid query, rule, rule set, pull pattern or
    /// transaction form.
    Syntax {
        /// What is wrong, naming the offending form.
        message: String,
    },
    /// An attribute no schema defines, in a query or a transaction.
    UnknownAttribute {
        /// The attribute, as written (`:person/nme`).
        attribute: String,
    },
    /// A value that does not fit its attribute's type.
    TypeMismatch {
        /// The entity the value was for (its id, tempid or lookup ref).
        entity: String,
        /// The attribute.
        attribute: String,
        /// The value given.
        value: Box<Value>,
        /// The type the attribute holds.
        expected: ValueType,
    },
    /// A tuple that is not one of its attribute's tuples: too few or too
    /// many elements, or an element of the wrong type (`:error/type-mismatch`).
    TupleMismatch {
        /// The entity the value was for (its id, tempid or lookup ref).
        entity: String,
        /// The attribute.
        attribute: String,
        /// The value given.
        value: Box<Value>,
        /// What is wrong with it, as a sentence.
        reason: String,
    },
    /// `##NaN` (or `f64::NAN`) as a value in a transaction, refused as an
    /// `:error/type-mismatch`: NaN equals no value, not even itself, so no
    /// query, lookup ref or retraction could ever find the datom again (and
    /// SQLite would store it as NULL). Store a number, or leave the
    /// attribute out.
    NotANumber {
        /// The entity the value was for (its id, tempid or lookup ref).
        entity: String,
        /// The attribute.
        attribute: String,
    },
    /// Two entities would hold the same unique value, or two tempids upsert
    /// to different entities.
    UniqueConflict {
        /// The attribute, value and entities involved.
        message: String,
    },
    /// A lookup ref, ident or entity id that names no entity.
    UnknownEntity {
        /// What was looked up.
        message: String,
    },
    /// `:db/cas` found another value than the one expected.
    CasFailed {
        /// The entity.
        entity: String,
        /// The attribute.
        attribute: String,
        /// The value the transaction expected.
        expected: String,
        /// The value the store holds.
        found: String,
    },
    /// A schema change that is not allowed (changing the type of an
    /// attribute in use, a unique attribute over duplicate values...), or a
    /// vocabulary that conflicts with the installed one.
    Schema {
        /// What was refused and why.
        message: String,
    },
    /// A transaction that breaks a declared constraint: a value that fails
    /// its attribute's predicate (`:db.attr/preds`), or an entity that does
    /// not meet the spec `:db/ensure` names.
    Constraint {
        /// Which constraint, for which entity and value.
        message: String,
    },
    /// A query that parses but cannot run: an unbound variable, a missing
    /// rule, a wrong number of inputs, a constant of the wrong type...
    Query {
        /// What is wrong.
        message: String,
    },
    /// No materialized view has this name.
    UnknownView {
        /// The name asked for.
        name: String,
    },
    /// A materialized view with this name exists already.
    ViewExists {
        /// The name.
        name: String,
    },
    /// A view name that is not 1 to 100 letters, digits, `_` or `-`.
    InvalidViewName {
        /// The name given.
        name: String,
    },
    /// A query that cannot be kept as a materialized view.
    NotMaterializable {
        /// Why not.
        reason: String,
    },
    /// Maintaining or building a materialized view failed; the transaction
    /// that caused it was rolled back.
    ViewMaintenance {
        /// The view.
        view: String,
        /// What failed.
        error: Box<Error>,
    },
    /// A Rust value that does not convert to a value, or a value that does
    /// not convert to the Rust type asked for.
    Conversion(crate::ConversionError),
    /// A value given to the API — transaction data, a query or its inputs,
    /// a pull pattern, rules, a view's definition — whose collections nest
    /// deeper than the EDN reader allows ([`crate::edn::MAX_DEPTH`]); it
    /// was refused before anything walked it.
    TooDeep {
        /// What the value was ("the transaction data", "a query input").
        what: &'static str,
        /// The deepest nesting allowed.
        limit: usize,
    },
    /// The work was cancelled ([`crate::CancelHandle`]); nothing it did was
    /// kept.
    Cancelled,
    /// A query ran past its time limit ([`crate::Config::query_timeout`],
    /// [`crate::Db::with_timeout`] or its own `:timeout`) and was stopped;
    /// the store is usable.
    Timeout {
        /// The limit, in milliseconds.
        limit_ms: u64,
    },
    /// A query gathered more values than [`crate::Config::result_limit`]
    /// (or [`crate::Db::with_result_limit`]) allows and was stopped; the
    /// store is usable.
    Limit {
        /// The limit, in values.
        limit: usize,
        /// What was being gathered: the result, the rows to aggregate, or
        /// the rows a recursive rule derives.
        gathered: &'static str,
    },
    /// A query grew SQLite's memory by more than
    /// [`crate::Config::memory_limit`] (or [`crate::Db::with_memory_limit`])
    /// and was stopped; the store is usable.
    MemoryLimit {
        /// The limit, in bytes.
        limit_bytes: usize,
    },
    /// A pull would nest entities deeper than `limit` (a recursion `...`
    /// down a long chain, components within components).
    PullTooDeep {
        /// The deepest nesting of entities allowed.
        limit: usize,
    },
    /// Another connection or process held the write lock for longer than
    /// the busy timeout ([`crate::Config::busy_timeout`]).
    Busy {
        /// How long the store waited.
        waited_ms: u64,
    },
    /// A write while this connection is already in a transaction: an open
    /// [`crate::Datoms`] range, or a migration step that tries to transact.
    AlreadyInTransaction,
    /// A transaction of a dump that cannot go where it was recorded
    /// ([`crate::Store::replay`]): its entity ids are taken, or its instant
    /// is before the store's newest.
    Replay {
        /// What is in the way.
        message: String,
    },
    /// The file holds data this version cannot read, or a view's table was
    /// changed by hand.
    Corrupt {
        /// What is damaged.
        message: String,
    },
    /// A replicated log's record does not follow from the store's state
    /// (resolved against another basis, the genesis of another log, a
    /// store with transactions of its own): the node follows the log no
    /// further.
    Divergence {
        /// How the log and the store disagree.
        message: String,
    },
    /// A transaction written through a replicated log was not appended to
    /// it, and nothing was committed.
    Unpublished {
        /// Why not.
        message: String,
    },
    /// The file is not a factlite database: not SQLite at all, or a SQLite
    /// database of another program. Nothing was written to it.
    NotFactlite {
        /// The file.
        path: std::path::PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// The file was written by a newer factlite, whose format this build
    /// cannot read. Nothing was written to it.
    NewerFormat {
        /// The file.
        path: std::path::PathBuf,
        /// The file's format version.
        format: i64,
        /// The newest format this build reads.
        supported: i64,
    },
    /// The store cannot be opened for writing: the file, or the directory
    /// SQLite makes its WAL and shared-memory files in, is read-only.
    /// [`crate::Store::open_read_only`] reads it.
    NotWritable {
        /// The read-only file or directory.
        path: std::path::PathBuf,
        /// Whether `path` is the directory.
        directory: bool,
    },
    /// A write to a store opened with [`crate::Store::open_read_only`].
    ReadOnly,
    /// SQLite failed (an I/O error, a full disk...).
    Sqlite(rusqlite::Error),
}

/// The façade's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The category tests and programs tell errors apart by.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::Edn(_) | Error::Syntax { .. } => ErrorCategory::Parse,
            Error::UnknownAttribute { .. } => ErrorCategory::UnknownAttribute,
            Error::TypeMismatch { .. }
            | Error::TupleMismatch { .. }
            | Error::NotANumber { .. }
            | Error::Conversion(_) => ErrorCategory::TypeMismatch,
            Error::UniqueConflict { .. } => ErrorCategory::UniqueConflict,
            Error::UnknownEntity { .. } => ErrorCategory::UnknownEntity,
            Error::CasFailed { .. } => ErrorCategory::CasFailed,
            Error::Schema { .. } => ErrorCategory::Schema,
            Error::Constraint { .. } => ErrorCategory::Constraint,
            Error::Query { .. }
            | Error::UnknownView { .. }
            | Error::ViewExists { .. }
            | Error::InvalidViewName { .. }
            | Error::NotMaterializable { .. } => ErrorCategory::Query,
            Error::ViewMaintenance { error, .. } => error.category(),
            Error::Cancelled => ErrorCategory::Cancelled,
            Error::Timeout { .. } => ErrorCategory::Timeout,
            Error::Limit { .. }
            | Error::TooDeep { .. }
            | Error::MemoryLimit { .. }
            | Error::PullTooDeep { .. } => ErrorCategory::Limit,
            Error::Busy { .. }
            | Error::AlreadyInTransaction
            | Error::Replay { .. }
            | Error::Corrupt { .. }
            | Error::Divergence { .. }
            | Error::Unpublished { .. }
            | Error::NotFactlite { .. }
            | Error::NewerFormat { .. }
            | Error::NotWritable { .. }
            | Error::ReadOnly
            | Error::Sqlite(_) => ErrorCategory::Storage,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Edn(error) => write!(f, "not valid EDN: {error}"),
            Error::Syntax { message } | Error::Query { message } => f.write_str(message),
            Error::UnknownAttribute { attribute } => {
                write!(f, "unknown attribute {attribute}: no schema defines it")
            }
            Error::TypeMismatch {
                entity,
                attribute,
                value,
                expected,
            } => write!(
                f,
                "value {value} for attribute {attribute} of entity {entity} is a {}, but the \
                 attribute holds {expected}",
                value.kind_name()
            ),
            Error::TupleMismatch {
                entity,
                attribute,
                reason,
                ..
            } => write!(
                f,
                "the value for attribute {attribute} of entity {entity} is not one of its \
                 tuples: {reason}"
            ),
            Error::NotANumber { entity, attribute } => write!(
                f,
                "##NaN for attribute {attribute} of entity {entity} cannot be stored: NaN \
                 equals no value, not even itself, so no query, lookup or retraction could \
                 find it again; store a number, or leave the attribute out"
            ),
            Error::UniqueConflict { message } => write!(f, "unique conflict: {message}"),
            Error::UnknownEntity { message } => write!(f, "unknown entity: {message}"),
            Error::CasFailed {
                entity,
                attribute,
                expected,
                found,
            } => write!(
                f,
                "compare-and-swap failed on entity {entity}, attribute {attribute}: expected \
                 {expected}, found {found}; read the current value and try again"
            ),
            Error::Schema { message } => f.write_str(message),
            Error::Constraint { message } => write!(f, "constraint broken: {message}"),
            Error::UnknownView { name } => write!(
                f,
                "no materialized view is named {name:?}; Store::views lists the views there are"
            ),
            Error::ViewExists { name } => write!(
                f,
                "a materialized view named {name:?} exists already; drop it first or choose \
                 another name"
            ),
            Error::InvalidViewName { name } => write!(
                f,
                "{name:?} is not a view name: use 1 to 100 letters, digits, '_' or '-'"
            ),
            Error::NotMaterializable { reason } => {
                write!(f, "cannot materialize this query: {reason}")
            }
            Error::ViewMaintenance { view, error } => write!(
                f,
                "maintaining materialized view {view:?} failed, so the transaction was rolled \
                 back: {error}"
            ),
            Error::Conversion(error) => write!(f, "{error}"),
            Error::Cancelled => {
                f.write_str("cancelled: the work was stopped and nothing it did was kept")
            }
            Error::Timeout { limit_ms } => write!(
                f,
                "the query ran past its time limit of {limit_ms} ms and was stopped; narrow \
                 it, or give it more time (:timeout, Db::with_timeout, Config::query_timeout)"
            ),
            Error::Limit { limit, gathered } => write!(
                f,
                "{gathered} passed the limit of {limit} values and the query was stopped; \
                 narrow it, page it with :limit and :offset, stream it with Db::q_rows, or \
                 raise Config::result_limit"
            ),
            Error::MemoryLimit { limit_bytes } => write!(
                f,
                "the query took more than {} MiB of memory and was stopped; narrow it (a \
                 recursive rule that never ends, a cross product), or raise \
                 Config::memory_limit (Db::with_memory_limit)",
                limit_bytes / (1024 * 1024)
            ),
            Error::PullTooDeep { limit } => write!(
                f,
                "the pull nests entities deeper than {limit} levels (a recursion `...` down a \
                 chain that long, or components within components) and was stopped; bound \
                 the recursion, as in {{:person/friend 100}}"
            ),
            Error::TooDeep { what, limit } => write!(
                f,
                "{what} nests collections more than {limit} levels deep, the most the EDN \
                 reader reads; flatten it"
            ),
            Error::Busy { waited_ms } => write!(
                f,
                "the database is locked by another writer (waited {waited_ms} ms); try again \
                 later, or raise Config::busy_timeout"
            ),
            Error::AlreadyInTransaction => f.write_str(
                "this store's connection is already in a transaction (an index range still \
                 open, or a write in progress); finish it before writing",
            ),
            Error::Replay { message } => f.write_str(message),
            Error::Corrupt { message } => write!(f, "the database is damaged: {message}"),
            Error::Divergence { message } => write!(
                f,
                "the replicated log and this store disagree: {message}; the store follows the log no further"
            ),
            Error::Unpublished { message } => write!(
                f,
                "the transaction was not appended to the replicated log: {message}; nothing was committed"
            ),
            Error::NotFactlite { path, reason } => write!(
                f,
                "{} is not a factlite database: {reason}; nothing was written to it. Open a \
                 factlite database, or a new file",
                path.display()
            ),
            Error::NewerFormat {
                path,
                format,
                supported,
            } => write!(
                f,
                "{} was written by a newer factlite (format {format}; this build reads up to \
                 {supported}); open it with a newer factlite. Nothing was written to it",
                path.display()
            ),
            Error::NotWritable {
                path,
                directory: true,
            } => write!(
                f,
                "the directory {} is read-only, and a store opened for writing needs its WAL \
                 and shared-memory files beside it; make the directory writable, or open the \
                 store read-only (Store::open_read_only, factlite --read-only)",
                path.display()
            ),
            Error::NotWritable {
                path,
                directory: false,
            } => write!(
                f,
                "{} is read-only; make it writable, or open the store read-only \
                 (Store::open_read_only, factlite --read-only)",
                path.display()
            ),
            Error::ReadOnly => f.write_str(
                "this store was opened read-only: it takes no transactions; open it with \
                 Store::open to write",
            ),
            Error::Sqlite(error) => write!(f, "SQLite error: {error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Edn(error) => Some(error),
            Error::Conversion(error) => Some(error),
            Error::Sqlite(error) => Some(error),
            Error::ViewMaintenance { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }
}

impl From<factlite_edn::ParseError> for Error {
    fn from(error: factlite_edn::ParseError) -> Error {
        Error::Edn(error)
    }
}

impl From<factlite_query::ParseError> for Error {
    fn from(error: factlite_query::ParseError) -> Error {
        Error::Syntax {
            message: error.message,
        }
    }
}

impl From<factlite_planner::Error> for Error {
    fn from(error: factlite_planner::Error) -> Error {
        use factlite_planner::Error as Plan;
        match error {
            Plan::UnknownAttribute(attribute) => Error::UnknownAttribute { attribute },
            Plan::Parse(message) => Error::Syntax { message },
            other => Error::Query {
                message: other.to_string(),
            },
        }
    }
}

impl From<factlite_store::Error> for Error {
    fn from(error: factlite_store::Error) -> Error {
        use factlite_store::Error as Store;
        match error {
            Store::Parse(message) => Error::Syntax { message },
            Store::UnknownAttribute { attribute } => Error::UnknownAttribute { attribute },
            Store::TypeMismatch {
                entity,
                attribute,
                value,
                expected,
            } => Error::TypeMismatch {
                entity,
                attribute,
                value,
                expected,
            },
            Store::TupleMismatch {
                entity,
                attribute,
                value,
                reason,
            } => Error::TupleMismatch {
                entity,
                attribute,
                value,
                reason,
            },
            Store::NotANumber { entity, attribute } => Error::NotANumber { entity, attribute },
            Store::UniqueConflict(message) => Error::UniqueConflict { message },
            Store::UnknownEntity(message) => Error::UnknownEntity { message },
            Store::CasFailed {
                entity,
                attribute,
                expected,
                found,
            } => Error::CasFailed {
                entity,
                attribute,
                expected,
                found,
            },
            refused @ (Store::Schema(_) | Store::Vocabulary(_)) => Error::Schema {
                message: refused.to_string(),
            },
            Store::Query(message) => Error::Query { message },
            Store::Constraint(message) => Error::Constraint { message },
            Store::Interrupted => Error::Cancelled,
            Store::Timeout { limit_ms } => Error::Timeout { limit_ms },
            Store::Limit { limit, gathered } => Error::Limit { limit, gathered },
            Store::MemoryLimit { limit_bytes } => Error::MemoryLimit { limit_bytes },
            Store::PullTooDeep { limit } => Error::PullTooDeep { limit },
            Store::Busy { waited_ms } => Error::Busy { waited_ms },
            Store::AlreadyInTransaction => Error::AlreadyInTransaction,
            Store::Replay(message) => Error::Replay { message },
            Store::Corrupt(message) => Error::Corrupt { message },
            Store::Divergence(message) => Error::Divergence { message },
            Store::Unpublished(message) => Error::Unpublished { message },
            Store::NotFactlite { path, reason } => Error::NotFactlite { path, reason },
            Store::NewerFormat {
                path,
                format,
                supported,
            } => Error::NewerFormat {
                path,
                format,
                supported,
            },
            Store::NotWritable { path, directory } => Error::NotWritable { path, directory },
            Store::ReadOnly => Error::ReadOnly,
            Store::Sqlite(error) => Error::Sqlite(error),
            // The views crate keeps its own failure and returns it in place
            // of this one; a hook error reaches here only from a hook that
            // reports no view.
            Store::Hook { message, category } => match category {
                ErrorCategory::Parse => Error::Syntax { message },
                ErrorCategory::Storage => Error::Corrupt { message },
                _ => Error::Query { message },
            },
            other => Error::Query {
                message: other.to_string(),
            },
        }
    }
}

impl From<factlite_views::Error> for Error {
    fn from(error: factlite_views::Error) -> Error {
        use factlite_views::Error as Views;
        match error {
            Views::UnknownView(name) => Error::UnknownView { name },
            Views::Exists(name) => Error::ViewExists { name },
            Views::InvalidName(name) => Error::InvalidViewName { name },
            Views::Unsupported(reason) => Error::NotMaterializable { reason },
            Views::Parse(message) => Error::Syntax { message },
            corrupt @ Views::Corrupt(_) => Error::Corrupt {
                message: corrupt.to_string(),
            },
            Views::Store(error) => error.into(),
            Views::Maintenance { view, error } => Error::ViewMaintenance {
                view,
                error: Box::new((*error).into()),
            },
            other => Error::Query {
                message: other.to_string(),
            },
        }
    }
}

impl From<crate::ConversionError> for Error {
    fn from(error: crate::ConversionError) -> Error {
        Error::Conversion(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_error_wrapped_by_views_arrives_flat() {
        let wrapped = factlite_views::Error::Store(factlite_store::Error::UnknownAttribute {
            attribute: ":a/b".to_string(),
        });
        let flat: Error = wrapped.into();
        assert!(matches!(&flat, Error::UnknownAttribute { attribute } if attribute == ":a/b"));
        assert_eq!(flat.category(), ErrorCategory::UnknownAttribute);
    }

    #[test]
    fn a_maintenance_failure_keeps_its_cause_and_category() {
        let failure = factlite_views::Error::Maintenance {
            view: "v".to_string(),
            error: Box::new(factlite_views::Error::Store(factlite_store::Error::Busy {
                waited_ms: 5,
            })),
        };
        let flat: Error = failure.into();
        assert_eq!(flat.category(), ErrorCategory::Storage);
        assert!(
            matches!(&flat, Error::ViewMaintenance { error, .. } if matches!(**error, Error::Busy { waited_ms: 5 }))
        );
        assert!(std::error::Error::source(&flat).is_some());
    }
}
