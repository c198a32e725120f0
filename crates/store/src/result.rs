//! A query's whole result as Rust values: [`QueryResult`], in the shape its
//! find spec asks for, and [`Relation`], the rows of a relation held in one
//! flat vector.
//!
//! Set semantics come from SQLite, not from hashing here: a relation's or
//! a collection's statement is `SELECT DISTINCT` (or provably yields
//! distinct rows, or groups them), so the rows that arrive are already
//! distinct and are kept in the order they came (the `:order-by` order
//! when there is one). Building a hash set of EDN tuples as well would cost
//! as much as the query; that is left to [`QueryResult::into_edn`], for the
//! caller who wants EDN (`#{[...] ...}`) rather than rows.
//!
//! Rows are distinct as bindings. Two of them may still print alike when a
//! find element is a pull (two entities with the same attributes): the EDN
//! form, a set, then holds the item once.

use std::fmt;

use factlite_edn::{Keyword, Symbol, Value};
use factlite_query::{ReturnMapKind, ReturnMaps};
use indexmap::IndexSet;

/// A query's result: rows of a relation, items of a collection, one scalar
/// or one tuple.
#[derive(Clone, Debug)]
pub enum QueryResult {
    /// `:find ?a ?b` (with or without `:keys`/`:strs`/`:syms`).
    Relation(Relation),
    /// `:find [?a ...]`: distinct values, ordered when the query orders them.
    Collection {
        /// The values.
        values: Vec<Value>,
        /// Whether the query has `:order-by` (the EDN form is then a vector,
        /// otherwise a set).
        ordered: bool,
    },
    /// `:find ?a .`: the first row's value, `None` when there is no row.
    Scalar(Option<Value>),
    /// `:find [?a ?b]`: the first row, `None` when there is no row.
    Tuple(Option<Vec<Value>>),
}

/// The rows of a relation, each as wide as the find spec, stored one after
/// another in one vector (no allocation per row).
#[derive(Clone, Debug)]
pub struct Relation {
    width: usize,
    cells: Vec<Value>,
    maps: Option<ReturnMaps>,
    ordered: bool,
}

impl Relation {
    /// An empty relation of rows `width` values wide (at least one); rows
    /// become maps with `maps`' names in the EDN form; `ordered` when the
    /// query has `:order-by`.
    pub(crate) fn new(width: usize, maps: Option<ReturnMaps>, ordered: bool) -> Relation {
        Relation {
            width: width.max(1),
            cells: Vec::new(),
            maps,
            ordered,
        }
    }

    /// The vector a reader appends each row's values to (a whole number of
    /// rows at a time).
    pub(crate) fn cells_mut(&mut self) -> &mut Vec<Value> {
        &mut self.cells
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.cells.len() / self.width
    }

    /// `true` when there is no row.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The number of values in a row: the find spec's elements.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The names given by `:keys`, `:strs` or `:syms`, one per column.
    pub fn names(&self) -> Option<&[String]> {
        self.maps.as_ref().map(|maps| maps.names.as_slice())
    }

    /// Whether the rows are in an order the query asked for (`:order-by`).
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    /// The rows, each a slice of `width` values.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, Value> {
        self.cells.chunks_exact(self.width)
    }

    /// Row `index`, if there is one.
    pub fn row(&self, index: usize) -> Option<&[Value]> {
        let start = index.checked_mul(self.width)?;
        self.cells.get(start..start + self.width)
    }

    /// The rows, each its own vector.
    pub fn into_rows(self) -> impl Iterator<Item = Vec<Value>> {
        let width = self.width;
        let mut cells = self.cells.into_iter();
        std::iter::from_fn(move || {
            let row: Vec<Value> = cells.by_ref().take(width).collect();
            (!row.is_empty()).then_some(row)
        })
    }

    /// The EDN form: a set of tuples (a vector when ordered); each tuple a
    /// vector, or a map under `:keys`/`:strs`/`:syms`.
    pub fn into_edn(mut self) -> Value {
        let maps = self.maps.take();
        let ordered = self.ordered;
        let len = self.len();
        let tuples = self
            .into_rows()
            .map(|row| relation_tuple(maps.as_ref(), row));
        if ordered {
            let mut vector = Vec::with_capacity(len);
            vector.extend(tuples);
            Value::Vector(vector)
        } else {
            let mut set = IndexSet::with_capacity(len);
            set.extend(tuples);
            Value::Set(set)
        }
    }
}

/// One row as EDN: a vector, or a map keyed by `maps`' names.
pub(crate) fn relation_tuple(maps: Option<&ReturnMaps>, row: Vec<Value>) -> Value {
    let Some(maps) = maps else {
        return Value::Vector(row);
    };
    Value::Map(
        maps.names
            .iter()
            .zip(row)
            .map(|(name, value)| {
                let key = match maps.kind {
                    ReturnMapKind::Keys => Value::Keyword(Keyword::from_str_lossy(name)),
                    ReturnMapKind::Strs => Value::String(name.clone()),
                    ReturnMapKind::Syms => Value::Symbol(Symbol::from_str_lossy(name)),
                };
                (key, value)
            })
            .collect(),
    )
}

impl QueryResult {
    /// The number of rows (relation), values (collection), or 0 or 1
    /// (scalar, tuple).
    pub fn len(&self) -> usize {
        match self {
            QueryResult::Relation(relation) => relation.len(),
            QueryResult::Collection { values, .. } => values.len(),
            QueryResult::Scalar(value) => usize::from(value.is_some()),
            QueryResult::Tuple(tuple) => usize::from(tuple.is_some()),
        }
    }

