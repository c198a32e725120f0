//! The browser-history benchmark (plain `main`, no harness): the history
//! example's generated history (`examples/history/model.rs`) on a file
//! store, measured against a `places.sqlite`-shaped baseline — plain
//! rusqlite tables `moz_places`, `moz_historyvisits` and `moz_bookmarks`,
//! with a trigger keeping each place's `visit_count` and `frecency`
//! current (the frecency weight the same Rust function, registered in
//! SQLite, as Firefox registers its own). Prints, in one run:
//!
//! (a) recording one visit (one transaction) with every consumer's views
//!     installed beside none — target ≤ 3× — and the same visit in the
//!     baseline — target: factlite with views within 2× of it;
//! (b) each view read whole (`store.view`) beside its query from scratch
//!     (`q_from_scratch`) — target ≥ 100×;
//! (c) each feature's read (the history list's newest 20, the top 10
//!     sites, the address bar's 5 suggestions, one visit's trail, the
//!     bookmark folders) as SQL over the views' tables, from scratch in
//!     Datalog, and as hand-written SQL over the baseline, with whether
//!     the three answers agree.
//!
//! `FACTLITE_BENCH_VISITS` sets the history's size (default 100,000; the
//! issue's target is 1,000,000), `FACTLITE_BENCH_TXS` the timed visits
//! (default 200). Run with `cargo bench -p factlite --bench history`.

#[path = "../examples/history/model.rs"]
mod model;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use std::collections::HashMap;

use factlite::rusqlite::{self, params, Connection};
use factlite::{edn, Keyword, QueryResultExt, Store};

use model::{Generator, HistoryConfig};

/// Visits per transaction while loading.
const BATCH: usize = 1_000;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fail(what: &str, error: impl std::fmt::Display) -> ! {
    eprintln!("history benchmark: {what}: {error}");
    std::process::exit(1)
}

/// Unwraps a step's result or stops the benchmark, naming the step.
fn must<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| fail(what, e))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// The median time of `runs` runs of `f`, and its last answer.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut samples = Vec::with_capacity(runs);
    let mut answer = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        answer = Some(f());
        samples.push(start.elapsed());
    }
    (
        median(samples),
        answer.unwrap_or_else(|| fail("timing", "no run")),
    )
}

fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Places' visit types.
fn visit_type(transition: &str) -> i64 {
    match transition {
        "link" => 1,
        "typed" => 2,
        "bookmark" => 3,
        _ => 9,
    }
}

fn transition_name(visit_type: i64) -> &'static str {
    match visit_type {
        1 => "link",
        2 => "typed",
        3 => "bookmark",
        _ => "reload",
    }
}

const PLACES: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, title TEXT,
  visit_count INTEGER NOT NULL DEFAULT 0, frecency INTEGER NOT NULL DEFAULT 0,
  last_visit_date INTEGER);
CREATE INDEX moz_places_frecencyindex ON moz_places (frecency);
CREATE INDEX moz_places_visitcount ON moz_places (visit_count);
CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, from_visit INTEGER,
  place_id INTEGER NOT NULL, visit_date INTEGER NOT NULL, visit_type INTEGER NOT NULL,
  session INTEGER);
CREATE INDEX moz_historyvisits_placedateindex ON moz_historyvisits (place_id, visit_date);
CREATE INDEX moz_historyvisits_fromindex ON moz_historyvisits (from_visit);
CREATE INDEX moz_historyvisits_dateindex ON moz_historyvisits (visit_date);
CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY, fk INTEGER NOT NULL, folder TEXT NOT NULL,
  title TEXT, dateAdded INTEGER);
CREATE INDEX moz_bookmarks_itemindex ON moz_bookmarks (fk);
CREATE TRIGGER moz_historyvisits_afterinsert AFTER INSERT ON moz_historyvisits BEGIN
  UPDATE moz_places SET visit_count = visit_count + 1,
    frecency = frecency + visit_weight(NEW.visit_date, NEW.visit_type),
    last_visit_date = max(coalesce(last_visit_date, 0), NEW.visit_date)
  WHERE id = NEW.place_id;
END;";

/// One visit as the baseline records it.
struct PlacesVisit {
    id: i64,
    url: String,
    title: String,
    at: i64,
    transition: String,
    from: Option<i64>,
    session: i64,
}

