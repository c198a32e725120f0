//! What the binary tests share: running `factlite`, with or without text
//! on stdin, and reading its output. (Not every test binary uses every
//! helper, hence the `allow(dead_code)`s.)

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `factlite ARGS` in `dir` with nothing on stdin, and waits for it.
#[allow(dead_code)]
pub fn factlite(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_factlite"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("factlite runs")
}

/// Output bytes as text.
#[allow(dead_code)]
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `factlite ARGS` in `dir` with `input` on stdin, and waits for it.
#[allow(dead_code)]
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
