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

/// The shared conformance corpus: `shared/conformance` beside the
/// repository (`X/main` and `X/shared`, here and in CI). Panics with a
/// clear message when it is missing.
pub fn shared_conformance_dir() -> PathBuf {
    let dir = workspace_root().join("../shared/conformance");
    assert!(
        dir.is_dir(),
        "the shared conformance corpus is missing: expected the directory {} \
         (the `shared` checkout beside this repository)",
        dir.display()
    );
    dir
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
