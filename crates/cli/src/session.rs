//! A REPL session: one open store, the view of time queries read (now, as
//! of, since, history), the output settings (mode, headers, limit, widths,
//! where output goes), the query parameters (`.param`), the script
//! settings (`.bail`, `.echo`) and the timer. [`Session::execute`] runs one
//! statement — a query, transaction data or a dot command — and prints its
//! output; the interactive loop, `-e`, stdin scripts and `.read` all go
//! through it (scripts through [`Session::run_script`]), so they behave
//! alike.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use factlite::edn::{self, Value};
use factlite::{Db, Durability, Entid, Store, TxReport};
use factlite_core::bootstrap::DB_TX_INSTANT;
use indexmap::IndexMap;

use crate::commands::{self, Reply};
use crate::error::{Before, CliError, ErrorReport, Located, Result};
use crate::input;
use crate::interrupt;
use crate::render::{self, Mode, Printed, Style};
use crate::words::{article, counted, did_you_mean};

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

/// What a statement led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The session goes on.
    Continue,
    /// `.quit`: the session ends.
    Quit,
}

/// How a script ended without stopping at an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScriptEnd {
    /// It ran `.quit`.
    pub quit: bool,
    /// The errors printed on the way (`.bail off`).
    pub errors: usize,
}

/// Options fixed for the whole session.
#[derive(Clone, Copy, Debug)]
pub struct SessionConfig {
    /// Whether output may use colour (a terminal, and no `NO_COLOR`).
    pub color: bool,
    /// Whether a long import may draw a progress bar on stderr.
    pub progress: bool,
    /// What a commit survives, for every file the session opens
    /// (`--durability`).
    pub durability: Durability,
    /// How long a query may run at first (`--timeout`; `.timeout` changes
    /// it).
    pub timeout: Option<Duration>,
    /// Whether files are opened for reading only (`--read-only`): nothing
    /// is written to them, and transactions are refused.
    pub read_only: bool,
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            color: false,
            progress: true,
            durability: Durability::default(),
            timeout: None,
            read_only: false,
        }
    }
}

impl SessionConfig {
    /// Opens a database file as this configuration asks.
    fn open_store(&self, path: &Path) -> Result<Store> {
        if self.read_only {
            return Ok(Store::open_read_only(path)?);
        }
        let mut config = factlite::Config::default();
        config.durability = self.durability;
        Ok(Store::open_with(path, config)?)
    }
}

/// Where output goes (`.output`, `.once`).
#[derive(Debug)]
pub(crate) enum Destination {
    /// Standard output.
    Stdout,
    /// A file, for every statement or (`once`) for the next one.
    File {
        path: PathBuf,
        file: File,
        once: bool,
    },
}

/// One REPL session over one store.
pub struct Session {
    pub(crate) store: Store,
    /// The replicated node the store belongs to (`--replicate`): its
    /// transactions go through the log.
    pub(crate) replica: Option<std::sync::Arc<factlite_replica::ReplicatedStore>>,
    pub(crate) location: Option<PathBuf>,
    pub(crate) time: TimeView,
    pub(crate) mode: Mode,
    pub(crate) style: Style,
    pub(crate) timer: bool,
    pub(crate) bail: bool,
    pub(crate) echo: bool,
    /// How long each query may run (`.timeout`).
    pub(crate) timeout: Option<Duration>,
    /// The values `.param` gave, by the `:in` binding they are for.
    pub(crate) params: IndexMap<String, Value>,
    pub(crate) destination: Destination,
    /// How many times `.open` changed the store: a script counts what it
    /// committed in the store open now.
    pub(crate) generation: u64,
    /// How many `.read` scripts are running, one inside the other.
    pub(crate) read_depth: usize,
    pub(crate) config: SessionConfig,
}

impl Session {
    /// A session on a database file, created if missing.
    pub fn open(path: &Path, config: SessionConfig) -> Result<Session> {
        Ok(Session::on_store(
            config.open_store(path)?,
            Some(path.to_path_buf()),
            config,
        ))
    }

    /// A session on a node of a replicated store (`--replicate`): the
    /// file follows the log in `replica`, caught up to the log's head
    /// before the first statement; transactions go through the log.
    pub fn replicated(
        path: &Path,
        config: SessionConfig,
        mut replica: factlite_replica::Config,
    ) -> Result<Session> {
        replica.store.durability = config.durability;
        replica.store.query_timeout = config.timeout;
        let wait = replica.settle_timeout;
        let node = factlite_replica::ReplicatedStore::open(path, replica)?;
        node.sync_latest(wait)?;
        let mut session = Session::on_store(node.local().clone(), Some(path.to_path_buf()), config);
        session.replica = Some(std::sync::Arc::new(node));
        Ok(session)
    }

