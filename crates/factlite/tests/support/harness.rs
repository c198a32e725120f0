//! What the child-process harnesses (`crash.rs`, `concurrency.rs`) share:
//! they have no test harness of their own (`harness = false`), so each
//! `main` honours a test-name filter itself and turns its parent's outcome
//! into an exit code.

use std::process::ExitCode;

/// Runs `parent` unless the command line filters the harness `name` out,
/// printing its summary, or its failure, and exiting accordingly.
pub fn run_parent(name: &str, parent: impl FnOnce() -> Result<String, String>) -> ExitCode {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
        println!("{name}: skipped (filtered out)");
        return ExitCode::SUCCESS;
    }
    match parent() {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{name} test failed: {message}");
            ExitCode::FAILURE
        }
    }
}
