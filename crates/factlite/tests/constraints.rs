//! Attribute predicates (`:db.attr/preds`), which name functions a
//! program registers: every value a transaction asserts must pass them,
//! or the transaction fails with `:error/constraint` naming the attribute,
//! the value and the predicate, and nothing is written. Entity predicates
//! (`:db.entity/preds` of an entity spec, `Store::register_entity_predicate`):
//! called with the database as the transaction leaves it and the entity;
//! `false`, an error or a panic fails the transaction, naming the spec and
//! the predicate, with nothing written.

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

/// A store whose spec `:acct/valid` runs the entity predicate
/// `bank/balanced?`: the account's balance is at least its limit's
/// negative, read from the database the transaction leaves.
fn accounts() -> Store {
    let store = Store::open_in_memory().expect("store");
    store
        .register_entity_predicate("bank/balanced?", |db, account| {
            let query = "[:find [?b ?l] :in $ ?a :where [?a :acct/balance ?b] [?a :acct/limit ?l]]";
            let row = db.q_str(query, (account,))?.tuple::<(i64, i64)>()?;
            Ok(row.is_some_and(|(balance, limit)| balance >= -limit))
        })
        .expect("registered");
    store
        .register_entity_predicate("bank/fails", |_, account| {
            Err(Error::Query {
                message: format!("account {account} cannot be checked"),
            })
        })
        .expect("registered");
    store
        .register_entity_predicate("bank/panics", |_, _| panic!("a bug in the predicate"))
        .expect("registered");
    store
        .transact(
            r#"[{:db/ident :acct/id :db/valueType :db.type/string :db/cardinality :db.cardinality/one
                 :db/unique :db.unique/identity}
                {:db/ident :acct/balance :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
                {:db/ident :acct/limit :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
                {:db/ident :acct/valid :db.entity/attrs [:acct/id] :db.entity/preds [bank/balanced?]}
                {:db/ident :acct/unknowable :db.entity/preds [bank/fails]}
                {:db/ident :acct/buggy :db.entity/preds [bank/panics]}
                {:db/ident :acct/unregistered :db.entity/preds [bank/missing]}
                {:acct/id "a" :acct/balance 10 :acct/limit 5}]"#,
        )
        .expect("schema and an account");
    store
}

/// The account's balance, as committed.
fn balance(store: &Store) -> i64 {
    store
        .db()
        .expect("db")
        .q_str("[:find ?b . :where [_ :acct/balance ?b]]", ())
        .expect("runs")
        .scalar::<i64>()
        .expect("a long")
        .expect("a balance")
}

/// Transacts a new balance for account "a" with `:db/ensure` of `spec`.
fn set_balance(store: &Store, spec: &str, balance: i64) -> factlite::Result<()> {
    let tx_data = format!(
        r#"[[:db/add [:acct/id "a"] :acct/balance {balance}]
            [:db/add [:acct/id "a"] :db/ensure {spec}]]"#
    );
    store.transact(tx_data.as_str()).map(|_| ())
}

/// A refusal: `:error/constraint`, its message naming `words`, and the
/// balance as it was.
fn assert_refused(store: &Store, outcome: factlite::Result<()>, words: &[&str]) {
    let error = outcome.expect_err("refused");
    assert!(matches!(&error, Error::Constraint { .. }), "{error:?}");
    assert_eq!(error.category(), ErrorCategory::Constraint);
    let message = error.to_string();
    for word in words {
        assert!(message.contains(word), "{word} in {message}");
    }
    assert_eq!(balance(store), 10, "nothing of the failed transaction");
}

#[test]
fn an_entity_predicate_sees_the_state_the_transaction_leaves() {
    let store = accounts();
    set_balance(&store, ":acct/valid", -5).expect("within the limit");
    assert_eq!(balance(&store), -5);
    // Raising the limit in the same transaction is what makes it pass.
    store
        .transact(
            r#"[[:db/add [:acct/id "a"] :acct/balance -20]
                [:db/add [:acct/id "a"] :acct/limit 20]
                [:db/add [:acct/id "a"] :db/ensure :acct/valid]]"#,
        )
        .expect("the new limit counts");
    assert_eq!(balance(&store), -20);
}

#[test]
fn an_entity_predicate_returning_false_fails_the_transaction() {
    let store = accounts();
    let outcome = set_balance(&store, ":acct/valid", -6);
    assert_refused(
        &store,
        outcome,
        &[":acct/valid", "bank/balanced?", "returned false"],
    );
}

#[test]
fn an_entity_predicate_that_fails_fails_the_transaction() {
    let store = accounts();
    let outcome = set_balance(&store, ":acct/unknowable", 1);
    assert_refused(
        &store,
        outcome,
        &[":acct/unknowable", "bank/fails", "cannot be checked"],
    );
}

#[test]
fn an_entity_predicate_that_panics_fails_the_transaction() {
    let store = accounts();
    let outcome = set_balance(&store, ":acct/buggy", 1);
    assert_refused(&store, outcome, &[":acct/buggy", "bank/panics", "panicked"]);
    set_balance(&store, ":acct/valid", 1).expect("the store goes on working");
}

#[test]
fn an_entity_predicate_that_is_not_registered_is_named() {
    let store = accounts();
    let outcome = set_balance(&store, ":acct/unregistered", 1);
    assert_refused(
        &store,
        outcome,
        &[
            ":acct/unregistered",
            "bank/missing",
            "register_entity_predicate",
        ],
    );
}

#[test]
fn entity_predicate_names_are_namespaced_and_registered_once() {
    let store = Store::open_in_memory().expect("store");
    let error = store
        .register_entity_predicate("valid?", |_, _| Ok(true))
        .expect_err("no namespace");
    assert!(error.to_string().contains("namespace"), "{error}");
    store
        .register_entity_predicate("my/valid?", |_, _| Ok(true))
        .expect("registered");
    let error = store
        .register_entity_predicate("my/valid?", |_, _| Ok(true))
        .expect_err("twice");
    assert!(error.to_string().contains("already"), "{error}");
}