    /// An error when `path` is the open database's file or one SQLite
    /// keeps beside it (`-wal`, `-shm`, `-journal`): output written there
    /// would destroy the database.
    pub fn check_not_the_database(&self, path: &Path) -> Result<()> {
        let Some(location) = &self.location else {
            return Ok(());
        };
        // A file that does not exist yet is none of the database's.
        let (Ok(database), Ok(target)) =
            (std::fs::canonicalize(location), std::fs::canonicalize(path))
        else {
            return Ok(());
        };
        let is_database = ["", "-wal", "-shm", "-journal"].iter().any(|suffix| {
            let mut name = database.clone().into_os_string();
            name.push(suffix);
            name == target.as_os_str()
        });
        if is_database {
            return Err(CliError::Usage(format!(
                "{} is a file of the open database; writing there would destroy it: choose another file",
                path.display()
            )));
        }
        Ok(())
    }

    /// A session on a new in-memory database.
    pub fn in_memory(config: SessionConfig) -> Result<Session> {
        Ok(Session::on_store(Store::open_in_memory()?, None, config))
    }

    fn on_store(store: Store, location: Option<PathBuf>, config: SessionConfig) -> Session {
        interrupt::watch(&store);
        Session {
            store,
            replica: None,
            location,
            time: TimeView::Now,
            mode: Mode::Table,
            style: Style {
                color: config.color,
                ..Style::default()
            },
            timer: false,
            bail: true,
            echo: false,
            timeout: config.timeout,
            params: IndexMap::new(),
            destination: Destination::Stdout,
            generation: 0,
            read_depth: 0,
            config,
        }
    }

    /// Replaces the open store (`.open`); the view of time goes back to now.
    pub(crate) fn switch_to(&mut self, path: &Path) -> Result<()> {
        let store = self.config.open_store(path)?;
        interrupt::watch(&store);
        self.store = store;
        self.replica = None;
        self.location = Some(path.to_path_buf());
        self.time = TimeView::Now;
        self.generation += 1;
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

    /// Gives a query input a value, as `.param NAME VALUE` does: `name` is
    /// the `:in` binding (`?x`), `value` its EDN.
    pub fn set_param(&mut self, name: &Value, value: Value) -> Result<()> {
        let is_binding = match name {
            // `?x`, or a pull pattern's name (`pattern`).
            Value::Symbol(symbol) => {
                symbol.namespace.is_none()
                    && !symbol.name.starts_with('$')
                    && !matches!(symbol.name.as_str(), "%" | "_")
            }
            Value::Vector(_) => true,
            _ => false,
        };
        if !is_binding {
            return Err(CliError::Usage(format!(
                "{name} is not an input name: use the variable (or pull pattern name) of the query's :in, as in `.param ?year 1979`"
            )));
        }
        self.params.insert(name.to_string(), value);
        Ok(())
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
        let db = match self.timeout {
            Some(limit) => db.with_timeout(limit),
            None => db,
        };
        Ok(match self.time {
            TimeView::Now => db,
            TimeView::AsOf(tx) => db.as_of(tx),
            TimeView::Since(tx) => db.since(tx),
            TimeView::History => db.history(),
        })
    }

    /// Writes text where output goes now (standard output, or the file of
    /// `.output`/`.once`).
    pub(crate) fn write(&mut self, text: &str) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        match &mut self.destination {
            Destination::Stdout => {
                let mut stdout = std::io::stdout().lock();
                // A closed pipe (`factlite ... | head`) is not an error to report.
                let _ = stdout.write_all(text.as_bytes());
                let _ = stdout.flush();
                Ok(())
            }
            Destination::File { path, file, .. } => {
                file.write_all(text.as_bytes())
                    .map_err(|error| CliError::Io {
                        path: path.clone(),
                        error,
                    })
            }
        }
    }

