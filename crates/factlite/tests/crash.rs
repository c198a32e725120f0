//! The crash test: a child process (this test binary run again with
//! `FACTLITE_CRASH_CHILD` naming the store) commits numbered transactions
//! to a file store with materialized views and the default durability,
//! printing each number once `transact` returned; the parent kills it with
//! SIGKILL at a random moment, reopens the store and checks that every
//! acknowledged transaction is there, none is there in part, the views equal
//! their queries from scratch, SQLite's `integrity_check` says ok and
//! `Store::verify` finds nothing. Then the next child goes on from there.
//!
//! A few dozen kills by default; `FACTLITE_CRASH_KILLS=1000` for more,
//! `FACTLITE_CRASH_SEED` to repeat a run. The binary has no test harness
//! (`harness = false`): it is one test, skipped when a filter that does
//! not match `crash` is given.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use factlite::{edn, QueryResultExt, Store};

#[path = "support/harness.rs"]
mod harness;

const CHILD: &str = "FACTLITE_CRASH_CHILD";
const DEFAULT_KILLS: usize = 30;
/// The longest a child runs before it is killed, in milliseconds.
const MAX_RUN_MS: u64 = 150;

const SCHEMA: &str = r#"[
 {:db/ident :item/n :db/valueType :db.type/long :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :item/group :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :item/square :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :counter/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :counter/value :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]"#;

/// Views of each kind of maintenance: an aggregate, a join with a
/// predicate (counted), a negation (rechecked) and the counter.
const VIEWS: [(&str, &str); 4] = [
    ("groups", "[:find ?g (count ?e) :where [?e :item/group ?g]]"),
    (
        "squares",
        "[:find ?n ?s :where [?e :item/n ?n] [?e :item/square ?s] [(> ?s 100)]]",
    ),
    (
        "ungrouped",
        "[:find ?n :where [?e :item/n ?n] (not [?e :item/group _])]",
    ),
    (
        "counter",
        r#"[:find ?v :where [?c :counter/name "c"] [?c :counter/value ?v]]"#,
    ),
];

/// Transaction `n`: item `n` with its group and square, the counter set to
/// `n` (a retraction and an assertion), and when `n` is a multiple of 4
/// item `n - 1`'s group retracted.
fn transaction(n: i64) -> String {
    let retraction = if n % 4 == 0 {
        format!(
            "[:db/retract [:item/n {}] :item/group {}]",
            n - 1,
            (n - 1) % 5
        )
    } else {
        String::new()
    };
    format!(
        r#"[{{:item/n {n} :item/group {} :item/square {}}}
            {{:db/id [:counter/name "c"] :counter/value {n}}} {retraction}]"#,
        n % 5,
        n * n
    )
}

/// What items `1..=last` hold once transactions `1..=last` committed:
/// `(n, square, group or -1)`.
fn expected_items(last: i64) -> Vec<(i64, i64, i64)> {
    (1..=last)
        .map(|n| {
            let retracted = n < last && (n + 1) % 4 == 0;
            (n, n * n, if retracted { -1 } else { n % 5 })
        })
        .collect()
}

const ITEMS: &str = "[:find ?n ?s ?g :where [?e :item/n ?n] [?e :item/square ?s]
                      [(get-else $ ?e :item/group -1) ?g] :order-by ?n]";
const LAST: &str = "[:find (max ?n) . :where [_ :item/n ?n]]";
const COUNTER: &str = r#"[:find ?v . :where [?c :counter/name "c"] [?c :counter/value ?v]]"#;

fn main() -> ExitCode {
    if let Some(path) = std::env::var_os(CHILD) {
        return match child(Path::new(&path)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("crash child: {message}");
                ExitCode::from(2)
            }
        };
    }
    harness::run_parent("crash", parent)
}

