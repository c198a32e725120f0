//! Predicates, functions and inputs: each becomes a SQL condition, a SQL
//! expression a variable is bound to, or a derived table joined in.

use factlite_core::ValueType;
use factlite_edn::Value;
use factlite_query::{Binding, FnCall, Term};

use crate::bound::{equal, number_key, Expr, Ty, Var};
use crate::compile::Frame;
use crate::error::{Error, Result};
use crate::literals::literal;
use crate::{CollectionKind, SqlLiteral};

fn arity(call: &FnCall, expected: std::ops::RangeInclusive<usize>) -> Result<()> {
    if expected.contains(&call.args.len()) {
        Ok(())
    } else {
        Err(Error::Query(format!(
            "({} ...) takes {} argument(s), got {}",
            call.name,
            if expected.start() == expected.end() {
                expected.start().to_string()
            } else if *expected.end() == usize::MAX {
                format!("at least {}", expected.start())
            } else {
                format!("{} to {}", expected.start(), expected.end())
            },
            call.args.len()
        )))
    }
}

fn args(frame: &Frame<'_, '_>, call: &FnCall) -> Result<Vec<Var>> {
    call.args.iter().map(|t| frame.term_var(t)).collect()
}

/// What a function takes, checked against the arguments' types where they
/// are known when the query is planned: a value of another type is an
/// error, as Clojure's functions throw (`(+ 7 "abc")`, `(even? 2.0)`),
/// rather than a result SQLite's conversions make up.
#[derive(Clone, Copy)]
enum Takes {
    Numbers,
    Integers,
    Strings,
}

impl Takes {
    fn accepts(self, value_type: ValueType) -> bool {
        match self {
            Takes::Numbers => value_type.is_numeric(),
            Takes::Integers => matches!(value_type, ValueType::Long | ValueType::BigInt),
            Takes::Strings => value_type == ValueType::String,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Takes::Numbers => "numbers",
            Takes::Integers => "integers",
            Takes::Strings => "strings",
        }
    }
}

/// An error when one of `values` is known to be of a type `takes` refuses.
fn check_types(call: &FnCall, values: &[Var], takes: Takes) -> Result<()> {
    for value in values {
        let refused = match &value.ty {
            Ty::Known(t) if !takes.accepts(*t) => t.a_name(),
            Ty::Tuple(_) => "a tuple".to_string(),
            Ty::Collection(..) => "a collection".to_string(),
            Ty::Known(_) | Ty::Dynamic(_) => continue,
        };
        return Err(Error::Query(format!(
            "{call} takes {}, but one of its arguments is {refused}",
            takes.name()
        )));
    }
    Ok(())
}

/// The characters `clojure.string/trim` and `blank?` take for white space
/// (Java's `Character.isWhitespace` over ASCII: tab, newline, vertical
/// tab, form feed, carriage return, the four separators, space), as an SQL
/// expression for `trim`'s second argument.
const WHITESPACE: &str = "char(9, 10, 11, 12, 13, 28, 29, 30, 31, 32)";

/// A predicate clause `[(pred args...)]` as a SQL condition.
pub fn predicate(frame: &Frame<'_, '_>, call: &FnCall) -> Result<String> {
    let name = call.name.as_str();
    if name == "missing?" {
        return missing(frame, call);
    }
    if name == "contains?" {
        return contains(frame, call);
    }
    let values = args(frame, call)?;
    let compare = |op: &str| -> Result<String> {
        if values.len() < 2 {
            arity(call, 2..=usize::MAX)?;
        }
        let parts: Vec<String> = values
            .windows(2)
            .map(|pair| ordered(frame, call, op, &pair[0], &pair[1]))
            .collect::<Result<_>>()?;
        Ok(format!("({})", parts.join(" AND ")))
    };
    let one = |template: &str| -> Result<String> {
        arity(call, 1..=1)?;
        Ok(template.replace("$0", &values[0].expr.to_string()))
    };
    let two = |template: &str| -> Result<String> {
        arity(call, 2..=2)?;
        Ok(template
            .replace("$0", &values[0].expr.to_string())
            .replace("$1", &values[1].expr.to_string()))
    };
    if let Some(types) = type_predicate(name) {
        arity(call, 1..=1)?;
        return Ok(of_types(&values[0], types));
    }
    match name {
        // Clojure's `==`: numbers equal by value whatever their type
        // (`(== 1 1.0)`), where `=` tells a long from a double.
        "==" => {
            if let Some(t) = values.iter().find_map(|v| match v.ty {
                Ty::Known(t) if !t.is_numeric() => Some(t),
                _ => None,
            }) {
                return Err(Error::Query(format!(
                    "{call} compares numbers, but one of its arguments is {}",
                    t.a_name()
                )));
            }
            compare("=")
        }
        "=" => {
            arity(call, 2..=usize::MAX)?;
            let parts: Vec<String> = values.windows(2).map(|p| equal(&p[0], &p[1])).collect();
            Ok(format!("({})", parts.join(" AND ")))
        }
        "!=" | "not=" | "-differ?" => {
            arity(call, 2..=2)?;
            Ok(format!("NOT {}", equal(&values[0], &values[1])))
        }
        "<" | ">" | "<=" | ">=" => compare(name),
        "zero?" | "pos?" | "neg?" if any_big(&values) => {
            arity(call, 1..=1)?;
            let op = match name {
                "zero?" => "=",
                "pos?" => ">",
                _ => "<",
            };
            let zero = frame.shared.param(SqlLiteral::Integer(0));
            Ok(format!(
                "({} {op} factlite_number_key({zero}, {}))",
                values[0].expr,
                ValueType::Long.tag()
            ))
        }
        "zero?" | "pos?" | "neg?" => {
            check_types(call, &values, Takes::Numbers)?;
            match name {
                "zero?" => one("($0 = 0)"),
                "pos?" => one("($0 > 0)"),
                _ => one("($0 < 0)"),
            }
        }
        "even?" | "odd?" => {
            check_types(call, &values, Takes::Integers)?;
            one(if name == "even?" {
                "($0 % 2 = 0)"
            } else {
                "($0 % 2 != 0)"
            })
        }
        "nil?" => one("($0 IS NULL)"),
        "some?" => one("($0 IS NOT NULL)"),
        // Clojure's `not`: true of nil and false, false of every other value.
        "not" => {
            arity(call, 1..=1)?;
            let value = &values[0];
            Ok(match &value.ty {
                Ty::Known(ValueType::Boolean) => format!("({} = 0)", value.expr),
                Ty::Known(_) | Ty::Tuple(_) | Ty::Collection(..) => {
                    format!("({} IS NULL)", value.expr)
                }
                Ty::Dynamic(tag) => format!(
                    "({expr} IS NULL OR ({tag} = {boolean} AND {expr} = 0))",
                    expr = value.expr,
                    boolean = ValueType::Boolean.tag()
                ),
            })
        }
        "true?" => one("($0 = 1)"),
        "false?" => one("($0 = 0)"),
        "str/starts-with?" | "clojure.string/starts-with?" => {
            check_types(call, &values, Takes::Strings)?;
            two("(substr($0, 1, length($1)) = $1)")
        }
        "str/ends-with?" | "clojure.string/ends-with?" => {
            check_types(call, &values, Takes::Strings)?;
            two("(length($0) >= length($1) AND substr($0, length($0) - length($1) + 1) = $1)")
        }
        "str/includes?" | "clojure.string/includes?" => {
            check_types(call, &values, Takes::Strings)?;
            two("(instr($0, $1) > 0)")
        }
        _ if frame.shared.registered_function(name).is_some() => {
            let var = registered_call(frame, call, &values)?;
            Ok(format!("({} = 1)", var.expr))
        }
        "str/blank?" | "clojure.string/blank?" => {
            check_types(call, &values, Takes::Strings)?;
            one(&format!("(trim($0, {WHITESPACE}) = '')"))
        }
        "empty?" => one("(length($0) = 0)"),
        "re-find" => two("(factlite_re_find($0, $1) IS NOT NULL)"),
        "re-matches" => two("(factlite_re_matches($0, $1) IS NOT NULL)"),
        // Any other function is a predicate by its result, as in Datomic:
        // true unless nil or false (`[(identity ?x)]`, `[(+ ?x 1)]`).
        _ => truthy(frame, call),
    }
}

