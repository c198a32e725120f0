//! Reading scenarios and steps (conformance `FORMAT.md`) from EDN values into
//! typed records, with a message naming what is wrong when a form does not
//! follow the format. Tags stay unresolved here: `#ent` and `#tx` can only be
//! resolved when the step runs.

use factlite::{ErrorCategory, Value};

use factlite::edn::Keyword;

/// One scenario: a name, an optional schema and the steps.
#[derive(Debug)]
pub struct Scenario {
    pub name: String,
    /// Attribute definitions, transacted first.
    pub schema: Option<Value>,
    /// The steps, unread: each is read when it runs, so a malformed step
    /// fails alone.
    pub steps: Vec<Value>,
}

/// What a step does.
#[derive(Debug)]
pub enum Action {
    /// `{:transact TX-DATA}`, optionally naming the transaction with `:tx`.
    Transact {
        tx_data: Value,
        name: Option<String>,
        expect_error: Option<ErrorCategory>,
    },
    /// `{:query Q}` with its inputs and database.
    Query {
        query: Value,
        args: Vec<Value>,
        time: TimeTravel,
        expect: Expectation,
    },
    /// `{:pull PATTERN :eid E}`.
    Pull {
        pattern: Value,
        eid: Value,
        expect: Expectation,
    },
    /// `{:materialize "name" :query Q}`.
    Materialize {
        name: String,
        query: Value,
        args: Vec<Value>,
    },
    /// `{:view "name"}`.
    View { name: String, expect: Expectation },
    /// `{:drop-view "name"}`.
    DropView { name: String },
    /// `{:with TX-DATA :query Q :expect R}` (or `:pull PATTERN :eid E`):
    /// a read of the database as TX-DATA would leave it, committing
    /// nothing; `:expect-error` is the speculative transaction's error.
    With {
        tx_data: Value,
        read: SpeculativeRead,
        expect: Expectation,
    },
}

/// What a `:with` step reads.
#[derive(Debug)]
pub enum SpeculativeRead {
    /// `:query Q`, with its `:args`.
    Query { query: Value, args: Vec<Value> },
    /// `:pull PATTERN :eid E`.
    Pull { pattern: Value, eid: Value },
}

/// Which database a query runs against; all unset is the current one.
#[derive(Debug, Default)]
pub struct TimeTravel {
    /// `:as-of T`, still with its tags.
    pub as_of: Option<Value>,
    /// `:since T`, still with its tags.
    pub since: Option<Value>,
    /// `:history true`.
    pub history: bool,
}

impl TimeTravel {
    /// No `:as-of`, `:since` or `:history`.
    pub fn is_current(&self) -> bool {
        self.as_of.is_none() && self.since.is_none() && !self.history
    }
}

/// What a reading step must give.
#[derive(Debug)]
pub enum Expectation {
    /// `:expect R`.
    Value(Value),
    /// `:expect-error CATEGORY`.
    Error(ErrorCategory),
}

/// A scenario from one top-level form of a file.
pub fn read_scenario(form: &Value) -> Result<Scenario, String> {
    let Value::Map(map) = form else {
        return Err(format!(
            "a scenario is a map with :name and :steps, not a {}",
            form.kind_name()
        ));
    };
    let fields = Fields {
        map,
        what: "scenario",
    };
    fields.only(&["name", "schema", "steps"])?;
    let name = fields.string("name")?.ok_or("a scenario needs a :name")?;
    let steps = match fields.get("steps") {
        Some(Value::Vector(steps)) => steps.clone(),
        Some(other) => return Err(format!(":steps must be a vector, not {other}")),
        None => return Err(format!("scenario {name:?} has no :steps")),
    };
    Ok(Scenario {
        name,
        schema: fields.get("schema").cloned(),
        steps,
    })
}

