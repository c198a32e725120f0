//! The first half of the transactor: transaction forms + the current state →
//! a [`TxRecord`].
//!
//! The passes, in order:
//! 1. **declare**: maps that define new attributes (`:db/ident` with
//!    `:db/valueType`) get schema ids and join a provisional schema, so the
//!    same transaction may use them;
//! 2. **expand**: every form becomes `Op`s on entity terms (ids or
//!    tempids) with typed values; lookup refs and idents resolve here;
//! 3. **upsert**: tempids asserting a held `:db.unique/identity` value take
//!    the holder's id (to a fixpoint, since upserts can unlock others);
//! 4. **allocate**: the remaining tempids get new ids;
//! 5. **interpret**: the ops run against the current state: cardinality-one
//!    replacement, no-op elimination, retractEntity cascades, cas checks;
//! 6. **composites**: every composite tuple (`:db/tupleAttrs`) of an entity
//!    whose component attributes changed is recomputed (`composite`); one
//!    a form states must be the tuple its entity then holds (stating a
//!    `:db.unique/identity` composite is how Datomic upserts by it);
//! 7. **check uniqueness** of the asserted values.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use factlite_core::{
    bootstrap, Attribute, Cardinality, Entid, Partition, Schema, TupleDeclaration, TypedValue,
    Unique, ValueMismatch, ValueType,
};
use factlite_edn::{Keyword, Value};
use factlite_query::{AttrRef, EntityRef, TxForm, TxMap};
use indexmap::{IndexMap, IndexSet};
use rusqlite::Connection;

use super::composite::Composites;
use super::{set_into_vec, Releasing, TxRecord, TX_TEMPID};
use crate::error::{Error, Result};
use crate::reads;

/// What the resolver reads from and allocates against.
pub struct Context<'c> {
    /// A connection inside the write transaction.
    pub conn: &'c Connection,
    /// The schema before the transaction.
    pub schema: &'c Schema,
    /// The new transaction's id.
    pub tx: Entid,
    /// Its instant.
    pub instant: i64,
    /// The next free id of each partition, in [`Partition::ALL`] order.
    pub next_ids: [Entid; 3],
    /// Whether entity ids past a partition's next free id may be named: a
    /// replayed dump names the ids its source allocated.
    pub unallocated_ids: bool,
}

/// A tempid: named by the user (one string shared by every term that names
/// it), or made up for a map without `:db/id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Temp {
    Named(Rc<str>),
    Anonymous(usize),
}

#[derive(Clone, Debug)]
enum EntityTerm {
    Id(Entid),
    Temp(Temp),
}

#[derive(Clone, Debug)]
enum ValueTerm {
    Value(TypedValue),
    Entity(EntityTerm),
}

#[derive(Debug)]
enum Op {
    Add {
        e: EntityTerm,
        a: Entid,
        v: ValueTerm,
    },
    Retract {
        e: EntityTerm,
        a: Entid,
        v: ValueTerm,
    },
    RetractAttribute {
        e: EntityTerm,
        a: Entid,
    },
    RetractEntity {
        e: EntityTerm,
    },
    /// Boxed: the largest op, and the rarest, so that the others take
    /// less room.
    Cas(Box<Cas>),
}

#[derive(Debug)]
struct Cas {
    e: EntityTerm,
    a: Entid,
    old: Option<ValueTerm>,
    new: ValueTerm,
}

type DatomKey = (Entid, Entid, TypedValue);

/// A composite tuple a form states for an entity.
#[derive(Debug)]
struct StatedComposite {
    e: EntityTerm,
    attribute: Attribute,
    value: TypedValue,
}

/// Resolves transaction forms into a record of datoms to retract and assert.
pub fn resolve(ctx: &Context<'_>, forms: Cow<'_, [TxForm]>) -> Result<TxRecord> {
    let mut resolver = Resolver {
        ctx,
        schema: Cow::Borrowed(ctx.schema),
        next_ids: ctx.next_ids,
        temps: IndexMap::new(),
        anonymous: 0,
        preallocated: HashMap::new(),
        ops: Vec::new(),
        fresh: HashSet::new(),
        schema_temps: HashSet::new(),
        stated_composites: Vec::new(),
        names_tx_instant: false,
        holders: RefCell::new(HashMap::new()),
    };
    resolver.declare_attributes(&forms)?;
    // Owned forms give their values up to the ops; borrowed ones are
    // copied a form at a time.
    let forms: Box<dyn Iterator<Item = TxForm>> = match forms {
        Cow::Borrowed(forms) => Box::new(forms.iter().cloned()),
        Cow::Owned(forms) => Box::new(Releasing::new(forms)),
    };
    for (index, form) in forms.enumerate() {
        resolver.expand_form(index, form)?;
    }
    resolver.upsert()?;
    resolver.allocate()?;
    let mut state = Interpretation::default();
    // Room for a datom per op, at once: growing by doubling would hold the
    // old and the new tables together at the largest step. Exactly that
    // room: `reserve` would round the entries up to the hash table's
    // capacity, up to 1.75 times as many.
    state.asserted.reserve_exact(resolver.ops.len() + 1);
    // The ops are consumed in order: their values move into the datoms,
    // and the room of those done is given back as the datoms take theirs.
    for op in Releasing::new(std::mem::take(&mut resolver.ops)) {
        if let Err(error) = resolver.interpret(op, &mut state) {
            // Errors are reported in op order: a conflict among the ops
            // before this one comes first.
            resolver.check_one_values(&state)?;
            return Err(error);
        }
    }
    resolver.check_one_values(&state)?;
    let composites = Composites::of(&resolver.schema);
    if !composites.is_empty() {
        composites.maintain(&mut state.asserted, &mut state.retracted, |e, a| {
            resolver.current_values(e, a)
        })?;
    }
    resolver.check_stated_composites(&state)?;
    let instant = transaction_instant(ctx, &mut state, resolver.names_tx_instant)?;
    resolver.check_uniqueness(&state)?;
    let tempids = resolver
        .temps
        .iter()
        .filter_map(|(temp, id)| match (temp, id) {
            (Temp::Named(name), Some(id)) => Some((name.to_string(), *id)),
            _ => None,
        })
        .collect();
    let next_ids = resolver.next_ids;
    // What resolving needed goes before the datoms are laid out anew.
    drop(resolver);
    drop(state.kept);
    Ok(TxRecord {
        tx: ctx.tx,
        instant,
        retracted: set_into_vec(state.retracted),
        asserted: set_into_vec(state.asserted),
        tempids,
        next_ids,
    })
}

