//! Subscriptions to commits another process makes on the same file. Such a
//! commit is seen only as a new state of the file (SQLite's
//! `data_version`, read as the store's newest transaction), so each view
//! a subscriber watches keeps the rows last delivered: a new state is read
//! from the view's table and compared with them, and the difference is
//! delivered as one change, labelled with the newest transaction. Commits
//! of this process move the kept rows by their own changes. Several
//! commits of the other process between two looks arrive as their net
//! change.

use std::collections::HashSet;

use factlite_core::Entid;
use factlite_edn::Value;
use indexmap::IndexMap;

use crate::ViewChange;

/// The rows last delivered of each watched view.
#[derive(Default)]
pub struct Watched {
    rows: IndexMap<String, HashSet<Vec<Value>>>,
}

impl Watched {
    /// Whether `view` is watched.
    pub fn contains(&self, view: &str) -> bool {
        self.rows.contains_key(view)
    }

    /// Starts watching `view`, whose table holds `rows` now.
    pub fn watch(&mut self, view: &str, rows: Vec<Vec<Value>>) {
        self.rows
            .insert(view.to_string(), rows.into_iter().collect());
    }

    /// Stops watching `view`.
    pub fn forget(&mut self, view: &str) {
        self.rows.shift_remove(view);
    }

    /// The watched views, in the order they were first watched.
    pub fn views(&self) -> Vec<String> {
        self.rows.keys().cloned().collect()
    }

    /// Moves a watched view's rows by a change this process made.
    pub fn apply(&mut self, change: &ViewChange) {
        if let Some(rows) = self.rows.get_mut(&change.view) {
            for row in &change.removed {
                rows.remove(row);
            }
            rows.extend(change.added.iter().cloned());
        }
    }

    /// The change from the rows last delivered of `view` to `now`, as of
    /// transaction `tx` (none when they are the same); `now` is kept.
    pub fn change_to(&mut self, view: &str, now: Vec<Vec<Value>>, tx: Entid) -> Option<ViewChange> {
        let kept = self.rows.get_mut(view)?;
        let now: HashSet<Vec<Value>> = now.into_iter().collect();
        let mut added: Vec<Vec<Value>> = now.difference(kept).cloned().collect();
        let mut removed: Vec<Vec<Value>> = kept.difference(&now).cloned().collect();
        *kept = now;
        if added.is_empty() && removed.is_empty() {
            return None;
        }
        // Sets iterate in no fixed order: deliver rows in the total order.
        let order = |a: &Vec<Value>, b: &Vec<Value>| {
            a.iter()
                .zip(b)
                .map(|(x, y)| factlite_planner::aggregate::stored_order(x, y))
                .find(|ordering| ordering.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        };
        added.sort_by(order);
        removed.sort_by(order);
        Some(ViewChange {
            view: view.to_string(),
            tx,
            added,
            removed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(values: &[i64]) -> Vec<Vec<Value>> {
        values.iter().map(|&n| vec![Value::Integer(n)]).collect()
    }

    #[test]
    fn a_new_state_is_delivered_as_its_difference_from_the_rows_last_delivered() {
        let mut watched = Watched::default();
        watched.watch("v", rows(&[1, 2]));
        assert_eq!(watched.change_to("v", rows(&[2, 1]), 7), None);
        let change = watched
            .change_to("v", rows(&[3, 2, 4]), 8)
            .expect("a change");
        assert_eq!(
            (change.tx, change.added, change.removed),
            (8, rows(&[3, 4]), rows(&[1]))
        );
        watched.apply(&ViewChange {
            view: "v".to_string(),
            tx: 9,
            added: rows(&[5]),
            removed: rows(&[2]),
        });
        let change = watched.change_to("v", rows(&[3, 4, 5]), 10);
        assert_eq!(change, None, "this process's own change moved the rows");
        assert_eq!(watched.change_to("other", rows(&[1]), 10), None);
    }
}
