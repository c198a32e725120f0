//! Automatic materialization: a query run often enough is made a view by
//! itself, and from then on the ordinary query call reads the table.
//!
//! The policy counts executions of each query (by its normalized text)
//! within a sliding window; at the threshold the query is materialized as
//! `auto-<hash>`. A budget bounds the automatic views (their number and
//! their rows together); past it, the least recently read automatic view is
//! dropped. Only queries without inputs other than rule sets qualify: a
//! parameterized query has one result per parameter value, and keeping the
//! answers of whichever values happen to be in use would make a table no
//! other client could read meaningfully, so such queries are left to run
//! from scratch. The policy is off until the application turns it on,
//! because materializing writes the view's definition to the store.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use factlite_edn::Value;
use factlite_query::Input;
use factlite_store::{QueryResult, Store};

use crate::error::Result;
use crate::Views;

/// When queries are materialized on their own.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoPolicy {
    /// The off switch.
    pub enabled: bool,
    /// Executions within `window` that make a query a view.
    pub threshold: usize,
    /// The window executions are counted in.
    pub window: Duration,
    /// At most this many automatic views.
    pub max_views: usize,
    /// At most this many rows in automatic views together.
    pub max_rows: i64,
}

impl Default for AutoPolicy {
    fn default() -> AutoPolicy {
        AutoPolicy {
            enabled: false,
            threshold: 10,
            window: Duration::from_secs(60),
            max_views: 16,
            max_rows: 1_000_000,
        }
    }
}

/// Executions seen per query.
#[derive(Default)]
pub struct Tracker {
    pub policy: AutoPolicy,
    runs: HashMap<String, VecDeque<Instant>>,
}

impl Tracker {
    /// Records one execution; whether the query has now run `threshold`
    /// times within the window.
    fn record(&mut self, text: &str) -> bool {
        let now = Instant::now();
        let window = self.policy.window;
        let runs = self.runs.entry(text.to_string()).or_default();
        runs.push_back(now);
        while runs
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            runs.pop_front();
        }
        let due = runs.len() >= self.policy.threshold;
        if due {
            self.runs.remove(text);
        }
        due
    }
}

impl Views {
    /// Sets the automatic materialization policy.
    pub fn set_auto_policy(&mut self, policy: AutoPolicy) {
        self.auto.policy = policy;
    }

    /// The automatic materialization policy.
    pub fn auto_policy(&self) -> &AutoPolicy {
        &self.auto.policy
    }

    /// Whether [`Views::answer`] can answer anything: there are views, or
    /// the automatic policy is on.
    pub fn answers_queries(&self) -> bool {
        !self.views.is_empty() || self.auto.policy.enabled
    }

    /// The answer to a query run against the current state, from a view
    /// holding exactly that query (with the same inputs), if there is one;
    /// under the automatic policy, counts the execution and materializes
    /// the query when it is due. `None`: run it from scratch.
    pub fn answer(
        &mut self,
        store: &Store,
        query: &Value,
        inputs: &[Value],
    ) -> Result<Option<QueryResult>> {
        if !self.answers_queries() {
            return Ok(None);
        }
        let Ok(parsed) = factlite_query::parse_query(query) else {
            return Ok(None);
        };
        let qualifies = parsed
            .inputs
            .iter()
            .all(|i| matches!(i, Input::Source(_) | Input::Rules));
        if !qualifies {
            return Ok(None);
        }
        let text = factlite_query::normalized_text(&parsed);
        let args = Value::Vector(inputs.to_vec()).to_string();
        self.refresh(store)?;
        let existing = self.views.iter().find_map(|(name, view)| {
            (view.normalized == text && view.args == args).then(|| name.clone())
        });
        if let Some(name) = existing {
            return self.read(store, &name).map(Some);
        }
        if !self.auto.policy.enabled || !self.auto.record(&text) {
            return Ok(None);
        }
        let name = format!("auto-{:016x}", fnv1a(&format!("{text} {args}")));
        if self
            .materialize_as(store, &name, query, inputs, true)
            .is_err()
        {
            // A query the views cannot keep runs from scratch, as before.
            return Ok(None);
        }
        self.evict(store, &name)?;
        self.read(store, &name).map(Some)
    }

    /// Drops least recently read automatic views (never `keep`) until the
    /// budget holds.
    fn evict(&mut self, store: &Store, keep: &str) -> Result<()> {
        loop {
            let infos = self.list(store)?;
            let automatic: Vec<_> = infos.iter().filter(|i| i.automatic).collect();
            let rows: i64 = automatic.iter().map(|i| i.rows).sum();
            if automatic.len() <= self.auto.policy.max_views && rows <= self.auto.policy.max_rows {
                return Ok(());
            }
            let victim = self
                .views
                .iter()
                .filter(|(name, view)| view.automatic && name.as_str() != keep)
                .min_by_key(|(_, view)| view.stats.last_used)
                .map(|(name, _)| name.clone());
            match victim {
                Some(name) => self.drop_view(store, &name)?,
                None => return Ok(()),
            }
        }
    }
}

/// A stable 64-bit hash (FNV-1a) for automatic view names.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