/// The value types a type predicate (`string?`, `number?`, ...) is true
/// of. An entity id is a long, as in Clojure.
fn type_predicate(name: &str) -> Option<&'static [ValueType]> {
    use ValueType::*;
    Some(match name {
        "string?" => &[String],
        "keyword?" => &[Keyword],
        "symbol?" => &[Symbol],
        "boolean?" => &[Boolean],
        "inst?" => &[Instant],
        "uuid?" => &[Uuid],
        "uri?" => &[Uri],
        "int?" => &[Long, Ref],
        "integer?" => &[Long, Ref, BigInt],
        "double?" => &[Double],
        "float?" => &[Double, Float],
        "decimal?" => &[BigDec],
        "number?" => &[Long, Ref, Double, Float, BigInt, BigDec],
        _ => return None,
    })
}

/// SQL true when `var`'s value is of one of `types` (decided when
/// planning for a known type; by the tag when it is known per row).
fn of_types(var: &Var, types: &[ValueType]) -> String {
    match &var.ty {
        Ty::Known(t) => if types.contains(t) { "1" } else { "0" }.to_string(),
        Ty::Tuple(_) | Ty::Collection(..) => "0".to_string(),
        Ty::Dynamic(tag) => {
            let tags: Vec<String> = types.iter().map(|t| t.tag().to_string()).collect();
            format!("({tag} IN ({}))", tags.join(", "))
        }
    }
}

/// `a op b` for a comparison predicate, as Datomic orders values: numbers
/// with numbers, any other type only with itself. Types known when planning
/// that have no order are an error now; when a type is known only at run
/// time (a value of any attribute), `factlite_comparable` checks each pair
/// before it is compared and fails the query on one that has no order.
fn ordered(frame: &Frame<'_, '_>, call: &FnCall, op: &str, a: &Var, b: &Var) -> Result<String> {
    let comparison = format!("{} {op} {}", a.expr, b.expr);
    match (&a.ty, &b.ty) {
        // Keywords by namespace, then name (`factlite_core::order`).
        (Ty::Known(ValueType::Keyword), Ty::Known(ValueType::Keyword))
        | (Ty::Known(ValueType::Symbol), Ty::Known(ValueType::Symbol)) => Ok(format!(
            "{} {op} {} COLLATE {}",
            a.expr,
            b.expr,
            factlite_core::order::KEYWORD_COLLATION
        )),
        // A big number is stored as its number key: the other side is
        // compared as its key too, and the big side's column stays bare so
        // an index can serve the range.
        (Ty::Known(x), Ty::Known(y))
            if x.is_comparable_with(*y)
                && (x.is_stored_as_number_key() || y.is_stored_as_number_key()) =>
        {
            Ok(format!("{} {op} {}", number_key(a), number_key(b)))
        }
        (Ty::Known(x), Ty::Known(y)) if x.is_comparable_with(*y) => Ok(comparison),
        (Ty::Known(x), Ty::Known(y)) => Err(Error::Query(format!(
            "{} compares {} with {}: values of different types have no order",
            call,
            x.a_name(),
            y.a_name()
        ))),
        (Ty::Tuple(_), _) | (_, Ty::Tuple(_)) => match crate::tuple_values::comparable_pair(a, b) {
            Some((a, b)) => ordered(frame, call, op, &a, &b),
            None => Err(Error::Query(format!(
                "{call} compares a tuple with a value that is not a stored tuple: tuples are ordered against tuple values of an attribute"
            ))),
        },
        _ => {
            let text = frame.shared.param(SqlLiteral::Text(call.to_string()));
            let (ta, tb) = (a.tag_expr(), b.tag_expr());
            // Keywords by namespace, then name: once the pair is known to be
            // comparable, a keyword on either side means both are keywords.
            let collated = format!(
                "{comparison} COLLATE {}",
                factlite_core::order::KEYWORD_COLLATION
            );
            // Numbers by their keys when a big number is one of them.
            let by_keys = format!("{} {op} {}", number_key(a), number_key(b));
            // A dynamic side that holds a big number.
            let big = [a, b]
                .into_iter()
                .filter(|var| matches!(var.ty, Ty::Dynamic(_)))
                .map(|var| format!("{} IN ({})", var.tag_expr(), big_tags()))
                .collect::<Vec<_>>()
                .join(" OR ");
            let compared = match (&a.ty, &b.ty) {
                (Ty::Known(ValueType::Keyword | ValueType::Symbol), _)
                | (_, Ty::Known(ValueType::Keyword | ValueType::Symbol)) => collated,
                (Ty::Known(t), _) | (_, Ty::Known(t)) if t.is_stored_as_number_key() => by_keys,
                (Ty::Known(t), _) | (_, Ty::Known(t)) if t.is_numeric() => {
                    format!("(CASE WHEN {big} THEN {by_keys} ELSE {comparison} END)")
                }
                (Ty::Known(_), _) | (_, Ty::Known(_)) => comparison,
                _ => format!(
                    "(CASE WHEN {ta} IN ({}, {}) THEN {collated} WHEN {big} THEN {by_keys} ELSE {comparison} END)",
                    ValueType::Keyword.tag(),
                    ValueType::Symbol.tag()
                ),
            };
            Ok(format!(
                "CASE WHEN factlite_comparable({ta}, {tb}, {text}) THEN {compared} END"
            ))
        }
    }
}

/// The tags of the types stored as number keys, for SQL's `IN (...)`.
fn big_tags() -> String {
    format!("{}, {}", ValueType::BigInt.tag(), ValueType::BigDec.tag())
}

/// Whether a big integer or a big decimal is among the values, by their
/// known types.
fn any_big(values: &[Var]) -> bool {
    values
        .iter()
        .any(|v| matches!(v.ty, Ty::Known(t) if t.is_stored_as_number_key()))
}

