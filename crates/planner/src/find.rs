//! The find step: the SELECT list, aggregation (in SQL when SQLite can, else
//! marked for the executor), ordering, paging and the WITH clause.
//!
//! Results are sets: the SELECT is `DISTINCT` over the find and `:with`
//! variables, so duplicate bindings collapse in SQLite — unless the rows
//! are distinct already (`distinct`). Aggregates run over
//! that distinct set of bindings, as in Datomic.

use factlite_core::order::KEYWORD_COLLATION;
use factlite_core::ValueType;
use factlite_query::{AggregateArg, FindElem, FindSpec, PatternRef, Query};

use crate::bound::{Expr, Ty, Var};
use crate::compile::Frame;
use crate::error::{Error, Result};
use crate::shared::Shared;
use crate::{AggregateInput, Cell, Output, Param, Plan, Shape, SqlLiteral};

/// Aggregates SQLite computes itself.
const SQL_AGGREGATES: [&str; 6] = ["count", "count-distinct", "sum", "avg", "min", "max"];

/// Aggregates the executor knows.
pub const AGGREGATES: [&str; 14] = [
    "count",
    "count-distinct",
    "sum",
    "avg",
    "min",
    "max",
    "median",
    "variance",
    "stddev",
    "distinct",
    "sample",
    "rand",
    "first",
    "last",
];

struct Columns {
    /// `expr AS cN` items.
    select: Vec<String>,
    cells: Vec<Cell>,
}

impl Columns {
    /// Adds the cells of a bound value; returns how to read it back.
    fn push(&mut self, var: &Var) -> Output {
        match &var.ty {
            Ty::Known(t) => {
                let n = self.cells.len();
                self.select.push(format!("{} AS c{n}", var.expr));
                self.cells.push(Cell::Typed(*t));
                Output::Value(n)
            }
            Ty::Dynamic(tag) => {
                // An entity id is a long in a result (as in joins, see
                // `compile::equal`): the two share a tag here, so that
                // `DISTINCT`, grouping and ordering take them as one value.
                let n = self.cells.len();
                let (entity, long) = (ValueType::Ref.tag(), ValueType::Long.tag());
                self.select.push(format!(
                    "{} AS c{n}, CASE {tag} WHEN {entity} THEN {long} ELSE {tag} END AS c{n}t",
                    var.expr
                ));
                self.cells.push(Cell::Dynamic);
                Output::Value(n)
            }
            Ty::Tuple(items) => Output::Tuple(items.iter().map(|item| self.push(item)).collect()),
            Ty::Collection(kind, items) => Output::Collection {
                kind: *kind,
                items: items.iter().map(|item| self.push(item)).collect(),
            },
        }
    }
}

fn lookup<'f>(frame: &'f Frame<'_, '_>, name: &str, place: &str) -> Result<&'f Var> {
    frame.vars.get(name).ok_or_else(|| {
        Error::Query(format!(
            "{name} in {place} is not bound by any :where clause"
        ))
    })
}

/// The column names of an output, for ORDER BY and GROUP BY.
/// The `ORDER BY` keys of an output, in the total order of values
/// (`factlite_core::order`): by the type's class first when the type
/// varies (numbers of every type together), then by value, keywords by
/// namespace and then name (the keyword collation) rather than by their
/// stored text.
fn order_keys(output: &Output, cells: &[Cell], out: &mut Vec<String>) {
    match output {
        Output::Value(n) | Output::SqlAggregate(n) | Output::Pull { cell: n, .. } => {
            match cells[*n] {
                Cell::Dynamic => {
                    let classes: Vec<String> = ValueType::ALL
                        .iter()
                        .map(|t| format!("WHEN {} THEN {}", t.tag(), t.order_class()))
                        .collect();
                    let (keyword, symbol) = (ValueType::Keyword.tag(), ValueType::Symbol.tag());
                    out.push(format!("(CASE c{n}t {} ELSE 0 END)", classes.join(" ")));
                    out.push(format!(
                        "(CASE WHEN c{n}t IN ({keyword}, {symbol}) THEN c{n} END) COLLATE {KEYWORD_COLLATION}"
                    ));
                    // Numbers of every type by value: big numbers are
                    // blobs, which SQLite orders after every number.
                    let numeric: Vec<String> = ValueType::ALL
                        .iter()
                        .filter(|t| t.is_numeric())
                        .map(|t| t.tag().to_string())
                        .collect();
                    out.push(format!(
                        "(CASE WHEN c{n}t IN ({}) THEN factlite_number_key(c{n}, c{n}t) END)",
                        numeric.join(", ")
                    ));
                    out.push(format!("c{n}"));
                }
                Cell::Typed(ValueType::Keyword | ValueType::Symbol) => {
                    out.push(format!("c{n} COLLATE {KEYWORD_COLLATION}"))
                }
                Cell::Typed(_) => out.push(format!("c{n}")),
            }
        }
        Output::Tuple(items) | Output::Collection { items, .. } => {
            items.iter().for_each(|i| order_keys(i, cells, out))
        }
        Output::Aggregate { .. } => {}
    }
}

