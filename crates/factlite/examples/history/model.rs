//! A browser's history as facts: the `:history/core` vocabulary (pages,
//! visits, bookmarks, sessions), a deterministic generator of a realistic
//! history written through the typed API, and the read models — each a
//! consumer owning a vocabulary and materialized views. Shared by the
//! example (`main.rs`), its test and the benchmark.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use factlite::edn::Keyword;
use factlite::{rusqlite, Entity, Store, TempId, TxData, Vocabulary};

/// The events: what happened, when, in which context.
const CORE: &str = r#"[
 {:db/ident :page/url :db/valueType :db.type/string :db/cardinality :db.cardinality/one
  :db/unique :db.unique/identity}
 {:db/ident :page/title :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :visit/page :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :visit/at :db/valueType :db.type/instant :db/cardinality :db.cardinality/one}
 {:db/ident :visit/session :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :visit/transition :db/valueType :db.type/keyword :db/cardinality :db.cardinality/one}
 {:db/ident :visit/from :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :bookmark/page :db/valueType :db.type/ref :db/cardinality :db.cardinality/one}
 {:db/ident :bookmark/folder :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :bookmark/title :db/valueType :db.type/string :db/cardinality :db.cardinality/one}
 {:db/ident :bookmark/added :db/valueType :db.type/instant :db/cardinality :db.cardinality/one}
 {:db/ident :session/started :db/valueType :db.type/instant :db/cardinality :db.cardinality/one}]"#;

/// The `:history/core` vocabulary, version 1.
pub fn core_vocabulary() -> factlite::Result<Vocabulary> {
    Vocabulary::new(":history/core", 1, CORE)
}

/// How a visit was reached, as Places records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Link,
    Typed,
    Bookmark,
    Reload,
}

impl Transition {
    /// The keyword stored in `:visit/transition`.
    pub fn keyword(self) -> Keyword {
        Keyword::namespaced("transition", self.name())
    }

    /// The keyword's name.
    pub fn name(self) -> &'static str {
        match self {
            Transition::Link => "link",
            Transition::Typed => "typed",
            Transition::Bookmark => "bookmark",
            Transition::Reload => "reload",
        }
    }

    /// Firefox's frecency bonus for the transition, in percent.
    pub fn bonus(name: &str) -> i64 {
        match name {
            "typed" => 2000,
            "bookmark" => 75,
            "link" => 100,
            _ => 0,
        }
    }
}

/// The instant every generated history starts at: 2026-01-01T00:00:00Z.
pub fn history_start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

/// The days a generated history spans, whatever its size: sessions are
/// spread over them.
const HISTORY_DAYS: u64 = 180;

/// The instant a generated history ends at (about): its "now", from which
/// frecency counts visits' ages.
pub fn history_now() -> SystemTime {
    history_start() + Duration::from_secs(HISTORY_DAYS * 86_400)
}

/// The weight of one visit in its page's frecency: Firefox's recency
/// bucket (4, 14, 31, 90 days, older) times the transition's bonus, the age
/// measured back from `now`.
pub fn visit_weight(now: SystemTime, at: SystemTime, transition: &str) -> i64 {
    let days = now.duration_since(at).unwrap_or_default().as_secs() / 86_400;
    let bucket = match days {
        0..=3 => 100,
        4..=13 => 70,
        14..=30 => 50,
        31..=89 => 30,
        _ => 10,
    };
    bucket * Transition::bonus(transition) / 100
}

/// A xorshift64* generator: small, fast, deterministic.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value; zero is moved off).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Ranks drawn with Zipf's law (probability of rank k ∝ 1/k).
#[derive(Clone)]
struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(ranks: usize) -> Zipf {
        let mut total = 0.0;
        let cumulative = (1..=ranks)
            .map(|k| {
                total += 1.0 / k as f64;
                total
            })
            .collect();
        Zipf { cumulative }
    }

    fn draw(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let target = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        self.cumulative
            .partition_point(|&c| c < target)
            .min(self.cumulative.len() - 1)
    }
}

