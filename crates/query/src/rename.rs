//! Listing and renaming the variables of clauses: what rule inlining and
//! the rewrites of the planner and the views do to keep a body's variables
//! apart from the caller's; and pointing clauses at another data source
//! (`($2 or ...)`, a rule called as `($2 rule ...)`).

use factlite_edn::Value;

use crate::ast::{Binding, Clause, FnCall, Pattern, RuleVars, SrcVar, Term, Variable};

impl Clause {
    /// The clause reading `source` wherever it names no source: every
    /// pattern and rule call without one, inside `or` and `not` too. What
    /// names `$` keeps reading the query's `$` (`($2 not [$ ?e :a])`).
    pub fn reading_from(self, source: &SrcVar) -> Clause {
        self.with_default_source(source, false)
    }

    /// The clause reading `source` wherever it reads its query's `$`,
    /// named or not: the clauses of a nested query whose `$` is the
    /// caller's `source`.
    pub fn reading_dollar_from(self, source: &SrcVar) -> Clause {
        self.with_default_source(source, true)
    }

    fn with_default_source(self, source: &SrcVar, named_dollar_too: bool) -> Clause {
        let default = |given: Option<SrcVar>| match given {
            Some(given) if given.0 != "$" || !named_dollar_too => Some(given),
            _ => Some(source.clone()),
        };
        match self {
            Clause::Pattern(mut pattern) => {
                pattern.source = default(pattern.source.take());
                Clause::Pattern(pattern)
            }
            Clause::RuleCall {
                source: given,
                name,
                args,
            } => Clause::RuleCall {
                source: default(given),
                name,
                args,
            },
            Clause::Or { join, branches } => Clause::Or {
                join,
                branches: branches
                    .into_iter()
                    .map(|branch| {
                        branch
                            .into_iter()
                            .map(|c| c.with_default_source(source, named_dollar_too))
                            .collect()
                    })
                    .collect(),
            },
            Clause::Not { join, clauses } => Clause::Not {
                join,
                clauses: clauses
                    .into_iter()
                    .map(|c| c.with_default_source(source, named_dollar_too))
                    .collect(),
            },
            other => other,
        }
    }

    /// Appends the variables the clause mentions, in the order written. An
    /// `or-join` or `not-join` shows its join variables, and with `nested`
    /// also those local to its body.
    pub fn variables(&self, nested: bool, out: &mut Vec<Variable>) {
        let term = |t: &Term, out: &mut Vec<Variable>| {
            if let Term::Variable(v) = t {
                out.push(v.clone());
            }
        };
        match self {
            Clause::Pattern(p) => {
                for t in [&p.entity, &p.attribute, &p.value, &p.tx, &p.added] {
                    term(t, out);
                }
            }
            Clause::Predicate(call) => call.args.iter().for_each(|t| term(t, out)),
            Clause::Function { call, binding } => {
                call.args.iter().for_each(|t| term(t, out));
                binding.variables(out);
            }
            Clause::Or { join, branches } => {
                if let Some(join) = join {
                    out.extend(join.required.iter().chain(&join.free).cloned());
                }
                if join.is_none() || nested {
                    branches
                        .iter()
                        .flatten()
                        .for_each(|c| c.variables(nested, out));
                }
            }
            Clause::Not { join, clauses } => {
                if let Some(join) = join {
                    out.extend(join.iter().cloned());
                }
                if join.is_none() || nested {
                    clauses.iter().for_each(|c| c.variables(nested, out));
                }
            }
            Clause::RuleCall { args, .. } => args.iter().for_each(|t| term(t, out)),
        }
    }

    /// `[(ground value) name]`: the variable `name` bound to a constant.
    pub fn ground(name: &str, value: &Value) -> Clause {
        Clause::Function {
            call: FnCall {
                name: "ground".into(),
                args: vec![Term::Constant(value.clone())],
            },
            binding: Binding::Variable(Variable(name.to_string())),
        }
    }

