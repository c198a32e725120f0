//! factlite's side: stores opened on a file (default configuration, so
//! `Durability::Full`) or in memory, the people and the genealogy loaded as
//! transaction data built from values (never text), and the write
//! workloads as a user would write them.

use std::path::Path;

use factlite::edn::Keyword;
use factlite::{Config, Entid, QueryResultExt, Store, Value};

use crate::data::Person;

/// Where a factlite store lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    File,
    Memory,
}

pub const PEOPLE_SCHEMA: &str = r#"[
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/last-name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/sex :db/valueType :db.type/keyword :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/salary :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/index true}]"#;

const GENEALOGY_SCHEMA: &str = r#"[
 {:db/ident :person/id :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
 {:db/ident :person/parent :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]"#;

/// Entities per load transaction.
const BATCH: usize = 5_000;

/// Opens an empty store with `schema`; a file store at `path` with the
/// default configuration.
pub fn open(place: Place, path: &Path, schema: &str) -> Store {
    let store = match place {
        Place::File => Store::open_with(path, Config::default()).expect("the file store opens"),
        Place::Memory => Store::open_in_memory().expect("the memory store opens"),
    };
    store.transact_str(schema).expect("the schema transacts");
    store
}

pub fn keyword(name: &str) -> Value {
    Value::Keyword(Keyword::namespaced("person", name))
}

fn add() -> Value {
    Value::Keyword(Keyword::namespaced("db", "add"))
}

/// The five attributes of a person, as (attribute, value) pairs.
pub fn attributes(person: &Person) -> [(Value, Value); 5] {
    [
        (keyword("name"), Value::String(person.name.into())),
        (keyword("last-name"), Value::String(person.last_name.into())),
        (keyword("sex"), Value::Keyword(Keyword::plain(person.sex()))),
        (keyword("age"), Value::Integer(person.age)),
        (keyword("salary"), Value::Integer(person.salary)),
    ]
}

/// A person as an entity map with the tempid `tempid`.
pub fn entity_map(person: &Person, tempid: &str) -> Value {
    let mut map: factlite::IndexMap<Value, Value> = attributes(person).into_iter().collect();
    map.insert(
        Value::Keyword(Keyword::namespaced("db", "id")),
        Value::String(tempid.into()),
    );
    Value::Map(map)
}

/// Loads people in transactions of `BATCH` entities; their entity ids in
/// person order.
pub fn load_people(store: &Store, people: &[Person]) -> Vec<Entid> {
    let mut ids = Vec::with_capacity(people.len());
    for (batch, chunk) in people.chunks(BATCH).enumerate() {
        let forms: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, person)| entity_map(person, &format!("p{}", batch * BATCH + i)))
            .collect();
        let report = store
            .transact(Value::Vector(forms))
            .expect("people transact");
        ids.extend((0..chunk.len()).map(|i| report.tempids[&format!("p{}", batch * BATCH + i)]));
    }
    ids
}

/// Loads a genealogy; the entity id of each person id (index 0 unused).
pub fn load_genealogy(store: &Store, parents: &[Vec<usize>]) -> Vec<Entid> {
    store
        .transact_str(GENEALOGY_SCHEMA)
        .expect("the genealogy schema transacts");
    let mut ids: Vec<Entid> = vec![0];
    let ids_in_batch = BATCH * 5;
    for first in (1..parents.len()).step_by(ids_in_batch) {
        let last = (first + ids_in_batch).min(parents.len());
        let reference = |id: usize, ids: &[Entid]| match ids.get(id) {
            Some(&entity) => Value::Integer(entity),
            None => Value::String(format!("g{id}")),
        };
        let mut forms = Vec::new();
        for (id, of) in parents.iter().enumerate().take(last).skip(first) {
            forms.push(Value::Vector(vec![
                add(),
                Value::String(format!("g{id}")),
                keyword("id"),
                Value::Integer(id as i64),
            ]));
            for &parent in of {
                forms.push(Value::Vector(vec![
                    add(),
                    Value::String(format!("g{id}")),
                    keyword("parent"),
                    reference(parent, &ids),
                ]));
            }
        }
        let report = store
            .transact(Value::Vector(forms))
            .expect("the genealogy transacts");
        ids.extend((first..last).map(|id| report.tempids[&format!("g{id}")]));
    }
    ids
}

/// add-1: every datom its own transaction (the first of each person
/// creates it through a tempid).
pub fn add_one_at_a_time(store: &Store, people: &[Person]) {
    for person in people {
        let mut datoms = attributes(person).into_iter();
        let Some((attribute, value)) = datoms.next() else {
            unreachable!("a person has five attributes")
        };
        let first = Value::Vector(vec![Value::Vector(vec![
            add(),
            Value::String("p".into()),
            attribute,
            value,
        ])]);
        let entity = store.transact(first).expect("add-1 transacts").tempids["p"];
        for (attribute, value) in datoms {
            let datom = Value::Vector(vec![Value::Vector(vec![
                add(),
                Value::Integer(entity),
                attribute,
                value,
            ])]);
            store.transact(datom).expect("add-1 transacts");
        }
    }
}

/// Transacts each form in a transaction of its own, handing it over by
/// value (as a program that built it would).
pub fn transact_each(store: &Store, forms: Vec<Value>) {
    for form in forms {
        store.transact(form).expect("the transaction commits");
    }
}

/// `[[:db/retractEntity e]]` for each entity, one transaction each.
pub fn retractions(entities: &[Entid]) -> Vec<Value> {
    entities
        .iter()
        .map(|&e| {
            Value::Vector(vec![Value::Vector(vec![
                Value::Keyword(Keyword::namespaced("db", "retractEntity")),
                Value::Integer(e),
            ])])
        })
        .collect()
}

/// The datoms of the five person attributes the store holds.
pub fn person_datoms(store: &Store) -> u64 {
    let db = store.db().expect("a snapshot");
    ["name", "last-name", "sex", "age", "salary"]
        .iter()
        .map(|attribute| {
            let query = format!("[:find (count ?e) . :where [?e :person/{attribute} _]]");
            db.q_str(&query, ())
                .expect("the count runs")
                .scalar::<i64>()
                .expect("a count")
                .unwrap_or(0) as u64
        })
        .sum()
}
