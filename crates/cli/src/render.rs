//! Printing results: tables (plain, boxed, Markdown) and `name = value`
//! lines for people, with the row count and a note when rows are left out
//! (`.limit`) or cells cut (`.width`); EDN, JSON, CSV or TSV for programs.
//! The shape of a query's result (relation, collection, scalar, tuple) and
//! its column names come from its `:find` (and `:keys`/`:strs`/`:syms`);
//! other tabular output (`.attrs`, `.log`, ...) prints through [`tabular`].

use std::fmt::Write as _;

use factlite::edn::Value;

use crate::words::counted;

/// How results are printed (`.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Aligned columns with a header and the row count.
    Table,
    /// Aligned columns in a box of line-drawing characters.
    Box,
    /// A Markdown table.
    Markdown,
    /// One `name = value` line per cell, a blank line between rows.
    Line,
    /// The result as one EDN value.
    Edn,
    /// The result as one JSON value (rows as objects keyed by column).
    Json,
    /// Comma-separated values, a header line first.
    Csv,
    /// Tab-separated values, a header line first.
    Tsv,
}

impl Mode {
    /// Every mode, in the order `.help` and completion list them.
    pub const ALL: [Mode; 8] = [
        Mode::Table,
        Mode::Box,
        Mode::Markdown,
        Mode::Line,
        Mode::Edn,
        Mode::Json,
        Mode::Csv,
        Mode::Tsv,
    ];

