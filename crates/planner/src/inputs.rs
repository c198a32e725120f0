//! Query inputs (and `ground` constants) as statement parameters.
//!
//! A plan depends on an input only through its [`InputSig`]: the shape its
//! binding form gives it and the types of its values. The values themselves
//! become parameters that [`Plan::parameters`] reads out of the inputs at run
//! time, so one plan serves every input of the same signature. A collection
//! or relation travels as one parameter — its rows as a JSON array, each row
//! `[v0, t0, v1, t1, ...]` (value and type tag) — that SQLite's `json_each`
//! turns back into rows, so a plan does not depend on how many rows an input
//! has (and an input may have more rows than a compound SELECT may have
//! terms).

use factlite_core::ValueType;
use factlite_edn::Value;
use factlite_query::{Binding, Input, Query, Rule};

use crate::bound::{Expr, Ty, Var};
use crate::compile::Frame;
use crate::compile_fns::bind_scalar;
use crate::error::{Error, Result};
use crate::literals::literal;
use crate::source::{Database, DatabaseInput, Source};
use crate::{Param, Plan, SqlLiteral};

/// What planning depends on in one input.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InputSig {
    /// One value of this type.
    Scalar(ValueType),
    /// A tuple: a vector bound to a variable, or a value bound to a tuple
    /// form `[?a ?b]`; one signature per element used.
    Tuple(Vec<InputSig>),
    /// The rows of a collection `[?x ...]` or relation `[[?a ?b]]`: each
    /// column's type when every row agrees, `None` when they differ or there
    /// are no rows (the type is then read per row).
    Rows(Vec<Option<ValueType>>),
    /// The values of a collection `[?t ...]` that are tuples, all of one
    /// width: each element's type, as for [`InputSig::Rows`]. Each binds
    /// the variable to a whole tuple.
    TupleRows(Vec<Option<ValueType>>),
    /// A collection of tuples given as a data source (`:in $ $2`, read by
    /// patterns `[$2 ?a ?b]`): each position's type, as for
    /// [`InputSig::Rows`].
    Source(Vec<Option<ValueType>>),
    /// A database of the same store given as a data source (`:in $ $h`):
    /// the kind of its view of time ([`Source::kind`]); its transactions
    /// are parameters.
    Database(Source),
    /// A pull pattern for `(pull ?e ?pattern)` in `:find`, printed: the
    /// plan holds the parsed pattern ([`Signature::pull_pattern`]).
    PullPattern(String),
    /// A value bound to `_`, or a rule set (`%`, planned from
    /// [`Signature::rules`]).
    Ignored,
    /// `nil` as an element of a tuple given for a variable (a stored
    /// tuple's element may be `nil`); never bound to a variable itself.
    Nil,
}

/// The shape in words: "a long", "a tuple of (a long, a string)", "rows of
/// (string, any type)".
impl std::fmt::Display for InputSig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputSig::Scalar(value_type) => write!(f, "one {}", value_type.name()),
            InputSig::Tuple(parts) => {
                let parts: Vec<String> = parts.iter().map(ToString::to_string).collect();
                write!(f, "a tuple of ({})", parts.join(", "))
            }
            InputSig::Rows(columns) => write!(f, "rows of ({})", column_names(columns)),
            InputSig::TupleRows(columns) => {
                write!(f, "a collection of tuples of ({})", column_names(columns))
            }
            InputSig::Source(columns) => write!(f, "a data source of {}-tuples", columns.len()),
            InputSig::Database(_) => write!(f, "a database"),
            InputSig::PullPattern(_) => write!(f, "a pull pattern"),
            InputSig::Ignored => write!(f, "an ignored value"),
            InputSig::Nil => write!(f, "nil"),
        }
    }
}

/// Each column's type name ("any type" when it varies), comma-separated.
fn column_names(columns: &[Option<ValueType>]) -> String {
    let names: Vec<&str> = columns
        .iter()
        .map(|column| column.map_or("any type", |value_type| value_type.name()))
        .collect();
    names.join(", ")
}

/// The part of a query's inputs that planning depends on: the plan-cache
/// key together with the query's normalized text and its source.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SignatureKey {
    inputs: Vec<InputSig>,
    /// The rule sets given through `%`, printed.
    rules: Vec<String>,
}

