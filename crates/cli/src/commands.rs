//! The dot commands: [`COMMANDS`] lists them (for `.help` and tab
//! completion) and [`run`] carries one out on a session.

use std::fmt::Write as _;
use std::path::Path;

use factlite::edn::{self, Value};
use factlite::QueryResult;
use factlite_core::bootstrap::FIRST_USER_SCHEMA_ID;
use factlite_core::Attribute;

use crate::error::{CliError, Result};
use crate::render::{self, Mode};
use crate::session::{Outcome, Session, TimeView};
use crate::transfer;

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
        args: "[ATTR]",
        help: "attribute definitions as transaction data (all, or one)",
    },
    Command {
        name: ".attrs",
        args: "",
        help: "attributes as a table: type, cardinality, uniqueness, flags",
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
        name: ".timer",
        args: "on|off",
        help: "print how long each statement takes",
    },
    Command {
        name: ".mode",
        args: "table|edn|json|csv",
        help: "how results print",
    },
    Command {
        name: ".import",
        args: "FILE",
        help: "transact a file: EDN transaction data, JSON objects or CSV rows",
    },
    Command {
        name: ".export",
        args: "FILE [QUERY]",
        help: "write every datom as transaction data (or a query's result) to FILE",
    },
    Command {
        name: ".read",
        args: "FILE",
        help: "run the statements of a script",
    },
    Command {
        name: ".as-of",
        args: "TX",
        help: "query the database as it was right after transaction TX",
    },
    Command {
        name: ".since",
        args: "TX",
        help: "query only what was asserted after transaction TX",
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
        args: "[RULES]",
        help: "the rules installed in the store, or install rules ([[(name ?a) ...] ...])",
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
        None => CliError::Usage(format!("unknown command {name}: .help lists the commands")),
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

/// A file name argument; quotes around it are taken off.
fn file_argument<'r>(name: &str, rest: &'r str) -> Result<&'r Path> {
    let unquoted = rest.trim_matches('"');
    if unquoted.is_empty() {
        return Err(usage(name));
    }
    Ok(Path::new(unquoted))
}

/// A transaction id argument.
fn tx_argument(name: &str, rest: &str) -> Result<i64> {
    rest.parse().map_err(|_| usage(name))
}

