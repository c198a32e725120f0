//! `:where` clauses (also the bodies of rules, `or` branches and `not`):
//! data patterns, predicate and function expressions, `or`/`or-join`,
//! `not`/`not-join` and rule calls.

use factlite_edn::Value;
use nom::combinator::opt;
use nom::multi::many0;
use nom::Parser;

use crate::ast::{Clause, FnCall, Pattern, RuleVars, SrcVar, Term, Variable};
use crate::error::show;
use crate::forms::{
    check_depth, fail, head_symbol, one, one_if, parse_items, parse_rest, Expected, Failed, Forms,
};
use crate::term::{as_source, as_variable, binding, terms, variable, TermPlace};

const CLAUSE_EXPECTED: &str =
    "expected a data pattern [e a v], an expression [(f ...)] or [(f ...) binding], \
     or a list (or ...), (or-join ...), (not ...), (not-join ...) or (rule-name ...)";

/// Every remaining form, each as a clause nested `depth` levels deep.
pub(crate) fn clauses<'a>(
    depth: usize,
) -> impl Parser<Forms<'a>, Output = Vec<Clause>, Error = Expected<'a>> {
    many0(one(move |form: &'a Value| clause(depth, form)))
}

/// Parses the items of `form` (after its head) as a non-empty clause list.
fn clause_list<'a>(
    depth: usize,
    form: &Value,
    items: &'a [Value],
    what: &str,
) -> Result<Vec<Clause>, Failed<'a>> {
    let body = parse_rest(items, clauses(depth))?;
    if body.is_empty() {
        return Err(fail(format!(
            "{} has no clauses; {what} needs at least one",
            show(form)
        )));
    }
    Ok(body)
}

/// One clause.
pub(crate) fn clause(depth: usize, form: &Value) -> Result<Clause, Failed<'_>> {
    check_depth(depth, form)?;
    match form {
        Value::Vector(items) if matches!(items.first(), Some(Value::List(_))) => {
            expression_clause(form, items)
        }
        Value::Vector(items) => {
            data_pattern(form, items).map(|pattern| Clause::Pattern(Box::new(pattern)))
        }
        Value::List(items) => list_clause(depth, form, items),
        _ => Err(fail(format!(
            "{} is not a clause; {CLAUSE_EXPECTED}",
            show(form)
        ))),
    }
}

/// `[(f arg ...)]` or `[(f arg ...) binding]`.
fn expression_clause<'a>(form: &Value, items: &'a [Value]) -> Result<Clause, Failed<'a>> {
    let call = one(|call: &'a Value| fn_call(call));
    let result = one(|bind: &'a Value| binding(bind).map_err(fail));
    let leftover = |extra: &Value| {
        format!(
            "{} has {} after its binding form; an expression clause is [(f ...)] or [(f ...) binding]",
            show(form),
            show(extra)
        )
    };
    let (call, result) = parse_items(items, (call, opt(result)), leftover)?;
    // A nested query is checked here, so a malformed one is a parse error
    // of the calling query.
    if let Some(Err(error)) = call.nested_query() {
        return Err(fail(error.message));
    }
    Ok(match result {
        None => Clause::Predicate(call),
        Some(binding) => Clause::Function { call, binding },
    })
}

/// `(name arg ...)` inside an expression clause.
fn fn_call(form: &Value) -> Result<FnCall, Failed<'_>> {
    let Value::List(items) = form else {
        return Err(fail(format!(
            "{} is not a function call; expected (f arg ...)",
            show(form)
        )));
    };
    let name = function_name(form, items)?;
    let args = parse_rest(&items[1..], terms(TermPlace::FnArg))?;
    Ok(FnCall { name, args })
}

fn function_name<'a>(form: &Value, items: &[Value]) -> Result<String, Failed<'a>> {
    match head_symbol(items) {
        Some(symbol)
            if as_variable(&items[0]).is_none()
                && as_source(&items[0]).is_none()
                && !symbol.is("_") =>
        {
            // `clojure.core/+` is `+`, as Datomic resolves the core
            // functions by either name.
            let name = symbol.qualified_name();
            Ok(match name.strip_prefix("clojure.core/") {
                Some(core) => core.to_string(),
                None => name,
            })
        }
        _ => Err(fail(format!(
            "{} does not start with a function name; expected (f arg ...)",
            show(form)
        ))),
    }
}

/// `[$src? e a v tx added]` with one to five terms after the source.
fn data_pattern<'a>(form: &Value, items: &'a [Value]) -> Result<Pattern, Failed<'a>> {
    let source = one_if(as_source);
    let (source, terms) = parse_rest(items, (opt(source), terms(TermPlace::Pattern)))?;
    if terms.is_empty() || terms.len() > 5 {
        return Err(fail(format!(
            "{} is not a data pattern; expected [$src? e a? v? tx? added?] with 1 to 5 terms, found {}",
            show(form),
            terms.len()
        )));
    }
    let mut terms = terms.into_iter();
    let mut next = || terms.next().unwrap_or(Term::Blank);
    Ok(Pattern {
        source,
        entity: next(),
        attribute: next(),
        value: next(),
        tx: next(),
        added: next(),
    })
}

