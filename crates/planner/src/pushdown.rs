//! Bound arguments pushed into recursion, so that "the ancestors of one
//! person" does not compute the ancestors of everyone.
//!
//! When a recursive rule is called with some arguments bound (constants, or
//! variables bound by the clauses compiled before the call), those values
//! become a *seed*: a CTE `seedN(v0, t0, ...)` holding one row per distinct
//! combination of bound values. The component's relation is then specialised
//! to the seed in one of two ways, whichever the rules allow:
//!
//! - **carry**: every recursive call passes the bound arguments on unchanged
//!   (left-linear rules such as `(reach ?a ?b) :- (reach ?a ?m) [?m :edge
//!   ?b]`). The bodies that do not recurse start from the seed's rows, so the
//!   recursion only ever holds tuples whose bound arguments are seeds.
//! - **tail**: every recursive call passes the head's free variables on
//!   unchanged and nothing else in its body mentions them (right-linear rules
//!   such as `(reach ?a ?b) :- [?a :edge ?m] (reach ?m ?b)`). A recursive CTE
//!   `goalN(rid, s0, st0, ..., g0, gt0, ...)` walks from each seed `s` to the
//!   goals `g` the recursion asks about (the bound arguments of each call it
//!   makes), and the answers `ansN(s0, st0, ..., v_i, t_i, ...)` are the
//!   bodies that do not recurse, run on those goals and kept with their seed.
//!   When the goals are the answers — a single rule whose recursive bodies,
//!   without their call, are its other bodies, as in a transitive closure —
//!   one recursive CTE `ansN` is enough: those bodies run on the seed, then
//!   on each answer.
//!
//! A seed of one row of constants and parameters is the call's own
//! arguments: the specialised relation (either way) then leaves its columns
//! out, and a body that reads them reads the seed's values.
//!
//! Either way SQLite explores only what is reachable from the seeds. A call
//! that fits neither, or whose seed would depend on an enclosing scope (inside
//! `not`, an `or` branch, or the definition of a recursive CTE), reads the
//! whole relation, as an unbound call does.

use std::collections::HashSet;

use factlite_core::ValueType;
use factlite_edn::Value;
use factlite_query::{Clause, Rule, Term, Variable};

use crate::bound::{equal, Expr, Ty, Var};
use crate::compile::{clause_vars, Frame};
use crate::error::{Error, Result};
use crate::literals::literal;
use crate::rules::{
    agreed_types, count_calls, heads, settle_types, split_delta, typed_columns, without_affinity,
    BodySelect, ColumnTypes, RecursiveRelation, RuleSet,
};
use crate::shared::Shared;

/// The rows a specialised relation starts from: a CTE with one value and one
/// tag column per bound argument position.
pub struct Seed {
    table: String,
    /// The argument positions the seed binds, in column order.
    positions: Vec<usize>,
    /// The type of each column, when it is known statically.
    types: Vec<Option<ValueType>>,
    /// Whether the seed is one row of parameters and constants (no clause
    /// computes it): its values are then the call's own arguments, so a
    /// relation specialised to it need not carry them along.
    single_row: bool,
    /// The seed's values as the call's scope has them.
    values: Vec<Var>,
}

impl Seed {
    /// A column holding the values of seed column `j`: typed as the seed's
    /// when that is known, else by the tag column `tag`.
    fn typed(&self, j: usize, expr: Expr, tag: String) -> Var {
        column(expr, tag, self.types[j])
    }

    /// The values a relation specialised to a single-row seed holds at every
    /// seeded position, by position (none for a seed of several rows).
    pub fn fixed(&self) -> Vec<(usize, Var)> {
        if !self.single_row {
            return Vec::new();
        }
        self.positions
            .iter()
            .copied()
            .zip(self.values.iter().cloned())
            .collect()
    }

    /// The call's arguments, those a relation specialised to the seed does
    /// not hold blanked: they are known already.
    fn unheld(&self, args: &[Term], held: impl Fn(usize) -> bool) -> Vec<Term> {
        args.iter()
            .enumerate()
            .map(|(i, arg)| {
                if self.positions.contains(&i) && !held(i) {
                    Term::Blank
                } else {
                    arg.clone()
                }
            })
            .collect()
    }

