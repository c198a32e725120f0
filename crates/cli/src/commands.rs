//! The dot commands: [`COMMANDS`] lists them (for `.help` and tab
//! completion) and [`run`] carries one out on a session, giving back what
//! to print ([`Printed`]) for the session to show in its mode.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use factlite::edn::{self, Keyword, Value};
use factlite::{Db, Entid, QueryResult, SqlLiteral};
use factlite_core::bootstrap::FIRST_USER_SCHEMA_ID;
use factlite_core::Attribute;

use crate::dump::{self, DumpKind};
use crate::error::{CliError, Result, MAX_READ_DEPTH};
use crate::render::{self, Mode, Printed, Style};
use crate::session::{datom_counts, Destination, Session, TimeView};
use crate::transfer;
use crate::words::{counted, did_you_mean};

/// One dot command as `.help` shows it.
#[derive(Clone, Copy, Debug)]
pub struct Command {
    /// The name with its dot, `.schema`.
    pub name: &'static str,
    /// Its arguments as `.help` shows them.
    pub args: &'static str,
    /// What it does, in one line.
    pub help: &'static str,
}

/// Every dot command, in the order `.help` lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        name: ".help",
        args: "",
        help: "this list",
    },
    Command {
        name: ".schema",
        args: "[--all] [ATTR]",
        help: "attribute definitions as transaction data (all, or one; --all with the internal ones)",
    },
    Command {
        name: ".attrs",
        args: "[--all]",
        help: "attributes as a table: type, cardinality, uniqueness, flags (--all: with the internal ones)",
    },
    Command {
        name: ".entity",
        args: "ID|LOOKUP-REF|IDENT",
        help: "every attribute of one entity",
    },
    Command {
        name: ".pull",
        args: "PATTERN ID",
        help: "pull a pattern for one entity",
    },
    Command {
        name: ".explain",
        args: "QUERY",
        help: "the SQL a query compiles to, its parameters and SQLite's plan",
    },
    Command {
        name: ".param",
        args: "[?NAME VALUE|clear]",
        help: "give a query's :in input a value (EDN), list them, or forget them all",
    },
    Command {
        name: ".sync",
        args: "",
        help: "on a replicated node (--replicate): catch up to the log's head and show the node's position",
    },
    Command {
        name: ".timer",
        args: "on|off",
        help: "print how long each statement takes",
    },
    Command {
        name: ".timeout",
        args: "[SECONDS|off]",
        help: "stop each query after this long (:error/timeout), or show the limit",
    },
    Command {
        name: ".mode",
        args: "table|box|markdown|line|edn|json|csv|tsv",
        help: "how results print",
    },
    Command {
        name: ".headers",
        args: "on|off",
        help: "whether tables, CSV and TSV start with the column names",
    },
    Command {
        name: ".limit",
        args: "N",
        help: "show at most N rows of a result in tables and lines (0: all; 100 unless set)",
    },
    Command {
        name: ".width",
        args: "[N ...]",
        help: "the most characters each column shows in tables (0: whole; 60 unless set)",
    },
    Command {
        name: ".output",
        args: "[FILE]",
        help: "send output to FILE (without FILE: back to the screen)",
    },
    Command {
        name: ".once",
        args: "FILE",
        help: "send the next statement's output to FILE",
    },
    Command {
        name: ".import",
        args: "FILE",
        help: "transact a file: EDN transaction data (or a dump, into an empty database), JSON objects or CSV rows",
    },
    Command {
        name: ".export",
        args: "[--current] FILE [QUERY]",
        help: "write the database as a dump FILE.edn (every transaction; --current: the datoms only), or a query's result",
    },
    Command {
        name: ".dump",
        args: "[--current]",
        help: "print the database as a dump (every transaction; --current: the datoms only) that .import reads back",
    },
    Command {
        name: ".backup",
        args: "FILE",
        help: "copy the whole database file, views and all, with SQLite's online backup",
    },
    Command {
        name: ".read",
        args: "FILE",
        help: "run the statements of a script",
    },
    Command {
        name: ".bail",
        args: "on|off",
        help: "whether a script stops at its first error (on unless set)",
    },
    Command {
        name: ".echo",
        args: "on|off",
        help: "print each statement of a script before its output",
    },
    Command {
        name: ".as-of",
        args: "TX|#inst \"...\"",
        help: "query the database as it was right after transaction TX (or at an instant)",
    },
    Command {
        name: ".since",
        args: "TX|#inst \"...\"",
        help: "query only what was asserted after transaction TX (or an instant)",
    },
    Command {
        name: ".history",
        args: "",
        help: "query every assertion and retraction (patterns may bind ?added)",
    },
    Command {
        name: ".now",
        args: "",
        help: "query the current database again",
    },
    Command {
        name: ".log",
        args: "[N]",
        help: "the last N transactions (10 unless given)",
    },
    Command {
        name: ".rules",
        args: "[RULES | --remove NAME ...]",
        help: "the rules installed in the store, install rules ([[(name ?a) ...] ...]), or remove some (--remove NAME ...)",
    },
    Command {
        name: ".views",
        args: "",
        help: "materialized views: rows, reads, maintenance and its cost",
    },
    Command {
        name: ".materialize",
        args: "NAME QUERY",
        help: "keep a query's result as a view, updated by every transaction",
    },
    Command {
        name: ".view",
        args: "NAME",
        help: "read a materialized view",
    },
    Command {
        name: ".drop-view",
        args: "NAME",
        help: "remove a materialized view",
    },
    Command {
        name: ".open",
        args: "FILE",
        help: "open another database file (created if missing)",
    },
    Command {
        name: ".quit",
        args: "",
        help: "leave (Ctrl-D does too)",
    },
];

