//! Datomic-style pull: [`Db::pull`] and [`Db::pull_many`] read entities as
//! EDN maps shaped by a [`PullPattern`].
//!
//! Two passes. `Compiler` turns a pattern and the schema into a `Plan`:
//! attribute names resolved (forward, reverse `:ns/_attr`, `:db/id`),
//! options applied, and every name checked — even in sub-patterns the data
//! never reaches, so a typo fails the same way whatever the data. Then a
//! `Puller` walks the plan over the snapshot with one EAVT read per entity
//! (filtered to the pattern's attributes unless it has `*`) and one VAET
//! read per reverse attribute. Every read goes through the snapshot's
//! [`Db::source_sql`], so pulls on as-of, since and history dbs see what
//! those dbs see; on a history db every value ever asserted is pulled.
//! (Two exceptions: a lookup ref on the current state reads the partial
//! AVET index directly, which the source SQL cannot reach; and idents are
//! resolved with the current schema, as [`Db::schema`] is.)
//!
//! Choices where Datomic is silent or has varied between versions:
//!
//! - An entity with none of the pattern's attributes pulls as `{}` (as
//!   `{:db/id e}` when the pattern names `:db/id` or has `*`), at the top
//!   level and nested. Entity ids are not checked for existence.
//! - Cardinality-many values come back as a vector sorted by value
//!   ([`TypedValue`]'s order; refs by entity id), reverse refs sorted by the
//!   referring entity's id. Each holds at most 1000 values unless `:limit`
//!   says otherwise (`:limit nil`: all); the limit applies under `*` too.
//! - An attribute no schema defines is [`Error::UnknownAttribute`], as in
//!   transactions, rather than left out as DataScript does: a typo in a
//!   pattern should not look like missing data. (The conformance corpus
//!   does not decide this.) A
//!   sub-pattern on a non-ref attribute or on `:db/id`, and a reverse
//!   attribute whose forward attribute is not a ref, are [`Error::Query`].
//! - A ref without a sub-pattern is `{:db/id e}`, even to an entity with an
//!   ident (`:db.type/string`, enums); keyword values are keywords. A
//!   component attribute without a sub-pattern pulls its entities whole
//!   (`:db/id` and every attribute, components within recursively), as
//!   Datomic's pull documentation shows for `[:release/media]`; through a
//!   reverse attribute a component stays `{:db/id e}`.
//! - `*` beside a spec of one of the entity's attributes (`[* (:p/name
//!   :as "n")]`, `[* {:p/friend [:p/name]}]`, `[* (:db/id :as "id")]`):
//!   the attribute is pulled once, as its spec says — under its `:as`
//!   name, with its options and sub-pattern — and not also under its ident
//!   by `*`. Datomic's pull documentation shows a map specification beside
//!   `*` replacing the wildcard's value of its attribute; the rule takes
//!   every attribute spec alike (DataScript's pull does the same).
//! - Recursion (`{:a ...}`, `{:a 3}`) pulls the referenced entities with
//!   the pattern that holds the map. Once a bounded recursion is as deep as
//!   its bound, the attribute is left out (DataScript's rule). An entity
//!   reached by recursion or by `*` following a component that is already
//!   being pulled on the current path comes back as `{:db/id e}`, so
//!   cycles end (Datomic and DataScript do the same). A pull that would
//!   nest entities deeper than [`MAX_NESTING`] (the EDN reader's depth
//!   limit: a `...` down a chain that long, or components within
//!   components) fails with [`Error::PullTooDeep`] rather than cut the
//!   chain short without a word. Plain sub-patterns are not checked for
//!   cycles: their depth is the pattern's.

use std::collections::BTreeMap;
use std::sync::Arc;

use factlite_core::{Attribute, Cardinality, Entid, Schema, TypedValue, ValueType};
use factlite_edn::{Keyword, Value};
use factlite_query::{PullAttr, PullEntry, PullPattern, PullSub};
use indexmap::IndexMap;
use rusqlite::types::Value as SqlValue;

use crate::encode::{from_sql, to_sql};
use crate::error::{Error, Result};
use crate::{reads, Db, DbView};

/// How many values a cardinality-many attribute or a reverse ref gives
/// when the pattern sets no `:limit`.
const DEFAULT_LIMIT: usize = 1000;

/// How deep entities may nest through recursion or component expansion:
/// the depth of values the EDN reader reads, so a pulled map prints, reads
/// back and compares on any thread's stack.
pub const MAX_NESTING: usize = factlite_edn::MAX_DEPTH;

