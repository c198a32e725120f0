//! Maintenance by counting, for queries whose body is a union of
//! conjunctions: data patterns, predicates and functions, with `or`,
//! `or-join` and non-recursive rules expanded into the union (at most
//! [`MAX_CONJUNCTS`] conjunctions).
//!
//! A derivation is one binding of every variable of a conjunction, blanks
//! included (each `_` of a pattern becomes a variable, so a derivation is
//! exactly one datom per pattern). The support table counts, for each tuple
//! the aggregation sees — the find variables, the aggregates' variables and
//! `:with` — its derivations. A transaction changes the count by the
//! derivations it creates (each uses at least one asserted datom: the
//! conjunction with one pattern reading the asserted datoms, the others the
//! new state) minus those it destroys (each uses a retracted datom: the same
//! against the old state); a binding found through two patterns is one
//! derivation. A tuple appears when its count leaves zero and disappears
//! when its last derivation goes.
//!
//! A plain relation is its tuples. An aggregate keeps one row per group with
//! the number of tuples (`fl_tuples`): `count` and `sum` move in place,
//! `min` and `max` too unless their extreme leaves, `avg`, `variance` and
//! `stddev` of longs from exact sums kept as the row's state (`state`), and
//! every other aggregate — and an extreme that left — is recomputed from
//! the group's tuples in the support table, never from the datoms.

use std::collections::{HashMap, HashSet};

use factlite_edn::{Keyword, Value};
use factlite_query::{
    AggregateArg, Clause, FindElem, FindSpec, Pattern, Query, RuleVars, SrcVar, Term, Variable,
};

use crate::rewrite::{self, Fresh, DELTA_SOURCE};

/// More conjunctions than this and the query is maintained by rechecking.
pub const MAX_CONJUNCTS: usize = 16;

/// A view's query as a union of conjunctions, analysed for counting.
#[derive(Clone, Debug)]
pub struct Counting {
    /// The conjunctions.
    pub conjuncts: Vec<Conjunct>,
    /// The variables of the aggregated tuple (the support table's columns).
    pub tuple_vars: Vec<Variable>,
    /// How each find element is made from a group's tuples.
    pub elements: Vec<Element>,
    /// Positions (in the tuple) of the grouping variables, in find order.
    pub group: Vec<usize>,
    /// Whether the find spec has aggregates.
    pub aggregated: bool,
}

/// One find element.
#[derive(Clone, Debug, PartialEq)]
pub enum Element {
    /// The value of the tuple at this position.
    Tuple(usize),
    /// An aggregate over the group's tuples: its name, its constant
    /// arguments and the tuple position of its variable.
    Aggregate {
        name: String,
        constants: Vec<Value>,
        arg: usize,
    },
}

/// One conjunction of the union.
#[derive(Clone, Debug)]
pub struct Conjunct {
    /// Every derivation of the conjunction (its variables in `:find`).
    pub derivations: Query,
    /// For each tuple variable, its column among the derivation's.
    pub tuple_columns: Vec<usize>,
    /// Per pattern, the derivations that use a changed datom there.
    pub sites: Vec<Site>,
}

/// The derivations through one pattern that read a changed datom.
#[derive(Clone, Debug)]
pub struct Site {
    /// The pattern's attribute, when constant.
    pub attribute: Option<Keyword>,
    /// Through a retracted datom (run against the old state).
    pub retracted: Query,
    /// Through an asserted datom (run against the new state).
    pub asserted: Query,
}

impl Counting {
    /// The counting form of a query whose `:where` (rules inlined) is
    /// `clauses`; `None` when the body is not a union of conjunctions
    /// (negation, database-reading functions, recursion, too many
    /// branches).
    pub fn analyse(query: &Query, clauses: &[Clause], fresh: &mut Fresh) -> Option<Counting> {
        let union = expand(clauses, fresh)?;
        let (tuple_vars, elements, aggregated) = tuple_of(query)?;
        let group = elements
            .iter()
            .filter_map(|e| match e {
                Element::Tuple(p) => Some(*p),
                Element::Aggregate { .. } => None,
            })
            .collect();
        let conjuncts = union
            .into_iter()
            .map(|clauses| conjunct(query, clauses, &tuple_vars))
            .collect::<Option<Vec<_>>>()?;
        Some(Counting {
            conjuncts,
            tuple_vars,
            elements,
            group,
            aggregated,
        })
    }

    /// A result row from a tuple (for a plain relation).
    pub fn row_of(&self, tuple: &[Value]) -> Vec<Value> {
        self.elements
            .iter()
            .map(|e| match e {
                Element::Tuple(p) => tuple[*p].clone(),
                Element::Aggregate { .. } => Value::Nil,
            })
            .collect()
    }

    /// The group of a tuple.
    pub fn group_of(&self, tuple: &[Value]) -> Vec<Value> {
        self.group.iter().map(|&p| tuple[p].clone()).collect()
    }

    /// The tuples' contribution per tuple, from derivation rows of each
    /// conjunction (a derivation found twice counts once).
    pub fn count(&self, derivations: Vec<HashSet<Vec<Value>>>) -> HashMap<Vec<Value>, i64> {
        let mut counts: HashMap<Vec<Value>, i64> = HashMap::new();
        for (conjunct, rows) in self.conjuncts.iter().zip(derivations) {
            for row in rows {
                *counts.entry(conjunct.tuple_of(&row)).or_default() += 1;
            }
        }
        counts
    }
}

