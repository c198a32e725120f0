//! Bounds on a query: [`QueryLimits`] (a time limit, the number of values
//! a whole result may gather, and the memory SQLite may take for it) and
//! the [`Watch`] that enforces the time and memory limits while the
//! query's statements run.
//!
//! Both are SQLite's progress handler: every few thousand virtual machine
//! instructions it asks whether the deadline has passed or SQLite's memory
//! has grown past the limit since the query began (a recursive rule that
//! never ends, a cross product sorted in memory), and when one has, the
//! running statement stops as an interrupt does. The watch remembers why
//! it fired, so the interrupt is reported as [`Error::Timeout`] or
//! [`Error::MemoryLimit`] rather than as a cancel. Either way the
//! statement's read transaction ends and the store stays usable. SQLite
//! counts its memory for the whole process: queries running at once on
//! other connections count towards each other's growth.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::Store;

/// How many SQLite virtual machine instructions run between two looks at
/// the clock: a look costs tens of nanoseconds, this many instructions
/// tens of microseconds.
const INSTRUCTIONS_PER_CHECK: i32 = 10_000;

/// Why a watch stopped its query.
const NOT_FIRED: u8 = 0;
const PAST_DEADLINE: u8 = 1;
const PAST_MEMORY: u8 = 2;

/// What a query may spend. The default bounds nothing (the store's own
/// reads, and views' maintenance, run unbounded); the façade applies its
/// configured defaults to the snapshots it hands out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueryLimits {
    /// How long the query may run before it stops with
    /// [`Error::Timeout`].
    pub timeout: Option<Duration>,
    /// How many values a whole result (every cell of a relation's rows, or
    /// a collection's values), the rows gathered for aggregates computed in
    /// Rust, or the rows a fixpoint derives (each row counted as one), may
    /// hold before the query stops with [`Error::Limit`]. A streamed result
    /// is not limited.
    pub max_values: Option<usize>,
    /// How many bytes SQLite's memory may grow by while the query runs
    /// before it stops with [`Error::MemoryLimit`].
    pub max_memory: Option<usize>,
}

impl QueryLimits {
    /// [`Error::Limit`] if `count` values are more than the limit allows.
    pub(crate) fn check_values(&self, count: usize, gathered: &'static str) -> Result<()> {
        match self.max_values {
            Some(limit) if count > limit => Err(Error::Limit { limit, gathered }),
            _ => Ok(()),
        }
    }
}

/// The time limit of one query, enforced while it lives (a progress handler
/// on the store's connection, removed when dropped). A query run while
/// another is watched on the same connection (from inside a streamed
/// result's reader) shares the outer one's watch.
pub(crate) struct Watch<'s> {
    store: &'s Store,
    /// Whether this watch installed the handler (and so removes it).
    installed: bool,
    /// Set by the handler when it stopped the query: why.
    fired: Arc<AtomicU8>,
    limits: QueryLimits,
}

impl<'s> Watch<'s> {
    /// Starts the clock of `limits.timeout` and the count of
    /// `limits.max_memory` (nothing when there is neither).
    pub(crate) fn start(store: &'s Store, limits: &QueryLimits) -> Watch<'s> {
        let fired = Arc::new(AtomicU8::new(NOT_FIRED));
        let mut watch = Watch {
            store,
            installed: false,
            fired: fired.clone(),
            limits: *limits,
        };
        if (limits.timeout.is_none() && limits.max_memory.is_none()) || !store.begin_watch() {
            return watch;
        }
        let deadline = limits.timeout.map(|timeout| Instant::now() + timeout);
        let ceiling = limits
            .max_memory
            .map(|bytes| sqlite_memory().saturating_add(bytes as i64));
        store.connection().progress_handler(
            INSTRUCTIONS_PER_CHECK,
            Some(move || {
                let why = if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                    PAST_DEADLINE
                } else if ceiling.is_some_and(|ceiling| sqlite_memory() > ceiling) {
                    PAST_MEMORY
                } else {
                    return false;
                };
                fired.store(why, Ordering::Release);
                true
            }),
        );
        watch.installed = true;
        watch
    }

    /// The error as the caller should see it: an interrupt caused by the
    /// deadline is a timeout, one caused by memory a memory limit.
    pub(crate) fn classify(&self, error: Error) -> Error {
        match (error, self.fired.load(Ordering::Acquire)) {
            (Error::Interrupted, PAST_DEADLINE) => Error::Timeout {
                limit_ms: self.limits.timeout.map_or(0, |t| t.as_millis() as u64),
            },
            (Error::Interrupted, PAST_MEMORY) => Error::MemoryLimit {
                limit_bytes: self.limits.max_memory.unwrap_or(0),
            },
            (error, _) => error,
        }
    }
}

/// The bytes of memory SQLite holds now, in the whole process.
fn sqlite_memory() -> i64 {
    // SAFETY: `sqlite3_memory_used` only reads SQLite's counter of its own
    // allocations; it takes no pointers and may be called from any thread.
    unsafe { rusqlite::ffi::sqlite3_memory_used() }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if self.installed {
            self.store
                .connection()
                .progress_handler(0, None::<fn() -> bool>);
            self.store.end_watch();
        }
    }
}
