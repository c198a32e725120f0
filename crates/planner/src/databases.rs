//! The databases one query reads: `$`, and those given as inputs
//! (`:in $ $h`, [`crate::DatabaseInput`]), each by its name as patterns
//! write it, with its kind of view of time and, once a clause reads it,
//! the table its datoms come from (`datoms`, or a common table expression
//! over the log whose transactions are parameters).

use std::cell::RefCell;

use crate::source::{Database, Source};

/// One database of a query.
struct Entry {
    /// The source variable (`$`, `$h`).
    name: String,
    database: Database,
    /// Its kind of view of time (transactions are parameters).
    source: Source,
    /// The table its datoms are read from, once a clause needed it.
    table: Option<String>,
}

/// The databases of one query, `$` first.
pub struct Databases {
    entries: RefCell<Vec<Entry>>,
}

impl Databases {
    /// The databases of a query that reads `$` through `source`.
    pub fn new(source: Source) -> Databases {
        Databases {
            entries: RefCell::new(vec![Entry {
                name: "$".to_string(),
                database: Database::Default,
                source,
                table: None,
            }]),
        }
    }

    /// Adds a database given as an input under `name`.
    pub fn add(&self, name: &str, database: Database, source: Source) {
        self.entries.borrow_mut().push(Entry {
            name: name.to_string(),
            database,
            source,
            table: None,
        });
    }

    /// The database patterns name `name` by, if it is one.
    pub fn named(&self, name: &str) -> Option<Database> {
        self.entries
            .borrow()
            .iter()
            .find(|entry| entry.name == name)
            .map(|entry| entry.database)
    }

    /// A database's kind of view of time.
    pub fn source(&self, database: Database) -> Source {
        self.entries
            .borrow()
            .iter()
            .find(|entry| entry.database == database)
            .map_or(Source::Current, |entry| entry.source)
    }

    /// The table a database's datoms are read from, when one was made.
    pub fn table(&self, database: Database) -> Option<String> {
        self.entries
            .borrow()
            .iter()
            .find(|entry| entry.database == database)
            .and_then(|entry| entry.table.clone())
    }

    /// Records the table a database's datoms are read from.
    pub fn set_table(&self, database: Database, table: &str) {
        if let Some(entry) = self
            .entries
            .borrow_mut()
            .iter_mut()
            .find(|entry| entry.database == database)
        {
            entry.table = Some(table.to_string());
        }
    }
}

/// The name of the common table expression of a database's view of time.
pub fn cte_name(database: Database) -> String {
    match database {
        Database::Default => "src".to_string(),
        Database::Input(input) => format!("src_in{}", input + 1),
    }
}
