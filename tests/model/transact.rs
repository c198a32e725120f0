//! The model's database and transactions: a schema of user attributes, a
//! log of datoms (user attributes only), and transaction data interpreted
//! in the store's documented order:
//!
//! 1. each form in order: its entity, its attribute, its values (unknown
//!    attributes, type mismatches, lookup refs that name nothing, ids never
//!    allocated, `:db/cas` on a cardinality-many attribute);
//! 2. upsert: a tempid asserting a `:db.unique/identity` value that an
//!    entity holds names that entity; tempids sharing identity values name
//!    one entity (to a fixpoint);
//! 3. every other tempid names a new entity, if something is asserted,
//!    retracted or cas'ed about it;
//! 4. the operations in order against a working copy of the facts, with
//!    every lookup (cas, retract-attribute, retractEntity) reading the state
//!    before the transaction: a cardinality-one attribute gets one value
//!    per transaction; a datom both asserted (held already or not) and
//!    retracted is a conflict;
//! 5. composite tuples: each entity whose component attributes changed
//!    gets its composite from the values it holds now (`nil` for a missing
//!    one; none when all are missing); a tempid asserting components of a
//!    `:db.unique/identity` composite claims the tuple they make, and
//!    upserts by it (in 2.), and so does one a form states; a stated
//!    composite that is not the one its entity then holds is a schema
//!    error, and so is one retracted or cas'ed by hand;
//! 6. the result keeps every unique value on one entity.
//!
//! New entities get provisional negative ids; the harness learns the real
//! ones from the store's report (see [`Model::commit`]).

use std::collections::{BTreeMap, BTreeSet};

use factlite::ErrorCategory;
use factlite_edn::{Keyword, Value};

use super::value::{Ty, Val};

/// `:db.unique/...`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unique {
    Identity,
    Value,
}

/// A user attribute.
#[derive(Clone, Debug)]
pub struct Attr {
    pub ident: Keyword,
    pub ty: Ty,
    pub many: bool,
    pub unique: Option<Unique>,
    pub component: bool,
    /// What a tuple attribute's tuples hold.
    pub tuple: Option<TupleKind>,
}

/// `:db/tupleType` or `:db/tupleAttrs` (the components' numbers and idents).
#[derive(Clone, Debug)]
pub enum TupleKind {
    Of(Ty),
    Composite(Vec<(usize, Keyword)>),
}

impl Attr {
    /// The schema map that defines the attribute.
    pub fn definition(&self) -> Value {
        let kw = |ns: &str, name: &str| Value::Keyword(Keyword::namespaced(ns, name));
        let mut map = indexmap::IndexMap::new();
        map.insert(kw("db", "ident"), Value::Keyword(self.ident.clone()));
        map.insert(kw("db", "valueType"), self.ty.ident());
        let cardinality = if self.many { "many" } else { "one" };
        map.insert(kw("db", "cardinality"), kw("db.cardinality", cardinality));
        if let Some(unique) = self.unique {
            let name = match unique {
                Unique::Identity => "identity",
                Unique::Value => "value",
            };
            map.insert(kw("db", "unique"), kw("db.unique", name));
        }
        if self.component {
            map.insert(kw("db", "isComponent"), Value::Boolean(true));
        }
        match &self.tuple {
            Some(TupleKind::Of(ty)) => {
                map.insert(kw("db", "tupleType"), ty.ident());
            }
            Some(TupleKind::Composite(components)) => {
                let idents = components
                    .iter()
                    .map(|(_, ident)| Value::Keyword(ident.clone()))
                    .collect();
                map.insert(kw("db", "tupleAttrs"), Value::Vector(idents));
            }
            None => {}
        }
        Value::Map(map)
    }
}

/// A fact: entity, attribute (index into [`Model::attrs`]), value.
pub type Fact = (i64, usize, Val);

/// One datom of the log.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogDatom {
    pub e: i64,
    pub a: usize,
    pub v: Val,
    pub tx: i64,
    pub added: bool,
}

/// The model database.
#[derive(Clone, Debug)]
pub struct Model {
    pub attrs: Vec<Attr>,
    pub log: Vec<LogDatom>,
    /// Every committed transaction, in order.
    pub txs: Vec<i64>,
    /// Entities made by this model's transactions, in order of creation.
    pub entities: Vec<i64>,
    /// The first tempid that named each entity.
    pub names: BTreeMap<i64, String>,
}

/// What a tempid resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    Existing(i64),
    /// A new entity, numbered within the transaction (provisional id
    /// `-(n + 1)`).
    New(usize),
}

/// A transaction the model accepts, before it learns the new ids.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Attributes the transaction defines.
    pub declared: Vec<Attr>,
    pub tempids: BTreeMap<String, Resolved>,
    pub retracted: BTreeSet<Fact>,
    pub asserted: BTreeSet<Fact>,
}

