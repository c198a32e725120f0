//! Nested queries: Datomic's `q` called as a function inside a query,
//! `[(q [:find ...] $ ?x) binding]`. The call's first argument is the
//! inner query (unquoted: the calling query is data already), the others are the arguments for its `:in` (`$` when it has none), and
//! the binding takes its result as its find spec shapes it: a relation
//! `[[?a ?b]]`, a collection `[?a ...]`, a scalar `?a`, a tuple `[?a ?b]`.

use crate::ast::{Binding, Clause, FnCall, Input, Query, SrcVar, Term};
use crate::error::{ParseError, Result};

/// The name a nested query is called by.
pub const NESTED_QUERY: &str = "q";

/// A nested query and the arguments of its call.
#[derive(Clone, Debug, PartialEq)]
pub struct NestedQuery {
    /// The inner query.
    pub query: Query,
    /// The arguments for its `:in`, in order.
    pub args: Vec<Term>,
}

impl FnCall {
    /// The nested query this call runs, when it is `(q QUERY arg ...)`;
    /// `None` for any other function.
    pub fn nested_query(&self) -> Option<Result<NestedQuery>> {
        (self.name == NESTED_QUERY).then(|| NestedQuery::of_call(self))
    }
}

impl NestedQuery {
    fn of_call(call: &FnCall) -> Result<NestedQuery> {
        let form = match call.args.first() {
            Some(Term::Constant(form)) => form,
            _ => {
                return Err(ParseError::new(format!(
                    "{call}: q takes the query to run first, then the arguments for its :in"
                )))
            }
        };
        let query = crate::parse_query(form)
            .map_err(|error| ParseError::new(format!("the query of {call}: {error}")))?;
        Ok(NestedQuery {
            query,
            args: call.args[1..].to_vec(),
        })
    }

    /// The inputs the inner query declares: its `:in`, or `$` when it has
    /// none.
    pub fn inputs(&self) -> Vec<Input> {
        if self.query.inputs.is_empty() {
            vec![Input::Source(SrcVar::default_source())]
        } else {
            self.query.inputs.clone()
        }
    }

    /// The inner query's `:where` as clauses of the calling query, for
    /// rewrites that look through a nested query (the materialized views'
    /// delta queries): its variables renamed apart by `fresh`, except those
    /// of scalar `:in` inputs given a variable, which become that
    /// variable, and its `$` read from the source given for it. `None`
    /// when an input is given something else (a constant, a collection).
    pub fn inlined_where(&self, fresh: &mut dyn FnMut(&str) -> String) -> Option<Vec<Clause>> {
        let inputs = self.inputs();
        if inputs.len() != self.args.len() {
            return None;
        }
        let mut given = Vec::new();
        let mut source = None;
        for (input, arg) in inputs.iter().zip(&self.args) {
            match (input, arg) {
                (Input::Source(inner), Term::Source(outer)) if inner.0 == "$" => {
                    source = Some(outer.clone())
                }
                (Input::Binding(Binding::Variable(inner)), Term::Variable(outer)) => {
                    given.push((inner.0.clone(), outer.0.clone()))
                }
                _ => return None,
            }
        }
        let mut names = Vec::new();
        for clause in &self.query.where_clauses {
            clause.variables(true, &mut names);
        }
        let mut renamed: Vec<(String, String)> = given;
        for name in names {
            if !renamed.iter().any(|(inner, _)| *inner == name.0) {
                let new = fresh(&name.0);
                renamed.push((name.0, new));
            }
        }
        let rename = |name: &str| {
            renamed
                .iter()
                .find(|(inner, _)| inner == name)
                .map_or_else(|| name.to_string(), |(_, outer)| outer.clone())
        };
        Some(
            self.query
                .where_clauses
                .iter()
                .map(|clause| {
                    let clause = clause.rename_variables(&rename);
                    match &source {
                        Some(source) if source.0 != "$" => clause.reading_dollar_from(source),
                        _ => clause,
                    }
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(text: &str) -> FnCall {
        let form = factlite_edn::parse(&format!("[:find ?x :where {text}]")).expect("EDN");
        match crate::parse_query(&form).map(|q| q.where_clauses.into_iter().next()) {
            Ok(Some(Clause::Function { call, .. })) => call,
            other => panic!("{text} is no function clause: {other:?}"),
        }
    }

    #[test]
    fn the_inner_clauses_take_the_callers_variables_and_source() {
        let nested =
            call("[(q [:find ?m :in $ ?a :where [?t :t/artist ?a] [?t :t/len ?m]] $h ?x) [[?y]]]")
                .nested_query()
                .expect("a nested query")
                .expect("parses");
        let mut n = 0;
        let inlined = nested
            .inlined_where(&mut |name| {
                n += 1;
                format!("{name}_{n}")
            })
            .expect("inlines");
        let printed: Vec<String> = inlined.iter().map(ToString::to_string).collect();
        assert_eq!(printed, ["[$h ?t_1 :t/artist ?x]", "[$h ?t_1 :t/len ?m_2]"]);
    }

    #[test]
    fn a_constant_argument_is_not_inlined() {
        let nested = call("[(q [:find ?m :in $ ?a :where [?m :t/artist ?a]] $ 3) [[?y]]]")
            .nested_query()
            .expect("a nested query")
            .expect("parses");
        assert_eq!(nested.inlined_where(&mut |name| name.to_string()), None);
        assert_eq!(nested.inputs().len(), 2);
    }

    #[test]
    fn a_malformed_inner_query_is_a_parse_error_of_the_caller() {
        let form =
            factlite_edn::parse("[:find ?d :where [(q [:find :where] $) [[?d]]]]").expect("EDN");
        let error = crate::parse_query(&form).expect_err("malformed");
        assert!(error.message.contains("the query of (q"), "{error}");
        let form = factlite_edn::parse("[:find ?d :where [(q ?x $) [[?d]]]]").expect("EDN");
        let error = crate::parse_query(&form).expect_err("no query");
        assert!(
            error.message.contains("q takes the query to run first"),
            "{error}"
        );
    }
}
