//! Pull (`Db::pull`, `Db::pull_many`) over one sample store, data-driven:
//! each case is a pattern, an entity and the expected map, all as EDN text.
//! In the entity and the expected text, `#ent "name"` stands for the entity
//! a tempid of the sample data resolved to, and `#ident :kw` for the entity
//! an ident names.

use factlite_core::Entid;
use factlite_edn::{parse, Value};
use factlite_query::{parse_pull_pattern, parse_tx_data};
use factlite_store::{Db, Store};
use indexmap::IndexMap;

const SCHEMA: &str = r#"[
 {:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :person/nick :db/valueType :db.type/string :db/cardinality :db.cardinality/many}
 {:db/ident :person/mood :db/valueType :db.type/keyword :db/cardinality :db.cardinality/one}
 {:db/ident :person/color :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :person/pet :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 {:db/ident :person/best-friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :pet/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :recipe/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :recipe/steps :db/valueType :db.type/ref :db/cardinality :db.cardinality/many
  :db/isComponent true}
 {:db/ident :recipe/cook :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :step/n :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :step/tip :db/valueType :db.type/ref :db/cardinality :db.cardinality/one
  :db/isComponent true}
 {:db/ident :tip/text :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :node/label :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :node/next :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :color/red} {:db/ident :color/blue}]"#;

/// Tempids are listed in the order their ids are allocated, so refs (sorted
/// by id) come back in the order written here.
const DATA: &str = r#"[
 {:db/id "fido" :pet/name "Fido"}
 {:db/id "ann" :person/name "Ann" :person/age 30 :person/nick ["annie" "a"]
  :person/mood :mood/happy :person/color :color/red :person/pet "fido"
  :person/friend ["bob" "cy"] :person/best-friend "bob"}
 {:db/id "bob" :person/name "Bob" :person/friend ["ann"] :person/best-friend "ann"}
 {:db/id "cy" :person/name "Cy" :person/friend ["bob"]}
 {:db/id "dee" :person/name "Dee"}
 {:db/id "s1" :step/n 1 :step/tip "t1"}
 {:db/id "t1" :tip/text "salt the water"}
 {:db/id "s2" :step/n 2}
 {:db/id "pasta" :recipe/name "Pasta" :recipe/steps ["s1" "s2"] :recipe/cook "ann"}
 {:db/id "n1" :node/label "1" :node/next "n2"}
 {:db/id "n2" :node/label "2" :node/next "n3"}
 {:db/id "n3" :node/label "3" :node/next "n4"}
 {:db/id "n4" :node/label "4" :node/next "n5"}
 {:db/id "n5" :node/label "5"}]"#;

/// Changes made after `DATA`, for the as-of and since cases.
const LATER: &str = r#"[
 {:db/id [:person/name "Ann"] :person/age 31 :person/friend [[:person/name "Dee"]]}
 [:db/retract [:person/name "Ann"] :person/nick "a"]
 [:db/retract [:person/name "Ann"] :person/pet]]"#;

/// The sample store: its schema, `DATA` and then `LATER`.
struct Sample {
    store: Store,
    tempids: IndexMap<String, Entid>,
    /// The transaction of `DATA`.
    data_tx: Entid,
}

fn transact(store: &Store, text: &str) -> factlite_store::TxReport {
    let forms = parse_tx_data(&parse(text).expect("test EDN")).expect("test tx data");
    store
        .transact(&forms)
        .unwrap_or_else(|error| panic!("transaction failed: {error}\n{text}"))
}

fn sample() -> Sample {
    let store = Store::open_in_memory().expect("in-memory store");
    transact(&store, SCHEMA);
    let report = transact(&store, DATA);
    transact(&store, LATER);
    Sample {
        store,
        tempids: report.tempids,
        data_tx: report.tx,
    }
}

impl Sample {
    fn db(&self) -> Db {
        self.store.db().expect("db")
    }

    /// Reads EDN text, replacing `#ent "name"` and `#ident :kw` by ids.
    fn read(&self, text: &str) -> Value {
        self.resolve(parse(text).unwrap_or_else(|error| panic!("bad test EDN {text}: {error}")))
    }

