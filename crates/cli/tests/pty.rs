//! The interactive REPL driven through a pseudo-terminal, as a person
//! would: history kept between sessions, input spread over several lines
//! (with a continuation prompt), Tab completion (a list on the second Tab;
//! commands, attributes, file names, modes, variables), Ctrl-C during a
//! long recursive query, colour and `NO_COLOR`, every error category
//! typed at the prompt, and a progress bar that moves with the bytes an
//! import reads. Every wait is bounded by [`TIMEOUT_MS`].

#![cfg(unix)]

use std::path::Path;
use std::process::Command;

use rexpect::session::{spawn_command, PtySession};

/// The longest any expected output may take to appear.
const TIMEOUT_MS: u64 = 20_000;

/// `factlite` on a terminal in `dir`, with its history in `dir/history`.
fn spawn(dir: &Path, args: &[&str]) -> PtySession {
    spawn_with(dir, args, &[])
}

/// [`spawn`] with more environment variables.
fn spawn_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_factlite"));
    command
        .args(args)
        .current_dir(dir)
        .env("FACTLITE_HISTORY", dir.join("history"))
        .env_remove("NO_COLOR")
        .envs(env.iter().copied())
        .env("TERM", "xterm");
    let mut session = spawn_command(command, Some(TIMEOUT_MS)).expect("factlite starts on a pty");
    session.exp_string("Type .help").expect("banner");
    session.exp_string("factlite> ").expect("first prompt");
    session
}

/// Waits for the prompt after the last statement's output, leaves with
/// Ctrl-D and waits for the process to end. (Ctrl-D sent before the line
/// editor is reading again can be flushed with the terminal's input.)
fn leave(mut session: PtySession) {
    session
        .exp_string("factlite> ")
        .expect("the prompt after the last statement");
    session.send_control('d').expect("Ctrl-D");
    session.exp_eof().expect("factlite ends on Ctrl-D");
}

/// Sends keys without a newline, as typed.
fn type_keys(session: &mut PtySession, keys: &str) {
    session.send(keys).expect("keys sent");
    session.flush().expect("keys flushed");
    // Let the line editor take each key sequence on its own.
    std::thread::sleep(std::time::Duration::from_millis(200));
}

