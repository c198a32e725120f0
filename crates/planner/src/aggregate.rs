//! Aggregates the executor computes in Rust, over the EDN values of one
//! group's distinct bindings: those SQLite lacks (median, variance, stddev,
//! distinct, the n-ary min/max, sample and rand — drawn at random, with
//! `fastrand` —), the sums and averages of big
//! integers and decimals, and any aggregate over values whose type is only
//! known per row.

use std::cmp::Ordering;

use factlite_core::number::{self, Number};
use factlite_edn::{BigDecimal, Value};
use indexmap::IndexSet;

use crate::error::{Error, Result};

/// The total order of values (`factlite_core::order`), for the
/// aggregates and orderings done in Rust, so they agree with SQLite's
/// `ORDER BY`, `min` and `max` over the planner's SQL: by class (numbers of
/// every kind together, compared by value), then within the class;
/// keywords by namespace and then name.
pub fn stored_order(a: &Value, b: &Value) -> Ordering {
    let class = |value: &Value| match value {
        Value::Nil => 0,
        Value::Boolean(_) => 1,
        Value::Integer(_) | Value::Float(_) | Value::BigInt(_) | Value::BigDec(_) => 2,
        Value::Inst(_) => 3,
        Value::String(_) => 4,
        Value::Keyword(_) => 5,
        Value::Uuid(_) => 6,
        Value::Symbol(_) => 9,
        _ => 7,
    };
    class(a).cmp(&class(b)).then_with(|| match (a, b) {
        // Exactly, by value; equal values by kind (long, double, big
        // integer, big decimal: `Value`'s order).
        (Value::BigInt(_) | Value::BigDec(_), _) | (_, Value::BigInt(_) | Value::BigDec(_)) => {
            Number::of_value(a)
                .zip(Number::of_value(b))
                .and_then(|(x, y)| number::compare(x, y))
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.cmp(b))
        }
        (Value::Integer(x), Value::Float(y)) => (*x as f64).total_cmp(y).then(Ordering::Less),
        (Value::Float(x), Value::Integer(y)) => x.total_cmp(&(*y as f64)).then(Ordering::Greater),
        _ => a.cmp(b),
    })
}

fn number(value: &Value) -> Option<f64> {
    Number::of_value(value).map(number::to_f64)
}

/// Whether a big integer or decimal is among the values, and no double
/// (whose sum stays a double, as Clojure's `+` has it).
fn is_big(values: &[Value]) -> bool {
    values
        .iter()
        .any(|v| matches!(v, Value::BigInt(_) | Value::BigDec(_)))
        && !values.iter().any(|v| matches!(v, Value::Float(_)))
}

/// The exact sum of numbers.
fn exact_sum(values: &[Value]) -> Result<BigDecimal> {
    let mut total = BigDecimal::from(0);
    for value in values {
        let exact = Number::of_value(value)
            .and_then(number::to_big_decimal)
            .ok_or_else(|| Error::Query(format!("(sum ...) needs numbers, got {value}")))?;
        total += exact;
    }
    Ok(total)
}

/// The exact sum of values among which is a big integer or decimal (and no
/// double): a big integer when every value is an integer, else a big
/// decimal.
fn big_sum(values: &[Value]) -> Result<Value> {
    let total = exact_sum(values)?;
    Ok(
        if values
            .iter()
            .all(|v| matches!(v, Value::Integer(_) | Value::BigInt(_)))
        {
            Value::BigInt(total.with_scale(0).as_bigint_and_exponent().0)
        } else {
            Value::BigDec(number::canonical(&total))
        },
    )
}

fn numbers(name: &str, values: &[Value]) -> Result<Vec<f64>> {
    values
        .iter()
        .map(|v| {
            number(v).ok_or_else(|| Error::Query(format!("({name} ...) needs numbers, got {v}")))
        })
        .collect()
}

/// The most values `(rand n ?x)` draws: each draw is a value of the
/// result, so an n without bound would be memory without bound.
const MAX_DRAWS: usize = 1_000_000;

