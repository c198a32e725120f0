//! The query rewrites behind incremental maintenance, on the parsed syntax
//! tree (the planner then compiles each result as it compiles any query):
//!
//! - [`inline_rules`] replaces each call of a non-recursive rule by an
//!   `or-join` over the rule's bodies, so the datoms those bodies read
//!   become visible to the next step. Calls of recursive rules stay calls.
//! - [`delta_sites`] lists every place where a transaction's changed datoms
//!   can enter the query — each data pattern, the datoms that
//!   `get-else`, `get-some`, `missing?` and `fulltext` read, and the sites
//!   of a nested query's clauses — and, for each,
//!   the query's clauses with that place reading the changed datoms (the
//!   `$delta` source) instead of the database. Run against the state before
//!   and after a transaction, these queries find every result row whose
//!   derivation used a changed datom: the rows the transaction can have
//!   added or removed. A site inside `(not ...)` turns the negation into a
//!   positive join, since a change there flips whether the row is excluded;
//!   a site inside one branch of an `or` keeps that branch only.

use std::collections::{HashMap, HashSet};

use factlite_edn::{Keyword, Value};
use factlite_query::{Binding, Clause, FnCall, Pattern, Rule, RuleVars, SrcVar, Term, Variable};

/// The source name through which delta queries read the changed datoms.
pub const DELTA_SOURCE: &str = "$delta";

/// How deep rule inlining may go before giving up (rules calling rules).
const MAX_INLINE_DEPTH: usize = 32;

/// One place the transaction's datoms can enter the query, rewritten.
#[derive(Clone, Debug, PartialEq)]
pub struct DeltaSite {
    /// The attribute the site reads, when it is a constant: the site can
    /// only matter to a transaction that touches that attribute.
    pub attribute: Option<Keyword>,
    /// The query's `:where` with the site reading `$delta`.
    pub clauses: Vec<Clause>,
}

/// Why a rule set cannot be inlined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InlineError {
    /// A rule calls rules nested more deeply than [`MAX_INLINE_DEPTH`].
    TooDeep(String),
}

/// The names of the rules that can reach themselves through calls.
pub fn recursive_rules(rules: &[Rule]) -> HashSet<String> {
    let mut calls: HashMap<&str, HashSet<String>> = HashMap::new();
    for rule in rules {
        let entry = calls.entry(rule.name.as_str()).or_default();
        collect_calls(&rule.body, entry);
    }
    let mut recursive = HashSet::new();
    for start in calls.keys() {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack: Vec<&str> = calls[start].iter().map(String::as_str).collect();
        while let Some(name) = stack.pop() {
            if name == *start {
                recursive.insert(start.to_string());
                break;
            }
            if seen.insert(name) {
                if let Some(next) = calls.get(name) {
                    stack.extend(next.iter().map(String::as_str));
                }
            }
        }
    }
    recursive
}

fn collect_calls(clauses: &[Clause], out: &mut HashSet<String>) {
    for clause in clauses {
        match clause {
            Clause::RuleCall { name, .. } => {
                out.insert(name.clone());
            }
            Clause::Or { branches, .. } => branches.iter().for_each(|b| collect_calls(b, out)),
            Clause::Not { clauses, .. } => collect_calls(clauses, out),
            Clause::Pattern(_) | Clause::Predicate(_) | Clause::Function { .. } => {}
        }
    }
}

/// Fresh variable names that cannot clash with a user's (`?__v3`).
#[derive(Default)]
pub struct Fresh(usize);

impl Fresh {
    /// A variable no query has used.
    pub fn variable(&mut self) -> Variable {
        self.0 += 1;
        Variable(format!("?__v{}", self.0))
    }
}

/// Replaces calls of non-recursive rules by `or-join`s of their bodies.
pub fn inline_rules(
    clauses: &[Clause],
    rules: &[Rule],
    recursive: &HashSet<String>,
    fresh: &mut Fresh,
) -> Result<Vec<Clause>, InlineError> {
    inline_at_depth(clauses, rules, recursive, fresh, 0)
}

