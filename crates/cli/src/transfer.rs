//! Moving data in and out of a store as files.
//!
//! Import (`.import FILE`, `factlite import`), by extension:
//! - `.edn`: top-level vectors of transaction data, each one transaction,
//!   read and transacted one at a time;
//! - `.json`: an array of objects (or one object per line), each an entity
//!   map whose keys name attributes (`"film/title"` or `":film/title"`);
//! - `.csv`: a header row of attribute names, then one entity per row.
//!
//! JSON and CSV values are converted by the attribute's value type (a
//! keyword from `"x"` or `":x"`, an instant from RFC 3339 text, a ref from an
//! id, a lookup ref or a tempid), and every [`BATCH`] entities make one
//! transaction. A tempid (a string under `db/id` or a ref attribute) names
//! one entity throughout the file: in later batches it is replaced by the
//! entity it got. Files over [`PROGRESS_BYTES`] show a progress bar on a
//! terminal. An error stops the import and names the place in the file;
//! the transactions before it stay committed, as the message says.
//!
//! Export writes every datom a snapshot sees as transaction data that
//! imports into an empty store: the attribute definitions first, then the
//! facts with tempids `"e<id>"` in place of entity ids.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use factlite::edn::{self, Keyword, Value};
use factlite::{Db, Entid, Store, TypedValue, ValueType};
use factlite_core::bootstrap::FIRST_USER_SCHEMA_ID;
use factlite_core::{Partition, Schema};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::commands::definition;
use crate::error::{CliError, Result};
use crate::input;
use crate::interrupt;
use crate::render::Mode;
use crate::words::{article, counted};

/// Entities per transaction when importing JSON or CSV.
pub const BATCH: usize = 1000;

/// Files at least this large show a progress bar.
pub const PROGRESS_BYTES: u64 = 1 << 20;

/// What an import did.
#[derive(Clone, Debug)]
pub struct ImportSummary {
    /// The file.
    pub path: PathBuf,
    /// Datoms asserted and retracted (transaction instants not counted).
    pub datoms: usize,
    /// Transactions committed.
    pub transactions: usize,
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            self.datoms as f64 / seconds
        } else {
            0.0
        };
        writeln!(
            f,
            "imported {} in {} from {} in {seconds:.2} s ({rate:.0} datoms/s)",
            counted(self.datoms, "datom"),
            counted(self.transactions, "transaction"),
            self.path.display()
        )
    }
}

/// The output mode a file's extension names (`.edn`, `.json`, `.csv`).
pub fn mode_for(path: &Path) -> Option<Mode> {
    match path.extension()?.to_str()? {
        "edn" => Some(Mode::Edn),
        "json" | "jsonl" => Some(Mode::Json),
        "csv" => Some(Mode::Csv),
        _ => None,
    }
}

