//! The number of current datoms of each attribute (the planner's
//! statistics, [`crate::Store::datom_count`]), exact at every transaction
//! yet written only now and then: `attribute_stats` holds the counts as of
//! the transaction `attribute_stats_basis` names, and the log's entries
//! after it (a tail read by the log's key, each assertion one more datom of
//! its attribute, each retraction one less) bring them to the present. So a
//! commit usually writes no page for them. A transaction writes the counts
//! again (and itself as their basis) when the tail has grown long
//! ([`TAIL_TRANSACTIONS`], [`LARGE_TRANSACTION`]) or when the log would no
//! longer tell its changes: it deletes log entries (`:db/noHistory`
//! retractions, excisions) or logs no retraction of a datom it removes (an
//! excision).

use std::collections::BTreeMap;

use factlite_core::Entid;
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// Transactions after the basis before one writes the counts again: the
/// tail a read of the counts adds up stays this short.
pub const TAIL_TRANSACTIONS: i64 = 64;

/// A transaction of this many datoms or more writes the counts itself,
/// rather than leave its entries for every read to add up.
pub const LARGE_TRANSACTION: usize = 512;

/// The current count of every attribute that ever held a datom, as rows
/// `(a, datoms)`: the written counts and the log's tail after their basis.
/// (The tail is materialized first, so that SQLite reads it by the log's
/// key rather than the whole log in `log_aevt`'s order of attributes.)
pub const ATTRIBUTE_COUNTS: &str = "
WITH tail AS MATERIALIZED (
  SELECT a, CASE added WHEN 1 THEN 1 ELSE -1 END AS n FROM log
  WHERE tx > (SELECT tx FROM attribute_stats_basis WHERE id = 1))
SELECT a, sum(n) AS datoms FROM (
  SELECT a, datoms AS n FROM attribute_stats UNION ALL SELECT a, n FROM tail)
GROUP BY a";

/// Each attribute's change over the log's entries after transaction `?1`.
const TAIL_CHANGES: &str = "
WITH tail AS MATERIALIZED (
  SELECT a, CASE added WHEN 1 THEN 1 ELSE -1 END AS n FROM log WHERE tx > ?1)
SELECT a, sum(n) FROM tail GROUP BY a";

/// The current count of each attribute, collected as `(a, count)` pairs.
pub fn attribute_counts<C: FromIterator<(Entid, i64)>>(conn: &Connection) -> Result<C> {
    let mut statement = conn.prepare_cached(ATTRIBUTE_COUNTS)?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The number of current datoms.
pub fn total(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached(&format!("SELECT total(datoms) FROM ({ATTRIBUTE_COUNTS})"))?
        .query_row([], |row| row.get::<_, f64>(0))? as i64)
}

/// The transaction the written counts are as of.
fn basis(conn: &Connection) -> Result<Entid> {
    Ok(conn
        .prepare_cached("SELECT tx FROM attribute_stats_basis WHERE id = 1")?
        .query_row([], |row| row.get(0))
        .optional()?
        .unwrap_or(0))
}

/// A transaction's part in the counts, decided before it writes anything:
/// whether it writes them, and if so what the tail held before it.
pub struct Update {
    /// The tail's changes per attribute, when this transaction writes the
    /// counts.
    tail: Option<BTreeMap<Entid, i64>>,
}

impl Update {
    /// Decides for transaction `tx` of `datoms` datoms; `forgets` tells
    /// whether it will delete log entries or leave retractions unlogged.
    pub fn begin(conn: &Connection, tx: Entid, datoms: usize, forgets: bool) -> Result<Update> {
        let basis = basis(conn)?;
        let writes = forgets || datoms >= LARGE_TRANSACTION || tx - basis >= TAIL_TRANSACTIONS;
        if !writes {
            return Ok(Update { tail: None });
        }
        let mut statement = conn.prepare_cached(TAIL_CHANGES)?;
        let rows = statement.query_map([basis], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(Update {
            tail: Some(rows.collect::<rusqlite::Result<_>>()?),
        })
    }

    /// Ends transaction `tx`, whose datoms changed the counts by `counts`:
    /// writes the counts as of it when [`Update::begin`] decided so.
    pub fn finish(self, conn: &Connection, tx: Entid, counts: &BTreeMap<Entid, i64>) -> Result<()> {
        let Some(mut changes) = self.tail else {
            return Ok(());
        };
        for (a, delta) in counts {
            *changes.entry(*a).or_default() += delta;
        }
        let mut stats = conn.prepare_cached(
            "INSERT INTO attribute_stats (a, datoms) VALUES (?1, ?2)
             ON CONFLICT (a) DO UPDATE SET datoms = datoms + excluded.datoms",
        )?;
        for (a, delta) in changes.iter().filter(|(_, delta)| **delta != 0) {
            stats.execute(params![a, delta])?;
        }
        record_basis(conn, tx)
    }
}

/// Names `tx` as the transaction the written counts are as of.
pub fn record_basis(conn: &Connection, tx: Entid) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO attribute_stats_basis (id, tx) VALUES (1, ?1)")?
        .execute([tx])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{ensure, Contents};

    /// Each statement that reads the tail searches the log by its key:
    /// never a scan of the whole log.
    #[test]
    fn the_tail_is_read_by_the_log_key() {
        let mut conn = Connection::open_in_memory().expect("opens");
        ensure(&mut conn, Contents::Empty, 0).expect("a new layout");
        let tail_by_key = |sql: &str| {
            let mut statement = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("explains");
            let plan: Vec<String> = statement
                .query_map([1], |row| row.get(3))
                .expect("runs")
                .collect::<rusqlite::Result<_>>()
                .expect("plan");
            assert!(
                plan.iter()
                    .any(|line| line.starts_with("SEARCH log USING PRIMARY KEY (tx>?)"))
                    && !plan.iter().any(|line| line.starts_with("SCAN log")),
                "{sql}: {plan:#?}"
            );
        };
        tail_by_key(
            &ATTRIBUTE_COUNTS.replace("(SELECT tx FROM attribute_stats_basis WHERE id = 1)", "?1"),
        );
        tail_by_key(TAIL_CHANGES);
    }
}
