//! Nested queries (`[(q [:find ...] $ ?x) binding]`, see
//! [`factlite_query::NestedQuery`]) compiled into the calling statement: the
//! inner query becomes a derived table joined like any relation, not a
//! query run once per row.
//!
//! The inner query is a scope of its own: it sees only what its `:in`
//! receives. `$` is the source given for it (`$`, or a database or
//! collection given as `$h`); a scalar input given a constant, or a
//! variable bound to one value for the whole query (an input, `ground`),
//! is that value. A scalar input given a variable the calling clauses bound
//! to a column is *correlated*: the inner query is computed for every
//! value of it at once — starting from the distinct values the calling
//! clauses bound so far (a seed), or, where a seed cannot be built (inside
//! `not`, an `or` tested with `EXISTS`, a recursive rule), from the
//! values its own clauses bind —, the variable becomes one more grouping
//! column of its result, and the join matches it. So an aggregate is one
//! per value, as Datomic's call once per binding gives it, and a value for
//! which the inner query finds nothing matches nothing (Datomic's empty
//! result; an aggregate over no rows is none either).
//!
//! The result binds as its find spec shapes it: a relation to
//! `[[?a ?b]]`, a collection to `[?a ...]`, a scalar to `?a`, a tuple to
//! `[?a ?b]` (a scalar or tuple is one row, per correlated value). Inner
//! aggregates must be SQL's (`count`, `sum`, `min`, ...), and a pull, a rule
//! set of its own, or paging of a correlated inner query are refused.

use factlite_query::{Binding, FindElem, FindSpec, FnCall, Input, Term};

use crate::bound::{Expr, Ty, Var};
use crate::compile::Frame;
use crate::compile_fns::bind_scalar;
use crate::error::{Error, Result};
use crate::find::Select;
use crate::{Cell, Output};

/// A correlated input: the inner variable and the calling clauses' one.
struct Correlated {
    inner: String,
    outer: String,
    var: Var,
}

/// Compiles `[(q query arg ...) binding]` in `frame`.
pub fn nested_query(frame: &mut Frame<'_, '_>, call: &FnCall, binding: &Binding) -> Result<()> {
    let nested = match call.nested_query() {
        Some(parsed) => parsed.map_err(|error| Error::Parse(error.to_string()))?,
        None => return Err(Error::Query(format!("{call} is not a nested query"))),
    };
    let inputs = nested.inputs();
    if inputs.len() != nested.args.len() {
        return Err(Error::Query(format!(
            "{call}: the nested query's :in takes {} argument(s), but {} were given",
            inputs.len(),
            nested.args.len()
        )));
    }
    let shared = frame.shared;
    let mut inner = Frame::new(shared);
    let mut clauses = nested.query.where_clauses.clone();
    let mut correlated = Vec::new();
    for (input, arg) in inputs.iter().zip(&nested.args) {
        match (input, arg) {
            (Input::Source(source), Term::Source(given)) if source.0 == "$" => {
                if given.0 != "$" {
                    clauses = clauses
                        .into_iter()
                        .map(|c| c.reading_dollar_from(given))
                        .collect();
                }
            }
            (Input::Source(source), Term::Source(given)) if source == given => {}
            (Input::Source(source), other) => {
                return Err(Error::Query(format!(
                    "{call}: the nested query's {} is given {other}; give it $ or a data \
                     source of the calling query (one other than $ under its own name)",
                    source.0
                )))
            }
            (Input::Rules, _) => {
                return Err(Error::Query(format!(
                    "{call}: a nested query takes no rule set of its own (%); it calls the \
                     calling query's rules"
                )))
            }
            (Input::Binding(binding), Term::Constant(value)) => {
                crate::inputs::bind_constant(&mut inner, binding, value)?
            }
            (Input::Binding(Binding::Variable(variable)), Term::Variable(given)) => {
                let var = frame
                    .vars
                    .get(&given.0)
                    .cloned()
                    .ok_or_else(|| Error::Query(format!("{call}: {} is not bound", given.0)))?;
                if var.reads_a_column() {
                    correlated.push(Correlated {
                        inner: variable.0.clone(),
                        outer: given.0.clone(),
                        var,
                    });
                } else {
                    inner.bind(&variable.0, var);
                }
            }
            (Input::Binding(binding), other) => {
                return Err(Error::Query(format!(
                    "{call}: the nested query binds {binding} to {other}; give a constant \
                     (a variable fits a scalar input ?x only)"
                )))
            }
        }
    }
    let seeded = !correlated.is_empty() && frame.may_seed();
    if seeded {
        seed(frame, &mut inner, &correlated);
    }
    inner.compile_clauses(clauses)?;
    for input in &correlated {
        if !inner.vars.contains_key(&input.inner) {
            return Err(Error::Query(format!(
                "{call}: here (inside not, or a rule) the nested query must bind {} in its \
                 own clauses, as it takes {} from the calling clauses",
                input.inner, input.outer
            )));
        }
    }
    let select = inner_select(frame, call, inner, &nested.query, &correlated)?;
    let alias = shared.alias("q");
    frame.from.push(format!("({}) AS {alias}", select.sql));
    let mut columns: Vec<Var> = select
        .outputs
        .iter()
        .map(|output| column(&alias, output, &select.cells))
        .collect::<Result<_>>()?;
    let results = columns.split_off(correlated.len());
    for (input, key) in correlated.iter().zip(columns) {
        frame.bind(&input.outer, key);
    }
    bind_result(frame, call, &nested.query.find, binding, results)
}

