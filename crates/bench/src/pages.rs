//! Pages written by commits to a database file in WAL mode, counted from
//! the write-ahead log itself: a reader holds a snapshot taken while the
//! log is empty, so no checkpoint can reset the log while the writes run,
//! and every frame of every commit stays in it. Each frame is one page
//! written; the frames' page numbers, looked up in SQLite's `dbstat`
//! table, say which table or index each page belongs to at the end (a page
//! freed by one table and reused by another during the run counts for the
//! second; one still free counts as "free pages").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// The size of a WAL file's header and of each frame's header, in bytes.
const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// Counts the pages the commits to one file write while it lives.
pub struct PageCounter {
    conn: Connection,
    database: PathBuf,
}

/// The pages a run of commits wrote, in all and by table or index.
#[derive(Clone, Debug, Default)]
pub struct Pages {
    pub total: u64,
    pub by_table: BTreeMap<String, u64>,
}

impl PageCounter {
    /// Empties the file's log (a truncating checkpoint) and holds a read
    /// transaction on what it holds then, for as long as the counter lives.
    pub fn start(database: &Path) -> rusqlite::Result<PageCounter> {
        let conn = Connection::open(database)?;
        let (busy, _, _): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
        if busy != 0 {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                Some("the log could not be emptied: another connection reads".into()),
            ));
        }
        conn.execute_batch("BEGIN")?;
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |row| {
            row.get::<_, i64>(0)
        })?;
        Ok(PageCounter {
            conn,
            database: database.to_path_buf(),
        })
    }

    /// Ends the read and counts the frames the log holds, by the table or
    /// index each page belongs to now.
    pub fn finish(self) -> rusqlite::Result<Pages> {
        self.conn.execute_batch("COMMIT")?;
        let mut wal = self.database.clone().into_os_string();
        wal.push("-wal");
        let log = std::fs::read(&wal).unwrap_or_default();
        let page_size: usize = self
            .conn
            .query_row("PRAGMA page_size", [], |row| row.get(0))?;
        let mut owner = self
            .conn
            .prepare("SELECT name FROM dbstat WHERE pageno = ?1")?;
        let mut pages = Pages::default();
        let frames = log
            .get(WAL_HEADER..)
            .unwrap_or_default()
            .chunks_exact(FRAME_HEADER + page_size);
        for frame in frames {
            let number = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
            let name = owner
                .query_row([number], |row| row.get::<_, String>(0))
                .unwrap_or_else(|_| "free pages".into());
            pages.total += 1;
            *pages.by_table.entry(name).or_default() += 1;
        }
        Ok(pages)
    }
}

impl Pages {
    /// The pages per commit, `commits` commits, as "total (table n, ...)"
    /// with the tables most written first.
    pub fn per_commit(&self, commits: usize) -> String {
        let per = |n: u64| n as f64 / commits.max(1) as f64;
        let mut tables: Vec<(&String, &u64)> = self.by_table.iter().collect();
        tables.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = tables
            .iter()
            .map(|(name, n)| format!("{name} {:.2}", per(**n)))
            .collect();
        format!("{:.2} ({})", per(self.total), parts.join(", "))
    }
}
