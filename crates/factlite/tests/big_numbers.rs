//! Big integers and big decimals through the façade: typed inputs and
//! results, `index_range` in numeric order, and the AVET index serving
//! lookups and ranges by a big number (the SQL compares stored number keys,
//! so SQLite can read the range from the index).

use factlite::{params, BigDecimal, BigInt, QueryResultExt, Store, Value};

fn store() -> Store {
    let store = Store::open_in_memory().expect("in-memory store");
    store
        .transact_str(
            r#"[{:db/ident :acct/number :db/valueType :db.type/bigint
                 :db/cardinality :db.cardinality/one :db/index true}
                {:db/ident :acct/balance :db/valueType :db.type/bigdec
                 :db/cardinality :db.cardinality/one}]"#,
        )
        .expect("schema");
    store
        .transact_str(
            r#"[{:acct/number -9223372036854775809N :acct/balance -0.5M}
                {:acct/number 5N :acct/balance 0.1M}
                {:acct/number 9223372036854775808N :acct/balance 100.25M}
                {:acct/number 123456789012345678901234567890N :acct/balance 1.5M}]"#,
        )
        .expect("data");
    store
}

fn big(text: &str) -> BigInt {
    text.parse().expect("digits")
}

#[test]
fn big_numbers_go_in_and_come_out_as_rust_values() {
    let store = store();
    let db = store.db().expect("db");
    let query = factlite::edn::parse(
        "[:find ?b . :in $ ?n :where [?e :acct/number ?n] [?e :acct/balance ?b]]",
    )
    .expect("query");
    let balance: Option<BigDecimal> = db
        .q(&query, params![big("9223372036854775808")])
        .expect("runs")
        .scalar()
        .expect("a decimal");
    assert_eq!(balance, Some(BigDecimal::new(BigInt::from(10025), 2)));
    let small: Option<BigDecimal> = db
        .q(&query, params![5i64])
        .expect("a long input matches the big integer of its value")
        .scalar()
        .expect("converts");
    assert_eq!(small, Some(BigDecimal::new(BigInt::from(1), 1)));
}

#[test]
fn index_range_reads_big_integers_in_numeric_order() {
    let store = store();
    let db = store.db().expect("db");
    let mut range = db
        .index_range(
            ":acct/number",
            big("-9223372036854775809")..big("1000000000000000000000"),
        )
        .expect("range");
    let numbers = range
        .iter()
        .expect("reads")
        .map(|datom| datom.map(|d| d.v.to_edn()))
        .collect::<factlite::Result<Vec<_>>>()
        .expect("datoms");
    assert_eq!(
        numbers,
        [
            Value::BigInt(big("-9223372036854775809")),
            Value::BigInt(big("5")),
            Value::BigInt(big("9223372036854775808")),
        ]
    );
}

#[test]
fn lookups_and_ranges_by_a_big_number_use_the_index() {
    let store = store();
    let db = store.db().expect("db");
    for text in [
        "[:find ?e :where [?e :acct/number 9223372036854775808N]]",
        "[:find ?e :where [?e :acct/number ?n] [(> ?n 9223372036854775807)]]",
        "[:find ?e :where [?e :acct/number ?n] [(< ?n 10N)]]",
    ] {
        let query = factlite::edn::parse(text).expect("query");
        let explanation = db.explain(&query, &[]).expect("explain");
        let plan = explanation.query_plan.join("\n");
        assert!(
            plan.contains("INDEX datoms_avet (a=? AND v"),
            "{text}\n{}\n{plan}",
            explanation.sql
        );
    }
}