/// How the model names the tempid of a map without `:db/id` (no generated
/// tempid starts with `#`).
pub const ANONYMOUS: &str = "#anonymous-";

/// Whether a tempid is the model's name for a map without `:db/id`.
pub fn is_anonymous(tempid: &str) -> bool {
    tempid.starts_with(ANONYMOUS)
}

/// A model error: the category the store must report, and why.
#[derive(Clone, Debug)]
pub struct Failure {
    pub category: ErrorCategory,
    pub why: String,
}

fn fail<T>(category: ErrorCategory, why: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        category,
        why: why.into(),
    })
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum EntTerm {
    Id(i64),
    Temp(String),
}

#[derive(Clone, Debug)]
enum ValTerm {
    Val(Val),
    Ent(EntTerm),
}

#[derive(Clone, Debug)]
enum Op {
    Add(EntTerm, usize, ValTerm),
    Retract(EntTerm, usize, ValTerm),
    RetractAttr(EntTerm, usize),
    RetractEntity(EntTerm),
    Cas(EntTerm, usize, Option<ValTerm>, ValTerm),
    /// A composite tuple a form states: it must be the one the entity
    /// holds once the transaction's composites are made.
    State(EntTerm, usize, Val),
}

fn db_kw(name: &str) -> Value {
    Value::Keyword(Keyword::namespaced("db", name))
}

impl Model {
    /// A model with these attributes and no transactions yet.
    pub fn new(attrs: Vec<Attr>) -> Model {
        Model {
            attrs,
            log: Vec::new(),
            txs: Vec::new(),
            entities: Vec::new(),
            names: BTreeMap::new(),
        }
    }

    /// The facts that held right after transaction `as_of` (all of them
    /// when `None`).
    pub fn facts(&self, as_of: Option<i64>) -> BTreeSet<Fact> {
        let mut facts = BTreeSet::new();
        for datom in self.log.iter().filter(|d| as_of.is_none_or(|t| d.tx <= t)) {
            let fact = (datom.e, datom.a, datom.v.clone());
            if datom.added {
                facts.insert(fact);
            } else {
                facts.remove(&fact);
            }
        }
        facts
    }

    /// The transaction that last asserted each current fact.
    pub fn assertion_txs(&self) -> BTreeMap<Fact, i64> {
        let mut txs = BTreeMap::new();
        for datom in &self.log {
            let fact = (datom.e, datom.a, datom.v.clone());
            if datom.added {
                txs.insert(fact, datom.tx);
            } else {
                txs.remove(&fact);
            }
        }
        txs
    }

    /// A pull pattern of attributes (`None` is `:db/id`).
    pub fn pull_pattern(&self, attrs: &[Option<usize>]) -> Value {
        Value::Vector(attrs.iter().map(|a| self.pull_key(*a)).collect())
    }

    fn pull_key(&self, attr: Option<usize>) -> Value {
        match attr {
            Some(a) => Value::Keyword(self.attrs[a].ident.clone()),
            None => db_kw("id"),
        }
    }

    /// Pulls attributes of entity `e` now: a map of each attribute that
    /// has values to its value (cardinality one) or the set of them (many);
    /// refs as `{:db/id id}`, except through a component attribute, whose
    /// entities come whole (every attribute, components within too; one
    /// already on the way there as `{:db/id id}`); `:db/id` as the entity
    /// itself.
    pub fn pull(&self, e: i64, attrs: &[Option<usize>], entity: &dyn Fn(i64) -> Value) -> Value {
        let facts = self.facts(None);
        let mut map = indexmap::IndexMap::new();
        for attr in attrs {
            match attr {
                Some(a) => self.pull_attribute(&facts, e, *a, &mut vec![e], entity, &mut map),
                None => {
                    map.insert(db_kw("id"), entity(e));
                }
            }
        }
        Value::Map(map)
    }

    /// Every attribute of `e`, as a component is pulled.
    fn pull_whole(
        &self,
        facts: &BTreeSet<Fact>,
        e: i64,
        path: &mut Vec<i64>,
        entity: &dyn Fn(i64) -> Value,
    ) -> Value {
        let mut map = indexmap::IndexMap::new();
        map.insert(db_kw("id"), entity(e));
        let attributes: BTreeSet<usize> = facts
            .iter()
            .filter(|(fe, _, _)| *fe == e)
            .map(|(_, a, _)| *a)
            .collect();
        path.push(e);
        for a in attributes {
            self.pull_attribute(facts, e, a, path, entity, &mut map);
        }
        path.pop();
        Value::Map(map)
    }

