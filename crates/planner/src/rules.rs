//! Rules: the dependency graph of a rule set, its strongly connected
//! components (recursion), the stratification check (no rule may depend
//! negatively on itself), inlining of non-recursive rules as `or-join`s, and
//! `WITH RECURSIVE` relations for recursive ones.
//!
//! A recursive component becomes one CTE `recN(rid, v0, t0, v1, t1, ...)`
//! holding the tuples of every rule in the component, told apart by `rid`
//! (SQLite has no mutual recursion between CTEs). Bodies that call no rule
//! of the component are the CTE's base case; the others its recursive part.
//! A component of one rule has no `rid`, and a value whose type every body
//! agrees on no tag `t_i`: the narrower the tuples, the cheaper the set
//! SQLite keeps of them.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use factlite_core::ValueType;
use factlite_edn::Value;
use factlite_query::{Clause, Rule, RuleVars, Term, Variable};
use indexmap::IndexMap;

use crate::bound::{Expr, Ty, Var};
use crate::compile::Frame;
use crate::error::{Error, Result};
use crate::fixpoint::Fixpoint;
use crate::pushdown::Seed;
use crate::shared::Shared;

/// The join-order cost of a call of a recursive rule with an argument
/// bound: below a scan of a large attribute, above an index lookup.
const SEEDED_CALL_COST: f64 = 500.0;

/// How many times the largest attribute a recursive rule reads its whole
/// relation is estimated to hold, for the join order: a closure holds a
/// tuple per pair of connected entities, so this is a low guess.
const UNSEEDED_CLOSURE_FACTOR: f64 = 10.0;

/// Checks a rule set on its own: each name defined with one arity, every
/// rule it calls defined, and no rule depending negatively on itself.
pub fn check_rules(rules: &[Rule]) -> Result<()> {
    RuleSet::new(rules).map(|_| ())
}

/// The rules of one query, analysed.
pub struct RuleSet {
    rules: IndexMap<String, Vec<Rule>>,
    /// Component number of each recursive rule (and of each edge rule,
    /// a component of its own).
    component_of: HashMap<String, usize>,
    components: Vec<Vec<String>>,
    /// The definitions a recursive rule computes its whole relation with,
    /// where steps call edge rules (see `edges`), and those edge rules.
    edge_steps: HashMap<String, crate::edges::EdgeSteps>,
    /// The components of edge rules: their CTEs are materialized.
    edge_components: HashSet<usize>,
    /// Names of the unseeded CTEs generated per component.
    tables: RefCell<HashMap<usize, String>>,
    /// Relations being defined, innermost last.
    generating: RefCell<Vec<Defining>>,
    /// The column types of each generated rule table, by table name.
    column_types: RefCell<HashMap<String, ColumnTypes>>,
    /// The values a rule table specialised to a single-row seed leaves out,
    /// by table name and argument position.
    fixed_values: RefCell<HashMap<String, Vec<(usize, Var)>>>,
    /// Names of the temporary tables of components evaluated semi-naively.
    fixpoint_tables: RefCell<HashMap<usize, String>>,
    /// Their programs, in the order they must run.
    fixpoints: RefCell<Vec<Fixpoint>>,
    fresh: RefCell<usize>,
}

/// A component whose relation is being defined: the name its own calls
/// read, and the name its calls marked as reading the delta read (in a
/// semi-naive round).
struct Defining {
    component: usize,
    name: String,
    delta: Option<String>,
    /// The type each value column is assumed to hold (`None`: read its tag).
    types: ColumnTypes,
}

/// The type of each value column of a rule table, where every tuple's value
/// in that column has one known type.
pub(crate) type ColumnTypes = Vec<Option<ValueType>>;

/// A body compiled as a SELECT: its leading columns (a rule id, a seed's
/// values), the value and tag expressions of its head columns, its FROM and
/// WHERE text, and the types of its head columns.
pub(crate) struct BodySelect {
    pub lead: Vec<String>,
    pub values: Vec<(String, String)>,
    pub tail: String,
    pub types: ColumnTypes,
}

impl BodySelect {
    /// The body as a SELECT of the body's frame: `lead`, then the values of
    /// `heads` (NULLs to `width`).
    pub(crate) fn new(
        frame: &Frame<'_, '_>,
        rule: &Rule,
        lead: Vec<String>,
        heads: &[&Variable],
        width: usize,
    ) -> Result<BodySelect> {
        let mut values = head_columns(frame, rule, heads)?;
        let mut types = head_types(frame, heads);
        values.resize(width.max(values.len()), ("NULL".into(), "NULL".into()));
        types.resize(values.len(), None);
        Ok(BodySelect {
            lead,
            values,
            tail: format!("{}{}", frame.sql_from(), frame.sql_where()),
            types,
        })
    }

