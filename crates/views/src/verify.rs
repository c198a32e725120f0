//! The views' part of `verify`: every view's table holds exactly the rows
//! of its query run from scratch on the state beside it, and every stored
//! definition reads back. The store's own checks are in `factlite-store`'s
//! `verify`; this module reports in the same [`Problem`]s.

use std::collections::BTreeSet;

use factlite_edn::Value;
use factlite_store::{counted, Finding, Problem, ProblemKind, Store};

use crate::view::{rows_of, View};
use crate::{Result, Views};

impl Views {
    /// Checks every view against its query from scratch, reading the
    /// store's current state (the caller holds a read transaction so that
    /// the tables and the datoms are one state), and lists the views that
    /// differ or do not read back.
    pub fn verify(&mut self, store: &Store) -> Result<Vec<Problem>> {
        self.refresh(store)?;
        let mut problems = Vec::new();
        for (name, view) in &self.views {
            problems.extend(differences(store, name, view)?);
        }
        let mut unreadable = Finding::new(ProblemKind::ViewUnreadable);
        for (name, why) in &self.unreadable {
            unreadable.add(|| format!("{name:?}: {why}"));
        }
        problems.extend(unreadable.problem(|count| {
            format!(
                "{} stored but not readable (drop and materialize again)",
                counted(count, "view definition")
            )
        }));
        Ok(problems)
    }
}

/// The rows of one view's table that its query from scratch lacks, and
/// those it has that the table lacks.
fn differences(store: &Store, name: &str, view: &View) -> Result<Option<Problem>> {
    let mut finding = Finding::new(ProblemKind::ViewDiffers);
    let kept = match view.table.rows(&store.connection()) {
        Ok(rows) => rows,
        Err(error) => {
            finding.add(|| format!("its table {} cannot be read: {error}", view.table.name));
            return Ok(finding.problem(|_| format!("view {name:?} has no readable table")));
        }
    };
    let db = store.db()?;
    let definition = &view.definition;
    let plan = db.plan(&definition.materialized, &definition.inputs)?;
    let fresh: BTreeSet<Vec<Value>> = rows_of(db.run_plan(&plan, &definition.inputs)?)
        .into_iter()
        .collect();
    let kept: BTreeSet<Vec<Value>> = kept.into_iter().collect();
    let row_text = |row: &Vec<Value>| Value::Vector(row.clone()).to_string();
    let mut missing = 0;
    for row in fresh.difference(&kept) {
        missing += 1;
        finding.add(|| format!("missing {}", row_text(row)));
    }
    let mut extra = 0;
    for row in kept.difference(&fresh) {
        extra += 1;
        finding.add(|| format!("extra {}", row_text(row)));
    }
    Ok(finding.problem(|count| {
        let rows = if count == 1 {
            "1 row differs".to_string()
        } else {
            format!("{count} rows differ")
        };
        format!("view {name:?}: {rows} from its query run from scratch ({missing} missing, {extra} extra)")
    }))
}