    /// Joins the seed's rows into a rule body's scope, binding the head
    /// variables at the seeded positions. Returns the FROM item's alias.
    pub fn join(&self, frame: &mut Frame<'_, '_>, heads: &[&Variable]) -> String {
        let alias = frame.shared.alias("s");
        frame.from.push(format!("{} AS {alias}", self.table));
        for (j, &position) in self.positions.iter().enumerate() {
            let var = self.typed(
                j,
                Expr::column(&alias, format!("v{j}")),
                format!("{alias}.t{j}"),
            );
            frame.bind(&heads[position].0, var);
        }
        alias
    }

    /// The columns `{prefix}{value}{j}` and, where the type of value `j` is
    /// not known, `{prefix}{tag}{j}` of a relation that carries the seed
    /// along (none when it does not). `prefix` is a FROM item's alias and a
    /// dot, or nothing for the column names.
    fn carried(&self, carry: bool, prefix: &str, (value, tag): (&str, &str)) -> Vec<String> {
        let mut columns = Vec::new();
        if carry {
            for (j, value_type) in self.types.iter().enumerate() {
                columns.push(format!("{prefix}{value}{j}"));
                if value_type.is_none() {
                    columns.push(format!("{prefix}{tag}{j}"));
                }
            }
        }
        columns
    }
}

/// How a call's bound arguments are pushed into the recursion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strategy {
    Carry,
    Tail,
}

/// Compiles a call of a recursive rule: joins its relation (specialised to
/// the call's bound arguments where possible) and binds its arguments.
pub fn compile_call(frame: &mut Frame<'_, '_>, name: &str, args: &[Term]) -> Result<()> {
    let shared = frame.shared;
    let (name, delta) = split_delta(name);
    let relation = shared
        .rules
        .recursive_relation(name)
        .ok_or_else(|| Error::Query(format!("rule ({name} ...) is not defined")))?;
    if args.iter().any(|arg| matches!(arg, Term::Source(_))) {
        return Err(Error::Query(format!(
            "a source cannot be passed to rule {name}"
        )));
    }
    let arity = relation.arity(&shared.rules, name);
    if args.len() != arity {
        return Err(Error::Query(format!(
            "rule ({name} ...) takes {arity} arguments, called with {}",
            args.len()
        )));
    }
    if !relation.being_defined(shared) {
        let positions = bound_positions(frame, args);
        if !positions.is_empty() {
            match strategy(shared, &relation, &positions) {
                Some(Strategy::Carry) => {
                    if let Some(seed) = make_seed(frame, args, positions) {
                        carry_call(frame, &relation, name, args, &seed)?;
                        lead_with_answers(frame, &seed);
                        return Ok(());
                    }
                }
                Some(Strategy::Tail) => {
                    if let Some(seed) = make_seed(frame, args, positions) {
                        tail_call(frame, &relation, name, args, &seed)?;
                        lead_with_answers(frame, &seed);
                        return Ok(());
                    }
                }
                None => {}
            }
        }
    }
    let table = relation.table(shared, delta)?;
    join_table(frame, &relation, name, args, &table)
}

/// The answers of a call seeded by the clauses before it carry their
/// seeds, so when the first of those clauses binds a seed's value as its
/// entity, the join starts from the answers and looks that clause's rows
/// up by entity (and the rest after it, in their order): in the order
/// written SQLite would scan every answer once per earlier row, as it
/// builds no index on a recursive CTE.
fn lead_with_answers(frame: &mut Frame<'_, '_>, seed: &Seed) {
    if seed.single_row || frame.from.len() < 2 {
        return;
    }
    let Some(first) = frame.from[0].rsplit(' ').next() else {
        return;
    };
    let entity = Expr::column(first, "e");
    if seed.values.iter().any(|value| value.expr == entity) {
        if let Some(answers) = frame.from.pop() {
            frame.from.insert(0, answers);
        }
    }
}