/// `[(contains? #{...} ?x)]`: the value is one of a constant set's (or
/// vector's) elements, each compared as `=` compares.
fn contains(frame: &Frame<'_, '_>, call: &FnCall) -> Result<String> {
    arity(call, 2..=2)?;
    let elements: Vec<&Value> = match &call.args[0] {
        Term::Constant(Value::Set(items)) => items.iter().collect(),
        Term::Constant(Value::Vector(items) | Value::List(items)) => items.iter().collect(),
        other => {
            return Err(Error::Query(format!(
                "{call}: contains? takes a constant set such as #{{1 2}}, not {other}"
            )))
        }
    };
    let value = frame.term_var(&call.args[1])?;
    let parts = elements
        .into_iter()
        .map(|element| {
            let (literal, value_type) = literal(element).ok_or_else(|| {
                Error::Query(format!("{call}: {element} cannot be compared with a value"))
            })?;
            let element = Var {
                expr: frame.shared.param(literal),
                ty: Ty::Known(value_type),
            };
            Ok(equal(&value, &element))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(if parts.is_empty() {
        "0".to_string()
    } else {
        format!("({})", parts.join(" OR "))
    })
}

/// `[(missing? $ ?e :attr)]`
fn missing(frame: &Frame<'_, '_>, call: &FnCall) -> Result<String> {
    arity(call, 3..=3)?;
    let entity = frame.entity_identifier(&call.args[1])?;
    let attribute = attribute_arg(frame, &call.args[2], &call.name)?;
    let table = frame.shared.function_table(call)?;
    let a = frame.shared.param(SqlLiteral::Integer(attribute.id));
    Ok(format!(
        "NOT EXISTS (SELECT 1 FROM {table} WHERE e = {} AND a = {a})",
        entity.expr
    ))
}

fn attribute_arg<'a>(
    frame: &Frame<'_, 'a>,
    term: &Term,
    function: &str,
) -> Result<&'a factlite_core::Attribute> {
    match term {
        Term::Constant(Value::Keyword(k)) => frame
            .shared
            .schema
            .attribute_named(k)
            .ok_or_else(|| Error::UnknownAttribute(Value::Keyword(k.clone()).to_string())),
        other => Err(Error::Query(format!(
            "{function} needs an attribute keyword, got {other}"
        ))),
    }
}

fn numeric_type(values: &[Var]) -> Ty {
    if values.iter().all(|v| v.ty == Ty::Known(ValueType::Long)) {
        Ty::Known(ValueType::Long)
    } else if values.iter().all(|v| {
        matches!(
            v.ty,
            Ty::Known(ValueType::Long) | Ty::Known(ValueType::Double)
        )
    }) {
        Ty::Known(ValueType::Double)
    } else {
        Ty::Dynamic(format!(
            "(CASE typeof({}) WHEN 'integer' THEN 3 ELSE 4 END)",
            values.first().map_or(Expr::null(), |v| v.expr.clone())
        ))
    }
}

/// A function clause `[(f args...) binding]`.
pub fn function(frame: &mut Frame<'_, '_>, call: &FnCall, binding: &Binding) -> Result<()> {
    match call.name.as_str() {
        "ground" => {
            arity(call, 1..=1)?;
            let Term::Constant(value) = &call.args[0] else {
                return Err(Error::Query("ground takes a constant".into()));
            };
            crate::inputs::bind_constant(frame, binding, value)
        }
        "get-else" => {
            arity(call, 4..=4)?;
            let entity = frame.entity_identifier(&call.args[1])?;
            let attribute = attribute_arg(frame, &call.args[2], "get-else")?;
            // As Datomic: one value or the default, so one attribute value.
            if attribute.cardinality == factlite_core::Cardinality::Many {
                return Err(Error::Query(format!(
                    "{call}: get-else takes a cardinality-one attribute, and {} is cardinality many",
                    call.args[2]
                )));
            }
            // As Datomic: nil is no default (a missing value is no value).
            if matches!(call.args[3], Term::Constant(Value::Nil)) {
                return Err(Error::Query(format!(
                    "{call} has nil as its default, and get-else needs a value; leave the \
                     attribute out with (missing? $ ?e {}) or give another default",
                    call.args[2]
                )));
            }
            let default = frame.term_var(&call.args[3])?;
            // A tuple default is compared and returned as a stored tuple.
            let default = crate::tuple_values::stored(&default).unwrap_or(default);
            let table = frame.shared.function_table(call)?;
            let a = frame.shared.param(SqlLiteral::Integer(attribute.id));
            let expr = Expr::computed(
                format!(
                    "COALESCE((SELECT v FROM {table} WHERE e = {} AND a = {a} LIMIT 1), {})",
                    entity.expr, default.expr
                ),
                [&entity, &default],
            );
            // An integer default of a ref attribute is an entity id, like the
            // attribute's values: typed as a ref, a default and a value naming
            // the same entity are one answer (they print alike, and
            // aggregates must not count them twice).
            let entity_default = attribute.value_type == ValueType::Ref
                && matches!(call.args[3], Term::Constant(Value::Integer(_)));
            let ty = if entity_default || default.ty == Ty::Known(attribute.value_type) {
                Ty::Known(attribute.value_type)
            } else {
                Ty::Dynamic(format!(
                    "(CASE WHEN EXISTS (SELECT 1 FROM {table} WHERE e = {} AND a = {a}) THEN {} ELSE {} END)",
                    entity.expr,
                    attribute.value_type.tag(),
                    default.tag_expr()
                ))
            };
            bind_scalar(frame, binding, Var { expr, ty })
        }
        "get-some" => get_some(frame, call, binding),
        "str/split" | "clojure.string/split" => strings(frame, call, binding, "factlite_split"),
        "re-seq" => strings(frame, call, binding, "factlite_re_seq"),
        "re-find" | "re-matches" if matches!(binding, Binding::Tuple(_)) => {
            regex_groups(frame, call, binding)
        }
        "rand-nth" => rand_nth(frame, call, binding),
        "range" => range(frame, call, binding),
        factlite_query::NESTED_QUERY => crate::nested::nested_query(frame, call, binding),
        "fulltext" => fulltext(frame, call, binding),
        "tuple" | "vector" | "list" => {
            let values = args(frame, call)?;
            bind_scalar(
                frame,
                binding,
                Var {
                    expr: Expr::null(),
                    ty: Ty::Tuple(values),
                },
            )
        }
        "hash-set" | "hash-map" | "set" => collection(frame, call, binding),
        "untuple" => {
            arity(call, 1..=1)?;
            let value = frame.term_var(&call.args[0])?;
            let Binding::Tuple(names) = binding else {
                return Err(Error::Query(
                    "untuple binds a tuple form [?a ?b ...]".into(),
                ));
            };
            let items = match value.ty {
                Ty::Tuple(items) => items,
                // A stored tuple: its elements are read as the query runs.
                Ty::Known(ValueType::Tuple) => (0..names.len())
                    .map(|index| crate::tuple_values::element(&value, index))
                    .collect(),
                _ => return Err(Error::Query("untuple needs a tuple".into())),
            };
            for (name, item) in names.iter().zip(items) {
                bind_scalar(frame, name, item)?;
            }
            Ok(())
        }
        _ => {
            let var = scalar_function(frame, call)?;
            // A function that returns nil binds nothing: the row fails, as
            // in Datomic.
            // (A column of a datom is never nil: `identity` of one needs
            // no test.)
            let never_nil = matches!(var.expr, Expr::Column { .. }) || var.ty.items().is_some();
            if NIL_RETURNING.contains(&call.name.as_str()) && !never_nil {
                frame.conditions.push(format!("{} IS NOT NULL", var.expr));
            }
            bind_scalar(frame, binding, var)
        }
    }
}

