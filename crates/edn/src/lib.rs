//! EDN (extensible data notation) for factlite: the [`Value`] data model, a
//! reader ([`parse`], [`parse_all`]) and a printer (`Display` on [`Value`]).
//!
//! Everything factlite reads from a user — queries, transaction data, pull
//! patterns, scenario files — arrives as EDN text and passes through here.
//! The accepted grammar is written down in `grammar/edn.ebnf`.
//!
//! ```
//! use factlite_edn::{parse, Value};
//! let value = parse(r#"{:name "Ann", :tags #{:a :b}, :at #inst "2024-01-10T09:00:00Z"}"#).unwrap();
//! assert_eq!(parse(&value.to_string()), Ok(value));
//! ```

mod conversion;
mod error;
mod instant;
mod printer;
mod reader;
#[cfg(feature = "serde")]
pub mod serde;
mod uuid;
mod value;

/// The arbitrary-precision decimal inside [`Value::BigDec`] (the
/// `bigdecimal` crate's, re-exported so that every crate names one type).
pub use bigdecimal::BigDecimal;
pub use conversion::ConversionError;
pub use error::{ParseError, Result};
/// The map and set types inside [`Value::Map`] and [`Value::Set`].
pub use indexmap::{IndexMap, IndexSet};
/// The arbitrary-precision integer inside [`Value::BigInt`] (the
/// `num-bigint` crate's), and its sign.
pub use num_bigint::{BigInt, Sign};
pub use reader::{parse, parse_all, MAX_DECIMAL_EXPONENT, MAX_DEPTH};
pub use value::{Instant, Keyword, Symbol, Uuid, Value};
