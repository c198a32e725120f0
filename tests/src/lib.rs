//! Helpers for the workspace's integration tests (the tests themselves are
//! `tests.rs` and its modules): where the workspace and the shared
//! conformance corpus are, and running scenario files as a test.

use std::path::{Path, PathBuf};

use factlite_cli::check::{run_files, CheckOptions};

/// The workspace root (the directory holding `crates/` and `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits inside the workspace")
        .to_path_buf()
}

/// The environment variable that points the tests at a conformance corpus
/// elsewhere than `shared/conformance` beside the repository.
pub const CONFORMANCE_DIR_VAR: &str = "FACTLITE_CONFORMANCE_DIR";

/// The environment variable that makes a missing shared corpus fail the
/// tests instead of skipping them (`.ci/run` sets it: CI has the corpus).
pub const REQUIRE_CONFORMANCE_VAR: &str = "FACTLITE_REQUIRE_CONFORMANCE";

/// Where the shared conformance corpus is looked for: the directory named by
/// `FACTLITE_CONFORMANCE_DIR`, else `shared/conformance` beside the
/// repository (`X/main` and `X/shared`, as in CI).
pub fn shared_conformance_location() -> PathBuf {
    match std::env::var_os(CONFORMANCE_DIR_VAR) {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("../shared/conformance"),
    }
}

/// The shared conformance corpus, when it is there. A fresh clone has
/// nothing beside it: then the tests that read the corpus skip it, and the
/// test binary says so once, in one line on standard error. With
/// `FACTLITE_REQUIRE_CONFORMANCE` set, a missing corpus fails the test.
pub fn shared_conformance_dir() -> Option<PathBuf> {
    let dir = shared_conformance_location();
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os(REQUIRE_CONFORMANCE_VAR).is_none(),
        "the shared conformance corpus is missing: expected the directory {} \
         ({REQUIRE_CONFORMANCE_VAR} is set, so its absence is a failure)",
        dir.display()
    );
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        // Written to the process's standard error directly, past the test
        // harness's capture, so the line shows even when every test passes.
        let line = format!(
            "conformance: no shared corpus at {}; its scenarios are skipped \
             (set {CONFORMANCE_DIR_VAR} to run them)\n",
            dir.display()
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    });
    None
}

/// The project's own scenarios, `tests/scenarios`, in the corpus format.
pub fn local_scenarios_dir() -> PathBuf {
    workspace_root().join("tests/scenarios")
}

/// Every scenario file there is to run: the shared corpus's (when present)
/// and the project's own.
pub fn all_scenario_files() -> Vec<PathBuf> {
    let mut files = shared_conformance_dir()
        .map(|dir| edn_files(&dir))
        .unwrap_or_default();
    files.extend(edn_files(&local_scenarios_dir()));
    files
}

/// The `*.edn` files of `dir`, sorted by name.
pub fn edn_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
                .path()
        })
        .filter(|path| path.extension().is_some_and(|ext| ext == "edn"))
        .collect();
    files.sort();
    files
}

/// Runs scenario files with the runner's options (`views: true` is
/// `check --views`) and fails the test with the runner's report if any
/// scenario fails.
pub fn assert_scenarios_pass_with(files: &[PathBuf], options: &CheckOptions) {
    assert!(!files.is_empty(), "no scenario files to run");
    let summary = run_files(files, options);
    let lines: Vec<String> = summary.failure_lines().collect();
    assert!(
        summary.failed() == 0,
        "{}\n{}",
        lines.join("\n"),
        summary.summary_line()
    );
}
