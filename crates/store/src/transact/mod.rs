//! The transactor, in two halves kept apart on purpose:
//!
//! - [`resolve`]: transaction data + the current state → a [`TxRecord`], a
//!   plain record of the datoms to retract and assert, with every tempid,
//!   lookup ref and ident resolved and every constraint checked that can be
//!   checked before writing;
//! - [`apply`]: a record → rows in `datoms`, `log`, the statistics and the
//!   full-text index, and the schema checks that need the written state —
//!   all inside the caller's SQLite transaction.
//!
//! Every write goes through `apply`, so a record could also arrive from
//! elsewhere (a replicated log) and be applied the same way.

pub mod apply;
mod composite;
pub mod resolve;

use factlite_core::{Datom, Entid, TypedValue};
use indexmap::{IndexMap, IndexSet};

/// The reserved tempid that names the transaction entity itself, so a
/// transaction can assert facts about itself (`[:db/add "datomic.tx"
/// :audit/user "ann"]`), its own `:db/txInstant` among them (an import of
/// older data; never before the newest transaction's instant).
pub const TX_TEMPID: &str = "datomic.tx";

/// The items of a vector, taken in order, giving its room back as they go
/// (a vector's own `into_iter` keeps all of it to the end): a large
/// transaction's forms and ops do not stay whole beside what they become.
pub(crate) struct Releasing<T> {
    /// The items not taken yet, last first.
    rest: Vec<T>,
}

impl<T> Releasing<T> {
    /// How much room, at most, taken items leave behind before it is
    /// given back: about 4 MiB.
    const STEP: usize = (4 << 20) / (std::mem::size_of::<T>() + 1) + 1;

    pub(crate) fn new(mut items: Vec<T>) -> Releasing<T> {
        items.reverse();
        Releasing { rest: items }
    }
}

impl<T> Iterator for Releasing<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let item = self.rest.pop()?;
        if self.rest.capacity() - self.rest.len() >= Self::STEP {
            self.rest.shrink_to_fit();
        }
        Some(item)
    }
}

/// The values of a set, in order, as a vector; the set's room is given
/// back as they move (collecting its `into_iter` would hold both whole).
pub(crate) fn set_into_vec<T: std::hash::Hash + Eq>(mut set: IndexSet<T>) -> Vec<T> {
    let mut values = Vec::with_capacity(set.len());
    let step = set.len() / 8 + 1;
    while let Some(value) = set.pop() {
        values.push(value);
        if set.capacity() - set.len() >= step {
            set.shrink_to_fit();
        }
    }
    values.reverse();
    values
}

/// What a transaction does, fully resolved: the input of [`apply`].
#[derive(Clone, Debug, PartialEq)]
pub struct TxRecord {
    /// The transaction's entity id.
    pub tx: Entid,
    /// Its `:db/txInstant`, in milliseconds since the epoch.
    pub instant: i64,
    /// Datoms that stop holding, as (e, a, v).
    pub retracted: Vec<(Entid, Entid, TypedValue)>,
    /// Datoms that start holding, as (e, a, v); includes the tx instant.
    pub asserted: Vec<(Entid, Entid, TypedValue)>,
    /// Each string tempid and the entity it resolved to.
    pub tempids: IndexMap<String, Entid>,
    /// The next free id of each partition after this transaction, in
    /// [`factlite_core::Partition::ALL`] order.
    pub next_ids: [Entid; 3],
}

/// What a committed transaction did, as reported to the caller and to
/// listeners.
#[derive(Clone, Debug, PartialEq)]
pub struct TxReport {
    /// The transaction's entity id.
    pub tx: Entid,
    /// Its `:db/txInstant`: `.0` is milliseconds since the epoch,
    /// `to_rfc3339()` writes it as text.
    pub instant: factlite_edn::Instant,
    /// The last transaction before this one.
    pub basis_before: Entid,
    /// Every datom the transaction retracted (`added == false`) and
    /// asserted (`added == true`), in log order. The current datoms an
    /// excision removed are among the retractions, though the log keeps
    /// no trace of them (as a `:db/noHistory` datom's retraction).
    pub datoms: Vec<Datom>,
    /// Each string tempid and the entity it resolved to.
    pub tempids: IndexMap<String, Entid>,
}

impl TxRecord {
    /// Moves each partition's next free id past every id the record names
    /// (entities, and the entities of ref values), for a replayed
    /// transaction that names ids its source allocated.
    pub fn cover_named_ids(&mut self) {
        let named = self
            .retracted
            .iter()
            .chain(&self.asserted)
            .flat_map(|(e, _, v)| {
                let target = match v {
                    TypedValue::Ref(target) => Some(*target),
                    _ => None,
                };
                std::iter::once(*e).chain(target)
            });
        for id in named {
            if let Some(partition) = factlite_core::Partition::of(id) {
                let next = &mut self.next_ids[partition as usize];
                *next = (*next).max(id + 1);
            }
        }
    }

    /// The report of the record, which it becomes (its values move, none
    /// is copied): its datoms in log order, retractions then assertions.
    pub fn into_report(self, basis_before: Entid) -> TxReport {
        let tx = self.tx;
        let retracted = Releasing::new(self.retracted).map(|(e, a, v)| Datom {
            e,
            a,
            v,
            tx,
            added: false,
        });
        let asserted = Releasing::new(self.asserted).map(|(e, a, v)| Datom {
            e,
            a,
            v,
            tx,
            added: true,
        });
        TxReport {
            tx,
            instant: factlite_edn::Instant(self.instant),
            basis_before,
            datoms: retracted.chain(asserted).collect(),
            tempids: self.tempids,
        }
    }
}
