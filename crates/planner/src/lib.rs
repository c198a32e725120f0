//! factlite-planner.
