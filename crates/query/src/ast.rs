//! The typed syntax tree of queries and rules. Nothing here knows about a
//! schema: attributes are whatever constants appear in a pattern, and every
//! name (function, aggregate, rule) is kept as text for later passes to check.

use factlite_edn::Value;

use crate::pull::PullPattern;

/// A query variable such as `?name`; the text includes the leading `?`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Variable(pub String);

/// A data source: `$` (the default database) or `$name`; the text includes
/// the `$`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SrcVar(pub String);

impl SrcVar {
    /// The default source `$`.
    pub fn default_source() -> SrcVar {
        SrcVar("$".to_string())
    }
}

/// A parsed query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// What the query returns (`:find`).
    pub find: FindSpec,
    /// `:keys`, `:strs` or `:syms`: return each row as a map with these names.
    pub return_maps: Option<ReturnMaps>,
    /// `:with` variables: kept in the set of bindings, not returned.
    pub with: Vec<Variable>,
    /// `:in`; `[$]` when the query has no `:in`.
    pub inputs: Vec<Input>,
    /// `:where`; empty when the query has none.
    pub where_clauses: Vec<Clause>,
    /// `:order-by` terms, first term sorts first.
    pub order_by: Vec<OrderTerm>,
    /// `:limit N`.
    pub limit: Option<u64>,
    /// `:offset N`.
    pub offset: Option<u64>,
    /// `:timeout N`: the query may run N milliseconds before it is stopped
    /// (as in Datomic's query map).
    pub timeout_ms: Option<u64>,
}

/// The shape of a query's result.
#[derive(Clone, Debug, PartialEq)]
pub enum FindSpec {
    /// `:find ?a ?b`: a set of tuples.
    Relation(Vec<FindElem>),
    /// `:find [?a ...]`: a collection of single values.
    Collection(FindElem),
    /// `:find ?a .`: one value.
    Scalar(FindElem),
    /// `:find [?a ?b]`: one tuple.
    Tuple(Vec<FindElem>),
}

impl FindSpec {
    /// The elements of the find spec, in order.
    pub fn elements(&self) -> &[FindElem] {
        match self {
            FindSpec::Relation(elements) | FindSpec::Tuple(elements) => elements,
            FindSpec::Collection(element) | FindSpec::Scalar(element) => {
                std::slice::from_ref(element)
            }
        }
    }

    /// The variables whose `:in` value is a pull pattern: `?p` of
    /// `(pull ?e ?p)`.
    pub fn pull_pattern_inputs(&self) -> Vec<&str> {
        self.elements()
            .iter()
            .filter_map(|element| match element {
                FindElem::Pull {
                    pattern: PatternRef::Variable(v),
                    ..
                } => Some(v.0.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// One element of `:find`.
#[derive(Clone, Debug, PartialEq)]
pub enum FindElem {
    /// `?x`
    Variable(Variable),
    /// `(name arg ...)`, e.g. `(count ?x)` or `(max 3 ?x)`; the name is kept
    /// as text (`count`, `count-distinct`, `sum`, `avg`, `min`, `max`,
    /// `median`, `variance`, `stddev`, `distinct`, `sample`, `rand`, ...).
    Aggregate {
        /// The aggregate's name.
        name: String,
        /// Its arguments, in order.
        args: Vec<AggregateArg>,
    },
    /// `(pull ?e [...])` or `(pull $src ?e [...])`.
    Pull {
        /// The source, when given explicitly.
        source: Option<SrcVar>,
        /// The variable naming the entity to pull.
        var: Variable,
        /// The pattern, written inline or given as an `:in` variable.
        pattern: PatternRef,
    },
}

/// An argument of an aggregate: a variable or a constant such as the `3` in
/// `(max 3 ?x)`.
#[derive(Clone, Debug, PartialEq)]
pub enum AggregateArg {
    /// `?x`
    Variable(Variable),
    /// Any EDN constant.
    Constant(Value),
}

/// The pattern of a pull in `:find`.
#[derive(Clone, Debug, PartialEq)]
pub enum PatternRef {
    /// Written in the query: `(pull ?e [:a :b])`.
    Pattern(PullPattern),
    /// Bound through `:in`: `(pull ?e ?pattern)`.
    Variable(Variable),
}

/// Which kind of map keys `:keys`, `:strs` or `:syms` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnMapKind {
    /// `:keys`: keyword keys.
    Keys,
    /// `:strs`: string keys.
    Strs,
    /// `:syms`: symbol keys.
    Syms,
}

/// `:keys a b`, `:strs a b` or `:syms a b`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnMaps {
    /// The kind of keys.
    pub kind: ReturnMapKind,
    /// The names, one per find element, as written.
    pub names: Vec<String>,
}

/// One `:in` input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// `$` or `$name`: a database.
    Source(SrcVar),
    /// `%`: a rule set.
    Rules,
    /// A binding form for a value argument.
    Binding(Binding),
}

/// A binding form: how a value is destructured into variables (in `:in` and
/// after a function call in `:where`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// `?x`: the value itself.
    Variable(Variable),
    /// `_`: ignore the value.
    Blank,
    /// `[?a ?b]`: a tuple; each element is a variable or `_`.
    Tuple(Vec<Binding>),
    /// `[?a ...]`: a collection of values; the element is a variable or `_`.
    Collection(Box<Binding>),
    /// `[[?a ?b]]`: a set of tuples; holds the tuple's elements.
    Relation(Vec<Binding>),
}

/// A `:where` clause (or one in a rule body, `or`, `not`).
#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    /// `[$src? e a v tx added]` (boxed: a pattern is much larger than the
    /// other clauses).
    Pattern(Box<Pattern>),
    /// `[(pred arg ...)]`
    Predicate(FnCall),
    /// `[(f arg ...) binding]`
    Function {
        /// The call.
        call: FnCall,
        /// How its result binds variables.
        binding: Binding,
    },
    /// `(or branch ...)` or `(or-join [vars] branch ...)`.
    Or {
        /// The join variables of `or-join`; `None` for `or`.
        join: Option<RuleVars>,
        /// Each branch: one clause, or the clauses of an `(and ...)`.
        branches: Vec<Vec<Clause>>,
    },
    /// `(not clause ...)` or `(not-join [vars] clause ...)`.
    Not {
        /// The join variables of `not-join`; `None` for `not`.
        join: Option<Vec<Variable>>,
        /// The clauses that must not match.
        clauses: Vec<Clause>,
    },
    /// `($src? rule-name arg ...)`
    RuleCall {
        /// The source, when given explicitly.
        source: Option<SrcVar>,
        /// The rule's name.
        name: String,
        /// The arguments.
        args: Vec<Term>,
    },
}

