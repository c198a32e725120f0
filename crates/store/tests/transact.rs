//! The transactor (`Store::transact`), data-driven: each case is a schema, a
//! list of steps (transaction data as EDN text with the outcome it must
//! have) and the expected state afterwards, one datom a line.
//!
//! In the expected state an entity is printed by the tempid it first
//! resolved to (`ann`), a transaction entity as `tx<step>`, an entity with
//! an ident by its ident, and any other entity as `#<offset in the user
//! partition>`. Every failing step is also checked to leave every table
//! (datoms, log, partitions, statistics, full text) exactly as it was.
//!
//! The cases that need more than the final state (reports, listeners,
//! files, locking, schema definitions) have their own small helpers below.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use factlite_core::{bootstrap, Attribute, Entid, Partition};
use factlite_edn::{parse, Keyword, Value};
use factlite_query::{parse_query, parse_tx_data};
use factlite_store::{Config, Error, IndexName, Store, TxReport};

/// The schema most cases share.
const PEOPLE: &str = r#"[
 {:db/ident :person/email :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :person/ssn :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/value}
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :person/nick :db/valueType :db.type/string :db/cardinality :db.cardinality/many}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 {:db/ident :person/spouse :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :person/color :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :order/id :db/valueType :db.type/long :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :order/buyer :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :order/lines :db/valueType :db.type/ref :db/cardinality :db.cardinality/many
  :db/isComponent true}
 {:db/ident :line/sku :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :line/note :db/valueType :db.type/ref :db/cardinality :db.cardinality/one
  :db/isComponent true}
 {:db/ident :note/text :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :audit/user :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :color/red} {:db/ident :color/blue}]"#;

// ---- the helpers ------------------------------------------------------------

fn forms(text: &str) -> Result<Vec<factlite_query::TxForm>, String> {
    let value = parse(text).map_err(|e| format!(":error/parse {e}"))?;
    parse_tx_data(&value).map_err(|e| format!(":error/parse {e}"))
}

/// Transacts EDN text; an error comes back as `:error/<category> <message>`.
fn transact(store: &Store, text: &str) -> Result<TxReport, String> {
    let forms = forms(text)?;
    store
        .transact(&forms)
        .map_err(|e| format!("{} {e}", e.category().keyword()))
}

/// Every row of every table the transactor writes, as text.
fn fingerprint(store: &Store) -> Vec<String> {
    let conn = store.connection();
    let mut rows = Vec::new();
    for sql in [
        "SELECT * FROM datoms ORDER BY e, a, v",
        "SELECT * FROM log ORDER BY tx, seq",
        "SELECT * FROM partitions ORDER BY part",
        "SELECT * FROM attribute_stats ORDER BY a",
        "SELECT v, e, a FROM fulltext ORDER BY e, a, v",
    ] {
        let mut statement = conn.prepare(sql).expect("fingerprint query prepares");
        let columns = statement.column_count();
        let mut result = statement.query([]).expect("fingerprint query runs");
        while let Some(row) = result.next().expect("fingerprint row") {
            let cells: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).expect("fingerprint cell")))
                .collect();
            rows.push(format!("{sql}: {}", cells.join(" ")));
        }
    }
    rows
}

/// Names entities by the tempids they resolved to.
#[derive(Default)]
struct Names {
    by_id: BTreeMap<Entid, String>,
}

impl Names {
    fn learn(&mut self, step: usize, report: &TxReport) {
        self.by_id
            .entry(report.tx)
            .or_insert_with(|| format!("tx{step}"));
        for (name, id) in &report.tempids {
            if self.by_id.contains_key(id) {
                continue;
            }
            let taken = self.by_id.values().any(|n| n == name);
            let name = if taken {
                format!("{name}@{step}")
            } else {
                name.clone()
            };
            self.by_id.insert(*id, name);
        }
    }

    fn entity(&self, store: &Store, id: Entid) -> String {
        if let Some(name) = self.by_id.get(&id) {
            return name.clone();
        }
        let schema = store.schema().expect("schema");
        if let Some(ident) = schema.ident(id) {
            return Value::Keyword(ident.clone()).to_string();
        }
        format!("#{}", id - Partition::User.start())
    }
}

/// The current datoms of user and transaction entities (without
/// `:db/txInstant`) and of user attributes on any entity, one `e a v` line
/// each, sorted.
fn dump(store: &Store, names: &Names) -> Vec<String> {
    let db = store.db().expect("db");
    let schema = store.schema().expect("schema");
    let mut datoms = db.datoms(IndexName::Eavt, &[]).expect("datoms");
    let mut lines: Vec<String> = datoms
        .iter()
        .expect("datoms stream")
        .map(|d| d.expect("datom decodes"))
        .filter(|d| d.e >= Partition::Tx.start() || d.a >= bootstrap::FIRST_USER_SCHEMA_ID)
        .filter(|d| d.a != bootstrap::DB_TX_INSTANT)
        .map(|d| {
            let attribute = schema
                .ident(d.a)
                .map(|k| Value::Keyword(k.clone()).to_string());
            let v = match d.v {
                factlite_core::TypedValue::Ref(id) => names.entity(store, id),
                other => other.to_string(),
            };
            format!(
                "{} {} {v}",
                names.entity(store, d.e),
                attribute.unwrap_or_else(|| d.a.to_string())
            )
        })
        .collect();
    lines.sort();
    lines
}