const SYLLABLES: [&str; 16] = [
    "ka", "lo", "mi", "ra", "tu", "ne", "so", "vi", "da", "pe", "zu", "fo", "gi", "ha", "bo", "xe",
];
const SECTIONS: [&str; 8] = [
    "news", "docs", "wiki", "shop", "blog", "forum", "video", "maps",
];
const FOLDERS: [&str; 4] = ["Toolbar", "Reading", "Work", "Recipes"];
/// Pages per site.
const PAGES_PER_SITE: usize = 24;

/// A word made of syllables, from a number.
fn word(mut n: usize) -> String {
    let mut text = String::new();
    for _ in 0..3 {
        text.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
    }
    text
}

/// The URL and title of page `page` of site `site`.
fn page(site: usize, page: usize) -> (String, String) {
    let host = word(site * 7 + 3);
    if page == 0 {
        return (format!("https://{host}.example/"), format!("{host} home"));
    }
    let section = SECTIONS[(site + page) % SECTIONS.len()];
    let slug = word(page * 13 + site);
    (
        format!("https://{host}.example/{section}/{slug}"),
        format!("{slug} - {section} - {host}"),
    )
}

/// The shape of a generated history.
#[derive(Clone, Copy, Debug)]
pub struct HistoryConfig {
    /// The visits to generate.
    pub visits: usize,
    /// The sites they go to (Zipf-distributed).
    pub sites: usize,
    /// The seed of the random numbers.
    pub seed: u64,
}

impl HistoryConfig {
    /// The example's history (and the REPL's sample): `visits` visits over
    /// 200 sites.
    pub fn example(visits: usize) -> HistoryConfig {
        HistoryConfig {
            visits,
            sites: 200,
            seed: 20,
        }
    }
}

/// A visit or bookmark referred to before or after its transaction: by a
/// tempid within the transaction, by its id after.
#[derive(Clone)]
enum Reference {
    Id(i64),
    Pending(String),
}

impl Reference {
    fn resolve(&self, tempids: &factlite::IndexMap<String, i64>) -> Option<i64> {
        match self {
            Reference::Id(id) => Some(*id),
            Reference::Pending(name) => tempids.get(name).copied(),
        }
    }
}

/// The browser: it walks the web and records what it does in the store.
/// A clone goes on exactly as the original would.
#[derive(Clone)]
pub struct Generator {
    config: HistoryConfig,
    rng: Rng,
    sites: Zipf,
    pages: Zipf,
    clock: SystemTime,
    /// The mean pause between sessions, in seconds.
    session_gap: usize,
    /// The current session, its visits left, the last visit and its page.
    session: Option<Reference>,
    session_left: usize,
    last: Option<(Reference, usize, usize)>,
    /// Bookmarked pages (site, page) with their bookmark entity.
    bookmarks: Vec<(usize, usize, Reference)>,
    generated: usize,
}

impl Generator {
    /// A browser about to generate the history `config` describes.
    pub fn new(config: HistoryConfig) -> Generator {
        Generator {
            config,
            rng: Rng::new(config.seed),
            sites: Zipf::new(config.sites.max(1)),
            pages: Zipf::new(PAGES_PER_SITE),
            clock: history_start(),
            // Sessions of 20 visits, 2.5 minutes apart, on average.
            session_gap: (HISTORY_DAYS as usize * 86_400 * 20 / config.visits.max(1))
                .saturating_sub(3_000)
                .max(600),
            session: None,
            session_left: 0,
            last: None,
            bookmarks: Vec::new(),
            generated: 0,
        }
    }

    /// The visits generated so far.
    pub fn generated(&self) -> usize {
        self.generated
    }