/// Joins a rule table for a call and binds the call's arguments to its
/// columns, typed where the table's column types are known.
fn join_table(
    frame: &mut Frame<'_, '_>,
    relation: &RecursiveRelation,
    name: &str,
    args: &[Term],
    table: &str,
) -> Result<()> {
    let shared = frame.shared;
    let alias = shared.alias("r");
    frame.from.push(format!("{table} AS {alias}"));
    if relation.has_rid(&shared.rules) {
        frame
            .conditions
            .push(format!("{alias}.rid = {}", relation.rule_id(name)));
    }
    bind_arguments(frame, args, |i| {
        shared.rules.fixed_value(table, i).unwrap_or_else(|| {
            column(
                Expr::column(&alias, format!("v{i}")),
                format!("{alias}.t{i}"),
                shared.rules.column_type(table, i),
            )
        })
    })
}

/// A column's value: of a known type, or typed by its tag column.
fn column(expr: Expr, tag: String, known: Option<ValueType>) -> Var {
    match known {
        Some(value_type) => Var {
            expr,
            ty: Ty::Known(value_type),
        },
        None => Var {
            expr,
            ty: Ty::Dynamic(tag),
        },
    }
}

/// Binds (or constrains) each argument of a call to the column `column`
/// gives for its position.
fn bind_arguments(
    frame: &mut Frame<'_, '_>,
    args: &[Term],
    column: impl Fn(usize) -> Var,
) -> Result<()> {
    for (i, arg) in args.iter().enumerate() {
        let var = column(i);
        match arg {
            Term::Variable(v) => frame.bind(&v.0, var),
            // An ident where the rule holds an entity, and a lookup ref,
            // name their entity, as written in a pattern they would.
            Term::Constant(value)
                if matches!(value, Value::Vector(_))
                    || (matches!(value, Value::Keyword(_))
                        && var.ty == Ty::Known(ValueType::Ref)) =>
            {
                let entity = Var::known(frame.entity_constant(value)?, ValueType::Ref);
                frame.conditions.push(equal(&var, &entity));
            }
            Term::Constant(value) => {
                let (literal, value_type) = literal(value).ok_or_else(|| {
                    Error::Query(format!("{value} cannot be used as a constant here"))
                })?;
                let constant = Var {
                    expr: frame.shared.param(literal),
                    ty: Ty::Known(value_type),
                };
                frame.conditions.push(equal(&var, &constant));
            }
            Term::Blank | Term::Source(_) => {}
        }
    }
    Ok(())
}

/// The argument positions whose values are known when the call runs:
/// constants, and variables already bound to a single value.
fn bound_positions(frame: &Frame<'_, '_>, args: &[Term]) -> Vec<usize> {
    args.iter()
        .enumerate()
        .filter(|(_, arg)| match arg {
            Term::Constant(value) => literal(value).is_some(),
            Term::Variable(v) => frame
                .vars
                .get(&v.0)
                .is_some_and(|var| var.ty.items().is_none()),
            _ => false,
        })
        .map(|(i, _)| i)
        .collect()
}

/// Defines the seed CTE of a call: its bound values, computed by the
/// clauses compiled so far when a value comes from them. `None` when those
/// clauses cannot stand alone in a CTE.
fn make_seed(frame: &Frame<'_, '_>, args: &[Term], positions: Vec<usize>) -> Option<Seed> {
    let shared = frame.shared;
    let from_clauses = positions.iter().any(|&i| match &args[i] {
        Term::Variable(v) => frame
            .vars
            .get(&v.0)
            .is_some_and(|var| !aliases(var).is_empty()),
        _ => false,
    });
    if from_clauses && (shared.rules.defining_any() || !self_contained(frame)) {
        return None;
    }
    let values: Vec<Var> = positions
        .iter()
        .map(|&i| match &args[i] {
            Term::Variable(v) => frame.vars.get(&v.0).cloned(),
            Term::Constant(value) => {
                let (literal, value_type) = literal(value)?;
                Some(Var {
                    expr: shared.param(literal),
                    ty: Ty::Known(value_type),
                })
            }
            _ => None,
        })
        .collect::<Option<_>>()?;
    let columns: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(j, var)| {
            format!(
                "{} AS v{j}, {} AS t{j}",
                without_affinity(&var.expr),
                var.tag_expr()
            )
        })
        .collect();
    let select = if from_clauses {
        format!(
            "SELECT DISTINCT {}{}{}",
            columns.join(", "),
            frame.sql_from(),
            frame.sql_where()
        )
    } else {
        format!("SELECT {}", columns.join(", "))
    };
    let table = shared.alias("seed");
    shared
        .ctes
        .borrow_mut()
        .push(format!("{table} AS ({select})"));
    let types = values
        .iter()
        .map(|var| match var.ty {
            Ty::Known(value_type) => Some(value_type),
            _ => None,
        })
        .collect();
    Some(Seed {
        table,
        positions,
        types,
        single_row: !from_clauses,
        values,
    })
}

