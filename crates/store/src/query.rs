//! Running queries: a [`Db`] plans a parsed query with the planner (schema,
//! statistics and its view of time as context), runs the SQL, decodes the
//! rows and shapes the result as the find spec asks, computing pulls and the
//! aggregates SQLite cannot.

use std::collections::HashMap;

use factlite_core::{Entid, TypedValue};
use factlite_edn::{Keyword, Symbol, Value};
use factlite_planner::Signature;
use factlite_planner::{
    aggregate, AggregateInput, Cell, NamedSource, Output, Plan, Shape, SqlLiteral, Statistics,
};
use factlite_query::{Query, ReturnMapKind};
use indexmap::IndexMap;
use rusqlite::types::Value as SqlValue;

use crate::db::Db;
use crate::encode::from_sql;
use crate::error::{Error, Result};

/// Per-attribute datom counts, read from `attribute_stats`.
struct Counts {
    by_attribute: HashMap<Entid, i64>,
    total: i64,
}

impl Statistics for Counts {
    fn attribute_count(&self, attribute: Entid) -> i64 {
        self.by_attribute.get(&attribute).copied().unwrap_or(0)
    }

    fn total(&self) -> i64 {
        self.total
    }
}

impl From<factlite_planner::Error> for Error {
    fn from(error: factlite_planner::Error) -> Error {
        match error {
            factlite_planner::Error::UnknownAttribute(attribute) => {
                Error::UnknownAttribute { attribute }
            }
            factlite_planner::Error::Parse(message) => Error::Parse(message),
            other => Error::Query(other.to_string()),
        }
    }
}

fn to_sql_value(literal: SqlLiteral) -> SqlValue {
    match literal {
        SqlLiteral::Null => SqlValue::Null,
        SqlLiteral::Integer(i) => SqlValue::Integer(i),
        SqlLiteral::Real(x) => SqlValue::Real(x),
        SqlLiteral::Text(s) => SqlValue::Text(s),
        SqlLiteral::Blob(b) => SqlValue::Blob(b),
    }
}

/// The rows of a query's result, one find-spec item at a time: a tuple (a
/// vector, or a map under `:keys`/`:strs`/`:syms`) for a relation, a value
/// for a collection or scalar, a vector for a tuple.
///
/// Rows are read from SQLite as the iterator advances, so a result need not
/// fit in memory. Only what the find spec needs is held: aggregates SQLite
/// cannot compute, and the ordering and paging that follow them, need every
/// binding first, so such a result is computed whole before the first item.
/// Relations are sets: the statement is `SELECT DISTINCT`, so SQLite drops
/// repeated rows (it remembers the rows seen in its temporary storage, which
/// spills to disk), and the rows that reach the iterator are already
/// distinct. An ordered result is sorted by SQLite (`ORDER BY`).
pub struct ResultRows<'s> {
    db: &'s Db,
    plan: &'s Plan,
    rows: RowSource<'s>,
}

enum RowSource<'s> {
    /// Rows still in the statement.
    Sql(rusqlite::Rows<'s>),
    /// Rows computed in advance (aggregation in Rust).
    Ready(std::vec::IntoIter<Vec<Value>>),
    /// The single row of a scalar or tuple was read.
    Finished,
}

impl ResultRows<'_> {
    fn next_row(&mut self) -> Result<Option<Vec<Value>>> {
        match &mut self.rows {
            RowSource::Sql(rows) => {
                let row = match rows.next()? {
                    Some(row) => self.db.read_row(self.plan, row)?,
                    None => return Ok(None),
                };
                if matches!(self.plan.shape, Shape::Scalar | Shape::Tuple) {
                    self.rows = RowSource::Finished;
                }
                Ok(Some(row))
            }
            RowSource::Ready(rows) => Ok(rows.next()),
            RowSource::Finished => Ok(None),
        }
    }
}

impl Iterator for ResultRows<'_> {
    type Item = Result<Value>;

    fn next(&mut self) -> Option<Result<Value>> {
        self.next_row()
            .map(|row| row.map(|row| item(self.plan, row)))
            .transpose()
    }
}

impl Db {
    fn statistics(&self) -> Result<Counts> {
        let conn = self.store().connection();
        let mut statement = conn.prepare_cached("SELECT a, datoms FROM attribute_stats")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let by_attribute: HashMap<Entid, i64> = rows.collect::<rusqlite::Result<_>>()?;
        let total = by_attribute.values().sum();
        Ok(Counts {
            by_attribute,
            total,
        })
    }

