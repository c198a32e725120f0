//! A variable's binding while a query is compiled: the SQL expression that
//! holds its value ([`Expr`]: a column of a FROM item, a parameter or
//! constant, or an expression over other values) and the value's type
//! ([`Var`], [`Ty`]), and SQL equality of two bindings ([`equal`]), which
//! every module that joins or filters on variables shares.

use std::fmt;

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

/// Where a bound value is in the SQL of a query. It prints as the SQL.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A column of a FROM item: `d3.v`.
    Column { from: String, column: String },
    /// A column of the seed CTE an `or` is compiling, named without its
    /// table (`k0`) until the union reads it through an alias
    /// ([`Var::in_table`]).
    SeedColumn(String),
    /// The query's parameter `?N` (numbered from 1): the same in every row.
    Param(usize),
    /// A constant (`NULL`, `1`, `''`): the same in every row.
    Value(String),
    /// An expression over other values (`(d3.v + 1)`, `abs(?2)`), and the
    /// FROM items whose columns it reads.
    Computed { sql: String, reads: Vec<String> },
}

impl Expr {
    /// The column `column` of the FROM item `from`.
    pub fn column(from: impl Into<String>, column: impl Into<String>) -> Expr {
        Expr::Column {
            from: from.into(),
            column: column.into(),
        }
    }

    /// A constant.
    pub fn value(sql: impl Into<String>) -> Expr {
        Expr::Value(sql.into())
    }

    /// `NULL`: the place of a tuple or collection, whose items are the
    /// values.
    pub fn null() -> Expr {
        Expr::value("NULL")
    }

    /// The expression `sql`, computed from `inputs`.
    pub fn computed<'v>(sql: String, inputs: impl IntoIterator<Item = &'v Var>) -> Expr {
        let mut reads = Vec::new();
        for input in inputs {
            input.expr.add_tables(&mut reads);
        }
        Expr::Computed { sql, reads }
    }

    /// The expression `sql`, which reads the columns of the FROM item
    /// `from` (`(CASE n3.value ...)` over the `json_each` `n3`).
    pub fn over_column(sql: String, from: &str) -> Expr {
        Expr::Computed {
            sql,
            reads: vec![from.to_string()],
        }
    }

    /// Whether the value reads a column of a FROM item, rather than being
    /// the same in every row.
    pub fn reads_column(&self) -> bool {
        match self {
            Expr::Column { .. } => true,
            Expr::Computed { reads, .. } => !reads.is_empty(),
            Expr::SeedColumn(_) | Expr::Param(_) | Expr::Value(_) => false,
        }
    }

    /// Adds the FROM items (their aliases) whose columns the value reads
    /// to `tables`, each once.
    pub fn add_tables(&self, tables: &mut Vec<String>) {
        let read: &[String] = match self {
            Expr::Column { from, .. } => std::slice::from_ref(from),
            Expr::Computed { reads, .. } => reads,
            Expr::SeedColumn(_) | Expr::Param(_) | Expr::Value(_) => &[],
        };
        for table in read {
            if !tables.contains(table) {
                tables.push(table.clone());
            }
        }
    }

    /// Whether this is a datom table's `v` column (no affinity, unlike
    /// `e`, `a` and `tx`).
    pub fn is_value_column(&self) -> bool {
        matches!(self, Expr::Column { column, .. } if column == "v")
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column { from, column } => write!(f, "{from}.{column}"),
            Expr::Param(n) => write!(f, "?{n}"),
            Expr::SeedColumn(sql) | Expr::Value(sql) | Expr::Computed { sql, .. } => {
                f.write_str(sql)
            }
        }
    }
}

/// A bound variable: where its value is, and its type.
#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    pub expr: Expr,
    pub ty: Ty,
}

impl Var {
    pub(crate) fn known(expr: Expr, value_type: ValueType) -> Var {
        Var {
            expr,
            ty: Ty::Known(value_type),
        }
    }

    /// Whether the value reads a column of a FROM item (`d3.v`), rather
    /// than being a parameter or a constant.
    pub(crate) fn is_column(&self) -> bool {
        self.expr.reads_column()
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
            expr: Expr::column(alias, self.expr.to_string()),
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
    let has_affinity = a.is_column() && !a.expr.is_value_column();
    let a_expr = if has_affinity && b.expr.is_value_column() {
        Expr::computed(format!("+{}", a.expr), [a])
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
        Ty::Known(t) if t.is_stored_as_number_key() => var.expr.to_string(),
        _ => format!("factlite_number_key({}, {})", var.expr, var.tag_expr()),
    }
}
