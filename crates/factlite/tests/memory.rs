//! Memory proportional to the data (issue 15): a large string given to
//! `Store::transact` by value is not copied on its way to SQLite. The
//! transaction runs in a child process (this test binary run again on this
//! test alone), so that the peak it reads (`VmHWM`, Linux only) is its own.
//! `cargo bench -p factlite --bench memory` gives the figures.

use std::process::Command;

use factlite::edn::{Keyword, Value};
use factlite::Store;

const CHILD: &str = "FACTLITE_MEMORY_TEST_CHILD";
const MEGABYTES: usize = 50;

fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// In the child: transacts the string and prints how much the peak grew.
fn transact_a_large_string() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(dir.path().join("big.db")).expect("store opens");
    store
        .transact(
            "[{:db/ident :doc/text :db/valueType :db.type/string \
              :db/cardinality :db.cardinality/one}]",
        )
        .expect("schema");
    let text = "x".repeat(MEGABYTES << 20);
    let data = Value::Vector(vec![Value::Vector(vec![
        Value::Keyword(Keyword::namespaced("db", "add")),
        Value::String("big".to_string()),
        Value::Keyword(Keyword::namespaced("doc", "text")),
        Value::String(text),
    ])]);
    let before = peak_memory_bytes().unwrap_or(0);
    store.transact(data).expect("the string transacts");
    let after = peak_memory_bytes().unwrap_or(0);
    println!("grew by {}", after.saturating_sub(before));
}

#[test]
fn a_large_string_given_by_value_is_not_copied_on_its_way_to_sqlite() {
    if std::env::var_os(CHILD).is_some() {
        transact_a_large_string();
        return;
    }
    if peak_memory_bytes().is_none() {
        println!("no /proc/self/status here: the peak cannot be read, nothing to check");
        return;
    }
    let me = std::env::current_exe().expect("this test's binary");
    let output = Command::new(me)
        .args([
            "a_large_string_given_by_value_is_not_copied_on_its_way_to_sqlite",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let grew: u64 = stdout
        .lines()
        .find_map(|line| line.strip_prefix("grew by ")?.parse().ok())
        .unwrap_or_else(|| panic!("no figure in {stdout}"));
    // The string's own copies inside SQLite's INSERT (its bound copy, the
    // log row and two index keys, about 4x) and the page cache (64 MiB)
    // remain. Regression: its copies in the transaction data, the ops, the
    // datoms, the cardinality-one check and the report took the peak to
    // about 8.7x the string.
    let size = (MEGABYTES << 20) as u64;
    assert!(
        grew < 7 * size,
        "the peak grew by {:.1}x the string",
        grew as f64 / size as f64
    );
}
