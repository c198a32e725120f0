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
    /// What an acknowledged transaction survives: [`Durability::Full`] (a
    /// power loss; the default), [`Durability::Normal`] (a crash of the
    /// process) or [`Durability::UnsafeNoSync`] (for bulk loads only).
    pub durability: Durability,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            busy_timeout: Duration::from_secs(5),
            readers: 4,
            durability: Durability::Full,
        }
    }
}

impl Config {
    /// The lower store's configuration.
    pub(crate) fn into_store_config(self) -> factlite_store::Config {
        factlite_store::Config {
            busy_timeout: self.busy_timeout,
            durability: self.durability,
        }
    }
}