    /// `true` when the query found nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The result as EDN, as Datomic prints it: a set of tuples (a vector
    /// when ordered) for a relation, a set (or vector) for a collection, the
    /// value or `nil` for a scalar, a vector or `nil` for a tuple.
    pub fn into_edn(self) -> Value {
        match self {
            QueryResult::Relation(relation) => relation.into_edn(),
            QueryResult::Collection {
                values,
                ordered: true,
            } => Value::Vector(values),
            QueryResult::Collection { values, .. } => Value::Set(values.into_iter().collect()),
            QueryResult::Scalar(value) => value.unwrap_or(Value::Nil),
            QueryResult::Tuple(tuple) => tuple.map_or(Value::Nil, Value::Vector),
        }
    }

    /// The EDN form of a copy (see [`QueryResult::into_edn`]).
    pub fn to_edn(&self) -> Value {
        self.clone().into_edn()
    }
}

impl From<QueryResult> for Value {
    fn from(result: QueryResult) -> Value {
        result.into_edn()
    }
}

/// Results are equal when their EDN forms are: unordered results compare
/// as sets.
impl PartialEq for QueryResult {
    fn eq(&self, other: &QueryResult) -> bool {
        self.to_edn() == other.to_edn()
    }
}

/// A result equals the EDN value it converts to.
impl PartialEq<Value> for QueryResult {
    fn eq(&self, other: &Value) -> bool {
        self.to_edn() == *other
    }
}

/// Prints the EDN form.
impl fmt::Display for QueryResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_edn().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relation(width: usize, cells: &[i64], maps: Option<ReturnMaps>, ordered: bool) -> Relation {
        let mut relation = Relation::new(width, maps, ordered);
        relation
            .cells_mut()
            .extend(cells.iter().map(|&n| Value::Integer(n)));
        relation
    }

    fn edn(text: &str) -> Value {
        factlite_edn::parse(text).expect("EDN")
    }

    #[test]
    fn a_relation_reads_as_rows_and_as_edn() {
        let rows = relation(2, &[1, 2, 3, 4, 5, 6], None, false);
        assert_eq!((rows.len(), rows.width(), rows.is_empty()), (3, 2, false));
        assert_eq!(
            rows.row(1),
            Some(&[Value::Integer(3), Value::Integer(4)][..])
        );
        assert_eq!(rows.row(3), None);
        assert_eq!(rows.row(usize::MAX), None);
        assert_eq!(rows.rows().count(), 3);
        assert_eq!(
            rows.clone().into_rows().collect::<Vec<_>>(),
            vec![
                vec![Value::Integer(1), Value::Integer(2)],
                vec![Value::Integer(3), Value::Integer(4)],
                vec![Value::Integer(5), Value::Integer(6)],
            ]
        );
        assert_eq!(rows.into_edn(), edn("#{[5 6] [1 2] [3 4]}"));
        assert_eq!(
            relation(2, &[3, 4, 1, 2], None, true).into_edn(),
            edn("[[3 4] [1 2]]")
        );
        assert_eq!(relation(1, &[], None, false).into_edn(), edn("#{}"));
    }

    #[test]
    fn return_maps_name_the_columns() {
        let maps = |kind| ReturnMaps {
            kind,
            names: vec!["a".into(), "b".into()],
        };
        let keys = relation(2, &[1, 2], Some(maps(ReturnMapKind::Keys)), false);
        assert_eq!(keys.names(), Some(&["a".to_string(), "b".to_string()][..]));
        assert_eq!(keys.into_edn(), edn("#{{:a 1 :b 2}}"));
        let strs = relation(2, &[1, 2], Some(maps(ReturnMapKind::Strs)), true);
        assert_eq!(strs.into_edn(), edn(r#"[{"a" 1 "b" 2}]"#));
        let syms = relation(2, &[1, 2], Some(maps(ReturnMapKind::Syms)), false);
        assert_eq!(syms.into_edn(), edn("#{{a 1 b 2}}"));
    }

    #[test]
    fn every_shape_has_its_edn_form_and_length() {
        let cases = [
            (
                QueryResult::Collection {
                    values: vec![Value::Integer(1), Value::Integer(2)],
                    ordered: false,
                },
                "#{1 2}",
                2,
            ),
            (
                QueryResult::Collection {
                    values: vec![Value::Integer(2), Value::Integer(1)],
                    ordered: true,
                },
                "[2 1]",
                2,
            ),
            (QueryResult::Scalar(Some(Value::Integer(7))), "7", 1),
            (QueryResult::Scalar(None), "nil", 0),
            (QueryResult::Tuple(Some(vec![Value::Integer(7)])), "[7]", 1),
            (QueryResult::Tuple(None), "nil", 0),
        ];
        for (result, printed, len) in cases {
            assert_eq!(result.len(), len, "{printed}");
            assert_eq!(result.is_empty(), len == 0, "{printed}");
            assert_eq!(result.to_string(), printed);
            assert_eq!(result, edn(printed));
            assert_eq!(Value::from(result), edn(printed));
        }
    }

    #[test]
    fn unordered_results_are_equal_in_any_row_order() {
        let one = QueryResult::Relation(relation(1, &[1, 2], None, false));
        let other = QueryResult::Relation(relation(1, &[2, 1], None, false));
        assert_eq!(one, other);
        let ordered = QueryResult::Relation(relation(1, &[1, 2], None, true));
        let reversed = QueryResult::Relation(relation(1, &[2, 1], None, true));
        assert_ne!(ordered, reversed);
    }
}