/// Imports a file into `store`; `progress` allows a progress bar.
pub fn import_file(store: &Store, path: &Path, progress: bool) -> Result<ImportSummary> {
    let text = std::fs::read_to_string(path).map_err(|error| CliError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let mut import = Import {
        store,
        path,
        bar: progress_bar(text.len() as u64, progress),
        datoms: 0,
        transactions: 0,
        started: Instant::now(),
        tempids: HashMap::new(),
    };
    match mode_for(path) {
        Some(Mode::Edn) => import.edn(&text)?,
        Some(Mode::Json) => import.json(&text)?,
        Some(Mode::Csv) => import.csv(&text)?,
        _ => {
            return Err(CliError::Usage(format!(
                "cannot tell the format of {}: name it .edn, .json or .csv",
                path.display()
            )))
        }
    }
    import.bar.finish_and_clear();
    Ok(ImportSummary {
        path: path.to_path_buf(),
        datoms: import.datoms,
        transactions: import.transactions,
        elapsed: import.started.elapsed(),
    })
}

fn progress_bar(bytes: u64, allowed: bool) -> ProgressBar {
    if !allowed || bytes < PROGRESS_BYTES {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(bytes), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "importing [{bar:40}] {bytes}/{total_bytes} {msg} ({elapsed}, {eta} left)",
    )
    .map(|style| style.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}

/// One import in progress.
struct Import<'i> {
    store: &'i Store,
    path: &'i Path,
    bar: ProgressBar,
    datoms: usize,
    transactions: usize,
    started: Instant,
    /// The entities the tempids of earlier JSON or CSV batches got.
    tempids: HashMap<String, Entid>,
}

impl Import<'_> {
    fn fail(&self, place: String, message: String) -> CliError {
        let committed = match self.transactions {
            0 => "nothing was imported".to_string(),
            1 => "the transaction before it stays committed".to_string(),
            n => format!("the {n} transactions before it stay committed"),
        };
        CliError::Import {
            path: self.path.to_path_buf(),
            place,
            message: format!("{message}; {committed}"),
        }
    }

    /// Transacts one form; `place` names it in errors; `done` is the byte
    /// offset reached, for the progress bar.
    fn transact(&mut self, tx_data: &Value, place: impl Fn() -> String, done: usize) -> Result<()> {
        if interrupt::was_interrupted() {
            return Err(self.fail(place(), "interrupted (Ctrl-C)".to_string()));
        }
        let report = self.store.transact(tx_data).map_err(|error| {
            let message = if interrupt::was_interrupted() {
                "interrupted (Ctrl-C)".to_string()
            } else {
                format!("{} {error}", error.category().keyword())
            };
            self.fail(place(), message)
        })?;
        self.datoms += report
            .datoms
            .iter()
            .filter(|datom| datom.e != report.tx)
            .count();
        self.transactions += 1;
        self.tempids.extend(report.tempids);
        self.bar.set_position(done as u64);
        self.bar.set_message(format!("{} datoms", self.datoms));
        Ok(())
    }

    fn edn(&mut self, text: &str) -> Result<()> {
        // Lines are counted as the forms go by, each stretch of text once.
        let mut line = 1;
        let mut counted_to = 0;
        for range in input::top_level_forms(text) {
            line += text[counted_to..range.start].matches('\n').count();
            counted_to = range.start;
            let form = edn::parse(&text[range.clone()]).map_err(|error| {
                // The reader counts from the form's start; on the form's first
                // line its columns follow the text before the form.
                let line_start = text[..range.start]
                    .rfind('\n')
                    .map_or(0, |newline| newline + 1);
                let column = match error.line {
                    1 => text[line_start..range.start].chars().count() + error.column,
                    _ => error.column,
                };
                let place = format!("line {}, column {column}", line + error.line - 1);
                self.fail(place, format!("not valid EDN: {}", error.message))
            })?;
            if !matches!(form, Value::Vector(_)) {
                let message = format!(
                    "expected a vector of transaction data, found a {}",
                    form.kind_name()
                );
                return Err(self.fail(format!("line {line}"), message));
            }
            self.transact(&form, || format!("line {line}"), range.end)?;
        }
        Ok(())
    }

    fn json(&mut self, text: &str) -> Result<()> {
        let records: Vec<(usize, serde_json::Value)> = if text.trim_start().starts_with('[') {
            let all: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|error| {
                let place = format!("line {}, column {}", error.line(), error.column());
                self.fail(place, format!("not valid JSON: {error}"))
            })?;
            all.into_iter()
                .enumerate()
                .map(|(index, record)| (index + 1, record))
                .collect()
        } else {
            let mut records = Vec::new();
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let record = serde_json::from_str(line).map_err(|error| {
                    let place = format!("line {}, column {}", index + 1, error.column());
                    self.fail(place, format!("not valid JSON: {error}"))
                })?;
                records.push((index + 1, record));
            }
            records
        };
        // An array's records are counted; one record a line is named by its line.
        let unit = if text.trim_start().starts_with('[') {
            "record"
        } else {
            "line"
        };
        let starts = array_element_starts(text);
        let schema = self.schema()?;
        let total = records.len().max(1);
        for (batch_index, batch) in records.chunks(BATCH).enumerate() {
            let mut entities = Vec::with_capacity(batch.len());
            for (number, record) in batch {
                let mut entity = json_entity(&schema, record).map_err(|message| {
                    let place = match starts.get(number - 1) {
                        Some((line, column)) if unit == "record" => {
                            format!("line {line}, column {column} (record {number})")
                        }
                        _ => format!("{unit} {number}"),
                    };
                    self.fail(place, message)
                })?;
                resolve_earlier_tempids(&schema, &self.tempids, &mut entity);
                entities.push(entity);
            }
            let first = batch.first().map_or(0, |(number, _)| *number);
            let done = text.len() * ((batch_index + 1) * BATCH).min(total) / total;
            self.transact(
                &Value::Vector(entities),
                || format!("{unit}s from {first}"),
                done,
            )?;
        }
        Ok(())
    }

    fn csv(&mut self, text: &str) -> Result<()> {
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header: Vec<Value> = reader
            .headers()
            .map_err(|error| self.fail("header".to_string(), error.to_string()))?
            .iter()
            .map(|name| Value::keyword(name.trim().trim_start_matches(':')))
            .collect();
        let schema = self.schema()?;
        let mut entities = Vec::with_capacity(BATCH);
        let mut first_line = 2;
        for record in reader.records() {
            let record = record.map_err(|error| {
                let line = error.position().map_or(0, |position| position.line());
                self.fail(format!("line {line}"), error.to_string())
            })?;
            let line = record.position().map_or(0, |position| position.line()) as usize;
            if entities.is_empty() {
                first_line = line;
            }
            let start = record.position().map_or(0, |position| position.byte()) as usize;
            let raw_line = text[start..].lines().next().unwrap_or("");
            let mut map = indexmap::IndexMap::new();
            for (field, (attribute, cell)) in header.iter().zip(record.iter()).enumerate() {
                if cell.is_empty() {
                    continue;
                }
                let value = text_value(&schema, attribute, cell).map_err(|message| {
                    let column = csv_column(raw_line, field);
                    self.fail(format!("line {line}, column {column}"), message)
                })?;
                map.insert(attribute.clone(), value);
            }
            let mut entity = Value::Map(map);
            resolve_earlier_tempids(&schema, &self.tempids, &mut entity);
            entities.push(entity);
            if entities.len() == BATCH {
                let done = record.position().map_or(0, |position| position.byte()) as usize;
                let tx_data = Value::Vector(std::mem::take(&mut entities));
                self.transact(&tx_data, || format!("lines from {first_line}"), done)?;
            }
        }
        if !entities.is_empty() {
            self.transact(
                &Value::Vector(entities),
                || format!("lines from {first_line}"),
                text.len(),
            )?;
        }
        Ok(())
    }

    fn schema(&self) -> Result<std::sync::Arc<Schema>> {
        Ok(self.store.schema()?)
    }
}