/// The inputs of a query as planning sees them.
#[derive(Clone, Debug)]
pub struct Signature {
    key: SignatureKey,
    /// The rules given through `%`, parsed.
    pub rules: Vec<Rule>,
    /// The `:in` binding of each input after `$` (`None` for rule sets).
    bindings: Vec<Option<Binding>>,
    /// The pull patterns given as inputs, by variable.
    pull_patterns: Vec<(String, factlite_query::PullPattern)>,
    /// The data sources other than `$` given as inputs: name and input
    /// position.
    sources: Vec<(String, usize)>,
}

/// A data source other than `$` as planning sees it.
pub enum SourceInput<'s> {
    /// A collection of tuples: each position's type.
    Collection(&'s [Option<ValueType>]),
    /// A database: the kind of its view of time.
    Database(Source),
}

impl Signature {
    /// The pull pattern given as the input `name`, for `(pull ?e name)`.
    pub fn pull_pattern(&self, name: &str) -> Option<&factlite_query::PullPattern> {
        self.pull_patterns
            .iter()
            .find(|(variable, _)| variable == name)
            .map(|(_, pattern)| pattern)
    }

    /// What a compiled plan for these inputs may be cached under (with the
    /// query's normalized text and its source).
    pub fn key(&self) -> &SignatureKey {
        &self.key
    }

    /// The data sources other than `$`, by name and input position.
    pub(crate) fn sources(&self) -> impl Iterator<Item = (&str, usize, SourceInput<'_>)> {
        self.sources.iter().filter_map(|(name, index)| {
            let source = match self.key.inputs.get(*index)? {
                InputSig::Source(types) => SourceInput::Collection(types),
                InputSig::Database(kind) => SourceInput::Database(*kind),
                _ => return None,
            };
            Some((name.as_str(), *index, source))
        })
    }
}

/// Pairs the query's `:in` with the inputs (after `$`) and computes their
/// signature, checking every input against its binding form. Every data
/// source other than `$` is a collection of tuples.
pub fn signature(query: &Query, inputs: &[Value]) -> Result<Signature> {
    signature_with_databases(query, inputs, &[])
}

/// [`signature`] for a query some of whose data sources are databases of
/// the same store (`(d/q query db (d/as-of db t))`): the input at each of
/// their positions is not read (give `nil`).
pub fn signature_with_databases(
    query: &Query,
    inputs: &[Value],
    databases: &[DatabaseInput],
) -> Result<Signature> {
    let mut declared = Vec::new();
    let mut defaults = 0;
    for input in &query.inputs {
        match input {
            // The database; any other source is a collection of tuples
            // given as an input.
            Input::Source(source) if source.0 == "$" => {
                defaults += 1;
                if defaults > 1 {
                    return Err(Error::Query(
                        "the query's :in names the database $ twice".into(),
                    ));
                }
            }
            other => declared.push(other),
        }
    }
    if declared.len() != inputs.len() {
        return Err(Error::Query(format!(
            "the query's :in expects {} input(s) after $, but {} were given",
            declared.len(),
            inputs.len()
        )));
    }
    let mut signature = Signature {
        key: SignatureKey {
            inputs: Vec::new(),
            rules: Vec::new(),
        },
        rules: Vec::new(),
        bindings: Vec::new(),
        pull_patterns: Vec::new(),
        sources: Vec::new(),
    };
    for database in databases {
        match declared.get(database.input) {
            Some(Input::Source(_)) => {}
            Some(other) => {
                return Err(Error::Query(format!(
                    "input {} is a database, but the query's :in takes {other} there; \
                     name a data source ($name) for it",
                    database.input + 1
                )))
            }
            None => {
                return Err(Error::Query(format!(
                    "input {} is a database, but the query's :in has {} input(s) after $",
                    database.input + 1,
                    declared.len()
                )))
            }
        }
    }
    let pulled = query.find.pull_pattern_inputs();
    for (input, value) in declared.into_iter().zip(inputs) {
        match input {
            Input::Binding(Binding::Variable(v)) if pulled.contains(&v.0.as_str()) => {
                let pattern = factlite_query::parse_pull_pattern(value)
                    .map_err(|e| Error::Parse(format!("the pull pattern given as {}: {e}", v.0)))?;
                signature
                    .key
                    .inputs
                    .push(InputSig::PullPattern(value.to_string()));
                signature.pull_patterns.push((v.0.clone(), pattern));
                signature.bindings.push(None);
            }
            Input::Rules => {
                signature.rules.extend(
                    factlite_query::parse_rules(value).map_err(|e| Error::Parse(e.to_string()))?,
                );
                signature.key.rules.push(value.to_string());
                signature.key.inputs.push(InputSig::Ignored);
                signature.bindings.push(None);
            }
            Input::Binding(binding) => {
                signature.key.inputs.push(binding_sig(binding, value)?);
                signature.bindings.push(Some(binding.clone()));
            }
            Input::Source(source) => {
                let position = signature.bindings.len();
                let sig = match databases.iter().find(|database| database.input == position) {
                    Some(database) => InputSig::Database(database.source.kind()),
                    None => source_sig(&source.0, value)?,
                };
                signature.key.inputs.push(sig);
                signature
                    .sources
                    .push((source.0.clone(), signature.bindings.len()));
                signature.bindings.push(None);
            }
        }
    }
    Ok(signature)
}

