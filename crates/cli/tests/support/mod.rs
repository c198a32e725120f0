//! What the binary tests share: running `factlite` with text on stdin.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `factlite ARGS` in `dir` with `input` on stdin, and waits for it.
pub fn factlite_with_input(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_factlite"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("factlite runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("input written");
    child.wait_with_output().expect("factlite ends")
}
