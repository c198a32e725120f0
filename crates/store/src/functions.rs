//! Functions and aggregates a program registers on a store, written in
//! Rust, that queries call by name (`[(my/score ?a ?b) ?s]`, `(my/p90 ?x)`
//! in `:find`).
//!
//! A scalar function becomes an SQLite application-defined function on
//! every connection of the store (its siblings share the registry, and a
//! sibling opened later gets every function registered before): the
//! planner's SQL calls it with each argument's value and type tag, so the
//! query is still one statement. An aggregate is computed over each group's
//! values, as factlite's own n-ary aggregates are. A function that panics
//! fails the query with an error naming it; it never aborts the program.
//!
//! Transaction functions and entity predicates are kept here too: they get
//! the database inside the write transaction (see `Store::register_tx_function`
//! and `Store::register_entity_predicate`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use factlite_core::{TypedValue, ValueType};
use factlite_edn::Value;
use factlite_planner::RegisteredFunction;
use parking_lot::RwLock;
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;

use crate::encode::{from_sql, to_sql};
use crate::error::{Error, Result};

/// The body of a registered function or aggregate: the arguments (a
/// function's, or an aggregate's values of one group) in, a value or a
/// message saying what is wrong out.
pub type Body = Arc<dyn Fn(&[Value]) -> std::result::Result<Value, String> + Send + Sync>;

/// One registered function or aggregate.
#[derive(Clone)]
struct Entry {
    signature: RegisteredFunction,
    body: Body,
}

/// The body of a registered transaction function: the database before the
/// transaction and the call's arguments in, transaction data (an EDN
/// vector of forms) or a message saying why not out.
pub type TxBody =
    Arc<dyn Fn(&crate::Db, &[Value]) -> std::result::Result<Value, String> + Send + Sync>;

/// The body of a registered entity predicate (`:db.entity/preds`): the
/// database as the transaction leaves it (its datoms applied, not yet
/// committed) and the entity id in, whether the entity is valid (or a
/// message saying why it cannot tell) out.
pub type EntityPredicateBody = Arc<
    dyn Fn(&crate::Db, factlite_core::Entid) -> std::result::Result<bool, String> + Send + Sync,
>;

/// The functions and aggregates registered on a store and its siblings,
/// its transaction functions and its entity predicates.
#[derive(Default)]
pub struct Functions {
    /// Functions and aggregates, in the order registered.
    entries: RwLock<Vec<Entry>>,
    /// Transaction functions, by name.
    transaction: RwLock<Vec<(factlite_edn::Keyword, TxBody)>>,
    /// Entity predicates, by name.
    entity_predicates: RwLock<Vec<(String, EntityPredicateBody)>>,
}

impl Functions {
    /// What planning needs to know of them.
    pub fn signatures(&self) -> Vec<RegisteredFunction> {
        self.entries
            .read()
            .iter()
            .map(|e| e.signature.clone())
            .collect()
    }

    /// Registers a function (`aggregate` false) or an aggregate under
    /// `name`, which must be a namespaced symbol (`my/score`) not yet
    /// registered; a function is installed on `conn` at once.
    pub fn register(
        &self,
        conn: &Connection,
        name: &str,
        arity: usize,
        result: ValueType,
        aggregate: bool,
        body: Body,
    ) -> Result<()> {
        check_name(name)?;
        let mut entries = self.entries.write();
        if entries.iter().any(|e| e.signature.name == name) {
            return Err(Error::Query(format!(
                "a function named {name} is registered already; give another one another name"
            )));
        }
        let signature = RegisteredFunction {
            name: name.to_string(),
            sql_name: format!("factlite_registered_{}", entries.len()),
            arity,
            result,
            aggregate,
        };
        let entry = Entry { signature, body };
        if !aggregate {
            install(conn, &entry)?;
        }
        entries.push(entry);
        Ok(())
    }

    /// Installs every registered function on a connection (a sibling's,
    /// newly opened or opened before the registration).
    pub fn install_all(&self, conn: &Connection) -> Result<()> {
        for entry in self
            .entries
            .read()
            .iter()
            .filter(|e| !e.signature.aggregate)
        {
            install(conn, entry)?;
        }
        Ok(())
    }

    /// Registers a transaction function under `name` (a keyword with a
    /// namespace other than `db`), once.
    pub fn register_tx(&self, name: factlite_edn::Keyword, body: TxBody) -> Result<()> {
        let shown = Value::Keyword(name.clone());
        if !matches!(name.namespace.as_deref(), Some(namespace) if namespace != "db" && namespace != "db.fn")
        {
            return Err(Error::Query(format!(
                "{shown} is not a transaction function name: use a keyword with a namespace of your own, such as :bank/transfer"
            )));
        }
        let mut entries = self.transaction.write();
        if entries.iter().any(|(existing, _)| *existing == name) {
            return Err(Error::Query(format!(
                "a transaction function named {shown} is registered already"
            )));
        }
        entries.push((name, body));
        Ok(())
    }

    /// Calls the transaction function `name` on the database before the
    /// transaction; `None` when none has that name.
    pub fn call_tx(
        &self,
        name: &factlite_edn::Keyword,
        db: &crate::Db,
        args: &[Value],
    ) -> Option<std::result::Result<Value, String>> {
        let body = self
            .transaction
            .read()
            .iter()
            .find(|(n, _)| n == name)?
            .1
            .clone();
        let shown = Value::Keyword(name.clone());
        Some(match catch_unwind(AssertUnwindSafe(|| body(db, args))) {
            Ok(Ok(tx_data)) => Ok(tx_data),
            Ok(Err(message)) => Err(format!(
                "the transaction function {shown} failed: {message}"
            )),
            Err(_) => Err(format!("the transaction function {shown} panicked")),
        })
    }

