//! Bounds on a query: [`QueryLimits`] (a time limit and the number of values
//! a whole result may gather) and the [`Watch`] that enforces the time limit
//! while the query's statements run.
//!
//! The time limit is SQLite's progress handler: every few thousand virtual
//! machine instructions it asks whether the deadline has passed, and when it
//! has, the running statement stops as an interrupt does. The watch
//! remembers that it fired, so the interrupt is reported as
//! [`Error::Timeout`] rather than as a cancel. Either way the statement's
//! read transaction ends and the store stays usable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::Store;

/// How many SQLite virtual machine instructions run between two looks at
/// the clock: a look costs tens of nanoseconds, this many instructions
/// tens of microseconds.
const INSTRUCTIONS_PER_CHECK: i32 = 10_000;

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
    /// Set by the handler when it stopped the query.
    fired: Arc<AtomicBool>,
    timeout: Option<Duration>,
}

impl<'s> Watch<'s> {
    /// Starts the clock of `limits.timeout` (nothing when there is none).
    pub(crate) fn start(store: &'s Store, limits: &QueryLimits) -> Watch<'s> {
        let fired = Arc::new(AtomicBool::new(false));
        let mut watch = Watch {
            store,
            installed: false,
            fired: fired.clone(),
            timeout: limits.timeout,
        };
        let Some(timeout) = limits.timeout else {
            return watch;
        };
        if !store.begin_watch() {
            return watch;
        }
        let deadline = Instant::now() + timeout;
        store.connection().progress_handler(
            INSTRUCTIONS_PER_CHECK,
            Some(move || {
                let late = Instant::now() >= deadline;
                if late {
                    fired.store(true, Ordering::Release);
                }
                late
            }),
        );
        watch.installed = true;
        watch
    }

    /// The error as the caller should see it: an interrupt caused by the
    /// deadline is a timeout.
    pub(crate) fn classify(&self, error: Error) -> Error {
        match (error, self.timeout) {
            (Error::Interrupted, Some(timeout)) if self.fired.load(Ordering::Acquire) => {
                Error::Timeout {
                    limit_ms: timeout.as_millis() as u64,
                }
            }
            (error, _) => error,
        }
    }
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
