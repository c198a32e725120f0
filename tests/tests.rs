//! The workspace's integration tests, built as one test binary (ripgrep's
//! layout): one module per concern.

mod conformance_local;
mod conformance_parse;
mod conformance_shared;
mod dependencies;
mod fuzz_corpus;
mod messages;
mod model;
mod properties;
mod rules_closure;
mod runner;
