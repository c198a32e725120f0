//! Scripts fed to `factlite DB` on stdin, each on a fresh database in a
//! temporary directory holding the files of `tests/data/`: every
//! `tests/scripts/NAME.fl` must print exactly what `NAME.expected` holds
//! (stdout, then stderr, then the exit code). A script whose first line is
//! `; args: ...` runs with those arguments after the database (`--json`,
//! `--param ?x=1`). No script may print Rust debug text (`Variable(...)`).
//! `UPDATE_SNAPSHOTS=1` rewrites the expected files for review.

mod support;

use std::path::{Path, PathBuf};

use factlite_cli::words::debug_text;

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
    let mut args = vec!["test.db"];
    if let Some(extra) = text
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("; args: "))
    {
        args.extend(extra.split_whitespace());
    }
    let output = support::factlite_with_input(work.path(), &args, &text);
    let mut printed = String::from_utf8_lossy(&output.stdout).into_owned();
    printed.push_str("--- stderr\n");
    printed.push_str(&String::from_utf8_lossy(&output.stderr));
    printed.push_str(&format!(
        "--- exit {}\n",
        output.status.code().unwrap_or(-1)
    ));
    // Import times and rates, and transaction instants, differ from run to
    // run.
    printed
        .lines()
        .map(|line| match line.find(" in ") {
            Some(index) if line.starts_with("imported ") => {
                format!("{} in (time)\n", &line[..index])
            }
            _ => format!("{}\n", without_json_times(line)),
        })
        .collect()
}

/// A line of JSON output with the values of its `"seconds"` and
/// `"instant"` keys replaced by `(time)`.
fn without_json_times(line: &str) -> String {
    let mut out = line.to_string();
    for key in ["\"seconds\":", "\"instant\":"] {
        if let Some(start) = out.find(key).map(|at| at + key.len()) {
            let end = out[start..]
                .find([',', '}'])
                .map_or(out.len(), |length| start + length);
            out.replace_range(start..end, "\"(time)\"");
        }
    }
    out
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
        if let Some(line) = debug_text(&actual) {
            failures.push(format!("{}: debug text: {line}", script.display()));
        }
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
