//! Named rules installed in the store, so that a query may call a rule it
//! was not given in `%` (a REPL user need not pass the rules every time).
//!
//! Installed rules are data, as the schema is: the vocabulary
//! `:factlite/rules` declares `:factlite.rule/name` (a string, unique
//! identity) and `:factlite.rule/source` (the EDN text of every definition of
//! that name, a vector of rules). Installing writes one entity per rule name
//! in an ordinary transaction, so installed rules are in the log: a snapshot
//! sees the rules installed at its basis, and `as_of` the rules of back then.
//!
//! A rule over an attribute the schema does not define is refused when it
//! is installed, naming the attribute.
//!
//! A query that calls a rule neither its `%` nor the rules in it define gets
//! the installed rules merged into its `%` input (one is added after its
//! other inputs when it has none); rules given in `%` win over installed rules
//! of the same name.

use std::collections::BTreeSet;

use factlite_edn::{Keyword, Value};
use factlite_query::{Clause, Input, Query, Rule, SrcVar};
use indexmap::IndexMap;

use crate::error::{Error, Result};
use crate::{Db, QueryResult, Store, TxReport, Vocabulary};

/// The vocabulary `:factlite/rules` (version 1) that holds installed rules:
/// `:factlite.rule/name` and `:factlite.rule/source`.
pub fn rules_vocabulary() -> Result<Vocabulary> {
    let definitions = factlite_edn::parse(
        r#"[{:db/ident :factlite.rule/name :db/valueType :db.type/string
             :db/cardinality :db.cardinality/one :db/unique :db.unique/identity
             :db/doc "The name of an installed rule."}
            {:db/ident :factlite.rule/source :db/valueType :db.type/string
             :db/cardinality :db.cardinality/one
             :db/doc "Every definition of an installed rule, as the EDN text of a rule set."}]"#,
    )
    .map_err(|e| Error::Parse(format!("the rules vocabulary: {e}")))?;
    Vocabulary::new(Keyword::namespaced("factlite", "rules"), 1, &definitions)
}

fn parse_rule_set(rules: &Value) -> Result<Vec<Rule>> {
    factlite_query::parse_rules(rules).map_err(|e| Error::Parse(e.to_string()))
}

/// Rules grouped by name, in first-definition order.
fn by_name(rules: Vec<Rule>) -> IndexMap<String, Vec<Rule>> {
    let mut grouped: IndexMap<String, Vec<Rule>> = IndexMap::new();
    for rule in rules {
        grouped.entry(rule.name.clone()).or_default().push(rule);
    }
    grouped
}

impl Store {
    /// Installs a rule set (an EDN vector of rules, as `%` takes): the
    /// definitions of each name it defines replace those installed under
    /// that name ([`Db::install_rules_tx`]), after the rules vocabulary
    /// ([`rules_vocabulary`]) is ensured.
    pub fn install_rules(&self, rules: &Value) -> Result<TxReport> {
        self.ensure_vocabulary(&rules_vocabulary()?)?;
        let tx_data = self.db()?.install_rules_tx(rules)?;
        self.transact_value(&tx_data)
    }

    /// Removes the installed rules of these names
    /// ([`Db::remove_rules_tx`]).
    pub fn remove_rules(&self, names: &[&str]) -> Result<TxReport> {
        let tx_data = self.db()?.remove_rules_tx(names)?;
        self.transact_value(&tx_data)
    }

    fn transact_value(&self, tx_data: &Value) -> Result<TxReport> {
        let forms = factlite_query::parse_tx_data(tx_data)
            .map_err(|e| Error::Parse(format!("installed rules: {e}")))?;
        self.transact(&forms)
    }
}