/// The transaction's instant: the clock's (`ctx.instant`), asserted here,
/// or the one the forms state for it (`{:db/id "datomic.tx" :db/txInstant
/// #inst ...}`, as an import of older data does in Datomic), which may not
/// be before the newest transaction's (instants never go backwards) nor
/// after the clock's (nor into the future). Only
/// when a form `names` `:db/txInstant` are the asserted datoms searched.
fn transaction_instant(ctx: &Context<'_>, state: &mut Interpretation, names: bool) -> Result<i64> {
    // An earlier transaction's instant was set when it committed: the log
    // and every read of the past are ordered by it.
    if names {
        let earlier = state
            .asserted
            .iter()
            .chain(&state.retracted)
            .find(|(e, a, _)| *a == bootstrap::DB_TX_INSTANT && *e != ctx.tx);
        if let Some((e, _, _)) = earlier {
            return Err(Error::Constraint(format!(
                "the transaction changes the :db/txInstant of transaction {e}: a transaction's instant is set when it commits and never changes"
            )));
        }
    }
    let stated = names
        .then(|| {
            state
                .asserted
                .iter()
                .find(|(e, a, _)| *e == ctx.tx && *a == bootstrap::DB_TX_INSTANT)
                .map(|(_, _, v)| v.clone())
        })
        .flatten();
    match stated {
        Some(TypedValue::Instant(instant)) => {
            let newest = crate::last_instant(ctx.conn, Partition::Tx.start())?;
            if instant < newest {
                return Err(Error::Constraint(format!(
                    "the transaction states :db/txInstant {}, before the newest transaction's {}: instants never go backwards",
                    factlite_edn::Instant(instant),
                    factlite_edn::Instant(newest)
                )));
            }
            // Nor past the clock, as Datomic refuses a future instant: the
            // next transaction could state no instant of its own.
            if instant > ctx.instant {
                return Err(Error::Constraint(format!(
                    "the transaction states :db/txInstant {}, after the clock's {}: a transaction's instant is never in the future",
                    factlite_edn::Instant(instant),
                    factlite_edn::Instant(ctx.instant)
                )));
            }
            Ok(instant)
        }
        Some(other) => Err(Error::Constraint(format!(
            "the transaction states :db/txInstant {}, which is no instant",
            other.to_edn()
        ))),
        None => {
            state.asserted.insert((
                ctx.tx,
                bootstrap::DB_TX_INSTANT,
                TypedValue::Instant(ctx.instant),
            ));
            Ok(ctx.instant)
        }
    }
}

struct Resolver<'c> {
    ctx: &'c Context<'c>,
    /// The schema, with the attributes this transaction declares.
    schema: Cow<'c, Schema>,
    next_ids: [Entid; 3],
    temps: IndexMap<Temp, Option<Entid>>,
    anonymous: usize,
    /// Ids given to maps without `:db/id` that declare attributes, by form
    /// index.
    preallocated: HashMap<usize, Entid>,
    ops: Vec<Op>,
    /// Entities created by this transaction: they have no datoms yet.
    fresh: HashSet<Entid>,
    /// Tempids of entities that belong in the schema partition.
    schema_temps: HashSet<Temp>,
    /// Composite tuples the forms state (`{:a+b ["x" "y"] ...}`): each must
    /// be the tuple the transactor keeps for its entity, and a
    /// `:db.unique/identity` one upserts, as in Datomic.
    stated_composites: Vec<StatedComposite>,
    /// Whether a form asserts a `:db/txInstant`: only then can the
    /// transaction have stated its own.
    names_tx_instant: bool,
    /// Holders of unique values already read: the state does not change
    /// while resolving, so upsert, lookup refs and the uniqueness check
    /// ask SQLite once per value.
    holders: RefCell<HashMap<(Entid, TypedValue), Option<Entid>>>,
}

/// The datoms an interpretation has decided on so far.
#[derive(Default)]
struct Interpretation {
    retracted: IndexSet<DatomKey>,
    asserted: IndexSet<DatomKey>,
    /// Cardinality-one values asserted that the entity holds already (so
    /// not among `asserted`), each with the number of datoms asserted
    /// before it: another value of that attribute for that entity in the
    /// transaction is a conflict all the same.
    kept: HashMap<(Entid, Entid), (TypedValue, usize)>,
    /// Cardinality-many values asserted that the entity holds already:
    /// retracting one in the same transaction is a conflict, as asserting
    /// and retracting a value it does not hold is.
    restated: HashSet<DatomKey>,
}

fn db_keyword(name: &str) -> Keyword {
    Keyword::namespaced("db", name)
}

impl<'c> Resolver<'c> {
    // ---- pass 1: declare ------------------------------------------------

    fn declare_attributes(&mut self, forms: &[TxForm]) -> Result<()> {
        // Composite tuples name other attributes, which may be declared
        // after them: they come second.
        let is_composite = |form: &TxForm| match form {
            TxForm::Map(TxMap { attrs, .. }) => attrs.contains_key(&db_keyword("tupleAttrs")),
            _ => false,
        };
        let (composites, others): (Vec<_>, Vec<_>) = forms
            .iter()
            .enumerate()
            .partition(|(_, form)| is_composite(form));
        for (index, form) in others.into_iter().chain(composites) {
            let TxForm::Map(TxMap {
                db_id,
                attrs: attributes,
            }) = form
            else {
                continue;
            };
            let Some(Value::Keyword(ident)) = attributes.get(&db_keyword("ident")) else {
                continue;
            };
            if self.schema.entid(ident).is_some() {
                continue; // an existing ident: this map upserts and may alter it
            }
            let Some(value_type) = attributes.get(&db_keyword("valueType")) else {
                continue;
            };
            let id = match db_id {
                Some(EntityRef::Id(id)) => *id,
                Some(EntityRef::TempId(name)) => {
                    let id = self.allocate_id(Partition::Db);
                    self.temps
                        .insert(Temp::Named(Rc::from(name.as_str())), Some(id));
                    id
                }
                Some(other) => self.entity_term(other).and_then(|term| match term {
                    EntityTerm::Id(id) => Ok(id),
                    EntityTerm::Temp(_) => Err(Error::Schema(format!(
                        "attribute {} cannot be declared on a tempid",
                        Value::Keyword(ident.clone())
                    ))),
                })?,
                None => {
                    let id = self.allocate_id(Partition::Db);
                    self.preallocated.insert(index, id);
                    id
                }
            };
            let attribute =
                declared_attribute(id, ident, value_type, attributes, Some(&self.schema))?;
            self.schema.to_mut().set_attribute(attribute);
        }
        Ok(())
    }

    fn allocate_id(&mut self, partition: Partition) -> Entid {
        let slot = partition as usize;
        let id = self.next_ids[slot];
        self.next_ids[slot] += 1;
        self.fresh.insert(id);
        id
    }

    // ---- pass 2: expand -------------------------------------------------