/// The signature of a collection of tuples given as the data source
/// `name`: every tuple of one width, each position's type.
fn source_sig(name: &str, value: &Value) -> Result<InputSig> {
    let rows = sequence(value, &Binding::Blank).map_err(|_| {
        Error::Query(format!(
            "{name} is a data source, so it must be a collection of tuples, not {value}"
        ))
    })?;
    let rows = rows
        .into_iter()
        .map(|row| {
            sequence(row, &Binding::Blank)
                .map_err(|_| Error::Query(format!("{name} holds {row}, which is not a tuple")))
        })
        .collect::<Result<Vec<_>>>()?;
    let width = rows.first().map_or(0, Vec::len);
    if rows.iter().any(|row| row.len() != width) {
        return Err(Error::Query(format!(
            "the tuples of the data source {name} have different widths; give them one"
        )));
    }
    match column_types(rows.into_iter(), width)? {
        InputSig::Rows(types) => Ok(InputSig::Source(types)),
        other => Ok(other),
    }
}

/// The signature of a value bound to a binding form.
fn binding_sig(binding: &Binding, value: &Value) -> Result<InputSig> {
    match binding {
        Binding::Variable(_) => value_sig(value),
        Binding::Blank => value_sig(value).map(|_| InputSig::Ignored),
        Binding::Tuple(items) => {
            let parts = sequence(value, binding)?;
            if parts.len() < items.len() {
                return Err(Error::Query(format!(
                    "{value} has fewer elements than {binding}"
                )));
            }
            items
                .iter()
                .zip(parts)
                .map(|(item, part)| binding_sig(item, part))
                .collect::<Result<_>>()
                .map(InputSig::Tuple)
        }
        Binding::Collection(_) => {
            let rows = sequence(value, binding)?;
            match tuple_width(&rows) {
                Some(width) => {
                    let rows = rows
                        .into_iter()
                        .map(|row| sequence(row, binding))
                        .collect::<Result<Vec<_>>>()?;
                    match column_types(rows.into_iter(), width)? {
                        InputSig::Rows(types) => Ok(InputSig::TupleRows(types)),
                        other => Ok(other),
                    }
                }
                None => column_types(rows.into_iter().map(|row| vec![row]), 1),
            }
        }
        Binding::Relation(items) => {
            let rows = sequence(value, binding)?
                .into_iter()
                .map(|row| sequence(row, binding))
                .collect::<Result<Vec<_>>>()?;
            column_types(rows.into_iter(), items.len())
        }
    }
}

/// The signature of a value bound to a variable: a scalar, or a tuple for
/// a vector (whose elements may be `nil`).
fn value_sig(value: &Value) -> Result<InputSig> {
    match value {
        Value::Vector(items) | Value::List(items) => items
            .iter()
            .map(|item| match item {
                Value::Nil => Ok(InputSig::Nil),
                other => value_sig(other),
            })
            .collect::<Result<_>>()
            .map(InputSig::Tuple),
        other => Ok(InputSig::Scalar(scalar(other)?.1)),
    }
}

/// The width of a collection's values when every one is a tuple (a
/// vector or list) of the same width; `None` otherwise.
fn tuple_width(rows: &[&Value]) -> Option<usize> {
    let width = |row: &Value| match row {
        Value::Vector(items) | Value::List(items) if !items.is_empty() => Some(items.len()),
        _ => None,
    };
    let first = width(rows.first()?)?;
    rows.iter()
        .all(|row| width(row) == Some(first))
        .then_some(first)
}