impl Db {
    /// The transaction data that installs a rule set over the rules
    /// installed at this snapshot: one entity per rule name, its definitions
    /// replacing any installed under that name. The rules are checked
    /// together with the other installed rules (one arity per name, calls of
    /// defined rules only, stratification). The rules vocabulary must be in
    /// the schema when the data is transacted.
    pub fn install_rules_tx(&self, rules: &Value) -> Result<Value> {
        let new = by_name(parse_rule_set(rules)?);
        if new.is_empty() {
            return Err(Error::Parse(
                "the rule set to install defines no rules".into(),
            ));
        }
        let schema = self.schema()?;
        let undefined = new
            .values()
            .flatten()
            .find_map(|rule| undefined_attribute(&schema, &rule.body));
        if let Some(attribute) = undefined {
            return Err(Error::UnknownAttribute {
                attribute: Value::Keyword(attribute).to_string(),
            });
        }
        let mut combined = self.installed_rules()?;
        for (name, definitions) in &new {
            combined.insert(name.clone(), definitions.clone());
        }
        let all: Vec<Rule> = combined.into_values().flatten().collect();
        factlite_planner::check_rules(&all)?;
        let entities = new
            .iter()
            .map(|(name, definitions)| {
                let source = factlite_query::rules_to_edn(definitions).to_string();
                Value::Map(
                    [
                        (rule_keyword("name"), Value::String(name.clone())),
                        (rule_keyword("source"), Value::String(source)),
                    ]
                    .into_iter()
                    .collect(),
                )
            })
            .collect();
        Ok(Value::Vector(entities))
    }

    /// The transaction data that removes the installed rules of these
    /// names, once checked that each is installed and that the rules left
    /// do not call them.
    pub fn remove_rules_tx(&self, names: &[&str]) -> Result<Value> {
        let InstalledRules {
            readable: mut left,
            unreadable,
        } = self.installed_rules_all()?;
        let mut retractions = Vec::new();
        for name in names {
            let broken = unreadable.iter().any(|(broken, _)| broken == name);
            if left.shift_remove(*name).is_none() && !broken {
                return Err(Error::Query(format!(
                    "no rule named {name} is installed, so none was removed"
                )));
            }
            retractions.push(Value::Vector(vec![
                Value::Keyword(Keyword::namespaced("db", "retractEntity")),
                Value::Vector(vec![rule_keyword("name"), Value::String(name.to_string())]),
            ]));
        }
        let all: Vec<Rule> = left.into_values().flatten().collect();
        factlite_planner::check_rules(&all)?;
        Ok(Value::Vector(retractions))
    }
}

fn rule_keyword(name: &str) -> Value {
    Value::Keyword(Keyword::namespaced("factlite.rule", name))
}

/// The rules installed at a snapshot's basis: those that read back, by
/// name in name order, and the names whose stored text does not (written by
/// an older version, or by hand), each with why.
#[derive(Debug, Default)]
pub struct InstalledRules {
    /// The rules that read back, by name.
    pub readable: IndexMap<String, Vec<Rule>>,
    /// Each name whose definitions do not read back, and why.
    pub unreadable: Vec<(String, String)>,
}

impl Db {
    /// The installed rules that read back, by name, in name order (empty
    /// when none were ever installed). A stored definition that does not
    /// read back is left out, so it never disables the others; see
    /// [`Db::installed_rules_all`].
    pub fn installed_rules(&self) -> Result<IndexMap<String, Vec<Rule>>> {
        Ok(self.installed_rules_all()?.readable)
    }

    /// Every installed rule at this snapshot's basis, those that do not
    /// read back named apart ([`InstalledRules`]): they can still be
    /// removed by name.
    pub fn installed_rules_all(&self) -> Result<InstalledRules> {
        let schema = self.schema()?;
        let source = Keyword::namespaced("factlite.rule", "source");
        if schema.attribute_named(&source).is_none() {
            return Ok(InstalledRules::default());
        }
        let query = factlite_query::parse_query(
            &factlite_edn::parse(
                "[:find ?n ?s :where [?r :factlite.rule/name ?n] [?r :factlite.rule/source ?s]]",
            )
            .map_err(|e| Error::Parse(e.to_string()))?,
        )
        .map_err(|e| Error::Parse(e.to_string()))?;
        // The state at the basis, whatever view of time this snapshot takes.
        let at_basis = self.as_of(self.basis_tx());
        let QueryResult::Relation(rows) = at_basis.query(&query, &[])? else {
            return Ok(InstalledRules::default());
        };
        let mut installed = InstalledRules::default();
        for row in rows.rows() {
            if let [Value::String(name), Value::String(text)] = row {
                let read = factlite_edn::parse(text)
                    .map_err(|e| e.to_string())
                    .and_then(|form| factlite_query::parse_rules(&form).map_err(|e| e.to_string()));
                match read {
                    Ok(rules) => {
                        installed.readable.insert(name.clone(), rules);
                    }
                    Err(why) => installed.unreadable.push((name.clone(), why)),
                }
            }
        }
        installed.readable.sort_keys();
        installed.unreadable.sort();
        Ok(installed)
    }