/// Replaces, in an entity map of a JSON or CSV import, each tempid that an
/// earlier batch resolved (a string under `db/id` or a ref attribute, also
/// inside a cardinality-many vector or a nested entity) by its entity id.
fn resolve_earlier_tempids(schema: &Schema, tempids: &HashMap<String, Entid>, entity: &mut Value) {
    let Value::Map(map) = entity else {
        return;
    };
    for (key, value) in map.iter_mut() {
        let is_ref = key
            .as_keyword()
            .is_some_and(|k| k.namespace.as_deref() == Some("db") && k.name == "id")
            || value_type(schema, key) == Some(ValueType::Ref);
        if !is_ref {
            continue;
        }
        let values: &mut [Value] = match value {
            Value::Vector(items) if !is_lookup_ref(schema, items) => items,
            single => std::slice::from_mut(single),
        };
        for value in values {
            match value {
                Value::String(tempid) => {
                    if let Some(&id) = tempids.get(tempid.as_str()) {
                        *value = Value::Integer(id);
                    }
                }
                nested @ Value::Map(_) => resolve_earlier_tempids(schema, tempids, nested),
                _ => {}
            }
        }
    }
}

/// Whether a vector under a ref attribute is a lookup ref `[attr value]`
/// rather than several refs.
fn is_lookup_ref(schema: &Schema, items: &[Value]) -> bool {
    matches!(items, [Value::Keyword(attribute), _] if schema.attribute_named(attribute).is_some())
}

/// The value type of the attribute a key names, when the schema knows it.
fn value_type(schema: &Schema, attribute: &Value) -> Option<ValueType> {
    let keyword = attribute.as_keyword()?;
    Some(schema.attribute_named(keyword)?.value_type)
}