/// SQL true when a function's result is truthy (neither nil nor false).
fn truthy(frame: &Frame<'_, '_>, call: &FnCall) -> Result<String> {
    let result = scalar_function(frame, call).map_err(|error| match error {
        Error::Query(message) if message.starts_with("unknown function") => {
            Error::Query(format!("unknown predicate {}", call.name))
        }
        other => other,
    })?;
    let expr = &result.expr;
    Ok(match &result.ty {
        Ty::Known(ValueType::Boolean) => format!("(COALESCE({expr}, 0) != 0)"),
        Ty::Known(_) => format!("({expr} IS NOT NULL)"),
        // A vector or a set built in the query is a value, never nil.
        Ty::Tuple(_) | Ty::Collection(..) => "1".to_string(),
        Ty::Dynamic(tag) => format!(
            "({expr} IS NOT NULL AND NOT ({tag} = {} AND {expr} = 0))",
            ValueType::Boolean.tag()
        ),
    })
}

/// The functions that return nil for some arguments (`namespace` of a
/// keyword without one, `re-find` without a match, `identity` of nil).
const NIL_RETURNING: [&str; 4] = ["namespace", "re-find", "re-matches", "identity"];

fn scalar_function(frame: &Frame<'_, '_>, call: &FnCall) -> Result<Var> {
    let values = args(frame, call)?;
    // Every result is an expression over the arguments.
    let computed = |sql: String| Expr::computed(sql, &values);
    let fold = |op: &str| -> Result<Var> {
        arity(call, 1..=usize::MAX)?;
        let exprs: Vec<String> = values.iter().map(|v| v.expr.to_string()).collect();
        Ok(Var {
            expr: computed(format!("({})", exprs.join(&format!(" {op} ")))),
            ty: numeric_type(&values),
        })
    };
    let long = |sql: String| Var {
        expr: computed(sql),
        ty: Ty::Known(ValueType::Long),
    };
    let text = |sql: String| Var {
        expr: computed(sql),
        ty: Ty::Known(ValueType::String),
    };
    // A string from the SQL function `sql` over every argument.
    let text_of = |sql: &str, args: std::ops::RangeInclusive<usize>| -> Result<Var> {
        arity(call, args)?;
        let exprs: Vec<String> = values.iter().map(|v| v.expr.to_string()).collect();
        Ok(text(format!("{sql}({})", exprs.join(", "))))
    };
    // A string from the SQL function `sql` over the one argument as `str`
    // prints it (Clojure's string functions take any value's text), and
    // `extra` arguments.
    let text_of_str = |sql: &str, extra: &str| -> Result<Var> {
        arity(call, 1..=1)?;
        let value = str_part(&values[0]);
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!(", {extra}")
        };
        Ok(text(format!("{sql}({value}{extra})")))
    };
    if NUMERIC_FUNCTIONS.contains(&call.name.as_str()) {
        check_types(call, &values, Takes::Numbers)?;
        if any_big(&values) {
            return big_arithmetic(frame, call, &values);
        }
    }
    if STRING_FUNCTIONS.contains(&call.name.as_str()) {
        check_types(call, &values, Takes::Strings)?;
    }
    // A divisor of zero fails the query, as Clojure throws.
    let divisor = |b: &Expr| format!("(CASE WHEN {b} = 0 THEN {DIVIDE_BY_ZERO} ELSE {b} END)");
    let integers = numeric_type(&values) == Ty::Known(ValueType::Long);
    match call.name.as_str() {
        "+" => fold("+"),
        "*" => fold("*"),
        "-" if values.len() == 1 => Ok(Var {
            expr: computed(format!("(-{})", values[0].expr)),
            ty: numeric_type(&values),
        }),
        "-" => fold("-"),
        "/" => {
            arity(call, 2..=2)?;
            let a = &values[0].expr;
            let b = &values[1].expr;
            if integers {
                let b = &divisor(b);
                // Long division stays long when exact, as the result of a
                // ratio that is whole; otherwise it is a double.
                let exact = format!("({b} != 0 AND {a} % {b} = 0)");
                Ok(Var {
                    expr: computed(format!(
                        "(CASE WHEN {exact} THEN {a} / {b} ELSE CAST({a} AS REAL) / {b} END)"
                    )),
                    ty: Ty::Dynamic(format!("(CASE WHEN {exact} THEN 3 ELSE 4 END)")),
                })
            } else {
                // Of doubles, by zero is an infinity (`(/ 1.0 0)` is
                // ##Inf); 0.0 / 0 (NaN) fails.
                Ok(Var {
                    expr: computed(format!(
                        "(CASE WHEN {b} != 0 THEN CAST({a} AS REAL) / {b} WHEN {a} > 0 THEN 9e999 \
                         WHEN {a} < 0 THEN -9e999 ELSE {DIVIDE_BY_ZERO} END)"
                    )),
                    ty: Ty::Known(ValueType::Double),
                })
            }
        }
        "quot" | "rem" | "mod" if numeric_type(&values) == Ty::Known(ValueType::Double) => {
            // Of doubles, as Clojure computes them: `quot` truncates the
            // quotient, `rem` takes the dividend's sign, `mod` the
            // divisor's.
            arity(call, 2..=2)?;
            let a = &values[0].expr;
            let b = &divisor(&values[1].expr);
            let quotient = format!("CAST(CAST({a} AS REAL) / {b} AS INTEGER)");
            let remainder = format!("({a} - {b} * {quotient})");
            let sql = match call.name.as_str() {
                "quot" => format!("CAST({quotient} AS REAL)"),
                "rem" => format!("CAST({remainder} AS REAL)"),
                _ => format!(
                    "CAST((CASE WHEN {remainder} != 0 AND ({remainder} < 0) != ({b} < 0) \
                     THEN {remainder} + {b} ELSE {remainder} END) AS REAL)"
                ),
            };
            Ok(Var {
                expr: computed(sql),
                ty: Ty::Known(ValueType::Double),
            })
        }
        "quot" => {
            arity(call, 2..=2)?;
            let b = divisor(&values[1].expr);
            Ok(long(format!("({} / {b})", values[0].expr)))
        }
        "rem" => {
            arity(call, 2..=2)?;
            let b = divisor(&values[1].expr);
            Ok(long(format!("({} % {b})", values[0].expr)))
        }
        "mod" => {
            arity(call, 2..=2)?;
            let a = &values[0].expr;
            let b = &divisor(&values[1].expr);
            Ok(long(format!("((({a} % {b}) + {b}) % {b})")))
        }
        "inc" => {
            arity(call, 1..=1)?;
            Ok(Var {
                expr: computed(format!("({} + 1)", values[0].expr)),
                ty: numeric_type(&values),
            })
        }
        "dec" => {
            arity(call, 1..=1)?;
            Ok(Var {
                expr: computed(format!("({} - 1)", values[0].expr)),
                ty: numeric_type(&values),
            })
        }
        "min" | "max" => {
            arity(call, 1..=usize::MAX)?;
            let exprs: Vec<String> = values.iter().map(|v| v.expr.to_string()).collect();
            let expr = if exprs.len() == 1 {
                values[0].expr.clone()
            } else {
                computed(format!("{}({})", call.name, exprs.join(", ")))
            };
            // The winning argument as it is (`(max 1.0 5)` is 5): its type
            // is known when every argument's is the same.
            let ty = match &values[0].ty {
                Ty::Known(t) if values.iter().all(|v| v.ty == Ty::Known(*t)) => Ty::Known(*t),
                _ => Ty::Dynamic(format!(
                    "(CASE typeof({expr}) WHEN 'integer' THEN {} ELSE {} END)",
                    ValueType::Long.tag(),
                    ValueType::Double.tag()
                )),
            };
            Ok(Var { expr, ty })
        }
        "str" => {
            let parts: Vec<String> = values.iter().map(str_part).collect();
            let expr = if parts.is_empty() {
                Expr::value("''")
            } else {
                computed(format!("({})", parts.join(" || ")))
            };
            Ok(Var {
                expr,
                ty: Ty::Known(ValueType::String),
            })
        }
        "subs" => {
            arity(call, 2..=3)?;
            check_types(call, &values[..1], Takes::Strings)?;
            check_types(call, &values[1..], Takes::Integers)?;
            let (s, start) = (&values[0].expr, &values[1].expr);
            // Bounds outside the string fail, as Clojure's `subs` throws.
            let end = values
                .get(2)
                .map_or(format!("length({s})"), |end| end.expr.to_string());
            let expr = computed(format!(
                "(CASE WHEN {start} < 0 OR {end} < {start} OR {end} > length({s}) \
                 THEN factlite_fail('String index out of range') \
                 ELSE substr({s}, {start} + 1, {end} - {start}) END)"
            ));
            Ok(Var {
                expr,
                ty: Ty::Known(ValueType::String),
            })
        }
        "count" => {
            arity(call, 1..=1)?;
            match &values[0].ty {
                Ty::Tuple(items) => Ok(long(items.len().to_string())),
                Ty::Known(ValueType::String | ValueType::Tuple) | Ty::Dynamic(_) => {
                    Ok(long(format!("length({})", values[0].expr)))
                }
                Ty::Known(t) => Err(Error::Query(format!(
                    "{call} counts a string or a tuple, not {}",
                    t.a_name()
                ))),
                Ty::Collection(..) => Err(Error::Query(format!(
                    "{call}: a set or map built in the query is read by :find only"
                ))),
            }
        }
        "identity" => {
            arity(call, 1..=1)?;
            Ok(values[0].clone())
        }
        "abs" => {
            arity(call, 1..=1)?;
            Ok(Var {
                expr: computed(format!("abs({})", values[0].expr)),
                ty: numeric_type(&values),
            })
        }
        "name" => {
            arity(call, 1..=1)?;
            let x = &values[0].expr;
            Ok(text(match &values[0].ty {
                Ty::Known(ValueType::String) => return Ok(values[0].clone()),
                Ty::Known(ValueType::Keyword) => format!(
                    "(CASE WHEN instr({x}, '/') > 1 THEN substr({x}, instr({x}, '/') + 1) ELSE {x} END)"
                ),
                _ => return Err(Error::Query(format!("{call} needs a keyword or a string"))),
            }))
        }
        "namespace" => {
            arity(call, 1..=1)?;
            let x = &values[0].expr;
            if values[0].ty != Ty::Known(ValueType::Keyword) {
                return Err(Error::Query(format!("{call} needs a keyword")));
            }
            Ok(text(format!(
                "(CASE WHEN instr({x}, '/') > 1 THEN substr({x}, 1, instr({x}, '/') - 1) END)"
            )))
        }
        "keyword" => {
            arity(call, 1..=2)?;
            if values.iter().any(|v| v.ty != Ty::Known(ValueType::String)) {
                return Err(Error::Query(format!("{call} needs strings")));
            }
            let expr = computed(match values.as_slice() {
                [name] => format!(
                    "(CASE WHEN substr({0}, 1, 1) = ':' THEN substr({0}, 2) ELSE {0} END)",
                    name.expr
                ),
                [namespace, name] => format!("({} || '/' || {})", namespace.expr, name.expr),
                _ => unreachable!("arity checked"),
            });
            Ok(Var {
                expr,
                ty: Ty::Known(ValueType::Keyword),
            })
        }
        "compare" => {
            arity(call, 2..=2)?;
            let less = ordered(frame, call, "<", &values[0], &values[1])?;
            let greater = ordered(frame, call, ">", &values[0], &values[1])?;
            Ok(long(format!(
                "(CASE WHEN {less} THEN -1 WHEN {greater} THEN 1 ELSE 0 END)"
            )))
        }
        "str/lower-case" | "clojure.string/lower-case" => text_of_str("factlite_lower", ""),
        "str/upper-case" | "clojure.string/upper-case" => text_of_str("factlite_upper", ""),
        "str/trim" | "clojure.string/trim" => text_of_str("trim", WHITESPACE),
        "str/triml" | "clojure.string/triml" => text_of_str("ltrim", WHITESPACE),
        "str/trimr" | "clojure.string/trimr" => text_of_str("rtrim", WHITESPACE),
        "re-pattern" => {
            arity(call, 1..=1)?;
            Ok(values[0].clone())
        }
        "re-find" => text_of("factlite_re_find", 2..=2),
        "re-matches" => text_of("factlite_re_matches", 2..=2),
        _ if frame.shared.registered_function(&call.name).is_some() => {
            registered_call(frame, call, &values)
        }
        other => Err(Error::Query(format!("unknown function {other}"))),
    }
}

