//! The exact state an aggregated view's group row keeps beside its values,
//! so that aggregates a sum alone cannot move move in place: `avg`,
//! `variance` and `stddev` of longs, and `median` of longs and doubles.
//!
//! Each such aggregate keeps exact integer sums over its group's values in
//! state columns of the view's table (`Table::with_state`): an average its
//! sum and the sum of its values' magnitudes (`fl_avg{k}_sum`,
//! `fl_avg{k}_magnitude`, one `i64` each), a variance or standard deviation
//! its sum and sum of squares (`fl_var{k}_sum_high`, `fl_var{k}_sum_low`,
//! `fl_var{k}_squares_high`, `fl_var{k}_squares_low`: an `i128` each, in
//! two INTEGER columns). A transaction moves the sums by the tuples that
//! entered and left the group, so its cost does not grow with the group.
//! A sum that is not known (a value that is not a long, a sum out of range)
//! is NULL, and the group is then recomputed from its tuples. A median
//! keeps the number of its group's values that are not plain numbers
//! (`fl_med{k}_others`; see [`plain_number`]): while it is 0, SQLite's order of the
//! stored values is the query's, and the median is read from the support
//! table's index of the group's values (`view::medians`). It also keeps
//! its anchor: the key of its (lower) middle value (`fl_med{k}_anchor_type`,
//! 0 for a long, 1 for a double, and `_anchor_bits`, the long or the
//! double's bits) and how many of the group's values come before that key
//! (`_anchor_below`), so that a move reads only the few values between the
//! old middle and the new one.

use factlite_edn::Value;
use factlite_planner::aggregate;

use crate::counting::{Counting, Element};

/// Below this sum of magnitudes every partial sum of longs is exact as a
/// double, so an average from the exact sum equals the one summed as
/// doubles in any order (`aggregate::compute`, and SQLite's `avg`).
const EXACT_DOUBLE_SUM: i128 = 1 << 53;

/// An aggregate whose group rows keep exact sums.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kept {
    /// `avg`.
    Average,
    /// `variance` or `stddev`.
    Spread,
    /// `median`.
    Median,
}

/// One exact sum a kept aggregate holds over its group's longs.
struct Sum {
    /// Its state column's name after the aggregate's prefix.
    name: &'static str,
    /// What one value adds to it; `None` when the sum cannot take it.
    term: fn(&Value) -> Option<i128>,
    /// Whether it is an `i128` in two columns (else an `i64` in one).
    wide: bool,
}

/// A long, as the sums of longs take it.
fn long(value: &Value) -> Option<i128> {
    match value {
        Value::Integer(x) => Some(i128::from(*x)),
        _ => None,
    }
}

const AVERAGE_SUMS: &[Sum] = &[
    Sum {
        name: "sum",
        term: long,
        wide: false,
    },
    Sum {
        name: "magnitude",
        term: |value| long(value).map(i128::abs),
        wide: false,
    },
];

/// A long's square fits an `i128` (it is at most 2^126).
const SPREAD_SUMS: &[Sum] = &[
    Sum {
        name: "sum",
        term: long,
        wide: true,
    },
    Sum {
        name: "squares",
        term: |value| long(value).map(|x| x * x),
        wide: true,
    },
];

/// A value SQLite orders as the query does, beside others of its kind: a
/// long a double holds exactly, or a double that is not zero (SQLite
/// orders -0.0 and 0.0 alike, and a long beyond 2^53 against a double
/// exactly, where the query compares it as a double).
fn plain_number(value: &Value) -> bool {
    match value {
        Value::Integer(x) => x.unsigned_abs() <= 1 << 53,
        Value::Float(x) => *x != 0.0,
        _ => false,
    }
}

const MEDIAN_SUMS: &[Sum] = &[Sum {
    name: "others",
    term: |value| Some(i128::from(!plain_number(value))),
    wide: false,
}];

/// The state columns a median keeps after its sum, its anchor.
const ANCHOR_COLUMNS: [&str; 3] = ["anchor_below", "anchor_type", "anchor_bits"];

