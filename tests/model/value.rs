//! The model's values: what a datom holds, typed, with the conversions from
//! and to EDN that the store documents (a long fits a double attribute; a
//! ref is an entity id; a tuple is a vector, `nil` for a missing element;
//! a float is the double rounded to 32 bits; any integer fits a big
//! integer or a big decimal attribute, a double neither).
//!
//! Numbers of one type compare by their own arithmetic: floats as `f32`,
//! big integers and decimals as `num-bigint` and `bigdecimal` order them
//! (the store orders them by its byte keys, which the model never uses).

use std::cmp::Ordering;

use factlite_edn::{BigDecimal, BigInt, Keyword, Value};

/// The value types the model covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ty {
    Ref,
    Long,
    Double,
    Str,
    Kw,
    Bool,
    /// A tuple; what it holds is the attribute's (`transact::TupleKind`).
    /// Not in [`Ty::ALL`]: the generator makes tuple attributes itself.
    Tuple,
    /// A 32-bit float.
    Float,
    /// An integer of any size.
    BigInt,
    /// A decimal of any precision.
    BigDec,
}

impl Ty {
    /// Every type but tuples, for generators.
    pub const ALL: [Ty; 9] = [
        Ty::Ref,
        Ty::Long,
        Ty::Double,
        Ty::Str,
        Ty::Kw,
        Ty::Bool,
        Ty::Float,
        Ty::BigInt,
        Ty::BigDec,
    ];

    /// Whether values of the type have an order that comparisons, `min`,
    /// `max` and `:order-by` follow.
    pub fn is_ordered(self) -> bool {
        matches!(
            self,
            Ty::Long | Ty::Double | Ty::Str | Ty::Kw | Ty::Float | Ty::BigInt | Ty::BigDec
        )
    }

    /// The type a `:db.type/...` name means.
    pub fn named(name: &str) -> Option<Ty> {
        [
            Ty::Ref,
            Ty::Long,
            Ty::Double,
            Ty::Str,
            Ty::Kw,
            Ty::Bool,
            Ty::Tuple,
            Ty::Float,
            Ty::BigInt,
            Ty::BigDec,
        ]
        .into_iter()
        .find(|ty| ty.ident() == Value::Keyword(Keyword::namespaced("db.type", name)))
    }

    /// The `:db.type/...` keyword.
    pub fn ident(self) -> Value {
        let name = match self {
            Ty::Ref => "ref",
            Ty::Long => "long",
            Ty::Double => "double",
            Ty::Str => "string",
            Ty::Kw => "keyword",
            Ty::Bool => "boolean",
            Ty::Tuple => "tuple",
            Ty::Float => "float",
            Ty::BigInt => "bigint",
            Ty::BigDec => "bigdec",
        };
        Value::Keyword(Keyword::namespaced("db.type", name))
    }
}

/// A typed value. Doubles order by `total_cmp`, so values form a total
/// order and can live in sets; keywords by their text.
#[derive(Clone, Debug)]
pub enum Val {
    Ref(i64),
    Long(i64),
    Double(f64),
    Str(String),
    Kw(Keyword),
    Bool(bool),
    /// A tuple's elements, `None` for `nil` (never refs).
    Tuple(Vec<Option<Val>>),
    /// What an n-ary `(min n ?x)` or `(max n ?x)` gives: never a datom's
    /// value.
    List(Vec<Val>),
    Float(f32),
    BigInt(BigInt),
    /// Equal decimals (`1.5M`, `1.50M`) are one value.
    BigDec(BigDecimal),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> Ty {
        match self {
            Val::Ref(_) => Ty::Ref,
            Val::Long(_) => Ty::Long,
            Val::Double(_) => Ty::Double,
            Val::Str(_) => Ty::Str,
            Val::Kw(_) => Ty::Kw,
            Val::Bool(_) => Ty::Bool,
            Val::Tuple(_) => Ty::Tuple,
            Val::Float(_) => Ty::Float,
            Val::BigInt(_) => Ty::BigInt,
            Val::BigDec(_) => Ty::BigDec,
            Val::List(_) => unreachable!("aggregate results are no attribute's values"),
        }
    }

