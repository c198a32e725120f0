//! Functions, predicates and aggregates written in Rust, called from
//! Datalog by name: a function (`[(geo/km ?a ?b) ?d]`) and a predicate
//! (`[(geo/near? ?a ?b)]`) run inside SQLite as application-defined
//! functions, so the query is still one statement (`explain` shows it); an
//! aggregate (`(stats/p90 ?x)`) is computed over each group's values. Their
//! arguments and results are plain Rust types.
//!
//! Run it with `cargo run -p factlite --example functions`;
//! `tests/functions_example.rs` runs it and checks what it prints.

use std::error::Error;
use std::io::Write;

use factlite::{edn, QueryResultExt, Store};

fn main() -> Result<(), Box<dyn Error>> {
    run(&Store::open_in_memory()?, &mut std::io::stdout())
}

/// The distance in kilometres between two points given in degrees (the
/// haversine formula).
fn km(from: (f64, f64), to: (f64, f64)) -> f64 {
    let (lat1, lon1) = (from.0.to_radians(), from.1.to_radians());
    let (lat2, lon2) = (to.0.to_radians(), to.1.to_radians());
    let a = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    6371.0 * 2.0 * a.sqrt().asin()
}

/// The example, on an empty store, printing to `out`.
pub fn run(store: &Store, out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    store.transact(
        r#"[{:db/ident :city/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
            {:db/ident :city/lat :db/valueType :db.type/double :db/cardinality :db.cardinality/one}
            {:db/ident :city/lon :db/valueType :db.type/double :db/cardinality :db.cardinality/one}
            {:db/ident :city/population :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
            {:city/name "Paris" :city/lat 48.8566 :city/lon 2.3522 :city/population 2102650}
            {:city/name "Lyon" :city/lat 45.7640 :city/lon 4.8357 :city/population 522250}
            {:city/name "London" :city/lat 51.5072 :city/lon -0.1276 :city/population 8866180}
            {:city/name "Brussels" :city/lat 50.8503 :city/lon 4.3517 :city/population 1222637}]"#,
    )?;
    store.register_function("geo/km", |lat1: f64, lon1: f64, lat2: f64, lon2: f64| {
        km((lat1, lon1), (lat2, lon2)).round() as i64
    })?;
    store.register_function("geo/near?", |lat1: f64, lon1: f64, lat2: f64, lon2: f64| {
        km((lat1, lon1), (lat2, lon2)) < 350.0
    })?;
    store.register_aggregate("stats/p90", |mut xs: Vec<i64>| {
        xs.sort_unstable();
        xs.get((xs.len() * 9 / 10).min(xs.len().saturating_sub(1)))
            .copied()
    })?;

    let query = r#"[:find ?to ?d :in $ ?from
                   :where [?a :city/name ?from] [?a :city/lat ?lat1] [?a :city/lon ?lon1]
                          [?b :city/name ?to] [?b :city/lat ?lat2] [?b :city/lon ?lon2]
                          [(!= ?a ?b)] [(geo/near? ?lat1 ?lon1 ?lat2 ?lon2)]
                          [(geo/km ?lat1 ?lon1 ?lat2 ?lon2) ?d]
                   :order-by ?d]"#;
    let db = store.db()?;
    for (city, km) in db.q_str(query, ("Paris",))?.rows_as::<(String, i64)>()? {
        writeln!(out, "{city} is {km} km from Paris")?;
    }
    let explanation = db.explain(&edn::parse(query)?, &[edn::Value::from("Paris")])?;
    let calls = explanation.sql.matches("factlite_registered_").count();
    writeln!(
        out,
        "one SQL statement, calling the Rust functions {calls} times"
    )?;

    let p90 = db.q_str(
        "[:find (stats/p90 ?p) . :where [_ :city/population ?p]]",
        (),
    )?;
    writeln!(
        out,
        "90th percentile of population: {}",
        p90.scalar::<i64>()?.unwrap_or(0)
    )?;
    Ok(())
}
