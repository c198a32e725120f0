//! Reading files into a store (`.import FILE`, `factlite import`), streamed:
//! the file is read a form or a row at a time, so memory does not grow
//! with its size (only the tempids seen so far are kept). By extension:
//! - `.edn`: top-level forms, each one transaction: a vector of
//!   transaction data, or a map `{:tx … :instant … :data [...]}` of a dump
//!   (see `dump`), replayed with its ids and instant (`Store::replay`);
//! - `.json`: an array of objects (or one object per line), each an entity
//!   map whose keys name attributes (`"film/title"` or `":film/title"`);
//! - `.csv`: a header row of attribute names, then one entity per row.
//!
//! JSON and CSV values are converted by the attribute's value type (a
//! keyword from `"x"` or `":x"`, an instant from RFC 3339 text, a ref from an
//! id, a lookup ref or a tempid), and every [`BATCH`] entities make one
//! transaction. A tempid (a string under `db/id` or a ref attribute) names
//! one entity throughout the file, whatever the batches: in later batches
//! it is replaced by the entity it got, and one used before the row that
//! defines it gets an id reserved for it (`Store::reserve_entity_ids`),
//! which that row then asserts about. Files over [`PROGRESS_BYTES`] show a
//! progress bar on a terminal, moved by the bytes read. An error stops the
//! import and names the place in the file (line and column, and the
//! value's own type); the transactions before it stay committed, as the
//! message says.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use factlite::edn::{self, Value};
use factlite::{Entid, Replay, Store, TxReport, TypedValue, ValueType};
use factlite_core::{Partition, Schema};
use indexmap::IndexMap;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::{CliError, Result};
use crate::input::{self, Form, FormReader, Framing, InputError, RecordLimit};
use crate::interrupt;
use crate::render::Mode;
use crate::words::{article, counted, did_you_mean};

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
    let mode = mode_for(path).ok_or_else(|| {
        CliError::Usage(format!(
            "cannot tell the format of {}: name it .edn, .json or .csv",
            path.display()
        ))
    })?;
    let io_error = |error| CliError::Io {
        path: path.to_path_buf(),
        error,
    };
    let file = File::open(path).map_err(io_error)?;
    let size = file.metadata().map_err(io_error)?.len();
    let mut reader = BufReader::new(file);
    let mut import = Import {
        store,
        path,
        bar: progress_bar(size, progress),
        datoms: 0,
        transactions: 0,
        started: Instant::now(),
        tempids: HashMap::new(),
        forward: IndexMap::new(),
        replaying: false,
    };
    // A binary file is refused by its first bytes (CSV is not read by
    // `FormReader`, which refuses a NUL byte anywhere).
    let read = match input::refuse_binary(&mut reader) {
        Err(error) => Err(import.input_error(error)),
        Ok(()) => match mode {
            // Read through once before anything is committed, so a file
            // that is not EDN throughout (truncated, a stray form) imports
            // nothing: JSON and CSV rows are checked before their batch.
            Mode::Edn => import.edn(reader, Pass::Check).and_then(|()| {
                let again = BufReader::new(File::open(path).map_err(io_error)?);
                import.edn(again, Pass::Commit)
            }),
            Mode::Json => import.json(reader),
            _ => import.csv(reader),
        },
    };
    // The bar goes before a summary or an error is printed.
    import.bar.finish_and_clear();
    read?;
    if let Some((tempid, place)) = import.forward.first() {
        let message = format!(
            "tempid {tempid:?} is used as a value ({place}) but no row has it as its db/id"
        );
        return Err(import.fail("the end of the file".to_string(), message));
    }
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
    /// The entities the tempids of earlier JSON or CSV batches got (or
    /// were reserved).
    tempids: HashMap<String, Entid>,
    /// Tempids used as values before any row defined them, with the place
    /// of their first use: reserved, and still to be defined.
    forward: IndexMap<String, String>,
    /// Whether a dump's transactions are being replayed (the database was
    /// empty when the first came).
    replaying: bool,
}

/// A pass over an EDN file: the first reads every form and commits
/// nothing; the second commits them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Check,
    Commit,
}

/// An entity of a JSON or CSV batch, with the line it starts on.
struct Row {
    entity: Value,
    line: usize,
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