    /// The mode a `.mode` argument or a file extension names.
    pub fn from_name(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|mode| mode.name() == name)
    }

    /// The name `.mode` takes.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Table => "table",
            Mode::Box => "box",
            Mode::Markdown => "markdown",
            Mode::Line => "line",
            Mode::Edn => "edn",
            Mode::Json => "json",
            Mode::Csv => "csv",
            Mode::Tsv => "tsv",
        }
    }

    /// Whether the mode is for people to read (tables and lines, with a
    /// row count and `.limit`), not for programs.
    pub fn for_people(self) -> bool {
        matches!(self, Mode::Table | Mode::Box | Mode::Markdown | Mode::Line)
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

/// How results are printed besides their mode (`.headers`, `.limit`,
/// `.width`, colour).
#[derive(Clone, Debug)]
pub struct Style {
    /// At most this many rows print in the modes for people, and a note
    /// counts the rest; `None` prints them all.
    pub limit: Option<usize>,
    /// The most characters each column shows in tables (`.width`), by
    /// position; 0 shows a column whole. Columns past the list use
    /// `default_width`.
    pub widths: Vec<usize>,
    /// The most characters a column shows when `widths` says nothing
    /// (0: whole).
    pub default_width: usize,
    /// Whether tables, CSV and TSV start with the column names.
    pub headers: bool,
    /// Bold headers (ANSI), for terminals.
    pub color: bool,
}

impl Default for Style {
    fn default() -> Style {
        Style {
            limit: Some(100),
            widths: Vec::new(),
            default_width: 60,
            headers: true,
            color: false,
        }
    }
}

impl Style {
    /// The most characters column `index` shows, `None` for all of them.
    fn width(&self, index: usize) -> Option<usize> {
        let width = self
            .widths
            .get(index)
            .copied()
            .unwrap_or(self.default_width);
        (width > 0).then_some(width)
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

/// A cell on one line of a table, cut to `width` characters with `…`;
/// the flag says whether it was cut.
fn table_cell(value: &Value, width: Option<usize>) -> (String, bool) {
    let text = cell_text(value).replace('\n', " ");
    match width {
        Some(width) if text.chars().count() > width => {
            let kept: String = text.chars().take(width.saturating_sub(1)).collect();
            (format!("{kept}…"), true)
        }
        _ => (text, false),
    }
}

/// The rows that print in a mode for people, and how many are left out.
fn limited<'r>(rows: &'r [Vec<Value>], style: &Style) -> (&'r [Vec<Value>], usize) {
    let shown = style
        .limit
        .map_or(rows.len(), |limit| rows.len().min(limit));
    (&rows[..shown], rows.len() - shown)
}

/// The line after a table: the row count, the rows left out and the cells
/// cut, each with the command that shows them.
fn footer(count: usize, left_out: usize, cut: usize) -> String {
    let mut out = format!("({}", counted(count, "row"));
    if left_out > 0 {
        let _ = write!(
            out,
            "; the first {} shown, {left_out} left out: `.limit 0` shows them all",
            count - left_out
        );
    }
    if cut > 0 {
        let _ = write!(
            out,
            "; {} cut: `.mode line` or `.width 0` shows them whole",
            counted(cut, "long cell")
        );
    }
    out.push_str(")\n");
    out
}

/// The characters that draw a table's frame.
struct Frame {
    /// Before, between and after the cells of a row.
    row: [&'static str; 3],
    /// The rule under the header: its fill, and its joints (left, middle,
    /// right); `None` for a mode without it.
    rule: (char, [&'static str; 3]),
    /// The top and bottom lines of a box.
    top: Option<[&'static str; 3]>,
    bottom: Option<[&'static str; 3]>,
}

const PLAIN: Frame = Frame {
    row: [" ", " | ", " "],
    rule: ('-', ["", "+", ""]),
    top: None,
    bottom: None,
};

const BOX: Frame = Frame {
    row: ["│ ", " │ ", " │"],
    rule: ('─', ["├", "┼", "┤"]),
    top: Some(["┌", "┬", "┐"]),
    bottom: Some(["└", "┴", "┘"]),
};

const MARKDOWN: Frame = Frame {
    row: ["| ", " | ", " |"],
    rule: ('-', ["|", "|", "|"]),
    top: None,
    bottom: None,
};

/// A horizontal line of the frame over columns of these widths.
fn frame_line(fill: char, joints: [&str; 3], widths: &[usize]) -> String {
    let parts: Vec<String> = widths
        .iter()
        .map(|width| fill.to_string().repeat(width + 2))
        .collect();
    format!("{}{}{}", joints[0], parts.join(joints[1]), joints[2])
}

/// Rows as an aligned table (plain, boxed or Markdown) with a header, then
/// the row count; numbers are right-aligned.
fn grid(names: &[String], rows: &[Vec<Value>], frame: &Frame, style: &Style) -> String {
    let (shown, left_out) = limited(rows, style);
    let mut cut = 0;
    let markdown = std::ptr::eq(frame, &MARKDOWN);
    let texts: Vec<Vec<String>> = shown
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(index, cell)| {
                    let (text, was_cut) = table_cell(cell, style.width(index));
                    cut += usize::from(was_cut);
                    if markdown {
                        text.replace('|', "\\|")
                    } else {
                        text
                    }
                })
                .collect()
        })
        .collect();
    let column_count = names
        .len()
        .max(shown.iter().map(Vec::len).max().unwrap_or(0));
    let mut widths: Vec<usize> = (0..column_count)
        .map(|index| match names.get(index) {
            Some(name) if style.headers => name.chars().count(),
            _ => 0,
        })
        .collect();
    for row in &texts {
        for (index, text) in row.iter().enumerate() {
            widths[index] = widths[index].max(text.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let text = format!(
            "{}{}{}",
            frame.row[0],
            cells.join(frame.row[1]),
            frame.row[2]
        );
        format!("{}\n", text.trim_end())
    };
    let mut out = String::new();
    if let Some(top) = frame.top {
        let _ = writeln!(out, "{}", frame_line(frame.rule.0, top, &widths));
    }
    if style.headers {
        let header = line(
            (0..column_count)
                .map(|index| {
                    pad(
                        names.get(index).map_or("", String::as_str),
                        widths[index],
                        false,
                    )
                })
                .collect(),
        );
        if style.color {
            let _ = writeln!(out, "\x1b[1m{}\x1b[0m", header.trim_end());
        } else {
            out.push_str(&header);
        }
        let _ = writeln!(out, "{}", frame_line(frame.rule.0, frame.rule.1, &widths));
    }
    for (row, values) in texts.iter().zip(shown) {
        out.push_str(&line(
            (0..column_count)
                .map(|index| {
                    let text = row.get(index).map_or("", String::as_str);
                    let numeric = matches!(
                        values.get(index),
                        Some(
                            Value::Integer(_)
                                | Value::Float(_)
                                | Value::BigInt(_)
                                | Value::BigDec(_)
                        )
                    );
                    pad(text, widths[index], numeric)
                })
                .collect(),
        ));
    }
    if let Some(bottom) = frame.bottom {
        let _ = writeln!(out, "{}", frame_line(frame.rule.0, bottom, &widths));
    }
    out.push_str(&footer(rows.len(), left_out, cut));
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

/// Rows as `name = value` lines, names right-aligned, a blank line between
/// rows; cells print whole.
fn lines(names: &[String], rows: &[Vec<Value>], style: &Style) -> String {
    let (shown, left_out) = limited(rows, style);
    let width = names
        .iter()
        .map(|name| name.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (index, row) in shown.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        for (column, cell) in row.iter().enumerate() {
            let name = names.get(column).map_or("", String::as_str);
            let _ = writeln!(out, "{} = {}", pad(name, width, true), cell_text(cell));
        }
    }
    if !shown.is_empty() {
        out.push('\n');
    }
    out.push_str(&footer(rows.len(), left_out, 0));
    out
}

/// An EDN value as JSON: keywords and symbols as their EDN text (`":a/b"`),
/// sets and lists as arrays, instants as RFC 3339 strings, UUIDs as strings,
/// map keys as text (keywords without their colon), non-finite doubles as
/// null, big integers and decimals as strings of their digits (exact,
/// where a JSON number would be read as a double: `"12345678901234567890123"`,
/// `"0.1"`).
pub fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Value::Nil => Json::Null,
        Value::Boolean(flag) => Json::Bool(*flag),
        Value::Integer(integer) => Json::from(*integer),
        Value::Float(float) => {
            serde_json::Number::from_f64(*float).map_or(Json::Null, Json::Number)
        }
        Value::BigInt(number) => Json::String(number.to_string()),
        Value::BigDec(_) => {
            // The printed decimal without its `M`.
            let mut text = value.to_string();
            text.pop();
            Json::String(text)
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

/// A column name as a JSON object key: a variable without its `?`
/// (`"title"`), anything else (an aggregate, a pull) as written.
pub fn json_name(name: &str) -> String {
    match name.strip_prefix('?') {
        Some(variable) if !variable.is_empty() => variable.to_string(),
        _ => name.to_string(),
    }
}

/// One row as a JSON object keyed by the column names.
fn json_object(names: &[String], row: &[Value]) -> serde_json::Value {
    serde_json::Value::Object(
        names
            .iter()
            .zip(row)
            .map(|(name, cell)| (json_name(name), to_json(cell)))
            .collect(),
    )
}

/// Rows as one JSON array of objects keyed by the column names.
pub fn rows_json(names: &[String], rows: &[Vec<Value>]) -> serde_json::Value {
    serde_json::Value::Array(rows.iter().map(|row| json_object(names, row)).collect())
}

/// Rows as CSV (or TSV with `delimiter` b'\t'), with a header line unless
/// `.headers off`. A TSV cell's tabs and line breaks print as `\t`, `\n`.
fn delimited(names: &[String], rows: &[Vec<Value>], delimiter: u8, style: &Style) -> String {
    let cell = |value: &Value| {
        let text = cell_text(value);
        if delimiter == b'\t' {
            text.replace('\\', "\\\\")
                .replace('\t', "\\t")
                .replace('\n', "\\n")
        } else {
            text
        }
    };
    let mut writer = ::csv::WriterBuilder::new()
        .flexible(true)
        .delimiter(delimiter)
        .quote_style(if delimiter == b'\t' {
            ::csv::QuoteStyle::Never
        } else {
            ::csv::QuoteStyle::Necessary
        })
        .from_writer(Vec::new());
    // Writing to memory cannot fail.
    if style.headers {
        let _ = writer.write_record(names);
    }
    for row in rows {
        let _ = writer.write_record(row.iter().map(cell));
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Tabular output — named columns and rows of values — printed in `mode`:
/// EDN as a vector of maps keyed by the column names, JSON as an array of
/// objects.
pub fn tabular(names: &[String], rows: &[Vec<Value>], mode: Mode, style: &Style) -> String {
    match mode {
        Mode::Table => grid(names, rows, &PLAIN, style),
        Mode::Box => grid(names, rows, &BOX, style),
        Mode::Markdown => grid(names, rows, &MARKDOWN, style),
        Mode::Line => lines(names, rows, style),
        Mode::Csv => delimited(names, rows, b',', style),
        Mode::Tsv => delimited(names, rows, b'\t', style),
        Mode::Json => format!("{}\n", rows_json(names, rows)),
        Mode::Edn => {
            let maps = rows
                .iter()
                .map(|row| {
                    Value::Map(
                        names
                            .iter()
                            .zip(row)
                            .map(|(name, cell)| (Value::String(name.clone()), cell.clone()))
                            .collect(),
                    )
                })
                .collect();
            format!("{}\n", Value::Vector(maps).to_pretty_string(100))
        }
    }
}

/// A query's result as JSON: a relation as an array of objects keyed by
/// the find elements' names, a collection as an array, a scalar as its
/// value, a tuple as one object (`null` when there is none).
pub fn result_json(result: &Value, columns: &Columns) -> serde_json::Value {
    let rows = rows(result, columns);
    match columns.shape {
        Shape::Relation => rows_json(&columns.names, &rows),
        Shape::Collection => serde_json::Value::Array(
            rows.iter()
                .filter_map(|row| row.first())
                .map(to_json)
                .collect(),
        ),
        Shape::Scalar => to_json(result),
        Shape::Tuple => rows.first().map_or(serde_json::Value::Null, |row| {
            json_object(&columns.names, row)
        }),
    }
}

/// A query result printed in `mode`.
pub fn render(result: &Value, columns: &Columns, mode: Mode, style: &Style) -> String {
    match mode {
        Mode::Edn => format!("{}\n", result.to_pretty_string(100)),
        Mode::Json => format!("{}\n", result_json(result, columns)),
        other => tabular(&columns.names, &rows(result, columns), other, style),
    }
}

/// What a statement gives to print, before the mode decides how.
#[derive(Clone, Debug)]
pub enum Printed {
    /// Nothing (`.mode csv`, `.now`, ...).
    Nothing,
    /// A report for people (a transaction, `wrote FILE`, ...) and its JSON
    /// form for `--json`.
    Report {
        /// The text, ending with a newline.
        text: String,
        /// The same as JSON.
        json: serde_json::Value,
    },
    /// One EDN value (a pull, an entity, the schema, the rules): pretty EDN,
    /// or JSON.
    Value(Value),
    /// Named columns and rows (`.attrs`, `.log`, `.views`, `.param`).
    Rows {
        /// The column names.
        names: Vec<String>,
        /// The rows.
        rows: Vec<Vec<Value>>,
    },
    /// A query's result, shaped by its find spec.
    Result {
        /// The result as EDN.
        result: Value,
        /// Its shape and column names.
        columns: Columns,
    },
}

impl Printed {
    /// A sentence for people; in JSON `{"message": ...}`.
    pub fn message(text: String) -> Printed {
        let json = serde_json::json!({ "message": text.trim_end() });
        Printed::Report { text, json }
    }

    /// The text to print in `mode`.
    pub fn text(&self, mode: Mode, style: &Style) -> String {
        match (self, mode) {
            (Printed::Nothing, _) => String::new(),
            (Printed::Report { json, .. }, Mode::Json) => format!("{json}\n"),
            (Printed::Report { text, .. }, _) => text.clone(),
            (Printed::Value(value), Mode::Json) => format!("{}\n", to_json(value)),
            (Printed::Value(value), _) => format!("{}\n", value.to_pretty_string(100)),
            (Printed::Rows { names, rows }, mode) => tabular(names, rows, mode, style),
            (Printed::Result { result, columns }, mode) => render(result, columns, mode, style),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use factlite::edn;

    fn check(query: &str, result: &str, mode: Mode, expected: &str) {
        let query = edn::parse(query).expect("query");
        let result = edn::parse(result).expect("result");
        let style = Style {
            limit: Some(3),
            ..Style::default()
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
    fn big_numbers_print_as_edn_align_right_and_are_strings_in_json() {
        check(
            "[:find ?n ?d :where [?e :a/n ?n] [?e :a/d ?d]]",
            "#{[12345678901234567890123N 0.1M] [7N -1.5M]}",
            Mode::Table,
            " ?n                       | ?d\n--------------------------+-------\n                       7N | -1.5M\n 12345678901234567890123N |  0.1M\n(2 rows)\n",
        );
        let value = edn::parse("[12345678901234567890123N 0.1M 15e2M]").expect("EDN");
        assert_eq!(
            to_json(&value),
            serde_json::json!(["12345678901234567890123", "0.1", "15e2"])
        );
    }

    #[test]
    fn large_results_are_cut_with_a_note() {
        check(
            "[:find [?n ...] :where [_ :a/n ?n]]",
            "#{1 2 3 4 5}",
            Mode::Table,
            " ?n\n----\n  1\n  2\n  3\n(5 rows; the first 3 shown, 2 left out: `.limit 0` shows them all)\n",
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
            "[\"y\",\":x\"]\n",
        );
        check(
            "[:find ?a ?b :where [?a :a/n ?b]]",
            "#{[1 \"x\"] [2 \"y\"]}",
            Mode::Json,
            "[{\"a\":1,\"b\":\"x\"},{\"a\":2,\"b\":\"y\"}]\n",
        );
        check(
            "[:find (count ?a) . :where [?a :a/n]]",
            "2",
            Mode::Json,
            "2\n",
        );
        check(
            "[:find [?n ...] :where [_ :a/n ?n]]",
            "#{:x \"y\"}",
            Mode::Edn,
            "#{:x \"y\"}\n",
        );
    }

    /// Every mode for people on the same two rows (and one too many).
    #[test]
    fn each_mode_for_people_prints_its_table() {
        let query = "[:find ?t ?y :where [?f :f/t ?t] [?f :f/y ?y]]";
        let result = r#"#{["Alien" 1979] ["Jaws" 1975] ["Up" 2009] ["X|Y" 1]}"#;
        for (mode, expected) in [
            (
                Mode::Box,
                "┌───────┬──────┐\n│ ?t    │ ?y   │\n├───────┼──────┤\n│ Alien │ 1979 │\n│ Jaws  │ 1975 │\n│ Up    │ 2009 │\n└───────┴──────┘\n(4 rows; the first 3 shown, 1 left out: `.limit 0` shows them all)\n",
            ),
            (
                Mode::Markdown,
                "| ?t    | ?y   |\n|-------|------|\n| Alien | 1979 |\n| Jaws  | 1975 |\n| Up    | 2009 |\n(4 rows; the first 3 shown, 1 left out: `.limit 0` shows them all)\n",
            ),
            (
                Mode::Line,
                "?t = Alien\n?y = 1979\n\n?t = Jaws\n?y = 1975\n\n?t = Up\n?y = 2009\n\n(4 rows; the first 3 shown, 1 left out: `.limit 0` shows them all)\n",
            ),
            (Mode::Tsv, "?t\t?y\nAlien\t1979\nJaws\t1975\nUp\t2009\nX|Y\t1\n"),
        ] {
            check(query, result, mode, expected);
        }
    }

    #[test]
    fn headers_off_and_widths_cut_cells_and_say_so() {
        let query = edn::parse("[:find ?t ?y :where [?f :f/t ?t] [?f :f/y ?y]]").expect("query");
        let result = edn::parse(r#"#{["Apocalypse Now" 1979]}"#).expect("result");
        let style = Style {
            widths: vec![5],
            headers: false,
            ..Style::default()
        };
        assert_eq!(
            render(&result, &columns(&query), Mode::Table, &style),
            " Apoc… | 1979\n(1 row; 1 long cell cut: `.mode line` or `.width 0` shows them whole)\n"
        );
        assert_eq!(
            render(&result, &columns(&query), Mode::Csv, &style),
            "Apocalypse Now,1979\n"
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
