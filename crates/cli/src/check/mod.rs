//! The scenario runner behind `factlite check`: reads conformance scenario
//! files (the format is the shared `conformance/FORMAT.md`), runs every
//! scenario on a fresh in-memory store through the `factlite` façade, and
//! reports each step whose outcome differs from what the scenario expects.
//!
//! The passes, each in its own module:
//! - `scenario` reads EDN forms into scenarios and steps;
//! - `tags` replaces `#ent "name"` and `#tx "name"` by the ids they name;
//! - `run` executes the steps and judges their outcomes;
//! - `compare` decides whether a result equals the expected one;
//! - `views` is the one seam to materialized views.
//!
//! ```no_run
//! use factlite_cli::check::{run_files, CheckOptions};
//! let summary = run_files(&["scenarios.edn".into()], &CheckOptions::default());
//! for line in summary.failure_lines() {
//!     println!("{line}");
//! }
//! println!("{}", summary.summary_line());
//! ```

mod compare;
mod run;
mod scenario;
mod tags;
mod views;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use factlite::edn::ParseError;

/// How scenarios are run.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Also register every eligible query step as a materialized view and,
    /// after every later step, check that each view equals its query run
    /// from scratch (`check --views`).
    pub views: bool,
}

/// The results of a whole run, one entry per scenario (or per file or form
/// that could not be read as scenarios).
#[derive(Debug, Default)]
pub struct CheckSummary {
    pub scenarios: Vec<ScenarioResult>,
}

impl CheckSummary {
    /// How many scenarios passed.
    pub fn passed(&self) -> usize {
        self.scenarios.iter().filter(|s| s.passed()).count()
    }

    /// How many scenarios (or unreadable files and forms) failed.
    pub fn failed(&self) -> usize {
        self.scenarios.len() - self.passed()
    }

    /// One line per failing step, in file and step order.
    pub fn failure_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.scenarios
            .iter()
            .flat_map(ScenarioResult::failure_lines)
    }

    /// `check: N passed, M failed`.
    pub fn summary_line(&self) -> String {
        format!("check: {} passed, {} failed", self.passed(), self.failed())
    }
}

/// What happened to one scenario.
#[derive(Debug)]
pub struct ScenarioResult {
    /// The file it came from.
    pub file: PathBuf,
    /// Its `:name`; `None` when the failure concerns the whole file or a
    /// form that is not a named scenario.
    pub name: Option<String>,
    /// Every failing step; empty when the scenario passed.
    pub failures: Vec<Failure>,
    /// The message of every error its steps met, expected or not (for the
    /// tests that check how messages read).
    pub errors: Vec<String>,
}

impl ScenarioResult {
    /// `true` when no step failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// One printable line per failure: file, scenario, step, expected,
    /// actual and the step's note.
    pub fn failure_lines(&self) -> Vec<String> {
        let file = self.file.display();
        self.failures
            .iter()
            .map(|failure| {
                let subject = match (&self.name, failure.location) {
                    (_, Location::File) => match &failure.problem {
                        Problem::NotEdn(error) => {
                            format!("{file}:{}:{}", error.line, error.column)
                        }
                        _ => file.to_string(),
                    },
                    (_, Location::Form(number)) => format!("{file}: form {number}"),
                    (Some(name), location) => format!("{file}: {name:?} {location}"),
                    (None, location) => format!("{file}: {location}"),
                };
                match &failure.note {
                    Some(note) => format!("{subject}: {} (note: {note})", failure.problem),
                    None => format!("{subject}: {}", failure.problem),
                }
            })
            .collect()
    }
}

/// One thing that went wrong.
#[derive(Debug)]
pub struct Failure {
    pub location: Location,
    pub problem: Problem,
    /// The step's `:note`, if it has one.
    pub note: Option<String>,
}

/// Where in a file a failure is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole.
    File,
    /// A top-level form that is not a valid scenario (1-based).
    Form(usize),
    /// The scenario as a whole (before its first step).
    Scenario,
    /// The scenario's `:schema` transaction.
    Schema,
    /// A step (1-based); checks made after a step (`--views`) name it too.
    Step(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => f.write_str("file"),
            Location::Form(number) => write!(f, "form {number}"),
            Location::Scenario => f.write_str("scenario"),
            Location::Schema => f.write_str("schema"),
            Location::Step(number) => write!(f, "step {number}"),
        }
    }
}

