//! The `factlite` binary driven through its arguments and stdin: `-e`,
//! `--json`, the subcommands, exit codes, and output without a terminal.

use std::process::Command;

const SCHEMA: &str = "[{:db/ident :city/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/unique :db.unique/identity} {:db/ident :city/population :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]";
const CITIES: &str =
    r#"[{:city/name "Lyon" :city/population 522000} {:city/name "Oslo" :city/population 709000}]"#;

mod support;

use support::{factlite, text};

/// A database in a fresh directory holding two cities.
fn cities() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = factlite(dir.path(), &["c.db", "-e", &format!("{SCHEMA}\n{CITIES}")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    dir
}

#[test]
fn execute_prints_a_table_without_colour_and_json_on_request() {
    let dir = cities();
    let query = "[:find ?n ?p :where [?c :city/name ?n] [?c :city/population ?p]]";
    let output = factlite(dir.path(), &["c.db", "-e", query]);
    assert_eq!(
        text(&output.stdout),
        " ?n   | ?p\n------+--------\n Lyon | 522000\n Oslo | 709000\n(2 rows)\n"
    );
    let output = factlite(dir.path(), &["c.db", "--json", "-e", query]);
    assert_eq!(
        text(&output.stdout),
        "[{\"n\":\"Lyon\",\"p\":522000},{\"n\":\"Oslo\",\"p\":709000}]\n"
    );
}

#[test]
fn errors_go_to_stderr_with_their_place_and_a_failing_exit_code() {
    let dir = cities();
    let output = factlite(
        dir.path(),
        &[
            "c.db",
            "-e",
            "[:find ?n :where [?c :city/name ?n]]\n[:find ?n :where [?c :city/nam ?n]]",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stdout),
        " ?n\n------\n Lyon\n Oslo\n(2 rows)\n"
    );
    assert_eq!(
        text(&output.stderr),
        "-e:2: :error/unknown-attribute unknown attribute :city/nam: no schema defines it (did you mean :city/name?)\n  -e: 1 statement ran before it; nothing was committed\n"
    );
    let output = factlite(dir.path(), &["c.db", "-e", ".nonsense"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "-e:1: :error/usage unknown command .nonsense: .help lists the commands\n"
    );
}

#[test]
fn the_log_lists_recent_transactions_newest_first() {
    let dir = cities();
    let output = factlite(dir.path(), &["c.db", "-e", ".log 2"]);
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with(" tx            | instant "),
        "{stdout}"
    );
    assert!(lines[0].ends_with(" | asserted | retracted"), "{stdout}");
    assert!(lines[2].starts_with(" 1099511627778 | 20"), "{stdout}");
    assert!(lines[2].ends_with("|        4 |         0"), "{stdout}");
    assert!(lines[3].starts_with(" 1099511627777 | "), "{stdout}");
    assert_eq!(lines[4], "(2 rows)");
}

#[test]
fn explain_shows_the_sql_its_parameters_and_the_plan() {
    let dir = cities();
    let output = factlite(
        dir.path(),
        &[
            "c.db",
            "-e",
            ".explain [:find ?p :where [?c :city/name \"Oslo\"] [?c :city/population ?p]]",
        ],
    );
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("SELECT") || stdout.starts_with("WITH"),
        "{stdout}"
    );
    // Parameters print as values, attribute ids with their idents.
    assert!(stdout.contains("\n  ?1 = 100 (:city/name)\n"), "{stdout}");
    assert!(stdout.contains("\n  ?2 = \"Oslo\"\n"), "{stdout}");
    assert!(!stdout.contains("Text("), "{stdout}");
    assert!(stdout.contains("plan:\n  "), "{stdout}");
}

