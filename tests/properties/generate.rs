//! Grammar-driven generators for the property tests. Proptest generates
//! byte tapes; these functions read a schema, a transaction or a query off
//! a tape, choosing each production by the next byte, against the model's
//! current state (so constants name entities and values that exist). A
//! shrunk tape of zeros reads as the simplest choice everywhere: shrinking
//! a tape shrinks the schema, transaction or query it spells.

use factlite_edn::{Keyword, Symbol, Value};
use indexmap::IndexMap;

use crate::model::query::{Agg, Clause, Cmp, Elem, Find, Func, Input, Query, RuleDef, Term, Var};
use crate::model::transact::{Attr, Model, TupleKind, Unique};
use crate::model::value::{Ty, Val};

/// Choices read off a byte tape; past its end every choice is 0.
pub struct Tape<'t> {
    bytes: &'t [u8],
    position: usize,
}

impl<'t> Tape<'t> {
    pub fn new(bytes: &'t [u8]) -> Tape<'t> {
        Tape { bytes, position: 0 }
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn pick(&mut self, n: usize) -> usize {
        let byte = self.bytes.get(self.position).copied().unwrap_or(0);
        self.position += 1;
        if n == 0 {
            0
        } else {
            byte as usize % n
        }
    }

    /// True with about `percent` percent probability; false on a 0 byte.
    pub fn flag(&mut self, percent: usize) -> bool {
        self.pick(100) >= 100 - percent
    }

    fn element<'v, T>(&mut self, items: &'v [T]) -> Option<&'v T> {
        (!items.is_empty()).then(|| &items[self.pick(items.len())])
    }
}

/// The attribute keyword of attribute number `n`.
pub fn attr_ident(n: usize) -> Keyword {
    Keyword::namespaced("s", format!("a{n}"))
}

/// A schema of two to five attributes; the first is often a
/// `:db.unique/identity` one, so upserts and lookup refs happen. Often a
/// homogeneous tuple attribute follows, and a composite of the first two
/// single-valued attributes that are not refs (sometimes a unique
/// identity, so it upserts).
pub fn schema(tape: &mut Tape) -> Vec<Attr> {
    let count = 2 + tape.pick(4);
    let mut attrs: Vec<Attr> = (0..count).map(|n| attribute(tape, n)).collect();
    if tape.flag(50) {
        let element = [Ty::Long, Ty::Str][tape.pick(2)];
        attrs.push(Attr {
            ident: attr_ident(attrs.len()),
            ty: Ty::Tuple,
            many: false,
            unique: None,
            component: false,
            tuple: Some(TupleKind::Of(element)),
        });
    }
    let components: Vec<(usize, Keyword)> = attrs
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.many && a.tuple.is_none() && a.ty != Ty::Ref)
        .map(|(n, a)| (n, a.ident.clone()))
        .take(2)
        .collect();
    if components.len() == 2 && tape.flag(60) {
        attrs.push(Attr {
            ident: attr_ident(attrs.len()),
            ty: Ty::Tuple,
            many: false,
            unique: tape.flag(50).then_some(Unique::Identity),
            component: false,
            tuple: Some(TupleKind::Composite(components)),
        });
    }
    attrs
}

/// Attribute number `n`.
fn attribute(tape: &mut Tape, n: usize) -> Attr {
    let ty = if n == 0 {
        [Ty::Str, Ty::Long, Ty::Kw][tape.pick(3)]
    } else {
        Ty::ALL[tape.pick(Ty::ALL.len())]
    };
    let unique = match (n, tape.pick(10)) {
        (0, 0..=7) | (_, 8) => Some(Unique::Identity),
        (_, 9) => Some(Unique::Value),
        _ => None,
    };
    Attr {
        ident: attr_ident(n),
        ty,
        many: ty != Ty::Bool && unique.is_none() && tape.flag(30),
        unique,
        component: ty == Ty::Ref && tape.flag(50),
        tuple: None,
    }
}

/// An entity id, marked so it can be written as a number for the store or
/// as `#ent "name"` in a scenario (see [`render_entities`]).
pub fn entity_marker(id: i64) -> Value {
    Value::Tagged(Symbol::plain("entity"), Box::new(Value::Integer(id)))
}

/// Replaces every entity marker by `entity(id)`.
pub fn render_entities(value: &Value, entity: &dyn Fn(i64) -> Value) -> Value {
    let again = |v: &Value| render_entities(v, entity);
    match value {
        Value::Tagged(tag, inner) if tag.is("entity") => match **inner {
            Value::Integer(id) => entity(id),
            _ => unreachable!("entity markers hold ids"),
        },
        Value::Vector(items) => Value::Vector(items.iter().map(again).collect()),
        Value::List(items) => Value::List(items.iter().map(again).collect()),
        Value::Map(map) => Value::Map(map.iter().map(|(k, v)| (again(k), again(v))).collect()),
        other => other.clone(),
    }
}