fn count_arg(name: &str, constants: &[Value]) -> Result<usize> {
    if constants.len() > 1 {
        return Err(Error::Query(format!(
            "({name} n ?x) takes one count n before the variable, got {}",
            constants.len()
        )));
    }
    match constants.first() {
        Some(Value::Integer(n)) if *n >= 0 => Ok(*n as usize),
        other => Err(Error::Query(format!(
            "({name} n ?x) needs a non-negative integer n, got {}",
            other.map_or("nothing".to_string(), |v| v.to_string())
        ))),
    }
}

/// The exact sum and sum of squares of longs (`x` is `None` for a value
/// that is not a long); `None` when a value is not a long or the sum of
/// squares leaves `i128`.
pub fn long_moments(values: impl IntoIterator<Item = Option<i64>>) -> Option<(i128, i128)> {
    values
        .into_iter()
        .try_fold((0i128, 0i128), |(sum, squares), x| {
            let x = i128::from(x?);
            Some((sum.checked_add(x)?, squares.checked_add(x * x)?))
        })
}

/// The population variance of `count` values from their exact sum and sum
/// of squares, `(n·Σx² − (Σx)²) / n²`: computed exactly, then divided to
/// the decimal precision of `BigDecimal` and rounded to the nearest double.
/// It does not depend on the order of the values, nor on how the sums were
/// accumulated, so a view that keeps the sums as a group's state gives the
/// answer the query gives from scratch. `0.0` for no values.
pub fn variance_of_sums(count: u64, sum: &BigDecimal, squares: &BigDecimal) -> f64 {
    if count == 0 {
        return 0.0;
    }
    let n = BigDecimal::from(count);
    let numerator = &n * squares - sum * sum;
    let quotient = numerator / (&n * &n);
    number::to_f64(Number::BigDec(&quotient.normalized()))
}

/// The variance of numbers of any kind: from their exact sums, unless a
/// double is not finite (then as doubles, which give NaN or an infinity).
fn variance_of_numbers(name: &str, values: &[Value]) -> Result<f64> {
    let exact: Option<Vec<BigDecimal>> = values
        .iter()
        .map(|v| Number::of_value(v).and_then(number::to_big_decimal))
        .collect();
    let Some(exact) = exact else {
        let xs = numbers(name, values)?;
        let mean = xs.iter().sum::<f64>() / xs.len().max(1) as f64;
        return Ok(xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / xs.len().max(1) as f64);
    };
    let (mut sum, mut squares) = (BigDecimal::from(0), BigDecimal::from(0));
    for x in &exact {
        squares += x * x;
        sum += x;
    }
    Ok(variance_of_sums(exact.len() as u64, &sum, &squares))
}

/// `variance` or `stddev` (its square root) of a variance.
pub fn spread(name: &str, variance: f64) -> Value {
    Value::Float(if name == "stddev" {
        variance.sqrt()
    } else {
        variance
    })
}