impl Db {
    /// Pulls `pattern` for one entity, given as an EDN value: an entity id
    /// (integer), a lookup ref `[:attr value]`, or an ident keyword.
    ///
    /// Returns a map (see the module documentation for the rules); fails
    /// with [`Error::UnknownEntity`] when a lookup ref or ident names no
    /// entity and [`Error::UnknownAttribute`] when the pattern names an
    /// attribute no schema defines.
    pub fn pull(&self, pattern: &PullPattern, entity: &Value) -> Result<Value> {
        self.read(|| self.pull_in_snapshot(pattern, entity))
    }

    /// The entity an id, ident or lookup ref names in this snapshot; an
    /// error when it names none.
    pub fn resolve_entity(&self, entity: &Value) -> Result<Entid> {
        Reader::new(self)?.resolve_entity(entity)
    }

    fn pull_in_snapshot(&self, pattern: &PullPattern, entity: &Value) -> Result<Value> {
        let reader = Reader::new(self)?;
        let mut compiler = Compiler::new(&reader.schema);
        let plan = compiler.compile(pattern)?;
        let e = reader.resolve_entity(entity)?;
        Puller::new(&reader, compiler.recursions).pull(e, &plan)
    }

    /// Pulls `pattern` for each entity id, in order, sharing one compiled
    /// pattern and one view of the snapshot.
    pub fn pull_many(&self, pattern: &PullPattern, entities: &[Entid]) -> Result<Vec<Value>> {
        self.read(|| self.pull_many_in_snapshot(pattern, entities))
    }

    fn pull_many_in_snapshot(
        &self,
        pattern: &PullPattern,
        entities: &[Entid],
    ) -> Result<Vec<Value>> {
        let reader = Reader::new(self)?;
        let mut compiler = Compiler::new(&reader.schema);
        let plan = compiler.compile(pattern)?;
        let mut puller = Puller::new(&reader, compiler.recursions);
        entities.iter().map(|e| puller.pull(*e, &plan)).collect()
    }
}

/// A pull pattern resolved against the schema.
struct Plan {
    /// The pattern has `*`.
    wildcard: bool,
    /// The forward attributes the entries name: the filter of the EAVT read.
    forward: Vec<Entid>,
    entries: Vec<Entry>,
}

/// `*` alone: how components are pulled under `*`.
static WHOLE_ENTITY: Plan = Plan {
    wildcard: true,
    forward: Vec::new(),
    entries: Vec::new(),
};

/// One attribute of a plan, with its options applied.
struct Entry {
    /// The key in the result: the `:as` alias or the name as written.
    key: Value,
    target: Target,
    /// At most this many values of a cardinality-many or reverse attribute.
    limit: Option<usize>,
    default: Option<Value>,
    sub: Sub,
}

/// What an entry reads.
#[derive(Clone, Copy)]
enum Target {
    /// `:db/id`.
    Id,
    /// The entity's own values of an attribute.
    Forward(AttrInfo),
    /// The entities whose (ref) attribute points at this one.
    Reverse(AttrInfo),
}

/// What a pull needs to know of an attribute.
#[derive(Clone, Copy)]
struct AttrInfo {
    id: Entid,
    is_ref: bool,
    many: bool,
    component: bool,
}

impl AttrInfo {
    fn of(attribute: &Attribute) -> AttrInfo {
        AttrInfo {
            id: attribute.id,
            is_ref: attribute.value_type == ValueType::Ref,
            many: attribute.cardinality == Cardinality::Many,
            component: attribute.is_component,
        }
    }
}

/// What an entry does with the entities it reaches.
enum Sub {
    /// Nothing: refs come back as `{:db/id e}`.
    Flat,
    /// Pull them with this plan.
    Pattern(Plan),
    /// Pull them with the plan that holds the entry; `id` numbers the
    /// recursion entries of the whole pattern, `max_depth` bounds it.
    Recursion { id: usize, max_depth: Option<u64> },
}

/// Resolves a pattern's names against the schema.
struct Compiler<'s> {
    schema: &'s Schema,
    /// How many recursion entries the pattern has so far.
    recursions: usize,
}