/// A call of a function the program registered: its SQL function, given
/// each argument's value and type tag.
fn registered_call(frame: &Frame<'_, '_>, call: &FnCall, values: &[Var]) -> Result<Var> {
    let function = frame
        .shared
        .registered_function(&call.name)
        .ok_or_else(|| Error::Query(format!("unknown function {}", call.name)))?;
    if values.len() != function.arity {
        return Err(Error::Query(format!(
            "{call} gives {} argument(s), but {} takes {}",
            values.len(),
            function.name,
            function.arity
        )));
    }
    let mut args = Vec::with_capacity(2 * values.len());
    for value in values {
        if matches!(value.ty, Ty::Tuple(_)) {
            return Err(Error::Query(format!(
                "{call}: a registered function takes single values, not tuples"
            )));
        }
        args.push(value.expr.to_string());
        args.push(value.tag_expr());
    }
    Ok(Var {
        expr: Expr::computed(
            format!("{}({})", function.sql_name, args.join(", ")),
            values,
        ),
        ty: Ty::Known(function.result),
    })
}

/// The functions of numbers that compute a number.
const NUMERIC_FUNCTIONS: [&str; 12] = [
    "+", "-", "*", "/", "quot", "rem", "mod", "inc", "dec", "abs", "min", "max",
];

