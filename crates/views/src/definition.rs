//! What a view is, worked out once from its query: the query whose result
//! the table holds (every row of the relation, before ordering, paging and
//! pulls), the key that identifies the rows a change can touch, the delta
//! queries that find those keys, and the recheck query that recomputes the
//! rows of given keys.
//!
//! The key is the find elements that are not aggregates (for a plain
//! relation, the whole row; for an aggregate, its group). A transaction
//! changes the view only at keys that the delta queries return, before or
//! after the datoms are written; the recheck query then derives exactly the
//! rows of those keys from the indexes, so a row disappears only when its
//! last derivation does.

use std::collections::HashSet;

use factlite_edn::{Keyword, Value};
use factlite_query::{
    AggregateArg, Binding, FindElem, FindSpec, Input, OrderTerm, PatternRef, PullPattern, Query,
    Rule, Variable,
};

use crate::counting::Counting;
use crate::error::{Error, Result};
use crate::rewrite::{self, Fresh};

/// A view's query, analysed.
#[derive(Clone, Debug)]
pub struct Definition {
    /// The query as the user gave it.
    pub query: Query,
    /// The inputs after `$` (rule sets only).
    pub inputs: Vec<Value>,
    /// The query whose rows the table holds.
    pub materialized: Query,
    /// Table column names, one per find element.
    pub columns: Vec<String>,
    /// Per find element, the pull applied when the view is read.
    pub pulls: Vec<Option<PullPattern>>,
    /// Positions of the key's elements among the find elements.
    pub key_positions: Vec<usize>,
    /// One query per delta site, returning keys (none for a counted view).
    pub delta_queries: Vec<DeltaQuery>,
    /// Attributes any part of the query reads (`None`: any attribute).
    pub attributes: Option<HashSet<Keyword>>,
    /// The inputs of the delta queries: the view's rule sets and, when it
    /// calls recursive rules, their delta rules (see
    /// [`rewrite::delta_rules`]).
    pub delta_inputs: Vec<Value>,
    /// The `:order-by` terms as positions among the find elements.
    pub order: Vec<(usize, bool)>,
    /// The counting form, when the body is a union of conjunctions.
    pub counting: Option<Counting>,
}

/// A query returning the keys whose rows a changed datom can reach.
#[derive(Clone, Debug)]
pub struct DeltaQuery {
    /// The attribute the changed datom must have, when fixed.
    pub attribute: Option<Keyword>,
    /// The query (key variables in `:find`).
    pub query: Query,
}

impl Definition {
    /// Analyses a view's query and inputs.
    pub fn new(query: Query, inputs: Vec<Value>) -> Result<Definition> {
        let shown = query.clone();
        let query = with_as_columns(query);
        let rules = check_inputs(&query, &inputs)?;
        let elements = query.find.elements().to_vec();
        let mut find = Vec::with_capacity(elements.len());
        let mut pulls = Vec::with_capacity(elements.len());
        let mut key_positions = Vec::new();
        let mut key_vars = Vec::new();
        for (position, element) in elements.iter().enumerate() {
            match element {
                FindElem::Variable(var) => {
                    find.push(element.clone());
                    pulls.push(None);
                    key_positions.push(position);
                    key_vars.push(var.clone());
                }
                FindElem::Pull { var, pattern, .. } => {
                    let PatternRef::Pattern(pattern) = pattern else {
                        return Err(Error::Unsupported(
                            "a pull pattern given as an input".to_string(),
                        ));
                    };
                    find.push(FindElem::Variable(var.clone()));
                    pulls.push(Some(pattern.clone()));
                    key_positions.push(position);
                    key_vars.push(var.clone());
                }
                FindElem::Aggregate { .. } => {
                    find.push(element.clone());
                    pulls.push(None);
                }
            }
        }
        let aggregated = key_positions.len() < elements.len();
        let materialized = Query {
            find: FindSpec::Relation(find),
            return_maps: None,
            with: query.with.clone(),
            inputs: query.inputs.clone(),
            where_clauses: query.where_clauses.clone(),
            order_by: Vec::new(),
            limit: None,
            offset: None,
            timeout_ms: None,
        };
        let order = order_positions(&query.order_by, &elements)?;
        let recursive = rewrite::recursive_rules(&rules);
        let mut fresh = Fresh::default();
        let too_deep = |rewrite::InlineError::TooDeep(name)| {
            Error::Unsupported(format!("rule ({name} ...) nests too deeply to maintain"))
        };
        let inlined = rewrite::inline_rules(&query.where_clauses, &rules, &recursive, &mut fresh)
            .map_err(too_deep)?;
        let mut delta_inputs = inputs.clone();
        let mut delta_query_inputs = query.inputs.clone();
        if rewrite::calls_any(&inlined, &recursive) {
            let delta_rules =
                rewrite::delta_rules(&rules, &recursive, &mut fresh).map_err(too_deep)?;
            delta_inputs.push(factlite_query::rules_to_edn(&delta_rules));
            delta_query_inputs.push(Input::Rules);
        }
        let counting = Counting::analyse(&query, &inlined, &mut fresh);
        // A counted view needs no delta queries of its own; nor does an
        // aggregate without grouping (any change recomputes its one group).
        let delta_queries = if counting.is_some() || key_vars.is_empty() && aggregated {
            Vec::new()
        } else {
            rewrite::delta_sites(&inlined, &recursive, &mut fresh)
                .into_iter()
                .map(|site| DeltaQuery {
                    attribute: site.attribute,
                    query: Query {
                        find: FindSpec::Relation(
                            key_vars.iter().cloned().map(FindElem::Variable).collect(),
                        ),
                        return_maps: None,
                        with: Vec::new(),
                        inputs: delta_query_inputs.clone(),
                        where_clauses: site.clauses,
                        order_by: Vec::new(),
                        limit: None,
                        offset: None,
                        timeout_ms: None,
                    },
                })
                .collect()
        };
        Ok(Definition {
            counting,
            columns: column_names(&elements),
            attributes: rewrite::attributes_read(&query.where_clauses, &rules),
            inputs,
            materialized,
            pulls,
            key_positions,
            delta_queries,
            delta_inputs,
            order,
            query: shown,
        })
    }

