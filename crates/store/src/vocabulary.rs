//! Vocabularies: named, versioned sets of attributes that the consumers of
//! one store (several programs evolving one database) declare, and ensure
//! each time they open it with [`Store::ensure_vocabulary`].
//!
//! A vocabulary is data, as the schema is: an entity with
//! `:db.vocabulary/name` (a keyword, unique identity),
//! `:db.vocabulary/version` (a long) and `:db.vocabulary/attributes` (refs
//! to the attributes and enum idents it declares), so queries can read
//! which vocabularies are installed. Ensuring one, inside one write
//! transaction (so two processes ensuring at once take turns):
//!
//! - **absent**: its definitions and its vocabulary entity are transacted;
//! - **installed at the same version**: nothing is written, but the
//!   declaration must agree with what is installed — the same idents, and
//!   each attribute with the same value type, cardinality, uniqueness and
//!   component flag — or it is refused (a consumer changed its attributes
//!   without raising the version);
//! - **installed at a lower version**: upgraded in one transaction: the
//!   definitions (new attributes, and alterations the schema rules allow),
//!   the new version and list of attributes, and the consumer's
//!   [`Migration`], all or nothing;
//! - **installed at a higher version**: refused (the consumer is older than
//!   the store).
//!
//! Installing or upgrading is also refused when the declaration gives an
//! attribute that already holds values another value type — whether it
//! belongs to another vocabulary or to none; the message names the
//! vocabularies that list it. Other refused alterations come back from the
//! schema rules as [`Error::Vocabulary`] naming the vocabulary. Attributes
//! a vocabulary stops listing are left in the schema (their data stays);
//! only the vocabulary's list forgets them.

use factlite_core::{bootstrap, Attribute, Entid, TypedValue};
use factlite_edn::{Keyword, Value};
use factlite_query::{AttrRef, EntityRef, TxForm, TxMap};
use indexmap::IndexMap;
use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::transact::resolve::declared_attribute;
use crate::{reads, Db, NoHook, Store, TxReport, WriteHook};

/// The error a migration step may return: anything, reported as a refused
/// upgrade.
pub type MigrationError = Box<dyn std::error::Error>;

/// A migration step: given the store as it is before the upgrade (read
/// inside the upgrade's write transaction) and the installed version,
/// returns the transaction data to add to the upgrade.
pub type MigrationStep = Box<dyn Fn(&Db, i64) -> std::result::Result<Value, MigrationError>>;

/// What an upgrade does besides transacting the new definitions. It runs
/// in the same transaction, and is resolved against the schema before the
/// upgrade plus the attributes the new version adds.
pub enum Migration {
    /// Fixed transaction data.
    TxData(Vec<TxForm>),
    /// Transaction data computed by the consumer.
    Step(MigrationStep),
}

impl Migration {
    /// Fixed transaction data, given as an EDN vector of forms.
    pub fn tx_data(data: &Value) -> Result<Migration> {
        let forms = factlite_query::parse_tx_data(data)
            .map_err(|e| Error::Parse(format!("migration transaction data: {e}")))?;
        Ok(Migration::TxData(forms))
    }
}

/// A named, versioned set of attribute (and enum ident) definitions.
pub struct Vocabulary {
    name: Keyword,
    version: i64,
    definitions: Vec<Definition>,
    migration: Option<Migration>,
}

/// One definition map of a vocabulary.
struct Definition {
    ident: Keyword,
    attributes: IndexMap<Keyword, Value>,
    /// The attribute it defines, when it has a `:db/valueType`; `None` for
    /// an enum ident.
    attribute: Option<Attribute>,
}

/// What [`Store::ensure_vocabulary`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum VocabularyOutcome {
    /// The vocabulary was absent and is now installed.
    Installed(TxReport),
    /// The vocabulary was installed at version `from` and is now upgraded.
    Upgraded { from: i64, report: TxReport },
    /// The vocabulary was installed at this version already; nothing was
    /// written.
    Unchanged,
}

