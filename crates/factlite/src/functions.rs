//! Functions and aggregates written in Rust that queries call by name
//! ([`crate::Store::register_function`], [`crate::Store::register_aggregate`]):
//! a closure of Rust types, its arguments converted with [`FromValue`] and
//! its result with [`ToValue`], the result's value type taken from its Rust
//! type ([`ResultType`]).

use std::time::SystemTime;

use factlite_core::ValueType;
use factlite_edn::{Instant, Keyword, Uuid, Value};

use crate::convert::{Bytes, FromValue, ToValue};

/// The value type of what a registered function returns, from its Rust
/// type: every integer is a long, `f32`/`f64` a double, and so on; an
/// `Option` returns `nil` (which binds nothing) or the value.
pub trait ResultType {
    /// The value type.
    fn value_type() -> ValueType;
}

macro_rules! result_types {
    ($($t:ty => $value_type:ident),+ $(,)?) => { $(
        impl ResultType for $t {
            fn value_type() -> ValueType {
                ValueType::$value_type
            }
        }
    )+ };
}

result_types! {
    i8 => Long, i16 => Long, i32 => Long, i64 => Long, u8 => Long, u16 => Long, u32 => Long,
    f32 => Double, f64 => Double, bool => Boolean, String => String, Keyword => Keyword,
    Instant => Instant, SystemTime => Instant, Uuid => Uuid, Bytes => Bytes,
}

impl<T: ResultType> ResultType for Option<T> {
    fn value_type() -> ValueType {
        T::value_type()
    }
}

/// A closure a query can call: `Fn(A) -> R` up to `Fn(A, B, C, D) -> R`,
/// each argument a [`FromValue`] type and the result a [`ToValue`] and
/// [`ResultType`] one. `Args` is the tuple of argument types, which the
/// compiler infers.
pub trait Function<Args>: Send + Sync + 'static {
    /// How many arguments it takes.
    const ARITY: usize;
    /// The value type it returns.
    fn result_type() -> ValueType;
    /// Calls it on values, converting them; a message saying which argument
    /// did not convert, or what the result could not become.
    fn call(&self, args: &[Value]) -> Result<Value, String>;
}

/// Argument `index` of `args` as a `T`.
fn argument<T: FromValue>(args: &[Value], index: usize) -> Result<T, String> {
    static NIL: Value = Value::Nil;
    let value = args.get(index).unwrap_or(&NIL);
    T::from_value(value).map_err(|error| format!("argument {}: {error}", index + 1))
}

macro_rules! functions {
    ($($arity:literal: $($a:ident $i:tt),+;)+) => { $(
        impl<F, R, $($a),+> Function<($($a,)+)> for F
        where
            F: Fn($($a),+) -> R + Send + Sync + 'static,
            R: ToValue + ResultType,
            $($a: FromValue),+
        {
            const ARITY: usize = $arity;

            fn result_type() -> ValueType {
                R::value_type()
            }

            fn call(&self, args: &[Value]) -> Result<Value, String> {
                let result = self($(argument::<$a>(args, $i)?),+);
                result.to_value().map_err(|error| format!("the result: {error}"))
            }
        }
    )+ };
}

functions! {
    1: A 0;
    2: A 0, B 1;
    3: A 0, B 1, C 2;
    4: A 0, B 1, C 2, D 3;
}
