//! Printing query results: aligned tables for people (with the row count
//! and a note when rows are left out), and EDN, JSON or CSV for programs.
//! The shape of a result (relation, collection, scalar, tuple) and its
//! column names come from the query's `:find` (and `:keys`/`:strs`/`:syms`).

use std::fmt::Write as _;

use factlite::edn::Value;

/// How results are printed (`.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Aligned columns with a header and the row count.
    Table,
    /// The result as one EDN value.
    Edn,
    /// The result as one JSON value.
    Json,
    /// A header line, then one line per row.
    Csv,
}

impl Mode {
    /// The mode a `.mode` argument or a file extension names.
    pub fn from_name(name: &str) -> Option<Mode> {
        match name {
            "table" => Some(Mode::Table),
            "edn" => Some(Mode::Edn),
            "json" => Some(Mode::Json),
            "csv" => Some(Mode::Csv),
            _ => None,
        }
    }

    /// The name `.mode` takes.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Table => "table",
            Mode::Edn => "edn",
            Mode::Json => "json",
            Mode::Csv => "csv",
        }
    }
}

/// What a query's `:find` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `:find ?a ?b`: rows.
    Relation,
    /// `:find [?a ...]`: single values.
    Collection,
    /// `:find ?a .`: one value or nil.
    Scalar,
    /// `:find [?a ?b]`: one row or nil.
    Tuple,
}

/// A query's result shape and column names, read from its EDN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    /// The shape of the result.
    pub shape: Shape,
    /// One name per column.
    pub names: Vec<String>,
    /// The keys of map rows (`:keys`/`:strs`/`:syms`), in column order.
    pub map_keys: Vec<Value>,
}

/// The keywords that end the `:find` part of a vector query.
const CLAUSE_KEYWORDS: [&str; 10] = [
    "find", "keys", "strs", "syms", "with", "in", "where", "order-by", "limit", "offset",
];

/// The clauses of a query given as a vector or a map: each clause keyword
/// with the forms after it.
fn query_clauses(query: &Value) -> Vec<(String, Vec<Value>)> {
    match query {
        Value::Map(entries) => entries
            .iter()
            .filter_map(|(key, value)| {
                let key = key.as_keyword()?;
                let forms = match value {
                    Value::Vector(items) | Value::List(items) => items.clone(),
                    other => vec![other.clone()],
                };
                Some((key.name.clone(), forms))
            })
            .collect(),
        Value::Vector(items) => {
            let mut clauses: Vec<(String, Vec<Value>)> = Vec::new();
            for item in items {
                match item.as_keyword() {
                    Some(keyword)
                        if keyword.namespace.is_none()
                            && CLAUSE_KEYWORDS.contains(&keyword.name.as_str()) =>
                    {
                        clauses.push((keyword.name.clone(), Vec::new()));
                    }
                    _ => {
                        if let Some((_, forms)) = clauses.last_mut() {
                            forms.push(item.clone());
                        }
                    }
                }
            }
            clauses
        }
        _ => Vec::new(),
    }
}

/// Whether an EDN value is a query (a vector starting with `:find`, or a map
/// with a `:find` key) rather than transaction data.
pub fn is_query(form: &Value) -> bool {
    let find = Value::keyword("find");
    match form {
        Value::Vector(items) => items.first() == Some(&find),
        Value::Map(entries) => entries.contains_key(&find),
        _ => false,
    }
}

/// The forms of a query's `:in` (empty when it has none).
pub fn input_names(query: &Value) -> Vec<Value> {
    query_clauses(query)
        .into_iter()
        .filter(|(name, _)| name == "in")
        .flat_map(|(_, forms)| forms)
        .collect()
}

/// The shape and column names of a query's result.
pub fn columns(query: &Value) -> Columns {
    let clauses = query_clauses(query);
    let find = clauses
        .iter()
        .find(|(name, _)| name == "find")
        .map(|(_, forms)| forms.clone())
        .unwrap_or_default();
    let is_dot = |form: &Value| matches!(form, Value::Symbol(symbol) if symbol.name == ".");
    let (shape, elements) = match find.as_slice() {
        [Value::Vector(inner)] if inner.last().is_some_and(|last| last.to_string() == "...") => {
            (Shape::Collection, inner[..inner.len() - 1].to_vec())
        }
        [Value::Vector(inner)] => (Shape::Tuple, inner.clone()),
        [element, dot] if is_dot(dot) => (Shape::Scalar, vec![element.clone()]),
        elements => (Shape::Relation, elements.to_vec()),
    };
    let mut names: Vec<String> = elements.iter().map(column_name).collect();
    let mut map_keys = Vec::new();
    for (clause, keys) in &clauses {
        let make: fn(&str) -> Value = match clause.as_str() {
            "keys" => Value::keyword,
            "strs" => |name| Value::String(name.to_string()),
            "syms" => Value::symbol,
            _ => continue,
        };
        names = keys.iter().map(|key| key.to_string()).collect();
        map_keys = names.iter().map(|name| make(name)).collect();
    }
    Columns {
        shape,
        names,
        map_keys,
    }
}

