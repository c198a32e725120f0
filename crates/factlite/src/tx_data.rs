//! Transaction data from Rust values, never from text: [`Entity`] builds an
//! entity map, [`TxData`] a transaction's forms (entities, `:db/add`,
//! `:db/retract`, `:db/retractEntity`, `:db/cas`), and [`TempId`] and
//! [`LookupRef`] name entities. Values go in as [`Value`]s, so nothing a
//! user supplies is ever read as EDN.

use std::borrow::Cow;

use factlite_edn::{Keyword, Value};
use indexmap::{IndexMap, IndexSet};

use crate::convert::{ConversionError, ToValue};

/// An attribute's (or an ident's) name: a [`Keyword`], or text such as
/// `":person/name"` (the leading colon may be left out).
pub trait ToKeyword {
    /// The keyword.
    fn to_keyword(&self) -> Keyword;
}

impl ToKeyword for str {
    fn to_keyword(&self) -> Keyword {
        Keyword::from_str_lossy(self)
    }
}

impl ToKeyword for String {
    fn to_keyword(&self) -> Keyword {
        Keyword::from_str_lossy(self)
    }
}

impl ToKeyword for Keyword {
    fn to_keyword(&self) -> Keyword {
        self.clone()
    }
}

impl<T: ToKeyword + ?Sized> ToKeyword for &T {
    fn to_keyword(&self) -> Keyword {
        (**self).to_keyword()
    }
}

/// A tempid: names a new (or upserted) entity within one transaction,
/// wherever it appears — as an entity's id or as a ref attribute's value.
///
/// ```
/// use factlite::{TempId, ToValue, Value};
/// assert_eq!(TempId("bo").to_value()?, Value::from("bo"));
/// # Ok::<(), factlite::ConversionError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TempId<S: AsRef<str>>(pub S);

impl<S: AsRef<str>> ToValue for TempId<S> {
    fn to_value(&self) -> Result<Value, ConversionError> {
        Ok(Value::String(self.0.as_ref().to_string()))
    }
}

/// A lookup ref, `[:unique/attribute value]`: the entity whose unique
/// attribute holds the value.
///
/// ```
/// use factlite::{LookupRef, ToValue};
/// let bo = LookupRef(":person/name", "Bo").to_value()?;
/// assert_eq!(bo, factlite::edn::parse(r#"[:person/name "Bo"]"#)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LookupRef<A: ToKeyword, V: ToValue>(pub A, pub V);

impl<A: ToKeyword, V: ToValue> ToValue for LookupRef<A, V> {
    fn to_value(&self) -> Result<Value, ConversionError> {
        Ok(Value::Vector(vec![
            Value::Keyword(self.0.to_keyword()),
            self.1.to_value()?,
        ]))
    }
}

/// An entity map, `{:db/id … :attribute value …}`, built from Rust values:
/// the documented way to write facts from a program.
///
/// A ref attribute's value names an entity: an entity id (`i64`), a
/// [`TempId`], a [`LookupRef`], an ident [`Keyword`], or a nested
/// `Entity`. A conversion that fails (an integer no long holds) is kept
/// and returned by [`Entity::build`].
///
/// ```
/// use factlite::{Entity, LookupRef, Store, TempId, TxData};
///
/// let store = Store::open_in_memory()?;
/// store.transact_str(r#"[{:db/ident :person/name :db/valueType :db.type/string
///                        :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
///                       {:db/ident :person/friend :db/valueType :db.type/ref
///                        :db/cardinality :db.cardinality/many}]"#)?;
/// let tx = TxData::new()
///     .entity(Entity::new().tempid("a").set(":person/name", "Ann").add(":person/friend", TempId("b")))
///     .entity(Entity::new().tempid("b").set(":person/name", "Bo"))
///     .build()?;
/// let report = store.transact(&tx)?;
/// store.transact(&TxData::new()
///     .entity(Entity::new().set(":person/name", "Cy").add(":person/friend", LookupRef(":person/name", "Ann")))
///     .build()?)?;
/// let friends = store.db()?.q_str(
///     "[:find ?n ?f :where [?p :person/name ?n] [?p :person/friend ?x] [?x :person/name ?f]]", &[])?;
/// assert_eq!(friends, factlite::edn::parse(r#"#{["Ann" "Bo"] ["Cy" "Ann"]}"#)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entity {
    id: Option<Value>,
    attributes: IndexMap<Keyword, Value>,
    error: Option<ConversionError>,
}