/// The commands whose argument is a file name.
pub const FILE_COMMANDS: [&str; 7] = [
    ".import", ".export", ".read", ".open", ".output", ".once", ".backup",
];

/// The commands whose argument is `on` or `off`.
pub const SWITCH_COMMANDS: [&str; 4] = [".timer", ".headers", ".bail", ".echo"];

/// What a dot command gives back.
#[derive(Debug)]
pub enum Reply {
    /// Something to print.
    Print(Printed),
    /// `.quit`: the session ends.
    Quit,
}

/// Splits `.name rest` into the name and the rest, trimmed.
fn split(statement: &str) -> (&str, &str) {
    match statement.find(char::is_whitespace) {
        Some(index) => (&statement[..index], statement[index..].trim()),
        None => (statement, ""),
    }
}

fn usage(name: &str) -> CliError {
    match COMMANDS.iter().find(|command| command.name == name) {
        Some(command) => CliError::Usage(format!("usage: {} {}", command.name, command.args)),
        None => CliError::Usage(format!(
            "unknown command {name}{}: .help lists the commands",
            did_you_mean(name, COMMANDS.iter().map(|command| command.name))
        )),
    }
}

/// Exactly one EDN form as the argument.
fn one_form(name: &str, rest: &str) -> Result<Value> {
    let mut forms = edn::parse_all(rest)?;
    match forms.len() {
        1 => Ok(forms.remove(0)),
        _ => Err(usage(name)),
    }
}

/// A file name argument: quotes around it are taken off, and a leading
/// `~/` stands for the home directory.
pub fn file_argument(name: &str, rest: &str) -> Result<PathBuf> {
    let unquoted = rest.trim_matches('"');
    if unquoted.is_empty() {
        return Err(usage(name));
    }
    Ok(expand_home(unquoted))
}

/// A path with a leading `~` (alone or before `/`) replaced by `$HOME`.
pub fn expand_home(path: &str) -> PathBuf {
    let home = std::env::var_os("HOME");
    match (path.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(format!("{}{rest}", Path::new(&home).display()))
        }
        _ => PathBuf::from(path),
    }
}

/// An `on`/`off` argument.
fn switch(name: &str, rest: &str) -> Result<bool> {
    match rest {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(usage(name)),
    }
}

/// A time limit given in seconds (`--timeout`, `.timeout`): a positive
/// number, fractions allowed.
pub fn timeout_seconds(text: &str) -> std::result::Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|seconds| *seconds > 0.0)
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .ok_or_else(|| {
            format!("{text:?} is not a time limit: give a positive number of seconds, such as 2.5")
        })
}

