//! The `factlite` binary's inputs are bounded (issue 15): endless input on
//! stdin stops at the statement limit in bounded memory, and endless or
//! binary files given to `.read` and `.import` are refused, as is an
//! endless CSV row. (A script that
//! reads itself and binary files are in `tests/scripts/bounded_inputs.fl`.)

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

/// The peak memory of a running process, in bytes, when the system says.
fn peak_memory(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `factlite e.db` in `dir`, its standard streams piped.
fn spawn_on_e_db(dir: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_factlite"))
        .arg("e.db")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("factlite runs")
}

#[test]
fn endless_stdin_stops_at_the_statement_limit_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut child = spawn_on_e_db(dir.path());
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("stdin");
    // A bracket never closed, then lines of spaces until factlite stops
    // reading (its end of the pipe closes).
    let writer = std::thread::spawn(move || {
        let line = format!("{}\n", " ".repeat(1023));
        let mut written = 0u64;
        let mut peak = 0;
        let mut chunk = "[".to_string();
        while stdin.write_all(chunk.as_bytes()).is_ok() {
            written += chunk.len() as u64;
            chunk = line.repeat(64);
            if written % (4 << 20) < chunk.len() as u64 {
                peak = peak.max(peak_memory(pid).unwrap_or(0));
            }
        }
        (written, peak)
    });
    let output = child.wait_with_output().expect("factlite ends");
    let (written, peak) = writer.join().expect("writer");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert_eq!(
        stderr.trim_end(),
        "stdin:1: :error/limit the text from this line on goes past 64 MiB without ending a \
         statement, the most one statement or form may take (endless input, or a bracket never \
         closed?)"
    );
    assert!(written >= 64 << 20, "{written} bytes written");
    // Regression: all of stdin was read before the first statement ran.
    assert!(written < 80 << 20, "{written} bytes written");
    let measured = peak > 0 || peak_memory(std::process::id()).is_none();
    assert!(measured, "no peak memory read where /proc has it");
    assert!(peak < 256 << 20, "peak memory {peak} bytes");
}

#[cfg(unix)]
#[test]
fn an_endless_binary_file_is_refused_by_read_and_import() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.edn")).expect("symlink");
    let script = ".bail off\n.read zero.edn\n.import zero.edn\n";
    let output = support::factlite_with_input(dir.path(), &["z.db"], script);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "stdin:2: zero.edn:1: :error/parse not text: it holds a NUL byte (is it a binary file?)\n\
         stdin:3: :error/import zero.edn line 1: not text: it holds a NUL byte (is it a binary \
         file?); nothing was imported\n"
    );
}

/// A CSV file that never ends its second row (a FIFO fed by a thread until
/// factlite stops reading) is refused at the statement limit, in bounded
/// memory; the row before it, in the same batch, is not imported.
#[cfg(unix)]
#[test]
fn an_endless_csv_row_stops_at_the_limit_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let fifo = dir.path().join("endless.csv");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", fifo.display());
    let writer = std::thread::spawn(move || {
        let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(&fifo) else {
            return 0u64;
        };
        let mut written = 0u64;
        let mut chunk = "item/name\nfirst\n".to_string();
        while file.write_all(chunk.as_bytes()).is_ok() {
            written += chunk.len() as u64;
            chunk = "x".repeat(64 << 10);
        }
        written
    });
    let script = ".bail off\n\
        [{:db/ident :item/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]\n\
        .import endless.csv\n";
    let mut child = spawn_on_e_db(dir.path());
    let pid = child.id();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script written");
    let watcher = std::thread::spawn(move || {
        let mut peak = 0;
        while let Some(now) = peak_memory(pid) {
            peak = peak.max(now);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        peak
    });
    let output = child.wait_with_output().expect("factlite ends");
    let written = writer.join().expect("writer");
    let peak = watcher.join().expect("watcher");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim_end(),
        "stdin:3: :error/import endless.csv line 3: the text from this line on goes past 64 MiB \
         without ending a statement, the most one statement or form may take (endless input, or \
         a bracket never closed?); nothing was imported"
    );
    assert!(written >= 64 << 20, "{written} bytes written");
    assert!(written < 80 << 20, "{written} bytes written");
    assert!(peak < 256 << 20, "peak memory {peak} bytes");
}