    /// A SELECT of no rows: `lead`, then `width` NULL values.
    pub(crate) fn empty(lead: Vec<String>, width: usize) -> BodySelect {
        BodySelect {
            lead,
            values: vec![("NULL".into(), "NULL".into()); width],
            tail: " WHERE 0".into(),
            types: vec![None; width],
        }
    }

    /// The SELECT's text for a table whose value columns have `types` and
    /// that does not hold the values `fixed`: a value of a known type goes
    /// without its tag.
    pub(crate) fn sql(&self, types: &ColumnTypes, fixed: &[usize]) -> String {
        let mut columns = self.lead.clone();
        for (i, (value, tag)) in self.values.iter().enumerate() {
            if fixed.contains(&i) {
                continue;
            }
            columns.push(value.clone());
            if types.get(i).copied().flatten().is_none() {
                columns.push(tag.clone());
            }
        }
        format!("SELECT {}{}", columns.join(", "), self.tail)
    }
}

/// The value columns of a table of `width` values whose types are `types`,
/// but for the values `fixed` it does not hold: `v_i`, and `t_i` (the tag)
/// where the type is not known.
pub(crate) fn typed_columns(width: usize, types: &ColumnTypes, fixed: &[usize]) -> Vec<String> {
    let mut columns = Vec::new();
    for i in (0..width).filter(|i| !fixed.contains(i)) {
        columns.push(format!("v{i}"));
        if types.get(i).copied().flatten().is_none() {
            columns.push(format!("t{i}"));
        }
    }
    columns
}

/// The column types every one of `bodies` agrees on.
pub(crate) fn agreed_types(bodies: &[&ColumnTypes], width: usize) -> ColumnTypes {
    (0..width)
        .map(|i| {
            let first = bodies
                .first()
                .and_then(|types| types.get(i).copied().flatten())?;
            bodies
                .iter()
                .all(|types| types.get(i).copied().flatten() == Some(first))
                .then_some(first)
        })
        .collect()
}

/// Compiles the recursive bodies of a relation (`compile`, given the types
/// its own columns are assumed to have) starting from the types the `base`
/// bodies agree on; a column a recursive body gives another type is read
/// by its tag, and the bodies compiled again. Returns the recursive bodies
/// and the column types that hold for every body.
pub(crate) fn settle_types(
    base: &[BodySelect],
    width: usize,
    mut compile: impl FnMut(&ColumnTypes) -> Result<Vec<BodySelect>>,
) -> Result<(Vec<BodySelect>, ColumnTypes)> {
    let base_types: Vec<&ColumnTypes> = base.iter().map(|b| &b.types).collect();
    let mut types = agreed_types(&base_types, width);
    // Each round only forgets types, so this ends; the last round reads
    // every column by its tag, which always holds.
    for _ in 0..width {
        let steps = compile(&types)?;
        let mut all = base_types.clone();
        all.extend(steps.iter().map(|b| &b.types));
        let agreed = agreed_types(&all, width);
        if agreed == types {
            return Ok((steps, types));
        }
        types = agreed;
    }
    let types = vec![None; width];
    let steps = compile(&types)?;
    Ok((steps, types))
}

/// Appended to a rule's name in a call that reads the delta of a relation
/// evaluated semi-naively (a space: no rule name has one).
const DELTA_MARK: &str = " delta";

/// A call's rule name without the delta mark, and whether it had it.
pub(crate) fn split_delta(name: &str) -> (&str, bool) {
    match name.strip_suffix(DELTA_MARK) {
        Some(name) => (name, true),
        None => (name, false),
    }
}

/// The name that marks a call as reading the delta.
pub(crate) fn delta_name(name: &str) -> String {
    format!("{name}{DELTA_MARK}")
}

/// A call target that is computed as a recursive CTE.
#[derive(Clone, Debug)]
pub struct RecursiveRelation {
    pub(crate) component: usize,
    pub(crate) names: Vec<String>,
    required: HashMap<String, Vec<usize>>,
}

impl RecursiveRelation {
    /// Whether the component's table has a `rid` column, telling its rules
    /// apart: when it has more than one (or no other column).
    pub(crate) fn has_rid(&self, rules: &RuleSet) -> bool {
        self.names.len() > 1 || self.width(rules) == 0
    }

    /// The leading columns of a body of rule `rid` in the component's table.
    pub(crate) fn lead(&self, rules: &RuleSet, rid: usize) -> Vec<String> {
        if self.has_rid(rules) {
            vec![rid.to_string()]
        } else {
            Vec::new()
        }
    }

