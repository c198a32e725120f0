//! Dump round-trip benchmark (plain `main`, no harness): builds a database
//! of `FACTLITE_BENCH_DATOMS` datoms (default 1,000,000: people with five
//! attributes, 1,000 datoms a transaction, every tenth transaction also
//! changing the ages of earlier people, so the log holds retractions),
//! then runs the `factlite` binary to export it (`factlite export`, the
//! history dump, and `--current`) and to import each dump into an empty
//! file, each run under `/usr/bin/time -v` when it is there to report the
//! peak memory (maximum resident set size). The copy is then dumped again:
//! the two history dumps must be identical past their `;;` header (the
//! same datoms, entity ids, transactions and instants), and the current
//! dumps too (the same datoms and ids).
//!
//! Run with `cargo bench -p factlite-cli --bench dump`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use factlite::edn::Value;
use factlite::Store;

const PEOPLE_PER_TX: usize = 200;

const SCHEMA: &str = r#"[
 {:db/ident :person/email :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :person/score :db/valueType :db.type/double :db/cardinality :db.cardinality/one}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]"#;

fn keyword(name: &str) -> Value {
    Value::keyword(name)
}

/// One transaction: `PEOPLE_PER_TX` people (five datoms each, the friend
/// the person before), and in every tenth a new age for as many earlier
/// people.
fn transaction(batch: usize) -> Value {
    let mut forms = Vec::new();
    for i in batch * PEOPLE_PER_TX..(batch + 1) * PEOPLE_PER_TX {
        let mut map = indexmap::IndexMap::new();
        map.insert(keyword("db/id"), Value::String(format!("p{i}")));
        map.insert(
            keyword("person/email"),
            Value::String(format!("p{i}@example.com")),
        );
        map.insert(keyword("person/name"), Value::String(format!("Person {i}")));
        map.insert(keyword("person/age"), Value::Integer((i % 90) as i64));
        map.insert(
            keyword("person/score"),
            Value::Float((i % 1000) as f64 / 10.0),
        );
        // The friend: by tempid in this transaction, by lookup ref before.
        let friend = match i {
            0 => None,
            i if i == batch * PEOPLE_PER_TX => Some(Value::Vector(vec![
                keyword("person/email"),
                Value::String(format!("p{}@example.com", i - 1)),
            ])),
            i => Some(Value::String(format!("p{}", i - 1))),
        };
        if let Some(friend) = friend {
            map.insert(keyword("person/friend"), friend);
        }
        forms.push(Value::Map(map));
    }
    if batch % 10 == 9 {
        for i in (batch - 9) * PEOPLE_PER_TX..(batch - 8) * PEOPLE_PER_TX {
            forms.push(Value::Vector(vec![
                keyword("db/add"),
                Value::Vector(vec![
                    keyword("person/email"),
                    Value::String(format!("p{i}@example.com")),
                ]),
                keyword("person/age"),
                Value::Integer(100 + (i % 7) as i64),
            ]));
        }
    }
    Value::Vector(forms)
}

/// Builds the database; returns its datom count (assertions and
/// retractions in the log, transaction instants not counted).
fn build(path: &Path, datoms: usize) -> usize {
    let store = Store::open(path).expect("store");
    store.transact_str(SCHEMA).expect("schema");
    let mut written = 0;
    let mut batch = 0;
    while written < datoms {
        let report = store.transact(transaction(batch)).expect("transaction");
        written += report.datoms.iter().filter(|d| d.e != report.tx).count();
        batch += 1;
    }
    written
}

/// Runs `factlite ARGS` in `dir` (under `/usr/bin/time -v` when it is
/// there); gives the seconds taken and the peak memory in MB, if known.
fn run(dir: &Path, args: &[&str]) -> (f64, Option<f64>) {
    let factlite = env!("CARGO_BIN_EXE_factlite");
    let timed = Path::new("/usr/bin/time").exists();
    let mut command = if timed {
        let mut command = Command::new("/usr/bin/time");
        command.arg("-v").arg(factlite);
        command
    } else {
        Command::new(factlite)
    };
    let started = Instant::now();
    let output = command
        .args(args)
        .current_dir(dir)
        .output()
        .expect("factlite runs");
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "factlite {args:?}: {stderr}");
    let peak = stderr
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0);
    (seconds, peak)
}

fn report(what: &str, datoms: usize, (seconds, peak): (f64, Option<f64>)) {
    let peak = peak.map_or("peak memory unknown (no /usr/bin/time)".to_string(), |mb| {
        format!("peak memory {mb:.1} MB")
    });
    println!(
        "{what:<28} {seconds:>7.2} s  {:>9.0} datoms/s  {peak}",
        datoms as f64 / seconds
    );
}

/// A dump's text without its `;;` header (which names the basis, a new
/// transaction id in a current-state copy).
fn forms(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("dump");
    text.lines()
        .filter(|line| !line.starts_with(";;"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn main() {
    let datoms: usize = std::env::var("FACTLITE_BENCH_DATOMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let built = build(&dir.path().join("source.db"), datoms);
    println!(
        "dump: a database of {built} datoms built in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    for (flag, name) in [("", "history"), ("--current", "current")] {
        let dump = format!("{name}.edn");
        let copy = format!("{name}-copy.db");
        let again = format!("{name}-again.edn");
        let mut export = vec!["export", "source.db", dump.as_str()];
        let mut export_again = vec!["export", copy.as_str(), again.as_str()];
        if !flag.is_empty() {
            export.push(flag);
            export_again.push(flag);
        }
        report(&format!("export ({name})"), built, run(dir.path(), &export));
        let size = std::fs::metadata(dir.path().join(&dump))
            .expect("dump")
            .len();
        println!("  {dump}: {:.1} MB", size as f64 / 1e6);
        report(
            &format!("import ({name})"),
            built,
            run(dir.path(), &["import", &copy, &dump]),
        );
        run(dir.path(), &export_again);
        let first = forms(&dir.path().join(&dump));
        let second = forms(&dir.path().join(&again));
        assert!(
            first == second,
            "the copy's {name} dump differs from the original's"
        );
        println!("  the copy's {name} dump is identical to the original's");
    }
}