fn scalar(value: &Value) -> Result<(SqlLiteral, ValueType)> {
    let single = match value {
        // A tuple inside a row: its stored form.
        Value::Vector(items) | Value::List(items) => crate::tuple_values::literal(items),
        other => literal(other),
    };
    single.ok_or_else(|| Error::Query(format!("{value} cannot be bound to a variable")))
}

/// The column types of input rows, checking every row is wide enough and
/// holds scalars.
fn column_types<'v>(rows: impl Iterator<Item = Vec<&'v Value>>, width: usize) -> Result<InputSig> {
    let mut types: Vec<Option<ValueType>> = vec![None; width];
    let mut uniform = vec![true; width];
    for row in rows {
        if row.len() < width {
            return Err(Error::Query(format!(
                "an input row has {} values, {width} expected",
                row.len()
            )));
        }
        for (i, value) in row.iter().take(width).enumerate() {
            let (_, value_type) = scalar(value)?;
            match types[i] {
                None => types[i] = Some(value_type),
                Some(t) if t != value_type => uniform[i] = false,
                _ => {}
            }
        }
    }
    Ok(InputSig::Rows(
        types
            .into_iter()
            .zip(uniform)
            .map(|(t, uniform)| t.filter(|_| uniform))
            .collect(),
    ))
}

fn sequence<'v>(value: &'v Value, binding: &Binding) -> Result<Vec<&'v Value>> {
    match value {
        Value::Vector(items) | Value::List(items) => Ok(items.iter().collect()),
        Value::Set(items) => Ok(items.iter().collect()),
        other => Err(Error::Query(format!(
            "{other} is not a collection, as {binding} needs"
        ))),
    }
}

/// Where the values of a binding come from.
#[derive(Clone, Copy)]
enum Origin<'v> {
    /// A constant of the query (`ground`): its parameters are constants.
    Constant(&'v Value),
    /// Input number `n` (after `$`): its parameters are read at run time.
    Input(usize),
}

/// Binds every input of a signature in the query's outermost scope.
pub fn bind_inputs(frame: &mut Frame<'_, '_>, signature: &Signature) -> Result<()> {
    for (index, (binding, sig)) in signature
        .bindings
        .iter()
        .zip(&signature.key.inputs)
        .enumerate()
    {
        if let Some(binding) = binding {
            bind(frame, binding, sig, Origin::Input(index), &mut Vec::new())?;
        }
    }
    for (name, index, source) in signature.sources() {
        let types = match source {
            SourceInput::Database(kind) => {
                frame
                    .shared
                    .databases
                    .add(name, Database::Input(index), kind);
                continue;
            }
            SourceInput::Collection(types) => types,
        };
        let placeholder = frame.shared.push_param(Param::Rows {
            input: index,
            path: Vec::new(),
            width: types.len(),
            collection: false,
        });
        frame
            .shared
            .add_collection_source(crate::shared::CollectionSource {
                name: name.to_string(),
                table: rows_table(&placeholder, types),
                types: types.to_vec(),
            });
    }
    Ok(())
}

/// Binds a binding form to a constant (`ground`).
pub fn bind_constant(frame: &mut Frame<'_, '_>, binding: &Binding, value: &Value) -> Result<()> {
    let sig = binding_sig(binding, value)?;
    bind(
        frame,
        binding,
        &sig,
        Origin::Constant(value),
        &mut Vec::new(),
    )
}

fn bind(
    frame: &mut Frame<'_, '_>,
    binding: &Binding,
    sig: &InputSig,
    origin: Origin<'_>,
    path: &mut Vec<usize>,
) -> Result<()> {
    match (binding, sig) {
        (_, InputSig::Ignored) => Ok(()),
        (Binding::Variable(_) | Binding::Blank, _) => {
            let var = value_var(frame, sig, origin, path)?;
            bind_scalar(frame, binding, var)
        }
        (Binding::Tuple(items), InputSig::Tuple(parts)) => {
            for (i, (item, part)) in items.iter().zip(parts).enumerate() {
                path.push(i);
                bind(frame, item, part, origin, path)?;
                path.pop();
            }
            Ok(())
        }
        (Binding::Collection(item), InputSig::Rows(types)) => bind_rows(
            frame,
            Columns::Each(std::slice::from_ref(item.as_ref())),
            types,
            rows_param(origin, path, 1, true)?,
        ),
        (Binding::Collection(item), InputSig::TupleRows(types)) => bind_rows(
            frame,
            Columns::Tuple(item),
            types,
            rows_param(origin, path, types.len(), false)?,
        ),
        (Binding::Relation(items), InputSig::Rows(types)) => bind_rows(
            frame,
            Columns::Each(items),
            types,
            rows_param(origin, path, items.len(), false)?,
        ),
        (binding, sig) => Err(Error::Query(format!(
            "an input of shape {sig} cannot be bound to {binding}"
        ))),
    }
}