/// Computes aggregate `name` over `values` (one per binding of the group);
/// `constants` are the arguments before the variable, as in `(max 3 ?x)`.
pub fn compute(name: &str, constants: &[Value], values: &[Value]) -> Result<Value> {
    let sorted = || {
        let mut sorted = values.to_vec();
        sorted.sort_by(stored_order);
        sorted
    };
    Ok(match (name, constants.is_empty()) {
        ("count", true) => Value::Integer(values.len() as i64),
        ("count-distinct", true) => {
            Value::Integer(values.iter().collect::<IndexSet<_>>().len() as i64)
        }
        ("sum", true) if is_big(values) => big_sum(values)?,
        ("sum", true) => {
            if values.iter().all(|v| matches!(v, Value::Integer(_))) {
                // Summed wide, so the answer does not depend on the order
                // of the values: only a total out of range is an error.
                let total: i128 = values
                    .iter()
                    .map(|v| match v {
                        Value::Integer(i) => i128::from(*i),
                        _ => 0,
                    })
                    .sum();
                Value::Integer(
                    i64::try_from(total)
                        .map_err(|_| Error::Query("(sum ...) overflows a 64-bit integer".into()))?,
                )
            } else {
                Value::Float(numbers(name, values)?.iter().sum())
            }
        }
        ("avg", true) if !values.is_empty() && is_big(values) => {
            // From the exact sum, so the order of the values does not
            // matter (a view's maintenance meets them in another order).
            let total = exact_sum(values)?;
            let count = BigDecimal::from(values.len() as u64);
            Value::Float(number::to_f64(Number::BigDec(&(total / count))))
        }
        ("avg", true) => {
            let xs = numbers(name, values)?;
            Value::Float(xs.iter().sum::<f64>() / xs.len().max(1) as f64)
        }
        ("min", true) => sorted().first().cloned().unwrap_or(Value::Nil),
        ("max", true) => sorted().last().cloned().unwrap_or(Value::Nil),
        ("min", false) => {
            let n = count_arg(name, constants)?;
            Value::Vector(sorted().into_iter().take(n).collect())
        }
        ("max", false) => {
            let n = count_arg(name, constants)?;
            Value::Vector(sorted().into_iter().rev().take(n).collect())
        }
        ("median", true) => {
            let sorted = sorted();
            let middle = sorted.len() / 2;
            if sorted.is_empty() {
                Value::Nil
            } else if sorted.len() % 2 == 1 {
                sorted[middle].clone()
            } else {
                match (number(&sorted[middle - 1]), number(&sorted[middle])) {
                    (Some(a), Some(b)) => Value::Float((a + b) / 2.0),
                    _ => sorted[middle - 1].clone(),
                }
            }
        }
        ("variance", true) | ("stddev", true) => {
            let variance = match long_moments(values.iter().map(|v| match v {
                Value::Integer(x) => Some(*x),
                _ => None,
            })) {
                Some((sum, squares)) => {
                    variance_of_sums(values.len() as u64, &sum.into(), &squares.into())
                }
                None => variance_of_numbers(name, values)?,
            };
            spread(name, variance)
        }
        ("distinct", true) => Value::Set(values.iter().cloned().collect()),
        // One value of the group, drawn at random (`rand-nth` of it).
        ("rand", true) if values.is_empty() => Value::Nil,
        ("rand", true) => values[fastrand::usize(..values.len())].clone(),
        // n draws, each from the whole group: a value may come back more
        // than once, as Datomic's `rand` has it.
        ("rand", false) => {
            let n = count_arg(name, constants)?;
            if n > MAX_DRAWS {
                return Err(Error::Query(format!(
                    "(rand {n} ...) draws more than {MAX_DRAWS} values"
                )));
            }
            let draws = if values.is_empty() { 0 } else { n };
            Value::Vector(
                (0..draws)
                    .map(|_| values[fastrand::usize(..values.len())].clone())
                    .collect(),
            )
        }
        // n distinct values at random (all of them, in some order, when the
        // group holds fewer).
        ("sample", false) => {
            let n = count_arg(name, constants)?;
            let mut distinct: Vec<Value> = values
                .iter()
                .collect::<IndexSet<_>>()
                .into_iter()
                .cloned()
                .collect();
            fastrand::shuffle(&mut distinct);
            distinct.truncate(n);
            Value::Vector(distinct)
        }
        ("first", true) => values.first().cloned().unwrap_or(Value::Nil),
        ("last", true) => values.last().cloned().unwrap_or(Value::Nil),
        (other, _) => {
            return Err(Error::Query(format!(
                "aggregate ({other} ...) with these arguments is not known"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(xs: &[i64]) -> Vec<Value> {
        xs.iter().map(|x| Value::Integer(*x)).collect()
    }

    /// `rand` draws with replacement, `sample` without, both at random:
    /// over many draws every value of the group comes up, in each place.
    #[test]
    fn rand_and_sample_draw_at_random() {
        let values = ints(&[1, 2, 3]);
        let mut seen_first = IndexSet::new();
        let mut repeated = false;
        for _ in 0..300 {
            let drawn = compute("rand", &[Value::Integer(5)], &values).unwrap();
            let Value::Vector(drawn) = &drawn else {
                panic!("rand n gives a vector")
            };
            assert_eq!(drawn.len(), 5, "n draws, whatever the group's size");
            assert!(drawn.iter().all(|v| values.contains(v)));
            repeated |= drawn.iter().collect::<IndexSet<_>>().len() < drawn.len();
            let sampled = compute("sample", &[Value::Integer(2)], &values).unwrap();
            let Value::Vector(sampled) = &sampled else {
                panic!("sample n gives a vector")
            };
            assert_eq!(sampled.len(), 2);
            assert_ne!(sampled[0], sampled[1], "a sample's values are distinct");
            seen_first.insert(sampled[0].clone());
        }
        assert!(repeated, "five draws from three values repeat one");
        assert_eq!(seen_first.len(), 3, "every value leads a sample at times");
        let one = compute("rand", &[], &values).unwrap();
        assert!(values.contains(&one));
        assert_eq!(compute("rand", &[], &[]).unwrap(), Value::Nil);
        assert_eq!(
            compute("sample", &[Value::Integer(9)], &ints(&[4, 4])).unwrap(),
            Value::Vector(ints(&[4])),
            "all the distinct values when the group holds fewer"
        );
        assert!(compute("rand", &[Value::Integer(1 << 40)], &values).is_err());
    }

    #[test]
    fn aggregates_follow_datomic_types() {
        let values = ints(&[50, 70, 90, 70, 100]);
        assert_eq!(compute("count", &[], &values).unwrap(), Value::Integer(5));
        assert_eq!(
            compute("count-distinct", &[], &values).unwrap(),
            Value::Integer(4)
        );
        assert_eq!(compute("sum", &[], &values).unwrap(), Value::Integer(380));
        assert_eq!(compute("avg", &[], &values).unwrap(), Value::Float(76.0));
        assert_eq!(compute("median", &[], &values).unwrap(), Value::Integer(70));
        assert_eq!(compute("min", &[], &values).unwrap(), Value::Integer(50));
        assert_eq!(
            compute("max", &[Value::Integer(2)], &values).unwrap(),
            Value::Vector(ints(&[100, 90]))
        );
        assert_eq!(
            compute("variance", &[], &ints(&[1, 3])).unwrap(),
            Value::Float(1.0)
        );
    }

    /// Values whose squares are large beside their spread: `E[x²] − E[x]²`
    /// in doubles loses every digit; the exact sums do not, and give the
    /// same double in any order.
    #[test]
    fn a_variance_is_exact_and_does_not_depend_on_the_order_of_its_values() {
        let base = 1_000_000_000_000_000;
        for order in [[1, 2, 3], [3, 1, 2], [2, 3, 1]] {
            let values = ints(&order.map(|x| base + x));
            assert_eq!(
                compute("variance", &[], &values).ok(),
                Some(Value::Float(2.0 / 3.0))
            );
            assert_eq!(
                compute("stddev", &[], &values).ok(),
                Some(Value::Float((2.0f64 / 3.0).sqrt()))
            );
        }
        // Squares past i128 are summed as decimals.
        let huge = ints(&[i64::MAX, i64::MAX - 2, i64::MAX, i64::MAX - 2]);
        assert_eq!(
            compute("variance", &[], &huge).ok(),
            Some(Value::Float(1.0))
        );
        // Doubles too are summed exactly.
        let doubles = |xs: &[f64]| -> Vec<Value> { xs.iter().map(|x| Value::Float(*x)).collect() };
        assert_eq!(
            compute("variance", &[], &doubles(&[0.1, 0.2, 0.3])).ok(),
            compute("variance", &[], &doubles(&[0.3, 0.1, 0.2])).ok()
        );
    }

    #[test]
    fn sum_overflow_is_an_error() {
        assert!(compute("sum", &[], &ints(&[i64::MAX, 1])).is_err());
    }

    #[test]
    fn a_sum_in_range_does_not_depend_on_the_order_of_its_values() {
        for order in [
            [i64::MAX, 1, i64::MIN],
            [i64::MIN, 1, i64::MAX],
            [1, i64::MAX, i64::MIN],
        ] {
            assert_eq!(
                compute("sum", &[], &ints(&order)).ok(),
                Some(Value::Integer(0))
            );
        }
    }
}