impl Entity {
    /// An entity map with no id (a new entity, or an upsert by a unique
    /// identity among its attributes) and no attributes yet.
    pub fn new() -> Entity {
        Entity::default()
    }

    /// The entity is the tempid `name` (`{:db/id "name" …}`).
    pub fn tempid(self, name: impl AsRef<str>) -> Entity {
        self.id(TempId(name))
    }

    /// The entity is `id`: an entity id, a [`TempId`], a [`LookupRef`] or
    /// an ident [`Keyword`].
    pub fn id(mut self, id: impl ToValue) -> Entity {
        match id.to_value() {
            Ok(value) => self.id = Some(value),
            Err(error) => self.fail(error.in_field(":db/id")),
        }
        self
    }

    /// Sets `attribute` to `value`, replacing what was set or added for it
    /// before. `None` (`nil`) leaves the attribute out of the map: it does
    /// not retract anything. A `Vec` is a cardinality-many attribute's
    /// values, but [`Entity::add`] says so without doubt.
    pub fn set(mut self, attribute: impl ToKeyword, value: impl ToValue) -> Entity {
        let attribute = attribute.to_keyword();
        match value.to_value() {
            Ok(Value::Nil) => {
                self.attributes.shift_remove(&attribute);
            }
            Ok(value) => {
                self.attributes.insert(attribute, value);
            }
            Err(error) => self.fail(error.in_field(format!(":{}", attribute.qualified_name()))),
        }
        self
    }

    /// Adds `value` to a cardinality-many attribute's values (a set, so a
    /// lookup ref is never mistaken for two values). `None` adds nothing.
    pub fn add(mut self, attribute: impl ToKeyword, value: impl ToValue) -> Entity {
        let attribute = attribute.to_keyword();
        let value = match value.to_value() {
            Ok(Value::Nil) => return self,
            Ok(value) => value,
            Err(error) => {
                self.fail(error.in_field(format!(":{}", attribute.qualified_name())));
                return self;
            }
        };
        let values = self
            .attributes
            .entry(attribute)
            .or_insert_with(|| Value::Set(IndexSet::new()));
        match values {
            Value::Set(set) => {
                set.insert(value);
            }
            single => {
                let first = std::mem::replace(single, Value::Nil);
                *single = Value::Set(IndexSet::from([first, value]));
            }
        }
        self
    }

    /// The entity map, or the first conversion that failed.
    pub fn build(self) -> Result<Value, ConversionError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let id = self.id.map(|id| (Value::keyword(":db/id"), id)).into_iter();
        let attributes = self
            .attributes
            .into_iter()
            .map(|(attribute, value)| (Value::Keyword(attribute), value));
        Ok(Value::Map(id.chain(attributes).collect()))
    }

    /// A transaction of this one entity map: `[{…}]`.
    pub fn into_tx(self) -> Result<Value, ConversionError> {
        TxData::from(self).build()
    }

    /// Keeps the first error.
    fn fail(&mut self, error: ConversionError) {
        self.error.get_or_insert(error);
    }

    /// The attributes so far, for the serde module's namespacing.
    #[cfg(feature = "serde")]
    pub(crate) fn from_parts(attributes: IndexMap<Keyword, Value>, id: Option<Value>) -> Entity {
        Entity {
            id,
            attributes,
            error: None,
        }
    }
}

/// A nested entity map, as a ref attribute's value.
impl ToValue for Entity {
    fn to_value(&self) -> Result<Value, ConversionError> {
        self.clone().build()
    }
}

/// A transaction's data, form by form: what [`crate::Store::transact`]
/// takes, built from Rust values. See [`Entity`] for an example.
///
/// ```
/// use factlite::{LookupRef, TxData};
/// let tx = TxData::new()
///     .retract(LookupRef(":person/name", "Ann"), ":person/friend", LookupRef(":person/name", "Bo"))
///     .retract_attribute(17, ":person/age")
///     .cas(17, ":person/age", 30, 31)
///     .add("new", ":person/name", "Dee")
///     .retract_entity(LookupRef(":person/name", "Cy"))
///     .build()?;
/// assert_eq!(tx, factlite::edn::parse(r#"[
///     [:db/retract [:person/name "Ann"] :person/friend [:person/name "Bo"]]
///     [:db/retract 17 :person/age]
///     [:db/cas 17 :person/age 30 31]
///     [:db/add "new" :person/name "Dee"]
///     [:db/retractEntity [:person/name "Cy"]]]"#)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TxData {
    forms: Vec<Value>,
    error: Option<ConversionError>,
}

