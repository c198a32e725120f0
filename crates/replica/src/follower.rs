//! The follower: a thread of its own that takes the records the reader
//! task delivers, in batches of what has arrived, and applies them to the
//! local store (one SQLite transaction per batch). A record that does not
//! follow from the store's state halts it; the reason stays for every later
//! call to see.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use factlite::replication::LogRecord;
use parking_lot::{Condvar, Mutex};
use tokio::sync::mpsc;

use crate::log::Delivery;

/// What the follower and the callers share.
#[derive(Default)]
pub struct Shared {
    /// Why the node stopped following the log, once it has.
    halted: Mutex<Option<String>>,
    /// Told whenever the store's position may have moved.
    moved: Condvar,
    /// Set when the node closes.
    pub stopping: AtomicBool,
}

impl Shared {
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
        let mut next = Some(first);
        while let Some(delivery) = next.take() {
            match delivery {
                Delivery::Record(position, bytes) => match LogRecord::decode(&bytes) {
                    Ok(record) => records.push((position, record)),
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
        if let Err(error) = store.apply_log_records(records) {
            shared.halt(error.to_string());
            return;
        }
        shared.notify();
    }
}
