//! Whether an actual result equals the one a scenario expects, by the rules
//! of "Comparing results" in the conformance `FORMAT.md`:
//!
//! - sets compare as sets, vectors in order (a query with `:order-by` returns
//!   a vector, so its order counts; a tuple is a vector too);
//! - maps compare key by key, and under a map (a pulled entity) vectors
//!   compare without order, since cardinality-many values are sets;
//! - scalars compare by value within their type: a long never equals a
//!   double;
//! - an expected `#approx [value tolerance]` matches any double within
//!   `tolerance` of `value`.
//!
//! This module knows nothing of stores or scenarios; it compares values.

use std::fmt;

use factlite::Value;

/// Why two values differ: the first difference found, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// From the outside in: `[2]` for a vector index, a printed key for a
    /// map entry.
    path: Vec<String>,
    reason: String,
}

impl Difference {
    fn new(reason: String) -> Difference {
        Difference {
            path: Vec::new(),
            reason,
        }
    }

    /// The same difference, seen from one level further out.
    fn inside(mut self, step: String) -> Difference {
        self.path.insert(0, step);
        self
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "at {}: {}", self.path.join(" "), self.reason)
        }
    }
}

/// Compares `actual` with `expected`; `Ok` when they are equal by the
/// rules above.
pub fn compare(expected: &Value, actual: &Value) -> Result<(), Difference> {
    matches(expected, actual, VectorOrder::Counts)
}

/// Whether the order of a vector's elements matters where it is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VectorOrder {
    Counts,
    /// Under a map: a pulled cardinality-many value, which is a set.
    Ignored,
}

fn matches(expected: &Value, actual: &Value, order: VectorOrder) -> Result<(), Difference> {
    match (expected, actual) {
        (Value::Tagged(tag, inner), _) if tag.is("approx") => approximately(inner, actual),
        (Value::Set(expected_items), Value::Set(actual_items)) => {
            let expected_items: Vec<&Value> = expected_items.iter().collect();
            let actual_items: Vec<&Value> = actual_items.iter().collect();
            unordered(&expected_items, &actual_items, order)
        }
        (Value::Vector(expected_items), Value::Vector(actual_items))
            if order == VectorOrder::Ignored =>
        {
            let expected_items: Vec<&Value> = expected_items.iter().collect();
            let actual_items: Vec<&Value> = actual_items.iter().collect();
            unordered(&expected_items, &actual_items, order)
        }
        (Value::Vector(expected_items), Value::Vector(actual_items))
        | (Value::List(expected_items), Value::List(actual_items)) => {
            ordered(expected_items, actual_items, order)
        }
        (Value::Map(expected_map), Value::Map(actual_map)) => {
            for (key, expected_value) in expected_map {
                let Some(actual_value) = actual_map.get(key) else {
                    return Err(Difference::new(format!("missing key {key}")));
                };
                matches(expected_value, actual_value, VectorOrder::Ignored)
                    .map_err(|difference| difference.inside(key.to_string()))?;
            }
            match actual_map
                .keys()
                .find(|key| !expected_map.contains_key(*key))
            {
                Some(extra) => Err(Difference::new(format!("unexpected key {extra}"))),
                None => Ok(()),
            }
        }
        _ if expected == actual => Ok(()),
        _ => Err(Difference::new(format!(
            "expected {expected}, got {actual}"
        ))),
    }
}

/// `#approx [value tolerance]` against an actual double.
fn approximately(spec: &Value, actual: &Value) -> Result<(), Difference> {
    let parts = match spec {
        Value::Vector(items) => match items.as_slice() {
            [value, tolerance] => Some((value, tolerance)),
            _ => None,
        },
        _ => None,
    };
    let bounds = parts.and_then(|(written_value, written_tolerance)| {
        Some((
            written_value,
            written_tolerance,
            number(written_value)?,
            number(written_tolerance)?,
        ))
    });
    let Some((written_value, written_tolerance, value, tolerance)) = bounds else {
        return Err(Difference::new(format!(
            "#approx {spec} is malformed: write #approx [value tolerance] with two numbers"
        )));
    };
    match actual {
        Value::Float(number) if (number - value).abs() <= tolerance => Ok(()),
        Value::Float(_) => Err(Difference::new(format!(
            "expected {written_value} ± {written_tolerance}, got {actual}"
        ))),
        other => Err(Difference::new(format!(
            "expected a double near {written_value}, got the {} {other}",
            other.kind_name()
        ))),
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Float(number) => Some(*number),
        // Written as a long in the scenario only; a tolerance of 0 is fine.
        Value::Integer(number) => Some(*number as f64),
        _ => None,
    }
}

