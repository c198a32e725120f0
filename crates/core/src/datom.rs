//! The datom: one fact (entity, attribute, value), the transaction that
//! asserted or retracted it, and which of the two it was.

use crate::{Entid, TypedValue};

/// A fact with its provenance.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Datom {
    pub e: Entid,
    pub a: Entid,
    pub v: TypedValue,
    pub tx: Entid,
    /// `true` for an assertion, `false` for a retraction.
    pub added: bool,
}
