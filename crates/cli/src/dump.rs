//! A whole database written as transaction data that `import` reads back
//! into an identical database (`.dump`, `.export FILE.edn`, `factlite
//! export`), streamed from the store a transaction or a batch at a time, so
//! its memory does not grow with the database.
//!
//! The file is EDN, one top-level map per transaction, each replayed by the
//! importer with `Store::replay`:
//!
//! ```text
//! {:tx 13194139534337 :instant #inst "2026-01-02T03:04:05.000Z"
//!  :data [{:db/id 100 :db/ident :person/name :db/valueType :db.type/string ...}
//!         [:db/add 2199023255552 :person/name "Ann"]
//!         [:db/retract 2199023255552 :person/name "Anne"]]}
//! ```
//!
//! Entities are named by their ids, so the copy has the same ids; a ref to
//! a built-in entity (`:db.type/string`) is written as its ident. A new
//! attribute is a map (so the transaction that defines it may use it), with
//! its cardinality-many values as `:db/add` forms beside it.
//!
//! - [`DumpKind::History`]: every transaction after the bootstrap, each as
//!   its own map with its id, its instant (`:db/txInstant`, not repeated in
//!   `:data`), its retractions and assertions, in log order. Replayed into
//!   an empty database it gives the same datoms in the same transactions.
//! - [`DumpKind::Current`]: the datoms the snapshot holds, without
//!   history: the attributes in a first map, then [`DUMP_BATCH`] datoms per
//!   map, without `:tx` or `:instant` (the copy's transactions are new).
//!   The transaction entities' own datoms are left out, and so are the
//!   records of excisions (`:db/excise`, `:db.excise/*`): what they
//!   removed is not in the dump, and replayed they would excise again
//!   what the copy holds of their entities.
//!
//! A composite tuple's datoms (`:db/tupleAttrs`) are left out too: the
//! transactor makes them again from their attributes as it replays the
//! transaction that changed those (and refuses them by hand).
//!
//! Materialized views are not data a dump carries: their definitions
//! (`:factlite.view/*`) are left out, and `.materialize` makes them again
//! in the copy (`.backup` copies the file with its views).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

use factlite::edn::{Keyword, Value};
use factlite::{Datom, Db, Entid, Schema, TypedValue};
use factlite_core::bootstrap::{
    DB_IDENT, DB_TX_INSTANT, DB_VALUE_TYPE, EXCISION_ATTRIBUTES, FIRST_USER_SCHEMA_ID,
};
use factlite_core::{Cardinality, Partition};
use indexmap::IndexMap;

use crate::error::{CliError, Result};

/// Datoms per transaction of a current-state dump.
pub const DUMP_BATCH: usize = 5000;

/// Which dump to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpKind {
    /// Every transaction, with its id and instant.
    History,
    /// The datoms a snapshot holds, without their history.
    Current,
}

/// What a dump wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpSummary {
    /// Transactions (maps) written.
    pub transactions: usize,
    /// Datoms written (transaction instants not counted).
    pub datoms: usize,
}

/// Writes `db` as a dump of `kind` to `out`; `name` names the destination
/// in errors. A history dump covers the transactions up to `db`'s basis.
pub fn write_dump(
    db: &Db,
    kind: DumpKind,
    out: &mut dyn Write,
    name: &Path,
) -> Result<DumpSummary> {
    let schema = db.schema()?;
    // A history dump names each entity as it was named when its
    // transaction ran (an attribute renamed later is written under its
    // name of then); a dump of the current datoms, as they are named now.
    let idents = match kind {
        DumpKind::History => schema
            .idents()
            .filter(|(_, id)| *id < FIRST_USER_SCHEMA_ID)
            .map(|(ident, id)| (id, ident.clone()))
            .collect(),
        DumpKind::Current => schema
            .idents()
            .map(|(ident, id)| (id, ident.clone()))
            .collect(),
    };
    let mut writer = DumpWriter {
        out,
        name,
        schema: &schema,
        idents,
        summary: DumpSummary {
            transactions: 0,
            datoms: 0,
        },
    };
    let what = match kind {
        DumpKind::History => "every transaction, with its id and instant",
        DumpKind::Current => "the current datoms, without their history",
    };
    writer.write(&format!(
        ";; factlite dump: {what}, up to transaction {}.\n\
         ;; `factlite import` or `.import` reads it back; a dump with :tx goes into an empty database.\n",
        db.basis_tx()
    ))?;
    match kind {
        DumpKind::History => history(db, &mut writer)?,
        DumpKind::Current => current(db, &mut writer)?,
    }
    writer
        .out
        .flush()
        .map_err(|error| io_error(writer.name, error))?;
    Ok(writer.summary)
}