/// Opens the baseline at `path` with the weight function registered.
fn open_places(path: &Path) -> Connection {
    let connection = must("open places", Connection::open(path));
    let now = model::history_now();
    must(
        "register visit_weight",
        connection.create_scalar_function(
            "visit_weight",
            2,
            rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
            move |context| {
                let at: i64 = context.get(0)?;
                let kind: i64 = context.get(1)?;
                let at = UNIX_EPOCH + Duration::from_millis(at.max(0) as u64);
                Ok(model::visit_weight(now, at, transition_name(kind)))
            },
        ),
    );
    connection
}

/// Records one visit in the baseline, in one transaction, as Places does.
fn places_record(connection: &mut Connection, visit: &PlacesVisit) -> rusqlite::Result<()> {
    let tx = connection.transaction()?;
    {
        let mut insert_place = tx.prepare_cached(
            "INSERT INTO moz_places (url, title) VALUES (?1, ?2) ON CONFLICT (url) DO NOTHING",
        )?;
        insert_place.execute(params![visit.url, visit.title])?;
        let mut place = tx.prepare_cached("SELECT id FROM moz_places WHERE url = ?1")?;
        let place: i64 = place.query_row([&visit.url], |row| row.get(0))?;
        let mut insert_visit = tx.prepare_cached(
            "INSERT INTO moz_historyvisits (id, from_visit, place_id, visit_date, visit_type, session)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        insert_visit.execute(params![
            visit.id,
            visit.from,
            place,
            visit.at,
            visit_type(&visit.transition),
            visit.session
        ])?;
    }
    tx.commit()
}

/// The query reading visits back for the baseline.
const VISITS: &str =
    "[:find ?v ?url ?title ?at ?t ?s :where [?v :visit/page ?p] [?p :page/url ?url]
                       [?p :page/title ?title] [?v :visit/at ?at] [?v :visit/transition ?t]
                       [?v :visit/session ?s]]";

/// The visits of the factlite store, or of one visit (`:in $ ?v`), as the
/// baseline records them, oldest first.
fn read_visits(db: &factlite::Db, one: Option<i64>) -> Vec<PlacesVisit> {
    let rows = match one {
        Some(id) => {
            let query = VISITS.replacen(":where", ":in $ ?v :where", 1);
            db.q_str(&query, (id,))
        }
        None => db.q_str(VISITS, ()),
    };
    let rows = must(
        "visits",
        rows.and_then(|r| r.rows_as::<(i64, String, String, SystemTime, Keyword, i64)>()),
    );
    let from: HashMap<i64, i64> = must(
        "visits' origins",
        db.q_str("[:find ?v ?f :where [?v :visit/from ?f]]", ())
            .and_then(|r| r.rows_as::<(i64, i64)>()),
    )
    .into_iter()
    .collect();
    let mut visits: Vec<PlacesVisit> = rows
        .into_iter()
        .map(|(id, url, title, at, transition, session)| PlacesVisit {
            id,
            url,
            title,
            at: millis(at),
            transition: transition.name,
            from: from.get(&id).copied(),
            session,
        })
        .collect();
    visits.sort_by_key(|visit| visit.id);
    visits
}

/// The baseline holding what the factlite store holds.
fn load_places(path: &Path, store: &Store) -> Connection {
    let mut connection = open_places(path);
    must("places schema", connection.execute_batch(PLACES));
    let db = must("db", store.db());
    for chunk in read_visits(&db, None).chunks(BATCH) {
        let tx = must("places tx", connection.transaction());
        for visit in chunk {
            let mut insert_place = must(
                "prepare",
                tx.prepare_cached(
                    "INSERT INTO moz_places (url, title) VALUES (?1, ?2) ON CONFLICT (url) DO NOTHING",
                ),
            );
            must(
                "place",
                insert_place.execute(params![visit.url, visit.title]),
            );
            must(
                "visit",
                tx.execute(
                    "INSERT INTO moz_historyvisits (id, from_visit, place_id, visit_date, visit_type, session)
                     SELECT ?1, ?2, id, ?4, ?5, ?6 FROM moz_places WHERE url = ?3",
                    params![visit.id, visit.from, visit.url, visit.at, visit_type(&visit.transition), visit.session],
                ),
            );
        }
        must("places commit", tx.commit());
    }
    load_bookmarks(&connection, &db);
    connection
}

