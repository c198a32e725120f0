//! Queries: the vector form `[:find ... :in ... :where ...]` and the map form
//! `{:find [...] :in [...] :where [...]}`, split into sections and each
//! section parsed into the [`Query`] AST.

use factlite_edn::Value;
use indexmap::IndexMap;
use nom::branch::alt;
use nom::bytes::complete::take_till;
use nom::combinator::{all_consuming, map, opt};
use nom::multi::{many0, many1};
use nom::sequence::terminated;
use nom::Parser;

use crate::ast::{
    AggregateArg, Binding, FindElem, FindSpec, Input, OrderKey, OrderTerm, PatternRef, Query,
    ReturnMapKind, ReturnMaps, SrcVar, Variable,
};
use crate::clause::clauses;
use crate::error::show;
use crate::forms::{
    fail, head_symbol, in_context, one, one_if, parse_items, parse_rest, symbol_is, symbol_named,
    Expected, Failed, Forms,
};
use crate::pull::pull_pattern;
use crate::term::{as_pattern_name, as_source, as_variable, binding, variable};

/// A section of a query, named by its keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Section {
    Find,
    Keys,
    Strs,
    Syms,
    With,
    In,
    Where,
    OrderBy,
    Limit,
    Offset,
    Timeout,
}

const SECTIONS: [(&str, Section); 11] = [
    ("find", Section::Find),
    ("keys", Section::Keys),
    ("strs", Section::Strs),
    ("syms", Section::Syms),
    ("with", Section::With),
    ("in", Section::In),
    ("where", Section::Where),
    ("order-by", Section::OrderBy),
    ("limit", Section::Limit),
    ("offset", Section::Offset),
    ("timeout", Section::Timeout),
];

const SECTION_LIST: &str =
    ":find, :keys, :strs, :syms, :with, :in, :where, :order-by, :limit, :offset, :timeout";

/// The section a keyword names, or a message saying why it names none.
fn section_of<'a>(form: &Value) -> Result<Section, Failed<'a>> {
    let Value::Keyword(keyword) = form else {
        return Err(fail(format!(
            "{} is not a query section; a query is [:find ... :in ... :where ...] and sections start with {SECTION_LIST}",
            show(form)
        )));
    };
    SECTIONS
        .iter()
        .find(|(name, _)| keyword.namespace.is_none() && keyword.name == *name)
        .map(|(_, section)| *section)
        .ok_or_else(|| {
            fail(format!(
                "unknown query section {}; expected one of {SECTION_LIST}",
                show(form)
            ))
        })
}

/// Each section with the forms that follow it, in the order written.
type Sections<'a> = IndexMap<Section, (&'a Value, &'a [Value])>;

/// Parses a query in vector or map form.
pub(crate) fn query(form: &Value) -> Result<Query, Failed<'_>> {
    let sections = match form {
        Value::Vector(items) => vector_sections(items)?,
        Value::Map(map) => map_sections(map)?,
        _ => {
            return Err(fail(format!(
                "{} is not a query; expected a vector [:find ...] or a map {{:find [...] ...}}",
                show(form)
            )))
        }
    };
    build_query(&sections)
}

/// `[:find ?a :in $ :where ...]`: a keyword, then every form up to the next
/// keyword.
fn vector_sections(items: &[Value]) -> Result<Sections<'_>, Failed<'_>> {
    let is_keyword = |form: &Value| matches!(form, Value::Keyword(_));
    let header = one(|form: &Value| section_of(form).map(|section| (section, form)));
    let section = (header, take_till::<_, Forms, Expected>(is_keyword));
    let parsed = parse_rest(items, many0(section))?;
    let mut sections = Sections::new();
    for ((section, keyword), forms) in parsed {
        add_section(&mut sections, section, keyword, forms.0)?;
    }
    Ok(sections)
}

fn add_section<'a>(
    sections: &mut Sections<'a>,
    section: Section,
    keyword: &'a Value,
    forms: &'a [Value],
) -> Result<(), Failed<'a>> {
    if sections.insert(section, (keyword, forms)).is_some() {
        return Err(fail(format!(
            "query section {} appears more than once",
            show(keyword)
        )));
    }
    Ok(())
}

