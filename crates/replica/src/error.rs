//! The replica crate's error: the local store's, or what went wrong with the
//! log, each saying what to do.

use std::fmt;
use std::time::Duration;

/// Any error a replicated node returns.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The local store refused (a transaction's own error: unknown
    /// attribute, cas failed, ...; or the file).
    Store(factlite::Error),
    /// The configuration cannot work (no servers, a bad stream name or
    /// URL).
    Config(String),
    /// No server could be reached.
    Connect {
        /// The servers tried.
        servers: String,
        /// What the client said.
        reason: String,
    },
    /// A server does not fsync before it acknowledges, and the node was
    /// opened as durable.
    NotDurable {
        /// The monitoring endpoint that said so.
        monitor: String,
    },
    /// A server's monitoring endpoint could not be read for the durability
    /// check.
    Monitor {
        /// The endpoint.
        monitor: String,
        /// What went wrong.
        reason: String,
    },
    /// The stream could not be found, created or read.
    Stream {
        /// The stream.
        stream: String,
        /// What the servers said.
        reason: String,
    },
    /// The transaction lost the race for the next position of the log as
    /// often as the configuration allows.
    Conflict {
        /// The attempts made.
        attempts: usize,
    },
    /// The log did not acknowledge the transaction and could not be asked
    /// in time whether it holds it. Nothing was committed here; if the log
    /// holds it, the node applies it as it follows the log.
    OutcomeUnknown {
        /// How long settling was tried.
        waited: Duration,
    },
    /// The log holds the transaction, but committing it to this node's
    /// file failed (a disk error, say): the node applies it from the log
    /// as it follows, so it must not be sent again.
    NotCommittedHere {
        /// The transaction's position in the log.
        position: u64,
        /// Why the local commit failed.
        reason: String,
    },
    /// The transaction's record is larger than the servers take.
    TooLarge {
        /// The record's size.
        bytes: usize,
        /// The servers' limit.
        limit: usize,
    },
    /// The node did not reach the transaction or position asked for in
    /// time (the log's servers unreachable, or the node behind).
    Timeout {
        /// What was waited for.
        waiting_for: String,
        /// How long.
        waited: Duration,
    },
    /// A snapshot could not be made, kept, read or used (the reason says
    /// which).
    Snapshot(String),
    /// The operating system failed the node (no random bytes, no thread).
    System(String),
    /// The node stopped following the log: a record did not follow from
    /// its state (or could not be read), and it takes no more writes.
    Halted(String),
}

/// The replica crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Store(error) => write!(f, "{error}"),
            Error::Config(message) => {
                write!(f, "the replication configuration is wrong: {message}")
            }
            Error::Connect { servers, reason } => {
                write!(f, "no NATS server answered at {servers}: {reason}")
            }
            Error::NotDurable { monitor } => write!(
                f,
                "the server behind {monitor} does not fsync before it acknowledges; run it with \
                 `jetstream {{ sync_interval: always }}`, or open the node with \
                 Durability::Relaxed"
            ),
            Error::Monitor { monitor, reason } => write!(
                f,
                "could not read {monitor} to check the server's fsync policy: {reason}; give the \
                 monitoring URLs in the configuration, or open the node with Durability::Relaxed"
            ),
            Error::Stream { stream, reason } => {
                write!(
                    f,
                    "the JetStream stream {stream} could not be used: {reason}"
                )
            }
            Error::Conflict { attempts } => write!(
                f,
                "other nodes took the log's next position {attempts} times in a row; the \
                 transaction was not committed: try it again"
            ),
            Error::OutcomeUnknown { waited } => write!(
                f,
                "the log did not answer within {} ms whether it holds the transaction; nothing \
                 was committed here, and if the log holds it this node applies it as it follows \
                 the log (sync to the log's head, then look)",
                waited.as_millis()
            ),
            Error::NotCommittedHere { position, reason } => write!(
                f,
                "the log holds the transaction (position {position}), but committing it to this \
                 node's file failed: {reason}; the node applies it from the log as it follows \
                 (sync to see it): do not send it again"
            ),
            Error::TooLarge { bytes, limit } => write!(
                f,
                "the transaction's record is {bytes} bytes and the servers take at most {limit}; \
                 nothing was committed: split the transaction"
            ),
            Error::Timeout {
                waiting_for,
                waited,
            } => write!(
                f,
                "this node did not reach {waiting_for} within {} ms (the log's servers may be \
                 unreachable from here); its reads may be stale",
                waited.as_millis()
            ),
            Error::Snapshot(reason) => write!(f, "snapshot: {reason}"),
            Error::System(message) => write!(f, "{message}"),
            Error::Halted(reason) => write!(
                f,
                "this node stopped following the log: {reason}; it takes no writes, and its \
                 reads stay as of its last record"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Store(error) => Some(error),
            _ => None,
        }
    }
}

impl From<factlite::Error> for Error {
    fn from(error: factlite::Error) -> Error {
        Error::Store(error)
    }
}
