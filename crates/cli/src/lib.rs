//! The library half of the `factlite` command line, shared by the binary and
//! the workspace's tests: the scenario runner behind `factlite check`
//! ([`check::run_files`]).

pub mod check;
