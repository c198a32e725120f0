//! A real 3-node JetStream cluster on loopback for the replica tests,
//! started with `scripts/nats-cluster` in a temporary directory, one at a
//! time (a global lock), and stopped when dropped. The server binary is
//! `$FACTLITE_NATS_SERVER`, or the one `.ci/run` installs into `.nats/` at
//! the workspace root. Without it the tests skip, saying so in one line —
//! except under `CI=true`, where a missing server fails them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use factlite_replica::{Config, Durability};

static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The nats-server binary, if there is one to use.
fn server_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FACTLITE_NATS_SERVER") {
        return Some(PathBuf::from(path));
    }
    let installed = workspace_root().join(".nats/bin/nats-server");
    installed.exists().then_some(installed)
}

/// A running cluster; stopped on drop.
pub struct Cluster {
    dir: tempfile::TempDir,
    base: u16,
    _lock: MutexGuard<'static, ()>,
}

impl Cluster {
    /// Starts a cluster, or `None` (having said why) when no server is
    /// installed outside CI.
    pub fn start(test: &str) -> Option<Cluster> {
        let Some(binary) = server_binary() else {
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!(
                    "CI=true and no nats-server: .ci/run installs it with \
                     `scripts/nats-cluster install .nats`"
                );
            }
            eprintln!(
                "skipping {test}: no nats-server (run `scripts/nats-cluster install .nats` or set \
                 FACTLITE_NATS_SERVER)"
            );
            return None;
        };
        let mut lock = ONE_CLUSTER_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A port taken between the check and the start (by another
        // program) fails a start: stop what started and try other ports.
        let mut logs = String::new();
        for attempt in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir");
            let base = free_base(attempt);
            let status = Command::new(workspace_root().join("scripts/nats-cluster"))
                .args(["start".as_ref(), dir.path().as_os_str()])
                .env("NATS_SERVER_BIN", &binary)
                .env("NATS_CLUSTER_PORT_BASE", base.to_string())
                .status()
                .expect("scripts/nats-cluster runs");
            let cluster = Cluster {
                dir,
                base,
                _lock: lock,
            };
            if status.success() {
                return Some(cluster);
            }
            for n in 1..=3 {
                let log = cluster.dir.path().join(format!("n{n}/server.log"));
                logs.push_str(&std::fs::read_to_string(log).unwrap_or_default());
            }
            // Dropping the cluster stops its servers; the lock goes with it.
            drop(cluster);
            lock = ONE_CLUSTER_AT_A_TIME
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        panic!("no cluster started in three attempts; the servers said:\n{logs}");
    }

    /// Server `n`'s client URL (n = 1..3).
    pub fn url(&self, n: u16) -> String {
        format!("nats://127.0.0.1:{}", self.base + n - 1)
    }

    /// Every server's client URL.
    pub fn urls(&self) -> Vec<String> {
        (1..=3).map(|n| self.url(n)).collect()
    }

    /// A node's configuration on the given servers, durable, with short
    /// timeouts.
    pub fn config(&self, servers: &[String], stream: &str) -> Config {
        let servers: Vec<&str> = servers.iter().map(String::as_str).collect();
        let mut config = Config::new(&servers, stream);
        config.durability = Durability::Durable;
        config.request_timeout = Duration::from_secs(2);
        config.settle_timeout = Duration::from_secs(20);
        config
    }