    /// The query and inputs to run when the query calls rules that neither
    /// its `%` input nor the rules in it define: the installed rules merged
    /// into its `%` (or added as a new `%` input, after the others). `None`
    /// when nothing needs adding.
    pub fn with_installed_rules(
        &self,
        query: &Query,
        inputs: &[Value],
    ) -> Result<Option<(Query, Vec<Value>)>> {
        // Positions count the inputs after `$`: a data source other than
        // `$` (a collection, a database) is one of them.
        let rules_position = query
            .inputs
            .iter()
            .filter(|input| !matches!(input, Input::Source(source) if source.0 == "$"))
            .position(|input| matches!(input, Input::Rules));
        let given = match rules_position.and_then(|p| inputs.get(p)) {
            Some(value) => match factlite_query::parse_rules(value) {
                Ok(rules) => rules,
                // The planner reports a rule set that does not parse.
                Err(_) => return Ok(None),
            },
            None => Vec::new(),
        };
        let defined: BTreeSet<&str> = given.iter().map(|r| r.name.as_str()).collect();
        let mut called = BTreeSet::new();
        called_rules(&query.where_clauses, &mut called);
        for rule in &given {
            called_rules(&rule.body, &mut called);
        }
        if called.iter().all(|name| defined.contains(name.as_str())) {
            return Ok(None);
        }
        let installed = self.installed_rules_all()?;
        if let Some((name, why)) = installed
            .unreadable
            .iter()
            .find(|(name, _)| called.contains(name) && !defined.contains(name.as_str()))
        {
            return Err(Error::Query(format!(
                "the installed rule {name} does not read back ({why}); remove it \
                 (remove_rules, or .rules --remove {name} in the REPL) and install it again"
            )));
        }
        let extra: Vec<Rule> = installed
            .readable
            .into_iter()
            .filter(|(name, _)| !defined.contains(name.as_str()))
            .flat_map(|(_, definitions)| definitions)
            .collect();
        if extra.is_empty() {
            return Ok(None);
        }
        let mut query = query.clone();
        let mut inputs = inputs.to_vec();
        match rules_position {
            Some(position) if position < inputs.len() => {
                let merged: Vec<Rule> = given.into_iter().chain(extra).collect();
                inputs[position] = factlite_query::rules_to_edn(&merged);
            }
            _ => {
                if query.inputs.is_empty() {
                    query.inputs.push(Input::Source(SrcVar::default_source()));
                }
                query.inputs.push(Input::Rules);
                inputs.push(factlite_query::rules_to_edn(&extra));
            }
        }
        Ok(Some((query, inputs)))
    }
}

/// The names of the rules some clause calls, nested clauses included.
fn called_rules(clauses: &[Clause], out: &mut BTreeSet<String>) {
    for clause in clauses {
        match clause {
            Clause::RuleCall { name, .. } => {
                out.insert(name.clone());
            }
            Clause::Or { branches, .. } => branches.iter().for_each(|b| called_rules(b, out)),
            Clause::Not { clauses, .. } => called_rules(clauses, out),
            _ => {}
        }
    }
}

/// The first attribute that a pattern of `clauses` (also inside `or` and
/// `not`) on the database names by its ident and that `schema` does not
/// define.
fn undefined_attribute(schema: &factlite_core::Schema, clauses: &[Clause]) -> Option<Keyword> {
    clauses.iter().find_map(|clause| match clause {
        // A pattern on another source (`$people`) reads tuples, not the schema.
        Clause::Pattern(pattern) if pattern.source.as_ref().is_some_and(|s| s.0 != "$") => None,
        Clause::Pattern(pattern) => match &pattern.attribute {
            factlite_query::Term::Constant(Value::Keyword(ident))
                if schema.attribute_named(ident).is_none() =>
            {
                Some(ident.clone())
            }
            _ => None,
        },
        Clause::Or { branches, .. } => branches
            .iter()
            .find_map(|branch| undefined_attribute(schema, branch)),
        Clause::Not { clauses, .. } => undefined_attribute(schema, clauses),
        Clause::Predicate(_) | Clause::Function { .. } | Clause::RuleCall { .. } => None,
    })
}
