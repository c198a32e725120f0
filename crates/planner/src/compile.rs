//! Clause compilation: `:where` clauses → FROM items and conditions of one
//! SELECT, with each variable bound to a SQL expression and a type.
//!
//! Clauses are taken in an order chosen here, not as written: at each step
//! every filter whose variables are bound (predicates, functions, `not`,
//! fully-bound `or`) is applied, then the cheapest relation (data pattern,
//! recursive rule, `or` that binds new variables, relation-valued function)
//! given what is bound joins next. FROM items are joined with `CROSS JOIN`,
//! which SQLite keeps in the written order.

use std::collections::HashSet;

use factlite_core::{Attribute, ValueType};
use factlite_edn::Value;
use factlite_query::{Binding, Clause, FnCall, Pattern, Query, RuleVars, Term};
use indexmap::IndexMap;

use crate::bound::{entity_or_long, equal, Expr, Ty, Var};
use crate::error::{Error, Result};
use crate::inputs::Signature;
use crate::literals::{literal, typed_literal};
use crate::shared::{CollectionSource, Shared};
use crate::{Context, Plan, SqlLiteral};

/// One SELECT scope: its FROM items, conditions and variables.
pub struct Frame<'s, 'a> {
    pub shared: &'s Shared<'a>,
    pub vars: IndexMap<String, Var>,
    pub from: Vec<String>,
    pub conditions: Vec<String>,
    /// Whether an `or` here may start its branches from a seed (see
    /// [`Frame::seed`]): only in the query's own SELECT and the scopes of
    /// its `or` branches. Not where the scope sees columns of an enclosing
    /// SELECT (a `not`, an `or` tested with `EXISTS`: a CTE cannot see
    /// them), nor in a recursive rule's bodies (a seed would read the
    /// table being defined).
    seeds_ors: bool,
    /// The value columns (`d3.v`) of patterns that scan an attribute in
    /// AVET (nothing bound their entity or value), with their alias: a
    /// range predicate on one then lets SQLite read the range from the
    /// partial AVET index.
    avet_values: Vec<(Expr, String)>,
}

/// The rows of the clauses compiled before an `or` (the bindings of every
/// variable they bound to a column), kept as a common table expression
/// that each branch of the `or` joins, so that the branches see the values
/// of the join variables and the `or`'s union carries the whole row.
struct Seed {
    /// The CTE's name.
    table: String,
    /// Each variable of the row and its binding in the CTE's columns
    /// (`k0`, and `kt0` for a dynamic type's tag...; read through an alias
    /// with [`Var::in_table`]).
    vars: Vec<(String, Var)>,
}

/// Below this estimated cost a data pattern is an index lookup, not a scan
/// (see [`Frame::pattern_cost`]).
const INDEXED_COST: f64 = 3.0;

/// The estimated cost of a data pattern whose entity and value are both
/// bound: an index probe that only keeps or drops rows, cheaper than a
/// lookup that adds values (1.0 and up).
const FILTER_PATTERN_COST: f64 = 0.9;

/// What a clause needs before it can run, and what it binds.
enum Readiness {
    /// A filter: runs now.
    Filter,
    /// A relation: joins with the given estimated cost.
    Relation(f64),
    /// Not yet: these variables must be bound first.
    Waiting(Vec<String>),
}

/// Every variable a clause mentions (an `or-join` or `not-join`: its
/// join variables).
pub fn clause_vars(clause: &Clause, out: &mut Vec<String>) {
    let mut vars = Vec::new();
    clause.variables(false, &mut vars);
    out.extend(vars.into_iter().map(|v| v.0));
}

pub fn binding_vars(binding: &Binding, out: &mut Vec<String>) {
    let mut vars = Vec::new();
    binding.variables(&mut vars);
    out.extend(vars.into_iter().map(|v| v.0));
}

fn vars_of(clauses: &[Clause]) -> Vec<String> {
    let mut out = Vec::new();
    clauses.iter().for_each(|c| clause_vars(c, &mut out));
    out
}

/// Whether one of two bindings of a variable is an entity id and the other
/// a keyword.
fn is_ref_and_keyword(a: &Var, b: &Var) -> bool {
    let (ref_type, keyword) = (Ty::Known(ValueType::Ref), Ty::Known(ValueType::Keyword));
    (a.ty == ref_type && b.ty == keyword) || (a.ty == keyword && b.ty == ref_type)
}

impl<'s, 'a> Frame<'s, 'a> {
    pub fn new(shared: &'s Shared<'a>) -> Frame<'s, 'a> {
        Frame {
            shared,
            vars: IndexMap::new(),
            from: Vec::new(),
            conditions: Vec::new(),
            seeds_ors: false,
            avet_values: Vec::new(),
        }
    }