impl Kept {
    /// The kind of a find element, and its tuple position; `None` for one
    /// that keeps no state.
    fn of(element: &Element) -> Option<(Kept, usize)> {
        match element {
            Element::Aggregate {
                name,
                constants,
                arg,
            } if constants.is_empty() => match name.as_str() {
                "avg" => Some((Kept::Average, *arg)),
                "variance" | "stddev" => Some((Kept::Spread, *arg)),
                "median" => Some((Kept::Median, *arg)),
                _ => None,
            },
            _ => None,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Kept::Average => "avg",
            Kept::Spread => "var",
            Kept::Median => "med",
        }
    }

    /// The columns it keeps after its sums.
    fn extras(self) -> &'static [&'static str] {
        match self {
            Kept::Median => &ANCHOR_COLUMNS,
            Kept::Average | Kept::Spread => &[],
        }
    }

    /// How many columns its sums take.
    fn sum_columns(self) -> usize {
        self.sums()
            .iter()
            .map(|sum| if sum.wide { 2 } else { 1 })
            .sum()
    }

    fn sums(self) -> &'static [Sum] {
        match self {
            Kept::Average => AVERAGE_SUMS,
            Kept::Spread => SPREAD_SUMS,
            Kept::Median => MEDIAN_SUMS,
        }
    }
}

/// One kept aggregate of a view.
struct Slot {
    /// Its find element's position.
    element: usize,
    /// Its variable's position in the tuple.
    arg: usize,
    kept: Kept,
    /// Its number among the view's aggregates of its kind.
    ordinal: usize,
    /// Its first state column's position.
    column: usize,
}

/// The kept aggregates of a view, in find order.
fn slots(counting: &Counting) -> Vec<Slot> {
    let mut slots: Vec<Slot> = Vec::new();
    let mut column = 0;
    for (element, find_element) in counting.elements.iter().enumerate() {
        let Some((kept, arg)) = Kept::of(find_element) else {
            continue;
        };
        let ordinal = slots.iter().filter(|slot| slot.kept == kept).count();
        slots.push(Slot {
            element,
            arg,
            kept,
            ordinal,
            column,
        });
        column += kept.sum_columns() + kept.extras().len();
    }
    slots
}

impl Slot {
    fn columns(&self) -> Vec<String> {
        let prefix = format!("fl_{}{}", self.kept.prefix(), self.ordinal);
        self.kept
            .sums()
            .iter()
            .flat_map(|sum| {
                if sum.wide {
                    vec![
                        format!("{prefix}_{}_high", sum.name),
                        format!("{prefix}_{}_low", sum.name),
                    ]
                } else {
                    vec![format!("{prefix}_{}", sum.name)]
                }
            })
            .chain(
                self.kept
                    .extras()
                    .iter()
                    .map(|extra| format!("{prefix}_{extra}")),
            )
            .collect()
    }

    /// Where the state cells after the sums are.
    fn extras_range(&self) -> std::ops::Range<usize> {
        let start = self.column + self.kept.sum_columns();
        start..start + self.kept.extras().len()
    }

