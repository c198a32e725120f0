//! Excision through the façade: a file store forgets an excised entity
//! now, in every view of the past, in its views and its full-text index,
//! and still after reopening; a speculative excision (`Store::with`)
//! changes nothing; `verify` stays clean.

use factlite::{QueryResultExt, Store};

const SCHEMA: &str = r#"[{:db/ident :p/email :db/valueType :db.type/string
  :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
 {:db/ident :p/bio :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/fulltext true}]"#;

/// The count a query gives (`nil` as 0).
fn count(db: &factlite::Db, query: &str) -> i64 {
    db.q_str(query, ())
        .expect("runs")
        .scalar::<i64>()
        .expect("a count")
        .unwrap_or(0)
}

const BIOS: &str = "[:find (count ?b) . :where [_ :p/bio ?b]]";
const HISTORY: &str = "[:find (count ?b) . :where [?e :p/bio ?b _ true]]";
const SECRET: &str = r#"[:find (count ?e) . :where [(fulltext $ :p/bio "secret") [[?e]]]]"#;

#[test]
fn an_excised_entity_is_forgotten_everywhere_and_after_reopening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("excision.db");
    let store = Store::open(&path).expect("opens");
    store.transact_str(SCHEMA).expect("schema");
    store
        .materialize_str("bios", BIOS, &[])
        .expect("materializes");
    let first = store
        .transact_str(
            r#"[{:p/email "ann@x" :p/bio "a secret past"} {:p/email "bo@x" :p/bio "open"}]"#,
        )
        .expect("people");
    store
        .transact_str(r#"[{:p/email "ann@x" :p/bio "a secret present"}]"#)
        .expect("a new bio");
    let speculative = store
        .with(r#"[{:db/excise [:p/email "ann@x"]}]"#, |db, _| {
            Ok(count(db, BIOS))
        })
        .expect("speculates");
    assert_eq!(speculative, 1);
    assert_eq!(
        count(&store.db().expect("db"), BIOS),
        2,
        "with commits nothing"
    );
    store
        .transact_str(r#"[{:db/excise [:p/email "ann@x"]}]"#)
        .expect("excises");
    for store in [store.clone(), {
        drop(store);
        Store::open(&path).expect("reopens")
    }] {
        let db = store.db().expect("db");
        assert_eq!(count(&db, BIOS), 1);
        assert_eq!(count(&db.as_of(first.tx), BIOS), 1);
        assert_eq!(count(&db.history(), HISTORY), 1);
        assert_eq!(count(&db, SECRET), 0);
        let view = store.view("bios").expect("the view");
        assert_eq!(view.scalar::<i64>().expect("a count"), Some(1));
        let report = store.verify().expect("verifies");
        assert!(report.is_clean(), "{report}");
    }
}