fn expected_lines(expected: &str) -> Vec<String> {
    let mut lines: Vec<String> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

/// Runs the steps against a fresh store with `schema`, checking each
/// step's outcome, and returns the store and the names it learnt.
///
/// An outcome is `ok`; `noop` (commits, but the log records nothing but
/// the transaction's instant); or `:error/<category> <text>`, where the
/// error's message must contain `<text>` and the store stay unchanged.
fn run(schema: &str, steps: &[(&str, &str)]) -> (Store, Names) {
    let store = Store::open_in_memory().expect("in-memory store opens");
    transact(&store, schema).expect("schema transacts");
    let mut names = Names::default();
    for (index, (text, outcome)) in steps.iter().enumerate() {
        let step = index + 1;
        let before = fingerprint(&store);
        let result = transact(&store, text);
        match (*outcome, result) {
            ("ok", Ok(report)) => names.learn(step, &report),
            ("noop", Ok(report)) => {
                let logged = store
                    .db()
                    .expect("db")
                    .tx_range(report.tx, report.tx)
                    .expect("log");
                let attributes: Vec<Entid> = logged.iter().map(|d| d.a).collect();
                assert_eq!(
                    attributes,
                    [bootstrap::DB_TX_INSTANT],
                    "step {step} logs only its instant"
                );
                assert_eq!(
                    report.datoms.len(),
                    1,
                    "step {step} reports only its instant"
                );
                names.learn(step, &report);
            }
            (error, Ok(report)) => {
                panic!("step {step} {text}: expected {error}, but it committed {report:?}")
            }
            (expected, Err(message)) => {
                let (category, text_part) = expected.split_once(' ').unwrap_or((expected, ""));
                assert!(
                    category.starts_with(":error/")
                        && message.starts_with(&format!("{category} "))
                        && message.contains(text_part),
                    "step {step} {text}: expected {expected}, got {message}"
                );
                assert_eq!(
                    before,
                    fingerprint(&store),
                    "step {step}: a failed transaction changed the store"
                );
            }
        }
    }
    (store, names)
}

/// Runs the steps and compares the final state with `expected`.
fn check(schema: &str, steps: &[(&str, &str)], expected: &str) {
    let (store, names) = run(schema, steps);
    assert_eq!(dump(&store, &names), expected_lines(expected));
}

fn keyword(text: &str) -> Keyword {
    match parse(text).expect("keyword parses").into_keyword() {
        Ok(k) => k,
        Err(other) => panic!("{other} is not a keyword"),
    }
}

/// An attribute's definition on one line.
fn describe(attribute: &Attribute) -> String {
    let mut text = format!(
        "{} {} {}",
        Value::Keyword(attribute.ident.clone()),
        attribute.value_type.name(),
        attribute.cardinality.name()
    );
    if let Some(unique) = attribute.unique {
        text.push_str(&format!(" unique-{}", unique.name()));
    }
    for (flag, name) in [
        (attribute.index, "index"),
        (attribute.is_component, "component"),
        (attribute.fulltext, "fulltext"),
    ] {
        if flag {
            text.push_str(&format!(" {name}"));
        }
    }
    if let Some(doc) = &attribute.doc {
        text.push_str(&format!(" doc={doc:?}"));
    }
    text
}

/// Runs the steps and compares an attribute's definition afterwards.
fn check_attribute(steps: &[(&str, &str)], attribute: &str, expected: &str) {
    let (store, _) = run(PEOPLE, steps);
    let schema = store.schema().expect("schema");
    let found = schema.attribute_named(&keyword(attribute)).map(describe);
    assert_eq!(found.as_deref(), Some(expected));
}

fn query(store: &Store, text: &str) -> String {
    let query = parse_query(&parse(text).expect("query text parses")).expect("query parses");
    store
        .db()
        .expect("db")
        .query(&query, &[])
        .expect("query runs")
        .to_string()
}

// ---- transaction forms ------------------------------------------------------

#[test]
fn map_asserts_each_attribute_and_each_value_of_a_many_attribute() {
    check(
        PEOPLE,
        &[(
            r#"[{:db/id "ann" :person/name "Ann" :person/age 30 :person/nick ["a" "annie"]}]"#,
            "ok",
        )],
        r#"ann :person/name "Ann"
           ann :person/age 30
           ann :person/nick "a"
           ann :person/nick "annie""#,
    );
}

#[test]
fn nested_maps_make_component_entities_and_upsert_referenced_ones() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:db/id "bob" :person/email "bob@x" :person/name "Bob"}]"#,
                "ok",
            ),
            (
                r#"[{:db/id "o" :order/id 1
                     :order/buyer {:person/email "bob@x" :person/age 40}
                     :order/lines [{:line/sku "A" :line/note {:note/text "fragile"}}
                                   {:line/sku "B"}]}]"#,
                "ok",
            ),
        ],
        r#"bob :person/email "bob@x"
           bob :person/name "Bob"
           bob :person/age 40
           o :order/id 1
           o :order/buyer bob
           o :order/lines #2
           o :order/lines #4
           #2 :line/sku "A"
           #2 :line/note #3
           #3 :note/text "fragile"
           #4 :line/sku "B""#,
    );
}

#[test]
fn reverse_attribute_in_a_map_asserts_from_the_other_side() {
    check(
        PEOPLE,
        &[(
            r#"[{:db/id "x" :person/name "X" :person/_friend ["y" "z"]}
                {:db/id "y" :person/name "Y"} {:db/id "z" :person/name "Z"}]"#,
            "ok",
        )],
        r#"x :person/name "X"
           y :person/name "Y"
           y :person/friend x
           z :person/name "Z"
           z :person/friend x"#,
    );
}

#[test]
fn add_and_retract_single_values() {
    check(
        PEOPLE,
        &[
            (
                r#"[[:db/add "ann" :person/nick "a"] [:db/add "ann" :person/nick "b"]
                 [:db/add "ann" :person/email "ann@x"]]"#,
                "ok",
            ),
            (
                r#"[[:db/retract [:person/nick "a"] :person/nick "a"]]"#,
                ":error/unknown-entity",
            ),
            (
                r#"[[:db/retract [:person/email "ann@x"] :person/nick "a"]]"#,
                "ok",
            ),
        ],
        r#"ann :person/nick "b"
           ann :person/email "ann@x""#,
    );
}

#[test]
fn retract_without_value_retracts_every_value() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:person/email "a@x" :person/nick ["a" "b" "c"] :person/age 3}]"#,
                "ok",
            ),
            (
                r#"[[:db/retract [:person/email "a@x"] :person/nick]]"#,
                "ok",
            ),
        ],
        r#"#0 :person/email "a@x"
           #0 :person/age 3"#,
    );
}

#[test]
fn retract_entity_cascades_through_components_and_removes_refs_to_it() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:db/id "o" :order/id 1 :order/buyer "bob"
                     :order/lines [{:db/id "l1" :line/sku "A" :line/note {:db/id "n" :note/text "t"}}]}
                    {:db/id "bob" :person/email "bob@x"}
                    {:db/id "other" :order/id 2 :order/lines ["l2"] :order/buyer "bob"}
                    {:db/id "l2" :line/sku "B"}
                    {:db/id "fan" :person/friend "l1"}]"#,
                "ok",
            ),
            (r#"[[:db/retractEntity [:order/id 1]]]"#, "ok"),
        ],
        r#"bob :person/email "bob@x"
           other :order/id 2
           other :order/lines l2
           other :order/buyer bob
           l2 :line/sku "B""#,
    );
}