/// `{:find [...] :in [...] :where [...] :limit 10}`.
fn map_sections(map: &IndexMap<Value, Value>) -> Result<Sections<'_>, Failed<'_>> {
    let mut sections = Sections::new();
    for (keyword, value) in map {
        let section = section_of(keyword)?;
        let forms = match (section, value) {
            (Section::Limit | Section::Offset | Section::Timeout, number) => {
                std::slice::from_ref(number)
            }
            (_, Value::Vector(items)) => items.as_slice(),
            _ => {
                return Err(fail(format!(
                    "the value of {} in a map query must be a vector, found {}",
                    show(keyword),
                    show(value)
                )))
            }
        };
        add_section(&mut sections, section, keyword, forms)?;
    }
    Ok(sections)
}

fn build_query<'a>(sections: &Sections<'a>) -> Result<Query, Failed<'a>> {
    let Some((_, find)) = sections.get(&Section::Find) else {
        return Err(fail(
            "query has no :find; expected [:find ... :where ...]".to_string(),
        ));
    };
    let section = |wanted: Section| sections.get(&wanted).map(|(_, forms)| *forms);
    let find = in_context("in :find", find_spec(find))?;
    let return_maps = return_maps(sections)?;
    if let Some(maps) = &return_maps {
        check_return_maps(&find, maps)?;
    }
    let query = Query {
        find,
        return_maps,
        with: section(Section::With)
            .map(|forms| in_context("in :with", variables(forms, ":with")))
            .transpose()?
            .unwrap_or_default(),
        inputs: section(Section::In)
            .map(|forms| in_context("in :in", inputs(forms)))
            .transpose()?
            .unwrap_or_else(default_inputs),
        where_clauses: section(Section::Where)
            .map(|forms| in_context("in :where", parse_rest(forms, clauses(0))))
            .transpose()?
            .unwrap_or_default(),
        order_by: section(Section::OrderBy)
            .map(|forms| in_context("in :order-by", order_terms(forms)))
            .transpose()?
            .unwrap_or_default(),
        limit: section(Section::Limit)
            .map(|forms| count(forms, ":limit"))
            .transpose()?,
        offset: section(Section::Offset)
            .map(|forms| count(forms, ":offset"))
            .transpose()?,
        timeout_ms: section(Section::Timeout)
            .map(|forms| count(forms, ":timeout"))
            .transpose()?,
    };
    check_distinct(&query)?;
    Ok(query)
}

/// Each variable is bound once by `:in` and named once by `:with`, and
/// `:with` names variables `:find` does not (as DataScript's parser
/// checks): a repeated one would silently join two inputs or mean nothing.
fn check_distinct(query: &Query) -> Result<(), Failed<'static>> {
    let repeated = |vars: &[Variable]| crate::forms::first_repeated(vars).map(|var| var.0.clone());
    if let Some(var) = repeated(&query.with) {
        return Err(fail(format!(":with names {var} twice")));
    }
    let found = query
        .find
        .elements()
        .iter()
        .find_map(|element| match element {
            FindElem::Variable(var) if query.with.contains(var) => Some(var.0.clone()),
            _ => None,
        });
    if let Some(var) = found {
        return Err(fail(format!(
            ":find and :with both name {var}; :with names variables that are not in :find"
        )));
    }
    let mut bound = Vec::new();
    let mut rules = 0;
    for input in &query.inputs {
        match input {
            Input::Binding(binding) => binding.variables(&mut bound),
            Input::Rules => rules += 1,
            Input::Source(_) => {}
        }
    }
    if let Some(var) = repeated(&bound) {
        return Err(fail(format!(
            ":in binds {var} twice; each input binds variables of its own"
        )));
    }
    if rules > 1 {
        return Err(fail(":in names the rules % twice".to_string()));
    }
    Ok(())
}

/// The inputs of a query without `:in`: the default database `$`.
pub(crate) fn default_inputs() -> Vec<Input> {
    vec![Input::Source(SrcVar::default_source())]
}

