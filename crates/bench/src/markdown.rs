//! `BENCHMARKS.md`: the run's machine, versions and load, how each
//! workload is measured, the tables, and each missed target of issue #16
//! with its plans and the causes the plans show.

use std::fmt::Write as _;

use crate::peers::Peer;
use crate::report::{self, Row};
use crate::Scale;

/// A command's first line of output, if it runs.
fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .ok()?;
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
  20,000 people (100k datoms) in one transaction. After the timed rounds,
  each workload runs once more on the baseline and on a factlite file with
  a reader holding the WAL from before its first commit, so no checkpoint
  empties it: its frames are every page the commits wrote, each put down
  to the table or index that holds it at the end, through SQLite's
  `dbstat` (a page freed and reused in the run counts for its last owner;
  printed as pages per commit beside a missed write target).
- The closure written naturally runs under factlite's query timeout
  (`Db::with_timeout`) and is reported as timed out, not waited for.
";

/// What the plans of this file's run showed, said once per cause: each
/// bullet is printed when a workload it names missed its target.
const CAUSES_INTRO: &str = "\
## Why the targets are missed (read from the plans above)

Written from the plans of the run that produced this file; when a later run
shows other plans, they are the ones to read.
";

/// (the workloads a cause explains, the cause).
const CAUSES: [(&[&str], &str); 6] = [
    (
        &["qpred"],
        "\
- **qpred1/qpred2**: the plans are the same — one range search of the AVET
  index (`datoms_avet (a=? AND v>?)` against `avet (a=? AND v>?)`), and
  cells of the common stored shapes decode straight to values. What
  remains is per row: factlite's index entries are wider (a type tag and
  the `avet` flag beside `e a v`, entity ids from 2^41 up against small
  integers) and every row of the result is gathered before it is returned,
  where the baseline reads each row and drops it. Closing it: small entity
  ids in the common case, a narrower AVET entry.",
    ),
    (
        &["q3", "q4"],
        "\
- **q3/q4**: the join order differs: factlite probes `:age` (AEVT) for every
  Ivan and checks `[?e :sex :male]` last (its primary key), where the
  hand-written SQL checks the sex first, halving the rows before the next
  probe; per-attribute statistics do not see that a constant value is
  selective. Closing it: value statistics (distinct counts or most common
  values per attribute) in the join order. The ratio moves a lot between
  runs on this shared machine (1.4× to 3× at 100k datoms).",
    ),
    (
        &["add-1", "add-5", "add-all", "retract-5"],
        "\
- **Writes**: the pages each commit writes are counted beside each missed
  write above (WAL frames, by table). A one-datom transaction (add-1)
  writes about 11 pages against the baseline's 4.5: its datom goes into
  `datoms` (its key, `datoms_aevt`, `datoms_avet`) and the append-only `log`
  (its key and `log_aevt`), five b-trees against the baseline's four; every
  transaction also writes its `:db/txInstant` datom (four more pages, at
  the end of the transaction partition). The baseline keeps no history and no
  transaction entity: those pages are what the log and reads of the past
  cost. Pages are not the whole of it: a trial that wrote no
  `:db/txInstant` rows at all (6.9 pages per add-1 commit) moved add-1 only
  from 1.74× to 1.58×; both sides make one `fsync` per commit, and the
  rest is the kernel's work per page written and factlite's own CPU per
  commit (about 25 µs, measured in memory). retract-5 appends a retraction
  per datom to `log_aevt`, beside its assertion, in leaves the bulk load
  filled, so most of them split. add-all costs nearly as much in memory as
  on a file: its cost is CPU, half of it SQLite's inserts into five
  b-trees (a `WITHOUT ROWID` key splits its right-most leaf by the general
  rebalancing, where a rowid table appends), a quarter resolving; inserting
  32 rows per statement was tried and was slower (530 against 440 ms).
  Closing it, a layout change each: the transaction's instant kept out of
  the datom indexes (a table of transactions, one row at its right edge), a
  retraction marking its assertion in place (a log keyed by datom with the
  transaction that retracted it, which also makes an as-of read one
  range).",
    ),
    (
        &["restricted in the rule"],
        "\
- **The prefix closure, restricted in the rule**: the rules require
  `(<= ?i 20000)` of every `?x` the recursion passes through; the
  hand-written SQL checks it in its seed only, which gives the same count
  here only because a parent's id is smaller than its child's. factlite
  joins the step's patterns once (`edges`: a `MATERIALIZED` CTE of the
  prefix's parent pairs, read through SQLite's automatic index), so each
  derived pair costs one probe as in the baseline; what remains is the
  edge table's build and its automatic index.",
    ),
    (
        &["filter before"],
        "\
- **The prefix closure, the filter before the rule call**: the seed is every
  parent datom (`datoms_aevt (a=?)`): the clauses before the call are not
  pushed into the recursion, so the closure of the whole genealogy is built
  before the filter applies. Closing it: multi-row magic sets (the clauses
  binding a rule's arguments become its seed).",
    ),
    (
        &["hot"],
        "\
- **Hot aggregate**: `avg` moves from per-group sums and counts, `median`
  from an anchor kept in state (the lower middle value's key and how many
  values come before it), so a write's maintenance reads only its delta
  and the values between the old middle and the new; what is left is the
  view table's own row update and the support table's index.",
    ),
];