    /// The number of current datoms, as the planner's statistics count them
    /// (a cached plan is compiled again when it has changed much).
    pub fn datom_count(&self) -> Result<i64> {
        let conn = self.store().connection();
        let mut statement = conn.prepare_cached("SELECT total(datoms) FROM attribute_stats")?;
        Ok(statement.query_row([], |row| row.get::<_, f64>(0))? as i64)
    }

    /// Plans a query against this snapshot for these inputs: the plan
    /// holds their values (see [`Db::compile`] for a plan that serves any).
    pub fn plan(&self, query: &Query, inputs: &[Value]) -> Result<Plan> {
        self.plan_with_sources(query, inputs, &[])
    }

    /// Plans a query whose patterns may also read the named sources
    /// (`[$delta ?e :a ?v]`), tables the caller keeps on this connection.
    pub fn plan_with_sources(
        &self,
        query: &Query,
        inputs: &[Value],
        named_sources: &[NamedSource],
    ) -> Result<Plan> {
        let signature = factlite_planner::signature(query, inputs)?;
        let plan = self.compile_with_sources(query, &signature, named_sources)?;
        Ok(plan.with_inputs(inputs)?)
    }

    /// Compiles a query for every input of a signature
    /// ([`factlite_planner::signature`]), with this snapshot's schema,
    /// statistics and kind of view of time.
    pub fn compile(&self, query: &Query, signature: &Signature) -> Result<Plan> {
        self.compile_with_sources(query, signature, &[])
    }

    fn compile_with_sources(
        &self,
        query: &Query,
        signature: &Signature,
        named_sources: &[NamedSource],
    ) -> Result<Plan> {
        let schema = self.schema()?;
        let statistics = self.statistics()?;
        let context = factlite_planner::Context {
            schema: &schema,
            statistics: &statistics,
            source: self.planner_source()?,
            named_sources,
        };
        Ok(factlite_planner::compile(&context, query, signature)?)
    }

    /// Runs a query and shapes its result by the find spec.
    pub fn query(&self, query: &Query, inputs: &[Value]) -> Result<Value> {
        let plan = self.plan(query, inputs)?;
        self.run_plan(&plan, inputs)
    }

    /// The statement's parameters for a plan and its inputs, on this
    /// snapshot's view of time.
    fn parameters(&self, plan: &Plan, inputs: &[Value]) -> Result<Vec<SqlValue>> {
        let params = plan.parameters(inputs, self.planner_source()?)?;
        Ok(params.into_iter().map(to_sql_value).collect())
    }

    /// The statement's parameters, as SQLite receives them, for a plan of
    /// [`Db::plan`].
    pub fn plan_parameters(&self, plan: &Plan) -> Result<Vec<SqlLiteral>> {
        Ok(plan.parameters(&[], self.planner_source()?)?)
    }

    /// SQLite's `EXPLAIN QUERY PLAN` for a plan of [`Db::plan`], one line
    /// per step.
    pub fn explain_plan(&self, plan: &Plan) -> Result<Vec<String>> {
        let conn = self.store().connection();
        let params = self.parameters(plan, &[])?;
        let _fixpoint = crate::fixpoint::Evaluation::run(conn, &plan.fixpoint, &params)?;
        let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", plan.sql))?;
        let count = statement.parameter_count();
        let mut rows = statement.query(rusqlite::params_from_iter(params.iter().take(count)))?;
        let mut lines = Vec::new();
        while let Some(row) = rows.next()? {
            lines.push(row.get::<_, String>(3)?);
        }
        Ok(lines)
    }

    /// Runs a plan with its inputs and shapes the whole result: a set (or,
    /// ordered, a vector) for a relation or collection, a value or `nil`
    /// for a scalar, a vector or `nil` for a tuple. A plan of [`Db::plan`]
    /// holds its inputs' values already; one of [`Db::compile`] reads them
    /// from `inputs`, which must have its signature.
    pub fn run_plan(&self, plan: &Plan, inputs: &[Value]) -> Result<Value> {
        self.with_rows(plan, inputs, |rows| {
            let mut error = None;
            let items = rows.map_while(|item| item.map_err(|e| error = Some(e)).ok());
            let value = collect_items(plan, items);
            error.map_or(Ok(value), Err)
        })?
    }