    /// Runs `write` on where output goes now (standard output, or the file
    /// of `.output`/`.once`), buffered, with its name for errors: for output
    /// streamed as it is made (`.dump`). A closed pipe on standard output
    /// (`factlite ... | head`) ends it without an error, as [`Session::write`]
    /// does.
    pub(crate) fn with_output(
        &mut self,
        write: impl FnOnce(&mut dyn Write, &Path) -> Result<()>,
    ) -> Result<()> {
        match &mut self.destination {
            Destination::Stdout => {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                match write(&mut out, Path::new("stdout")) {
                    Err(CliError::Io { error, .. })
                        if error.kind() == std::io::ErrorKind::BrokenPipe =>
                    {
                        Ok(())
                    }
                    other => other,
                }
            }
            Destination::File { path, file, .. } => {
                let mut out = std::io::BufWriter::new(&*file);
                write(&mut out, path)
            }
        }
    }

    /// Prints what a statement gave, in the session's mode.
    pub(crate) fn show(&mut self, printed: &Printed) -> Result<()> {
        let text = printed.text(self.mode, &self.style);
        self.write(&text)
    }

    /// Prints an error on stderr: as JSON in JSON mode, else as text (red
    /// on a terminal). An interrupted statement's message starts on a line
    /// of its own, after the `^C` the terminal shows.
    pub fn print_error(&self, error: &dyn ErrorReport) {
        if self.mode == Mode::Json {
            eprintln!("{}", serde_json::json!({ "error": error.json() }));
            return;
        }
        if error.interrupted() {
            eprintln!();
        }
        if self.config.color {
            eprintln!("\x1b[31m{error}\x1b[0m");
        } else {
            eprintln!("{error}");
        }
    }

    /// Runs one statement: a dot command, or EDN forms (queries and
    /// transaction data), each run in turn, and prints its output. With
    /// `.timer on` the time is printed after the output.
    pub fn execute(&mut self, statement: &str) -> Result<Outcome> {
        interrupt::clear();
        let started = Instant::now();
        // `.timer on` and `.timer off` themselves are not timed.
        let timer_was_on = self.timer;
        let once = matches!(self.destination, Destination::File { once: true, .. });
        let result = self.run_statement(statement.trim());
        if once {
            self.destination = Destination::Stdout;
        }
        let outcome = result.map_err(|error| self.explain_error(error))?;
        if timer_was_on && self.timer && outcome == Outcome::Continue {
            let elapsed = started.elapsed().as_secs_f64() * 1000.0;
            let text = format!("time: {elapsed:.3} ms\n");
            let json = serde_json::json!({ "time_ms": elapsed });
            self.show(&Printed::Report { text, json })?;
        }
        Ok(outcome)
    }

    fn run_statement(&mut self, statement: &str) -> Result<Outcome> {
        if statement.starts_with('.') {
            return match commands::run(self, statement)? {
                Reply::Quit => Ok(Outcome::Quit),
                Reply::Print(printed) => self.show(&printed).map(|()| Outcome::Continue),
            };
        }
        for form in edn::parse_all(statement)? {
            let printed = self.run_form(&form)?;
            self.show(&printed)?;
        }
        Ok(Outcome::Continue)
    }

    /// An error as the user should see it: a cancelled statement as such,
    /// an unknown attribute or rule with the names it may have meant.
    fn explain_error(&self, error: CliError) -> CliError {
        let CliError::Factlite(inner) = &error else {
            return error;
        };
        if interrupt::was_interrupted() {
            return CliError::Interrupted;
        }
        let hint = match inner {
            factlite::Error::UnknownAttribute { attribute } => self.attribute_hint(attribute),
            factlite::Error::Query { message } => self.rule_hint(message),
            _ => String::new(),
        };
        if hint.is_empty() {
            error
        } else {
            CliError::Hinted {
                error: Box::new(error),
                hint,
            }
        }
    }

    fn attribute_hint(&self, attribute: &str) -> String {
        let Ok(schema) = self.store.schema() else {
            return String::new();
        };
        let idents: Vec<String> = schema
            .attributes()
            .map(|attribute| Value::Keyword(attribute.ident.clone()).to_string())
            .collect();
        did_you_mean(attribute, idents.iter().map(String::as_str))
    }

    /// For "rule (NAME ...) is not defined", the installed rules named
    /// like NAME.
    fn rule_hint(&self, message: &str) -> String {
        let Some((name, _)) = message
            .split_once("rule (")
            .and_then(|(_, rest)| rest.split_once(" ...) is not defined"))
        else {
            return String::new();
        };
        let names = commands::rule_names(&self.store.rules().unwrap_or(Value::Nil));
        did_you_mean(name, names.iter().map(String::as_str))
    }

