//! Transaction data: entity maps and the list forms `[:db/add e a v]`,
//! `[:db/retract e a v?]`, `[:db/retractEntity e]` and `[:db/cas e a old new]`.
//! Values stay EDN values: whether a vector is a lookup ref, a collection of
//! values or nested maps depends on the schema, which the transactor knows.

use factlite_edn::{Keyword, Value};
use indexmap::IndexMap;

use crate::error::show;
use crate::forms::{fail, Failed};

/// One form of transaction data.
#[derive(Clone, Debug, PartialEq)]
pub enum TxForm {
    /// `{:db/id e :attr value ...}`
    Map(TxMap),
    /// `[:db/add e a v]`
    Add {
        /// The entity.
        e: EntityRef,
        /// The attribute.
        a: AttrRef,
        /// The value, as written.
        v: Value,
    },
    /// `[:db/retract e a v]`, or `[:db/retract e a]` for every value of `a`.
    Retract {
        /// The entity.
        e: EntityRef,
        /// The attribute.
        a: AttrRef,
        /// The value to retract; `None` retracts every value.
        v: Option<Value>,
    },
    /// `[:db/retractEntity e]` (also `:db.fn/retractEntity`).
    RetractEntity(EntityRef),
    /// `[:db/cas e a old new]` (also `:db.fn/cas`); `old` may be `nil`.
    Cas {
        /// The entity.
        e: EntityRef,
        /// The attribute.
        a: AttrRef,
        /// The value the attribute must hold now (`nil`: no value).
        old: Value,
        /// The value to set.
        new: Value,
    },
    /// `[:ns/fn arg ...]`: a call of a transaction function the program
    /// registered, whose result (transaction data) the store expands in
    /// the same transaction.
    Call {
        /// The function's name (a keyword with a namespace other than `db`).
        function: Keyword,
        /// The arguments, as written.
        args: Vec<Value>,
    },
}

/// An entity map: `{:db/id e :attr value ...}`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TxMap {
    /// The entity named by `:db/id`, if present.
    pub db_id: Option<EntityRef>,
    /// Every other attribute with its value as written, in order. Keys may
    /// be reverse attributes (`:person/_friend`).
    pub attrs: IndexMap<Keyword, Value>,
}

/// How transaction data names an entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntityRef {
    /// An entity id.
    Id(i64),
    /// A string tempid, resolved within the transaction.
    TempId(String),
    /// `[:unique/attr value]`.
    LookupRef(Keyword, Value),
    /// An ident keyword such as `:db.type/string`.
    Ident(Keyword),
}

/// How a list form names an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttrRef {
    /// An attribute ident such as `:person/name`.
    Ident(Keyword),
    /// An attribute's entity id.
    Id(i64),
}

/// The operations of the list forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TxOp {
    Add,
    Retract,
    RetractEntity,
    Cas,
}

const OPS: [(&str, TxOp); 6] = [
    ("db/add", TxOp::Add),
    ("db/retract", TxOp::Retract),
    ("db/retractEntity", TxOp::RetractEntity),
    ("db.fn/retractEntity", TxOp::RetractEntity),
    ("db/cas", TxOp::Cas),
    ("db.fn/cas", TxOp::Cas),
];

/// Parses transaction data: a vector (or list) of transaction forms. The
/// values move into the forms: none is copied.
pub(crate) fn tx_data(form: Value) -> Result<Vec<TxForm>, Failed<'static>> {
    match form.into_sequence() {
        Ok(items) => {
            // Room for every form at once: collecting through `Result`
            // knows no length and would grow by doubling.
            let mut forms = Vec::with_capacity(items.len());
            for item in items {
                forms.push(tx_form(item)?);
            }
            Ok(forms)
        }
        Err(form) => Err(fail(format!(
            "{} is not transaction data; expected a vector of maps and list forms",
            show(&form)
        ))),
    }
}

fn tx_form(form: Value) -> Result<TxForm, Failed<'static>> {
    match form {
        Value::Map(_) => tx_map(form.into_map().unwrap_or_default()).map(TxForm::Map),
        Value::Vector(_) | Value::List(_) => list_form(form),
        _ => Err(fail(format!(
            "{} is not a transaction form; expected an entity map {{...}} or [:db/add e a v]",
            show(&form)
        ))),
    }
}

fn tx_map(map: IndexMap<Value, Value>) -> Result<TxMap, Failed<'static>> {
    let mut tx_map = TxMap {
        db_id: None,
        attrs: IndexMap::with_capacity(map.len()),
    };
    for (key, value) in map {
        let attr = match key.into_keyword() {
            Ok(attr) => attr,
            Err(key) => {
                return Err(fail(format!(
                    "{} is not an attribute in an entity map; expected a keyword",
                    show(&key)
                )))
            }
        };
        if attr.namespace.as_deref() == Some("db") && attr.name == "id" {
            tx_map.db_id = Some(entity_ref(&value)?);
        } else {
            tx_map.attrs.insert(attr, value);
        }
    }
    Ok(tx_map)
}

