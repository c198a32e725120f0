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
    Ok((name, vars))
}