impl Vocabulary {
    /// A vocabulary named `name` at `version` (1 or more), defined by
    /// `definitions`: an EDN vector of maps, each with a `:db/ident` and no
    /// `:db/id` — attribute definitions (with `:db/valueType`) or enum
    /// idents.
    pub fn new(name: Keyword, version: i64, definitions: &Value) -> Result<Vocabulary> {
        let shown = Value::Keyword(name.clone());
        if !name.is_readable() {
            return Err(Error::Vocabulary(format!(
                "{:?} is not a vocabulary name: use a keyword EDN can read back, such as :app/notes",
                shown.to_string()
            )));
        }
        if version < 1 {
            return Err(Error::Vocabulary(format!(
                "vocabulary {shown} has version {version}; versions start at 1"
            )));
        }
        let forms = factlite_query::parse_tx_data(definitions)
            .map_err(|e| Error::Parse(format!("vocabulary {shown}: {e}")))?;
        let ident_key = Keyword::namespaced("db", "ident");
        let value_type_key = Keyword::namespaced("db", "valueType");
        let mut parsed = Vec::new();
        for form in forms {
            let (None, attributes) = (match form {
                TxForm::Map(TxMap { db_id, attrs }) => (db_id, attrs),
                _ => {
                    return Err(Error::Vocabulary(format!(
                        "vocabulary {shown}: every definition is a map with a :db/ident"
                    )))
                }
            }) else {
                return Err(Error::Vocabulary(format!(
                    "vocabulary {shown}: a definition names its entity by :db/ident, not :db/id"
                )));
            };
            let Some(Value::Keyword(ident)) = attributes.get(&ident_key) else {
                return Err(Error::Vocabulary(format!(
                    "vocabulary {shown}: every definition is a map with a :db/ident"
                )));
            };
            let ident = ident.clone();
            let attribute = attributes
                .get(&value_type_key)
                .map(|value_type| declared_attribute(0, &ident, value_type, &attributes, None))
                .transpose()?;
            parsed.push(Definition {
                ident,
                attributes,
                attribute,
            });
        }
        Ok(Vocabulary {
            name,
            version,
            definitions: parsed,
            migration: None,
        })
    }

    /// The vocabulary with a migration run when it upgrades an installed,
    /// older version.
    pub fn with_migration(mut self, migration: Migration) -> Vocabulary {
        self.migration = Some(migration);
        self
    }

    /// The vocabulary's name.
    pub fn name(&self) -> &Keyword {
        &self.name
    }

    /// The vocabulary's version.
    pub fn version(&self) -> i64 {
        self.version
    }

    fn shown(&self) -> String {
        format!(
            "vocabulary {} version {}",
            Value::Keyword(self.name.clone()),
            self.version
        )
    }

    /// Each declared attribute that the schema already defines, with the
    /// declared and the installed definition.
    fn redefinitions<'v>(
        &'v self,
        schema: &'v factlite_core::Schema,
    ) -> impl Iterator<Item = (&'v Definition, &'v Attribute, &'v Attribute)> {
        self.definitions.iter().filter_map(|definition| {
            let declared = definition.attribute.as_ref()?;
            Some((
                definition,
                declared,
                schema.attribute_named(&definition.ident)?,
            ))
        })
    }

    /// The tempid of a definition's entity within the ensuring transaction.
    fn tempid(ident: &Keyword) -> String {
        format!("vocabulary definition {}", Value::Keyword(ident.clone()))
    }
}

/// A vocabulary as the store holds it.
struct Installed {
    entity: Entid,
    version: i64,
    members: Vec<Entid>,
}

impl Store {
    /// Installs, upgrades or checks a vocabulary (see the module
    /// documentation), in one write transaction.
    pub fn ensure_vocabulary(&self, vocabulary: &Vocabulary) -> Result<VocabularyOutcome> {
        self.ensure_vocabulary_with(vocabulary, &mut NoHook)
    }