/// Whether an argument list starts with the flag `flag` (`--all`), and
/// the rest after it.
fn flag<'r>(rest: &'r str, flag: &str) -> (bool, &'r str) {
    match rest.strip_prefix(flag) {
        Some(after) if after.is_empty() || after.starts_with(char::is_whitespace) => {
            (true, after.trim())
        }
        _ => (false, rest),
    }
}

fn nothing() -> Result<Reply> {
    Ok(Reply::Print(Printed::Nothing))
}

/// Carries out a dot command.
pub fn run(session: &mut Session, statement: &str) -> Result<Reply> {
    let (name, rest) = split(statement);
    let printed = match name {
        ".help" => Printed::message(help()),
        ".quit" | ".exit" => return Ok(Reply::Quit),
        ".schema" => schema(session, rest)?,
        ".attrs" => attrs(session, rest)?,
        ".entity" => {
            let entity = one_form(name, rest)?;
            let pulled = session.db()?.pull(&edn::parse("[*]")?, &entity)?;
            Printed::Value(idents_as_keywords(session, pulled)?)
        }
        ".pull" => {
            let forms = edn::parse_all(rest)?;
            let [pattern, entity] = forms.as_slice() else {
                return Err(usage(name));
            };
            let pulled = session.db()?.pull(pattern, entity)?;
            Printed::Value(idents_as_keywords(session, pulled)?)
        }
        ".explain" => explain(session, &one_form(name, rest)?)?,
        ".param" => param(session, rest)?,
        ".sync" => {
            if !rest.is_empty() {
                return Err(usage(name));
            }
            let Some(node) = session.replica.clone() else {
                return Err(CliError::Usage(
                    ".sync is for a replicated node: open the file with --replicate URLS --stream NAME"
                        .to_string(),
                ));
            };
            let position = node.sync_latest(std::time::Duration::from_secs(30))?;
            let tx = node.db()?.basis_tx();
            Printed::Report {
                text: format!("position {position}, transaction {tx}\n"),
                json: serde_json::json!({ "position": position, "tx": tx }),
            }
        }
        ".timer" => {
            session.timer = switch(name, rest)?;
            return nothing();
        }
        ".timeout" => match rest {
            "" => Printed::message(match session.timeout {
                Some(limit) => format!("queries stop after {} s\n", limit.as_secs_f64()),
                None => "queries have no time limit\n".to_string(),
            }),
            "off" => {
                session.timeout = None;
                return nothing();
            }
            seconds => {
                session.timeout = Some(timeout_seconds(seconds).map_err(CliError::Usage)?);
                return nothing();
            }
        },
        ".headers" => {
            session.style.headers = switch(name, rest)?;
            return nothing();
        }
        ".bail" => {
            session.bail = switch(name, rest)?;
            return nothing();
        }
        ".echo" => {
            session.echo = switch(name, rest)?;
            return nothing();
        }
        ".mode" => {
            session.mode = Mode::from_name(rest).ok_or_else(|| usage(name))?;
            return nothing();
        }
        ".limit" => {
            let limit: usize = rest.parse().map_err(|_| usage(name))?;
            session.style.limit = (limit > 0).then_some(limit);
            return nothing();
        }
        ".width" => {
            session.style.widths = rest
                .split_whitespace()
                .map(|width| width.parse().map_err(|_| usage(name)))
                .collect::<Result<_>>()?;
            return nothing();
        }
        ".output" | ".once" => {
            if rest.is_empty() && name == ".output" {
                session.destination = Destination::Stdout;
                return nothing();
            }
            let path = file_argument(name, rest)?;
            session.check_not_the_database(&path)?;
            let file = std::fs::File::create(&path).map_err(|error| CliError::Io {
                path: path.clone(),
                error,
            })?;
            session.destination = Destination::File {
                path,
                file,
                once: name == ".once",
            };
            return nothing();
        }
        ".import" => {
            let path = file_argument(name, rest)?;
            let progress = session.config.progress;
            let summary = transfer::import_file(session.store(), &path, progress)?;
            Printed::Report {
                text: summary.to_string(),
                json: serde_json::json!({
                    "imported": summary.path.display().to_string(),
                    "datoms": summary.datoms,
                    "transactions": summary.transactions,
                    "seconds": summary.elapsed.as_secs_f64(),
                }),
            }
        }
        ".export" => export(session, rest)?,
        ".dump" => {
            let (current, rest) = flag(rest, "--current");
            if !rest.is_empty() {
                return Err(usage(name));
            }
            let kind = dump_kind(current);
            let db = dump_snapshot(session, kind)?;
            session.with_output(|out, destination| {
                dump::write_dump(&db, kind, out, destination).map(|_| ())
            })?;
            Printed::Nothing
        }
        ".backup" => {
            let path = file_argument(name, rest)?;
            session.check_not_the_database(&path)?;
            session.store().backup_to(&path)?;
            Printed::Report {
                text: format!("backed up to {}\n", path.display()),
                json: serde_json::json!({ "backup": path.display().to_string() }),
            }
        }
        ".read" => {
            let path = file_argument(name, rest)?;
            if session.read_depth >= MAX_READ_DEPTH {
                return Err(CliError::ReadTooDeep { path });
            }
            let script = std::fs::File::open(&path).map_err(|error| CliError::Io {
                path: path.clone(),
                error,
            })?;
            let source = path.display().to_string();
            session.read_depth += 1;
            let end = session.run_script(&source, std::io::BufReader::new(script));
            session.read_depth -= 1;
            let end = end.map_err(CliError::Script)?;
            if end.quit {
                return Ok(Reply::Quit);
            }
            Printed::Nothing
        }
        ".as-of" => {
            session.time = TimeView::AsOf(tx_argument(session, name, rest)?);
            return nothing();
        }
        ".since" => {
            session.time = TimeView::Since(tx_argument(session, name, rest)?);
            return nothing();
        }
        ".history" => {
            session.time = TimeView::History;
            return nothing();
        }
        ".now" => {
            session.time = TimeView::Now;
            return nothing();
        }
        ".log" => {
            let count = if rest.is_empty() {
                10
            } else {
                rest.parse().map_err(|_| usage(name))?
            };
            log(session, count)?
        }
        ".rules" => rules(session, rest)?,
        ".views" => views(session)?,
        ".materialize" => materialize(session, rest)?,
        ".view" => {
            let views = session.store().views()?;
            let Some(info) = views.iter().find(|info| info.name == rest) else {
                return Err(CliError::Usage(format!(
                    "no view named {rest:?}{}: .views lists them",
                    did_you_mean(rest, views.iter().map(|info| info.name.as_str()))
                )));
            };
            Printed::Result {
                result: session.store().view(&info.name)?.into_edn(),
                columns: render::columns(&edn::parse(&info.query)?),
            }
        }
        ".drop-view" => {
            if rest.is_empty() {
                return Err(usage(name));
            }
            session.store().drop_view(rest)?;
            Printed::message(format!("dropped {rest}\n"))
        }
        ".open" => {
            let path = file_argument(name, rest)?;
            session.switch_to(&path)?;
            Printed::message(format!("opened {}\n", path.display()))
        }
        _ => return Err(usage(name)),
    };
    Ok(Reply::Print(printed))
}

