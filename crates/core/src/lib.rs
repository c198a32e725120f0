//! The data model shared by every factlite crate, with no I/O: entity ids,
//! value types and typed values ([`TypedValue`]), attributes and the schema
//! ([`Schema`]), tuples ([`mod@tuple`]), the exact order of numbers of
//! every type ([`number`]), datoms ([`Datom`]), the bootstrap attributes every store
//! starts with ([`bootstrap`]), and the error categories users see
//! ([`ErrorCategory`]).

pub mod bootstrap;
mod category;
mod datom;
pub mod number;
pub mod order;
mod schema;
pub mod tuple;
mod value;

pub use category::ErrorCategory;
pub use datom::Datom;
pub use schema::{
    Attribute, Cardinality, Schema, SchemaDefinitionError, TupleDeclaration, Unique, ValueMismatch,
};
pub use tuple::TupleShape;
pub use value::{TypeMismatch, TypedValue, ValueType};

/// An entity id: a 64-bit integer allocated from a partition, never reused.
pub type Entid = i64;

/// The partitions entity ids are allocated from. An id's partition is
/// `id >> PARTITION_SHIFT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Partition {
    /// Attributes and idents: the schema.
    Db = 0,
    /// Transactions.
    Tx = 1,
    /// Everything an application creates.
    User = 2,
}

/// Bits below the partition number in an entity id.
pub const PARTITION_SHIFT: u32 = 40;

impl Partition {
    /// The first id of the partition.
    pub fn start(self) -> Entid {
        (self as i64) << PARTITION_SHIFT
    }

    /// The first id after the partition.
    pub fn end(self) -> Entid {
        (self as i64 + 1) << PARTITION_SHIFT
    }

    /// The partition an entity id belongs to, if any.
    pub fn of(id: Entid) -> Option<Partition> {
        match id >> PARTITION_SHIFT {
            0 => Some(Partition::Db),
            1 => Some(Partition::Tx),
            2 => Some(Partition::User),
            _ => None,
        }
    }

    /// All partitions, in id order.
    pub const ALL: [Partition; 3] = [Partition::Db, Partition::Tx, Partition::User];
}