/// A column's name: the variable, or the aggregate or pull as written.
fn column_name(element: &Value) -> String {
    match element {
        Value::List(items) if items.first().is_some_and(|head| head.to_string() == "pull") => {
            format!(
                "pull {}",
                items.get(1).map(Value::to_string).unwrap_or_default()
            )
        }
        other => other.to_string(),
    }
}

/// The result as rows of cells, in the order they print: a set's rows
/// sorted (a set has no order of its own), a vector's (`:order-by`) kept.
pub fn rows(result: &Value, columns: &Columns) -> Vec<Vec<Value>> {
    let row_of = |item: &Value| -> Vec<Value> {
        match item {
            Value::Vector(cells) => cells.clone(),
            Value::Map(entries) if !columns.map_keys.is_empty() => columns
                .map_keys
                .iter()
                .map(|key| entries.get(key).cloned().unwrap_or(Value::Nil))
                .collect(),
            other => vec![other.clone()],
        }
    };
    let mut rows: Vec<Vec<Value>> = match (columns.shape, result) {
        (_, Value::Nil) => Vec::new(),
        (Shape::Scalar, value) => vec![vec![value.clone()]],
        (Shape::Tuple, value) => vec![row_of(value)],
        (Shape::Collection, Value::Set(items)) => items.iter().map(|v| vec![v.clone()]).collect(),
        (Shape::Collection, Value::Vector(items)) => {
            items.iter().map(|v| vec![v.clone()]).collect()
        }
        (Shape::Relation, Value::Set(items)) => items.iter().map(row_of).collect(),
        (Shape::Relation, Value::Vector(items)) => items.iter().map(row_of).collect(),
        (_, value) => vec![vec![value.clone()]],
    };
    if matches!(result, Value::Set(_)) {
        rows.sort();
    }
    rows
}

/// How a table is printed.
#[derive(Clone, Copy, Debug)]
pub struct TableStyle {
    /// At most this many rows print; a note counts the rest.
    pub max_rows: usize,
    /// A cell longer than this many characters is cut with `…`.
    pub max_cell: usize,
    /// Bold header (ANSI), for terminals.
    pub color: bool,
}

impl Default for TableStyle {
    fn default() -> TableStyle {
        TableStyle {
            max_rows: 100,
            max_cell: 60,
            color: false,
        }
    }
}

/// A cell as text: strings without quotes, instants as RFC 3339 text,
/// everything else as EDN.
pub fn cell_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Inst(instant) => instant.to_rfc3339(),
        other => other.to_string(),
    }
}

fn cut(text: String, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.replace('\n', " ");
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{}…", kept.replace('\n', " "))
}

/// Rows as an aligned table with a header, then `(N rows)`; numbers are
/// right-aligned. When there are more than `style.max_rows` rows, the first
/// ones print and a note says how many were left out.
pub fn table(names: &[String], rows: &[Vec<Value>], style: &TableStyle) -> String {
    let shown = &rows[..rows.len().min(style.max_rows)];
    let texts: Vec<Vec<String>> = shown
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| cut(cell_text(cell), style.max_cell))
                .collect()
        })
        .collect();
    let column_count = names
        .len()
        .max(shown.iter().map(Vec::len).max().unwrap_or(0));
    let mut widths: Vec<usize> = (0..column_count)
        .map(|index| names.get(index).map_or(0, |name| name.chars().count()))
        .collect();
    for row in &texts {
        for (index, text) in row.iter().enumerate() {
            widths[index] = widths[index].max(text.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = (0..column_count)
        .map(|index| {
            pad(
                names.get(index).map_or("", String::as_str),
                widths[index],
                false,
            )
        })
        .collect();
    let header = format!(" {} ", header.join(" | "));
    if style.color {
        let _ = writeln!(out, "\x1b[1m{}\x1b[0m", header.trim_end());
    } else {
        let _ = writeln!(out, "{}", header.trim_end());
    }
    let rule: Vec<String> = widths.iter().map(|width| "-".repeat(width + 2)).collect();
    let _ = writeln!(out, "{}", rule.join("+"));
    for (row, values) in texts.iter().zip(shown) {
        let cells: Vec<String> = (0..column_count)
            .map(|index| {
                let text = row.get(index).map_or("", String::as_str);
                let numeric =
                    matches!(values.get(index), Some(Value::Integer(_) | Value::Float(_)));
                pad(text, widths[index], numeric)
            })
            .collect();
        let _ = writeln!(out, "{}", format!(" {} ", cells.join(" | ")).trim_end());
    }
    let count = rows.len();
    let noun = if count == 1 { "row" } else { "rows" };
    if count > shown.len() {
        let _ = writeln!(
            out,
            "({count} {noun}; the first {} shown: `.mode csv` or `.export FILE QUERY` gives them all)",
            shown.len()
        );
    } else {
        let _ = writeln!(out, "({count} {noun})");
    }
    out
}

fn pad(text: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(text.chars().count()));
    if right {
        format!("{fill}{text}")
    } else {
        format!("{text}{fill}")
    }
}

/// An EDN value as JSON: keywords and symbols as their EDN text (`":a/b"`),
/// sets and lists as arrays, instants as RFC 3339 strings, UUIDs as strings,
/// map keys as text (keywords without their colon), non-finite doubles as
/// null.
pub fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Value::Nil => Json::Null,
        Value::Boolean(flag) => Json::Bool(*flag),
        Value::Integer(integer) => Json::from(*integer),
        Value::Float(float) => {
            serde_json::Number::from_f64(*float).map_or(Json::Null, Json::Number)
        }
        Value::String(text) => Json::String(text.clone()),
        Value::Char(c) => Json::String(c.to_string()),
        Value::Inst(instant) => Json::String(instant.to_rfc3339()),
        Value::Uuid(uuid) => Json::String(uuid.to_string()),
        Value::Keyword(_) | Value::Symbol(_) | Value::Tagged(..) => Json::String(value.to_string()),
        Value::List(items) | Value::Vector(items) => {
            Json::Array(items.iter().map(to_json).collect())
        }
        Value::Set(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(key, value)| (json_key(key), to_json(value)))
                .collect(),
        ),
    }
}

