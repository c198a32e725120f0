//! Vocabularies through the façade: [`Vocabulary`] and [`Migration`] wrap
//! the store's, taking transaction data in any form [`Store::transact`]
//! does and failing with [`crate::Error`], and a migration step reads a
//! façade [`crate::Db`] ([`Store::migration_step`]).
//!
//! [`Store::transact`]: crate::Store::transact
//! [`Store::migration_step`]: crate::Store::migration_step

use crate::error::Result;
use crate::{IntoTxData, Keyword, ToKeyword};

/// A named, versioned set of attribute (and enum ident) definitions that a
/// program ensures each time it opens a store
/// ([`crate::Store::ensure_vocabulary`]): installed when absent, upgraded
/// (with its [`Migration`]) when an older version is installed, checked
/// when the same version is.
///
/// ```
/// use factlite::{Store, Vocabulary, VocabularyOutcome};
/// let notes = Vocabulary::new(":app/notes", 1, r#"[{:db/ident :note/text
///     :db/valueType :db.type/string :db/cardinality :db.cardinality/one}]"#)?;
/// let store = Store::open_in_memory()?;
/// assert!(matches!(store.ensure_vocabulary(&notes)?, VocabularyOutcome::Installed(_)));
/// assert!(matches!(store.ensure_vocabulary(&notes)?, VocabularyOutcome::Unchanged));
/// # Ok::<(), factlite::Error>(())
/// ```
pub struct Vocabulary(pub(crate) factlite_store::Vocabulary);

impl Vocabulary {
    /// A vocabulary named `name` at `version` (1 or more), defined by
    /// `definitions`: a vector of maps, each with a `:db/ident` and no
    /// `:db/id` — attribute definitions (with `:db/valueType`) or enum
    /// idents.
    pub fn new<'d>(
        name: impl ToKeyword,
        version: i64,
        definitions: impl IntoTxData<'d>,
    ) -> Result<Vocabulary> {
        let definitions = definitions.into_tx_data()?;
        crate::depth::check(&definitions, "the vocabulary's definitions")?;
        let vocabulary = factlite_store::Vocabulary::new(name.to_keyword(), version, &definitions)?;
        Ok(Vocabulary(vocabulary))
    }

    /// The vocabulary with a migration, run when it upgrades an installed,
    /// older version.
    pub fn with_migration(self, migration: Migration) -> Vocabulary {
        Vocabulary(self.0.with_migration(migration.0))
    }

    /// The vocabulary's name.
    pub fn name(&self) -> &Keyword {
        self.0.name()
    }

    /// The vocabulary's version.
    pub fn version(&self) -> i64 {
        self.0.version()
    }
}

/// What an upgrade adds to its transaction: fixed transaction data
/// ([`Migration::tx_data`]) or data computed from the store as it was
/// ([`crate::Store::migration_step`]).
pub struct Migration(pub(crate) factlite_store::Migration);

impl Migration {
    /// Fixed transaction data.
    pub fn tx_data<'d>(data: impl IntoTxData<'d>) -> Result<Migration> {
        let data = data.into_tx_data()?;
        crate::depth::check(&data, "the migration's transaction data")?;
        Ok(Migration(factlite_store::Migration::tx_data(&data)?))
    }
}