/// Commits transactions from the one after the newest until killed,
/// printing `ack N` after each.
fn child(path: &Path) -> Result<(), String> {
    let store = Store::open(path).map_err(|e| e.to_string())?;
    let db = store.db().map_err(|e| e.to_string())?;
    let last = db
        .q_str(LAST, ())
        .and_then(|r| r.scalar::<i64>())
        .map_err(|e| e.to_string())?
        .unwrap_or(0);
    let mut stdout = std::io::stdout().lock();
    for n in last + 1.. {
        store
            .transact_str(&transaction(n))
            .map_err(|e| format!("transaction {n}: {e}"))?;
        writeln!(stdout, "ack {n}")
            .and_then(|()| stdout.flush())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A xorshift generator: enough to pick moments, and no dependency.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn env_number(name: &str) -> Result<Option<u64>, String> {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={text:?} is not a number")),
        Err(_) => Ok(None),
    }
}

fn parent() -> Result<String, String> {
    let kills = env_number("FACTLITE_CRASH_KILLS")?.map_or(DEFAULT_KILLS, |n| n as usize);
    let seed = match env_number("FACTLITE_CRASH_SEED")? {
        Some(seed) => seed,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_nanos() as u64,
    };
    let mut random = Random(seed | 1);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("crash.db");
    setup(&path).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut committed = 0;
    let mut unacknowledged = 0;
    let mut mid_run = 0;
    for kill in 1..=kills {
        let delay = Duration::from_millis(random.below(MAX_RUN_MS + 1));
        let acked =
            run_and_kill(&path, delay).map_err(|e| format!("kill {kill} (seed {seed}): {e}"))?;
        let last = check(&path, acked)
            .map_err(|e| format!("after kill {kill} (seed {seed}, {delay:?}): {e}"))?;
        if acked > 0 {
            mid_run += 1;
        }
        unacknowledged += last - acked.max(committed);
        committed = last;
        if kill % 100 == 0 {
            eprintln!(
                "crash: {kill} of {kills} kills clean, {committed} transactions, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(format!(
        "crash: {kills} SIGKILLs, all clean (seed {seed}, {:.1} s): {committed} transactions \
         committed, {mid_run} kills after at least one acknowledged commit, {unacknowledged} \
         transactions committed but killed before they were acknowledged",
        started.elapsed().as_secs_f64()
    ))
}

/// Makes the store: schema, counter, views.
fn setup(path: &Path) -> factlite::Result<()> {
    let store = Store::open(path)?;
    store.transact_str(SCHEMA)?;
    store.transact_str(r#"[{:counter/name "c" :counter/value 0}]"#)?;
    for (name, query) in VIEWS {
        store.materialize_str(name, query, &[])?;
    }
    Ok(())
}

/// Runs a child for `delay`, kills it, and returns the last number it
/// acknowledged (0: none).
fn run_and_kill(path: &Path, delay: Duration) -> Result<i64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .env(CHILD, path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the child: {e}"))?;
    let last = Arc::new(AtomicI64::new(0));
    let stdout = child.stdout.take().ok_or("the child has no stdout")?;
    let reader = {
        let last = last.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("ack ").and_then(|n| n.parse().ok()) {
                    last.store(n, Ordering::SeqCst);
                }
            }
        })
    };
    std::thread::sleep(delay);
    child
        .kill()
        .map_err(|e| format!("cannot kill the child: {e}"))?;
    let status = child.wait().map_err(|e| e.to_string())?;
    reader.join().map_err(|_| "the reader thread panicked")?;
    if status.signal() != Some(9) {
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        return Err(format!("the child ended by itself ({status}): {stderr}"));
    }
    Ok(last.load(Ordering::SeqCst))
}

/// Reopens the store and checks it; returns the newest transaction number.
fn check(path: &Path, acked: i64) -> Result<i64, String> {
    let store = Store::open(path).map_err(|e| format!("reopening: {e}"))?;
    let db = store.db().map_err(|e| e.to_string())?;
    let fail = |e: factlite::Error| e.to_string();
    let last = db
        .q_str(LAST, ())
        .and_then(|r| r.scalar::<i64>())
        .map_err(fail)?
        .unwrap_or(0);
    if last < acked {
        return Err(format!(
            "transaction {acked} was acknowledged, the store ends at {last}"
        ));
    }
    let items: Vec<(i64, i64, i64)> = db
        .q_str(ITEMS, ())
        .and_then(|r| r.rows_as())
        .map_err(fail)?;
    if items != expected_items(last) {
        let wrong = items
            .iter()
            .zip(expected_items(last))
            .find(|(found, expected)| *found != expected);
        return Err(format!(
            "the items are not those of transactions 1..={last} ({} items; first difference {wrong:?})",
            items.len()
        ));
    }
    let counter = db
        .q_str(COUNTER, ())
        .and_then(|r| r.scalar::<i64>())
        .map_err(fail)?;
    if counter != Some(last) {
        return Err(format!(
            "the counter is {counter:?}, the newest item {last}"
        ));
    }
    for (name, query) in VIEWS {
        let kept = store.view(name).map_err(fail)?;
        let fresh = db
            .q_from_scratch(&edn::parse(query).map_err(|e| e.to_string())?, ())
            .map_err(fail)?;
        if kept != fresh {
            return Err(format!("view {name} holds {kept}, its query gives {fresh}"));
        }
    }
    let integrity: String = db
        .with_connection(|conn| conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)))
        .map_err(|e| e.to_string())?;
    if integrity != "ok" {
        return Err(format!("integrity_check: {integrity}"));
    }
    let report = store.verify().map_err(fail)?;
    if !report.is_clean() {
        return Err(format!("verify: {report}"));
    }
    Ok(last)
}