impl TxData {
    /// No forms yet.
    pub fn new() -> TxData {
        TxData::default()
    }

    /// An entity map.
    pub fn entity(mut self, entity: Entity) -> TxData {
        match entity.build() {
            Ok(map) => self.forms.push(map),
            Err(error) => self.fail(error.in_field(format!("form {}", self.forms.len()))),
        }
        self
    }

    /// `[:db/add e attribute value]`; `e` is an entity id, a tempid (a
    /// string or [`TempId`]), a [`LookupRef`] or an ident.
    pub fn add(self, e: impl ToValue, attribute: impl ToKeyword, value: impl ToValue) -> TxData {
        self.form(
            "db/add",
            &[&e, &Value::Keyword(attribute.to_keyword()), &value],
        )
    }

    /// `[:db/retract e attribute value]`.
    pub fn retract(
        self,
        e: impl ToValue,
        attribute: impl ToKeyword,
        value: impl ToValue,
    ) -> TxData {
        self.form(
            "db/retract",
            &[&e, &Value::Keyword(attribute.to_keyword()), &value],
        )
    }

    /// `[:db/retract e attribute]`: every value of the attribute.
    pub fn retract_attribute(self, e: impl ToValue, attribute: impl ToKeyword) -> TxData {
        self.form("db/retract", &[&e, &Value::Keyword(attribute.to_keyword())])
    }

    /// `[:db/retractEntity e]`: every datom of the entity, and every ref to
    /// it.
    pub fn retract_entity(self, e: impl ToValue) -> TxData {
        self.form("db/retractEntity", &[&e])
    }

    /// `[:ns/function arg ...]`: a call of a transaction function
    /// registered on the store ([`crate::Store::register_tx_function`]),
    /// whose transaction data is expanded in its place.
    pub fn call(self, function: impl ToKeyword, args: &[&dyn ToValue]) -> TxData {
        let op = function.to_keyword().qualified_name();
        self.form(&op, args)
    }

    /// `[:db/cas e attribute old new]`: sets the attribute to `new` only if
    /// it holds `old` now (`None` for no value), else the transaction fails
    /// with `:error/cas-failed`.
    pub fn cas(
        self,
        e: impl ToValue,
        attribute: impl ToKeyword,
        old: impl ToValue,
        new: impl ToValue,
    ) -> TxData {
        self.form(
            "db/cas",
            &[&e, &Value::Keyword(attribute.to_keyword()), &old, &new],
        )
    }

    /// The transaction data (a vector of forms), or the first conversion
    /// that failed.
    pub fn build(self) -> Result<Value, ConversionError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(Value::Vector(self.forms)),
        }
    }

    /// Appends `[:op part …]`.
    fn form(mut self, op: &str, parts: &[&dyn ToValue]) -> TxData {
        let form: Result<Vec<Value>, ConversionError> = std::iter::once(Ok(Value::keyword(op)))
            .chain(parts.iter().map(|part| part.to_value()))
            .collect();
        match form {
            Ok(form) => self.forms.push(Value::Vector(form)),
            Err(error) => self.fail(error.in_field(format!("form {} (:{op})", self.forms.len()))),
        }
        self
    }

    fn fail(&mut self, error: ConversionError) {
        self.error.get_or_insert(error);
    }
}

impl From<Entity> for TxData {
    fn from(entity: Entity) -> TxData {
        TxData::new().entity(entity)
    }
}

/// A transaction of these entities.
impl FromIterator<Entity> for TxData {
    fn from_iter<I: IntoIterator<Item = Entity>>(entities: I) -> TxData {
        entities.into_iter().fold(TxData::new(), TxData::entity)
    }
}

/// Anything [`crate::Store::transact`] takes: a [`TxData`] or an
/// [`Entity`] built from Rust values (the documented way), an EDN
/// [`Value`] vector of forms, or EDN text (`&str`, `String`), which is
/// parsed first. Data given by value (all but `&Value`) moves into the
/// transaction: none of its values is copied.
pub trait IntoTxData<'a> {
    /// The transaction data as a vector of forms, owned when it can be.
    fn into_tx_data(self) -> crate::Result<Cow<'a, Value>>;
}

impl<'a> IntoTxData<'a> for &'a Value {
    fn into_tx_data(self) -> crate::Result<Cow<'a, Value>> {
        Ok(Cow::Borrowed(self))
    }
}

