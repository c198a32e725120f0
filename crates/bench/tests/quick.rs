//! The smoke test of the benchmark suite: `factlite-bench --quick` runs
//! every workload at a small scale on every system, and fails when their
//! counts differ; its times are not judged. It needs no network.

use std::process::Command;

#[test]
fn the_quick_run_checks_every_workload_and_writes_its_report() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = dir.path().join("BENCHMARKS.md");
    let output = Command::new(env!("CARGO_BIN_EXE_factlite-bench"))
        .args(["--quick", "--out"])
        .arg(&report)
        .output()
        .expect("the bench binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "factlite-bench --quick failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written = std::fs::read_to_string(&report).expect("the report is written");
    for workload in [
        "| q1 |",
        "| q2-switch |",
        "| q4 |",
        "| qpred2 |",
        "| add-1 (",
        "| add-all (",
        "| retract-5 (",
        "ancestors of one person",
        "filter before the rule call",
        "one-datom write, factlite with the view",
    ] {
        assert!(
            written.contains(workload),
            "{workload} missing from:\n{written}"
        );
        assert!(
            stdout.contains(workload),
            "{workload} missing from the output"
        );
    }
    assert!(written.contains("- machine: "), "{written}");
}

#[test]
fn an_unknown_argument_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_factlite-bench"))
        .arg("--fast")
        .output()
        .expect("the bench binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown argument \"--fast\""));
}
