//! Rule sets, the `%` input of a query: `[[(name [?required] ?free ...)
//! clause ...] ...]`.

use factlite_edn::Value;

use crate::ast::{Rule, RuleVars};
use crate::clause::{clauses, required_and_free};
use crate::error::show;
use crate::forms::{fail, head_symbol, in_context, parse_rest, Failed};
use crate::term::{as_source, as_variable};

/// Parses a rule set: a vector of rule definitions.
pub(crate) fn rule_set(form: &Value) -> Result<Vec<Rule>, Failed<'_>> {
    match form {
        Value::Vector(items) | Value::List(items) => items.iter().map(rule).collect(),
        _ => Err(fail(format!(
            "{} is not a rule set; expected a vector of rules [[(name ?a) clause ...] ...]",
            show(form)
        ))),
    }
}

/// `[(name [?required ...] ?free ...) clause ...]`.
fn rule(form: &Value) -> Result<Rule, Failed<'_>> {
    let not_a_rule = || {
        fail(format!(
            "{} is not a rule; expected [(name ?a ...) clause ...]",
            show(form)
        ))
    };
    let (head_form, body) = form
        .as_sequence()
        .and_then(<[Value]>::split_first)
        .ok_or_else(not_a_rule)?;
    let Value::List(head) = head_form else {
        return Err(not_a_rule());
    };
    let (name, vars) = rule_head(head_form, head)?;
    let context = format!("in rule {name}");
    let body = in_context(&context, parse_rest(body, clauses(1)))?;
    if body.is_empty() {
        return Err(fail(format!(
            "rule {} has no clauses; a rule body needs at least one",
            show(form)
        )));
    }
    Ok(Rule {
        name,
        required: vars.required,
        free: vars.free,
        body,
    })
}

/// `(name [?required ...] ?free ...)`: a name and at least one variable.
fn rule_head<'a>(head_form: &Value, head: &[Value]) -> Result<(String, RuleVars), Failed<'a>> {
    let name = match head_symbol(head) {
        Some(symbol) if as_variable(&head[0]).is_none() && as_source(&head[0]).is_none() => {
            check_rule_name(symbol, head_form)?;
            symbol.qualified_name()
        }
        _ => {
            return Err(fail(format!(
                "rule head {} does not start with a rule name",
                show(head_form)
            )))
        }
    };
    let vars =
        required_and_free(&head[1..], &format!("in the head of rule {name}")).map_err(fail)?;
    if vars.required.is_empty() && vars.free.is_empty() {
        return Err(fail(format!(
            "rule head {} has no variables; expected (name ?a ...)",
            show(head_form)
        )));
    }
    let all: Vec<&crate::Variable> = vars.required.iter().chain(&vars.free).collect();
    if let Some(var) = crate::forms::first_repeated(&all) {
        return Err(fail(format!(
            "rule head {} names {} twice; the variables of a rule head are distinct",
            show(head_form),
            var.0
        )));
    }
    Ok((name, vars))
}

/// Words a clause starts with: a rule of that name could not be called.
const CLAUSE_WORDS: [&str; 5] = ["and", "or", "or-join", "not", "not-join"];

/// A rule name is a symbol that reads back as itself (so installed rules,
/// stored as text, read back), is not `_` or a `%`/`$` input name, and is
/// not a word a clause starts with.
fn check_rule_name<'a>(symbol: &factlite_edn::Symbol, head_form: &Value) -> Result<(), Failed<'a>> {
    let name = symbol.qualified_name();
    let problem = if !symbol.is_readable() {
        Some("it is not a symbol EDN can read back")
    } else if symbol.namespace.is_none() && CLAUSE_WORDS.contains(&symbol.name.as_str()) {
        Some("a clause starts with that word")
    } else if name == "_" || name.starts_with('%') || name.starts_with('$') {
        Some("that names a placeholder or an input")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(fail(format!(
            "{name:?} in rule head {} is not a rule name: {problem}; rule names are symbols \
             such as ancestor or graph/reachable",
            show(head_form)
        ))),
        None => Ok(()),
    }
}