/// What the document says.
pub struct Document<'a> {
    pub scale: &'a Scale,
    pub load_at_start: &'a str,
    pub load_at_end: &'a str,
    pub table: &'a str,
    pub hot_table: &'a str,
    pub peers: &'a [Peer],
    pub peers_table: Option<&'a str>,
    pub rows: &'a [Row],
    /// Whether the hot aggregate's write missed its target.
    pub hot_missed: bool,
}

impl Document<'_> {
    /// The whole document.
    pub fn render(&self) -> String {
        let Document {
            scale,
            load_at_start,
            load_at_end,
            table,
            hot_table,
            peers,
            peers_table,
            rows,
            hot_missed,
        } = self;
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
            command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
                .unwrap_or_else(|| "unknown".into())
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
        if peers.is_empty() {
            out.push_str(
                "- peers: not run (`--peers` installs and runs DataScript and CozoDB)\n\n",
            );
        } else {
            let names: Vec<&str> = peers.iter().map(|peer| peer.name.as_str()).collect();
            let _ = writeln!(out, "- peers: {}\n", names.join(", "));
        }
        out.push_str(METHOD);
        out.push_str("\n## Results (ms, medians)\n\n");
        out.push_str(table);
        out.push_str("\n## Hot aggregate\n\n");
        out.push_str(hot_table);
        if let Some(peers_table) = peers_table {
            out.push_str(
                "\n## Beside the peers\n\nThe peers run after factlite, each in its own process \
             on the same data file (medians of as many rounds; DataScript in memory, CozoDB \
             on SQLite with one relation per attribute and an index on its values; their \
             add-5 and add-all write the same people as factlite's).\n\n",
            );
            out.push_str(peers_table);
        }
        let missed = report::missed(rows);
        if !missed.is_empty() {
            out.push_str("\n## Missed targets: by how much, and the plans\n\n");
            out.push_str(&missed);
        }
        let missed_names: Vec<String> = rows
            .iter()
            .filter(|row| row.missed().is_some())
            .map(|row| row.workload.clone())
            .chain(hot_missed.then(|| "hot".to_string()))
            .collect();
        let causes: Vec<&str> = CAUSES
            .iter()
            .filter(|(names, _)| {
                names
                    .iter()
                    .any(|name| missed_names.iter().any(|missed| missed.contains(name)))
            })
            .map(|(_, cause)| *cause)
            .collect();
        if !causes.is_empty() {
            out.push('\n');
            out.push_str(CAUSES_INTRO);
            for cause in causes {
                out.push('\n');
                out.push_str(cause);
            }
        }
        out
    }
}