#[test]
fn retract_entity_of_a_referenced_entity_removes_the_refs() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:db/id "a" :person/email "a@x" :person/spouse "b" :person/friend ["b"]}
                 {:db/id "b" :person/email "b@x"}]"#,
                "ok",
            ),
            (r#"[[:db/retractEntity [:person/email "b@x"]]]"#, "ok"),
        ],
        r#"a :person/email "a@x""#,
    );
}

#[test]
fn cas_swaps_when_the_old_value_matches() {
    check(
        PEOPLE,
        &[
            (r#"[{:db/id "a" :person/email "a@x"}]"#, "ok"),
            (
                r#"[[:db/cas [:person/email "a@x"] :person/age nil 1]]"#,
                "ok",
            ),
            (r#"[[:db/cas [:person/email "a@x"] :person/age 1 2]]"#, "ok"),
            (
                r#"[[:db/cas [:person/email "a@x"] :person/age nil 3]]"#,
                ":error/cas-failed expected nil, found 2",
            ),
            (
                r#"[[:db/cas [:person/email "a@x"] :person/age 1 3]]"#,
                ":error/cas-failed attribute :person/age: expected 1, found 2",
            ),
        ],
        r#"a :person/email "a@x"
           a :person/age 2"#,
    );
}

#[test]
fn tempids_refer_to_each_other_in_any_order() {
    check(
        PEOPLE,
        &[(
            r#"[[:db/add "c" :person/spouse "a"]
                {:db/id "a" :person/friend ["b" "c"] :person/spouse "b"}
                [:db/add "b" :person/name "B"]]"#,
            "ok",
        )],
        r#"c :person/spouse a
           a :person/friend b
           a :person/friend c
           a :person/spouse b
           b :person/name "B""#,
    );
}

#[test]
fn tempid_only_used_as_a_value_is_refused() {
    check(
        PEOPLE,
        &[(
            r#"[[:db/add "a" :person/spouse "nobody"]]"#,
            r#":error/unknown-entity "nobody""#,
        )],
        "",
    );
}

#[test]
fn lookup_refs_and_idents_as_entity_and_as_ref_value() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:db/id "a" :person/email "a@x"} {:db/id "b" :person/email "b@x"}]"#,
                "ok",
            ),
            (
                r#"[[:db/add [:person/email "a@x"] :person/spouse [:person/email "b@x"]]
                    {:db/id [:person/email "b@x"] :person/color :color/red :person/friend [[:person/email "a@x"]]}
                    [:db/add :color/blue :audit/user "ident as entity"]]"#,
                "ok",
            ),
            (
                r#"[[:db/add [:person/email "zed@x"] :person/age 1]]"#,
                r#":error/unknown-entity lookup ref [:person/email "zed@x"] names no entity"#,
            ),
            (
                r#"[[:db/add "a" :person/color :color/green]]"#,
                ":error/unknown-entity :color/green",
            ),
            (
                r#"[[:db/add [:person/name "A"] :person/age 1]]"#,
                ":error/unknown-entity :person/name is not a unique attribute",
            ),
        ],
        r#"a :person/email "a@x"
           a :person/spouse b
           b :person/email "b@x"
           b :person/color :color/red
           b :person/friend a
           :color/blue :audit/user "ident as entity""#,
    );
}

#[test]
fn upsert_through_a_unique_identity() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:db/id "ann" :person/email "ann@x" :person/name "Ann"}]"#,
                "ok",
            ),
            // no :db/id: the map upserts
            (r#"[{:person/email "ann@x" :person/age 30}]"#, "ok"),
            // a string tempid upserts, and refs to it name the same entity
            (
                r#"[{:db/id "t" :person/email "ann@x" :person/nick "a"} {:db/id "u" :person/spouse "t"}]"#,
                "ok",
            ),
        ],
        r#"ann :person/email "ann@x"
           ann :person/name "Ann"
           ann :person/age 30
           ann :person/nick "a"
           u :person/spouse ann"#,
    );
}

#[test]
fn two_tempids_upserting_to_the_same_existing_entity_unify() {
    check(
        PEOPLE,
        &[
            (r#"[{:db/id "ann" :person/email "ann@x"}]"#, "ok"),
            (
                r#"[{:db/id "p" :person/email "ann@x" :person/age 1}
                 {:db/id "q" :person/email "ann@x" :person/name "A"}
                 [:db/add "q" :person/friend "p"]]"#,
                "ok",
            ),
        ],
        r#"ann :person/email "ann@x"
           ann :person/age 1
           ann :person/name "A"
           ann :person/friend ann"#,
    );
}

/// Regression: tempids asserting the same *new* identity value were given
/// two ids, and the transaction then failed with a unique conflict.
#[test]
fn two_tempids_with_the_same_new_identity_value_unify() {
    let (store, _) = run(
        PEOPLE,
        &[(
            r#"[{:db/id "p" :person/email "new@x" :person/age 1}
                {:db/id "q" :person/email "new@x" :person/name "N"}]"#,
            "ok",
        )],
    );
    let report = transact(&store, r#"[{:db/id "r" :person/email "new@x"}]"#).expect("upserts");
    assert_eq!(
        query(
            &store,
            r#"[:find ?n ?a :where [?e :person/email "new@x"] [?e :person/name ?n] [?e :person/age ?a]]"#
        ),
        r#"#{["N" 1]}"#
    );
    assert_eq!(
        report.datoms.len(),
        1,
        "the upsert adds nothing but the instant"
    );
}

/// Regression: a chain of three tempids (a and b share a new email, b and c
/// a new order id) was split in two when c came before b, and the
/// transaction failed with a unique conflict.
#[test]
fn a_chain_of_tempids_sharing_identity_values_unifies() {
    check(
        PEOPLE,
        &[(
            r#"[{:db/id "a" :person/email "x@x" :person/name "X"}
                {:db/id "c" :order/id 9}
                {:db/id "b" :person/email "x@x" :order/id 9 :person/age 3}]"#,
            "ok",
        )],
        r#"a :person/email "x@x"
           a :person/name "X"
           a :order/id 9
           a :person/age 3"#,
    );
}

