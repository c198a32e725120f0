//! Whether a query's rows are distinct without `SELECT DISTINCT`.
//!
//! Results are sets, so the SELECT is `DISTINCT` — which costs SQLite a
//! temporary B-tree of every row when no index gives the rows in order. It
//! is redundant when the projected variables determine every datom joined:
//! the current `datoms` table holds each `(e, a, v)` once, so two result
//! rows then come from the same datoms and are the same row. A pattern's
//! datom is determined when its entity and value are (constants, inputs and
//! projected variables are); a determined entity determines the value of a
//! cardinality-one attribute, and a determined value the entity of a unique
//! one. Filters (predicates, `not`) remove rows and never repeat them. A
//! call of a recursive rule reads a rule table, which is a set: it repeats no
//! row when every argument is determined. Any other clause (`or`,
//! non-recursive rules, functions, collection inputs, named sources) or a
//! view of time read from the log keeps `DISTINCT`.

use std::collections::HashSet;

use factlite_core::{Cardinality, Schema};
use factlite_edn::Value;
use factlite_query::{Binding, Clause, Input, Pattern, Query, Term};

use crate::source::Source;

/// Whether the rows of `query`, projected on `projected` variables, are
/// distinct already. `recursive` tells the rules that compile to a rule
/// table.
pub fn rows_are_distinct(
    schema: &Schema,
    source: Source,
    query: &Query,
    projected: &[String],
    recursive: &dyn Fn(&str) -> bool,
) -> bool {
    if !source.is_current() {
        return false;
    }
    let mut determined: HashSet<&str> = projected.iter().map(String::as_str).collect();
    for input in &query.inputs {
        match input {
            Input::Source(_) | Input::Rules => {}
            Input::Binding(binding) => {
                if !scalar_binding_vars(binding, &mut determined) {
                    return false;
                }
            }
        }
    }
    let mut patterns = Vec::new();
    let mut rule_calls = Vec::new();
    for clause in &query.where_clauses {
        match clause {
            Clause::Pattern(pattern) => match keyed_pattern(schema, pattern) {
                Some(keyed) => patterns.push(keyed),
                None => return false,
            },
            Clause::Predicate(_) | Clause::Not { .. } => {}
            Clause::RuleCall { name, args, .. } if recursive(name) => rule_calls.push(args),
            _ => return false,
        }
    }
    if !rule_calls
        .iter()
        .all(|args| args.iter().all(|arg| is_determined(arg, &determined)))
    {
        return false;
    }
    let mut pending = patterns;
    loop {
        let before = pending.len();
        let mut still = Vec::new();
        for (pattern, cardinality_one, unique) in pending {
            let entity = is_determined(&pattern.entity, &determined);
            let value = is_determined(&pattern.value, &determined);
            if (entity && (value || cardinality_one)) || (value && unique) {
                mark(&pattern.entity, &mut determined);
                mark(&pattern.value, &mut determined);
            } else {
                still.push((pattern, cardinality_one, unique));
            }
        }
        pending = still;
        if pending.is_empty() {
            return true;
        }
        if pending.len() == before {
            return false;
        }
    }
}

/// A pattern on `$` with a known attribute, with whether that attribute is
/// cardinality one and unique.
fn keyed_pattern<'q>(schema: &Schema, pattern: &'q Pattern) -> Option<(&'q Pattern, bool, bool)> {
    if pattern.source.as_ref().is_some_and(|s| s.0 != "$") {
        return None;
    }
    let Term::Constant(Value::Keyword(ident)) = &pattern.attribute else {
        return None;
    };
    let attribute = schema.attribute_named(ident)?;
    Some((
        pattern,
        attribute.cardinality == Cardinality::One,
        attribute.unique.is_some(),
    ))
}

/// The variables of a scalar or tuple input (each one value); `false` for
/// a collection or relation, which adds rows.
fn scalar_binding_vars<'q>(binding: &'q Binding, out: &mut HashSet<&'q str>) -> bool {
    match binding {
        Binding::Variable(v) => {
            out.insert(v.0.as_str());
            true
        }
        Binding::Blank => true,
        Binding::Tuple(items) => items.iter().all(|item| scalar_binding_vars(item, out)),
        Binding::Collection(_) | Binding::Relation(_) => false,
    }
}

fn is_determined(term: &Term, determined: &HashSet<&str>) -> bool {
    match term {
        Term::Constant(_) => true,
        Term::Variable(v) => determined.contains(v.0.as_str()),
        Term::Blank | Term::Source(_) => false,
    }
}

/// Records a variable as determined.
fn mark<'q>(term: &'q Term, determined: &mut HashSet<&'q str>) {
    if let Term::Variable(v) = term {
        determined.insert(v.0.as_str());
    }
}