    fn resolve(&self, mut value: Value) -> Value {
        match &mut value {
            Value::Tagged(tag, inner) if tag.is("ent") => match &**inner {
                Value::String(name) => Value::Integer(self.tempids[name]),
                other => panic!("#ent takes a tempid name, not {other}"),
            },
            Value::Tagged(tag, inner) if tag.is("ident") => match &**inner {
                Value::Keyword(ident) => Value::Integer(
                    self.db()
                        .entid(ident)
                        .expect("entid")
                        .expect("ident exists"),
                ),
                other => panic!("#ident takes a keyword, not {other}"),
            },
            Value::Vector(items) => {
                Value::Vector(items.drain(..).map(|v| self.resolve(v)).collect())
            }
            Value::Map(map) => Value::Map(
                map.drain(..)
                    .map(|(k, v)| (self.resolve(k), self.resolve(v)))
                    .collect(),
            ),
            _ => value,
        }
    }

    /// The pulled map, or the category keyword of the error.
    fn pull(&self, db: &Db, pattern: &str, entity: &str) -> Value {
        let pattern = parse_pull_pattern(&parse(pattern).expect("pattern EDN")).expect("pattern");
        match db.pull(&pattern, &self.read(entity)) {
            Ok(value) => value,
            Err(error) => Value::keyword(error.category().keyword()),
        }
    }
}

