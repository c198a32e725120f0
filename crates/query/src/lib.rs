//! The syntax of factlite's Datalog: typed ASTs for queries, rules, pull
//! patterns and transaction data, read from EDN values ([`Value`]).
//!
//! This crate knows no schema and no SQL: it checks only the shape of what a
//! user wrote. Every error is a [`ParseError`] (category `:error/parse`) whose
//! message names the offending form and what was expected.
//!
//! ```
//! use factlite_query::{parse_query, FindSpec};
//!
//! let form = factlite_edn::parse("[:find ?n . :where [?e :person/name ?n]]").unwrap();
//! let query = parse_query(&form).unwrap();
//! assert!(matches!(query.find, FindSpec::Scalar(_)));
//! assert_eq!(query.to_string(), "[:find ?n . :where [?e :person/name ?n]]");
//! ```
//!
//! The parsers are nom parsers over slices of EDN values (see `forms.rs`);
//! the grammars they accept are written out in `grammar/*.ebnf` at the root
//! of the repository.

mod ast;
mod clause;
mod error;
mod forms;
mod nested;
mod print;
mod pull;
mod query;
mod rename;
mod rules;
mod term;
mod tx;

use factlite_edn::Value;

pub use ast::{
    AggregateArg, Binding, Clause, FindElem, FindSpec, FnCall, Input, OrderKey, OrderTerm, Pattern,
    PatternRef, Query, ReturnMapKind, ReturnMaps, Rule, RuleVars, SrcVar, Term, Variable,
};
pub use error::{ParseError, Result};
pub use forms::MAX_DEPTH;
pub use nested::{NestedQuery, NESTED_QUERY};
pub use print::{normalized_text, rules_to_edn, tx_data_to_edn};
pub use pull::{PullAttr, PullEntry, PullPattern, PullSub};
pub use rename::substitute_in_patterns;
pub use tx::{AttrRef, EntityRef, TxForm, TxMap};

/// Parses a query: the vector form `[:find ... :in ... :where ...]` or the
/// map form `{:find [...] :in [...] :where [...]}`.
pub fn parse_query(form: &Value) -> Result<Query> {
    query::query(form).map_err(|error| forms::into_parse_error(error, "query"))
}

/// Parses a rule set (the `%` input): a vector of rule vectors
/// `[(name [?required ...] ?free ...) clause ...]`.
pub fn parse_rules(form: &Value) -> Result<Vec<Rule>> {
    rules::rule_set(form).map_err(|error| forms::into_parse_error(error, "rule set"))
}

/// Parses a pull pattern such as `[:a {:b [:c]} (:d :limit 5) *]`.
pub fn parse_pull_pattern(form: &Value) -> Result<PullPattern> {
    pull::pull_pattern(form, 0).map_err(|error| forms::into_parse_error(error, "pull pattern"))
}

/// Parses transaction data: a vector of entity maps and list forms. The
/// forms hold copies of its values ([`into_tx_data`] moves them instead).
pub fn parse_tx_data(form: &Value) -> Result<Vec<TxForm>> {
    into_tx_data(form.clone())
}

/// Parses transaction data as [`parse_tx_data`] does, moving its values
/// into the forms, so that a large transaction is not held twice.
pub fn into_tx_data(form: Value) -> Result<Vec<TxForm>> {
    tx::tx_data(form).map_err(|error| forms::into_parse_error(error, "transaction data"))
}