fn help() -> String {
    let width = COMMANDS
        .iter()
        .map(|command| command.name.len() + command.args.len() + 1)
        .max()
        .unwrap_or(0);
    let mut out = String::from(
        "Type a query ([:find ...] or {:find ...}) or a vector of transaction data;\n\
         input goes on over several lines until its brackets balance.\n",
    );
    for command in COMMANDS {
        let usage = format!("{} {}", command.name, command.args);
        let _ = writeln!(out, "  {usage:width$}  {}", command.help);
    }
    out
}

/// Whether an attribute is one of factlite's own (rules, views,
/// vocabularies), which `.attrs`, `.schema` and completion leave out
/// unless asked.
pub fn is_internal(ident: &Keyword) -> bool {
    ident.namespace.as_deref().is_some_and(|namespace| {
        namespace == "factlite"
            || namespace.starts_with("factlite.")
            || namespace.starts_with("db.vocabulary")
    })
}

/// The attributes users define (not the built-in `:db/...` ones; the
/// internal `:factlite.*` ones only with `all`), by ident.
fn user_attributes(session: &Session, all: bool) -> Result<Vec<Attribute>> {
    let schema = session.store().schema()?;
    let mut attributes: Vec<Attribute> = schema
        .attributes()
        .filter(|attribute| attribute.id >= FIRST_USER_SCHEMA_ID)
        .filter(|attribute| all || !is_internal(&attribute.ident))
        .cloned()
        .collect();
    attributes.sort_by(|a, b| a.ident.cmp(&b.ident));
    Ok(attributes)
}