impl Conjunct {
    /// The tuple a derivation row gives.
    pub fn tuple_of(&self, row: &[Value]) -> Vec<Value> {
        self.tuple_columns.iter().map(|&c| row[c].clone()).collect()
    }
}

/// The union of conjunctions equivalent to `clauses`.
fn expand(clauses: &[Clause], fresh: &mut Fresh) -> Option<Vec<Vec<Clause>>> {
    let mut union: Vec<Vec<Clause>> = vec![Vec::new()];
    for clause in clauses {
        let alternatives: Vec<Vec<Clause>> = match clause {
            Clause::Pattern(pattern) => {
                if pattern.source.as_ref().is_some_and(|s| s.0 != "$") {
                    return None;
                }
                vec![vec![Clause::Pattern(Box::new(name_blanks(pattern, fresh)))]]
            }
            Clause::Predicate(call) | Clause::Function { call, .. } => {
                // A call that reads the database (get-else, missing?,
                // fulltext, ...) is a hidden pattern.
                if call.args.iter().any(|a| matches!(a, Term::Source(_))) {
                    return None;
                }
                vec![vec![clause.clone()]]
            }
            Clause::Or { join, branches } => {
                let mut alternatives = Vec::new();
                for branch in branches {
                    let branch = match join {
                        Some(join) => rewrite::localize(branch, &join_vars(join), fresh),
                        None => branch.clone(),
                    };
                    alternatives.extend(expand(&branch, fresh)?);
                }
                alternatives
            }
            Clause::Not { .. } | Clause::RuleCall { .. } => return None,
        };
        if union.len() * alternatives.len() > MAX_CONJUNCTS {
            return None;
        }
        union = union
            .iter()
            .flat_map(|prefix| {
                alternatives.iter().map(move |alternative| {
                    let mut conjunction = prefix.clone();
                    conjunction.extend(alternative.iter().cloned());
                    conjunction
                })
            })
            .collect();
    }
    Some(union)
}

fn join_vars(join: &RuleVars) -> Vec<Variable> {
    join.required.iter().chain(&join.free).cloned().collect()
}

/// The pattern with each blank entity, attribute and value made a fresh
/// variable.
fn name_blanks(pattern: &Pattern, fresh: &mut Fresh) -> Pattern {
    let mut named = pattern.clone();
    for term in [&mut named.entity, &mut named.attribute, &mut named.value] {
        if *term == Term::Blank {
            *term = Term::Variable(fresh.variable());
        }
    }
    named
}

/// The tuple's variables, the find elements over it, and whether there are
/// aggregates; `None` for find elements counting cannot serve.
fn tuple_of(query: &Query) -> Option<(Vec<Variable>, Vec<Element>, bool)> {
    let mut vars: Vec<Variable> = Vec::new();
    let position =
        |var: &Variable, vars: &mut Vec<Variable>| match vars.iter().position(|v| v == var) {
            Some(p) => p,
            None => {
                vars.push(var.clone());
                vars.len() - 1
            }
        };
    let mut elements = Vec::new();
    let mut aggregated = false;
    for element in query.find.elements() {
        elements.push(match element {
            FindElem::Variable(var) | FindElem::Pull { var, .. } => {
                Element::Tuple(position(var, &mut vars))
            }
            FindElem::Aggregate { name, args } => {
                aggregated = true;
                let (last, constants) = args.split_last()?;
                let AggregateArg::Variable(var) = last else {
                    return None;
                };
                let constants = constants
                    .iter()
                    .map(|a| match a {
                        AggregateArg::Constant(value) => Some(value.clone()),
                        AggregateArg::Variable(_) => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                Element::Aggregate {
                    name: name.clone(),
                    constants,
                    arg: position(var, &mut vars),
                }
            }
        });
    }
    if aggregated {
        for var in &query.with {
            position(var, &mut vars);
        }
    }
    Some((vars, elements, aggregated))
}

fn conjunct(query: &Query, clauses: Vec<Clause>, tuple_vars: &[Variable]) -> Option<Conjunct> {
    let mut vars: Vec<Variable> = Vec::new();
    for clause in &clauses {
        clause.variables(true, &mut vars);
    }
    let mut seen = HashSet::new();
    vars.retain(|v| seen.insert(v.clone()));
    let tuple_columns = tuple_vars
        .iter()
        .map(|t| vars.iter().position(|v| v == t))
        .collect::<Option<Vec<_>>>()?;
    let with_clauses = |clauses: Vec<Clause>| Query {
        find: FindSpec::Relation(vars.iter().cloned().map(FindElem::Variable).collect()),
        return_maps: None,
        with: Vec::new(),
        inputs: query.inputs.clone(),
        where_clauses: clauses,
        order_by: Vec::new(),
        limit: None,
        offset: None,
        timeout_ms: None,
    };
    let mut sites = Vec::new();
    for (index, clause) in clauses.iter().enumerate() {
        let Clause::Pattern(pattern) = clause else {
            continue;
        };
        let through = |added: bool| {
            let mut delta = (**pattern).clone();
            delta.source = Some(SrcVar(DELTA_SOURCE.to_string()));
            delta.added = Term::Constant(Value::Boolean(added));
            let mut rewritten = clauses.clone();
            rewritten[index] = Clause::Pattern(Box::new(delta));
            with_clauses(rewritten)
        };
        sites.push(Site {
            attribute: match &pattern.attribute {
                Term::Constant(Value::Keyword(k)) => Some(k.clone()),
                _ => None,
            },
            retracted: through(false),
            asserted: through(true),
        });
    }
    Some(Conjunct {
        derivations: with_clauses(clauses),
        tuple_columns,
        sites,
    })
}
