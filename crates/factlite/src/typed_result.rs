//! Typed values out of a [`QueryResult`]: [`QueryResultExt`] reads a
//! scalar, a collection, a tuple or a relation's rows as Rust types, and
//! [`Row`] reads one row's columns (`row.get::<T>(i)`).

use factlite_edn::Value;
use factlite_store::QueryResult;

use crate::convert::{row_of, ConversionError, FromRow, FromValue};
use crate::error::Result;

/// One row of a relation, read column by column.
///
/// ```
/// use factlite::{Row, Value};
/// let values = [Value::from("Ann"), Value::Integer(31)];
/// let row = Row::new(&values);
/// assert_eq!(row.get::<String>(0)?, "Ann");
/// assert_eq!(row.get::<u8>(1)?, 31);
/// assert_eq!(row.get::<i64>(2).unwrap_err().to_string(), "column 2: expected a row of at least 3 values, found a row of 2 values");
/// assert_eq!(row.to::<(String, i64)>()?, ("Ann".to_string(), 31));
/// # Ok::<(), factlite::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row<'r>(&'r [Value]);

impl<'r> Row<'r> {
    /// The row of these values (such as one of [`crate::Relation::rows`]).
    pub fn new(values: &'r [Value]) -> Row<'r> {
        Row(values)
    }

    /// Column `index` as a `T`; an error names the column, the type asked
    /// for and the value's kind.
    pub fn get<T: FromValue>(&self, index: usize) -> Result<T> {
        let value = self.0.get(index).ok_or_else(|| {
            ConversionError::mismatch(
                format!("a row of at least {} values", index + 1),
                row_of(self.0.len()),
            )
            .at_column(index)
        })?;
        Ok(T::from_value(value).map_err(|error| error.at_column(index))?)
    }

    /// The whole row as a `T`, such as a tuple of as many types as columns.
    pub fn to<T: FromRow>(&self) -> Result<T> {
        Ok(T::from_row(self.0)?)
    }

    /// The row's values.
    pub fn values(&self) -> &'r [Value] {
        self.0
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` for a row of no columns (a relation's rows have at least one).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'r> From<&'r [Value]> for Row<'r> {
    fn from(values: &'r [Value]) -> Row<'r> {
        Row(values)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for factlite_store::QueryResult {}
}

/// Typed accessors on a [`QueryResult`], one per find spec's shape. Asking
/// for another shape than the query's is a [`ConversionError`] naming
/// both.
///
/// ```
/// use factlite::{QueryResultExt, Store};
///
/// let store = Store::open_in_memory()?;
/// let db = store.db()?;
/// let one = db.q_str("[:find ?x . :in $ ?x]", &[factlite::Value::Integer(1)])?;
/// assert_eq!(one.scalar::<u32>()?, Some(1));
/// let pairs = db.q_str("[:find ?a ?b :in $ [[?a ?b]]]", &[factlite::edn::parse(r#"[[1 "x"]]"#)?])?;
/// assert_eq!(pairs.rows_as::<(i64, String)>()?, [(1, "x".to_string())]);
/// for row in pairs.rows()? {
///     assert_eq!(row.get::<String>(1)?, "x");
/// }
/// assert_eq!(
///     one.values::<i64>().unwrap_err().to_string(),
///     "expected a collection result ([:find [?x ...]]), found a scalar result"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait QueryResultExt: sealed::Sealed {
    /// A scalar result (`:find ?x .`): `None` when nothing was found.
    fn scalar<T: FromValue>(&self) -> Result<Option<T>>;

    /// A collection result's values (`:find [?x ...]`).
    fn values<T: FromValue>(&self) -> Result<Vec<T>>;

    /// A tuple result (`:find [?a ?b]`) as a tuple type: `None` when
    /// nothing was found.
    fn tuple<T: FromRow>(&self) -> Result<Option<T>>;

    /// A relation's rows (`:find ?a ?b`), each as a tuple type; an error
    /// names the row's column.
    fn rows_as<T: FromRow>(&self) -> Result<Vec<T>>;

    /// A relation's rows, to read column by column.
    fn rows(&self) -> Result<impl Iterator<Item = Row<'_>>>;

    /// The result's items as `T`s through serde: a relation's rows (a
    /// struct per row under `:keys`, `:strs` or `:syms`, matched by column
    /// name; else a tuple or tuple struct per row), a collection's values,
    /// the scalar or the tuple (none or one item). See [`crate::serde`]
    /// for how values map to Rust types.
    #[cfg(feature = "serde")]
    fn deserialize<T: ::serde::de::DeserializeOwned>(&self) -> Result<Vec<T>>;
}

/// The name of a result's shape, for errors.
fn shape(result: &QueryResult) -> &'static str {
    match result {
        QueryResult::Relation(_) => "a relation result",
        QueryResult::Collection { .. } => "a collection result",
        QueryResult::Scalar(_) => "a scalar result",
        QueryResult::Tuple(_) => "a tuple result",
    }
}