/// An attribute's definition as the entity map that would install it.
pub fn definition(attribute: &Attribute) -> Value {
    let mut map = indexmap::IndexMap::new();
    let key = |name: &str| Value::keyword(&format!("db/{name}"));
    map.insert(key("ident"), Value::Keyword(attribute.ident.clone()));
    map.insert(
        key("valueType"),
        Value::Keyword(attribute.value_type.ident()),
    );
    map.insert(
        key("cardinality"),
        Value::Keyword(attribute.cardinality.ident()),
    );
    if let Some(unique) = attribute.unique {
        map.insert(key("unique"), Value::Keyword(unique.ident()));
    }
    for (name, flag) in [
        ("index", attribute.index),
        ("isComponent", attribute.is_component),
        ("noHistory", attribute.no_history),
        ("fulltext", attribute.fulltext),
    ] {
        if flag {
            map.insert(key(name), Value::Boolean(true));
        }
    }
    if let Some(doc) = &attribute.doc {
        map.insert(key("doc"), Value::String(doc.clone()));
    }
    Value::Map(map)
}

fn schema(session: &Session, rest: &str) -> Result<Printed> {
    let (all, rest) = flag(rest, "--all");
    let attributes = user_attributes(session, all)?;
    if rest.is_empty() {
        return Ok(Printed::Value(Value::Vector(
            attributes.iter().map(definition).collect(),
        )));
    }
    let wanted = one_form(".schema", rest)?;
    let attribute = attributes
        .iter()
        .find(|attribute| Value::Keyword(attribute.ident.clone()) == wanted)
        .ok_or_else(|| {
            let idents: Vec<String> = attributes
                .iter()
                .map(|attribute| Value::Keyword(attribute.ident.clone()).to_string())
                .collect();
            CliError::Usage(format!(
                "no attribute {wanted}{}: .attrs lists them",
                did_you_mean(&wanted.to_string(), idents.iter().map(String::as_str))
            ))
        })?;
    Ok(Printed::Value(definition(attribute)))
}

fn attrs(session: &Session, rest: &str) -> Result<Printed> {
    let (all, rest) = flag(rest, "--all");
    if !rest.is_empty() {
        return Err(usage(".attrs"));
    }
    let rows: Vec<Vec<Value>> = user_attributes(session, all)?
        .iter()
        .map(|attribute| {
            let flags: Vec<&str> = [
                ("index", attribute.index),
                ("component", attribute.is_component),
                ("no-history", attribute.no_history),
                ("fulltext", attribute.fulltext),
            ]
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect();
            vec![
                Value::Keyword(attribute.ident.clone()),
                Value::String(attribute.value_type.name().to_string()),
                Value::String(attribute.cardinality.name().to_string()),
                Value::String(
                    attribute
                        .unique
                        .map_or("", |unique| unique.name())
                        .to_string(),
                ),
                Value::String(flags.join(" ")),
            ]
        })
        .collect();
    let names = ["attribute", "type", "cardinality", "unique", "flags"].map(String::from);
    Ok(Printed::Rows {
        names: names.to_vec(),
        rows,
    })
}

/// Every ident of the store, by entity id.
fn idents(session: &Session) -> Result<HashMap<Entid, Keyword>> {
    let schema = session.store().schema()?;
    Ok(schema
        .idents()
        .map(|(ident, id)| (id, ident.clone()))
        .collect())
}

/// A pulled entity with every `{:db/id N}` that names an ident (a value
/// type, an enum value) shown as that ident's keyword.
fn idents_as_keywords(session: &Session, pulled: Value) -> Result<Value> {
    fn replace(mut value: Value, idents: &HashMap<Entid, Keyword>) -> Value {
        match &mut value {
            Value::Map(entries) => {
                if let [(key, Value::Integer(id))] = entries.iter().collect::<Vec<_>>().as_slice() {
                    if key
                        .as_keyword()
                        .is_some_and(|k| k.qualified_name() == "db/id")
                    {
                        if let Some(ident) = idents.get(id) {
                            return Value::Keyword(ident.clone());
                        }
                    }
                }
                for item in entries.values_mut() {
                    *item = replace(item.take(), idents);
                }
            }
            Value::Vector(items) => {
                for item in items.iter_mut() {
                    *item = replace(item.take(), idents);
                }
            }
            _ => {}
        }
        value
    }
    Ok(replace(pulled, &idents(session)?))
}

