//! Pull patterns: `[:a (:b :limit 5) {:c [:d]} *]`, as an AST and a parser.
//! Attribute names are kept as keywords (forward, reverse `:ns/_name`, or
//! `:db/id`); whether they exist is for the schema to say.

use factlite_edn::{Keyword, Value};
use nom::multi::many0;

use crate::error::show;
use crate::forms::{
    check_depth, fail, head_symbol, one, parse_items, parse_rest, symbol_is, Failed,
};

/// A pull pattern: what to read from an entity.
#[derive(Clone, Debug, PartialEq)]
pub struct PullPattern {
    /// The entries, in order; never empty.
    pub entries: Vec<PullEntry>,
}

/// One entry of a pull pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum PullEntry {
    /// `*` (or `"*"`): every attribute of the entity.
    Wildcard,
    /// An attribute, with or without options.
    Attr(PullAttr),
    /// `{attr sub-pattern ...}`: follow refs; pairs in the order written.
    Map(Vec<(PullAttr, PullSub)>),
}

/// An attribute in a pull pattern, with its options.
#[derive(Clone, Debug, PartialEq)]
pub struct PullAttr {
    /// The attribute: `:ns/name`, a reverse `:ns/_name`, or `:db/id`.
    pub name: Keyword,
    /// `:as alias`: the key to return the value under.
    pub alias: Option<Value>,
    /// `:limit n` is `Some(Some(n))`; `:limit nil` (no limit) is `Some(None)`.
    pub limit: Option<Option<u64>>,
    /// `:default value`: returned when the entity has no value.
    pub default: Option<Value>,
}

impl PullAttr {
    /// An attribute without options.
    pub fn plain(name: Keyword) -> PullAttr {
        PullAttr {
            name,
            alias: None,
            limit: None,
            default: None,
        }
    }

    /// `true` when no option is set.
    pub fn is_plain(&self) -> bool {
        self.alias.is_none() && self.limit.is_none() && self.default.is_none()
    }
}

/// What a map entry of a pull pattern does with the referenced entities.
#[derive(Clone, Debug, PartialEq)]
pub enum PullSub {
    /// Pull them with this pattern.
    Pattern(PullPattern),
    /// Pull them with the enclosing pattern again: `...` (no bound) or a
    /// number of levels.
    Recursion(Option<u64>),
}

const ENTRY_EXPECTED: &str = "expected a keyword, *, (:attr :as x :limit n :default v), \
     (limit :attr n), (default :attr v) or a map {:attr [...]}";

/// Parses a pull pattern nested `depth` levels deep (each map and each
/// pattern vector is one level).
pub(crate) fn pull_pattern(form: &Value, depth: usize) -> Result<PullPattern, Failed<'_>> {
    check_depth(depth, form)?;
    let Value::Vector(items) = form else {
        return Err(fail(format!(
            "{} is not a pull pattern; expected a vector such as [:a {{:b [:c]}}]",
            show(form)
        )));
    };
    let entries = parse_rest(items, many0(one(|entry: &Value| pull_entry(entry, depth))))?;
    if entries.is_empty() {
        return Err(fail(
            "[] is an empty pull pattern; expected at least one attribute or *".to_string(),
        ));
    }
    Ok(PullPattern { entries })
}

fn pull_entry(form: &Value, depth: usize) -> Result<PullEntry, Failed<'_>> {
    match form {
        Value::String(text) if text == "*" => Ok(PullEntry::Wildcard),
        _ if symbol_is(form, "*") => Ok(PullEntry::Wildcard),
        Value::Map(map) => map_entry(form, map, depth),
        _ => pull_attr(form).map(PullEntry::Attr),
    }
}

/// An attribute with or without options, as written in a pattern or as the
/// key of a map entry.
fn pull_attr(form: &Value) -> Result<PullAttr, Failed<'_>> {
    match form {
        Value::Keyword(name) => Ok(PullAttr::plain(name.clone())),
        Value::List(items) => match head_symbol(items) {
            Some(head) if head.is("limit") || head.is("default") => legacy_option(form, items),
            _ => attr_with_options(form, items),
        },
        Value::Vector(items) => attr_with_options(form, items),
        _ => Err(fail(format!(
            "{} is not a pull attribute; {ENTRY_EXPECTED}",
            show(form)
        ))),
    }
}

