//! The `factlite` binary's trust settings: `--durability`, `--timeout` and
//! `.timeout`, `--read-only`.

mod support;

use support::{factlite, text};

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

/// A database of 300 numbers, whose cube no query finishes quickly.
fn numbers() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let numbers: Vec<String> = (0..300).map(|i| format!("{{:n/v {i}}}")).collect();
    let setup = format!(
        "[{{:db/ident :n/v :db/valueType :db.type/long :db/cardinality :db.cardinality/one}}]\n[{}]",
        numbers.join(" ")
    );
    let output = factlite(dir.path(), &["n.db", "-e", &setup]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    dir
}

const CUBE: &str = "[:find ?a ?b ?c :where [_ :n/v ?a] [_ :n/v ?b] [_ :n/v ?c]]";

#[test]
fn timeout_stops_a_query_given_in_seconds_on_the_command_line_or_by_timeout() {
    let dir = numbers();
    let output = factlite(dir.path(), &["n.db", "--timeout", "0.05", "-e", CUBE]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains(":error/timeout the query ran past its time limit of 50 ms"),
        "{}",
        text(&output.stderr)
    );
    let script = format!(".timeout 0.05\n.timeout\n{CUBE}");
    let output = factlite(dir.path(), &["n.db", "-e", &script]);
    assert_eq!(text(&output.stdout), "queries stop after 0.05 s\n");
    assert!(
        text(&output.stderr).contains(":error/timeout"),
        "{}",
        text(&output.stderr)
    );
    let output = factlite(
        dir.path(),
        &["n.db", "--timeout", "9", "-e", ".timeout off\n.timeout"],
    );
    assert_eq!(text(&output.stdout), "queries have no time limit\n");
    let output = factlite(dir.path(), &["n.db", "--timeout", "soon", "-e", "[]"]);
    assert!(
        text(&output.stderr).contains("give a positive number of seconds"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn read_only_reads_a_database_and_refuses_transactions() {
    let dir = numbers();
    let count = "[:find (count ?v) . :where [_ :n/v ?v]]";
    let output = factlite(dir.path(), &["n.db", "--read-only", "-e", count]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("300"),
        "{}",
        text(&output.stdout)
    );
    let output = factlite(dir.path(), &["n.db", "--read-only", "-e", "[{:n/v 300}]"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("this store was opened read-only"),
        "{}",
        text(&output.stderr)
    );
    let output = factlite(dir.path(), &["missing.db", "--read-only", "-e", count]);
    assert!(
        text(&output.stderr)
            .contains("missing.db is not a factlite database: there is no such file"),
        "{}",
        text(&output.stderr)
    );
    assert!(!dir.path().join("missing.db").exists());
}
