//! Query inputs from Rust values: [`Inputs`], implemented for tuples of
//! [`ToInput`] types (every [`ToValue`], and a [`Db`] for a data source of
//! `:in`), `()`, slices, arrays and vectors of [`Value`]s or
//! [`QueryInput`]s, and the [`params!`](crate::params) macro for a list of
//! values of mixed types.

use factlite_edn::Value;

use crate::convert::{ConversionError, ToValue};
use crate::error::{Error, Result};
use crate::store::Db;

/// One input of a query: a value, or a database for a data source of its
/// `:in` (`$h` of `:in $ $h`; Datomic's `(d/q query db (d/as-of db t))`).
#[derive(Clone)]
pub enum QueryInput {
    /// A value (a scalar, tuple, collection, relation, rule set, pull
    /// pattern, or a collection of tuples given as a data source).
    Value(Value),
    /// A snapshot of the same store as the query's `$` (another view of
    /// time of it: [`Db::as_of`], [`Db::since`], [`Db::history`], or
    /// another basis), read in the same statement.
    Database(Db),
}

/// A query's inputs: their values, and the databases among them by
/// position (their values are `nil`).
pub struct QueryInputs {
    pub(crate) values: Vec<Value>,
    pub(crate) databases: Vec<(usize, Db)>,
}

impl QueryInputs {
    fn from_inputs(inputs: impl IntoIterator<Item = QueryInput>) -> QueryInputs {
        let mut values = Vec::new();
        let mut databases = Vec::new();
        for (index, input) in inputs.into_iter().enumerate() {
            match input {
                QueryInput::Value(value) => values.push(value),
                QueryInput::Database(db) => {
                    databases.push((index, db));
                    values.push(Value::Nil);
                }
            }
        }
        QueryInputs { values, databases }
    }

    /// The values alone; an error when a database is among them (where
    /// only values are taken, as by [`Db::explain`]).
    fn into_values(self) -> Result<Vec<Value>> {
        match self.databases.first() {
            Some((index, _)) => Err(Error::Query {
                message: format!(
                    "input {index} is a database, which only a query run with Db::q, \
                     Db::q_rows or PreparedQuery takes"
                ),
            }),
            None => Ok(self.values),
        }
    }
}

/// The snapshot a query runs on with these inputs, and their values
/// (checked against [`crate::edn::MAX_DEPTH`]): `db` itself, or, when
/// databases are among the inputs, `db` reading them as its data sources
/// (never answered from a view).
pub(crate) fn query_snapshot(
    db: &Db,
    inputs: impl Inputs,
) -> Result<(std::borrow::Cow<'_, Db>, Vec<Value>)> {
    let QueryInputs { values, databases } = inputs.into_query_inputs()?;
    let values = crate::depth::checked_inputs(values)?;
    if databases.is_empty() {
        return Ok((std::borrow::Cow::Borrowed(db), values));
    }
    let given: Vec<(usize, &factlite_store::Db)> = databases
        .iter()
        .map(|(index, database)| (*index, database.inner()))
        .collect();
    Ok((
        std::borrow::Cow::Owned(db.with_database_inputs(&given)?),
        values,
    ))
}

/// What can be one element of a tuple of inputs: any [`ToValue`], and a
/// [`Db`] (or `&Db`) for a data source of the query's `:in`.
pub trait ToInput {
    /// The input.
    fn to_input(&self) -> std::result::Result<QueryInput, ConversionError>;
}

impl<T: ToValue + ?Sized> ToInput for T {
    fn to_input(&self) -> std::result::Result<QueryInput, ConversionError> {
        self.to_value().map(QueryInput::Value)
    }
}

impl ToInput for Db {
    fn to_input(&self) -> std::result::Result<QueryInput, ConversionError> {
        Ok(QueryInput::Database(self.clone()))
    }
}

impl ToInput for &Db {
    fn to_input(&self) -> std::result::Result<QueryInput, ConversionError> {
        Ok(QueryInput::Database((*self).clone()))
    }
}

/// What a query's `:in` (after `$`) receives: one value per input, in
/// order. A collection input (`[?x ...]`) or a relation input
/// (`[[?a ?b]]`) is one value too: a `Vec` (or slice) of values, or of
/// tuples.
///
/// ```
/// use factlite::{Inputs, Store, Value};
///
/// let store = Store::open_in_memory()?;
/// let db = store.db()?;
/// let inputs = ("Ann", 30u8, vec![1i64, 2]).into_inputs()?;
/// let query = "[:find ?n ?a ?x :in $ ?n ?a [?x ...]]";
/// assert_eq!(db.q_str(query, &inputs)?.len(), 2);
/// assert_eq!(().into_inputs()?, Vec::<Value>::new());
/// # Ok::<(), factlite::Error>(())
/// ```
pub trait Inputs: Sized {
    /// The input values; an error when a database is among them.
    fn into_inputs(self) -> Result<Vec<Value>>;

    /// The inputs, databases included (what [`Db::q`] runs with).
    fn into_query_inputs(self) -> Result<QueryInputs> {
        Ok(QueryInputs {
            values: self.into_inputs()?,
            databases: Vec::new(),
        })
    }
}

impl Inputs for Vec<QueryInput> {
    fn into_inputs(self) -> Result<Vec<Value>> {
        self.into_query_inputs()?.into_values()
    }

    fn into_query_inputs(self) -> Result<QueryInputs> {
        Ok(QueryInputs::from_inputs(self))
    }
}