fn wrong_shape(expected: &'static str, result: &QueryResult) -> crate::Error {
    ConversionError::mismatch(expected, shape(result)).into()
}

impl QueryResultExt for QueryResult {
    fn scalar<T: FromValue>(&self) -> Result<Option<T>> {
        match self {
            QueryResult::Scalar(Some(value)) => Ok(Some(T::from_value(value)?)),
            QueryResult::Scalar(None) => Ok(None),
            other => Err(wrong_shape("a scalar result (:find ?x .)", other)),
        }
    }

    fn values<T: FromValue>(&self) -> Result<Vec<T>> {
        match self {
            QueryResult::Collection { values, .. } => {
                Ok(values.iter().map(T::from_value).collect::<Result<_, _>>()?)
            }
            other => Err(wrong_shape("a collection result ([:find [?x ...]])", other)),
        }
    }

    fn tuple<T: FromRow>(&self) -> Result<Option<T>> {
        match self {
            QueryResult::Tuple(Some(values)) => Ok(Some(T::from_row(values)?)),
            QueryResult::Tuple(None) => Ok(None),
            other => Err(wrong_shape("a tuple result ([:find ?a ?b])", other)),
        }
    }

    fn rows_as<T: FromRow>(&self) -> Result<Vec<T>> {
        self.rows()?.map(|row| row.to()).collect()
    }

    fn rows(&self) -> Result<impl Iterator<Item = Row<'_>>> {
        match self {
            QueryResult::Relation(relation) => Ok(relation.rows().map(Row::new)),
            other => Err(wrong_shape("a relation result (:find ?a ?b)", other)),
        }
    }

    #[cfg(feature = "serde")]
    fn deserialize<T: ::serde::de::DeserializeOwned>(&self) -> Result<Vec<T>> {
        crate::serde::result_items(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(values: Vec<Value>) -> QueryResult {
        QueryResult::Collection {
            values,
            ordered: true,
        }
    }

    #[test]
    fn each_shape_reads_as_its_types() {
        assert_eq!(
            QueryResult::Scalar(Some(Value::from("a")))
                .scalar::<String>()
                .expect("scalar"),
            Some("a".to_string())
        );
        assert_eq!(
            QueryResult::Scalar(None).scalar::<String>().expect("none"),
            None
        );
        let values = collection(vec![Value::Integer(2), Value::Integer(1)]);
        assert_eq!(values.values::<u16>().expect("values"), [2, 1]);
        let tuple = QueryResult::Tuple(Some(vec![Value::Integer(1), Value::Boolean(true)]));
        assert_eq!(
            tuple.tuple::<(i64, bool)>().expect("tuple"),
            Some((1, true))
        );
        assert_eq!(
            QueryResult::Tuple(None).tuple::<(i64,)>().expect("none"),
            None
        );
    }

    #[test]
    fn the_wrong_shape_or_type_names_both() {
        let check = |result: Result<()>, message: &str| {
            let error = result.expect_err(message);
            assert_eq!(error.to_string(), message);
            assert_eq!(error.category(), factlite_core::ErrorCategory::TypeMismatch);
        };
        let scalar = QueryResult::Scalar(Some(Value::Integer(1)));
        check(
            scalar.rows_as::<(i64,)>().map(drop),
            "expected a relation result (:find ?a ?b), found a scalar result",
        );
        check(
            scalar.tuple::<(i64,)>().map(drop),
            "expected a tuple result ([:find ?a ?b]), found a scalar result",
        );
        check(
            collection(vec![]).scalar::<i64>().map(drop),
            "expected a scalar result (:find ?x .), found a collection result",
        );
        check(
            scalar.scalar::<bool>().map(drop),
            "expected bool, found integer",
        );
        check(
            collection(vec![Value::Nil]).values::<bool>().map(drop),
            "expected bool, found nil",
        );
        check(
            QueryResult::Tuple(Some(vec![Value::Integer(1)]))
                .tuple::<(i64, i64)>()
                .map(drop),
            "expected a row of 2 values, found a row of 1 value",
        );
    }
}