    fn expand_form(&mut self, index: usize, form: TxForm) -> Result<()> {
        match form {
            TxForm::Map(TxMap {
                db_id,
                attrs: attributes,
            }) => {
                let e = match (&db_id, self.preallocated.get(&index)) {
                    (Some(reference), _) => self.entity_term(reference)?,
                    (None, Some(id)) => EntityTerm::Id(*id),
                    (None, None) => self.anonymous_entity(),
                };
                self.expand_map(&e, attributes)
            }
            TxForm::Add { e, a, v } => {
                let e = self.entity_term(&e)?;
                let attribute = self.forward_attribute(&a)?;
                if attribute.is_composite() {
                    return self.state_composite(e, attribute, v);
                }
                let v = self.value_term(&e, &attribute, v)?;
                self.ops.push(Op::Add {
                    e,
                    a: attribute.id,
                    v,
                });
                Ok(())
            }
            TxForm::Retract { e, a, v: Some(v) } => {
                let e = self.entity_term(&e)?;
                let attribute = self.forward_attribute(&a)?;
                refuse_composite(&attribute, "retract")?;
                let v = self.value_term(&e, &attribute, v)?;
                self.ops.push(Op::Retract {
                    e,
                    a: attribute.id,
                    v,
                });
                Ok(())
            }
            TxForm::Retract { e, a, v: None } => {
                let e = self.entity_term(&e)?;
                let attribute = self.forward_attribute(&a)?;
                refuse_composite(&attribute, "retract")?;
                self.names_tx_instant |= attribute.id == bootstrap::DB_TX_INSTANT;
                self.ops.push(Op::RetractAttribute { e, a: attribute.id });
                Ok(())
            }
            TxForm::RetractEntity(e) => {
                let e = self.entity_term(&e)?;
                self.ops.push(Op::RetractEntity { e });
                Ok(())
            }
            // The store expands calls before resolving (`tx_functions`).
            TxForm::Call { function, .. } => Err(Error::Query(format!(
                "no transaction function {} is registered on this store \
                 (Store::register_tx_function)",
                Value::Keyword(function)
            ))),
            TxForm::Cas { e, a, old, new } => {
                let e = self.entity_term(&e)?;
                let attribute = self.forward_attribute(&a)?;
                refuse_composite(&attribute, "assert")?;
                if attribute.cardinality == Cardinality::Many {
                    return Err(Error::Schema(format!(
                        ":db/cas needs a cardinality-one attribute; {} is cardinality many",
                        attribute.ident_text()
                    )));
                }
                let old = match old {
                    Value::Nil => None,
                    old => Some(self.value_term(&e, &attribute, old)?),
                };
                let new = self.value_term(&e, &attribute, new)?;
                self.ops.push(Op::Cas(Box::new(Cas {
                    e,
                    a: attribute.id,
                    old,
                    new,
                })));
                Ok(())
            }
        }
    }

    /// A composite tuple stated by hand: kept to be checked against the
    /// one the transactor computes (`check_stated_composites`), and a
    /// claim of identity when the composite is `:db.unique/identity`.
    fn state_composite(&mut self, e: EntityTerm, attribute: Attribute, value: Value) -> Result<()> {
        let value = attribute
            .typed_value(&value)
            .map_err(|refused| mismatch_error(self.describe(&e), &attribute, refused))?;
        self.stated_composites.push(StatedComposite {
            e,
            attribute,
            value,
        });
        Ok(())
    }

    fn anonymous_entity(&mut self) -> EntityTerm {
        let temp = Temp::Anonymous(self.anonymous);
        self.anonymous += 1;
        self.temps.insert(temp.clone(), None);
        EntityTerm::Temp(temp)
    }

    fn expand_map(&mut self, e: &EntityTerm, attributes: IndexMap<Keyword, Value>) -> Result<()> {
        for (key, value) in attributes {
            if key.is_reverse() {
                self.expand_reverse(e, &key, &value)?;
                continue;
            }
            let attribute = self.attribute_named(&key)?;
            if attribute.is_composite() {
                self.state_composite(e.clone(), attribute, value)?;
                continue;
            }
            if attribute.id == bootstrap::DB_IDENT || attribute.id == bootstrap::DB_VALUE_TYPE {
                if let EntityTerm::Temp(temp) = e {
                    self.schema_temps.insert(temp.clone());
                }
            }
            for item in self.values_of(&attribute, value) {
                let v = self.value_term(e, &attribute, item)?;
                self.ops.push(Op::Add {
                    e: e.clone(),
                    a: attribute.id,
                    v,
                });
            }
        }
        Ok(())
    }

    /// `{:person/_friend x}` on entity e asserts `[x :person/friend e]`.
    fn expand_reverse(&mut self, e: &EntityTerm, key: &Keyword, value: &Value) -> Result<()> {
        let attribute = self.attribute_named(&key.to_forward())?;
        if attribute.value_type != ValueType::Ref {
            return Err(Error::Schema(format!(
                "reverse attribute {} needs a ref attribute, but {} holds {}",
                Value::Keyword(key.clone()),
                attribute.ident_text(),
                attribute.value_type
            )));
        }
        let items: Vec<&Value> = match value {
            Value::Vector(items) | Value::List(items) if !self.is_lookup_ref(value) => {
                items.iter().collect()
            }
            Value::Set(items) => items.iter().collect(),
            single => vec![single],
        };
        for item in items {
            let referrer = match self.value_term(e, &attribute, item.clone())? {
                ValueTerm::Entity(term) => term,
                ValueTerm::Value(_) => unreachable!("ref values are entity terms"),
            };
            self.ops.push(Op::Add {
                e: referrer,
                a: attribute.id,
                v: ValueTerm::Entity(e.clone()),
            });
        }
        Ok(())
    }

    /// The values a map entry asserts: each element of a collection for a
    /// cardinality-many attribute, else the value itself.
    fn values_of(&self, attribute: &Attribute, value: Value) -> Vec<Value> {
        // A tuple is a vector itself: the values of a cardinality-many
        // tuple attribute are a collection of vectors.
        if attribute.value_type == ValueType::Tuple {
            let is_tuple = |item: &Value| matches!(item, Value::Vector(_) | Value::List(_));
            if attribute.cardinality != Cardinality::Many {
                return vec![value];
            }
            return match value {
                Value::Vector(ref items) | Value::List(ref items)
                    if !items.is_empty() && items.iter().all(is_tuple) =>
                {
                    value.into_sequence().unwrap_or_default()
                }
                Value::Set(_) => value.into_set().unwrap_or_default().into_iter().collect(),
                single => vec![single],
            };
        }
        // `:db.excise/attrs` holds attributes: `[:a/unique :a/other]` there
        // is two of them, never a lookup ref.
        let collection = attribute.id == factlite_core::bootstrap::DB_EXCISE_ATTRS
            || !self.is_lookup_ref(&value);
        if attribute.cardinality == Cardinality::Many && collection {
            let value = match value.into_sequence() {
                Ok(items) => return items,
                Err(value) => value,
            };
            return match value.into_set() {
                Ok(items) => items.into_iter().collect(),
                Err(value) => vec![value],
            };
        }
        vec![value]
    }