    /// A non-ref EDN value as a value of type `ty`, if it fits.
    pub fn from_edn(value: &Value, ty: Ty) -> Option<Val> {
        match (ty, value) {
            (Ty::Long, Value::Integer(i)) => Some(Val::Long(*i)),
            (Ty::Double, Value::Float(x)) => Some(Val::Double(*x)),
            (Ty::Double, Value::Integer(i)) => Some(Val::Double(*i as f64)),
            (Ty::Str, Value::String(s)) => Some(Val::Str(s.clone())),
            (Ty::Kw, Value::Keyword(k)) => Some(Val::Kw(k.clone())),
            (Ty::Bool, Value::Boolean(b)) => Some(Val::Bool(*b)),
            // The nearest float; a finite double beyond the floats' range
            // does not fit, nor an integer a float does not hold exactly.
            (Ty::Float, Value::Float(x)) => {
                let rounded = *x as f32;
                rounded.is_finite().then_some(Val::Float(rounded))
            }
            (Ty::Float, Value::Integer(i)) => {
                let rounded = *i as f32;
                (f64::from(rounded) as i128 == i128::from(*i)).then_some(Val::Float(rounded))
            }
            (Ty::BigInt, Value::BigInt(i)) => Some(Val::BigInt(i.clone())),
            (Ty::BigInt, Value::Integer(i)) => Some(Val::BigInt(BigInt::from(*i))),
            (Ty::BigDec, Value::BigDec(d)) => Some(Val::BigDec(d.clone())),
            (Ty::BigDec, Value::BigInt(i)) => Some(Val::BigDec(BigDecimal::from(i.clone()))),
            (Ty::BigDec, Value::Integer(i)) => Some(Val::BigDec(BigDecimal::from(*i))),
            _ => None,
        }
    }

    /// The EDN form, with entity ids written by `entity` (plain integers
    /// for the store, `#ent "name"` in scenario files).
    pub fn to_edn(&self, entity: &dyn Fn(i64) -> Value) -> Value {
        match self {
            Val::Ref(id) => entity(*id),
            Val::Long(i) => Value::Integer(*i),
            Val::Double(x) => Value::Float(*x),
            Val::Str(s) => Value::String(s.clone()),
            Val::Kw(k) => Value::Keyword(k.clone()),
            Val::Bool(b) => Value::Boolean(*b),
            Val::Float(x) => Value::Float(f64::from(*x)),
            Val::BigInt(i) => Value::BigInt(i.clone()),
            Val::BigDec(d) => Value::BigDec(d.clone()),
            Val::Tuple(items) => Value::Vector(
                items
                    .iter()
                    .map(|item| item.as_ref().map_or(Value::Nil, |v| v.to_edn(entity)))
                    .collect(),
            ),
            Val::List(items) => Value::Vector(items.iter().map(|v| v.to_edn(entity)).collect()),
        }
    }

    /// A rank per variant, ordering values of different variants.
    fn rank(&self) -> u8 {
        match self {
            Val::Ref(_) => 0,
            Val::Long(_) => 1,
            Val::Double(_) => 2,
            Val::Str(_) => 3,
            Val::Kw(_) => 4,
            Val::Bool(_) => 5,
            Val::Tuple(_) => 6,
            Val::List(_) => 7,
            Val::Float(_) => 8,
            Val::BigInt(_) => 9,
            Val::BigDec(_) => 10,
        }
    }
}

impl Ord for Val {
    fn cmp(&self, other: &Val) -> Ordering {
        match (self, other) {
            (Val::Ref(a), Val::Ref(b)) | (Val::Long(a), Val::Long(b)) => a.cmp(b),
            (Val::Double(a), Val::Double(b)) => a.total_cmp(b),
            (Val::Float(a), Val::Float(b)) => a.total_cmp(b),
            (Val::BigInt(a), Val::BigInt(b)) => a.cmp(b),
            (Val::BigDec(a), Val::BigDec(b)) => a.cmp(b),
            (Val::Str(a), Val::Str(b)) => a.cmp(b),
            // Keywords order as Clojure's compare orders them: without a
            // namespace first, then by namespace, then by name (`:plain` <
            // `:a/b` < `:a-/b`), not by their text.
            (Val::Kw(a), Val::Kw(b)) => match (&a.namespace, &b.namespace) {
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (x, y) => x.cmp(y).then_with(|| a.name.cmp(&b.name)),
            },
            (Val::Bool(a), Val::Bool(b)) => a.cmp(b),
            // Element by element, nil first, a prefix first.
            (Val::Tuple(a), Val::Tuple(b)) => a.cmp(b),
            (Val::List(a), Val::List(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Val {
    fn partial_cmp(&self, other: &Val) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Val {
    fn eq(&self, other: &Val) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Val {}

/// Plain integers: how the store's API writes entity ids.
pub fn plain_entity(id: i64) -> Value {
    Value::Integer(id)
}