    fn pid(&self, n: u16) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("n{n}/pid")))
            .expect("the server's pid file")
            .trim()
            .to_string()
    }

    /// Sends a signal (`STOP`, `CONT`, `KILL`) to server `n`.
    pub fn signal(&self, n: u16, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.pid(n)])
            .status()
            .expect("kill runs");
        assert!(status.success(), "signalled server {n}");
    }

    /// The server (1..3) leading a stream, asked of the monitoring endpoint
    /// of a server that is running.
    pub fn stream_leader(&self, stream: &str) -> u16 {
        for n in 1..=3 {
            let monitor = self.base + 4000 + n - 1;
            let output = Command::new("curl")
                .args([
                    "-fsS",
                    "--max-time",
                    "2",
                    &format!("http://127.0.0.1:{monitor}/jsz?streams=true"),
                ])
                .output()
                .expect("curl runs");
            let Ok(jsz) = serde_json::from_slice::<serde_json::Value>(&output.stdout) else {
                continue;
            };
            for account in jsz["account_details"].as_array().into_iter().flatten() {
                for info in account["stream_detail"].as_array().into_iter().flatten() {
                    if info["name"] == stream {
                        if let Some(leader) = info["cluster"]["leader"].as_str() {
                            return leader[1..].parse().expect("servers are named n1..n3");
                        }
                    }
                }
            }
        }
        panic!("no server names a leader of {stream}");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(workspace_root().join("scripts/nats-cluster"))
            .args(["stop".as_ref(), self.dir.path().as_os_str()])
            .status();
    }
}

/// One JetStream server alone, with the default fsync policy (every two
/// minutes, not before each ack); killed on drop.
pub struct LoneServer {
    child: std::process::Child,
    _dir: tempfile::TempDir,
    /// Its client URL.
    pub url: String,
}

impl LoneServer {
    /// Starts one, or `None` when no server is installed (as
    /// [`Cluster::start`] decides).
    pub fn start(test: &str) -> Option<LoneServer> {
        let cluster = Cluster::start(test)?;
        let binary = server_binary().expect("a cluster started, so a server is installed");
        let (base, dir) = (cluster.base, tempfile::tempdir().expect("temp dir"));
        drop(cluster);
        let child = Command::new(binary)
            .args(["-js", "-a", "127.0.0.1", "-p", &base.to_string()])
            .args(["-m", &(base + 4000).to_string(), "-sd"])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server starts");
        let server = LoneServer {
            child,
            _dir: dir,
            url: format!("nats://127.0.0.1:{base}"),
        };
        for _ in 0..100 {
            let ready = Command::new("curl")
                .args(["-fsS", &format!("http://127.0.0.1:{}/healthz", base + 4000)])
                .output()
                .is_ok_and(|output| output.status.success());
            if ready {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the lone server did not become ready");
    }
}

impl Drop for LoneServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port base whose nine ports (client, cluster, monitoring) are free.
fn free_base(attempt: u16) -> u16 {
    let start = 20_000 + (std::process::id() % 200) as u16 * 10 + attempt * 997;
    (0..400)
        .map(|k| start + k * 7 % 4000)
        .find(|base| {
            (0..3).all(|n| {
                [0, 2000, 4000].iter().all(|offset| {
                    std::net::TcpListener::bind(("127.0.0.1", base + offset + n)).is_ok()
                })
            })
        })
        .expect("a free port base")
}

/// Every table of a node's file that replication keeps equal, as text.
pub fn tables(path: &Path) -> String {
    let conn = factlite::rusqlite::Connection::open(path).expect("the node's file");
    let mut out = String::new();
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'fulltext_%' ORDER BY name",
        )
        .expect("tables")
        .query_map([], |row| row.get(0))
        .expect("names")
        .map(|name| name.expect("name"))
        .collect();
    for name in names {
        out.push_str(&format!("== {name}\n"));
        let mut statement = conn
            .prepare(&format!("SELECT * FROM \"{name}\""))
            .expect("select");
        let columns = statement.column_count();
        let mut rows: Vec<String> = statement
            .query_map([], |row| {
                Ok((0..columns)
                    .map(|i| format!("{:?}", row.get_ref(i).expect("field")))
                    .collect::<Vec<_>>()
                    .join(" "))
            })
            .expect("rows")
            .map(|row| row.expect("row"))
            .collect();
        rows.sort();
        out.push_str(&rows.join("\n"));
        out.push('\n');
    }
    out
}
