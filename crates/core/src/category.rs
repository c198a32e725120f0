//! The categories of errors a user can meet, as named in the conformance
//! format (`:error/parse`, `:error/unknown-attribute`, ...). Every crate's
//! error type maps each of its variants to one of these.

use std::fmt;

/// What kind of mistake an error reports. Tests and programs tell errors apart
/// by category; people read the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCategory {
    /// Text that is not EDN, or EDN that is not a valid query, rule, pull
    /// pattern or transaction form.
    Parse,
    /// An attribute that no schema defines.
    UnknownAttribute,
    /// A value that does not fit the attribute's value type.
    TypeMismatch,
    /// A uniqueness constraint would be violated, or two tempids upsert to
    /// different entities.
    UniqueConflict,
    /// A lookup ref or ident that names no entity.
    UnknownEntity,
    /// `:db/cas` found another value than the one expected.
    CasFailed,
    /// A schema change that is not allowed.
    Schema,
    /// A query that parses but cannot run.
    Query,
    /// A transaction that breaks a declared constraint: an entity spec
    /// (`:db/ensure`) or an attribute predicate (`:db.attr/preds`).
    Constraint,
    /// A query or transaction that ran past its time limit.
    Timeout,
    /// A query or transaction that reached a configured resource limit
    /// (rows gathered, nesting depth, size).
    Limit,
    /// Work stopped on request (a cancel handle, Ctrl-C), not because of
    /// what it was asked to do.
    Cancelled,
    /// A failure of the storage engine or the file system (not the user's
    /// input): I/O errors, a busy database, a corrupt file.
    Storage,
}

impl ErrorCategory {
    /// The keyword name, as written in scenario files: `:error/parse`.
    pub fn keyword(self) -> &'static str {
        match self {
            ErrorCategory::Parse => ":error/parse",
            ErrorCategory::UnknownAttribute => ":error/unknown-attribute",
            ErrorCategory::TypeMismatch => ":error/type-mismatch",
            ErrorCategory::UniqueConflict => ":error/unique-conflict",
            ErrorCategory::UnknownEntity => ":error/unknown-entity",
            ErrorCategory::CasFailed => ":error/cas-failed",
            ErrorCategory::Schema => ":error/schema",
            ErrorCategory::Query => ":error/query",
            ErrorCategory::Constraint => ":error/constraint",
            ErrorCategory::Timeout => ":error/timeout",
            ErrorCategory::Limit => ":error/limit",
            ErrorCategory::Cancelled => ":error/cancelled",
            ErrorCategory::Storage => ":error/storage",
        }
    }

    /// Every category.
    pub const ALL: [ErrorCategory; 13] = [
        ErrorCategory::Parse,
        ErrorCategory::UnknownAttribute,
        ErrorCategory::TypeMismatch,
        ErrorCategory::UniqueConflict,
        ErrorCategory::UnknownEntity,
        ErrorCategory::CasFailed,
        ErrorCategory::Schema,
        ErrorCategory::Query,
        ErrorCategory::Constraint,
        ErrorCategory::Timeout,
        ErrorCategory::Limit,
        ErrorCategory::Cancelled,
        ErrorCategory::Storage,
    ];

    /// The category named by a keyword such as `:error/parse`.
    pub fn from_keyword(text: &str) -> Option<ErrorCategory> {
        ErrorCategory::ALL.into_iter().find(|c| c.keyword() == text)
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}
