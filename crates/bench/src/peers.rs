//! `--peers`: installs DataScript (npm) and CozoDB (PyPI `pycozo` and
//! `cozo-embedded`, SQLite engine) into a work directory of their own in
//! the system's temporary directory (kept between runs, so a second run
//! installs nothing), writes the generated people as a JSON file, runs the
//! scripts in `peers/` on it and collects the lines they print
//! (`SCALE WORKLOAD COUNT MS`). A peer that cannot be installed or run is
//! reported in one line and left out.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::data::Person;
use crate::Scale;

/// One peer's figures: (section, workload, count, median ms).
pub struct Peer {
    pub name: String,
    pub figures: Vec<(String, String, u64, f64)>,
}

const DATASCRIPT: &str = "1.8.1";
const COZO: &str = "0.7.6";

fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// Runs a command to the end; its standard output, or a one-line reason.
fn output(command: &mut Command) -> Result<String, String> {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .map_err(|error| format!("cannot run {shown}: {error}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|line| !line.trim().is_empty());
        return Err(format!("{shown} failed: {}", last.unwrap_or("no message")));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn install_datascript(work: &Path) -> Result<PathBuf, String> {
    let modules = work.join("node/node_modules");
    if !modules.join("datascript/package.json").exists() {
        output(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
                .arg(work.join("node"))
                .arg(format!("datascript@{DATASCRIPT}")),
        )?;
    }
    Ok(modules)
}

fn install_cozo(work: &Path) -> Result<PathBuf, String> {
    let python = work.join("venv/bin/python");
    if !python.exists() {
        output(
            Command::new("python3")
                .args(["-m", "venv"])
                .arg(work.join("venv")),
        )?;
    }
    if output(Command::new(&python).args(["-c", "import pycozo, cozo_embedded"])).is_err() {
        output(
            Command::new(&python)
                .args(["-m", "pip", "install", "-q"])
                .args([format!("pycozo=={COZO}"), format!("cozo-embedded=={COZO}")]),
        )?;
    }
    Ok(python)
}

/// The people as a JSON array of `[name, last-name, sex, age, salary]`.
fn write_people(path: &Path, people: &[Person]) -> std::io::Result<()> {
    let rows: Vec<String> = people
        .iter()
        .map(|p| {
            format!(
                "[\"{}\",\"{}\",\"{}\",{},{}]",
                p.name,
                p.last_name,
                p.sex(),
                p.age,
                p.salary
            )
        })
        .collect();
    std::fs::write(path, format!("[{}]", rows.join(",\n")))
}

/// The figures in a script's output.
fn parse(text: &str) -> Vec<(String, String, u64, f64)> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let scale = fields.next()?;
            let workload = fields.next()?.to_string();
            let count = fields.next()?.parse().ok()?;
            let ms = fields.next()?.parse().ok()?;
            let section = match scale.parse::<usize>() {
                Ok(people) => format!("{}k datoms", people * 5 / 1000),
                Err(_) => scale.to_string(),
            };
            Some((section, workload, count, ms))
        })
        .collect()
}

/// Installs and runs both peers on `people` (`dir` is the run's own
/// temporary directory).
pub fn run(dir: &Path, people: &[Person], scale: &Scale) -> Vec<Peer> {
    let work = std::env::temp_dir().join("factlite-bench-peers");
    let data = dir.join("people.json");
    if let Err(error) = std::fs::create_dir_all(&work).and_then(|()| write_people(&data, people)) {
        println!("peers: cannot prepare their data ({error}); going on without them");
        return Vec::new();
    }
    let arguments: Vec<String> = [
        scale.query_rounds,
        scale.write_rounds,
        scale.people[0],
        scale.people[1],
        scale.writes.add_five,
        scale.writes.add_all,
    ]
    .iter()
    .map(usize::to_string)
    .collect();
    let mut peers = Vec::new();
    println!("peers: installing and running DataScript {DATASCRIPT} (Node)");
    let datascript = install_datascript(&work).and_then(|modules| {
        output(
            Command::new("node")
                .arg(peers_dir().join("datascript.js"))
                .arg(modules)
                .arg(&data)
                .args(&arguments),
        )
    });
    let node = output(Command::new("node").arg("--version")).unwrap_or_default();
    match datascript {
        Ok(text) => peers.push(Peer {
            name: format!("DataScript {DATASCRIPT} (Node {})", node.trim()),
            figures: parse(&text),
        }),
        Err(error) => println!("peers: DataScript left out: {error}"),
    }
    println!("peers: installing and running CozoDB {COZO} (Python, SQLite engine)");
    let cozo_work = dir.join("cozo");
    let cozo = std::fs::create_dir_all(&cozo_work)
        .map_err(|error| error.to_string())
        .and_then(|()| install_cozo(&work))
        .and_then(|python| {
            output(
                Command::new(python)
                    .arg(peers_dir().join("cozo.py"))
                    .arg(&cozo_work)
                    .arg(&data)
                    .args(&arguments),
            )
        });
    match cozo {
        Ok(text) => peers.push(Peer {
            name: format!("CozoDB {COZO} (SQLite engine)"),
            figures: parse(&text),
        }),
        Err(error) => println!("peers: CozoDB left out: {error}"),
    }
    peers
}