#[test]
fn a_chain_of_tempids_upserts_when_one_link_is_held() {
    check(
        PEOPLE,
        &[
            (r#"[{:db/id "old" :order/id 9}]"#, "ok"),
            (
                r#"[{:db/id "a" :person/email "x@x"}
                    {:db/id "b" :person/email "x@x" :person/name "B"}
                    {:db/id "c" :person/nick "C" :order/id 9 :person/email "x@x"}]"#,
                "ok",
            ),
        ],
        r#"old :order/id 9
           old :person/email "x@x"
           old :person/name "B"
           old :person/nick "C""#,
    );
}

#[test]
fn tempids_sharing_a_new_identity_value_but_upserting_apart_conflict() {
    check(
        PEOPLE,
        &[
            (r#"[{:person/email "one@x"} {:person/email "two@x"}]"#, "ok"),
            (
                r#"[{:db/id "a" :person/email "one@x" :order/id 100}
                    {:db/id "c" :person/email "two@x" :order/id 100}]"#,
                r#":error/unique-conflict tempids "a" and "c" assert the same :db.unique/identity values but resolve to two entities"#,
            ),
        ],
        r#"#0 :person/email "one@x"
           #1 :person/email "two@x""#,
    );
}

#[test]
fn tempids_upserting_to_two_different_entities_conflict() {
    check(
        PEOPLE,
        &[
            (r#"[{:person/email "a@x"} {:order/id 7}]"#, "ok"),
            (
                r#"[{:db/id "t" :person/email "a@x" :order/id 7}]"#,
                r#":error/unique-conflict tempid "t" would upsert to two entities"#,
            ),
        ],
        r#"#0 :person/email "a@x"
           #1 :order/id 7"#,
    );
}

#[test]
fn datomic_tx_names_the_transaction_entity() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:db/id "a" :person/name "A"} [:db/add "datomic.tx" :audit/user "ann"]]"#,
                "ok",
            ),
            (
                r#"[{:db/id "datomic.tx" :audit/user "bob"} {:db/id "b" :person/name "B"}]"#,
                "ok",
            ),
        ],
        r#"a :person/name "A"
           tx1 :audit/user "ann"
           b :person/name "B"
           tx2 :audit/user "bob""#,
    );
}

#[test]
fn cardinality_one_values_are_replaced() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:db/id "a" :person/email "a@x" :person/age 1 :person/spouse "b"} {:db/id "b" :person/name "B"}]"#,
                "ok",
            ),
            (
                r#"[{:person/email "a@x" :person/age 2 :person/spouse :color/red}]"#,
                "ok",
            ),
            (
                r#"[[:db/add [:person/email "a@x"] :person/age 3] [:db/add [:person/email "a@x"] :person/age 4]]"#,
                ":error/unique-conflict two values for cardinality-one attribute :person/age",
            ),
        ],
        r#"a :person/email "a@x"
           a :person/age 2
           a :person/spouse :color/red
           b :person/name "B""#,
    );
}

/// A cardinality-one value the entity holds already, asserted again,
/// still conflicts with another value in the same transaction, whichever
/// comes first (after the other value, the held one is being retracted
/// too); asserting the held value (twice) alone changes nothing.
#[test]
fn a_held_value_conflicts_with_another_in_either_order() {
    check(
        PEOPLE,
        &[
            (r#"[{:db/id "a" :person/email "a@x" :person/age 2}]"#, "ok"),
            (
                r#"[[:db/add [:person/email "a@x"] :person/age 2] [:db/add [:person/email "a@x"] :person/age 5]]"#,
                ":error/unique-conflict unique conflict: entity 2199023255552 gets two values for cardinality-one attribute :person/age in one transaction: 2 and 5",
            ),
            (
                r#"[[:db/add [:person/email "a@x"] :person/age 5] [:db/add [:person/email "a@x"] :person/age 2]]"#,
                ":error/unique-conflict unique conflict: the transaction both asserts and retracts [2199023255552 :person/age 2]",
            ),
            (
                r#"[[:db/add [:person/email "a@x"] :person/age 2] {:person/email "a@x" :person/age 2}]"#,
                "ok",
            ),
        ],
        r#"a :person/email "a@x"
           a :person/age 2"#,
    );
}

/// Of several conflicts, the one an op meets first is named, whatever the
/// entities' order.
#[test]
fn the_conflict_met_first_is_named() {
    check(
        PEOPLE,
        &[(
            r#"[{:db/id "b" :person/name "B"} {:db/id "a" :person/name "A"}
                [:db/add "a" :person/name "A2"] [:db/add "b" :person/name "B2"]]"#,
            ":error/unique-conflict unique conflict: entity 2199023255553 gets two values for cardinality-one attribute :person/name in one transaction: \"A\" and \"A2\"",
        )],
        "",
    );
}

#[test]
fn a_unique_value_moves_only_when_its_holder_gives_it_up() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:db/id "a" :person/email "a@x" :person/ssn "1"} {:db/id "b" :person/email "b@x"}]"#,
                "ok",
            ),
            (
                r#"[[:db/add [:person/email "b@x"] :person/ssn "1"]]"#,
                r#":error/unique-conflict :person/ssn "1" is already held by entity"#,
            ),
            (
                r#"[[:db/retract [:person/email "a@x"] :person/ssn "1"] [:db/add [:person/email "b@x"] :person/ssn "1"]]"#,
                "ok",
            ),
        ],
        r#"a :person/email "a@x"
           b :person/email "b@x"
           b :person/ssn "1""#,
    );
}

#[test]
fn noop_assertions_and_retractions_log_nothing() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:db/id "a" :person/email "a@x" :person/age 1 :person/nick "n"}]"#,
                "ok",
            ),
            (
                r#"[{:person/email "a@x" :person/age 1 :person/nick "n"}]"#,
                "noop",
            ),
            (
                r#"[[:db/retract [:person/email "a@x"] :person/nick "other"]]"#,
                "noop",
            ),
            (
                r#"[[:db/retract [:person/email "a@x"] :person/name]]"#,
                "noop",
            ),
            (
                r#"[[:db/cas [:person/email "a@x"] :person/age 1 1]]"#,
                "noop",
            ),
        ],
        r#"a :person/email "a@x"
           a :person/age 1
           a :person/nick "n""#,
    );
}