    /// The columns of the component's table, whose value columns have
    /// `types`, without the values `fixed`.
    pub(crate) fn columns(
        &self,
        rules: &RuleSet,
        types: &ColumnTypes,
        fixed: &[usize],
    ) -> Vec<String> {
        let mut columns = Vec::new();
        if self.has_rid(rules) {
            columns.push("rid".to_string());
        }
        columns.extend(typed_columns(self.width(rules), types, fixed));
        columns
    }

    /// The `rid` of a rule in the component's table.
    pub fn rule_id(&self, name: &str) -> usize {
        let (name, _) = split_delta(name);
        self.names.iter().position(|n| n == name).unwrap_or(0)
    }

    /// Argument positions that must be bound at the call.
    pub fn required_positions(&self, name: &str) -> Vec<usize> {
        let (name, _) = split_delta(name);
        self.required.get(name).cloned().unwrap_or_default()
    }

    /// Whether WITH RECURSIVE cannot compute the component: a body calls it
    /// more than once, or from inside an `or` (a subquery).
    pub(crate) fn needs_fixpoint(&self, rules: &RuleSet) -> bool {
        self.definitions(rules).iter().any(|(_, rule)| {
            let top_level = rule
                .body
                .iter()
                .filter(|c| matches!(c, Clause::RuleCall { name, .. } if self.names.contains(name)))
                .count();
            let all = count_calls(&rule.body, &self.names);
            all > 1 || all != top_level
        })
    }

