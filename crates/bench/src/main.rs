//! `factlite-bench`: DataScript's benchmark workloads (q1–q4, q2-switch,
//! qpred1/qpred2 at 20,000 and 200,000 people; add-1, add-5, add-all,
//! retract-5), a genealogy (one person's ancestors, a prefix's closure
//! written two ways) and a hot aggregate, on factlite (a file store and an
//! in-memory one) and on a plain-EAV SQLite baseline, all from the same
//! generated data, the counts checked equal before a time is kept.
//!
//! `cargo run --release -p factlite-bench -- [--quick] [--peers] [--out PATH]`:
//! prints a table of medians and ratios to the baseline (and, with
//! `--peers`, beside DataScript and CozoDB, installed and run by
//! `peers`) and writes it with
//! the machine, the versions and the missed targets of issue #16 to
//! `BENCHMARKS.md` at the repository root (or `PATH`). `--quick` runs a
//! small scale in seconds and writes a file only with `--out`: the smoke
//! test `tests/quick.rs` runs it. `--hot-people N` runs the hot aggregate
//! alone on `N` people (five datoms each: 2,000,000 for ten million
//! datoms) and prints its table; `--writes` runs the write workloads alone
//! (with the pages each commit writes) and `--queries` DataScript's
//! queries alone, each printing its table.

mod baseline;
mod data;
mod genealogy;
mod hot;
mod markdown;
mod ours;
mod pages;
mod peers;
mod queries;
mod report;
mod timing;
mod writes;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use genealogy::GenealogyScale;
use writes::WriteScale;

/// The sizes and repetitions of one run.
pub struct Scale {
    pub name: &'static str,
    pub people: [usize; 2],
    pub query_rounds: usize,
    pub writes: WriteScale,
    pub write_rounds: usize,
    pub genealogy: GenealogyScale,
    pub hot_writes: usize,
}

fn full() -> Scale {
    Scale {
        name: "full",
        people: [20_000, 200_000],
        query_rounds: 21,
        writes: WriteScale {
            add_one: 1_000,
            add_five: 2_000,
            add_all: 20_000,
            retract: 2_000,
        },
        write_rounds: 3,
        genealogy: GenealogyScale {
            people: 250_000,
            prefix: 20_000,
            rounds: 3,
            timeout: Duration::from_secs(30),
        },
        hot_writes: 41,
    }
}

fn quick() -> Scale {
    Scale {
        name: "quick",
        people: [200, 1_000],
        query_rounds: 3,
        writes: WriteScale {
            add_one: 20,
            add_five: 40,
            add_all: 200,
            retract: 40,
        },
        write_rounds: 2,
        genealogy: GenealogyScale {
            people: 2_000,
            prefix: 200,
            rounds: 2,
            timeout: Duration::from_secs(20),
        },
        hot_writes: 3,
    }
}

const USAGE: &str = "usage: factlite-bench [--quick] [--peers] [--out PATH] | factlite-bench --hot-people N | factlite-bench [--quick] --writes | factlite-bench [--quick] --queries";