    /// A nested scope that sees the given outer variables.
    fn child(&self, visible: Option<&[String]>) -> Frame<'s, 'a> {
        let vars = match visible {
            None => self.vars.clone(),
            Some(names) => self
                .vars
                .iter()
                .filter(|(k, _)| names.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        let seeds_ors = self.seeds_ors && !vars.values().any(Var::is_column);
        Frame {
            shared: self.shared,
            vars,
            from: Vec::new(),
            conditions: Vec::new(),
            seeds_ors,
            avet_values: Vec::new(),
        }
    }

    /// Whether a derived table of this scope's rows so far may be built
    /// (see [`Frame::seeds_ors`]): its FROM items and conditions read no
    /// column of an enclosing SELECT.
    pub fn may_seed(&self) -> bool {
        self.seeds_ors
    }

    fn bound(&self, name: &str) -> bool {
        self.vars.contains_key(name)
    }

    /// Binds a variable, or constrains it to equal its earlier binding.
    pub fn bind(&mut self, name: &str, var: Var) {
        if name == "_" {
            return;
        }
        match self.vars.get(name) {
            // A keyword meeting an entity id (an ident given as an input or
            // by `ground`, and a pattern's entity, attribute or ref value)
            // names the entity it is the ident of, as a constant ident does.
            Some(existing) if is_ref_and_keyword(existing, &var) => {
                let (entity, keyword) = if existing.ty == Ty::Known(ValueType::Ref) {
                    (existing.clone(), var)
                } else {
                    (var, existing.clone())
                };
                let ident = self.ident_entity(&keyword);
                self.conditions.push(format!("{} = {ident}", entity.expr));
            }
            Some(existing) => {
                let condition = equal(existing, &var);
                self.conditions.push(condition);
            }
            None => {
                self.vars.insert(name.to_string(), var);
            }
        }
    }

    /// FROM clause text.
    pub fn sql_from(&self) -> String {
        if self.from.is_empty() {
            String::new()
        } else {
            format!(" FROM {}", self.from.join(" CROSS JOIN "))
        }
    }

    /// WHERE clause text.
    pub fn sql_where(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }

    // ---- clause ordering ------------------------------------------------

    /// Compiles clauses in a cost-based order.
    pub fn compile_clauses(&mut self, clauses: Vec<Clause>) -> Result<()> {
        let clauses = self.shared.rules.expand_calls(clauses)?;
        let mut pending: Vec<Clause> = clauses;
        while !pending.is_empty() {
            let mut best: Option<(usize, f64)> = None;
            let mut waiting = Vec::new();
            let mut ran_filter = false;
            for (index, clause) in pending.iter().enumerate() {
                let others: Vec<&Clause> = pending
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != index)
                    .map(|(_, c)| c)
                    .collect();
                match self.readiness(clause, &others)? {
                    Readiness::Filter => {
                        let clause = pending.remove(index);
                        self.compile_clause(clause, true)?;
                        ran_filter = true;
                        break;
                    }
                    Readiness::Relation(cost) => {
                        if best.is_none_or(|(_, c)| cost < c) {
                            best = Some((index, cost));
                        }
                    }
                    Readiness::Waiting(vars) => waiting.extend(vars),
                }
            }
            if ran_filter {
                continue;
            }
            match best {
                Some((index, _)) => {
                    let clause = pending.remove(index);
                    self.compile_clause(clause, false)?;
                }
                None => {
                    waiting.sort();
                    waiting.dedup();
                    return Err(Error::Query(format!(
                        "insufficient bindings: {} must be bound before use in {}",
                        waiting.join(", "),
                        pending
                            .iter()
                            .map(|c| c.to_string())
                            .collect::<Vec<_>>()
                            .join(" ")
                    )));
                }
            }
        }
        Ok(())
    }

    fn unbound(&self, names: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut missing: Vec<String> = names.into_iter().filter(|n| !self.bound(n)).collect();
        missing.dedup();
        missing
    }

    fn readiness(&self, clause: &Clause, others: &[&Clause]) -> Result<Readiness> {
        Ok(match clause {
            Clause::Pattern(pattern) => Readiness::Relation(self.pattern_cost(pattern)?),
            Clause::Predicate(call) => {
                let missing = self.unbound(call_vars(call));
                if missing.is_empty() {
                    Readiness::Filter
                } else {
                    Readiness::Waiting(missing)
                }
            }
            Clause::Function { call, binding } => {
                let missing = self.unbound(call_vars(call));
                if !missing.is_empty() {
                    Readiness::Waiting(missing)
                } else if matches!(binding, Binding::Collection(_) | Binding::Relation(_))
                    || call.name == "fulltext"
                    || call.name == "get-some"
                {
                    Readiness::Relation(50.0)
                } else {
                    Readiness::Filter
                }
            }
            Clause::Not { join, clauses } => {
                let needed: Vec<String> = match join {
                    Some(vars) => vars.iter().map(|v| v.0.clone()).collect(),
                    None => {
                        let elsewhere: HashSet<String> = others
                            .iter()
                            .flat_map(|c| vars_of(std::slice::from_ref(*c)))
                            .collect();
                        let mut mentioned = vars_of(clauses);
                        let mut seen = HashSet::new();
                        mentioned.retain(|v| seen.insert(v.clone()));
                        let (joined, unbound): (Vec<String>, Vec<String>) = mentioned
                            .into_iter()
                            .partition(|v| self.bound(v) || elsewhere.contains(v));
                        // As in Datomic: every variable of a `not` unifies
                        // with the enclosing clauses, so each must be bound
                        // outside it before it runs; `not-join` names the
                        // ones it joins on and keeps the rest its own.
                        if !unbound.is_empty() {
                            let names = unbound.join(", ");
                            let advice = if joined.is_empty() {
                                "bind them in a clause outside the not".to_string()
                            } else {
                                format!(
                                    "use not-join [{}] to keep {names} local to the not",
                                    joined.join(" ")
                                )
                            };
                            return Err(Error::Query(format!(
                                "insufficient bindings: {names} in {clause} is bound by no clause \
                                 outside it; every variable of a not is bound outside it \
                                 ({advice})"
                            )));
                        }
                        joined
                    }
                };
                let missing = self.unbound(needed);
                if missing.is_empty() {
                    Readiness::Filter
                } else {
                    Readiness::Waiting(missing)
                }
            }
            Clause::Or { join, branches } => {
                if join.is_none() {
                    check_or_branches(clause, branches)?;
                }
                let (required, all) = or_vars(join, branches);
                let missing_required = self.unbound(required);
                if !missing_required.is_empty() {
                    return Ok(Readiness::Waiting(missing_required));
                }
                if self.unbound(all.clone()).is_empty() {
                    Readiness::Filter
                } else if branches.iter().all(|b| self.branch_binds(b, &all)) {
                    let small = branches.iter().all(|b| {
                        b.iter().any(|c| {
                            matches!(c, Clause::Pattern(p)
                                if p.source.as_ref().is_some_and(|s| self.shared.is_small_source(&s.0)))
                        })
                    });
                    // Each branch starting from a named source (a delta) is small.
                    Readiness::Relation(if small { 0.6 } else { 1000.0 })
                } else {
                    Readiness::Waiting(self.unbound(all))
                }
            }
            Clause::RuleCall { name, args, .. } => {
                let relation = self
                    .shared
                    .rules
                    .recursive_relation(name)
                    .ok_or_else(|| Error::Query(format!("rule ({name} ...) is not defined")))?;
                let required = relation.required_positions(name);
                let missing: Vec<String> = required
                    .iter()
                    .filter_map(|&i| match args.get(i) {
                        Some(Term::Variable(v)) if !self.bound(&v.0) => Some(v.0.clone()),
                        // `_` binds nothing: a required position waits for
                        // a value that never comes.
                        Some(Term::Blank) => Some("_".to_string()),
                        _ => None,
                    })
                    .collect();
                let seeded = args.iter().any(|arg| match arg {
                    Term::Constant(_) => true,
                    Term::Variable(v) => self.bound(&v.0),
                    _ => false,
                });
                if missing.is_empty() {
                    Readiness::Relation(relation.call_cost(self.shared, name, seeded))
                } else {
                    Readiness::Waiting(missing)
                }
            }
        })
    }

    /// Whether a branch binds every one of `vars` that is not bound yet,
    /// through its own relation clauses.
    fn branch_binds(&self, branch: &[Clause], vars: &[String]) -> bool {
        let mut bound_here = Vec::new();
        for clause in branch {
            match clause {
                Clause::Pattern(_) | Clause::RuleCall { .. } | Clause::Or { .. } => {
                    clause_vars(clause, &mut bound_here)
                }
                Clause::Function { binding, .. } => binding_vars(binding, &mut bound_here),
                _ => {}
            }
        }
        vars.iter().all(|v| self.bound(v) || bound_here.contains(v))
    }

    fn pattern_cost(&self, pattern: &Pattern) -> Result<f64> {
        if pattern
            .source
            .as_ref()
            .is_some_and(|s| self.shared.is_small_source(&s.0))
        {
            // A named source is a handful of rows (a transaction's delta):
            // reading it first keeps the rest of the join on indexes.
            return Ok(0.5);
        }
        let stats = self.shared.statistics;
        let is_bound = |t: &Term| match t {
            Term::Variable(v) => self.bound(&v.0),
            Term::Constant(_) => true,
            _ => false,
        };
        let attribute = match &pattern.attribute {
            Term::Constant(Value::Keyword(k)) => Some(self.shared.attribute(k)?),
            _ => None,
        };
        let count = match attribute {
            Some(a) => stats.attribute_count(a.id).max(1) as f64,
            None => stats.total().max(1) as f64,
        };
        // Estimated rows visited; any indexed lookup beats any scan.
        Ok(if is_bound(&pattern.entity) && is_bound(&pattern.value) {
            // A test on rows already there (`[?e :sex :male]` after `?e` is
            // bound): it adds no rows and may drop many, so it goes before
            // the lookups that add columns.
            FILTER_PATTERN_COST + count.log2() / 100.0
        } else if is_bound(&pattern.entity) {
            1.0 + count.log2() / 100.0
        } else if is_bound(&pattern.value) {
            match attribute {
                Some(a) if a.in_avet() || a.value_type == ValueType::Ref => {
                    1.5 + count.log2() / 100.0
                }
                _ => INDEXED_COST - 1.0 + count / 2.0,
            }
        } else {
            INDEXED_COST + count
        })
    }

    // ---- clause compilation ---------------------------------------------

    fn compile_clause(&mut self, clause: Clause, as_filter: bool) -> Result<()> {
        match clause {
            Clause::Pattern(pattern) => self.compile_pattern(&pattern),
            Clause::Predicate(call) => {
                let condition = self.predicate(&call)?;
                self.conditions.push(condition);
                self.hint_range(&call);
                Ok(())
            }
            Clause::Function { call, binding } => self.compile_function(&call, &binding),
            Clause::Not { join, clauses } => {
                let visible: Option<Vec<String>> =
                    join.map(|vars| vars.iter().map(|v| v.0.clone()).collect());
                let mut child = self.child(visible.as_deref());
                child.compile_clauses(clauses)?;
                let sql = format!("SELECT 1{}{}", child.sql_from(), child.sql_where());
                self.conditions.push(format!("NOT EXISTS ({sql})"));
                Ok(())
            }
            Clause::Or { join, branches } => {
                if as_filter {
                    self.or_as_filter(join, branches)
                } else {
                    self.or_as_relation(join, branches)
                }
            }
            Clause::RuleCall { name, args, .. } => self.compile_recursive_call(&name, &args),
        }
    }

    fn or_as_filter(&mut self, join: Option<RuleVars>, branches: Vec<Vec<Clause>>) -> Result<()> {
        let visible: Option<Vec<String>> = join.map(|vars| {
            vars.required
                .iter()
                .chain(&vars.free)
                .map(|v| v.0.clone())
                .collect()
        });
        let mut alternatives = Vec::new();
        for branch in branches {
            let mut child = self.child(visible.as_deref());
            child.compile_clauses(branch)?;
            alternatives.push(format!(
                "EXISTS (SELECT 1{}{})",
                child.sql_from(),
                child.sql_where()
            ));
        }
        self.conditions
            .push(format!("({})", alternatives.join(" OR ")));
        Ok(())
    }

    /// An `or` that binds new variables: a UNION of its branches, each a
    /// SELECT of the join variables, joined in as a derived table.
    ///
    /// A FROM subquery cannot see the other FROM items (SQLite has no
    /// LATERAL), so a branch would read its whole relation, to be joined
    /// with the clauses before the `or` on the union's output. When those
    /// clauses bound some join variables to columns, their rows become a
    /// seed instead (see [`Frame::seed`]): each branch joins it — first,
    /// when the branch can look the seeded values up through an index, last
    /// otherwise — and the union carries the whole row, which then stands
    /// for the clauses before the `or`.
    fn or_as_relation(&mut self, join: Option<RuleVars>, branches: Vec<Vec<Clause>>) -> Result<()> {
        let (_, vars) = or_vars(&join, &branches);
        let visible: Vec<String> = vars
            .iter()
            .filter(|v| self.vars.get(*v).is_some_and(|var| !var.is_column()))
            .cloned()
            .collect();
        let seed = self.seed(&vars);
        let mut selects = Vec::new();
        let mut types: Vec<Option<Ty>> = vec![None; vars.len()];
        for branch in branches {
            let mut child = self.child(Some(&visible));
            let seeded = seed.as_ref().map(|seed| {
                let alias = self.shared.alias("s");
                let first = self.seed_first(&visible, seed, &vars, &branch);
                (seed, alias, first)
            });
            if let Some((seed, alias, true)) = &seeded {
                child.join_seed(seed, alias, &vars);
            }
            child.compile_clauses(branch)?;
            if let Some((seed, alias, false)) = &seeded {
                child.join_seed(seed, alias, &vars);
            }
            let mut columns = Vec::new();
            for (i, name) in vars.iter().enumerate() {
                let var = child
                    .vars
                    .get(name)
                    .ok_or_else(|| Error::Query(format!("an or branch does not bind {name}")))?;
                columns.push(format!("{} AS v{i}, {} AS t{i}", var.expr, var.tag_expr()));
                types[i] = match (&types[i], &var.ty) {
                    (None, ty) => Some(ty.clone()),
                    (Some(Ty::Known(a)), Ty::Known(b)) if a == b => Some(Ty::Known(*a)),
                    _ => Some(Ty::Dynamic(String::new())),
                };
            }
            if let Some((seed, alias, _)) = &seeded {
                for (j, (_, var)) in seed.vars.iter().enumerate() {
                    let carried = var.in_table(alias);
                    columns.push(format!(
                        "{} AS p{j}, {} AS pt{j}",
                        carried.expr,
                        carried.tag_expr()
                    ));
                }
            }
            if columns.is_empty() {
                columns.push("1 AS v0".to_string());
            }
            selects.push(format!(
                "SELECT {}{}{}",
                columns.join(", "),
                child.sql_from(),
                child.sql_where()
            ));
        }
        let alias = self.shared.alias("o");
        let union = format!("({}) AS {alias}", selects.join(" UNION "));
        if let Some(seed) = &seed {
            // The union's rows hold the seed's: they replace the clauses so far.
            self.from = vec![union];
            self.conditions.clear();
            for (j, (name, var)) in seed.vars.iter().enumerate() {
                let ty = match &var.ty {
                    Ty::Dynamic(_) => Ty::Dynamic(format!("{alias}.pt{j}")),
                    other => other.clone(),
                };
                let expr = Expr::column(&alias, format!("p{j}"));
                self.vars.insert(name.clone(), Var { expr, ty });
            }
        } else {
            self.from.push(union);
        }
        for (i, name) in vars.iter().enumerate() {
            if seed
                .as_ref()
                .is_some_and(|seed| seed.vars.iter().any(|(seeded, _)| seeded == name))
            {
                continue;
            }
            let expr = Expr::column(&alias, format!("v{i}"));
            let ty = match &types[i] {
                Some(Ty::Known(t)) => Ty::Known(*t),
                _ => Ty::Dynamic(format!("{alias}.t{i}")),
            };
            self.bind(name, Var { expr, ty });
        }
        Ok(())
    }

    /// The seed of an `or` joining on `vars`: the rows of the clauses
    /// compiled so far, as a CTE of the distinct bindings of every variable
    /// they bound to a column. `None` when no join variable is such a
    /// column, when the scope may not seed (see [`Frame::seeds_ors`]), or
    /// when a tuple binding refers to columns (it cannot be carried).
    fn seed(&self, vars: &[String]) -> Option<Seed> {
        let joins_a_column = vars
            .iter()
            .any(|name| self.vars.get(name).is_some_and(Var::is_column));
        let tuple_of_columns = self.vars.values().any(|var| {
            var.ty
                .items()
                .is_some_and(|items| items.iter().any(Var::is_column))
        });
        if !self.seeds_ors || !joins_a_column || tuple_of_columns {
            return None;
        }
        let mut select = Vec::new();
        let mut seeded = Vec::new();
        for (name, var) in &self.vars {
            if !var.is_column() || var.ty.items().is_some() {
                continue;
            }
            let i = seeded.len();
            select.push(format!("{} AS k{i}", var.expr));
            let ty = match &var.ty {
                Ty::Dynamic(tag) => {
                    select.push(format!("{tag} AS kt{i}"));
                    Ty::Dynamic(format!("kt{i}"))
                }
                other => other.clone(),
            };
            seeded.push((
                name.clone(),
                Var {
                    expr: Expr::SeedColumn(format!("k{i}")),
                    ty,
                },
            ));
        }
        let table = self.shared.alias("seed");
        self.shared.ctes.borrow_mut().push(format!(
            "{table} AS (SELECT DISTINCT {}{}{})",
            select.join(", "),
            self.sql_from(),
            self.sql_where()
        ));
        Some(Seed {
            table,
            vars: seeded,
        })
    }

    /// Joins an `or` branch to the seed, read through `alias`: the seeded
    /// join variables are bound to (or, bound already, compared with) the
    /// seed's columns.
    fn join_seed(&mut self, seed: &Seed, alias: &str, vars: &[String]) {
        self.from.push(format!("{} AS {alias}", seed.table));
        for (name, var) in &seed.vars {
            if vars.contains(name) {
                self.bind(name, var.in_table(alias));
            }
        }
    }

    /// Whether a branch of an `or` starts from the seed (rather than joining
    /// it last): when it does not bind a seeded join variable itself (it
    /// takes the seed's values), or when one of its data patterns looks a
    /// seeded join variable up through an index (as the entity, or the
    /// value of a ref or indexed attribute). A branch that would scan its
    /// attribute for each seed row reads it once instead.
    fn seed_first(
        &self,
        visible: &[String],
        seed: &Seed,
        vars: &[String],
        branch: &[Clause],
    ) -> bool {
        let seeded: Vec<&(String, Var)> = seed
            .vars
            .iter()
            .filter(|(name, _)| vars.contains(name))
            .collect();
        let mut probe = self.child(Some(visible));
        let names: Vec<String> = seeded.iter().map(|(name, _)| name.clone()).collect();
        if !probe.branch_binds(branch, &names) {
            return true;
        }
        for (name, var) in &seeded {
            probe.vars.insert(name.clone(), var.clone());
        }
        let is_seeded = |term: &Term| matches!(term, Term::Variable(v) if names.contains(&v.0));
        branch.iter().any(|clause| {
            matches!(clause, Clause::Pattern(pattern)
                if (is_seeded(&pattern.entity) || is_seeded(&pattern.value))
                    && probe.pattern_cost(pattern).is_ok_and(|cost| cost < INDEXED_COST))
        })
    }

    fn compile_recursive_call(&mut self, name: &str, args: &[Term]) -> Result<()> {
        crate::pushdown::compile_call(self, name, args)
    }

    /// A constant for a dynamically typed position: keywords that name
    /// entities stay keywords.
    fn constant(&self, value: &Value) -> Result<(SqlLiteral, ValueType)> {
        literal(value)
            .ok_or_else(|| Error::Query(format!("{value} cannot be used as a constant here")))
    }

    fn compile_pattern(&mut self, pattern: &Pattern) -> Result<()> {
        if let Some(source) = pattern
            .source
            .as_ref()
            .and_then(|source| self.shared.collection_source(&source.0))
        {
            return self.compile_source_pattern(pattern, &source);
        }
        let (table, current) = self.pattern_table(pattern)?;
        let alias = self.shared.alias("d");
        self.from.push(format!("{table} AS {alias}"));
        let attribute = match &pattern.attribute {
            Term::Constant(Value::Keyword(k)) => {
                let attribute = self.shared.attribute(k)?;
                let placeholder = self.shared.param(SqlLiteral::Integer(attribute.id));
                self.conditions.push(format!("{alias}.a = {placeholder}"));
                Some(attribute)
            }
            Term::Constant(Value::Integer(id)) => {
                let attribute = self
                    .shared
                    .schema
                    .attribute(*id)
                    .ok_or_else(|| Error::UnknownAttribute(format!("entity {id}")))?;
                let placeholder = self.shared.param(SqlLiteral::Integer(attribute.id));
                self.conditions.push(format!("{alias}.a = {placeholder}"));
                Some(attribute)
            }
            Term::Constant(other) => {
                return Err(Error::Query(format!(
                    "{other} is not an attribute in pattern {}",
                    Clause::Pattern(Box::new(pattern.clone()))
                )))
            }
            Term::Variable(v) => {
                self.attribute_variable(&alias, &v.0);
                None
            }
            _ => None,
        };
        let unbound = |frame: &Self, term: &Term| match term {
            Term::Variable(v) => !frame.bound(&v.0),
            Term::Blank => true,
            _ => false,
        };
        let scans = unbound(self, &pattern.entity) && unbound(self, &pattern.value);
        self.pattern_entity(&alias, &pattern.entity)?;
        self.pattern_value(&alias, attribute, pattern, current)?;
        if scans && current && attribute.is_some_and(Attribute::in_avet) {
            self.avet_values
                .push((Expr::column(&alias, "v"), alias.clone()));
        }
        match &pattern.tx {
            Term::Variable(v) => {
                self.bind(&v.0, Var::known(Expr::column(&alias, "tx"), ValueType::Ref))
            }
            Term::Constant(Value::Integer(tx)) => {
                let placeholder = self.shared.param(SqlLiteral::Integer(*tx));
                self.conditions.push(format!("{alias}.tx = {placeholder}"));
            }
            Term::Blank => {}
            other => {
                return Err(Error::Query(format!(
                    "{other} cannot stand in the transaction position"
                )))
            }
        }
        // The current-state table holds assertions only and has no `added`
        // column: every datom it yields is added.
        let added = if table == "datoms" {
            Expr::value("1")
        } else {
            Expr::column(&alias, "added")
        };
        match &pattern.added {
            Term::Variable(v) => self.bind(&v.0, Var::known(added, ValueType::Boolean)),
            Term::Constant(Value::Boolean(b)) => {
                self.conditions.push(format!("{added} = {}", i64::from(*b)))
            }
            Term::Blank => {}
            other => {
                return Err(Error::Query(format!(
                    "{other} cannot stand in the added position"
                )))
            }
        }
        Ok(())
    }

    /// The table a data pattern reads (a named source's, or a database's),
    /// and whether it is the current-state table with its partial indexes.
    fn pattern_table(&self, pattern: &Pattern) -> Result<(String, bool)> {
        let name = pattern.source.as_ref().map_or("$", |source| &source.0);
        if let Some(named) = self
            .shared
            .named_sources
            .iter()
            .find(|named| named.name == name)
        {
            return Ok((named.table.clone(), self.shared.source.is_current()));
        }
        let database = self.shared.databases.named(name).ok_or_else(|| {
            Error::Query(format!(
                "unknown data source {name} in {}: name it in :in",
                Clause::Pattern(Box::new(pattern.clone()))
            ))
        })?;
        let current = self.shared.databases.source(database).is_current();
        Ok((self.shared.database_table(database), current))
    }

    /// A pattern over a collection of tuples given as a data source: its
    /// terms match the tuples' elements by position (values, not
    /// attributes or entities: a keyword is a keyword).
    fn compile_source_pattern(
        &mut self,
        pattern: &Pattern,
        source: &CollectionSource,
    ) -> Result<()> {
        if source.types.is_empty() {
            // An empty collection (no tuples, so no width): nothing
            // matches, and the pattern's variables bind no value.
            for term in [&pattern.entity, &pattern.attribute, &pattern.value] {
                if let Term::Variable(v) = term {
                    let nothing = Var {
                        expr: Expr::null(),
                        ty: Ty::Dynamic("NULL".into()),
                    };
                    self.bind(&v.0, nothing);
                }
            }
            self.conditions.push("0".into());
            return Ok(());
        }
        let alias = self.shared.alias("s");
        self.from.push(format!("{} AS {alias}", source.table));
        let terms = [
            &pattern.entity,
            &pattern.attribute,
            &pattern.value,
            &pattern.tx,
            &pattern.added,
        ];
        for (position, term) in terms.into_iter().enumerate() {
            if matches!(term, Term::Blank) {
                continue;
            }
            let Some(value_type) = source.types.get(position) else {
                return Err(Error::Query(format!(
                    "{} has more terms than the {}-tuples of {}",
                    Clause::Pattern(Box::new(pattern.clone())),
                    source.types.len(),
                    source.name
                )));
            };
            let column = Var {
                expr: Expr::column(&alias, format!("v{position}")),
                ty: match value_type {
                    Some(t) => Ty::Known(*t),
                    None => Ty::Dynamic(format!("{alias}.t{position}")),
                },
            };
            match term {
                Term::Variable(v) => self.bind(&v.0, column),
                Term::Constant(constant) => {
                    let (literal, value_type) = self.constant(constant)?;
                    let constant = Var::known(self.shared.param(literal), value_type);
                    self.conditions.push(equal(&column, &constant));
                }
                Term::Blank => {}
                Term::Source(s) => {
                    return Err(Error::Query(format!("{} cannot be a pattern's term", s.0)))
                }
            }
        }
        Ok(())
    }

    /// A variable in a pattern's attribute position. Unbound, it binds to
    /// the attribute's entity id. Bound to a keyword (an input, `ground`, a
    /// function's result), it matches the attribute the keyword names, as
    /// `[?a :db/ident ?kw]` joined explicitly would: a keyword that names
    /// no attribute matches nothing (the query was planned without knowing
    /// it, so it is no planning error, unlike a constant attribute). Bound
    /// to a value whose type is known only when it runs, a keyword is
    /// resolved and a number compared as an entity id.
    fn attribute_variable(&mut self, alias: &str, name: &str) {
        let column = format!("{alias}.a");
        match self.vars.get(name).cloned() {
            // A keyword is compared through its ident by `bind`.
            Some(
                ref var @ Var {
                    ref expr,
                    ty: Ty::Dynamic(ref tag),
                },
            ) => {
                let entity = self.ident_entity(var);
                let keyword = ValueType::Keyword.tag();
                let number = entity_or_long(tag);
                self.conditions.push(format!(
                    "(CASE WHEN {tag} = {keyword} THEN {column} = {entity} \
                     ELSE {column} = {expr} AND {number} END)"
                ));
            }
            _ => self.bind(name, Var::known(Expr::column(alias, "a"), ValueType::Ref)),
        }
    }

    /// The entity an entity identifier names, as a ref (Datomic's
    /// entity identifiers: the entity argument of `get-else`, `get-some`
    /// and `missing?`): a constant id, ident or lookup ref
    /// ([`Frame::entity_constant`]); a variable bound to a keyword (an
    /// input, `ground`) through `:db/ident`; any other variable as it is.
    pub fn entity_identifier(&self, term: &Term) -> Result<Var> {
        if let Term::Constant(value) = term {
            return Ok(Var::known(self.entity_constant(value)?, ValueType::Ref));
        }
        let var = self.term_var(term)?;
        Ok(match &var.ty {
            Ty::Known(ValueType::Keyword) => Var::known(self.ident_entity(&var), ValueType::Ref),
            _ => var,
        })
    }

    /// SQL for the entity whose `:db/ident` is the keyword `keyword`.
    pub(crate) fn ident_entity(&self, keyword: &Var) -> Expr {
        let ident = self
            .shared
            .param(SqlLiteral::Integer(factlite_core::bootstrap::DB_IDENT));
        let expr = &keyword.expr;
        Expr::computed(
            format!("(SELECT e FROM datoms WHERE a = {ident} AND v = {expr} AND avet = 1)"),
            [keyword],
        )
    }

    fn pattern_entity(&mut self, alias: &str, entity: &Term) -> Result<()> {
        match entity {
            // Bound to a keyword (an input, `ground`), `bind` compares the
            // entity it is the ident of.
            Term::Variable(v) => {
                self.bind(&v.0, Var::known(Expr::column(alias, "e"), ValueType::Ref));
            }
            Term::Constant(value) => {
                let expr = self.entity_constant(value)?;
                self.conditions.push(format!("{alias}.e = {expr}"));
            }
            Term::Blank => {}
            Term::Source(s) => return Err(Error::Query(format!("{} cannot be an entity", s.0))),
        }
        Ok(())
    }

    /// SQL for an entity given as a constant: an id, an ident, or a lookup
    /// ref (resolved by a subquery).
    pub fn entity_constant(&self, value: &Value) -> Result<Expr> {
        match value {
            Value::Integer(id) => Ok(self.shared.param(SqlLiteral::Integer(*id))),
            Value::Keyword(ident) => Ok(match self.shared.schema.entid(ident) {
                Some(id) => self.shared.param(SqlLiteral::Integer(id)),
                None => Expr::null(),
            }),
            Value::Vector(items) if items.len() == 2 => {
                let Value::Keyword(k) = &items[0] else {
                    return Err(Error::Query(format!("{value} is not a lookup ref")));
                };
                let attribute = self.shared.attribute(k)?;
                if attribute.unique.is_none() {
                    return Err(Error::Query(format!(
                        "lookup ref {value}: {} is not a unique attribute",
                        items[0]
                    )));
                }
                let typed = self.typed_constant(attribute, &items[1])?;
                let a = self.shared.param(SqlLiteral::Integer(attribute.id));
                let v = self.shared.param(typed);
                // Resolved in the query's database (as of, since: the
                // entity that held the value then), through the partial
                // AVET index when that is the current state.
                let table = self.shared.source_table();
                let current = if table == "datoms" {
                    " AND avet = 1"
                } else {
                    ""
                };
                let entity =
                    format!("(SELECT e FROM {table} WHERE a = {a} AND v = {v}{current} LIMIT 1)");
                if !self.shared.named_sources.is_empty() {
                    // A view's maintenance over a transaction's delta: the
                    // entity may be gone since the view was made, and then
                    // the pattern matches nothing rather than failing every
                    // later transaction.
                    return Ok(Expr::computed(entity, []));
                }
                // A lookup ref that names no entity fails the query, as one
                // given as an input does.
                let shown = self.shared.param(SqlLiteral::Text(value.to_string()));
                Ok(Expr::computed(
                    format!("factlite_lookup({entity}, {shown})"),
                    [],
                ))
            }
            other => Err(Error::Query(format!("{other} does not name an entity"))),
        }
    }

    fn typed_constant(&self, attribute: &Attribute, value: &Value) -> Result<SqlLiteral> {
        attribute
            .typed_value(value)
            .map(|v| typed_literal(&v))
            .map_err(|refused| match refused {
                factlite_core::ValueMismatch::Tuple { reason, .. } => Error::Query(format!(
                    "{} holds tuples, and {reason}",
                    Value::Keyword(attribute.ident.clone())
                )),
                factlite_core::ValueMismatch::Type(_) => Error::Query(format!(
                    "{value} is a {}, but {} holds {}",
                    value.kind_name(),
                    Value::Keyword(attribute.ident.clone()),
                    attribute.value_type
                )),
            })
    }

    /// The value position of a pattern on a table `current` tells is the
    /// current-state table or not.
    fn pattern_value(
        &mut self,
        alias: &str,
        attribute: Option<&Attribute>,
        pattern: &Pattern,
        current: bool,
    ) -> Result<()> {
        match (&pattern.value, attribute) {
            (Term::Blank, _) => {}
            (Term::Variable(v), Some(attribute)) => {
                let var = Var::known(Expr::column(alias, "v"), attribute.value_type);
                if self.bound(&v.0) && current {
                    self.hint_value_index(alias, attribute);
                }
                self.bind(&v.0, var);
            }
            (Term::Variable(v), None) => self.bind(
                &v.0,
                Var {
                    expr: Expr::column(alias, "v"),
                    ty: Ty::Dynamic(format!("{alias}.t")),
                },
            ),
            (Term::Constant(constant), Some(attribute)) => {
                let expr = if attribute.value_type == ValueType::Ref {
                    self.entity_constant(constant)?
                } else {
                    let literal = self.typed_constant(attribute, constant)?;
                    self.shared.param(literal)
                };
                self.conditions.push(format!("{alias}.v = {expr}"));
                if current {
                    self.hint_value_index(alias, attribute);
                }
            }
            (Term::Constant(constant), None) => {
                let (literal, value_type) = self.constant(constant)?;
                let placeholder = self.shared.param(literal);
                // A number matches an entity id as well as a long (as in
                // `equal`).
                let tag = format!("{alias}.t");
                let tag_matches = match value_type {
                    ValueType::Long => entity_or_long(&tag),
                    other => format!("{tag} = {}", other.tag()),
                };
                self.conditions
                    .push(format!("{alias}.v = {placeholder} AND {tag_matches}"));
            }
            (Term::Source(_), _) => {
                return Err(Error::Query(format!(
                    "a source cannot be a value in {}",
                    Clause::Pattern(Box::new(pattern.clone()))
                )))
            }
        }
        Ok(())
    }

    /// A range comparison on the value of a pattern that scans an
    /// attribute in AVET: the partial index's own condition, so SQLite may
    /// read the range from it rather than scan the attribute.
    fn hint_range(&mut self, call: &FnCall) {
        if !matches!(call.name.as_str(), "<" | ">" | "<=" | ">=") {
            return;
        }
        for arg in &call.args {
            let Term::Variable(v) = arg else { continue };
            let Some(expr) = self.vars.get(&v.0).map(|var| var.expr.clone()) else {
                continue;
            };
            if let Some(index) = self
                .avet_values
                .iter()
                .position(|(value, _)| *value == expr)
            {
                let (_, alias) = self.avet_values.remove(index);
                self.conditions.push(format!("{alias}.avet = 1"));
            }
        }
    }

    /// Lets SQLite use the partial AVET or VAET index.
    fn hint_value_index(&mut self, alias: &str, attribute: &Attribute) {
        if attribute.in_avet() {
            self.conditions.push(format!("{alias}.avet = 1"));
        } else if attribute.value_type == ValueType::Ref {
            self.conditions.push(format!("{alias}.t = 0"));
        }
    }

    // ---- predicates and functions ---------------------------------------

    /// The SQL value of a term: a bound variable or a constant.
    pub fn term_var(&self, term: &Term) -> Result<Var> {
        match term {
            Term::Variable(v) => match self.vars.get(&v.0) {
                Some(Var {
                    ty: Ty::Collection(kind, _),
                    ..
                }) => Err(Error::Query(format!(
                    "{} holds a {} built in the query, which only :find returns",
                    v.0,
                    kind.name()
                ))),
                Some(var) => Ok(var.clone()),
                None => Err(Error::Query(format!("{} is not bound", v.0))),
            },
            Term::Constant(Value::Vector(items)) => {
                let vars = items
                    .iter()
                    .map(|item| self.term_var(&Term::Constant(item.clone())))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Var {
                    expr: Expr::null(),
                    ty: Ty::Tuple(vars),
                })
            }
            Term::Constant(Value::Nil) => Ok(Var {
                expr: Expr::null(),
                ty: Ty::Dynamic("NULL".into()),
            }),
            Term::Constant(value) => {
                let (literal, value_type) = self.constant(value)?;
                Ok(Var::known(self.shared.param(literal), value_type))
            }
            Term::Blank => Err(Error::Query("_ cannot be a function argument".into())),
            Term::Source(s) => Err(Error::Query(format!("{} is not a value", s.0))),
        }
    }

