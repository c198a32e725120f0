//! Checking a store against its own invariants, for logical corruption that
//! SQLite's `integrity_check` cannot see: the current datoms are what the
//! log says holds, the log alternates assertion and retraction for every
//! datom, `attribute_stats` counts the datoms, the full-text index holds the
//! full-text attributes' values, no entity id lies past its partition's
//! next free id, and nothing an excision removed is left in `datoms` or
//! the `log` (an excision takes a retraction with the assertion it
//! follows, so the log's alternation holds after one too). The views crate adds its own check of the views' tables
//! ([`ProblemKind::ViewDiffers`], [`ProblemKind::ViewUnreadable`]).
//!
//! Each check is one SQL statement over the layout (see `layout`); a check
//! reports how many rows break it and the first few of them.

use std::fmt;

use factlite_core::{Entid, Partition, Schema, ValueType};
use factlite_edn::Value;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::encode::from_sql;
use crate::error::Result;
use crate::Store;

/// How many offending rows a problem lists (it counts them all).
pub const EXAMPLES: usize = 5;

/// What kind of invariant a [`Problem`] breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemKind {
    /// SQLite's `PRAGMA integrity_check` found damage in the file.
    Integrity,
    /// A current datom whose assertion is not in the log at its
    /// transaction.
    DatomWithoutAssertion,
    /// A current datom that the log retracts (or asserts again) after the
    /// transaction that asserted it.
    DatomRetractedInLog,
    /// The log's last word on a datom is an assertion, but the datom is not
    /// current.
    AssertionWithoutDatom,
    /// A retraction in the log with no assertion of the datom before it
    /// that is still standing.
    RetractionWithoutAssertion,
    /// An assertion in the log of a datom already asserted and not
    /// retracted since.
    RepeatedAssertion,
    /// `attribute_stats` gives an attribute another number of datoms than
    /// `datoms` holds.
    AttributeStats,
    /// The full-text index and the values of `:db/fulltext` attributes
    /// disagree.
    Fulltext,
    /// An entity or transaction id in use at or past its partition's next
    /// free id, which a later transaction would allocate again.
    Partition,
    /// A datom in `datoms` or the `log` that a recorded excision
    /// (`:db/excise`) removed.
    ExcisedDatomRemains,
    /// A materialized view's table differs from its query run from scratch.
    ViewDiffers,
    /// A stored view definition that does not read back.
    ViewUnreadable,
}

impl ProblemKind {
    /// Every kind, in the order the checks run.
    pub const ALL: [ProblemKind; 12] = [
        ProblemKind::Integrity,
        ProblemKind::DatomWithoutAssertion,
        ProblemKind::DatomRetractedInLog,
        ProblemKind::AssertionWithoutDatom,
        ProblemKind::RetractionWithoutAssertion,
        ProblemKind::RepeatedAssertion,
        ProblemKind::AttributeStats,
        ProblemKind::Fulltext,
        ProblemKind::Partition,
        ProblemKind::ExcisedDatomRemains,
        ProblemKind::ViewDiffers,
        ProblemKind::ViewUnreadable,
    ];

    /// The kind's name, as reports print it: `datom-without-assertion`.
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::Integrity => "integrity-check",
            ProblemKind::DatomWithoutAssertion => "datom-without-assertion",
            ProblemKind::DatomRetractedInLog => "datom-retracted-in-log",
            ProblemKind::AssertionWithoutDatom => "assertion-without-datom",
            ProblemKind::RetractionWithoutAssertion => "retraction-without-assertion",
            ProblemKind::RepeatedAssertion => "repeated-assertion",
            ProblemKind::AttributeStats => "attribute-stats",
            ProblemKind::Fulltext => "fulltext-index",
            ProblemKind::Partition => "partition-behind",
            ProblemKind::ExcisedDatomRemains => "excised-datom-remains",
            ProblemKind::ViewDiffers => "view-differs",
            ProblemKind::ViewUnreadable => "view-unreadable",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One broken invariant: what it is, how many rows break it, and the first
/// [`EXAMPLES`] of them as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The invariant.
    pub kind: ProblemKind,
    /// What is wrong, in a sentence.
    pub summary: String,
    /// How many rows (datoms, log entries, attributes, view rows) break it.
    pub count: u64,
    /// The first few of them.
    pub examples: Vec<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.summary)?;
        if !self.examples.is_empty() {
            write!(f, ", e.g. {}", self.examples.join("; "))?;
        }
        Ok(())
    }
}

