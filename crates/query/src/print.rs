//! Printing ASTs back as EDN: `to_edn()` builds the [`Value`] a user could
//! have written (the vector form of a query, the list forms of transaction
//! data), and `Display` prints it. Parsing the printed text gives back an
//! equal AST.

use std::fmt;

use factlite_edn::{Keyword, Value};
use indexmap::IndexMap;

use crate::ast::{
    AggregateArg, Binding, Clause, FindElem, FindSpec, FnCall, Input, OrderKey, OrderTerm, Pattern,
    PatternRef, Query, ReturnMapKind, Rule, RuleVars, Term, Variable,
};
use crate::pull::{PullAttr, PullEntry, PullPattern, PullSub};
use crate::query::default_inputs;
use crate::tx::{AttrRef, EntityRef, TxForm, TxMap};

fn symbol(text: &str) -> Value {
    Value::symbol(text)
}

fn keyword(text: &str) -> Value {
    Value::keyword(text)
}

fn list(head: &str, rest: impl IntoIterator<Item = Value>) -> Value {
    Value::List(std::iter::once(symbol(head)).chain(rest).collect())
}

fn variables(vars: &[Variable]) -> impl Iterator<Item = Value> + '_ {
    vars.iter().map(Variable::to_edn)
}

impl Variable {
    /// The variable as an EDN symbol.
    pub fn to_edn(&self) -> Value {
        symbol(&self.0)
    }
}

impl Term {
    /// The term as written: a symbol or the constant itself.
    pub fn to_edn(&self) -> Value {
        match self {
            Term::Variable(var) => var.to_edn(),
            Term::Blank => symbol("_"),
            Term::Source(source) => symbol(&source.0),
            Term::Constant(value) => value.clone(),
        }
    }
}

impl Binding {
    /// The binding form as written.
    pub fn to_edn(&self) -> Value {
        match self {
            Binding::Variable(var) => var.to_edn(),
            Binding::Blank => symbol("_"),
            Binding::Tuple(elements) => {
                Value::Vector(elements.iter().map(Binding::to_edn).collect())
            }
            Binding::Collection(element) => Value::Vector(vec![element.to_edn(), symbol("...")]),
            Binding::Relation(elements) => Value::Vector(vec![Value::Vector(
                elements.iter().map(Binding::to_edn).collect(),
            )]),
        }
    }
}

impl RuleVars {
    /// `[[?required ...] ?free ...]`, or `[?free ...]` with nothing required.
    pub fn to_edn(&self) -> Value {
        let required =
            (!self.required.is_empty()).then(|| Value::Vector(variables(&self.required).collect()));
        Value::Vector(required.into_iter().chain(variables(&self.free)).collect())
    }
}

impl FnCall {
    /// `(name arg ...)`.
    pub fn to_edn(&self) -> Value {
        list(&self.name, self.args.iter().map(Term::to_edn))
    }
}

impl Pattern {
    /// `[$src? e a v tx added]` without trailing blanks.
    pub fn to_edn(&self) -> Value {
        let mut terms = vec![
            &self.entity,
            &self.attribute,
            &self.value,
            &self.tx,
            &self.added,
        ];
        while terms.len() > 1 && terms.last() == Some(&&Term::Blank) {
            terms.pop();
        }
        let source = self.source.iter().map(|source| symbol(&source.0));
        Value::Vector(source.chain(terms.into_iter().map(Term::to_edn)).collect())
    }
}

impl Clause {
    /// The clause as written.
    pub fn to_edn(&self) -> Value {
        match self {
            Clause::Pattern(pattern) => pattern.to_edn(),
            Clause::Predicate(call) => Value::Vector(vec![call.to_edn()]),
            Clause::Function { call, binding } => {
                Value::Vector(vec![call.to_edn(), binding.to_edn()])
            }
            Clause::Or { join, branches } => {
                let head = if join.is_some() { "or-join" } else { "or" };
                let branches = branches.iter().map(|branch| match branch.as_slice() {
                    [single] => single.to_edn(),
                    many => list("and", many.iter().map(Clause::to_edn)),
                });
                list(head, join.iter().map(RuleVars::to_edn).chain(branches))
            }
            Clause::Not { join, clauses } => {
                let head = if join.is_some() { "not-join" } else { "not" };
                let join = join
                    .iter()
                    .map(|vars| Value::Vector(variables(vars).collect()));
                list(head, join.chain(clauses.iter().map(Clause::to_edn)))
            }
            Clause::RuleCall { source, name, args } => {
                let source = source.iter().map(|source| symbol(&source.0));
                let call = std::iter::once(symbol(name)).chain(args.iter().map(Term::to_edn));
                Value::List(source.chain(call).collect())
            }
        }
    }
}

