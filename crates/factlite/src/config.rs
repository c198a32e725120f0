//! [`Config`]: how a store is opened.

use std::time::Duration;

use crate::Durability;

/// How a store is opened ([`crate::Store::open_with`]); `Config::default()`
/// is what [`crate::Store::open`] uses.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// How long a writer waits for another writer's lock (another process
    /// writing the same file) before failing with `:error/storage`.
    pub busy_timeout: Duration,
    /// How many reader connections a file store opens at most, for
    /// snapshots read in parallel (each reads through one connection, one
    /// thread at a time; snapshots share the least used one beyond this).
    pub readers: usize,
    /// How many bytes of a file store each connection reads through
    /// memory-mapped I/O (SQLite's `mmap_size`; 0 turns it off). Pages read
    /// from the map skip SQLite's page cache, which the bundled SQLite
    /// shares among all connections behind one lock: without the map,
    /// threads reading in parallel wait on each other (two threads ran at
    /// 0.6× one thread's throughput in `benches/threads.rs`; with it, 2×).
    /// The map costs address space, not memory. Its trade-off, as SQLite
    /// documents it: an I/O error on a mapped page (a failing disk, a file
    /// truncated by another program) stops the process with a signal
    /// instead of returning an error.
    pub mmap_size: u64,
    /// What an acknowledged transaction survives: [`Durability::Full`] (a
    /// power loss; the default), [`Durability::Normal`] (a crash of the
    /// process) or [`Durability::UnsafeNoSync`] (for bulk loads only).
    pub durability: Durability,
    /// How long a query may run before it stops with [`crate::Error::Timeout`]
    /// (none by default); [`crate::Db::with_timeout`] and a query's own
    /// `:timeout` (milliseconds) override it.
    pub query_timeout: Option<Duration>,
    /// How many values a whole result may hold — the cells of a relation's
    /// rows, a collection's values, the rows gathered for an aggregate or
    /// derived by a recursive rule — before the query stops with
    /// [`crate::Error::Limit`]: ten million by default. [`crate::Db::q_rows`]
    /// streams a result of any size.
    pub result_limit: usize,
    /// How many bytes SQLite's memory may grow by while one query runs
    /// before it stops with [`crate::Error::MemoryLimit`]: 1 GiB by default
    /// (a recursive rule that never ends, a cross product sorted in
    /// memory). SQLite counts its memory for the whole process, so queries
    /// running at once count towards each other's growth.
    pub memory_limit: usize,
    /// The size in bytes the WAL file is kept near (16 MiB by default): a
    /// long read lets it grow, and the first commit after the read ends
    /// empties it.
    pub wal_limit: u64,
    /// How often a file store with view subscribers looks for commits
    /// another process made on the file, to tell the subscribers
    /// ([`crate::Store::subscribe`]): 50 ms by default.
    pub watch_interval: Duration,
}

/// 1 GiB of address space on 64-bit targets; none on smaller ones.
const DEFAULT_MMAP_SIZE: u64 = if cfg!(target_pointer_width = "64") {
    1 << 30
} else {
    0
};

impl Default for Config {
    fn default() -> Config {
        Config {
            busy_timeout: Duration::from_secs(5),
            readers: 4,
            mmap_size: DEFAULT_MMAP_SIZE,
            durability: Durability::Full,
            query_timeout: None,
            result_limit: DEFAULT_RESULT_LIMIT,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            wal_limit: factlite_store::DEFAULT_WAL_LIMIT,
            watch_interval: Duration::from_millis(50),
        }
    }
}

/// The default [`Config::result_limit`]: ten million values, a few hundred
/// megabytes of small values.
pub const DEFAULT_RESULT_LIMIT: usize = 10_000_000;

/// The default [`Config::memory_limit`]: 1 GiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 1 << 30;

impl Config {
    /// The limits of the snapshots a store hands out.
    pub(crate) fn query_limits(&self) -> factlite_store::QueryLimits {
        factlite_store::QueryLimits {
            timeout: self.query_timeout,
            max_values: Some(self.result_limit),
            max_memory: Some(self.memory_limit),
        }
    }

    /// The lower store's configuration.
    pub(crate) fn store_config(&self) -> factlite_store::Config {
        factlite_store::Config {
            busy_timeout: self.busy_timeout,
            durability: self.durability,
            wal_limit: self.wal_limit,
        }
    }
}
