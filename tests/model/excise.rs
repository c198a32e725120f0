//! Excision in the model (`{:db/excise e}`, Datomic's, as factlite has it):
//! every log datom of the entity — of the named attributes, and of the
//! composite tuples holding one of them, when attributes are named — from
//! a transaction before the bound (the excising transaction, or the
//! `:db.excise/beforeT` given, whichever is first) is gone, and so is each
//! retraction left with no assertion of its datom before it. The facts of
//! every view of time follow from the log, so nothing else changes. An
//! entity the log holds nothing of cannot be excised.

use std::collections::BTreeSet;

use factlite::ErrorCategory;

use super::transact::{Fact, Failure, Model, TupleKind};

/// One excision: its entity, the attributes it is limited to (none: all)
/// and the transaction before which it removes datoms (none: before its
/// own).
#[derive(Clone, Debug)]
pub struct Excision {
    pub entity: i64,
    pub attrs: Vec<usize>,
    pub before: Option<i64>,
}

impl Model {
    /// Why the store must refuse the excision, if it must.
    pub fn excision_failure(&self, excision: &Excision) -> Option<Failure> {
        (!self.log.iter().any(|d| d.e == excision.entity)).then(|| Failure {
            category: ErrorCategory::UnknownEntity,
            why: format!("the log holds nothing of entity {}", excision.entity),
        })
    }

    /// Whether the excision, made by transaction `tx`, removes the datom
    /// `[e a _ datom_tx]`.
    pub fn excises(&self, excision: &Excision, tx: i64, e: i64, a: usize, datom_tx: i64) -> bool {
        let bound = excision.before.map_or(tx, |before| before.min(tx));
        let attrs = self.excised_attrs(excision);
        e == excision.entity && datom_tx < bound && (attrs.is_empty() || attrs.contains(&a))
    }

    /// The named attributes and the composite tuples holding one of them.
    fn excised_attrs(&self, excision: &Excision) -> Vec<usize> {
        let mut attrs = excision.attrs.clone();
        if attrs.is_empty() {
            return attrs;
        }
        for (n, attr) in self.attrs.iter().enumerate() {
            if let Some(TupleKind::Composite(components)) = &attr.tuple {
                if components.iter().any(|(c, _)| attrs.contains(c)) && !attrs.contains(&n) {
                    attrs.push(n);
                }
            }
        }
        attrs
    }

    /// The current facts the excision by transaction `tx` removes.
    pub fn excised_facts(&self, excision: &Excision, tx: i64) -> BTreeSet<Fact> {
        let mut asserted_at = std::collections::BTreeMap::new();
        for datom in &self.log {
            let fact = (datom.e, datom.a, datom.v.clone());
            if datom.added {
                asserted_at.insert(fact, datom.tx);
            } else {
                asserted_at.remove(&fact);
            }
        }
        asserted_at
            .into_iter()
            .filter(|((e, a, _), at)| self.excises(excision, tx, *e, *a, *at))
            .map(|(fact, _)| fact)
            .collect()
    }

    /// Applies the excision the store committed as transaction `tx`.
    pub fn excise(&mut self, excision: &Excision, tx: i64) {
        let kept: Vec<_> = self
            .log
            .iter()
            .filter(|d| !self.excises(excision, tx, d.e, d.a, d.tx))
            .cloned()
            .collect();
        let mut log = Vec::with_capacity(kept.len());
        for datom in &kept {
            let asserted_before = kept.iter().any(|earlier| {
                earlier.added
                    && earlier.tx < datom.tx
                    && (earlier.e, earlier.a, &earlier.v) == (datom.e, datom.a, &datom.v)
            });
            if datom.added || asserted_before {
                log.push(datom.clone());
            }
        }
        self.log = log;
        self.txs.push(tx);
    }
}
