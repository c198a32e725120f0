//! The SQLite layout of a store: tables, indexes, format version, and the
//! bootstrap transaction that writes the built-in schema as datoms.
//!
//! ```text
//! datoms(e, a, v, t, tx, avet)   current state; primary key (e, a, v) = EAVT
//!   datoms_aevt (a, e, v)        attribute → entity
//!   datoms_avet (a, v, e)        attribute → value, only rows with avet = 1
//!                                (indexed and unique attributes)
//!   datoms_vaet (v, a, e)        value → entity, only refs (t = 0)
//! log(tx, seq, e, a, v, t, added) every assertion and retraction, append-only
//!   (but see `:db/noHistory` in `transact::apply`, and `excision`);
//!   primary key (tx, seq)
//!   orders it; log_aevt (a, e, v, tx) serves as-of and history reads by
//!   attribute, and by entity with one seek per attribute
//! partitions(part, next_id)       the next free entity id of each partition
//! attribute_stats(a, datoms)      datom count per attribute (planner) as of
//!   attribute_stats_basis(id, tx)  this transaction; the log's entries
//!                                  after it bring them to the present
//!                                  (`statistics`)
//! fulltext (fts5: v, e, a)        values of :db/fulltext attributes
//! replication(id, store_id, position) the replicated log followed, if any
//! ```
//! `v` has no declared type, so SQLite stores each value in its own storage
//! class; `t` is the factlite value type tag (see `encode`).
//!
//! Layout versions (`PRAGMA user_version`): 1 is the first layout; 2 adds
//! the `log_eavt` index and the built-in `:db.vocabulary/*` attributes
//! (ids 11–13). Opening a version-1 file upgrades it in one SQLite
//! transaction: the index is built, and the three attribute definitions are
//! asserted by a new transaction of their own (so the log stays
//! append-only), then the version becomes 2. The upgrade is refused, with
//! the file untouched, if entities 11–13 already hold data. 3 adds the
//! constraint attributes and `:db.type/uri`, `:db.type/symbol`; 4 (the
//! tuple layout) adds `:db/tupleType`, `:db/tupleTypes`, `:db/tupleAttrs`
//! and `:db.type/tuple`, whose values are blobs in the order-preserving
//! encoding of `core::tuple`, and `:db.type/float`; 5 adds the
//! `replication` table (empty: no datom changes, so that step writes no
//! transaction); 6 adds `:db.type/bigint` and `:db.type/bigdec` (idents 40
//! and 41), whose values are blobs, their number keys (`core::number`,
//! see `encode`); 7 adds the excision attributes (`:db/excise`,
//! `:db.excise/attrs`, `:db.excise/before`, `:db.excise/beforeT`,
//! `upgrade_to_excision`); 8 drops `log_eavt` (a commit writes one index
//! of the log less; reads of the past by entity seek `log_aevt` once per
//! attribute) and adds `attribute_stats_basis`, so that a commit need not
//! write the attribute counts; next ids in `partitions` become floors (see
//! `partitions`). Each other step is one function and one
//! transaction of its own. A file of a newer layout than this factlite
//! knows is refused.

use std::time::Duration;

use factlite_core::{bootstrap, Attribute, Partition, TypedValue};
use rusqlite::{params, Connection, OptionalExtension};

use crate::config::Config;
use crate::encode::SqlParam;
use crate::error::{Error, Result};

/// The layout version written to `PRAGMA user_version`.
pub const FORMAT_VERSION: i64 = LEAN_LOG_LAYOUT;

/// The layout whose log keeps one index of values, `log_aevt`: reads of
/// the past by entity seek it once per attribute
/// (`factlite_planner::LOGGED_ATTRIBUTES`), so a commit writes one index
/// of the log less.
const LEAN_LOG_LAYOUT: i64 = 8;

/// The layout that adds the excision attributes
/// ([`bootstrap::EXCISION_ATTRIBUTES`]); the one before it is
/// [`BEFORE_EXCISION_LAYOUT`].
const EXCISION_LAYOUT: i64 = 7;

/// The newest layout without the excision attributes: a file of this
/// version or older gets them when it is opened.
const BEFORE_EXCISION_LAYOUT: i64 = 6;

