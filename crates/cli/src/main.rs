//! The `factlite` command. `factlite check [--views] FILE...` runs
//! conformance scenario files and prints one line per failing step, then
//! `check: N passed, M failed`; it exits 0 only when no scenario failed.
//! Without a subcommand it prints its help.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use factlite_cli::check::{run_files, CheckOptions};

/// An embedded Datalog fact store on SQLite.
#[derive(Parser)]
#[command(name = "factlite", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run conformance scenario files, each scenario on a fresh in-memory store.
    Check {
        /// Also keep every query as a materialized view and check after each
        /// step that it equals the query run from scratch.
        #[arg(long)]
        views: bool,
        /// Scenario files (EDN).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check { views, files }) => check(&files, &CheckOptions { views }),
        None => match Cli::command().print_help() {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        },
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
