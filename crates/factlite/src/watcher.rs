//! The watcher: a thread a file store starts with its first view
//! subscription, which looks at every interval for commits another
//! process made on the file (`Views::poll`, which tells the subscribers of
//! the views they changed). It ends when the store is gone or has no
//! subscribers left, and the next subscription starts it again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Starts the watcher unless `running` says one runs: `look` is called
/// every `interval` until it returns `false` (the store gone, or no
/// subscriber left). `running` is cleared when the watcher ends, however
/// it ends (a subscriber's panic included).
pub fn start(
    running: &Arc<AtomicBool>,
    interval: Duration,
    look: impl Fn() -> bool + Send + 'static,
) {
    if running.swap(true, Ordering::AcqRel) {
        return;
    }
    let flag = running.clone();
    let spawned = std::thread::Builder::new()
        .name("factlite-watcher".to_string())
        .spawn(move || {
            let _running = Running(flag);
            loop {
                std::thread::sleep(interval);
                if !look() {
                    return;
                }
            }
        });
    if spawned.is_err() {
        // No thread: subscribers hear of other processes' commits at the
        // store's next read or write instead, and the next subscription
        // tries again.
        running.store(false, Ordering::Release);
    }
}

/// Clears the flag when the watcher's thread ends.
struct Running(Arc<AtomicBool>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
