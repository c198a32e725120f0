//! The runner's one seam to materialized views. The façade does not offer
//! them yet (they will be `Store::materialize`, `Store::view` and
//! `Store::drop_view`), so every call here reports [`ViewsUnavailable`] and
//! the steps and checks that need views fail with that message instead of
//! passing. When the façade grows the methods, only this file changes.

use std::fmt;

use factlite::{Store, Value};

/// The message of every view step until the façade has views.
pub const NOT_IMPLEMENTED: &str = "materialized views: capability not implemented yet";

/// Materialized views are not available from the façade yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewsUnavailable;

impl fmt::Display for ViewsUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(NOT_IMPLEMENTED)
    }
}

/// Registers `query` with `inputs` as the materialized view `name`.
pub fn materialize(
    _store: &Store,
    _name: &str,
    _query: &Value,
    _inputs: &[Value],
) -> Result<(), ViewsUnavailable> {
    Err(ViewsUnavailable)
}

/// Reads the materialized view `name`, shaped as `Db::q` shapes results.
pub fn read(_store: &Store, _name: &str) -> Result<Value, ViewsUnavailable> {
    Err(ViewsUnavailable)
}

/// Removes the materialized view `name`.
pub fn drop(_store: &Store, _name: &str) -> Result<(), ViewsUnavailable> {
    Err(ViewsUnavailable)
}