fn inline_at_depth(
    clauses: &[Clause],
    rules: &[Rule],
    recursive: &HashSet<String>,
    fresh: &mut Fresh,
    depth: usize,
) -> Result<Vec<Clause>, InlineError> {
    let mut out = Vec::with_capacity(clauses.len());
    for clause in clauses {
        match clause {
            Clause::RuleCall { name, args, .. } if !recursive.contains(name) => {
                if depth >= MAX_INLINE_DEPTH {
                    return Err(InlineError::TooDeep(name.clone()));
                }
                let bodies: Vec<&Rule> = rules.iter().filter(|r| &r.name == name).collect();
                if bodies.is_empty() {
                    // Left for the planner to report as an undefined rule.
                    out.push(clause.clone());
                    continue;
                }
                let (mut grounds, vectors, call_vars) = call_variables(args, fresh);
                out.append(&mut grounds);
                let mut branches = Vec::with_capacity(bodies.len());
                for rule in bodies {
                    let mut renamed = rename_rule_body(rule, &call_vars, fresh);
                    // A vector argument (a lookup ref) stands in the body's
                    // patterns as the constant it is, as the planner has it.
                    for (var, value) in &vectors {
                        if !factlite_query::substitute_in_patterns(&mut renamed, &var.0, value) {
                            renamed.insert(0, Clause::ground(&var.0, value));
                        }
                    }
                    branches.push(inline_at_depth(
                        &renamed,
                        rules,
                        recursive,
                        fresh,
                        depth + 1,
                    )?);
                }
                let free: Vec<Variable> = call_vars.iter().flatten().cloned().collect();
                out.push(Clause::Or {
                    join: Some(RuleVars {
                        required: Vec::new(),
                        free: dedup(free),
                    }),
                    branches,
                });
            }
            Clause::Or { join, branches } => out.push(Clause::Or {
                join: join.clone(),
                branches: branches
                    .iter()
                    .map(|b| inline_at_depth(b, rules, recursive, fresh, depth))
                    .collect::<Result<_, _>>()?,
            }),
            Clause::Not { join, clauses } => out.push(Clause::Not {
                join: join.clone(),
                clauses: inline_at_depth(clauses, rules, recursive, fresh, depth)?,
            }),
            other => out.push(other.clone()),
        }
    }
    Ok(out)
}

fn dedup(vars: Vec<Variable>) -> Vec<Variable> {
    let mut seen = HashSet::new();
    vars.into_iter()
        .filter(|v| seen.insert(v.clone()))
        .collect()
}

/// The variable each call argument stands for: the argument itself, or a
/// fresh variable bound to a constant by `ground` (a vector: put in each
/// body's patterns, the second list); `None` for `_`.
fn call_variables(args: &[Term], fresh: &mut Fresh) -> CallVariables {
    let mut grounds = Vec::new();
    let mut vectors = Vec::new();
    let vars = args
        .iter()
        .map(|arg| match arg {
            Term::Variable(v) => Some(v.clone()),
            Term::Constant(value @ Value::Vector(_)) => {
                let var = fresh.variable();
                vectors.push((var.clone(), value.clone()));
                Some(var)
            }
            Term::Constant(value) => {
                let var = fresh.variable();
                grounds.push(Clause::ground(&var.0, value));
                Some(var)
            }
            Term::Blank | Term::Source(_) => None,
        })
        .collect();
    (grounds, vectors, vars)
}

/// What [`call_variables`] gives: `ground` clauses, vector constants with
/// their variables, and each argument's variable.
type CallVariables = (Vec<Clause>, Vec<(Variable, Value)>, Vec<Option<Variable>>);

/// A rule's body with its head variables renamed to the call's and every
/// other variable made fresh.
fn rename_rule_body(rule: &Rule, call: &[Option<Variable>], fresh: &mut Fresh) -> Vec<Clause> {
    let mut names: HashMap<String, Variable> = HashMap::new();
    for (head, arg) in rule.required.iter().chain(&rule.free).zip(call) {
        let target = arg.clone().unwrap_or_else(|| fresh.variable());
        names.insert(head.0.clone(), target);
    }
    let mut body_vars = Vec::new();
    for clause in &rule.body {
        clause.variables(true, &mut body_vars);
    }
    for var in body_vars {
        names
            .entry(var.0.clone())
            .or_insert_with(|| fresh.variable());
    }
    rule.body.iter().map(|c| rename_clause(c, &names)).collect()
}

/// A clause with the variables in `names` renamed.
fn rename_clause(clause: &Clause, names: &HashMap<String, Variable>) -> Clause {
    clause.rename_variables(&|v| names.get(v).map_or_else(|| v.to_string(), |n| n.0.clone()))
}

/// The name of the rule that holds the tuples of `rule` derived through a
/// changed datom.
pub fn delta_rule_name(rule: &str) -> String {
    format!("{rule}__delta")
}

