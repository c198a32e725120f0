//! [`EntityView`]: one entity of a snapshot to navigate attribute by
//! attribute ([`crate::Db::entity`]), as Datomic's and DataScript's
//! `d/entity`: lazy (each lookup reads what it needs), refs as entities,
//! reverse refs by `:ns/_attr`, and [`EntityView::touch`] for everything.

use factlite_edn::{Keyword, Value};

use crate::error::Result;
use crate::{Db, Entid, ToKeyword};

/// One entity of a snapshot, read lazily (see [`crate::Db::entity`]).
#[derive(Clone)]
pub struct EntityView {
    db: Db,
    id: Entid,
}

/// A value of an entity's attribute: a value, or the entity a ref names.
#[derive(Clone)]
pub enum EntityValue {
    /// A value of a non-ref attribute.
    Value(Value),
    /// The entity a ref attribute (or a reverse ref) names.
    Entity(EntityView),
}

impl EntityView {
    pub(crate) fn new(db: Db, id: Entid) -> EntityView {
        EntityView { db, id }
    }

    /// The entity's id.
    pub fn id(&self) -> Entid {
        self.id
    }

    /// The values of `attribute` (`:person/friend`, or `:person/_friend`
    /// for the entities whose ref points here): one for a
    /// cardinality-one attribute, each of a cardinality-many one, none when
    /// the entity has no value.
    ///
    /// ```
    /// use factlite::Store;
    /// let store = Store::open_in_memory()?;
    /// store.transact(r#"[{:db/ident :p/name :db/valueType :db.type/string
    ///                     :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
    ///                    {:db/ident :p/friend :db/valueType :db.type/ref
    ///                     :db/cardinality :db.cardinality/many}]"#)?;
    /// store.transact(r#"[{:db/id "a" :p/name "Ann" :p/friend "b"} {:db/id "b" :p/name "Bo"}]"#)?;
    /// let db = store.db()?;
    /// let ann = db.entity(factlite::LookupRef(":p/name", "Ann"))?;
    /// let friends = ann.get(":p/friend")?;
    /// let factlite::EntityValue::Entity(bo) = &friends[0] else { panic!("a ref") };
    /// assert_eq!(bo.value(":p/name")?, Some(factlite::Value::from("Bo")));
    /// assert_eq!(bo.get(":p/_friend")?.len(), 1); // Ann, through the reverse ref
    /// # Ok::<(), factlite::Error>(())
    /// ```
    pub fn get(&self, attribute: impl ToKeyword) -> Result<Vec<EntityValue>> {
        let keyword = attribute.to_keyword();
        // Refs (components too, which a plain pull expands) as their ids.
        let is_ref = self
            .db
            .schema()?
            .attribute_named(&keyword.to_forward())
            .is_some_and(|a| a.value_type == factlite_core::ValueType::Ref);
        let entry = if is_ref {
            Value::Map(
                [(
                    Value::Keyword(keyword.clone()),
                    Value::Vector(vec![Value::keyword(":db/id")]),
                )]
                .into_iter()
                .collect(),
            )
        } else {
            Value::Keyword(keyword.clone())
        };
        let pattern = Value::Vector(vec![entry]);
        let pulled = self.db.pull(&pattern, self.id)?;
        let Ok(mut map) = pulled.into_map() else {
            return Ok(Vec::new());
        };
        let found = match map.shift_remove(&Value::Keyword(keyword)) {
            None => return Ok(Vec::new()),
            Some(found @ Value::Vector(_)) => found.into_sequence().unwrap_or_default(),
            Some(one) => vec![one],
        };
        Ok(found.into_iter().map(|value| self.wrap(value)).collect())
    }

    /// The one value of a cardinality-one, non-ref attribute (the first of
    /// a cardinality-many one), if the entity has it.
    pub fn value(&self, attribute: impl ToKeyword) -> Result<Option<Value>> {
        Ok(self
            .get(attribute)?
            .into_iter()
            .find_map(|value| match value {
                EntityValue::Value(value) => Some(value),
                EntityValue::Entity(_) => None,
            }))
    }

    /// Every attribute of the entity and its values, refs as `{:db/id e}`
    /// (components whole), as `pull [*]` gives them.
    pub fn touch(&self) -> Result<Value> {
        self.db
            .pull(&Value::Vector(vec![Value::symbol("*")]), self.id)
    }

    /// A pulled value as an entity when it is a ref's `{:db/id e}`.
    fn wrap(&self, value: Value) -> EntityValue {
        if let Value::Map(map) = &value {
            if let (1, Some(Value::Integer(id))) = (
                map.len(),
                map.get(&Value::Keyword(Keyword::namespaced("db", "id"))),
            ) {
                return EntityValue::Entity(EntityView::new(self.db.clone(), *id));
            }
        }
        EntityValue::Value(value)
    }
}