/// `.param`: lists the parameters, forgets them (`clear`), or sets one.
fn param(session: &mut Session, rest: &str) -> Result<Printed> {
    if rest.is_empty() {
        let rows = session
            .params
            .iter()
            .map(|(name, value)| vec![Value::symbol(name), value.clone()])
            .collect();
        return Ok(Printed::Rows {
            names: vec!["input".to_string(), "value".to_string()],
            rows,
        });
    }
    if rest == "clear" {
        session.params.clear();
        return Ok(Printed::Nothing);
    }
    let forms = edn::parse_all(rest)?;
    let [name, value] = forms.as_slice() else {
        return Err(usage(".param"));
    };
    session.set_param(name, value.clone())?;
    Ok(Printed::Nothing)
}

/// A transaction `.as-of` or `.since` names: a transaction id, or an
/// instant (the last transaction at or before it). As in Datomic, any
/// point in time will do: an id past the newest transaction, or an instant
/// after it, is the present; an instant before every transaction of the
/// store is its bootstrap transaction (as of it, no data yet; since it,
/// all of it). Only an id below every transaction's names none.
fn tx_argument(session: &Session, name: &str, rest: &str) -> Result<Entid> {
    let form = one_form(name, rest)?;
    let first = factlite_core::Partition::Tx.start();
    match &form {
        Value::Integer(tx) if *tx < first => Err(CliError::NoSuchTransaction(format!(
            "no transaction {tx}: transaction ids start at {first}; .log lists them"
        ))),
        Value::Integer(tx) => Ok(*tx),
        Value::Inst(_) => {
            let db = session.store().db()?;
            let query = "[:find (max ?tx) . :in $ ?at :where [?tx :db/txInstant ?i] [(<= ?i ?at)]]";
            match db.q_str(query, std::slice::from_ref(&form))?.into_edn() {
                Value::Integer(tx) => Ok(tx),
                _ => Ok(first),
            }
        }
        _ => Err(usage(name)),
    }
}

/// `.explain`: the SQL, its parameters (attribute ids named beside them),
/// SQLite's plan, and whether a view answers the query. Only attributes:
/// a number such as `40` may be a long value as well as the id of an enum
/// ident (`:db.type/bigint`), and a parameter does not say which.
fn explain(session: &Session, query: &Value) -> Result<Printed> {
    let inputs = session.query_inputs(query)?;
    let explanation = session.db()?.explain(query, &inputs)?;
    let schema = session.store().schema()?;
    let idents: HashMap<Entid, Keyword> = schema
        .attributes()
        .map(|attribute| (attribute.id, attribute.ident.clone()))
        .collect();
    let mut out = String::new();
    if let Some(view) = answering_view(session, query)? {
        let _ = writeln!(
            out,
            "answered from the materialized view {view} (its table \"view_{view}\"); run from scratch it would be:"
        );
    }
    let _ = writeln!(out, "{}", explanation.sql);
    for (index, param) in explanation.params.iter().enumerate() {
        let text = match param {
            SqlLiteral::Null => "NULL".to_string(),
            SqlLiteral::Integer(id) => match idents.get(id) {
                Some(ident) => format!("{id} ({})", Value::Keyword(ident.clone())),
                None => id.to_string(),
            },
            SqlLiteral::Real(float) => Value::Float(*float).to_string(),
            SqlLiteral::Text(text) => Value::String(text.clone()).to_string(),
            SqlLiteral::Blob(bytes) => format!("a blob of {}", counted(bytes.len(), "byte")),
        };
        let _ = writeln!(out, "  ?{} = {text}", index + 1);
    }
    out.push_str("plan:\n");
    for line in &explanation.query_plan {
        let _ = writeln!(out, "  {line}");
    }
    Ok(Printed::Report {
        json: serde_json::json!({
            "view": answering_view(session, query)?,
            "sql": explanation.sql,
            "params": explanation.params.iter().map(|param| format!("{param:?}")).collect::<Vec<_>>(),
            "plan": explanation.query_plan,
        }),
        text: out,
    })
}