    /// Every definition of every rule of the component, with its `rid`.
    pub(crate) fn definitions<'r>(&self, rules: &'r RuleSet) -> Vec<(usize, &'r Rule)> {
        self.names
            .iter()
            .enumerate()
            .flat_map(|(rid, name)| {
                rules
                    .rules
                    .get(name)
                    .into_iter()
                    .flatten()
                    .map(move |rule| (rid, rule))
            })
            .collect()
    }

    /// The number of arguments rule `name` takes.
    pub fn arity(&self, rules: &RuleSet, name: &str) -> usize {
        rules
            .rules
            .get(name)
            .and_then(|defs| defs.first())
            .map_or(0, |rule| rule.required.len() + rule.free.len())
    }

    /// The number of value columns of the component's table: its widest
    /// rule head.
    pub(crate) fn width(&self, rules: &RuleSet) -> usize {
        self.definitions(rules)
            .iter()
            .map(|(_, r)| r.required.len() + r.free.len())
            .max()
            .unwrap_or(0)
    }

    /// The estimated cost of a call for the join order: a recursive step's
    /// own call reads the newest tuples only (one row of a CTE's queue, or a
    /// semi-naive delta), so the step starts from it. A call with an
    /// argument bound (`seeded`) explores what its seeds reach (see
    /// `pushdown`). A call with none bound computes the whole relation: at
    /// least as many tuples as the largest attribute its bodies read, and
    /// for a closure many times more ([`UNSEEDED_CLOSURE_FACTOR`]), so the
    /// clauses that could bind its arguments — a scan and a filter, say —
    /// go first and become its seed.
    pub fn call_cost(&self, shared: &Shared<'_>, name: &str, seeded: bool) -> f64 {
        let (_, delta) = split_delta(name);
        let generating = shared.rules.generating.borrow();
        let own_step = generating
            .iter()
            .rev()
            .find(|d| d.component == self.component)
            .is_some_and(|d| d.delta.is_none() || delta);
        if own_step {
            0.5
        } else if seeded {
            SEEDED_CALL_COST
        } else {
            let largest = self
                .definitions(&shared.rules)
                .iter()
                .flat_map(|(_, rule)| attribute_counts(shared, &rule.body))
                .max()
                .unwrap_or(0);
            SEEDED_CALL_COST.max(largest as f64 * UNSEEDED_CLOSURE_FACTOR)
        }
    }

    /// Whether the component is being defined right now: its calls are then
    /// the definition's references to itself.
    pub fn being_defined(&self, shared: &Shared<'_>) -> bool {
        self.defined_as(shared, false).is_some()
    }

    /// The name a call reads while the component is being defined (its
    /// delta, for a call so marked in a semi-naive round).
    fn defined_as(&self, shared: &Shared<'_>, delta: bool) -> Option<String> {
        let generating = shared.rules.generating.borrow();
        let defining = generating
            .iter()
            .rev()
            .find(|d| d.component == self.component)?;
        Some(match (&defining.delta, delta) {
            (Some(name), true) => name.clone(),
            _ => defining.name.clone(),
        })
    }

    /// The table (a CTE, or a temporary table filled by a fixpoint
    /// program) a call reads, defining it on first use. `delta`: the call
    /// is marked as reading the delta of a semi-naive round.
    pub fn table(&self, shared: &Shared<'_>, delta: bool) -> Result<String> {
        if let Some(name) = self.defined_as(shared, delta) {
            return Ok(name);
        }
        if let Some(name) = shared.rules.fixpoint_tables.borrow().get(&self.component) {
            return Ok(name.clone());
        }
        if let Some(name) = shared.rules.tables.borrow().get(&self.component) {
            return Ok(name.clone());
        }
        if self.needs_fixpoint(&shared.rules) {
            let (name, program) = crate::fixpoint::program(shared, self)?;
            shared.rules.fixpoints.borrow_mut().push(program);
            shared
                .rules
                .fixpoint_tables
                .borrow_mut()
                .insert(self.component, name.clone());
            return Ok(name);
        }
        let name = shared.alias("rec");
        self.define(shared, &name, None)?;
        shared
            .rules
            .tables
            .borrow_mut()
            .insert(self.component, name.clone());
        Ok(name)
    }

    /// Defines the component's CTE under `name`. With a seed, the bodies
    /// that do not recurse start from the seed's rows, which the recursive
    /// bodies carry along unchanged (see `pushdown`); the values of a
    /// single-row seed are the same in every tuple, so the table leaves them
    /// out (its calls read them from the seed's values: `fixed_value`).
    pub(crate) fn define(
        &self,
        shared: &Shared<'_>,
        name: &str,
        seed: Option<&Seed>,
    ) -> Result<()> {
        let width = self.width(&shared.rules);
        let mut fixed_values = seed.map(Seed::fixed).unwrap_or_default();
        if fixed_values.len() == width && !self.has_rid(&shared.rules) {
            // A table needs a column.
            fixed_values.clear();
        }
        let fixed: Vec<usize> = fixed_values.iter().map(|(i, _)| *i).collect();
        shared.rules.set_fixed_values(name, fixed_values);
        let definitions = match seed {
            None => self.whole_relation_definitions(shared),
            Some(_) => self.definitions(&shared.rules),
        };
        let (exits, recursive): (Vec<_>, Vec<_>) = definitions
            .iter()
            .partition(|(_, rule)| !calls_any(&rule.body, &self.names));
        let base = exits
            .iter()
            .map(|(rid, rule)| self.body_select(shared, *rid, rule, width, seed))
            .collect::<Result<Vec<_>>>()?;
        let (steps, types) = self.typed_steps(shared, (name, None), &base, width, || {
            recursive
                .iter()
                .map(|(rid, rule)| self.body_select(shared, *rid, rule, width, None))
                .collect()
        })?;
        let mut parts: Vec<String> = base.iter().map(|b| b.sql(&types, &fixed)).collect();
        if parts.is_empty() {
            let empty = BodySelect::empty(self.lead(&shared.rules, 0), width);
            parts.push(empty.sql(&types, &fixed));
        }
        parts.extend(steps.iter().map(|b| b.sql(&types, &fixed)));
        *shared.recursive.borrow_mut() = true;
        let materialized = if shared.rules.edge_components.contains(&self.component) {
            "MATERIALIZED "
        } else {
            ""
        };
        shared.ctes.borrow_mut().push(format!(
            "{name}({}) AS {materialized}({})",
            self.columns(&shared.rules, &types, &fixed).join(", "),
            parts.join(" UNION ")
        ));
        shared.rules.set_column_types(name, types);
        Ok(())
    }

    /// Compiles the recursive bodies (`compile`) with the component being
    /// defined as `tables`, its columns assumed to have the types the base
    /// bodies agree on (see [`settle_types`]). Returns the bodies and the
    /// column types that hold.
    pub(crate) fn typed_steps(
        &self,
        shared: &Shared<'_>,
        tables: (&str, Option<&str>),
        base: &[BodySelect],
        width: usize,
        mut compile: impl FnMut() -> Result<Vec<BodySelect>>,
    ) -> Result<(Vec<BodySelect>, ColumnTypes)> {
        settle_types(base, width, |types| {
            shared
                .rules
                .defining(self.component, tables, types, &mut compile)
        })
    }

    /// The definitions the whole relation is computed with: steps that
    /// join their edge rules (see `edges`) when the edges are worth
    /// computing once — when the base bodies read at least as many datoms
    /// as the smallest attribute the edges read, the recursion reaches
    /// about as far as the edges go. Otherwise (a few seeds in a large
    /// graph), the definitions as written.
    fn whole_relation_definitions<'r>(&self, shared: &'r Shared<'_>) -> Vec<(usize, &'r Rule)> {
        let written = self.definitions(&shared.rules);
        let [name] = self.names.as_slice() else {
            return written;
        };
        let Some(steps) = shared.rules.edge_steps.get(name) else {
            return written;
        };
        let names = std::slice::from_ref(name);
        let base_reads = written
            .iter()
            .filter(|(_, rule)| !calls_any(&rule.body, names))
            .flat_map(|(_, rule)| attribute_counts(shared, &rule.body))
            .max()
            .unwrap_or(0);
        let edges_read = steps
            .edges
            .iter()
            .flat_map(|edge| attribute_counts(shared, &edge.body))
            .min()
            .unwrap_or(i64::MAX);
        if base_reads < edges_read {
            return written;
        }
        steps.definitions.iter().map(|rule| (0, rule)).collect()
    }

    /// One body as a SELECT of its `rid` (if the table has one) and the
    /// head's values, padded with NULLs to `width`.
    pub(crate) fn body_select(
        &self,
        shared: &Shared<'_>,
        rid: usize,
        rule: &Rule,
        width: usize,
        seed: Option<&Seed>,
    ) -> Result<BodySelect> {
        let mut frame = Frame::new(shared);
        if let Some(seed) = seed {
            seed.join(&mut frame, &heads(rule));
        }
        frame.compile_clauses(rule.body.clone())?;
        let lead = self.lead(&shared.rules, rid);
        BodySelect::new(&frame, rule, lead, &heads(rule), width)
    }
}

