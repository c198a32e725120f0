//! factlite-views.