    fn io_error(&self, error: std::io::Error) -> CliError {
        CliError::Io {
            path: self.path.to_path_buf(),
            error,
        }
    }

    /// Commits one transaction `write` makes; `place` names it in errors;
    /// `done` is the bytes of the file read, for the progress bar.
    fn commit(
        &mut self,
        write: impl FnOnce(&Store) -> factlite::Result<TxReport>,
        place: &str,
        done: u64,
    ) -> Result<TxReport> {
        if interrupt::was_interrupted() {
            return Err(self.fail(place.to_string(), "interrupted (Ctrl-C)".to_string()));
        }
        let report = write(self.store).map_err(|error| {
            let message = if interrupt::was_interrupted() {
                "interrupted (Ctrl-C)".to_string()
            } else {
                format!("{} {error}", error.category().keyword())
            };
            self.fail(place.to_string(), message)
        })?;
        self.datoms += report
            .datoms
            .iter()
            .filter(|datom| datom.e != report.tx)
            .count();
        self.transactions += 1;
        self.bar.set_position(done);
        self.bar.set_message(counted(self.datoms, "datom"));
        Ok(report)
    }

    fn next_form(&self, forms: &mut FormReader<impl BufRead>) -> Result<Option<Form>> {
        forms
            .next()
            .transpose()
            .map_err(|error| self.input_error(error))
    }

    fn input_error(&self, error: InputError) -> CliError {
        match error {
            InputError::Io(error) => self.io_error(error),
            InputError::NotText { line, .. } | InputError::TooLong { line } => {
                self.fail(format!("line {line}"), error.to_string())
            }
        }
    }

    fn edn(&mut self, reader: impl BufRead, pass: Pass) -> Result<()> {
        let mut forms = FormReader::new(reader, Framing::Sequence);
        while let Some(form) = self.next_form(&mut forms)? {
            let value = edn::parse(&form.text).map_err(|error| {
                let (line, column) = form.place(error.line, error.column);
                let place = format!("line {line}, column {column}");
                self.fail(place, format!("not valid EDN: {}", error.message))
            })?;
            let place = format!("line {}", form.line);
            match &value {
                Value::Vector(_) if pass == Pass::Check => {}
                Value::Vector(_) => {
                    self.commit(|store| store.transact(&value), &place, form.end)?;
                }
                Value::Map(map) => {
                    let (data, replay) = dump_transaction(map)
                        .map_err(|message| self.fail(place.clone(), message))?;
                    if pass == Pass::Check {
                        continue;
                    }
                    if !self.replaying && self.store.db()?.basis_tx() > Partition::Tx.start() {
                        let message = "a dump goes into an empty database: its entity ids would \
                                       land on this one's entities (import it into a new file)";
                        return Err(self.fail(place, message.to_string()));
                    }
                    self.replaying = true;
                    self.commit(|store| store.replay(&data, replay), &place, form.end)?;
                }
                other => {
                    let message = format!(
                        "expected a vector of transaction data (or a dump's map {{:tx … :instant … :data […]}}), found {}",
                        article(other.kind_name())
                    );
                    return Err(self.fail(place, message));
                }
            }
        }
        Ok(())
    }

    fn json(&mut self, mut reader: impl BufRead) -> Result<()> {
        let starts_with_bracket = reader
            .fill_buf()
            .map_err(|error| self.io_error(error))?
            .iter()
            .find(|byte| !byte.is_ascii_whitespace())
            == Some(&b'[');
        let framing = if starts_with_bracket {
            Framing::ArrayElements
        } else {
            Framing::Sequence
        };
        let schema = self.schema()?;
        let mut forms = FormReader::new(reader, framing);
        let mut rows = Vec::with_capacity(BATCH);
        let mut number = 0;
        while let Some(form) = self.next_form(&mut forms)? {
            number += 1;
            let place = match framing {
                Framing::ArrayElements => format!(
                    "line {}, column {} (record {number})",
                    form.line, form.column
                ),
                Framing::Sequence => format!("line {}", form.line),
            };
            let record: serde_json::Value = serde_json::from_str(&form.text).map_err(|error| {
                let (line, column) = form.place(error.line(), error.column());
                let message = error.to_string();
                let message = message
                    .split(" at line ")
                    .next()
                    .unwrap_or(message.as_str());
                self.fail(
                    format!("line {line}, column {column}"),
                    format!("not valid JSON: {message}"),
                )
            })?;
            let entity = json_entity(&schema, &record).map_err(|(key, message)| {
                let place = match key.and_then(|key| key_position(&form, &key)) {
                    Some((line, column)) => format!("line {line}, column {column}"),
                    None => place.clone(),
                };
                self.fail(place, message)
            })?;
            rows.push(Row {
                entity,
                line: form.line,
            });
            if rows.len() == BATCH {
                self.batch(&schema, &mut rows, form.end)?;
            }
        }
        self.batch(&schema, &mut rows, forms.bytes_read())
    }