    /// How many values of a table row the query's result shows: the
    /// `:with` variables a bag keeps as columns are left out.
    pub fn shown_columns(&self) -> usize {
        self.query.find.elements().len()
    }

    /// The key variables, in key order.
    pub fn key_vars(&self) -> Vec<Variable> {
        self.key_positions
            .iter()
            .filter_map(|&p| match &self.materialized.find.elements()[p] {
                FindElem::Variable(v) => Some(v.clone()),
                _ => None,
            })
            .collect()
    }

    /// The materialized query restricted to the rows of `keys`, and its
    /// inputs.
    pub fn recheck(&self, keys: Vec<Value>) -> (Query, Vec<Value>) {
        let mut query = self.materialized.clone();
        let mut inputs = self.inputs.clone();
        if !self.key_positions.is_empty() {
            query.inputs.push(Input::Binding(Binding::Relation(
                self.key_vars().into_iter().map(Binding::Variable).collect(),
            )));
            inputs.push(Value::Vector(keys));
        }
        (query, inputs)
    }

    /// Whether a transaction touching `attributes` can change the view.
    pub fn reads_any(&self, attributes: &HashSet<Keyword>) -> bool {
        match &self.attributes {
            None => true,
            Some(read) => read.iter().any(|a| attributes.contains(a)),
        }
    }
}

/// A `:with` without aggregates gives a bag: a row for each binding of
/// the `:with` variables. The view holds those variables as columns after
/// the find elements (so its rows are distinct, as a table's are), and a
/// read leaves them out; with aggregates, `:with` only feeds them.
fn with_as_columns(mut query: Query) -> Query {
    let aggregates = query
        .find
        .elements()
        .iter()
        .any(|element| matches!(element, FindElem::Aggregate { .. }));
    if query.with.is_empty() || aggregates {
        return query;
    }
    let mut elements = query.find.elements().to_vec();
    elements.extend(query.with.drain(..).map(FindElem::Variable));
    query.find = FindSpec::Relation(elements);
    query
}

/// Views take no inputs but rule sets: a parameterized query has no one
/// result to keep. Returns the rules.
fn check_inputs(query: &Query, inputs: &[Value]) -> Result<Vec<Rule>> {
    let declared: Vec<&Input> = query
        .inputs
        .iter()
        .filter(|i| !matches!(i, Input::Source(_)))
        .collect();
    if let Some(other) = declared.iter().find(|i| !matches!(i, Input::Rules)) {
        return Err(Error::Unsupported(format!(
            "the input {other}: a view's query may take only rule sets (%) as inputs"
        )));
    }
    if declared.len() != inputs.len() {
        return Err(Error::Unsupported(format!(
            "the query's :in expects {} rule set(s), but {} were given",
            declared.len(),
            inputs.len()
        )));
    }
    let mut rules = Vec::new();
    for value in inputs {
        rules.extend(
            factlite_query::parse_rules(value)
                .map_err(|e| Error::Parse(format!("rule set: {e}")))?,
        );
    }
    Ok(rules)
}

fn order_positions(order_by: &[OrderTerm], elements: &[FindElem]) -> Result<Vec<(usize, bool)>> {
    order_by
        .iter()
        .map(|term| {
            term.position(elements)
                .map(|p| (p, term.descending))
                .ok_or_else(|| {
                    Error::Unsupported(format!(
                        ":order-by {}: not a variable or aggregate of :find",
                        term.to_edn()
                    ))
                })
        })
        .collect()
}

/// A column name per find element, from its text: `?name` → `name`,
/// `(count ?o)` → `count_o`; made unique with a numeric suffix.
fn column_names(elements: &[FindElem]) -> Vec<String> {
    let mut used = HashSet::new();
    elements
        .iter()
        .map(|element| {
            let raw = match element {
                FindElem::Variable(v) | FindElem::Pull { var: v, .. } => v.0.clone(),
                FindElem::Aggregate { name, args } => {
                    let mut parts = vec![name.clone()];
                    parts.extend(args.iter().map(|a| match a {
                        AggregateArg::Variable(v) => v.0.trim_start_matches('?').to_string(),
                        AggregateArg::Constant(c) => c.to_string(),
                    }));
                    parts.join("_")
                }
            };
            let mut base: String = raw
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
                .trim_matches('_')
                .to_string();
            if base.is_empty() || base.ends_with("_type") {
                base.push_str("_col");
            }
            let mut name = base.clone();
            let mut n = 2;
            while !used.insert(name.clone()) {
                name = format!("{base}_{n}");
                n += 1;
            }
            name
        })
        .collect()
}
