//! Rules called on another data source (`($2 reach ?a ?b)`): the rules
//! that compute the called one — its recursive component, or itself — are
//! copied under a name of their own for that source, their bodies reading
//! it wherever they read the default source, and the call names the copy.
//! A recursive rule then runs on a collection of tuples or another
//! database as it runs on `$`; a rule with one body is inlined onto the
//! source as before (the copy's body is what `rules` would inline).

use std::borrow::Cow;

use factlite_query::{Clause, Rule, SrcVar};

use crate::error::Result;
use crate::rules::RuleSet;

/// The rules and clauses with every call on a source other than `$`
/// replaced by a call of a copy of its rules for that source; the rules as
/// they are when nothing calls one on another source.
pub fn specialize(
    rules: &[Rule],
    mut clauses: Vec<Clause>,
) -> Result<(Cow<'_, [Rule]>, Vec<Clause>)> {
    let mut on_a_source = false;
    let mut find = |clause: &Clause| {
        on_a_source |= matches!(
            clause,
            Clause::RuleCall { source: Some(source), .. } if source.0 != "$"
        );
    };
    visit(&clauses, &mut find);
    rules.iter().for_each(|rule| visit(&rule.body, &mut find));
    if !on_a_source {
        return Ok((Cow::Borrowed(rules), clauses));
    }
    let mut rules = rules.to_vec();
    // Each round copies the rules the calls name; a copy's body may call
    // other rules on the same source, copied in the next round.
    loop {
        let set = RuleSet::new(&rules)?;
        let mut wanted: Vec<(SrcVar, Vec<String>)> = Vec::new();
        let mut note = |clause: &Clause| {
            if let Clause::RuleCall {
                source: Some(source),
                name,
                ..
            } = clause
            {
                if source.0 != "$" {
                    if let Some(members) = set.members(name) {
                        if !wanted.iter().any(|(s, m)| s == source && m.contains(name)) {
                            wanted.push((source.clone(), members));
                        }
                    }
                }
            }
        };
        visit(&clauses, &mut note);
        for rule in &rules {
            visit(&rule.body, &mut note);
        }
        if wanted.is_empty() {
            return Ok((Cow::Owned(rules), clauses));
        }
        for (source, members) in &wanted {
            let copies: Vec<Rule> = rules
                .iter()
                .filter(|rule| members.contains(&rule.name))
                .map(|rule| Rule {
                    name: copy_name(&rule.name, source),
                    required: rule.required.clone(),
                    free: rule.free.clone(),
                    body: rule
                        .body
                        .iter()
                        .cloned()
                        .map(|clause| clause.reading_from(source))
                        .collect(),
                })
                .collect();
            rules.extend(copies);
        }
        let redirect = |clause: Clause| redirect_calls(clause, &wanted);
        clauses = clauses.into_iter().map(redirect).collect();
        for rule in &mut rules {
            rule.body = std::mem::take(&mut rule.body)
                .into_iter()
                .map(redirect)
                .collect();
        }
    }
}

/// The name of `rule`'s copy for `source`: a space keeps it apart from
/// every rule name a query can write (rule names are symbols).
fn copy_name(rule: &str, source: &SrcVar) -> String {
    format!("{rule} on {}", source.0)
}

/// Calls every clause (nested in `or` and `not` too) is or holds.
fn visit(clauses: &[Clause], note: &mut dyn FnMut(&Clause)) {
    for clause in clauses {
        note(clause);
        match clause {
            Clause::Or { branches, .. } => branches.iter().for_each(|b| visit(b, note)),
            Clause::Not { clauses, .. } => visit(clauses, note),
            _ => {}
        }
    }
}

/// The clause with each call on a copied source naming the copy instead.
fn redirect_calls(clause: Clause, copied: &[(SrcVar, Vec<String>)]) -> Clause {
    match clause {
        Clause::RuleCall {
            source: Some(source),
            name,
            args,
        } if copied
            .iter()
            .any(|(s, members)| *s == source && members.contains(&name)) =>
        {
            Clause::RuleCall {
                source: None,
                name: copy_name(&name, &source),
                args,
            }
        }
        Clause::Or { join, branches } => Clause::Or {
            join,
            branches: branches
                .into_iter()
                .map(|b| b.into_iter().map(|c| redirect_calls(c, copied)).collect())
                .collect(),
        },
        Clause::Not { join, clauses } => Clause::Not {
            join,
            clauses: clauses
                .into_iter()
                .map(|c| redirect_calls(c, copied))
                .collect(),
        },
        other => other,
    }
}
