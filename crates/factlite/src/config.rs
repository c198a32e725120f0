//! [`Config`]: how a store is opened.

use std::time::Duration;

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
        }
    }
}

impl Config {
    /// The lower store's configuration.
    pub(crate) fn to_store_config(&self) -> factlite_store::Config {
        factlite_store::Config {
            busy_timeout: self.busy_timeout,
        }
    }
}
