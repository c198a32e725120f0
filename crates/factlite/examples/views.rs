//! A hot query kept as a table: a materialized view updated inside every
//! transaction from that transaction's datoms, a subscriber told what
//! changed, and the table read by a plain SQLite connection, as any SQLite
//! client would read it.
//!
//! Run it with `cargo run -p factlite --example views`;
//! `tests/views_example.rs` runs it and checks what it prints.

use std::error::Error;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use factlite::{Entity, LookupRef, Store, TxData};

fn main() -> Result<(), Box<dyn Error>> {
    let directory = tempfile::tempdir()?;
    run(&directory.path().join("shop.db"), &mut std::io::stdout())
}

const SCHEMA: &str = r#"[
  {:db/ident :product/sku :db/valueType :db.type/string
   :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
  {:db/ident :order/product :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
  {:db/ident :order/quantity :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]"#;

/// Units sold per product: one row per SKU, kept current.
const SOLD: &str = "[:find ?sku (sum ?q) :with ?o
                     :where [?o :order/product ?p] [?p :product/sku ?sku] [?o :order/quantity ?q]]";

/// The example on a new file store at `path`, printing to `out`.
pub fn run(path: &Path, out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let store = Store::open(path)?;
    store.transact(SCHEMA)?;
    store.transact(TxData::from_iter(
        ["apple", "pear"].map(|sku| Entity::new().set(":product/sku", sku)),
    ))?;
    let info = store.materialize_str("sold", SOLD, &[])?;
    writeln!(out, "view {} is the table {}", info.name, info.table)?;

    // Every change of the view's rows, as the transactions make them.
    let changes = Arc::new(Mutex::new(Vec::new()));
    let log = changes.clone();
    store.subscribe("sold", move |change| {
        let mut added = change.added.clone();
        let mut removed = change.removed.clone();
        added.sort();
        removed.sort();
        if let Ok(mut log) = log.lock() {
            log.push((added, removed));
        }
    })?;
    let order = |sku: &str, quantity: i64| {
        Entity::new()
            .set(":order/product", LookupRef(":product/sku", sku))
            .set(":order/quantity", quantity)
    };
    store.transact(TxData::from_iter([order("apple", 3), order("pear", 1)]))?;
    store.transact(order("apple", 2))?;
    let pear_order = store.db()?.q_str(
        "[:find ?o . :where [?o :order/product [:product/sku \"pear\"]]]",
        (),
    )?;
    let pear_order =
        factlite::QueryResultExt::scalar::<i64>(&pear_order)?.ok_or("no pear order")?;
    store.transact(TxData::new().retract_entity(pear_order))?;
    for (added, removed) in changes.lock().map_err(|_| "poisoned")?.iter() {
        let rows = |rows: &[Vec<factlite::Value>]| {
            rows.iter()
                .map(|row| format!("{} {}", row[0], row[1]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(out, "changed: +[{}] -[{}]", rows(added), rows(removed))?;
    }

    // The view answers through the API, and is a table for anyone else.
    writeln!(out, "view: {}", store.view("sold")?)?;
    let sqlite = factlite::rusqlite::Connection::open(path)?;
    let mut statement = sqlite.prepare(&format!("SELECT * FROM {} ORDER BY 1", info.table))?;
    let columns: Vec<String> = statement
        .column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    writeln!(out, "columns: {}", columns.join(", "))?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(2)?))
    })?;
    for row in rows {
        let (sku, sold) = row?;
        writeln!(out, "sqlite: {sku} {sold}")?;
    }
    Ok(())
}
