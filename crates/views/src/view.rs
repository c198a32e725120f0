//! One view's maintenance, in the two steps of a transaction: before the
//! datoms are written (`prepare`, against the old state) and after
//! (`maintain`, against the new state).
//!
//! A view is kept in one of two ways, chosen from its query:
//! - by counting (`counting`), when its body is a union of conjunctions:
//!   the derivations a transaction creates and destroys move per-tuple
//!   counts, and only tuples whose count leaves or reaches zero change the
//!   view;
//! - by rechecking, otherwise (negation, `get-else`, `missing?`,
//!   `fulltext`, recursion): the delta queries of `rewrite` find the keys
//!   whose rows the transaction can have changed, and the recheck query
//!   derives those rows again from the indexes.

use std::collections::{HashMap, HashSet};

use factlite_core::Entid;
use factlite_edn::{Keyword, Value};
use factlite_planner::{NamedSource, Plan};
use factlite_store::{Db, QueryResult};
use rusqlite::Connection;

use crate::counting::{Counting, Element};
use crate::definition::Definition;
use crate::error::{Error, Result};
use crate::rewrite::DELTA_SOURCE;
use crate::state;
use crate::table::{Side, Table};
use crate::ViewChange;

/// The SQL table through which delta queries read a transaction's datoms.
pub const DELTA_TABLE: &str = "temp.fl_delta";

/// Per-connection counters of one view.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub hits: u64,
    pub maintained: u64,
    pub rebuilds: u64,
    pub maintenance: std::time::Duration,
    pub last_used: u64,
}

/// What the first step of a transaction left for the second.
enum Pending {
    /// Recheck: the keys found against the old state.
    Keys(HashSet<Vec<Value>>),
    /// Counting: the derivations destroyed, per tuple.
    Lost(HashMap<Vec<Value>, i64>),
}

/// Compiled delta queries, planned on first need after a schema change.
enum DeltaPlans {
    Recheck(Vec<(Option<Keyword>, Plan)>),
    /// Per conjunction, per pattern: attribute, through a retracted datom,
    /// through an asserted one.
    Counting(Vec<Vec<(Option<Keyword>, Plan, Plan)>>),
}

/// One view as the registry keeps it.
pub struct View {
    pub query_text: String,
    /// The query's normalized text and the inputs' text: what a query
    /// call must match to be answered from this view.
    pub normalized: String,
    pub args: String,
    /// Every keyword the query and its inputs name: a view must be planned
    /// again when one of them becomes or stops being an ident.
    pub mentioned: HashSet<Keyword>,
    pub definition: Definition,
    pub table: Table,
    /// The tuples and their derivation counts, for a counted view.
    support: Option<Table>,
    pub automatic: bool,
    /// The view's query planned, for the shape of its result.
    pub read_plan: Option<Plan>,
    delta_plans: Option<DeltaPlans>,
    pending: Option<Pending>,
    /// This transaction: recompute the whole view.
    pub rebuild: bool,
    /// This transaction: the tables are to be created and filled.
    pub installing: bool,
    /// Whether the table on file has been seen to have the columns this
    /// build keeps (a table made by an older build is made again).
    table_checked: bool,
    pub stats: Stats,
}