fn ordered(expected: &[Value], actual: &[Value], order: VectorOrder) -> Result<(), Difference> {
    if expected.len() != actual.len() {
        return Err(Difference::new(format!(
            "expected {} elements, got {}",
            expected.len(),
            actual.len()
        )));
    }
    for (index, (expected_item, actual_item)) in expected.iter().zip(actual).enumerate() {
        matches(expected_item, actual_item, order)
            .map_err(|difference| difference.inside(format!("[{index}]")))?;
    }
    Ok(())
}

/// Compares two collections as multisets: every expected element needs its
/// own matching actual element.
fn unordered(expected: &[&Value], actual: &[&Value], order: VectorOrder) -> Result<(), Difference> {
    if expected.len() != actual.len() {
        return Err(Difference::new(format!(
            "expected {} elements, got {}",
            expected.len(),
            actual.len()
        )));
    }
    if order == VectorOrder::Counts && expected.iter().all(|item| is_plain(item)) {
        // Structural equality is exact here, and hashing keeps big results fast.
        let actual_set: std::collections::HashSet<&Value> = actual.iter().copied().collect();
        return match expected.iter().find(|item| !actual_set.contains(**item)) {
            Some(missing) => Err(Difference::new(format!("missing element {missing}"))),
            None => Ok(()),
        };
    }
    let candidates: Vec<Vec<usize>> = expected
        .iter()
        .map(|expected_item| {
            (0..actual.len())
                .filter(|&index| matches(expected_item, actual[index], order).is_ok())
                .collect()
        })
        .collect();
    let mut partner_of_actual: Vec<Option<usize>> = vec![None; actual.len()];
    for (expected_index, expected_item) in expected.iter().enumerate() {
        let mut visited = vec![false; actual.len()];
        if !find_partner(
            expected_index,
            &candidates,
            &mut partner_of_actual,
            &mut visited,
        ) {
            return Err(Difference::new(format!(
                "no element matches {expected_item}"
            )));
        }
    }
    Ok(())
}

/// One augmenting-path step of bipartite matching (Kuhn's algorithm).
fn find_partner(
    expected_index: usize,
    candidates: &[Vec<usize>],
    partner_of_actual: &mut [Option<usize>],
    visited: &mut [bool],
) -> bool {
    for &actual_index in &candidates[expected_index] {
        if visited[actual_index] {
            continue;
        }
        visited[actual_index] = true;
        let free = match partner_of_actual[actual_index] {
            None => true,
            Some(other) => find_partner(other, candidates, partner_of_actual, visited),
        };
        if free {
            partner_of_actual[actual_index] = Some(expected_index);
            return true;
        }
    }
    false
}

