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

    /// The kind of view of time, its transactions left out: what a plan
    /// depends on (they are its parameters).
    pub fn kind(self) -> Source {
        match self {
            Source::Current => Source::Current,
            Source::AsOf(_) => Source::AsOf(0),
            Source::Since(_) => Source::Since(0),
            Source::History(_) => Source::History(0),
            Source::SinceAsOf { .. } => Source::SinceAsOf { since: 0, basis: 0 },
        }
    }

    /// The transaction the view is taken at (`None` for the current state).
    pub fn basis(self) -> Option<i64> {
        match self {
            Source::Current => None,
            Source::AsOf(t)
            | Source::Since(t)
            | Source::History(t)
            | Source::SinceAsOf { basis: t, .. } => Some(t),
        }
    }
}

/// Which database of a query a table or parameter belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Database {
    /// The query's `$`.
    Default,
    /// A database given as an input (`:in $ $h`): its position among the
    /// inputs after `$`.
    Input(usize),
}

/// A database given as a query input (`(q query db (as-of db t))`, the
/// `$h` of `:in $ $h`): its position among the inputs after `$`, and the
/// view of time it reads, of the same store as `$`. Its patterns
/// (`[$h ?e :a ?v]`), rules called on it (`($h rule ...)`) and `or`/`not`
/// on it read that view in the same statement as the rest of the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DatabaseInput {
    /// The input's position after `$`.
    pub input: usize,
    /// The view of time it reads.
    pub source: Source,
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
             WHERE l.a IN ({LOGGED_ATTRIBUTES}) AND l.added = 1 AND l.tx <= ?{param} \
             AND NOT EXISTS (\
             SELECT 1 FROM log AS r WHERE r.a = l.a AND r.e = l.e AND r.v = l.v \
             AND r.tx > l.tx AND r.tx <= ?{param})"
        ),
        Source::Since(_) => {
            format!("SELECT e, a, v, t, tx, 1 AS added FROM datoms WHERE tx > ?{param}")
        }
        Source::History(_) => format!(
            "SELECT e, a, v, t, tx, added FROM log \
             WHERE a IN ({LOGGED_ATTRIBUTES}) AND tx <= ?{param}"
        ),
    }
}

/// The attributes the log holds datoms of, read by skipping through the
/// log's only value index, `log_aevt (a, e, v, tx)`: one seek per
/// attribute. A read of the past that knows its entity but not its
/// attribute seeks `(a, e)` once per attribute through it (the log keeps
/// no index by entity, so that a commit writes one index of it less).
pub const LOGGED_ATTRIBUTES: &str = "WITH RECURSIVE logged(a) AS (\
     SELECT (SELECT min(a) FROM log) \
     UNION ALL SELECT (SELECT min(a) FROM log WHERE a > logged.a) FROM logged \
     WHERE logged.a IS NOT NULL) \
     SELECT a FROM logged WHERE a IS NOT NULL";