    /// Registers an entity predicate under `name` (a namespaced symbol, as
    /// `:db.entity/preds` names it: `my/valid-user?`), once.
    pub fn register_entity_predicate(&self, name: &str, body: EntityPredicateBody) -> Result<()> {
        check_name(name)?;
        let mut entries = self.entity_predicates.write();
        if entries.iter().any(|(existing, _)| existing == name) {
            return Err(Error::Query(format!(
                "an entity predicate named {name} is registered already"
            )));
        }
        entries.push((name.to_string(), body));
        Ok(())
    }

    /// Calls the entity predicate `name` on entity `e` of `db`; `None`
    /// when none has that name. A panic is an error naming it.
    pub fn call_entity_predicate(
        &self,
        name: &str,
        db: &crate::Db,
        e: factlite_core::Entid,
    ) -> Option<std::result::Result<bool, String>> {
        let body = self
            .entity_predicates
            .read()
            .iter()
            .find(|(n, _)| n == name)?
            .1
            .clone();
        Some(match catch_unwind(AssertUnwindSafe(|| body(db, e))) {
            Ok(outcome) => outcome,
            Err(_) => Err("it panicked".to_string()),
        })
    }

    /// Calls the registered function `name` as a predicate on one value:
    /// `None` when no one-argument function returning a boolean has that
    /// name.
    pub fn predicate(
        &self,
        name: &str,
        value: &Value,
    ) -> Option<std::result::Result<bool, String>> {
        let entries = self.entries.read();
        let entry = entries.iter().find(|e| {
            !e.signature.aggregate
                && e.signature.name == name
                && e.signature.arity == 1
                && e.signature.result == ValueType::Boolean
        })?;
        Some(
            call(&entry.signature, &entry.body, std::slice::from_ref(value))
                .map(|result| result == Value::Boolean(true)),
        )
    }

    /// Computes the registered aggregate `name` over a group's values;
    /// `None` when no aggregate has that name.
    pub fn aggregate(&self, name: &str, values: &[Value]) -> Option<Result<Value>> {
        let entries = self.entries.read();
        let entry = entries
            .iter()
            .find(|e| e.signature.aggregate && e.signature.name == name)?;
        Some(call(&entry.signature, &entry.body, values).map_err(Error::Query))
    }
}

/// A registered name is a namespaced symbol, so it never hides one of
/// Datomic's functions or factlite's own.
fn check_name(name: &str) -> Result<()> {
    let symbol = match factlite_edn::parse(name).map(Value::into_symbol) {
        Ok(Ok(symbol)) => symbol,
        _ => {
            return Err(Error::Query(format!(
                "{name:?} is not a function name: use a symbol with a namespace, such as my/score"
            )))
        }
    };
    match symbol.namespace.as_deref() {
        Some(namespace) if !matches!(namespace, "clojure.core" | "clojure.string" | "str") => {
            Ok(())
        }
        _ => Err(Error::Query(format!(
            "{name} is not a function name: use a symbol with a namespace of your own, such as my/score"
        ))),
    }
}

/// How the message of a registered function's failure starts: the store's
/// error conversion tells it apart by it (`:error/query`).
pub const FAILED: &str = "the registered function ";

/// Runs a body, turning a panic into an error naming the function.
fn call(
    signature: &RegisteredFunction,
    body: &Body,
    args: &[Value],
) -> std::result::Result<Value, String> {
    match catch_unwind(AssertUnwindSafe(|| body(args))) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(message)) => Err(format!("{FAILED}{} failed: {message}", signature.name)),
        Err(_) => Err(format!(
            "{FAILED}{} panicked; the query was stopped and nothing was changed",
            signature.name
        )),
    }
}

/// Creates the SQL function of a registered function on a connection:
/// arguments arrive as value and type tag pairs, the result leaves as the
/// value of the declared type.
fn install(conn: &Connection, entry: &Entry) -> Result<()> {
    let Entry { signature, body } = entry.clone();
    let arity = i32::try_from(2 * signature.arity)
        .map_err(|_| Error::Query(format!("{} takes too many arguments", signature.name)))?;
    let sql_name = signature.sql_name.clone();
    conn.create_scalar_function(
        sql_name.as_str(),
        arity,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |context| {
            let mut args = Vec::with_capacity(signature.arity);
            for i in 0..signature.arity {
                let raw = context.get_raw(2 * i);
                let value = match (raw, context.get::<Option<i64>>(2 * i + 1)?) {
                    (rusqlite::types::ValueRef::Null, _) | (_, None) => Value::Nil,
                    (raw, Some(tag)) => from_sql(raw, tag)
                        .map_err(|e| rusqlite::Error::UserFunctionError(e.0.into()))?
                        .to_edn(),
                };
                args.push(value);
            }
            let result = call(&signature, &body, &args)
                .map_err(|message| rusqlite::Error::UserFunctionError(message.into()))?;
            if result == Value::Nil {
                return Ok(rusqlite::types::Value::Null);
            }
            let typed = TypedValue::from_edn(&result, signature.result).map_err(|_| {
                rusqlite::Error::UserFunctionError(
                    format!(
                        "{FAILED}{} returned {result}, a {}, but was registered as returning {}",
                        signature.name,
                        result.kind_name(),
                        signature.result
                    )
                    .into(),
                )
            })?;
            Ok(to_sql(&typed))
        },
    )?;
    Ok(())
}
