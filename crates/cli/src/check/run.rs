//! Running one scenario: a fresh in-memory store, the schema, then each step
//! in order, judging its outcome against what the step expects. A failing
//! step is recorded and the scenario goes on, so one run shows every
//! failing step; after a step with `:expect-error` nothing special happens
//! (scenarios check for themselves that nothing changed).

use std::fmt;

use factlite::{Db, Entid, ErrorCategory, QueryResult, Store, Value};

use super::compare::compare;
use super::scenario::{
    read_note, read_step, Action, Expectation, Scenario, SpeculativeRead, TimeTravel,
};
use super::tags::{self, Names, TagError};
use super::views;
use super::{CheckOptions, Failure, Location, Problem};

/// What running a scenario found.
pub struct ScenarioRunOutcome {
    /// Its failing steps.
    pub failures: Vec<Failure>,
    /// The message of every error a step met, expected or not.
    pub errors: Vec<String>,
}

/// Runs `scenario`: its failures and the errors its steps met.
pub fn run_scenario(scenario: &Scenario, options: &CheckOptions) -> ScenarioRunOutcome {
    let store = match Store::open_in_memory() {
        Ok(store) => store,
        Err(error) => {
            return ScenarioRunOutcome {
                failures: vec![Failure {
                    location: Location::Scenario,
                    problem: Problem::Setup(format!("the in-memory store did not open: {error}")),
                    note: None,
                }],
                errors: Vec::new(),
            }
        }
    };
    let mut run = ScenarioRun {
        store,
        names: Names::default(),
        options,
        live_views: Vec::new(),
        failures: Vec::new(),
        errors: Vec::new(),
    };
    if let Some(schema) = &scenario.schema {
        if let Some(problem) = run.transact(schema, None, None) {
            // Every step depends on the schema: their failures would be noise.
            run.fail(Location::Schema, problem, None);
            return run.outcome();
        }
    }
    for (index, step) in scenario.steps.iter().enumerate() {
        let number = index + 1;
        let note = read_note(step);
        match read_step(step) {
            Ok(action) => run.step(number, &action, &note),
            Err(message) => run.fail(Location::Step(number), Problem::Malformed(message), note),
        }
        run.check_live_views(number);
    }
    run.outcome()
}

/// A query the runner registered as a view (`--views`), to compare with the
/// query run from scratch after every later step.
struct LiveView {
    name: String,
    query: Value,
    args: Vec<Value>,
    /// The step that registered it.
    step: usize,
}

struct ScenarioRun<'o> {
    store: Store,
    names: Names,
    options: &'o CheckOptions,
    live_views: Vec<LiveView>,
    failures: Vec<Failure>,
    errors: Vec<String>,
}

/// What a step did.
enum Actual {
    /// A transaction committed.
    Committed,
    /// A read gave this value.
    Value(Value),
    /// The step failed with an error of this category.
    Failed {
        category: ErrorCategory,
        message: String,
    },
}

impl Actual {
    fn from_error(error: &factlite::Error) -> Actual {
        Actual::Failed {
            category: error.category(),
            message: error.to_string(),
        }
    }

    fn from_read(result: factlite::Result<Value>) -> Actual {
        match result {
            Ok(value) => Actual::Value(value),
            Err(error) => Actual::from_error(&error),
        }
    }
}

impl fmt::Display for Actual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actual::Committed => f.write_str("success"),
            Actual::Value(value) => write!(f, "{value}"),
            Actual::Failed { category, message } => write!(f, "error {category}: {message}"),
        }
    }
}

