//! factlite-store.