/// An id no factlite store uses in `application_id`, so other tools can tell
/// our files apart ("FLit").
pub const APPLICATION_ID: i64 = 0x464c_6974;

const CREATE_TABLES: &str = "
CREATE TABLE datoms (
    e    INTEGER NOT NULL,
    a    INTEGER NOT NULL,
    v             NOT NULL,
    t    INTEGER NOT NULL,
    tx   INTEGER NOT NULL,
    avet INTEGER NOT NULL,
    PRIMARY KEY (e, a, v)
) WITHOUT ROWID;
CREATE INDEX datoms_aevt ON datoms (a, e, v);
CREATE INDEX datoms_avet ON datoms (a, v, e) WHERE avet = 1;
CREATE INDEX datoms_vaet ON datoms (v, a, e) WHERE t = 0;
CREATE TABLE log (
    tx    INTEGER NOT NULL,
    seq   INTEGER NOT NULL,
    e     INTEGER NOT NULL,
    a     INTEGER NOT NULL,
    v              NOT NULL,
    t     INTEGER NOT NULL,
    added INTEGER NOT NULL,
    PRIMARY KEY (tx, seq)
) WITHOUT ROWID;
CREATE INDEX log_aevt ON log (a, e, v, tx);
CREATE TABLE partitions (part INTEGER PRIMARY KEY, next_id INTEGER NOT NULL);
CREATE TABLE attribute_stats (a INTEGER PRIMARY KEY, datoms INTEGER NOT NULL);
CREATE TABLE attribute_stats_basis (id INTEGER PRIMARY KEY CHECK (id = 1), tx INTEGER NOT NULL);
CREATE VIRTUAL TABLE fulltext USING fts5(v, e UNINDEXED, a UNINDEXED);
";

/// The replicated log a store follows: at most one row (`id = 1`), written
/// with the log's genesis record and moved by every record applied.
const CREATE_REPLICATION: &str = "
CREATE TABLE replication (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    store_id BLOB    NOT NULL,
    position INTEGER NOT NULL
);
";

/// What a file holds, as read before anything is written to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contents {
    /// A new or empty file (no tables, no version): a store may be made in
    /// it.
    Empty,
    /// A factlite store of this layout version.
    Factlite { version: i64 },
    /// A factlite store of a layout newer than this build reads.
    Newer { version: i64 },
    /// A SQLite database of another program.
    Foreign,
    /// Not a SQLite database at all.
    NotSqlite,
}

/// Reads what the file holds, writing nothing: the header's
/// `application_id` and `user_version` and whether it has tables.
pub fn inspect(conn: &Connection) -> Result<Contents> {
    let header = conn.query_row(
        "SELECT (SELECT application_id FROM pragma_application_id),
                (SELECT user_version FROM pragma_user_version),
                (SELECT count(*) FROM sqlite_master)",
        [],
        |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        },
    );
    let (application_id, version, objects) = match header {
        Ok(header) => header,
        Err(rusqlite::Error::SqliteFailure(failure, _))
            if failure.code == rusqlite::ErrorCode::NotADatabase =>
        {
            return Ok(Contents::NotSqlite)
        }
        Err(error) => return Err(error.into()),
    };
    Ok(match (application_id, version, objects) {
        (0, 0, 0) => Contents::Empty,
        (APPLICATION_ID, version, _) if version > FORMAT_VERSION => Contents::Newer { version },
        (APPLICATION_ID, version, _) if version >= 1 => Contents::Factlite { version },
        _ => Contents::Foreign,
    })
}

/// Sets the connection options every store connection uses. A read-only
/// connection keeps the file's journal mode (switching to WAL writes).
pub fn configure(conn: &Connection, config: &Config, read_only: bool) -> Result<()> {
    conn.busy_timeout(config.busy_timeout)?;
    if !read_only {
        // WAL is refused by in-memory databases; they keep their own journal.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    }
    // The setting is one of three fixed words and the limit a number,
    // never user text.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {};
         PRAGMA journal_size_limit = {};
         PRAGMA foreign_keys = OFF;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -65536;",
        config.durability.synchronous(),
        config.wal_limit
    ))?;
    conn.set_prepared_statement_cache_capacity(256);
    crate::sql_functions::register(conn)?;
    Ok(())
}