    /// `[:attr value]` where :attr is a unique attribute.
    fn is_lookup_ref(&self, value: &Value) -> bool {
        match value {
            Value::Vector(items) if items.len() == 2 => match &items[0] {
                Value::Keyword(k) => self
                    .schema
                    .attribute_named(k)
                    .is_some_and(|a| a.unique.is_some()),
                _ => false,
            },
            _ => false,
        }
    }

    fn entity_term(&mut self, reference: &EntityRef) -> Result<EntityTerm> {
        match reference {
            EntityRef::Id(id) => {
                self.check_id_exists(*id)?;
                Ok(EntityTerm::Id(*id))
            }
            EntityRef::TempId(name) if name == TX_TEMPID => Ok(EntityTerm::Id(self.ctx.tx)),
            EntityRef::TempId(name) => {
                let temp = Temp::Named(Rc::from(name.as_str()));
                let temp = match self.temps.get_key_value(&temp) {
                    Some((known, _)) => known.clone(),
                    None => {
                        self.temps.insert(temp.clone(), None);
                        temp
                    }
                };
                Ok(EntityTerm::Temp(temp))
            }
            EntityRef::LookupRef(attribute, value) => {
                Ok(EntityTerm::Id(self.lookup_ref(attribute, value)?))
            }
            EntityRef::Ident(ident) => match self.schema.entid(ident) {
                Some(id) => Ok(EntityTerm::Id(id)),
                None => Err(Error::UnknownEntity(format!(
                    "no entity has the ident {}",
                    Value::Keyword(ident.clone())
                ))),
            },
        }
    }

    fn check_id_exists(&self, id: Entid) -> Result<()> {
        let allocated = Partition::of(id).is_some_and(|p| {
            id >= p.start()
                && (id < self.next_ids[p as usize]
                    || (self.ctx.unallocated_ids && p != Partition::Tx))
        });
        if allocated || id == self.ctx.tx {
            Ok(())
        } else {
            Err(Error::UnknownEntity(format!(
                "entity id {id} was never allocated"
            )))
        }
    }

    fn lookup_ref(&self, attribute: &Keyword, value: &Value) -> Result<Entid> {
        let described = || format!("[{} {}]", Value::Keyword(attribute.clone()), value);
        let attr = self.attribute_named(attribute)?;
        if attr.unique.is_none() {
            return Err(Error::UnknownEntity(format!(
                "lookup ref {}: {} is not a unique attribute",
                described(),
                attr.ident_text()
            )));
        }
        let typed = attr
            .typed_value(value)
            .map_err(|refused| mismatch_error(described(), &attr, refused))?;
        self.holder(attr.id, &typed)?.ok_or_else(|| {
            Error::UnknownEntity(format!("lookup ref {} names no entity", described()))
        })
    }

    /// The entity holding value `v` of unique attribute `a` before the
    /// transaction.
    fn holder(&self, a: Entid, v: &TypedValue) -> Result<Option<Entid>> {
        let key = (a, v.clone());
        if let Some(holder) = self.holders.borrow().get(&key) {
            return Ok(*holder);
        }
        let holder = reads::holder(self.ctx.conn, a, v)?;
        self.holders.borrow_mut().insert(key, holder);
        Ok(holder)
    }

    fn attribute_named(&self, ident: &Keyword) -> Result<Attribute> {
        self.schema
            .attribute_named(ident)
            .cloned()
            .ok_or_else(|| Error::UnknownAttribute {
                attribute: Value::Keyword(ident.clone()).to_string(),
            })
    }

    /// The attribute of a list form; reverse attributes are not allowed there.
    fn forward_attribute(&self, reference: &AttrRef) -> Result<Attribute> {
        match reference {
            AttrRef::Ident(ident) if ident.is_reverse() => Err(Error::Parse(format!(
                "reverse attribute {} is only allowed in entity maps",
                Value::Keyword(ident.clone())
            ))),
            AttrRef::Ident(ident) => self.attribute_named(ident),
            AttrRef::Id(id) => {
                self.schema
                    .attribute(*id)
                    .cloned()
                    .ok_or_else(|| Error::UnknownAttribute {
                        attribute: format!("entity {id}"),
                    })
            }
        }
    }

    fn value_term(
        &mut self,
        e: &EntityTerm,
        attribute: &Attribute,
        value: Value,
    ) -> Result<ValueTerm> {
        if attribute.id == bootstrap::DB_IDENT {
            check_ident(&value)?;
        }
        self.names_tx_instant |= attribute.id == bootstrap::DB_TX_INSTANT;
        // Predicates are named by symbols, as in Datomic; they are stored
        // as their text.
        let value = match &value {
            Value::Symbol(symbol)
                if matches!(
                    attribute.id,
                    bootstrap::DB_ATTR_PREDS | bootstrap::DB_ENTITY_PREDS
                ) =>
            {
                Value::String(symbol.qualified_name())
            }
            _ => value,
        };
        let mismatch = |this: &Self, value: Value| Error::TypeMismatch {
            entity: this.describe(e),
            attribute: attribute.ident_text(),
            value: Box::new(value),
            expected: attribute.value_type,
        };
        if attribute.tuple.is_some() {
            return attribute
                .typed_value(&value)
                .map(ValueTerm::Value)
                .map_err(|refused| mismatch_error(self.describe(e), attribute, refused));
        }
        if matches!(value, Value::Float(x) if x.is_nan()) {
            return Err(Error::NotANumber {
                entity: self.describe(e),
                attribute: attribute.ident_text(),
            });
        }
        if attribute.value_type != ValueType::Ref {
            return TypedValue::from_edn_owned(value, attribute.value_type)
                .map(ValueTerm::Value)
                .map_err(|refused| mismatch(self, refused.found));
        }
        let term = match &value {
            Value::Integer(id) => self.entity_term(&EntityRef::Id(*id))?,
            Value::String(name) => self.entity_term(&EntityRef::TempId(name.clone()))?,
            Value::Keyword(ident) => self.entity_term(&EntityRef::Ident(ident.clone()))?,
            Value::Vector(items) if self.is_lookup_ref(&value) => {
                let Value::Keyword(attr) = &items[0] else {
                    return Err(mismatch(self, value));
                };
                EntityTerm::Id(self.lookup_ref(attr, &items[1])?)
            }
            Value::Map(map) => self.nested_entity(attribute, map)?,
            _ => return Err(mismatch(self, value)),
        };
        Ok(ValueTerm::Entity(term))
    }

