//! factlite: an embedded Datalog fact store on SQLite.
//!
//! Commands append facts; queries are Datalog compiled to SQL; hot queries
//! become tables kept current from each transaction's delta. The guide
//! below is the crate's `README.md`; its examples are compiled and run as
//! this crate's doc tests (with the `serde` feature, which one of them
//! needs: `cargo test --workspace` turns it on).
#![cfg_attr(feature = "serde", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "serde"),
    doc = "Build the documentation with `--features serde` (or `--all-features`) for the guide: the crate's `README.md`."
)]

mod config;
mod convert;
mod datoms;
mod depth;
mod entity;
mod error;
mod functions;
mod inputs;
mod prepared;
mod query;
pub mod replication;
#[cfg(feature = "serde")]
pub mod serde;
mod store;
mod tx_data;
mod typed_result;
mod verify;
mod vocabulary;
mod watcher;

pub use config::Config;
pub use convert::{Bytes, ConversionError, FromRow, FromValue, ToValue};
pub use datoms::Datoms;
pub use entity::{EntityValue, EntityView};
pub use error::{EdnError, Error, Result};
pub use factlite_core::{
    Attribute, Cardinality, Datom, Entid, ErrorCategory, Schema, TypedValue, Unique, ValueType,
};
pub use factlite_edn as edn;
pub use factlite_edn::{BigDecimal, BigInt, IndexMap, IndexSet, Instant, Keyword, Uuid, Value};
/// A parameter of a query's SQL, as [`Explanation::params`] lists them.
pub use factlite_planner::SqlLiteral;
pub use factlite_store::{
    DbView, Durability, IndexName, MigrationError, QueryResult, Relation, Replay, TxReport,
    UnknownDurability, VocabularyOutcome,
};
pub use factlite_views::{AutoPolicy, ViewChange, ViewInfo};
pub use functions::{Function, ResultType};
pub use inputs::{Inputs, QueryInput, QueryInputs, ToInput};
pub use prepared::{PlanCacheStats, PreparedQuery, Rows, PLAN_CACHE_CAPACITY};
pub use query::Explanation;
/// The SQLite bindings the store runs on, for [`Db::with_connection`].
pub use rusqlite;
pub use store::{CancelHandle, Db, Store};
pub use tx_data::{Entity, IntoTxData, LookupRef, TempId, ToKeyword, TxData};
pub use typed_result::{QueryResultExt, Row};
pub use verify::{Problem, ProblemKind, VerifyReport, PROBLEM_EXAMPLES};
pub use vocabulary::{Migration, Vocabulary};
