//! The `factlite` binary's trust settings: `--durability`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn factlite(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_factlite"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("factlite runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn durability_is_chosen_by_name_and_a_wrong_name_lists_the_choices() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for name in ["full", "normal", "unsafe-no-sync"] {
        let output = factlite(dir.path(), &["d.db", "--durability", name, "-e", "[]"]);
        assert!(output.status.success(), "{name}: {}", text(&output.stderr));
    }
    let output = factlite(dir.path(), &["d.db", "--durability", "fast", "-e", "[]"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("choose one of full, normal, unsafe-no-sync"),
        "{}",
        text(&output.stderr)
    );
}