/// The table aliases (`d3` in `d3.e`) a value and its type tag read.
fn aliases(var: &Var) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(items) = var.ty.items() {
        items.iter().for_each(|item| out.extend(aliases(item)));
        return out;
    }
    var.expr.add_tables(&mut out);
    // A type tag is SQL text: its aliases are the words before a `.`.
    if let Ty::Dynamic(text) = &var.ty {
        let bytes = text.as_bytes();
        let mut start = None;
        for (i, &b) in bytes.iter().enumerate() {
            if b.is_ascii_alphanumeric() || b == b'_' {
                start.get_or_insert(i);
                continue;
            }
            if let Some(s) = start.take() {
                let word = &text[s..i];
                let is_alias = b == b'.' && word.starts_with(|c: char| c.is_ascii_lowercase());
                if is_alias && (s == 0 || bytes[s - 1] != b'.') {
                    out.push(word.to_string());
                }
            }
        }
    }
    out
}

/// Whether every variable of the scope is read from the scope's own FROM
/// items (or is a parameter): a nested scope also sees its parents' tables,
/// which a CTE cannot.
fn self_contained(frame: &Frame<'_, '_>) -> bool {
    let defined: HashSet<&str> = frame
        .from
        .iter()
        .filter_map(|item| item.rsplit(' ').next())
        .collect();
    frame
        .vars
        .values()
        .all(|var| aliases(var).iter().all(|a| defined.contains(a.as_str())))
}

/// The call of the component at the top level of a body, if any: the
/// callee's name and the arguments.
fn own_call<'r>(rule: &'r Rule, names: &[String]) -> Option<(&'r str, &'r [Term])> {
    rule.body.iter().find_map(|clause| match clause {
        Clause::RuleCall { name, args, .. } if names.contains(name) => {
            Some((name.as_str(), args.as_slice()))
        }
        _ => None,
    })
}

/// The variables of a body's clauses other than its call of the component.
fn vars_besides_call(rule: &Rule, names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for clause in &rule.body {
        if !matches!(clause, Clause::RuleCall { name, .. } if names.contains(name)) {
            clause_vars(clause, &mut out);
        }
    }
    out
}

/// The variables a recursive body can bind without its call of the
/// component, from the heads at the bound `positions`: every variable of
/// a pattern, an `or` or another rule's call, and a function's binding
/// once its arguments are known (`[(+ ?d0 1) ?d]` after the call binds
/// `?d0` gives the call nothing). To a fixpoint, as clauses run in any
/// order.
fn known_before_call(rule: &Rule, names: &[String], positions: &[usize]) -> HashSet<String> {
    let head = heads(rule);
    let mut known: HashSet<String> = positions.iter().map(|&p| head[p].0.clone()).collect();
    loop {
        let before = known.len();
        for clause in &rule.body {
            let mut bound = Vec::new();
            match clause {
                Clause::RuleCall { name, .. } if names.contains(name) => {}
                Clause::Pattern(_) | Clause::Or { .. } | Clause::RuleCall { .. } => {
                    clause_vars(clause, &mut bound)
                }
                Clause::Function { call, binding } => {
                    let inputs_known = call.args.iter().all(|arg| match arg {
                        Term::Variable(v) => known.contains(&v.0),
                        _ => true,
                    });
                    if inputs_known {
                        crate::compile::binding_vars(binding, &mut bound);
                    }
                }
                Clause::Predicate(_) | Clause::Not { .. } => {}
            }
            known.extend(bound);
        }
        if known.len() == before {
            return known;
        }
    }
}

