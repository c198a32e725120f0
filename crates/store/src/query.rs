//! Running queries: a [`Db`] plans a parsed query with the planner (schema,
//! statistics and its view of time as context), runs the SQL, decodes the
//! rows and shapes the result as the find spec asks, computing pulls and the
//! aggregates SQLite cannot.

use std::collections::HashMap;

use factlite_core::{Entid, TypedValue};
use factlite_edn::Value;
use factlite_planner::Signature;
use factlite_planner::{
    aggregate, AggregateInput, Cell, CollectionKind, NamedSource, Output, Plan, Shape, SqlLiteral,
    Statistics,
};
use factlite_query::Query;
use indexmap::IndexMap;
use rusqlite::types::Value as SqlValue;

use crate::db::Db;
use crate::encode::from_sql;
use crate::error::{Error, Result};
use crate::limits::Watch;
use crate::result::{relation_tuple, QueryResult, Relation};

/// Per-attribute datom counts (see `statistics`).
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
    /// The query's time limit, which tells its interrupt from a cancel.
    watch: &'s Watch<'s>,
    rows: RowSource<'s>,
    /// Whether each find element is one cell, in order (most find specs):
    /// the decoded cells are then the row.
    cells_in_order: bool,
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
        let mut row = Vec::with_capacity(self.plan.outputs.len());
        Ok(self.read_next(&mut row)?.then_some(row))
    }

    /// Appends the next row's find-element values to `out`; `false` when
    /// there are no more rows.
    fn read_next(&mut self, out: &mut Vec<Value>) -> Result<bool> {
        self.read_next_row(out)
            .map_err(|error| self.watch.classify(error))
    }

    fn read_next_row(&mut self, out: &mut Vec<Value>) -> Result<bool> {
        match &mut self.rows {
            RowSource::Sql(rows) => {
                let Some(row) = rows.next()? else {
                    return Ok(false);
                };
                if self.cells_in_order {
                    self.db.read_cells(self.plan, row, out)?;
                } else {
                    let mut cells = Vec::with_capacity(self.plan.cells.len());
                    self.db.read_cells(self.plan, row, &mut cells)?;
                    for output in &self.plan.outputs {
                        out.push(self.db.output(output, &cells)?);
                    }
                }
                if matches!(self.plan.shape, Shape::Scalar | Shape::Tuple) {
                    self.rows = RowSource::Finished;
                }
                Ok(true)
            }
            RowSource::Ready(rows) => Ok(rows.next().map(|row| out.extend(row)).is_some()),
            RowSource::Finished => Ok(false),
        }
    }

    /// Reads the remaining rows into the result the find spec asks for (see
    /// [`QueryResult`]): each row's values go straight into one vector, as
    /// many as the snapshot's [`crate::QueryLimits::max_values`] allows.
    pub fn collect_result(&mut self) -> Result<QueryResult> {
        let plan = self.plan;
        let limits = self.db.limits();
        let mut gather = |values: &mut Vec<Value>| -> Result<()> {
            while self.read_next(values)? {
                limits.check_values(values.len(), "the result")?;
            }
            Ok(())
        };
        Ok(match plan.shape {
            Shape::Relation => {
                let mut relation =
                    Relation::new(plan.outputs.len(), plan.return_maps.clone(), plan.ordered);
                gather(relation.cells_mut())?;
                QueryResult::Relation(relation)
            }
            Shape::Collection => {
                let mut values = Vec::new();
                gather(&mut values)?;
                QueryResult::Collection {
                    values,
                    ordered: plan.ordered,
                }
            }
            Shape::Scalar => {
                QueryResult::Scalar(self.next_row()?.and_then(|row| row.into_iter().next()))
            }
            Shape::Tuple => QueryResult::Tuple(self.next_row()?),
        })
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
        let conn = &*self.store().connection();
        let by_attribute: HashMap<Entid, i64> = crate::statistics::attribute_counts(conn)?;
        let total = by_attribute.values().sum();
        Ok(Counts {
            by_attribute,
            total,
        })
    }

    /// The number of current datoms, as the planner's statistics count them
    /// (a cached plan is compiled again when it has changed much).
    pub fn datom_count(&self) -> Result<i64> {
        self.store().datom_count()
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
        let signature = self.signature(query, inputs)?;
        let plan = self.compile_with_sources(query, &signature, named_sources)?;
        Ok(plan.with_inputs(inputs)?)
    }

    /// The signature of a query's inputs ([`factlite_planner::signature`]),
    /// the databases given to [`Db::with_database_inputs`] among them.
    pub fn signature(&self, query: &Query, inputs: &[Value]) -> Result<Signature> {
        let databases = self.database_sources()?;
        Ok(factlite_planner::signature_with_databases(
            query, inputs, &databases,
        )?)
    }

    /// This snapshot with databases of the same store as inputs of its
    /// queries (Datomic's `(d/q query db (d/as-of db t))`): each at its
    /// position among the inputs after `$` (where the inputs hold `nil`),
    /// named by a data source of the query's `:in` (`$h`). The query reads
    /// them in the same statement, each on its own view of time. A
    /// snapshot of another store is refused.
    pub fn with_database_inputs(&self, databases: &[(usize, &Db)]) -> Result<Db> {
        let mut inputs = Vec::with_capacity(databases.len());
        for (input, database) in databases {
            if !self.store().same_store(database.store()) {
                return Err(Error::Query(format!(
                    "input {} is a snapshot of another store; a query reads databases \
                     of one store only (its $ and the views of time of it)",
                    input + 1
                )));
            }
            // Read on this snapshot's connection, so one read transaction
            // decides every database's view of time.
            let rebased = Db::new(self.store().clone(), database.basis_tx(), database.view());
            inputs.push((*input, rebased));
        }
        let mut db = self.clone();
        db.database_inputs = inputs;
        Ok(db)
    }

    /// The snapshot a database of the query reads: this one, or one
    /// given as an input.
    fn database(&self, database: factlite_planner::Database) -> Result<&Db> {
        match database {
            factlite_planner::Database::Default => Ok(self),
            factlite_planner::Database::Input(input) => self
                .database_inputs
                .iter()
                .find(|(given, _)| *given == input)
                .map(|(_, db)| db)
                .ok_or_else(|| {
                    Error::Query(format!(
                        "the query pulls from input {} as a database, but none was given there",
                        input + 1
                    ))
                }),
        }
    }

    /// The databases given as inputs, each with the view of time the SQL
    /// reads (as [`Db::planner_source`] decides it).
    fn database_sources(&self) -> Result<Vec<factlite_planner::DatabaseInput>> {
        self.database_inputs
            .iter()
            .map(|(input, db)| {
                Ok(factlite_planner::DatabaseInput {
                    input: *input,
                    source: db.planner_source()?,
                })
            })
            .collect()
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
        let functions = self.store().registered_functions();
        let context = factlite_planner::Context {
            schema: &schema,
            statistics: &statistics,
            source: self.planner_source()?,
            named_sources,
            functions: &functions,
        };
        Ok(factlite_planner::compile(&context, query, signature)?)
    }

    /// Runs a query and shapes its result by the find spec, within this
    /// snapshot's limits (its time limit replaced by the query's
    /// `:timeout`, if it has one).
    pub fn query(&self, query: &Query, inputs: &[Value]) -> Result<QueryResult> {
        let resolved = self.resolve_lookup_refs(query, inputs)?;
        let inputs = resolved.as_deref().unwrap_or(inputs);
        let plan = self.plan(query, inputs)?;
        self.for_query(query).run_plan(&plan, inputs)
    }

    /// The statement's parameters for a plan and its inputs, on this
    /// snapshot's view of time.
    fn parameters(&self, plan: &Plan, inputs: &[Value]) -> Result<Vec<SqlValue>> {
        let params = plan.parameters_with_databases(
            inputs,
            self.planner_source()?,
            &self.database_sources()?,
        )?;
        Ok(params.into_iter().map(to_sql_value).collect())
    }

    /// The statement's parameters, as SQLite receives them, for a plan of
    /// [`Db::plan`].
    pub fn plan_parameters(&self, plan: &Plan) -> Result<Vec<SqlLiteral>> {
        Ok(plan.parameters_with_databases(
            &[],
            self.planner_source()?,
            &self.database_sources()?,
        )?)
    }

    /// SQLite's `EXPLAIN QUERY PLAN` for a plan of [`Db::plan`], one line
    /// per step.
    pub fn explain_plan(&self, plan: &Plan) -> Result<Vec<String>> {
        let conn = &*self.store().connection();
        let params = self.parameters(plan, &[])?;
        let _fixpoint = crate::fixpoint::Evaluation::run(
            self.store().connection(),
            &plan.fixpoint,
            &params,
            &self.limits(),
        )?;
        let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {}", plan.sql))?;
        let count = statement.parameter_count();
        let mut rows = statement.query(rusqlite::params_from_iter(params.iter().take(count)))?;
        let mut lines = Vec::new();
        while let Some(row) = rows.next()? {
            lines.push(row.get::<_, String>(3)?);
        }
        Ok(lines)
    }

    /// Runs a plan with its inputs and returns the whole result, shaped by
    /// the find spec (see [`QueryResult`]). A plan of [`Db::plan`]
    /// holds its inputs' values already; one of [`Db::compile`] reads them
    /// from `inputs`, which must have its signature.
    pub fn run_plan(&self, plan: &Plan, inputs: &[Value]) -> Result<QueryResult> {
        self.with_rows(plan, inputs, |rows| rows.collect_result())?
    }

    /// Runs a plan with its inputs (as [`Db::run_plan`] does) and hands
    /// `read` the result's items as they come from SQLite (see [`ResultRows`]). The rows borrow
    /// the statement, which lives until `read` returns.
    ///
    /// The snapshot's [`crate::QueryLimits`] bound the work: its time limit the
    /// whole of it (reading the rows included), its limit on values what is
    /// gathered before the first item (rows to aggregate in Rust, rows a
    /// recursive rule derives); the items handed out are not counted.
    pub fn with_rows<R>(
        &self,
        plan: &Plan,
        inputs: &[Value],
        read: impl FnOnce(&mut ResultRows<'_>) -> R,
    ) -> Result<R> {
        let watch = Watch::start(self.store(), &self.limits());
        self.with_rows_watched(plan, inputs, &watch, read)
            .map_err(|error| watch.classify(error))
    }

    fn with_rows_watched<'w, R>(
        &'w self,
        plan: &'w Plan,
        inputs: &[Value],
        watch: &'w Watch<'w>,
        read: impl FnOnce(&mut ResultRows<'_>) -> R,
    ) -> Result<R> {
        let conn = &*self.store().connection();
        let params = self.parameters(plan, inputs)?;
        let limits = self.limits();
        // Relations computed first (recursion WITH RECURSIVE cannot express)
        // live until the statement is done; it takes a prefix of the params.
        let _fixpoint = crate::fixpoint::Evaluation::run(
            self.store().connection(),
            &plan.fixpoint,
            &params,
            &limits,
        )?;
        let mut statement = conn.prepare_cached(&plan.sql)?;
        let count = statement.parameter_count();
        let mut rows = statement.query(rusqlite::params_from_iter(params.iter().take(count)))?;
        let source = if plan.rust_aggregation {
            let mut all = Vec::new();
            while let Some(row) = rows.next()? {
                all.push(self.read_row_to_group(plan, row)?);
                limits.check_values(all.len() * plan.outputs.len(), "the rows to aggregate")?;
            }
            let mut groups = aggregate_rows(self.store(), plan, inputs, all)?;
            for group in &mut groups {
                for (value, output) in group.iter_mut().zip(&plan.outputs) {
                    if let Output::Pull {
                        pattern, database, ..
                    } = output
                    {
                        *value = self.database(*database)?.pull(pattern, value)?;
                    }
                }
            }
            RowSource::Ready(groups.into_iter())
        } else {
            RowSource::Sql(rows)
        };
        let cells_in_order = plan.outputs.len() == plan.cells.len()
            && plan.outputs.iter().enumerate().all(|(i, output)| {
                matches!(output, Output::Value(n) | Output::SqlAggregate(n) if *n == i)
            });
        let mut result_rows = ResultRows {
            db: self,
            plan,
            watch,
            rows: source,
            cells_in_order,
        };
        let value = read(&mut result_rows);
        Ok(value)
    }

    /// One SQL row for aggregation in Rust: a pull stays its entity id, so
    /// rows group by the entity rather than by what a pull shows of it (two
    /// entities may pull alike); the caller pulls once per group.
    fn read_row_to_group(&self, plan: &Plan, row: &rusqlite::Row<'_>) -> Result<Vec<Value>> {
        let mut cells = Vec::with_capacity(plan.cells.len());
        self.read_cells(plan, row, &mut cells)?;
        plan.outputs
            .iter()
            .map(|output| match output {
                Output::Pull { cell, .. } => Ok(cells[*cell].clone()),
                other => self.output(other, &cells),
            })
            .collect()
    }

    /// Appends the decoded cells of one SQL row to `cells`.
    fn read_cells(
        &self,
        plan: &Plan,
        row: &rusqlite::Row<'_>,
        cells: &mut Vec<Value>,
    ) -> Result<()> {
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
        Ok(())
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
            Output::Collection { kind, items } => {
                let values = items
                    .iter()
                    .map(|i| self.output(i, cells))
                    .collect::<Result<Vec<_>>>()?;
                match kind {
                    CollectionKind::Set => Value::Set(values.into_iter().collect()),
                    CollectionKind::Map => {
                        let mut values = values.into_iter();
                        let mut map = factlite_edn::IndexMap::new();
                        while let (Some(key), Some(value)) = (values.next(), values.next()) {
                            map.insert(key, value);
                        }
                        Value::Map(map)
                    }
                }
            }
            Output::Pull {
                cell,
                pattern,
                database,
            } => self.database(*database)?.pull(pattern, &cells[*cell])?,
            // Filled in by aggregation: the row keeps the aggregate's input.
            Output::Aggregate { args, .. } => match args.last() {
                Some(AggregateInput::Column(column)) => self.output(column, cells)?,
                _ => Value::Nil,
            },
        })
    }
}

