//! Scripts fed to `factlite DB` on stdin, each on a fresh database in a
//! temporary directory holding the files of `tests/data/`: every
//! `tests/scripts/NAME.fl` must print exactly what `NAME.expected` holds
//! (stdout, then stderr, then the exit code). `UPDATE_SNAPSHOTS=1` rewrites
//! the expected files for review.

mod support;

use std::path::{Path, PathBuf};

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Runs one script and returns what it printed, in the expected files' form.
fn run_script(script: &Path) -> String {
    let work = tempfile::tempdir().expect("temporary directory");
    for entry in std::fs::read_dir(tests_dir().join("data")).expect("tests/data") {
        let path = entry.expect("data file").path();
        let name = path.file_name().expect("file name");
        std::fs::copy(&path, work.path().join(name)).expect("copy data file");
    }
    let text = std::fs::read_to_string(script).expect("script");
    let output = support::factlite_with_input(work.path(), &["test.db"], &text);
    let mut printed = String::from_utf8_lossy(&output.stdout).into_owned();
    printed.push_str("--- stderr\n");
    printed.push_str(&String::from_utf8_lossy(&output.stderr));
    printed.push_str(&format!(
        "--- exit {}\n",
        output.status.code().unwrap_or(-1)
    ));
    // Import times and rates differ from run to run.
    printed
        .lines()
        .map(|line| match line.find(" in ") {
            Some(index) if line.starts_with("imported ") => {
                format!("{} in (time)\n", &line[..index])
            }
            _ => format!("{line}\n"),
        })
        .collect()
}

#[test]
fn scripts_print_what_their_expected_files_hold() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(tests_dir().join("scripts"))
        .expect("tests/scripts")
        .map(|entry| entry.expect("script").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "fl"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 5, "scripts: {scripts:?}");
    let mut failures = Vec::new();
    for script in &scripts {
        let actual = run_script(script);
        let expected_path = script.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &actual).expect("expected file written");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                script.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
