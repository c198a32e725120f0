//! A transitive closure written non-linearly, made linear. A rule `p` of two
//! arguments whose every definition is either a base body that does not
//! call `p`, or exactly `(p ?x ?y) :- (p ?x ?m) (p ?m ?y)` (the two calls in
//! either order), is the transitive closure E⁺ of E, the union of its base
//! bodies: the least fixpoint of `p = E ∪ p∘p` is E⁺, and so is that of the
//! right-linear `p = E ∪ E∘p`. So each such definition is replaced by one
//! definition per base body, `(p ?x ?y) :- base(?x, ?m') (p ?m' ?y)`, which a
//! `WITH RECURSIVE` CTE computes; the non-linear form needs semi-naive rounds
//! over temporary tables (`fixpoint`), far slower (over 300 s against 0.2 s
//! on a 100,000-node cycle). The rewrite is only made when `p` is alone in
//! its recursive component, so that no base body reaches `p` through
//! another rule.

use std::collections::{HashMap, HashSet};

use factlite_query::{Clause, Rule, Term, Variable};

/// Rewrites the definitions of `name` as a linear closure when they have
/// the shape above; leaves them as they are otherwise. `name` must be the
/// only rule of its recursive component.
pub(crate) fn linearize_closure(name: &str, definitions: &mut Vec<Rule>) {
    let mut bases = Vec::new();
    let mut closure = None;
    for definition in definitions.iter() {
        let Some([x, y]) = distinct_heads(definition) else {
            return;
        };
        if crate::rules::count_calls(&definition.body, &[name.to_string()]) == 0 {
            bases.push(definition);
        } else if is_composition(name, definition, x, y) {
            closure.get_or_insert(definition);
        } else {
            return;
        }
    }
    let (Some(closure), false) = (closure, bases.is_empty()) else {
        return;
    };
    let [x, y] = heads(closure);
    let linear: Vec<Rule> = bases
        .iter()
        .map(|base| Rule {
            name: name.to_string(),
            required: closure.required.clone(),
            free: closure.free.clone(),
            body: extended(name, base, x, y, closure),
        })
        .collect();
    definitions
        .retain(|definition| crate::rules::count_calls(&definition.body, &[name.to_string()]) == 0);
    definitions.extend(linear);
}

fn heads(rule: &Rule) -> [&Variable; 2] {
    match distinct_heads(rule) {
        Some(heads) => heads,
        None => unreachable!("only rules of two distinct heads are rewritten"),
    }
}

/// The two head variables of a definition, when it has two distinct ones.
fn distinct_heads(rule: &Rule) -> Option<[&Variable; 2]> {
    match crate::rules::heads(rule).as_slice() {
        [x, y] if x != y => Some([*x, *y]),
        _ => None,
    }
}

/// Whether the body is exactly `(name ?x ?m) (name ?m ?y)`, in either
/// order, with `?m` neither `?x` nor `?y`.
fn is_composition(name: &str, rule: &Rule, x: &Variable, y: &Variable) -> bool {
    let call = |clause: &Clause| match clause {
        Clause::RuleCall {
            source: None,
            name: called,
            args,
        } if called == name => match args.as_slice() {
            [Term::Variable(from), Term::Variable(to)] => Some((from.clone(), to.clone())),
            _ => None,
        },
        _ => None,
    };
    let [first, second] = rule.body.as_slice() else {
        return false;
    };
    let (Some(first), Some(second)) = (call(first), call(second)) else {
        return false;
    };
    let composes = |(from, middle): &(Variable, Variable),
                    (middle_again, to): &(Variable, Variable)| {
        from == x && to == y && middle == middle_again && middle != x && middle != y
    };
    composes(&first, &second) || composes(&second, &first)
}