/// For each recursive rule `r`, the rule `r__delta`: the tuples of `r` with
/// a derivation that uses a changed datom somewhere — one body per place in
/// each of `r`'s bodies where the change can enter, a data pattern reading
/// `$delta` or a call of a recursive rule `q` becoming `q__delta`. A delta
/// query calls `r__delta` where the view's query calls `r`, so a change
/// deep in a recursion reaches the view's keys without computing the
/// recursion over everything.
pub fn delta_rules(
    rules: &[Rule],
    recursive: &HashSet<String>,
    fresh: &mut Fresh,
) -> Result<Vec<Rule>, InlineError> {
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| recursive.contains(&r.name)) {
        let body = inline_rules(&rule.body, rules, recursive, fresh)?;
        for site in delta_sites(&body, recursive, fresh) {
            out.push(Rule {
                name: delta_rule_name(&rule.name),
                required: rule.required.clone(),
                free: rule.free.clone(),
                body: site.clauses,
            });
        }
    }
    Ok(out)
}

/// Every delta site of a clause list (non-recursive rules already
/// inlined); calls of the `recursive` rules are sites too.
pub fn delta_sites(
    clauses: &[Clause],
    recursive: &HashSet<String>,
    fresh: &mut Fresh,
) -> Vec<DeltaSite> {
    let mut sites = Vec::new();
    for (index, clause) in clauses.iter().enumerate() {
        for (attribute, replacement) in clause_sites(clause, recursive, fresh) {
            let mut rewritten = Vec::with_capacity(clauses.len() + replacement.len());
            rewritten.extend_from_slice(&clauses[..index]);
            rewritten.extend(replacement);
            rewritten.extend_from_slice(&clauses[index + 1..]);
            sites.push(DeltaSite {
                attribute,
                clauses: rewritten,
            });
        }
    }
    sites
}

/// The sites within one clause: for each, the attribute it reads and the
/// clauses that replace this one.
fn clause_sites(
    clause: &Clause,
    recursive: &HashSet<String>,
    fresh: &mut Fresh,
) -> Vec<(Option<Keyword>, Vec<Clause>)> {
    match clause {
        Clause::Pattern(pattern) => {
            let mut delta = (**pattern).clone();
            delta.source = Some(SrcVar(DELTA_SOURCE.to_string()));
            vec![(
                constant_attribute(&pattern.attribute),
                vec![Clause::Pattern(Box::new(delta))],
            )]
        }
        Clause::Predicate(call) if call.name == "missing?" => match entity_and_attributes(call) {
            // The flag flips when the attribute changes: the row's other
            // clauses decide, so the filter is dropped.
            Some((entity, attributes)) => attributes
                .into_iter()
                .map(|a| (constant_attribute(&a), vec![delta_touch(&entity, &a)]))
                .collect(),
            None => Vec::new(),
        },
        Clause::Function { call, .. } if call.name == "get-else" || call.name == "get-some" => {
            match entity_and_attributes(call) {
                Some((entity, attributes)) => {
                    let attributes = if call.name == "get-else" {
                        attributes.into_iter().take(1).collect()
                    } else {
                        attributes
                    };
                    attributes
                        .into_iter()
                        .map(|a| {
                            (
                                constant_attribute(&a),
                                vec![delta_touch(&entity, &a), clause.clone()],
                            )
                        })
                        .collect()
                }
                None => Vec::new(),
            }
        }
        Clause::Function { call, .. } if call.name == factlite_query::NESTED_QUERY => {
            // A nested query's sites are those of its clauses (its
            // correlated inputs joining the calling clauses'), the call kept
            // for the values it binds.
            let Some(Ok(nested)) = call.nested_query() else {
                return Vec::new();
            };
            let Some(inner) = nested.inlined_where(&mut |_| fresh.variable().0) else {
                return Vec::new();
            };
            delta_sites(&inner, recursive, fresh)
                .into_iter()
                .map(|site| {
                    let mut clauses = site.clauses;
                    clauses.push(clause.clone());
                    (site.attribute, clauses)
                })
                .collect()
        }
        Clause::Function { call, binding } if call.name == "fulltext" => {
            let attribute = call.args.get(1).cloned().unwrap_or(Term::Blank);
            let entity = match binding {
                Binding::Relation(items) | Binding::Tuple(items) => match items.first() {
                    Some(Binding::Variable(v)) => Term::Variable(v.clone()),
                    _ => Term::Blank,
                },
                _ => Term::Blank,
            };
            vec![(
                constant_attribute(&attribute),
                vec![delta_touch(&entity, &attribute), clause.clone()],
            )]
        }
        Clause::Or { join, branches } => {
            let mut out = Vec::new();
            for branch in branches {
                for site in delta_sites(branch, recursive, fresh) {
                    out.push((
                        site.attribute,
                        vec![Clause::Or {
                            join: join.clone(),
                            branches: vec![site.clauses],
                        }],
                    ));
                }
            }
            out
        }
        Clause::Not { join, clauses } => {
            // Inside a not-join, variables other than the join's are local:
            // made fresh so the positive join cannot capture outer ones.
            let body: Vec<Clause> = match join {
                Some(join) => localize(clauses, join, fresh),
                None => clauses.clone(),
            };
            delta_sites(&body, recursive, fresh)
                .into_iter()
                .map(|site| (site.attribute, site.clauses))
                .collect()
        }
        Clause::RuleCall { source, name, args } if recursive.contains(name) => vec![(
            None,
            vec![Clause::RuleCall {
                source: source.clone(),
                name: delta_rule_name(name),
                args: args.clone(),
            }],
        )],
        Clause::Predicate(_) | Clause::Function { .. } | Clause::RuleCall { .. } => Vec::new(),
    }
}

