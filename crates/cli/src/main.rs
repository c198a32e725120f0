//! The `factlite` command.
//!
//! - `factlite [DB]` opens an interactive session (a REPL) on a database
//!   file, created if missing; without a file, on the sample database
//!   `factlite-sample.db` in the working directory, filled on first use.
//! - `factlite DB -e 'STATEMENTS'` and `factlite DB < script` run statements
//!   without a prompt; `--json` prints every output (and error) as JSON,
//!   `--param ?name=VALUE` gives a query input a value. The first error
//!   stops them (unless the script says `.bail off`), is printed on stderr
//!   with its place and what was committed before it, and the exit code is 1.
//! - `factlite check`, `factlite import`, `factlite export`, `factlite
//!   verify`: see `--help`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use factlite::{edn, Durability};
use factlite_cli::check::{run_files, CheckOptions};
use factlite_cli::commands::timeout_seconds;
use factlite_cli::editor::{Completions, ReplHelper};
use factlite_cli::error::CliError;
use factlite_cli::render::Mode;
use factlite_cli::session::{Outcome, Session, SessionConfig};
use factlite_cli::{history_sample, input, interrupt, sample, transfer};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

/// An embedded Datalog fact store on SQLite.
///
/// Without a subcommand, opens DB (created if missing) and reads statements:
/// a query ([:find ...] or {:find ...}), a vector of transaction data, or a
/// dot command (.help lists them). Without DB, opens a sample database in
/// the working directory, creating it on first use: factlite-sample.db
/// (films, people, roles), or with `--sample history` factlite-history.db
/// (a browser's history and its read models as views).
#[derive(Parser)]
#[command(name = "factlite", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The database file.
    #[arg(value_name = "DB")]
    database: Option<PathBuf>,
    /// Run these statements instead of reading them from the terminal or stdin.
    #[arg(short = 'e', long = "execute", value_name = "STATEMENTS")]
    execute: Option<String>,
    /// Print every output as JSON: query rows as objects keyed by the find
    /// elements' names, transaction reports with their tempids, errors.
    #[arg(long)]
    json: bool,
    /// Give a query's :in input a value (EDN), as `.param ?name VALUE` does;
    /// may be repeated.
    #[arg(long = "param", value_name = "?NAME=VALUE")]
    params: Vec<String>,
    /// What an acknowledged transaction survives: full (a power loss; the
    /// default), normal (a crash of the program, not of the machine), or
    /// unsafe-no-sync (nothing waits for the disk: bulk loads of files you
    /// can rebuild).
    #[arg(
        long,
        value_name = "full|normal|unsafe-no-sync",
        default_value = "full"
    )]
    durability: Durability,
    /// Stop each query that runs longer than this many seconds (fractions
    /// allowed) with :error/timeout; `.timeout` changes it.
    #[arg(long, value_name = "SECONDS", value_parser = timeout_seconds)]
    timeout: Option<Duration>,
    /// The sample to open when no DB is given: films (the default) or
    /// history (a generated browser history with its read models).
    #[arg(long, value_name = "films|history", conflicts_with = "database")]
    sample: Option<SampleName>,
    /// Open DB for reading only: nothing is written to it or beside it (a
    /// file on read-only media or in a read-only directory), and
    /// transactions are refused.
    #[arg(long)]
    read_only: bool,
    /// Open DB as a node of a replicated store: the NATS servers holding
    /// its log (nats://host:port, comma-separated). The node catches up to
    /// the log's head before the first statement, and its transactions go
    /// through the log; needs --stream.
    #[arg(
        long,
        value_name = "URLS",
        requires = "stream",
        conflicts_with = "read_only"
    )]
    replicate: Option<String>,
    /// The JetStream stream that holds the replicated log (with --replicate).
    #[arg(long, value_name = "NAME", requires = "replicate")]
    stream: Option<String>,
}

/// The samples `--sample` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SampleName {
    Films,
    History,
}

