//! One flat error: each failure arrives as the variant that says what
//! happened, the same on a store with materialized views as without (the
//! views' maintenance runs inside every transaction, and once wrapped every
//! transaction error), with its category and a message free of Rust debug
//! text.

use factlite::{Error, ErrorCategory, Store};

const SCHEMA: &str = r#"[{:db/ident :person/name :db/valueType :db.type/string
                          :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
                         {:db/ident :person/age :db/valueType :db.type/long
                          :db/cardinality :db.cardinality/one}
                         {:person/name "Ann" :person/age 31}
                         {:person/name "Bo" :person/age 27}]"#;

/// A store with the schema, and a view over it when `with_view`.
fn store(with_view: bool) -> Store {
    let store = Store::open_in_memory().expect("store");
    store.transact(SCHEMA).expect("schema");
    if with_view {
        store
            .materialize_str(
                "ages",
                "[:find ?n ?a :where [?p :person/name ?n] [?p :person/age ?a]]",
                &[],
            )
            .expect("view");
    }
    store
}

/// Each case: what it does, the variant it must fail with, the category.
type Case = (
    &'static str,
    fn(&Store) -> factlite::Result<()>,
    fn(&Error) -> bool,
    ErrorCategory,
);

fn cases() -> Vec<Case> {
    vec![
        (
            "a value of the wrong type",
            |s| {
                s.transact(r#"[{:person/name "Cy" :person/age "old"}]"#)
                    .map(drop)
            },
            |e| matches!(e, Error::TypeMismatch { attribute, .. } if attribute == ":person/age"),
            ErrorCategory::TypeMismatch,
        ),
        (
            "an attribute no schema defines, in a transaction",
            |s| s.transact(r#"[{:person/nme "Cy"}]"#).map(drop),
            |e| matches!(e, Error::UnknownAttribute { attribute } if attribute == ":person/nme"),
            ErrorCategory::UnknownAttribute,
        ),
        (
            "an attribute no schema defines, in a query",
            |s| {
                s.db()?
                    .q_str("[:find ?n :where [_ :person/nme ?n]]", ())
                    .map(drop)
            },
            |e| matches!(e, Error::UnknownAttribute { attribute } if attribute == ":person/nme"),
            ErrorCategory::UnknownAttribute,
        ),
        (
            "a second entity with a unique value",
            |s| {
                s.transact(r#"[[:db/add [:person/name "Bo"] :person/name "Ann"]]"#)
                    .map(drop)
            },
            |e| matches!(e, Error::UniqueConflict { .. }),
            ErrorCategory::UniqueConflict,
        ),
        (
            "a lookup ref that names nothing",
            |s| {
                s.transact(r#"[[:db/add [:person/name "Nobody"] :person/age 3]]"#)
                    .map(drop)
            },
            |e| matches!(e, Error::UnknownEntity { .. }),
            ErrorCategory::UnknownEntity,
        ),
        (
            "a compare-and-swap that finds another value",
            |s| {
                s.transact(r#"[[:db/cas [:person/name "Ann"] :person/age 30 32]]"#)
                    .map(drop)
            },
            |e| matches!(e, Error::CasFailed { found, .. } if found == "31"),
            ErrorCategory::CasFailed,
        ),
        (
            "a schema change that is refused",
            |s| {
                s.transact(r#"[{:db/ident :person/age :db/valueType :db.type/string}]"#)
                    .map(drop)
            },
            |e| matches!(e, Error::Schema { .. }),
            ErrorCategory::Schema,
        ),
        (
            "text that is not EDN",
            |s| s.transact("[{:person/name \"Bo\"").map(drop),
            |e| matches!(e, Error::Edn(error) if error.line == 1),
            ErrorCategory::Parse,
        ),
        (
            "EDN that is not a query",
            |s| s.db()?.q_str("[:find]", ()).map(drop),
            |e| matches!(e, Error::Syntax { .. }),
            ErrorCategory::Parse,
        ),
        (
            "a pull pattern given as an input that is no pull pattern",
            |s| {
                let pattern = factlite::edn::parse("[42]").expect("EDN");
                s.db()?
                    .q_str(
                        "[:find (pull ?e pat) . :in $ pat :where [?e :person/name _]]",
                        &[pattern],
                    )
                    .map(drop)
            },
            |e| e.category() == ErrorCategory::Parse,
            ErrorCategory::Parse,
        ),
        (
            "a query with an unbound variable",
            |s| {
                s.db()?
                    .q_str("[:find ?x :where [?p :person/name]]", ())
                    .map(drop)
            },
            |e| matches!(e, Error::Query { .. }),
            ErrorCategory::Query,
        ),
        (
            "a view that does not exist",
            |s| s.view("nope").map(drop),
            |e| matches!(e, Error::UnknownView { name } if name == "nope"),
            ErrorCategory::Query,
        ),
        (
            "a view name that is not one",
            |s| {
                s.materialize_str("no spaces", "[:find ?n :where [_ :person/name ?n]]", &[])
                    .map(drop)
            },
            |e| matches!(e, Error::InvalidViewName { .. }),
            ErrorCategory::Query,
        ),
        (
            "an ident that does not read back as a keyword",
            |s| {
                let ident = factlite::Keyword::from_str_lossy(":person/nick name");
                s.transact(
                    factlite::Entity::new()
                        .set(":db/ident", ident)
                        .set(
                            ":db/valueType",
                            factlite::Keyword::from_str_lossy(":db.type/string"),
                        )
                        .set(
                            ":db/cardinality",
                            factlite::Keyword::from_str_lossy(":db.cardinality/one"),
                        ),
                )
                .map(drop)
            },
            |e| matches!(e, Error::Schema { message } if message.contains("is not an ident")),
            ErrorCategory::Schema,
        ),
        (
            "a vocabulary name that does not read back",
            |_| factlite::Vocabulary::new(":app/my notes", 1, "[]").map(drop),
            |e| matches!(e, Error::Schema { message } if message.contains("is not a vocabulary name")),
            ErrorCategory::Schema,
        ),
        (
            "a Rust value out of the attribute's range",
            |s| {
                s.transact(factlite::Entity::new().set(":person/age", u64::MAX))
                    .map(drop)
            },
            |e| matches!(e, Error::Conversion(_)),
            ErrorCategory::TypeMismatch,
        ),
    ]
}

#[test]
fn each_failure_is_the_variant_that_names_it_with_or_without_views() {
    for with_view in [false, true] {
        for (what, run, is_expected, category) in cases() {
            let store = store(with_view);
            let before = store.db().expect("db").basis_tx();
            let error = run(&store).expect_err(what);
            let views = if with_view {
                "with a view"
            } else {
                "without views"
            };
            assert!(is_expected(&error), "{what} ({views}): got {error:?}");
            assert_eq!(error.category(), category, "{what} ({views})");
            let message = error.to_string();
            for debug in ["Some(", "Integer(", "String(", "Keyword(", " { ", "\\\""] {
                assert!(
                    !message.contains(debug),
                    "{what}: debug text in {message:?}"
                );
            }
            assert_eq!(
                store.db().expect("db").basis_tx(),
                before,
                "{what}: nothing changed"
            );
        }
    }
}
