//! Typed values in and out through a real store: the entity builder and
//! `TxData` transact, inputs converted from Rust values run through the
//! existing `&[Value]` API (and through a generic function, as `Db::q`
//! will be), and results read back as Rust types.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use factlite::{
    params, Bytes, Entity, ErrorCategory, Inputs, Keyword, LookupRef, QueryResult, QueryResultExt,
    Store, TempId, TxData, Uuid, Value,
};

fn store() -> Store {
    let store = Store::open_in_memory().expect("in-memory store");
    store
        .transact_str(
            r#"[{:db/ident :person/name :db/valueType :db.type/string
                 :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
                {:db/ident :person/score :db/valueType :db.type/double :db/cardinality :db.cardinality/one}
                {:db/ident :person/active :db/valueType :db.type/boolean :db/cardinality :db.cardinality/one}
                {:db/ident :person/status :db/valueType :db.type/keyword :db/cardinality :db.cardinality/one}
                {:db/ident :person/id :db/valueType :db.type/uuid :db/cardinality :db.cardinality/one}
                {:db/ident :person/born :db/valueType :db.type/instant :db/cardinality :db.cardinality/one}
                {:db/ident :person/photo :db/valueType :db.type/bytes :db/cardinality :db.cardinality/one}
                {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}]"#,
        )
        .expect("schema");
    store
}

/// How `Db::q` will take its inputs once it is generic over `Inputs`.
fn q(store: &Store, query: &str, inputs: impl Inputs) -> factlite::Result<QueryResult> {
    store.db()?.q_str(query, &inputs.into_inputs()?)
}

#[test]
fn every_value_type_round_trips_through_the_store() {
    let store = store();
    let born = UNIX_EPOCH + Duration::from_millis(631_152_000_123);
    let tx = TxData::new()
        .entity(
            Entity::new()
                .set(":person/name", "Ann")
                .set(":person/age", 31u8)
                .set(":person/score", 2.5f32)
                .set(":person/active", true)
                .set(":person/status", Keyword::from_str_lossy(":status/active"))
                .set(":person/id", Uuid(7))
                .set(":person/born", born)
                .set(":person/photo", Bytes(vec![0, 1, 255])),
        )
        .build()
        .expect("tx data");
    store.transact(&tx).expect("transact");
    let row = q(
        &store,
        "[:find [?age ?score ?active ?status ?id ?born ?photo]
          :in $ ?name
          :where [?p :person/name ?name] [?p :person/age ?age] [?p :person/score ?score]
                 [?p :person/active ?active] [?p :person/status ?status] [?p :person/id ?id]
                 [?p :person/born ?born] [?p :person/photo ?photo]]",
        ("Ann",),
    )
    .expect("query")
    .tuple::<(u64, f64, bool, Keyword, Uuid, SystemTime, Bytes)>()
    .expect("converts");
    assert_eq!(
        row,
        Some((
            31,
            2.5,
            true,
            Keyword::namespaced("status", "active"),
            Uuid(7),
            born,
            Bytes(vec![0, 1, 255])
        ))
    );
}

#[test]
fn a_string_that_looks_like_tx_data_is_only_a_string() {
    let store = store();
    let sneaky = r#"x"] [:db/retractEntity 1] [:db/add "y"#;
    let tx = TxData::new()
        .entity(Entity::new().set(":person/name", "Ann"))
        .entity(Entity::new().set(":person/name", sneaky))
        .build()
        .expect("tx data");
    store.transact(&tx).expect("transact");
    let names = q(&store, "[:find [?n ...] :where [_ :person/name ?n]]", ())
        .expect("query")
        .values::<String>()
        .expect("strings");
    let mut names = names;
    names.sort();
    assert_eq!(names, ["Ann".to_string(), sneaky.to_string()]);
    let found = q(
        &store,
        "[:find ?p . :in $ ?n :where [?p :person/name ?n]]",
        params![sneaky],
    )
    .expect("query")
    .scalar::<i64>()
    .expect("an id");
    assert!(found.is_some());
}

#[test]
fn tempids_lookup_refs_and_cardinality_many_refs() {
    let store = store();
    let report = store
        .transact(
            TxData::new()
                .entity(
                    Entity::new()
                        .tempid("a")
                        .set(":person/name", "Ann")
                        .add(":person/friend", TempId("b"))
                        .add(":person/friend", TempId("c")),
                )
                .entity(Entity::new().tempid("b").set(":person/name", "Bo"))
                .entity(Entity::new().tempid("c").set(":person/name", "Cy"))
                .build()
                .expect("tx data"),
        )
        .expect("transact");
    let ann = report.tempids["a"];
    store
        .transact(
            TxData::new()
                .retract(ann, ":person/friend", LookupRef(":person/name", "Bo"))
                .add(LookupRef(":person/name", "Cy"), ":person/friend", ann)
                .cas(ann, ":person/age", None::<i64>, 40)
                .build()
                .expect("tx data"),
        )
        .expect("transact");
    let pairs = q(
        &store,
        "[:find ?n ?f :where [?p :person/name ?n] [?p :person/friend ?x] [?x :person/name ?f]]",
        (),
    )
    .expect("query");
    let mut pairs = pairs.rows_as::<(String, String)>().expect("pairs");
    pairs.sort();
    assert_eq!(
        pairs,
        [("Ann".into(), "Cy".into()), ("Cy".into(), "Ann".into())]
    );
    let age = q(
        &store,
        "[:find ?a . :in $ ?p :where [?p :person/age ?a]]",
        (ann,),
    )
    .expect("query")
    .scalar::<u32>()
    .expect("age");
    assert_eq!(age, Some(40));
    let failed = store
        .transact(
            TxData::new()
                .cas(ann, ":person/age", 39, 41)
                .build()
                .expect("tx data"),
        )
        .expect_err("cas fails");
    assert_eq!(failed.category(), ErrorCategory::CasFailed);
    store
        .transact(
            TxData::new()
                .retract_entity(LookupRef(":person/name", "Cy"))
                .retract_attribute(ann, ":person/age")
                .build()
                .expect("tx data"),
        )
        .expect("retract");
    let left = q(&store, "[:find (count ?p) . :where [?p :person/name]]", ())
        .expect("query")
        .scalar::<usize>()
        .expect("count");
    assert_eq!(left, Some(2));
}