/// Joins the distinct values the calling clauses bound to the correlated
/// variables into the inner scope, as the inner variables' values.
fn seed(frame: &Frame<'_, '_>, inner: &mut Frame<'_, '_>, correlated: &[Correlated]) {
    let alias = frame.shared.alias("k");
    let mut select = Vec::new();
    for (i, input) in correlated.iter().enumerate() {
        select.push(format!("{} AS k{i}", input.var.expr));
        let ty = match &input.var.ty {
            Ty::Dynamic(tag) => {
                select.push(format!("{tag} AS kt{i}"));
                Ty::Dynamic(format!("{alias}.kt{i}"))
            }
            other => other.clone(),
        };
        inner.bind(
            &input.inner,
            Var {
                expr: Expr::column(&alias, format!("k{i}")),
                ty,
            },
        );
    }
    inner.from.push(format!(
        "(SELECT DISTINCT {}{}{}) AS {alias}",
        select.join(", "),
        frame.sql_from(),
        frame.sql_where()
    ));
}

/// The inner query's SELECT: the correlated variables first (grouping
/// its aggregates), then its find elements; one row per correlated value
/// for a scalar or tuple.
fn inner_select(
    frame: &Frame<'_, '_>,
    call: &FnCall,
    inner: Frame<'_, '_>,
    query: &factlite_query::Query,
    correlated: &[Correlated],
) -> Result<Select> {
    let refused = |what: &str| {
        Err(Error::Query(format!(
            "{call}: a nested query {what} is not supported"
        )))
    };
    if query
        .find
        .elements()
        .iter()
        .any(|e| matches!(e, FindElem::Pull { .. }))
    {
        return refused("with pull in its :find");
    }
    if query.return_maps.is_some() {
        return refused("with :keys, :strs or :syms");
    }
    let mut query = query.clone();
    query.where_clauses.clear();
    // A scalar or tuple of aggregates is one row per group already.
    let single = matches!(query.find, FindSpec::Scalar(_) | FindSpec::Tuple(_))
        && !query
            .find
            .elements()
            .iter()
            .all(|e| matches!(e, FindElem::Aggregate { .. }));
    if !correlated.is_empty() {
        if query.limit.is_some() || query.offset.is_some() {
            return refused("with :limit or :offset and an input from the calling clauses");
        }
        let mut elements: Vec<FindElem> = correlated
            .iter()
            .map(|input| FindElem::Variable(factlite_query::Variable(input.inner.clone())))
            .collect();
        elements.extend(query.find.elements().iter().cloned());
        query.find = FindSpec::Relation(elements);
        query.order_by.clear();
    }
    let mut select = crate::find::select(frame.shared, inner, &query, None)?;
    if select.rust_aggregation {
        return refused("with an aggregate SQL does not compute (count, sum, avg, min, max do)");
    }
    if single && !correlated.is_empty() {
        // One row per correlated value: SQLite takes the other columns of
        // a group from one of its rows (Datomic returns any one row).
        let keys: Vec<String> = select.outputs[..correlated.len()]
            .iter()
            .flat_map(|output| cell_names(output, &select.cells))
            .collect();
        select.sql = format!(
            "SELECT * FROM ({}) GROUP BY {}",
            select.sql,
            keys.join(", ")
        );
    }
    Ok(select)
}

