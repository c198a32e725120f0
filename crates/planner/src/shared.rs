//! State shared by every SELECT scope of one query's compilation
//! ([`Shared`]): the schema and statistics it plans with, its parameters,
//! alias numbers, common table expressions, rules and databases.

use std::cell::RefCell;

use factlite_core::{Attribute, Schema, ValueType};
use factlite_edn::Value;
use factlite_query::{FnCall, Rule, Term};

use crate::bound::Expr;
use crate::databases::{cte_name, Databases};
use crate::error::{Error, Result};
use crate::rules::RuleSet;
use crate::source::{source_sql, Database, Source};
use crate::{Context, NamedSource, Param, SqlLiteral, Statistics};

/// A collection of tuples given as a data source (`:in $ $2`): patterns
/// that name it (`[$2 ?a ?b]`) match its tuples by position.
#[derive(Clone, Debug)]
pub struct CollectionSource {
    /// The source variable (`$2`).
    pub name: String,
    /// The derived table of its rows (columns `v0, t0, ...`).
    pub table: String,
    /// Each position's type, when every tuple agrees.
    pub types: Vec<Option<ValueType>>,
}

/// State shared by every SELECT scope of one query: parameters, alias
/// numbers and common table expressions.
pub struct Shared<'a> {
    pub schema: &'a Schema,
    pub statistics: &'a dyn Statistics,
    pub source: Source,
    pub(crate) named_sources: &'a [NamedSource],
    pub functions: &'a [crate::RegisteredFunction],
    /// The data sources other than `$` given as inputs.
    pub(crate) collection_sources: RefCell<Vec<CollectionSource>>,
    pub params: RefCell<Vec<Param>>,
    pub(crate) aliases: RefCell<usize>,
    /// `name AS (select)` items of the WITH clause, in definition order.
    pub ctes: RefCell<Vec<String>>,
    pub recursive: RefCell<bool>,
    pub rules: RuleSet,
    /// `$` and the databases given as inputs.
    pub databases: Databases,
}

impl<'a> Shared<'a> {
    pub fn new(context: &Context<'a>, rules: &[Rule]) -> Result<Shared<'a>> {
        Ok(Shared {
            schema: context.schema,
            statistics: context.statistics,
            source: context.source,
            named_sources: context.named_sources,
            functions: context.functions,
            collection_sources: RefCell::new(Vec::new()),
            params: RefCell::new(Vec::new()),
            aliases: RefCell::new(0),
            ctes: RefCell::new(Vec::new()),
            recursive: RefCell::new(false),
            rules: RuleSet::new(rules)?,
            databases: Databases::new(context.source),
        })
    }

    /// Adds a data source given as an input.
    pub fn add_collection_source(&self, source: CollectionSource) {
        self.collection_sources.borrow_mut().push(source);
    }

    /// The data source given as an input under this name.
    pub(crate) fn collection_source(&self, name: &str) -> Option<CollectionSource> {
        self.collection_sources
            .borrow()
            .iter()
            .find(|source| source.name == name)
            .cloned()
    }

    /// The registered function (not aggregate) of this name.
    pub fn registered_function(&self, name: &str) -> Option<&'a crate::RegisteredFunction> {
        self.functions
            .iter()
            .find(|f| f.name == name && !f.aggregate)
    }

    /// Binds a constant parameter and returns its placeholder.
    pub fn param(&self, literal: SqlLiteral) -> Expr {
        self.push_param(Param::Constant(literal))
    }

    /// Adds a parameter and returns its placeholder.
    pub fn push_param(&self, param: Param) -> Expr {
        let mut params = self.params.borrow_mut();
        params.push(param);
        Expr::Param(params.len())
    }

    /// A fresh alias with the given prefix.
    pub fn alias(&self, prefix: &str) -> String {
        let mut next = self.aliases.borrow_mut();
        *next += 1;
        format!("{prefix}{}", *next)
    }

    /// The table (or CTE) holding the datoms of `$`.
    pub fn source_table(&self) -> String {
        self.database_table(Database::Default)
    }

    /// The table (or CTE) holding a database's datoms: `datoms` for the
    /// current state, else a CTE over the log, made the first time.
    pub fn database_table(&self, database: Database) -> String {
        let source = self.databases.source(database);
        if source.is_current() {
            return "datoms".to_string();
        }
        if let Some(name) = self.databases.table(database) {
            return name;
        }
        self.push_param(Param::Basis(database));
        let index = self.params.borrow().len();
        if let Source::SinceAsOf { .. } = source {
            self.push_param(Param::Since(database));
        }
        let name = cte_name(database);
        self.ctes
            .borrow_mut()
            .push(format!("{name} AS ({})", source_sql(source, index)));
        self.databases.set_table(database, &name);
        name
    }

    /// The table of the database a function names as its first argument
    /// (`(get-else $h ?e :a 0)`); `$` when it names none.
    pub fn function_table(&self, call: &FnCall) -> Result<String> {
        match call.args.first() {
            Some(Term::Source(source)) => match self.databases.named(&source.0) {
                Some(database) => Ok(self.database_table(database)),
                None => Err(Error::Query(format!(
                    "{call}: {} is not a database (a collection of tuples given as a data \
                     source is read by patterns only)",
                    source.0
                ))),
            },
            _ => Ok(self.source_table()),
        }
    }

    /// Whether patterns on the source `name` read a handful of rows (a
    /// transaction's delta, a collection of tuples given as an input),
    /// rather than a database.
    pub(crate) fn is_small_source(&self, name: &str) -> bool {
        name != "$" && self.databases.named(name).is_none()
    }

    pub(crate) fn attribute(&self, ident: &factlite_edn::Keyword) -> Result<&'a Attribute> {
        self.schema
            .attribute_named(ident)
            .ok_or_else(|| Error::UnknownAttribute(Value::Keyword(ident.clone()).to_string()))
    }
}