/// What `:find` holds before a vector spec is looked into.
enum FindShape<'a> {
    /// `[...]`: a collection or tuple spec.
    Vector(&'a Value, &'a [Value]),
    /// A relation or scalar spec.
    Spec(FindSpec),
}

/// `:find` followed by a relation, collection, scalar or tuple spec.
fn find_spec(forms: &[Value]) -> Result<FindSpec, Failed<'_>> {
    if forms.is_empty() {
        return Err(fail(
            "query has an empty :find; expected at least one variable".to_string(),
        ));
    }
    let element = || one(|form: &Value| find_elem(form));
    let vector = one_if(|form: &Value| match form {
        Value::Vector(items) => Some(FindShape::Vector(form, items.as_slice())),
        _ => None,
    });
    let scalar = map(terminated(element(), symbol_named(".")), |single| {
        FindShape::Spec(FindSpec::Scalar(single))
    });
    let relation = map(many1(element()), |elements| {
        FindShape::Spec(FindSpec::Relation(elements))
    });
    let shape = alt((
        all_consuming(vector),
        all_consuming(scalar),
        all_consuming(relation),
    ))
    .parse(Forms(forms));
    match shape {
        Ok((_, FindShape::Vector(form, items))) => vector_find_spec(form, items),
        Ok((_, FindShape::Spec(spec))) => Ok(spec),
        Err(nom::Err::Error(_)) => Err(fail(format!(
            "{} is not a find spec; expected ?a ?b, ?a ., [?a ...] or [?a ?b]",
            forms.iter().map(show).collect::<Vec<_>>().join(" ")
        ))),
        Err(error) => Err(error),
    }
}

/// `[?a ...]` (collection) or `[?a ?b]` (tuple).
fn vector_find_spec<'a>(form: &Value, items: &'a [Value]) -> Result<FindSpec, Failed<'a>> {
    let element = || one(|form: &Value| find_elem(form));
    let collection = map(
        terminated(element(), symbol_named("...")),
        FindSpec::Collection,
    );
    let tuple = map(many1(element()), FindSpec::Tuple);
    let message = || {
        format!(
            "{} is not a find spec; expected [?x ...] or [?a ?b]",
            show(form)
        )
    };
    match parse_items(items, alt((collection, tuple)), |_| message()) {
        Err(nom::Err::Error(_)) => Err(fail(message())),
        other => other,
    }
}

/// One element of `:find`: `?x`, `(aggregate arg ...)` or `(pull ?e pattern)`.
fn find_elem(form: &Value) -> Result<FindElem, Failed<'_>> {
    if let Some(var) = as_variable(form) {
        return Ok(FindElem::Variable(var));
    }
    match form {
        Value::List(items) if head_symbol(items).is_some_and(|head| head.is("pull")) => pull_elem(&items[1..]),
        Value::List(items) => aggregate(form, items),
        _ if symbol_is(form, ".") => Err(fail(
            "a scalar find spec has exactly one element before the `.`: [:find ?x . ...]".to_string(),
        )),
        _ if symbol_is(form, "...") => Err(fail(
            "`...` belongs inside a collection find spec [:find [?x ...] ...]".to_string(),
        )),
        Value::Vector(_) => Err(fail(format!(
            "{} is not a find element; a collection [?x ...] or tuple [?a ?b] must be all of :find",
            show(form)
        ))),
        _ => Err(fail(format!(
            "{} is not a find element; expected ?x, an aggregate such as (count ?x), or (pull ?e [...])",
            show(form)
        ))),
    }
}

/// `(name arg ...)` with variables or constants as arguments.
fn aggregate<'a>(form: &Value, items: &'a [Value]) -> Result<FindElem, Failed<'a>> {
    let name = match head_symbol(items) {
        Some(symbol) if as_variable(&items[0]).is_none() && as_source(&items[0]).is_none() => symbol.qualified_name(),
        _ => {
            return Err(fail(format!(
                "{} is not a find element; expected ?x, an aggregate such as (count ?x), or (pull ?e [...])",
                show(form)
            )))
        }
    };
    let argument = one(|arg: &Value| aggregate_arg(form, arg));
    let args = parse_rest(&items[1..], many0(argument))?;
    if args.is_empty() {
        return Err(fail(format!("aggregate {} has no arguments", show(form))));
    }
    Ok(FindElem::Aggregate { name, args })
}

