//! The sample database `factlite` opens when given no file: films, the
//! people who directed and acted in them, and their roles, from the
//! dataset shipped in `crates/cli/data/films.edn` (built into the binary).
//!
//! The dataset is compact — one vector per film: title, year, directors,
//! genres, and `[actor character]` pairs — and [`tx_data`] turns it into
//! transaction data: people are upserted by their unique name, each role is
//! a component entity of its film.

use factlite::edn::{self, Value};
use factlite::Store;

use crate::error::{CliError, Result};

/// The file the sample database lives in, in the working directory.
pub const SAMPLE_FILE: &str = "factlite-sample.db";

/// The dataset (see the module documentation for its shape).
const FILMS: &str = include_str!("../data/films.edn");

/// The sample's attributes.
pub const SCHEMA: &str = r#"[
 {:db/ident :film/title :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity :db/doc "The film's title (unique in the sample)"}
 {:db/ident :film/year :db/valueType :db.type/long :db/cardinality :db.cardinality/one
  :db/index true :db/doc "The year of first release"}
 {:db/ident :film/director :db/valueType :db.type/ref :db/cardinality :db.cardinality/many
  :db/doc "The people who directed it"}
 {:db/ident :film/genre :db/valueType :db.type/keyword :db/cardinality :db.cardinality/many
  :db/doc "Genres, such as :genre/drama"}
 {:db/ident :film/cast :db/valueType :db.type/ref :db/cardinality :db.cardinality/many
  :db/isComponent true :db/doc "The film's roles"}
 {:db/ident :role/actor :db/valueType :db.type/ref :db/cardinality :db.cardinality/one
  :db/doc "The person who played the role"}
 {:db/ident :role/character :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/doc "The character's name"}
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity :db/doc "A person's name (unique in the sample)"}]"#;

/// How much the sample holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleSize {
    /// Films.
    pub films: usize,
    /// Distinct people (directors and actors).
    pub people: usize,
    /// Roles (an actor playing a character in a film).
    pub roles: usize,
}

fn malformed(index: usize, what: &str) -> CliError {
    CliError::Usage(format!(
        "sample dataset: film {} is malformed: {what}",
        index + 1
    ))
}

fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_sequence()?
        .iter()
        .map(|item| match item {
            Value::String(text) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// The dataset as one transaction (the schema goes in first, separately),
/// and its size.
pub fn tx_data() -> Result<(Value, SampleSize)> {
    let films = edn::parse(FILMS)?;
    let films = films
        .as_sequence()
        .ok_or_else(|| malformed(0, "not a vector"))?;
    let person = |name: &str| Value::String(format!("person {name}"));
    let mut people = indexmap::IndexSet::new();
    let mut forms = Vec::new();
    let mut roles = 0;
    for (index, film) in films.iter().enumerate() {
        let [Value::String(title), Value::Integer(year), directors, genres, cast] =
            film.as_sequence().unwrap_or_default()
        else {
            return Err(malformed(
                index,
                "expected [title year [directors] [genres] [[actor character] ...]]",
            ));
        };
        let directors = strings(directors).ok_or_else(|| malformed(index, "directors"))?;
        let genres: Vec<Value> = genres
            .as_sequence()
            .ok_or_else(|| malformed(index, "genres"))?
            .iter()
            .map(|genre| match genre {
                Value::Keyword(keyword) => Value::keyword(&format!("genre/{}", keyword.name)),
                other => other.clone(),
            })
            .collect();
        let mut film_roles = Vec::new();
        for role in cast.as_sequence().ok_or_else(|| malformed(index, "cast"))? {
            let pair = strings(role).ok_or_else(|| malformed(index, "a role"))?;
            let [actor, character] = pair.as_slice() else {
                return Err(malformed(index, "a role is not [actor character]"));
            };
            people.insert(actor.clone());
            film_roles.push(edn::parse(&format!(
                "{{:role/actor {} :role/character {}}}",
                person(actor),
                Value::String(character.clone())
            ))?);
        }
        roles += film_roles.len();
        people.extend(directors.iter().cloned());
        let mut map = indexmap::IndexMap::new();
        map.insert(Value::keyword("film/title"), Value::String(title.clone()));
        map.insert(Value::keyword("film/year"), Value::Integer(*year));
        map.insert(
            Value::keyword("film/director"),
            Value::Vector(directors.iter().map(|name| person(name)).collect()),
        );
        map.insert(Value::keyword("film/genre"), Value::Vector(genres));
        map.insert(Value::keyword("film/cast"), Value::Vector(film_roles));
        forms.push(Value::Map(map));
    }
    for name in &people {
        let mut map = indexmap::IndexMap::new();
        map.insert(Value::keyword("db/id"), person(name));
        map.insert(Value::keyword("person/name"), Value::String(name.clone()));
        forms.push(Value::Map(map));
    }
    let size = SampleSize {
        films: films.len(),
        people: people.len(),
        roles,
    };
    Ok((Value::Vector(forms), size))
}

/// Whether the store already holds the sample's schema.
pub fn is_loaded(store: &Store) -> Result<bool> {
    let schema = store.schema()?;
    Ok(schema
        .entid(&edn::Keyword::namespaced("film", "title"))
        .is_some())
}

/// Transacts the sample's schema and data into `store`.
pub fn load(store: &Store) -> Result<SampleSize> {
    store.transact_str(SCHEMA)?;
    let (data, size) = tx_data()?;
    store.transact(&data)?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_loads_with_thousands_of_entities() {
        let store = Store::open_in_memory().expect("store");
        assert!(!is_loaded(&store).expect("schema"));
        let size = load(&store).expect("sample loads");
        assert!(is_loaded(&store).expect("schema"));
        assert!(size.films >= 200, "{size:?}");
        assert!(size.films + size.people + size.roles >= 2000, "{size:?}");
        let db = store.db().expect("db");
        let count = |query: &str| db.q_str(query, &[]).expect("query");
        assert_eq!(
            count("[:find (count ?f) . :where [?f :film/title]]"),
            Value::Integer(size.films as i64)
        );
        assert_eq!(
            count("[:find (count ?p) . :where [?p :person/name]]"),
            Value::Integer(size.people as i64)
        );
        assert_eq!(
            count("[:find (count ?r) . :where [?r :role/character]]"),
            Value::Integer(size.roles as i64)
        );
    }
}