#[test]
fn export_and_import_subcommands_copy_a_database() {
    let dir = cities();
    let output = factlite(dir.path(), &["export", "c.db", "all.edn"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = factlite(dir.path(), &["import", "copy.db", "all.edn"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).starts_with("imported 11 datoms in 2 transactions from all.edn in ")
    );
    let query = "[:find ?n ?p :where [?c :city/name ?n] [?c :city/population ?p]]";
    let original = factlite(dir.path(), &["c.db", "--json", "-e", query]);
    let copy = factlite(dir.path(), &["copy.db", "--json", "-e", query]);
    assert_eq!(text(&copy.stdout), text(&original.stdout));
    // The whole database as a dump: the copy's dump is the original's.
    let dumps: Vec<String> = ["c.db", "copy.db"]
        .iter()
        .map(|db| text(&factlite(dir.path(), &[db, "-e", ".dump"]).stdout))
        .collect();
    assert!(dumps[0].contains(":instant #inst"), "{}", dumps[0]);
    assert_eq!(dumps[0], dumps[1]);
    let output = factlite(dir.path(), &["export", "c.db", "now.edn", "--current"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = factlite(dir.path(), &["import", "now.db", "now.edn"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let now = factlite(dir.path(), &["now.db", "--json", "-e", query]);
    assert_eq!(text(&now.stdout), text(&original.stdout));

    let output = factlite(
        dir.path(),
        &[
            "export",
            "c.db",
            "big.csv",
            "--query",
            "[:find ?n ?p :where [?c :city/name ?n] [?c :city/population ?p] [(> ?p 600000)]]",
        ],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let csv = std::fs::read_to_string(dir.path().join("big.csv")).expect("export written");
    assert_eq!(csv, "?n,?p\nOslo,709000\n");
}

/// People who befriend, by tempid, people of earlier batches of the
/// importer: a CSV or JSON file is imported in transactions of `BATCH`
/// entities, and a tempid must still name the entity an earlier
/// transaction created.
#[test]
fn a_tempid_names_one_entity_across_the_batches_of_an_import() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let schema = "[{:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one} \
                   {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]";
    let output = factlite(dir.path(), &["p.db", "-e", schema]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let people = 2_500;
    let batch = factlite_cli::transfer::BATCH;
    let mut csv = String::from("db/id,person/name,person/friend\n");
    let mut json = Vec::new();
    for i in 0..people {
        let friend = if i >= 2 * batch {
            format!("p{}", i - 2 * batch)
        } else {
            "p0".to_string()
        };
        let friend = if i == 0 { String::new() } else { friend };
        csv.push_str(&format!("p{i},csv{i},{friend}\n"));
        let friends = if i == 0 {
            "[]".to_string()
        } else {
            format!("[\"q{}\"]", i - 1)
        };
        json.push(format!(
            r#"{{"db/id": "q{i}", "person/name": "json{i}", "person/friend": {friends}}}"#
        ));
    }
    std::fs::write(dir.path().join("people.csv"), csv).expect("CSV written");
    std::fs::write(
        dir.path().join("people.json"),
        format!("[{}]", json.join(",\n")),
    )
    .expect("JSON written");
    for file in ["people.csv", "people.json"] {
        let output = factlite(dir.path(), &["import", "p.db", file]);
        assert!(output.status.success(), "{file}: {}", text(&output.stderr));
        assert!(
            text(&output.stdout).contains(" in 3 transactions "),
            "{}",
            text(&output.stdout)
        );
    }
    let counts = "[:find ?prefix (count ?p) (count-distinct ?f) \
                   :with ?p :where [?p :person/name ?n] [(subs ?n 0 3) ?prefix] \
                   [?p :person/friend ?f] [?f :person/name _]]";
    let output = factlite(dir.path(), &["p.db", "--json", "-e", counts]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    // Every friend is a named person: no tempid made a new, empty entity.
    // CSV: everyone but p0 has a friend, p0 to p499; JSON: a chain, each
    // befriending the one before.
    let out = text(&output.stdout);
    assert!(
        out.contains(r#"{"prefix":"csv","(count ?p)":2499,"(count-distinct ?f)":500}"#),
        "{out}"
    );
    assert!(
        out.contains(r#"{"prefix":"jso","(count ?p)":2499,"(count-distinct ?f)":2499}"#),
        "{out}"
    );
    let nameless = "[:find (count ?f) . :where [_ :person/friend ?f] (not [?f :person/name _])]";
    let output = factlite(dir.path(), &["p.db", "--json", "-e", nameless]);
    assert_eq!(
        text(&output.stdout).trim(),
        "null",
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn every_subcommand_has_help() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (subcommand, says) in [
        ("check", "scenario"),
        ("import", "Import files"),
        ("export", "Export a database"),
    ] {
        let output = factlite(dir.path(), &[subcommand, "--help"]);
        assert!(output.status.success());
        assert!(
            text(&output.stdout).contains(says),
            "{subcommand}: {}",
            text(&output.stdout)
        );
    }
    let output = factlite(dir.path(), &["--help"]);
    assert!(text(&output.stdout).contains("--execute <STATEMENTS>"));
}

#[test]
fn views_lists_each_view_with_its_rows_reads_and_maintenance() {
    let dir = cities();
    let output = factlite(dir.path(), &["c.db", "-e", ".materialize big [:find ?n :where [?c :city/name ?n] [?c :city/population ?p] [(> ?p 600000)]]\n.views"]);
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "materialized big: 1 row");
    assert!(
        lines[1]
            .starts_with(" view | rows | reads | maintained | rebuilds | maintenance ms | query"),
        "{stdout}"
    );
    assert!(lines[3].starts_with(" big  |    1 |     0 |"), "{stdout}");
    assert!(
        lines[3].ends_with("| [:find ?n :where [?c :city/name ?n] [?c :city/population ?p…"),
        "long cells are cut: {stdout}"
    );
    // The view survives reopening: its definition is data in the store.
    let output = factlite(dir.path(), &["c.db", "--json", "-e", ".view big"]);
    assert_eq!(text(&output.stdout), "[{\"n\":\"Oslo\"}]\n");
}

#[test]
fn the_timer_prints_how_long_each_statement_took() {
    let dir = cities();
    let output = factlite(dir.path(), &["c.db", "-e", ".timer on\n[:find ?n . :where [?c :city/name \"Oslo\"] [?c :city/name ?n]]\n.timer off\n[:find ?n . :where [?c :city/name \"Lyon\"] [?c :city/name ?n]]"]);
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 9, "{stdout}");
    assert_eq!(lines[2], " Oslo");
    assert!(
        lines[4].starts_with("time: ") && lines[4].ends_with(" ms"),
        "{stdout}"
    );
    assert_eq!(lines[7], " Lyon");
}

/// `-e` runs like a script: `.bail`, `.echo`, `--param`, `--json` errors.
/// Each case: the arguments after the database, stdout, stderr, exit code.
#[test]
fn execute_behaves_as_a_script_does() {
    let dir = cities();
    let by_name = "[:find ?p . :in $ ?name :where [?c :city/name ?name] [?c :city/population ?p]]";
    let cases: &[(&[&str], &str, &str, i32)] = &[
        (
            &["-e", &format!(".bail off\n.nope\n{by_name}")],
            "",
            "-e:2: :error/usage unknown command .nope: .help lists the commands\n\
             -e:3: :error/query the query's input ?name has no value: give it one with `.param ?name VALUE` (with -e: `--param '?name=VALUE'`)\n",
            1,
        ),
        (
            &["--param", "?name=\"Oslo\"", "-e", by_name],
            " ?p\n--------\n 709000\n(1 row)\n",
            "",
            0,
        ),
        (
            &["--param", "?name", "-e", by_name],
            "",
            "factlite: :error/usage --param ?name: write it as ?name=VALUE, the value in EDN (--param '?year=1979')\n",
            1,
        ),
        (
            &["-e", ".echo on\n.mode csv\n[:find ?n :where [_ :city/name ?n]]"],
            ".mode csv\n[:find ?n :where [_ :city/name ?n]]\n?n\nLyon\nOslo\n",
            "",
            0,
        ),
        (
            &["--json", "-e", "[:find ?n :where [_ :city/nme ?n]]"],
            "",
            "{\"error\":{\"category\":\":error/unknown-attribute\",\"message\":\"unknown attribute :city/nme: no schema defines it (did you mean :city/name?)\",\"source\":\"-e\",\"line\":1}}\n",
            1,
        ),
    ];
    for (args, stdout, stderr, code) in cases {
        let mut all = vec!["c.db"];
        all.extend_from_slice(args);
        let output = factlite(dir.path(), &all);
        let (out, err) = (text(&output.stdout), text(&output.stderr));
        assert_eq!((out.as_str(), err.as_str()), (*stdout, *stderr), "{args:?}");
        assert_eq!(output.status.code(), Some(*code), "{args:?}");
    }
    // A transaction report in JSON has its tempids; an export to a name it
    // cannot honour is refused, as JSON too.
    let output = factlite(
        dir.path(),
        &[
            "c.db",
            "--json",
            "-e",
            "[{:db/id \"x\" :city/name \"Rome\"}]\n.export all.csv",
        ],
    );
    let (out, err) = (text(&output.stdout), text(&output.stderr));
    assert!(
        out.starts_with("{\"tx\":1099511627779,\"instant\":\""),
        "{out}"
    );
    assert!(
        out.ends_with(",\"asserted\":1,\"retracted\":0,\"tempids\":{\"x\":2199023255554}}\n"),
        "{out}"
    );
    assert!(
        err.starts_with(
            "{\"error\":{\"category\":\":error/usage\",\"message\":\"a dump of the database is EDN"
        ),
        "{err}"
    );
    assert!(!dir.path().join("all.csv").exists());
}

/// `.output FILE` sends every output to FILE until `.output`; `.once FILE`
/// only the next statement's; `~/` is the home directory.
#[test]
fn output_and_once_write_to_files_and_expand_the_home_directory() {
    let dir = cities();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).expect("home directory");
    let output = Command::new(env!("CARGO_BIN_EXE_factlite"))
        .args([
            "c.db",
            "-e",
            ".mode csv\n.output all.csv\n[:find ?n :where [_ :city/name ?n]]\n[:find (count ?c) . :where [?c :city/name]]\n.output\n.once ~/once.csv\n[:find ?n . :where [?c :city/name \"Oslo\"] [?c :city/name ?n]]\n[:find ?n . :where [?c :city/name \"Lyon\"] [?c :city/name ?n]]",
        ])
        .current_dir(dir.path())
        .env("HOME", &home)
        .output()
        .expect("factlite runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "?n\nLyon\n");
    let all = std::fs::read_to_string(dir.path().join("all.csv")).expect("all.csv");
    assert_eq!(all, "?n\nLyon\nOslo\n(count ?c)\n2\n");
    let once = std::fs::read_to_string(home.join("once.csv")).expect("~/once.csv");
    assert_eq!(once, "?n\nOslo\n");
}

/// `--sample history` generates the browser history once, with its read
/// models as views; a second open reuses it (top sites has a row per
/// visited page), and a DB beside `--sample` is a usage error.
#[test]
fn the_history_sample_is_generated_once_and_read_through_its_views() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let visits = "[:find (count ?v) . :where [?v :visit/at]]";
    let first = factlite(dir.path(), &["--sample", "history", "-e", visits]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stderr).starts_with(
            "created factlite-history.db with a generated browser history: 20000 visits"
        ),
        "{}",
        text(&first.stderr)
    );
    assert!(
        text(&first.stdout).contains("20000"),
        "{}",
        text(&first.stdout)
    );
    let views = factlite(dir.path(), &["--sample", "history", "-e", ".views"]);
    assert!(views.status.success(), "{}", text(&views.stderr));
    assert_eq!(text(&views.stderr), "", "generated only once");
    let top_sites_rows = text(&views.stdout)
        .lines()
        .find(|line| line.trim_start().starts_with("top-sites "))
        .and_then(|line| line.split('|').nth(1)?.trim().parse::<i64>().ok());
    let pages = factlite(
        dir.path(),
        &[
            "--sample",
            "history",
            "-e",
            "[:find (count ?p) . :where [?v :visit/page ?p]]",
        ],
    );
    let pages = text(&pages.stdout)
        .split_whitespace()
        .find_map(|word| word.parse::<i64>().ok());
    assert!(pages.is_some_and(|n| n > 100), "{pages:?}");
    assert_eq!(top_sites_rows, pages, "{}", text(&views.stdout));
    let both = factlite(dir.path(), &["x.db", "--sample", "history", "-e", ".views"]);
    assert!(!both.status.success());
    assert!(
        text(&both.stderr).contains("cannot be used with"),
        "{}",
        text(&both.stderr)
    );
}

#[test]
fn output_over_the_open_database_is_refused_and_the_data_stays() {
    let dir = cities();
    for statement in [
        ".output c.db",
        ".once ./c.db",
        ".export c.db",
        ".backup c.db",
    ] {
        let output = factlite(dir.path(), &["c.db", "-e", statement]);
        assert!(!output.status.success(), "{statement}");
        assert!(
            text(&output.stderr).contains("is a file of the open database"),
            "{statement}: {}",
            text(&output.stderr)
        );
    }
    let output = factlite(
        dir.path(),
        &["c.db", "-e", "[:find (count ?c) . :where [?c :city/name]]"],
    );
    assert!(
        text(&output.stdout).contains("(1 row)"),
        "{}",
        text(&output.stdout)
    );
    assert!(
        text(&output.stdout).contains(" 2\n"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn an_edn_import_that_is_not_edn_throughout_imports_nothing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("truncated.edn");
    std::fs::write(&file, format!("{SCHEMA}\n{CITIES}\n[{{:city/name \"Rome\"")).expect("file");
    let output = factlite(dir.path(), &["import", "new.db", "truncated.edn"]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("not valid EDN")
            && text(&output.stderr).contains("nothing was imported"),
        "{}",
        text(&output.stderr)
    );
    let output = factlite(
        dir.path(),
        &[
            "new.db",
            "-e",
            "[:find (count ?e) . :where [?e :db/ident :city/name]]",
        ],
    );
    assert!(
        text(&output.stdout).contains("(0 rows)") || text(&output.stdout).contains("nil"),
        "{}",
        text(&output.stdout)
    );
}
