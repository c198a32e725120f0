//! `explain`: what a query compiles to, without running it.

use factlite_edn::Value;

use crate::error::Result;

/// What a query compiles to: the SQL, its parameters, and SQLite's plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The generated statement.
    pub sql: String,
    /// Its parameters, `?1` first, as SQLite receives them.
    pub params: Vec<factlite_planner::SqlLiteral>,
    /// SQLite's `EXPLAIN QUERY PLAN`, one line per step.
    pub query_plan: Vec<String>,
}

/// Plans a query without running it.
pub fn explain(db: &factlite_store::Db, query: &Value, inputs: &[Value]) -> Result<Explanation> {
    let query = factlite_query::parse_query(query)?;
    let plan = match db.with_installed_rules(&query, inputs)? {
        Some((query, inputs)) => db.plan(&query, &inputs)?,
        None => db.plan(&query, inputs)?,
    };
    let query_plan = db.explain_plan(&plan)?;
    Ok(Explanation {
        params: db.plan_parameters(&plan)?,
        sql: plan.sql,
        query_plan,
    })
}
