//! The datoms a query reads, as SQL: the current-state table, or a view of
//! time built from the log. This is the one place that knows how views of
//! time map onto the tables.

/// Which datoms a query reads. The transaction number of `AsOf`, `Since`
/// and `History` (the basis) is bound as a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// The `datoms` table.
    Current,
    /// The datoms that held right after transaction `t`.
    AsOf(i64),
    /// Current datoms asserted after transaction `t`.
    Since(i64),
    /// Every assertion and retraction up to transaction `t`.
    History(i64),
    /// The datoms that held right after transaction `basis` and were
    /// asserted after transaction `since`: a since view of a snapshot the
    /// store has moved past.
    SinceAsOf { since: i64, basis: i64 },
}

impl Source {
    /// Whether the source is the `datoms` table itself (so its partial
    /// indexes can be used).
    pub fn is_current(self) -> bool {
        self == Source::Current
    }
}

/// A SELECT yielding the source's rows as `(e, a, v, t, tx, added)`, with
/// the transaction number (the basis) as parameter `?{param}` and, for
/// `SinceAsOf`, the `since` transaction as `?{param + 1}`.
pub fn source_sql(source: Source, param: usize) -> String {
    match source {
        Source::Current => "SELECT e, a, v, t, tx, 1 AS added FROM datoms".to_string(),
        Source::SinceAsOf { .. } => format!(
            "SELECT e, a, v, t, tx, added FROM ({}) WHERE tx > ?{}",
            source_sql(Source::AsOf(0), param),
            param + 1
        ),
        Source::AsOf(_) => format!(
            "SELECT l.e, l.a, l.v, l.t, l.tx, 1 AS added FROM log AS l \
             WHERE l.added = 1 AND l.tx <= ?{param} AND NOT EXISTS (\
             SELECT 1 FROM log AS r WHERE r.a = l.a AND r.e = l.e AND r.v = l.v \
             AND r.tx > l.tx AND r.tx <= ?{param})"
        ),
        Source::Since(_) => {
            format!("SELECT e, a, v, t, tx, 1 AS added FROM datoms WHERE tx > ?{param}")
        }
        Source::History(_) => {
            format!("SELECT e, a, v, t, tx, added FROM log WHERE tx <= ?{param}")
        }
    }
}
