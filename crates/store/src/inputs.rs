//! Lookup refs among a query's inputs, resolved to entity ids before the
//! query is planned, as Datomic resolves them: `[:person/email "a@x.org"]`
//! bound to `?p` binds the entity holding that email.
//!
//! A vector bound to a variable (alone, or as an element of a tuple, a
//! collection or a relation) is a lookup ref when its first element is the
//! ident of an attribute: it must then name an entity in the snapshot, or
//! the query fails with an error naming it (a lookup ref on an attribute
//! that is not unique is one too). Other vectors stay tuple values.

use factlite_core::Schema;
use factlite_edn::Value;
use factlite_query::{Binding, Input, Query};

use crate::db::Db;
use crate::error::Result;

impl Db {
    /// The query's inputs (after `$`) with every lookup ref bound to a
    /// variable replaced by the entity id it names in this snapshot; `None`
    /// when they hold none. Inputs that do not fit the query's `:in` are
    /// left for the planner to report.
    pub fn resolve_lookup_refs(
        &self,
        query: &Query,
        inputs: &[Value],
    ) -> Result<Option<Vec<Value>>> {
        let bindings: Vec<Option<&Binding>> = query
            .inputs
            .iter()
            .filter_map(|input| match input {
                Input::Source(source) if source.0 == "$" => None,
                // A collection of tuples given as a data source holds
                // values, not lookup refs.
                Input::Source(_) | Input::Rules => Some(None),
                Input::Binding(binding) => Some(Some(binding)),
            })
            .collect();
        if bindings.len() != inputs.len() || !inputs.iter().any(holds_a_vector) {
            return Ok(None);
        }
        // A pull pattern given as an input is no lookup ref, though
        // `[:a {...}]` has the shape of one.
        let pulled = query.find.pull_pattern_inputs();
        let schema = self.schema()?;
        let mut resolved: Option<Vec<Value>> = None;
        for (index, (binding, value)) in bindings.into_iter().zip(inputs).enumerate() {
            let Some(binding) = binding else { continue };
            if matches!(binding, Binding::Variable(v) if pulled.contains(&v.0.as_str())) {
                continue;
            }
            if let Some(value) = self.resolve_bound(&schema, binding, value)? {
                resolved.get_or_insert_with(|| inputs.to_vec())[index] = value;
            }
        }
        Ok(resolved)
    }

    /// `value` bound to `binding` with its lookup refs resolved; `None` when
    /// nothing changed.
    fn resolve_bound(
        &self,
        schema: &Schema,
        binding: &Binding,
        value: &Value,
    ) -> Result<Option<Value>> {
        match binding {
            Binding::Blank => Ok(None),
            Binding::Variable(_) if is_lookup_ref(schema, value) => {
                Ok(Some(Value::Integer(self.resolve_entity(value)?)))
            }
            Binding::Variable(_) => Ok(None),
            Binding::Tuple(items) => self.resolve_elements(schema, value, |i| items.get(i)),
            Binding::Collection(item) => self.resolve_elements(schema, value, |_| Some(item)),
            Binding::Relation(items) => {
                let row = Binding::Tuple(items.clone());
                self.resolve_elements(schema, value, |_| Some(&row))
            }
        }
    }

    /// The elements of a vector or list, each resolved as bound to the
    /// binding `binding_at` gives its position; `None` when nothing changed.
    fn resolve_elements<'b>(
        &self,
        schema: &Schema,
        value: &Value,
        binding_at: impl Fn(usize) -> Option<&'b Binding>,
    ) -> Result<Option<Value>> {
        let (Value::Vector(items) | Value::List(items)) = value else {
            return Ok(None);
        };
        let mut changed: Option<Vec<Value>> = None;
        for (i, item) in items.iter().enumerate() {
            let Some(binding) = binding_at(i) else {
                continue;
            };
            if let Some(item) = self.resolve_bound(schema, binding, item)? {
                changed.get_or_insert_with(|| items.clone())[i] = item;
            }
        }
        Ok(changed.map(|items| match value {
            Value::List(_) => Value::List(items),
            _ => Value::Vector(items),
        }))
    }
}

/// `[attribute value]` whose attribute the schema knows.
fn is_lookup_ref(schema: &Schema, value: &Value) -> bool {
    matches!(value, Value::Vector(items) | Value::List(items)
        if matches!(items.as_slice(), [Value::Keyword(attribute), _]
            if schema.attribute_named(attribute).is_some()))
}

/// Whether an input is or holds a vector or list (a cheap test that most
/// inputs, plain values, fail).
fn holds_a_vector(value: &Value) -> bool {
    matches!(value, Value::Vector(_) | Value::List(_))
}