impl View {
    /// A view of `query_text` (EDN) with inputs `args` (an EDN vector).
    pub fn new(name: &str, query_text: &str, args: &str, automatic: bool) -> Result<View> {
        let query_value = parse_edn(query_text)?;
        let args_value = parse_edn(args)?;
        let mut mentioned = HashSet::new();
        keywords(&query_value, &mut mentioned);
        keywords(&args_value, &mut mentioned);
        let query = factlite_query::parse_query(&query_value)
            .map_err(|e| Error::Parse(format!("view {name:?}: {e}")))?;
        let inputs = match args_value {
            Value::Vector(_) => args_value.into_sequence().unwrap_or_default(),
            other => {
                return Err(Error::Parse(format!(
                    "view inputs must be a vector, not {other}"
                )))
            }
        };
        let definition = Definition::new(query, inputs)?;
        let table_name = format!("view_{name}");
        let (table, support) = match &definition.counting {
            Some(counting) if counting.aggregated => (
                Table::counted(
                    &table_name,
                    &definition.columns,
                    &definition.key_positions,
                    "fl_tuples",
                    false,
                )
                .with_state(state::columns(counting)),
                Some(support_table(&table_name, counting)),
            ),
            Some(_) => (
                Table::counted(
                    &table_name,
                    &definition.columns,
                    &definition.key_positions,
                    "fl_derivations",
                    true,
                ),
                None,
            ),
            None => (
                Table::new(&table_name, &definition.columns, &definition.key_positions),
                None,
            ),
        };
        let table = table.with_order(&definition.order);
        Ok(View {
            query_text: query_text.to_string(),
            normalized: factlite_query::normalized_text(&definition.query),
            args: args.to_string(),
            mentioned,
            definition,
            table,
            support,
            automatic,
            read_plan: None,
            delta_plans: None,
            pending: None,
            rebuild: false,
            installing: false,
            table_checked: false,
            stats: Stats::default(),
        })
    }

    /// Forgets plans made for an older schema.
    pub fn forget_plans(&mut self) {
        self.read_plan = None;
        self.delta_plans = None;
    }

    /// Drops the view's tables.
    pub fn drop_tables(&self, conn: &Connection) -> Result<()> {
        self.table.drop_table(conn)?;
        if let Some(support) = &self.support {
            support.drop_table(conn)?;
        }
        Ok(())
    }

    /// Ends the transaction's work.
    pub fn reset(&mut self) {
        self.pending = None;
        self.rebuild = false;
        self.installing = false;
    }

    /// Before the write: what the old state says about the changed datoms
    /// (`attributes` are theirs).
    pub fn prepare(&mut self, db: &Db, attributes: &HashSet<Keyword>) -> Result<()> {
        self.pending = Some(match &self.definition.counting {
            Some(_) => Pending::Lost(self.derivations_through_delta(db, attributes, false)?),
            None => {
                let mut keys = HashSet::new();
                self.collect_keys(db, attributes, &mut keys)?;
                Pending::Keys(keys)
            }
        });
        Ok(())
    }

    /// After the write: brings the tables in line with the new state.
    /// `None` when the transaction did not concern the view.
    pub fn maintain(
        &mut self,
        db: &Db,
        tx: Entid,
        name: &str,
        attributes: &HashSet<Keyword>,
    ) -> Result<Option<ViewChange>> {
        if !self.table_checked && !self.installing {
            // A table an older build made may lack the state columns.
            let conn = db.store().connection();
            if !self.table.has_its_columns(&conn)? {
                self.installing = true;
            } else {
                self.table.ensure_indexes(&conn)?;
                if let Some(support) = &self.support {
                    support.ensure_indexes(&conn)?;
                }
            }
            self.table_checked = true;
        }
        let change = if self.installing {
            self.table.create(&db.store().connection())?;
            if let Some(support) = &self.support {
                support.create(&db.store().connection())?;
            }
            self.build(db, tx, name)?
        } else if self.rebuild {
            self.stats.rebuilds += 1;
            self.build(db, tx, name)?
        } else {
            match self.pending.take() {
                None => return Ok(None),
                Some(Pending::Keys(mut keys)) => {
                    self.collect_keys(db, attributes, &mut keys)?;
                    self.recheck(db, tx, name, keys)?
                }
                Some(Pending::Lost(lost)) => {
                    let gained = self.derivations_through_delta(db, attributes, true)?;
                    let mut delta = gained;
                    for (tuple, n) in lost {
                        *delta.entry(tuple).or_default() -= n;
                    }
                    delta.retain(|_, n| *n != 0);
                    self.count(&db.store().connection(), tx, name, delta)?
                }
            }
        };
        Ok(Some(change))
    }

    fn sources() -> [NamedSource; 1] {
        [NamedSource {
            name: DELTA_SOURCE.to_string(),
            table: DELTA_TABLE.to_string(),
        }]
    }