fn decode(raw: rusqlite::types::ValueRef<'_>, tag: i64) -> Result<Value> {
    use factlite_core::ValueType;
    use rusqlite::types::ValueRef as Raw;
    let value_type = ValueType::from_tag(tag);
    // The shapes most results are made of decode straight to their value;
    // the rest go through the stored value's decoding.
    match (raw, value_type) {
        (Raw::Null, _) => return Ok(Value::Nil),
        (Raw::Integer(i), Some(ValueType::Ref | ValueType::Long)) => return Ok(Value::Integer(i)),
        // Stored longs are integers: a real in a long's place is arithmetic
        // (`+`, `-`, `*`) that SQLite carried past the 64-bit range.
        (Raw::Real(x), Some(ValueType::Long)) => {
            return Err(Error::Query(format!(
                "integer overflow: the result {x} does not fit a 64-bit long"
            )))
        }
        (Raw::Real(x), Some(ValueType::Double)) => return Ok(Value::Float(x)),
        (Raw::Integer(ms), Some(ValueType::Instant)) => {
            return Ok(Value::Inst(factlite_edn::Instant(ms)))
        }
        _ => {}
    }
    // Text moves into the value instead of being copied.
    Ok(match from_sql(raw, tag)? {
        TypedValue::String(text) => Value::String(text),
        other => other.to_edn(),
    })
}