/// Collects the rows a check finds into at most one problem.
pub struct Finding {
    kind: ProblemKind,
    count: u64,
    examples: Vec<String>,
}

impl Finding {
    /// An empty finding of this kind.
    pub fn new(kind: ProblemKind) -> Finding {
        Finding {
            kind,
            count: 0,
            examples: Vec::new(),
        }
    }

    /// Counts one offending row, described lazily.
    pub fn add(&mut self, describe: impl FnOnce() -> String) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(describe());
        }
    }

    /// The problem, with `summary(count)` as its sentence; `None` when
    /// nothing was found.
    pub fn problem(self, summary: impl FnOnce(u64) -> String) -> Option<Problem> {
        (self.count > 0).then(|| Problem {
            kind: self.kind,
            summary: summary(self.count),
            count: self.count,
            examples: self.examples,
        })
    }
}

/// `1 datom`, `2 datoms`.
pub fn counted(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// The datoms whose assertion at their own transaction is missing from the
/// log.
const DATOMS_WITHOUT_ASSERTION: &str = "
SELECT d.e, d.a, d.v, d.t, d.tx FROM datoms d
WHERE NOT EXISTS (SELECT 1 FROM log l INDEXED BY log_aevt
                  WHERE l.e = d.e AND l.a = d.a AND l.v = d.v AND l.t = d.t
                    AND l.tx = d.tx AND l.added = 1)
ORDER BY d.e, d.a, d.v";

/// The datoms the log speaks of again after their assertion.
const DATOMS_RETRACTED_IN_LOG: &str = "
SELECT d.e, d.a, d.v, d.t, l.tx FROM datoms d
JOIN log l INDEXED BY log_aevt
  ON l.e = d.e AND l.a = d.a AND l.v = d.v AND l.t = d.t AND l.tx > d.tx
ORDER BY d.e, d.a, d.v, l.tx";

/// The log entries that are the last about their datom, assert it, and
/// find it not current.
const ASSERTIONS_WITHOUT_DATOM: &str = "
SELECT l.e, l.a, l.v, l.t, l.tx FROM log l
WHERE l.added = 1
  AND NOT EXISTS (SELECT 1 FROM log later INDEXED BY log_aevt
                  WHERE later.e = l.e AND later.a = l.a AND later.v = l.v
                    AND later.t = l.t AND later.tx > l.tx)
  AND NOT EXISTS (SELECT 1 FROM datoms d
                  WHERE d.e = l.e AND d.a = l.a AND d.v = l.v AND d.t = l.t)
ORDER BY l.tx, l.seq";

/// The log entries of kind `?1` (0: retractions, 1: assertions) whose
/// previous entry about the same datom is of the same kind — for a
/// retraction, also none at all.
const OUT_OF_TURN: &str = "
SELECT l.e, l.a, l.v, l.t, l.tx FROM log l
WHERE l.added = ?1
  AND coalesce((SELECT p.added FROM log p INDEXED BY log_aevt
                WHERE p.e = l.e AND p.a = l.a AND p.v = l.v AND p.t = l.t
                  AND p.tx < l.tx
                ORDER BY p.tx DESC LIMIT 1), 0) = ?1
ORDER BY l.tx, l.seq";

/// The attributes whose count (`statistics::ATTRIBUTE_COUNTS`, in place of
/// `COUNTS`; `NULL`: none) is not the number of their datoms.
const STATS_MISMATCH: &str = "
WITH counted AS (SELECT a, count(*) AS n FROM datoms GROUP BY a),
     stats AS (SELECT a, datoms FROM (COUNTS)),
     attributes AS (SELECT a FROM counted UNION SELECT a FROM stats)
SELECT k.a, s.datoms, coalesce(c.n, 0) FROM attributes k
LEFT JOIN stats s ON s.a = k.a
LEFT JOIN counted c ON c.a = k.a
WHERE coalesce(s.datoms, 0) != coalesce(c.n, 0)
ORDER BY k.a";

/// The full-text attributes' values missing from the index (`missing` 1)
/// and the index's entries that are no such value (`missing` 0). `?1` is
/// the JSON array of the full-text attributes' ids.
const FULLTEXT_MISMATCH: &str = "
WITH indexed AS (SELECT e, a, v FROM fulltext),
     held AS (SELECT e, a, v FROM datoms
              WHERE a IN (SELECT value FROM json_each(?1)) AND t = ?2)
SELECT e, a, v, 1 FROM (SELECT * FROM held EXCEPT SELECT * FROM indexed)
UNION ALL
SELECT e, a, v, 0 FROM (SELECT * FROM indexed EXCEPT SELECT * FROM held)
ORDER BY 1, 2, 3";

/// Per partition (`?1` its first id, `?2` the next after it), the largest
/// id in use in `datoms` and `log` (entities, ref values, transactions).
const LARGEST_ID: &str = "
SELECT max(id) FROM (
  SELECT max(e) AS id FROM datoms WHERE e >= ?1 AND e < ?2
  UNION ALL SELECT max(e) FROM log WHERE e >= ?1 AND e < ?2
  UNION ALL SELECT max(v) FROM datoms WHERE t = ?3 AND v >= ?1 AND v < ?2
  UNION ALL SELECT max(tx) FROM log WHERE tx >= ?1 AND tx < ?2)";

/// The rows of `datoms` and the `log` that a recorded excision covers:
/// of its entity, of its attributes (all when it names none), of a
/// transaction before its bound — its own transaction,
/// `:db.excise/beforeT` (`?2`), the first transaction at or after
/// `:db.excise/before` (`?3`), whichever is first. `?1` is `:db/excise`,
/// `?4` `:db.excise/attrs`, `?5` `:db/txInstant`. (The composite tuples an
/// excision takes with its attributes are not checked.)
const EXCISED_REMAINS: &str = "
WITH excisions AS (
  SELECT x.e AS record, x.v AS target,
         min(x.tx,
             coalesce((SELECT b.v FROM datoms b WHERE b.e = x.e AND b.a = ?2), x.tx),
             coalesce((SELECT min(i.e) FROM datoms i
                       WHERE i.a = ?5 AND i.avet = 1
                         AND i.v >= (SELECT b.v FROM datoms b WHERE b.e = x.e AND b.a = ?3)),
                      x.tx)) AS bound
  FROM datoms x WHERE x.a = ?1),
held AS (
  SELECT e, a, v, t, tx FROM log
  UNION ALL SELECT e, a, v, t, tx FROM datoms)
SELECT h.e, h.a, h.v, h.t, h.tx FROM excisions x
JOIN held h ON h.e = x.target AND h.tx < x.bound
WHERE NOT EXISTS (SELECT 1 FROM datoms f WHERE f.e = x.record AND f.a = ?4)
   OR h.a IN (SELECT f.v FROM datoms f WHERE f.e = x.record AND f.a = ?4)
ORDER BY h.e, h.a, h.tx";

impl Store {
    /// Checks the file and the store's own invariants (see the module
    /// `verify`), in one read transaction, and lists what is wrong: nothing
    /// on a sound store. The views are checked by the views crate.
    pub fn verify(&self) -> Result<Vec<Problem>> {
        let db = self.db()?;
        let _read = db.read_guard()?;
        let conn = &*self.connection();
        let schema = self.schema()?;
        let checks = Checks {
            conn,
            schema: &schema,
        };
        let mut problems = Vec::new();
        problems.extend(checks.integrity()?);
        problems.extend(checks.datoms_without_assertion()?);
        problems.extend(checks.datoms_retracted_in_log()?);
        problems.extend(checks.assertions_without_datom()?);
        problems.extend(checks.retractions_without_assertion()?);
        problems.extend(checks.repeated_assertions()?);
        problems.extend(checks.attribute_stats()?);
        problems.extend(checks.fulltext()?);
        problems.extend(checks.partitions()?);
        problems.extend(checks.excised_remains()?);
        Ok(problems)
    }
}

/// The checks, over one connection inside a read transaction.
struct Checks<'a> {
    conn: &'a Connection,
    schema: &'a Schema,
}