/// A map key as a JSON object key: a keyword without its colon
/// (`"film/title"`), a string as it is, anything else as EDN text.
fn json_key(key: &Value) -> String {
    match key {
        Value::Keyword(keyword) => keyword.qualified_name(),
        other => cell_text(other),
    }
}

/// Rows as CSV with a header line.
pub fn csv(names: &[String], rows: &[Vec<Value>]) -> String {
    let mut writer = ::csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = writer.write_record(names);
    for row in rows {
        let _ = writer.write_record(row.iter().map(cell_text));
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A query result printed in `mode`.
pub fn render(result: &Value, columns: &Columns, mode: Mode, style: &TableStyle) -> String {
    match mode {
        Mode::Edn => format!("{}\n", result.to_pretty_string(100)),
        Mode::Json => format!("{}\n", to_json(result)),
        Mode::Csv => csv(&columns.names, &rows(result, columns)),
        Mode::Table => table(&columns.names, &rows(result, columns), style),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use factlite::edn;

    fn check(query: &str, result: &str, mode: Mode, expected: &str) {
        let query = edn::parse(query).expect("query");
        let result = edn::parse(result).expect("result");
        let style = TableStyle {
            max_rows: 3,
            ..TableStyle::default()
        };
        assert_eq!(render(&result, &columns(&query), mode, &style), expected);
    }

    #[test]
    fn relations_print_as_sorted_aligned_tables() {
        check(
            "[:find ?title ?year :where [?f :film/title ?title] [?f :film/year ?year]]",
            r#"#{["Jaws" 1975] ["Alien" 1979]}"#,
            Mode::Table,
            " ?title | ?year\n--------+-------\n Alien  |  1979\n Jaws   |  1975\n(2 rows)\n",
        );
    }

    #[test]
    fn large_results_are_cut_with_a_note() {
        check(
            "[:find [?n ...] :where [_ :a/n ?n]]",
            "#{1 2 3 4 5}",
            Mode::Table,
            " ?n\n----\n  1\n  2\n  3\n(5 rows; the first 3 shown: `.mode csv` or `.export FILE QUERY` gives them all)\n",
        );
    }

    #[test]
    fn scalars_tuples_keys_and_aggregates_name_their_columns() {
        check(
            "[:find (count ?e) . :where [?e :a/n]]",
            "3",
            Mode::Table,
            " (count ?e)\n------------\n          3\n(1 row)\n",
        );
        check(
            "[:find ?e . :where [?e :a/n]]",
            "nil",
            Mode::Table,
            " ?e\n----\n(0 rows)\n",
        );
        check(
            "{:find [[?a ?b]] :where [[?a :a/n ?b]]}",
            "[1 \"x\"]",
            Mode::Csv,
            "?a,?b\n1,x\n",
        );
        check(
            "[:find ?a ?b :keys a b :where [?a :a/n ?b]]",
            "#{{:a 1 :b :k}}",
            Mode::Csv,
            "a,b\n1,:k\n",
        );
    }

    #[test]
    fn machine_modes_print_the_whole_value() {
        check(
            "[:find [?n ...] :where [_ :a/n ?n]]",
            "#{:x \"y\"}",
            Mode::Json,
            "[\":x\",\"y\"]\n",
        );
        check(
            "[:find [?n ...] :where [_ :a/n ?n]]",
            "#{:x \"y\"}",
            Mode::Edn,
            "#{:x \"y\"}\n",
        );
    }

    #[test]
    fn queries_are_told_from_transaction_data() {
        for (text, query) in [
            ("[:find ?x]", true),
            ("{:find [?x]}", true),
            ("[[:db/add 1 :a/b 2]]", false),
            ("[]", false),
        ] {
            assert_eq!(is_query(&edn::parse(text).expect("edn")), query, "{text}");
        }
    }
}
