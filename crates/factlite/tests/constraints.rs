//! Attribute predicates (`:db.attr/preds`), which name functions a
//! program registers: every value a transaction asserts must pass them,
//! or the transaction fails with `:error/constraint` naming the attribute,
//! the value and the predicate, and nothing is written.

use factlite::{Entity, Error, ErrorCategory, QueryResultExt, Store};

fn store() -> Store {
    let store = Store::open_in_memory().expect("store");
    store
        .register_function("shop/positive?", |n: i64| n > 0)
        .expect("registered");
    store
        .transact(
            r#"[{:db/ident :item/count :db/valueType :db.type/long :db/cardinality :db.cardinality/one
                 :db.attr/preds [shop/positive?]}
                {:db/ident :item/sku :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]"#,
        )
        .expect("schema");
    store
}

#[test]
fn a_value_that_fails_its_attribute_s_predicate_fails_the_transaction() {
    let store = store();
    store
        .transact(Entity::new().set(":item/sku", "a").set(":item/count", 3))
        .expect("passes");
    let error = store
        .transact(Entity::new().set(":item/sku", "b").set(":item/count", -1))
        .expect_err("fails");
    assert!(matches!(&error, Error::Constraint { .. }), "{error:?}");
    assert_eq!(error.category(), ErrorCategory::Constraint);
    let message = error.to_string();
    assert!(
        message.contains(":item/count")
            && message.contains("shop/positive?")
            && message.contains("-1"),
        "{message}"
    );
    let skus = store
        .db()
        .expect("db")
        .q_str("[:find [?s ...] :where [_ :item/sku ?s]]", ())
        .expect("runs");
    assert_eq!(
        skus.values::<String>().expect("skus"),
        ["a"],
        "nothing of the failed transaction"
    );
}

#[test]
fn a_predicate_that_is_not_registered_is_named() {
    let store = Store::open_in_memory().expect("store");
    store
        .transact(
            r#"[{:db/ident :item/count :db/valueType :db.type/long :db/cardinality :db.cardinality/one
                 :db.attr/preds [shop/missing?]}]"#,
        )
        .expect("schema");
    let error = store
        .transact(r#"[{:item/count 1}]"#)
        .expect_err("unregistered");
    assert_eq!(error.category(), ErrorCategory::Constraint);
    assert!(error.to_string().contains("shop/missing?"), "{error}");
}
