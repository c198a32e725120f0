//! Recursion that `WITH RECURSIVE` cannot express — a body that calls its
//! own component more than once (`(path ?a ?b) :- (path ?a ?m) (path ?m
//! ?b)`), or calls it from inside an `or` — planned as semi-naive
//! evaluation over temporary tables.
//!
//! The plan carries a [`Fixpoint`] program per such component; the store
//! runs the programs, in order, inside the query's read transaction before
//! the query's statement, which reads the component's table like any other.
//! For a component whose table is `T` (columns `rid, v0, t0, ...` as a CTE
//! would have, `rid` and the tags of values of known types left out):
//!
//! - setup: create `T` (indexed on all its columns, led by each value
//!   column in turn), `T_delta` and `T_new`; the bodies that do not recurse fill
//!   `T_delta`, copied into `T`;
//! - each round: every recursive body runs once per call of the component
//!   it makes, that call reading `T_delta` and the others `T`; the tuples
//!   not yet in `T` go to `T_new`. When there are none the fixpoint is
//!   reached; otherwise `T_new` becomes the next delta and joins `T`.
//!
//! Tuples are compared with `IS`, so the relation is a set (NULLs
//! included) and the rounds end on cyclic data. Statements use the plan's
//! own parameter numbers: the store binds each statement's prefix of the
//! plan's parameters.

use factlite_query::{Clause, Rule};

use crate::error::Result;
use crate::rules::{count_calls, delta_name, split_delta, BodySelect, RecursiveRelation};
use crate::shared::Shared;

/// The statements that compute one relation into a temporary table before
/// the query's statement runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Fixpoint {
    /// Run once, in order: (re)create the tables and insert the first
    /// tuples.
    pub setup: Vec<String>,
    /// One round, run in order and repeated until the round's first
    /// statement (which inserts the new tuples) inserts none; the rest of
    /// the round is then skipped.
    pub round: Vec<String>,
    /// Run once the query is done (or has failed): drop the tables.
    pub teardown: Vec<String>,
}

