//! The scenario reader tags `#ent "name"` and `#tx "name"`: each names an id
//! the store chose earlier in the scenario, and is replaced by that id (a
//! long) before a step runs. Other tags (`#approx` in expected values, and
//! any tag the store itself understands) pass through unchanged.

use std::collections::HashMap;
use std::fmt;

use factlite::{Entid, Value};

/// The ids a scenario has named so far.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Each string tempid and the entity it resolved to.
    entities: HashMap<String, Entid>,
    /// Each transaction named with `:tx` and its id.
    transactions: HashMap<String, Entid>,
}

impl Names {
    /// Remembers the tempids of a committed transaction.
    pub fn add_tempids<'t>(&mut self, tempids: impl IntoIterator<Item = (&'t String, &'t Entid)>) {
        for (name, id) in tempids {
            self.entities.insert(name.clone(), *id);
        }
    }

    /// Remembers the id of a transaction a step named.
    pub fn add_transaction(&mut self, name: &str, tx: Entid) {
        self.transactions.insert(name.to_string(), tx);
    }
}

/// Why a tag could not be replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagError {
    /// `#ent "name"` where no earlier transaction made the tempid "name".
    UnknownEntity(String),
    /// `#tx "name"` where no earlier step was named "name".
    UnknownTransaction(String),
    /// `#ent` or `#tx` followed by something other than a string.
    NotAName { tag: &'static str, value: Value },
}

impl fmt::Display for TagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagError::UnknownEntity(name) => write!(
                f,
                "#ent {name:?}: no earlier transaction of this scenario made the tempid {name:?}"
            ),
            TagError::UnknownTransaction(name) => write!(
                f,
                "#tx {name:?}: no earlier transaction of this scenario is named {name:?}"
            ),
            TagError::NotAName { tag, value } => {
                write!(f, "#{tag} {value}: #{tag} takes a string name")
            }
        }
    }
}

/// `value` with every `#ent` and `#tx` replaced by the id it names.
pub fn resolve(value: &Value, names: &Names) -> Result<Value, TagError> {
    Ok(match value {
        Value::Tagged(tag, inner) if tag.is("ent") => {
            let name = tag_name("ent", inner)?;
            let id = names
                .entities
                .get(name)
                .ok_or_else(|| TagError::UnknownEntity(name.to_string()))?;
            Value::Integer(*id)
        }
        Value::Tagged(tag, inner) if tag.is("tx") => {
            let name = tag_name("tx", inner)?;
            let id = names
                .transactions
                .get(name)
                .ok_or_else(|| TagError::UnknownTransaction(name.to_string()))?;
            Value::Integer(*id)
        }
        Value::Tagged(tag, inner) => Value::Tagged(tag.clone(), Box::new(resolve(inner, names)?)),
        Value::List(items) => Value::List(resolve_all(items, names)?),
        Value::Vector(items) => Value::Vector(resolve_all(items, names)?),
        Value::Set(items) => Value::Set(
            items
                .iter()
                .map(|item| resolve(item, names))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(key, item)| Ok((resolve(key, names)?, resolve(item, names)?)))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

/// [`resolve`] on each item.
pub fn resolve_all(items: &[Value], names: &Names) -> Result<Vec<Value>, TagError> {
    items.iter().map(|item| resolve(item, names)).collect()
}

fn tag_name<'v>(tag: &'static str, inner: &'v Value) -> Result<&'v str, TagError> {
    match inner {
        Value::String(name) => Ok(name),
        other => Err(TagError::NotAName {
            tag,
            value: other.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let mut names = Names::default();
        let tempids = [("ann".to_string(), 17), ("bob".to_string(), 18)];
        names.add_tempids(tempids.iter().map(|(name, id)| (name, id)));
        names.add_transaction("t1", 1000);
        names
    }

    fn check(input: &str, expected: Result<&str, &str>) {
        let value = factlite::edn::parse(input).expect("test input is EDN");
        let found = resolve(&value, &names())
            .map(|resolved| resolved.to_string())
            .map_err(|error| error.to_string());
        assert_eq!(
            found,
            expected.map(str::to_string).map_err(str::to_string),
            "{input}"
        );
    }

    #[test]
    fn replaces_names_everywhere() {
        check(
            r#"[[:db/add #ent "ann" :p/friend #ent "bob"]]"#,
            Ok("[[:db/add 17 :p/friend 18]]"),
        );
        check(r#"#{[:a #tx "t1" true]}"#, Ok("#{[:a 1000 true]}"));
        check(r#"{:db/id #ent "ann"}"#, Ok("{:db/id 17}"));
        check(r#"(f #ent "bob")"#, Ok("(f 18)"));
        check("#approx [1.5 0.1]", Ok("#approx [1.5 0.1]"));
    }

    #[test]
    fn reports_unknown_and_malformed_names() {
        check(
            r#"[#ent "never-made"]"#,
            Err(
                r#"#ent "never-made": no earlier transaction of this scenario made the tempid "never-made""#,
            ),
        );
        check(
            r#"#tx "t9""#,
            Err(r#"#tx "t9": no earlier transaction of this scenario is named "t9""#),
        );
        check("#ent 5", Err("#ent 5: #ent takes a string name"));
    }
}