impl IntoTxData<'static> for Value {
    fn into_tx_data(self) -> crate::Result<Cow<'static, Value>> {
        Ok(Cow::Owned(self))
    }
}

impl IntoTxData<'static> for TxData {
    fn into_tx_data(self) -> crate::Result<Cow<'static, Value>> {
        Ok(Cow::Owned(self.build()?))
    }
}

impl IntoTxData<'static> for Entity {
    fn into_tx_data(self) -> crate::Result<Cow<'static, Value>> {
        TxData::from(self).into_tx_data()
    }
}

impl IntoTxData<'static> for &str {
    fn into_tx_data(self) -> crate::Result<Cow<'static, Value>> {
        Ok(Cow::Owned(factlite_edn::parse(self)?))
    }
}

impl IntoTxData<'static> for &String {
    fn into_tx_data(self) -> crate::Result<Cow<'static, Value>> {
        self.as_str().into_tx_data()
    }
}

/// Transaction data checked against the nesting limit and parsed into
/// forms; owned data moves into them.
pub(crate) fn tx_forms(tx_data: Cow<'_, Value>) -> crate::Result<Vec<factlite_query::TxForm>> {
    const WHAT: &str = "the transaction data";
    Ok(match tx_data {
        Cow::Borrowed(value) => {
            crate::depth::check(value, WHAT)?;
            factlite_query::parse_tx_data(value)?
        }
        Cow::Owned(value) => factlite_query::into_tx_data(crate::depth::checked(value, WHAT)?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use factlite_edn::parse;

    fn edn(text: &str) -> Value {
        parse(text).expect("EDN")
    }

    #[test]
    fn an_entity_map_holds_its_id_and_attributes_in_order() {
        let entity = Entity::new()
            .set(":person/age", 31)
            .tempid("a")
            .set("person/name", "Ann")
            .set(Keyword::namespaced("person", "email"), None::<String>)
            .add(":person/friend", TempId("b"))
            .add(":person/friend", LookupRef(":person/name", "Cy"))
            .add(":person/friend", None::<i64>)
            .set(":person/status", Keyword::from_str_lossy(":status/active"));
        assert_eq!(
            entity.clone().build(),
            Ok(edn(r#"{:db/id "a" :person/age 31 :person/name "Ann"
                    :person/friend #{"b" [:person/name "Cy"]} :person/status :status/active}"#))
        );
        let replaced = entity
            .set(":person/friend", 7)
            .set(":person/age", None::<i64>);
        assert_eq!(
            replaced.build().expect("builds").to_string(),
            r#"{:db/id "a", :person/name "Ann", :person/friend 7, :person/status :status/active}"#
        );
        let added_after_set = Entity::new().set(":a/b", 1).add(":a/b", 2).build();
        assert_eq!(added_after_set, Ok(edn("{:a/b #{1 2}}")));
    }

    #[test]
    fn the_first_failed_conversion_is_reported() {
        let error = Entity::new()
            .set(":person/age", u64::MAX)
            .add(":person/friend", u128::MAX)
            .build()
            .expect_err("out of range");
        assert_eq!(
            error.to_string(),
            ":person/age: expected an integer in i64's range, found u64 18446744073709551615"
        );
        let error = TxData::new()
            .entity(Entity::new().set(":a/b", 1))
            .cas(1, ":a/b", 1, u64::MAX)
            .build()
            .expect_err("out of range");
        assert_eq!(
            error.to_string(),
            "form 1 (:db/cas): expected an integer in i64's range, found u64 18446744073709551615"
        );
        let error = TxData::new()
            .entity(Entity::new().id(u64::MAX))
            .build()
            .expect_err("out of range");
        assert!(
            error.to_string().starts_with("form 0 > :db/id: "),
            "{error}"
        );
    }

    #[test]
    fn entities_collect_into_a_transaction_and_nest() {
        let tx: TxData = ["Ann", "Bo"]
            .into_iter()
            .map(|name| Entity::new().set(":person/name", name))
            .collect();
        assert_eq!(
            tx.build(),
            Ok(edn(r#"[{:person/name "Ann"} {:person/name "Bo"}]"#))
        );
        let nested = Entity::new()
            .id(Keyword::from_str_lossy(":film/alien"))
            .set(
                ":film/director",
                Entity::new().set(":person/name", "Ridley Scott"),
            );
        assert_eq!(
            TxData::from(nested).build(),
            Ok(edn(
                r#"[{:db/id :film/alien :film/director {:person/name "Ridley Scott"}}]"#
            ))
        );
    }
}