/// The variable for a scalar or tuple signature.
fn value_var(
    frame: &Frame<'_, '_>,
    sig: &InputSig,
    origin: Origin<'_>,
    path: &mut Vec<usize>,
) -> Result<Var> {
    match sig {
        InputSig::Scalar(value_type) => {
            let param = match origin {
                Origin::Constant(value) => Param::Constant(scalar(value_at(value, path)?)?.0),
                Origin::Input(input) => Param::Input {
                    input,
                    path: path.clone(),
                },
            };
            Ok(Var {
                expr: frame.shared.push_param(param),
                ty: Ty::Known(*value_type),
            })
        }
        InputSig::Tuple(parts) => {
            let mut vars = Vec::with_capacity(parts.len());
            for (i, part) in parts.iter().enumerate() {
                path.push(i);
                vars.push(value_var(frame, part, origin, path)?);
                path.pop();
            }
            Ok(Var {
                expr: Expr::null(),
                ty: Ty::Tuple(vars),
            })
        }
        // As a `nil` constant of the query is.
        InputSig::Nil => Ok(Var {
            expr: Expr::null(),
            ty: Ty::Dynamic("NULL".into()),
        }),
        other => Err(Error::Query(format!(
            "an input of shape {other} is not a single value"
        ))),
    }
}

/// The parameter carrying a collection's or relation's rows.
fn rows_param(origin: Origin<'_>, path: &[usize], width: usize, collection: bool) -> Result<Param> {
    Ok(match origin {
        Origin::Constant(value) => Param::Constant(SqlLiteral::Text(rows_json(
            value_at(value, path)?,
            width,
            collection,
        )?)),
        Origin::Input(input) => Param::Rows {
            input,
            path: path.to_vec(),
            width,
            collection,
        },
    })
}

/// What the columns of input rows bind.
enum Columns<'b> {
    /// One binding form per column (a relation's, a collection's one).
    Each(&'b [Binding]),
    /// One binding form for the whole row, as a tuple (a collection of
    /// tuples).
    Tuple(&'b Binding),
}

/// Rows joined in as a derived table over `json_each` of one parameter.
fn bind_rows(
    frame: &mut Frame<'_, '_>,
    bindings: Columns<'_>,
    types: &[Option<ValueType>],
    param: Param,
) -> Result<()> {
    let placeholder = frame.shared.push_param(param);
    let alias = frame.shared.alias("c");
    frame
        .from
        .push(format!("{} AS {alias}", rows_table(&placeholder, types)));
    let column = |i: usize, value_type: &Option<ValueType>| Var {
        expr: Expr::column(&alias, format!("v{i}")),
        ty: match value_type {
            Some(t) => Ty::Known(*t),
            None => Ty::Dynamic(format!("{alias}.t{i}")),
        },
    };
    match bindings {
        Columns::Each(items) => {
            for (i, (item, value_type)) in items.iter().zip(types).enumerate() {
                bind_scalar(frame, item, column(i, value_type))?;
            }
        }
        Columns::Tuple(item) => {
            let parts = types
                .iter()
                .enumerate()
                .map(|(i, t)| column(i, t))
                .collect();
            let tuple = Var {
                expr: Expr::null(),
                ty: Ty::Tuple(parts),
            };
            bind_scalar(frame, item, tuple)?;
        }
    }
    Ok(())
}

/// The types whose values are blobs, carried in input rows as hex text.
const HEX_TYPES: [ValueType; 4] = [
    ValueType::Uuid,
    ValueType::Tuple,
    ValueType::BigInt,
    ValueType::BigDec,
];

/// The derived table of input rows (columns `v0, t0, v1, t1, ...`: each
/// value and its type tag) over `json_each` of the parameter
/// `placeholder`.
fn rows_table(placeholder: &Expr, types: &[Option<ValueType>]) -> String {
    let mut columns = Vec::new();
    for (i, value_type) in types.iter().enumerate() {
        let value = format!("json_extract(value, '$[{}]')", 2 * i);
        let tag = format!("json_extract(value, '$[{}]')", 2 * i + 1);
        // Blobs travel as hex (`push_json`).
        let value = match value_type {
            Some(t) if HEX_TYPES.contains(t) => format!("unhex({value})"),
            Some(_) => value,
            None => {
                let cases: Vec<String> = HEX_TYPES
                    .iter()
                    .map(|t| format!("WHEN {} THEN unhex({value})", t.tag()))
                    .collect();
                format!("(CASE {tag} {} ELSE {value} END)", cases.join(" "))
            }
        };
        columns.push(format!("{value} AS v{i}, {tag} AS t{i}"));
    }
    if columns.is_empty() {
        columns.push("NULL AS v0".to_string());
    }
    format!(
        "(SELECT {} FROM json_each({placeholder}))",
        columns.join(", ")
    )
}

/// The element of a value at a path of positions in nested sequences.
fn value_at<'v>(value: &'v Value, path: &[usize]) -> Result<&'v Value> {
    let mut current = value;
    for &i in path {
        let items = sequence(current, &Binding::Blank)?;
        current = items
            .get(i)
            .copied()
            .ok_or_else(|| Error::Query(format!("{current} has no element {i}")))?;
    }
    Ok(current)
}