/// The small domain of each type: few values, so they collide often.
fn plain_value(tape: &mut Tape, ty: Ty) -> Value {
    match ty {
        Ty::Long => Value::Integer([0, 1, 2, 3, -1, i64::MAX, i64::MIN][tape.pick(7)]),
        Ty::Double => [
            Value::Float(0.5),
            Value::Float(1.0),
            Value::Float(-1.5),
            Value::Integer(2),
            Value::Float(1e300),
        ][tape.pick(5)]
        .clone(),
        Ty::Str => Value::String(["a", "b", "c", "", "d'é\"%_\n"][tape.pick(5)].to_string()),
        Ty::Kw => Value::Keyword(match tape.pick(5) {
            3 => Keyword::plain("plain"),
            4 => Keyword::namespaced("k.x", "b"),
            n => Keyword::namespaced("k", ["a", "b", "c"][n]),
        }),
        Ty::Bool => Value::Boolean(tape.flag(50)),
        Ty::Float | Ty::BigInt | Ty::BigDec => number_value(tape, ty),
        Ty::Ref => unreachable!("refs are entities"),
        Ty::Tuple => unreachable!("a tuple's values depend on its attribute"),
    }
}

/// The small domain of floats, big integers and big decimals: around the
/// edges where their stored forms could go wrong (the 64-bit boundary,
/// signs, a decimal that no double holds, trailing zeros, integers given
/// for them, a double beyond the floats' range).
fn number_value(tape: &mut Tape, ty: Ty) -> Value {
    let read = |text: &str| factlite_edn::parse(text).expect("a number literal");
    let domain: &[&str] = match ty {
        Ty::Float => &["0.5", "-1.25", "0.1", "3", "1e300", "16777217"],
        Ty::BigInt => &[
            "0N",
            "-1N",
            "9223372036854775807N",
            "9223372036854775808N",
            "-9223372036854775809N",
            "123456789012345678901234567890N",
            "2",
        ],
        _ => &[
            "0.1M",
            "-0.1M",
            "1.50M",
            "1.5M",
            "2M",
            "-123456789012345678901234567890.000000001M",
            "5",
            "1.5",
        ],
    };
    read(domain[tape.pick(domain.len())])
}

/// A value of another type than `ty` (never one the store converts).
fn wrong_value(ty: Ty) -> Value {
    match ty {
        Ty::Str => Value::Integer(7),
        Ty::Ref => Value::Boolean(true),
        _ => Value::String("x".to_string()),
    }
}

/// The value of a model fact as transaction data.
fn fact_value(value: &Val) -> Value {
    match value {
        Val::Ref(id) => entity_marker(*id),
        other => other.to_edn(&|id| Value::Integer(id)),
    }
}

/// Reads one transaction's data off a tape, against the model's state.
pub struct TxGen<'m, 't, 'b> {
    pub model: &'m Model,
    pub tape: &'t mut Tape<'b>,
    /// Distinguishes this transaction's tempids from every other's.
    pub number: usize,
    /// Whether a nested map is being written (they nest one level).
    pub nested: bool,
    /// Whether the transaction defines an attribute (one at most).
    pub declared: bool,
}

