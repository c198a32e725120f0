//! The serde feature through a real store: `:keys` rows into structs, a
//! nested pull into nested structs, a struct transacted as an entity and
//! read back, and `Value` through our serializer and deserializer
//! unchanged.
#![cfg(feature = "serde")]

use factlite::{edn, Entity, QueryResultExt, Store, TxData, Value};
use serde::{Deserialize, Serialize};

fn store() -> Store {
    let store = Store::open_in_memory().expect("in-memory store");
    store
        .transact_str(
            r#"[{:db/ident :person/name :db/valueType :db.type/string
                 :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
                {:db/ident :person/email :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
                {:db/ident :person/nickname :db/valueType :db.type/string :db/cardinality :db.cardinality/many}
                {:db/ident :person/genre :db/valueType :db.type/keyword :db/cardinality :db.cardinality/one}
                {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]"#,
        )
        .expect("schema");
    store
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Genre {
    #[serde(rename = ":genre/drama")]
    Drama,
    #[serde(rename = ":genre/comedy")]
    Comedy,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Person {
    #[serde(rename = ":db/id", skip_serializing_if = "Option::is_none")]
    tempid: Option<String>,
    name: String,
    age: Option<u32>,
    #[serde(rename = ":person/email")]
    mail: Option<String>,
    #[serde(default)]
    nickname: Vec<String>,
    genre: Option<Genre>,
}

fn ann() -> Person {
    Person {
        tempid: Some("ann".into()),
        name: "Ann".into(),
        age: Some(31),
        mail: None,
        nickname: vec!["annie".into(), "a".into()],
        genre: Some(Genre::Comedy),
    }
}

#[test]
fn a_struct_transacts_as_an_entity_and_pulls_back() {
    let store = store();
    let entity = Entity::from_serde(":person", &ann()).expect("entity");
    let report = store
        .transact(entity.into_tx().expect("tx"))
        .expect("transact");
    let id = report.tempids["ann"];
    let pulled = store
        .db()
        .expect("db")
        .pull(
            &edn::parse("[:person/name :person/age :person/email :person/nickname :person/genre]")
                .expect("EDN"),
            Value::Integer(id),
        )
        .expect("pull");
    let mut back: Person = factlite::serde::from_value(&pulled).expect("a person");
    back.nickname.sort();
    let expected = Person {
        tempid: None,
        nickname: vec!["a".into(), "annie".into()],
        ..ann()
    };
    assert_eq!(back, expected);
}

#[test]
fn keys_rows_deserialize_into_structs() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct NameAge {
        name: String,
        age: u8,
    }
    let store = store();
    let people: TxData = [("Ann", 31), ("Bo", 27)]
        .into_iter()
        .map(|(name, age)| {
            Entity::new()
                .set(":person/name", name)
                .set(":person/age", age)
        })
        .collect();
    store
        .transact(people.build().expect("tx"))
        .expect("transact");
    let result = store
        .db()
        .expect("db")
        .q_str(
            "[:find ?n ?a :keys name age :where [?p :person/name ?n] [?p :person/age ?a] :order-by ?n]",
            &[],
        )
        .expect("query");
    let rows: Vec<NameAge> = result.deserialize().expect("rows");
    assert_eq!(
        rows,
        [
            NameAge {
                name: "Ann".into(),
                age: 31
            },
            NameAge {
                name: "Bo".into(),
                age: 27
            }
        ]
    );
    let tuples: Vec<(String, i64)> = store
        .db()
        .expect("db")
        .q_str(
            "[:find ?n ?a :where [?p :person/name ?n] [?p :person/age ?a] :order-by ?a]",
            &[],
        )
        .expect("query")
        .deserialize()
        .expect("tuples");
    assert_eq!(tuples, [("Bo".to_string(), 27), ("Ann".to_string(), 31)]);
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)] // read only for its error
    struct Wrong {
        name: bool,
    }
    let error = result
        .deserialize::<Wrong>()
        .expect_err("a name is no bool");
    assert_eq!(
        error.to_string(),
        r#"row 0 > name: expected a boolean, found string "Ann""#
    );
    assert_eq!(error.category(), factlite::ErrorCategory::TypeMismatch);
}

#[test]
fn a_nested_pull_fills_nested_structs() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct Friend {
        name: String,
    }
    #[derive(Deserialize, Debug, PartialEq)]
    struct WithFriends {
        id: i64,
        name: String,
        friend: Vec<Friend>,
    }
    let store = store();
    let report = store
        .transact_str(
            r#"[{:db/id "a" :person/name "Ann" :person/friend ["b" "c"]}
                {:db/id "b" :person/name "Bo"} {:db/id "c" :person/name "Cy"}]"#,
        )
        .expect("transact");
    let pattern = edn::parse("[:db/id :person/name {:person/friend [:person/name]}]").expect("EDN");
    let pulled = store
        .db()
        .expect("db")
        .pull(
            &pattern,
            edn::parse(r#"[:person/name "Ann"]"#).expect("EDN"),
        )
        .expect("pull");
    let mut ann: WithFriends = factlite::serde::from_value(&pulled).expect("nested");
    ann.friend.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        ann,
        WithFriends {
            id: report.tempids["a"],
            name: "Ann".into(),
            friend: vec![Friend { name: "Bo".into() }, Friend { name: "Cy".into() }],
        }
    );
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)] // read only for its error
    struct BadFriend {
        friend: Vec<WithFriends>,
    }
    let error = factlite::serde::from_value::<BadFriend>(&pulled).expect_err("no ids pulled");
    assert_eq!(
        error.to_string(),
        ":person/friend > [0]: missing field `id`"
    );
}

#[test]
fn every_value_survives_our_serializer_and_deserializer() {
    let value = edn::parse(
        r#"{:a/b [1 -2.5 "x" \c nil true false] "k" (sym #{:s "t"}) 3 {:nested [[]]}
            :at #inst "2024-01-10T09:00:00.123Z" :id #uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
            :bytes #bytes "00ff" :tag #point [1 2]}"#,
    )
    .expect("EDN");
    let through = factlite::serde::to_value(&value).expect("serializes");
    assert_eq!(through, value);
    let back: Value = factlite::serde::from_value(&value).expect("deserializes");
    assert_eq!(back, value);
    let keyword: factlite::Keyword =
        factlite::serde::from_value(&Value::keyword(":a/b")).expect("keyword");
    assert_eq!(keyword, factlite::Keyword::namespaced("a", "b"));
    let error = factlite::serde::from_value::<factlite::Keyword>(&Value::from(":a/b"))
        .expect_err("a string is no keyword");
    assert_eq!(
        error.to_string(),
        r#"expected a keyword, found string ":a/b""#
    );
    let bytes: factlite::Bytes =
        factlite::serde::from_value(&edn::parse(r#"#bytes "00ff""#).expect("EDN")).expect("bytes");
    assert_eq!(bytes, factlite::Bytes(vec![0, 255]));
}

#[test]
fn out_of_range_numbers_fail_both_ways() {
    let error = factlite::serde::to_value(&u64::MAX).expect_err("too big");
    assert_eq!(
        error.to_string(),
        "expected an integer in i64's range, found u64 18446744073709551615"
    );
    let error = factlite::serde::from_value::<u8>(&Value::Integer(-1)).expect_err("negative");
    assert_eq!(
        error.to_string(),
        "expected u8, found integer `-1` (out of range)"
    );
}