fn aggregate_arg<'a>(form: &Value, arg: &Value) -> Result<AggregateArg, Failed<'a>> {
    match arg {
        Value::Symbol(_) => as_variable(arg).map(AggregateArg::Variable).ok_or_else(|| {
            fail(format!(
                "{} is not an aggregate argument in {}; expected a variable or a constant",
                show(arg),
                show(form)
            ))
        }),
        Value::List(_) => Err(fail(format!(
            "{} is not an aggregate argument in {}; aggregates do not nest",
            show(arg),
            show(form)
        ))),
        constant => Ok(AggregateArg::Constant(constant.clone())),
    }
}

/// `(pull ?e pattern)` or `(pull $src ?e pattern)`, after the `pull`.
fn pull_elem(items: &[Value]) -> Result<FindElem, Failed<'_>> {
    let entity = one(|form: &Value| variable(form, "naming the entity to pull").map_err(fail));
    let pattern = one(|form: &Value| pattern_ref(form));
    let leftover = |extra: &Value| {
        format!(
            "unexpected {} after the pattern of a pull; expected (pull ?e [...])",
            show(extra)
        )
    };
    let parsed = parse_items(items, (opt(one_if(as_source)), entity, pattern), leftover);
    let (source, var, pattern) = match parsed {
        Err(nom::Err::Error(_)) => {
            return Err(fail(
                "pull in :find needs a variable and a pattern: (pull ?e [...])".to_string(),
            ))
        }
        other => other?,
    };
    Ok(FindElem::Pull {
        source,
        var,
        pattern,
    })
}

fn pattern_ref(form: &Value) -> Result<PatternRef, Failed<'_>> {
    match as_variable(form).or_else(|| as_pattern_name(form)) {
        Some(var) => Ok(PatternRef::Variable(var)),
        None => pull_pattern(form, 0).map(PatternRef::Pattern),
    }
}

/// `:keys`, `:strs` or `:syms` (at most one of them).
fn return_maps<'a>(sections: &Sections<'a>) -> Result<Option<ReturnMaps>, Failed<'a>> {
    let kinds = [
        (Section::Keys, ReturnMapKind::Keys),
        (Section::Strs, ReturnMapKind::Strs),
        (Section::Syms, ReturnMapKind::Syms),
    ];
    let mut found = kinds
        .iter()
        .filter_map(|(section, kind)| sections.get(section).map(|entry| (*kind, *entry)));
    let Some((kind, (keyword, forms))) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(fail(
            "a query may have only one of :keys, :strs and :syms".to_string(),
        ));
    }
    let name = |form: &Value| match form.as_symbol() {
        Some(symbol) if as_variable(form).is_none() => Ok(symbol.qualified_name()),
        _ => Err(fail(format!(
            "{} is not a name in {}; expected a plain symbol such as name",
            show(form),
            show(keyword)
        ))),
    };
    let names = forms.iter().map(name).collect::<Result<Vec<_>, _>>()?;
    if names.is_empty() {
        return Err(fail(format!("{} needs at least one name", show(keyword))));
    }
    if let Some(repeated) = crate::forms::first_repeated(&names) {
        return Err(fail(format!(
            "{} names {repeated} twice; each element of :find needs a name of its own",
            show(keyword)
        )));
    }
    Ok(Some(ReturnMaps { kind, names }))
}