/// Input rows as the JSON array `bind_rows` reads: `[[v0, t0, ...], ...]`.
fn rows_json(value: &Value, width: usize, collection: bool) -> Result<String> {
    let binding = Binding::Blank;
    let mut json = String::from("[");
    for (n, row) in sequence(value, &binding)?.into_iter().enumerate() {
        let cells = if collection {
            vec![row]
        } else {
            sequence(row, &binding)?
        };
        if cells.len() < width {
            return Err(Error::Query(format!(
                "an input row has {} values, {width} expected",
                cells.len()
            )));
        }
        json.push_str(if n == 0 { "[" } else { ",[" });
        for (i, cell) in cells.into_iter().take(width).enumerate() {
            let (literal, value_type) = scalar(cell)?;
            if i > 0 {
                json.push(',');
            }
            push_json(&mut json, &literal);
            json.push_str(&format!(",{}", value_type.tag()));
        }
        json.push(']');
    }
    json.push(']');
    Ok(json)
}

fn push_json(json: &mut String, literal: &SqlLiteral) {
    match literal {
        SqlLiteral::Null => json.push_str("null"),
        SqlLiteral::Integer(i) => json.push_str(&i.to_string()),
        // SQLite binds NaN as NULL, and reads 9e999 as infinity.
        SqlLiteral::Real(x) if x.is_nan() => json.push_str("null"),
        SqlLiteral::Real(x) if x.is_infinite() => {
            json.push_str(if *x > 0.0 { "9e999" } else { "-9e999" })
        }
        // Debug keeps a fraction or exponent, so SQLite reads a real back.
        SqlLiteral::Real(x) => json.push_str(&format!("{x:?}")),
        SqlLiteral::Text(s) => push_json_string(json, s),
        SqlLiteral::Blob(bytes) => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            push_json_string(json, &hex)
        }
    }
}

/// Appends `s` as a JSON string literal (for the arrays `json_each` reads).
pub fn push_json_string(json: &mut String, s: &str) {
    json.push('"');
    for c in s.chars() {
        match c {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            c if (c as u32) < 0x20 => json.push_str(&format!("\\u{:04x}", c as u32)),
            c => json.push(c),
        }
    }
    json.push('"');
}

impl Plan {
    /// The statement's parameters for these inputs (the arguments for
    /// `:in` after `$`, as given to [`signature`]) on this source. The
    /// inputs must have the signature the plan was compiled for.
    pub fn parameters(&self, inputs: &[Value], source: Source) -> Result<Vec<SqlLiteral>> {
        self.parameters_with_databases(inputs, source, &[])
    }