    /// Generates the next transaction — `batch` visits: 1 is a browser
    /// recording as it goes, more an import — or `None` when every visit
    /// is generated.
    pub fn next_tx(
        &mut self,
        store: &Store,
        batch: usize,
    ) -> factlite::Result<Option<factlite::TxReport>> {
        if self.generated >= self.config.visits {
            return Ok(None);
        }
        let mut tx = TxData::new();
        let mut page_tempids: HashMap<(usize, usize), String> = HashMap::new();
        let count = batch.max(1).min(self.config.visits - self.generated);
        for _ in 0..count {
            tx = self.visit(tx, &mut page_tempids);
        }
        let report = store.transact(tx)?;
        self.settle(&report.tempids);
        Ok(Some(report))
    }

    /// Replaces the pending references with the ids the transaction gave.
    fn settle(&mut self, tempids: &factlite::IndexMap<String, i64>) {
        let settle = |reference: &mut Reference| {
            if let Some(id) = reference.resolve(tempids) {
                *reference = Reference::Id(id);
            }
        };
        self.session.iter_mut().for_each(settle);
        if let Some((reference, _, _)) = &mut self.last {
            settle(reference);
        }
        self.bookmarks.iter_mut().for_each(|(_, _, b)| settle(b));
    }

    /// Adds one visit (and what comes with it: a new session, the page, a
    /// bookmark added or removed) to `tx`.
    fn visit(&mut self, mut tx: TxData, pages: &mut HashMap<(usize, usize), String>) -> TxData {
        let n = self.generated;
        self.generated += 1;
        if self.session_left == 0 {
            // A new session, a while after the last one.
            self.clock += Duration::from_secs(self.rng.below(2 * self.session_gap) as u64);
            self.session_left = 1 + self.rng.below(40);
            let name = format!("session{n}");
            tx = tx.entity(
                Entity::new()
                    .tempid(&name)
                    .set(":session/started", self.clock),
            );
            self.session = Some(Reference::Pending(name));
            self.last = None;
        } else {
            self.clock += Duration::from_secs(5 + self.rng.below(300) as u64);
        }
        self.session_left -= 1;

        let roll = self.rng.below(100);
        let (transition, site, page_index, from) = match &self.last {
            Some((from, site, page)) if roll < 6 => {
                (Transition::Reload, *site, *page, Some(from.clone()))
            }
            Some((from, site, _)) if roll < 76 => {
                let site = if self.rng.chance(0.7) {
                    *site
                } else {
                    self.sites.draw(&mut self.rng)
                };
                (
                    Transition::Link,
                    site,
                    self.pages.draw(&mut self.rng),
                    Some(from.clone()),
                )
            }
            _ if roll >= 90 && !self.bookmarks.is_empty() => {
                let (site, page, _) = &self.bookmarks[self.rng.below(self.bookmarks.len())];
                (Transition::Bookmark, *site, *page, None)
            }
            _ => {
                let site = self.sites.draw(&mut self.rng);
                (
                    Transition::Typed,
                    site,
                    if self.rng.chance(0.6) {
                        0
                    } else {
                        self.pages.draw(&mut self.rng)
                    },
                    None,
                )
            }
        };

        let page_name = match pages.get(&(site, page_index)) {
            Some(name) => name.clone(),
            None => {
                let name = format!("page{n}");
                let (url, title) = page(site, page_index);
                tx = tx.entity(
                    Entity::new()
                        .tempid(&name)
                        .set(":page/url", url)
                        .set(":page/title", title),
                );
                pages.insert((site, page_index), name.clone());
                name
            }
        };
        let visit_name = format!("visit{n}");
        let mut visit = Entity::new()
            .tempid(&visit_name)
            .set(":visit/page", TempId(&page_name))
            .set(":visit/at", self.clock)
            .set(":visit/transition", transition.keyword());
        visit = match &self.session {
            Some(Reference::Id(id)) => visit.set(":visit/session", *id),
            Some(Reference::Pending(name)) => visit.set(":visit/session", TempId(name)),
            None => visit,
        };
        visit = match from {
            Some(Reference::Id(id)) => visit.set(":visit/from", id),
            Some(Reference::Pending(name)) => visit.set(":visit/from", TempId(name)),
            None => visit,
        };
        tx = tx.entity(visit);
        self.last = Some((Reference::Pending(visit_name), site, page_index));

        // Now and then the user bookmarks the page, or removes a bookmark.
        if self.rng.chance(0.01)
            && !self
                .bookmarks
                .iter()
                .any(|(s, p, _)| (*s, *p) == (site, page_index))
        {
            let name = format!("bookmark{n}");
            let folder = FOLDERS[self.rng.below(FOLDERS.len())];
            let (_, title) = page(site, page_index);
            tx = tx.entity(
                Entity::new()
                    .tempid(&name)
                    .set(":bookmark/page", TempId(&page_name))
                    .set(":bookmark/folder", folder)
                    .set(":bookmark/title", title)
                    .set(":bookmark/added", self.clock),
            );
            self.bookmarks
                .push((site, page_index, Reference::Pending(name)));
        } else if self.rng.chance(0.002) && !self.bookmarks.is_empty() {
            let index = self.rng.below(self.bookmarks.len());
            if let (_, _, Reference::Id(id)) = self.bookmarks[index] {
                self.bookmarks.swap_remove(index);
                tx = tx.retract_entity(id);
            }
        }
        tx
    }
}