/// No maps and no `#approx` anywhere inside: plain equality decides.
fn is_plain(value: &Value) -> bool {
    match value {
        Value::Map(_) | Value::Tagged(..) => false,
        Value::Vector(items) | Value::List(items) => items.iter().all(is_plain),
        Value::Set(items) => items.iter().all(is_plain),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expected` and `actual` are EDN texts; `verdict` is `Ok(())` or the
    /// printed difference.
    fn check(expected: &str, actual: &str, verdict: Result<(), &str>) {
        let expected_value = factlite::edn::parse(expected).expect("expected text is EDN");
        let actual_value = factlite::edn::parse(actual).expect("actual text is EDN");
        let found = compare(&expected_value, &actual_value).map_err(|d| d.to_string());
        assert_eq!(
            found,
            verdict.map_err(str::to_string),
            "expected {expected} / actual {actual}"
        );
    }

    #[test]
    fn scalars() {
        let cases: &[(&str, &str, Result<(), &str>)] = &[
            ("1", "1", Ok(())),
            ("nil", "nil", Ok(())),
            ("\"a\"", "\"a\"", Ok(())),
            (":role/admin", ":role/admin", Ok(())),
            ("1", "1.0", Err("expected 1, got 1.0")),
            ("1.0", "1", Err("expected 1.0, got 1")),
            ("nil", "0", Err("expected nil, got 0")),
            ("1.5", "1.5", Ok(())),
            ("\"1\"", "1", Err("expected \"1\", got 1")),
        ];
        for (expected, actual, verdict) in cases {
            check(expected, actual, *verdict);
        }
    }

    #[test]
    fn sets_and_vectors() {
        let cases: &[(&str, &str, Result<(), &str>)] = &[
            ("#{[1 2] [3 4]}", "#{[3 4] [1 2]}", Ok(())),
            ("#{}", "#{}", Ok(())),
            ("#{[1 2]}", "#{[2 1]}", Err("missing element [1 2]")),
            ("#{1 2}", "#{1 2 3}", Err("expected 2 elements, got 3")),
            ("#{1}", "[1]", Err("expected #{1}, got [1]")),
            ("[1 2]", "#{1 2}", Err("expected [1 2], got #{1 2}")),
            ("[[\"a\" 1] [\"b\" 2]]", "[[\"a\" 1] [\"b\" 2]]", Ok(())),
            (
                "[[\"a\" 1] [\"b\" 2]]",
                "[[\"b\" 2] [\"a\" 1]]",
                Err("at [0] [0]: expected \"a\", got \"b\""),
            ),
            ("[\"Venus\" 0]", "[\"Venus\" 0]", Ok(())),
            ("#{[1]}", "#{[1.0]}", Err("missing element [1]")),
        ];
        for (expected, actual, verdict) in cases {
            check(expected, actual, *verdict);
        }
    }

    #[test]
    fn pulled_maps_compare_many_values_as_sets() {
        let cases: &[(&str, &str, Result<(), &str>)] = &[
            ("{:a 1 :b [1 2]}", "{:b [2 1] :a 1}", Ok(())),
            ("{:a 1}", "{:a 1 :b 2}", Err("unexpected key :b")),
            ("{:a 1 :b 2}", "{:a 1}", Err("missing key :b")),
            (
                "{:f [{:n \"Al\" :p {:n \"Fido\"}} {:n \"Bea\"}]}",
                "{:f [{:n \"Bea\"} {:p {:n \"Fido\"} :n \"Al\"}]}",
                Ok(()),
            ),
            (
                "{:f [{:n \"Al\"} {:n \"Bea\"}]}",
                "{:f [{:n \"Al\"} {:n \"Cem\"}]}",
                Err("at :f: no element matches {:n \"Bea\"}"),
            ),
            (
                "{:t [1 1 2]}",
                "{:t [1 2 2]}",
                Err("at :t: no element matches 1"),
            ),
            (
                "#{[{:city/name \"Graz\"}] [{:city/name \"Linz\"}]}",
                "#{[{:city/name \"Linz\"}] [{:city/name \"Graz\"}]}",
                Ok(()),
            ),
            ("{:a 1}", "{:a 1.0}", Err("at :a: expected 1, got 1.0")),
        ];
        for (expected, actual, verdict) in cases {
            check(expected, actual, *verdict);
        }
    }

    #[test]
    fn approximate_doubles() {
        let cases: &[(&str, &str, Result<(), &str>)] = &[
            ("#approx [1.5 0.001]", "1.5004", Ok(())),
            (
                "#approx [1.5 0.001]",
                "1.6",
                Err("expected 1.5 ± 0.001, got 1.6"),
            ),
            (
                "#approx [2 0]",
                "2",
                Err("expected a double near 2, got the integer 2"),
            ),
            ("#approx [2 0]", "2.0", Ok(())),
            (
                "#{[\"a\" #approx [0.33 0.01]]}",
                "#{[\"a\" 0.333333]}",
                Ok(()),
            ),
            (
                "[#approx [1.0 0.1] #approx [2.0 0.1]]",
                "[1.05 2.5]",
                Err("at [1]: expected 2.0 ± 0.1, got 2.5"),
            ),
            (
                "#approx 1.5",
                "1.5",
                Err("#approx 1.5 is malformed: write #approx [value tolerance] with two numbers"),
            ),
        ];
        for (expected, actual, verdict) in cases {
            check(expected, actual, *verdict);
        }
    }
}
