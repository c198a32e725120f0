//! The library half of the `factlite` command line, shared by the binary and
//! the workspace's tests: the REPL session ([`session::Session`]) with its
//! dot commands, result printing, import and export, the sample database,
//! the scenario runner behind `factlite check` ([`check::run_files`]), and
//! the report of `factlite verify` ([`verify::verify_file`]).

pub mod check;
pub mod commands;
pub mod dump;
pub mod editor;
pub mod error;
pub mod history_sample;
pub mod input;
pub mod interrupt;
pub mod render;
pub mod sample;
pub mod session;
pub mod transfer;
pub mod verify;
pub mod words;