    /// The clause with every variable `?x` (nested ones included) replaced
    /// by `rename("?x")`.
    pub fn rename_variables(&self, rename: &dyn Fn(&str) -> String) -> Clause {
        match self {
            Clause::Pattern(p) => Clause::Pattern(Box::new(Pattern {
                source: p.source.clone(),
                entity: p.entity.rename_variables(rename),
                attribute: p.attribute.rename_variables(rename),
                value: p.value.rename_variables(rename),
                tx: p.tx.rename_variables(rename),
                added: p.added.rename_variables(rename),
            })),
            Clause::Predicate(call) => Clause::Predicate(rename_call(call, rename)),
            Clause::Function { call, binding } => Clause::Function {
                call: rename_call(call, rename),
                binding: binding.rename_variables(rename),
            },
            Clause::Or { join, branches } => Clause::Or {
                join: join.as_ref().map(|j| RuleVars {
                    required: rename_all(&j.required, rename),
                    free: rename_all(&j.free, rename),
                }),
                branches: branches
                    .iter()
                    .map(|b| b.iter().map(|c| c.rename_variables(rename)).collect())
                    .collect(),
            },
            Clause::Not { join, clauses } => Clause::Not {
                join: join.as_ref().map(|j| rename_all(j, rename)),
                clauses: clauses.iter().map(|c| c.rename_variables(rename)).collect(),
            },
            Clause::RuleCall { source, name, args } => Clause::RuleCall {
                source: source.clone(),
                name: name.clone(),
                args: args.iter().map(|t| t.rename_variables(rename)).collect(),
            },
        }
    }
}

impl Term {
    /// The term, renamed when it is a variable.
    pub fn rename_variables(&self, rename: &dyn Fn(&str) -> String) -> Term {
        match self {
            Term::Variable(v) => Term::Variable(Variable(rename(&v.0))),
            other => other.clone(),
        }
    }
}

impl Binding {
    /// Appends the variables the binding form binds.
    pub fn variables(&self, out: &mut Vec<Variable>) {
        match self {
            Binding::Variable(v) => out.push(v.clone()),
            Binding::Blank => {}
            Binding::Tuple(items) | Binding::Relation(items) => {
                items.iter().for_each(|b| b.variables(out))
            }
            Binding::Collection(item) => item.variables(out),
        }
    }

    /// The binding form with its variables renamed.
    pub fn rename_variables(&self, rename: &dyn Fn(&str) -> String) -> Binding {
        match self {
            Binding::Variable(v) => Binding::Variable(Variable(rename(&v.0))),
            Binding::Blank => Binding::Blank,
            Binding::Tuple(items) => {
                Binding::Tuple(items.iter().map(|b| b.rename_variables(rename)).collect())
            }
            Binding::Collection(item) => {
                Binding::Collection(Box::new(item.rename_variables(rename)))
            }
            Binding::Relation(items) => {
                Binding::Relation(items.iter().map(|b| b.rename_variables(rename)).collect())
            }
        }
    }
}

fn rename_all(vars: &[Variable], rename: &dyn Fn(&str) -> String) -> Vec<Variable> {
    vars.iter().map(|v| Variable(rename(&v.0))).collect()
}

fn rename_call(call: &FnCall, rename: &dyn Fn(&str) -> String) -> FnCall {
    FnCall {
        name: call.name.clone(),
        args: call
            .args
            .iter()
            .map(|t| t.rename_variables(rename))
            .collect(),
    }
}

/// Puts `value` for the variable `name` in the entity and value positions
/// of the body's data patterns, as if the constant were written there (a
/// lookup ref then names its entity); `false`, changing nothing, when the
/// variable appears anywhere else.
pub fn substitute_in_patterns(body: &mut [Clause], name: &str, value: &Value) -> bool {
    let is_var = |term: &Term| matches!(term, Term::Variable(v) if v.0 == name);
    let elsewhere = body.iter().any(|clause| match clause {
        Clause::Pattern(p) => is_var(&p.attribute) || is_var(&p.tx) || is_var(&p.added),
        other => {
            let mut vars = Vec::new();
            other.variables(true, &mut vars);
            vars.iter().any(|v| v.0 == name)
        }
    });
    if elsewhere {
        return false;
    }
    for clause in body.iter_mut() {
        if let Clause::Pattern(p) = clause {
            for term in [&mut p.entity, &mut p.value] {
                if is_var(term) {
                    *term = Term::Constant(value.clone());
                }
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use crate::parse_query;

    #[test]
    fn every_variable_is_renamed_and_nothing_else() {
        let form = factlite_edn::parse(
            "[:find ?a :where [?a :p/x ?b] [(+ ?b 1) [?c ...]] \
             (or-join [?a] [?a :p/y \"?b\"] (not-join [?a] [?a :p/z ?d])) (rule ?a _ 3)]",
        )
        .expect("EDN");
        let query = parse_query(&form).expect("query");
        let renamed: Vec<String> = query
            .where_clauses
            .iter()
            .map(|c| c.rename_variables(&|v| format!("{v}_1")).to_string())
            .collect();
        assert_eq!(
            renamed,
            [
                "[?a_1 :p/x ?b_1]",
                "[(+ ?b_1 1) [?c_1 ...]]",
                "(or-join [?a_1] [?a_1 :p/y \"?b\"] (not-join [?a_1] [?a_1 :p/z ?d_1]))",
                "(rule ?a_1 _ 3)",
            ]
        );
    }
}