/// Runs `(pattern, entity, expected)` cases against `db` of the sample and
/// reports every mismatch at once. `expected` is a map, or an error
/// category keyword such as `:error/unknown-attribute`.
fn check_cases(sample: &Sample, db: &Db, cases: &[(&str, &str, &str)]) {
    let mut failures = Vec::new();
    for (pattern, entity, expected) in cases {
        let actual = sample.pull(db, pattern, entity);
        let expected_value = sample.read(expected);
        if actual != expected_value {
            failures.push(format!(
                "pull {pattern} of {entity}\n  expected {expected_value}\n  actual   {actual}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn check(cases: &[(&str, &str, &str)]) {
    let sample = sample();
    check_cases(&sample, &sample.db(), cases);
}

#[test]
fn named_attributes() {
    check(&[
        (
            "[:person/name :person/age]",
            r#"[:person/name "Ann"]"#,
            r#"{:person/name "Ann" :person/age 31}"#,
        ),
        (
            "[:person/name :person/age]",
            r#"#ent "dee""#,
            r#"{:person/name "Dee"}"#,
        ),
        (
            "[:db/id :person/name]",
            r#"#ent "bob""#,
            r#"{:db/id #ent "bob" :person/name "Bob"}"#,
        ),
        ("[:db/id]", r#"#ent "dee""#, r#"{:db/id #ent "dee"}"#),
        (
            "[:person/nick]",
            r#"#ent "ann""#,
            r#"{:person/nick ["annie"]}"#,
        ),
        (
            "[:person/mood]",
            r#"#ent "ann""#,
            "{:person/mood :mood/happy}",
        ),
        ("[:pet/name]", r#"#ent "ann""#, "{}"),
        ("[:person/name]", "1099511627775", "{}"),
        ("[:db/ident]", ":color/red", "{:db/ident :color/red}"),
        (
            "[:db/ident :db/cardinality]",
            ":person/nick",
            "{:db/ident :person/nick :db/cardinality {:db/id #ident :db.cardinality/many}}",
        ),
    ]);
}

#[test]
fn refs_without_sub_pattern_are_ids() {
    check(&[
        (
            "[:person/best-friend]",
            r#"#ent "ann""#,
            r#"{:person/best-friend {:db/id #ent "bob"}}"#,
        ),
        (
            "[:person/friend]",
            r#"#ent "ann""#,
            r#"{:person/friend [{:db/id #ent "bob"} {:db/id #ent "cy"} {:db/id #ent "dee"}]}"#,
        ),
        // A ref to an entity with an ident is still {:db/id ...}.
        (
            "[:person/color]",
            r#"#ent "ann""#,
            "{:person/color {:db/id #ident :color/red}}",
        ),
        (
            "[{:person/color [:db/ident]}]",
            r#"#ent "ann""#,
            "{:person/color {:db/ident :color/red}}",
        ),
        // A component named without a sub-pattern is pulled whole, its
        // own components too (Datomic's `[:release/media]`, DataScript's
        // "component entities are expanded recursively"); other refs stay
        // ids.
        (
            "[:recipe/steps]",
            r#"#ent "pasta""#,
            r#"{:recipe/steps [{:db/id #ent "s1" :step/n 1 :step/tip {:db/id #ent "t1" :tip/text "salt the water"}}
                              {:db/id #ent "s2" :step/n 2}]}"#,
        ),
    ]);
}

#[test]
fn wildcard() {
    check(&[
        (
            "[*]",
            r#"#ent "ann""#,
            r#"{:db/id #ent "ann" :person/name "Ann" :person/age 31 :person/nick ["annie"]
             :person/mood :mood/happy :person/color {:db/id #ident :color/red}
             :person/friend [{:db/id #ent "bob"} {:db/id #ent "cy"} {:db/id #ent "dee"}]
             :person/best-friend {:db/id #ent "bob"}}"#,
        ),
        // Components are pulled whole, recursively; other refs are ids.
        (
            "[*]",
            r#"#ent "pasta""#,
            r#"{:db/id #ent "pasta" :recipe/name "Pasta" :recipe/cook {:db/id #ent "ann"}
             :recipe/steps [{:db/id #ent "s1" :step/n 1
                             :step/tip {:db/id #ent "t1" :tip/text "salt the water"}}
                            {:db/id #ent "s2" :step/n 2}]}"#,
        ),
        (
            "[*]",
            r#"#ent "fido""#,
            r#"{:db/id #ent "fido" :pet/name "Fido"}"#,
        ),
        // An explicit entry overrides the wildcard, whatever its place.
        (
            "[{:recipe/cook [:person/name]} *]",
            r#"#ent "pasta""#,
            r#"{:db/id #ent "pasta" :recipe/name "Pasta" :recipe/cook {:person/name "Ann"}
             :recipe/steps [{:db/id #ent "s1" :step/n 1
                             :step/tip {:db/id #ent "t1" :tip/text "salt the water"}}
                            {:db/id #ent "s2" :step/n 2}]}"#,
        ),
        (
            "[:person/name {:person/best-friend [*]}]",
            r#"#ent "cy""#,
            r#"{:person/name "Cy"}"#,
        ),
    ]);
}

#[test]
fn nested_patterns() {
    check(&[
        ("[:person/name {:person/friend [:person/name]}]", r#"#ent "bob""#,
         r#"{:person/name "Bob" :person/friend [{:person/name "Ann"}]}"#),
        ("[{:person/friend [:person/name {:person/best-friend [:person/name]}]}]", r#"#ent "cy""#,
         r#"{:person/friend [{:person/name "Bob" :person/best-friend {:person/name "Ann"}}]}"#),
        // A nested entity with nothing matched is an empty map.
        ("[{:person/friend [:pet/name]}]", r#"#ent "bob""#, "{:person/friend [{}]}"),
        // Plain nesting may revisit an entity on the path: it is not recursion.
        ("[:person/name {:person/best-friend [:person/name {:person/best-friend [:person/name]}]}]",
         r#"#ent "ann""#,
         r#"{:person/name "Ann" :person/best-friend {:person/name "Bob" :person/best-friend {:person/name "Ann"}}}"#),
        ("[{:recipe/steps [:step/n {:step/tip [:tip/text]}]}]", r#"#ent "pasta""#,
         r#"{:recipe/steps [{:step/n 1 :step/tip {:tip/text "salt the water"}} {:step/n 2}]}"#),
    ]);
}

#[test]
fn reverse_refs() {
    check(&[
        (
            "[{:person/_friend [:person/name]}]",
            r#"#ent "bob""#,
            r#"{:person/_friend [{:person/name "Ann"} {:person/name "Cy"}]}"#,
        ),
        (
            "[:person/_best-friend]",
            r#"#ent "bob""#,
            r#"{:person/_best-friend [{:db/id #ent "ann"}]}"#,
        ),
        (
            "[:person/name :person/_friend]",
            r#"#ent "cy""#,
            r#"{:person/name "Cy" :person/_friend [{:db/id #ent "ann"}]}"#,
        ),
        (
            "[:pet/name :person/_pet]",
            r#"#ent "fido""#,
            r#"{:pet/name "Fido"}"#,
        ),
        // Through a component attribute the single owner is a map.
        (
            "[:step/n {:recipe/_steps [:recipe/name]}]",
            r#"#ent "s2""#,
            r#"{:step/n 2 :recipe/_steps {:recipe/name "Pasta"}}"#,
        ),
        (
            "[:recipe/_steps]",
            r#"#ent "s1""#,
            r#"{:recipe/_steps {:db/id #ent "pasta"}}"#,
        ),
        (
            "[{:step/_tip [:step/n {:recipe/_steps [:recipe/name]}]}]",
            r#"#ent "t1""#,
            r#"{:step/_tip {:step/n 1 :recipe/_steps {:recipe/name "Pasta"}}}"#,
        ),
        (
            "[{:person/_color [:person/name]}]",
            ":color/red",
            r#"{:person/_color [{:person/name "Ann"}]}"#,
        ),
    ]);
}

#[test]
fn attribute_options() {
    check(&[
        (
            "[(:person/friend :limit 2)]",
            r#"#ent "ann""#,
            r#"{:person/friend [{:db/id #ent "bob"} {:db/id #ent "cy"}]}"#,
        ),
        (
            "[(:person/friend :limit nil)]",
            r#"#ent "ann""#,
            r#"{:person/friend [{:db/id #ent "bob"} {:db/id #ent "cy"} {:db/id #ent "dee"}]}"#,
        ),
        (
            "[(limit :person/friend 1)]",
            r#"#ent "ann""#,
            r#"{:person/friend [{:db/id #ent "bob"}]}"#,
        ),
        ("[(:person/friend :limit 0)]", r#"#ent "ann""#, "{}"),
        (
            "[(:person/age :default 0) :person/name]",
            r#"#ent "dee""#,
            r#"{:person/age 0 :person/name "Dee"}"#,
        ),
        (
            "[(default :person/age 0)]",
            r#"#ent "ann""#,
            "{:person/age 31}",
        ),
        (
            "[(:person/_friend :default [])]",
            r#"#ent "dee""#,
            r#"{:person/_friend [{:db/id #ent "ann"}]}"#,
        ),
        (
            "[(:person/_friend :default [])]",
            r#"#ent "fido""#,
            "{:person/_friend []}",
        ),
        (
            r#"[(:person/name :as "name") (:db/id :as :id)]"#,
            r#"#ent "bob""#,
            r#"{"name" "Bob" :id #ent "bob"}"#,
        ),
        (
            "[{(:person/friend :as :pals :limit 1) [:person/name]}]",
            r#"#ent "ann""#,
            r#"{:pals [{:person/name "Bob"}]}"#,
        ),
        (
            "[{(:person/pet :default :none) [:pet/name]}]",
            r#"#ent "bob""#,
            "{:person/pet :none}",
        ),
        (
            "[{(:person/_friend :as :fans) [:person/name]}]",
            r#"#ent "bob""#,
            r#"{:fans [{:person/name "Ann"} {:person/name "Cy"}]}"#,
        ),
    ]);
}

#[test]
fn recursion() {
    check(&[
        (
            "[:node/label {:node/next ...}]",
            r#"#ent "n2""#,
            r#"{:node/label "2" :node/next {:node/label "3" :node/next {:node/label "4" :node/next {:node/label "5"}}}}"#,
        ),
        // A bounded recursion leaves the attribute out at its bound.
        (
            "[:node/label {:node/next 2}]",
            r#"#ent "n1""#,
            r#"{:node/label "1" :node/next {:node/label "2" :node/next {:node/label "3"}}}"#,
        ),
        (
            "[:node/label {:node/next 0}]",
            r#"#ent "n1""#,
            r#"{:node/label "1"}"#,
        ),
        (
            "[:node/label {:node/_next 1}]",
            r#"#ent "n3""#,
            r#"{:node/label "3" :node/_next [{:node/label "2"}]}"#,
        ),
        // Cycles: an entity already on the path comes back as its id.
        (
            "[:person/name {:person/best-friend ...}]",
            r#"#ent "ann""#,
            r#"{:person/name "Ann" :person/best-friend {:person/name "Bob" :person/best-friend {:db/id #ent "ann"}}}"#,
        ),
        (
            "[:person/name {:person/friend ...}]",
            r#"#ent "bob""#,
            r#"{:person/name "Bob" :person/friend
             [{:person/name "Ann" :person/friend [{:db/id #ent "bob"}
                                                 {:person/name "Cy" :person/friend [{:db/id #ent "bob"}]}
                                                 {:person/name "Dee"}]}]}"#,
        ),
        (
            "[:person/name {:person/best-friend 5}]",
            r#"#ent "bob""#,
            r#"{:person/name "Bob" :person/best-friend {:person/name "Ann" :person/best-friend {:db/id #ent "bob"}}}"#,
        ),
        // Recursion inside a sub-pattern repeats the sub-pattern.
        (
            "[:recipe/name {:recipe/cook [:person/name {:person/best-friend ...}]}]",
            r#"#ent "pasta""#,
            r#"{:recipe/name "Pasta" :recipe/cook {:person/name "Ann"
             :person/best-friend {:person/name "Bob" :person/best-friend {:db/id #ent "ann"}}}}"#,
        ),
    ]);
}

#[test]
fn errors() {
    check(&[
        (
            "[:person/nope]",
            r#"#ent "ann""#,
            ":error/unknown-attribute",
        ),
        ("[:nope/_x]", r#"#ent "ann""#, ":error/unknown-attribute"),
        // Names are checked even where the data never leads.
        (
            "[{:person/pet [:pet/nope]}]",
            r#"#ent "dee""#,
            ":error/unknown-attribute",
        ),
        (
            "[:person/name]",
            r#"[:person/nope "x"]"#,
            ":error/unknown-attribute",
        ),
        (
            "[:person/name]",
            r#"[:person/name "Zed"]"#,
            ":error/unknown-entity",
        ),
        ("[:person/name]", ":nope/x", ":error/unknown-entity"),
        (
            "[:person/name]",
            "[:person/age 30]",
            ":error/unknown-entity",
        ),
        ("[:person/name]", r#""ann""#, ":error/unknown-entity"),
        ("[:person/name]", "[:person/name 3]", ":error/type-mismatch"),
        (
            "[{:person/name [:pet/name]}]",
            r#"#ent "ann""#,
            ":error/query",
        ),
        ("[{:db/id [:pet/name]}]", r#"#ent "ann""#, ":error/query"),
        ("[:person/_name]", r#"#ent "ann""#, ":error/query"),
    ]);
}

#[test]
fn as_of_since_and_history() {
    let sample = sample();
    let db = sample.db();
    check_cases(
        &sample,
        &db.as_of(sample.data_tx),
        &[
            (
                "[:person/age :person/nick :person/pet]",
                r#"[:person/name "Ann"]"#,
                r#"{:person/age 30 :person/nick ["a" "annie"] :person/pet {:db/id #ent "fido"}}"#,
            ),
            (
                "[(:person/friend :limit nil)]",
                r#"#ent "ann""#,
                r#"{:person/friend [{:db/id #ent "bob"} {:db/id #ent "cy"}]}"#,
            ),
            (
                "[:person/name :person/_friend]",
                r#"#ent "dee""#,
                r#"{:person/name "Dee"}"#,
            ),
            (
                "[*]",
                r#"#ent "fido""#,
                r#"{:db/id #ent "fido" :pet/name "Fido"}"#,
            ),
        ],
    );
    check_cases(
        &sample,
        &db.as_of(sample.data_tx - 1),
        &[
            ("[:person/name]", r#"#ent "ann""#, "{}"),
            (
                "[:person/name]",
                r#"[:person/name "Ann"]"#,
                ":error/unknown-entity",
            ),
        ],
    );
    check_cases(
        &sample,
        &db.since(sample.data_tx),
        &[
            (
                "[:person/name :person/age :person/friend]",
                r#"#ent "ann""#,
                r#"{:person/age 31 :person/friend [{:db/id #ent "dee"}]}"#,
            ),
            (
                "[:person/_friend]",
                r#"#ent "dee""#,
                r#"{:person/_friend [{:db/id #ent "ann"}]}"#,
            ),
        ],
    );
    // A history db pulls every value ever asserted.
    check_cases(
        &sample,
        &db.history(),
        &[(
            "[:person/nick :person/pet]",
            r#"#ent "ann""#,
            r#"{:person/nick ["a" "annie"] :person/pet {:db/id #ent "fido"}}"#,
        )],
    );
}

#[test]
fn pull_many_keeps_the_order_of_the_ids() {
    let sample = sample();
    let db = sample.db();
    let pattern = parse_pull_pattern(&parse("[:person/name]").expect("EDN")).expect("pattern");
    let ids = ["dee", "ann", "fido", "bob"].map(|name| sample.tempids[name]);
    let pulled = db.pull_many(&pattern, &ids).expect("pull_many");
    let expected = r#"[{:person/name "Dee"} {:person/name "Ann"} {} {:person/name "Bob"}]"#;
    assert_eq!(Value::Vector(pulled), sample.read(expected));
}

#[test]
fn cardinality_many_is_limited_to_1000_by_default() {
    let store = Store::open_in_memory().expect("store");
    transact(
        &store,
        "[{:db/ident :bag/item :db/valueType :db.type/long :db/cardinality :db.cardinality/many}]",
    );
    let items: Vec<String> = (0..1005).map(|i| i.to_string()).collect();
    let report = transact(
        &store,
        &format!(r#"[{{:db/id "bag" :bag/item [{}]}}]"#, items.join(" ")),
    );
    let db = store.db().expect("db");
    let bag = Value::Integer(report.tempids["bag"]);
    let count = |pattern: &str| {
        let pattern = parse_pull_pattern(&parse(pattern).expect("EDN")).expect("pattern");
        match &db.pull(&pattern, &bag).expect("pull") {
            Value::Map(map) => map
                .values()
                .map(|v| v.as_sequence().map_or(0, <[Value]>::len))
                .sum::<usize>(),
            other => panic!("pull gave {other}"),
        }
    };
    assert_eq!(count("[:bag/item]"), 1000);
    assert_eq!(count("[*]"), 1000);
    assert_eq!(count("[(:bag/item :limit nil)]"), 1005);
    assert_eq!(count("[(:bag/item :limit 1001)]"), 1001);
}

/// A chain of `length` nodes (`:node/n` 0, 1, …, each `:node/next` the
/// one after), pulled with `...` from its first node.
fn pull_chain(length: i64) -> (factlite_store::Result<Value>, Entid) {
    let store = Store::open_in_memory().expect("store");
    transact(&store, "[{:db/ident :node/next :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
                       {:db/ident :node/n :db/valueType :db.type/long :db/cardinality :db.cardinality/one}]");
    let last = length - 1;
    let nodes: Vec<String> = (0..last)
        .map(|i| format!(r#"{{:db/id "n{i}" :node/n {i} :node/next "n{}"}}"#, i + 1))
        .collect();
    let report = transact(
        &store,
        &format!(
            "[{} {{:db/id \"n{last}\" :node/n {last}}}]",
            nodes.join(" ")
        ),
    );
    let pattern =
        parse_pull_pattern(&parse("[:node/n {:node/next ...}]").expect("EDN")).expect("pattern");
    let first = report.tempids["n0"];
    (
        store
            .db()
            .expect("db")
            .pull(&pattern, &Value::Integer(first)),
        first,
    )
}

#[test]
fn unbounded_recursion_follows_a_chain_to_its_end() {
    // As deep as the reader reads: the whole chain, and the value prints,
    // reads back, clones and compares on a test thread's stack.
    let (pulled, _) = pull_chain(factlite_store::MAX_PULL_NESTING as i64);
    let pulled = pulled.expect("pull");
    let next = Value::keyword(":node/next");
    let mut level = pulled.clone();
    let mut levels = 0;
    while let Ok(mut map) = level.into_map() {
        assert_eq!(
            map.get(&Value::keyword(":node/n")),
            Some(&Value::Integer(levels))
        );
        levels += 1;
        match map.shift_remove(&next) {
            Some(inner) => level = inner,
            None => break,
        }
    }
    assert_eq!(levels, factlite_store::MAX_PULL_NESTING as i64);
    assert_eq!(parse(&pulled.to_string()).expect("reads back"), pulled);
}

#[test]
fn recursion_deeper_than_the_limit_is_refused() {
    let (pulled, _) = pull_chain(factlite_store::MAX_PULL_NESTING as i64 + 1);
    let error = pulled.expect_err("too deep");
    assert_eq!(error.category(), factlite_core::ErrorCategory::Limit);
    assert!(error.to_string().contains("deeper than 256"), "{error}");
}