/// Which specialisation the component allows for these bound positions.
fn strategy(
    shared: &Shared<'_>,
    relation: &RecursiveRelation,
    positions: &[usize],
) -> Option<Strategy> {
    let definitions = relation.definitions(&shared.rules);
    let arity = heads(definitions.first()?.1).len();
    let mut recursive = Vec::new();
    for (_, rule) in &definitions {
        if heads(rule).len() != arity {
            return None;
        }
        match count_calls(&rule.body, &relation.names) {
            0 => {}
            1 => {
                let (_, args) = own_call(rule, &relation.names)?;
                if args.len() != arity {
                    return None;
                }
                recursive.push((*rule, args));
            }
            _ => return None,
        }
    }
    let passes_on = |rule: &Rule, args: &[Term], i: usize| matches!(&args[i], Term::Variable(v) if *v == *heads(rule)[i]);
    let carry = recursive
        .iter()
        .all(|(rule, args)| positions.iter().all(|&i| passes_on(rule, args, i)));
    if carry {
        return Some(Strategy::Carry);
    }
    let tail = recursive.iter().all(|(rule, args)| {
        let head = heads(rule);
        let others = vars_besides_call(rule, &relation.names);
        let known = known_before_call(rule, &relation.names, positions);
        (0..arity).all(|i| {
            if positions.contains(&i) {
                match &args[i] {
                    Term::Constant(value) => literal(value).is_some(),
                    Term::Variable(v) => known.contains(&v.0),
                    _ => false,
                }
            } else {
                passes_on(rule, args, i)
                    && !others.contains(&head[i].0)
                    && head.iter().filter(|h| h.0 == head[i].0).count() == 1
            }
        })
    });
    tail.then_some(Strategy::Tail)
}

/// A call specialised by carrying the seed through the recursion.
fn carry_call(
    frame: &mut Frame<'_, '_>,
    relation: &RecursiveRelation,
    name: &str,
    args: &[Term],
    seed: &Seed,
) -> Result<()> {
    let shared = frame.shared;
    let table = shared.alias("rec");
    relation.define(shared, &table, Some(seed))?;
    let args = seed.unheld(args, |i| shared.rules.fixed_value(&table, i).is_none());
    join_table(frame, relation, name, &args, &table)
}

/// A call specialised by walking from the seeds to the goals the recursion
/// asks about and answering them with the bodies that do not recurse: in
/// one recursive CTE when the goals are the answers (see `closure_shape`),
/// else goals first, then answers.
fn tail_call(
    frame: &mut Frame<'_, '_>,
    relation: &RecursiveRelation,
    name: &str,
    args: &[Term],
    seed: &Seed,
) -> Result<()> {
    let shared = frame.shared;
    let free: Vec<usize> = (0..args.len())
        .filter(|i| !seed.positions.contains(i))
        .collect();
    // A single-row seed's values are the call's own arguments: the answers
    // carry them only when there is nothing else to an answer.
    let carry = !seed.single_row || free.is_empty();
    let answers = if closure_shape(&shared.rules, relation, &seed.positions, &free) {
        closure_answers(shared, relation, seed, &free, carry)?
    } else {
        walked_answers(shared, relation, name, seed, &free, carry)?
    };
    let alias = shared.alias("r");
    frame.from.push(format!("{} AS {alias}", answers.table));
    let args = seed.unheld(args, |_| carry);
    bind_arguments(frame, &args, |i| {
        match seed.positions.iter().position(|&p| p == i) {
            Some(j) => seed.typed(
                j,
                Expr::column(&alias, format!("s{j}")),
                format!("{alias}.st{j}"),
            ),
            None => {
                let k = free.iter().position(|&f| f == i).unwrap_or(0);
                column(
                    Expr::column(&alias, format!("v{k}")),
                    format!("{alias}.t{k}"),
                    answers.types.get(k).copied().flatten(),
                )
            }
        }
    })
}

/// The answers of a specialised right-linear call: a CTE of the seed's
/// values (`s0, st0, ...`, when carried) and the answers' values at the
/// free positions (`v_k, t_k` for the `k`-th), and the types of the latter.
struct Answers {
    table: String,
    types: ColumnTypes,
}