    fn plan_deltas(&mut self, db: &Db) -> Result<()> {
        if self.delta_plans.is_some() {
            return Ok(());
        }
        let sources = View::sources();
        let inputs = &self.definition.inputs;
        self.delta_plans = Some(match &self.definition.counting {
            Some(counting) => DeltaPlans::Counting(
                counting
                    .conjuncts
                    .iter()
                    .map(|conjunct| {
                        conjunct
                            .sites
                            .iter()
                            .map(|site| {
                                Ok((
                                    site.attribute.clone(),
                                    db.plan_with_sources(&site.retracted, inputs, &sources)?,
                                    db.plan_with_sources(&site.asserted, inputs, &sources)?,
                                ))
                            })
                            .collect::<Result<Vec<_>>>()
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            None => DeltaPlans::Recheck(
                self.definition
                    .delta_queries
                    .iter()
                    .map(|delta| {
                        Ok((
                            delta.attribute.clone(),
                            db.plan_with_sources(
                                &delta.query,
                                &self.definition.delta_inputs,
                                &sources,
                            )?,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        });
        Ok(())
    }

    // ---- rechecking ----------------------------------------------------------

    /// Runs the delta queries whose attribute the transaction touched,
    /// adding the keys they return.
    fn collect_keys(
        &mut self,
        db: &Db,
        attributes: &HashSet<Keyword>,
        keys: &mut HashSet<Vec<Value>>,
    ) -> Result<()> {
        if self.definition.key_positions.is_empty() {
            // One group (an aggregate without grouping): recheck it.
            keys.insert(Vec::new());
            return Ok(());
        }
        self.plan_deltas(db)?;
        if let Some(DeltaPlans::Recheck(plans)) = &self.delta_plans {
            for (attribute, plan) in plans {
                if attribute.as_ref().is_some_and(|a| !attributes.contains(a)) {
                    continue;
                }
                keys.extend(rows_of(db.run_plan(plan, &self.definition.delta_inputs)?));
            }
        }
        Ok(())
    }

    /// Re-derives the rows of `keys` and brings the table in line.
    fn recheck(
        &mut self,
        db: &Db,
        tx: Entid,
        name: &str,
        keys: HashSet<Vec<Value>>,
    ) -> Result<ViewChange> {
        let conn = &*db.store().connection();
        let mut old = HashSet::new();
        let mut fresh = HashSet::new();
        let keys: Vec<Vec<Value>> = keys.into_iter().collect();
        // A few hundred keys per statement keeps each statement small.
        for chunk in keys.chunks(256) {
            for key in chunk {
                old.extend(self.table.rows_with_key(conn, key)?);
            }
            let (query, inputs) = self
                .definition
                .recheck(chunk.iter().cloned().map(Value::Vector).collect());
            let plan = db.plan(&query, &inputs)?;
            fresh.extend(rows_of(db.run_plan(&plan, &inputs)?));
        }
        self.replace(conn, tx, name, old, fresh)
    }

    /// Deletes `old - fresh`, inserts `fresh - old`.
    fn replace(
        &mut self,
        conn: &Connection,
        tx: Entid,
        name: &str,
        old: HashSet<Vec<Value>>,
        fresh: HashSet<Vec<Value>>,
    ) -> Result<ViewChange> {
        let removed: Vec<Vec<Value>> = old.difference(&fresh).cloned().collect();
        let added: Vec<Vec<Value>> = fresh.difference(&old).cloned().collect();
        for row in &removed {
            self.table.delete(conn, row)?;
        }
        for row in &added {
            self.table.insert(conn, row, 0)?;
        }
        Ok(ViewChange {
            view: name.to_string(),
            tx,
            added,
            removed,
        })
    }

    /// Computes the whole view again.
    fn build(&mut self, db: &Db, tx: Entid, name: &str) -> Result<ViewChange> {
        let conn = &*db.store().connection();
        let old: HashSet<Vec<Value>> = if self.installing {
            HashSet::new()
        } else {
            self.table.rows(conn)?.into_iter().collect()
        };
        let inputs = &self.definition.inputs;
        let Some(counting) = &self.definition.counting else {
            let plan = db.plan(&self.definition.materialized, inputs)?;
            let fresh = rows_of(db.run_plan(&plan, inputs)?).into_iter().collect();
            return self.replace(conn, tx, name, old, fresh);
        };
        // Each conjunction's derivations are distinct (SELECT DISTINCT):
        // they are counted as they stream from SQLite.
        let mut counts: HashMap<Vec<Value>, i64> = HashMap::new();
        for conjunct in &counting.conjuncts {
            let plan = db.plan(&conjunct.derivations, inputs)?;
            db.with_rows(&plan, inputs, |rows| -> Result<()> {
                for row in rows {
                    if let Value::Vector(row) = &row? {
                        *counts.entry(conjunct.tuple_of(row)).or_default() += 1;
                    }
                }
                Ok(())
            })??;
        }
        if let Some(support) = &self.support {
            support.clear(conn)?;
            for (tuple, n) in &counts {
                support.insert(conn, tuple, *n)?;
            }
        }
        self.table.clear(conn)?;
        let mut fresh = HashSet::new();
        if counting.aggregated {
            let mut groups: HashMap<Vec<Value>, Vec<Vec<Value>>> = HashMap::new();
            for tuple in counts.into_keys() {
                groups
                    .entry(counting.group_of(&tuple))
                    .or_default()
                    .push(tuple);
            }
            for (group, tuples) in groups {
                let row = aggregate_row(counting, &tuples)?;
                self.table.insert(conn, &row, tuples.len() as i64)?;
                self.table
                    .set_state(conn, &group, &state::of_tuples(counting, &tuples))?;
                fresh.insert(row);
            }
        } else {
            for (tuple, n) in counts {
                let row = counting.row_of(&tuple);
                self.table.insert(conn, &row, n)?;
                fresh.insert(row);
            }
        }
        Ok(ViewChange {
            view: name.to_string(),
            tx,
            added: fresh.difference(&old).cloned().collect(),
            removed: old.difference(&fresh).cloned().collect(),
        })
    }

    // ---- counting ------------------------------------------------------------

    /// The derivations (per tuple) that use a changed datom: retracted ones
    /// against the old state, or asserted ones against the new.
    fn derivations_through_delta(
        &mut self,
        db: &Db,
        attributes: &HashSet<Keyword>,
        asserted: bool,
    ) -> Result<HashMap<Vec<Value>, i64>> {
        self.plan_deltas(db)?;
        let (Some(counting), Some(DeltaPlans::Counting(plans))) =
            (&self.definition.counting, &self.delta_plans)
        else {
            return Ok(HashMap::new());
        };
        let mut derivations = Vec::with_capacity(plans.len());
        for sites in plans {
            let mut found: HashSet<Vec<Value>> = HashSet::new();
            for (attribute, retracted, through_asserted) in sites {
                if attribute.as_ref().is_some_and(|a| !attributes.contains(a)) {
                    continue;
                }
                let plan = if asserted {
                    through_asserted
                } else {
                    retracted
                };
                found.extend(rows_of(db.run_plan(plan, &self.definition.inputs)?));
            }
            derivations.push(found);
        }
        Ok(counting.count(derivations))
    }

    /// Applies derivation count changes: tuples appear and disappear, and
    /// with them rows (a relation) or group values (an aggregate).
    fn count(
        &mut self,
        conn: &Connection,
        tx: Entid,
        name: &str,
        delta: HashMap<Vec<Value>, i64>,
    ) -> Result<ViewChange> {
        let mut change = ViewChange {
            view: name.to_string(),
            tx,
            added: Vec::new(),
            removed: Vec::new(),
        };
        let Some(counting) = &self.definition.counting else {
            return Ok(change);
        };
        // A relation counts its rows' derivations in its own table.
        let (support, delta) = match &self.support {
            Some(support) => (support, delta),
            None => (
                &self.table,
                delta
                    .into_iter()
                    .map(|(tuple, n)| (counting.row_of(&tuple), n))
                    .collect(),
            ),
        };
        let mut entering = Vec::new();
        let mut leaving = Vec::new();
        for (tuple, d) in delta {
            let before = support.counter(conn, &tuple)?;
            let after = before + d;
            if after < 0 {
                return Err(Error::Corrupt(format!(
                    "tuple {tuple:?} would have {after} derivations"
                )));
            }
            match (before, after) {
                (0, _) => support.insert(conn, &tuple, after)?,
                (_, 0) => support.delete(conn, &tuple)?,
                _ => support.set_counter(conn, &tuple, after)?,
            }
            if before == 0 && after > 0 {
                entering.push(tuple);
            } else if before > 0 && after == 0 {
                leaving.push(tuple);
            }
        }
        if !counting.aggregated {
            change.removed = leaving;
            change.added = entering;
            return Ok(change);
        }
        // Per group, the tuples that entered and those that left.
        type Moves = (Vec<Vec<Value>>, Vec<Vec<Value>>);
        let mut groups: HashMap<Vec<Value>, Moves> = HashMap::new();
        for tuple in entering {
            groups
                .entry(counting.group_of(&tuple))
                .or_default()
                .0
                .push(tuple);
        }
        for tuple in leaving {
            groups
                .entry(counting.group_of(&tuple))
                .or_default()
                .1
                .push(tuple);
        }
        for (group, (entered, left)) in groups {
            let old = self
                .table
                .counted_rows_with_key(conn, &group)?
                .into_iter()
                .next();
            let tuples_before = old.as_ref().map_or(0, |(_, n)| *n);
            let tuples_after = tuples_before + entered.len() as i64 - left.len() as i64;
            let mut state = Vec::new();
            let new_row = if tuples_after == 0 {
                None
            } else {
                Some(match &old {
                    Some((row, _)) => {
                        let mut moved = state::moved(
                            counting,
                            &self.table.state(conn, &group)?,
                            &entered,
                            &left,
                        );
                        let medians = match &mut moved {
                            Some(moved) => medians(
                                conn,
                                counting,
                                support,
                                &group,
                                moved,
                                (&entered, &left),
                                tuples_after,
                            )?,
                            None => Vec::new(),
                        };
                        let moved_row = in_place(
                            counting,
                            row,
                            GroupMove {
                                entered: &entered,
                                left: &left,
                                state: moved.as_deref(),
                                medians: &medians,
                                tuples: tuples_after,
                            },
                        );
                        match (moved_row, moved) {
                            (Some(row), Some(moved)) => {
                                state = moved;
                                row
                            }
                            _ => {
                                let tuples = support.rows_with_key(conn, &group)?;
                                state = state::of_tuples(counting, &tuples);
                                aggregate_row(counting, &tuples)?
                            }
                        }
                    }
                    None => {
                        state = state::of_tuples(counting, &entered);
                        aggregate_row(counting, &entered)?
                    }
                })
            };
            match (&old, &new_row) {
                (Some(_), Some(row)) => {
                    self.table.update_by_key(conn, &group, row, tuples_after)?
                }
                (Some((row, _)), None) => self.table.delete(conn, row)?,
                (None, Some(row)) => self.table.insert(conn, row, tuples_after)?,
                (None, None) => {}
            }
            if new_row.is_some() {
                self.table.set_state(conn, &group, &state)?;
            }
            if old.as_ref().map(|(row, _)| row) != new_row.as_ref() {
                change.removed.extend(old.map(|(row, _)| row));
                change.added.extend(new_row);
            }
        }
        Ok(change)
    }
}

/// The support table of a counted view: the tuple's variables and `n`.
fn support_table(view_table: &str, counting: &Counting) -> Table {
    let columns: Vec<String> = counting
        .tuple_vars
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{}_{i}",
                v.0.trim_start_matches('?')
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            )
        })
        .collect();
    let support = Table::counted(
        &format!("{view_table}__support"),
        &columns,
        &counting.group,
        "n",
        true,
    );
    counting
        .elements
        .iter()
        .filter_map(|element| match element {
            Element::Aggregate { name, arg, .. } if name == "median" => Some(*arg),
            _ => None,
        })
        .fold(support, Table::with_sorted_values)
}

/// Each find element's `median` after a move, read through the support
/// table's index of the group's values from the median's anchor (see
/// `state`): only the values between the old middle and the new one are
/// read, where the state says every value is a plain number. The anchor in
/// `state` moves with it. An element with no such median has `None` (and
/// the group is recomputed).
fn medians(
    conn: &Connection,
    counting: &Counting,
    support: &Table,
    group: &[Value],
    state: &mut [Option<i64>],
    moves: (&[Vec<Value>], &[Vec<Value>]),
    tuples: i64,
) -> Result<Vec<Option<Value>>> {
    let mut medians = Vec::with_capacity(counting.elements.len());
    for (index, element) in counting.elements.iter().enumerate() {
        let median = match element {
            Element::Aggregate { name, arg, .. } if name == "median" && tuples > 0 => {
                match state::median_anchor(counting, index, state) {
                    Some(anchor) => {
                        let read = middle_of(conn, support, group, *arg, anchor, moves, tuples)?;
                        let anchor = read.as_ref().map(|(_, below, key)| (*below, key));
                        state::set_median_anchor(counting, index, state, anchor);
                        match read {
                            Some((middle, ..)) => Some(
                                factlite_planner::aggregate::compute(name, &[], &middle)
                                    .map_err(|e| Error::Unsupported(e.to_string()))?,
                            ),
                            None => None,
                        }
                    }
                    None => None,
                }
            }
            _ => None,
        };
        medians.push(median);
    }
    Ok(medians)
}

/// The middle value (two, for an even group) of the group's values in
/// the tuple column `arg` after a move, read from the old anchor — `below`
/// values came before its key — and the new anchor; `None` when the table
/// does not hold what the anchor says.
fn middle_of(
    conn: &Connection,
    support: &Table,
    group: &[Value],
    arg: usize,
    (below, key): (i64, Value),
    (entered, left): (&[Vec<Value>], &[Vec<Value>]),
    tuples: i64,
) -> Result<Option<(Vec<Value>, i64, Value)>> {
    use std::cmp::Ordering::Less;
    let order = factlite_planner::aggregate::stored_order;
    let before = |moved: &[Vec<Value>]| {
        moved
            .iter()
            .filter(|t| order(&t[arg], &key) == Less)
            .count() as i64
    };
    let below = below + before(entered) - before(left);
    let (middle, wanted) = ((tuples - 1) / 2, 2 - tuples % 2);
    if middle >= below {
        // The middle is at or after the old key: read forward from it.
        let window = support.values_from(conn, group, arg, &key, Side::From, middle - below + 2)?;
        let at = usize::try_from(middle - below).unwrap_or(usize::MAX);
        let (Some(lower), Some(values)) = (window.get(at), window.get(at..at + wanted as usize))
        else {
            return Ok(None);
        };
        let first = window.iter().position(|value| value == lower).unwrap_or(at);
        return Ok(Some((values.to_vec(), below + first as i64, lower.clone())));
    }
    // Before the old key: read back from it, nearest first.
    let window = support.values_from(conn, group, arg, &key, Side::Before, below - middle)?;
    let at = usize::try_from(below - 1 - middle).unwrap_or(usize::MAX);
    let Some(lower) = window.get(at).cloned() else {
        return Ok(None);
    };
    let mut values = vec![lower.clone()];
    if wanted == 2 {
        let upper = match at.checked_sub(1) {
            Some(next) => window.get(next).cloned(),
            None => support
                .values_from(conn, group, arg, &key, Side::From, 1)?
                .into_iter()
                .next(),
        };
        let Some(upper) = upper else {
            return Ok(None);
        };
        values.push(upper);
    }
    // The values equal to the new key that come before the middle are
    // all of them but those read, which are at or after it.
    let read = window[..=at]
        .iter()
        .filter(|value| **value == lower)
        .count() as i64;
    let ties = support.count_equal(conn, group, arg, &lower)?;
    Ok(Some((values, middle - (ties - read), lower)))
}

/// A group's row computed from all its tuples.
fn aggregate_row(counting: &Counting, tuples: &[Vec<Value>]) -> Result<Vec<Value>> {
    counting
        .elements
        .iter()
        .map(|element| match element {
            Element::Tuple(p) => Ok(tuples.first().map_or(Value::Nil, |t| t[*p].clone())),
            Element::Aggregate {
                name,
                constants,
                arg,
            } => {
                let values: Vec<Value> = tuples.iter().map(|t| t[*arg].clone()).collect();
                factlite_planner::aggregate::compute(name, constants, &values)
                    .map_err(|e| Error::Unsupported(e.to_string()))
            }
        })
        .collect()
}

/// What moved in a group, for [`in_place`].
struct GroupMove<'m> {
    entered: &'m [Vec<Value>],
    left: &'m [Vec<Value>],
    /// The group's state after the move (see `state`), if known.
    state: Option<&'m [Option<i64>]>,
    /// Each element's median after the move, when read ([`medians`]).
    medians: &'m [Option<Value>],
    /// The group's tuples after the move.
    tuples: i64,
}

/// The group's row moved in place by the tuples that entered and left, when
/// every aggregate allows it: `count`, `sum` of longs, `avg`, `variance`
/// and `stddev` of longs from their exact sums (`state`), and `min`/`max`
/// whose extreme did not leave, and `median` read in order from the
/// group's values ([`medians`]). `None`: recompute from the tuples.
fn in_place(counting: &Counting, row: &[Value], moves: GroupMove<'_>) -> Option<Vec<Value>> {
    let GroupMove {
        entered,
        left,
        state,
        medians,
        tuples,
    } = moves;
    counting
        .elements
        .iter()
        .enumerate()
        .zip(row)
        .map(|((index, element), current)| match element {
            Element::Tuple(_) => Some(current.clone()),
            Element::Aggregate {
                name,
                constants,
                arg,
            } if constants.is_empty() => {
                let values = |tuples: &[Vec<Value>]| -> Vec<Value> {
                    tuples.iter().map(|t| t[*arg].clone()).collect()
                };
                if let Some(value) = state::value(counting, index, name, state, tuples) {
                    return value;
                }
                match (name.as_str(), current) {
                    ("median", _) => medians.get(index).cloned().flatten(),
                    ("count", Value::Integer(n)) => {
                        Some(Value::Integer(n + entered.len() as i64 - left.len() as i64))
                    }
                    ("sum", Value::Integer(total)) => {
                        let mut total = *total;
                        for v in values(entered) {
                            let Value::Integer(i) = v else { return None };
                            total = total.checked_add(i)?;
                        }
                        for v in values(left) {
                            let Value::Integer(i) = v else { return None };
                            total = total.checked_sub(i)?;
                        }
                        Some(Value::Integer(total))
                    }
                    ("min" | "max", current) => {
                        if values(left).iter().any(|v| v == current) {
                            return None;
                        }
                        let candidates = values(entered).into_iter().chain([current.clone()]);
                        let order = factlite_planner::aggregate::stored_order;
                        if name == "min" {
                            candidates.min_by(order)
                        } else {
                            candidates.max_by(order)
                        }
                    }
                    _ => None,
                }
            }
            Element::Aggregate { .. } => None,
        })
        .collect()
}

/// Every keyword in a value, nested ones included.
fn keywords(value: &Value, out: &mut HashSet<Keyword>) {
    match value {
        Value::Keyword(k) => {
            out.insert(k.clone());
        }
        Value::Vector(items) | Value::List(items) => items.iter().for_each(|v| keywords(v, out)),
        Value::Set(items) => items.iter().for_each(|v| keywords(v, out)),
        Value::Map(entries) => entries.iter().for_each(|(k, v)| {
            keywords(k, out);
            keywords(v, out);
        }),
        _ => {}
    }
}

/// The rows of a relation result.
pub fn rows_of(result: QueryResult) -> Vec<Vec<Value>> {
    match result {
        QueryResult::Relation(relation) => relation.into_rows().collect(),
        _ => Vec::new(),
    }
}

pub fn parse_edn(text: &str) -> Result<Value> {
    factlite_edn::parse(text).map_err(|e| Error::Parse(e.to_string()))
}