    fn csv(&mut self, reader: impl Read) -> Result<()> {
        // A row (or the header) that never ends stops at the statement
        // limit instead of filling memory.
        let (reader, mark) = RecordLimit::new(reader);
        let mut reader = csv::ReaderBuilder::new().from_reader(reader);
        let header: Vec<Value> = reader
            .headers()
            .map_err(|error| self.csv_error(error, 1))?
            .iter()
            .map(|name| Value::keyword(name.trim().trim_start_matches(':')))
            .collect();
        mark.finished(reader.position().byte());
        let schema = self.schema()?;
        for (field, attribute) in header.iter().enumerate() {
            known_attribute(&schema, attribute).map_err(|message| {
                let column = self.csv_column_at(0, field);
                self.fail(format!("line 1, column {column}"), message)
            })?;
        }
        let mut rows = Vec::with_capacity(BATCH);
        let mut record = csv::StringRecord::new();
        loop {
            // Where the next row starts: where an error without a place is.
            let next_line = reader.position().line();
            let more = reader.read_record(&mut record).map_err(|error| {
                let line = error
                    .position()
                    .map_or(next_line, |position| position.line());
                self.csv_error(error, line)
            })?;
            if !more {
                break;
            }
            mark.finished(reader.position().byte());
            let position = record
                .position()
                .cloned()
                .unwrap_or_else(csv::Position::new);
            let line = position.line();
            let mut map = IndexMap::new();
            for (field, (attribute, cell)) in header.iter().zip(record.iter()).enumerate() {
                if cell.is_empty() {
                    continue;
                }
                let value = text_value(&schema, attribute, cell).map_err(|message| {
                    let column = self.csv_column_at(position.byte(), field);
                    self.fail(format!("line {line}, column {column}"), message)
                })?;
                map.insert(attribute.clone(), value);
            }
            rows.push(Row {
                entity: Value::Map(map),
                line: line as usize,
            });
            if rows.len() == BATCH {
                self.batch(&schema, &mut rows, position.byte())?;
            }
        }
        let end = reader.position().byte();
        self.batch(&schema, &mut rows, end)
    }

    /// A CSV reader's error at `line`.
    fn csv_error(&self, error: csv::Error, line: u64) -> CliError {
        match error.kind() {
            csv::ErrorKind::Io(io) if RecordLimit::<File>::too_long(io) => {
                let line = usize::try_from(line.max(1)).unwrap_or(usize::MAX);
                self.input_error(InputError::TooLong { line })
            }
            _ => self.fail(format!("line {line}"), error.to_string()),
        }
    }

    /// The column where field `field` of the CSV row starting at byte
    /// `offset` starts: the row's line is read again from the file, as an
    /// error is rare and the reader keeps no text.
    fn csv_column_at(&self, offset: u64, field: usize) -> usize {
        let mut line = String::new();
        let read = File::open(self.path).and_then(|mut file| {
            file.seek(SeekFrom::Start(offset))?;
            BufReader::new(file).read_line(&mut line)
        });
        match read {
            Ok(_) => csv_column(line.trim_end_matches(['\r', '\n']), field),
            Err(_) => 1,
        }
    }