/// Plans the semi-naive evaluation of a component: the temporary table the
/// query reads, and the program that fills it.
pub fn program(shared: &Shared<'_>, relation: &RecursiveRelation) -> Result<(String, Fixpoint)> {
    let rules = &shared.rules;
    let table = format!("fixpoint_{}", shared.alias("rec"));
    let delta = format!("{table}_delta");
    let fresh = format!("{table}_new");
    let width = relation.width(rules);
    // Every statement reads the datoms through the same source CTE.
    let source_cte = if shared.source.is_current() {
        None
    } else {
        shared.source_table();
        shared
            .ctes
            .borrow()
            .iter()
            .find(|cte| cte.starts_with("src AS ("))
            .cloned()
    };
    let with = |mut ctes: Vec<String>| {
        if let Some(source) = &source_cte {
            if !ctes.iter().any(|cte| cte == source) {
                ctes.insert(0, source.clone());
            }
        }
        if ctes.is_empty() {
            String::new()
        } else {
            format!("WITH RECURSIVE {} ", ctes.join(", "))
        }
    };
    let definitions = relation.definitions(rules);

    let (first, first_ctes) = rules.in_statement(shared, || {
        definitions
            .iter()
            .filter(|(_, rule)| count_calls(&rule.body, &relation.names) == 0)
            .map(|(rid, rule)| relation.body_select(shared, *rid, rule, width, None))
            .collect::<Result<Vec<_>>>()
    });
    let first = first?;
    let (steps, step_ctes) = rules.in_statement(shared, || {
        relation.typed_steps(shared, (&table, Some(&delta)), &first, width, || {
            let mut selects = Vec::new();
            for (rid, rule) in &definitions {
                let calls = count_calls(&rule.body, &relation.names);
                for occurrence in 0..calls {
                    let variant = Rule {
                        body: mark_delta(&rule.body, &relation.names, occurrence),
                        ..(*rule).clone()
                    };
                    selects.push(relation.body_select(shared, *rid, &variant, width, None)?);
                }
            }
            Ok(selects)
        })
    });
    let (step, types) = steps?;
    let columns = relation.columns(rules, &types, &[]);
    let column_list = columns.join(", ");
    let union = |selects: Vec<BodySelect>| {
        let mut sql: Vec<String> = selects.iter().map(|b| b.sql(&types, &[])).collect();
        if sql.is_empty() {
            sql.push(BodySelect::empty(relation.lead(rules, 0), width).sql(&types, &[]));
        }
        sql.join(" UNION ")
    };

    let mut setup = drops(&[&table, &delta, &fresh]);
    for name in [&table, &delta, &fresh] {
        setup.push(format!("CREATE TEMP TABLE {name}({column_list})"));
    }
    setup.push(format!(
        "CREATE INDEX temp.{table}_rows ON {table}({column_list})"
    ));
    // Covering, led by each value column: a join on any argument looks
    // tuples up (SQLite prefers a covering index to a narrower one).
    for i in 1..width {
        let lead: Vec<String> = ["rid".to_string(), format!("v{i}"), format!("t{i}")]
            .into_iter()
            .filter(|c| columns.contains(c))
            .collect();
        let rest = columns.iter().filter(|c| !lead.contains(c)).cloned();
        let ordered: Vec<String> = lead.iter().cloned().chain(rest).collect();
        setup.push(format!(
            "CREATE INDEX temp.{table}_v{i} ON {table}({})",
            ordered.join(", ")
        ));
    }
    setup.push(format!(
        "{}INSERT INTO {delta} SELECT DISTINCT * FROM ({})",
        with(first_ctes),
        union(first)
    ));
    setup.push(format!("INSERT INTO {table} SELECT * FROM {delta}"));

    let same_tuple: Vec<String> = columns.iter().map(|c| format!("o.{c} IS x.{c}")).collect();
    let mut step_ctes = step_ctes;
    step_ctes.push(format!("{table}_step({column_list}) AS ({})", union(step)));
    let round = vec![
        format!(
            "{}INSERT INTO {fresh} SELECT DISTINCT * FROM {table}_step AS x \
             WHERE NOT EXISTS (SELECT 1 FROM {table} AS o WHERE {})",
            with(step_ctes),
            same_tuple.join(" AND ")
        ),
        format!("DELETE FROM {delta}"),
        format!("INSERT INTO {delta} SELECT * FROM {fresh}"),
        format!("INSERT INTO {table} SELECT * FROM {fresh}"),
        format!("DELETE FROM {fresh}"),
    ];
    let teardown = drops(&[&fresh, &delta, &table]);
    rules.set_column_types(&table, types);
    Ok((
        table,
        Fixpoint {
            setup,
            round,
            teardown,
        },
    ))
}

fn drops(tables: &[&String]) -> Vec<String> {
    tables
        .iter()
        .map(|name| format!("DROP TABLE IF EXISTS temp.{name}"))
        .collect()
}

/// A body whose `occurrence`-th call of the component (counted as
/// `count_calls` counts) reads the delta. A top-level call so marked moves to
/// the front, so that the round's join starts from the (small) delta.
fn mark_delta(body: &[Clause], names: &[String], occurrence: usize) -> Vec<Clause> {
    let mut seen = 0;
    let mut marked = mark_clauses(body, names, occurrence, &mut seen);
    let front = marked
        .iter()
        .position(|clause| matches!(clause, Clause::RuleCall { name, .. } if split_delta(name).1));
    if let Some(index) = front {
        let clause = marked.remove(index);
        marked.insert(0, clause);
    }
    marked
}

fn mark_clauses(
    clauses: &[Clause],
    names: &[String],
    occurrence: usize,
    seen: &mut usize,
) -> Vec<Clause> {
    clauses
        .iter()
        .map(|clause| match clause {
            Clause::RuleCall { source, name, args } if names.contains(name) => {
                let this = *seen;
                *seen += 1;
                Clause::RuleCall {
                    source: source.clone(),
                    name: if this == occurrence {
                        delta_name(name)
                    } else {
                        name.clone()
                    },
                    args: args.clone(),
                }
            }
            Clause::Or { join, branches } => Clause::Or {
                join: join.clone(),
                branches: branches
                    .iter()
                    .map(|b| mark_clauses(b, names, occurrence, seen))
                    .collect(),
            },
            Clause::Not { join, clauses } => Clause::Not {
                join: join.clone(),
                clauses: mark_clauses(clauses, names, occurrence, seen),
            },
            other => other.clone(),
        })
        .collect()
}
