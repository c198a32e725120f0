//! The next free entity id of each partition, kept so that a commit
//! usually writes nothing for it. Ids are never reused, and a transaction
//! only ever allocates above every id in use, so the next id is one past
//! the largest entity of the partition that holds a current datom (one
//! seek of the `datoms` primary key) — unless that entity, or entities
//! above it, no longer hold any: ids reserved
//! ([`crate::Store::reserve_entity_ids`]), entities whose datoms were all
//! retracted or excised. So `partitions` holds a floor, and the next id is
//! the larger of the two; a transaction writes the floor only when what
//! the datoms show falls short of the next id it leaves.

use factlite_core::{Entid, Partition};
use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// The next free id of each partition, in [`Partition::ALL`] order.
pub fn next_ids(conn: &Connection) -> Result<[Entid; 3]> {
    let mut ids = floors(conn)?;
    for partition in Partition::ALL {
        if let Some(largest) = largest_holding(conn, partition)? {
            let next = &mut ids[partition as usize];
            *next = (*next).max(largest + 1);
        }
    }
    Ok(ids)
}

/// Records `next_ids`, the next free ids once a transaction's datoms are
/// written, where the datoms alone no longer show them. Writes nothing
/// in the usual case, where each partition's newest id holds a datom.
pub fn record(conn: &Connection, next_ids: [Entid; 3]) -> Result<()> {
    let floors = floors(conn)?;
    let mut update = conn.prepare_cached("UPDATE partitions SET next_id = ?2 WHERE part = ?1")?;
    for partition in Partition::ALL {
        let next = next_ids[partition as usize];
        let shown = largest_holding(conn, partition)?.map_or(Entid::MIN, |largest| largest + 1);
        if shown < next && floors[partition as usize] != next {
            update.execute(params![partition as i64, next])?;
        }
    }
    Ok(())
}

/// The floor each partition's row holds.
fn floors(conn: &Connection) -> Result<[Entid; 3]> {
    let mut ids = [0; 3];
    let mut statement = conn.prepare_cached("SELECT part, next_id FROM partitions")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let part: usize = row.get::<_, i64>(0)? as usize;
        if part < ids.len() {
            ids[part] = row.get(1)?;
        }
    }
    Ok(ids)
}

/// The largest entity of the partition that holds a current datom.
fn largest_holding(conn: &Connection, partition: Partition) -> Result<Option<Entid>> {
    Ok(conn
        .prepare_cached("SELECT max(e) FROM datoms WHERE e >= ?1 AND e < ?2")?
        .query_row(params![partition.start(), partition.end()], |row| {
            row.get::<_, Option<Entid>>(0)
        })
        .optional()?
        .flatten())
}