/// The note of a step, if it has one, read apart from the rest so that a
/// malformed step still shows it.
pub fn read_note(step: &Value) -> Option<String> {
    match step {
        Value::Map(map) => match map.get(&Value::keyword("note")) {
            Some(Value::String(note)) => Some(note.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// What one element of `:steps` does (its note is read by [`read_note`]).
pub fn read_step(step: &Value) -> Result<Action, String> {
    let Value::Map(map) = step else {
        return Err(format!("a step is a map, not a {}", step.kind_name()));
    };
    let fields = Fields { map, what: "step" };
    fields.string("note")?;
    let action = if fields.get("with").is_some() {
        fields.only(&[
            "with",
            "query",
            "args",
            "pull",
            "eid",
            "expect",
            "expect-error",
            "note",
        ])?;
        let read = if fields.get("pull").is_some() {
            SpeculativeRead::Pull {
                pattern: fields.required("pull")?,
                eid: fields.required("eid")?,
            }
        } else {
            SpeculativeRead::Query {
                query: fields.required("query")?,
                args: fields.args()?,
            }
        };
        Action::With {
            tx_data: fields.required("with")?,
            read,
            expect: fields.expectation()?,
        }
    } else if fields.get("materialize").is_some() {
        fields.only(&["materialize", "query", "args", "note"])?;
        Action::Materialize {
            name: fields.string("materialize")?.unwrap_or_default(),
            query: fields.required("query")?,
            args: fields.args()?,
        }
    } else if fields.get("view").is_some() {
        fields.only(&["view", "expect", "expect-error", "note"])?;
        Action::View {
            name: fields.string("view")?.unwrap_or_default(),
            expect: fields.expectation()?,
        }
    } else if fields.get("drop-view").is_some() {
        fields.only(&["drop-view", "note"])?;
        Action::DropView {
            name: fields.string("drop-view")?.unwrap_or_default(),
        }
    } else if fields.get("transact").is_some() {
        fields.only(&["transact", "tx", "expect-error", "note"])?;
        Action::Transact {
            tx_data: fields.required("transact")?,
            name: fields.string("tx")?,
            expect_error: fields.error_category()?,
        }
    } else if fields.get("pull").is_some() {
        fields.only(&["pull", "eid", "expect", "expect-error", "note"])?;
        Action::Pull {
            pattern: fields.required("pull")?,
            eid: fields.required("eid")?,
            expect: fields.expectation()?,
        }
    } else if fields.get("query").is_some() {
        fields.only(&[
            "query",
            "args",
            "as-of",
            "since",
            "history",
            "expect",
            "expect-error",
            "note",
        ])?;
        let history = match fields.get("history") {
            None | Some(Value::Boolean(false)) => false,
            Some(Value::Boolean(true)) => true,
            Some(other) => return Err(format!(":history must be true or false, not {other}")),
        };
        Action::Query {
            query: fields.required("query")?,
            args: fields.args()?,
            time: TimeTravel {
                as_of: fields.get("as-of").cloned(),
                since: fields.get("since").cloned(),
                history,
            },
            expect: fields.expectation()?,
        }
    } else {
        return Err(format!(
            "a step needs one of :transact, :query, :pull, :with, :materialize, :view or :drop-view; this one has {}",
            key_list(map.keys())
        ));
    };
    Ok(action)
}

/// The entries of a scenario or step map, looked up by plain keyword name.
struct Fields<'m> {
    map: &'m indexmap::IndexMap<Value, Value>,
    what: &'static str,
}

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(&Value::Keyword(Keyword::plain(key)))
    }

    /// Rejects keys other than `allowed`, so a misspelt `:expect` cannot make
    /// a step pass silently.
    fn only(&self, allowed: &[&str]) -> Result<(), String> {
        let unknown: Vec<&Value> = self
            .map
            .keys()
            .filter(|key| match key {
                Value::Keyword(keyword) => {
                    keyword.namespace.is_some() || !allowed.contains(&keyword.name.as_str())
                }
                _ => true,
            })
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "unknown key {} in a {} (allowed here: {})",
                key_list(unknown),
                self.what,
                allowed
                    .iter()
                    .map(|key| format!(":{key}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
        }
    }

    fn required(&self, key: &str) -> Result<Value, String> {
        self.get(key)
            .cloned()
            .ok_or_else(|| format!("this {} needs :{key}", self.what))
    }

    fn string(&self, key: &str) -> Result<Option<String>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(format!(":{key} must be a string, not {other}")),
        }
    }

    fn args(&self) -> Result<Vec<Value>, String> {
        match self.get("args") {
            None => Ok(Vec::new()),
            Some(Value::Vector(args)) => Ok(args.clone()),
            Some(other) => Err(format!(":args must be a vector, not {other}")),
        }
    }

    fn error_category(&self) -> Result<Option<ErrorCategory>, String> {
        match self.get("expect-error") {
            None => Ok(None),
            Some(value) => {
                let category = match value {
                    Value::Keyword(_) => ErrorCategory::from_keyword(&value.to_string()),
                    _ => None,
                };
                category.map(Some).ok_or_else(|| {
                    format!(
                        ":expect-error must name an error category such as :error/parse, not {value}"
                    )
                })
            }
        }
    }

    fn expectation(&self) -> Result<Expectation, String> {
        match (self.get("expect"), self.error_category()?) {
            (Some(_), Some(_)) => Err(format!(
                "a {} has :expect or :expect-error, not both",
                self.what
            )),
            (Some(value), None) => Ok(Expectation::Value(value.clone())),
            (None, Some(category)) => Ok(Expectation::Error(category)),
            (None, None) => Err(format!("this {} needs :expect or :expect-error", self.what)),
        }
    }
}

fn key_list<'k>(keys: impl IntoIterator<Item = &'k Value>) -> String {
    keys.into_iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step_error(text: &str) -> String {
        let value = factlite::edn::parse(text).expect("test input is EDN");
        match read_step(&value) {
            Ok(step) => panic!("{text} was read as {step:?}"),
            Err(message) => message,
        }
    }

    #[test]
    fn reads_each_kind_of_step() {
        let texts = [
            r#"{:transact [] :tx "t1"}"#,
            r#"{:query [:find ?e :where [?e :a 1]] :as-of #tx "t1" :expect #{}}"#,
            r#"{:pull [*] :eid #ent "a" :expect {} :note "n"}"#,
            r#"{:materialize "v" :query [:find ?e :where [?e :a 1]]}"#,
            r#"{:view "v" :expect #{}}"#,
            r#"{:drop-view "v"}"#,
        ];
        for text in texts {
            let value = factlite::edn::parse(text).expect("test input is EDN");
            if let Err(message) = read_step(&value) {
                panic!("{text}: {message}");
            }
        }
    }

    #[test]
    fn rejects_malformed_steps() {
        assert_eq!(
            step_error("{:query [:find ?e] :expekt #{}}"),
            "unknown key :expekt in a step (allowed here: :query :args :as-of :since :history :expect :expect-error :note)"
        );
        assert_eq!(
            step_error("{:query [:find ?e]}"),
            "this step needs :expect or :expect-error"
        );
        assert_eq!(
            step_error("{:transact [] :expect-error :error/nope}"),
            ":expect-error must name an error category such as :error/parse, not :error/nope"
        );
        assert_eq!(step_error("{:pull [*] :expect {}}"), "this step needs :eid");
        assert_eq!(
            step_error("{:note \"x\"}"),
            "a step needs one of :transact, :query, :pull, :with, :materialize, :view or :drop-view; this one has :note"
        );
    }
}