/// A text cell as the value its attribute holds.
fn text_value(
    schema: &Schema,
    attribute: &Value,
    text: &str,
) -> std::result::Result<Value, String> {
    let bare = || text.trim_start_matches(':');
    match value_type(schema, attribute) {
        Some(ValueType::String) => Ok(Value::String(text.to_string())),
        Some(ValueType::Keyword) => Ok(Value::keyword(bare())),
        Some(ValueType::Instant) if !text.starts_with('#') => edn::Instant::parse_rfc3339(text)
            .map(Value::Inst)
            .map_err(|error| format!("{text:?} for {attribute} is not an instant: {error}")),
        Some(ValueType::Uuid) if !text.starts_with('#') => edn::Uuid::parse(text)
            .map(Value::Uuid)
            .map_err(|error| format!("{text:?} for {attribute} is not a UUID: {error}")),
        Some(ValueType::Ref) => match edn::parse(text) {
            // An id, a lookup ref or an ident; any other text is a tempid.
            Ok(value @ (Value::Integer(_) | Value::Vector(_) | Value::Keyword(_))) => Ok(value),
            _ => Ok(Value::String(text.to_string())),
        },
        _ if attribute == &Value::keyword("db/id") => Ok(match text.parse::<i64>() {
            Ok(id) => Value::Integer(id),
            Err(_) => Value::String(text.to_string()),
        }),
        Some(value_type) => {
            // Text that does not read as a value of the type is text, not
            // the symbol or other value the EDN reader would make of it.
            let not_a = || {
                format!(
                    "{text:?} for {attribute} is text, not a {}",
                    value_type.name()
                )
            };
            let value = edn::parse(text).map_err(|_| not_a())?;
            match TypedValue::from_edn(&value, value_type) {
                Ok(_) => Ok(value),
                Err(_) if matches!(value, Value::Symbol(_)) => Err(not_a()),
                Err(_) => Err(format!(
                    "{value} for {attribute} is {}, not a {}",
                    article(value.kind_name()),
                    value_type.name()
                )),
            }
        }
        None => edn::parse(text).map_err(|error| format!("{text:?} for {attribute}: {error}")),
    }
}

/// Where each element of a JSON array text starts (1-based line and
/// column), found by the same scan that cuts EDN into forms: JSON strings
/// and brackets read alike, and commas are whitespace to it.
fn array_element_starts(text: &str) -> Vec<(usize, usize)> {
    let (Some(open), Some(close)) = (text.find('['), text.rfind(']')) else {
        return Vec::new();
    };
    if close <= open {
        return Vec::new();
    }
    let inner = open + 1;
    input::top_level_forms(&text[inner..close])
        .into_iter()
        .map(|range| {
            let start = inner + range.start;
            let line = text[..start].matches('\n').count() + 1;
            let line_start = text[..start].rfind('\n').map_or(0, |newline| newline + 1);
            (line, text[line_start..start].chars().count() + 1)
        })
        .collect()
}

/// The 1-based column (in characters) where field `field` of a CSV line
/// starts; commas inside quoted fields do not count.
fn csv_column(line: &str, field: usize) -> usize {
    let mut in_quotes = false;
    let mut fields_before = 0;
    for (column, c) in line.chars().enumerate() {
        if fields_before == field {
            return column + 1;
        }
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => fields_before += 1,
            _ => {}
        }
    }
    line.chars().count() + 1
}

/// A JSON object as an entity map.
fn json_entity(schema: &Schema, record: &serde_json::Value) -> std::result::Result<Value, String> {
    let serde_json::Value::Object(fields) = record else {
        return Err(format!("expected an object, found {record}"));
    };
    let mut map = indexmap::IndexMap::new();
    for (key, value) in fields {
        let attribute = Value::keyword(key.trim_start_matches(':'));
        let value = json_value(schema, &attribute, value)?;
        map.insert(attribute, value);
    }
    Ok(Value::Map(map))
}

/// A JSON number or boolean for an attribute, refused (naming its JSON
/// type) when the attribute holds another type; a number for a ref is an
/// entity id.
fn json_scalar(
    schema: &Schema,
    attribute: &Value,
    value: Value,
    json_kind: &str,
) -> std::result::Result<Value, String> {
    match value_type(schema, attribute) {
        Some(value_type)
            if value_type != ValueType::Ref
                && TypedValue::from_edn(&value, value_type).is_err() =>
        {
            Err(format!(
                "{value} for {attribute} is {json_kind}, not a {}",
                value_type.name()
            ))
        }
        _ => Ok(value),
    }
}