    /// Transacts a batch of JSON or CSV entities (emptying it). Tempids are
    /// made to name one entity throughout the file: those earlier batches
    /// resolved are replaced by their entities, and those used as values
    /// that no row has defined yet get reserved ids.
    fn batch(&mut self, schema: &Schema, rows: &mut Vec<Row>, done: u64) -> Result<()> {
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(());
        };
        let place = if rows.len() == 1 {
            format!("line {}", first.line)
        } else {
            format!("the rows of lines {} to {}", first.line, last.line)
        };
        let mut defined = HashSet::new();
        let mut used: IndexMap<String, String> = IndexMap::new();
        for row in rows.iter_mut() {
            visit_tempids(schema, &mut row.entity, &mut |value, is_db_id| {
                if let Value::String(tempid) = value {
                    if is_db_id {
                        defined.insert(tempid.clone());
                    } else {
                        used.entry(tempid.clone())
                            .or_insert_with(|| format!("line {}", row.line));
                    }
                }
            });
        }
        self.forward.retain(|tempid, _| !defined.contains(tempid));
        used.retain(|tempid, _| !defined.contains(tempid) && !self.tempids.contains_key(tempid));
        if !used.is_empty() {
            let ids = self
                .store
                .reserve_entity_ids(used.len())
                .map_err(|error| self.fail(place.clone(), error.to_string()))?;
            for ((tempid, first_use), id) in used.into_iter().zip(ids) {
                self.tempids.insert(tempid.clone(), id);
                self.forward.insert(tempid, first_use);
            }
        }
        let lines: Vec<usize> = rows.iter().map(|row| row.line).collect();
        let entities: Vec<Value> = rows
            .drain(..)
            .map(|mut row| {
                visit_tempids(schema, &mut row.entity, &mut |value, _| {
                    if let Value::String(tempid) = value {
                        if let Some(&id) = self.tempids.get(tempid.as_str()) {
                            *value = Value::Integer(id);
                        }
                    }
                });
                row.entity
            })
            .collect();
        let tx_data = Value::Vector(entities);
        let report = match self.commit(|store| store.transact(&tx_data), &place, done) {
            Err(error) if lines.len() > 1 && !interrupt::was_interrupted() => {
                return Err(self.narrowed(error, &tx_data, &lines));
            }
            other => other?,
        };
        self.tempids.extend(report.tempids);
        Ok(())
    }

    /// A batch's failure placed at the row that causes it: the shortest
    /// prefix of the batch that fails on its own, found by bisection with
    /// speculative transactions (`Store::with`, which commit nothing), ends
    /// with that row. The batch's own error when no prefix fails alone.
    fn narrowed(&self, error: CliError, tx_data: &Value, lines: &[usize]) -> CliError {
        let Value::Vector(entities) = tx_data else {
            return error;
        };
        let fails = |len: usize| {
            let prefix = Value::Vector(entities[..len].to_vec());
            self.store.with(&prefix, |_, _| Ok(())).err()
        };
        let (mut good, mut bad) = (0, entities.len());
        let mut found = None;
        while bad - good > 1 {
            let middle = good + (bad - good) / 2;
            match fails(middle) {
                Some(failure) => {
                    bad = middle;
                    found = Some(failure);
                }
                None => good = middle,
            }
        }
        let failure = match found {
            Some(failure) => failure,
            None => match fails(bad) {
                Some(failure) => failure,
                None => return error,
            },
        };
        self.fail(
            format!("line {}", lines[bad - 1]),
            format!("{} {failure}", failure.category().keyword()),
        )
    }

    fn schema(&self) -> Result<std::sync::Arc<Schema>> {
        Ok(self.store.schema()?)
    }
}

/// The transaction data and placement of a dump's transaction map
/// `{:tx … :instant … :data […]}` (`:tx` and `:instant` optional).
fn dump_transaction(map: &IndexMap<Value, Value>) -> std::result::Result<(Value, Replay), String> {
    let mut replay = Replay::default();
    let mut data = None;
    for (key, value) in map {
        match (key.as_keyword().map(|k| k.to_string()).as_deref(), value) {
            (Some(":tx"), Value::Integer(tx)) => replay.tx = Some(*tx),
            (Some(":instant"), Value::Inst(instant)) => replay.instant = Some(instant.0),
            (Some(":data"), Value::Vector(_)) => data = Some(value.clone()),
            (Some(":tx" | ":instant" | ":data"), other) => {
                return Err(format!(
                    "{key} of a dump's transaction is {}, not {}",
                    article(other.kind_name()),
                    match key.to_string().as_str() {
                        ":tx" => "a transaction id",
                        ":instant" => "an #inst",
                        _ => "a vector of transaction data",
                    }
                ))
            }
            _ => {
                return Err(format!(
                    "a dump's transaction has the keys :tx, :instant and :data, not {key}"
                ))
            }
        }
    }
    let data = data.ok_or_else(|| "a dump's transaction needs :data [...]".to_string())?;
    Ok((data, replay))
}