/// The datoms of each attribute that the body's data patterns name.
fn attribute_counts<'c>(
    shared: &'c Shared<'_>,
    clauses: &'c [Clause],
) -> impl Iterator<Item = i64> + 'c {
    clauses.iter().filter_map(move |clause| match clause {
        Clause::Pattern(pattern) => match &pattern.attribute {
            Term::Constant(Value::Keyword(ident)) => shared
                .attribute(ident)
                .ok()
                .map(|attribute| shared.statistics.attribute_count(attribute.id)),
            _ => None,
        },
        _ => None,
    })
}

/// A rule's head variables, in argument order.
pub(crate) fn heads(rule: &Rule) -> Vec<&Variable> {
    rule.required.iter().chain(&rule.free).collect()
}

/// The known type of each of `vars` (head variables) in a compiled body.
pub(crate) fn head_types(frame: &Frame<'_, '_>, vars: &[&Variable]) -> ColumnTypes {
    vars.iter()
        .map(|head| match frame.vars.get(&head.0).map(|var| &var.ty) {
            Some(Ty::Known(value_type)) => Some(*value_type),
            _ => None,
        })
        .collect()
}

/// The value and the tag of each of `vars` (head variables of `rule`) in a
/// compiled body.
pub(crate) fn head_columns(
    frame: &Frame<'_, '_>,
    rule: &Rule,
    vars: &[&Variable],
) -> Result<Vec<(String, String)>> {
    vars.iter()
        .map(|head| {
            let var = frame.vars.get(&head.0).ok_or_else(|| {
                Error::Query(format!(
                    "rule ({} ...) does not bind {} in its body",
                    rule.name, head.0
                ))
            })?;
            Ok((without_affinity(&var.expr), var.tag_expr()))
        })
        .collect()
}

/// A value as a rule table's column holds it: through unary `+`, which
/// keeps the value but drops the affinity of the column it comes from (an
/// entity id from `e` would otherwise carry INTEGER affinity into the
/// table, and comparing it with `datoms.v` would then not use the indexes
/// on `v`).
pub(crate) fn without_affinity(expr: &Expr) -> String {
    format!("+{expr}")
}

pub(crate) fn calls_any(clauses: &[Clause], names: &[String]) -> bool {
    count_calls(clauses, names) > 0
}

pub(crate) fn count_calls(clauses: &[Clause], names: &[String]) -> usize {
    clauses
        .iter()
        .map(|clause| match clause {
            Clause::RuleCall { name, .. } => {
                usize::from(names.iter().any(|n| n == split_delta(name).0))
            }
            Clause::Or { branches, .. } => branches.iter().map(|b| count_calls(b, names)).sum(),
            Clause::Not { clauses, .. } => count_calls(clauses, names),
            _ => 0,
        })
        .sum()
}

/// Rule calls in clauses, with whether each is under a `not`.
fn calls(clauses: &[Clause], negated: bool, out: &mut Vec<(String, bool)>) {
    for clause in clauses {
        match clause {
            Clause::RuleCall { name, .. } => out.push((name.clone(), negated)),
            Clause::Or { branches, .. } => branches.iter().for_each(|b| calls(b, negated, out)),
            Clause::Not { clauses, .. } => calls(clauses, true, out),
            _ => {}
        }
    }
}