impl Checks<'_> {
    fn integrity(&self) -> Result<Option<Problem>> {
        let mut finding = Finding::new(ProblemKind::Integrity);
        let mut statement = self.conn.prepare("PRAGMA integrity_check")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let line: String = row.get(0)?;
            if line != "ok" {
                finding.add(|| line);
            }
        }
        Ok(finding.problem(|count| {
            format!(
                "SQLite's integrity check reports {}",
                counted(count, "problem")
            )
        }))
    }

    fn datoms_without_assertion(&self) -> Result<Option<Problem>> {
        let finding = self.datoms(
            DATOMS_WITHOUT_ASSERTION,
            [],
            ProblemKind::DatomWithoutAssertion,
        )?;
        Ok(finding.problem(|count| {
            format!(
                "{} current with no assertion in the log at the recorded transaction",
                are(count, "datom")
            )
        }))
    }

    fn datoms_retracted_in_log(&self) -> Result<Option<Problem>> {
        let finding = self.datoms(
            DATOMS_RETRACTED_IN_LOG,
            [],
            ProblemKind::DatomRetractedInLog,
        )?;
        Ok(finding.problem(|count| {
            format!(
                "{} the log has again after the assertion of a current datom (the transaction shown)",
                counted(count, "entry")
            )
        }))
    }

    fn assertions_without_datom(&self) -> Result<Option<Problem>> {
        let finding = self.datoms(
            ASSERTIONS_WITHOUT_DATOM,
            [],
            ProblemKind::AssertionWithoutDatom,
        )?;
        Ok(finding.problem(|count| {
            format!(
                "{} asserted by the log and never retracted, but not current",
                are(count, "datom")
            )
        }))
    }

    fn retractions_without_assertion(&self) -> Result<Option<Problem>> {
        let finding = self.datoms(OUT_OF_TURN, [0], ProblemKind::RetractionWithoutAssertion)?;
        Ok(finding.problem(|count| {
            format!(
                "{} in the log without a standing assertion before {}",
                counted(count, "retraction"),
                if count == 1 { "it" } else { "them" }
            )
        }))
    }

    fn repeated_assertions(&self) -> Result<Option<Problem>> {
        let finding = self.datoms(OUT_OF_TURN, [1], ProblemKind::RepeatedAssertion)?;
        Ok(finding.problem(|count| {
            format!(
                "{} in the log of datoms already asserted and not retracted since",
                counted(count, "assertion")
            )
        }))
    }

    fn attribute_stats(&self) -> Result<Option<Problem>> {
        let mut finding = Finding::new(ProblemKind::AttributeStats);
        let mut statement = self
            .conn
            .prepare(&STATS_MISMATCH.replace("COUNTS", crate::statistics::ATTRIBUTE_COUNTS))?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let attribute: Entid = row.get(0)?;
            let recorded: Option<i64> = row.get(1)?;
            let actual: i64 = row.get(2)?;
            finding.add(|| {
                let recorded = recorded.map_or("no count".to_string(), |n| n.to_string());
                format!(
                    "{}: {recorded} recorded, {actual} held",
                    self.attribute(attribute)
                )
            });
        }
        Ok(finding.problem(|count| {
            format!(
                "attribute_stats disagrees with the datoms for {}",
                counted(count, "attribute")
            )
        }))
    }

    fn fulltext(&self) -> Result<Option<Problem>> {
        let ids: Vec<String> = self
            .schema
            .attributes()
            .filter(|attribute| attribute.fulltext)
            .map(|attribute| attribute.id.to_string())
            .collect();
        let ids = format!("[{}]", ids.join(","));
        let mut finding = Finding::new(ProblemKind::Fulltext);
        let mut statement = self.conn.prepare(FULLTEXT_MISMATCH)?;
        let mut rows = statement.query(params![ids, ValueType::String.tag()])?;
        while let Some(row) = rows.next()? {
            let e: Entid = row.get(0)?;
            let a: Entid = row.get(1)?;
            let text = value_text(row.get_ref(2)?, ValueType::String.tag());
            let missing: bool = row.get(3)?;
            let attribute = self.attribute(a);
            finding.add(|| {
                if missing {
                    format!("[{e} {attribute} {text}] not in the index")
                } else {
                    format!("[{e} {attribute} {text}] indexed but not held")
                }
            });
        }
        Ok(finding.problem(|count| {
            format!(
                "the full-text index disagrees with the datoms in {}",
                counted(count, "value")
            )
        }))
    }

    fn partitions(&self) -> Result<Option<Problem>> {
        let mut finding = Finding::new(ProblemKind::Partition);
        let mut next_id = self
            .conn
            .prepare("SELECT next_id FROM partitions WHERE part = ?1")?;
        let mut largest = self.conn.prepare(LARGEST_ID)?;
        // What the transactor will hand out: the floor or the datoms' ids.
        let next_ids = crate::partitions::next_ids(self.conn)?;
        for (index, partition) in Partition::ALL.iter().enumerate() {
            let start = partition.start();
            let end = Partition::ALL
                .get(index + 1)
                .map_or(i64::MAX, |next| next.start());
            let floor: Option<i64> = next_id
                .query_row([*partition as i64], |row| row.get(0))
                .optional()?;
            let used: Option<i64> =
                largest.query_row(params![start, end, ValueType::Ref.tag()], |row| row.get(0))?;
            let next = next_ids[index];
            match (floor, used) {
                (None, _) => finding.add(|| format!("partition {partition:?} has no next id")),
                (Some(_), Some(used)) if used >= next => finding
                    .add(|| format!("partition {partition:?}: id {used} in use, next id {next}")),
                _ => {}
            }
        }
        Ok(finding.problem(|count| {
            format!(
                "{} would hand out ids already in use",
                counted(count, "partition")
            )
        }))
    }

    fn excised_remains(&self) -> Result<Option<Problem>> {
        use factlite_core::bootstrap::{
            DB_EXCISE, DB_EXCISE_ATTRS, DB_EXCISE_BEFORE, DB_EXCISE_BEFORE_T, DB_TX_INSTANT,
        };
        let finding = self.datoms(
            EXCISED_REMAINS,
            params![
                DB_EXCISE,
                DB_EXCISE_BEFORE_T,
                DB_EXCISE_BEFORE,
                DB_EXCISE_ATTRS,
                DB_TX_INSTANT
            ],
            ProblemKind::ExcisedDatomRemains,
        )?;
        Ok(finding.problem(|count| {
            format!(
                "{} still held in the datoms or the log, though an excision removed {}",
                counted(count, "datom"),
                if count == 1 { "it" } else { "them" }
            )
        }))
    }

    /// Runs a statement whose rows are `e, a, v, t, tx` and counts each.
    fn datoms<P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        kind: ProblemKind,
    ) -> Result<Finding> {
        let mut finding = Finding::new(kind);
        let mut statement = self.conn.prepare(sql)?;
        let mut rows = statement.query(params)?;
        while let Some(row) = rows.next()? {
            finding.add(|| self.datom_text(row));
        }
        Ok(finding)
    }

    /// `[e :attribute value tx]` of a row `e, a, v, t, tx`.
    fn datom_text(&self, row: &Row<'_>) -> String {
        let read = || -> rusqlite::Result<String> {
            let e: Entid = row.get(0)?;
            let a: Entid = row.get(1)?;
            let t: i64 = row.get(3)?;
            let tx: Entid = row.get(4)?;
            let value = value_text(row.get_ref(2)?, t);
            Ok(format!("[{e} {} {value} {tx}]", self.attribute(a)))
        };
        read().unwrap_or_else(|error| format!("(an unreadable row: {error})"))
    }

    /// An attribute's ident, or its id when the schema has no such
    /// attribute.
    fn attribute(&self, id: Entid) -> String {
        match self.schema.ident(id) {
            Some(ident) => Value::Keyword(ident.clone()).to_string(),
            None => format!("attribute {id}"),
        }
    }
}

/// `1 datom is`, `2 datoms are`.
fn are(count: u64, noun: &str) -> String {
    let verb = if count == 1 { "is" } else { "are" };
    format!("{} {verb}", counted(count, noun))
}

/// A stored value as EDN, or what it holds when it does not decode.
fn value_text(value: ValueRef<'_>, tag: i64) -> String {
    match from_sql(value, tag) {
        Ok(value) => value.to_edn().to_string(),
        Err(corrupt) => format!("({})", corrupt.0),
    }
}