    /// The state cells after the sums, as kept.
    fn extras<'s>(&self, state: &'s [Option<i64>]) -> &'s [Option<i64>] {
        state.get(self.extras_range()).unwrap_or(&[])
    }

    /// The sums as the state columns hold them; `None` when one is not
    /// known.
    fn decode(&self, state: &[Option<i64>]) -> Option<Vec<i128>> {
        let mut cells = state.get(self.column..)?.iter();
        self.kept
            .sums()
            .iter()
            .map(|sum| {
                let first = i128::from((*cells.next()?)?);
                if sum.wide {
                    let low = (*cells.next()?)?;
                    Some((first << 64) | i128::from(low as u64))
                } else {
                    Some(first)
                }
            })
            .collect()
    }

    /// The state columns of the sums (NULL when not known, or when a sum
    /// kept in one column leaves `i64`).
    fn encode(&self, sums: Option<&[i128]>) -> Vec<Option<i64>> {
        let narrow_fits = sums.is_some_and(|sums| {
            self.kept
                .sums()
                .iter()
                .zip(sums)
                .all(|(sum, value)| sum.wide || i64::try_from(*value).is_ok())
        });
        let mut cells = Vec::new();
        for (i, sum) in self.kept.sums().iter().enumerate() {
            let value = sums.filter(|_| narrow_fits).map(|sums| sums[i]);
            if sum.wide {
                cells.push(value.map(|v| (v >> 64) as i64));
                cells.push(value.map(|v| v as u64 as i64));
            } else {
                cells.push(value.and_then(|v| i64::try_from(v).ok()));
            }
        }
        cells
    }

    /// The sums moved by the tuples that entered and left; `None` when a
    /// sum cannot take a value or leaves `i128`.
    fn fold(
        &self,
        mut sums: Vec<i128>,
        entered: &[Vec<Value>],
        left: &[Vec<Value>],
    ) -> Option<Vec<i128>> {
        for (tuples, leaving) in [(entered, false), (left, true)] {
            for tuple in tuples {
                for (total, sum) in sums.iter_mut().zip(self.kept.sums()) {
                    let term = (sum.term)(&tuple[self.arg])?;
                    *total = if leaving {
                        total.checked_sub(term)?
                    } else {
                        total.checked_add(term)?
                    };
                }
            }
        }
        Some(sums)
    }

    /// The aggregate's value from its sums over a group of `tuples`
    /// values; `None` when the sums cannot give the value the query gives.
    fn value(&self, name: &str, sums: &[i128], tuples: i64) -> Option<Value> {
        match (self.kept, sums) {
            (Kept::Average, [sum, magnitude]) => (*magnitude < EXACT_DOUBLE_SUM && tuples > 0)
                .then(|| Value::Float(*sum as f64 / tuples as f64)),
            (Kept::Spread, [sum, squares]) => {
                let count = u64::try_from(tuples).ok()?;
                let variance =
                    aggregate::variance_of_sums(count, &(*sum).into(), &(*squares).into());
                Some(aggregate::spread(name, variance))
            }
            _ => None,
        }
    }
}

/// The state columns of an aggregated view's table.
pub fn columns(counting: &Counting) -> Vec<String> {
    slots(counting).iter().flat_map(Slot::columns).collect()
}

/// The state of a group made of `tuples`.
pub fn of_tuples(counting: &Counting, tuples: &[Vec<Value>]) -> Vec<Option<i64>> {
    slots(counting)
        .iter()
        .flat_map(|slot| {
            let zeros = vec![0; slot.kept.sums().len()];
            let sums = slot.fold(zeros, tuples, &[]);
            let mut cells = slot.encode(sums.as_deref());
            if slot.kept == Kept::Median {
                let values: Vec<Value> = tuples.iter().map(|t| t[slot.arg].clone()).collect();
                let anchor = (sums == Some(vec![0]))
                    .then(|| anchor_of(&values))
                    .flatten();
                cells.extend(anchor_cells(
                    anchor.as_ref().map(|(below, key)| (*below, key)),
                ));
            }
            cells
        })
        .collect()
}

/// The anchor of a median over `values` (plain numbers): the key of its
/// lower middle value, and how many values come before it in order.
fn anchor_of(values: &[Value]) -> Option<(i64, Value)> {
    let mut sorted = values.to_vec();
    sorted.sort_by(aggregate::stored_order);
    let middle = sorted.get(sorted.len().checked_sub(1)? / 2)?.clone();
    let below = sorted.iter().position(|value| *value == middle)?;
    Some((i64::try_from(below).ok()?, middle))
}

/// An anchor as its three state cells.
fn anchor_cells(anchor: Option<(i64, &Value)>) -> [Option<i64>; 3] {
    match anchor {
        Some((below, Value::Integer(x))) => [Some(below), Some(0), Some(*x)],
        Some((below, Value::Float(x))) => [Some(below), Some(1), Some(x.to_bits() as i64)],
        _ => [None, None, None],
    }
}