impl TxGen<'_, '_, '_> {
    fn tempid(&mut self) -> Value {
        Value::String(format!("t{}.{}", self.number, self.tape.pick(2)))
    }

    fn existing(&mut self) -> Option<Value> {
        let entities = &self.model.entities;
        self.tape.element(entities).map(|id| entity_marker(*id))
    }

    /// `[:attr value]` for a unique value some entity holds, or (rarely)
    /// one nobody holds.
    fn lookup_ref(&mut self) -> Option<Value> {
        let facts = self.model.facts(None);
        let unique: Vec<_> = facts
            .iter()
            .filter(|(_, a, _)| self.model.attrs[*a].unique.is_some())
            .collect();
        let (_, a, v) = self.tape.element(&unique)?;
        let value = if self.tape.flag(10) {
            match v.ty() {
                Ty::Ref | Ty::Tuple => return None,
                ty => plain_value(self.tape, ty),
            }
        } else {
            fact_value(v)
        };
        Some(Value::Vector(vec![Value::Keyword(attr_ident(*a)), value]))
    }

    /// An entity reference in entity position.
    fn entity(&mut self) -> Value {
        let choice = match self.tape.pick(40) {
            0..=15 => None,
            16..=34 => self.existing(),
            35..=38 => self.lookup_ref(),
            _ => Some(Value::Integer((2 << 40) + 1_000_000_000)),
        };
        choice.unwrap_or_else(|| self.tempid())
    }

    fn attribute(&mut self) -> (Value, Option<usize>) {
        let count = self.model.attrs.len();
        let n = self.tape.pick(count * 12 + 1);
        if n == count * 12 {
            (Value::Keyword(Keyword::namespaced("s", "nope")), None)
        } else {
            (Value::Keyword(attr_ident(n % count)), Some(n % count))
        }
    }

    /// A value for attribute `a` (unknown attributes get a string).
    fn value(&mut self, a: Option<usize>) -> Value {
        let Some(a) = a else {
            return Value::String("x".to_string());
        };
        let ty = self.model.attrs[a].ty;
        if self.tape.pick(25) == 24 {
            return wrong_value(ty);
        }
        if ty == Ty::Tuple {
            return self.tuple_value(a);
        }
        if ty != Ty::Ref {
            return plain_value(self.tape, ty);
        }
        let choice = match self.tape.pick(12) {
            0..=5 | 9 => self.existing(),
            6 | 7 => None,
            10 | 11 if !self.nested => Some(self.nested_map()),
            _ => self.lookup_ref(),
        };
        choice.unwrap_or_else(|| self.tempid())
    }

    /// A vector for tuple attribute `a`: two or three elements of its
    /// type, some `nil` (of a composite's first component's type, which
    /// the store must refuse all the same), rarely of the wrong length.
    fn tuple_value(&mut self, a: usize) -> Value {
        let element = match &self.model.attrs[a].tuple {
            Some(TupleKind::Of(element)) => *element,
            Some(TupleKind::Composite(components)) => self.model.attrs[components[0].0].ty,
            None => unreachable!("a tuple attribute has a kind"),
        };
        let length = match self.tape.pick(10) {
            0 => 1,
            1..=5 => 2,
            _ => 3,
        };
        Value::Vector(
            (0..length)
                .map(|_| {
                    if self.tape.flag(15) {
                        Value::Nil
                    } else {
                        plain_value(self.tape, element)
                    }
                })
                .collect(),
        )
    }

    /// A nested entity map, with a tempid or without `:db/id`, one level
    /// deep.
    fn nested_map(&mut self) -> Value {
        self.nested = true;
        let mut map = IndexMap::new();
        if !self.tape.flag(40) {
            let tempid = self.tempid();
            map.insert(Value::Keyword(Keyword::namespaced("db", "id")), tempid);
        }
        let (key, a) = self.attribute();
        map.insert(key, self.value(a));
        self.nested = false;
        Value::Map(map)
    }

    fn form(&mut self) -> Value {
        let kw = |name: &str| Value::Keyword(Keyword::namespaced("db", name));
        if !self.declared && self.tape.flag(3) {
            // A new attribute, usable from the next transaction on.
            self.declared = true;
            return attribute(self.tape, self.model.attrs.len()).definition();
        }
        match self.tape.pick(12) {
            0..=3 => {
                let mut map = IndexMap::new();
                if !self.tape.flag(15) {
                    map.insert(kw("id"), self.entity());
                }
                for _ in 0..1 + self.tape.pick(3) {
                    let (key, a) = self.attribute();
                    if a.is_some_and(|a| self.model.attrs[a].ty == Ty::Ref) && self.tape.flag(15) {
                        // A reverse attribute: the values refer to this entity.
                        let Value::Keyword(forward) = &key else {
                            unreachable!("attributes are keywords")
                        };
                        map.insert(Value::Keyword(forward.to_reverse()), self.value(a));
                        continue;
                    }
                    let many = a.is_some_and(|a| self.model.attrs[a].many);
                    let value = if many && self.tape.flag(40) {
                        Value::Vector((0..1 + self.tape.pick(3)).map(|_| self.value(a)).collect())
                    } else {
                        self.value(a)
                    };
                    map.insert(key, value);
                }
                Value::Map(map)
            }
            4..=6 | 11 => {
                let e = self.entity();
                let (key, a) = self.attribute();
                Value::Vector(vec![kw("add"), e, key, self.value(a)])
            }
            7 => {
                // Half the time, a fact that holds.
                let facts: Vec<_> = self.model.facts(None).into_iter().collect();
                match self
                    .tape
                    .flag(50)
                    .then(|| self.tape.element(&facts).cloned())
                    .flatten()
                {
                    Some((e, a, v)) => Value::Vector(vec![
                        kw("retract"),
                        entity_marker(e),
                        Value::Keyword(attr_ident(a)),
                        fact_value(&v),
                    ]),
                    None => {
                        let e = self.entity();
                        let (key, a) = self.attribute();
                        Value::Vector(vec![kw("retract"), e, key, self.value(a)])
                    }
                }
            }
            8 => {
                let e = self.existing().unwrap_or_else(|| self.entity());
                let (key, _) = self.attribute();
                Value::Vector(vec![kw("retract"), e, key])
            }
            9 => {
                let e = self.existing().unwrap_or_else(|| self.entity());
                Value::Vector(vec![kw("retractEntity"), e])
            }
            _ => {
                let e = self.entity();
                let (key, a) = self.attribute();
                let old = match self.tape.pick(3) {
                    0 => self.current_value(&e, a).unwrap_or(Value::Nil),
                    1 => Value::Nil,
                    _ => self.value(a),
                };
                Value::Vector(vec![kw("cas"), e, key, old, self.value(a)])
            }
        }
    }

    /// The value attribute `a` of entity `e` has now, if `e` is an existing
    /// entity and has one.
    fn current_value(&self, e: &Value, a: Option<usize>) -> Option<Value> {
        let Value::Tagged(_, inner) = e else {
            return None;
        };
        let Value::Integer(id) = **inner else {
            return None;
        };
        self.model
            .facts(None)
            .into_iter()
            .find(|(fe, fa, _)| *fe == id && Some(*fa) == a)
            .map(|(_, _, v)| fact_value(&v))
    }

    /// One to six forms.
    pub fn tx_data(&mut self) -> Value {
        Value::Vector((0..1 + self.tape.pick(6)).map(|_| self.form()).collect())
    }
}

