//! The concurrency test: money moves between accounts by `:db/cas`
//! transfers from writer threads sharing one `Store` and from writer
//! processes (this test binary run again with `FACTLITE_CONCURRENCY_ROLE`),
//! while reader threads and reader processes check that every snapshot
//! holds the same total — read from scratch, and through `Db::q`, which a
//! materialized view of the balances answers. At the end every committed
//! transfer is in the log, the total is unchanged and `Store::verify` is
//! clean.
//!
//! A modest run by default; `FACTLITE_CONCURRENCY_TRANSFERS=N` sets each
//! writer's transfers. No test harness (`harness = false`): it is one test,
//! skipped when a filter that does not match `concurrency` is given.

use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use factlite::{edn, ErrorCategory, LookupRef, QueryResultExt, Store, TxData};

#[path = "support/harness.rs"]
mod harness;

const ROLE: &str = "FACTLITE_CONCURRENCY_ROLE";
const DATABASE: &str = "FACTLITE_CONCURRENCY_DB";
const TRANSFERS: &str = "FACTLITE_CONCURRENCY_TRANSFERS";
const DEFAULT_TRANSFERS: u64 = 40;
const ACCOUNTS: i64 = 8;
const OPENING_BALANCE: i64 = 100;
const TOTAL: i64 = ACCOUNTS * OPENING_BALANCE;
const WRITER_THREADS: usize = 2;
const WRITER_PROCESSES: usize = 2;
const READER_THREADS: usize = 2;
const READER_PROCESSES: usize = 1;

const SCHEMA: &str = r#"[
 {:db/ident :acct/id :db/valueType :db.type/long :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :acct/balance :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]"#;

const BALANCES: &str = "[:find ?id ?b :where [?a :acct/id ?id] [?a :acct/balance ?b]]";
const TRANSACTIONS: &str = "[:find (count ?tx) . :where [?tx :db/txInstant]]";

fn main() -> ExitCode {
    if let Ok(role) = std::env::var(ROLE) {
        return match child(&role) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("concurrency {role}: {message}");
                ExitCode::from(2)
            }
        };
    }
    harness::run_parent("concurrency", parent)
}

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

fn transfers() -> Result<u64, String> {
    match std::env::var(TRANSFERS) {
        Ok(n) => n
            .parse()
            .map_err(|_| format!("{TRANSFERS}={n:?} is not a number")),
        Err(_) => Ok(DEFAULT_TRANSFERS),
    }
}

/// A child process: `writer SEED` makes its transfers and prints
/// `committed N conflicts M`; `reader` checks the total as many times and
/// prints `reads N`.
fn child(role: &str) -> Result<String, String> {
    let path = std::env::var(DATABASE).map_err(|_| format!("{DATABASE} is not set"))?;
    let store = Store::open(&path).map_err(text)?;
    let rounds = transfers()?;
    match role.split_once(' ') {
        Some(("writer", seed)) => {
            let seed = seed.parse().map_err(|_| format!("seed {seed:?}"))?;
            let (committed, conflicts) = write(&store, seed, rounds)?;
            Ok(format!("committed {committed} conflicts {conflicts}"))
        }
        None if role == "reader" => {
            for _ in 0..rounds * 2 {
                check_total(&store)?;
            }
            Ok(format!("reads {}", rounds * 2))
        }
        _ => Err(format!("unknown role {role:?}")),
    }
}

/// A xorshift generator, enough to pick accounts and amounts.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// Makes `rounds` transfers, each retried until its `:db/cas` pair holds;
/// returns the transfers committed and the conflicts met.
fn write(store: &Store, seed: u64, rounds: u64) -> Result<(u64, u64), String> {
    let mut random = Random(seed | 1);
    let mut conflicts = 0;
    for _ in 0..rounds {
        let from = random.below(ACCOUNTS as u64) as i64;
        let to = (from + 1 + random.below(ACCOUNTS as u64 - 1) as i64) % ACCOUNTS;
        loop {
            let balances = balances(&store.db().map_err(text)?, false)?;
            let (had, has) = (balances[from as usize], balances[to as usize]);
            let amount = random.below(had.min(10) as u64 + 1) as i64;
            let transfer = TxData::new()
                .cas(
                    LookupRef(":acct/id", from),
                    ":acct/balance",
                    had,
                    had - amount,
                )
                .cas(
                    LookupRef(":acct/id", to),
                    ":acct/balance",
                    has,
                    has + amount,
                );
            match store.transact(transfer) {
                Ok(_) => break,
                Err(error) if error.category() == ErrorCategory::CasFailed => conflicts += 1,
                Err(error) => return Err(format!("transfer {from} → {to}: {error}")),
            }
        }
    }
    Ok((rounds, conflicts))
}