/// The state moved by the tuples that entered and left; `None` when it is
/// not known or a value is not a long.
pub fn moved(
    counting: &Counting,
    state: &[Option<i64>],
    entered: &[Vec<Value>],
    left: &[Vec<Value>],
) -> Option<Vec<Option<i64>>> {
    let mut moved = Vec::with_capacity(state.len());
    for slot in slots(counting) {
        let sums = slot.fold(slot.decode(state)?, entered, left)?;
        moved.extend(slot.encode(Some(&sums)));
        // A median's anchor is the old group's: `view::medians` moves it.
        moved.extend_from_slice(slot.extras(state));
    }
    Some(moved)
}

/// The value of find element `element` from the group's state, when its
/// state gives it: `Some(None)` when the state cannot give it (recompute
/// the group), `None` when the element keeps none or its state gives no
/// value (a median's).
pub fn value(
    counting: &Counting,
    element: usize,
    name: &str,
    state: Option<&[Option<i64>]>,
    tuples: i64,
) -> Option<Option<Value>> {
    let slot = slots(counting)
        .into_iter()
        .find(|slot| slot.element == element && slot.kept != Kept::Median)?;
    Some(
        state
            .and_then(|state| slot.decode(state))
            .and_then(|sums| slot.value(name, &sums, tuples)),
    )
}

fn median_slot(counting: &Counting, element: usize) -> Option<Slot> {
    slots(counting)
        .into_iter()
        .find(|slot| slot.element == element && slot.kept == Kept::Median)
}

/// The anchor of the median under find element `element`, when the state
/// says every value of its group is a plain number (SQLite orders them as
/// the query does) and holds the anchor: how many values come before the
/// key of its lower middle value, and that value.
pub fn median_anchor(
    counting: &Counting,
    element: usize,
    state: &[Option<i64>],
) -> Option<(i64, Value)> {
    let slot = median_slot(counting, element)?;
    if slot.decode(state)? != [0] {
        return None;
    }
    match *slot.extras(state) {
        [Some(below), Some(0), Some(x)] => Some((below, Value::Integer(x))),
        [Some(below), Some(1), Some(bits)] => {
            Some((below, Value::Float(f64::from_bits(bits as u64))))
        }
        _ => None,
    }
}

/// Sets the anchor of the median under find element `element` in `state`.
pub fn set_median_anchor(
    counting: &Counting,
    element: usize,
    state: &mut [Option<i64>],
    anchor: Option<(i64, &Value)>,
) {
    let Some(slot) = median_slot(counting, element) else {
        return;
    };
    if let Some(cells) = state.get_mut(slot.extras_range()) {
        cells.copy_from_slice(&anchor_cells(anchor));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread_slot() -> Slot {
        Slot {
            element: 0,
            arg: 0,
            kept: Kept::Spread,
            ordinal: 0,
            column: 0,
        }
    }

    /// An `i128` survives its two columns, negative ones included.
    #[test]
    fn wide_sums_round_trip_through_two_columns() {
        let slot = spread_slot();
        for sums in [
            [0i128, 0],
            [-1, 1],
            [
                i128::from(i64::MIN) * 3,
                i128::from(i64::MAX) * i128::from(i64::MAX),
            ],
            [i128::MIN, i128::MAX],
        ] {
            let cells = slot.encode(Some(&sums));
            assert_eq!(cells.len(), 4);
            assert_eq!(slot.decode(&cells), Some(sums.to_vec()));
        }
        assert_eq!(slot.decode(&slot.encode(None)), None);
    }

    /// Moving the sums in and out gives what the group gives from scratch.
    #[test]
    fn moved_sums_equal_the_groups_sums() {
        let slot = spread_slot();
        let tuples = |xs: &[i64]| -> Vec<Vec<Value>> {
            xs.iter().map(|x| vec![Value::Integer(*x)]).collect()
        };
        let start = slot.fold(vec![0, 0], &tuples(&[i64::MAX, 3, -7]), &[]);
        let moved = start.and_then(|sums| slot.fold(sums, &tuples(&[5]), &tuples(&[i64::MAX])));
        assert_eq!(moved, slot.fold(vec![0, 0], &tuples(&[3, -7, 5]), &[]));
        assert_eq!(moved, Some(vec![1, 83]));
    }
}