    /// Runs the statements of a script (`-e`, stdin, `.read`) as it reads
    /// them, printing each one's output as it goes (after the statement
    /// itself with `.echo on`). With `.bail on` (the default) the first
    /// error stops it and is returned, saying where it happened and what
    /// was committed before it; with `.bail off` each error is printed and
    /// the script goes on. Input that cannot be read as statements (not
    /// text, or a statement that never ends: see [`input::StatementReader`])
    /// stops it either way.
    pub fn run_script(
        &mut self,
        source: &str,
        script: impl std::io::BufRead,
    ) -> std::result::Result<ScriptEnd, Box<Located>> {
        let latest_tx = |session: &Session| session.store.db().map(|db| db.basis_tx()).ok();
        let mut basis = latest_tx(self);
        let mut generation = self.generation;
        let mut errors = 0;
        for (ran, statement) in input::StatementReader::new(script).enumerate() {
            if generation != self.generation {
                generation = self.generation;
                basis = latest_tx(self);
            }
            let statement = match statement {
                Ok(statement) => statement,
                Err(error) => {
                    let line = error.line().unwrap_or(1);
                    let before = self.before(ran, basis, latest_tx(self));
                    return Err(Box::new(Located {
                        source: source.to_string(),
                        line,
                        error: CliError::Input(error),
                        before,
                    }));
                }
            };
            let echoed = if self.echo {
                self.write(&format!("{}\n", statement.text))
            } else {
                Ok(())
            };
            let latest = latest_tx(self);
            let result = echoed.and_then(|()| self.execute(&statement.text));
            match result {
                Ok(Outcome::Continue) => {}
                Ok(Outcome::Quit) => return Ok(ScriptEnd { quit: true, errors }),
                Err(error) if self.bail => {
                    let before = self.before(ran, basis, latest);
                    return Err(Box::new(Located {
                        source: source.to_string(),
                        line: statement.line,
                        error,
                        before,
                    }));
                }
                Err(error) => {
                    errors += 1;
                    self.print_error(&Located {
                        source: source.to_string(),
                        line: statement.line,
                        error,
                        before: None,
                    });
                }
            }
        }
        Ok(ScriptEnd {
            quit: false,
            errors,
        })
    }

    /// What a script that stops after `ran` statements did before: the
    /// transactions committed after `basis` up to `latest`.
    fn before(&self, ran: usize, basis: Option<Entid>, latest: Option<Entid>) -> Option<Before> {
        (ran > 0).then(|| Before {
            statements: ran,
            committed: match (basis, latest) {
                (Some(basis), Some(latest)) => self.committed_between(basis, latest),
                _ => Vec::new(),
            },
        })
    }

