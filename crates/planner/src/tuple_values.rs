//! Stored tuples (`:db.type/tuple` values) in SQL: a tuple built in the
//! query (`[1 "a"]`, `(tuple ?a ?b)`, a vector input — a [`Ty::Tuple`] of
//! element variables) becomes the stored encoding through the store's
//! `factlite_tuple(v0, t0, v1, t1, ...)`, so it can be compared with a
//! stored tuple (`=`, and `<` ... as blobs, whose byte order is the
//! tuples' order); a stored tuple's elements are read with
//! `factlite_tuple_value(tuple, i)` and `factlite_tuple_tag(tuple, i)`
//! (for `untuple`). A vector inside an input's rows (a relation whose
//! column holds tuples, as a view's recheck passes its keys) travels as
//! the stored encoding itself ([`literal`]).

use factlite_core::{tuple, TypedValue, ValueType};
use factlite_edn::Value;

use crate::bound::{Expr, Ty, Var};
use crate::SqlLiteral;

/// A vector of single values (or `nil`s) as a stored tuple's literal.
pub fn literal(items: &[Value]) -> Option<(SqlLiteral, ValueType)> {
    let elements = items
        .iter()
        .map(|item| match item {
            Value::Nil => Some(None),
            item => {
                let (_, value_type) = crate::literals::literal(item)?;
                let typed = TypedValue::from_edn(item, value_type).ok()?;
                Some(Some(tuple::element(typed)))
            }
        })
        .collect::<Option<Vec<_>>>()?;
    Some((SqlLiteral::Blob(tuple::encode(&elements)), ValueType::Tuple))
}

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
        expr: Expr::computed(format!("factlite_tuple({})", arguments.join(", ")), items),
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
        expr: Expr::computed(
            format!("factlite_tuple_value({}, {index})", tuple.expr),
            [tuple],
        ),
        ty: Ty::Dynamic(format!("factlite_tuple_tag({}, {index})", tuple.expr)),
    }
}