impl FindElem {
    /// `?x`, `(aggregate arg ...)` or `(pull ?e pattern)`.
    pub fn to_edn(&self) -> Value {
        match self {
            FindElem::Variable(var) => var.to_edn(),
            FindElem::Aggregate { name, args } => list(
                name,
                args.iter().map(|arg| match arg {
                    AggregateArg::Variable(var) => var.to_edn(),
                    AggregateArg::Constant(value) => value.clone(),
                }),
            ),
            FindElem::Pull {
                source,
                var,
                pattern,
            } => {
                let pattern = match pattern {
                    PatternRef::Pattern(pattern) => pattern.to_edn(),
                    PatternRef::Variable(var) => var.to_edn(),
                };
                let source = source.iter().map(|source| symbol(&source.0));
                list("pull", source.chain([var.to_edn(), pattern]))
            }
        }
    }
}

impl FindSpec {
    /// The forms that follow `:find`.
    pub fn to_edn_forms(&self) -> Vec<Value> {
        match self {
            FindSpec::Relation(elements) => elements.iter().map(FindElem::to_edn).collect(),
            FindSpec::Collection(element) => {
                vec![Value::Vector(vec![element.to_edn(), symbol("...")])]
            }
            FindSpec::Scalar(element) => vec![element.to_edn(), symbol(".")],
            FindSpec::Tuple(elements) => vec![Value::Vector(
                elements.iter().map(FindElem::to_edn).collect(),
            )],
        }
    }
}

impl Input {
    /// `$name`, `%` or a binding form.
    pub fn to_edn(&self) -> Value {
        match self {
            Input::Source(source) => symbol(&source.0),
            Input::Rules => symbol("%"),
            Input::Binding(binding) => binding.to_edn(),
        }
    }
}

impl OrderTerm {
    /// `?v` for ascending, `(desc ?v)` for descending; an aggregate key
    /// as written in `:find`.
    pub fn to_edn(&self) -> Value {
        let key = match &self.key {
            OrderKey::Variable(var) => var.to_edn(),
            OrderKey::Aggregate { name, args } => FindElem::Aggregate {
                name: name.clone(),
                args: args.clone(),
            }
            .to_edn(),
        };
        if self.descending {
            list("desc", [key])
        } else {
            key
        }
    }
}

impl Query {
    /// The query in vector form, sections in the order `:find :keys/:strs/:syms
    /// :with :in :where :order-by :limit :offset :timeout`. `:in` is left out when it is
    /// the default `[$]`; empty sections are left out.
    pub fn to_edn(&self) -> Value {
        let mut forms = vec![keyword("find")];
        forms.extend(self.find.to_edn_forms());
        if let Some(maps) = &self.return_maps {
            let section = match maps.kind {
                ReturnMapKind::Keys => "keys",
                ReturnMapKind::Strs => "strs",
                ReturnMapKind::Syms => "syms",
            };
            forms.push(keyword(section));
            forms.extend(maps.names.iter().map(|name| symbol(name)));
        }
        push_section(&mut forms, "with", variables(&self.with));
        if self.inputs != default_inputs() {
            forms.push(keyword("in"));
            forms.extend(self.inputs.iter().map(Input::to_edn));
        }
        push_section(
            &mut forms,
            "where",
            self.where_clauses.iter().map(Clause::to_edn),
        );
        push_section(
            &mut forms,
            "order-by",
            self.order_by.iter().map(OrderTerm::to_edn),
        );
        push_section(&mut forms, "limit", self.limit.map(count));
        push_section(&mut forms, "offset", self.offset.map(count));
        push_section(&mut forms, "timeout", self.timeout_ms.map(count));
        Value::Vector(forms)
    }
}

/// Appends `:section form ...` unless there are no forms.
fn push_section(forms: &mut Vec<Value>, section: &str, items: impl IntoIterator<Item = Value>) {
    let mut items = items.into_iter().peekable();
    if items.peek().is_some() {
        forms.push(keyword(section));
        forms.extend(items);
    }
}

