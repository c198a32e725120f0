//! How a node reaches its log: the servers, the stream, what durability it
//! demands of them and how long it waits.

use std::time::Duration;

/// What a node asks of the servers before it trusts an acknowledgement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// Every server named must fsync before it acknowledges
    /// (`sync_interval: always`), checked on its monitoring endpoint
    /// (`/varz`) when the node opens; a server that does not is refused.
    /// With the default interval (two minutes) an acknowledged write can be
    /// lost when a majority of servers lose power.
    #[default]
    Durable,
    /// The servers' fsync policy is not checked.
    Relaxed,
}

/// A node's configuration. [`Config::new`] fills in the defaults.
#[derive(Clone, Debug)]
pub struct Config {
    /// The servers, as `nats://host:port` URLs; the client connects to one
    /// and fails over to the others.
    pub servers: Vec<String>,
    /// The JetStream stream holding the log (letters, digits, `-` and
    /// `_`). Its subject is `factlite.<stream>`; it is created, with
    /// [`Config::replicas`] copies, when missing.
    pub stream: String,
    /// How many servers keep a copy of a new stream.
    pub replicas: usize,
    /// What the servers must promise before an acknowledgement counts.
    pub durability: Durability,
    /// The servers' monitoring endpoints (`http://host:port`), for the
    /// durability check. Empty: each server's host with its client port
    /// plus 4000 (the NATS defaults, 4222 and 8222).
    pub monitor_urls: Vec<String>,
    /// How long one request to the servers (a publish's acknowledgement,
    /// a stream lookup) may take before it counts as unanswered.
    pub request_timeout: Duration,
    /// How long a write whose acknowledgement did not come may take to be
    /// settled (the servers elect a new leader in 4–9 s) before the
    /// caller is told its outcome is unknown.
    pub settle_timeout: Duration,
    /// How often a write that lost the race for the next position is
    /// caught up and tried again before it fails as a conflict.
    pub write_attempts: usize,
    /// The most records applied in one SQLite transaction while catching
    /// up.
    pub batch: usize,
    /// Whether a node opened on a file that does not exist starts from the
    /// log's newest snapshot ([`crate::ReplicatedStore::publish_snapshot`]),
    /// when the log keeps one, rather than replaying the log from its
    /// genesis (which a purged log no longer holds).
    pub bootstrap_from_snapshot: bool,
    /// The local store's own configuration.
    pub store: factlite::Config,
}

impl Config {
    /// A configuration with the defaults: three replicas, durable, 2 s
    /// requests, 30 s to settle, 8 attempts, batches of 500, new nodes
    /// started from the log's snapshot when it keeps one.
    pub fn new(servers: &[&str], stream: &str) -> Config {
        Config {
            servers: servers.iter().map(|server| server.to_string()).collect(),
            stream: stream.to_string(),
            replicas: 3,
            durability: Durability::Durable,
            monitor_urls: Vec::new(),
            request_timeout: Duration::from_secs(2),
            settle_timeout: Duration::from_secs(30),
            write_attempts: 8,
            batch: 500,
            bootstrap_from_snapshot: true,
            store: factlite::Config::default(),
        }
    }

    /// The subject the stream's records are published on.
    pub fn subject(&self) -> String {
        format!("factlite.{}", self.stream)
    }
}