/// The base body with its first head as `?x` and its second as a fresh
/// middle variable, then the call `(name middle ?y)`; the base body's other
/// variables get fresh names, so that none meets a variable of the
/// closure's head.
fn extended(name: &str, base: &Rule, x: &Variable, y: &Variable, closure: &Rule) -> Vec<Clause> {
    let mut used = HashSet::new();
    for rule in [base, closure] {
        let mut variables: Vec<Variable> = crate::rules::heads(rule).into_iter().cloned().collect();
        for clause in &rule.body {
            clause.variables(true, &mut variables);
        }
        used.extend(variables.into_iter().map(|variable| variable.0));
    }
    // Fresh names, numbered in the order the base body mentions them.
    let mut renames: HashMap<String, String> = HashMap::new();
    let mut fresh = {
        let mut next = 0;
        move || loop {
            next += 1;
            let candidate = format!("?__linear_{next}");
            if !used.contains(&candidate) {
                return candidate;
            }
        }
    };
    let [base_x, base_y] = heads(base);
    renames.insert(base_x.0.clone(), x.0.clone());
    let middle = fresh();
    renames.insert(base_y.0.clone(), middle.clone());
    let mut variables = Vec::new();
    for clause in &base.body {
        clause.variables(true, &mut variables);
    }
    for variable in variables {
        renames.entry(variable.0).or_insert_with(&mut fresh);
    }
    let rename = |variable: &str| {
        renames
            .get(variable)
            .cloned()
            .unwrap_or_else(|| variable.to_string())
    };
    let mut body: Vec<Clause> = base
        .body
        .iter()
        .map(|clause| clause.rename_variables(&rename))
        .collect();
    body.push(Clause::RuleCall {
        source: None,
        name: name.to_string(),
        args: vec![
            Term::Variable(Variable(middle.clone())),
            Term::Variable(y.clone()),
        ],
    });
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules after the rewrite, as EDN text.
    fn linearized(rules: &str) -> String {
        let value = factlite_edn::parse(rules).expect("EDN");
        let mut definitions = factlite_query::parse_rules(&value).expect("rules");
        linearize_closure("p", &mut definitions);
        factlite_query::rules_to_edn(&definitions).to_string()
    }

    #[test]
    fn a_closure_becomes_one_linear_definition_per_base_body() {
        assert_eq!(
            linearized(
                "[[(p ?a ?b) [?a :e ?b]] [(p ?x ?y) [?x :f ?m] [?m :g ?y]]
                  [(p ?a ?b) (p ?m ?b) (p ?a ?m)]]"
            ),
            "[[(p ?a ?b) [?a :e ?b]] [(p ?x ?y) [?x :f ?m] [?m :g ?y]] \
             [(p ?a ?b) [?a :e ?__linear_1] (p ?__linear_1 ?b)] \
             [(p ?a ?b) [?a :f ?__linear_2] [?__linear_2 :g ?__linear_1] (p ?__linear_1 ?b)]]"
        );
    }

    #[test]
    fn other_recursive_shapes_are_left_alone() {
        for rules in [
            // Paths of odd length: not the closure.
            "[[(p ?a ?b) [?a :e ?b]] [(p ?a ?b) (p ?a ?m) (p ?m ?n) (p ?n ?b)]]",
            // A clause beside the calls.
            "[[(p ?a ?b) [?a :e ?b]] [(p ?a ?b) (p ?a ?m) (p ?m ?b) [?m :f _]]]",
            // The calls do not compose.
            "[[(p ?a ?b) [?a :e ?b]] [(p ?a ?b) (p ?m ?a) (p ?m ?b)]]",
            "[[(p ?a ?b) [?a :e ?b]] [(p ?a ?b) (p ?a ?b) (p ?b ?b)]]",
            // No base body.
            "[[(p ?a ?b) (p ?a ?m) (p ?m ?b)]]",
        ] {
            let value = factlite_edn::parse(rules).expect("EDN");
            let unchanged =
                factlite_query::rules_to_edn(&factlite_query::parse_rules(&value).expect("rules"));
            assert_eq!(linearized(rules), unchanged.to_string(), "{rules}");
        }
    }
}
