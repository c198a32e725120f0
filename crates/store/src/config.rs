//! [`Config`]: how a store's connections are opened — the busy timeout, the
//! [`Durability`] of a commit and the size the WAL is kept near
//! ([`Config::wal_limit`]).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How a store is opened. Every connection of a store (the writer and its
/// siblings) is configured alike.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long a writer waits for another writer's lock before failing
    /// with [`crate::Error::Busy`].
    pub busy_timeout: Duration,
    /// What a commit survives once acknowledged (see [`Durability`]).
    pub durability: Durability,
    /// The size in bytes the WAL file is kept near: SQLite's
    /// `journal_size_limit`, and after a commit that leaves the WAL larger,
    /// a checkpoint that empties it unless a reader still needs its frames
    /// (then a later commit does, once the reader lets go).
    pub wal_limit: u64,
}

/// The default [`Config::wal_limit`]: 16 MiB.
pub const DEFAULT_WAL_LIMIT: u64 = 16 << 20;

impl Default for Config {
    fn default() -> Config {
        Config {
            busy_timeout: Duration::from_secs(5),
            durability: Durability::Full,
            wal_limit: DEFAULT_WAL_LIMIT,
        }
    }
}

/// What an acknowledged transaction survives: SQLite's `synchronous`
/// setting, on a WAL journal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Durability {
    /// An acknowledged transaction survives a power loss or an operating
    /// system crash: each commit waits for the WAL to reach the disk
    /// (`synchronous = FULL`). The default.
    #[default]
    Full,
    /// An acknowledged transaction survives a crash of the process, but the
    /// last ones may be lost (never half-written) if the machine loses
    /// power: the WAL reaches the disk at checkpoints (`synchronous =
    /// NORMAL`).
    Normal,
    /// For bulk loads into a file that can be rebuilt: nothing waits for
    /// the disk (`synchronous = OFF`), so a power loss or operating system
    /// crash may lose transactions or damage the file. A crash of the
    /// process alone loses nothing.
    UnsafeNoSync,
}

impl Durability {
    /// Every setting, safest first.
    pub const ALL: [Durability; 3] = [
        Durability::Full,
        Durability::Normal,
        Durability::UnsafeNoSync,
    ];

    /// The name `--durability` takes: `full`, `normal`, `unsafe-no-sync`.
    pub fn name(self) -> &'static str {
        match self {
            Durability::Full => "full",
            Durability::Normal => "normal",
            Durability::UnsafeNoSync => "unsafe-no-sync",
        }
    }

    /// SQLite's `PRAGMA synchronous` value for this setting.
    pub fn synchronous(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
            Durability::UnsafeNoSync => "OFF",
        }
    }
}

impl fmt::Display for Durability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A durability name that is not one of [`Durability::name`]'s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownDurability(pub String);

impl fmt::Display for UnknownDurability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Durability::ALL.iter().map(|d| d.name()).collect();
        write!(
            f,
            "{:?} is not a durability; choose one of {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownDurability {}

impl FromStr for Durability {
    type Err = UnknownDurability;

    fn from_str(text: &str) -> Result<Durability, UnknownDurability> {
        Durability::ALL
            .into_iter()
            .find(|durability| durability.name() == text)
            .ok_or_else(|| UnknownDurability(text.to_string()))
    }
}
