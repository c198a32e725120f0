//! The smallest pieces of query syntax: variables, sources, terms and binding
//! forms, each read from a single EDN form.

use factlite_edn::{Symbol, Value};
use nom::multi::many0;
use nom::Parser;

use crate::ast::{Binding, SrcVar, Term, Variable};
use crate::error::show;
use crate::forms::{fail, one, symbol_is, Expected, Forms};

/// What a symbol means in term position.
enum SymbolKind {
    Variable(Variable),
    Blank,
    Source(SrcVar),
    Plain,
}

fn symbol_kind(symbol: &Symbol) -> SymbolKind {
    if symbol.namespace.is_some() {
        return SymbolKind::Plain;
    }
    let name = &symbol.name;
    if name == "_" {
        SymbolKind::Blank
    } else if name.len() > 1 && name.starts_with('?') {
        SymbolKind::Variable(Variable(name.clone()))
    } else if name.starts_with('$') {
        SymbolKind::Source(SrcVar(name.clone()))
    } else {
        SymbolKind::Plain
    }
}

/// The variable `form` is, if it is one.
pub(crate) fn as_variable(form: &Value) -> Option<Variable> {
    match form.as_symbol().map(symbol_kind) {
        Some(SymbolKind::Variable(variable)) => Some(variable),
        _ => None,
    }
}

/// A pull pattern's name (Datomic's `pattern-name`, a plain symbol such
/// as `pattern` given in `:in` and named in `(pull ?e pattern)`), as the
/// variable that holds the pattern.
pub(crate) fn as_pattern_name(form: &Value) -> Option<Variable> {
    let symbol = form.as_symbol()?;
    let plain = symbol.namespace.is_none() && matches!(symbol_kind(symbol), SymbolKind::Plain);
    (plain && symbol.name != "%").then(|| Variable(symbol.name.clone()))
}

/// The source `form` is, if it is one.
pub(crate) fn as_source(form: &Value) -> Option<SrcVar> {
    match form.as_symbol().map(symbol_kind) {
        Some(SymbolKind::Source(source)) => Some(source),
        _ => None,
    }
}

/// A variable, or a message saying what `form` is instead.
pub(crate) fn variable(form: &Value, role: &str) -> Result<Variable, String> {
    as_variable(form).ok_or_else(|| {
        format!(
            "{} is not a variable; expected a variable such as ?x {role}",
            show(form)
        )
    })
}

/// Where a term appears; decides which kinds of terms are allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TermPlace {
    /// A data pattern: variables, `_`, constants.
    Pattern,
    /// A function argument: variables, sources, constants.
    FnArg,
    /// A rule call argument: variables, `_`, constants.
    RuleArg,
}

impl TermPlace {
    fn description(self) -> &'static str {
        match self {
            TermPlace::Pattern => "in a data pattern; expected a variable, _ or a constant",
            TermPlace::FnArg => {
                "as a function argument; expected a variable, a source ($) or a constant"
            }
            TermPlace::RuleArg => "as a rule argument; expected a variable, _ or a constant",
        }
    }
}

/// One term at `place`, or a message naming the form.
pub(crate) fn term(form: &Value, place: TermPlace) -> Result<Term, String> {
    let not_allowed = || format!("{} is not allowed {}", show(form), place.description());
    match form {
        Value::Symbol(symbol) => match (symbol_kind(symbol), place) {
            (SymbolKind::Variable(variable), _) => Ok(Term::Variable(variable)),
            (SymbolKind::Blank, TermPlace::Pattern | TermPlace::RuleArg) => Ok(Term::Blank),
            (SymbolKind::Source(source), TermPlace::FnArg) => Ok(Term::Source(source)),
            _ => Err(not_allowed()),
        },
        Value::List(_) => Err(not_allowed()),
        constant => Ok(Term::Constant(constant.clone())),
    }
}

/// Parses every remaining form as a term at `place`.
pub(crate) fn terms<'a>(
    place: TermPlace,
) -> impl Parser<Forms<'a>, Output = Vec<Term>, Error = Expected<'a>> {
    many0(one(move |form: &'a Value| term(form, place).map_err(fail)))
}

/// A binding form: `?x`, `_`, `[?a ?b]`, `[?a ...]` or `[[?a ?b]]`.
pub(crate) fn binding(form: &Value) -> Result<Binding, String> {
    if let Some(single) = binding_element(form) {
        return Ok(single);
    }
    match form {
        Value::Vector(items) => vector_binding(form, items),
        _ => Err(binding_error(form)),
    }
}

fn binding_error(form: &Value) -> String {
    format!(
        "{} is not a binding form; expected ?x, _, a tuple [?a ?b], a collection [?a ...] or a relation [[?a ?b]]",
        show(form)
    )
}

/// `?x` or `_`: what a tuple, collection or relation binding holds.
fn binding_element(form: &Value) -> Option<Binding> {
    match form.as_symbol().map(symbol_kind) {
        Some(SymbolKind::Variable(variable)) => Some(Binding::Variable(variable)),
        Some(SymbolKind::Blank) => Some(Binding::Blank),
        _ => None,
    }
}

fn vector_binding(form: &Value, items: &[Value]) -> Result<Binding, String> {
    match items {
        [element, ellipsis] if symbol_is(ellipsis, "...") => binding_element(element)
            .map(|element| Binding::Collection(Box::new(element)))
            .ok_or_else(|| binding_error(form)),
        [Value::Vector(tuple)] => tuple_elements(form, tuple).map(Binding::Relation),
        _ => tuple_elements(form, items).map(Binding::Tuple),
    }
}

fn tuple_elements(form: &Value, items: &[Value]) -> Result<Vec<Binding>, String> {
    if items.is_empty() {
        return Err(binding_error(form));
    }
    items
        .iter()
        .map(|item| binding_element(item).ok_or_else(|| binding_error(form)))
        .collect()
}