    /// The values of attribute `a` of `e` into `map`.
    fn pull_attribute(
        &self,
        facts: &BTreeSet<Fact>,
        e: i64,
        a: usize,
        path: &mut Vec<i64>,
        entity: &dyn Fn(i64) -> Value,
        map: &mut indexmap::IndexMap<Value, Value>,
    ) {
        let reference = |id: i64| Value::Map([(db_kw("id"), entity(id))].into_iter().collect());
        let component = self.attrs[a].component;
        let values: Vec<Value> = facts
            .iter()
            .filter(|(fe, fa, _)| *fe == e && *fa == a)
            .map(|(_, _, v)| match v {
                Val::Ref(id) if component && !path.contains(id) => {
                    self.pull_whole(facts, *id, path, entity)
                }
                Val::Ref(id) => reference(*id),
                other => other.to_edn(entity),
            })
            .collect();
        match (values.first(), self.attrs[a].many) {
            (None, _) => {}
            (Some(one), false) => {
                map.insert(self.pull_key(Some(a)), one.clone());
            }
            (Some(_), true) => {
                map.insert(
                    self.pull_key(Some(a)),
                    Value::Set(values.into_iter().collect()),
                );
            }
        }
    }

    /// Interprets transaction data against the current facts.
    pub fn transact(&self, tx_data: &Value) -> Result<Outcome, Failure> {
        let before = self.facts(None);
        let mut run = Run {
            model: self,
            attrs: self.attrs.clone(),
            before: &before,
            ops: Vec::new(),
            tempids: Vec::new(),
        };
        let Value::Vector(forms) = tx_data else {
            return fail(ErrorCategory::Parse, "transaction data is not a vector");
        };
        // Attributes a transaction defines can be used anywhere in it.
        for form in forms {
            if let Some(attr) = declaration(form) {
                if !run.attrs.iter().any(|a| a.ident == attr.ident) {
                    run.attrs.push(attr);
                }
            }
        }
        for form in forms.iter().filter(|form| declaration(form).is_none()) {
            run.expand(form)?;
        }
        let tempids = run.resolve_tempids()?;
        let mut outcome = run.interpret(&tempids)?;
        outcome.declared = run.attrs[self.attrs.len()..].to_vec();
        Ok(outcome)
    }

    /// Records a transaction the store committed as `tx`, with the ids
    /// `new_ids[n]` for the provisional entities `New(n)`.
    pub fn commit(&mut self, outcome: &Outcome, tx: i64, new_ids: &[i64]) {
        let real = |e: i64| if e < 0 { new_ids[(-e - 1) as usize] } else { e };
        let real_value = |v: &Val| match v {
            Val::Ref(e) => Val::Ref(real(*e)),
            other => other.clone(),
        };
        for (added, facts) in [(false, &outcome.retracted), (true, &outcome.asserted)] {
            for (e, a, v) in facts {
                self.log.push(LogDatom {
                    e: real(*e),
                    a: *a,
                    v: real_value(v),
                    tx,
                    added,
                });
            }
        }
        self.txs.push(tx);
        self.attrs.extend(outcome.declared.iter().cloned());
        for (name, resolved) in &outcome.tempids {
            let id = match resolved {
                Resolved::Existing(id) => *id,
                Resolved::New(n) => new_ids[*n],
            };
            if !self.entities.contains(&id) {
                self.entities.push(id);
            }
            if !is_anonymous(name) {
                self.names.entry(id).or_insert_with(|| name.clone());
            }
        }
    }
}

/// The attribute a map such as `{:db/ident :s/a5 :db/valueType
/// :db.type/long :db/cardinality :db.cardinality/one}` defines (the model
/// reads only well-formed definitions of new attributes, without `:db/id`).
fn declaration(form: &Value) -> Option<Attr> {
    let Value::Map(map) = form else {
        return None;
    };
    let name = |key: &str| match map.get(&db_kw(key)) {
        Some(Value::Keyword(k)) => Some(k.name.clone()),
        _ => None,
    };
    let Some(Value::Keyword(ident)) = map.get(&db_kw("ident")) else {
        return None;
    };
    let ty = match name("valueType")?.as_str() {
        "tuple" => panic!("the model declares no attributes of type tuple"),
        other => Ty::named(other)
            .unwrap_or_else(|| panic!("the model declares no attributes of type {other}")),
    };
    Some(Attr {
        ident: ident.clone(),
        ty,
        many: name("cardinality")? == "many",
        unique: match name("unique").as_deref() {
            Some("identity") => Some(Unique::Identity),
            Some("value") => Some(Unique::Value),
            _ => None,
        },
        component: map.get(&db_kw("isComponent")) == Some(&Value::Boolean(true)),
        tuple: None,
    })
}

/// A vector of one element per type, each `nil` or a value of its type.
fn tuple_of(types: &[Ty], item: &Value) -> Result<Val, Failure> {
    let Value::Vector(items) = item else {
        return fail(
            ErrorCategory::TypeMismatch,
            format!("{item} is not a tuple"),
        );
    };
    if items.len() != types.len() {
        return fail(
            ErrorCategory::TypeMismatch,
            format!("{item} has the wrong arity"),
        );
    }
    let elements = items
        .iter()
        .zip(types)
        .map(|(item, element)| match item {
            Value::Nil => Ok(None),
            item => Val::from_edn(item, *element)
                .map(Some)
                .ok_or_else(|| Failure {
                    category: ErrorCategory::TypeMismatch,
                    why: format!("{item} in a tuple of {element:?}"),
                }),
        })
        .collect::<Result<_, _>>()?;
    Ok(Val::Tuple(elements))
}