/// Copies the WAL into the database and empties it, unless a reader still
/// needs its frames: then nothing waits (the busy timeout is zero meanwhile)
/// and the checkpoint copies what it can.
pub fn truncate_wal(conn: &Connection, busy_timeout: Duration) -> Result<()> {
    conn.busy_timeout(Duration::ZERO)?;
    let checkpoint = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    conn.busy_timeout(busy_timeout)?;
    Ok(checkpoint?)
}

/// Creates the layout in an empty database or upgrades an older layout;
/// `contents` is what [`inspect`] found, and only an empty file or a
/// factlite store of a version this build reads reach here.
pub fn ensure(conn: &mut Connection, contents: Contents, now_ms: i64) -> Result<()> {
    match contents {
        Contents::Empty => create(conn, now_ms),
        Contents::Factlite { version } => {
            if version <= 1 {
                upgrade_from_1(conn, now_ms)?;
            }
            if version <= 2 {
                upgrade_from_2(conn, now_ms)?;
            }
            if version <= 3 {
                upgrade_to_tuples(conn, now_ms)?;
            }
            if version <= 4 {
                upgrade_to_replication(conn)?;
            }
            if version <= 5 {
                upgrade_to_big_numbers(conn, now_ms)?;
            }
            if version <= BEFORE_EXCISION_LAYOUT {
                upgrade_to_excision(conn, now_ms)?;
            }
            if version < LEAN_LOG_LAYOUT {
                upgrade_to_lean_log(conn)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn create(conn: &mut Connection, now_ms: i64) -> Result<()> {
    let has_tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |row| row.get(0),
    )?;
    if has_tables != 0 {
        return Err(Error::Corrupt(
            "the file is a SQLite database, but not a factlite store".into(),
        ));
    }
    let tx = conn.transaction()?;
    tx.execute_batch(CREATE_TABLES)?;
    tx.execute_batch(CREATE_REPLICATION)?;
    let tx_id = Partition::Tx.start();
    let mut datoms = attribute_datoms(&bootstrap::attributes());
    for (id, ident) in bootstrap::enum_idents() {
        datoms.push((
            id,
            bootstrap::DB_IDENT,
            TypedValue::Keyword(Box::new(ident)),
        ));
    }
    write_transaction(&tx, tx_id, now_ms, &datoms)?;
    crate::statistics::record_basis(&tx, tx_id)?;
    for partition in Partition::ALL {
        let next = match partition {
            Partition::Db => bootstrap::FIRST_USER_SCHEMA_ID,
            Partition::Tx => tx_id + 1,
            Partition::User => partition.start(),
        };
        tx.execute(
            "INSERT INTO partitions (part, next_id) VALUES (?1, ?2)",
            params![partition as i64, next],
        )?;
    }
    tx.execute_batch(&format!(
        "PRAGMA user_version = {FORMAT_VERSION}; PRAGMA application_id = {APPLICATION_ID};"
    ))?;
    tx.commit()?;
    Ok(())
}

/// Layout 1 → 2: the `log_eavt` index and the vocabulary attributes.
fn upgrade_from_1(conn: &mut Connection, now_ms: i64) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch("CREATE INDEX log_eavt ON log (e, a, v, tx);")?;
    add_builtin_attributes(&tx, &bootstrap::VOCABULARY_ATTRIBUTES, &[], 2, now_ms)?;
    tx.commit()?;
    Ok(())
}

/// Layout 2 → 3: the constraint attributes (`:db/ensure`, entity specs,
/// attribute predicates).
fn upgrade_from_2(conn: &mut Connection, now_ms: i64) -> Result<()> {
    let tx = conn.transaction()?;
    // `:db.type/uri`'s ident comes in the same transaction.
    let later = value_type_idents(&bootstrap::LATER_VALUE_TYPES);
    add_builtin_attributes(&tx, &bootstrap::CONSTRAINT_ATTRIBUTES, &later, 3, now_ms)?;
    tx.commit()?;
    Ok(())
}

/// Layout 3 → 4, the tuple layout: the tuple attributes (`:db/tupleType`,
/// `:db/tupleTypes`, `:db/tupleAttrs`) and the `:db.type/tuple` and
/// `:db.type/float` idents.
fn upgrade_to_tuples(conn: &mut Connection, now_ms: i64) -> Result<()> {
    let tx = conn.transaction()?;
    let idents = value_type_idents(&bootstrap::TUPLE_VALUE_TYPES);
    add_builtin_attributes(&tx, &bootstrap::TUPLE_ATTRIBUTES, &idents, 4, now_ms)?;
    tx.commit()?;
    Ok(())
}

/// Layout 4 → 5: the `replication` table, empty (the store follows no
/// log). No datom changes, so no transaction is written.
fn upgrade_to_replication(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(CREATE_REPLICATION)?;
    tx.execute_batch("PRAGMA user_version = 5;")?;
    tx.commit()?;
    Ok(())
}

/// Layout 5 → 6: the `:db.type/bigint` and `:db.type/bigdec` idents, in a
/// transaction of their own. No stored value changes: no older layout
/// could hold a value of either type.
fn upgrade_to_big_numbers(conn: &mut Connection, now_ms: i64) -> Result<()> {
    let tx = conn.transaction()?;
    let idents = value_type_idents(&bootstrap::BIG_NUMBER_VALUE_TYPES);
    add_builtin_attributes(&tx, &[], &idents, 6, now_ms)?;
    tx.commit()?;
    Ok(())
}

/// Layout 6 → 7: the excision attributes (`:db/excise`,
/// `:db.excise/attrs`, `:db.excise/before`, `:db.excise/beforeT`).
fn upgrade_to_excision(conn: &mut Connection, now_ms: i64) -> Result<()> {
    let tx = conn.transaction()?;
    add_builtin_attributes(
        &tx,
        &bootstrap::EXCISION_ATTRIBUTES,
        &[],
        EXCISION_LAYOUT,
        now_ms,
    )?;
    tx.commit()?;
    Ok(())
}

/// Layout 7 → 8: the log's entity index `log_eavt` is dropped, and the
/// attribute counts get their basis (see `statistics`). No datom changes,
/// so no transaction is written.
fn upgrade_to_lean_log(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(
        "DROP INDEX IF EXISTS log_eavt;
         CREATE TABLE IF NOT EXISTS attribute_stats_basis (
             id INTEGER PRIMARY KEY CHECK (id = 1), tx INTEGER NOT NULL);",
    )?;
    // The counts an older layout wrote are exact: as of its newest
    // transaction.
    let latest: i64 = tx.query_row("SELECT coalesce(max(tx), 0) FROM log", [], |row| row.get(0))?;
    crate::statistics::record_basis(&tx, latest)?;
    tx.execute_batch(&format!("PRAGMA user_version = {LEAN_LOG_LAYOUT};"))?;
    tx.commit()?;
    Ok(())
}

/// The `:db/ident` datoms of the given value types' enum idents, for the
/// upgrade step that brings the types.
fn value_type_idents(value_types: &[factlite_core::ValueType]) -> Vec<(i64, i64, TypedValue)> {
    bootstrap::enum_idents()
        .into_iter()
        .filter(|(_, ident)| {
            value_types
                .iter()
                .any(|value_type| value_type.ident() == *ident)
        })
        .map(|(id, ident)| {
            (
                id,
                bootstrap::DB_IDENT,
                TypedValue::Keyword(Box::new(ident)),
            )
        })
        .collect()
}

/// Writes the definitions of the built-in attributes `ids` an older layout
/// lacks (and the datoms `extra`, such as new enum idents), in a
/// transaction of their own, and marks the file as layout `version`;
/// refused when one of their ids already holds data.
fn add_builtin_attributes(
    tx: &rusqlite::Transaction<'_>,
    ids: &[i64],
    extra: &[(i64, i64, TypedValue)],
    version: i64,
    now_ms: i64,
) -> Result<()> {
    for id in ids.iter().chain(extra.iter().map(|(e, _, _)| e)) {
        let taken: Option<i64> = tx
            .query_row("SELECT e FROM datoms WHERE e = ?1 LIMIT 1", [id], |row| {
                row.get(0)
            })
            .optional()?;
        if let Some(e) = taken {
            return Err(Error::Corrupt(format!(
                "cannot upgrade the file to format version {version}: entity {e}, reserved for a built-in attribute, already holds data"
            )));
        }
    }
    let new: Vec<Attribute> = bootstrap::attributes()
        .into_iter()
        .filter(|attribute| ids.contains(&attribute.id))
        .collect();
    let tx_id = crate::partitions::next_ids(tx)?[Partition::Tx as usize];
    let last_instant: i64 = tx.query_row(
        "SELECT coalesce(max(v), 0) FROM log WHERE a = ?1",
        [bootstrap::DB_TX_INSTANT],
        |row| row.get(0),
    )?;
    let mut datoms = attribute_datoms(&new);
    datoms.extend(extra.iter().cloned());
    write_transaction(tx, tx_id, now_ms.max(last_instant), &datoms)?;
    tx.execute(
        "UPDATE partitions SET next_id = ?2 WHERE part = ?1",
        params![Partition::Tx as i64, tx_id + 1],
    )?;
    tx.execute_batch(&format!("PRAGMA user_version = {version};"))?;
    Ok(())
}

/// The datoms that define built-in attributes.
fn attribute_datoms(attributes: &[Attribute]) -> Vec<(i64, i64, TypedValue)> {
    let mut datoms = Vec::new();
    let enum_id = |ident: factlite_edn::Keyword| {
        bootstrap::enum_idents()
            .into_iter()
            .find(|(_, k)| *k == ident)
            .map(|(id, _)| id)
            .unwrap_or_else(|| unreachable!("bootstrap enum {ident:?} is defined"))
    };
    for attribute in attributes {
        let id = attribute.id;
        datoms.push((
            id,
            bootstrap::DB_IDENT,
            TypedValue::Keyword(Box::new(attribute.ident.clone())),
        ));
        datoms.push((
            id,
            bootstrap::DB_VALUE_TYPE,
            TypedValue::Ref(enum_id(attribute.value_type.ident())),
        ));
        datoms.push((
            id,
            bootstrap::DB_CARDINALITY,
            TypedValue::Ref(enum_id(attribute.cardinality.ident())),
        ));
        if let Some(unique) = attribute.unique {
            datoms.push((
                id,
                bootstrap::DB_UNIQUE,
                TypedValue::Ref(enum_id(unique.ident())),
            ));
        }
        if attribute.index {
            datoms.push((id, bootstrap::DB_INDEX, TypedValue::Boolean(true)));
        }
        // The built-in tuple attributes hold keywords.
        if let Some(factlite_core::TupleShape::Homogeneous(element)) = &attribute.tuple {
            datoms.push((
                id,
                bootstrap::DB_TUPLE_TYPE,
                TypedValue::Ref(enum_id(element.ident())),
            ));
        }
    }
    datoms
}

/// Writes a built-in transaction: its datoms and its instant, into
/// `datoms`, `log` and `attribute_stats`.
fn write_transaction(
    conn: &Connection,
    tx_id: i64,
    instant: i64,
    datoms: &[(i64, i64, TypedValue)],
) -> Result<()> {
    let attributes = bootstrap::attributes();
    let in_avet = |a: i64| attributes.iter().any(|attr| attr.id == a && attr.in_avet());
    let mut insert_datom =
        conn.prepare("INSERT INTO datoms (e, a, v, t, tx, avet) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    let mut insert_log = conn.prepare(
        "INSERT INTO log (tx, seq, e, a, v, t, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)",
    )?;
    let mut count = conn.prepare(
        "INSERT INTO attribute_stats (a, datoms) VALUES (?1, 1)
         ON CONFLICT (a) DO UPDATE SET datoms = datoms + 1",
    )?;
    let instant_datom = (
        tx_id,
        bootstrap::DB_TX_INSTANT,
        TypedValue::Instant(instant),
    );
    for (seq, (e, a, v)) in datoms.iter().chain([&instant_datom]).enumerate() {
        let tag = v.value_type().tag();
        insert_datom.execute(params![e, a, SqlParam(v), tag, tx_id, in_avet(*a)])?;
        insert_log.execute(params![tx_id, seq as i64, e, a, SqlParam(v), tag])?;
        count.execute([a])?;
    }
    Ok(())
}