fn count(n: u64) -> Value {
    Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Rule {
    /// `[(name [?required ...] ?free ...) clause ...]`.
    pub fn to_edn(&self) -> Value {
        let required =
            (!self.required.is_empty()).then(|| Value::Vector(variables(&self.required).collect()));
        let head = list(
            &self.name,
            required.into_iter().chain(variables(&self.free)),
        );
        Value::Vector(
            std::iter::once(head)
                .chain(self.body.iter().map(Clause::to_edn))
                .collect(),
        )
    }
}

/// A rule set as EDN: the vector of its rules.
pub fn rules_to_edn(rules: &[Rule]) -> Value {
    Value::Vector(rules.iter().map(Rule::to_edn).collect())
}

impl PullAttr {
    /// `:attr`, or `(:attr :as x :limit n :default v)` with options.
    pub fn to_edn(&self) -> Value {
        let name = Value::Keyword(self.name.clone());
        if self.is_plain() {
            return name;
        }
        let mut items = vec![name];
        if let Some(alias) = &self.alias {
            items.extend([keyword("as"), alias.clone()]);
        }
        if let Some(limit) = self.limit {
            items.extend([keyword("limit"), limit.map_or(Value::Nil, count)]);
        }
        if let Some(default) = &self.default {
            items.extend([keyword("default"), default.clone()]);
        }
        Value::List(items)
    }
}

impl PullPattern {
    /// The pattern vector.
    pub fn to_edn(&self) -> Value {
        Value::Vector(self.entries.iter().map(PullEntry::to_edn).collect())
    }
}

impl PullEntry {
    /// `*`, an attribute, or `{attr sub ...}`.
    pub fn to_edn(&self) -> Value {
        match self {
            PullEntry::Wildcard => symbol("*"),
            PullEntry::Attr(attr) => attr.to_edn(),
            PullEntry::Map(pairs) => Value::Map(
                pairs
                    .iter()
                    .map(|(attr, sub)| (attr.to_edn(), sub.to_edn()))
                    .collect::<IndexMap<_, _>>(),
            ),
        }
    }
}

impl PullSub {
    /// A pattern vector, `...`, or a recursion depth.
    pub fn to_edn(&self) -> Value {
        match self {
            PullSub::Pattern(pattern) => pattern.to_edn(),
            PullSub::Recursion(None) => symbol("..."),
            PullSub::Recursion(Some(depth)) => count(*depth),
        }
    }
}

impl EntityRef {
    /// The entity reference as written.
    pub fn to_edn(&self) -> Value {
        match self {
            EntityRef::Id(id) => Value::Integer(*id),
            EntityRef::TempId(tempid) => Value::String(tempid.clone()),
            EntityRef::LookupRef(attr, value) => {
                Value::Vector(vec![Value::Keyword(attr.clone()), value.clone()])
            }
            EntityRef::Ident(ident) => Value::Keyword(ident.clone()),
        }
    }
}

impl AttrRef {
    /// The attribute as written.
    pub fn to_edn(&self) -> Value {
        match self {
            AttrRef::Ident(ident) => Value::Keyword(ident.clone()),
            AttrRef::Id(id) => Value::Integer(*id),
        }
    }
}

impl TxMap {
    /// `{:db/id e :attr value ...}`.
    pub fn to_edn(&self) -> Value {
        let db_id = self
            .db_id
            .iter()
            .map(|e| (Value::Keyword(Keyword::namespaced("db", "id")), e.to_edn()));
        let attrs = self
            .attrs
            .iter()
            .map(|(attr, value)| (Value::Keyword(attr.clone()), value.clone()));
        Value::Map(db_id.chain(attrs).collect())
    }
}

impl TxForm {
    /// The form as written, with the canonical operation names.
    pub fn to_edn(&self) -> Value {
        match self {
            TxForm::Map(map) => map.to_edn(),
            TxForm::Add { e, a, v } => {
                Value::Vector(vec![keyword("db/add"), e.to_edn(), a.to_edn(), v.clone()])
            }
            TxForm::Retract { e, a, v } => {
                let head = [keyword("db/retract"), e.to_edn(), a.to_edn()];
                Value::Vector(head.into_iter().chain(v.clone()).collect())
            }
            TxForm::RetractEntity(e) => {
                Value::Vector(vec![keyword("db/retractEntity"), e.to_edn()])
            }
            TxForm::Cas { e, a, old, new } => Value::Vector(vec![
                keyword("db/cas"),
                e.to_edn(),
                a.to_edn(),
                old.clone(),
                new.clone(),
            ]),
            TxForm::Call { function, args } => Value::Vector(
                std::iter::once(Value::Keyword(function.clone()))
                    .chain(args.iter().cloned())
                    .collect(),
            ),
        }
    }
}

/// Transaction data as EDN: the vector of its forms.
pub fn tx_data_to_edn(forms: &[TxForm]) -> Value {
    Value::Vector(forms.iter().map(TxForm::to_edn).collect())
}

/// `Display` through `to_edn()`.
macro_rules! display_as_edn {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.to_edn(), f)
            }
        }
    )*};
}

display_as_edn!(
    Query,
    Rule,
    Clause,
    PullPattern,
    TxForm,
    Variable,
    Term,
    Binding,
    Input,
    FnCall
);

/// A stable canonical text for a query, for use as a cache key: the printed
/// vector form (see [`Query::to_edn`]). The vector and map forms of the same
/// query, and spellings that differ only in whitespace, optional defaults
/// (`:in $`), `(asc ?v)` versus `?v` or trailing `_` in patterns, give the
/// same text.
pub fn normalized_text(query: &Query) -> String {
    query.to_edn().to_string()
}