/// A JSON value for an attribute: arrays are the values of a
/// cardinality-many attribute, objects nested entities, strings converted
/// by the attribute's type.
fn json_value(
    schema: &Schema,
    attribute: &Value,
    value: &serde_json::Value,
) -> std::result::Result<Value, String> {
    use serde_json::Value as Json;
    Ok(match value {
        Json::Null => return Err(format!("null for {attribute}: leave the key out instead")),
        Json::Bool(flag) => json_scalar(schema, attribute, Value::Boolean(*flag), "a boolean")?,
        Json::Number(number) => {
            let number = match number.as_i64() {
                Some(integer) if value_type(schema, attribute) != Some(ValueType::Double) => {
                    Value::Integer(integer)
                }
                _ => Value::Float(number.as_f64().unwrap_or(f64::NAN)),
            };
            json_scalar(schema, attribute, number, "a number")?
        }
        Json::String(text) => text_value(schema, attribute, text)?,
        Json::Array(items) if value_type(schema, attribute) == Some(ValueType::Ref) => {
            match lookup_ref(schema, items)? {
                Some(lookup) => lookup,
                None => Value::Vector(
                    items
                        .iter()
                        .map(|item| json_value(schema, attribute, item))
                        .collect::<std::result::Result<_, _>>()?,
                ),
            }
        }
        Json::Array(items) => Value::Vector(
            items
                .iter()
                .map(|item| json_value(schema, attribute, item))
                .collect::<std::result::Result<_, _>>()?,
        ),
        Json::Object(_) => json_entity(schema, value)?,
    })
}

/// `["attr", value]` under a ref attribute, when `attr` names an attribute:
/// a lookup ref.
fn lookup_ref(
    schema: &Schema,
    items: &[serde_json::Value],
) -> std::result::Result<Option<Value>, String> {
    let [serde_json::Value::String(name), value] = items else {
        return Ok(None);
    };
    let attribute = Value::keyword(name.trim_start_matches(':'));
    if value_type(schema, &attribute).is_none() {
        return Ok(None);
    }
    let value = json_value(schema, &attribute, value)?;
    Ok(Some(Value::Vector(vec![attribute, value])))
}

/// Every datom `db` sees, as transaction data that recreates it in an empty
/// store: a vector of attribute definitions, then a vector of facts.
pub fn export_datoms(db: &Db) -> Result<String> {
    let schema = db.schema()?;
    let mut definitions: Vec<&factlite_core::Attribute> = schema
        .attributes()
        .filter(|attribute| attribute.id >= FIRST_USER_SCHEMA_ID)
        .collect();
    definitions.sort_by_key(|attribute| attribute.id);
    let mut out = String::from("[");
    for attribute in &definitions {
        out.push_str(&format!("{}\n ", definition(attribute)));
    }
    out = format!("{}]\n[", out.trim_end());
    let store_error = |error| CliError::Factlite(factlite::Error::from(error));
    let mut datoms = db.datoms(factlite::IndexName::Eavt, &[])?;
    for datom in datoms.iter().map_err(store_error)? {
        let datom = datom.map_err(store_error)?;
        let exported = datom.added
            && datom.e >= FIRST_USER_SCHEMA_ID
            && Partition::of(datom.e) != Some(Partition::Tx)
            && schema.attribute(datom.e).is_none();
        let Some(attribute) = schema.ident(datom.a).filter(|_| exported) else {
            continue;
        };
        let value = match &datom.v {
            TypedValue::Ref(id) => entity_reference(&schema, *id),
            other => other.to_edn(),
        };
        out.push_str(&format!(
            "[:db/add {} {} {}]\n ",
            entity_reference(&schema, datom.e),
            Value::Keyword(attribute.clone()),
            value
        ));
    }
    Ok(format!("{}]\n", out.trim_end()))
}

/// How an exported datom names an entity: its ident, or a tempid.
fn entity_reference(schema: &Schema, id: factlite::Entid) -> Value {
    match schema.ident(id) {
        Some(ident) => Value::Keyword(Keyword::clone(ident)),
        None => Value::String(format!("e{id}")),
    }
}
