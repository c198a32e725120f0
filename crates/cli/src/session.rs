//! A REPL session: one open store, the view of time queries read (now, as
//! of, since, history), the output mode and the timer.
//! [`Session::execute`] runs one statement — a query, transaction data or a
//! dot command — and returns the text to print; the interactive loop, `-e`,
//! scripts and `.read` all go through it, so they behave alike.

use std::path::{Path, PathBuf};
use std::time::Instant;

use factlite::edn::{self, Value};
use factlite::{Db, Entid, Store, TxReport};

use crate::commands;
use crate::error::{CliError, Located, Result};
use crate::input;
use crate::interrupt;
use crate::render::{self, Mode, TableStyle};

/// Which datoms queries see (`.now`, `.as-of`, `.since`, `.history`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeView {
    /// The current state.
    Now,
    /// The state right after a transaction.
    AsOf(Entid),
    /// What was asserted after a transaction and still holds.
    Since(Entid),
    /// Every assertion and retraction.
    History,
}

/// What a statement produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Text to print (possibly empty).
    Text(String),
    /// `.quit`: the session ends.
    Quit,
}

/// Options fixed for the whole session.
#[derive(Clone, Copy, Debug)]
pub struct SessionConfig {
    /// How tables print (rows shown, colour).
    pub table: TableStyle,
    /// Whether a long import may draw a progress bar on stderr.
    pub progress: bool,
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            table: TableStyle::default(),
            progress: true,
        }
    }
}

/// One REPL session over one store.
pub struct Session {
    pub(crate) store: Store,
    pub(crate) location: Option<PathBuf>,
    pub(crate) time: TimeView,
    pub(crate) mode: Mode,
    pub(crate) timer: bool,
    pub(crate) config: SessionConfig,
}

impl Session {
    /// A session on a database file, created if missing.
    pub fn open(path: &Path, config: SessionConfig) -> Result<Session> {
        Ok(Session::on_store(
            Store::open(path)?,
            Some(path.to_path_buf()),
            config,
        ))
    }

    /// A session on a new in-memory database.
    pub fn in_memory(config: SessionConfig) -> Result<Session> {
        Ok(Session::on_store(Store::open_in_memory()?, None, config))
    }

    fn on_store(store: Store, location: Option<PathBuf>, config: SessionConfig) -> Session {
        interrupt::watch(&store);
        Session {
            store,
            location,
            time: TimeView::Now,
            mode: Mode::Table,
            timer: false,
            config,
        }
    }

    /// Replaces the open store (`.open`); the view of time goes back to now.
    pub(crate) fn switch_to(&mut self, path: &Path) -> Result<()> {
        let store = Store::open(path)?;
        interrupt::watch(&store);
        self.store = store;
        self.location = Some(path.to_path_buf());
        self.time = TimeView::Now;
        Ok(())
    }

    /// The open store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The database file, or `None` in memory.
    pub fn location(&self) -> Option<&Path> {
        self.location.as_deref()
    }

    /// How results print.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Sets how results print.
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// The view of time queries read.
    pub fn time(&self) -> TimeView {
        self.time
    }

    /// The prompt: `factlite> `, naming the view of time when it is not now.
    pub fn prompt(&self) -> String {
        match self.time {
            TimeView::Now => "factlite> ".to_string(),
            TimeView::AsOf(tx) => format!("factlite(as-of {tx})> "),
            TimeView::Since(tx) => format!("factlite(since {tx})> "),
            TimeView::History => "factlite(history)> ".to_string(),
        }
    }

    /// The snapshot queries read now.
    pub(crate) fn db(&self) -> Result<Db> {
        let db = self.store.db()?;
        Ok(match self.time {
            TimeView::Now => db,
            TimeView::AsOf(tx) => db.as_of(tx),
            TimeView::Since(tx) => db.since(tx),
            TimeView::History => db.history(),
        })
    }

