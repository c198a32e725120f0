//! Tuples and floats through the façade: a tuple goes in as a vector
//! (`Value::Vector`, or a Rust `Vec` through the entity builder) and comes
//! back as one (`Vec<T>` with `FromValue`); a tuple of the wrong length or
//! element type is `Error::TupleMismatch` naming the attribute; a
//! composite tuple is the transactor's (`Error::Schema` by hand), and a
//! unique one is a key for lookup refs and upserts; an `f32` fits a float
//! attribute.

use factlite::{Entity, Error, ErrorCategory, QueryResultExt, Store, TxData, Value};

fn store() -> Store {
    let store = Store::open_in_memory().expect("in-memory store");
    store
        .transact_str(
            r#"[{:db/ident :city/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
                {:db/ident :city/country :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
                {:db/ident :city/key :db/valueType :db.type/tuple :db/cardinality :db.cardinality/one
                 :db/tupleAttrs [:city/country :city/name] :db/unique :db.unique/identity}
                {:db/ident :city/position :db/valueType :db.type/tuple :db/cardinality :db.cardinality/one
                 :db/tupleType :db.type/double :db/index true}
                {:db/ident :city/height :db/valueType :db.type/float :db/cardinality :db.cardinality/one}]"#,
        )
        .expect("schema");
    store
}

#[test]
fn tuples_go_in_and_come_back_as_vectors() {
    let store = store();
    let tx = TxData::new()
        .entity(
            Entity::new()
                .set(":city/name", "Lyon")
                .set(":city/country", "FR")
                .set(":city/position", vec![45.76, 4.84])
                .set(":city/height", 173.5f32),
        )
        .build()
        .expect("tx data");
    store.transact(&tx).expect("transact");
    let db = store.db().expect("db");
    let position = db
        .q_str("[:find ?p . :where [_ :city/position ?p]]", &[])
        .expect("query")
        .scalar::<Vec<f64>>()
        .expect("a vector of doubles");
    assert_eq!(position, Some(vec![45.76, 4.84]));
    let key = db
        .q_str("[:find ?k . :where [_ :city/key ?k]]", &[])
        .expect("query")
        .scalar::<Vec<String>>()
        .expect("the composite");
    assert_eq!(key, Some(vec!["FR".to_string(), "Lyon".to_string()]));
    let height = db
        .q_str("[:find ?h . :where [_ :city/height ?h]]", &[])
        .expect("query")
        .scalar::<f32>()
        .expect("a float reads as an f32");
    assert_eq!(height, Some(173.5));
    // The composite is a key: a lookup ref names its entity.
    let lyon = db
        .pull_str(
            "[:city/name]",
            factlite::edn::parse(r#"[:city/key ["FR" "Lyon"]]"#).expect("a lookup ref"),
        )
        .expect("pull by the composite");
    assert_eq!(lyon.to_string(), r#"{:city/name "Lyon"}"#);
}

#[test]
fn a_tuple_of_the_wrong_shape_names_the_attribute() {
    let store = store();
    let error = store
        .transact_str(r#"[{:city/name "Nice" :city/position [43.7]}]"#)
        .expect_err("one element is too few");
    assert_eq!(error.category(), ErrorCategory::TypeMismatch);
    let Error::TupleMismatch {
        attribute, reason, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(attribute, ":city/position");
    assert!(reason.contains("1 element"), "{reason}");
    let error = store
        .transact_str(r#"[{:city/name "Nice" :city/position [43.7 "east"]}]"#)
        .expect_err("a string where the tuple holds doubles");
    assert!(matches!(error, Error::TupleMismatch { .. }), "{error:?}");
    assert!(error.to_string().contains(":city/position"), "{error}");
}

#[test]
fn a_composite_is_not_asserted_by_hand() {
    let store = store();
    let error = store
        .transact_str(r#"[{:city/name "Nice" :city/key ["FR" "Nice"]}]"#)
        .expect_err("the transactor keeps :city/key");
    assert_eq!(error.category(), ErrorCategory::Schema);
    assert!(error.to_string().contains(":city/key"), "{error}");
    // Nothing was written.
    let names = store
        .db()
        .expect("db")
        .q_str("[:find ?n :where [_ :city/name ?n]]", &[])
        .expect("query")
        .into_edn();
    assert_eq!(names, Value::Set(Default::default()));
}

#[test]
fn a_unique_composite_upserts() {
    let store = store();
    store
        .transact_str(r#"[{:city/name "Lyon" :city/country "FR" :city/height 170.0}]"#)
        .expect("first");
    store
        .transact_str(r#"[{:city/name "Lyon" :city/country "FR" :city/height 173.5}]"#)
        .expect("the same key: the same city");
    let heights = store
        .db()
        .expect("db")
        .q_str("[:find [?h ...] :where [_ :city/height ?h]]", &[])
        .expect("query")
        .values::<f32>()
        .expect("floats");
    assert_eq!(heights, vec![173.5]);
}