    /// [`Store::ensure_vocabulary`], running `hook` inside the transaction
    /// when it writes (as [`Store::transact_with`] does).
    pub fn ensure_vocabulary_with(
        &self,
        vocabulary: &Vocabulary,
        hook: &mut dyn WriteHook,
    ) -> Result<VocabularyOutcome> {
        let conn = &*self.connection();
        let guard = self.begin_local_write(conn)?;
        self.refresh()?;
        let schema = self.schema()?;
        let installed = installed(conn, &vocabulary.name)?;
        let shown = vocabulary.shown();
        match &installed {
            Some(found) if found.version == vocabulary.version => {
                check_same(self, vocabulary, found)?;
                return Ok(VocabularyOutcome::Unchanged);
            }
            Some(found) if found.version > vocabulary.version => {
                return Err(Error::Vocabulary(format!(
                    "{shown} is older than the installed version {}; this program is out of date",
                    found.version
                )));
            }
            _ => {}
        }
        for (definition, declared, existing) in vocabulary.redefinitions(&schema) {
            if declared.value_type != existing.value_type && reads::in_use(conn, existing.id)? {
                return Err(Error::Vocabulary(format!(
                    "{shown} declares {} as {}, but it already holds {} values{}",
                    Value::Keyword(definition.ident.clone()),
                    declared.value_type.name(),
                    existing.value_type.name(),
                    listed_by(conn, existing.id)?
                )));
            }
        }
        let mut forms = definition_forms(vocabulary, installed.as_ref(), &schema);
        if let (Some(found), Some(migration)) = (&installed, &vocabulary.migration) {
            forms.extend(match migration {
                Migration::TxData(data) => data.clone(),
                Migration::Step(step) => {
                    let data = step(&self.db()?, found.version).map_err(|e| {
                        Error::Vocabulary(format!(
                            "{shown}: the migration from version {} failed: {e}",
                            found.version
                        ))
                    })?;
                    factlite_query::parse_tx_data(&data).map_err(|e| {
                        Error::Parse(format!("{shown}: the migration's transaction data: {e}"))
                    })?
                }
            });
        }
        let report = self
            .transact_locked(Cow::Owned(forms), None, hook)
            .map_err(|e| match e {
                Error::Schema(message) => Error::Vocabulary(format!("{shown}: {message}")),
                other => other,
            })?;
        guard.commit()?;
        self.after_commit(&report)?;
        Ok(match installed {
            None => VocabularyOutcome::Installed(report),
            Some(found) => VocabularyOutcome::Upgraded {
                from: found.version,
                report,
            },
        })
    }
}

/// The transaction data that installs or upgrades a vocabulary: each
/// definition, then the vocabulary entity with its version and list.
fn definition_forms(
    vocabulary: &Vocabulary,
    installed: Option<&Installed>,
    schema: &factlite_core::Schema,
) -> Vec<TxForm> {
    let mut forms: Vec<TxForm> = vocabulary
        .definitions
        .iter()
        .map(|definition| {
            TxForm::Map(TxMap {
                db_id: Some(EntityRef::TempId(Vocabulary::tempid(&definition.ident))),
                attrs: definition.attributes.clone(),
            })
        })
        .collect();
    let members: Vec<Value> = vocabulary
        .definitions
        .iter()
        .map(|definition| Value::String(Vocabulary::tempid(&definition.ident)))
        .collect();
    let vocabulary_key = |name: &str| Keyword::namespaced("db.vocabulary", name);
    forms.push(TxForm::Map(TxMap {
        db_id: None,
        attrs: IndexMap::from([
            (
                vocabulary_key("name"),
                Value::Keyword(vocabulary.name.clone()),
            ),
            (
                vocabulary_key("version"),
                Value::Integer(vocabulary.version),
            ),
            (vocabulary_key("attributes"), Value::Vector(members)),
        ]),
    }));
    if let Some(found) = installed {
        for member in &found.members {
            let still_declared = schema.ident(*member).is_some_and(|ident| {
                vocabulary
                    .definitions
                    .iter()
                    .any(|definition| definition.ident == *ident)
            });
            if !still_declared {
                forms.push(TxForm::Retract {
                    e: EntityRef::Id(found.entity),
                    a: AttrRef::Id(bootstrap::DB_VOCABULARY_ATTRIBUTES),
                    v: Some(Value::Integer(*member)),
                });
            }
        }
    }
    forms
}

