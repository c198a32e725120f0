//! A variable's binding while a query is compiled: the SQL expression that
//! holds its value and the value's type ([`Var`], [`Ty`]), and SQL
//! equality of two bindings ([`equal`]), which every module that joins or
//! filters on variables shares.

use factlite_core::ValueType;

use crate::CollectionKind;

/// The type of a bound variable.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    /// Every value has this type.
    Known(ValueType),
    /// The type is in this SQL expression (a tag column).
    Dynamic(String),
    /// A tuple of values (from `tuple`, `ground` of a vector, a tuple input).
    Tuple(Vec<Var>),
    /// A set or map built from values (`set`, `hash-set`, `hash-map`): a
    /// result only, which `:find` returns and no other clause reads.
    Collection(CollectionKind, Vec<Var>),
}

impl Ty {
    /// The values a tuple or a built collection holds.
    pub fn items(&self) -> Option<&[Var]> {
        match self {
            Ty::Tuple(items) | Ty::Collection(_, items) => Some(items),
            Ty::Known(_) | Ty::Dynamic(_) => None,
        }
    }
}

/// A bound variable: where its value is, and its type.
#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    pub expr: String,
    pub ty: Ty,
}

impl Var {
    pub(crate) fn known(expr: String, value_type: ValueType) -> Var {
        Var {
            expr,
            ty: Ty::Known(value_type),
        }
    }

    /// Whether the value reads a column of a FROM item (`d3.v`), rather
    /// than being a parameter or a constant.
    pub(crate) fn is_column(&self) -> bool {
        self.expr.contains('.') && !self.expr.starts_with('?')
    }

    /// Whether the value reads a column of a FROM item, or is a tuple of
    /// values one of which does.
    pub fn reads_a_column(&self) -> bool {
        match self.ty.items() {
            Some(items) => items.iter().any(Var::reads_a_column),
            None => self.is_column(),
        }
    }

    /// A seed's column binding (see [`Frame::seed`]) as read through
    /// `alias`.
    pub(crate) fn in_table(&self, alias: &str) -> Var {
        Var {
            expr: format!("{alias}.{}", self.expr),
            ty: match &self.ty {
                Ty::Dynamic(tag) => Ty::Dynamic(format!("{alias}.{tag}")),
                other => other.clone(),
            },
        }
    }

    /// The SQL expression of the type tag.
    pub fn tag_expr(&self) -> String {
        match &self.ty {
            Ty::Known(t) => t.tag().to_string(),
            Ty::Dynamic(tag) => tag.clone(),
            Ty::Tuple(_) | Ty::Collection(..) => "NULL".to_string(),
        }
    }
}

/// SQL testing that a type tag is an entity id's or a long's: the two are
/// the same number, in joins, comparisons and results.
pub(crate) fn entity_or_long(tag: &str) -> String {
    format!(
        "{tag} IN ({}, {})",
        ValueType::Ref.tag(),
        ValueType::Long.tag()
    )
}

/// SQL equality of two bound values, comparing tags when a type is dynamic.
pub fn equal(a: &Var, b: &Var) -> String {
    // `e`, `a` and `tx` are INTEGER columns, and so are the columns of a
    // CTE or subquery that select them; `v` has no affinity. Compared as
    // they are, SQLite applies INTEGER affinity to `v` and cannot look `v`
    // up in an index. A unary `+` strips the earlier side's affinity, so the
    // later table (`b`) is reached through its VAET or AVET index.
    let has_affinity = a.is_column() && !a.expr.ends_with(".v");
    let a_expr = if has_affinity && b.expr.ends_with(".v") {
        format!("+{}", a.expr)
    } else {
        a.expr.clone()
    };
    let a = &Var {
        expr: a_expr,
        ty: a.ty.clone(),
    };
    match (&a.ty, &b.ty) {
        (Ty::Known(x), Ty::Known(y)) if x == y => format!("{} = {}", a.expr, b.expr),
        (Ty::Known(ValueType::Ref), Ty::Known(ValueType::Long))
        | (Ty::Known(ValueType::Long), Ty::Known(ValueType::Ref)) => {
            format!("{} = {}", a.expr, b.expr)
        }
        // A float and a double of the same value are equal, as Clojure's
        // `=` has it (`(= (float 0.5) 0.5)`): a float is stored as the
        // double it is exactly.
        (Ty::Known(ValueType::Float), Ty::Known(ValueType::Double))
        | (Ty::Known(ValueType::Double), Ty::Known(ValueType::Float)) => {
            format!("{} = {}", a.expr, b.expr)
        }
        // A big integer and a long of the same value are equal, as
        // Clojure's `=` has it (`(= 1N 1)`): compared as number keys.
        (Ty::Known(ValueType::BigInt), Ty::Known(ValueType::Long))
        | (Ty::Known(ValueType::Long), Ty::Known(ValueType::BigInt)) => {
            format!("{} = {}", number_key(a), number_key(b))
        }
        (Ty::Known(_), Ty::Known(_)) => "0".to_string(),
        (Ty::Tuple(xs), Ty::Tuple(ys)) if xs.len() == ys.len() => {
            let parts: Vec<String> = xs.iter().zip(ys).map(|(x, y)| equal(x, y)).collect();
            if parts.is_empty() {
                "1".into()
            } else {
                format!("({})", parts.join(" AND "))
            }
        }
        (Ty::Tuple(_), _) | (_, Ty::Tuple(_)) => match crate::tuple_values::comparable_pair(a, b) {
            Some((a, b)) => equal(&a, &b),
            None => "0".to_string(),
        },
        // A set or map built in the query equals no stored value.
        (Ty::Collection(..), _) | (_, Ty::Collection(..)) => "0".to_string(),
        // An entity id and a long are the same number (as between known
        // types above), so a dynamic value of either tag matches.
        (Ty::Known(ValueType::Ref | ValueType::Long), Ty::Dynamic(tag))
        | (Ty::Dynamic(tag), Ty::Known(ValueType::Ref | ValueType::Long)) => {
            format!("({} = {} AND {})", a.expr, b.expr, entity_or_long(tag))
        }
        _ => format!(
            "({} = {} AND {} = {})",
            a.expr,
            b.expr,
            a.tag_expr(),
            b.tag_expr()
        ),
    }
}

/// A bound number as its number key (`core::number`): a big number's
/// column as it is (it is stored as its key), anything else through
/// `factlite_number_key`.
pub fn number_key(var: &Var) -> String {
    match &var.ty {
        Ty::Known(t) if t.is_stored_as_number_key() => var.expr.clone(),
        _ => format!("factlite_number_key({}, {})", var.expr, var.tag_expr()),
    }
}