/// A reader of the history: a feature that owns a vocabulary (its own
/// attributes, installed when it arrives) and the views it reads.
pub struct Consumer {
    /// Its vocabulary's name.
    pub name: &'static str,
    /// Its own attributes, beside the core's.
    pub attributes: &'static str,
    /// Its views.
    pub views: &'static [View],
}

/// A materialized view a consumer reads.
pub struct View {
    /// Its name: its table is `"view_NAME"`.
    pub name: &'static str,
    /// Its query.
    pub query: &'static str,
    /// The rules its query takes (its `:args`), if any.
    pub rules: Option<&'static str>,
}

impl View {
    /// The view's query as EDN.
    pub fn parsed_query(&self) -> factlite::Result<factlite::Value> {
        Ok(factlite::edn::parse(self.query)?)
    }

    /// The inputs its query takes after `$`: its rules, or none.
    pub fn args(&self) -> factlite::Result<Vec<factlite::Value>> {
        self.rules
            .iter()
            .map(|rules| Ok(factlite::edn::parse(rules)?))
            .collect()
    }
}

/// The rule "how did I get here": the visits a visit came from, back to
/// the start of its chain.
pub const CAME_FROM: &str = "[[(came-from ?v ?f) [?v :visit/from ?f]]
                              [(came-from ?v ?f) [?v :visit/from ?m] (came-from ?m ?f)]]";

/// The history list: every visit with its time, URL and title.
pub const HISTORY_LIST: Consumer = Consumer {
    name: ":consumer/history-list",
    attributes: "[]",
    views: &[View {
        name: "history-list",
        query: "[:find ?v ?at ?url ?title :where [?v :visit/at ?at] [?v :visit/page ?p]
          [?p :page/url ?url] [?p :page/title ?title]]",
        rules: None,
    }],
};

/// Top sites: visits per URL, most visited first (the `:order-by` gives
/// the view's table an index in that order, so the top ten are read off
/// it). Its vocabulary brings an attribute of its own for the core's pages
/// (`:top-sites/hidden`, for the pages the user hides), installed beside
/// them with no migration.
pub const TOP_SITES: Consumer = Consumer {
    name: ":consumer/top-sites",
    attributes: "[{:db/ident :top-sites/hidden :db/valueType :db.type/boolean
                   :db/cardinality :db.cardinality/one}]",
    views: &[View {
        name: "top-sites",
        query: "[:find ?url (count ?v) :where [?v :visit/page ?p] [?p :page/url ?url]
          :order-by (desc (count ?v)) ?url]",
        rules: None,
    }],
};