/// The column names of an output of the inner SELECT.
fn cell_names(output: &Output, cells: &[Cell]) -> Vec<String> {
    match output {
        Output::Value(n) | Output::SqlAggregate(n) => match cells[*n] {
            Cell::Dynamic => vec![format!("c{n}"), format!("c{n}t")],
            Cell::Typed(_) => vec![format!("c{n}")],
        },
        Output::Tuple(items) | Output::Collection { items, .. } => {
            items.iter().flat_map(|i| cell_names(i, cells)).collect()
        }
        Output::Pull { .. } | Output::Aggregate { .. } => Vec::new(),
    }
}

/// The binding of an output of the inner SELECT, read through `alias`.
fn column(alias: &str, output: &Output, cells: &[Cell]) -> Result<Var> {
    match output {
        Output::Value(n) | Output::SqlAggregate(n) => Ok(match cells[*n] {
            Cell::Typed(value_type) => Var {
                expr: Expr::column(alias, format!("c{n}")),
                ty: Ty::Known(value_type),
            },
            Cell::Dynamic => Var {
                expr: Expr::column(alias, format!("c{n}")),
                ty: Ty::Dynamic(format!("{alias}.c{n}t")),
            },
        }),
        Output::Tuple(items) => Ok(Var {
            expr: Expr::null(),
            ty: Ty::Tuple(columns(alias, items, cells)?),
        }),
        Output::Collection { kind, items } => Ok(Var {
            expr: Expr::null(),
            ty: Ty::Collection(*kind, columns(alias, items, cells)?),
        }),
        Output::Pull { .. } | Output::Aggregate { .. } => Err(Error::Query(
            "a nested query's result holds a pull or an aggregate SQL does not compute".into(),
        )),
    }
}

fn columns(alias: &str, items: &[Output], cells: &[Cell]) -> Result<Vec<Var>> {
    items
        .iter()
        .map(|item| column(alias, item, cells))
        .collect()
}

/// Binds the inner query's result as its find spec shapes it.
fn bind_result(
    frame: &mut Frame<'_, '_>,
    call: &FnCall,
    find: &FindSpec,
    binding: &Binding,
    mut results: Vec<Var>,
) -> Result<()> {
    let mismatch = |expected: &str| {
        Err(Error::Query(format!(
            "{call} returns {}; bind it as {expected}, not {binding}",
            match find {
                FindSpec::Relation(_) => "a relation",
                FindSpec::Collection(_) => "a collection",
                FindSpec::Scalar(_) => "one value",
                FindSpec::Tuple(_) => "a tuple",
            }
        )))
    };
    match (find, binding) {
        (FindSpec::Relation(_), Binding::Relation(items))
        | (FindSpec::Tuple(_), Binding::Tuple(items)) => {
            if items.len() > results.len() {
                return Err(Error::Query(format!(
                    "{call} returns {} value(s) a row, fewer than {binding} binds",
                    results.len()
                )));
            }
            for (item, var) in items.iter().zip(results) {
                bind_scalar(frame, item, var)?;
            }
            Ok(())
        }
        (FindSpec::Collection(_), Binding::Collection(item)) => match results.pop() {
            Some(var) => bind_scalar(frame, item, var),
            None => mismatch("[?x ...]"),
        },
        (FindSpec::Scalar(_), Binding::Variable(_) | Binding::Blank) => match results.pop() {
            Some(var) => bind_scalar(frame, binding, var),
            None => mismatch("?x"),
        },
        (FindSpec::Relation(_), _) => mismatch("a relation [[?a ...]]"),
        (FindSpec::Collection(_), _) => mismatch("a collection [?a ...]"),
        (FindSpec::Scalar(_), _) => mismatch("a scalar ?a"),
        (FindSpec::Tuple(_), _) => mismatch("a tuple [?a ...]"),
    }
}