fn io_error(name: &Path, error: std::io::Error) -> CliError {
    CliError::Io {
        path: name.to_path_buf(),
        error,
    }
}

/// Every transaction after the bootstrap, one at a time from the log.
fn history(db: &Db, writer: &mut DumpWriter<'_>) -> Result<()> {
    let first = Partition::Tx.start() + 1;
    for tx in first..=db.basis_tx() {
        let datoms = db.tx_range(tx, tx)?;
        let instant = datoms
            .iter()
            .find(|datom| datom.e == tx && datom.a == DB_TX_INSTANT && datom.added)
            .map(|datom| datom.v.to_edn());
        let datoms: Vec<&Datom> = datoms
            .iter()
            .filter(|datom| !(datom.e == tx && datom.a == DB_TX_INSTANT))
            .collect();
        for datom in &datoms {
            if let (true, DB_IDENT, TypedValue::Keyword(ident)) = (datom.added, datom.a, &datom.v) {
                writer.idents.insert(datom.e, Keyword::clone(ident));
            }
        }
        writer.transaction(Some(tx), instant, &datoms)?;
    }
    Ok(())
}

/// The snapshot's datoms in EAVT order: the schema partition's entities
/// (attributes and idents) first, in one transaction, then the rest in
/// batches.
fn current(db: &Db, writer: &mut DumpWriter<'_>) -> Result<()> {
    let store_error = CliError::Factlite;
    let mut range = db.datoms(factlite::IndexName::Eavt, &[])?;
    let mut batch: Vec<Datom> = Vec::new();
    let mut in_schema = true;
    for datom in range.iter().map_err(store_error)? {
        let datom = datom.map_err(store_error)?;
        let partition = Partition::of(datom.e);
        let excision_record = EXCISION_ATTRIBUTES.contains(&datom.a);
        if datom.e < FIRST_USER_SCHEMA_ID
            || partition == Some(Partition::Tx)
            || !datom.added
            || excision_record
        {
            continue;
        }
        let schema_entity = partition == Some(Partition::Db);
        if in_schema && !schema_entity {
            writer.batch(&batch)?;
            batch.clear();
            in_schema = false;
        }
        batch.push(datom);
        if !in_schema && batch.len() == DUMP_BATCH {
            writer.batch(&batch)?;
            batch.clear();
        }
    }
    writer.batch(&batch)
}

struct DumpWriter<'w> {
    out: &'w mut dyn Write,
    name: &'w Path,
    schema: &'w Schema,
    /// The name each entity is written under.
    idents: HashMap<Entid, Keyword>,
    summary: DumpSummary,
}