/// A variable given as an aggregate's parameter (`?n` of `(max ?n ?x)`):
/// a scalar input, or a constant bound by `ground`.
fn aggregate_parameter(
    shared: &Shared<'_>,
    frame: &Frame<'_, '_>,
    name: &str,
    aggregate: &str,
) -> Result<AggregateInput> {
    let not_a_parameter = || {
        Error::Query(format!(
            "{name} in ({aggregate} {name} ...) must be a scalar :in input or a constant: \
             an aggregate's parameter is one value for the whole query"
        ))
    };
    let var = frame.vars.get(name).ok_or_else(not_a_parameter)?;
    let index = match var.expr {
        Expr::Param(n) => n.checked_sub(1),
        _ => None,
    }
    .ok_or_else(not_a_parameter)?;
    match shared.params.borrow().get(index) {
        Some(Param::Input { input, path }) => Ok(AggregateInput::Input {
            input: *input,
            path: path.clone(),
        }),
        Some(Param::Constant(SqlLiteral::Integer(n))) => {
            Ok(AggregateInput::Constant(factlite_edn::Value::Integer(*n)))
        }
        _ => Err(not_a_parameter()),
    }
}

/// Builds the plan from the compiled `:where` frame: its [`select`] in
/// the WITH clause of the query's common table expressions.
pub fn finish(
    shared: &Shared<'_>,
    frame: Frame<'_, '_>,
    query: &Query,
    signature: &crate::Signature,
) -> Result<Plan> {
    let Select {
        mut sql,
        cells,
        outputs,
        shape,
        rust_aggregation,
        order_in_rust,
        limit_in_rust,
    } = select(shared, frame, query, Some(signature))?;
    let ctes = shared.ctes.borrow();
    if !ctes.is_empty() {
        let keyword = if *shared.recursive.borrow() {
            "WITH RECURSIVE"
        } else {
            "WITH"
        };
        sql = format!("{keyword} {} {sql}", ctes.join(", "));
    }
    Ok(Plan {
        sql,
        params: shared.params.borrow().clone(),
        cells,
        outputs,
        shape,
        return_maps: query.return_maps.clone(),
        rust_aggregation,
        order_in_rust,
        limit_in_rust,
        ordered: !query.order_by.is_empty(),
        fixpoint: shared.rules.take_fixpoints(),
    })
}

/// The SELECT of a find spec over a compiled `:where` frame (the WITH
/// clause left to the caller), and how its rows become the result.
pub struct Select {
    /// The statement, without the WITH clause.
    pub sql: String,
    /// How each row's cells are read.
    pub cells: Vec<Cell>,
    /// One per find element.
    pub outputs: Vec<Output>,
    /// The result's shape.
    pub shape: Shape,
    /// Whether the executor aggregates (see [`Plan::rust_aggregation`]).
    pub rust_aggregation: bool,
    /// See [`Plan::order_in_rust`].
    pub order_in_rust: Vec<(usize, bool)>,
    /// See [`Plan::limit_in_rust`].
    pub limit_in_rust: Option<(Option<u64>, u64)>,
}