/// `(:attr :as x :limit n :default v)` or the vector form `[:attr ...]`.
fn attr_with_options<'a>(form: &Value, items: &'a [Value]) -> Result<PullAttr, Failed<'a>> {
    let name = one(|name: &Value| attr_name(form, name));
    let option = (
        one(|key: &'a Value| option_key(form, key)),
        one(|value: &'a Value| Ok(value)),
    );
    let leftover = |extra: &Value| format!("{} has no value after {}", show(form), show(extra));
    let (name, options) = match parse_items(items, (name, many0(option)), leftover) {
        Err(nom::Err::Error(_)) => {
            return Err(fail(format!(
                "{} is not a pull attribute; {ENTRY_EXPECTED}",
                show(form)
            )))
        }
        other => other?,
    };
    let mut attr = PullAttr::plain(name);
    for (key, value) in options {
        set_option(&mut attr, form, key, value)?;
    }
    Ok(attr)
}

fn attr_name<'a>(form: &Value, name: &Value) -> Result<Keyword, Failed<'a>> {
    name.as_keyword().cloned().ok_or_else(|| {
        fail(format!(
            "{} is not a pull attribute; {ENTRY_EXPECTED}",
            show(form)
        ))
    })
}

/// The options an attribute may carry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AttrOption {
    As,
    Limit,
    Default,
}

fn option_key<'a>(form: &Value, key: &Value) -> Result<AttrOption, Failed<'a>> {
    match key.as_keyword() {
        Some(k) if k.namespace.is_none() && k.name == "as" => Ok(AttrOption::As),
        Some(k) if k.namespace.is_none() && k.name == "limit" => Ok(AttrOption::Limit),
        Some(k) if k.namespace.is_none() && k.name == "default" => Ok(AttrOption::Default),
        _ => Err(fail(format!(
            "{} is not an attribute option in {}; expected :as, :limit or :default",
            show(key),
            show(form)
        ))),
    }
}

fn set_option<'a>(
    attr: &mut PullAttr,
    form: &Value,
    key: AttrOption,
    value: &Value,
) -> Result<(), Failed<'a>> {
    let already = match key {
        AttrOption::As => attr.alias.replace(value.clone()).is_some(),
        AttrOption::Default => attr.default.replace(value.clone()).is_some(),
        AttrOption::Limit => attr.limit.replace(limit(form, value)?).is_some(),
    };
    if already {
        return Err(fail(format!("{} sets the same option twice", show(form))));
    }
    Ok(())
}

/// The value of `:limit`: a non-negative integer, or `nil` for no limit.
fn limit<'a>(form: &Value, value: &Value) -> Result<Option<u64>, Failed<'a>> {
    match value {
        Value::Nil => Ok(None),
        Value::Integer(n) if *n >= 0 => Ok(Some(*n as u64)),
        _ => Err(fail(format!(
            "{} is not a limit in {}; expected a non-negative integer or nil",
            show(value),
            show(form)
        ))),
    }
}

/// `(limit :attr n)` or `(default :attr v)`.
fn legacy_option<'a>(form: &Value, items: &'a [Value]) -> Result<PullAttr, Failed<'a>> {
    let [head, name, value] = items else {
        return Err(fail(format!(
            "{} is not a pull attribute; expected (limit :attr n) or (default :attr v)",
            show(form)
        )));
    };
    let mut attr = PullAttr::plain(attr_name(form, name)?);
    let key = if symbol_is(head, "limit") {
        AttrOption::Limit
    } else {
        AttrOption::Default
    };
    set_option(&mut attr, form, key, value)?;
    Ok(attr)
}

/// `{:attr [...] (:other :limit 2) ... :self 3}`.
fn map_entry<'a>(
    form: &Value,
    map: &'a indexmap::IndexMap<Value, Value>,
    depth: usize,
) -> Result<PullEntry, Failed<'a>> {
    check_depth(depth + 1, form)?;
    if map.is_empty() {
        return Err(fail(
            "{} is an empty map in a pull pattern; expected {:attr [...]}".to_string(),
        ));
    }
    let pairs = map
        .iter()
        .map(|(key, sub)| Ok((pull_attr(key)?, pull_sub(form, sub, depth)?)));
    pairs.collect::<Result<Vec<_>, _>>().map(PullEntry::Map)
}

fn pull_sub<'a>(form: &Value, sub: &'a Value, depth: usize) -> Result<PullSub, Failed<'a>> {
    match sub {
        Value::Vector(_) => pull_pattern(sub, depth + 2).map(PullSub::Pattern),
        Value::Integer(n) if *n >= 0 => Ok(PullSub::Recursion(Some(*n as u64))),
        _ if symbol_is(sub, "...") => Ok(PullSub::Recursion(None)),
        _ => Err(fail(format!(
            "{} is not a sub-pattern in {}; expected a pattern [...], ... or a recursion depth",
            show(sub),
            show(form)
        ))),
    }
}