impl<'s> Compiler<'s> {
    fn new(schema: &'s Schema) -> Compiler<'s> {
        Compiler {
            schema,
            recursions: 0,
        }
    }

    fn compile(&mut self, pattern: &PullPattern) -> Result<Plan> {
        let mut plan = Plan {
            wildcard: false,
            forward: Vec::new(),
            entries: Vec::new(),
        };
        for entry in &pattern.entries {
            match entry {
                PullEntry::Wildcard => plan.wildcard = true,
                PullEntry::Attr(attr) => plan.entries.push(self.entry(attr, None)?),
                PullEntry::Map(pairs) => {
                    for (attr, sub) in pairs {
                        plan.entries.push(self.entry(attr, Some(sub))?);
                    }
                }
            }
        }
        plan.forward = plan
            .entries
            .iter()
            .filter_map(|entry| match entry.target {
                Target::Forward(attr) => Some(attr.id),
                _ => None,
            })
            .collect();
        Ok(plan)
    }

    fn entry(&mut self, attr: &PullAttr, sub: Option<&PullSub>) -> Result<Entry> {
        let target = self.target(&attr.name)?;
        let sub = match sub {
            None => Sub::Flat,
            Some(sub) => self.sub(&attr.name, target, sub)?,
        };
        let limit = match attr.limit {
            None => Some(DEFAULT_LIMIT),
            Some(None) => None,
            Some(Some(n)) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        };
        Ok(Entry {
            key: attr
                .alias
                .clone()
                .unwrap_or_else(|| Value::Keyword(attr.name.clone())),
            target,
            limit,
            default: attr.default.clone(),
            sub,
        })
    }

    fn target(&self, name: &Keyword) -> Result<Target> {
        if is_db_id(name) {
            return Ok(Target::Id);
        }
        if let Some(attribute) = self.schema.attribute_named(name) {
            return Ok(Target::Forward(AttrInfo::of(attribute)));
        }
        let forward = name.to_forward();
        match self.schema.attribute_named(&forward) {
            Some(attribute) if name.is_reverse() && attribute.value_type == ValueType::Ref => {
                Ok(Target::Reverse(AttrInfo::of(attribute)))
            }
            Some(_) if name.is_reverse() => Err(Error::Query(format!(
                "pull pattern names {}, but {} is not a ref attribute, so it has no reverse",
                Value::Keyword(name.clone()),
                Value::Keyword(forward)
            ))),
            _ => Err(Error::UnknownAttribute {
                attribute: Value::Keyword(name.clone()).to_string(),
            }),
        }
    }

    fn sub(&mut self, name: &Keyword, target: Target, sub: &PullSub) -> Result<Sub> {
        let is_ref = match target {
            Target::Id => false,
            Target::Reverse(_) => true,
            Target::Forward(attr) => attr.is_ref,
        };
        if !is_ref {
            return Err(Error::Query(format!(
                "pull pattern gives {} a sub-pattern, but its values are not refs",
                Value::Keyword(name.clone())
            )));
        }
        Ok(match sub {
            PullSub::Pattern(pattern) => Sub::Pattern(self.compile(pattern)?),
            PullSub::Recursion(max_depth) => {
                self.recursions += 1;
                Sub::Recursion {
                    id: self.recursions - 1,
                    max_depth: *max_depth,
                }
            }
        })
    }
}

fn is_db_id(name: &Keyword) -> bool {
    name.namespace.as_deref() == Some("db") && name.name == "id"
}

/// `{:db/id e}`.
fn id_map(e: Entid) -> Value {
    Value::Map(IndexMap::from([(db_id_key(), Value::Integer(e))]))
}

fn db_id_key() -> Value {
    Value::Keyword(Keyword::namespaced("db", "id"))
}

/// An entity's values, by attribute, each list sorted and without repeats.
type EntityValues = BTreeMap<Entid, Vec<TypedValue>>;

/// The snapshot's datoms, read through its view, and its schema.
struct Reader<'d> {
    db: &'d Db,
    schema: Arc<Schema>,
    /// The snapshot's source SQL and its parameters (see [`Db::source_sql`]).
    source: String,
    params: Vec<SqlValue>,
}