impl RuleSet {
    /// The rules that compute `name` together: its recursive component,
    /// or `name` alone when it is not recursive; `None` for a rule not
    /// defined.
    pub(crate) fn members(&self, name: &str) -> Option<Vec<String>> {
        match self.component_of.get(name) {
            Some(component) => Some(self.components[*component].clone()),
            None => self
                .rules
                .contains_key(name)
                .then(|| vec![name.to_string()]),
        }
    }

    /// Analyses a rule set.
    pub fn new(rules: &[Rule]) -> Result<RuleSet> {
        let mut by_name: IndexMap<String, Vec<Rule>> = IndexMap::new();
        for rule in rules {
            if let Some(first) = by_name.get(&rule.name).and_then(|defs| defs.first()) {
                let arity = first.required.len() + first.free.len();
                if arity != rule.required.len() + rule.free.len() {
                    return Err(Error::Query(format!(
                        "rule {} is defined with {} and {} arguments",
                        rule.name,
                        arity,
                        rule.required.len() + rule.free.len()
                    )));
                }
            }
            by_name
                .entry(rule.name.clone())
                .or_default()
                .push(rule.clone());
        }
        let mut edges: IndexMap<String, Vec<(String, bool)>> = IndexMap::new();
        for (name, defs) in &by_name {
            let mut out = Vec::new();
            for def in defs {
                calls(&def.body, false, &mut out);
            }
            for (callee, _) in &out {
                if !by_name.contains_key(callee) {
                    return Err(Error::Query(format!(
                        "rule {name} calls ({callee} ...), which is not defined"
                    )));
                }
            }
            edges.insert(name.clone(), out);
        }
        let components = strongly_connected(&edges);
        let mut component_of = HashMap::new();
        let mut recursive_components = Vec::new();
        let mut edge_steps = HashMap::new();
        for component in components {
            let self_loop = component.len() == 1
                && edges[&component[0]]
                    .iter()
                    .any(|(callee, _)| *callee == component[0]);
            if component.len() == 1 && !self_loop {
                continue;
            }
            if let ([name], true) = (component.as_slice(), self_loop) {
                // The new definitions call what the old ones did: the
                // dependency graph stays as it is.
                if let Some(definitions) = by_name.get_mut(name) {
                    crate::closure::linearize_closure(name, definitions);
                    if let Some(steps) = crate::edges::edge_steps(name, definitions) {
                        edge_steps.insert(name.clone(), steps);
                    }
                }
            }
            for name in &component {
                for (callee, negated) in &edges[name] {
                    if *negated && component.contains(callee) {
                        return Err(Error::Query(format!(
                            "rules cannot be stratified: {name} depends negatively on {callee}, \
                             which depends on {name} (cycle through not: {})",
                            component.join(" -> ")
                        )));
                    }
                }
            }
            for name in &component {
                component_of.insert(name.clone(), recursive_components.len());
            }
            recursive_components.push(component);
        }
        // Each edge rule is a component of its own, whose table a step
        // joins (it calls nothing of the rule it serves).
        let mut edge_components = HashSet::new();
        for edge in edge_steps.values().flat_map(|steps| &steps.edges) {
            component_of.insert(edge.name.clone(), recursive_components.len());
            edge_components.insert(recursive_components.len());
            recursive_components.push(vec![edge.name.clone()]);
            by_name.insert(edge.name.clone(), vec![edge.clone()]);
        }
        Ok(RuleSet {
            rules: by_name,
            component_of,
            components: recursive_components,
            edge_steps,
            edge_components,
            tables: RefCell::new(HashMap::new()),
            generating: RefCell::new(Vec::new()),
            column_types: RefCell::new(HashMap::new()),
            fixed_values: RefCell::new(HashMap::new()),
            fixpoint_tables: RefCell::new(HashMap::new()),
            fixpoints: RefCell::new(Vec::new()),
            fresh: RefCell::new(0),
        })
    }

    /// Runs `define` with `component` marked as being defined under `name`
    /// (and its marked calls reading `delta`).
    pub(crate) fn defining<T>(
        &self,
        component: usize,
        (name, delta): (&str, Option<&str>),
        types: &ColumnTypes,
        define: impl FnOnce() -> T,
    ) -> T {
        self.generating.borrow_mut().push(Defining {
            component,
            name: name.to_string(),
            delta: delta.map(str::to_string),
            types: types.clone(),
        });
        let result = define();
        self.generating.borrow_mut().pop();
        result
    }

    /// Runs `compile` with fresh common table expressions and CTE names:
    /// what it compiles is a statement of its own. Returns its result and
    /// the CTEs it defined.
    pub(crate) fn in_statement<T>(
        &self,
        shared: &Shared<'_>,
        compile: impl FnOnce() -> T,
    ) -> (T, Vec<String>) {
        let ctes = shared.ctes.replace(Vec::new());
        let tables = self.tables.replace(HashMap::new());
        let result = compile();
        let defined = shared.ctes.replace(ctes);
        self.tables.replace(tables);
        (result, defined)
    }

