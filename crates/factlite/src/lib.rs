//! factlite.
