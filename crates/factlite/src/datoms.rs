//! [`Datoms`]: a range of an index ([`crate::Db::datoms`]), streamed from
//! SQLite with the façade's [`crate::Error`].

use crate::error::Result;
use crate::Datom;

/// A range of an index, prepared: [`Datoms::iter`] streams it, one row at
/// a time, from SQLite.
///
/// The range holds a read transaction on its connection until it is
/// dropped, so every run of it reads the snapshot's state: drop it before
/// transacting through the same store on the same thread.
pub struct Datoms<'db>(pub(crate) factlite_store::Datoms<'db>);

impl Datoms<'_> {
    /// The datoms of the range in index order. Each call runs the range's
    /// statement anew; rows are decoded as the iterator advances.
    pub fn iter(&mut self) -> Result<impl Iterator<Item = Result<Datom>> + '_> {
        let rows = self.0.iter()?;
        Ok(rows.map(|datom| Ok(datom?)))
    }

    /// SQLite's `EXPLAIN QUERY PLAN` for the range, one line per step: which
    /// table and index it reads.
    pub fn query_plan(&self) -> Result<Vec<String>> {
        Ok(self.0.query_plan()?)
    }
}