/// Every account's balance in one snapshot, by account id; through
/// `Db::q` (a view may answer it) or from scratch.
fn balances(db: &factlite::Db, from_scratch: bool) -> Result<Vec<i64>, String> {
    let query = edn::parse(BALANCES).map_err(text)?;
    let result = if from_scratch {
        db.q_from_scratch(&query, ())
    } else {
        db.q(&query, ())
    };
    let mut rows: Vec<(i64, i64)> = result.and_then(|r| r.rows_as()).map_err(text)?;
    rows.sort();
    if rows.len() != ACCOUNTS as usize
        || rows.iter().enumerate().any(|(i, (id, _))| *id != i as i64)
    {
        return Err(format!("the accounts are {rows:?}"));
    }
    Ok(rows.into_iter().map(|(_, balance)| balance).collect())
}

/// Reads the balances both ways in one snapshot; each must sum to the
/// total.
fn check_total(store: &Store) -> Result<(), String> {
    let db = store.db().map_err(text)?;
    for from_scratch in [false, true] {
        let balances = balances(&db, from_scratch)?;
        let total: i64 = balances.iter().sum();
        if total != TOTAL || balances.iter().any(|b| *b < 0) {
            return Err(format!(
                "snapshot at {} holds {balances:?}, total {total}, not {TOTAL}",
                db.basis_tx()
            ));
        }
    }
    Ok(())
}

fn spawn(path: &Path, role: &str) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(text)?;
    Command::new(exe)
        .env(ROLE, role)
        .env(DATABASE, path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start a {role}: {e}"))
}

fn parent() -> Result<String, String> {
    let rounds = transfers()?;
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(text)?
        .as_nanos() as u64;
    let dir = tempfile::tempdir().map_err(text)?;
    let path = dir.path().join("bank.db");
    let store = Store::open(&path).map_err(text)?;
    store.transact_str(SCHEMA).map_err(text)?;
    let accounts: Vec<String> = (0..ACCOUNTS)
        .map(|id| format!("{{:acct/id {id} :acct/balance {OPENING_BALANCE}}}"))
        .collect();
    store
        .transact_str(&format!("[{}]", accounts.join(" ")))
        .map_err(text)?;
    store
        .materialize_str("balances", BALANCES, &[])
        .map_err(text)?;
    let before = transactions(&store)?;
    let started = Instant::now();

    let mut processes = Vec::new();
    for i in 0..WRITER_PROCESSES {
        let role = format!("writer {}", seed.wrapping_add(1000 + i as u64));
        processes.push((role.clone(), spawn(&path, &role)?));
    }
    for _ in 0..READER_PROCESSES {
        processes.push(("reader".to_string(), spawn(&path, "reader")?));
    }
    let writing = Arc::new(AtomicBool::new(true));
    let readers: Vec<_> = (0..READER_THREADS)
        .map(|_| {
            let (store, writing) = (store.clone(), writing.clone());
            std::thread::spawn(move || -> Result<u64, String> {
                let mut reads = 0;
                while writing.load(Ordering::Acquire) || reads == 0 {
                    check_total(&store)?;
                    reads += 1;
                }
                Ok(reads)
            })
        })
        .collect();
    let writers: Vec<_> = (0..WRITER_THREADS)
        .map(|i| {
            let store = store.clone();
            let seed = seed.wrapping_add(i as u64);
            std::thread::spawn(move || write(&store, seed, rounds))
        })
        .collect();

    let mut committed = 0;
    let mut conflicts = 0;
    for writer in writers {
        let (done, met) = writer.join().map_err(|_| "a writer thread panicked")??;
        committed += done;
        conflicts += met;
    }
    let mut process_reads = 0;
    for (role, process) in processes {
        let output = process.wait_with_output().map_err(text)?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "the {role} process failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let numbers: Vec<u64> = stdout
            .split_whitespace()
            .filter_map(|word| word.parse().ok())
            .collect();
        match (role.starts_with("writer"), numbers.as_slice()) {
            (true, [done, met]) => {
                committed += done;
                conflicts += met;
            }
            (false, [reads]) => process_reads += reads,
            _ => return Err(format!("the {role} process printed {stdout:?}")),
        }
    }
    writing.store(false, Ordering::Release);
    let mut thread_reads = 0;
    for reader in readers {
        thread_reads += reader.join().map_err(|_| "a reader thread panicked")??;
    }

    check_total(&store)?;
    let logged = transactions(&store)? - before;
    if logged != committed as i64 {
        return Err(format!(
            "{committed} transfers committed, {logged} transactions in the log"
        ));
    }
    let report = store.verify().map_err(text)?;
    if !report.is_clean() {
        return Err(format!("verify: {report}"));
    }
    Ok(format!(
        "concurrency: {committed} transfers ({WRITER_THREADS} writer threads, \
         {WRITER_PROCESSES} writer processes; {conflicts} cas conflicts retried), \
         {thread_reads} checked reads in {READER_THREADS} threads and {process_reads} in \
         {READER_PROCESSES} process(es), the total always {TOTAL}, verify clean, {:.1} s",
        started.elapsed().as_secs_f64()
    ))
}

fn transactions(store: &Store) -> Result<i64, String> {
    store
        .db()
        .and_then(|db| db.q_str(TRANSACTIONS, ()))
        .and_then(|r| r.scalar::<i64>())
        .map_err(text)?
        .ok_or_else(|| "no transactions".to_string())
}