    /// A map in value position: a new (or upserted) entity of its own.
    fn nested_entity(
        &mut self,
        attribute: &Attribute,
        map: &IndexMap<Value, Value>,
    ) -> Result<EntityTerm> {
        let mut attributes = IndexMap::new();
        let mut db_id = None;
        for (key, value) in map {
            match key {
                Value::Keyword(k) if *k == db_keyword("id") => db_id = Some(value),
                Value::Keyword(k) => {
                    attributes.insert(k.clone(), value.clone());
                }
                other => {
                    return Err(Error::Parse(format!(
                        "{other} is not an attribute; the keys of a nested entity map under {} are keywords",
                        attribute.ident_text()
                    )))
                }
            }
        }
        let e = match db_id {
            Some(reference) => {
                match self.value_term(&EntityTerm::Id(0), attribute, reference.clone())? {
                    ValueTerm::Entity(term) => term,
                    ValueTerm::Value(_) => unreachable!("ref values are entity terms"),
                }
            }
            None => self.anonymous_entity(),
        };
        self.expand_map(&e, attributes)?;
        Ok(e)
    }

    fn describe(&self, e: &EntityTerm) -> String {
        match e {
            EntityTerm::Id(id) => id.to_string(),
            EntityTerm::Temp(Temp::Named(name)) => format!("{name:?}"),
            EntityTerm::Temp(Temp::Anonymous(_)) => "(new entity)".to_string(),
        }
    }

    // ---- pass 3: upsert -------------------------------------------------

    fn upsert(&mut self) -> Result<()> {
        // Each round may resolve tempids that let ref-valued identities match.
        loop {
            let mut changed = false;
            for (temp, a, value) in self.identity_claims() {
                let Some(holder) = self.holder(a, &value)? else {
                    continue;
                };
                match self.temps.get(&temp).copied().flatten() {
                    None => {
                        self.temps.insert(temp, Some(holder));
                        changed = true;
                    }
                    Some(existing) if existing != holder => {
                        return Err(Error::UniqueConflict(format!(
                            "tempid {} would upsert to two entities, {existing} and {holder}, through {} {}",
                            self.describe(&EntityTerm::Temp(temp)),
                            self.schema.attribute(a).map(|x| x.ident_text()).unwrap_or_default(),
                            value
                        )));
                    }
                    Some(_) => {}
                }
            }
            if self.unify_identity_classes()? {
                changed = true;
            }
            if !changed {
                return Ok(());
            }
        }
    }

    /// Gives every unresolved tempid of an identity class the entity a
    /// member of the class resolved to. Returns whether any tempid changed.
    fn unify_identity_classes(&mut self) -> Result<bool> {
        // A class takes the entity of a member that has one: with no
        // tempid resolved yet, there is nothing to give (and a large
        // transaction of new entities builds no classes).
        if self.temps.values().all(Option::is_none) {
            return Ok(false);
        }
        let classes = self.identity_classes();
        let mut resolved: HashMap<usize, (&Temp, Entid)> = HashMap::new();
        for (temp, class) in &classes {
            let Some(id) = self.temps.get(temp).copied().flatten() else {
                continue;
            };
            match resolved.get(class) {
                Some((other, other_id)) if *other_id != id => {
                    return Err(Error::UniqueConflict(format!(
                        "tempids {} and {} assert the same :db.unique/identity values but resolve to two entities, {other_id} and {id}",
                        self.describe(&EntityTerm::Temp((*other).clone())),
                        self.describe(&EntityTerm::Temp(temp.clone())),
                    )));
                }
                Some(_) => {}
                None => {
                    resolved.insert(*class, (temp, id));
                }
            }
        }
        let unify: Vec<(Temp, Entid)> = classes
            .iter()
            .filter(|(temp, _)| self.temps.get(*temp).copied().flatten().is_none())
            .filter_map(|(temp, class)| resolved.get(class).map(|(_, id)| (temp.clone(), *id)))
            .collect();
        let changed = !unify.is_empty();
        for (temp, id) in unify {
            self.temps.insert(temp, Some(id));
        }
        Ok(changed)
    }

    /// Tempids asserting the same :db.unique/identity value name one
    /// entity, and so, transitively, do chains of them (A and B share one
    /// value, B and C another). Maps each tempid of a class of two or more
    /// to its class, in order of first appearance; a tempid alone in its
    /// class is left out (it names its entity by itself), so for a
    /// transaction whose tempids share no identity value the map is empty.
    fn identity_classes(&self) -> IndexMap<Temp, usize> {
        let claims = self.identity_claims();
        let mut nodes: IndexMap<&Temp, usize> = IndexMap::new();
        let mut parent: Vec<usize> = Vec::new();
        let mut claimant: HashMap<(Entid, &TypedValue), usize> = HashMap::new();
        fn root(parent: &mut [usize], mut node: usize) -> usize {
            while parent[node] != node {
                parent[node] = parent[parent[node]];
                node = parent[node];
            }
            node
        }
        for (temp, a, value) in &claims {
            let node = *nodes.entry(temp).or_insert_with(|| {
                parent.push(parent.len());
                parent.len() - 1
            });
            match claimant.get(&(*a, value)) {
                Some(&other) => {
                    let (x, y) = (root(&mut parent, node), root(&mut parent, other));
                    // The earlier node stays the root, so classes are
                    // numbered by first appearance.
                    parent[x.max(y)] = x.min(y);
                }
                None => {
                    claimant.insert((*a, value), node);
                }
            }
        }
        let mut members = vec![0usize; parent.len()];
        let classes: Vec<usize> = (0..parent.len())
            .map(|node| root(&mut parent, node))
            .collect();
        for &class in &classes {
            members[class] += 1;
        }
        nodes
            .into_iter()
            .map(|(temp, node)| (temp.clone(), classes[node]))
            .filter(|(_, class)| members[*class] > 1)
            .collect()
    }

