//! The follower: a thread of its own that takes the records the reader
//! task delivers, in batches of what has arrived, and applies them to the
//! local store (one SQLite transaction per batch). A record that does not
//! follow from the store's state halts it; the reason stays for every later
//! call to see.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use factlite::replication::LogRecord;
use factlite::{Entid, TxReport};
use parking_lot::{Condvar, Mutex};
use tokio::sync::mpsc;

use crate::log::Delivery;

/// What the follower and the callers share.
pub struct Shared {
    /// Why the node stopped following the log, once it has.
    halted: Mutex<Option<String>>,
    /// How far the node has applied the log with everything after each
    /// commit done (views' subscribers told): what `sync` waits for. The
    /// store's own position moves at the commit, before its subscribers
    /// hear of it.
    applied: Mutex<Applied>,
    /// Told whenever the store's position may have moved.
    moved: Condvar,
    /// Set when the node closes.
    pub stopping: AtomicBool,
}

/// A point of the log applied in full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The newest transaction applied.
    pub tx: Entid,
    /// The position of the last record applied.
    pub position: u64,
}

impl Shared {
    /// Shared state of a node that has applied the log up to `applied`.
    pub fn new(applied: Applied) -> Shared {
        Shared {
            halted: Mutex::new(None),
            applied: Mutex::new(applied),
            moved: Condvar::new(),
            stopping: AtomicBool::new(false),
        }
    }

    /// How far the node has applied the log, subscribers told.
    pub fn applied(&self) -> Applied {
        *self.applied.lock()
    }

    /// Records that the records up to `position` are applied in full, the
    /// newest of `reports` among them, and wakes the callers waiting.
    pub fn applied_through(&self, position: u64, reports: &[TxReport]) {
        {
            let mut applied = self.applied.lock();
            applied.position = applied.position.max(position);
            if let Some(tx) = reports.iter().map(|report| report.tx).max() {
                applied.tx = applied.tx.max(tx);
            }
        }
        self.notify();
    }

    /// Why the node stopped following, if it has.
    pub fn halted(&self) -> Option<String> {
        self.halted.lock().clone()
    }

    fn halt(&self, reason: String) {
        *self.halted.lock() = Some(reason);
        self.moved.notify_all();
    }

    /// Wakes the callers waiting for a position.
    pub fn notify(&self) {
        let _guard = self.halted.lock();
        self.moved.notify_all();
    }

    /// Waits until `reached()` is true, the node halts or `deadline`
    /// passes; whether it was reached. `reached` is asked again after each
    /// batch the follower applies (and at least every 50 ms).
    pub fn wait_until(
        &self,
        deadline: Instant,
        mut reached: impl FnMut() -> bool,
    ) -> Result<bool, String> {
        loop {
            if let Some(reason) = self.halted() {
                return Err(reason);
            }
            if reached() {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            let mut guard = self.halted.lock();
            let pause = (deadline - now).min(Duration::from_millis(50));
            self.moved.wait_for(&mut guard, pause);
        }
    }
}

/// Applies deliveries until the node closes or halts.
pub fn run(
    store: factlite::Store,
    shared: Arc<Shared>,
    runtime: tokio::runtime::Handle,
    mut deliveries: mpsc::Receiver<Delivery>,
    batch: usize,
) {
    while !shared.stopping.load(Ordering::Acquire) {
        let first = runtime.block_on(async {
            tokio::time::timeout(Duration::from_millis(100), deliveries.recv()).await
        });
        let first = match first {
            Err(_elapsed) => continue,
            Ok(None) => return,
            Ok(Some(delivery)) => delivery,
        };
        let mut records = Vec::new();
        let mut last = 0;
        let mut next = Some(first);
        while let Some(delivery) = next.take() {
            match delivery {
                Delivery::Record(position, bytes) => match LogRecord::decode(&bytes) {
                    Ok(record) => {
                        last = position;
                        records.push((position, record));
                    }
                    Err(error) => {
                        shared.halt(format!("the record at position {position}: {error}"));
                        return;
                    }
                },
                Delivery::Gap { expected, found } => {
                    shared.halt(format!(
                        "the log no longer holds its records from position {expected} (the \
                         next it holds is {found}): it was purged below this node; start the \
                         node again from a snapshot"
                    ));
                    return;
                }
            }
            if records.len() < batch {
                next = deliveries.try_recv().ok();
            }
        }
        // Any failure halts: a busy file (another process writing it, which
        // a node's file must not have) as much as a divergence.
        match store.apply_log_records(records) {
            Ok(reports) => shared.applied_through(last, &reports),
            Err(error) => {
                shared.halt(error.to_string());
                return;
            }
        }
    }
}