    /// Runs a plan with its inputs (as [`Db::run_plan`] does) and hands
    /// `read` the result's items as they come from SQLite (see [`ResultRows`]). The rows borrow
    /// the statement, which lives until `read` returns.
    pub fn with_rows<R>(
        &self,
        plan: &Plan,
        inputs: &[Value],
        read: impl FnOnce(&mut ResultRows<'_>) -> R,
    ) -> Result<R> {
        let conn = self.store().connection();
        let params = self.parameters(plan, inputs)?;
        // Relations computed first (recursion WITH RECURSIVE cannot express)
        // live until the statement is done; it takes a prefix of the params.
        let _fixpoint = crate::fixpoint::Evaluation::run(conn, &plan.fixpoint, &params)?;
        let mut statement = conn.prepare_cached(&plan.sql)?;
        let count = statement.parameter_count();
        let mut rows = statement.query(rusqlite::params_from_iter(params.iter().take(count)))?;
        let source = if plan.rust_aggregation {
            let mut all = Vec::new();
            while let Some(row) = rows.next()? {
                all.push(self.read_row_to_group(plan, row)?);
            }
            let mut groups = aggregate_rows(plan, all)?;
            for group in &mut groups {
                for (value, output) in group.iter_mut().zip(&plan.outputs) {
                    if let Output::Pull { pattern, .. } = output {
                        *value = self.pull(pattern, value)?;
                    }
                }
            }
            RowSource::Ready(groups.into_iter())
        } else {
            RowSource::Sql(rows)
        };
        let mut result_rows = ResultRows {
            db: self,
            plan,
            rows: source,
        };
        let value = read(&mut result_rows);
        Ok(value)
    }

    /// One SQL row as the values of the find elements.
    fn read_row(&self, plan: &Plan, row: &rusqlite::Row<'_>) -> Result<Vec<Value>> {
        let cells = self.read_cells(plan, row)?;
        // Most find specs read each cell once, in order: the cells are the
        // row.
        let in_order = plan.outputs.len() == cells.len()
            && plan.outputs.iter().enumerate().all(|(i, output)| {
                matches!(output, Output::Value(n) | Output::SqlAggregate(n) if *n == i)
            });
        if in_order {
            return Ok(cells);
        }
        plan.outputs
            .iter()
            .map(|o| self.output(o, &cells))
            .collect()
    }

    /// One SQL row for aggregation in Rust: a pull stays its entity id, so
    /// rows group by the entity rather than by what a pull shows of it (two
    /// entities may pull alike); the caller pulls once per group.
    fn read_row_to_group(&self, plan: &Plan, row: &rusqlite::Row<'_>) -> Result<Vec<Value>> {
        let cells = self.read_cells(plan, row)?;
        plan.outputs
            .iter()
            .map(|output| match output {
                Output::Pull { cell, .. } => Ok(cells[*cell].clone()),
                other => self.output(other, &cells),
            })
            .collect()
    }

    /// The decoded cells of one SQL row.
    fn read_cells(&self, plan: &Plan, row: &rusqlite::Row<'_>) -> Result<Vec<Value>> {
        let mut cells = Vec::with_capacity(plan.cells.len());
        let mut column = 0;
        for cell in &plan.cells {
            let value = match cell {
                Cell::Typed(value_type) => {
                    let raw = row.get_ref(column)?;
                    column += 1;
                    decode(raw, value_type.tag())?
                }
                Cell::Dynamic => {
                    let raw = row.get_ref(column)?;
                    let tag: Option<i64> = row.get(column + 1)?;
                    column += 2;
                    match tag {
                        Some(tag) => decode(raw, tag)?,
                        None => Value::Nil,
                    }
                }
            };
            cells.push(value);
        }
        Ok(cells)
    }

    fn output(&self, output: &Output, cells: &[Value]) -> Result<Value> {
        Ok(match output {
            Output::Value(n) | Output::SqlAggregate(n) => cells[*n].clone(),
            Output::Tuple(items) => Value::Vector(
                items
                    .iter()
                    .map(|i| self.output(i, cells))
                    .collect::<Result<_>>()?,
            ),
            Output::Pull { cell, pattern } => self.pull(pattern, &cells[*cell])?,
            // Filled in by aggregation: the row keeps the aggregate's input.
            Output::Aggregate { args, .. } => match args.last() {
                Some(AggregateInput::Column(column)) => self.output(column, cells)?,
                _ => Value::Nil,
            },
        })
    }
}

fn decode(raw: rusqlite::types::ValueRef<'_>, tag: i64) -> Result<Value> {
    if raw == rusqlite::types::ValueRef::Null {
        return Ok(Value::Nil);
    }
    // Stored longs are integers: a real in a long's place is arithmetic
    // (`+`, `-`, `*`) that SQLite carried past the 64-bit range.
    if let (rusqlite::types::ValueRef::Real(x), Some(factlite_core::ValueType::Long)) =
        (raw, factlite_core::ValueType::from_tag(tag))
    {
        return Err(Error::Query(format!(
            "integer overflow: the result {x} does not fit a 64-bit long"
        )));
    }
    // Text moves into the value instead of being copied.
    Ok(match from_sql(raw, tag)? {
        TypedValue::String(text) => Value::String(text),
        other => other.to_edn(),
    })
}

/// Groups rows by their non-aggregate outputs and computes the aggregates.
fn aggregate_rows(plan: &Plan, rows: Vec<Vec<Value>>) -> Result<Vec<Vec<Value>>> {
    let aggregate_positions: Vec<usize> = plan
        .outputs
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o, Output::Aggregate { .. }))
        .map(|(i, _)| i)
        .collect();
    let mut groups: IndexMap<Vec<Value>, Vec<Vec<Value>>> = IndexMap::new();
    for row in rows {
        let key: Vec<Value> = row
            .iter()
            .enumerate()
            .filter(|(i, _)| !aggregate_positions.contains(i))
            .map(|(_, v)| v.clone())
            .collect();
        groups.entry(key).or_default().push(row);
    }
    let mut out = Vec::new();
    for (_, members) in groups {
        let mut row = members[0].clone();
        for &position in &aggregate_positions {
            let Output::Aggregate { name, args } = &plan.outputs[position] else {
                continue;
            };
            let constants: Vec<Value> = args
                .iter()
                .filter_map(|a| match a {
                    AggregateInput::Constant(v) => Some(v.clone()),
                    AggregateInput::Column(_) => None,
                })
                .collect();
            let values: Vec<Value> = members.iter().map(|m| m[position].clone()).collect();
            row[position] = aggregate::compute(name, &constants, &values)?;
        }
        out.push(row);
    }
    if !plan.order_in_rust.is_empty() {
        out.sort_by(|a, b| {
            for (index, descending) in &plan.order_in_rust {
                let ordering = aggregate::stored_order(&a[*index], &b[*index]);
                let ordering = if *descending {
                    ordering.reverse()
                } else {
                    ordering
                };
                if ordering != std::cmp::Ordering::Equal {
                    return ordering;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    if let Some((limit, offset)) = plan.limit_in_rust {
        out = out
            .into_iter()
            .skip(offset as usize)
            .take(limit.map_or(usize::MAX, |l| l as usize))
            .collect();
    }
    Ok(out)
}

/// Rows of find-element values (pulls done, ordered and paged already)
/// shaped as `plan`'s result, as [`Db::run_plan`] shapes them.
pub fn shape_rows(plan: &Plan, rows: Vec<Vec<Value>>) -> Value {
    collect_items(plan, rows.into_iter().map(|row| item(plan, row)))
}

/// The result holding `items`: a set (or, ordered, a vector) for a relation
/// or collection, the first item or `nil` for a scalar or a tuple.
fn collect_items(plan: &Plan, mut items: impl Iterator<Item = Value>) -> Value {
    match plan.shape {
        Shape::Relation | Shape::Collection if plan.ordered => Value::Vector(items.collect()),
        Shape::Relation | Shape::Collection => Value::Set(items.collect()),
        Shape::Scalar | Shape::Tuple => items.next().unwrap_or(Value::Nil),
    }
}

/// One item of the result, from the values of the find elements.
fn item(plan: &Plan, row: Vec<Value>) -> Value {
    match (&plan.shape, &plan.return_maps) {
        (Shape::Relation, Some(maps)) => Value::Map(
            maps.names
                .iter()
                .zip(row)
                .map(|(name, value)| {
                    let key = match maps.kind {
                        ReturnMapKind::Keys => Value::Keyword(Keyword::from_str_lossy(name)),
                        ReturnMapKind::Strs => Value::String(name.clone()),
                        ReturnMapKind::Syms => Value::Symbol(Symbol::from_str_lossy(name)),
                    };
                    (key, value)
                })
                .collect(),
        ),
        (Shape::Relation | Shape::Tuple, _) => Value::Vector(row),
        (Shape::Collection | Shape::Scalar, _) => row.into_iter().next().unwrap_or(Value::Nil),
    }
}
