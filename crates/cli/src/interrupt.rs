//! Ctrl-C while a statement runs. The line editor reads Ctrl-C as a key
//! while the user types; while a statement runs the terminal is back in
//! its normal mode and Ctrl-C arrives as SIGINT. [`install`] turns SIGINT
//! into SQLite's interrupt on the open store's connection (the running
//! statement fails and its transaction rolls back) and raises a flag that
//! long loops such as imports check between steps. Only the interactive
//! REPL installs it: elsewhere Ctrl-C ends the process as usual.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use factlite::Store;

/// Interrupts the statements running on the open store.
type Interrupter = Box<dyn Fn() + Send>;

static INTERRUPTER: Mutex<Option<Interrupter>> = Mutex::new(None);
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Makes SIGINT interrupt the running statement instead of ending the
/// process.
pub fn install() -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        if let Ok(guard) = INTERRUPTER.lock() {
            if let Some(interrupt) = guard.as_ref() {
                interrupt();
            }
        }
    })
}

/// Makes Ctrl-C interrupt statements on `store` (the store a session just
/// opened).
pub fn watch(store: &Store) {
    let handle = store.cancel_handle();
    if let Ok(mut guard) = INTERRUPTER.lock() {
        *guard = Some(Box::new(move || {
            handle.cancel();
        }));
    }
}

/// Forgets an earlier Ctrl-C, before a statement starts.
pub fn clear() {
    INTERRUPTED.store(false, Ordering::SeqCst);
}

/// Whether Ctrl-C was pressed since [`clear`].
pub fn was_interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
