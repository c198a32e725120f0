//! The nesting limit of values entering the API: transaction data, queries
//! and their inputs, pull patterns, rule sets and view definitions built in
//! Rust are held to the depth the EDN reader accepts
//! ([`factlite_edn::MAX_DEPTH`]), so the recursive code that walks them
//! (parsers, planner, transactor) never runs out of stack. (Dropping a
//! value never recurses, whatever its depth: `Value` has a `Drop` of its
//! own.)

use factlite_edn::{Value, MAX_DEPTH};

use crate::error::{Error, Result};

/// [`Error::TooDeep`] when `value` nests collections deeper than the
/// reader's limit; `what` names it in the message ("the transaction data").
pub(crate) fn check(value: &Value, what: &'static str) -> Result<()> {
    if value.nests_deeper_than(MAX_DEPTH) {
        return Err(Error::TooDeep {
            what,
            limit: MAX_DEPTH,
        });
    }
    Ok(())
}

/// An owned value, checked.
pub(crate) fn checked(value: Value, what: &'static str) -> Result<Value> {
    check(&value, what).map(|()| value)
}

/// [`check`] for each of a query's inputs.
pub(crate) fn check_inputs(inputs: &[Value]) -> Result<()> {
    inputs
        .iter()
        .try_for_each(|input| check(input, "a query input"))
}

/// Owned inputs, checked.
pub(crate) fn checked_inputs(inputs: Vec<Value>) -> Result<Vec<Value>> {
    check_inputs(&inputs).map(|()| inputs)
}