/// A pull of one to three attributes (and sometimes `:db/id`) of an
/// existing entity: the entity and the attribute numbers (`None` for
/// `:db/id`).
pub fn pull(model: &Model, tape: &mut Tape) -> Option<(i64, Vec<Option<usize>>)> {
    let e = *tape.element(&model.entities)?;
    Some((e, pull_attrs(model, tape)))
}

/// One to three attributes, and sometimes `:db/id` (as `None`).
fn pull_attrs(model: &Model, tape: &mut Tape) -> Vec<Option<usize>> {
    let mut attrs: Vec<Option<usize>> = Vec::new();
    for _ in 0..1 + tape.pick(3) {
        let attr = Some(tape.pick(model.attrs.len()));
        if !attrs.contains(&attr) {
            attrs.push(attr);
        }
    }
    if tape.flag(30) {
        attrs.insert(tape.pick(attrs.len() + 1), None);
    }
    attrs
}

/// Which database a query runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Current,
    /// As of the model's transaction number n.
    AsOf(usize),
    /// Since the model's transaction number n.
    Since(usize),
    History,
}

/// The variables rule bodies use (beyond any query's own).
const RULE_VARS: [Var; 3] = [20, 21, 22];
/// How many variables a query may use.
pub const VAR_COUNT: usize = 24;

/// Reads one query off a tape, over the model's schema and state.
pub struct QueryGen<'m, 't, 'b> {
    pub model: &'m Model,
    pub tape: &'t mut Tape<'b>,
    /// Bound variables and the type of their values.
    bound: Vec<(Var, Ty)>,
    history: bool,
    /// The attribute the query's input is about.
    input_attr: usize,
}

