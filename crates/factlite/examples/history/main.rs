//! A browser's history, the use case factlite exists for: every visit and
//! bookmark is an event with its context and time, written through the
//! typed API; each feature (the history list, top sites, the address bar,
//! "how did I get here", the bookmarks menu) is a consumer that installs
//! its vocabulary and materialized views on the store as it is, with no
//! migration, and leaves the events alone when it goes.
//!
//! The story: generate a history (an import in batches, then a browser
//! recording one visit per transaction), read every model from its view
//! (a view is a plain SQLite table, so the address bar's suggestions are
//! one SQL statement over it), add a consumer to the grown store, remove
//! one, and look at the past with `as_of`.
//!
//! Run it with `cargo run -p factlite --example history` (the number of
//! visits as its argument, 3,000 by default);
//! `tests/history_example.rs` runs it and checks what it prints.

pub mod model;

use std::error::Error;
use std::io::Write;

use factlite::{rusqlite, QueryResultExt, Store};

use model::Generator;

fn main() -> Result<(), Box<dyn Error>> {
    let visits = match std::env::args().nth(1) {
        Some(text) => text.parse()?,
        None => 3_000,
    };
    let directory = tempfile::tempdir()?;
    let store = Store::open(directory.path().join("places.db"))?;
    run(&store, visits, &mut std::io::stdout())
}

/// Visits per transaction of the import.
const IMPORT_BATCH: usize = 500;

/// Generates the history on `store` (which holds nothing yet, or only the
/// core vocabulary): the first half as an import, the rest one visit per
/// transaction. Returns the transaction that ended the import.
pub fn generate(store: &Store, visits: usize) -> factlite::Result<i64> {
    let mut generator = Generator::new(model::HistoryConfig::example(visits));
    let mut import_tx = store.db()?.basis_tx();
    while generator.generated() < visits / 2 {
        let batch = IMPORT_BATCH.min(visits / 2 - generator.generated());
        match generator.next_tx(store, batch)? {
            Some(report) => import_tx = report.tx,
            None => break,
        }
    }
    while generator.next_tx(store, 1)?.is_some() {}
    Ok(import_tx)
}

/// Rows of an SQL statement over the views' tables, each column as text.
fn sql_rows(
    store: &Store,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Vec<String>>, Box<dyn Error>> {
    let rows = store
        .db()?
        .with_connection(|connection| model::sql_rows(connection, sql, params))?;
    Ok(rows)
}

/// Prints rows, one a line, their columns joined.
fn print_rows(out: &mut dyn Write, title: &str, rows: &[Vec<String>]) -> std::io::Result<()> {
    writeln!(out, "{title}:")?;
    for row in rows {
        writeln!(out, "  {}", row.join("  "))?;
    }
    Ok(())
}

/// The example: generates `visits` visits on an empty store and tells the
/// story, printing to `out`.
pub fn run(store: &Store, visits: usize, out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    store.ensure_vocabulary(&model::core_vocabulary()?)?;
    model::register_functions(store, model::history_now())?;
    // The consumers there from the start; the trail arrives later.
    for consumer in model::CONSUMERS
        .iter()
        .filter(|c| c.name != model::TRAIL.name)
    {
        consumer.install(store)?;
    }
    let import_tx = generate(store, visits)?;

    let db = store.db()?;
    let count = |query: &str| -> factlite::Result<i64> {
        Ok(db.q_str(query, ())?.scalar::<i64>()?.unwrap_or(0))
    };
    writeln!(
        out,
        "{} visits of {} pages in {} sessions, {} bookmarks",
        count("[:find (count ?v) . :where [?v :visit/at]]")?,
        count("[:find (count ?p) . :where [?p :page/url]]")?,
        count("[:find (count ?s) . :where [?s :session/started]]")?,
        count("[:find (count ?b) . :where [?b :bookmark/page]]")?,
    )?;
    let transitions = db.q_str(
        "[:find ?t (count ?v) :where [?v :visit/transition ?t] :order-by ?t]",
        (),
    )?;
    for (transition, n) in transitions.rows_as::<(factlite::Keyword, i64)>()? {
        writeln!(out, "  {transition}: {n}")?;
    }

    // Visit ids grow with time, so the newest visits have the largest.
    let recent = sql_rows(
        store,
        r#"SELECT title FROM "view_history-list" ORDER BY v DESC LIMIT 5"#,
        [],
    )?;
    print_rows(out, "history list (newest first)", &recent)?;
    let top = sql_rows(
        store,
        r#"SELECT url, count_v FROM "view_top-sites" ORDER BY count_v DESC, url LIMIT 5"#,
        [],
    )?;
    print_rows(out, "top sites", &top)?;
    for typed in ["ka", "lo"] {
        print_rows(
            out,
            &format!("address bar, typed {typed:?}"),
            &sql_rows(store, model::SUGGESTIONS, [typed])?,
        )?;
    }
    let folders = sql_rows(
        store,
        r#"SELECT folder, count_b FROM "view_bookmark-folders" ORDER BY folder"#,
        [],
    )?;
    print_rows(out, "bookmarks per folder", &folders)?;

    // A consumer added later installs on the grown store.
    model::TRAIL.install(store)?;
    let newest_linked = store
        .db()?
        .q_str("[:find (max ?v) . :where [?v :visit/from]]", ())?;
    if let Some(visit) = newest_linked.scalar::<i64>()? {
        let trail = sql_rows(
            store,
            r#"SELECT h.title FROM "view_came-from" c JOIN "view_history-list" h ON h.v = c.f
               WHERE c.v = ?1 ORDER BY h.v"#,
            [visit],
        )?;
        print_rows(out, "how did I get to the newest linked visit", &trail)?;
    }
    let names = |store: &Store| -> factlite::Result<String> {
        let views = store.views()?;
        Ok(views
            .iter()
            .map(|view| view.name.as_str())
            .collect::<Vec<_>>()
            .join(", "))
    };
    writeln!(out, "views: {}", names(store)?)?;

    // Top sites leaves: its views go, the events stay.
    model::TOP_SITES.remove(store)?;
    writeln!(out, "top sites removed; views: {}", names(store)?)?;
    writeln!(
        out,
        "visits still recorded: {}",
        store
            .db()?
            .q_str("[:find (count ?v) . :where [?v :visit/at]]", ())?
            .scalar::<i64>()?
            .unwrap_or(0)
    )?;

    // The past: the store as the import left it.
    let past = store.db()?.as_of(import_tx);
    let top_then = past.q_str(
        "[:find ?url (count ?v) :where [?v :visit/page ?p] [?p :page/url ?url]]",
        (),
    )?;
    let mut top_then = top_then.rows_as::<(String, i64)>()?;
    top_then.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    writeln!(
        out,
        "as of the import: {} visits; the top site then: {}",
        past.q_str("[:find (count ?v) . :where [?v :visit/at]]", ())?
            .scalar::<i64>()?
            .unwrap_or(0),
        top_then
            .first()
            .map(|(url, n)| format!("{url} ({n})"))
            .unwrap_or_default()
    )?;
    Ok(())
}