/// The materialized view that answers a query read now: one holding the
/// same query (as the store normalizes it), when the session reads the
/// current state.
fn answering_view(session: &Session, query: &Value) -> Result<Option<String>> {
    if session.time != TimeView::Now {
        return Ok(None);
    }
    let normalized = |query: &Value| {
        factlite_query::parse_query(query)
            .ok()
            .map(|parsed| factlite_query::normalized_text(&parsed))
    };
    let Some(wanted) = normalized(query) else {
        return Ok(None);
    };
    Ok(session.store().views()?.into_iter().find_map(|info| {
        let text = edn::parse(&info.query).ok()?;
        (normalized(&text)? == wanted).then_some(info.name)
    }))
}

fn log(session: &Session, count: usize) -> Result<Printed> {
    let db = session.store().db()?;
    let query = edn::parse(&format!(
        "[:find ?tx ?instant :where [?tx :db/txInstant ?instant] :order-by (desc ?tx) :limit {count}]"
    ))?;
    let QueryResult::Relation(transactions) = db.q(&query, &[])? else {
        return Ok(Printed::Nothing);
    };
    let mut rows = Vec::new();
    for cells in transactions.rows() {
        let Some(Value::Integer(tx)) = cells.first() else {
            continue;
        };
        let datoms = db.tx_range(*tx, *tx)?;
        let (asserted, retracted) = datom_counts(*tx, &datoms);
        let mut row = cells.to_vec();
        row.push(Value::Integer(asserted as i64));
        row.push(Value::Integer(retracted as i64));
        rows.push(row);
    }
    let names = ["tx", "instant", "asserted", "retracted"].map(String::from);
    Ok(Printed::Rows {
        names: names.to_vec(),
        rows,
    })
}

fn views(session: &Session) -> Result<Printed> {
    let rows: Vec<Vec<Value>> = session
        .store()
        .views()?
        .into_iter()
        .map(|info| {
            vec![
                Value::String(info.name),
                Value::Integer(info.rows),
                Value::Integer(info.hits as i64),
                Value::Integer(info.maintained as i64),
                Value::Integer(info.rebuilds as i64),
                Value::Float((info.maintenance.as_secs_f64() * 1e6).round() / 1e3),
                Value::String(info.query),
            ]
        })
        .collect();
    let names = [
        "view",
        "rows",
        "reads",
        "maintained",
        "rebuilds",
        "maintenance ms",
        "query",
    ]
    .map(String::from);
    Ok(Printed::Rows {
        names: names.to_vec(),
        rows,
    })
}

/// `.materialize NAME QUERY`; a query with value inputs is refused here,
/// as a view holds one result for every transaction.
fn materialize(session: &Session, rest: &str) -> Result<Printed> {
    let (view, query) = split(rest);
    if view.is_empty() {
        return Err(usage(".materialize"));
    }
    let query = one_form(".materialize", query)?;
    if let Some(input) = render::input_names(&query)
        .iter()
        .map(Value::to_string)
        .find(|name| !name.starts_with('$') && name != "%")
    {
        return Err(CliError::Usage(format!(
            "a view's query may take only rules (%) as inputs, and {input} is a value: put the value in the query instead"
        )));
    }
    let info = session
        .store()
        .materialize(view, &query, &session.query_inputs(&query)?)?;
    Ok(Printed::Report {
        text: format!(
            "materialized {}: {}\n",
            info.name,
            counted(info.rows as usize, "row")
        ),
        json: serde_json::json!({ "view": info.name, "rows": info.rows }),
    })
}

/// The names of the rules in a rule set, in order, each once.
pub fn rule_names(rules: &Value) -> Vec<String> {
    let mut names: Vec<String> = rules
        .as_sequence()
        .unwrap_or_default()
        .iter()
        .filter_map(|rule| {
            Some(
                rule.as_sequence()?
                    .first()?
                    .as_sequence()?
                    .first()?
                    .to_string(),
            )
        })
        .collect();
    names.dedup();
    names
}