/// The address bar: frecency per page, which suggestions are ordered by
/// (the view's table is indexed by it, best first).
pub const ADDRESS_BAR: Consumer = Consumer {
    name: ":consumer/address-bar",
    attributes: "[]",
    views: &[View {
        name: "frecency",
        query: "[:find ?url ?title (sum ?w) :with ?v
          :where [?v :visit/page ?p] [?v :visit/at ?at] [?v :visit/transition ?t]
                 [(history/visit-weight ?at ?t) ?w] [?p :page/url ?url] [?p :page/title ?title]
          :order-by (desc (sum ?w)) ?url]",
        rules: None,
    }],
};

/// "How did I get here": every visit with the visits that led to it.
pub const TRAIL: Consumer = Consumer {
    name: ":consumer/trail",
    attributes: "[]",
    views: &[View {
        name: "came-from",
        query: "[:find ?v ?f :in $ % :where (came-from ?v ?f)]",
        rules: Some(CAME_FROM),
    }],
};

/// The bookmarks menu: bookmarks per folder.
pub const BOOKMARKS: Consumer = Consumer {
    name: ":consumer/bookmarks",
    attributes: "[]",
    views: &[
        View {
            name: "bookmark-folders",
            query: "[:find ?folder (count ?b) :where [?b :bookmark/folder ?folder]]",
            rules: None,
        },
        View {
            name: "bookmarks",
            query: "[:find ?folder ?title ?url :where [?b :bookmark/folder ?folder]
              [?b :bookmark/title ?title] [?b :bookmark/page ?p] [?p :page/url ?url]]",
            rules: None,
        },
    ],
};

/// Every consumer, in the order the example installs them.
pub const CONSUMERS: [&Consumer; 5] = [&HISTORY_LIST, &TOP_SITES, &ADDRESS_BAR, &TRAIL, &BOOKMARKS];

/// The address bar's suggestions for what the user typed: pages whose
/// host or title starts with it, best frecency first — one SQL statement
/// over the frecency view's table.
pub const SUGGESTIONS: &str = r#"SELECT url, sum_w FROM "view_frecency"
    WHERE substr(url, 9, length(?1)) = ?1 OR substr(title, 1, length(?1)) = ?1
    ORDER BY sum_w DESC, url LIMIT 5"#;

/// Rows of an SQL statement (over the views' tables, say), each column as
/// text.
pub fn sql_rows(
    connection: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<Vec<String>>> {
    let mut statement = connection.prepare_cached(sql)?;
    let columns = statement.column_count();
    let rows = statement.query_map(params, |row| {
        (0..columns)
            .map(|i| {
                Ok(match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    other => format!("{other:?}"),
                })
            })
            .collect()
    })?;
    rows.collect()
}

/// Registers the Rust functions the read models call: frecency's weight
/// of a visit, its age counted back from `now`. Functions live in the
/// process, so every program that opens the store registers them.
pub fn register_functions(store: &Store, now: SystemTime) -> factlite::Result<()> {
    store.register_function(
        "history/visit-weight",
        move |at: SystemTime, transition: Keyword| visit_weight(now, at, &transition.name),
    )
}

impl Consumer {
    /// Installs the consumer on a store holding the core vocabulary: its
    /// vocabulary and its views, no migration of anything else.
    pub fn install(&self, store: &Store) -> factlite::Result<()> {
        store.ensure_vocabulary(&Vocabulary::new(self.name, 1, self.attributes)?)?;
        for view in self.views {
            store.materialize(view.name, &view.parsed_query()?, &view.args()?)?;
        }
        Ok(())
    }

    /// Removes the consumer: drops its views, leaves every event (and its
    /// vocabulary's record, a fact of the past).
    pub fn remove(&self, store: &Store) -> factlite::Result<()> {
        for view in self.views {
            store.drop_view(view.name)?;
        }
        Ok(())
    }
}