impl ScenarioRun<'_> {
    fn fail(&mut self, location: Location, problem: Problem, note: Option<String>) {
        self.failures.push(Failure {
            location,
            problem,
            note,
        });
    }

    fn step(&mut self, number: usize, action: &Action, note: &Option<String>) {
        let problems = match action {
            Action::Transact {
                tx_data,
                name,
                expect_error,
            } => Vec::from_iter(self.transact(tx_data, name.as_deref(), *expect_error)),
            Action::Query {
                query,
                args,
                time,
                expect,
            } => self.query(number, query, args, time, expect),
            Action::Pull {
                pattern,
                eid,
                expect,
            } => Vec::from_iter(self.pull(pattern, eid, expect)),
            Action::Materialize { name, query, args } => {
                Vec::from_iter(self.materialize(name, query, args))
            }
            Action::View { name, expect } => Vec::from_iter(self.view(name, expect)),
            Action::With {
                tx_data,
                read,
                expect,
            } => Vec::from_iter(self.with(tx_data, read, expect)),
            Action::DropView { name } => views::drop(&self.store, name)
                .err()
                .map(|error| Problem::View(error.to_string()))
                .into_iter()
                .collect(),
        };
        for problem in problems {
            self.fail(Location::Step(number), problem, note.clone());
        }
    }

    /// Transacts `tx_data`, remembering its tempids and its name on success.
    fn transact(
        &mut self,
        tx_data: &Value,
        name: Option<&str>,
        expect_error: Option<ErrorCategory>,
    ) -> Option<Problem> {
        let actual = match tags::resolve(tx_data, &self.names) {
            Ok(tx_data) => match self.store.transact(&tx_data) {
                Ok(report) => {
                    self.names.add_tempids(&report.tempids);
                    if let Some(name) = name {
                        self.names.add_transaction(name, report.tx);
                    }
                    Actual::Committed
                }
                Err(error) => Actual::from_error(&error),
            },
            Err(error @ TagError::NotAName { .. }) => {
                return Some(Problem::Malformed(error.to_string()))
            }
            // A name no earlier transaction made names no entity.
            Err(error) => Actual::Failed {
                category: ErrorCategory::UnknownEntity,
                message: error.to_string(),
            },
        };
        self.note_error(&actual);
        match (expect_error, actual) {
            (None, Actual::Committed) => None,
            (Some(expected), Actual::Failed { category, .. }) if category == expected => None,
            (expected, actual) => Some(Problem::Mismatch {
                expected: match expected {
                    Some(category) => format!("error {category}"),
                    None => "success".to_string(),
                },
                actual: actual.to_string(),
                difference: None,
            }),
        }
    }

    fn query(
        &mut self,
        number: usize,
        query: &Value,
        args: &[Value],
        time: &TimeTravel,
        expect: &Expectation,
    ) -> Vec<Problem> {
        let (query, args) = match resolve_query(query, args, &self.names) {
            Ok(resolved) => resolved,
            Err(error) => return vec![Problem::Malformed(error.to_string())],
        };
        let db = match self.db(time) {
            Ok(Ok(db)) => db,
            Ok(Err(actual)) => return Vec::from_iter(self.judge(expect, actual)),
            Err(problem) => return vec![problem],
        };
        let actual = Actual::from_read(db.q(&query, &args).map(QueryResult::into_edn));
        let mut problems = Vec::from_iter(self.judge(expect, actual));
        let registrable = self.options.views
            && time.is_current()
            && matches!(expect, Expectation::Value(_))
            && only_rule_inputs(&query)
            && !self
                .live_views
                .iter()
                .any(|view| view.query == query && view.args == args);
        if registrable {
            let name = format!("check-view-{number}");
            match views::materialize(&self.store, &name, &query, &args) {
                Ok(()) => self.live_views.push(LiveView {
                    name,
                    query,
                    args,
                    step: number,
                }),
                Err(error) => problems.push(Problem::View(format!("--views: {error}"))),
            }
        }
        problems
    }

    /// The database a query runs against: `Err` for a malformed time
    /// travel, `Ok(Err)` when the store fails to give one.
    fn db(&self, time: &TimeTravel) -> Result<Result<Db, Actual>, Problem> {
        let as_of = time
            .as_of
            .as_ref()
            .map(|t| self.transaction(":as-of", t))
            .transpose()?;
        let since = time
            .since
            .as_ref()
            .map(|t| self.transaction(":since", t))
            .transpose()?;
        let mut db = match self.store.db() {
            Ok(db) => db,
            Err(error) => return Ok(Err(Actual::from_error(&error))),
        };
        if time.history {
            db = db.history();
        }
        if let Some(tx) = as_of {
            db = db.as_of(tx);
        }
        if let Some(tx) = since {
            db = db.since(tx);
        }
        Ok(Ok(db))
    }

    /// The transaction id an `:as-of` or `:since` value names.
    fn transaction(&self, key: &str, value: &Value) -> Result<Entid, Problem> {
        match tags::resolve(value, &self.names) {
            Ok(Value::Integer(tx)) => Ok(tx),
            Ok(other) => Err(Problem::Malformed(format!(
                "{key} takes a transaction, written #tx \"name\", not {other}"
            ))),
            Err(error) => Err(Problem::Malformed(error.to_string())),
        }
    }

    fn pull(&mut self, pattern: &Value, eid: &Value, expect: &Expectation) -> Option<Problem> {
        let resolved = tags::resolve(pattern, &self.names)
            .and_then(|pattern| Ok((pattern, tags::resolve(eid, &self.names)?)));
        let (pattern, eid) = match resolved {
            Ok(resolved) => resolved,
            Err(error) => return Some(Problem::Malformed(error.to_string())),
        };
        let actual = match self.store.db() {
            Ok(db) => Actual::from_read(db.pull(&pattern, &eid)),
            Err(error) => Actual::from_error(&error),
        };
        self.judge(expect, actual)
    }

    /// A read of the database as `tx_data` would leave it; the names the
    /// speculative transaction's tempids get hold for the read only.
    fn with(
        &mut self,
        tx_data: &Value,
        read: &SpeculativeRead,
        expect: &Expectation,
    ) -> Option<Problem> {
        let tx_data = match tags::resolve(tx_data, &self.names) {
            Ok(tx_data) => tx_data,
            Err(error) => return Some(Problem::Malformed(error.to_string())),
        };
        let names = &self.names;
        let outcome = self.store.with(&tx_data, |db, report| {
            let mut names = names.clone();
            names.add_tempids(&report.tempids);
            Ok(match read {
                SpeculativeRead::Query { query, args } => {
                    match resolve_query(query, args, &names) {
                        Ok((query, args)) => Ok(db.q(&query, &args).map(QueryResult::into_edn)),
                        Err(error) => Err(error.to_string()),
                    }
                }
                SpeculativeRead::Pull { pattern, eid } => {
                    let resolved = tags::resolve(pattern, &names)
                        .and_then(|pattern| Ok((pattern, tags::resolve(eid, &names)?)));
                    match resolved {
                        Ok((pattern, eid)) => Ok(db.pull(&pattern, &eid)),
                        Err(error) => Err(error.to_string()),
                    }
                }
            })
        });
        let actual = match outcome {
            Ok(Ok(read)) => Actual::from_read(read),
            Ok(Err(malformed)) => return Some(Problem::Malformed(malformed)),
            Err(error) => Actual::from_error(&error),
        };
        self.judge(expect, actual)
    }

    fn materialize(&self, name: &str, query: &Value, args: &[Value]) -> Option<Problem> {
        let (query, args) = match resolve_query(query, args, &self.names) {
            Ok(resolved) => resolved,
            Err(error) => return Some(Problem::Malformed(error.to_string())),
        };
        views::materialize(&self.store, name, &query, &args)
            .err()
            .map(|error| Problem::View(error.to_string()))
    }

    fn view(&mut self, name: &str, expect: &Expectation) -> Option<Problem> {
        match views::read(&self.store, name) {
            Ok(value) => self.judge(expect, Actual::Value(value)),
            Err(error) => Some(Problem::View(error.to_string())),
        }
    }

    /// `--views`: every live view must equal its query run from scratch.
    fn check_live_views(&mut self, number: usize) {
        let mut problems = Vec::new();
        for view in &self.live_views {
            let fresh = match self.store.db() {
                Ok(db) => Actual::from_read(
                    db.q_from_scratch(&view.query, &view.args)
                        .map(QueryResult::into_edn),
                ),
                Err(error) => Actual::from_error(&error),
            };
            let kept = match views::read(&self.store, &view.name) {
                Ok(value) => Actual::Value(value),
                Err(error) => {
                    problems.push(Problem::View(format!("--views: {error}")));
                    continue;
                }
            };
            let difference = match (&fresh, &kept) {
                (Actual::Value(fresh_value), Actual::Value(kept_value)) => {
                    compare(fresh_value, kept_value)
                        .err()
                        .map(|d| d.to_string())
                }
                _ => Some("the query from scratch failed".to_string()),
            };
            if let Some(difference) = difference {
                problems.push(Problem::Mismatch {
                    expected: fresh.to_string(),
                    actual: kept.to_string(),
                    difference: Some(format!(
                        "--views: view of the query of step {} differs from the query run from scratch: {difference}",
                        view.step
                    )),
                });
            }
        }
        for problem in problems {
            self.fail(Location::Step(number), problem, None);
        }
    }

    fn outcome(self) -> ScenarioRunOutcome {
        ScenarioRunOutcome {
            failures: self.failures,
            errors: self.errors,
        }
    }

    /// Keeps the message of an error a step met.
    fn note_error(&mut self, actual: &Actual) {
        if let Actual::Failed { message, .. } = actual {
            self.errors.push(message.clone());
        }
    }

    /// Judges what a reading step gave against what it expects.
    fn judge(&mut self, expect: &Expectation, actual: Actual) -> Option<Problem> {
        self.note_error(&actual);
        match (expect, &actual) {
            (Expectation::Value(written), Actual::Value(value)) => {
                let expected = match tags::resolve(written, &self.names) {
                    Ok(expected) => expected,
                    Err(error) => return Some(Problem::Malformed(error.to_string())),
                };
                compare(&expected, value)
                    .err()
                    .map(|difference| Problem::Mismatch {
                        expected: written.to_string(),
                        actual: actual.to_string(),
                        difference: is_collection(written).then(|| difference.to_string()),
                    })
            }
            (Expectation::Error(expected), Actual::Failed { category, .. })
                if category == expected =>
            {
                None
            }
            (expected, actual) => Some(Problem::Mismatch {
                expected: match expected {
                    Expectation::Value(written) => written.to_string(),
                    Expectation::Error(category) => format!("error {category}"),
                },
                actual: actual.to_string(),
                difference: None,
            }),
        }
    }
}

