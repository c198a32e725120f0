//! The browser-history sample (`factlite --sample history`): the history
//! example's vocabulary, generator and read models
//! (`crates/factlite/examples/history/model.rs`, compiled in here as the
//! history benchmark compiles it) on `factlite-history.db` in the working
//! directory. On first use it generates [`VISITS`] visits and installs
//! every consumer's views; on every open it registers the Rust function the
//! frecency view calls (functions live in the process, not in the file).
//! `crates/cli/tests/cli.rs` runs it end to end.

#[allow(dead_code)] // the example's model serves its benchmark too
#[path = "../../factlite/examples/history/model.rs"]
mod model;

use factlite::Store;

use crate::error::Result;

/// The file the history sample lives in, in the working directory.
pub const HISTORY_FILE: &str = "factlite-history.db";

/// Visits the sample is generated with.
pub const VISITS: usize = 20_000;

/// Visits per transaction while generating (a browser's import).
const BATCH: usize = 500;

/// What the sample holds, for the line printed when it is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistorySize {
    /// Visits generated.
    pub visits: usize,
    /// Read models installed as views.
    pub views: usize,
}

/// Makes `store` ready to read the history: registers the frecency
/// function, and generates the history and installs the read models when
/// the store does not hold them yet (returning what it made).
pub fn prepare(store: &Store) -> Result<Option<HistorySize>> {
    model::register_functions(store, model::history_now())?;
    if is_loaded(store)? {
        return Ok(None);
    }
    store.ensure_vocabulary(&model::core_vocabulary()?)?;
    let mut views = 0;
    for consumer in model::CONSUMERS {
        consumer.install(store)?;
        views += consumer.views.len();
    }
    let mut generator = model::Generator::new(model::HistoryConfig::example(VISITS));
    while generator.next_tx(store, BATCH)?.is_some() {}
    Ok(Some(HistorySize {
        visits: generator.generated(),
        views,
    }))
}

/// Whether the store already holds visits.
fn is_loaded(store: &Store) -> Result<bool> {
    let schema = store.schema()?;
    Ok(schema
        .entid(&factlite::edn::Keyword::namespaced("visit", "at"))
        .is_some())
}