impl<'m, 't, 'b> QueryGen<'m, 't, 'b> {
    pub fn new(model: &'m Model, tape: &'t mut Tape<'b>) -> QueryGen<'m, 't, 'b> {
        QueryGen {
            model,
            tape,
            bound: Vec::new(),
            history: false,
            input_attr: 0,
        }
    }

    fn fresh(&mut self, ty: Ty) -> Var {
        let var = self.bound.len();
        self.bound.push((var, ty));
        var
    }

    fn bound_of(&self, ty: Ty) -> Vec<Var> {
        self.bound
            .iter()
            .filter(|(_, t)| *t == ty)
            .map(|(v, _)| *v)
            .collect()
    }

    fn attr(&mut self) -> usize {
        self.tape.pick(self.model.attrs.len())
    }

    /// A constant for a pattern on attribute `a`: for a tuple attribute
    /// one of its own tuples (the store refuses a tuple of another shape
    /// there), else as [`QueryGen::constant`].
    fn constant_of(&mut self, a: usize) -> Option<Val> {
        let ty = self.model.attrs[a].ty;
        if ty != Ty::Tuple {
            return self.constant(ty);
        }
        let held: Vec<Val> = self
            .model
            .facts(None)
            .into_iter()
            .filter(|(_, fa, _)| *fa == a)
            .map(|(_, _, v)| v)
            .collect();
        self.tape.element(&held).cloned()
    }

    /// A constant of type `ty`, most often one the database holds.
    fn constant(&mut self, ty: Ty) -> Option<Val> {
        if ty == Ty::Tuple {
            let held: Vec<Val> = self
                .model
                .facts(None)
                .into_iter()
                .map(|(_, _, v)| v)
                .filter(|v| v.ty() == ty)
                .collect();
            return self.tape.element(&held).cloned();
        }
        if ty == Ty::Ref {
            return self
                .tape
                .element(&self.model.entities)
                .map(|id| Val::Ref(*id));
        }
        let held: Vec<Val> = self
            .model
            .facts(None)
            .into_iter()
            .map(|(_, _, v)| v)
            .filter(|v| v.ty() == ty)
            .collect();
        match self.tape.flag(30) {
            false if !held.is_empty() => self.tape.element(&held).cloned(),
            _ => Val::from_edn(&plain_value(self.tape, ty), ty),
        }
    }

    fn history_terms(&mut self) -> Option<(Term, Term)> {
        if !self.history {
            return None;
        }
        let tx = if self.tape.flag(30) {
            Term::Var(self.fresh(Ty::Ref))
        } else {
            Term::Blank
        };
        let added = if self.tape.flag(30) {
            Term::Const(Val::Bool(self.tape.flag(50)))
        } else {
            Term::Var(self.fresh(Ty::Bool))
        };
        Some((tx, added))
    }

    /// A pattern binding a fresh entity variable (or joining on a bound
    /// one) and a fresh value variable (or a constant).
    fn pattern(&mut self) -> Clause {
        let a = self.attr();
        let ty = self.model.attrs[a].ty;
        let entities = self.bound_of(Ty::Ref);
        let e = match self.tape.element(&entities).copied() {
            Some(var) if self.tape.flag(60) => Term::Var(var),
            _ => Term::Var(self.fresh(Ty::Ref)),
        };
        let same_type = self.bound_of(ty);
        let v = match self.tape.pick(6) {
            0..=2 => Term::Var(self.fresh(ty)),
            3 => self
                .tape
                .element(&same_type)
                .map_or(Term::Blank, |v| Term::Var(*v)),
            4 => self.constant_of(a).map_or(Term::Blank, Term::Const),
            _ => Term::Blank,
        };
        Clause::Pattern {
            e,
            a,
            v,
            history: self.history_terms(),
        }
    }

    /// A pattern on a bound entity variable whose value is a constant or
    /// blank: binds nothing new (for `not` and `or` bodies).
    fn filter_pattern(&mut self, e: Var) -> Clause {
        let a = self.attr();
        let v = match self.tape.pick(3) {
            0 => Term::Blank,
            _ => self.constant_of(a).map_or(Term::Blank, Term::Const),
        };
        Clause::Pattern {
            e: Term::Var(e),
            a,
            v,
            history: None,
        }
    }

    fn predicate(&mut self) -> Option<Clause> {
        let comparable: Vec<(Var, Ty)> = self
            .bound
            .iter()
            .filter(|(_, ty)| ty.is_ordered())
            .copied()
            .collect();
        let (x, ty) = *self.tape.element(&comparable)?;
        let cmp = [Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge, Cmp::Eq, Cmp::Ne][self.tape.pick(6)];
        let others = self.bound_of(ty);
        let y = match self.tape.flag(50) {
            true => Term::Var(*self.tape.element(&others)?),
            false => Term::Const(self.constant(ty)?),
        };
        Some(Clause::Pred(cmp, Term::Var(x), y))
    }

    fn function(&mut self) -> Option<Clause> {
        let (func, ty) = [
            (Func::Add, Ty::Long),
            (Func::Sub, Ty::Long),
            (Func::Str, Ty::Str),
        ][self.tape.pick(3)];
        let args = self.bound_of(ty);
        let x = *self.tape.element(&args)?;
        let y = match self.tape.flag(50) {
            true => Term::Var(*self.tape.element(&args)?),
            false => Term::Const(self.constant(ty)?),
        };
        let out = self.fresh(ty);
        Some(Clause::Call(func, vec![Term::Var(x), y], out))
    }

    fn negation(&mut self) -> Option<Clause> {
        let entities = self.bound_of(Ty::Ref);
        let e = *self.tape.element(&entities)?;
        if self.tape.flag(50) {
            let body = vec![self.filter_pattern(e)];
            return Some(Clause::Not(body));
        }
        // not-join with a body-local variable.
        let a = self.attr();
        let local = RULE_VARS[0];
        Some(Clause::NotJoin(
            vec![e],
            vec![Clause::Pattern {
                e: Term::Var(e),
                a,
                v: Term::Var(local),
                history: None,
            }],
        ))
    }

    fn disjunction(&mut self) -> Option<Clause> {
        let entities = self.bound_of(Ty::Ref);
        let e = *self.tape.element(&entities)?;
        let branches = (0..2 + self.tape.pick(2))
            .map(|_| vec![self.filter_pattern(e)])
            .collect();
        if self.tape.flag(50) {
            return Some(Clause::Or(branches));
        }
        if self.tape.flag(50) {
            // or-join binding a new variable, of one type, in each branch
            // (?e, bound before it, seeds the branches).
            let a = self.attr();
            let ty = self.model.attrs[a].ty;
            let alike: Vec<usize> = (0..self.model.attrs.len())
                .filter(|b| self.model.attrs[*b].ty == ty)
                .collect();
            let b = self.tape.element(&alike).copied().unwrap_or(a);
            let x = self.fresh(ty);
            let branch = |a| {
                vec![Clause::Pattern {
                    e: Term::Var(e),
                    a,
                    v: Term::Var(x),
                    history: None,
                }]
            };
            return Some(Clause::OrJoin(vec![e, x], vec![branch(a), branch(b)]));
        }
        // or-join whose branches bind a local variable.
        let branches = (0..2)
            .map(|_| {
                let a = self.attr();
                vec![Clause::Pattern {
                    e: Term::Var(e),
                    a,
                    v: Term::Var(RULE_VARS[1]),
                    history: None,
                }]
            })
            .collect();
        Some(Clause::OrJoin(vec![e], branches))
    }

    fn missing(&mut self) -> Option<Clause> {
        let entities = self.bound_of(Ty::Ref);
        let e = *self.tape.element(&entities)?;
        Some(Clause::Missing(e, self.attr()))
    }

    fn get_else(&mut self) -> Option<Clause> {
        let entities = self.bound_of(Ty::Ref);
        let e = *self.tape.element(&entities)?;
        let a = self.attr();
        let attr = &self.model.attrs[a];
        if attr.many {
            return None;
        }
        let ty = attr.ty;
        let default = self.constant(ty)?;
        Some(Clause::GetElse(e, a, default, self.fresh(ty)))
    }

    fn ground(&mut self) -> Option<Clause> {
        let ty = [Ty::Long, Ty::Str, Ty::Kw][self.tape.pick(3)];
        let value = self.constant(ty)?;
        Some(Clause::Ground(value, self.fresh(ty)))
    }

    /// `not` of two clauses, or `or` with an `and` branch.
    fn compound(&mut self) -> Option<Clause> {
        let entities = self.bound_of(Ty::Ref);
        let e = *self.tape.element(&entities)?;
        let pair = vec![self.filter_pattern(e), self.filter_pattern(e)];
        if self.tape.flag(50) {
            Some(Clause::Not(pair))
        } else {
            Some(Clause::Or(vec![pair, vec![self.filter_pattern(e)]]))
        }
    }

    /// A rule over a ref attribute, recursive (reachability) or not.
    fn rules(&mut self) -> Option<(Vec<RuleDef>, Clause)> {
        let refs: Vec<usize> = (0..self.model.attrs.len())
            .filter(|a| self.model.attrs[*a].ty == Ty::Ref)
            .collect();
        let a = *self.tape.element(&refs)?;
        let [x, y, z] = RULE_VARS;
        let step = |from, to| Clause::Pattern {
            e: Term::Var(from),
            a,
            v: Term::Var(to),
            history: None,
        };
        let mut rules = vec![RuleDef {
            name: 0,
            head: vec![x, y],
            body: vec![step(x, y)],
        }];
        let call = |from: Var, to: Var| Clause::Rule(0, vec![Term::Var(from), Term::Var(to)]);
        // Recursion: right-linear, left-linear or non-linear.
        let recursive = match self.tape.pick(4) {
            0 => None,
            1 => Some(vec![step(x, z), call(z, y)]),
            2 => Some(vec![call(x, z), step(z, y)]),
            _ => Some(vec![call(x, z), call(z, y)]),
        };
        rules.extend(recursive.map(|body| RuleDef {
            name: 0,
            head: vec![x, y],
            body,
        }));
        // Each argument: a fresh variable, a bound one, or an entity.
        let argument = |gen: &mut Self| {
            let entities = gen.bound_of(Ty::Ref);
            let chosen = match gen.tape.pick(3) {
                1 => gen.tape.element(&entities).map(|var| Term::Var(*var)),
                2 => gen.constant(Ty::Ref).map(Term::Const),
                _ => None,
            };
            chosen.unwrap_or_else(|| Term::Var(gen.fresh(Ty::Ref)))
        };
        let from = argument(self);
        let to = argument(self);
        Some((rules, Clause::Rule(0, vec![from, to])))
    }

    /// Sometimes an `:order-by` over every element of a relation or
    /// collection without aggregates, and a `:limit`.
    fn order(&mut self, find: &Find) -> (Vec<(usize, bool)>, Option<usize>) {
        let count = match find {
            Find::Rel(elems) if elems.iter().all(|e| matches!(e, Elem::Var(_))) => elems.len(),
            Find::Coll(Elem::Var(_)) => 1,
            _ => return (vec![], None),
        };
        if !self.tape.flag(25) {
            return (vec![], None);
        }
        let mut positions: Vec<usize> = (0..count).collect();
        if self.tape.flag(50) {
            positions.reverse();
        }
        let order_by = positions
            .into_iter()
            .map(|i| (i, self.tape.flag(50)))
            .collect();
        let limit = self.tape.flag(50).then(|| self.tape.pick(4));
        (order_by, limit)
    }

    /// Sometimes shows an entity variable of a relation or collection as
    /// a pull of a few attributes.
    fn pull_in_find(&mut self, find: &mut Find) {
        let elems: Vec<&mut Elem> = match find {
            Find::Rel(elems) => elems.iter_mut().collect(),
            Find::Coll(elem) => vec![elem],
            _ => return,
        };
        for elem in elems {
            let Elem::Var(v) = *elem else {
                continue;
            };
            if self.bound[v].1 == Ty::Ref && self.tape.flag(25) {
                let pattern = pull_attrs(self.model, self.tape);
                *elem = Elem::Pull(v, pattern);
            }
        }
    }

    fn find(&mut self) -> (Find, Vec<Var>) {
        let vars: Vec<(Var, Ty)> = self.bound.clone();
        let var = |gen: &mut Self| gen.tape.element(&vars).map_or(0, |(v, _)| *v);
        let aggregate = |gen: &mut Self| {
            let (v, ty) = *gen.tape.element(&vars).expect("a query binds a variable");
            let ordered = ty.is_ordered();
            let agg = match (gen.tape.pick(7), ty) {
                (0, _) => Agg::Count,
                (1, _) => Agg::CountDistinct,
                (2, Ty::Long) => Agg::Sum,
                (3, _) if ordered => Agg::Min,
                (4, _) if ordered => Agg::Max,
                (5, _) if ordered => Agg::MinN(1 + gen.tape.pick(3)),
                (6, _) if ordered => Agg::MaxN(1 + gen.tape.pick(3)),
                _ => Agg::Count,
            };
            Elem::Agg(agg, v)
        };
        match self.tape.pick(7) {
            0 | 1 => {
                let mut elems = vec![Elem::Var(var(self))];
                if self.tape.flag(50) {
                    elems.push(Elem::Var(var(self)));
                }
                (Find::Rel(dedup(elems)), vec![])
            }
            2 => (Find::Coll(Elem::Var(var(self))), vec![]),
            3 => (Find::Scalar(aggregate(self)), vec![]),
            4 => (Find::Tuple(vec![aggregate(self), aggregate(self)]), vec![]),
            5 => (
                Find::Rel(dedup(vec![Elem::Var(var(self)), aggregate(self)])),
                vec![],
            ),
            _ => {
                let elem = aggregate(self);
                let with = var(self);
                let with = match elem {
                    Elem::Agg(_, v) if v == with => vec![],
                    _ => vec![with],
                };
                (Find::Rel(vec![elem]), with)
            }
        }
    }

    /// An `:in` binding: a value, a collection of values, or a relation of
    /// (entity, value) pairs, for an attribute the input names first.
    fn input(&mut self) -> Option<Input> {
        let a = self.attr();
        let ty = self.model.attrs[a].ty;
        let value = self.constant_of(a)?;
        let other = self.constant_of(a).unwrap_or_else(|| value.clone());
        self.input_attr = a;
        // A collection of tuples travels element by element as JSON, where
        // the store refuses nil: a tuple holding nil comes as a value or in
        // a relation (whose cells are whole tuples).
        let has_nil = |v: &Val| matches!(v, Val::Tuple(items) if items.contains(&None));
        let shape = match self.tape.pick(3) {
            1 if has_nil(&value) || has_nil(&other) => 0,
            shape => shape,
        };
        Some(match shape {
            0 => Input::Scalar(self.fresh(ty), value),
            1 => Input::Coll(self.fresh(ty), vec![value, other]),
            _ => {
                let facts = self.model.facts(None);
                let held: Vec<_> = facts.iter().filter(|(_, fa, _)| *fa == a).collect();
                let mut tuples: Vec<Vec<Val>> = (0..2)
                    .filter_map(|_| {
                        self.tape
                            .element(&held)
                            .map(|(e, _, v)| vec![Val::Ref(*e), v.clone()])
                    })
                    .collect();
                if let Some(e) = self.constant(Ty::Ref) {
                    tuples.push(vec![e, other]);
                }
                Input::Rel(vec![self.fresh(Ty::Ref), self.fresh(ty)], tuples)
            }
        })
    }

    /// Whether `more` fresh variables stay clear of the rules' own.
    fn has_room(&self, more: usize) -> bool {
        self.bound.len() + more < RULE_VARS[0]
    }

    /// An input naming attributes — a keyword, or a collection of
    /// keywords of attributes of one type — and a pattern with that
    /// variable in its attribute position.
    fn attribute_input(&mut self) -> Option<(Input, Clause)> {
        let a = self.attr();
        let ty = self.model.attrs[a].ty;
        if ty == Ty::Tuple || !self.has_room(3) {
            return None;
        }
        let alike: Vec<usize> = (0..self.model.attrs.len())
            .filter(|b| self.model.attrs[*b].ty == ty)
            .collect();
        let b = self.tape.element(&alike).copied().unwrap_or(a);
        let keyword = |n: usize| Val::Kw(self.model.attrs[n].ident.clone());
        let (first, second) = (keyword(a), keyword(b));
        let attribute = self.fresh(Ty::Kw);
        let input = if self.tape.flag(50) {
            Input::Scalar(attribute, first)
        } else {
            Input::Coll(attribute, vec![first, second])
        };
        let e = self.fresh(Ty::Ref);
        let v = self.fresh(ty);
        let pattern = Clause::AttrPattern {
            e: Term::Var(e),
            a: attribute,
            v: Term::Var(v),
        };
        Some((input, pattern))
    }

    /// A collection of pairs given as the data source `$src`, and a
    /// pattern over it joining a bound variable of its first column's type
    /// (or binding a fresh one).
    fn source_input(&mut self) -> Option<(Input, Clause)> {
        if !self.has_room(2) {
            return None;
        }
        let first = [Ty::Long, Ty::Str, Ty::Kw][self.tape.pick(3)];
        let second = [Ty::Long, Ty::Str, Ty::Kw, Ty::Bool][self.tape.pick(4)];
        let tuples: Vec<Vec<Val>> = (0..1 + self.tape.pick(3))
            .filter_map(|_| Some(vec![self.constant(first)?, self.constant(second)?]))
            .collect();
        if tuples.is_empty() {
            return None;
        }
        let joined = self.bound_of(first);
        let x = match self.tape.element(&joined).copied() {
            Some(var) if self.tape.flag(70) => var,
            _ => self.fresh(first),
        };
        let y = if self.tape.flag(20) {
            Term::Blank
        } else {
            Term::Var(self.fresh(second))
        };
        Some((
            Input::Source(tuples),
            Clause::SourcePattern(vec![Term::Var(x), y]),
        ))
    }

    /// The database as of an earlier transaction given as `$before`, and
    /// a pattern on it joining a bound entity (or binding a fresh one).
    fn database_input(&mut self) -> Option<(Input, Clause)> {
        let earlier = self.model.txs.len().checked_sub(1)?;
        if earlier == 0 || !self.has_room(2) {
            return None;
        }
        let n = self.tape.pick(earlier);
        let a = self.attr();
        let entities = self.bound_of(Ty::Ref);
        let e = match self.tape.element(&entities).copied() {
            Some(var) if self.tape.flag(70) => var,
            _ => self.fresh(Ty::Ref),
        };
        let ty = self.model.attrs[a].ty;
        let same_type = self.bound_of(ty);
        let v = match self.tape.pick(4) {
            0 => self
                .tape
                .element(&same_type)
                .map_or(Term::Blank, |v| Term::Var(*v)),
            1 => Term::Blank,
            _ => Term::Var(self.fresh(ty)),
        };
        let pattern = Clause::BeforePattern {
            e: Term::Var(e),
            a,
            v,
        };
        Some((Input::Database(n), pattern))
    }

    /// `[?e :attr ?v]` over an input's variables.
    fn input_pattern(&mut self, input: &Input) -> Clause {
        let (e, v) = match input {
            Input::Scalar(v, _) | Input::Coll(v, _) => (self.fresh(Ty::Ref), *v),
            Input::Rel(vars, _) => (vars[0], vars[1]),
            Input::Source(_) | Input::Database(_) => {
                unreachable!("a data source is joined by its own pattern")
            }
        };
        Clause::Pattern {
            e: Term::Var(e),
            a: self.input_attr,
            v: Term::Var(v),
            history: None,
        }
    }

    /// A whole query for `view`.
    pub fn query(&mut self, view: View) -> Query {
        self.history = view == View::History;
        let mut inputs: Vec<Input> = if !self.history && self.tape.flag(25) {
            self.input().into_iter().collect()
        } else {
            Vec::new()
        };
        let value_input = inputs.first().cloned();
        let mut leading = Vec::new();
        if !self.history && self.tape.flag(15) {
            if let Some((input, pattern)) = self.attribute_input() {
                inputs.push(input);
                leading.push(pattern);
            }
        }
        let mut clauses = vec![self.pattern()];
        if !self.history && self.tape.flag(15) {
            if let Some((input, pattern)) = self.source_input() {
                inputs.push(input);
                clauses.push(pattern);
            }
        }
        if view == View::Current && self.tape.flag(15) {
            if let Some((input, pattern)) = self.database_input() {
                inputs.push(input);
                clauses.push(pattern);
            }
        }
        let mut rules = Vec::new();
        for _ in 0..self.tape.pick(4) {
            let clause = match self.tape.pick(if self.history { 3 } else { 11 }) {
                0 | 1 => Some(self.pattern()),
                2 => self.predicate(),
                3 => self.function(),
                4 => self.negation(),
                5 => self.disjunction(),
                6 if rules.is_empty() => self.rules().map(|(defs, call)| {
                    rules = defs;
                    call
                }),
                7 => self.missing(),
                8 => self.get_else(),
                9 => self.ground(),
                10 => self.compound(),
                _ => Some(self.pattern()),
            };
            clauses.extend(clause);
        }
        // Join the input in through a pattern of its attribute.
        if let Some(join) = value_input.map(|input| self.input_pattern(&input)) {
            clauses.insert(0, join);
        }
        clauses.splice(0..0, leading);
        let (mut find, with) = self.find();
        // Sometimes the count of an n-ary aggregate comes from :in.
        let counts: Vec<usize> = find
            .elements()
            .iter()
            .filter_map(|e| match e {
                Elem::Agg(Agg::MinN(n) | Agg::MaxN(n), _) => Some(*n),
                _ => None,
            })
            .collect();
        let mut aggregate_count = None;
        if let Some(&n) = counts.first() {
            if !self.history && self.has_room(1) && self.tape.flag(50) {
                let count = self.fresh(Ty::Long);
                inputs.push(Input::Scalar(count, Val::Long(n as i64)));
                aggregate_count = Some((n, count));
            }
        }
        if view == View::Current {
            self.pull_in_find(&mut find);
        }
        let (order_by, limit) = self.order(&find);
        let keys = matches!(find, Find::Rel(_)) && self.tape.flag(15);
        Query {
            find,
            order_by,
            limit,
            keys,
            with,
            inputs,
            aggregate_count,
            rules,
            clauses,
        }
    }
}

fn dedup(elems: Vec<Elem>) -> Vec<Elem> {
    let mut seen = Vec::new();
    elems
        .into_iter()
        .filter(|e| {
            let key = format!("{e:?}");
            let fresh = !seen.contains(&key);
            seen.push(key);
            fresh
        })
        .collect()
}