#[derive(Subcommand)]
enum Command {
    /// Run conformance scenario files, each scenario on a fresh in-memory store.
    Check {
        /// Also keep every query as a materialized view and check after each
        /// step that it equals the query run from scratch.
        #[arg(long)]
        views: bool,
        /// Scenario files (EDN), or directories of them (their `*.edn`
        /// files, in name order).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Import files into a database: EDN transaction data (each top-level
    /// vector one transaction), JSON objects or CSV rows (a header row of
    /// attribute names), told apart by extension.
    Import {
        /// The database file (created if missing).
        #[arg(value_name = "DB")]
        database: PathBuf,
        /// The files to import, in order.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Export a database: a dump (FILE.edn) of every transaction, with its
    /// id and instant, that `factlite import` reads back into an empty
    /// database as an identical one (--current: the current datoms only),
    /// or with --query a query's result (EDN, JSON, CSV or TSV by the
    /// file's extension).
    Export {
        /// The database file.
        #[arg(value_name = "DB")]
        database: PathBuf,
        /// The file to write.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// A query whose result to write instead of the datoms.
        #[arg(long, value_name = "QUERY", conflicts_with = "current")]
        query: Option<String>,
        /// Dump the current datoms only, without their history.
        #[arg(long)]
        current: bool,
    },
    /// Check a database: SQLite's integrity check and factlite's own
    /// invariants (every current datom asserted in the log, no retraction
    /// without an assertion, attribute statistics, the full-text index,
    /// entity ids, nothing an excision removed left, every materialized
    /// view equal to its query run from scratch). Reads the file only; the
    /// exit code is 1 when anything is wrong.
    Verify {
        /// The database file.
        #[arg(value_name = "DB")]
        database: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Check { views, files }) => {
            return check(files, &CheckOptions { views: *views })
        }
        Some(Command::Import { database, files }) => import(database, files),
        Some(Command::Export {
            database,
            file,
            query,
            current,
        }) => export(database, file, query.as_deref(), *current),
        Some(Command::Verify { database, json }) => verify(database, *json),
        None => statements(&cli),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("factlite: {message}");
            ExitCode::FAILURE
        }
    }
}

