//! Running queries: a [`Db`] plans a parsed query with the planner (schema,
//! statistics and its view of time as context), runs the SQL, decodes the
//! rows and shapes the result as the find spec asks, computing pulls and the
//! aggregates SQLite cannot.

use std::collections::HashMap;

use factlite_core::Entid;
use factlite_edn::{Keyword, Symbol, Value};
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

fn to_sql_value(literal: &SqlLiteral) -> SqlValue {
    match literal {
        SqlLiteral::Null => SqlValue::Null,
        SqlLiteral::Integer(i) => SqlValue::Integer(*i),
        SqlLiteral::Real(x) => SqlValue::Real(*x),
        SqlLiteral::Text(s) => SqlValue::Text(s.clone()),
        SqlLiteral::Blob(b) => SqlValue::Blob(b.clone()),
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

    /// Plans a query against this snapshot.
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
        let schema = self.schema()?;
        let statistics = self.statistics()?;
        let context = factlite_planner::Context {
            schema: &schema,
            statistics: &statistics,
            source: self.planner_source()?,
            named_sources,
        };
        Ok(factlite_planner::plan(&context, query, inputs)?)
    }

    /// Runs a query and shapes its result by the find spec.
    pub fn query(&self, query: &Query, inputs: &[Value]) -> Result<Value> {
        let plan = self.plan(query, inputs)?;
        self.run_plan(&plan)
    }

    /// SQLite's `EXPLAIN QUERY PLAN` for a plan, one line per step.
    pub fn explain_plan(&self, plan: &Plan) -> Result<Vec<String>> {
        let conn = self.store().connection();
        let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", plan.sql))?;
        let params: Vec<SqlValue> = plan.params.iter().map(to_sql_value).collect();
        let mut rows = statement.query(rusqlite::params_from_iter(params))?;
        let mut lines = Vec::new();
        while let Some(row) = rows.next()? {
            lines.push(row.get::<_, String>(3)?);
        }
        Ok(lines)
    }

    /// Runs a compiled plan.
    pub fn run_plan(&self, plan: &Plan) -> Result<Value> {
        let conn = self.store().connection();
        let mut statement = conn.prepare_cached(&plan.sql)?;
        let params: Vec<SqlValue> = plan.params.iter().map(to_sql_value).collect();
        let mut rows = statement.query(rusqlite::params_from_iter(params))?;
        let mut results: Vec<Vec<Value>> = Vec::new();
        let mut cells = Vec::with_capacity(plan.cells.len());
        while let Some(row) = rows.next()? {
            cells.clear();
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
            results.push(
                plan.outputs
                    .iter()
                    .map(|o| self.output(o, &cells))
                    .collect::<Result<_>>()?,
            );
            if matches!(plan.shape, Shape::Scalar | Shape::Tuple) && !plan.rust_aggregation {
                break;
            }
        }
        drop(rows);
        if plan.rust_aggregation {
            results = aggregate_rows(plan, results)?;
        }
        Ok(shape(plan, results))
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
    Ok(from_sql(raw, tag)?.to_edn())
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
                let ordering = a[*index].cmp(&b[*index]);
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

/// The result value for the find spec.
fn shape(plan: &Plan, rows: Vec<Vec<Value>>) -> Value {
    let collect = |items: Vec<Value>| {
        if plan.ordered {
            Value::Vector(items)
        } else {
            Value::Set(items.into_iter().collect())
        }
    };
    match plan.shape {
        Shape::Relation => {
            let rows = rows.into_iter().map(|row| match &plan.return_maps {
                Some(maps) => Value::Map(
                    maps.names
                        .iter()
                        .zip(row)
                        .map(|(name, value)| {
                            let key = match maps.kind {
                                ReturnMapKind::Keys => {
                                    Value::Keyword(Keyword::from_str_lossy(name))
                                }
                                ReturnMapKind::Strs => Value::String(name.clone()),
                                ReturnMapKind::Syms => Value::Symbol(Symbol::from_str_lossy(name)),
                            };
                            (key, value)
                        })
                        .collect(),
                ),
                None => Value::Vector(row),
            });
            collect(rows.collect())
        }
        Shape::Collection => collect(
            rows.into_iter()
                .filter_map(|row| row.into_iter().next())
                .collect(),
        ),
        Shape::Scalar => rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
            .unwrap_or(Value::Nil),
        Shape::Tuple => rows
            .into_iter()
            .next()
            .map(Value::Vector)
            .unwrap_or(Value::Nil),
    }
}