/// The aggregates of numbers (`sum`, `avg`, `variance`, `stddev`; not
/// `median`, which takes the middle of any ordered values) over a
/// variable whose values are known to be no numbers are
/// refused when planning, as the executor refuses such values when their
/// type is known only per row.
fn check_numeric_aggregates(frame: &Frame<'_, '_>, elements: &[FindElem]) -> Result<()> {
    for element in elements {
        let FindElem::Aggregate { name, args } = element else {
            continue;
        };
        if !matches!(name.as_str(), "sum" | "avg" | "variance" | "stddev") {
            continue;
        }
        for arg in args {
            let AggregateArg::Variable(v) = arg else {
                continue;
            };
            if let Some(Ty::Known(t)) = frame.vars.get(&v.0).map(|var| &var.ty) {
                if !t.is_numeric() {
                    return Err(Error::Query(format!(
                        "({name} {}) needs numbers, and {} holds {}",
                        v.0,
                        v.0,
                        t.a_name()
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The SELECT of `query`'s find spec over its compiled `:where` frame.
/// `signature` holds the pull patterns given as inputs (none for a
/// nested query).
pub fn select(
    shared: &Shared<'_>,
    frame: Frame<'_, '_>,
    query: &Query,
    signature: Option<&crate::Signature>,
) -> Result<Select> {
    let elements = query.find.elements();
    check_numeric_aggregates(&frame, elements)?;
    let has_aggregates = elements
        .iter()
        .any(|e| matches!(e, FindElem::Aggregate { .. }));
    let sql_aggregation = has_aggregates
        && elements.iter().all(|e| match e {
            FindElem::Aggregate { name, args } => {
                SQL_AGGREGATES.contains(&name.as_str())
                    && args.len() == 1
                    && matches!(&args[0], AggregateArg::Variable(v)
                    if matches!(frame.vars.get(&v.0).map(|x| &x.ty), Some(Ty::Known(t))
                        // SQLite cannot add number keys: big sums and
                        // averages are the executor's.
                        if !(t.is_stored_as_number_key() && matches!(name.as_str(), "sum" | "avg"))))
            }
            _ => true,
        });
    let mut columns = Columns {
        select: Vec::new(),
        cells: Vec::new(),
    };
    let mut outputs = Vec::new();
    // The variables whose values the rows carry.
    let mut projected: Vec<String> = query.with.iter().map(|v| v.0.clone()).collect();
    for element in elements {
        match element {
            FindElem::Variable(v) | FindElem::Pull { var: v, .. } => projected.push(v.0.clone()),
            FindElem::Aggregate { args, .. } => {
                projected.extend(args.iter().filter_map(|arg| match arg {
                    AggregateArg::Variable(v) => Some(v.0.clone()),
                    AggregateArg::Constant(_) => None,
                }))
            }
        }
        let output = match element {
            FindElem::Variable(v) => columns.push(lookup(&frame, &v.0, ":find")?),
            FindElem::Pull {
                var,
                pattern,
                source,
            } => {
                let name = source.as_ref().map_or("$", |source| source.0.as_str());
                let database = shared.databases.named(name).ok_or_else(|| {
                    Error::Query(format!(
                        "(pull {name} ...) reads a database, and {name} is none of the query's"
                    ))
                })?;
                let pattern = match pattern {
                    PatternRef::Pattern(pattern) => pattern,
                    PatternRef::Variable(v) => signature
                        .and_then(|signature| signature.pull_pattern(&v.0))
                        .ok_or_else(|| {
                            Error::Query(format!(
                                "the pull pattern {} is not a plain :in variable (:in $ {} ...)",
                                v.0, v.0
                            ))
                        })?,
                };
                let bound = lookup(&frame, &var.0, ":find")?;
                // An entity id, or an ident naming its entity (as in a
                // pattern's entity position); no other value is an entity.
                let expr = match &bound.ty {
                    Ty::Known(ValueType::Keyword) => frame.ident_entity(bound),
                    Ty::Known(ValueType::Ref | ValueType::Long) | Ty::Dynamic(_) => {
                        bound.expr.clone()
                    }
                    Ty::Known(other) => {
                        return Err(Error::Query(format!(
                            "(pull {} ...) pulls an entity, and {} is {}",
                            var.0,
                            var.0,
                            other.a_name()
                        )))
                    }
                    Ty::Tuple(_) | Ty::Collection(..) => {
                        return Err(Error::Query(format!(
                            "(pull {} ...) pulls an entity, and {} is a tuple or a collection",
                            var.0, var.0
                        )))
                    }
                };
                let entity = Var {
                    expr,
                    ty: Ty::Known(ValueType::Ref),
                };
                match columns.push(&entity) {
                    Output::Value(cell) => Output::Pull {
                        cell,
                        pattern: pattern.clone(),
                        database,
                    },
                    _ => unreachable!("an entity is one cell"),
                }
            }
            FindElem::Aggregate { name, args } => {
                let registered = shared
                    .functions
                    .iter()
                    .any(|f| f.aggregate && &f.name == name);
                if !AGGREGATES.contains(&name.as_str()) && !registered {
                    return Err(Error::Query(format!("unknown aggregate ({name} ...)")));
                }
                let mut inputs = Vec::new();
                let last = args.len().saturating_sub(1);
                for (position, arg) in args.iter().enumerate() {
                    inputs.push(match arg {
                        AggregateArg::Constant(value) => AggregateInput::Constant(value.clone()),
                        // A parameter before the aggregated variable, such as
                        // the count of `(max ?n ?x)`: one value for the whole
                        // query, from `:in` (or `ground`).
                        AggregateArg::Variable(v) if position < last => {
                            aggregate_parameter(shared, &frame, &v.0, name)?
                        }
                        AggregateArg::Variable(v) => AggregateInput::Column(Box::new(
                            columns.push(lookup(&frame, &v.0, ":find")?),
                        )),
                    });
                }
                if !matches!(inputs.last(), Some(AggregateInput::Column(_))) {
                    return Err(Error::Query(format!(
                        "aggregate ({name} ...) needs a variable as its last argument"
                    )));
                }
                Output::Aggregate {
                    name: name.clone(),
                    args: inputs,
                }
            }
        };
        outputs.push(output);
    }
    for v in &query.with {
        columns.push(lookup(&frame, &v.0, ":with")?);
    }
    if columns.select.is_empty() {
        columns.select.push("1 AS c0".into());
    }

    let distinct = if crate::distinct::rows_are_distinct(
        shared.schema,
        shared.source,
        query,
        &projected,
        &|name| shared.rules.recursive_relation(name).is_some(),
    ) {
        ""
    } else {
        "DISTINCT "
    };
    let mut sql = format!(
        "SELECT {distinct}{}{}{}",
        columns.select.join(", "),
        frame.sql_from(),
        frame.sql_where()
    );
    let mut cells = columns.cells.clone();
    if sql_aggregation {
        let (outer, outer_cells) = sql_aggregate(&sql, &columns.cells, &mut outputs)?;
        sql = outer;
        cells = outer_cells;
    }

    let order_terms = query
        .order_by
        .iter()
        .map(|term| {
            term.position(elements)
                .map(|i| (i, term.descending))
                .ok_or_else(|| {
                    Error::Query(format!(
                        "{} in :order-by is not a variable or aggregate of :find",
                        term.to_edn()
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let rust_aggregation = has_aggregates && !sql_aggregation;
    let shape = match &query.find {
        FindSpec::Relation(_) => Shape::Relation,
        FindSpec::Collection(_) => Shape::Collection,
        FindSpec::Scalar(_) => Shape::Scalar,
        FindSpec::Tuple(_) => Shape::Tuple,
    };
    let mut order_in_rust = Vec::new();
    let mut limit_in_rust = None;
    if rust_aggregation {
        order_in_rust = order_terms.clone();
        if query.limit.is_some() || query.offset.is_some() {
            limit_in_rust = Some((query.limit, query.offset.unwrap_or(0)));
        }
    } else {
        if !order_terms.is_empty() {
            let mut keys = Vec::new();
            for (index, descending) in &order_terms {
                let mut names = Vec::new();
                order_keys(&outputs[*index], &cells, &mut names);
                keys.extend(names.into_iter().map(|n| {
                    if *descending {
                        format!("{n} DESC")
                    } else {
                        n
                    }
                }));
            }
            sql.push_str(&format!(" ORDER BY {}", keys.join(", ")));
        }
        let single = matches!(shape, Shape::Scalar | Shape::Tuple);
        let limit = if single {
            Some(query.limit.unwrap_or(1).min(1))
        } else {
            query.limit
        };
        if single && query.limit.is_none() && query.offset.is_none() {
            // The one row of a scalar or tuple. Not a parameter: SQLite
            // plans with a bound LIMIT's value, so it would prepare the
            // statement again every time the value is bound.
            sql.push_str(" LIMIT 1");
        } else if limit.is_some() || query.offset.is_some() {
            let limit = shared.param(SqlLiteral::Integer(
                limit.map_or(-1, |l| l.min(i64::MAX as u64) as i64),
            ));
            let offset = shared.param(SqlLiteral::Integer(
                query.offset.unwrap_or(0).min(i64::MAX as u64) as i64,
            ));
            sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
        }
    }
    Ok(Select {
        sql,
        cells,
        outputs,
        shape,
        rust_aggregation,
        order_in_rust,
        limit_in_rust,
    })
}

/// Wraps the distinct bindings in a GROUP BY computing SQL aggregates.
fn sql_aggregate(
    inner: &str,
    cells: &[Cell],
    outputs: &mut [Output],
) -> Result<(String, Vec<Cell>)> {
    let mut select = Vec::new();
    let mut group = Vec::new();
    let mut new_cells = Vec::new();
    for output in outputs.iter_mut() {
        let n = new_cells.len();
        match output {
            Output::Aggregate { name, args } => {
                let Some(AggregateInput::Column(column)) = args.last() else {
                    return Err(Error::Query(format!(
                        "aggregate ({name} ...) needs a variable"
                    )));
                };
                let Output::Value(source) = **column else {
                    return Err(Error::Query(format!(
                        "aggregate ({name} ...) needs a plain variable"
                    )));
                };
                let Cell::Typed(value_type) = cells[source] else {
                    return Err(Error::Query(format!(
                        "aggregate ({name} ...) needs a typed variable"
                    )));
                };
                let (expr, result_type) = match name.as_str() {
                    "count" => (format!("count(c{source})"), ValueType::Long),
                    "count-distinct" => (format!("count(DISTINCT c{source})"), ValueType::Long),
                    "sum" => (format!("sum(c{source})"), value_type),
                    "avg" => (format!("avg(c{source})"), ValueType::Double),
                    "min" | "max"
                        if matches!(value_type, ValueType::Keyword | ValueType::Symbol) =>
                    {
                        (
                            format!("{name}(c{source} COLLATE {KEYWORD_COLLATION})"),
                            value_type,
                        )
                    }
                    "min" => (format!("min(c{source})"), value_type),
                    "max" => (format!("max(c{source})"), value_type),
                    other => {
                        return Err(Error::Query(format!(
                            "({other} ...) is not a SQL aggregate"
                        )))
                    }
                };
                select.push(format!("{expr} AS c{n}"));
                new_cells.push(Cell::Typed(result_type));
                *output = Output::SqlAggregate(n);
            }
            other => {
                let mut names = Vec::new();
                remap(other, cells, &mut new_cells, &mut select, &mut names);
                group.extend(names);
            }
        }
    }
    let mut sql = format!("SELECT {} FROM ({inner})", select.join(", "));
    if group.is_empty() {
        sql.push_str(" HAVING count(*) > 0");
    } else {
        sql.push_str(&format!(" GROUP BY {}", group.join(", ")));
    }
    Ok((sql, new_cells))
}

/// Re-numbers a grouped output's cells for the outer SELECT.
fn remap(
    output: &mut Output,
    cells: &[Cell],
    new_cells: &mut Vec<Cell>,
    select: &mut Vec<String>,
    group: &mut Vec<String>,
) {
    match output {
        Output::Value(n) | Output::Pull { cell: n, .. } => {
            let m = new_cells.len();
            if cells[*n] == Cell::Dynamic {
                select.push(format!("c{n} AS c{m}, c{n}t AS c{m}t"));
                group.push(format!("c{n}t"));
            } else {
                select.push(format!("c{n} AS c{m}"));
            }
            group.push(format!("c{n}"));
            new_cells.push(cells[*n]);
            *n = m;
        }
        Output::Tuple(items) | Output::Collection { items, .. } => items
            .iter_mut()
            .for_each(|i| remap(i, cells, new_cells, select, group)),
        Output::SqlAggregate(_) | Output::Aggregate { .. } => {}
    }
}
