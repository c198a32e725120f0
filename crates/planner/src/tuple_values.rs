//! Stored tuples (`:db.type/tuple` values) in SQL: a tuple built in the
//! query (`[1 "a"]`, `(tuple ?a ?b)`, a vector input — a [`Ty::Tuple`] of
//! element variables) becomes the stored encoding through the store's
//! `factlite_tuple(v0, t0, v1, t1, ...)`, so it can be compared with a
//! stored tuple (`=`, and `<` ... as blobs, whose byte order is the
//! tuples' order); a stored tuple's elements are read with
//! `factlite_tuple_value(tuple, i)` and `factlite_tuple_tag(tuple, i)`
//! (for `untuple`).

use factlite_core::ValueType;

use crate::compile::{Ty, Var};

/// The stored form of a tuple built in the query, when each of its
/// elements is a single value (a tuple inside a tuple has none).
pub fn stored(var: &Var) -> Option<Var> {
    let Ty::Tuple(items) = &var.ty else {
        return None;
    };
    if items.iter().any(|item| matches!(item.ty, Ty::Tuple(_))) {
        return None;
    }
    let arguments: Vec<String> = items
        .iter()
        .map(|item| format!("{}, {}", item.expr, item.tag_expr()))
        .collect();
    Some(Var {
        expr: format!("factlite_tuple({})", arguments.join(", ")),
        ty: Ty::Known(ValueType::Tuple),
    })
}

/// When one side is a stored tuple (or may be one) and the other a tuple
/// built in the query: both sides as stored tuples, to be compared.
pub fn comparable_pair(a: &Var, b: &Var) -> Option<(Var, Var)> {
    match (&a.ty, &b.ty) {
        (Ty::Tuple(_), Ty::Tuple(_)) => None,
        (Ty::Tuple(_), _) => Some((stored(a)?, b.clone())),
        (_, Ty::Tuple(_)) => Some((a.clone(), stored(b)?)),
        _ => None,
    }
}

/// The element at `index` of a stored tuple, with its type read at run
/// time; `NULL` for a `nil` element or past the end.
pub fn element(tuple: &Var, index: usize) -> Var {
    Var {
        expr: format!("factlite_tuple_value({}, {index})", tuple.expr),
        ty: Ty::Dynamic(format!("factlite_tuple_tag({}, {index})", tuple.expr)),
    }
}
