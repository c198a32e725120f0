//! `factlite FILE.db --replicate URLS --stream NAME` against a real 3-node
//! JetStream cluster on loopback (`scripts/nats-cluster`, the server that
//! `.ci/run` installs into `.nats/`, or `$FACTLITE_NATS_SERVER`): skipped,
//! saying so, without a server — except under `CI=true`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{factlite, text};

const BASE: u16 = 27_222;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn server() -> Option<PathBuf> {
    let binary = std::env::var_os("FACTLITE_NATS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".nats/bin/nats-server"));
    binary.exists().then_some(binary)
}

/// Stops the cluster in its directory when dropped.
struct Running<'d>(&'d Path, &'d Path);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        cluster("stop", self.0, self.1);
    }
}

fn cluster(command: &str, dir: &Path, binary: &Path) {
    let status = Command::new(root().join("scripts/nats-cluster"))
        .args([command.as_ref(), dir.as_os_str()])
        .env("NATS_SERVER_BIN", binary)
        .env("NATS_CLUSTER_PORT_BASE", BASE.to_string())
        .status()
        .expect("scripts/nats-cluster runs");
    assert!(status.success(), "nats-cluster {command}");
}

#[test]
fn two_nodes_write_and_read_through_the_log_and_sync_shows_the_position() {
    let Some(binary) = server() else {
        assert!(
            std::env::var("CI").map_or(true, |ci| ci != "true"),
            "CI=true and no nats-server: .ci/run installs it"
        );
        eprintln!(
            "skipping the --replicate test: no nats-server (scripts/nats-cluster install .nats)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let nats = dir.path().join("nats");
    cluster("start", &nats, &binary);
    let _running = Running(&nats, &binary);
    let urls = (0..3)
        .map(|n| format!("nats://127.0.0.1:{}", BASE + n))
        .collect::<Vec<_>>()
        .join(",");
    let node = |file: &str, statements: &str| {
        let output = factlite(
            dir.path(),
            &[
                file,
                "--replicate",
                &urls,
                "--stream",
                "cli",
                "-e",
                statements,
            ],
        );
        (
            output.status.success(),
            text(&output.stdout),
            text(&output.stderr),
        )
    };
    let (ok, out, err) = node(
        "a.db",
        "[{:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]\n\
         [{:person/name \"Ann\"}]\n.sync",
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("position 3, transaction"), "{out}");
    // Another node catches up before its first statement.
    let (ok, out, err) = node("b.db", "[:find ?n . :where [_ :person/name ?n]]\n.sync");
    assert!(ok, "{out}{err}");
    assert!(out.contains(" Ann\n"), "{out}");
    assert!(out.contains("position 3"), "{out}");
    // Opened alone, a node's file refuses writes of its own.
    let output = factlite(dir.path(), &["b.db", "-e", "[{:person/name \"Bo\"}]"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("follows a replicated log"),
        "{}",
        text(&output.stderr)
    );
    let output = factlite(dir.path(), &["c.db", "-e", ".sync"]);
    assert!(text(&output.stderr).contains(".sync is for a replicated node"));
}
