//! The plain-EAV SQLite baseline: one `datoms(e, a, v, tx)` table with
//! EAVT, AEVT and AVET indexes in a WAL file at factlite's default
//! durability (`synchronous = FULL`), written and read with hand-written
//! SQL through prepared statements, every value a bound parameter.
//! Attributes are small integers and entities count up from 1; a keyword
//! value is its text (`:male`).

use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection};

use crate::data::Person;

/// The attribute ids of the baseline's tables.
pub const NAME: i64 = 1;
pub const LAST_NAME: i64 = 2;
pub const SEX: i64 = 3;
pub const AGE: i64 = 4;
pub const SALARY: i64 = 5;
pub const PERSON_ID: i64 = 6;
pub const PARENT: i64 = 7;

/// A baseline database and the next transaction id it writes.
pub struct Baseline {
    pub conn: Connection,
    next_tx: i64,
}

impl Baseline {
    /// Creates the table and its indexes in a new file.
    pub fn create(path: &Path) -> rusqlite::Result<Baseline> {
        let conn = Connection::open(path)?;
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             CREATE TABLE datoms (e INTEGER NOT NULL, a INTEGER NOT NULL, v NOT NULL, tx INTEGER NOT NULL);
             CREATE INDEX eavt ON datoms (e, a, v, tx);
             CREATE INDEX aevt ON datoms (a, e, v, tx);
             CREATE INDEX avet ON datoms (a, v, e, tx);",
        )?;
        Ok(Baseline { conn, next_tx: 1 })
    }

    fn take_tx(&mut self) -> i64 {
        self.next_tx += 1;
        self.next_tx - 1
    }

    /// Runs `write` in one transaction with a new transaction id.
    fn transaction(
        &mut self,
        write: impl FnOnce(&Connection, i64) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        let tx = self.take_tx();
        let transaction = self.conn.unchecked_transaction()?;
        write(&transaction, tx)?;
        transaction.commit()
    }

    /// Inserts datoms through the cached insert statement.
    fn insert(conn: &Connection, tx: i64, datoms: &[(i64, i64, SqlValue)]) -> rusqlite::Result<()> {
        let mut insert =
            conn.prepare_cached("INSERT INTO datoms (e, a, v, tx) VALUES (?1, ?2, ?3, ?4)")?;
        for (e, a, v) in datoms {
            insert.execute(params![e, a, v, tx])?;
        }
        Ok(())
    }

    /// Writes the datoms of each group in a transaction of its own.
    pub fn transact_each(&mut self, groups: &[Vec<(i64, i64, SqlValue)>]) -> rusqlite::Result<()> {
        for datoms in groups {
            self.transaction(|conn, tx| Baseline::insert(conn, tx, datoms))?;
        }
        Ok(())
    }

    /// Deletes each entity's datoms, one transaction per entity.
    pub fn retract_each(&mut self, entities: &[i64]) -> rusqlite::Result<()> {
        for &e in entities {
            self.transaction(|conn, _| {
                conn.prepare_cached("DELETE FROM datoms WHERE e = ?1")?
                    .execute([e])
                    .map(drop)
            })?;
        }
        Ok(())
    }

    /// Replaces a cardinality-one value in one transaction.
    pub fn update(&mut self, e: i64, a: i64, v: SqlValue) -> rusqlite::Result<()> {
        self.transaction(|conn, tx| {
            conn.prepare_cached("UPDATE datoms SET v = ?1, tx = ?2 WHERE e = ?3 AND a = ?4")?
                .execute(params![v, tx, e, a])
                .map(drop)
        })
    }

    /// The rows of a query, every column read into a Rust value.
    pub fn rows(&self, sql: &str, parameters: &[SqlValue]) -> rusqlite::Result<u64> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let width = statement.column_count();
        let rows = statement.query_map(params_from_iter(parameters), |row| {
            (0..width)
                .map(|i| row.get::<_, SqlValue>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        let mut count = 0;
        for row in rows {
            std::hint::black_box(row?);
            count += 1;
        }
        Ok(count)
    }

    /// A `SELECT count(*) ...` query's count.
    pub fn count(&self, sql: &str, parameters: &[SqlValue]) -> rusqlite::Result<u64> {
        self.conn
            .prepare_cached(sql)?
            .query_row(params_from_iter(parameters), |row| row.get(0))
    }

    /// SQLite's `EXPLAIN QUERY PLAN` of a statement, one line per step.
    pub fn query_plan(&self, sql: &str, parameters: &[SqlValue]) -> rusqlite::Result<Vec<String>> {
        let mut statement = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let lines = statement.query_map(params_from_iter(parameters), |row| row.get(3))?;
        lines.collect()
    }
}

/// The five datoms of person `e`.
pub fn person_datoms(e: i64, person: &Person) -> Vec<(i64, i64, SqlValue)> {
    vec![
        (e, NAME, SqlValue::Text(person.name.into())),
        (e, LAST_NAME, SqlValue::Text(person.last_name.into())),
        (e, SEX, SqlValue::Text(format!(":{}", person.sex()))),
        (e, AGE, SqlValue::Integer(person.age)),
        (e, SALARY, SqlValue::Integer(person.salary)),
    ]
}

/// Loads people as entities `1..`, in one transaction.
pub fn load_people(path: &Path, people: &[Person]) -> rusqlite::Result<Baseline> {
    let mut baseline = Baseline::create(path)?;
    let datoms: Vec<_> = (1..)
        .zip(people)
        .flat_map(|(e, person)| person_datoms(e, person))
        .collect();
    baseline.transact_each(&[datoms])?;
    baseline.conn.execute_batch("ANALYZE")?;
    Ok(baseline)
}

/// Loads a genealogy (entity = person id), in one transaction.
pub fn load_genealogy(path: &Path, parents: &[Vec<usize>]) -> rusqlite::Result<Baseline> {
    let mut baseline = Baseline::create(path)?;
    let mut datoms = Vec::new();
    for (id, of) in parents.iter().enumerate().skip(1) {
        let e = id as i64;
        datoms.push((e, PERSON_ID, SqlValue::Integer(e)));
        for &parent in of {
            datoms.push((e, PARENT, SqlValue::Integer(parent as i64)));
        }
    }
    baseline.transact_each(&[datoms])?;
    baseline.conn.execute_batch("ANALYZE")?;
    Ok(baseline)
}
