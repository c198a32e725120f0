//! `BENCHMARKS.md`: the run's machine, versions and load, how each
//! workload is measured, the tables, and each missed target of issue #16
//! with its plans and the causes the plans show.

use std::fmt::Write as _;

use crate::report::{self, Row};
use crate::Scale;

/// A command's first line of output, if it runs.
fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text.lines().next()?.trim().to_string()).filter(|line| !line.is_empty())
}

const METHOD: &str = "\
## How it is measured

- The same generated data for every system, from one fixed seed: DataScript's
  benchmark people (`:name` of 8, `:last-name` of 6, `:sex`, `:age` below 100,
  `:salary` below 100,000; every attribute indexed), and a genealogy whose
  people have two parents among the three around half their id.
- **plain-EAV SQLite**: one `datoms(e, a, v, tx)` table with EAVT, AEVT and
  AVET indexes, WAL, `synchronous = FULL` (factlite's default durability),
  hand-written SQL with the join order pinned (`CROSS JOIN`), prepared
  statements, every row read into Rust values. **factlite file**: a store
  opened with the default `Config` (durability `full`); **factlite memory**:
  `Store::open_in_memory`. Queries run as `PreparedQuery::run` (the whole
  result as values); writes as transaction data built from values.
- Every contender runs once per round, the first of each round rotating; the
  counts (rows, datoms held after a write, pairs of a closure) must agree in
  every round or the run stops; the figures are medians over the rounds.
- Writes: add-1, add-5 and retract-5 write the first people of the 20,000
  (the table says how many transactions) on fresh stores each round, so the
  figure is the per-commit cost times the transactions; add-all is all
  20,000 people (100k datoms) in one transaction.
- The closure written naturally runs under factlite's query timeout
  (`Db::with_timeout`) and is reported as timed out, not waited for.
";

const CAUSES: &str = "\
## Why the targets are missed (from the plans above and issue #16)

- **qpred1/qpred2**: the range condition on an indexed attribute reaches
  SQLite as `a = ? AND v > ?` without the partial AVET index's own
  condition, so SQLite cannot use that index and scans the attribute through
  AEVT (see `USING INDEX` in factlite's plan against `avet` in the
  baseline's). Closing it: emit the partial index's condition with every
  range that can use it.
- **q1–q4**: the query time is mostly SQLite on factlite's layout: entity
  ids from 2^41 up take more bytes in every index entry than the baseline's
  small integers, and the type tag and `avet` flag columns widen every
  entry. q3/q4 also put the halving filter `[?e :sex :male]` last: per
  attribute statistics alone do not see that a constant value is selective.
  Closing it: value statistics (distinct counts or most common values) in
  the join order, smaller entity ids.
- **Writes**: every datom goes into `datoms` and the append-only `log`,
  through seven indexes, against three for the baseline; a transaction also
  writes its instant and partition counters. Closing it: fewer indexes (the
  log's two), small entity ids, less work per datom in the transactor.
- **Genealogy, the filter before the rule call**: the clauses before the
  call are not pushed into the recursion as its seed, so the closure of the
  whole genealogy is built before the filter applies. Closing it: multi-row
  magic sets (the clauses binding a rule's arguments become its seed).
- **Hot aggregate**: `avg` is recomputed from the group's stored rows on
  every change, so a one-datom write costs in proportion to the group.
  Closing it: per-group sums and counts.
";

/// The whole document.
pub fn document(
    scale: &Scale,
    load_at_start: &str,
    load_at_end: &str,
    table: &str,
    hot_table: &str,
    rows: &[Row],
) -> String {
    let mut out = String::from("# Benchmarks\n\n");
    let _ = writeln!(
        out,
        "Written by `cargo run --release -p factlite-bench` ({} scale), the \
         benchmark suite of issue #16; run it again to refresh this file.\n",
        scale.name
    );
    let _ = writeln!(
        out,
        "- date: {}",
        command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_else(|| "unknown".into())
    );
    let _ = writeln!(out, "- machine: {}", report::machine());
    let _ = writeln!(
        out,
        "- load average (1, 5, 15 min): {load_at_start} at the start, {load_at_end} at the end \
         (the machine is shared: the figures are medians of contenders taking turns)"
    );
    let _ = writeln!(
        out,
        "- versions: factlite {} ({}), SQLite {} (bundled, both sides), {}",
        env!("CARGO_PKG_VERSION"),
        command_line("git", &["rev-parse", "--short", "HEAD"])
            .map_or("commit unknown".into(), |commit| format!("commit {commit}")),
        rusqlite::version(),
        command_line("rustc", &["--version"]).unwrap_or_else(|| "rustc unknown".into())
    );
    let _ = writeln!(
        out,
        "- peers: DataScript and CozoDB were not run by this version of the suite \
         (`--peers` is not built yet); FIELD-NOTES.md has their figures from an earlier run.\n"
    );
    out.push_str(METHOD);
    out.push_str("\n## Results (ms, medians)\n\n");
    out.push_str(table);
    out.push_str("\n## Hot aggregate\n\n");
    out.push_str(hot_table);
    let missed = report::missed(rows);
    if !missed.is_empty() {
        out.push_str("\n## Missed targets: by how much, and the plans\n\n");
        out.push_str(&missed);
    }
    out.push('\n');
    out.push_str(CAUSES);
    out
}