/// SQL failing the query: division by zero.
const DIVIDE_BY_ZERO: &str = "factlite_fail('Divide by zero')";

/// The functions of strings (regular expressions given as strings).
const STRING_FUNCTIONS: [&str; 3] = ["re-pattern", "re-find", "re-matches"];

/// A function over numbers at least one of which is a big integer or a
/// big decimal, exactly, by the store's `factlite_big_arithmetic` (`+`,
/// `-`, `*`, `inc`, `dec`, `abs`, `min`, `max`): the result is a big
/// decimal when a big decimal is among the numbers, a double when a double
/// or a float is, else a big integer (as Clojure's contagion has it:
/// `(+ 1N 1)` is `2N`, `(+ 1M 1N)` is `2M`, `(+ 1N 0.5)` is `1.5`). Other
/// numeric functions of big numbers are refused.
fn big_arithmetic(frame: &Frame<'_, '_>, call: &FnCall, values: &[Var]) -> Result<Var> {
    let name = call.name.as_str();
    match name {
        "+" | "*" | "-" | "min" | "max" => arity(call, 1..=usize::MAX)?,
        "inc" | "dec" | "abs" => arity(call, 1..=1)?,
        _ => {
            return Err(Error::Query(format!(
                "{call}: ({name} ...) of a big integer or a big decimal is not supported \
                 (+, -, *, inc, dec, abs, min and max are)"
            )))
        }
    }
    let known = |t: ValueType| values.iter().any(|v| v.ty == Ty::Known(t));
    let result = if values
        .iter()
        .any(|v| !matches!(v.ty, Ty::Known(t) if t.is_numeric()))
    {
        return Err(Error::Query(format!(
            "{call} needs numbers of known types with a big integer or a big decimal"
        )));
    } else if known(ValueType::Double) || known(ValueType::Float) {
        ValueType::Double
    } else if known(ValueType::BigDec) {
        ValueType::BigDec
    } else {
        ValueType::BigInt
    };
    let operation = frame.shared.param(SqlLiteral::Text(name.to_string()));
    let arguments: Vec<String> = values
        .iter()
        .map(|v| format!("{}, {}", v.expr, v.tag_expr()))
        .collect();
    Ok(Var {
        expr: Expr::computed(
            format!(
                "factlite_big_arithmetic({operation}, {}, {})",
                result.tag(),
                arguments.join(", ")
            ),
            values,
        ),
        ty: Ty::Known(result),
    })
}

/// A value as `str` prints it: keywords with their colon.
fn str_part(var: &Var) -> String {
    match &var.ty {
        // `(str 1N)` is "1", `(str 1.50M)` "1.5", as Clojure prints them.
        Ty::Known(t) if t.is_stored_as_number_key() => {
            format!("factlite_number_text({}, {})", var.expr, t.tag())
        }
        Ty::Known(ValueType::Keyword) => format!("(':' || {})", var.expr),
        Ty::Known(ValueType::Boolean) => {
            format!("(CASE WHEN {} THEN 'true' ELSE 'false' END)", var.expr)
        }
        // A UUID's canonical text, an instant's ISO 8601 text in UTC.
        Ty::Known(ValueType::Uuid) => {
            let hex = format!("lower(hex({}))", var.expr);
            format!(
                "(substr({hex}, 1, 8) || '-' || substr({hex}, 9, 4) || '-' || substr({hex}, 13, 4) \
                 || '-' || substr({hex}, 17, 4) || '-' || substr({hex}, 21))"
            )
        }
        Ty::Known(ValueType::Instant) => format!(
            "strftime('%Y-%m-%dT%H:%M:%fZ', {} / 1000.0, 'unixepoch')",
            var.expr
        ),
        Ty::Known(_) => format!("CAST({} AS TEXT)", var.expr),
        _ => format!("COALESCE(CAST({} AS TEXT), '')", var.expr),
    }
}

/// `[(clojure.string/split ?s ?re) [?part ...]]` (or `[?a ?b ...]`): the
/// parts of a string between the matches of a pattern, as a collection
/// (each part a row) or a tuple (the first parts; missing ones nil); and
/// `[(re-seq ?re ?s) [?match ...]]`, every match of the pattern, alike.
/// `function` is the SQL function that makes the strings' JSON array.
fn strings(
    frame: &mut Frame<'_, '_>,
    call: &FnCall,
    binding: &Binding,
    function: &str,
) -> Result<()> {
    arity(call, 2..=2)?;
    let values = args(frame, call)?;
    check_types(call, &values, Takes::Strings)?;
    let parts = format!("{function}({}, {})", values[0].expr, values[1].expr);
    let text = |expr: Expr| Var {
        expr,
        ty: Ty::Known(ValueType::String),
    };
    match binding {
        Binding::Collection(item) => {
            let alias = frame.shared.alias("j");
            frame.from.push(format!("json_each({parts}) AS {alias}"));
            bind_scalar(frame, item, text(Expr::column(alias, "value")))
        }
        Binding::Tuple(items) => {
            for (i, item) in items.iter().enumerate() {
                bind_scalar(
                    frame,
                    item,
                    text(Expr::computed(
                        format!("json_extract({parts}, '$[{i}]')"),
                        &values,
                    )),
                )?;
            }
            Ok(())
        }
        other => Err(Error::Query(format!(
            "{call} returns a collection: bind it with [?part ...] or [?first ?second], not {other}"
        ))),
    }
}

/// `[(range ?end) [?x ...]]`, `(range ?start ?end)`, `(range ?start ?end
/// ?step)`: the integers from `start` (0) up to, not including, `end`,
/// `step` (1) apart — down when `step` is negative — as Clojure's `range`
/// gives them for integers. The row's `k`-th value is `start + k * step`
/// for `k` from `generate_series`, so arguments bound by the row work.
fn range(frame: &mut Frame<'_, '_>, call: &FnCall, binding: &Binding) -> Result<()> {
    arity(call, 1..=3)?;
    let values = args(frame, call)?;
    if let Some(other) = values.iter().find(|v| match &v.ty {
        Ty::Known(t) => *t != ValueType::Long,
        Ty::Dynamic(_) => false,
        Ty::Tuple(_) | Ty::Collection(..) => true,
    }) {
        let kind = match &other.ty {
            Ty::Known(t) => t.a_name(),
            _ => "a collection".to_string(),
        };
        return Err(Error::Query(format!(
            "{call} counts in integers, and one of its arguments is {kind}"
        )));
    }
    if matches!(call.args.get(2), Some(Term::Constant(Value::Integer(0)))) {
        return Err(Error::Query(format!(
            "{call} has a step of 0, so it never ends"
        )));
    }
    let Binding::Collection(item) = binding else {
        return Err(Error::Query(format!(
            "{call} returns a collection: bind it with [?x ...], not {binding}"
        )));
    };
    let exprs: Vec<String> = values.iter().map(|v| v.expr.to_string()).collect();
    let (start, end, step) = match exprs.as_slice() {
        [end] => ("0", end.as_str(), "1"),
        [start, end] => (start.as_str(), end.as_str(), "1"),
        [start, end, step] => (start.as_str(), end.as_str(), step.as_str()),
        _ => unreachable!("arity checked above"),
    };
    let count = format!(
        "(CASE WHEN {step} > 0 AND {end} > {start} THEN ({end} - {start} + {step} - 1) / {step} \
         WHEN {step} < 0 AND {start} > {end} THEN ({start} - {end} - {step} - 1) / (-{step}) \
         ELSE 0 END)"
    );
    let alias = frame.shared.alias("g");
    frame
        .from
        .push(format!("generate_series(0, {count} - 1) AS {alias}"));
    bind_scalar(
        frame,
        item,
        Var {
            expr: Expr::over_column(format!("({start} + {alias}.value * {step})"), &alias),
            ty: Ty::Known(ValueType::Long),
        },
    )
}