/// What went wrong.
#[derive(Debug)]
pub enum Problem {
    /// The file could not be read.
    Unreadable(String),
    /// The file is not EDN.
    NotEdn(ParseError),
    /// A scenario or step does not follow the format, or names an unknown
    /// `#ent`/`#tx` outside a transaction.
    Malformed(String),
    /// The scenario could not start (the in-memory store did not open).
    Setup(String),
    /// The step's outcome is not the expected one.
    Mismatch {
        expected: String,
        actual: String,
        /// Where the two differ, for results too big to compare by eye.
        difference: Option<String>,
    },
    /// A view could not be materialized, read or dropped.
    View(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreadable(message) => write!(f, "cannot read the file: {message}"),
            Problem::NotEdn(error) => write!(f, "not EDN: {}", error.message),
            Problem::Malformed(message) => write!(f, "malformed: {message}"),
            Problem::Setup(message) => write!(f, "cannot start: {message}"),
            Problem::Mismatch {
                expected,
                actual,
                difference,
            } => {
                write!(f, "expected {expected}, actual {actual}")?;
                match difference {
                    Some(difference) => write!(f, " ({difference})"),
                    None => Ok(()),
                }
            }
            Problem::View(message) => f.write_str(message),
        }
    }
}

/// Runs every scenario of every file, in order; a directory stands for
/// the `*.edn` files in it, in name order.
pub fn run_files(paths: &[PathBuf], options: &CheckOptions) -> CheckSummary {
    let scenarios = paths
        .iter()
        .flat_map(|path| {
            if !path.is_dir() {
                return run_file(path, options);
            }
            match scenario_files(path) {
                Ok(files) => files
                    .iter()
                    .flat_map(|file| run_file(file, options))
                    .collect(),
                Err(error) => file_failure(path, Problem::Unreadable(error.to_string())),
            }
        })
        .collect();
    CheckSummary { scenarios }
}

/// The `*.edn` files of a directory, in name order.
fn scenario_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|ext| ext == "edn") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Runs every scenario of one file. A file that cannot be read or parsed
/// gives one failed result.
pub fn run_file(path: &Path, options: &CheckOptions) -> Vec<ScenarioResult> {
    match std::fs::read_to_string(path) {
        Ok(text) => run_text(path, &text, options),
        Err(error) => file_failure(path, Problem::Unreadable(error.to_string())),
    }
}

/// Runs every scenario of `text`, reporting them as coming from `path`.
pub fn run_text(path: &Path, text: &str, options: &CheckOptions) -> Vec<ScenarioResult> {
    let forms = match factlite::edn::parse_all(text) {
        Ok(forms) => forms,
        Err(error) => return file_failure(path, Problem::NotEdn(error)),
    };
    let mut names_seen = HashSet::new();
    forms
        .iter()
        .enumerate()
        .map(|(index, form)| {
            let scenario = match scenario::read_scenario(form) {
                Ok(scenario) => scenario,
                Err(message) => {
                    return ScenarioResult {
                        file: path.to_path_buf(),
                        name: None,
                        failures: vec![Failure {
                            location: Location::Form(index + 1),
                            problem: Problem::Malformed(message),
                            note: None,
                        }],
                        errors: Vec::new(),
                    }
                }
            };
            let mut failures = Vec::new();
            if !names_seen.insert(scenario.name.clone()) {
                failures.push(Failure {
                    location: Location::Scenario,
                    problem: Problem::Malformed(
                        "another scenario of this file has this name".into(),
                    ),
                    note: None,
                });
            }
            let run = run::run_scenario(&scenario, options);
            failures.extend(run.failures);
            ScenarioResult {
                file: path.to_path_buf(),
                name: Some(scenario.name),
                failures,
                errors: run.errors,
            }
        })
        .collect()
}

/// The one result of a file that could not be read as scenarios.
fn file_failure(path: &Path, problem: Problem) -> Vec<ScenarioResult> {
    vec![ScenarioResult {
        file: path.to_path_buf(),
        name: None,
        failures: vec![Failure {
            location: Location::File,
            problem,
            note: None,
        }],
        errors: Vec::new(),
    }]
}