/// The baseline's bookmarks made those of `db` (the timed visits add
/// bookmarks too, outside the timed insert).
fn load_bookmarks(connection: &Connection, db: &factlite::Db) {
    must(
        "clear bookmarks",
        connection.execute("DELETE FROM moz_bookmarks", []),
    );
    let bookmarks = must(
        "bookmarks",
        db.q_str(
            "[:find ?b ?url ?folder ?title :where [?b :bookmark/page ?p] [?p :page/url ?url]
              [?b :bookmark/folder ?folder] [?b :bookmark/title ?title]]",
            (),
        )
        .and_then(|r| r.rows_as::<(i64, String, String, String)>()),
    );
    for (id, url, folder, title) in bookmarks {
        must(
            "bookmark",
            connection.execute(
                "INSERT INTO moz_bookmarks (id, fk, folder, title)
                 SELECT ?1, id, ?3, ?4 FROM moz_places WHERE url = ?2",
                params![id, url, folder, title],
            ),
        );
    }
}

/// Rows of an SQL statement given `input`, each column as text.
fn sql_rows(connection: &Connection, sql: &str, input: &Input) -> Vec<Vec<String>> {
    let rows = match input {
        Input::None => model::sql_rows(connection, sql, []),
        Input::Text(text) => model::sql_rows(connection, sql, [text]),
        Input::Id(id) => model::sql_rows(connection, sql, [id]),
    };
    must(sql, rows)
}

/// What a feature's read is given.
enum Input {
    None,
    Text(&'static str),
    Id(i64),
}

/// Rows of a Datalog result, each column as text, sorted by `order` and
/// cut to `limit` (Datalog's `:order-by` takes variables, not aggregates).
fn datalog_rows(
    result: factlite::QueryResult,
    order: &[(usize, bool)],
    limit: usize,
) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<edn::Value>> = must("rows", result.rows())
        .map(|row| row.values().to_vec())
        .collect();
    rows.sort_by(|a, b| {
        order
            .iter()
            .fold(std::cmp::Ordering::Equal, |acc, &(column, descending)| {
                acc.then_with(|| {
                    let ordering = a[column]
                        .partial_cmp(&b[column])
                        .unwrap_or(std::cmp::Ordering::Equal);
                    if descending {
                        ordering.reverse()
                    } else {
                        ordering
                    }
                })
            })
    });
    rows.into_iter()
        .take(limit)
        .map(|row| {
            row.into_iter()
                .map(|value| {
                    value
                        .into_string()
                        .unwrap_or_else(|other| other.to_string())
                })
                .collect()
        })
        .collect()
}

/// A feature's read, three ways.
struct Read {
    name: &'static str,
    input: Input,
    /// SQL over factlite's view tables.
    view_sql: &'static str,
    /// Datalog from scratch, then `order` and `limit` in Rust.
    datalog: &'static str,
    order: &'static [(usize, bool)],
    limit: usize,
    /// Hand-written SQL over the baseline, and its input.
    places_sql: &'static str,
    places_input: Input,
    /// The leading columns that are entity ids, left out of the
    /// comparison (the stores number their entities alike, the views'
    /// definitions aside).
    ids: usize,
}

