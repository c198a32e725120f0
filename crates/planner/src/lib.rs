//! The query planner: a parsed query, its rules and inputs, and the schema in;
//! one SQL statement with bound parameters, and a description of how to turn
//! its rows into the query's result, out. Pure and deterministic: it never
//! touches SQLite, and the same input always gives byte-identical SQL.
//!
//! The passes:
//! - `rules`: rule calls are expanded — non-recursive rules inline as
//!   `or-join`s, recursive ones become `WITH RECURSIVE` relations;
//! - `compile`: clauses are ordered (cheapest access path first, filters as
//!   soon as their variables are bound) and compiled into FROM items and
//!   conditions over the datoms source (`source`);
//! - `find`: the find spec becomes the SELECT list, grouping, ordering and
//!   the post-processing the executor runs (`aggregate` for aggregates
//!   SQLite cannot compute).

pub mod aggregate;
mod compile;
mod compile_fns;
mod error;
mod find;
mod rules;
mod source;

use factlite_core::{Entid, Schema, ValueType};
use factlite_edn::Value;
use factlite_query::{PullPattern, Query, ReturnMaps};

pub use error::{Error, Result};
pub use source::{source_sql, Source};

/// A value bound to a `?N` parameter of the generated SQL.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlLiteral {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// How one result cell is read from the SQL row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// One column holding a value of a known type.
    Typed(ValueType),
    /// Two columns: the value and its type tag.
    Dynamic,
}

/// How one find element is built from the row's cells.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// The value of one cell.
    Value(usize),
    /// A tuple value (from `tuple`, `ground` of a vector, ...): a vector of
    /// the outputs.
    Tuple(Vec<Output>),
    /// The pull of the entity in a cell.
    Pull { cell: usize, pattern: PullPattern },
    /// An aggregate computed by SQL: the value of its cell, typed as given.
    SqlAggregate(usize),
    /// An aggregate the executor computes over the group's rows.
    Aggregate {
        name: String,
        args: Vec<AggregateInput>,
    },
}

/// An argument of an aggregate computed in Rust.
#[derive(Clone, Debug, PartialEq)]
pub enum AggregateInput {
    Constant(Value),
    Column(Box<Output>),
}

/// The shape of the result.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Relation,
    Collection,
    Scalar,
    Tuple,
}

/// A compiled query.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The statement.
    pub sql: String,
    /// Its parameters, `?1` first.
    pub params: Vec<SqlLiteral>,
    /// How each row's cells are read, in column order.
    pub cells: Vec<Cell>,
    /// One per find element.
    pub outputs: Vec<Output>,
    /// The result's shape.
    pub shape: Shape,
    /// `:keys`/`:strs`/`:syms`.
    pub return_maps: Option<ReturnMaps>,
    /// Aggregation the executor runs in Rust: rows are the distinct
    /// bindings, grouped by the outputs that are not aggregates.
    pub rust_aggregation: bool,
    /// Ordering and paging the executor applies after Rust aggregation
    /// (indices into the outputs, descending flag). Empty when SQL orders.
    pub order_in_rust: Vec<(usize, bool)>,
    /// `:limit`/`:offset` applied by the executor (when SQL cannot).
    pub limit_in_rust: Option<(Option<u64>, u64)>,
    /// Whether the result is ordered (a vector rather than a set).
    pub ordered: bool,
}

/// Counts the planner uses to order joins.
pub trait Statistics {
    /// The number of current datoms of an attribute.
    fn attribute_count(&self, attribute: Entid) -> i64;
    /// The number of current datoms.
    fn total(&self) -> i64;
}

/// What a query is planned against.
pub struct Context<'a> {
    pub schema: &'a Schema,
    pub statistics: &'a dyn Statistics,
    pub source: Source,
    /// Extra data sources a pattern may name (`[$delta ?e :a ?v]`), each an
    /// SQL table with the columns of `datoms` plus `added`. The materialized
    /// views read a transaction's changed datoms through one.
    pub named_sources: &'a [NamedSource],
}

/// A data source other than `$`: a name as patterns write it, and the SQL
/// table holding its datoms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedSource {
    /// The source variable, `$` included (`"$delta"`).
    pub name: String,
    /// The table, with columns `e, a, v, t, tx, avet, added`.
    pub table: String,
}

/// Plans a query with its inputs (the arguments for `:in`, `$` excluded).
pub fn plan(context: &Context<'_>, query: &Query, inputs: &[Value]) -> Result<Plan> {
    let bound = compile::bind_inputs(query, inputs)?;
    compile::compile_query(context, query, bound)
}
