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
mod bound;
mod closure;
mod compile;
mod compile_fns;
mod databases;
mod distinct;
mod edges;
mod error;
mod find;
mod fixpoint;
mod inputs;
mod literals;
mod nested;
mod pushdown;
mod rules;
mod shared;
mod source;
mod sourced;
mod tuple_values;

use factlite_core::{Entid, Schema, ValueType};
use factlite_edn::Value;
use factlite_query::{PullPattern, Query, ReturnMaps};

pub use error::{Error, Result};
pub use fixpoint::Fixpoint;
pub use inputs::{push_json_string, signature, signature_with_databases, Signature, SignatureKey};
pub use rules::check_rules;
pub use source::{source_sql, Database, DatabaseInput, Source, LOGGED_ATTRIBUTES};

/// A value bound to a `?N` parameter of the generated SQL.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlLiteral {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// Where the value of a `?N` parameter comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// A constant of the query or the schema (an attribute id, a limit).
    Constant(SqlLiteral),
    /// A scalar input: the input's position after `$`, then the positions
    /// inside nested tuples.
    Input { input: usize, path: Vec<usize> },
    /// The rows of a collection (`collection`) or relation input of `width`
    /// columns, as the JSON array that `json_each` expands.
    Rows {
        input: usize,
        path: Vec<usize>,
        width: usize,
        collection: bool,
    },
    /// The transaction a database's view of time is taken at (`as_of`,
    /// `since`, `history`).
    Basis(Database),
    /// The `since` transaction of a since view of an older snapshot.
    Since(Database),
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
    /// A set or map built in the query (`set`, `hash-set`, `hash-map`):
    /// its items (a map's as key, value, key, value...).
    Collection {
        kind: CollectionKind,
        items: Vec<Output>,
    },
    /// The pull of the entity in a cell, from a database of the query
    /// (`(pull $h ?e [...])`).
    Pull {
        cell: usize,
        pattern: PullPattern,
        database: Database,
    },
    /// An aggregate computed by SQL: the value of its cell, typed as given.
    SqlAggregate(usize),
    /// An aggregate the executor computes over the group's rows.
    Aggregate {
        name: String,
        args: Vec<AggregateInput>,
    },
}

/// The kind of a collection a query builds (`hash-set`, `hash-map`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollectionKind {
    /// A set of its items.
    Set,
    /// A map of its items taken as key, value, key, value...
    Map,
}

impl CollectionKind {
    /// The kind in words: "set", "map".
    pub fn name(self) -> &'static str {
        match self {
            CollectionKind::Set => "set",
            CollectionKind::Map => "map",
        }
    }
}

/// An argument of an aggregate computed in Rust.
#[derive(Clone, Debug, PartialEq)]
pub enum AggregateInput {
    Constant(Value),
    /// A scalar `:in` input (a count such as `?n` in `(max ?n ?x)`): its
    /// position after `$` and inside nested tuples; [`Plan::with_inputs`]
    /// makes it a constant.
    Input {
        input: usize,
        path: Vec<usize>,
    },
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
    /// Where its parameters come from, `?1` first; [`Plan::parameters`]
    /// reads their values for given inputs.
    pub params: Vec<Param>,
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
    /// Relations the statement reads from temporary tables, computed first
    /// by these programs, in order (recursion `WITH RECURSIVE` cannot
    /// express). Their statements use the plan's parameters.
    pub fixpoint: Vec<Fixpoint>,
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
    /// The functions and aggregates a program registered on the store,
    /// which queries call by name.
    pub functions: &'a [RegisteredFunction],
}

/// A function or aggregate a program registered (written in Rust, run by
/// SQLite as an application-defined function, or over a group's values):
/// what planning needs to know of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredFunction {
    /// The name queries call it by (`my/score`).
    pub name: String,
    /// The SQL function's name, which takes each argument's value and
    /// type tag in turn (a scalar function).
    pub sql_name: String,
    /// How many arguments it takes.
    pub arity: usize,
    /// The type of what it returns.
    pub result: factlite_core::ValueType,
    /// Whether it is an aggregate (`(my/p90 ?x)` in `:find`), computed over
    /// the group's values.
    pub aggregate: bool,
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

/// Plans a query for these inputs (the arguments for `:in`, `$`
/// excluded): [`signature`], [`compile`], then the inputs' values made
/// constants ([`Plan::with_inputs`]).
pub fn plan(context: &Context<'_>, query: &Query, inputs: &[Value]) -> Result<Plan> {
    compile(context, query, &signature(query, inputs)?)?.with_inputs(inputs)
}

/// Compiles a query for inputs of a signature. The plan serves every input
/// of that signature, on any basis of the context's kind of source:
/// [`Plan::parameters`] gives the statement's parameters for each.
pub fn compile(context: &Context<'_>, query: &Query, inputs: &Signature) -> Result<Plan> {
    compile::compile_query(context, query, inputs)
}
