//! Vocabularies through the façade: a program ensures its vocabulary each
//! time it opens a store shared with other programs.

use factlite::{edn, ErrorCategory, Migration, Store, Vocabulary, VocabularyOutcome};

const NOTES_V1: &str = r#"[{:db/ident :note/text :db/valueType :db.type/string
                            :db/cardinality :db.cardinality/one}]"#;
const NOTES_V2: &str = r#"[{:db/ident :note/text :db/valueType :db.type/string
                            :db/cardinality :db.cardinality/one}
                           {:db/ident :note/pinned :db/valueType :db.type/boolean
                            :db/cardinality :db.cardinality/one}]"#;

fn notes(version: i64, definitions: &str) -> Vocabulary {
    let name = edn::parse(":app/notes")
        .expect("name")
        .into_keyword()
        .expect("a keyword");
    Vocabulary::new(name, version, edn::parse(definitions).expect("definitions"))
        .expect("well formed")
}

#[test]
fn a_program_installs_then_upgrades_its_vocabulary() {
    let store = Store::open_in_memory().expect("opens");
    {
        let outcome = store
            .ensure_vocabulary(&notes(1, NOTES_V1))
            .expect("installs");
        assert!(
            matches!(outcome, VocabularyOutcome::Installed(_)),
            "{outcome:?}"
        );
        store
            .transact_str(r#"[{:note/text "hello"}]"#)
            .expect("uses it");
    }
    // the next version of the program documents its upgrade
    let pin = Migration::tx_data(
        edn::parse(r#"[{:db/id [:db.vocabulary/name :app/notes] :db/doc "pinned by v2"}]"#)
            .expect("edn"),
    )
    .expect("tx data");
    let outcome = store
        .ensure_vocabulary(&notes(2, NOTES_V2).with_migration(pin))
        .expect("upgrades");
    assert!(
        matches!(outcome, VocabularyOutcome::Upgraded { from: 1, .. }),
        "{outcome:?}"
    );
    let db = store.db().expect("db");
    assert_eq!(
        db.q_str(
            "[:find ?n ?v ?d :where [?e :db.vocabulary/name ?n] [?e :db.vocabulary/version ?v] [?e :db/doc ?d]]",
            &[]
        )
        .expect("query"),
        edn::parse(r#"#{[:app/notes 2 "pinned by v2"]}"#).expect("edn")
    );
    // and the old program is now refused
    let error = store
        .ensure_vocabulary(&notes(1, NOTES_V1))
        .expect_err("older than installed");
    assert_eq!(error.category(), ErrorCategory::Schema);
    assert!(error.to_string().contains("out of date"), "{error}");
}

#[test]
fn a_migration_step_queries_through_the_facade() {
    let store = Store::open_in_memory().expect("opens");
    store
        .ensure_vocabulary(&notes(1, NOTES_V1))
        .expect("installs");
    store
        .transact_str(r#"[{:note/text "keep"} {:note/text "todo"}]"#)
        .expect("data");
    // version 2 pins the notes whose text is "keep"
    let step = store.migration_step(|db, from| {
        assert_eq!(from, 1);
        let kept = db.q_str(r#"[:find [?e ...] :where [?e :note/text "keep"]]"#, &[])?;
        let factlite::QueryResult::Collection { values: kept, .. } = kept else {
            return Err("a collection".into());
        };
        let data: Vec<String> = kept
            .iter()
            .map(|e| format!("[:db/add {e} :note/pinned true]"))
            .collect();
        Ok(edn::parse(&format!("[{}]", data.join(" ")))?)
    });
    store
        .ensure_vocabulary(&notes(2, NOTES_V2).with_migration(step))
        .expect("upgrades");
    assert_eq!(
        store
            .db()
            .expect("db")
            .q_str(
                "[:find [?t ...] :where [?e :note/pinned true] [?e :note/text ?t]]",
                &[]
            )
            .expect("query"),
        edn::parse(r#"#{"keep"}"#).expect("edn")
    );
}