    /// Runs one statement: a dot command, or EDN forms (queries and
    /// transaction data), each run in turn. With `.timer on` the time is
    /// added after the output.
    pub fn execute(&mut self, statement: &str) -> Result<Outcome> {
        interrupt::clear();
        let started = Instant::now();
        // `.timer on` and `.timer off` themselves are not timed.
        let timer_was_on = self.timer;
        let trimmed = statement.trim();
        let outcome = if trimmed.starts_with('.') {
            commands::run(self, trimmed)
        } else {
            self.run_forms(trimmed).map(Outcome::Text)
        };
        let outcome = outcome.map_err(|error| match error {
            CliError::Factlite(_) if interrupt::was_interrupted() => CliError::Interrupted,
            other => other,
        })?;
        Ok(match outcome {
            Outcome::Text(mut text) if timer_was_on && self.timer => {
                let elapsed = started.elapsed().as_secs_f64() * 1000.0;
                text.push_str(&format!("time: {elapsed:.3} ms\n"));
                Outcome::Text(text)
            }
            other => other,
        })
    }

    /// Runs the statements of a script (`-e`, stdin, `.read`), stopping at
    /// the first error, which says where it happened. `emit` gets each
    /// statement's output as soon as it is ready.
    pub fn run_script(
        &mut self,
        source: &str,
        script: &str,
        emit: &mut dyn FnMut(&str),
    ) -> std::result::Result<Outcome, Box<Located>> {
        for statement in input::statements(script) {
            match self.execute(&statement.text) {
                Ok(Outcome::Text(text)) => emit(&text),
                Ok(Outcome::Quit) => return Ok(Outcome::Quit),
                Err(error) => {
                    return Err(Box::new(Located {
                        source: source.to_string(),
                        line: statement.line,
                        error,
                    }))
                }
            }
        }
        Ok(Outcome::Text(String::new()))
    }

    /// Runs the EDN forms of a statement in turn.
    fn run_forms(&mut self, text: &str) -> Result<String> {
        let mut out = String::new();
        for form in edn::parse_all(text)? {
            out.push_str(&self.run_form(&form)?);
        }
        Ok(out)
    }

    /// Runs one EDN form: a query, or a vector of transaction data.
    fn run_form(&mut self, form: &Value) -> Result<String> {
        if render::is_query(form) {
            self.query(form)
        } else if matches!(form, Value::Vector(_)) {
            let report = self.store.transact(form)?;
            Ok(tx_summary(&report))
        } else {
            Err(CliError::NotAStatement(format!(
                "expected a query ([:find ...] or {{:find ...}}), a vector of transaction data or a .command, found {} {form}",
                article(form.kind_name())
            )))
        }
    }

    /// Runs a query and prints its result in the session's mode.
    pub(crate) fn query(&self, query: &Value) -> Result<String> {
        let result = self.db()?.q(query, &self.query_inputs(query)?)?.into_edn();
        Ok(render::render(
            &result,
            &render::columns(query),
            self.mode,
            &self.config.table,
        ))
    }

    /// The inputs for a query's `:in`: the store's installed rules for `%`
    /// (a query that calls installed rules without naming `%` gets them from
    /// the store itself). Any other input is left out, and the query reports
    /// the missing argument.
    pub(crate) fn query_inputs(&self, query: &Value) -> Result<Vec<Value>> {
        let names_rules = render::input_names(query)
            .iter()
            .any(|name| name.to_string() == "%");
        Ok(if names_rules {
            vec![self.store.rules()?]
        } else {
            Vec::new()
        })
    }
}

/// "a" or "an" before a kind name.
fn article(kind: &str) -> String {
    let vowel = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {kind}", if vowel { "an" } else { "a" })
}

/// A transaction report in one or two lines: the transaction, how many
/// datoms were asserted and retracted, and the first tempids.
pub fn tx_summary(report: &TxReport) -> String {
    // The transaction's own datoms (its instant) are not counted.
    let datoms = report.datoms.iter().filter(|d| d.e != report.tx);
    let (asserted, retracted) = datoms.fold((0, 0), |(added, removed), datom| {
        if datom.added {
            (added + 1, removed)
        } else {
            (added, removed + 1)
        }
    });
    let noun = if asserted == 1 { "datom" } else { "datoms" };
    let mut out = format!(
        "transaction {}: {asserted} {noun} asserted, {retracted} retracted\n",
        report.tx
    );
    if !report.tempids.is_empty() {
        let shown: Vec<String> = report
            .tempids
            .iter()
            .take(5)
            .map(|(name, id)| format!("{} {id}", Value::String(name.clone())))
            .collect();
        let more = report.tempids.len().saturating_sub(shown.len());
        let rest = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        out.push_str(&format!("tempids: {}{rest}\n", shown.join(", ")));
    }
    out
}
