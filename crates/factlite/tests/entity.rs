//! `Db::entity`: an entity to navigate attribute by attribute — values,
//! refs as entities (components too), reverse refs, `touch`, views of time.

use factlite::{edn, EntityValue, ErrorCategory, LookupRef, Store, Value};

fn store() -> (Store, i64) {
    let store = Store::open_in_memory().expect("store");
    store
        .transact(
            r#"[{:db/ident :p/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                {:db/ident :p/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
                {:db/ident :p/address :db/valueType :db.type/ref :db/cardinality :db.cardinality/one :db/isComponent true}
                {:db/ident :a/city :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]"#,
        )
        .expect("schema");
    let report = store
        .transact(
            r#"[{:db/id "a" :p/name "Ann" :p/friend ["b" "c"] :p/address {:a/city "Oslo"}}
                {:db/id "b" :p/name "Bo"} {:db/id "c" :p/name "Cy" :p/friend "b"}]"#,
        )
        .expect("data");
    (store, report.tx)
}

fn names(values: Vec<EntityValue>) -> Vec<Value> {
    let mut names: Vec<Value> = values
        .into_iter()
        .filter_map(|value| match value {
            EntityValue::Entity(entity) => entity.value(":p/name").expect("name"),
            EntityValue::Value(_) => None,
        })
        .collect();
    names.sort();
    names
}

#[test]
fn an_entity_navigates_its_refs_both_ways() {
    let (store, _) = store();
    let db = store.db().expect("db");
    let ann = db.entity(LookupRef(":p/name", "Ann")).expect("ann");
    assert_eq!(
        ann.value(":p/name").expect("name"),
        Some(Value::from("Ann"))
    );
    assert_eq!(
        names(ann.get(":p/friend").expect("friends")),
        [Value::from("Bo"), Value::from("Cy")]
    );
    let bo = db.entity(LookupRef(":p/name", "Bo")).expect("bo");
    assert_eq!(
        names(bo.get(":p/_friend").expect("who")),
        [Value::from("Ann"), Value::from("Cy")]
    );
    let addresses = ann.get(":p/address").expect("address");
    let [EntityValue::Entity(address)] = addresses.as_slice() else {
        panic!("the component is an entity")
    };
    assert_eq!(
        address.value(":a/city").expect("city"),
        Some(Value::from("Oslo"))
    );
    let owners = address.get(":p/_address").expect("owner");
    let [EntityValue::Entity(owner)] = owners.as_slice() else {
        panic!("the owner through the reverse component")
    };
    assert_eq!(owner.id(), ann.id());
    assert!(bo.get(":p/friend").expect("none").is_empty());
    let touched = ann.touch().expect("touch");
    let Value::Map(map) = &touched else {
        panic!("a map")
    };
    assert!(
        map.contains_key(&Value::keyword(":p/friend"))
            && map.contains_key(&Value::keyword(":db/id"))
    );
}

#[test]
fn an_entity_of_the_past_sees_its_snapshot_and_a_missing_one_is_an_error() {
    let (store, tx) = store();
    store
        .transact(r#"[[:db/retract [:p/name "Ann"] :p/friend [:p/name "Cy"]]]"#)
        .expect("a change");
    let then = store
        .db()
        .expect("db")
        .as_of(tx)
        .entity(LookupRef(":p/name", "Ann"))
        .expect("ann");
    assert_eq!(names(then.get(":p/friend").expect("friends")).len(), 2);
    let now = store
        .db()
        .expect("db")
        .entity(LookupRef(":p/name", "Ann"))
        .expect("ann");
    assert_eq!(
        names(now.get(":p/friend").expect("friends")),
        [Value::from("Bo")]
    );
    let missing = store
        .db()
        .expect("db")
        .entity(LookupRef(":p/name", "Nobody"));
    assert_eq!(
        missing.err().map(|e| e.category()),
        Some(ErrorCategory::UnknownEntity)
    );
    assert!(
        store
            .db()
            .expect("db")
            .entity(edn::parse(":p/name").expect("ident"))
            .is_ok(),
        "an ident names an entity"
    );
}