fn resolve_query(
    query: &Value,
    args: &[Value],
    names: &Names,
) -> Result<(Value, Vec<Value>), TagError> {
    Ok((
        tags::resolve(query, names)?,
        tags::resolve_all(args, names)?,
    ))
}

/// A difference inside a collection is worth spelling out; between two
/// scalars the values say it all.
fn is_collection(value: &Value) -> bool {
    matches!(
        value,
        Value::Set(_) | Value::Vector(_) | Value::List(_) | Value::Map(_)
    )
}

/// Whether every input of the query's `:in` is the database `$` or a rule
/// set `%`, so that it can be a view (FORMAT.md, `--views`).
fn only_rule_inputs(query: &Value) -> bool {
    let is_in = |value: &Value| {
        value
            .as_keyword()
            .is_some_and(|k| k.namespace.is_none() && k.name == "in")
    };
    let bindings: Vec<&Value> = match query {
        Value::Vector(items) => items
            .iter()
            .skip_while(|item| !is_in(item))
            .skip(1)
            .take_while(|item| !matches!(item, Value::Keyword(_)))
            .collect(),
        Value::Map(map) => match map.get(&Value::keyword("in")) {
            Some(Value::Vector(items)) | Some(Value::List(items)) => items.iter().collect(),
            Some(_) => return false,
            None => Vec::new(),
        },
        _ => return false,
    };
    bindings
        .iter()
        .all(|binding| binding.as_symbol().is_some_and(|s| s.is("$") || s.is("%")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_take_only_queries_whose_inputs_are_rules() {
        let cases = [
            ("[:find ?e :where [?e :a 1]]", true),
            ("[:find ?e :in $ % :where (r ?e)]", true),
            ("[:find ?e :in $ ?x :where [?e :a ?x]]", false),
            ("[:find ?e :in $ [?x ...] :where [?e :a ?x]]", false),
            ("{:find [?e] :in [$ %] :where [(r ?e)]}", true),
            ("{:find [?e] :in [$ ?x] :where [[?e :a ?x]]}", false),
        ];
        for (text, expected) in cases {
            let query = factlite::edn::parse(text).expect("test query is EDN");
            assert_eq!(only_rule_inputs(&query), expected, "{text}");
        }
    }
}
