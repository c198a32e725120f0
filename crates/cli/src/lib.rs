//! factlite-cli.
