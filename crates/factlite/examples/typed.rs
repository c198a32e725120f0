//! The typed way through factlite: facts written with the entity builder
//! (no EDN text, so no value is ever read as code), query inputs from Rust
//! tuples, rows read back as Rust types, and serde structs in and out.
//!
//! Run it with `cargo run -p factlite --example typed --features serde`.
//! `tests/typed_example.rs` runs it and checks what it prints.

use std::error::Error;
use std::io::Write;

use factlite::{Entity, LookupRef, QueryResultExt, Store, TempId, ToValue, TxData};
use serde::{Deserialize, Serialize};

fn main() -> Result<(), Box<dyn Error>> {
    run(&Store::open_in_memory()?, &mut std::io::stdout())
}

/// A film as the program sees it: fields are `:film/...` attributes.
#[derive(Serialize, Deserialize)]
struct Film {
    title: String,
    year: u16,
    #[serde(default)]
    genre: Vec<factlite::Keyword>,
}

/// The example, on an empty store, printing to `out`.
pub fn run(store: &Store, out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    // The schema is still data; written once, as text.
    store.transact(
        r#"[{:db/ident :person/name :db/valueType :db.type/string
             :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
            {:db/ident :person/born :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
            {:db/ident :film/title :db/valueType :db.type/string
             :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
            {:db/ident :film/year :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
            {:db/ident :film/genre :db/valueType :db.type/keyword :db/cardinality :db.cardinality/many}
            {:db/ident :film/director :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}]"#,
    )?;

    // Facts from Rust values: entities with tempids that refer to each other.
    let tx = TxData::new()
        .entity(
            Entity::new()
                .tempid("ridley")
                .set(":person/name", "Ridley Scott")
                .set(":person/born", 1937),
        )
        .entity(
            Entity::new()
                .set(":film/title", "Alien")
                .set(":film/year", 1979)
                .add(
                    ":film/genre",
                    factlite::Keyword::from_str_lossy(":genre/sci-fi"),
                )
                .add(
                    ":film/genre",
                    factlite::Keyword::from_str_lossy(":genre/horror"),
                )
                .set(":film/director", TempId("ridley")),
        );
    let report = store.transact(tx)?;
    writeln!(out, "added {} datoms", report.datoms.len())?;

    // A serde struct transacts as an entity map, linked by a lookup ref.
    let blade_runner = Film {
        title: "Blade Runner".into(),
        year: 1982,
        genre: vec![factlite::Keyword::from_str_lossy(":genre/sci-fi")],
    };
    let entity = Entity::from_serde(":film", &blade_runner)?
        .set(":film/director", LookupRef(":person/name", "Ridley Scott"));
    store.transact(entity)?;

    // Inputs from a Rust tuple; rows out as Rust types.
    let db = store.db()?;
    let films = db.q_str(
        "[:find ?title ?year :in $ ?director ?after
          :where [?d :person/name ?director] [?f :film/director ?d]
                 [?f :film/title ?title] [?f :film/year ?year] [(> ?year ?after)]
          :order-by ?year]",
        ("Ridley Scott", 1980u16),
    )?;
    for (title, year) in films.rows_as::<(String, u16)>()? {
        writeln!(out, "{title} ({year})")?;
    }
    let count = db
        .q_str("[:find (count ?f) . :where [?f :film/title]]", ())?
        .scalar::<u64>()?;
    writeln!(out, "films: {}", count.unwrap_or(0))?;

    // `:keys` rows into structs, and a pull into a struct.
    #[derive(Deserialize)]
    struct Credit {
        title: String,
        director: String,
    }
    let credits: Vec<Credit> = db
        .q_str(
            "[:find ?t ?n :keys title director
              :where [?f :film/title ?t] [?f :film/director ?d] [?d :person/name ?n] :order-by ?t]",
            (),
        )?
        .deserialize()?;
    for credit in credits {
        writeln!(out, "{} was directed by {}", credit.title, credit.director)?;
    }
    let alien = db.pull(
        &factlite::edn::parse("[:film/title :film/year :film/genre]")?,
        &LookupRef(":film/title", "Alien").to_value()?,
    )?;
    let mut alien: Film = factlite::serde::from_value(&alien)?;
    alien.genre.sort();
    let genres: Vec<String> = alien
        .genre
        .iter()
        .map(|genre| factlite::Value::Keyword(genre.clone()).to_string())
        .collect();
    writeln!(
        out,
        "{} ({}): {}",
        alien.title,
        alien.year,
        genres.join(" ")
    )?;
    Ok(())
}