#[test]
fn asserting_and_retracting_one_datom_in_one_transaction_is_refused() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:db/id "a" :person/email "a@x" :person/nick "n"}]"#,
                "ok",
            ),
            (
                r#"[[:db/retract [:person/email "a@x"] :person/nick "n"] [:db/add [:person/email "a@x"] :person/nick "n"]]"#,
                ":error/unique-conflict both asserts and retracts",
            ),
        ],
        r#"a :person/email "a@x"
           a :person/nick "n""#,
    );
}

// ---- the report -------------------------------------------------------------

#[test]
fn report_names_tx_tempids_and_datoms() {
    let store = Store::open_in_memory().expect("store");
    transact(&store, PEOPLE).expect("schema");
    let first = transact(
        &store,
        r#"[{:db/id "a" :person/email "a@x" :person/age 1}]"#,
    )
    .expect("tx");
    let a = first.tempids["a"];
    assert_eq!(Partition::of(a), Some(Partition::User));
    assert_eq!(Partition::of(first.tx), Some(Partition::Tx));
    let second = transact(
        &store,
        r#"[{:db/id "b" :person/email "a@x" :person/age 2}]"#,
    )
    .expect("tx");
    assert_eq!(second.tx, first.tx + 1);
    assert_eq!(second.basis_before, first.tx);
    assert_eq!(
        second.tempids.get("b"),
        Some(&a),
        "the upserted tempid is reported"
    );
    let schema = store.schema().expect("schema");
    let age = schema.entid(&keyword(":person/age")).expect(":person/age");
    let summary: Vec<String> = second
        .datoms
        .iter()
        .map(|d| {
            let who = if d.e == a {
                "a".to_string()
            } else if d.e == second.tx {
                "tx".to_string()
            } else {
                d.e.to_string()
            };
            let what = if d.a == age {
                ":person/age".to_string()
            } else {
                schema.ident(d.a).map(|k| k.to_string()).unwrap_or_default()
            };
            let value = if d.a == bootstrap::DB_TX_INSTANT {
                "instant".to_string()
            } else {
                d.v.to_string()
            };
            format!("{who} {what} {value} {}", d.added)
        })
        .collect();
    assert_eq!(
        summary,
        [
            "a :person/age 1 false",
            "a :person/age 2 true",
            "tx :db/txInstant instant true"
        ]
    );
    assert!(second.datoms.iter().all(|d| d.tx == second.tx));
    assert!(second.instant >= first.instant);
    // the log holds the same datoms in the same order
    let logged = store
        .db()
        .expect("db")
        .tx_range(second.tx, second.tx)
        .expect("log");
    assert_eq!(logged, second.datoms);
}

// ---- errors -----------------------------------------------------------------