/// Return maps name the elements of a relation find, one name each.
fn check_return_maps(find: &FindSpec, maps: &ReturnMaps) -> Result<(), Failed<'static>> {
    let section = match maps.kind {
        ReturnMapKind::Keys => ":keys",
        ReturnMapKind::Strs => ":strs",
        ReturnMapKind::Syms => ":syms",
    };
    let FindSpec::Relation(elements) = find else {
        return Err(fail(format!(
            "{section} names the elements of a relation (:find ?a ?b), but this :find returns {}",
            match find {
                FindSpec::Collection(_) => "a collection ([?a ...])",
                FindSpec::Scalar(_) => "a single value (?a .)",
                _ => "a single tuple ([?a ?b])",
            }
        )));
    };
    if elements.len() != maps.names.len() {
        return Err(fail(format!(
            "{section} gives {} names for the {} elements of :find; each element needs one",
            maps.names.len(),
            elements.len()
        )));
    }
    Ok(())
}

/// `:with ?a ?b`: at least one variable.
fn variables<'a>(forms: &'a [Value], section: &str) -> Result<Vec<Variable>, Failed<'a>> {
    let vars = forms
        .iter()
        .map(|form| variable(form, "").map_err(fail))
        .collect::<Result<Vec<_>, _>>()?;
    if vars.is_empty() {
        return Err(fail(format!("{section} needs at least one variable")));
    }
    Ok(vars)
}

/// `:in $ % ?x [?a ?b] ...`.
fn inputs(forms: &[Value]) -> Result<Vec<Input>, Failed<'_>> {
    parse_rest(forms, many0(one(|form: &Value| input(form))))
}

fn input(form: &Value) -> Result<Input, Failed<'_>> {
    if let Some(source) = as_source(form) {
        return Ok(Input::Source(source));
    }
    if symbol_is(form, "%") {
        return Ok(Input::Rules);
    }
    if let Some(name) = as_pattern_name(form) {
        return Ok(Input::Binding(Binding::Variable(name)));
    }
    binding(form).map(Input::Binding).map_err(|_| {
        fail(format!(
            "{} is not an input; expected $, $name, %, ?x, _, [?a ?b], [?a ...] or [[?a ?b]]",
            show(form)
        ))
    })
}

/// `:order-by ?a (desc ?b) (asc ?c)`.
fn order_terms(forms: &[Value]) -> Result<Vec<OrderTerm>, Failed<'_>> {
    let terms = parse_rest(forms, many0(one(|form: &Value| order_term(form))))?;
    if terms.is_empty() {
        return Err(fail(":order-by needs at least one term".to_string()));
    }
    Ok(terms)
}

fn order_term(form: &Value) -> Result<OrderTerm, Failed<'_>> {
    let not_a_term = || {
        fail(format!(
            "{} is not an order term; expected ?x, (asc ?x) or (desc ?x), where ?x may also be an \
             aggregate of :find such as (count ?y)",
            show(form)
        ))
    };
    let direction = |items: &[Value]| match items.first() {
        Some(Value::Symbol(dir)) if dir.is("asc") || dir.is("desc") => Some(dir.is("desc")),
        _ => None,
    };
    let (key_form, descending) = match form {
        Value::List(items) => match (direction(items), items.as_slice()) {
            (Some(descending), [_, key]) => (key, descending),
            // `(desc)`, `(asc ?a ?b)`: a direction takes one key.
            (Some(_), _) => return Err(not_a_term()),
            (None, _) => (form, false),
        },
        _ => (form, false),
    };
    let key = match key_form {
        Value::List(items) => match aggregate(key_form, items) {
            Ok(FindElem::Aggregate { name, args }) => Some(OrderKey::Aggregate { name, args }),
            _ => None,
        },
        _ => as_variable(key_form).map(OrderKey::Variable),
    };
    key.map(|key| OrderTerm { key, descending })
        .ok_or_else(not_a_term)
}

/// `:limit N`, `:offset N` or `:timeout N`: one non-negative integer.
fn count<'a>(forms: &[Value], section: &str) -> Result<u64, Failed<'a>> {
    match forms {
        [Value::Integer(n)] if *n >= 0 => Ok(*n as u64),
        _ => Err(fail(format!(
            "{section} takes one non-negative integer, found {}",
            forms.iter().map(show).collect::<Vec<_>>().join(" ")
        ))),
    }
}
