//! The reference model the property tests (`properties.rs`) hold the store
//! against: a plain in-memory implementation of factlite's semantics that
//! shares no code with the store or the planner.
//!
//! - `value`: the values a datom holds and their EDN forms;
//! - `transact`: a set of datoms with a log of transactions, and transaction
//!   data (the same EDN the store gets) interpreted form by form — tempids,
//!   upsert, lookup refs, cardinality, uniqueness, retractEntity with
//!   components, cas;
//! - `excise`: excision, the entity's datoms (of some attributes, before a
//!   transaction) taken out of the log, retractions left without their
//!   assertion with them;
//! - `query`: a small query AST and a naive evaluator (nested loops over
//!   the datoms; rules by naive fixpoint; aggregates over the projected set).
//!
//! Everything here is meant to be read and trusted: no indexes, no clever
//! ordering, every rule written out once.

pub mod excise;
pub mod query;
pub mod transact;
pub mod value;