/// Calls `visit` on each value in tempid position of an entity map of a
/// JSON or CSV import — a string under `db/id` (`is_db_id`) or a ref
/// attribute, also inside a cardinality-many vector or a nested entity.
fn visit_tempids(schema: &Schema, entity: &mut Value, visit: &mut dyn FnMut(&mut Value, bool)) {
    let Value::Map(map) = entity else {
        return;
    };
    for (key, value) in map.iter_mut() {
        let is_db_id = key
            .as_keyword()
            .is_some_and(|k| k.namespace.as_deref() == Some("db") && k.name == "id");
        if !is_db_id && value_type(schema, key) != Some(ValueType::Ref) {
            continue;
        }
        let values: &mut [Value] = match value {
            Value::Vector(items) if !is_lookup_ref(schema, items) => items,
            single => std::slice::from_mut(single),
        };
        for value in values {
            match value {
                Value::String(_) => visit(value, is_db_id),
                nested @ Value::Map(_) => visit_tempids(schema, nested, visit),
                _ => {}
            }
        }
    }
}

/// Where the key `"key"` (or `":key"`) of a JSON record is, as a place in
/// the file.
fn key_position(form: &Form, key: &str) -> Option<(usize, usize)> {
    let bare = key.trim_start_matches(':');
    let offset = [format!("\"{bare}\""), format!("\":{bare}\"")]
        .iter()
        .filter_map(|quoted| form.text.find(quoted.as_str()))
        .min()?;
    let before = &form.text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    Some(form.place(line, before[line_start..].chars().count() + 1))
}

/// Refuses a key of a JSON record or a CSV header that names no attribute
/// (`db/id` and reverse refs such as `person/_friend` are keys too), with
/// the attributes named like it.
fn known_attribute(schema: &Schema, attribute: &Value) -> std::result::Result<(), String> {
    let Some(keyword) = attribute.as_keyword() else {
        return Ok(());
    };
    let is_db_id = keyword.namespace.as_deref() == Some("db") && keyword.name == "id";
    if is_db_id || schema.attribute_named(&keyword.to_forward()).is_some() {
        return Ok(());
    }
    let idents: Vec<String> = schema
        .attributes()
        .map(|known| Value::Keyword(known.ident.clone()).to_string())
        .collect();
    Err(format!(
        "unknown attribute {attribute}: no schema defines it{}",
        did_you_mean(&attribute.to_string(), idents.iter().map(String::as_str))
    ))
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
        // Digits without their `N` or `M` (JSON and CSV carry big numbers
        // as text) read as the attribute's big number.
        Some(value_type @ (ValueType::BigInt | ValueType::BigDec))
            if text.ends_with(|c: char| c.is_ascii_digit()) =>
        {
            let suffix = if value_type == ValueType::BigInt {
                "N"
            } else {
                "M"
            };
            match edn::parse(&format!("{text}{suffix}")) {
                Ok(value) if TypedValue::from_edn(&value, value_type).is_ok() => Ok(value),
                _ => Err(format!(
                    "{text:?} for {attribute} is text, not a {}",
                    value_type.name()
                )),
            }
        }
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

/// A JSON object as an entity map; an error names the key whose value is
/// wrong, when one is.
fn json_entity(
    schema: &Schema,
    record: &serde_json::Value,
) -> std::result::Result<Value, (Option<String>, String)> {
    let serde_json::Value::Object(fields) = record else {
        return Err((None, format!("expected an object, found {record}")));
    };
    let mut map = indexmap::IndexMap::new();
    for (key, value) in fields {
        let attribute = Value::keyword(key.trim_start_matches(':'));
        let value = known_attribute(schema, &attribute)
            .and_then(|()| json_value(schema, &attribute, value))
            .map_err(|message| (Some(key.clone()), message))?;
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
        Json::Object(_) => json_entity(schema, value).map_err(|(_, message)| message)?,
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