fn main() {
    let visits = env_number("FACTLITE_BENCH_VISITS", 100_000);
    let timed_txs = env_number("FACTLITE_BENCH_TXS", 200);
    let runs = env_number("FACTLITE_BENCH_RUNS", 5);
    let directory = must("temporary directory", tempfile::tempdir());
    let bare_path = directory.path().join("bare.db");
    let viewed_path = directory.path().join("viewed.db");

    let start = Instant::now();
    let bare = must("open", Store::open(&bare_path));
    must(
        "core",
        bare.ensure_vocabulary(&must("vocabulary", model::core_vocabulary())),
    );
    // The example's history, over ten times as many sites.
    let mut generator = Generator::new(HistoryConfig {
        sites: 2_000,
        ..HistoryConfig::example(visits + 2 * timed_txs)
    });
    while generator.generated() < visits {
        must(
            "generate",
            generator.next_tx(&bare, BATCH.min(visits - generator.generated())),
        );
    }
    println!("generated {visits} visits in {:.1?}", start.elapsed());
    must("backup", bare.backup_to(&viewed_path));
    let viewed = must("open", Store::open(&viewed_path));
    for store in [&bare, &viewed] {
        must(
            "functions",
            model::register_functions(store, model::history_now()),
        );
    }
    let start = Instant::now();
    for consumer in model::CONSUMERS {
        must("install", consumer.install(&viewed));
    }
    println!(
        "installed every consumer's views in {:.1?}",
        start.elapsed()
    );
    let start = Instant::now();
    let mut places = load_places(&directory.path().join("places.sqlite"), &bare);
    println!(
        "loaded the Places-shaped baseline in {:.1?}",
        start.elapsed()
    );

    // (a) one visit per transaction, the stores taking turns.
    let mut viewed_generator = generator.clone();
    let (mut with_none, mut with_views, mut in_places) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..timed_txs {
        let start = Instant::now();
        let report = must("record", generator.next_tx(&bare, 1));
        with_none.push(start.elapsed());
        let start = Instant::now();
        must("record with views", viewed_generator.next_tx(&viewed, 1));
        with_views.push(start.elapsed());
        let db = must("db", bare.db());
        let newest = must(
            "newest visit",
            db.q_str("[:find (max ?v) . :where [?v :visit/at]]", ())
                .and_then(|r| r.scalar::<i64>()),
        );
        if let (Some(id), Some(_)) = (newest, report) {
            for visit in read_visits(&db, Some(id)) {
                let start = Instant::now();
                must("places record", places_record(&mut places, &visit));
                in_places.push(start.elapsed());
            }
        }
    }
    load_bookmarks(&places, &must("db", bare.db()));
    let (none, views, baseline) = (median(with_none), median(with_views), median(in_places));
    println!("\n(a) recording one visit, median of {timed_txs}");
    println!("  factlite, no views       {none:>10.1?}");
    println!(
        "  factlite, {} views        {views:>10.1?}  {:.2}× no views (target ≤ 3×)",
        must("views", viewed.views()).len(),
        views.as_secs_f64() / none.as_secs_f64()
    );
    println!(
        "  Places-shaped, triggers  {baseline:>10.1?}  factlite with views {:.2}× it (target ≤ 2×)",
        views.as_secs_f64() / baseline.as_secs_f64()
    );

    // Every view still equals its query.
    let db = must("db", viewed.db());
    println!("\n(b) each view read whole, beside its query from scratch (median of {runs})");
    for consumer in model::CONSUMERS {
        for view in consumer.views {
            let name = view.name;
            let parsed = must("query", view.parsed_query());
            let args = must("args", view.args());
            let (view_time, from_view) = timed(runs, || must("view", viewed.view(name)));
            let (scratch_time, scratch) = timed(runs.min(3), || {
                must("from scratch", db.q_from_scratch(&parsed, &args[..]))
            });
            println!(
                "  {name:<17} {:>8} rows  view {view_time:>10.1?}  from scratch {scratch_time:>10.1?}  {:>7.0}×{}",
                from_view.len(),
                scratch_time.as_secs_f64() / view_time.as_secs_f64(),
                if from_view == scratch { "" } else { "  DIFFERS" }
            );
        }
    }

    let trail_of = must(
        "newest linked visit",
        db.q_str("[:find (max ?v) . :where [?v :visit/from]]", ())
            .and_then(|r| r.scalar::<i64>()),
    )
    .unwrap_or(0);
    let places_trail_of = must(
        "places' newest linked visit",
        places.query_row(
            "SELECT coalesce(max(id), 0) FROM moz_historyvisits WHERE from_visit IS NOT NULL",
            [],
            |row| row.get::<_, i64>(0),
        ),
    );
    let reads = [
        Read {
            name: "history list, newest 20",
            input: Input::None,
            view_sql: r#"SELECT v, url, title FROM "view_history-list" ORDER BY v DESC LIMIT 20"#,
            datalog: "[:find ?v ?url ?title :where [?v :visit/at] [?v :visit/page ?p]
                       [?p :page/url ?url] [?p :page/title ?title] :order-by (desc ?v) :limit 20]",
            order: &[],
            limit: 20,
            places_sql: "SELECT h.id, p.url, p.title FROM moz_historyvisits h
                         JOIN moz_places p ON p.id = h.place_id
                         ORDER BY h.visit_date DESC, h.id DESC LIMIT 20",
            places_input: Input::None,
            ids: 1,
        },
        Read {
            name: "top 10 sites",
            input: Input::None,
            view_sql: r#"SELECT url, count_v FROM "view_top-sites" ORDER BY count_v DESC, url LIMIT 10"#,
            datalog: "[:find ?url (count ?v) :where [?v :visit/page ?p] [?p :page/url ?url]]",
            order: &[(1, true), (0, false)],
            limit: 10,
            places_sql: "SELECT url, visit_count FROM moz_places ORDER BY visit_count DESC, url LIMIT 10",
            places_input: Input::None,
            ids: 0,
        },
        Read {
            name: "address bar \"ka\"",
            input: Input::Text("ka"),
            view_sql: model::SUGGESTIONS,
            datalog: "[:find ?url (sum ?w) :with ?v :in $ ?typed
                       :where [?v :visit/page ?p] [?v :visit/at ?at] [?v :visit/transition ?t]
                              [(history/visit-weight ?at ?t) ?w] [?p :page/url ?url] [?p :page/title ?title]
                              [(subs ?url 8) ?host]
                              (or-join [?host ?title ?typed] [(str/starts-with? ?host ?typed)]
                                       [(str/starts-with? ?title ?typed)])]",
            order: &[(1, true), (0, false)],
            limit: 5,
            places_sql: "SELECT url, frecency FROM moz_places
                         WHERE substr(url, 9, length(?1)) = ?1 OR substr(title, 1, length(?1)) = ?1
                         ORDER BY frecency DESC, url LIMIT 5",
            places_input: Input::Text("ka"),
            ids: 0,
        },
        Read {
            name: "how did I get here",
            input: Input::Id(trail_of),
            view_sql: r#"SELECT c.f, h.title FROM "view_came-from" c JOIN "view_history-list" h
                          ON h.v = c.f WHERE c.v = ?1 ORDER BY c.f"#,
            datalog: "[:find ?f ?title :in $ % ?v
                       :where (came-from ?v ?f) [?f :visit/page ?p] [?p :page/title ?title]]",
            order: &[(0, false)],
            limit: usize::MAX,
            places_sql: "WITH RECURSIVE trail (id) AS (
                           SELECT from_visit FROM moz_historyvisits WHERE id = ?1
                           UNION SELECT h.from_visit FROM moz_historyvisits h JOIN trail ON h.id = trail.id)
                         SELECT h.id, p.title FROM trail JOIN moz_historyvisits h ON h.id = trail.id
                         JOIN moz_places p ON p.id = h.place_id ORDER BY h.id",
            places_input: Input::Id(places_trail_of),
            ids: 1,
        },
        Read {
            name: "bookmarks per folder",
            input: Input::None,
            view_sql: r#"SELECT folder, count_b FROM "view_bookmark-folders" ORDER BY folder"#,
            datalog: "[:find ?folder (count ?b) :where [?b :bookmark/folder ?folder]]",
            order: &[(0, false)],
            limit: usize::MAX,
            places_sql: "SELECT folder, count(*) FROM moz_bookmarks GROUP BY folder ORDER BY folder",
            places_input: Input::None,
            ids: 0,
        },
    ];
    println!("\n(c) each feature's read: SQL over the views, Datalog from scratch, the baseline (median of {runs})");
    for read in &reads {
        let (view_time, from_view) = timed(runs, || {
            db.with_connection(|connection| sql_rows(connection, read.view_sql, &read.input))
        });
        let parsed = must("query", edn::parse(read.datalog));
        let (scratch_time, scratch) = timed(runs.min(3), || {
            let result = match &read.input {
                Input::None => db.q_from_scratch(&parsed, ()),
                Input::Text(text) => db.q_from_scratch(&parsed, (*text,)),
                Input::Id(id) => {
                    let rules = must("rules", edn::parse(model::CAME_FROM));
                    db.q_from_scratch(&parsed, factlite::params![rules, *id])
                }
            };
            datalog_rows(must(read.name, result), read.order, read.limit)
        });
        let (places_time, baseline) = timed(runs, || {
            sql_rows(&places, read.places_sql, &read.places_input)
        });
        let compared = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
            rows.iter()
                .map(|row| row[read.ids.min(row.len())..].to_vec())
                .collect()
        };
        let agree = if from_view == scratch && compared(&scratch) == compared(&baseline) {
            "agree"
        } else {
            "DIFFER"
        };
        println!(
            "  {:<24} views {view_time:>10.1?}  from scratch {scratch_time:>10.1?} ({:>6.0}×)  baseline {places_time:>10.1?}  {agree}",
            read.name,
            scratch_time.as_secs_f64() / view_time.as_secs_f64(),
        );
    }

    // A consumer leaves: its views go, the events stay.
    let start = Instant::now();
    must("remove", model::TRAIL.remove(&viewed));
    println!(
        "\nremoving \"how did I get here\" dropped its view in {:.1?}",
        start.elapsed()
    );
}