/// Groups rows by their non-aggregate outputs and computes the aggregates.
fn aggregate_rows(
    store: &crate::Store,
    plan: &Plan,
    inputs: &[Value],
    rows: Vec<Vec<Value>>,
) -> Result<Vec<Vec<Value>>> {
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
            let mut constants: Vec<Value> = Vec::new();
            for arg in args {
                constants.extend(arg.parameter(inputs)?);
            }
            let values: Vec<Value> = members.iter().map(|m| m[position].clone()).collect();
            row[position] = match store.registered_aggregate(name, &values) {
                Some(value) => value?,
                None => aggregate::compute(name, &constants, &values)?,
            };
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
/// as `plan`'s result, as [`Db::run_plan`] returns it.
pub fn shape_rows(plan: &Plan, rows: Vec<Vec<Value>>) -> QueryResult {
    let mut rows = rows.into_iter();
    match plan.shape {
        Shape::Relation => {
            let mut relation =
                Relation::new(plan.outputs.len(), plan.return_maps.clone(), plan.ordered);
            relation.cells_mut().extend(rows.flatten());
            QueryResult::Relation(relation)
        }
        Shape::Collection => QueryResult::Collection {
            values: rows.filter_map(|row| row.into_iter().next()).collect(),
            ordered: plan.ordered,
        },
        Shape::Scalar => QueryResult::Scalar(rows.next().and_then(|row| row.into_iter().next())),
        Shape::Tuple => QueryResult::Tuple(rows.next()),
    }
}

/// One item of a streamed result, from the values of the find elements: a
/// tuple (vector or map) of a relation, the value of a collection or a
/// scalar, the vector of a tuple.
fn item(plan: &Plan, row: Vec<Value>) -> Value {
    match plan.shape {
        Shape::Relation => relation_tuple(plan.return_maps.as_ref(), row),
        Shape::Tuple => Value::Vector(row),
        Shape::Collection | Shape::Scalar => row.into_iter().next().unwrap_or(Value::Nil),
    }
}

#[cfg(test)]
mod tests {
    use super::decode;
    use crate::encode::from_sql;
    use factlite_core::ValueType;
    use rusqlite::types::ValueRef;

    /// The shortcuts `decode` takes agree with the stored value's own
    /// decoding, for every type whose stored shape they cover.
    #[test]
    fn decoding_a_cell_agrees_with_decoding_the_stored_value() {
        let cases = [
            (ValueRef::Integer(42), ValueType::Ref),
            (ValueRef::Integer(-7), ValueType::Long),
            (ValueRef::Integer(1_700_000_000_000), ValueType::Instant),
            (ValueRef::Integer(1), ValueType::Boolean),
            (ValueRef::Real(2.5), ValueType::Double),
            (ValueRef::Integer(3), ValueType::Double),
            (ValueRef::Real(0.5), ValueType::Float),
            (ValueRef::Text(b"ann"), ValueType::String),
            (ValueRef::Text(b"person/name"), ValueType::Keyword),
        ];
        for (raw, value_type) in cases {
            let stored = from_sql(raw, value_type.tag()).expect("a stored value");
            let cell = decode(raw, value_type.tag()).expect("a cell");
            assert_eq!(cell, stored.to_edn(), "{raw:?} as {value_type}");
        }
        assert_eq!(
            decode(ValueRef::Null, ValueType::Long.tag()).expect("nil"),
            factlite_edn::Value::Nil
        );
    }

    #[test]
    fn a_real_where_a_long_belongs_is_an_overflow() {
        let error = decode(ValueRef::Real(1e20), ValueType::Long.tag()).expect_err("overflow");
        assert!(
            error.to_string().contains("does not fit a 64-bit long"),
            "{error}"
        );
    }
}
