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

mod ranges {
    //! `Db::index_range` and `Db::seek_datoms`, on the current state and
    //! on a view of the past.

    use factlite::{Error, IndexName, Store, TypedValue, Value};

    fn values(mut datoms: factlite::Datoms<'_>) -> Vec<Value> {
        datoms
            .iter()
            .expect("runs")
            .map(|datom| datom.expect("datom").v.to_edn())
            .collect()
    }

    fn store() -> (Store, i64) {
        let store = Store::open_in_memory().expect("store");
        store
            .transact(
                r#"[{:db/ident :p/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                    {:db/ident :p/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/index true}
                    {:db/ident :p/note :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]"#,
            )
            .expect("schema");
        let report = store
            .transact(
                r#"[{:p/name "Ann" :p/age 31} {:p/name "Bo" :p/age 27} {:p/name "Cy" :p/age 45}
                    {:p/name "Dee" :p/age 27}]"#,
            )
            .expect("data");
        store
            .transact(r#"[[:db/add [:p/name "Cy"] :p/age 46]]"#)
            .expect("a change");
        (store, report.tx)
    }

    #[test]
    fn index_range_reads_the_values_between_its_bounds() {
        let (store, first) = store();
        let db = store.db().expect("db");
        let ints = |xs: &[i64]| xs.iter().map(|x| Value::Integer(*x)).collect::<Vec<_>>();
        assert_eq!(
            values(db.index_range(":p/age", 27..46).expect("range")),
            ints(&[27, 27, 31])
        );
        assert_eq!(
            values(db.index_range(":p/age", 28..).expect("range")),
            ints(&[31, 46])
        );
        assert_eq!(
            values(db.index_range(":p/age", ..=27).expect("range")),
            ints(&[27, 27])
        );
        let names: Vec<Value> = values(db.index_range(":p/name", "B"..="Cz").expect("range"));
        assert_eq!(names, [Value::from("Bo"), Value::from("Cy")]);
        let past = db.as_of(first);
        assert_eq!(
            values(past.index_range(":p/age", 40..).expect("range")),
            ints(&[45])
        );
        assert!(matches!(
            db.index_range(":p/note", "a".."z"),
            Err(Error::Query { .. })
        ));
        assert!(matches!(
            db.index_range(":p/age", "a".."z"),
            Err(Error::TypeMismatch { .. })
        ));
        assert!(matches!(
            db.index_range(":p/nothing", 1..2),
            Err(Error::UnknownAttribute { .. })
        ));
    }

    #[test]
    fn seek_datoms_starts_at_a_position_and_runs_to_the_index_s_end() {
        let (store, _) = store();
        let db = store.db().expect("db");
        let age = db
            .entid(&factlite::Keyword::namespaced("p", "age"))
            .expect("schema")
            .expect("attribute");
        let from_31: Vec<Value> = values(
            db.seek_datoms(
                IndexName::Avet,
                &[TypedValue::Ref(age), TypedValue::Long(31)],
            )
            .expect("seek"),
        );
        assert_eq!(from_31[..2], [Value::Integer(31), Value::Integer(46)]);
        assert!(from_31.len() >= 2, "the index goes on past the attribute");
        let everything = values(db.seek_datoms(IndexName::Eavt, &[]).expect("seek"));
        assert_eq!(
            everything.len(),
            values(db.datoms(IndexName::Eavt, &[]).expect("all")).len()
        );
    }
}
