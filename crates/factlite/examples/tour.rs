//! A tour of the factlite API, end to end: open a store, declare a schema,
//! transact, query with inputs and read the result's rows, prepare a query
//! and run it many times, read a large result as a stream, pull, and look
//! back in time (as-of and history).
//!
//! Run it with `cargo run -p factlite --example tour` (an in-memory store),
//! or `cargo run -p factlite --example tour -- people.db` to keep the data
//! in a file. `tests/tour.rs` runs it and checks what it prints.

use std::error::Error;
use std::io::Write;

use factlite::{edn, QueryResult, Store, Value};

fn main() -> Result<(), Box<dyn Error>> {
    let store = match std::env::args().nth(1) {
        Some(path) => Store::open(path)?,
        None => Store::open_in_memory()?,
    };
    run(&store, &mut std::io::stdout())
}

/// The tour, on an empty store, printing to `out`.
pub fn run(store: &Store, out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    // The schema is data too: attributes are entities with a type and a
    // cardinality. A unique identity lets transactions refer to a person
    // by name (lookup refs, upserts).
    store.transact_str(
        r#"[{:db/ident :person/name :db/valueType :db.type/string
             :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
            {:db/ident :person/age :db/valueType :db.type/long
             :db/cardinality :db.cardinality/one}
            {:db/ident :person/friend :db/valueType :db.type/ref
             :db/cardinality :db.cardinality/many}]"#,
    )?;

    // Entity maps with tempids: "ann" names the same new entity wherever
    // it appears in this transaction.
    let report = store.transact_str(
        r#"[{:db/id "ann" :person/name "Ann" :person/age 31 :person/friend ["bo" "cy"]}
            {:db/id "bo"  :person/name "Bo"  :person/age 27 :person/friend "cy"}
            {:db/id "cy"  :person/name "Cy"  :person/age 45}]"#,
    )?;
    let first = report.tx;
    writeln!(out, "added {} datoms", report.datoms.len())?;

    // A query with an input: everyone older than ?min, ordered.
    let db = store.db()?;
    let older = db.q_str(
        "[:find ?name ?age :in $ ?min
          :where [?p :person/name ?name] [?p :person/age ?age] [(> ?age ?min)]
          :order-by ?name]",
        &[Value::Integer(30)],
    )?;
    writeln!(out, "older than 30: {older}")?;
    // The result prints as EDN, and holds its rows as Rust values.
    if let QueryResult::Relation(rows) = &older {
        for row in rows.rows() {
            if let [Value::String(name), Value::Integer(age)] = row {
                writeln!(out, "  {name} is {age}")?;
            }
        }
    }

    // A prepared query: parsed once, compiled on its first run, and the
    // compiled plan reused for every other name.
    let friends_of = db.prepare(
        "[:find [?friend ...] :in $ ?name
          :where [?p :person/name ?name] [?p :person/friend ?f] [?f :person/name ?friend]]",
    )?;
    for name in ["Ann", "Bo", "Cy"] {
        let friends = friends_of.run(&db, &[Value::String(name.into())])?;
        writeln!(out, "friends of {name}: {friends}")?;
    }
    let stats = store.plan_cache_stats();
    writeln!(
        out,
        "plan cache: {} compiled, {} reused",
        stats.misses, stats.hits
    )?;

    // A stream: rows are read one at a time, never held all at once.
    let query = edn::parse("[:find ?p ?f :where [?p :person/friend ?f]]")?;
    let pairs = db.q_rows(&query, &[], |rows| {
        rows.try_fold(0, |count, row| row.map(|_| count + 1))
    })??;
    writeln!(out, "friendships: {pairs}")?;

    // Pull: an entity as a nested map, following refs.
    let ann = edn::parse(r#"[:person/name "Ann"]"#)?;
    let pulled = db.pull(
        &edn::parse("[:person/name {:person/friend [:person/name]}]")?,
        &ann,
    )?;
    writeln!(out, "Ann pulled: {pulled}")?;

    // Time: Ann has a birthday. The old snapshot and `as_of` still see 31;
    // the history holds both the retraction and the assertion.
    store.transact_str(r#"[{:person/name "Ann" :person/age 32}]"#)?;
    let now = store.db()?;
    let age = "[:find ?age . :where [?p :person/name \"Ann\"] [?p :person/age ?age]]";
    writeln!(
        out,
        "Ann's age: now {}, in the old snapshot {}, as of the first transaction {}",
        now.q_str(age, &[])?,
        db.q_str(age, &[])?,
        now.as_of(first).q_str(age, &[])?
    )?;
    let changes = now.history().q_str(
        "[:find ?age ?added :where [?p :person/name \"Ann\"] [?p :person/age ?age _ ?added]]",
        &[],
    )?;
    writeln!(out, "Ann's age over time: {changes}")?;
    Ok(())
}