/// The columns of an answers CTE.
fn answer_columns(seed: &Seed, free: &[usize], carry: bool, types: &ColumnTypes) -> String {
    let mut columns = seed.carried(carry, "", ("s", "st"));
    columns.extend(typed_columns(free.len(), types, &[]));
    columns.join(", ")
}

/// A body compiled in `frame` as a row of answers: the `lead` columns (the
/// seed's values), then the head's values at the free positions.
fn answer_select(
    frame: &Frame<'_, '_>,
    rule: &Rule,
    lead: Vec<String>,
    free: &[usize],
) -> Result<BodySelect> {
    let head = heads(rule);
    let free_heads: Vec<&Variable> = free.iter().map(|&i| head[i]).collect();
    BodySelect::new(frame, rule, lead, &free_heads, free.len())
}

/// Whether the goals a right-linear component asks about are its answers:
/// a single rule whose recursive bodies, without their call, are the bodies
/// that do not recurse (the same clauses up to the names of variables),
/// the call's bound arguments taking the place of the free head variables
/// (the `j`-th bound position's argument that of the `j`-th free position's
/// head). `(reach ?a ?b) :- [?a :edge ?b]` and `(reach ?a ?b) :- [?a :edge
/// ?m] (reach ?m ?b)` are: the goals from `s` are `s` and the answers, so
/// the answers are the exit bodies run on the seed and again on every
/// answer — one recursive CTE.
fn closure_shape(
    rules: &RuleSet,
    relation: &RecursiveRelation,
    positions: &[usize],
    free: &[usize],
) -> bool {
    if relation.names.len() != 1 || positions.len() != free.len() {
        return false;
    }
    let mut exits = Vec::new();
    let mut steps = Vec::new();
    for (_, rule) in relation.definitions(rules) {
        let head = heads(rule);
        if (0..head.len()).any(|i| head[..i].contains(&head[i])) {
            return false;
        }
        let mut names: Vec<(String, String)> = positions
            .iter()
            .enumerate()
            .map(|(j, &p)| (head[p].0.clone(), format!("?b{j}")))
            .collect();
        if count_calls(&rule.body, &relation.names) == 0 {
            names.extend(
                free.iter()
                    .enumerate()
                    .map(|(j, &f)| (head[f].0.clone(), format!("?n{j}"))),
            );
            exits.push(canonical(&rule.body, names));
            continue;
        }
        let Some((_, call)) = own_call(rule, &relation.names) else {
            return false;
        };
        for (j, &p) in positions.iter().enumerate() {
            let Term::Variable(next) = &call[p] else {
                return false;
            };
            if head.contains(&next) || names.iter().any(|(name, _)| *name == next.0) {
                return false;
            }
            names.push((next.0.clone(), format!("?n{j}")));
        }
        let rest: Vec<Clause> = rule
            .body
            .iter()
            .filter(
                |c| !matches!(c, Clause::RuleCall { name, .. } if relation.names.contains(name)),
            )
            .cloned()
            .collect();
        steps.push(canonical(&rest, names));
    }
    !exits.is_empty()
        && steps.iter().all(|step| exits.contains(step))
        && exits.iter().all(|exit| steps.contains(exit))
}

/// `clauses` with their variables renamed: those of `names` as given, the
/// others `?l0`, `?l1`, ... in the order first mentioned (`_` stays, each
/// one its own variable), so that two bodies differing only in the names
/// of their variables become equal.
fn canonical(clauses: &[Clause], mut names: Vec<(String, String)>) -> Vec<Clause> {
    let mut vars = Vec::new();
    clauses.iter().for_each(|c| c.variables(true, &mut vars));
    for var in vars {
        if var.0 != "_" && !names.iter().any(|(name, _)| *name == var.0) {
            let local = format!("?l{}", names.len());
            names.push((var.0, local));
        }
    }
    let rename = |var: &str| {
        names
            .iter()
            .find(|(name, _)| name == var)
            .map_or_else(|| var.to_string(), |(_, to)| to.clone())
    };
    clauses
        .iter()
        .map(|c| c.rename_variables(&rename))
        .collect()
}