/// `[(hash-set ?a ?b) ?s]`, `[(set ?tuple) ?s]`, `[(hash-map :k ?v ...) ?m]`:
/// a set or map for `:find` to return (its items are values of the
/// row; `set` takes a vector's: an input, `vector`, `ground`).
fn collection(frame: &mut Frame<'_, '_>, call: &FnCall, binding: &Binding) -> Result<()> {
    let (kind, items) = match call.name.as_str() {
        "set" => {
            arity(call, 1..=1)?;
            let Ty::Tuple(items) = frame.term_var(&call.args[0])?.ty else {
                return Err(Error::Query(format!(
                    "{call}: set takes a vector (an input, or one built with vector);                      hash-set takes the items themselves"
                )));
            };
            (CollectionKind::Set, items)
        }
        "hash-map" => {
            if !call.args.len().is_multiple_of(2) {
                return Err(Error::Query(format!(
                    "{call}: hash-map takes keys and values in pairs"
                )));
            }
            (CollectionKind::Map, args(frame, call)?)
        }
        _ => (CollectionKind::Set, args(frame, call)?),
    };
    if let Some(nested) = items.iter().find(|item| item.ty.items().is_some()) {
        return Err(Error::Query(format!(
            "{call}: the items of a {} are single values; {} is not",
            kind.name(),
            match &nested.ty {
                Ty::Collection(inner, _) => inner.name(),
                _ => "tuple",
            }
        )));
    }
    bind_scalar(
        frame,
        binding,
        Var {
            expr: Expr::null(),
            ty: Ty::Collection(kind, items),
        },
    )
}

/// `[(rand-nth ?coll) ?x]`: one item of a tuple (a vector given as input,
/// or built by `vector`), drawn at random each time the row is made. Its
/// items must share one type: the value and its type would otherwise be
/// drawn apart.
fn rand_nth(frame: &mut Frame<'_, '_>, call: &FnCall, binding: &Binding) -> Result<()> {
    arity(call, 1..=1)?;
    let collection = frame.term_var(&call.args[0])?;
    let Ty::Tuple(items) = collection.ty else {
        return Err(Error::Query(format!(
            "{call}: rand-nth draws from a vector (an input, or one built with vector), not a single value"
        )));
    };
    let Some(first) = items.first() else {
        return Err(Error::Query(format!("{call}: rand-nth of an empty vector")));
    };
    let ty = match &first.ty {
        Ty::Known(value_type) if items.iter().all(|item| item.ty == first.ty) => *value_type,
        _ => {
            return Err(Error::Query(format!(
                "{call}: rand-nth draws from items of one type; these differ or are known only when the query runs"
            )))
        }
    };
    // The draw is a column (one row of `json_each` per row of the scope),
    // so every use of the item reads the same draw.
    let draw = frame.shared.alias("n");
    frame.from.push(format!(
        "json_each(json_array(abs(random() % {}))) AS {draw}",
        items.len()
    ));
    let arms: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, item)| format!("WHEN {i} THEN {}", item.expr))
        .collect();
    let expr = Expr::over_column(format!("(CASE {draw}.value {} END)", arms.join(" ")), &draw);
    bind_scalar(
        frame,
        binding,
        Var {
            expr,
            ty: Ty::Known(ty),
        },
    )
}

/// `[(get-some $ ?e :a1 :a2 ...) [?attr ?value]]`: the first attribute that
/// has a value.
fn get_some(frame: &mut Frame<'_, '_>, call: &FnCall, binding: &Binding) -> Result<()> {
    arity(call, 3..=usize::MAX)?;
    let entity = frame.entity_identifier(&call.args[1])?;
    let attributes = call.args[2..]
        .iter()
        .map(|t| attribute_arg(frame, t, "get-some").map(|a| a.id))
        .collect::<Result<Vec<_>>>()?;
    let table = frame.shared.function_table(call)?;
    let alias = frame.shared.alias("g");
    let ids: Vec<String> = attributes
        .iter()
        .map(|id| frame.shared.param(SqlLiteral::Integer(*id)).to_string())
        .collect();
    frame.from.push(format!("{table} AS {alias}"));
    frame
        .conditions
        .push(format!("{alias}.e = {}", entity.expr));
    frame
        .conditions
        .push(format!("{alias}.a IN ({})", ids.join(", ")));
    for i in 1..ids.len() {
        frame.conditions.push(format!(
            "NOT ({alias}.a = {} AND EXISTS (SELECT 1 FROM {table} AS h WHERE h.e = {alias}.e AND h.a IN ({})))",
            ids[i],
            ids[..i].join(", ")
        ));
    }
    let attr = Var {
        expr: Expr::column(&alias, "a"),
        ty: Ty::Known(ValueType::Ref),
    };
    let value = Var {
        expr: Expr::column(&alias, "v"),
        ty: Ty::Dynamic(format!("{alias}.t")),
    };
    match binding {
        Binding::Tuple(items) if items.len() == 2 => {
            bind_scalar(frame, &items[0], attr)?;
            bind_scalar(frame, &items[1], value)
        }
        other => Err(Error::Query(format!(
            "get-some binds [?attribute ?value], not {other}"
        ))),
    }
}