    /// The transactions committed after `basis` up to `latest`, oldest
    /// first.
    fn committed_between(&self, basis: Entid, latest: Entid) -> Vec<Entid> {
        let query = "[:find [?tx ...] :in $ ?after ?latest :where [?tx :db/txInstant _] [(> ?tx ?after)] [(<= ?tx ?latest)]]";
        let result = self
            .store
            .db()
            .and_then(|db| db.q_str(query, &[Value::Integer(basis), Value::Integer(latest)]))
            .map(|result| result.into_edn());
        let Ok(Value::Set(transactions)) = &result else {
            return Vec::new();
        };
        let mut ids: Vec<Entid> = transactions
            .iter()
            .filter_map(|tx| match tx {
                Value::Integer(id) => Some(*id),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Runs one EDN form: a query, or a vector of transaction data.
    fn run_form(&mut self, form: &Value) -> Result<Printed> {
        if render::is_query(form) {
            self.query(form)
        } else if matches!(form, Value::Vector(_)) {
            let report = match &self.replica {
                Some(node) => node.transact(form)?,
                None => self.store.transact(form)?,
            };
            Ok(tx_printed(&report))
        } else {
            Err(CliError::NotAStatement(format!(
                "expected a query ([:find ...] or {{:find ...}}), a vector of transaction data or a .command, found {} {form}",
                article(form.kind_name())
            )))
        }
    }

    /// Runs a query; its result prints in the session's mode.
    pub(crate) fn query(&self, query: &Value) -> Result<Printed> {
        let result = self.db()?.q(query, &self.query_inputs(query)?)?.into_edn();
        Ok(Printed::Result {
            result,
            columns: render::columns(query),
        })
    }

    /// The inputs for a query's `:in` after `$`: the store's installed
    /// rules for `%`, the `.param` values for the others (by the binding as
    /// written, or for `[?x ...]` also by `?x`). A query that calls
    /// installed rules without naming `%` gets them from the store itself.
    pub(crate) fn query_inputs(&self, query: &Value) -> Result<Vec<Value>> {
        let mut inputs = Vec::new();
        for binding in render::input_names(query) {
            let name = binding.to_string();
            if name.starts_with('$') {
                continue;
            }
            if name == "%" {
                inputs.push(self.store.rules()?);
                continue;
            }
            let value = self
                .params
                .get(&name)
                .or_else(|| collection_variable(&binding).and_then(|var| self.params.get(&var)));
            match value {
                Some(value) => {
                    check_shape(&binding, value)?;
                    inputs.push(value.clone());
                }
                None => return Err(CliError::MissingInput(name)),
            }
        }
        Ok(inputs)
    }
}

/// Refuses a `.param` value whose shape its binding cannot take: a tuple
/// binding `[?a ?b]` takes a vector of as many values, a collection
/// `[?x ...]` a vector, list or set, a relation `[[?a ?b]]` a collection of
/// such tuples.
fn check_shape(binding: &Value, value: &Value) -> Result<()> {
    let Some(parts) = binding.as_sequence() else {
        return Ok(());
    };
    let is_collection =
        |value: &Value| matches!(value, Value::Vector(_) | Value::List(_) | Value::Set(_));
    let (fits, needs) = match parts {
        [_, dots] if dots.to_string() == "..." => {
            (is_collection(value), "a vector of values".to_string())
        }
        [Value::Vector(tuple)] => (
            match value {
                Value::Vector(rows) | Value::List(rows) => rows.iter().all(|row| {
                    row.as_sequence()
                        .is_some_and(|cells| cells.len() == tuple.len())
                }),
                Value::Set(rows) => rows.iter().all(|row| {
                    row.as_sequence()
                        .is_some_and(|cells| cells.len() == tuple.len())
                }),
                _ => false,
            },
            format!("a vector of tuples of {}", counted(tuple.len(), "value")),
        ),
        tuple => (
            value
                .as_sequence()
                .is_some_and(|cells| cells.len() == tuple.len()),
            format!("a vector of {}", counted(tuple.len(), "value")),
        ),
    };
    if fits {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "the query's input {binding} takes {needs}, but its .param value is {value}"
        )))
    }
}

/// For a collection binding `[?x ...]`, its variable `?x`.
fn collection_variable(binding: &Value) -> Option<String> {
    match binding.as_sequence()? {
        [variable, dots] if dots.to_string() == "..." => Some(variable.to_string()),
        _ => None,
    }
}

/// How many of a transaction's datoms were asserted and retracted, leaving
/// out only its instant (which every transaction has): datoms a
/// transaction adds about itself count.
pub fn datom_counts<'d>(
    tx: Entid,
    datoms: impl IntoIterator<Item = &'d factlite::Datom>,
) -> (usize, usize) {
    datoms
        .into_iter()
        .filter(|datom| !(datom.e == tx && datom.a == DB_TX_INSTANT))
        .fold((0, 0), |(added, removed), datom| {
            if datom.added {
                (added + 1, removed)
            } else {
                (added, removed + 1)
            }
        })
}

/// A transaction report in one or two lines: the transaction, how many
/// datoms were asserted and retracted, and the first tempids.
pub fn tx_summary(report: &TxReport) -> String {
    let (asserted, retracted) = datom_counts(report.tx, &report.datoms);
    let mut out = format!(
        "transaction {}: {} asserted, {retracted} retracted\n",
        report.tx,
        counted(asserted, "datom")
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

/// A transaction report for printing: [`tx_summary`], and as JSON the
/// transaction, its instant, the counts and every tempid.
pub fn tx_printed(report: &TxReport) -> Printed {
    let (asserted, retracted) = datom_counts(report.tx, &report.datoms);
    let tempids: serde_json::Map<String, serde_json::Value> = report
        .tempids
        .iter()
        .map(|(name, id)| (name.clone(), serde_json::Value::from(*id)))
        .collect();
    Printed::Report {
        text: tx_summary(report),
        json: serde_json::json!({
            "tx": report.tx,
            "instant": report.instant.to_rfc3339(),
            "asserted": asserted,
            "retracted": retracted,
            "tempids": tempids,
        }),
    }
}