fn run(dir: &Path, statements: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_factlite"))
        .args(["test.db", "-e", statements])
        .current_dir(dir)
        .output()
        .expect("factlite -e runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const PEOPLE: &str = r#"[{:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]
[{:person/name "Ann" :person/age 31} {:person/name "Bo" :person/age 29}]"#;

#[test]
fn history_is_kept_between_sessions() {
    let dir = tempfile::tempdir().expect("temporary directory");
    run(dir.path(), PEOPLE);
    let mut session = spawn(dir.path(), &["test.db"]);
    session
        .send_line("[:find ?a . :where [?p :person/name \"Bo\"] [?p :person/age ?a]]")
        .expect("query typed");
    session.exp_string("29").expect("the query ran");
    leave(session);
    let history = std::fs::read_to_string(dir.path().join("history")).expect("history file");
    assert!(history.contains(":person/name \"Bo\""), "{history}");

    let mut session = spawn(dir.path(), &["test.db"]);
    // Up arrow brings the last statement of the earlier session back.
    type_keys(&mut session, "\x1b[A");
    type_keys(&mut session, "\r");
    session
        .exp_string("(1 row)")
        .expect("the recalled query ran");
    leave(session);
}

#[test]
fn input_goes_on_over_lines_until_the_brackets_balance() {
    let dir = tempfile::tempdir().expect("temporary directory");
    run(dir.path(), PEOPLE);
    let mut session = spawn(dir.path(), &["test.db"]);
    session.send_line("[:find ?name").expect("first line");
    session
        .send_line(" :where [?p :person/name ?name]")
        .expect("second line");
    session
        .send_line("        [?p :person/age 31]]")
        .expect("last line");
    session
        .exp_string("   ...> ")
        .expect("the continuation prompt");
    session
        .exp_string("Ann")
        .expect("the three lines ran as one query");
    session.exp_string("(1 row)").expect("row count");
    leave(session);
}

#[test]
fn tab_completes_dot_commands_and_attribute_names() {
    let dir = tempfile::tempdir().expect("temporary directory");
    run(dir.path(), PEOPLE);
    let mut session = spawn(dir.path(), &["test.db"]);
    type_keys(&mut session, ".sch\t");
    type_keys(&mut session, " :person/ag\t");
    type_keys(&mut session, "\r");
    session
        .exp_string("{:db/ident :person/age, :db/valueType :db.type/long")
        .expect(".schema :person/age ran");
    leave(session);
}

#[test]
fn ctrl_c_cancels_a_long_recursive_query_and_the_session_goes_on() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // A cycle of 2,000 nodes: its transitive closure has 4,000,000 pairs,
    // far more than the query can list before it is cancelled.
    let nodes: Vec<String> = (0..2000)
        .map(|i| format!("{{:db/id \"n{i}\" :node/next \"n{}\"}}", (i + 1) % 2000))
        .collect();
    run(
        dir.path(),
        &format!(
            "[{{:db/ident :node/next :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}}]\n[{}]",
            nodes.join(" ")
        ),
    );
    let mut session = spawn(dir.path(), &["test.db"]);
    session
        .send_line(".rules [[(reach ?a ?b) [?a :node/next ?b]] [(reach ?a ?b) [?a :node/next ?x] (reach ?x ?b)]]")
        .expect("rules typed");
    session
        .exp_string("rules installed: reach")
        .expect("rules installed");
    session.exp_string("factlite> ").expect("prompt");
    session
        .send_line("[:find (count ?b) . :where (reach ?a ?b)]")
        .expect("query typed");
    std::thread::sleep(std::time::Duration::from_millis(1000));
    session.send_control('c').expect("Ctrl-C");
    let before = session
        .exp_string(":error/interrupted interrupted (Ctrl-C); nothing was changed")
        .expect("the query was cancelled");
    // The message starts a line of its own, not right after the `^C`.
    assert!(
        before.trim_end_matches("\x1b[31m").ends_with('\n'),
        "{before:?}"
    );
    session.exp_string("factlite> ").expect("the REPL goes on");
    session
        .send_line("[:find (count ?n) . :where [?n :node/next]]")
        .expect("next query typed");
    session.exp_string("2000").expect("the next query runs");
    leave(session);
}

#[test]
fn every_error_category_typed_at_the_prompt_gives_one_line_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // No database argument: the sample database of films.
    let mut session = spawn(dir.path(), &[]);
    session
        .send_line(".export before.edn")
        .expect("export typed");
    session.exp_string("wrote before.edn").expect("exported");
    session.exp_string("factlite> ").expect("prompt");
    let cases = [
        (
            "[:find ?t :wher [?f :film/title ?t]]",
            ":error/parse unknown query section :wher",
        ),
        ("[{:film/title \"Solaris\"} :film/year]", ":error/parse"),
        ("(+ 1 2)", ":error/parse expected a query"),
        (
            "[{:film/titel \"Solaris\"}]",
            ":error/unknown-attribute unknown attribute :film/titel",
        ),
        (
            "[{:film/title \"Solaris\" :film/year \"1972\"}]",
            ":error/type-mismatch value \"1972\" for attribute :film/year",
        ),
        (
            "[[:db/add [:film/title \"Jaws\"] :film/title \"Alien\"]]",
            ":error/unique-conflict unique conflict: :film/title \"Alien\"",
        ),
        (
            "[[:db/add [:person/name \"Nobody\"] :person/name \"X\"]]",
            ":error/unknown-entity unknown entity: lookup ref [:person/name \"Nobody\"]",
        ),
        (
            "[[:db/cas [:film/title \"Jaws\"] :film/year 1976 1977]]",
            ":error/cas-failed compare-and-swap failed",
        ),
        (
            "[{:db/ident :film/year :db/valueType :db.type/string}]",
            ":error/schema schema change refused: :film/year",
        ),
        (
            "[:find ?x :where [?f :film/title ?t]]",
            ":error/query query cannot run: ?x in :find is not bound",
        ),
    ];
    for (statement, message) in cases {
        session.send_line(statement).expect("statement typed");
        session.exp_string(message).expect(message);
        let rest = session.exp_string("factlite> ").expect("the REPL goes on");
        // The rest of the message ends its one line, before the prompt.
        assert_eq!(
            rest.matches('\n').count(),
            1,
            "{statement}: not one line: {rest:?}"
        );
    }
    session
        .send_line(".export after.edn")
        .expect("export typed");
    session.exp_string("wrote after.edn").expect("exported");
    leave(session);
    let before = std::fs::read_to_string(dir.path().join("before.edn")).expect("before.edn");
    let after = std::fs::read_to_string(dir.path().join("after.edn")).expect("after.edn");
    assert!(before.contains(":film/title \"Jaws\""));
    assert_eq!(before, after, "the failed statements changed the store");
}

#[test]
fn a_large_import_shows_a_progress_bar() {
    let dir = tempfile::tempdir().expect("temporary directory");
    run(
        dir.path(),
        "[{:db/ident :note/id :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
          {:db/ident :note/text :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]",
    );
    // Just over the 1 MiB from which imports show their progress.
    let mut csv = String::from("note/id,note/text\n");
    let mut id = 0;
    while csv.len() <= 1 << 20 {
        csv.push_str(&format!("{id},{}\n", "lorem ipsum ".repeat(20)));
        id += 1;
    }
    std::fs::write(dir.path().join("notes.csv"), csv).expect("CSV written");
    let mut session = spawn(dir.path(), &["test.db"]);
    session
        .send_line(".import notes.csv")
        .expect("import typed");
    session.exp_string("importing [").expect("a progress bar");
    let during = session
        .exp_string(&format!("imported {} datoms in ", id * 2))
        .expect("the import ends with its summary");
    assert!(moved(&during), "the bar did not move: {during:?}");
    // Issue 13: an export was one transaction, and importing it left the
    // bar at its start until the end. A dump is a transaction at a time,
    // and the bar moves with the bytes read.
    session.exp_string("factlite> ").expect("prompt");
    session
        .send_line(".export notes.edn")
        .expect("export typed");
    session.exp_string("wrote notes.edn").expect("exported");
    session.send_line(".open copy.db").expect("open typed");
    session.exp_string("opened copy.db").expect("opened");
    session
        .send_line(".import notes.edn")
        .expect("import typed");
    session.exp_string("importing [").expect("a progress bar");
    // The dump has the two attributes' definitions (three datoms each) too.
    let during = session
        .exp_string(&format!("imported {} datoms in ", id * 2 + 6))
        .expect("the import of the dump ends with its summary");
    assert!(moved(&during), "the bar did not move: {during:?}");
    leave(session);
}

/// Whether a progress bar's output shows it between its start and its end
/// (the files are just over 1 MiB: a position in KiB).
fn moved(bar: &str) -> bool {
    bar.contains("KiB/1.")
}

/// Regression: one candidate at a time, no file names, modes or
/// variables, and no continuation prompt.
#[test]
fn a_second_tab_lists_candidates_and_tab_knows_files_modes_and_variables() {
    let dir = tempfile::tempdir().expect("temporary directory");
    run(dir.path(), PEOPLE);
    std::fs::write(
        dir.path().join("oldest.fl"),
        "[:find (max ?a) . :where [_ :person/age ?a]]\n",
    )
    .expect("script written");
    let mut session = spawn(dir.path(), &["test.db"]);
    type_keys(&mut session, ".ex\t");
    type_keys(&mut session, "\t");
    session
        .exp_string(".explain")
        .expect("the first candidate listed");
    session
        .exp_string(".export")
        .expect("the second candidate listed");
    // Clear the line (Ctrl-U), then a file name after .read.
    type_keys(&mut session, "\x15.read old\t");
    type_keys(&mut session, "\r");
    session
        .exp_string("31")
        .expect("the script completed by Tab ran");
    session.exp_string("factlite> ").expect("prompt");
    type_keys(&mut session, ".mode bo\t");
    type_keys(&mut session, "\r");
    session.exp_string("factlite> ").expect("prompt");
    // A variable of the statement's earlier line.
    session.send_line("[:find ?years").expect("first line");
    session
        .exp_string("   ...> ")
        .expect("the continuation prompt");
    type_keys(&mut session, " :where [_ :person/age ?ye\t");
    type_keys(&mut session, "]]\r");
    // rexpect reads the terminal's bytes as Latin-1 characters.
    let box_cell: String = "│     29 │".bytes().map(char::from).collect();
    session
        .exp_string(" ?years ")
        .expect("the completed variable");
    session.exp_string(&box_cell).expect("box mode");
    leave(session);
}

/// Regression: `NO_COLOR` was ignored. Errors are red on a terminal,
/// unless `NO_COLOR` is set.
#[test]
fn errors_are_red_on_a_terminal_unless_no_color_is_set() {
    let dir = tempfile::tempdir().expect("temporary directory");
    run(dir.path(), PEOPLE);
    for (env, red) in [(&[][..], true), (&[("NO_COLOR", "1")][..], false)] {
        let mut session = spawn_with(dir.path(), &["test.db"], env);
        session.send_line(".nonsense").expect("statement typed");
        let before = session
            .exp_string(":error/usage unknown command .nonsense")
            .expect("the error");
        assert_eq!(before.contains("\x1b[31m"), red, "{env:?}: {before:?}");
        leave(session);
    }
}
