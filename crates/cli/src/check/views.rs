//! The runner's one seam to materialized views: the scenario steps
//! `:materialize`, `:view` and `:drop-view`, and the `--views` checks, go
//! through these calls to the façade.

use factlite::{QueryResult, Store, Value};

/// Registers `query` with `inputs` as the materialized view `name`.
pub fn materialize(
    store: &Store,
    name: &str,
    query: &Value,
    inputs: &[Value],
) -> factlite::Result<()> {
    store.materialize(name, query, inputs).map(|_| ())
}

/// Reads the materialized view `name`, shaped as `Db::q` shapes results.
pub fn read(store: &Store, name: &str) -> factlite::Result<Value> {
    store.view(name).map(QueryResult::into_edn)
}

/// Removes the materialized view `name`.
pub fn drop(store: &Store, name: &str) -> factlite::Result<()> {
    store.drop_view(name)
}
