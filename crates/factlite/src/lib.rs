//! factlite: an embedded Datalog fact store on SQLite.
//!
//! Commands append facts; queries are Datalog compiled to SQL; hot queries
//! become tables kept current from each transaction's delta.
//!
//! ```
//! use factlite::{Store, edn};
//!
//! let store = Store::open_in_memory()?;
//! store.transact_str(r#"[{:db/ident :person/name
//!                        :db/valueType :db.type/string
//!                        :db/cardinality :db.cardinality/one}]"#)?;
//! store.transact_str(r#"[{:person/name "Ann"} {:person/name "Bo"}]"#)?;
//! let names = store.db()?.q_str("[:find [?n ...] :where [_ :person/name ?n]]", &[])?;
//! assert_eq!(names, edn::parse(r#"#{"Ann" "Bo"}"#)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! From a program, values go in and out as Rust types, never as text:
//! [`Entity`] and [`TxData`] build transaction data, [`Inputs`] (tuples,
//! [`params!`]) gives a query its inputs, and [`QueryResultExt`] and [`Row`]
//! read results through [`FromValue`]. With the `serde` feature, structs go
//! in and out too (see [Features](crate#features)); `chrono` and `uuid`
//! convert those crates' types.
//!
//! ```
//! use factlite::{Entity, Inputs, QueryResultExt, Store, TxData};
//!
//! let store = Store::open_in_memory()?;
//! store.transact_str(r#"[{:db/ident :person/name :db/valueType :db.type/string
//!                        :db/cardinality :db.cardinality/one}
//!                       {:db/ident :person/age :db/valueType :db.type/long
//!                        :db/cardinality :db.cardinality/one}]"#)?;
//! let people: TxData = [("Ann", 31u8), ("Bo", 27)]
//!     .into_iter()
//!     .map(|(name, age)| Entity::new().set(":person/name", name).set(":person/age", age))
//!     .collect();
//! store.transact(&people.build()?)?;
//! let older = store.db()?.q_str(
//!     "[:find ?n ?a :in $ ?min :where [?p :person/name ?n] [?p :person/age ?a] [(> ?a ?min)]]",
//!     &(30,).into_inputs()?,
//! )?;
//! assert_eq!(older.rows_as::<(String, u8)>()?, [("Ann".to_string(), 31)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `serde`: the `factlite::serde` module (a serializer and a
//!   deserializer over [`Value`]), `Entity::from_serde` and
//!   `QueryResultExt::deserialize`.
//! - `chrono`: `chrono::DateTime` as instants.
//! - `uuid`: `uuid::Uuid` as uuids.

mod config;
mod convert;
mod datoms;
mod depth;
mod error;
mod inputs;
mod prepared;
mod query;
#[cfg(feature = "serde")]
pub mod serde;
mod store;
mod tx_data;
mod typed_result;
mod vocabulary;

pub use config::Config;
pub use datoms::Datoms;
pub use convert::{Bytes, ConversionError, FromRow, FromValue, ToValue};
pub use error::{EdnError, Error, Result};
pub use factlite_core::{
    Attribute, Cardinality, Datom, Entid, ErrorCategory, Schema, TypedValue, Unique, ValueType,
};
pub use factlite_edn as edn;
pub use factlite_edn::{Instant, Keyword, Uuid, Value};
pub use factlite_store::{
    DbView, Durability, IndexName, MigrationError, QueryResult, Relation, TxReport,
    UnknownDurability, VocabularyOutcome,
};
pub use factlite_views::{AutoPolicy, ViewChange, ViewInfo};
pub use inputs::Inputs;
pub use prepared::{PlanCacheStats, PreparedQuery, Rows, PLAN_CACHE_CAPACITY};
pub use query::Explanation;
/// A parameter of a query's SQL, as [`Explanation::params`] lists them.
pub use factlite_planner::SqlLiteral;
/// The SQLite bindings the store runs on, for [`Db::with_connection`].
pub use rusqlite;
pub use store::{CancelHandle, Db, Store};
pub use tx_data::{Entity, IntoTxData, LookupRef, TempId, ToKeyword, TxData};
pub use typed_result::{QueryResultExt, Row};
pub use vocabulary::{Migration, Vocabulary};