/// `clauses` with every variable other than `shared` renamed fresh: the
/// body of a `not-join` or an `or-join` branch, whose other variables are
/// its own.
pub fn localize(clauses: &[Clause], shared: &[Variable], fresh: &mut Fresh) -> Vec<Clause> {
    let mut inner = Vec::new();
    clauses.iter().for_each(|c| c.variables(true, &mut inner));
    let names: HashMap<String, Variable> = inner
        .into_iter()
        .filter(|v| !shared.contains(v))
        .map(|v| (v.0, fresh.variable()))
        .collect();
    clauses.iter().map(|c| rename_clause(c, &names)).collect()
}

/// The entity term and attribute terms of `missing?`, `get-else` and
/// `get-some`: `($ ?e :a ...)`.
fn entity_and_attributes(call: &FnCall) -> Option<(Term, Vec<Term>)> {
    let mut args = call.args.iter();
    if !matches!(args.next(), Some(Term::Source(_))) {
        return None;
    }
    let entity = args.next()?.clone();
    let attributes = args
        .filter(|t| matches!(t, Term::Constant(Value::Keyword(_))))
        .cloned()
        .collect();
    Some((entity, attributes))
}

/// `[$delta entity attribute _]`.
fn delta_touch(entity: &Term, attribute: &Term) -> Clause {
    Clause::Pattern(Box::new(Pattern {
        source: Some(SrcVar(DELTA_SOURCE.to_string())),
        entity: entity.clone(),
        attribute: attribute.clone(),
        value: Term::Blank,
        tx: Term::Blank,
        added: Term::Blank,
    }))
}

fn constant_attribute(term: &Term) -> Option<Keyword> {
    match term {
        Term::Constant(Value::Keyword(k)) => Some(k.clone()),
        _ => None,
    }
}

/// Whether any clause, however nested, calls one of `names`.
pub fn calls_any(clauses: &[Clause], names: &HashSet<String>) -> bool {
    let mut calls = HashSet::new();
    collect_calls(clauses, &mut calls);
    calls.iter().any(|c| names.contains(c))
}

/// The constant attributes a clause list reads, nested ones included;
/// `None` when some pattern's attribute is not a constant (it may read any).
pub fn attributes_read(clauses: &[Clause], rules: &[Rule]) -> Option<HashSet<Keyword>> {
    let mut out = HashSet::new();
    let mut bodies: Vec<&[Clause]> = vec![clauses];
    bodies.extend(rules.iter().map(|r| r.body.as_slice()));
    for body in bodies {
        if !collect_attributes(body, &mut out) {
            return None;
        }
    }
    Some(out)
}

fn collect_attributes(clauses: &[Clause], out: &mut HashSet<Keyword>) -> bool {
    for clause in clauses {
        let complete = match clause {
            Clause::Pattern(p) => match constant_attribute(&p.attribute) {
                Some(k) => {
                    out.insert(k);
                    true
                }
                None => false,
            },
            Clause::Function { call, .. } if call.name == factlite_query::NESTED_QUERY => {
                match call.nested_query() {
                    Some(Ok(nested)) => collect_attributes(&nested.query.where_clauses, out),
                    _ => false,
                }
            }
            Clause::Predicate(call) | Clause::Function { call, .. } => {
                call.args.iter().for_each(|t| {
                    if let Some(k) = constant_attribute(t) {
                        out.insert(k);
                    }
                });
                true
            }
            Clause::Or { branches, .. } => branches.iter().all(|b| collect_attributes(b, out)),
            Clause::Not { clauses, .. } => collect_attributes(clauses, out),
            Clause::RuleCall { .. } => true,
        };
        if !complete {
            return false;
        }
    }
    true
}