fn check(files: &[PathBuf], options: &CheckOptions) -> ExitCode {
    let summary = run_files(files, options);
    for line in summary.failure_lines() {
        println!("{line}");
    }
    println!("{}", summary.summary_line());
    if summary.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn import(database: &Path, files: &[PathBuf]) -> Result<ExitCode, CliError> {
    let session = Session::open(database, SessionConfig::default())?;
    for file in files {
        print!("{}", transfer::import_file(session.store(), file, true)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn export(
    database: &Path,
    file: &Path,
    query: Option<&str>,
    current: bool,
) -> Result<ExitCode, CliError> {
    let mut session = Session::open(database, SessionConfig::default())?;
    let flag = if current { "--current " } else { "" };
    session.execute(&format!(
        ".export {flag}{} {}",
        file.display(),
        query.unwrap_or("")
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn verify(database: &Path, json: bool) -> Result<ExitCode, CliError> {
    let report = factlite_cli::verify::verify_file(database)?;
    if json {
        println!("{}", factlite_cli::verify::report_json(database, &report));
    } else {
        print!("{}", factlite_cli::verify::report_text(database, &report));
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A `--param ?name=VALUE` argument given to the session.
fn set_param(session: &mut Session, param: &str) -> Result<(), CliError> {
    let Some((name, value)) = param.split_once('=') else {
        return Err(CliError::Usage(format!(
            "--param {param}: write it as ?name=VALUE, the value in EDN (--param '?year=1979')"
        )));
    };
    session.set_param(&edn::parse(name)?, edn::parse(value)?)
}

/// Opens the database (or the sample) and runs statements: from `-e`,
/// from stdin when it is not a terminal, else interactively.
fn statements(cli: &Cli) -> Result<ExitCode, CliError> {
    let execute = cli.execute.as_deref();
    let interactive = execute.is_none() && std::io::stdin().is_terminal();
    let config = SessionConfig {
        color: interactive && std::io::stdout().is_terminal() && colour_allowed(),
        progress: true,
        durability: cli.durability,
        timeout: cli.timeout,
        read_only: cli.read_only,
    };
    let mut session = match (cli.database.as_deref(), &cli.replicate, &cli.stream) {
        (Some(path), Some(servers), Some(stream)) => {
            let servers: Vec<&str> = servers.split(',').map(str::trim).collect();
            let replica = factlite_replica::Config::new(&servers, stream);
            Session::replicated(path, config, replica)?
        }
        (None, Some(_), _) => {
            return Err(CliError::Usage(
                "--replicate needs the node's database file: factlite FILE.db --replicate URLS --stream NAME"
                    .to_string(),
            ))
        }
        (Some(path), _, _) => Session::open(path, config)?,
        (None, _, _) => match cli.sample.unwrap_or(SampleName::Films) {
            SampleName::Films => open_sample(config)?,
            SampleName::History => open_history_sample(config)?,
        },
    };
    if cli.json {
        session.set_mode(Mode::Json);
    }
    for param in &cli.params {
        set_param(&mut session, param)?;
    }
    if interactive {
        return repl(&mut session);
    }
    // Stdin is read a statement at a time, so that endless input is
    // refused after one statement's limit instead of filling memory.
    let ran = match execute {
        Some(text) => session.run_script("-e", text.as_bytes()),
        None => session.run_script("stdin", std::io::stdin().lock()),
    };
    match ran {
        Ok(end) if end.errors == 0 => Ok(ExitCode::SUCCESS),
        Ok(_) => Ok(ExitCode::FAILURE),
        Err(located) => {
            session.print_error(located.as_ref());
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Whether colour is allowed: not when `NO_COLOR` is set to anything but
/// the empty string (no-color.org).
fn colour_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// Opens the sample database in the working directory, filling it first
/// if it does not hold the sample yet.
fn open_sample(config: SessionConfig) -> Result<Session, CliError> {
    let path = Path::new(sample::SAMPLE_FILE);
    let session = Session::open(path, config)?;
    if !sample::is_loaded(session.store())? {
        let size = sample::load(session.store())?;
        eprintln!(
            "created {} from the sample dataset: {} films, {} people, {} roles",
            path.display(),
            size.films,
            size.people,
            size.roles
        );
    }
    Ok(session)
}

/// Opens the history sample in the working directory, generating it
/// first if it does not hold the history yet.
fn open_history_sample(config: SessionConfig) -> Result<Session, CliError> {
    let path = Path::new(history_sample::HISTORY_FILE);
    let session = Session::open(path, config)?;
    if let Some(size) = history_sample::prepare(session.store())? {
        eprintln!(
            "created {} with a generated browser history: {} visits, {} read models as views \
             (.views lists them)",
            path.display(),
            size.visits,
            size.views
        );
    }
    Ok(session)
}

/// Where the REPL keeps its history: `$FACTLITE_HISTORY`, else
/// `~/.factlite_history`.
fn history_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FACTLITE_HISTORY") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| Path::new(&home).join(".factlite_history"))
}

/// The prompt of a statement's second and later lines.
const CONTINUATION_PROMPT: &str = "   ...> ";

/// The interactive loop. A statement goes on over several lines, each with
/// the continuation prompt, until its brackets balance; Ctrl-C drops the
/// lines typed so far.
fn repl(session: &mut Session) -> Result<ExitCode, CliError> {
    let readline_error = |error: ReadlineError| CliError::Usage(format!("line editor: {error}"));
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .build();
    let mut editor: Editor<ReplHelper, DefaultHistory> =
        Editor::with_config(config).map_err(readline_error)?;
    let completions = Completions::default();
    completions.refresh(session);
    editor.set_helper(Some(ReplHelper {
        completions: completions.clone(),
    }));
    let history = history_file();
    if let Some(path) = &history {
        // A missing history file is the normal first run.
        let _ = editor.load_history(path);
    }
    if let Err(error) = interrupt::install() {
        eprintln!("factlite: Ctrl-C cannot cancel statements: {error}");
    }
    let place = session
        .location()
        .map_or("memory".to_string(), |path| path.display().to_string());
    println!(
        "factlite {} on {place}. Type .help for the commands; Ctrl-D leaves.",
        env!("CARGO_PKG_VERSION")
    );
    let mut statement = String::new();
    loop {
        let prompt = if statement.is_empty() {
            session.prompt()
        } else {
            CONTINUATION_PROMPT.to_string()
        };
        completions.set_pending(&statement);
        match editor.readline(&prompt) {
            Ok(line) => {
                if !statement.is_empty() {
                    statement.push('\n');
                }
                statement.push_str(&line);
                if statement.trim().is_empty() {
                    statement.clear();
                    continue;
                }
                if !input::is_complete(&statement) {
                    continue;
                }
                let typed = std::mem::take(&mut statement);
                let _ = editor.add_history_entry(typed.as_str());
                if let Some(path) = &history {
                    let _ = editor.save_history(path);
                }
                match session.execute(&typed) {
                    Ok(Outcome::Continue) => {}
                    Ok(Outcome::Quit) => break,
                    Err(error) => session.print_error(&error),
                }
                completions.refresh(session);
            }
            Err(ReadlineError::Interrupted) => statement.clear(),
            Err(ReadlineError::Eof) => break,
            Err(error) => return Err(readline_error(error)),
        }
    }
    Ok(ExitCode::SUCCESS)
}