impl<'d> Reader<'d> {
    fn new(db: &'d Db) -> Result<Reader<'d>> {
        let (source, params) = db.source_sql()?;
        Ok(Reader {
            db,
            schema: db.schema()?,
            source,
            params,
        })
    }

    /// The entity an id, lookup ref or ident names.
    fn resolve_entity(&self, entity: &Value) -> Result<Entid> {
        match entity {
            Value::Integer(id) => Ok(*id),
            Value::Keyword(ident) => self
                .schema
                .entid(ident)
                .ok_or_else(|| Error::UnknownEntity(format!("no entity has the ident {entity}"))),
            Value::Vector(items) => match items.as_slice() {
                [Value::Keyword(attribute), value] => self.lookup_ref(entity, attribute, value),
                _ => Err(not_an_entity(entity)),
            },
            _ => Err(not_an_entity(entity)),
        }
    }

    fn lookup_ref(&self, entity: &Value, attribute: &Keyword, value: &Value) -> Result<Entid> {
        let attr =
            self.schema
                .attribute_named(attribute)
                .ok_or_else(|| Error::UnknownAttribute {
                    attribute: Value::Keyword(attribute.clone()).to_string(),
                })?;
        if attr.unique.is_none() {
            return Err(Error::UnknownEntity(format!(
                "lookup ref {entity}: {} is not a unique attribute",
                Value::Keyword(attribute.clone())
            )));
        }
        let typed = attr.typed_value(value).map_err(|refused| match refused {
            factlite_core::ValueMismatch::Tuple { found, reason } => Error::TupleMismatch {
                entity: entity.to_string(),
                attribute: Value::Keyword(attribute.clone()).to_string(),
                value: Box::new(found),
                reason,
            },
            factlite_core::ValueMismatch::Type(_) => Error::TypeMismatch {
                entity: entity.to_string(),
                attribute: Value::Keyword(attribute.clone()).to_string(),
                value: Box::new(value.clone()),
                expected: attr.value_type,
            },
        })?;
        self.holder(attr.id, &typed)?
            .ok_or_else(|| Error::UnknownEntity(format!("lookup ref {entity} names no entity")))
    }

    /// The entity holding value `v` of the unique attribute `a` (AVET).
    fn holder(&self, a: Entid, v: &TypedValue) -> Result<Option<Entid>> {
        if self.db.effective_view()? == DbView::Current {
            // The partial AVET index of the current state (`avet = 1`) is
            // out of the source SQL's sight: read it directly.
            return reads::holder(&self.db.store().connection(), a, v);
        }
        let values = [
            SqlValue::Integer(a),
            to_sql(v),
            SqlValue::Integer(v.value_type().tag()),
        ];
        let holders = self.select_entities(&values, |n| {
            format!("a = {} AND v = {} AND t = {}", n[0], n[1], n[2])
        })?;
        Ok(holders.first().copied())
    }

    /// The entities whose ref attribute `a` points at `e`, by id (VAET).
    fn referrers(&self, e: Entid, a: Entid) -> Result<Vec<Entid>> {
        let values = [SqlValue::Integer(e), SqlValue::Integer(a)];
        self.select_entities(&values, |n| {
            format!("v = {} AND a = {} AND t = 0", n[0], n[1])
        })
    }

    /// The distinct entities, by id, of the asserted rows matching the
    /// condition that `condition` writes given the placeholders of `values`.
    fn select_entities(
        &self,
        values: &[SqlValue],
        condition: impl FnOnce(&[String]) -> String,
    ) -> Result<Vec<Entid>> {
        let (params, numbers) = self.with_params(values);
        let sql = format!(
            "SELECT e, added FROM ({}) WHERE {}",
            self.source,
            condition(&numbers)
        );
        let conn = &*self.db.store().connection();
        let mut statement = conn.prepare_cached(&sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(params))?;
        let mut entities = Vec::new();
        while let Some(row) = rows.next()? {
            if row.get::<_, bool>(1)? {
                entities.push(row.get(0)?);
            }
        }
        entities.sort_unstable();
        entities.dedup();
        Ok(entities)
    }

    /// The values of entity `e` (EAVT), restricted to `attributes` unless
    /// `None`.
    fn entity(&self, e: Entid, attributes: Option<&[Entid]>) -> Result<EntityValues> {
        let filter: Vec<SqlValue> = attributes
            .unwrap_or_default()
            .iter()
            .map(|a| SqlValue::Integer(*a))
            .collect();
        let (mut params, numbers) = self.with_params(&filter);
        params.push(SqlValue::Integer(e));
        let mut sql = format!(
            "SELECT a, v, t, added FROM ({}) WHERE e = ?{}",
            self.source,
            params.len()
        );
        if attributes.is_some() {
            sql.push_str(&format!(" AND a IN ({})", numbers.join(", ")));
        }
        let conn = &*self.db.store().connection();
        let mut statement = conn.prepare_cached(&sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(params))?;
        let mut values = EntityValues::new();
        while let Some(row) = rows.next()? {
            if row.get::<_, bool>(3)? {
                let value = from_sql(row.get_ref(1)?, row.get(2)?)?;
                values.entry(row.get(0)?).or_default().push(value);
            }
        }
        for list in values.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        Ok(values)
    }

    /// The source's parameters followed by `values`, and the numbered
    /// placeholders (`?4`) of `values`.
    fn with_params(&self, values: &[SqlValue]) -> (Vec<SqlValue>, Vec<String>) {
        let mut params = self.params.clone();
        let numbers = values
            .iter()
            .map(|value| {
                params.push(value.clone());
                format!("?{}", params.len())
            })
            .collect();
        (params, numbers)
    }
}

fn not_an_entity(entity: &Value) -> Error {
    Error::UnknownEntity(format!(
        "{entity} is not an entity; expected an entity id, a lookup ref [:attr value] or an ident"
    ))
}

/// How the entities an entry reaches are rendered.
#[derive(Clone, Copy)]
enum Follow<'p> {
    /// As `{:db/id e}`.
    Flat,
    /// Pulled with a sub-pattern.
    Nested(&'p Plan),
    /// Pulled whole (`*` following a component), unless already on the path.
    Component,
    /// Pulled with the recursion entry's enclosing plan, one level deeper.
    Recurse { id: usize, plan: &'p Plan },
}

/// Walks a plan over the snapshot.
struct Puller<'r, 'd> {
    reader: &'r Reader<'d>,
    /// The entities being pulled, outermost first.
    path: Vec<Entid>,
    /// How many levels deep each recursion entry currently is.
    depths: Vec<u64>,
}

impl<'r, 'd> Puller<'r, 'd> {
    /// A puller for a plan with `recursions` recursion entries.
    fn new(reader: &'r Reader<'d>, recursions: usize) -> Puller<'r, 'd> {
        Puller {
            reader,
            path: Vec::new(),
            depths: vec![0; recursions],
        }
    }

    /// The map for entity `e`.
    fn pull(&mut self, e: Entid, plan: &Plan) -> Result<Value> {
        self.path.push(e);
        let result = self.pull_on_path(e, plan);
        self.path.pop();
        result
    }

    fn pull_on_path(&mut self, e: Entid, plan: &Plan) -> Result<Value> {
        let values = match (plan.wildcard, plan.forward.is_empty()) {
            (true, _) => self.reader.entity(e, None)?,
            (false, true) => EntityValues::new(),
            (false, false) => self.reader.entity(e, Some(&plan.forward))?,
        };
        let mut map = IndexMap::new();
        if plan.wildcard {
            self.wildcard(e, &values, plan, &mut map)?;
        }
        for entry in &plan.entries {
            let value = self.entry(e, &values, entry, plan)?;
            if let Some(value) = value.or_else(|| entry.default.clone()) {
                map.insert(entry.key.clone(), value);
            }
        }
        Ok(Value::Map(map))
    }

    /// `*`: `:db/id` and every attribute, components pulled whole — but
    /// those an entry of the plan pulls under another key (`:as`): the
    /// entry's value stands for them. (An entry under the attribute's own
    /// key replaces the wildcard's value in its place.)
    fn wildcard(
        &mut self,
        e: Entid,
        values: &EntityValues,
        plan: &Plan,
        map: &mut IndexMap<Value, Value>,
    ) -> Result<()> {
        let renamed = |target: &dyn Fn(&Target) -> bool, key: &Value| {
            plan.entries
                .iter()
                .any(|entry| target(&entry.target) && entry.key != *key)
        };
        let id = db_id_key();
        if !renamed(&|target| matches!(target, Target::Id), &id) {
            map.insert(id, Value::Integer(e));
        }
        let reader = self.reader;
        for (a, list) in values {
            // Attributes are never removed while in use: a datom's
            // attribute is always in the schema.
            let Some(attribute) = reader.schema.attribute(*a) else {
                continue;
            };
            let key = Value::Keyword(attribute.ident.clone());
            let forward =
                |target: &Target| matches!(target, Target::Forward(attr) if attr.id == *a);
            if renamed(&forward, &key) {
                continue;
            }
            let attr = AttrInfo::of(attribute);
            let follow = if attr.component {
                Follow::Component
            } else {
                Follow::Flat
            };
            if let Some(value) = self.forward_value(list, attr, Some(DEFAULT_LIMIT), follow)? {
                map.insert(key, value);
            }
        }
        Ok(())
    }

    /// The value of one entry, `None` when the entity has none.
    fn entry<'p>(
        &mut self,
        e: Entid,
        values: &EntityValues,
        entry: &'p Entry,
        plan: &'p Plan,
    ) -> Result<Option<Value>> {
        let Some(follow) = self.follow(&entry.sub, plan) else {
            return Ok(None);
        };
        match entry.target {
            Target::Id => Ok(Some(Value::Integer(e))),
            Target::Forward(attr) => match values.get(&attr.id) {
                // A component named without a sub-pattern is pulled whole,
                // as Datomic does (and as `*` pulls components).
                Some(list) if attr.component && matches!(follow, Follow::Flat) => {
                    self.forward_value(list, attr, entry.limit, Follow::Component)
                }
                Some(list) => self.forward_value(list, attr, entry.limit, follow),
                None => Ok(None),
            },
            Target::Reverse(attr) => self.reverse_value(e, attr, entry.limit, follow),
        }
    }

    /// How to render an entry's entities; `None` when its recursion is as
    /// deep as its bound.
    fn follow<'p>(&self, sub: &'p Sub, plan: &'p Plan) -> Option<Follow<'p>> {
        match sub {
            Sub::Flat => Some(Follow::Flat),
            Sub::Pattern(nested) => Some(Follow::Nested(nested)),
            Sub::Recursion { id, max_depth } => {
                let exhausted = max_depth.is_some_and(|max| self.depths[*id] >= max);
                (!exhausted).then_some(Follow::Recurse { id: *id, plan })
            }
        }
    }

    fn forward_value(
        &mut self,
        list: &[TypedValue],
        attr: AttrInfo,
        limit: Option<usize>,
        follow: Follow<'_>,
    ) -> Result<Option<Value>> {
        if !attr.many {
            return list
                .first()
                .map(|value| self.render(value, follow))
                .transpose();
        }
        let taken = list.iter().take(limit.unwrap_or(usize::MAX));
        let rendered = taken
            .map(|value| self.render(value, follow))
            .collect::<Result<Vec<_>>>()?;
        Ok((!rendered.is_empty()).then_some(Value::Vector(rendered)))
    }

    /// Reverse refs: a vector, except through a component attribute, where
    /// the single owner is a map.
    fn reverse_value(
        &mut self,
        e: Entid,
        attr: AttrInfo,
        limit: Option<usize>,
        follow: Follow<'_>,
    ) -> Result<Option<Value>> {
        let referrers = self.reader.referrers(e, attr.id)?;
        if attr.component {
            return referrers
                .first()
                .map(|owner| self.render_ref(*owner, follow))
                .transpose();
        }
        let taken = referrers.iter().take(limit.unwrap_or(usize::MAX));
        let rendered = taken
            .map(|r| self.render_ref(*r, follow))
            .collect::<Result<Vec<_>>>()?;
        Ok((!rendered.is_empty()).then_some(Value::Vector(rendered)))
    }

    fn render(&mut self, value: &TypedValue, follow: Follow<'_>) -> Result<Value> {
        match value {
            TypedValue::Ref(e) => self.render_ref(*e, follow),
            other => Ok(other.to_edn()),
        }
    }

    fn render_ref(&mut self, e: Entid, follow: Follow<'_>) -> Result<Value> {
        match follow {
            Follow::Flat => Ok(id_map(e)),
            Follow::Nested(plan) => self.pull(e, plan),
            Follow::Component => self.pull_guarded(e, &WHOLE_ENTITY),
            Follow::Recurse { id, plan } => {
                self.depths[id] += 1;
                let result = self.pull_guarded(e, plan);
                self.depths[id] -= 1;
                result
            }
        }
    }

    /// Pulls `e` unless it is already on the path (then `{:db/id e}`); an
    /// error when the path is as long as `MAX_NESTING`.
    fn pull_guarded(&mut self, e: Entid, plan: &Plan) -> Result<Value> {
        if self.path.contains(&e) {
            return Ok(id_map(e));
        }
        if self.path.len() >= MAX_NESTING {
            return Err(Error::PullTooDeep { limit: MAX_NESTING });
        }
        self.pull(e, plan)
    }
}
