//! [`ConversionError`]: a value that does not convert to or from the Rust
//! type asked for, naming both and where the value sat.

use std::borrow::Cow;
use std::fmt;

use crate::Value;

/// A value that does not convert: the Rust or value type expected, what was
/// found instead, and where (a column of a row, a field or attribute of a
/// map).
///
/// ```
/// use factlite_edn::Value;
///
/// let error = u8::try_from(&Value::Integer(300)).unwrap_err();
/// assert_eq!(error.to_string(), "expected u8, found integer 300 (out of range)");
/// let error = i64::try_from(&Value::from("7")).unwrap_err().at_column(2);
/// assert_eq!(error.to_string(), "column 2: expected i64, found string");
/// assert_eq!((error.expected(), error.found(), error.column()), (Some("i64"), Some("string"), Some(2)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversionError {
    problem: Problem,
    column: Option<usize>,
    path: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Problem {
    Mismatch {
        expected: Cow<'static, str>,
        found: String,
    },
    Message(String),
}

impl ConversionError {
    /// `found` where `expected` was wanted: `expected` names a Rust or value
    /// type (`"i32"`, `"a tuple of 2 values"`), `found` what was there
    /// (`"string"`, `"integer 300 (out of range)"`).
    pub fn mismatch(expected: impl Into<Cow<'static, str>>, found: impl Into<String>) -> Self {
        ConversionError {
            problem: Problem::Mismatch {
                expected: expected.into(),
                found: found.into(),
            },
            column: None,
            path: Vec::new(),
        }
    }

    /// A value of the wrong kind: names the expected type and the value's
    /// kind.
    pub fn wrong_type(expected: impl Into<Cow<'static, str>>, found: &Value) -> Self {
        ConversionError::mismatch(expected, found.kind_name())
    }

    /// An error that is no mismatch of two types, such as a struct's
    /// missing field.
    pub fn message(message: impl Into<String>) -> Self {
        ConversionError {
            problem: Problem::Message(message.into()),
            column: None,
            path: Vec::new(),
        }
    }

    /// The same error, at column `column` of a row.
    pub fn at_column(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }

    /// The same error, inside the field or attribute `field` (the
    /// outermost field is the last one added). The message shows the path
    /// outermost first: `:film/director > :person/name: expected …`.
    pub fn in_field(mut self, field: impl Into<String>) -> Self {
        self.path.insert(0, field.into());
        self
    }

    /// The Rust or value type expected, when the error is a mismatch.
    pub fn expected(&self) -> Option<&str> {
        match &self.problem {
            Problem::Mismatch { expected, .. } => Some(expected),
            Problem::Message(_) => None,
        }
    }

    /// What was found instead, when the error is a mismatch.
    pub fn found(&self) -> Option<&str> {
        match &self.problem {
            Problem::Mismatch { found, .. } => Some(found),
            Problem::Message(_) => None,
        }
    }

    /// The column of the row the value sat in, if it came from a row.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The fields (or attributes) leading to the value, outermost first.
    pub fn path(&self) -> &[String] {
        &self.path
    }
}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(column) = self.column {
            write!(f, "column {column}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path.join(" > "))?;
        }
        match &self.problem {
            Problem::Mismatch { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            Problem::Message(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ConversionError {}

/// serde's errors, for the serializer and deserializer over values.
#[cfg(feature = "serde")]
impl serde::ser::Error for ConversionError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        ConversionError::message(message.to_string())
    }
}

#[cfg(feature = "serde")]
impl serde::de::Error for ConversionError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        ConversionError::message(message.to_string())
    }

    fn invalid_type(found: serde::de::Unexpected<'_>, expected: &dyn serde::de::Expected) -> Self {
        ConversionError::mismatch(expected.to_string(), found.to_string())
    }

    fn invalid_value(found: serde::de::Unexpected<'_>, expected: &dyn serde::de::Expected) -> Self {
        ConversionError::mismatch(expected.to_string(), format!("{found} (out of range)"))
    }

    fn invalid_length(len: usize, expected: &dyn serde::de::Expected) -> Self {
        ConversionError::mismatch(expected.to_string(), format!("{len} values"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_column_path_and_both_types() {
        let error = ConversionError::wrong_type("bool", &Value::Nil)
            .in_field("name")
            .in_field(":film/director")
            .at_column(1);
        assert_eq!(
            error.to_string(),
            "column 1: :film/director > name: expected bool, found nil"
        );
        assert_eq!(error.path(), [":film/director", "name"]);
        let message = ConversionError::message("missing field `x`");
        assert_eq!(message.to_string(), "missing field `x`");
        assert_eq!((message.expected(), message.found()), (None, None));
    }
}