/// One transaction being interpreted.
struct Run<'m> {
    model: &'m Model,
    /// The model's attributes and those the transaction defines.
    attrs: Vec<Attr>,
    before: &'m BTreeSet<Fact>,
    ops: Vec<Op>,
    /// Named tempids in order of first appearance.
    tempids: Vec<String>,
}

impl Run<'_> {
    // ---- 1. forms -------------------------------------------------------

    fn expand(&mut self, form: &Value) -> Result<(), Failure> {
        match form {
            Value::Map(map) => self.expand_map(map),
            Value::Vector(items) | Value::List(items) => self.expand_list(items),
            other => fail(ErrorCategory::Parse, format!("{other} is not a form")),
        }
    }

    fn expand_map(&mut self, map: &indexmap::IndexMap<Value, Value>) -> Result<(), Failure> {
        let e = match map.get(&db_kw("id")) {
            Some(reference) => self.entity(reference)?,
            None => self.anonymous(),
        };
        self.expand_entries(&e, map)
    }

    /// The assertions of a map's entries (all but `:db/id`) about `e`.
    fn expand_entries(
        &mut self,
        e: &EntTerm,
        map: &indexmap::IndexMap<Value, Value>,
    ) -> Result<(), Failure> {
        for (key, value) in map.iter().filter(|(key, _)| **key != db_kw("id")) {
            if let Value::Keyword(k) = key {
                if k.is_reverse() {
                    self.expand_reverse(e, k, value)?;
                    continue;
                }
            }
            let a = self.attribute(key)?;
            if self.is_composite(a) {
                let v = self.tuple(a, value)?;
                self.ops.push(Op::State(e.clone(), a, v));
                continue;
            }
            let values: Vec<&Value> = match value {
                Value::Vector(items) if self.attrs[a].many && !self.is_lookup_ref(value) => {
                    items.iter().collect()
                }
                single => vec![single],
            };
            for item in values {
                let v = self.value(a, item)?;
                self.ops.push(Op::Add(e.clone(), a, v));
            }
        }
        Ok(())
    }

    /// `{:db/id e :ns/_attr r}` asserts `[r :ns/attr e]` for each `r`.
    fn expand_reverse(&mut self, e: &EntTerm, key: &Keyword, value: &Value) -> Result<(), Failure> {
        let a = self.attribute(&Value::Keyword(key.to_forward()))?;
        if self.attrs[a].ty != Ty::Ref {
            return fail(
                ErrorCategory::Schema,
                "a reverse attribute that is not a ref",
            );
        }
        let referrers: Vec<&Value> = match value {
            Value::Vector(items) if !self.is_lookup_ref(value) => items.iter().collect(),
            single => vec![single],
        };
        for referrer in referrers {
            let ValTerm::Ent(r) = self.value(a, referrer)? else {
                unreachable!("a ref attribute's values are entities")
            };
            self.ops.push(Op::Add(r, a, ValTerm::Ent(e.clone())));
        }
        Ok(())
    }

    fn expand_list(&mut self, items: &[Value]) -> Result<(), Failure> {
        let op = match items.first() {
            Some(Value::Keyword(k)) if k.namespace.as_deref() == Some("db") => k.name.as_str(),
            _ => {
                return fail(
                    ErrorCategory::Parse,
                    "a list form starts with its operation",
                )
            }
        };
        match (op, items.len()) {
            ("add", 4) | ("retract", 4) => {
                let e = self.entity(&items[1])?;
                let a = self.attribute(&items[2])?;
                if op == "add" && self.is_composite(a) {
                    let v = self.tuple(a, &items[3])?;
                    self.ops.push(Op::State(e, a, v));
                    return Ok(());
                }
                self.refuse_composite(a)?;
                let v = self.value(a, &items[3])?;
                self.ops.push(if op == "add" {
                    Op::Add(e, a, v)
                } else {
                    Op::Retract(e, a, v)
                });
            }
            ("retract", 3) => {
                let e = self.entity(&items[1])?;
                let a = self.attribute(&items[2])?;
                self.refuse_composite(a)?;
                self.ops.push(Op::RetractAttr(e, a));
            }
            ("retractEntity", 2) => {
                let e = self.entity(&items[1])?;
                self.ops.push(Op::RetractEntity(e));
            }
            ("cas", 5) => {
                let e = self.entity(&items[1])?;
                let a = self.attribute(&items[2])?;
                self.refuse_composite(a)?;
                if self.attrs[a].many {
                    return fail(
                        ErrorCategory::Schema,
                        ":db/cas on a cardinality-many attribute",
                    );
                }
                let old = match &items[3] {
                    Value::Nil => None,
                    old => Some(self.value(a, old)?),
                };
                let new = self.value(a, &items[4])?;
                self.ops.push(Op::Cas(e, a, old, new));
            }
            _ => return fail(ErrorCategory::Parse, format!("bad list form {op}")),
        }
        Ok(())
    }

    fn attribute(&self, key: &Value) -> Result<usize, Failure> {
        let Value::Keyword(ident) = key else {
            return fail(ErrorCategory::Parse, format!("{key} is not an attribute"));
        };
        self.attrs
            .iter()
            .position(|a| a.ident == *ident)
            .map_or_else(
                || fail(ErrorCategory::UnknownAttribute, format!("{key}")),
                Ok,
            )
    }

    /// A vector as a tuple of attribute `a`: of its element type, or of
    /// its components' types.
    fn tuple(&self, a: usize, item: &Value) -> Result<Val, Failure> {
        let types: Vec<Ty> = match (&self.attrs[a].tuple, item) {
            (Some(TupleKind::Of(element)), Value::Vector(items))
                if (2..=8).contains(&items.len()) =>
            {
                vec![*element; items.len()]
            }
            (Some(TupleKind::Composite(components)), _) => {
                components.iter().map(|(k, _)| self.attrs[*k].ty).collect()
            }
            _ => {
                return fail(
                    ErrorCategory::TypeMismatch,
                    format!("{item} is not a tuple"),
                )
            }
        };
        tuple_of(&types, item)
    }

    fn is_composite(&self, a: usize) -> bool {
        matches!(self.attrs[a].tuple, Some(TupleKind::Composite(_)))
    }

    /// A composite tuple is never retracted or cas'ed by hand.
    fn refuse_composite(&self, a: usize) -> Result<(), Failure> {
        if self.is_composite(a) {
            return fail(ErrorCategory::Schema, "a composite retracted by hand");
        }
        Ok(())
    }

    /// The tempid of a map without `:db/id`.
    fn anonymous(&mut self) -> EntTerm {
        let count = self.tempids.iter().filter(|t| is_anonymous(t)).count();
        self.tempid(&format!("{ANONYMOUS}{count}"))
    }

    fn tempid(&mut self, name: &str) -> EntTerm {
        if !self.tempids.iter().any(|t| t == name) {
            self.tempids.push(name.to_string());
        }
        EntTerm::Temp(name.to_string())
    }

    /// An entity in entity position (`:db/id`, the `e` of a list form).
    fn entity(&mut self, reference: &Value) -> Result<EntTerm, Failure> {
        match reference {
            Value::Integer(id) => self.existing_id(*id),
            Value::String(name) => Ok(self.tempid(name)),
            Value::Vector(items) if items.len() == 2 => {
                let a = self.attribute(&items[0])?;
                self.lookup(a, &items[1])
            }
            other => fail(ErrorCategory::Parse, format!("{other} is not an entity")),
        }
    }

    fn existing_id(&self, id: i64) -> Result<EntTerm, Failure> {
        if self.model.entities.contains(&id) || self.model.txs.contains(&id) {
            Ok(EntTerm::Id(id))
        } else {
            fail(
                ErrorCategory::UnknownEntity,
                format!("id {id} was never allocated"),
            )
        }
    }

    /// The entity holding value `item` of attribute `a` before the
    /// transaction.
    fn lookup(&self, a: usize, item: &Value) -> Result<EntTerm, Failure> {
        let attr = &self.attrs[a];
        if attr.unique.is_none() {
            return fail(
                ErrorCategory::UnknownEntity,
                "lookup ref on a non-unique attribute",
            );
        }
        let v = match (attr.ty, item) {
            (Ty::Ref, Value::Integer(id)) => Val::Ref(*id),
            (Ty::Tuple, item) => self.tuple(a, item)?,
            (ty, item) => match Val::from_edn(item, ty) {
                Some(v) => v,
                None => return fail(ErrorCategory::TypeMismatch, "lookup ref value"),
            },
        };
        match self.holder(a, &v) {
            Some(e) => Ok(EntTerm::Id(e)),
            None => fail(ErrorCategory::UnknownEntity, "lookup ref names nothing"),
        }
    }

    fn holder(&self, a: usize, v: &Val) -> Option<i64> {
        self.before
            .iter()
            .find(|(_, fa, fv)| *fa == a && fv == v)
            .map(|(e, _, _)| *e)
    }

    fn is_lookup_ref(&self, value: &Value) -> bool {
        match value {
            Value::Vector(items) if items.len() == 2 => match &items[0] {
                Value::Keyword(k) => self
                    .attrs
                    .iter()
                    .any(|a| a.ident == *k && a.unique.is_some()),
                _ => false,
            },
            _ => false,
        }
    }

    /// A value of attribute `a`.
    fn value(&mut self, a: usize, item: &Value) -> Result<ValTerm, Failure> {
        let ty = self.attrs[a].ty;
        if ty == Ty::Tuple {
            return self.tuple(a, item).map(ValTerm::Val);
        }
        if ty != Ty::Ref {
            return match Val::from_edn(item, ty) {
                Some(v) => Ok(ValTerm::Val(v)),
                None => fail(ErrorCategory::TypeMismatch, format!("{item} for {ty:?}")),
            };
        }
        match item {
            Value::Integer(id) => Ok(ValTerm::Ent(self.existing_id(*id)?)),
            Value::String(name) => Ok(ValTerm::Ent(self.tempid(name))),
            Value::Vector(items) if self.is_lookup_ref(item) => {
                let a = self.attribute(&items[0])?;
                Ok(ValTerm::Ent(self.lookup(a, &items[1])?))
            }
            // A nested entity map: its `:db/id` is read as a value of `a`,
            // and its entries are asserted before the reference to it.
            Value::Map(map) => {
                let e = match map.get(&db_kw("id")) {
                    Some(reference) => match self.value(a, reference)? {
                        ValTerm::Ent(e) => e,
                        ValTerm::Val(_) => unreachable!("a ref attribute's values are entities"),
                    },
                    None => self.anonymous(),
                };
                self.expand_entries(&e, map)?;
                Ok(ValTerm::Ent(e))
            }
            other => fail(ErrorCategory::TypeMismatch, format!("{other} is not a ref")),
        }
    }

    // ---- 2. and 3. tempids ----------------------------------------------

    /// The value of an identity assertion, when known before allocation.
    fn known(value: &ValTerm, assigned: &BTreeMap<String, i64>) -> Option<Val> {
        match value {
            ValTerm::Val(v) => Some(v.clone()),
            ValTerm::Ent(EntTerm::Id(id)) => Some(Val::Ref(*id)),
            ValTerm::Ent(EntTerm::Temp(t)) => assigned.get(t).map(|id| Val::Ref(*id)),
        }
    }

    /// Every (tempid, attribute, known value) a tempid asserts for a
    /// `:db.unique/identity` attribute.
    fn identity_claims(&self, assigned: &BTreeMap<String, i64>) -> Vec<(String, usize, Val)> {
        let mut claims: Vec<(String, usize, Val)> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Add(EntTerm::Temp(t), a, v)
                    if self.attrs[*a].unique == Some(Unique::Identity) =>
                {
                    Self::known(v, assigned).map(|v| (t.clone(), *a, v))
                }
                _ => None,
            })
            .collect();
        // A unique composite a tempid states is a claim of its own.
        claims.extend(self.ops.iter().filter_map(|op| match op {
            Op::State(EntTerm::Temp(t), a, v)
                if self.attrs[*a].unique == Some(Unique::Identity) =>
            {
                Some((t.clone(), *a, v.clone()))
            }
            _ => None,
        }));
        // A tempid's values of a unique composite's components make the
        // tuple it claims (nil for those it does not assert).
        for (c, attr) in self.attrs.iter().enumerate() {
            let Some(TupleKind::Composite(components)) = &attr.tuple else {
                continue;
            };
            if attr.unique != Some(Unique::Identity) {
                continue;
            }
            let mut values: BTreeMap<&str, BTreeMap<usize, Val>> = BTreeMap::new();
            for op in &self.ops {
                if let Op::Add(EntTerm::Temp(t), a, v) = op {
                    if components.iter().any(|(k, _)| k == a) {
                        if let Some(v) = Self::known(v, assigned) {
                            values.entry(t.as_str()).or_default().insert(*a, v);
                        }
                    }
                }
            }
            for (t, given) in values {
                let tuple = components
                    .iter()
                    .map(|(k, _)| given.get(k).cloned())
                    .collect();
                claims.push((t.to_string(), c, Val::Tuple(tuple)));
            }
        }
        claims
    }

    fn resolve_tempids(&self) -> Result<BTreeMap<String, Resolved>, Failure> {
        let conflict = |why: &str| fail(ErrorCategory::UniqueConflict, why);
        // Upsert, to a fixpoint.
        let mut assigned: BTreeMap<String, i64> = BTreeMap::new();
        loop {
            let mut changed = false;
            let claims = self.identity_claims(&assigned);
            for (t, a, v) in &claims {
                if let Some(holder) = self.holder(*a, v) {
                    match assigned.get(t) {
                        None => {
                            assigned.insert(t.clone(), holder);
                            changed = true;
                        }
                        Some(id) if *id != holder => {
                            return conflict("a tempid upserts to two entities")
                        }
                        Some(_) => {}
                    }
                }
            }
            for (t, a, v) in &claims {
                for (other, _, _) in claims
                    .iter()
                    .filter(|(o, oa, ov)| o != t && oa == a && ov == v)
                {
                    match (assigned.get(t).copied(), assigned.get(other).copied()) {
                        (Some(x), Some(y)) if x != y => {
                            return conflict("tempids sharing an identity resolve apart")
                        }
                        (Some(x), None) => {
                            assigned.insert(other.clone(), x);
                            changed = true;
                        }
                        _ => {}
                    }
                }
            }
            if !changed {
                break;
            }
        }
        // Classes of the remaining tempids: those sharing identity values.
        let claims = self.identity_claims(&assigned);
        let mut class: BTreeMap<&str, usize> = BTreeMap::new();
        for (n, t) in self.tempids.iter().enumerate() {
            class.insert(t.as_str(), n);
        }
        loop {
            let mut changed = false;
            for (t, a, v) in &claims {
                for (other, _, _) in claims.iter().filter(|(_, oa, ov)| oa == a && ov == v) {
                    let low = class[t.as_str()].min(class[other.as_str()]);
                    for name in [t.as_str(), other.as_str()] {
                        if class[name] != low {
                            class.insert(name, low);
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let in_entity_position: BTreeSet<&str> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Add(EntTerm::Temp(t), ..)
                | Op::Retract(EntTerm::Temp(t), ..)
                | Op::Cas(EntTerm::Temp(t), ..)
                | Op::State(EntTerm::Temp(t), ..) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        let mut resolved = BTreeMap::new();
        let mut new_of_class: BTreeMap<usize, usize> = BTreeMap::new();
        for t in &self.tempids {
            let resolution = match assigned.get(t) {
                Some(id) => Resolved::Existing(*id),
                // A map without `:db/id` that asserts nothing names nothing.
                None if !in_entity_position.contains(t.as_str()) && is_anonymous(t) => continue,
                None if !in_entity_position.contains(t.as_str()) => {
                    return fail(
                        ErrorCategory::UnknownEntity,
                        format!("tempid {t} only as a value"),
                    )
                }
                None => {
                    let next = new_of_class.len();
                    Resolved::New(*new_of_class.entry(class[t.as_str()]).or_insert(next))
                }
            };
            resolved.insert(t.clone(), resolution);
        }
        Ok(resolved)
    }

    // ---- 4. and 5. the operations ---------------------------------------

    fn interpret(&self, tempids: &BTreeMap<String, Resolved>) -> Result<Outcome, Failure> {
        let id = |term: &EntTerm| match term {
            EntTerm::Id(id) => *id,
            EntTerm::Temp(t) => match &tempids[t] {
                Resolved::Existing(id) => *id,
                Resolved::New(n) => -(*n as i64) - 1,
            },
        };
        // A value may name a map without `:db/id` that named nothing.
        let val = |term: &ValTerm| match term {
            ValTerm::Val(v) => Ok(v.clone()),
            ValTerm::Ent(EntTerm::Temp(t)) if !tempids.contains_key(t) => {
                fail(ErrorCategory::UnknownEntity, "a value names an empty map")
            }
            ValTerm::Ent(e) => Ok(Val::Ref(id(e))),
        };
        let before = self.before;
        let values_before = |e: i64, a: usize| -> Vec<Val> {
            before
                .iter()
                .filter(|(fe, fa, _)| *fe == e && *fa == a)
                .map(|(_, _, v)| v.clone())
                .collect()
        };
        let mut work = Work {
            attrs: &self.attrs,
            facts: before.clone(),
            asserted: BTreeSet::new(),
            retracted: BTreeSet::new(),
            one_value: BTreeMap::new(),
            stated: BTreeSet::new(),
        };
        for op in &self.ops {
            match op {
                Op::Add(e, a, v) => work.add(id(e), *a, val(v)?)?,
                Op::State(..) => {}
                Op::Cas(e, a, old, new) => {
                    let e = id(e);
                    let expected: Vec<Val> = old.iter().map(val).collect::<Result<_, _>>()?;
                    if values_before(e, *a) != expected {
                        return fail(ErrorCategory::CasFailed, "cas found another value");
                    }
                    work.add(e, *a, val(new)?)?;
                }
                Op::Retract(e, a, v) => work.retract((id(e), *a, val(v)?), true)?,
                Op::RetractAttr(e, a) => {
                    let e = id(e);
                    for v in values_before(e, *a) {
                        work.retract((e, *a, v), true)?;
                    }
                }
                Op::RetractEntity(e) => {
                    // The entity's datoms, the references to it, and its
                    // components', recursively, as they were before.
                    let mut pending = vec![id(e)];
                    let mut seen = BTreeSet::new();
                    while let Some(e) = pending.pop() {
                        if !seen.insert(e) {
                            continue;
                        }
                        for (fe, fa, fv) in before {
                            let own = *fe == e;
                            let refers = *fv == Val::Ref(e);
                            if own && self.attrs[*fa].component {
                                if let Val::Ref(child) = fv {
                                    pending.push(*child);
                                }
                            }
                            if own || refers {
                                work.retract((*fe, *fa, fv.clone()), false)?;
                            }
                        }
                    }
                }
            }
        }
        work.composites(before);
        for op in &self.ops {
            if let Op::State(e, a, v) = op {
                if !work.facts.contains(&(id(e), *a, v.clone())) {
                    return fail(
                        ErrorCategory::Schema,
                        "a stated composite its attributes do not make",
                    );
                }
            }
        }
        for (a, attr) in self.attrs.iter().enumerate() {
            if attr.unique.is_none() {
                continue;
            }
            let mut holders: BTreeMap<&Val, i64> = BTreeMap::new();
            for (e, _, v) in work.facts.iter().filter(|(_, fa, _)| *fa == a) {
                if holders.insert(v, *e).is_some_and(|other| other != *e) {
                    return fail(
                        ErrorCategory::UniqueConflict,
                        "two entities hold one unique value",
                    );
                }
            }
        }
        Ok(Outcome {
            declared: Vec::new(),
            tempids: tempids.clone(),
            retracted: before.difference(&work.facts).cloned().collect(),
            asserted: work.facts.difference(before).cloned().collect(),
        })
    }
}

/// The working copy of the facts while a transaction's operations run.
struct Work<'m> {
    attrs: &'m [Attr],
    facts: BTreeSet<Fact>,
    /// Facts this transaction added, and removed.
    asserted: BTreeSet<Fact>,
    retracted: BTreeSet<Fact>,
    /// The value each cardinality-one attribute got in this transaction.
    one_value: BTreeMap<(i64, usize), Val>,
    /// Every fact an assertion named, held already or not: retracting one
    /// in the same transaction is a conflict.
    stated: BTreeSet<Fact>,
}

impl Work<'_> {
    /// Every composite of an entity whose components changed, made again
    /// from the values it holds now.
    fn composites(&mut self, before: &BTreeSet<Fact>) {
        for (c, attr) in self.attrs.iter().enumerate() {
            let Some(TupleKind::Composite(components)) = &attr.tuple else {
                continue;
            };
            let is_component = |a: &usize| components.iter().any(|(k, _)| k == a);
            let touched: BTreeSet<i64> = before
                .symmetric_difference(&self.facts)
                .filter(|(_, a, _)| is_component(a))
                .map(|(e, _, _)| *e)
                .collect();
            for e in touched {
                let value_of = |a: usize| {
                    self.facts
                        .iter()
                        .find(|(fe, fa, _)| *fe == e && *fa == a)
                        .map(|(_, _, v)| v.clone())
                };
                let elements: Vec<Option<Val>> =
                    components.iter().map(|(k, _)| value_of(*k)).collect();
                let old: Vec<Fact> = self
                    .facts
                    .iter()
                    .filter(|(fe, fa, _)| *fe == e && *fa == c)
                    .cloned()
                    .collect();
                for fact in old {
                    self.facts.remove(&fact);
                }
                if elements.iter().any(Option::is_some) {
                    self.facts.insert((e, c, Val::Tuple(elements)));
                }
            }
        }
    }

    fn add(&mut self, e: i64, a: usize, v: Val) -> Result<(), Failure> {
        let fact = (e, a, v.clone());
        if self.asserted.contains(&fact) {
            return Ok(());
        }
        if self.retracted.contains(&fact) {
            return fail(
                ErrorCategory::UniqueConflict,
                "a datom both retracted and asserted",
            );
        }
        if !self.attrs[a].many {
            if self.one_value.get(&(e, a)).is_some_and(|other| *other != v) {
                return fail(
                    ErrorCategory::UniqueConflict,
                    "two values for a cardinality-one attribute",
                );
            }
            self.one_value.insert((e, a), v.clone());
            let others: Vec<Fact> = self
                .facts
                .iter()
                .filter(|(fe, fa, fv)| *fe == e && *fa == a && *fv != v)
                .cloned()
                .collect();
            for other in others {
                self.facts.remove(&other);
                self.retracted.insert(other);
            }
        }
        self.stated.insert(fact.clone());
        if self.facts.insert(fact.clone()) {
            self.asserted.insert(fact);
        }
        Ok(())
    }

    /// Retracts a fact; `checked` makes retracting a fact this transaction
    /// asserted a conflict (retractEntity does not check).
    fn retract(&mut self, fact: Fact, checked: bool) -> Result<(), Failure> {
        if checked && self.stated.contains(&fact) {
            return fail(
                ErrorCategory::UniqueConflict,
                "a datom both asserted and retracted",
            );
        }
        if self.facts.remove(&fact) {
            self.retracted.insert(fact);
        }
        Ok(())
    }
}
