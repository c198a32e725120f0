//! The seams a replicated log uses (the `factlite-replica` crate runs one on
//! NATS JetStream): the record format, and applying and writing records
//! through the same path as a local write.
//!
//! Every entry of the log is a [`LogRecord`]: a genesis (the replicated
//! store's id and bootstrap instant, applied first by every node so their
//! tables are identical), a resolved transaction (applied as it is: a
//! follower never resolves), or a barrier (moves the position only). A
//! store keeps the position of the last record applied in its
//! `replication` table, in the same SQLite transaction as the record:
//!
//! - [`crate::Store::apply_log_records`] applies records in order (a batch
//!   in one transaction), skipping those at or below the position, and
//!   refuses a transaction resolved against another basis than the store's
//!   newest transaction ([`crate::Error::Divergence`]);
//! - [`crate::Store::transact_through_log`] resolves and applies a
//!   transaction, hands its [`Outgoing`] record to a publisher while the
//!   SQLite transaction is open, and commits only at the position the
//!   publisher reports.
//!
//! A transaction that asserts a view's definition (`:factlite.view/name`,
//! `/query`, `/args`) installs the view, its table built in the same
//! transaction, and one that retracts it drops the view — on whichever node
//! applies it — so a replicated store materializes and drops views by
//! writing their definitions through the log
//! ([`VIEW_DEFINITION_SCHEMA`] first).
//!
//! A store that follows no log works as before; these calls are for the
//! replica crate.

pub use factlite_store::{
    Genesis, LogRecord, Outgoing, RecordBody, RecordError, ReplicationState, TxRecord,
    FORMAT_VERSION, RECORD_VERSION,
};

/// The attributes that hold view definitions, as transaction data.
pub use factlite_views::DEFINITION_SCHEMA as VIEW_DEFINITION_SCHEMA;