/// Carries out a dot command.
pub fn run(session: &mut Session, statement: &str) -> Result<Outcome> {
    let (name, rest) = split(statement);
    let text = match name {
        ".help" => help(),
        ".quit" | ".exit" => return Ok(Outcome::Quit),
        ".schema" => schema(session, rest)?,
        ".attrs" => attrs(session)?,
        ".entity" => {
            let entity = one_form(name, rest)?;
            let pulled = session.db()?.pull(&edn::parse("[*]")?, &entity)?;
            format!("{}\n", pulled.to_pretty_string(100))
        }
        ".pull" => {
            let forms = edn::parse_all(rest)?;
            let [pattern, entity] = forms.as_slice() else {
                return Err(usage(name));
            };
            let pulled = session.db()?.pull(pattern, entity)?;
            format!("{}\n", pulled.to_pretty_string(100))
        }
        ".explain" => explain(session, &one_form(name, rest)?)?,
        ".timer" => {
            session.timer = match rest {
                "on" => true,
                "off" => false,
                _ => return Err(usage(name)),
            };
            String::new()
        }
        ".mode" => {
            session.mode = Mode::from_name(rest).ok_or_else(|| usage(name))?;
            String::new()
        }
        ".import" => {
            let path = file_argument(name, rest)?;
            let progress = session.config.progress;
            transfer::import_file(session.store(), path, progress)?.to_string()
        }
        ".export" => export(session, rest)?,
        ".read" => {
            let path = file_argument(name, rest)?;
            let script = std::fs::read_to_string(path).map_err(|error| CliError::Io {
                path: path.to_path_buf(),
                error,
            })?;
            let mut out = String::new();
            let source = path.display().to_string();
            let outcome = session
                .run_script(&source, &script, &mut |text| out.push_str(text))
                .map_err(CliError::Script)?;
            if outcome == Outcome::Quit {
                return Ok(Outcome::Quit);
            }
            out
        }
        ".as-of" => {
            session.time = TimeView::AsOf(tx_argument(name, rest)?);
            String::new()
        }
        ".since" => {
            session.time = TimeView::Since(tx_argument(name, rest)?);
            String::new()
        }
        ".history" => {
            session.time = TimeView::History;
            String::new()
        }
        ".now" => {
            session.time = TimeView::Now;
            String::new()
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
        ".materialize" => {
            let (view, query) = split(rest);
            if view.is_empty() {
                return Err(usage(name));
            }
            let query = one_form(name, query)?;
            let info = session
                .store()
                .materialize(view, &query, &session.query_inputs(&query)?)?;
            let noun = if info.rows == 1 { "row" } else { "rows" };
            format!("materialized {}: {} {noun}\n", info.name, info.rows)
        }
        ".view" => {
            let info = session
                .store()
                .views()?
                .into_iter()
                .find(|info| info.name == rest)
                .ok_or_else(|| {
                    CliError::Usage(format!("no view named {rest:?}: .views lists them"))
                })?;
            let result = session.store().view(&info.name)?.into_edn();
            let query = edn::parse(&info.query)?;
            render::render(
                &result,
                &render::columns(&query),
                session.mode,
                &session.config.table,
            )
        }
        ".drop-view" => {
            if rest.is_empty() {
                return Err(usage(name));
            }
            session.store().drop_view(rest)?;
            format!("dropped {rest}\n")
        }
        ".open" => {
            let path = file_argument(name, rest)?;
            session.switch_to(path)?;
            format!("opened {}\n", path.display())
        }
        _ => return Err(usage(name)),
    };
    Ok(Outcome::Text(text))
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

/// The user's attributes (not the built-in `:db/...` ones), by ident.
fn user_attributes(session: &Session) -> Result<Vec<Attribute>> {
    let schema = session.store().schema()?;
    let mut attributes: Vec<Attribute> = schema
        .attributes()
        .filter(|attribute| attribute.id >= FIRST_USER_SCHEMA_ID)
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

fn schema(session: &Session, rest: &str) -> Result<String> {
    let attributes = user_attributes(session)?;
    if rest.is_empty() {
        let all = Value::Vector(attributes.iter().map(definition).collect());
        return Ok(format!("{}\n", all.to_pretty_string(100)));
    }
    let wanted = one_form(".schema", rest)?;
    let attribute = attributes
        .iter()
        .find(|attribute| Value::Keyword(attribute.ident.clone()) == wanted)
        .ok_or_else(|| CliError::Usage(format!("no attribute {wanted}: .attrs lists them")))?;
    Ok(format!("{}\n", definition(attribute).to_pretty_string(100)))
}

fn attrs(session: &Session) -> Result<String> {
    let rows: Vec<Vec<Value>> = user_attributes(session)?
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
    Ok(render::table(&names, &rows, &session.config.table))
}

fn explain(session: &Session, query: &Value) -> Result<String> {
    let explanation = session
        .db()?
        .explain(query, &session.query_inputs(query)?)?;
    let mut out = format!("{}\n", explanation.sql);
    for (index, param) in explanation.params.iter().enumerate() {
        let _ = writeln!(out, "  ?{} = {param:?}", index + 1);
    }
    out.push_str("plan:\n");
    for line in &explanation.query_plan {
        let _ = writeln!(out, "  {line}");
    }
    Ok(out)
}

fn log(session: &Session, count: usize) -> Result<String> {
    let db = session.store().db()?;
    let query = edn::parse(&format!(
        "[:find ?tx ?instant :where [?tx :db/txInstant ?instant] :order-by (desc ?tx) :limit {count}]"
    ))?;
    let QueryResult::Relation(transactions) = db.q(&query, &[])? else {
        return Ok(String::new());
    };
    let mut rows = Vec::new();
    for cells in transactions.rows() {
        let Some(Value::Integer(tx)) = cells.first() else {
            continue;
        };
        let datoms = db.tx_range(*tx, *tx)?;
        let datoms: Vec<_> = datoms.iter().filter(|datom| datom.e != *tx).collect();
        let asserted = datoms.iter().filter(|datom| datom.added).count() as i64;
        let mut row = cells.to_vec();
        row.push(Value::Integer(asserted));
        row.push(Value::Integer(datoms.len() as i64 - asserted));
        rows.push(row);
    }
    let names = ["tx", "instant", "asserted", "retracted"].map(String::from);
    Ok(render::table(&names, &rows, &session.config.table))
}

fn views(session: &Session) -> Result<String> {
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
    Ok(render::table(&names, &rows, &session.config.table))
}

fn rules(session: &Session, rest: &str) -> Result<String> {
    if rest.is_empty() {
        return Ok(format!(
            "{}\n",
            session.store().rules()?.to_pretty_string(100)
        ));
    }
    let report = session.store().install_rules(&one_form(".rules", rest)?)?;
    let installed = session.store().rules()?;
    let mut names: Vec<String> = installed
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
    Ok(format!(
        "transaction {}: rules installed: {}\n",
        report.tx,
        names.join(", ")
    ))
}

fn export(session: &Session, rest: &str) -> Result<String> {
    let (file, query) = match rest.find(['[', '{']) {
        Some(index) => (
            rest[..index].trim(),
            Some(one_form(".export", &rest[index..])?),
        ),
        None => (rest, None),
    };
    let path = file_argument(".export", file)?;
    let text = match &query {
        Some(query) => {
            let result = session
                .db()?
                .q(query, &session.query_inputs(query)?)?
                .into_edn();
            let mode = transfer::mode_for(path).unwrap_or(Mode::Edn);
            let style = render::TableStyle {
                max_rows: usize::MAX,
                ..session.config.table
            };
            render::render(&result, &render::columns(query), mode, &style)
        }
        None if session.time == TimeView::History => {
            return Err(CliError::Usage(
                "an export writes one state of the database: leave .history with .now, .as-of or .since first".to_string(),
            ))
        }
        None => transfer::export_datoms(&session.db()?)?,
    };
    std::fs::write(path, &text).map_err(|error| CliError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    Ok(format!("wrote {}\n", path.display()))
}