    /// The fixpoint programs the query's statement needs, in running order.
    pub fn take_fixpoints(&self) -> Vec<Fixpoint> {
        self.fixpoints.take()
    }

    /// Records the column types of a generated rule table.
    pub(crate) fn set_column_types(&self, table: &str, types: ColumnTypes) {
        self.column_types
            .borrow_mut()
            .insert(table.to_string(), types);
    }

    /// Records the values a rule table leaves out.
    pub(crate) fn set_fixed_values(&self, table: &str, values: Vec<(usize, Var)>) {
        self.fixed_values
            .borrow_mut()
            .insert(table.to_string(), values);
    }

    /// The value a rule table holds at argument position `i` in every
    /// tuple, when it leaves that column out.
    pub(crate) fn fixed_value(&self, table: &str, i: usize) -> Option<Var> {
        let values = self.fixed_values.borrow();
        let (_, var) = values.get(table)?.iter().find(|(p, _)| *p == i)?;
        Some(var.clone())
    }

    /// The type of value column `i` of a rule table, when known: from the
    /// definition in progress for its own calls, else as recorded.
    pub(crate) fn column_type(&self, table: &str, i: usize) -> Option<ValueType> {
        let generating = self.generating.borrow();
        let defining = generating
            .iter()
            .rev()
            .find(|d| d.name == table || d.delta.as_deref() == Some(table));
        match defining {
            Some(defining) => defining.types.get(i).copied().flatten(),
            None => self
                .column_types
                .borrow()
                .get(table)
                .and_then(|types| types.get(i).copied().flatten()),
        }
    }

    /// Whether some recursive relation is being defined: a body compiled now
    /// may refer to a CTE that only exists inside its own definition.
    pub fn defining_any(&self) -> bool {
        !self.generating.borrow().is_empty()
    }

    /// The relation to call for a recursive rule.
    pub fn recursive_relation(&self, name: &str) -> Option<RecursiveRelation> {
        let (name, _) = split_delta(name);
        let component = *self.component_of.get(name)?;
        let names = self.components[component].clone();
        let required = names
            .iter()
            .map(|n| {
                let positions = self
                    .rules
                    .get(n)
                    .and_then(|defs| defs.first())
                    .map(|r| (0..r.required.len()).collect())
                    .unwrap_or_default();
                (n.clone(), positions)
            })
            .collect();
        Some(RecursiveRelation {
            component,
            names,
            required,
        })
    }

    /// Replaces calls of non-recursive rules by their bodies (an `or-join`
    /// when a rule has several definitions). Calls of recursive rules stay.
    pub fn expand_calls(&self, clauses: Vec<Clause>) -> Result<Vec<Clause>> {
        let mut out = Vec::new();
        let mut pending: Vec<Clause> = clauses.into_iter().rev().collect();
        let mut expansions = 0;
        while let Some(clause) = pending.pop() {
            let Clause::RuleCall { name, args, source } = &clause else {
                out.push(clause);
                continue;
            };
            let Some(defs) = self.rules.get(split_delta(name).0) else {
                return Err(Error::Query(format!("rule ({name} ...) is not defined")));
            };
            let source = source.as_ref().filter(|source| source.0 != "$");
            if self.component_of.contains_key(split_delta(name).0) {
                if let Some(source) = source {
                    return Err(Error::Query(format!(
                        "({} {name} ...) calls a recursive rule on another source, which is \
                         not supported: recursive rules read $",
                        source.0
                    )));
                }
                out.push(clause);
                continue;
            }
            expansions += 1;
            if expansions > 10_000 {
                return Err(Error::Query("rule expansion does not terminate".into()));
            }
            let mut inlined = self.inline(name, defs, args)?;
            // `($2 rule ...)`: the body reads $2 where it reads the default
            // source.
            if let Some(source) = source {
                inlined = inlined
                    .into_iter()
                    .map(|c| c.reading_from(source))
                    .collect();
            }
            pending.extend(inlined.into_iter().rev());
        }
        Ok(out)
    }

    fn fresh_name(&self, base: &str) -> String {
        let mut n = self.fresh.borrow_mut();
        *n += 1;
        format!("?__{}_{}", base.trim_start_matches('?'), *n)
    }

