//! Runs the fixpoint programs of a plan (semi-naive evaluation of recursion
//! that `WITH RECURSIVE` cannot express, see the planner's `fixpoint`)
//! before the plan's statement: their temporary tables are filled inside the
//! read transaction the statement then runs in, and dropped when the
//! statement is done.
//!
//! The rows the rounds derive count against the query's limit on values
//! ([`QueryLimits::max_values`]); its time limit stops a round as it stops
//! any statement.
//!
//! The tables are named by the plan (`fixpoint_recN`), so two such queries
//! cannot overlap on one connection: a second one started while the first's
//! rows are still being read fails (SQLite refuses to drop a table a running
//! statement reads) rather than disturb it.

use factlite_planner::Fixpoint;
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

use crate::db::ReadTransaction;
use crate::error::Result;
use crate::{ConnectionGuard, QueryLimits};

/// The computed relations of a plan, alive until dropped: then the
/// temporary tables go, and the read transaction (if this began it) ends.
pub(crate) struct Evaluation<'c> {
    teardown: Vec<String>,
    read: ReadTransaction<'c>,
}

impl<'c> Evaluation<'c> {
    /// Runs the programs, in order, with the plan's parameters. `None` when
    /// there are none (no transaction is begun).
    pub(crate) fn run(
        conn: ConnectionGuard<'c>,
        programs: &[Fixpoint],
        params: &[SqlValue],
        limits: &QueryLimits,
    ) -> Result<Option<Evaluation<'c>>> {
        if programs.is_empty() {
            return Ok(None);
        }
        let mut evaluation = Evaluation {
            teardown: Vec::new(),
            read: ReadTransaction::begin(conn)?,
        };
        let conn = evaluation.read.connection();
        for program in programs {
            evaluation.teardown.extend(program.teardown.iter().cloned());
            for sql in &program.setup {
                execute(conn, sql, params)?;
            }
            let Some((insert, rest)) = program.round.split_first() else {
                continue;
            };
            let mut derived = 0;
            loop {
                let new = execute(conn, insert, params)?;
                if new == 0 {
                    break;
                }
                derived += new;
                limits.check_values(derived, "the rows a recursive rule derives")?;
                for sql in rest {
                    execute(conn, sql, params)?;
                }
            }
        }
        Ok(Some(evaluation))
    }
}

impl Drop for Evaluation<'_> {
    fn drop(&mut self) {
        for sql in &self.teardown {
            // A table left behind is dropped by the next run's setup, or
            // with the connection: nothing more to do if this fails.
            let _ = self.read.connection().execute_batch(sql);
        }
    }
}

/// Runs one statement with the prefix of the plan's parameters it takes;
/// returns the number of rows it changed.
fn execute(conn: &Connection, sql: &str, params: &[SqlValue]) -> Result<usize> {
    let mut statement = conn.prepare_cached(sql)?;
    let count = statement.parameter_count();
    for (index, value) in params.iter().take(count).enumerate() {
        statement.raw_bind_parameter(index + 1, value)?;
    }
    Ok(statement.raw_execute()?)
}