/// A data pattern. Missing trailing terms are [`Term::Blank`].
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// The source, when given explicitly.
    pub source: Option<SrcVar>,
    /// Entity position.
    pub entity: Term,
    /// Attribute position.
    pub attribute: Term,
    /// Value position.
    pub value: Term,
    /// Transaction position.
    pub tx: Term,
    /// Added (assertion/retraction) position, for history databases.
    pub added: Term,
}

/// A function or predicate call: `(name arg ...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct FnCall {
    /// The function's name as written, e.g. `<`, `str/starts-with?`,
    /// `get-else`, `ground`, `missing?`.
    pub name: String,
    /// The arguments; `$` sources are allowed.
    pub args: Vec<Term>,
}

/// Variables of a rule head or an `or-join`: `[[?req ...] ?free ...]`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RuleVars {
    /// Variables that must be bound when the rule (or or-join) is entered.
    pub required: Vec<Variable>,
    /// The other variables.
    pub free: Vec<Variable>,
}

/// A term in a pattern, a call or a rule call.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// `?x`
    Variable(Variable),
    /// `_`
    Blank,
    /// `$` or `$name` (only as a function argument).
    Source(SrcVar),
    /// Any other EDN value: numbers, strings, keywords (idents), lookup-ref
    /// vectors `[:attr v]`, collections for `ground`, tagged values.
    Constant(Value),
}

/// One `:order-by` term: `?v`, `(asc ?v)` or `(desc ?v)`, where `?v` may
/// also be an aggregate of `:find` written as it is there (`(desc (count
/// ?v))`).
#[derive(Clone, Debug, PartialEq)]
pub struct OrderTerm {
    /// What to sort by: a `:find` variable or aggregate.
    pub key: OrderKey,
    /// `true` for `(desc ...)`.
    pub descending: bool,
}

/// What an `:order-by` term sorts by.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderKey {
    /// A variable of `:find` (or the entity of a pull of it).
    Variable(Variable),
    /// An aggregate of `:find`, such as `(count ?v)`.
    Aggregate {
        /// The aggregate's name.
        name: String,
        /// Its arguments, in order.
        args: Vec<AggregateArg>,
    },
}

impl OrderTerm {
    /// The position in `elements` (a query's `:find`) of the element the
    /// term sorts by, if `:find` has it.
    pub fn position(&self, elements: &[FindElem]) -> Option<usize> {
        elements
            .iter()
            .position(|element| match (&self.key, element) {
                (
                    OrderKey::Variable(var),
                    FindElem::Variable(found) | FindElem::Pull { var: found, .. },
                ) => var == found,
                (
                    OrderKey::Aggregate { name, args },
                    FindElem::Aggregate {
                        name: found,
                        args: found_args,
                    },
                ) => name == found && args == found_args,
                _ => false,
            })
    }
}

/// One rule definition: `[(name [?req ...] ?free ...) clause ...]`. A rule
/// with several definitions is several `Rule`s with the same name.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The rule's name.
    pub name: String,
    /// Variables that must be bound when the rule is called.
    pub required: Vec<Variable>,
    /// The other head variables.
    pub free: Vec<Variable>,
    /// The body; never empty.
    pub body: Vec<Clause>,
}
