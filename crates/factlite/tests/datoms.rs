//! Index ranges through the façade: `Db::datoms` streams an index in order.

use factlite::{IndexName, Store, TypedValue};

#[test]
fn an_index_range_streams_in_index_order() {
    let store = Store::open_in_memory().expect("store");
    store
        .transact_str(
            r#"[{:db/ident :city/name :db/valueType :db.type/string
                 :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                {:db/ident :city/population :db/valueType :db.type/long
                 :db/cardinality :db.cardinality/one :db/index true}]"#,
        )
        .expect("schema");
    store
        .transact_str(
            r#"[{:city/name "Oslo" :city/population 700000}
                {:city/name "Bergen" :city/population 290000}
                {:city/name "Tromsø" :city/population 78000}]"#,
        )
        .expect("data");
    let db = store.db().expect("db");
    let population = db
        .entid(&factlite::edn::Keyword::namespaced("city", "population"))
        .expect("schema")
        .expect("defined");
    let mut range = db
        .datoms(IndexName::Avet, &[TypedValue::Ref(population)])
        .expect("range");
    let smallest_two: Vec<TypedValue> = range
        .iter()
        .expect("runs")
        .take(2)
        .map(|d| d.expect("decodes").v)
        .collect();
    assert_eq!(
        smallest_two,
        [TypedValue::Long(78000), TypedValue::Long(290000)]
    );
}