fn main() -> ExitCode {
    let mut scale = full();
    let mut out = None;
    let mut with_peers = false;
    let mut hot_people = None;
    let mut writes_alone = false;
    let mut queries_alone = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => scale = quick(),
            "--peers" => with_peers = true,
            "--writes" => writes_alone = true,
            "--queries" => queries_alone = true,
            "--out" => match args.next() {
                Some(path) => out = Some(PathBuf::from(path)),
                None => {
                    eprintln!("--out needs a path\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--hot-people" => match args.next().and_then(|n| n.parse::<usize>().ok()) {
                Some(people) if people > 0 => hot_people = Some(people),
                _ => {
                    eprintln!("--hot-people needs a number of people\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let ran = if let Some(people) = hot_people {
        run_hot(&scale, people)
    } else if writes_alone {
        run_writes(&scale)
    } else if queries_alone {
        run_queries(&scale)
    } else {
        if out.is_none() && scale.name == "full" {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2);
            out = root.map(|root| root.join("BENCHMARKS.md"));
        }
        run(&scale, with_peers, out)
    };
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("factlite-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

/// One section alone: the machine and load around it, and the table
/// `section` makes in a temporary directory.
fn alone(what: &str, section: impl FnOnce(&Path) -> Result<String, String>) -> Result<(), String> {
    println!("factlite-bench ({what}) on {}", report::machine());
    println!("load average at start: {}", report::load_average());
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let table = section(dir.path())?;
    println!("load average at end: {}\n", report::load_average());
    println!("{table}");
    Ok(())
}

/// The hot aggregate alone, on `people` people.
fn run_hot(scale: &Scale, people: usize) -> Result<(), String> {
    alone(&format!("hot aggregate, {people} people"), |dir| {
        let mut loaded = queries::load(dir, &data::people(people));
        let hot = hot::run(dir, &mut loaded, scale.hot_writes)?;
        Ok(report::hot_table(&hot))
    })
}

/// DataScript's queries alone, at both scales.
fn run_queries(scale: &Scale) -> Result<(), String> {
    alone(&format!("queries, {} scale", scale.name), |dir| {
        let everyone = data::people(scale.people[1]);
        let mut rows = Vec::new();
        for &people in &scale.people {
            let section = format!("{}k datoms", people * 5 / 1000);
            let loaded = queries::load(dir, &everyone[..people]);
            queries::run(&section, &loaded, scale.query_rounds, &mut rows)?;
        }
        Ok(report::table(&rows))
    })
}

/// The write workloads alone.
fn run_writes(scale: &Scale) -> Result<(), String> {
    alone(&format!("writes, {} scale", scale.name), |dir| {
        let mut rows = Vec::new();
        let people = data::people(scale.people[0]);
        writes::run(dir, &people, &scale.writes, scale.write_rounds, &mut rows)?;
        Ok(report::table(&rows))
    })
}

fn run(scale: &Scale, with_peers: bool, out: Option<PathBuf>) -> Result<(), String> {
    let load_at_start = report::load_average();
    println!(
        "factlite-bench ({} scale) on {}",
        scale.name,
        report::machine()
    );
    println!("load average at start: {load_at_start}");
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let everyone = data::people(scale.people[1]);
    let mut rows = Vec::new();
    let mut hot = None;
    for (index, &people) in scale.people.iter().enumerate() {
        let section = format!("{}k datoms", people * 5 / 1000);
        let mut loaded = queries::load(dir.path(), &everyone[..people]);
        queries::run(&section, &loaded, scale.query_rounds, &mut rows)?;
        if index == 1 {
            hot = Some(hot::run(dir.path(), &mut loaded, scale.hot_writes)?);
        }
    }
    writes::run(
        dir.path(),
        &everyone[..scale.people[0]],
        &scale.writes,
        scale.write_rounds,
        &mut rows,
    )?;
    genealogy::run(dir.path(), &scale.genealogy, &mut rows)?;
    let peers = if with_peers {
        peers::run(dir.path(), &everyone, scale)
    } else {
        Vec::new()
    };
    let load_at_end = report::load_average();
    println!("load average at end: {load_at_end}\n");
    let table = report::table(&rows);
    println!("{table}");
    let hot = hot.ok_or("the hot aggregate did not run")?;
    let hot_table = report::hot_table(&hot);
    println!("{hot_table}");
    let peers_table = (!peers.is_empty()).then(|| report::peers_table(&rows, &peers));
    if let Some(peers_table) = &peers_table {
        println!("{peers_table}");
    }
    if let Some(path) = out {
        let text = markdown::Document {
            scale,
            load_at_start: &load_at_start,
            load_at_end: &load_at_end,
            table: &table,
            hot_table: &hot_table,
            peers: &peers,
            peers_table: peers_table.as_deref(),
            rows: &rows,
            hot_missed: hot.write_with_view.max(hot.write_with_median).as_secs_f64()
                > 3.0 * hot.write_without_view.as_secs_f64(),
        }
        .render();
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