/// A list form: its operation, entity and attribute are read from it in
/// place, then its values move out of it.
fn list_form(form: Value) -> Result<TxForm, Failed<'static>> {
    let items = form.as_sequence().unwrap_or_default();
    let Some((op, args)) = items.split_first() else {
        return Err(fail(
            "[] is not a transaction form; expected [:db/add e a v] or another list form"
                .to_string(),
        ));
    };
    if let Some(function) = transaction_function(op) {
        return Ok(TxForm::Call {
            function,
            args: args.to_vec(),
        });
    }
    let op = tx_op(&form, op)?;
    let arity_fits = match op {
        TxOp::Add => args.len() == 3,
        TxOp::Retract => matches!(args.len(), 2 | 3),
        TxOp::RetractEntity => args.len() == 1,
        TxOp::Cas => args.len() == 4,
    };
    if !arity_fits {
        return Err(fail(arity_message(&form, op, args.len())));
    }
    let e = entity_ref(&args[0])?;
    let a = match op {
        TxOp::RetractEntity => None,
        _ => Some(attr_ref(&form, &args[1])?),
    };
    let retracts_one_value = args.len() == 3;
    let mut values = form.into_sequence().unwrap_or_default().into_iter().skip(3);
    let mut value = || values.next().unwrap_or(Value::Nil);
    Ok(match (op, a) {
        (TxOp::RetractEntity, _) => TxForm::RetractEntity(e),
        (TxOp::Add, Some(a)) => TxForm::Add { e, a, v: value() },
        (TxOp::Retract, Some(a)) => TxForm::Retract {
            e,
            a,
            v: retracts_one_value.then(value),
        },
        (TxOp::Cas, Some(a)) => {
            let old = value();
            TxForm::Cas {
                e,
                a,
                old,
                new: value(),
            }
        }
        (_, None) => unreachable!("only :db/retractEntity names no attribute"),
    })
}

/// The name of a transaction function, when a list form's operation is a
/// keyword with a namespace of the program's own (not `db` or `db.fn`).
fn transaction_function(op: &Value) -> Option<Keyword> {
    let keyword = op.as_keyword()?;
    let namespace = keyword.namespace.as_deref()?;
    (!matches!(namespace, "db" | "db.fn")).then(|| keyword.clone())
}

fn tx_op(form: &Value, op: &Value) -> Result<TxOp, Failed<'static>> {
    let known = op.as_keyword().and_then(|keyword| {
        let name = keyword.qualified_name();
        OPS.iter()
            .find(|(text, _)| *text == name)
            .map(|(_, op)| *op)
    });
    known.ok_or_else(|| {
        fail(format!(
            "{} in {} is not a transaction operation; expected :db/add, :db/retract, :db/retractEntity, :db/cas or a transaction function's name (:ns/name)",
            show(op),
            show(form)
        ))
    })
}

fn arity_message(form: &Value, op: TxOp, found: usize) -> String {
    let (shape, wanted) = match op {
        TxOp::Add => ("[:db/add e a v]", 3),
        TxOp::Retract => ("[:db/retract e a v] or [:db/retract e a]", 3),
        TxOp::RetractEntity => ("[:db/retractEntity e]", 1),
        TxOp::Cas => ("[:db/cas e a old new]", 4),
    };
    let problem = if op == TxOp::Add && found == 2 {
        "is missing its value"
    } else if found < wanted {
        "has too few arguments"
    } else {
        "has too many arguments"
    };
    format!("{} {problem}; expected {shape}", show(form))
}

/// An entity reference: id, tempid, lookup ref or ident.
fn entity_ref(form: &Value) -> Result<EntityRef, Failed<'static>> {
    match form {
        Value::Integer(id) => Ok(EntityRef::Id(*id)),
        Value::String(tempid) => Ok(EntityRef::TempId(tempid.clone())),
        Value::Keyword(ident) => Ok(EntityRef::Ident(ident.clone())),
        Value::Vector(items) | Value::List(items) => match items.as_slice() {
            [Value::Keyword(attr), value] => Ok(EntityRef::LookupRef(attr.clone(), value.clone())),
            _ => Err(entity_error(form)),
        },
        _ => Err(entity_error(form)),
    }
}

fn entity_error(form: &Value) -> Failed<'static> {
    fail(format!(
        "{} is not an entity reference; expected an entity id, a string tempid, a lookup ref [:attr value] or an ident keyword",
        show(form)
    ))
}

/// An attribute in a list form: a forward keyword or an entity id.
fn attr_ref(form: &Value, attr: &Value) -> Result<AttrRef, Failed<'static>> {
    match attr {
        Value::Keyword(ident) if ident.is_reverse() => Err(fail(format!(
            "{} in {} is a reverse attribute; reverse attributes are only allowed as keys of entity maps",
            show(attr),
            show(form)
        ))),
        Value::Keyword(ident) => Ok(AttrRef::Ident(ident.clone())),
        Value::Integer(id) => Ok(AttrRef::Id(*id)),
        _ => Err(fail(format!(
            "{} in {} is not an attribute; expected a keyword or an entity id",
            show(attr),
            show(form)
        ))),
    }
}