/// `[(fulltext $ :attr "terms") [[?e ?value]]]` over the FTS5 index.
fn fulltext(frame: &mut Frame<'_, '_>, call: &FnCall, binding: &Binding) -> Result<()> {
    arity(call, 3..=3)?;
    let attribute = attribute_arg(frame, &call.args[1], "fulltext")?;
    if !attribute.fulltext {
        return Err(Error::Query(format!(
            "{} is not a :db/fulltext attribute",
            Value::Keyword(attribute.ident.clone())
        )));
    }
    let terms = frame.term_var(&call.args[2])?;
    check_types(call, std::slice::from_ref(&terms), Takes::Strings)?;
    let Binding::Relation(items) = binding else {
        return Err(Error::Query(
            "fulltext binds a relation [[?e ?value ?tx ?score]] (or its first elements)".into(),
        ));
    };
    if items.len() > 4 {
        return Err(Error::Query(format!(
            "{call} binds at most [[?e ?value ?tx ?score]], not {binding}"
        )));
    }
    let alias = frame.shared.alias("f");
    let a = frame.shared.param(SqlLiteral::Integer(attribute.id));
    // The index as a table-valued function of the search, which may read
    // a column of an earlier FROM item (a term bound by a pattern); the
    // search is read as Lucene's syntax (`factlite_fts_query`).
    frame.from.push(format!(
        "fulltext(factlite_fts_query({})) AS {alias}",
        terms.expr
    ));
    frame.conditions.push(format!("{alias}.a = {a}"));
    let mut columns = vec![
        Var::known(Expr::column(&alias, "e"), ValueType::Ref),
        Var::known(Expr::column(&alias, "v"), ValueType::String),
    ];
    // The index holds the current values: a database as of or since a
    // transaction keeps the matches it holds too.
    let table = frame.shared.function_table(call)?;
    if items.len() > 2 || table != "datoms" {
        // The transaction is the datom's, read from the database only
        // when it is bound or the database is not the current one; the
        // score is FTS5's rank negated, so a better match scores higher,
        // as in Datomic.
        let datom = frame.shared.alias("d");
        frame.from.push(format!("{table} AS {datom}"));
        frame.conditions.push(format!(
            "{datom}.e = {alias}.e AND {datom}.a = {alias}.a AND {datom}.v = {alias}.v"
        ));
        columns.push(Var::known(Expr::column(&datom, "tx"), ValueType::Ref));
        columns.push(Var::known(
            Expr::over_column(format!("(-{alias}.rank)"), &alias),
            ValueType::Double,
        ));
    }
    for (item, column) in items.iter().zip(columns) {
        bind_scalar(frame, item, column)?;
    }
    Ok(())
}

/// `[(re-find ?re ?s) [?match ?group ...]]` (and `re-matches`): the match
/// and its groups, as Clojure's `re-find` returns them for a pattern with
/// groups (a group that took no part is nil); no row when nothing matches.
fn regex_groups(frame: &mut Frame<'_, '_>, call: &FnCall, binding: &Binding) -> Result<()> {
    arity(call, 2..=2)?;
    let values = args(frame, call)?;
    check_types(call, &values, Takes::Strings)?;
    let Binding::Tuple(items) = binding else {
        return Err(Error::Query(format!(
            "{call} binds a tuple here, not {binding}"
        )));
    };
    let function = if call.name == "re-find" {
        "factlite_re_find_groups"
    } else {
        "factlite_re_matches_groups"
    };
    let groups = format!("{function}({}, {})", values[0].expr, values[1].expr);
    frame.conditions.push(format!("{groups} IS NOT NULL"));
    for (i, item) in items.iter().enumerate() {
        let group = Var {
            expr: Expr::computed(format!("json_extract({groups}, '$[{i}]')"), &values),
            ty: Ty::Known(ValueType::String),
        };
        bind_scalar(frame, item, group)?;
    }
    Ok(())
}

/// Binds a scalar binding form to a value.
pub fn bind_scalar(frame: &mut Frame<'_, '_>, binding: &Binding, var: Var) -> Result<()> {
    match binding {
        Binding::Variable(v) => {
            frame.bind(&v.0, var);
            Ok(())
        }
        Binding::Blank => Ok(()),
        Binding::Tuple(items) => match var.ty {
            Ty::Tuple(parts) if parts.len() >= items.len() => {
                for (item, part) in items.iter().zip(parts) {
                    bind_scalar(frame, item, part)?;
                }
                Ok(())
            }
            _ => Err(Error::Query(format!(
                "cannot bind {binding}: the value is not a tuple"
            ))),
        },
        Binding::Collection(item) => {
            let items = each_item(frame, binding, var)?;
            bind_scalar(frame, item, items)
        }
        Binding::Relation(items) => {
            let row = each_item(frame, binding, var)?;
            bind_scalar(frame, &Binding::Tuple(items.clone()), row)
        }
    }
}

/// One row per item of a vector or set built in the query (`vector`,
/// `hash-set`, a tuple input), for a collection or relation binding
/// (`[(vector ?a ?b) [?x ...]]`): a row of item positions joins the scope,
/// and the item is the one at the row's position — a tuple of the items'
/// parts at it, when the items are tuples (a relation's rows).
fn each_item(frame: &mut Frame<'_, '_>, binding: &Binding, var: Var) -> Result<Var> {
    let items = match var.ty {
        Ty::Tuple(items) | Ty::Collection(CollectionKind::Set, items) => items,
        _ => {
            return Err(Error::Query(format!(
                "cannot bind {binding} to a single value"
            )))
        }
    };
    let positions: Vec<String> = (0..items.len()).map(|i| i.to_string()).collect();
    let alias = frame.shared.alias("n");
    // The positions are the query's own numbers, never a user's value.
    frame
        .from
        .push(format!("json_each('[{}]') AS {alias}", positions.join(",")));
    item_at(&alias, &items, binding)
}

/// The item of `items` at the position the `value` column of the FROM item
/// `positions` holds, all single values or all tuples of one width.
fn item_at(positions: &str, items: &[Var], binding: &Binding) -> Result<Var> {
    let position = format!("{positions}.value");
    let pick = |exprs: Vec<String>| {
        if exprs.is_empty() {
            // No item: no row of positions either.
            return "NULL".to_string();
        }
        let arms: Vec<String> = exprs
            .iter()
            .enumerate()
            .map(|(i, expr)| format!("WHEN {i} THEN {expr}"))
            .collect();
        format!("(CASE {position} {} END)", arms.join(" "))
    };
    let widths: Vec<Option<usize>> = items
        .iter()
        .map(|item| match &item.ty {
            Ty::Tuple(parts) => Some(parts.len()),
            _ => None,
        })
        .collect();
    match widths.first().copied().flatten() {
        None if widths.iter().all(Option::is_none) => {
            if items
                .iter()
                .any(|item| matches!(item.ty, Ty::Collection(..)))
            {
                return Err(Error::Query(format!(
                    "cannot bind {binding}: an item is a set or map, read by :find only"
                )));
            }
            let picked = pick(items.iter().map(|item| item.expr.to_string()).collect());
            // The position is a column of the positions' `json_each`.
            let expr = if items.is_empty() {
                Expr::null()
            } else {
                Expr::over_column(picked, positions)
            };
            let ty = match &items.first().map(|item| &item.ty) {
                Some(Ty::Known(t)) if items.iter().all(|item| item.ty == Ty::Known(*t)) => {
                    Ty::Known(*t)
                }
                _ => Ty::Dynamic(pick(items.iter().map(Var::tag_expr).collect())),
            };
            Ok(Var { expr, ty })
        }
        Some(width) if widths.iter().all(|w| *w == Some(width)) => {
            let parts = (0..width)
                .map(|j| {
                    let column: Vec<Var> = items
                        .iter()
                        .map(|item| match &item.ty {
                            Ty::Tuple(parts) => parts[j].clone(),
                            _ => unreachable!("every item is a tuple of this width"),
                        })
                        .collect();
                    item_at(positions, &column, binding)
                })
                .collect::<Result<Vec<Var>>>()?;
            Ok(Var {
                expr: Expr::null(),
                ty: Ty::Tuple(parts),
            })
        }
        _ => Err(Error::Query(format!(
            "cannot bind {binding}: the items are not all single values or all tuples of one width"
        ))),
    }
}