fn rules(session: &Session, rest: &str) -> Result<Printed> {
    if rest.is_empty() {
        return Ok(Printed::Value(session.store().rules()?));
    }
    if let Some(names) = rest.strip_prefix("--remove") {
        let names: Vec<&str> = names.split_whitespace().collect();
        if names.is_empty() {
            return Err(CliError::Usage(
                ".rules --remove takes the names of the rules to remove".to_string(),
            ));
        }
        let report = session.store().remove_rules(&names)?;
        return Ok(Printed::Report {
            text: format!(
                "transaction {}: rules removed: {}\n",
                report.tx,
                names.join(", ")
            ),
            json: serde_json::json!({ "tx": report.tx, "removed": names }),
        });
    }
    let report = session.store().install_rules(&one_form(".rules", rest)?)?;
    let names = rule_names(&session.store().rules()?);
    Ok(Printed::Report {
        text: format!(
            "transaction {}: rules installed: {}\n",
            report.tx,
            names.join(", ")
        ),
        json: serde_json::json!({ "tx": report.tx, "rules": names }),
    })
}

/// The dump `--current` asks for.
fn dump_kind(current: bool) -> DumpKind {
    if current {
        DumpKind::Current
    } else {
        DumpKind::History
    }
}

/// The snapshot a dump writes, in the session's view of time: now (also
/// under `.history`, which a history dump is), or as of a transaction.
fn dump_snapshot(session: &Session, kind: DumpKind) -> Result<Db> {
    let now = session.store().db()?;
    match (session.time, kind) {
        (TimeView::Since(_), _) => Err(CliError::Usage(
            "a dump writes a whole database, not what came after a transaction: leave .since with .now or .as-of first".to_string(),
        )),
        (TimeView::History, DumpKind::Current) => Err(CliError::Usage(
            "a dump of the current datoms writes one state of the database: leave .history with .now or .as-of first (or leave out --current for every transaction)".to_string(),
        )),
        (TimeView::AsOf(tx), _) => Ok(now.as_of(tx)),
        (TimeView::Now | TimeView::History, _) => Ok(now),
    }
}

fn export(session: &Session, rest: &str) -> Result<Printed> {
    let (current, rest) = flag(rest, "--current");
    let (file, query) = match rest.find(['[', '{']) {
        Some(index) => (
            rest[..index].trim(),
            Some(one_form(".export", &rest[index..])?),
        ),
        None => (rest, None),
    };
    let path = file_argument(".export", file)?;
    session.check_not_the_database(&path)?;
    let extension = path.extension().and_then(|ext| ext.to_str()).unwrap_or("");
    let Some(query) = &query else {
        if extension != "edn" {
            return Err(CliError::Usage(format!(
                "a dump of the database is EDN transaction data: name the file .edn, not {} (a query's result can be .json, .csv or .tsv: .export FILE QUERY)",
                path.display()
            )));
        }
        let kind = dump_kind(current);
        let db = dump_snapshot(session, kind)?;
        let io_error = |error| CliError::Io {
            path: path.clone(),
            error,
        };
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io_error)?);
        let summary = dump::write_dump(&db, kind, &mut out, &path)?;
        return Ok(Printed::Report {
            text: format!(
                "wrote {} ({} in {})\n",
                path.display(),
                counted(summary.datoms, "datom"),
                counted(summary.transactions, "transaction")
            ),
            json: serde_json::json!({
                "wrote": path.display().to_string(),
                "datoms": summary.datoms,
                "transactions": summary.transactions,
            }),
        });
    };
    if current {
        return Err(CliError::Usage(
            "--current is for a dump of the database, not a query's result".to_string(),
        ));
    }
    let mode = match extension {
        "edn" | "json" | "csv" | "tsv" => Mode::from_name(extension).unwrap_or(Mode::Edn),
        _ => {
            return Err(CliError::Usage(format!(
                "cannot write a query's result as {}: name the file .edn, .json, .csv or .tsv",
                path.display()
            )))
        }
    };
    let style = Style {
        limit: None,
        ..Style::default()
    };
    let text = session.query(query)?.text(mode, &style);
    std::fs::write(&path, &text).map_err(|error| CliError::Io {
        path: path.clone(),
        error,
    })?;
    Ok(Printed::Report {
        text: format!("wrote {}\n", path.display()),
        json: serde_json::json!({ "wrote": path.display().to_string() }),
    })
}