    /// [`Plan::parameters`] for a plan some of whose data sources are
    /// databases (see [`signature_with_databases`]), each on its view of
    /// time: they must be of the kinds the plan was compiled for.
    pub fn parameters_with_databases(
        &self,
        inputs: &[Value],
        source: Source,
        databases: &[DatabaseInput],
    ) -> Result<Vec<SqlLiteral>> {
        let source_of = |database: &Database| match database {
            Database::Default => Ok(source),
            Database::Input(input) => databases
                .iter()
                .find(|given| given.input == *input)
                .map(|given| given.source)
                .ok_or_else(|| {
                    Error::Query(format!(
                        "the plan reads input {} as a database, but none was given there",
                        input + 1
                    ))
                }),
        };
        self.params
            .iter()
            .map(|param| match param {
                Param::Basis(database) => source_of(database)?
                    .basis()
                    .map(SqlLiteral::Integer)
                    .ok_or_else(|| {
                        Error::Query(
                            "the plan reads a view of time but runs on the current state".into(),
                        )
                    }),
                Param::Since(database) => match source_of(database)? {
                    Source::SinceAsOf { since, .. } => Ok(SqlLiteral::Integer(since)),
                    _ => Err(Error::Query(
                        "the plan reads a since view of an older snapshot".into(),
                    )),
                },
                other => input_value(other, inputs),
            })
            .collect()
    }

    /// This plan with the values of these inputs made constants: a plan
    /// for these inputs only, whose parameters need no inputs.
    pub fn with_inputs(mut self, inputs: &[Value]) -> Result<Plan> {
        for param in &mut self.params {
            if matches!(param, Param::Input { .. } | Param::Rows { .. }) {
                *param = Param::Constant(input_value(param, inputs)?);
            }
        }
        for output in &mut self.outputs {
            let crate::Output::Aggregate { args, .. } = output else {
                continue;
            };
            for arg in args.iter_mut() {
                if let Some(value) = arg.parameter(inputs)? {
                    *arg = crate::AggregateInput::Constant(value);
                }
            }
        }
        Ok(self)
    }
}

impl crate::AggregateInput {
    /// The value of a parameter of the aggregate (a constant, or a scalar
    /// input's value among `inputs`); `None` for the aggregated column.
    pub fn parameter(&self, inputs: &[Value]) -> Result<Option<Value>> {
        match self {
            crate::AggregateInput::Constant(value) => Ok(Some(value.clone())),
            crate::AggregateInput::Input { input, path } => {
                let value = inputs.get(*input).ok_or_else(|| {
                    Error::Query(format!(
                        "the plan reads input {} but {} were given",
                        input + 1,
                        inputs.len()
                    ))
                })?;
                Ok(Some(value_at(value, path)?.clone()))
            }
            crate::AggregateInput::Column(_) => Ok(None),
        }
    }
}

/// The value of a parameter that is not the basis.
fn input_value(param: &Param, inputs: &[Value]) -> Result<SqlLiteral> {
    let input = |index: usize, path: &[usize]| -> Result<&Value> {
        let value = inputs.get(index).ok_or_else(|| {
            Error::Query(format!(
                "the plan reads input {} but {} were given",
                index + 1,
                inputs.len()
            ))
        })?;
        value_at(value, path)
    };
    match param {
        Param::Constant(literal) => Ok(literal.clone()),
        Param::Input { input: n, path } => scalar(input(*n, path)?).map(|(l, _)| l),
        Param::Rows {
            input: n,
            path,
            width,
            collection,
        } => rows_json(input(*n, path)?, *width, *collection).map(SqlLiteral::Text),
        Param::Basis(_) | Param::Since(_) => Err(Error::Query(
            "the basis of a view of time is not an input".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(rows: &str, width: usize, collection: bool) -> String {
        let value = factlite_edn::parse(rows).expect("EDN");
        rows_json(&value, width, collection).unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn rows_travel_as_json_with_their_tags() {
        let long = ValueType::Long.tag();
        let string = ValueType::String.tag();
        let double = ValueType::Double.tag();
        assert_eq!(json("[1 2]", 1, true), format!("[[1,{long}],[2,{long}]]"));
        assert_eq!(
            json(r#"[["a\"\\\n" 1.0] ["b" 2]]"#, 2, false),
            format!(r#"[["a\"\\\u000a",{string},1.0,{double}],["b",{string},2,{long}]]"#)
        );
        assert_eq!(json("[]", 2, false), "[]");
        assert_eq!(
            json("[[1]]", 2, false),
            "error: query cannot run: an input row has 1 values, 2 expected"
        );
    }
}