#[test]
fn collection_tuple_and_relation_inputs_from_rust_values() {
    let store = store();
    let people: TxData = [("Ann", 31), ("Bo", 27), ("Cy", 45)]
        .into_iter()
        .map(|(name, age)| {
            Entity::new()
                .set(":person/name", name)
                .set(":person/age", age)
        })
        .collect();
    store
        .transact(people.build().expect("tx data"))
        .expect("transact");
    let older = q(
        &store,
        "[:find ?n ?a :in $ [?n ...] ?min :where [?p :person/name ?n] [?p :person/age ?a] [(> ?a ?min)] :order-by ?n]",
        (vec!["Ann", "Bo", "Cy"], 30u16),
    )
    .expect("query");
    let rows: Vec<(String, i64)> = older
        .rows()
        .expect("a relation")
        .map(|row| Ok((row.get(0)?, row.get(1)?)))
        .collect::<factlite::Result<_>>()
        .expect("rows");
    assert_eq!(rows, [("Ann".to_string(), 31), ("Cy".to_string(), 45)]);
    let ages = q(
        &store,
        "[:find [?a ...] :in $ [[?n ?x]] :where [?p :person/name ?n] [?p :person/age ?a] :order-by ?a]",
        (vec![("Bo", 1), ("Cy", 2)],),
    )
    .expect("query")
    .values::<u8>()
    .expect("ages");
    assert_eq!(ages, [27, 45]);
    let pair = q(&store, "[:find [?a ?b] :in $ [?a ?b]]", ((1, "x"),))
        .expect("query")
        .tuple::<(i64, String)>()
        .expect("tuple");
    assert_eq!(pair, Some((1, "x".to_string())));
    let from_values = q(
        &store,
        "[:find ?a . :in $ ?n :where [?p :person/name ?n] [?p :person/age ?a]]",
        &[Value::from("Bo")],
    )
    .expect("query");
    assert_eq!(from_values.scalar::<i64>().expect("age"), Some(27));
    let none = q(
        &store,
        "[:find ?a . :where [?p :person/name \"Zed\"] [?p :person/age ?a]]",
        &[],
    )
    .expect("query");
    assert_eq!(none.scalar::<i64>().expect("nothing"), None);
}

#[test]
fn conversion_errors_name_both_types_and_the_column() {
    let store = store();
    store
        .transact(
            Entity::new()
                .set(":person/name", "Ann")
                .set(":person/age", 300)
                .into_tx()
                .expect("tx data"),
        )
        .expect("transact");
    let result = q(
        &store,
        "[:find ?n ?a :where [?p :person/name ?n] [?p :person/age ?a]]",
        (),
    )
    .expect("query");
    let error = result.rows_as::<(String, u8)>().expect_err("300 is no u8");
    assert_eq!(
        error.to_string(),
        "column 1: expected u8, found integer 300 (out of range)"
    );
    assert_eq!(error.category(), ErrorCategory::TypeMismatch);
    let error = result
        .rows_as::<(i64, i64)>()
        .expect_err("a string is no i64");
    assert_eq!(error.to_string(), "column 0: expected i64, found string");
    let error = result.scalar::<i64>().expect_err("not a scalar query");
    assert_eq!(
        error.to_string(),
        "expected a scalar result (:find ?x .), found a relation result"
    );
    let error = q(&store, "[:find ?x . :in $ ?x]", (u64::MAX,)).expect_err("too big");
    assert_eq!(
        error.to_string(),
        "input 0: expected an integer in i64's range, found u64 18446744073709551615"
    );
    let error = Entity::new()
        .set(":person/age", i128::MAX)
        .into_tx()
        .expect_err("too big");
    assert!(
        error.to_string().starts_with("form 0 > :person/age: "),
        "{error}"
    );
    let mismatch = store
        .transact(
            Entity::new()
                .set(":person/name", "Bo")
                .set(":person/age", "old")
                .into_tx()
                .expect("tx data"),
        )
        .expect_err("a string is no long");
    assert_eq!(mismatch.category(), ErrorCategory::TypeMismatch);
}