/// The answers of a call of a component of `closure_shape`, in one
/// recursive CTE: the bodies that do not recurse run on the seed's rows,
/// then on each answer (its values at the free positions bound to the
/// heads at the bound positions).
fn closure_answers(
    shared: &Shared<'_>,
    relation: &RecursiveRelation,
    seed: &Seed,
    free: &[usize],
    carry: bool,
) -> Result<Answers> {
    let table = shared.alias("ans");
    let exits: Vec<&Rule> = relation
        .definitions(&shared.rules)
        .into_iter()
        .filter(|(_, rule)| count_calls(&rule.body, &relation.names) == 0)
        .map(|(_, rule)| rule)
        .collect();
    let base = exits
        .iter()
        .map(|rule| {
            let mut frame = Frame::new(shared);
            let alias = seed.join(&mut frame, &heads(rule));
            frame.compile_clauses(rule.body.clone())?;
            answer_select(
                &frame,
                rule,
                seed.carried(carry, &format!("{alias}."), ("v", "t")),
                free,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let (steps, types) = settle_types(&base, free.len(), |types| {
        shared
            .rules
            .defining(relation.component, (&table, None), types, || {
                exits
                    .iter()
                    .map(|rule| {
                        let mut frame = Frame::new(shared);
                        let alias = shared.alias("a");
                        frame.from.push(format!("{table} AS {alias}"));
                        let head = heads(rule);
                        for (j, &p) in seed.positions.iter().enumerate() {
                            let var = column(
                                Expr::column(&alias, format!("v{j}")),
                                format!("{alias}.t{j}"),
                                types[j],
                            );
                            frame.bind(&head[p].0, var);
                        }
                        frame.compile_clauses(rule.body.clone())?;
                        let lead = seed.carried(carry, &format!("{alias}."), ("s", "st"));
                        answer_select(&frame, rule, lead, free)
                    })
                    .collect()
            })
    })?;
    let parts: Vec<String> = base
        .iter()
        .chain(&steps)
        .map(|b| b.sql(&types, &[]))
        .collect();
    *shared.recursive.borrow_mut() = true;
    shared.ctes.borrow_mut().push(format!(
        "{table}({}) AS ({})",
        answer_columns(seed, free, carry, &types),
        parts.join(" UNION ")
    ));
    Ok(Answers { table, types })
}

/// The answers of a right-linear call in two passes: a recursive CTE
/// `goalN(rid, s0, st0, ..., g0, gt0, ...)` walks from each seed `s` to the
/// goals `g` the recursion asks about (the bound arguments of each call it
/// makes), then the bodies that do not recurse answer each goal.
fn walked_answers(
    shared: &Shared<'_>,
    relation: &RecursiveRelation,
    name: &str,
    seed: &Seed,
    free: &[usize],
    carry: bool,
) -> Result<Answers> {
    let bound = seed.positions.len();
    let goal = shared.alias("goal");
    let seed_alias = shared.alias("s");
    let mut first = vec![relation.rule_id(name).to_string()];
    first.extend(seed.carried(carry, &format!("{seed_alias}."), ("v", "t")));
    first.extend((0..bound).map(|j| format!("{seed_alias}.v{j}, {seed_alias}.t{j}")));
    let mut parts = vec![format!(
        "SELECT {} FROM {} AS {seed_alias}",
        first.join(", "),
        seed.table
    )];
    let definitions = relation.definitions(&shared.rules);
    let steps = shared
        .rules
        .defining(relation.component, (&goal, None), &Vec::new(), || {
            definitions
                .iter()
                .filter_map(|(rid, rule)| Some((*rid, *rule, own_call(rule, &relation.names)?)))
                .map(|(rid, rule, (callee, call))| {
                    let target = (rid, rule, carry);
                    goal_step(shared, relation, seed, &goal, target, callee, call)
                })
                .collect::<Result<Vec<_>>>()
        })?;
    parts.extend(steps);
    let mut goal_columns = vec!["rid".to_string()];
    goal_columns.extend(seed.carried(carry, "", ("s", "st")));
    goal_columns.extend((0..bound).map(|j| format!("g{j}, gt{j}")));
    *shared.recursive.borrow_mut() = true;
    shared.ctes.borrow_mut().push(format!(
        "{goal}({}) AS ({})",
        goal_columns.join(", "),
        parts.join(" UNION ")
    ));

    let mut answers = Vec::new();
    for (rid, rule) in &definitions {
        if count_calls(&rule.body, &relation.names) > 0 {
            continue;
        }
        let mut body = goal_scope(shared, seed, &goal, (*rid, rule, carry));
        body.frame.compile_clauses(rule.body.clone())?;
        answers.push(answer_select(&body.frame, rule, body.seed_columns, free)?);
    }
    if answers.is_empty() {
        let lead = vec!["NULL".to_string(); seed.carried(carry, "", ("s", "st")).len()];
        answers.push(BodySelect::empty(lead, free.len()));
    }
    let types = agreed_types(
        &answers.iter().map(|a| &a.types).collect::<Vec<_>>(),
        free.len(),
    );
    let mut selects: Vec<String> = answers.iter().map(|a| a.sql(&types, &[])).collect();
    // The answers are a set: UNION makes them one, a single body needs
    // DISTINCT (the same answer comes from many goals).
    if let [single] = selects.as_mut_slice() {
        *single = single.replacen("SELECT ", "SELECT DISTINCT ", 1);
    }
    let table = shared.alias("ans");
    shared.ctes.borrow_mut().push(format!(
        "{table}({}) AS ({})",
        answer_columns(seed, free, carry, &types),
        selects.join(" UNION ")
    ));
    Ok(Answers { table, types })
}

/// A rule body's scope reading one goal of rule `rid`: the goal table
/// joined in, the head's bound variables bound to the goal's values, and the
/// goal's seed columns to select (when carried).
struct GoalScope<'s, 'a> {
    frame: Frame<'s, 'a>,
    seed_columns: Vec<String>,
}

fn goal_scope<'s, 'a>(
    shared: &'s Shared<'a>,
    seed: &Seed,
    goal: &str,
    (rid, rule, carry): (usize, &Rule, bool),
) -> GoalScope<'s, 'a> {
    let mut frame = Frame::new(shared);
    let alias = shared.alias("g");
    frame.from.push(format!("{goal} AS {alias}"));
    frame.conditions.push(format!("{alias}.rid = {rid}"));
    let head = heads(rule);
    for (j, &position) in seed.positions.iter().enumerate() {
        let var = Var {
            expr: Expr::column(&alias, format!("g{j}")),
            ty: Ty::Dynamic(format!("{alias}.gt{j}")),
        };
        frame.bind(&head[position].0, var);
    }
    GoalScope {
        frame,
        seed_columns: seed.carried(carry, &format!("{alias}."), ("s", "st")),
    }
}

/// The recursive part of the goal CTE for one recursive body: from a goal of
/// rule `rid`, the clauses before the call give the bound arguments of the
/// goal it asks about next.
fn goal_step(
    shared: &Shared<'_>,
    relation: &RecursiveRelation,
    seed: &Seed,
    goal: &str,
    target: (usize, &Rule, bool),
    callee: &str,
    call: &[Term],
) -> Result<String> {
    let rule = target.1;
    let mut scope = goal_scope(shared, seed, goal, target);
    let rest: Vec<Clause> = rule
        .body
        .iter()
        .filter(|c| !matches!(c, Clause::RuleCall { name, .. } if relation.names.contains(name)))
        .cloned()
        .collect();
    scope.frame.compile_clauses(rest)?;
    let mut columns = vec![relation.rule_id(callee).to_string()];
    columns.extend(scope.seed_columns.iter().cloned());
    for &position in &seed.positions {
        let var = scope.frame.term_var(&call[position]).map_err(|_| {
            Error::Query(format!(
                "rule ({} ...) does not bind the arguments of its recursive call",
                rule.name
            ))
        })?;
        columns.push(format!(
            "{}, {}",
            without_affinity(&var.expr),
            var.tag_expr()
        ));
    }
    Ok(format!(
        "SELECT {}{}{}",
        columns.join(", "),
        scope.frame.sql_from(),
        scope.frame.sql_where()
    ))
}