    fn predicate(&self, call: &FnCall) -> Result<String> {
        crate::compile_fns::predicate(self, call)
    }

    fn compile_function(&mut self, call: &FnCall, binding: &Binding) -> Result<()> {
        crate::compile_fns::function(self, call, binding)
    }
}

fn call_vars(call: &FnCall) -> Vec<String> {
    call.args
        .iter()
        .filter_map(|t| match t {
            Term::Variable(v) => Some(v.0.clone()),
            _ => None,
        })
        .collect()
}

/// The required and all join variables of an `or`.
/// Every branch of an `or` (not `or-join`) uses the same variables, as
/// Datomic requires: the branches unify with the rest of the query on
/// all of them.
fn check_or_branches(clause: &Clause, branches: &[Vec<Clause>]) -> Result<()> {
    let sets: Vec<Vec<String>> = branches
        .iter()
        .map(|branch| {
            let mut vars = vars_of(branch);
            vars.sort();
            vars.dedup();
            vars
        })
        .collect();
    match sets.iter().find(|vars| *vars != &sets[0]) {
        None => Ok(()),
        Some(other) => Err(Error::Query(format!(
            "the branches of {clause} use different variables ({} and {}): every branch of \
             an or must use the same ones; name the shared ones with or-join",
            show_vars(&sets[0]),
            show_vars(other)
        ))),
    }
}

fn show_vars(vars: &[String]) -> String {
    if vars.is_empty() {
        "none".to_string()
    } else {
        vars.join(" ")
    }
}

fn or_vars(join: &Option<RuleVars>, branches: &[Vec<Clause>]) -> (Vec<String>, Vec<String>) {
    match join {
        Some(vars) => (
            vars.required.iter().map(|v| v.0.clone()).collect(),
            vars.required
                .iter()
                .chain(&vars.free)
                .map(|v| v.0.clone())
                .collect(),
        ),
        None => {
            let mut all = branches.first().map(|b| vars_of(b)).unwrap_or_default();
            all.sort();
            all.dedup();
            (Vec::new(), all)
        }
    }
}

/// Compiles a whole query.
pub fn compile_query(context: &Context<'_>, query: &Query, inputs: &Signature) -> Result<Plan> {
    let (rules, clauses) = crate::sourced::specialize(&inputs.rules, query.where_clauses.clone())?;
    let shared = Shared::new(context, &rules)?;
    let mut frame = Frame::new(&shared);
    frame.seeds_ors = true;
    crate::inputs::bind_inputs(&mut frame, inputs)?;
    frame.compile_clauses(clauses)?;
    crate::find::finish(&shared, frame, query, inputs)
}