/// The installed vocabulary named `name`, if any.
fn installed(conn: &rusqlite::Connection, name: &Keyword) -> Result<Option<Installed>> {
    let Some(entity) = reads::holder(
        conn,
        bootstrap::DB_VOCABULARY_NAME,
        &TypedValue::Keyword(Box::new(name.clone())),
    )?
    else {
        return Ok(None);
    };
    let version = reads::values(conn, entity, bootstrap::DB_VOCABULARY_VERSION)?
        .into_iter()
        .find_map(|v| match v {
            TypedValue::Long(version) => Some(version),
            _ => None,
        })
        .unwrap_or(0);
    let members = reads::values(conn, entity, bootstrap::DB_VOCABULARY_ATTRIBUTES)?
        .into_iter()
        .filter_map(|v| match v {
            TypedValue::Ref(id) => Some(id),
            _ => None,
        })
        .collect();
    Ok(Some(Installed {
        entity,
        version,
        members,
    }))
}

/// Refuses a declaration that claims an installed version but differs from
/// it.
fn check_same(store: &Store, vocabulary: &Vocabulary, found: &Installed) -> Result<()> {
    let schema = store.schema()?;
    let shown = vocabulary.shown();
    let refuse = |what: String| {
        Err(Error::Vocabulary(format!(
            "{shown} is installed, but {what}; declare a higher version to change it"
        )))
    };
    let mut installed_idents: Vec<String> = found
        .members
        .iter()
        .filter_map(|id| schema.ident(*id))
        .map(|ident| Value::Keyword(ident.clone()).to_string())
        .collect();
    let mut declared_idents: Vec<String> = vocabulary
        .definitions
        .iter()
        .map(|definition| Value::Keyword(definition.ident.clone()).to_string())
        .collect();
    installed_idents.sort();
    declared_idents.sort();
    if installed_idents != declared_idents {
        return refuse(format!(
            "it lists [{}] where this declaration lists [{}]",
            installed_idents.join(" "),
            declared_idents.join(" ")
        ));
    }
    for (definition, declared, existing) in vocabulary.redefinitions(&schema) {
        let describe = |a: &Attribute| {
            let mut text = format!("{} {}", a.value_type.name(), a.cardinality.name());
            if let Some(unique) = a.unique {
                text.push_str(&format!(" unique {}", unique.name()));
            }
            if a.is_component {
                text.push_str(" component");
            }
            text
        };
        if describe(declared) != describe(existing) {
            return refuse(format!(
                "its {} is {} where this declaration says {}",
                Value::Keyword(definition.ident.clone()),
                describe(existing),
                describe(declared)
            ));
        }
    }
    Ok(())
}

/// ", listed by vocabulary :a version 2, ..." for the vocabularies that
/// list attribute `a`, or "" when none does.
fn listed_by(conn: &rusqlite::Connection, a: Entid) -> Result<String> {
    let mut statement = conn.prepare_cached(
        "SELECT n.v, ver.v FROM datoms AS m
         JOIN datoms AS n ON n.e = m.e AND n.a = ?2
         LEFT JOIN datoms AS ver ON ver.e = m.e AND ver.a = ?3
         WHERE m.a = ?1 AND m.v = ?4 AND m.t = 0
         ORDER BY n.v",
    )?;
    let rows = statement.query_map(
        [
            bootstrap::DB_VOCABULARY_ATTRIBUTES,
            bootstrap::DB_VOCABULARY_NAME,
            bootstrap::DB_VOCABULARY_VERSION,
            a,
        ],
        |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<i64>>(1)?)),
    )?;
    let mut owners = Vec::new();
    for row in rows {
        let (name, version) = row?;
        owners.push(format!(
            "vocabulary :{name} version {}",
            version.unwrap_or(0)
        ));
    }
    Ok(if owners.is_empty() {
        String::new()
    } else {
        format!(" (it is listed by {})", owners.join(", "))
    })
}