    /// Each `:db.unique/identity` value a tempid asserts, as (tempid,
    /// attribute, value), in op order; values that are still unresolved
    /// tempids are left out.
    fn identity_claims(&self) -> Vec<(Temp, Entid, TypedValue)> {
        let mut claims: Vec<(Temp, Entid, TypedValue)> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Add {
                    e: EntityTerm::Temp(temp),
                    a,
                    v,
                } => Some((temp, *a, v)),
                _ => None,
            })
            .filter(|(_, a, _)| {
                self.schema.attribute(*a).and_then(|attr| attr.unique) == Some(Unique::Identity)
            })
            .filter_map(|(temp, a, v)| Some((temp.clone(), a, self.known_value(v)?)))
            .collect();
        claims.extend(self.composite_identity_claims());
        claims.extend(
            self.stated_composites
                .iter()
                .filter(|stated| stated.attribute.unique == Some(Unique::Identity))
                .filter_map(|stated| match &stated.e {
                    EntityTerm::Temp(temp) => {
                        Some((temp.clone(), stated.attribute.id, stated.value.clone()))
                    }
                    EntityTerm::Id(_) => None,
                }),
        );
        claims
    }

    /// A tempid asserting values of the attributes of a
    /// `:db.unique/identity` composite claims the composite those values
    /// make (`nil` for the ones it does not assert), so it upserts to the
    /// entity holding that tuple, as in Datomic.
    fn composite_identity_claims(&self) -> Vec<(Temp, Entid, TypedValue)> {
        let identities: Vec<(&Attribute, &[(Entid, ValueType)])> = self
            .schema
            .attributes()
            .filter(|attribute| attribute.unique == Some(Unique::Identity))
            .filter_map(|attribute| match &attribute.tuple {
                Some(factlite_core::TupleShape::Composite(components)) => {
                    Some((attribute, components.as_slice()))
                }
                _ => None,
            })
            .collect();
        if identities.is_empty() {
            return Vec::new();
        }
        let mut asserted: IndexMap<&Temp, HashMap<Entid, TypedValue>> = IndexMap::new();
        for op in &self.ops {
            if let Op::Add {
                e: EntityTerm::Temp(temp),
                a,
                v,
            } = op
            {
                if let Some(value) = self.known_value(v) {
                    asserted.entry(temp).or_default().insert(*a, value);
                }
            }
        }
        let mut claims = Vec::new();
        for (temp, values) in asserted {
            for (attribute, components) in &identities {
                if !components.iter().any(|(c, _)| values.contains_key(c)) {
                    continue;
                }
                let tuple = components
                    .iter()
                    .map(|(c, _)| values.get(c).cloned().map(factlite_core::tuple::element))
                    .collect();
                claims.push((temp.clone(), attribute.id, TypedValue::Tuple(tuple)));
            }
        }
        claims
    }

    fn known_value(&self, v: &ValueTerm) -> Option<TypedValue> {
        match v {
            ValueTerm::Value(value) => Some(value.clone()),
            ValueTerm::Entity(EntityTerm::Id(id)) => Some(TypedValue::Ref(*id)),
            ValueTerm::Entity(EntityTerm::Temp(temp)) => {
                self.temps.get(temp).copied().flatten().map(TypedValue::Ref)
            }
        }
    }

    // ---- pass 4: allocate -----------------------------------------------

    fn allocate(&mut self) -> Result<()> {
        let in_entity_position: HashSet<Temp> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Add {
                    e: EntityTerm::Temp(t),
                    ..
                }
                | Op::Retract {
                    e: EntityTerm::Temp(t),
                    ..
                } => Some(t.clone()),
                Op::Cas(cas) => match &cas.e {
                    EntityTerm::Temp(t) => Some(t.clone()),
                    EntityTerm::Id(_) => None,
                },
                _ => None,
            })
            .chain(
                self.stated_composites
                    .iter()
                    .filter_map(|stated| match &stated.e {
                        EntityTerm::Temp(t) => Some(t.clone()),
                        EntityTerm::Id(_) => None,
                    }),
            )
            .collect();
        let unresolved: Vec<Temp> = self
            .temps
            .iter()
            .filter(|(_, id)| id.is_none())
            .map(|(t, _)| t.clone())
            .collect();
        // The tempids of one identity class name one entity: the first of
        // them gets the id, the others share it.
        let classes = self.identity_classes();
        let mut class_ids: HashMap<usize, Entid> = HashMap::new();
        for temp in unresolved {
            if !in_entity_position.contains(&temp) {
                if let Temp::Named(name) = &temp {
                    return Err(Error::UnknownEntity(format!(
                        "tempid {name:?} is only used as a value; assert something about it in this transaction"
                    )));
                }
                continue;
            }
            let class = classes.get(&temp).copied();
            let id = match class.and_then(|class| class_ids.get(&class)) {
                Some(id) => *id,
                None => {
                    let partition = if self.schema_temps.contains(&temp) {
                        Partition::Db
                    } else {
                        Partition::User
                    };
                    self.allocate_id(partition)
                }
            };
            if let Some(class) = class {
                class_ids.entry(class).or_insert(id);
            }
            self.temps.insert(temp, Some(id));
        }
        Ok(())
    }

    fn entid(&self, term: &EntityTerm) -> Entid {
        match term {
            EntityTerm::Id(id) => *id,
            EntityTerm::Temp(temp) => match self.temps.get(temp).copied().flatten() {
                Some(id) => id,
                None => unreachable!("every tempid in entity position is allocated"),
            },
        }
    }

    fn typed(&self, term: ValueTerm) -> Result<TypedValue> {
        match term {
            ValueTerm::Value(value) => Ok(value),
            ValueTerm::Entity(EntityTerm::Id(id)) => Ok(TypedValue::Ref(id)),
            ValueTerm::Entity(EntityTerm::Temp(temp)) => self
                .temps
                .get(&temp)
                .copied()
                .flatten()
                .map(TypedValue::Ref)
                .ok_or_else(|| {
                    Error::UnknownEntity(format!("tempid {temp:?} does not name an entity"))
                }),
        }
    }

    // ---- pass 5: interpret ----------------------------------------------

    fn current_values(&self, e: Entid, a: Entid) -> Result<Vec<TypedValue>> {
        if self.fresh.contains(&e) {
            return Ok(Vec::new());
        }
        reads::values(self.ctx.conn, e, a)
    }

    fn holds(&self, e: Entid, a: Entid, v: &TypedValue) -> Result<bool> {
        if self.fresh.contains(&e) {
            return Ok(false);
        }
        reads::holds(self.ctx.conn, e, a, v)
    }

    fn attribute(&self, a: Entid) -> &Attribute {
        match self.schema.attribute(a) {
            Some(attribute) => attribute,
            None => unreachable!("ops only name known attributes"),
        }
    }

    fn interpret(&self, op: Op, state: &mut Interpretation) -> Result<()> {
        match op {
            Op::Add { e, a, v } => self.assert(self.entid(&e), a, self.typed(v)?, state),
            Op::Retract { e, a, v } => {
                let (e, v) = (self.entid(&e), self.typed(v)?);
                self.retract(e, a, v, state)
            }
            Op::RetractAttribute { e, a } => {
                let e = self.entid(&e);
                for v in self.current_values(e, a)? {
                    self.retract(e, a, v, state)?;
                }
                Ok(())
            }
            Op::RetractEntity { e } => self.retract_entity(self.entid(&e), state),
            Op::Cas(cas) => {
                let Cas { e, a, old, new } = *cas;
                let e = self.entid(&e);
                let current = self.current_values(e, a)?;
                let expected = old.map(|v| self.typed(v)).transpose()?;
                let matches = match &expected {
                    None => current.is_empty(),
                    Some(v) => current.len() == 1 && current[0] == *v,
                };
                if !matches {
                    let show =
                        |v: Option<&TypedValue>| v.map_or("nil".to_string(), |v| v.to_string());
                    return Err(Error::CasFailed {
                        entity: e.to_string(),
                        attribute: self.attribute(a).ident_text(),
                        expected: show(expected.as_ref()),
                        found: show(current.first()),
                    });
                }
                self.assert(e, a, self.typed(new)?, state)
            }
        }
    }

    fn assert(&self, e: Entid, a: Entid, v: TypedValue, state: &mut Interpretation) -> Result<()> {
        let key = (e, a, v);
        if state.asserted.contains(&key) {
            return Ok(());
        }
        if state.retracted.contains(&key) && !self.fresh.contains(&e) {
            // Retracted earlier in this transaction: the two cancel out.
            return Err(self.conflict(&key, "both asserts and retracts"));
        }
        let attribute = self.attribute(a);
        if attribute.cardinality == Cardinality::One {
            // Two values for one entity are found once every op is read
            // ([`Resolver::check_one_values`]), as Datomic finds conflicts.
            let mut already = false;
            for current in self.current_values(e, a)? {
                if current == key.2 {
                    already = true;
                } else {
                    state.retracted.insert((e, a, current));
                }
            }
            if !already {
                state.asserted.insert(key);
                return Ok(());
            }
            let position = state.asserted.len();
            match state.kept.entry((e, a)) {
                Entry::Vacant(slot) => {
                    slot.insert((key.2, position));
                }
                Entry::Occupied(kept) if kept.get().0 != key.2 => {
                    return Err(two_values(attribute, e, &kept.get().0, &key.2));
                }
                Entry::Occupied(_) => {}
            }
        } else if self.holds(e, a, &key.2)? {
            state.restated.insert(key);
        } else {
            state.asserted.insert(key);
        }
        Ok(())
    }

    fn retract(&self, e: Entid, a: Entid, v: TypedValue, state: &mut Interpretation) -> Result<()> {
        let key = (e, a, v);
        let restated = state.restated.contains(&key)
            || state
                .kept
                .get(&(e, a))
                .is_some_and(|(kept, _)| *kept == key.2);
        if state.asserted.contains(&key) || restated {
            return Err(self.conflict(&key, "both asserts and retracts"));
        }
        if self.holds(key.0, key.1, &key.2)? {
            state.retracted.insert(key);
        }
        Ok(())
    }

    fn conflict(&self, (e, a, v): &DatomKey, what: &str) -> Error {
        Error::UniqueConflict(format!(
            "the transaction {what} [{e} {} {v}]",
            self.attribute(*a).ident_text()
        ))
    }

    /// Retracts every datom of the entity, every reference to it (but the
    /// `:db/excise` of an excision's record, which is kept), and the
    /// component entities it owns, recursively.
    fn retract_entity(&self, root: Entid, state: &mut Interpretation) -> Result<()> {
        if Partition::of(root) == Some(Partition::Tx) {
            return Err(Error::Constraint(format!(
                "{root} is a transaction, which stays in the log: its instant and the datoms it asserted are history"
            )));
        }
        let mut pending = vec![root];
        let mut seen = HashSet::new();
        while let Some(e) = pending.pop() {
            if !seen.insert(e) || self.fresh.contains(&e) {
                continue;
            }
            for (a, v) in reads::entity(self.ctx.conn, e)? {
                if let (Some(attribute), TypedValue::Ref(child)) = (self.schema.attribute(a), &v) {
                    if attribute.is_component {
                        pending.push(*child);
                    }
                }
                state.asserted.shift_remove(&(e, a, v.clone()));
                state.retracted.insert((e, a, v));
            }
            for (referrer, a) in reads::referrers(self.ctx.conn, e)? {
                if a == factlite_core::bootstrap::DB_EXCISE {
                    continue;
                }
                state.retracted.insert((referrer, a, TypedValue::Ref(e)));
            }
        }
        Ok(())
    }

    // ---- pass 6: uniqueness ---------------------------------------------

    /// Refuses a transaction that gives an entity two values of a
    /// cardinality-one attribute, naming the conflict an op meets first.
    /// The asserted datoms of each (entity, attribute) are found by
    /// sorting their positions, not with a table of every pair.
    /// Every composite a form stated is the one its entity holds when the
    /// transaction ends (as computed from its attributes, or as it was).
    fn check_stated_composites(&self, state: &Interpretation) -> Result<()> {
        if self.stated_composites.is_empty() {
            return Ok(());
        }
        let stated_attributes: HashSet<Entid> = self
            .stated_composites
            .iter()
            .map(|stated| stated.attribute.id)
            .collect();
        // What the transaction does to those composites, by (entity,
        // attribute): the tuple it asserts, or `None` when it only retracts.
        let mut changed: HashMap<(Entid, Entid), Option<&TypedValue>> = HashMap::new();
        for (e, a, _) in state
            .retracted
            .iter()
            .filter(|(_, a, _)| stated_attributes.contains(a))
        {
            changed.insert((*e, *a), None);
        }
        for (e, a, v) in state
            .asserted
            .iter()
            .filter(|(_, a, _)| stated_attributes.contains(a))
        {
            changed.insert((*e, *a), Some(v));
        }
        for stated in &self.stated_composites {
            let a = stated.attribute.id;
            let id = match &stated.e {
                EntityTerm::Id(id) => Some(*id),
                EntityTerm::Temp(temp) => self.temps.get(temp).copied().flatten(),
            };
            let held = match id {
                Some(e) => match changed.get(&(e, a)) {
                    Some(change) => change.cloned(),
                    None => self.current_values(e, a)?.into_iter().next(),
                },
                None => None,
            };
            if held.as_ref() != Some(&stated.value) {
                let made = match held {
                    Some(v) => format!("its attributes make {}", v.to_edn()),
                    None => "it holds none of its attributes".to_string(),
                };
                return Err(Error::Schema(format!(
                    "{} states {} {}, but {made}: a composite tuple (:db/tupleAttrs) is kept by the transactor from the attributes it is made of, so a stated one must be that tuple",
                    self.describe(&stated.e),
                    stated.attribute.ident_text(),
                    stated.value.to_edn()
                )));
            }
        }
        Ok(())
    }

    fn check_one_values(&self, state: &Interpretation) -> Result<()> {
        let asserted = &state.asserted;
        let pair = |index: usize| (asserted[index].0, asserted[index].1);
        let mut ones: Vec<usize> = (0..asserted.len())
            .filter(|&index| self.attribute(asserted[index].1).cardinality == Cardinality::One)
            .collect();
        ones.sort_unstable_by_key(|&index| (pair(index), index));
        // Op order: asserted datom `i` is at 2i + 1; a kept value with `n`
        // datoms asserted before it is at 2n. A conflict is met at the
        // later of its two values.
        let mut first: Option<(usize, Entid, Entid, &TypedValue, &TypedValue)> = None;
        let mut meet = |at: usize, (e, a): (Entid, Entid), other, value| {
            if first.is_none_or(|(earliest, ..)| at < earliest) {
                first = Some((at, e, a, other, value));
            }
        };
        for window in ones.windows(2) {
            let (earlier, later) = (window[0], window[1]);
            if pair(earlier) == pair(later) {
                meet(
                    2 * later + 1,
                    pair(later),
                    &asserted[earlier].2,
                    &asserted[later].2,
                );
            }
        }
        for (&(e, a), (kept, before)) in &state.kept {
            let at = ones.partition_point(|&index| pair(index) < (e, a));
            let Some(&index) = ones.get(at).filter(|&&index| pair(index) == (e, a)) else {
                continue;
            };
            let value = &asserted[index].2;
            if index < *before {
                meet(2 * before, (e, a), value, kept);
            } else {
                meet(2 * index + 1, (e, a), kept, value);
            }
        }
        match first {
            Some((_, e, a, other, value)) => Err(two_values(self.attribute(a), e, other, value)),
            None => Ok(()),
        }
    }

    fn check_uniqueness(&self, state: &Interpretation) -> Result<()> {
        let mut claimed: HashMap<(Entid, &TypedValue), Entid> = HashMap::new();
        for (e, a, v) in &state.asserted {
            let attribute = self.attribute(*a);
            if attribute.unique.is_none() {
                continue;
            }
            if let Some(other) = claimed.insert((*a, v), *e) {
                if other != *e {
                    return Err(Error::UniqueConflict(format!(
                        "entities {other} and {e} would both hold {} {v}",
                        attribute.ident_text()
                    )));
                }
            }
            if let Some(holder) = self.holder(*a, v)? {
                if holder != *e && !state.retracted.contains(&(holder, *a, v.clone())) {
                    return Err(Error::UniqueConflict(format!(
                        "{} {v} is already held by entity {holder}; entity {e} cannot hold it too",
                        attribute.ident_text()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The error of a transaction giving entity `e` two values of the
/// cardinality-one `attribute`.
fn two_values(attribute: &Attribute, e: Entid, other: &TypedValue, value: &TypedValue) -> Error {
    Error::UniqueConflict(format!(
        "entity {e} gets two values for cardinality-one attribute {} in one transaction: {other} and {value}",
        attribute.ident_text()
    ))
}

/// The attribute a map such as `{:db/ident :a/b :db/valueType :db.type/long}`
/// declares.
///
/// A tuple attribute's shape is read against `schema` (a composite names
/// other attributes); without one (a vocabulary read before it meets a
/// store) the shape is left out.
pub(crate) fn declared_attribute(
    id: Entid,
    ident: &Keyword,
    value_type: &Value,
    attributes: &IndexMap<Keyword, Value>,
    schema: Option<&Schema>,
) -> Result<Attribute> {
    let invalid = |what: &str, value: &Value| {
        Error::Schema(format!(
            "attribute {} has an invalid {what}: {value}",
            Value::Keyword(ident.clone())
        ))
    };
    let enum_keyword = |value: &Value| match value {
        Value::Keyword(k) => Some(k.clone()),
        _ => None,
    };
    let value_type = enum_keyword(value_type)
        .and_then(|k| ValueType::from_ident(&k))
        .ok_or_else(|| invalid(":db/valueType", value_type))?;
    let mut attribute = Attribute::new(id, ident.clone(), value_type);
    let mut tuple = TupleDeclaration::default();
    let keywords = |what: &str, value: &Value| -> Result<Vec<Keyword>> {
        match value {
            Value::Vector(items) | Value::List(items) => items
                .iter()
                .map(|item| enum_keyword(item).ok_or_else(|| invalid(what, value)))
                .collect(),
            other => Err(invalid(what, other)),
        }
    };
    for (key, value) in attributes {
        if key.namespace.as_deref() != Some("db") {
            continue;
        }
        match (key.name.as_str(), value) {
            ("cardinality", v) => {
                attribute.cardinality = enum_keyword(v)
                    .and_then(|k| Cardinality::from_ident(&k))
                    .ok_or_else(|| invalid(":db/cardinality", v))?;
            }
            ("unique", v) => {
                attribute.unique = Some(
                    enum_keyword(v)
                        .and_then(|k| Unique::from_ident(&k))
                        .ok_or_else(|| invalid(":db/unique", v))?,
                );
            }
            ("index", Value::Boolean(flag)) => attribute.index = *flag,
            ("isComponent", Value::Boolean(flag)) => attribute.is_component = *flag,
            ("noHistory", Value::Boolean(flag)) => attribute.no_history = *flag,
            ("fulltext", Value::Boolean(flag)) => attribute.fulltext = *flag,
            ("doc", Value::String(doc)) => attribute.doc = Some(doc.clone()),
            ("tupleType", v) => {
                tuple.tuple_type =
                    Some(enum_keyword(v).ok_or_else(|| invalid(":db/tupleType", v))?);
            }
            ("tupleTypes", v) => tuple.tuple_types = Some(keywords(":db/tupleTypes", v)?),
            ("tupleAttrs", v) => tuple.tuple_attrs = Some(keywords(":db/tupleAttrs", v)?),
            _ => {}
        }
    }
    if let Some(schema) = schema {
        attribute.tuple = tuple
            .shape(&attribute, schema)
            .map_err(|refused| Error::Schema(refused.0))?;
    }
    Ok(attribute)
}

/// A composite tuple is the transactor's to keep: asserting or retracting
/// one by hand is refused, naming it.
fn refuse_composite(attribute: &Attribute, what: &str) -> Result<()> {
    if attribute.is_composite() {
        return Err(Error::Schema(format!(
            "cannot {what} {} by hand: it is a composite tuple (:db/tupleAttrs), which the transactor keeps from the attributes it is made of; transact those instead",
            attribute.ident_text()
        )));
    }
    Ok(())
}

/// The error for a value that does not fit `attribute`.
fn mismatch_error(entity: String, attribute: &Attribute, refused: ValueMismatch) -> Error {
    match refused {
        ValueMismatch::Type(mismatch) => Error::TypeMismatch {
            entity,
            attribute: attribute.ident_text(),
            value: Box::new(mismatch.found),
            expected: attribute.value_type,
        },
        ValueMismatch::Tuple { found, reason } => Error::TupleMismatch {
            entity,
            attribute: attribute.ident_text(),
            value: Box::new(found),
            reason,
        },
    }
}

/// Printing helpers for attributes in messages.
trait IdentText {
    fn ident_text(&self) -> String;
}

impl IdentText for Attribute {
    fn ident_text(&self) -> String {
        Value::Keyword(self.ident.clone()).to_string()
    }
}

/// An ident is a keyword that reads back as itself, so that the schema,
/// exports and queries that name it stay readable (a keyword built in Rust
/// may hold any text).
fn check_ident(value: &Value) -> Result<()> {
    match value {
        Value::Keyword(keyword) if !keyword.is_readable() => Err(Error::Schema(format!(
            "{:?} is not an ident: an ident is a keyword EDN can read back, such as :person/name",
            keyword.to_string()
        ))),
        _ => Ok(()),
    }
}
