//! Queries through the façade: EDN in, parsed, planned, run, EDN out.

use factlite_edn::Value;

use crate::error::Result;

/// Parses and runs a query against a snapshot.
pub fn run(db: &factlite_store::Db, query: &Value, inputs: &[Value]) -> Result<Value> {
    let query = factlite_query::parse_query(query)?;
    Ok(db.query(&query, inputs)?)
}