/// `(or ...)`, `(not ...)`, a rule call, and the errors for other lists.
fn list_clause<'a>(depth: usize, form: &Value, items: &'a [Value]) -> Result<Clause, Failed<'a>> {
    let Some(head) = head_symbol(items) else {
        return Err(fail(format!(
            "{} is not a clause; {CLAUSE_EXPECTED}",
            show(form)
        )));
    };
    let args = &items[1..];
    // `($src or ...)`, `($src not ...)`: the clause reads that source.
    if let Some(source) = as_source(&items[0]) {
        let names_a_clause = args.first().and_then(Value::as_symbol).is_some_and(|word| {
            ["or", "or-join", "not", "not-join"]
                .iter()
                .any(|clause| word.is(clause))
        });
        if names_a_clause {
            return list_clause(depth, form, args).map(|clause| clause.reading_from(&source));
        }
    }
    let name = head.qualified_name();
    match name.as_str() {
        "or" => or_branches(depth, form, args).map(|branches| Clause::Or {
            join: None,
            branches,
        }),
        "or-join" => or_join(depth, form, args),
        "not" => clause_list(depth + 1, form, args, "not").map(|clauses| Clause::Not {
            join: None,
            clauses,
        }),
        "not-join" => not_join(depth, form, args),
        "and" => Err(fail(format!(
            "{} is not a clause; (and ...) may only be a branch of (or ...)",
            show(form)
        ))),
        _ => rule_call(form, items),
    }
}

fn or_branches<'a>(
    depth: usize,
    form: &Value,
    items: &'a [Value],
) -> Result<Vec<Vec<Clause>>, Failed<'a>> {
    let branch = one(move |branch_form: &'a Value| or_branch(depth + 1, branch_form));
    let branches = parse_rest(items, many0(branch))?;
    if branches.is_empty() {
        return Err(fail(format!(
            "{} has no branches; or needs at least one clause",
            show(form)
        )));
    }
    Ok(branches)
}

/// One branch of an `or`: `(and clause ...)` or a single clause.
fn or_branch(depth: usize, form: &Value) -> Result<Vec<Clause>, Failed<'_>> {
    match form {
        Value::List(items) if head_symbol(items).is_some_and(|head| head.is("and")) => {
            check_depth(depth, form)?;
            clause_list(depth + 1, form, &items[1..], "and")
        }
        _ => clause(depth, form).map(|single| vec![single]),
    }
}

fn or_join<'a>(depth: usize, form: &Value, items: &'a [Value]) -> Result<Clause, Failed<'a>> {
    let Some((vars, branches)) = items.split_first() else {
        return Err(fail(format!(
            "{} has no join variables; expected (or-join [?a ...] branch ...)",
            show(form)
        )));
    };
    let join = rule_vars(vars, "or-join")?;
    let branches = or_branches(depth, form, branches)?;
    Ok(Clause::Or {
        join: Some(join),
        branches,
    })
}

fn not_join<'a>(depth: usize, form: &Value, items: &'a [Value]) -> Result<Clause, Failed<'a>> {
    let join_vars = |vars: &Value| match vars {
        Value::Vector(vars) if !vars.is_empty() => vars
            .iter()
            .map(|v| variable(v, "in not-join's variables"))
            .collect(),
        _ => Err(format!(
            "{} is not a list of join variables; expected [?a ...]",
            show(vars)
        )),
    };
    let Some((vars, clauses)) = items.split_first() else {
        return Err(fail(format!(
            "{} has no join variables; expected (not-join [?a ...] clause ...)",
            show(form)
        )));
    };
    let join: Vec<Variable> = join_vars(vars).map_err(fail)?;
    let clauses = clause_list(depth + 1, form, clauses, "not-join")?;
    Ok(Clause::Not {
        join: Some(join),
        clauses,
    })
}

/// `[?a ?b]` or `[[?required ...] ?free ...]`: rule-head style variables.
pub(crate) fn rule_vars<'a>(form: &Value, what: &str) -> Result<RuleVars, Failed<'a>> {
    let Value::Vector(items) = form else {
        return Err(fail(format!(
            "{} is not a variable list; {what} expects [?a ...] or [[?required ...] ?free ...]",
            show(form)
        )));
    };
    let vars = required_and_free(items, &format!("in {what}'s variables")).map_err(fail)?;
    if vars.required.is_empty() && vars.free.is_empty() {
        return Err(fail(format!(
            "{} has no variables; {what} needs at least one",
            show(form)
        )));
    }
    Ok(vars)
}

/// `[?required ...] ?free ...` (the leading vector is optional) as variables.
pub(crate) fn required_and_free(items: &[Value], role: &str) -> Result<RuleVars, String> {
    let (required, free) = match items.split_first() {
        Some((Value::Vector(required), free)) => (required.as_slice(), free),
        _ => (&[][..], items),
    };
    let to_vars = |forms: &[Value]| {
        forms
            .iter()
            .map(|v| variable(v, role))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(RuleVars {
        required: to_vars(required)?,
        free: to_vars(free)?,
    })
}

/// `(name arg ...)` or `($src name arg ...)`.
fn rule_call<'a>(form: &Value, items: &'a [Value]) -> Result<Clause, Failed<'a>> {
    let name = one(|name: &'a Value| rule_name(form, name));
    let parser = (opt(one_if(as_source)), name, terms(TermPlace::RuleArg));
    let (source, name, args): (Option<SrcVar>, String, Vec<Term>) = parse_rest(items, parser)?;
    if args.is_empty() {
        return Err(fail(format!("rule call {} has no arguments", show(form))));
    }
    Ok(Clause::RuleCall { source, name, args })
}

/// A rule name in a call: a plain symbol other than the reserved words.
fn rule_name<'a>(form: &Value, name: &Value) -> Result<String, Failed<'a>> {
    const RESERVED: [&str; 5] = ["or", "or-join", "and", "not", "not-join"];
    match name.as_symbol() {
        Some(symbol)
            if as_variable(name).is_none()
                && as_source(name).is_none()
                && !symbol.is("_")
                && !RESERVED.iter().any(|word| symbol.is(word)) =>
        {
            Ok(symbol.qualified_name())
        }
        _ => Err(fail(format!(
            "{} is not a clause; {CLAUSE_EXPECTED}",
            show(form)
        ))),
    }
}