impl DumpWriter<'_> {
    fn write(&mut self, text: &str) -> Result<()> {
        self.out
            .write_all(text.as_bytes())
            .map_err(|error| io_error(self.name, error))
    }

    /// A batch of a current-state dump, if it has datoms.
    fn batch(&mut self, datoms: &[Datom]) -> Result<()> {
        if datoms.is_empty() {
            return Ok(());
        }
        let datoms: Vec<&Datom> = datoms.iter().collect();
        self.transaction(None, None, &datoms)
    }

    /// One transaction's map: `:tx` and `:instant` when given, and its
    /// datoms as `:data`.
    fn transaction(
        &mut self,
        tx: Option<Entid>,
        instant: Option<Value>,
        datoms: &[&Datom],
    ) -> Result<()> {
        let datoms: Vec<&Datom> = datoms
            .iter()
            .copied()
            .filter(|datom| !self.is_view_definition(datom.a) && !self.is_composite(datom.a))
            .collect();
        let mut text = String::from("{");
        if let Some(tx) = tx {
            text.push_str(&format!(":tx {tx} "));
        }
        if let Some(instant) = instant {
            text.push_str(&format!(":instant {instant} "));
        }
        text.push_str(":data [");
        let mut first = true;
        for form in self.forms(&datoms) {
            if !first {
                text.push_str("\n        ");
            }
            first = false;
            text.push_str(&form.to_string());
        }
        text.push_str("]}\n");
        self.write(&text)?;
        self.summary.transactions += 1;
        self.summary.datoms += datoms.len();
        Ok(())
    }

    /// Whether an attribute is a composite tuple, which replaying its
    /// attributes' datoms makes again.
    fn is_composite(&self, attribute: Entid) -> bool {
        self.schema
            .attribute(attribute)
            .is_some_and(|attribute| attribute.is_composite())
    }

    /// Whether an attribute holds a materialized view's definition.
    fn is_view_definition(&self, attribute: Entid) -> bool {
        self.schema
            .ident(attribute)
            .is_some_and(|ident| ident.namespace.as_deref() == Some("factlite.view"))
    }

    /// The transaction data of one transaction's datoms: a map for each
    /// attribute it defines (an entity asserting `:db/ident` and
    /// `:db/valueType`) with its cardinality-one values, then every other
    /// datom as `:db/add` or `:db/retract`, in order.
    fn forms(&self, datoms: &[&Datom]) -> Vec<Value> {
        let asserting = |attribute: Entid| -> HashSet<Entid> {
            datoms
                .iter()
                .filter(|datom| datom.added && datom.a == attribute)
                .map(|datom| datom.e)
                .collect()
        };
        let defined: HashSet<Entid> = asserting(DB_IDENT)
            .intersection(&asserting(DB_VALUE_TYPE))
            .copied()
            .collect();
        let mut maps: IndexMap<Entid, IndexMap<Value, Value>> = IndexMap::new();
        let mut lists = Vec::new();
        for datom in datoms {
            let attribute = self.schema.attribute(datom.a);
            let in_map = datom.added
                && attribute.is_some_and(|attribute| attribute.cardinality == Cardinality::One)
                && defined.contains(&datom.e);
            let key = self.attribute(datom.a);
            let value = match &datom.v {
                TypedValue::Ref(target) => self.reference(*target),
                other => other.to_edn(),
            };
            if in_map {
                maps.entry(datom.e)
                    .or_insert_with(|| {
                        IndexMap::from([(Value::keyword("db/id"), Value::Integer(datom.e))])
                    })
                    .insert(key, value);
            } else {
                let op = if datom.added { "db/add" } else { "db/retract" };
                lists.push(Value::Vector(vec![
                    Value::keyword(op),
                    Value::Integer(datom.e),
                    key,
                    value,
                ]));
            }
        }
        maps.into_values().map(Value::Map).chain(lists).collect()
    }

    /// An attribute by its ident.
    fn attribute(&self, id: Entid) -> Value {
        match self.idents.get(&id) {
            Some(ident) => Value::Keyword(Keyword::clone(ident)),
            None => Value::Integer(id),
        }
    }

    /// A ref value: a built-in entity by its ident, any other by its id.
    fn reference(&self, id: Entid) -> Value {
        match self.idents.get(&id) {
            Some(ident) if id < FIRST_USER_SCHEMA_ID => Value::Keyword(Keyword::clone(ident)),
            _ => Value::Integer(id),
        }
    }
}