    fn inline(&self, name: &str, defs: &[Rule], args: &[Term]) -> Result<Vec<Clause>> {
        let mut branches = Vec::new();
        for def in defs {
            let heads: Vec<&Variable> = def.required.iter().chain(&def.free).collect();
            if heads.len() != args.len() {
                return Err(Error::Query(format!(
                    "rule ({name} ...) takes {} arguments, called with {}",
                    heads.len(),
                    args.len()
                )));
            }
            if let Some(required) = def
                .required
                .iter()
                .zip(args)
                .find_map(|(head, arg)| matches!(arg, Term::Blank).then_some(head))
            {
                return Err(Error::Query(format!(
                    "insufficient bindings: ({name} ...) is called with _ for its required \
                     variable {}, which must be bound at the call",
                    required.0
                )));
            }
            let mut renames: HashMap<String, String> = HashMap::new();
            let mut prefix = Vec::new();
            let mut vectors = Vec::new();
            for (head, arg) in heads.iter().zip(args) {
                match arg {
                    Term::Variable(v) => {
                        renames.insert(head.0.clone(), v.0.clone());
                    }
                    // A vector (a lookup ref such as [:person/id 7]) goes
                    // into the body's patterns as the constant it is.
                    Term::Constant(value @ Value::Vector(_)) => {
                        let fresh = self.fresh_name(&head.0);
                        vectors.push((fresh.clone(), value));
                        renames.insert(head.0.clone(), fresh);
                    }
                    Term::Constant(value) => {
                        let fresh = self.fresh_name(&head.0);
                        prefix.push(Clause::ground(&fresh, value));
                        renames.insert(head.0.clone(), fresh);
                    }
                    _ => {
                        renames.insert(head.0.clone(), self.fresh_name(&head.0));
                    }
                }
            }
            // Every variable of the body is the rule's own, those inside a
            // not-join or or-join too: renamed, none can meet a caller's.
            let mut locals = HashSet::new();
            let mut body_vars = Vec::new();
            def.body
                .iter()
                .for_each(|c| c.variables(true, &mut body_vars));
            for Variable(v) in body_vars {
                if !renames.contains_key(&v) && locals.insert(v.clone()) {
                    renames.insert(v.clone(), self.fresh_name(&v));
                }
            }
            let rename = |v: &str| renames.get(v).cloned().unwrap_or_else(|| v.to_string());
            let mut body: Vec<Clause> = def
                .body
                .iter()
                .map(|c| c.rename_variables(&rename))
                .collect();
            for (fresh, value) in vectors {
                if !factlite_query::substitute_in_patterns(&mut body, &fresh, value) {
                    prefix.push(Clause::ground(&fresh, value));
                }
            }
            let mut branch = prefix;
            branch.extend(body);
            branches.push(branch);
        }
        let required_count = defs.first().map(|d| d.required.len()).unwrap_or(0);
        // One body is inlined as it is, unless the rule has required
        // variables (`(rule [?x] ?y)`): then it is an or-join of one
        // branch, which waits for them to be bound, as Datomic's rules do.
        if branches.len() == 1 && required_count == 0 {
            return Ok(branches.pop().unwrap_or_default());
        }
        let mut join = RuleVars::default();
        for (i, arg) in args.iter().enumerate() {
            if let Term::Variable(v) = arg {
                if i < required_count {
                    join.required.push(v.clone());
                } else {
                    join.free.push(v.clone());
                }
            }
        }
        Ok(vec![Clause::Or {
            join: Some(join),
            branches,
        }])
    }
}

/// Tarjan's algorithm, iteration order fixed by the IndexMap.
fn strongly_connected(edges: &IndexMap<String, Vec<(String, bool)>>) -> Vec<Vec<String>> {
    struct State<'e> {
        edges: &'e IndexMap<String, Vec<(String, bool)>>,
        index: HashMap<&'e str, usize>,
        low: HashMap<&'e str, usize>,
        stack: Vec<&'e str>,
        on_stack: HashSet<&'e str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'e>(s: &mut State<'e>, node: &'e str) {
        s.index.insert(node, s.next);
        s.low.insert(node, s.next);
        s.next += 1;
        s.stack.push(node);
        s.on_stack.insert(node);
        let edges = s.edges;
        for (callee, _) in edges.get(node).into_iter().flatten() {
            let callee = callee.as_str();
            if !s.index.contains_key(callee) {
                visit(s, callee);
                let low = s.low[callee].min(s.low[node]);
                s.low.insert(node, low);
            } else if s.on_stack.contains(callee) {
                let low = s.index[callee].min(s.low[node]);
                s.low.insert(node, low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut component = Vec::new();
            while let Some(top) = s.stack.pop() {
                s.on_stack.remove(top);
                component.push(top.to_string());
                if top == node {
                    break;
                }
            }
            component.reverse();
            s.out.push(component);
        }
    }
    let mut state = State {
        edges,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: HashSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for name in edges.keys() {
        if !state.index.contains_key(name.as_str()) {
            visit(&mut state, name);
        }
    }
    state.out
}
