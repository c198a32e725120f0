//! `factlite verify DB`: a sound database reports nothing and exits 0; a
//! planted inconsistency is named, in text and in JSON, with exit code 1;
//! a file that is not a database is an error.

use factlite::rusqlite::Connection;

mod support;

use support::{factlite, text};

/// A database with a view, a change and a retraction.
fn database() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let script = r#"[{:db/ident :city/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/unique :db.unique/identity} {:db/ident :city/population :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]
.materialize big [:find ?n :where [?c :city/name ?n] [?c :city/population ?p] [(> ?p 600000)]]
[{:city/name "Lyon" :city/population 522000} {:city/name "Oslo" :city/population 709000}]
[{:city/name "Lyon" :city/population 650000}]
[[:db/retractEntity [:city/name "Oslo"]]]"#;
    let output = factlite(dir.path(), &["c.db", "-e", script]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    dir
}

#[test]
fn a_sound_database_verifies_clean_with_exit_code_zero() {
    let dir = database();
    let output = factlite(dir.path(), &["verify", "c.db"]);
    assert_eq!(text(&output.stdout), "c.db: no problems found\n");
    assert!(output.status.success());
    let output = factlite(dir.path(), &["verify", "--json", "c.db"]);
    assert_eq!(
        text(&output.stdout),
        "{\"file\":\"c.db\",\"clean\":true,\"problems\":[]}\n"
    );
    assert!(output.status.success());
}

#[test]
fn a_corrupt_view_row_is_named_in_text_and_json_with_exit_code_one() {
    let dir = database();
    let conn = Connection::open(dir.path().join("c.db")).expect("plain SQLite opens it");
    conn.execute(r#"UPDATE "view_big" SET n = 'Paris'"#, [])
        .expect("plants a wrong row");
    drop(conn);
    let output = factlite(dir.path(), &["verify", "c.db"]);
    assert_eq!(
        text(&output.stdout),
        "view-differs: view \"big\": 2 rows differ from its query run from scratch (1 missing, 1 extra), \
         e.g. missing [\"Lyon\"]; extra [\"Paris\"]\nc.db: 1 problem found\n"
    );
    assert_eq!(output.status.code(), Some(1));
    let output = factlite(dir.path(), &["verify", "--json", "c.db"]);
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with(
            "{\"file\":\"c.db\",\"clean\":false,\"problems\":[{\"kind\":\"view-differs\""
        ),
        "{stdout}"
    );
    assert!(stdout.contains("\"count\":2"), "{stdout}");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_and_stays_absent() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = factlite(dir.path(), &["verify", "missing.db"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("missing.db is not a factlite database"),
        "{}",
        text(&output.stderr)
    );
    assert!(!dir.path().join("missing.db").exists());
}
