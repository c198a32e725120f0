//! Queries through the façade: EDN in, parsed, planned, run, EDN out.

use factlite_edn::Value;

use crate::error::Result;

/// Parses and runs a query against a snapshot.
pub fn run(db: &factlite_store::Db, query: &Value, inputs: &[Value]) -> Result<Value> {
    let query = factlite_query::parse_query(query)?;
    Ok(db.query(&query, inputs)?)
}

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
    let plan = db.plan(&query, inputs)?;
    let query_plan = db.explain_plan(&plan)?;
    Ok(Explanation {
        sql: plan.sql,
        params: plan.params,
        query_plan,
    })
}