#[test]
fn every_error_category_names_what_is_wrong() {
    check(
        PEOPLE,
        &[
            (r#"[{:db/id "a" :person/email "a@x" :person/age 1}]"#, "ok"),
            // parse: text, forms, and forms the transactor refuses
            (r#"[{:db/id "a" :person/age 1"#, ":error/parse"),
            (r#"[[:db/frobnicate "a" :person/age 1]]"#, ":error/parse :db/frobnicate"),
            (r#"[[:db/add "a" :person/_friend "b"]]"#, ":error/parse :person/_friend"),
            (r#"[{:db/id "a" :order/buyer {"k" 1}}]"#, r#":error/parse "k""#),
            // unknown attribute, in a map and in a list form
            (r#"[{:db/id "b" :person/height 180}]"#, ":error/unknown-attribute :person/height"),
            (r#"[[:db/add "b" :no/such "x"]]"#, ":error/unknown-attribute :no/such"),
            // type mismatch: names entity, attribute and value
            (r#"[[:db/add "b" :person/age "old"]]"#,
             r#":error/type-mismatch value "old" for attribute :person/age of entity "b""#),
            (r#"[[:db/add [:person/email "a@x"] :person/email 12]]"#,
             ":error/type-mismatch value 12 for attribute :person/email"),
            (r#"[[:db/add "b" :person/spouse 1.5]]"#, ":error/type-mismatch :person/spouse"),
            // unique conflict
            (r#"[{:db/id "b" :person/ssn "1"} {:db/id "c" :person/ssn "1"}]"#,
             r#":error/unique-conflict would both hold :person/ssn "1""#),
            // unknown entity: ids never allocated, lookup refs, idents
            (r#"[[:db/add 999999999 :person/age 1]]"#, ":error/unknown-entity entity id 999999999"),
            (r#"[[:db/retractEntity [:person/email "nobody@x"]]]"#, r#":error/unknown-entity [:person/email "nobody@x"]"#),
            (r#"[[:db/add :no/ident :person/age 1]]"#, ":error/unknown-entity :no/ident"),
            // cas: names entity, attribute, expected and found
            (r#"[[:db/cas [:person/email "a@x"] :person/age 5 6]]"#,
             ":error/cas-failed compare-and-swap failed on entity"),
            (r#"[[:db/cas [:person/email "a@x"] :person/nick "x" "y"]]"#, ":error/schema :person/nick is cardinality many"),
            // schema
            (r#"[{:db/id :person/age :db/valueType :db.type/string}]"#,
             ":error/schema :person/age holds values of :db.type/long; its value type cannot change to :db.type/string"),
            (r#"[{:db/ident :x/y :db/valueType :db.type/nonsense}]"#, ":error/schema :x/y has an invalid :db/valueType"),
            (r#"[{:db/ident :x/comp :db/valueType :db.type/long :db/isComponent true}]"#,
             ":error/schema :x/comp is a component but not a ref"),
        ],
        r#"a :person/email "a@x"
           a :person/age 1"#,
    );
}

#[test]
fn a_failing_transaction_leaves_the_next_ids_alone() {
    let (store, _) = run(
        PEOPLE,
        &[
            (r#"[{:db/id "a" :person/email "a@x"}]"#, "ok"),
            (
                r#"[{:db/id "b" :person/name "B"} {:db/ident :new/attr :db/valueType :db.type/long} [:db/add "c" :person/age "x"]]"#,
                ":error/type-mismatch",
            ),
        ],
    );
    let before = store.latest_tx().expect("latest");
    let report = transact(&store, r#"[{:db/id "b" :person/name "B"}]"#).expect("tx");
    assert_eq!(
        report.tx,
        before + 1,
        "the failed transaction used no tx id"
    );
    let a = query(&store, r#"[:find ?e . :where [?e :person/email "a@x"]]"#);
    assert_eq!(
        report.tempids["b"],
        a.parse::<Entid>().expect("an id") + 1,
        "nor a user id"
    );
    assert!(store
        .schema()
        .expect("schema")
        .attribute_named(&keyword(":new/attr"))
        .is_none());
}

// ---- schema changes ---------------------------------------------------------

#[test]
fn index_can_be_turned_on_and_off() {
    check_attribute(
        &[(r#"[{:db/id :person/age :db/index true}]"#, "ok")],
        ":person/age",
        ":person/age long one index",
    );
    check_attribute(
        &[
            (r#"[{:db/id :person/age :db/index true}]"#, "ok"),
            (r#"[[:db/add :person/age :db/index false]]"#, "ok"),
        ],
        ":person/age",
        ":person/age long one",
    );
    // the AVET rows follow the flag
    let (store, _) = run(
        PEOPLE,
        &[
            (r#"[{:person/email "a@x" :person/age 7}]"#, "ok"),
            (r#"[{:db/id :person/age :db/index true}]"#, "ok"),
        ],
    );
    let age = store
        .schema()
        .expect("schema")
        .entid(&keyword(":person/age"))
        .expect("age");
    let rows: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM datoms WHERE avet = 1 AND a = ?1",
            [age],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(rows, 1);
}

#[test]
fn doc_can_be_set() {
    check_attribute(
        &[(r#"[{:db/id :person/age :db/doc "years"}]"#, "ok")],
        ":person/age",
        r#":person/age long one doc="years""#,
    );
}

#[test]
fn cardinality_one_to_many_is_allowed() {
    check_attribute(
        &[
            (r#"[{:person/email "a@x" :person/age 1}]"#, "ok"),
            (
                r#"[{:db/id :person/age :db/cardinality :db.cardinality/many}]"#,
                "ok",
            ),
            (r#"[[:db/add [:person/email "a@x"] :person/age 2]]"#, "ok"),
        ],
        ":person/age",
        ":person/age long many",
    );
}

#[test]
fn cardinality_many_to_one_only_when_no_entity_holds_two_values() {
    check_attribute(
        &[
            (
                r#"[{:person/email "a@x" :person/nick "a"} {:person/email "b@x" :person/nick ["b" "c"]}]"#,
                "ok",
            ),
            (
                r#"[{:db/id :person/nick :db/cardinality :db.cardinality/one}]"#,
                ":error/schema :person/nick cannot become cardinality one: entity",
            ),
            (
                r#"[[:db/retract [:person/email "b@x"] :person/nick "c"]]"#,
                "ok",
            ),
            (
                r#"[{:db/id :person/nick :db/cardinality :db.cardinality/one}]"#,
                "ok",
            ),
        ],
        ":person/nick",
        ":person/nick string one",
    );
}

#[test]
fn unique_can_be_added_only_when_values_are_unique() {
    check_attribute(
        &[
            (
                r#"[{:person/email "a@x" :person/name "Same"} {:person/email "b@x" :person/name "Same"}]"#,
                "ok",
            ),
            (
                r#"[{:db/id :person/name :db/unique :db.unique/identity}]"#,
                ":error/schema :person/name cannot become unique",
            ),
            (r#"[{:person/email "b@x" :person/name "Other"}]"#, "ok"),
            (
                r#"[{:db/id :person/name :db/unique :db.unique/identity}]"#,
                "ok",
            ),
            // and it now works as an identity
            (r#"[{:person/name "Other" :person/age 9}]"#, "ok"),
        ],
        ":person/name",
        ":person/name string one unique-identity",
    );
}

#[test]
fn renaming_through_a_new_ident_keeps_the_data() {
    let steps = [
        (
            r#"[{:db/id "a" :person/email "a@x" :person/name "Ann"}]"#,
            "ok",
        ),
        (
            r#"[{:db/id :person/name :db/ident :person/full-name}]"#,
            "ok",
        ),
        // The former ident still names the attribute, as in Datomic.
        (r#"[{:person/email "a@x" :person/name "Old name"}]"#, "ok"),
    ];
    check(
        PEOPLE,
        &steps,
        r#"a :person/email "a@x"
                              a :person/full-name "Old name""#,
    );
    let (store, _) = run(PEOPLE, &steps);
    assert_eq!(
        query(&store, r#"[:find ?n . :where [_ :person/full-name ?n]]"#),
        r#""Old name""#
    );
    assert_eq!(
        query(&store, r#"[:find ?n . :where [_ :person/name ?n]]"#),
        r#""Old name""#
    );
}

#[test]
fn value_type_changes_only_for_unused_attributes() {
    check_attribute(
        &[
            (
                r#"[{:db/id :person/age :db/valueType :db.type/string}]"#,
                "ok",
            ),
            (r#"[{:person/email "a@x" :person/age "old"}]"#, "ok"),
        ],
        ":person/age",
        ":person/age string one",
    );
    check_attribute(
        &[
            (r#"[{:person/email "a@x" :person/age 3}]"#, "ok"),
            (
                r#"[{:db/id :person/age :db/valueType :db.type/string}]"#,
                ":error/schema :person/age holds values",
            ),
        ],
        ":person/age",
        ":person/age long one",
    );
}

#[test]
fn an_attribute_declared_and_used_in_one_transaction() {
    check(
        PEOPLE,
        &[
            (
                r#"[{:db/id "p" :pet/name "Rex" :pet/tags ["a" "b"] :pet/owner "o"}
                {:db/ident :pet/name :db/valueType :db.type/string :db/unique :db.unique/identity}
                {:db/id "o" :person/name "O"}
                {:db/id "tags" :db/ident :pet/tags :db/valueType :db.type/string :db/cardinality :db.cardinality/many}
                {:db/ident :pet/owner :db/valueType :db.type/ref}]"#,
                "ok",
            ),
            (r#"[{:pet/name "Rex" :pet/tags "c"}]"#, "ok"),
        ],
        r#"p :pet/name "Rex"
           p :pet/tags "a"
           p :pet/tags "b"
           p :pet/tags "c"
           p :pet/owner o
           o :person/name "O""#,
    );
}

#[test]
fn fulltext_values_are_indexed_and_follow_changes() {
    let schema = r#"[{:db/ident :doc/email :db/valueType :db.type/string :db/unique :db.unique/identity}
                     {:db/ident :doc/text :db/valueType :db.type/string :db/fulltext true}]"#;
    let (store, _) = run(
        schema,
        &[
            (
                r#"[{:doc/email "d1" :doc/text "the quick brown fox"} {:doc/email "d2" :doc/text "lazy dogs"}]"#,
                "ok",
            ),
            (r#"[{:doc/email "d2" :doc/text "sleepy cats"}]"#, "ok"),
        ],
    );
    let matches = |word: &str| -> Vec<String> {
        let conn = store.connection();
        let mut statement = conn
            .prepare("SELECT v FROM fulltext WHERE fulltext MATCH ?1 ORDER BY v")
            .expect("fts query");
        let rows = statement
            .query_map([word], |row| row.get(0))
            .expect("fts rows");
        rows.collect::<Result<Vec<String>, _>>()
            .expect("fts values")
    };
    assert_eq!(matches("fox"), ["the quick brown fox"]);
    assert_eq!(matches("cats"), ["sleepy cats"]);
    assert!(
        matches("dogs").is_empty(),
        "the replaced value left the index"
    );
    transact(&store, r#"[[:db/retractEntity [:doc/email "d1"]]]"#).expect("retract");
    assert!(
        matches("fox").is_empty(),
        "the retracted value left the index"
    );
}

// ---- listeners --------------------------------------------------------------

#[test]
fn listeners_get_every_committed_report_after_commit_and_none_for_failures() {
    let store = Store::open_in_memory().expect("store");
    let seen: Arc<Mutex<Vec<(TxReport, bool)>>> = Arc::default();
    let (sink, watched) = (seen.clone(), store.clone());
    let key = store.listen(Box::new(move |report| {
        // committed: no transaction is open any more
        sink.lock()
            .expect("not poisoned")
            .push((report.clone(), watched.connection().is_autocommit()));
    }));
    let schema = transact(&store, PEOPLE).expect("schema");
    let first = transact(&store, r#"[{:person/email "a@x"}]"#).expect("tx");
    transact(&store, r#"[{:person/email 1}]"#).expect_err("fails");
    transact(&store, r#"[{:person/email "a@x"}]"#).expect("noop tx");
    assert!(store.unlisten(key));
    transact(&store, r#"[{:person/email "b@x"}]"#).expect("tx");
    let seen = seen.lock().expect("not poisoned");
    let txs: Vec<Entid> = seen.iter().map(|(r, _)| r.tx).collect();
    assert_eq!(txs, [schema.tx, first.tx, first.tx + 1]);
    assert_eq!(seen[1].0, first);
    assert!(seen.iter().all(|(_, committed)| *committed));
}

// ---- files and connections --------------------------------------------------

fn file_store(path: &std::path::Path) -> Store {
    Store::open(path, Config::default()).expect("file store opens")
}

#[test]
fn a_reopened_file_store_holds_the_same_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.factlite");
    let names = {
        let store = file_store(&path);
        transact(&store, PEOPLE).expect("schema");
        let mut names = Names::default();
        names.learn(1, &transact(&store, r#"[{:db/id "a" :person/email "a@x" :person/friend "b"} {:db/id "b" :person/age 2}]"#).expect("tx"));
        names
    };
    let store = file_store(&path);
    assert_eq!(
        dump(&store, &names),
        expected_lines("a :person/email \"a@x\"\na :person/friend b\nb :person/age 2")
    );
    // and keeps allocating after the old ids
    let report = transact(&store, r#"[{:db/id "c" :person/age 3}]"#).expect("tx");
    assert_eq!(report.tx, 2 + Partition::Tx.start() + 1);
    assert_eq!(report.tempids["c"], Partition::User.start() + 2);
}

/// The people's schema and `:person/session`, a `:db/noHistory` value.
fn with_sessions(store: &Store) {
    transact(store, PEOPLE).expect("schema");
    transact(
        store,
        r#"[{:db/ident :person/session :db/valueType :db.type/string
             :db/cardinality :db.cardinality/one :db/noHistory true}]"#,
    )
    .expect("a no-history attribute");
}

/// The rows of a two-integer query, such as a small table's.
fn pairs(store: &Store, sql: &str) -> Vec<(i64, i64)> {
    let conn = store.connection();
    let mut statement = conn.prepare(sql).expect("prepares");
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("runs");
    rows.collect::<Result<_, _>>().expect("rows")
}

fn partition_rows(store: &Store) -> Vec<(i64, i64)> {
    pairs(store, "SELECT part, next_id FROM partitions ORDER BY part")
}

/// An id is never handed out twice, whatever became of its entity: all
/// its datoms retracted, its only datom a `:db/noHistory` one (so the log
/// forgets it too), or ids reserved and never used; and across a reopen.
#[test]
fn an_id_is_not_handed_out_again_when_nothing_holds_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.factlite");
    let mut seen = std::collections::BTreeSet::new();
    {
        let store = file_store(&path);
        with_sessions(&store);
        let a = transact(&store, r#"[{:db/id "a" :person/age 1}]"#)
            .expect("a")
            .tempids["a"];
        seen.insert(a);
        transact(&store, &format!("[[:db/retract {a} :person/age 1]]")).expect("a retracted");
        let b = transact(&store, r#"[{:db/id "b" :person/session "s"}]"#)
            .expect("b")
            .tempids["b"];
        assert!(seen.insert(b), "{b} was handed out again");
        transact(&store, &format!("[[:db/retractEntity {b}]]")).expect("b retracted");
        let reserved = store.reserve_entity_ids(3).expect("reserves");
        let c = transact(&store, r#"[{:db/id "c" :person/session "t"}]"#)
            .expect("c")
            .tempids["c"];
        assert!(c >= reserved.end, "{c} is among the reserved {reserved:?}");
        assert!(seen.insert(c));
        transact(&store, &format!("[[:db/retractEntity {c}]]")).expect("c retracted");
    }
    let store = file_store(&path);
    let d = transact(&store, r#"[{:db/id "d" :person/age 4}]"#)
        .expect("d")
        .tempids["d"];
    assert!(d > *seen.last().expect("ids"), "{d} after {seen:?}");
    assert!(store.verify().expect("verifies").is_empty());
}

/// A transaction whose newest ids hold datoms writes no partition row:
/// the datoms show the next ids.
#[test]
fn a_transaction_of_new_entities_writes_no_partition_row() {
    let store = Store::open_in_memory().expect("opens");
    transact(&store, PEOPLE).expect("schema");
    let before = partition_rows(&store);
    let report = transact(&store, r#"[{:db/id "a" :person/age 1} {:person/age 2}]"#).expect("tx");
    assert_eq!(partition_rows(&store), before);
    let next = transact(&store, r#"[{:db/id "b" :person/age 3}]"#).expect("tx");
    assert_eq!(next.tx, report.tx + 1);
    assert_eq!(next.tempids["b"], report.tempids["a"] + 2);
}

fn stats_rows(store: &Store) -> Vec<(i64, i64)> {
    pairs(store, "SELECT a, datoms FROM attribute_stats ORDER BY a")
}

fn held_datoms(store: &Store) -> i64 {
    store
        .connection()
        .query_row("SELECT count(*) FROM datoms", [], |row| row.get(0))
        .expect("counts")
}

/// The attribute counts are exact after every kind of transaction —
/// assertions, retractions, replaced values, `:db/noHistory` values
/// replaced and retracted, an entity retracted whole, an excision, a large
/// transaction — though a small one writes none of them: the log's newest
/// entries bring the written counts to the present.
#[test]
fn the_attribute_counts_are_exact_though_small_transactions_write_none() {
    let store = Store::open_in_memory().expect("opens");
    with_sessions(&store);
    let written = stats_rows(&store);
    let steps = [
        r#"[{:db/id "a" :person/email "a@x" :person/age 1 :person/nick ["x" "y"]}]"#,
        r#"[{:person/email "a@x" :person/age 2}]"#,
        r#"[[:db/retract [:person/email "a@x"] :person/nick "x"]]"#,
        r#"[{:person/email "b@x" :person/session "s1"}]"#,
    ];
    for step in steps {
        transact(&store, step).expect("a small transaction");
        assert_eq!(stats_rows(&store), written, "after {step}");
        assert_eq!(store.datom_count().expect("count"), held_datoms(&store));
    }
    let checked = |what: &str| {
        assert!(store.verify().expect("verifies").is_empty(), "after {what}");
        assert_eq!(
            store.datom_count().expect("count"),
            held_datoms(&store),
            "after {what}"
        );
    };
    checked("the small transactions");
    // A large transaction writes the counts: the datoms above are in them
    // now, no longer in the log's newest entries.
    let large: String = (0..600).map(|i| format!("{{:person/age {i}}}")).collect();
    transact(&store, &format!("[{large}]")).expect("a large transaction");
    assert_ne!(stats_rows(&store), written);
    checked("a large transaction");
    // A no-history value replaced, then retracted: its log entry goes.
    transact(&store, r#"[{:person/email "b@x" :person/session "s2"}]"#).expect("replaced");
    checked("a no-history value replaced");
    transact(
        &store,
        r#"[[:db/retract [:person/email "b@x"] :person/session "s2"]]"#,
    )
    .expect("retracted");
    checked("a no-history value retracted");
    transact(&store, r#"[[:db/retractEntity [:person/email "a@x"]]]"#).expect("retracted whole");
    checked("an entity retracted whole");
    transact(&store, r#"[{:db/excise [:person/email "b@x"]}]"#).expect("excised");
    checked("an excision");
    for i in 0..70 {
        transact(&store, &format!("[{{:person/age {}}}]", 1000 + i)).expect("small");
    }
    checked("many small transactions");
}

#[test]
fn two_handles_on_one_file_see_each_others_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.factlite");
    let one = file_store(&path);
    let two = file_store(&path);
    transact(&one, PEOPLE).expect("schema through one");
    // the second handle sees the schema and writes with it
    transact(&two, r#"[{:person/email "a@x" :person/age 1}]"#).expect("data through two");
    assert_eq!(
        query(
            &one,
            r#"[:find ?a . :where [?e :person/email "a@x"] [?e :person/age ?a]]"#
        ),
        "1"
    );
    let from_one =
        transact(&one, r#"[{:person/email "a@x" :person/age 2}]"#).expect("upsert through one");
    assert_eq!(
        query(
            &two,
            r#"[:find ?a . :where [?e :person/email "a@x"] [?e :person/age ?a]]"#
        ),
        "2"
    );
    assert_eq!(two.latest_tx().expect("latest"), from_one.tx);
    // schema changes travel too
    transact(&two, r#"[{:db/id :person/age :db/doc "years"}]"#).expect("doc through two");
    let doc = one
        .schema()
        .expect("schema")
        .attribute_named(&keyword(":person/age"))
        .and_then(|a| a.doc.clone());
    assert_eq!(doc.as_deref(), Some("years"));
}

#[test]
fn a_writer_blocked_by_another_connection_fails_busy_after_the_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.factlite");
    let store = Store::open(
        &path,
        Config {
            busy_timeout: Duration::from_millis(100),
            ..Config::default()
        },
    )
    .expect("store");
    transact(&store, PEOPLE).expect("schema");
    let other = rusqlite::Connection::open(&path).expect("raw connection");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("other takes the write lock");
    let before = fingerprint(&store);
    let started = std::time::Instant::now();
    let forms = forms(r#"[{:person/email "a@x"}]"#).expect("forms");
    let error = store.transact(&forms).expect_err("blocked");
    assert!(matches!(error, Error::Busy { waited_ms: 100 }), "{error:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(90),
        "it waited for the timeout"
    );
    assert!(error.to_string().contains("locked by another writer"));
    other.execute_batch("ROLLBACK").expect("other lets go");
    assert_eq!(before, fingerprint(&store));
    store
        .transact(&forms)
        .expect("writes once the lock is free");
}