impl Inputs for &[QueryInput] {
    fn into_inputs(self) -> Result<Vec<Value>> {
        self.into_query_inputs()?.into_values()
    }

    fn into_query_inputs(self) -> Result<QueryInputs> {
        for input in self {
            if let QueryInput::Value(value) = input {
                crate::depth::check(value, "an input")?;
            }
        }
        Ok(QueryInputs::from_inputs(self.iter().cloned()))
    }
}

impl Inputs for () {
    fn into_inputs(self) -> Result<Vec<Value>> {
        Ok(Vec::new())
    }
}

impl Inputs for Vec<Value> {
    fn into_inputs(self) -> Result<Vec<Value>> {
        Ok(self)
    }
}

impl Inputs for &Vec<Value> {
    fn into_inputs(self) -> Result<Vec<Value>> {
        self.as_slice().into_inputs()
    }
}

/// Borrowed values are checked ([`crate::edn::MAX_DEPTH`]) before they are
/// copied, as copying recurses (the query checks every input again, owned
/// ones included).
impl Inputs for &[Value] {
    fn into_inputs(self) -> Result<Vec<Value>> {
        crate::depth::check_inputs(self)?;
        Ok(self.to_vec())
    }
}

impl<const N: usize> Inputs for &[Value; N] {
    fn into_inputs(self) -> Result<Vec<Value>> {
        self.as_slice().into_inputs()
    }
}

impl<const N: usize> Inputs for [Value; N] {
    fn into_inputs(self) -> Result<Vec<Value>> {
        Ok(self.into())
    }
}

/// What [`params!`](crate::params) builds: values of mixed types.
impl Inputs for &[&dyn ToValue] {
    fn into_inputs(self) -> Result<Vec<Value>> {
        self.iter()
            .enumerate()
            .map(|(index, value)| input(index, *value))
            .collect()
    }
}

/// Input `index`, converted; an error names the input.
fn input(index: usize, value: &dyn ToValue) -> Result<Value> {
    value
        .to_value()
        .map_err(|error| Error::from(error.in_field(format!("input {index}"))))
}

/// Input `index` of a tuple, converted; an error names the input.
fn tuple_input<T: ToInput>(index: usize, value: &T) -> Result<QueryInput> {
    value
        .to_input()
        .map_err(|error| Error::from(error.in_field(format!("input {index}"))))
}

macro_rules! tuples {
    ($(($($t:ident $index:tt),+);)+) => { $(
        impl<$($t: ToInput),+> Inputs for ($($t,)+) {
            fn into_inputs(self) -> Result<Vec<Value>> {
                self.into_query_inputs()?.into_values()
            }

            fn into_query_inputs(self) -> Result<QueryInputs> {
                Ok(QueryInputs::from_inputs([$(tuple_input($index, &self.$index)?),+]))
            }
        }
    )+ };
}

tuples! {
    (A 0);
    (A 0, B 1);
    (A 0, B 1, C 2);
    (A 0, B 1, C 2, D 3);
    (A 0, B 1, C 2, D 3, E 4);
    (A 0, B 1, C 2, D 3, E 4, F 5);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
}

/// Query inputs of mixed types, any number of them: a slice of
/// [`ToValue`] trait objects, which implements [`Inputs`] (rusqlite's
/// `params!`).
///
/// ```
/// use factlite::{params, Inputs, Keyword, Value};
///
/// let inputs = params!["Ann", 31, Keyword::from_str_lossy(":status/active"), None::<i64>];
/// assert_eq!(
///     inputs.into_inputs()?,
///     [Value::from("Ann"), Value::Integer(31), Value::keyword(":status/active"), Value::Nil]
/// );
/// assert!(params![].into_inputs()?.is_empty());
/// # Ok::<(), factlite::Error>(())
/// ```
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::ToValue]
    };
    ($($value:expr),+ $(,)?) => {
        &[$(&$value as &dyn $crate::ToValue),+] as &[&dyn $crate::ToValue]
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_inputs_gives_its_values() {
        let values = vec![Value::Integer(1), Value::from("a")];
        assert_eq!(values.clone().into_inputs().expect("vec"), values);
        assert_eq!((&values).into_inputs().expect("&vec"), values);
        assert_eq!(values.as_slice().into_inputs().expect("slice"), values);
        let array = [Value::Integer(1), Value::from("a")];
        assert_eq!((&array).into_inputs().expect("&array"), values);
        assert_eq!(array.into_inputs().expect("array"), values);
        assert_eq!((1u8, "a").into_inputs().expect("tuple"), values);
        assert_eq!(
            crate::params![1u8, "a"].into_inputs().expect("params"),
            values
        );
        let wide = (0, 1, 2, 3, 4, 5, 6, 7).into_inputs().expect("eight");
        assert_eq!(wide, (0..8).map(Value::Integer).collect::<Vec<_>>());
        assert_eq!(().into_inputs().expect("none"), Vec::<Value>::new());
    }

    #[test]
    fn an_input_that_does_not_convert_is_named() {
        let error = ("a", u64::MAX).into_inputs().expect_err("too big");
        assert_eq!(
            error.to_string(),
            "input 1: expected an integer in i64's range, found u64 18446744073709551615"
        );
        assert_eq!(error.category(), factlite_core::ErrorCategory::TypeMismatch);
        let error = crate::params![1, u128::MAX]
            .into_inputs()
            .expect_err("too big");
        assert!(error.to_string().starts_with("input 1: "), "{error}");
    }
}
