//! Composite tuples (`:db/tupleAttrs`), kept by the transactor: after the
//! ops are interpreted, every entity whose component attributes the
//! transaction asserted or retracted gets its composite recomputed from
//! the values it holds when the transaction ends — `nil` for a component
//! it lacks, as in Datomic — and the composite is retracted when it lacks
//! them all. The recomputed datoms join the record like any other, so
//! `apply`, the log, the views and the uniqueness check see them.

use std::collections::{HashMap, HashSet};

use factlite_core::{tuple, Entid, Schema, TupleShape, TypedValue};
use indexmap::IndexSet;

use crate::error::Result;

type DatomKey = (Entid, Entid, TypedValue);

/// The composite attributes of a schema, and which composites each
/// component attribute is part of.
pub struct Composites {
    /// Each composite attribute and its components, in schema order.
    composites: Vec<(Entid, Vec<Entid>)>,
    /// Component attribute → indexes into `composites`.
    by_component: HashMap<Entid, Vec<usize>>,
}

impl Composites {
    /// The composites `schema` defines.
    pub fn of(schema: &Schema) -> Composites {
        let mut composites = Vec::new();
        let mut by_component: HashMap<Entid, Vec<usize>> = HashMap::new();
        for attribute in schema.attributes() {
            if let Some(TupleShape::Composite(components)) = &attribute.tuple {
                for (component, _) in components {
                    by_component
                        .entry(*component)
                        .or_default()
                        .push(composites.len());
                }
                composites.push((attribute.id, components.iter().map(|(c, _)| *c).collect()));
            }
        }
        Composites {
            composites,
            by_component,
        }
    }

    /// Whether the schema has no composite (then there is nothing to do).
    pub fn is_empty(&self) -> bool {
        self.composites.is_empty()
    }

    /// Adds to `asserted` and `retracted` the composite datoms the
    /// transaction's component datoms call for; `current` reads an
    /// attribute's values on an entity as they were before the
    /// transaction.
    pub fn maintain(
        &self,
        asserted: &mut IndexSet<DatomKey>,
        retracted: &mut IndexSet<DatomKey>,
        current: impl Fn(Entid, Entid) -> Result<Vec<TypedValue>>,
    ) -> Result<()> {
        // (entity, composite) pairs in the order the transaction touched
        // them, so the record's order is deterministic.
        let mut touched: IndexSet<(Entid, usize)> = IndexSet::new();
        let mut new_values: HashMap<(Entid, Entid), &TypedValue> = HashMap::new();
        let mut gone: HashSet<(Entid, Entid)> = HashSet::new();
        for (e, a, v) in asserted.iter() {
            if let Some(indexes) = self.by_component.get(a) {
                new_values.insert((*e, *a), v);
                touched.extend(indexes.iter().map(|index| (*e, *index)));
            }
        }
        for (e, a, _) in retracted.iter() {
            if let Some(indexes) = self.by_component.get(a) {
                gone.insert((*e, *a));
                touched.extend(indexes.iter().map(|index| (*e, *index)));
            }
        }
        let mut changes: Vec<(Option<DatomKey>, Option<DatomKey>)> = Vec::new();
        for (e, index) in touched {
            let (composite, components) = &self.composites[index];
            let mut elements = Vec::with_capacity(components.len());
            for component in components {
                let element = match new_values.get(&(e, *component)) {
                    Some(value) => Some((*value).clone()),
                    None if gone.contains(&(e, *component)) => None,
                    // Components are cardinality one: at most one value.
                    None => current(e, *component)?.into_iter().next(),
                };
                elements.push(element.map(tuple::element));
            }
            let new = elements
                .iter()
                .any(Option::is_some)
                .then_some(TypedValue::Tuple(elements));
            let old = current(e, *composite)?.into_iter().next();
            if new == old {
                continue;
            }
            changes.push((
                old.map(|v| (e, *composite, v)),
                new.map(|v| (e, *composite, v)),
            ));
        }
        for (old, new) in changes {
            if let Some(old) = old {
                retracted.insert(old);
            }
            if let Some(new) = new {
                asserted.insert(new);
            }
        }
        Ok(())
    }
}
