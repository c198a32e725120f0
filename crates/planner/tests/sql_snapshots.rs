//! Snapshot tests of the SQL the planner generates. Each file in `sql/`
//! starts with a query (and optionally `;; inputs: [...]`, and
//! `;; databases: [[position kind tx] ...]` for the inputs that are
//! databases, `kind` one of `:as-of`, `:since`, `:history`), then `---`, then
//! the expected SQL (one clause per line) and parameters. Run with
//! `UPDATE_SNAPSHOTS=1` to rewrite the expectations after a deliberate
//! planning change, and review the diff.

use std::collections::HashMap;
use std::path::Path;

use factlite_core::{Attribute, Cardinality, Entid, Schema, Unique, ValueType};
use factlite_edn::Keyword;
use factlite_planner::{
    compile, signature_with_databases, Context, DatabaseInput, Source, Statistics,
};

struct FixedCounts(HashMap<Entid, i64>);

impl Statistics for FixedCounts {
    fn attribute_count(&self, attribute: Entid) -> i64 {
        self.0.get(&attribute).copied().unwrap_or(0)
    }
    fn total(&self) -> i64 {
        self.0.values().sum()
    }
}

/// A person schema: name (indexed), email (unique), age, salary, friend
/// (ref, many), wealth (a big integer, indexed).
fn schema() -> (Schema, FixedCounts) {
    let mut schema = Schema::new();
    let mut counts = HashMap::new();
    let attributes = [
        (
            100,
            "name",
            ValueType::String,
            Cardinality::One,
            None,
            true,
            100_000,
        ),
        (
            101,
            "email",
            ValueType::String,
            Cardinality::One,
            Some(Unique::Identity),
            false,
            100_000,
        ),
        (
            102,
            "age",
            ValueType::Long,
            Cardinality::One,
            None,
            false,
            100_000,
        ),
        (
            103,
            "salary",
            ValueType::Long,
            Cardinality::One,
            None,
            false,
            50_000,
        ),
        (
            104,
            "friend",
            ValueType::Ref,
            Cardinality::Many,
            None,
            false,
            300_000,
        ),
        (
            105,
            "wealth",
            ValueType::BigInt,
            Cardinality::One,
            None,
            true,
            10_000,
        ),
    ];
    for (id, name, value_type, cardinality, unique, index, count) in attributes {
        schema.set_attribute(Attribute {
            id,
            ident: Keyword::namespaced("person", name),
            value_type,
            cardinality,
            unique,
            index,
            is_component: false,
            no_history: false,
            fulltext: false,
            doc: None,
            tuple: None,
        });
        counts.insert(id, count);
    }
    (schema, FixedCounts(counts))
}

fn pretty(sql: &str) -> String {
    let mut out = sql.to_string();
    for keyword in [
        " FROM ",
        " CROSS JOIN ",
        " WHERE ",
        " GROUP BY ",
        " HAVING ",
        " ORDER BY ",
        " LIMIT ",
        " UNION ",
    ] {
        out = out.replace(keyword, &format!("\n{}", keyword.trim_start()));
    }
    out
}

/// The fixpoint programs a plan runs before its statement, one statement
/// per line (empty for most plans).
fn fixpoint_programs(plan: &factlite_planner::Plan) -> String {
    let mut out = String::new();
    for program in &plan.fixpoint {
        for (part, statements) in [
            ("setup", &program.setup),
            ("round", &program.round),
            ("teardown", &program.teardown),
        ] {
            for statement in statements {
                out.push_str(&format!("-- fixpoint {part}:\n{}\n", pretty(statement)));
            }
        }
    }
    if !out.is_empty() {
        out.push_str("-- statement:\n");
    }
    out
}

/// The vector after `;; {directive}` in a snapshot's input, if any.
fn directive(text: &str, directive: &str) -> Vec<factlite_edn::Value> {
    text.lines()
        .find_map(|l| l.strip_prefix(directive))
        .map(|t| match factlite_edn::parse(t) {
            Ok(vector @ factlite_edn::Value::Vector(_)) => {
                vector.into_sequence().unwrap_or_default()
            }
            other => panic!("{directive} must be a vector, got {other:?}"),
        })
        .unwrap_or_default()
}

/// A `[position kind tx]` of `;; databases:`.
fn database(value: &factlite_edn::Value) -> DatabaseInput {
    use factlite_edn::Value;
    let Value::Vector(parts) = value else {
        panic!("a database is [position kind tx], got {value}");
    };
    let [Value::Integer(input), Value::Keyword(kind), Value::Integer(tx)] = parts.as_slice() else {
        panic!("a database is [position kind tx], got {value}");
    };
    let source = match kind.to_string().as_str() {
        ":as-of" => Source::AsOf(*tx),
        ":since" => Source::Since(*tx),
        ":history" => Source::History(*tx),
        other => panic!("unknown kind of database {other}"),
    };
    DatabaseInput {
        input: usize::try_from(*input).expect("a position"),
        source,
    }
}

fn render(text: &str) -> String {
    let (schema, counts) = schema();
    let query_text: String = text
        .lines()
        .take_while(|l| !l.starts_with(";; inputs:") && !l.starts_with(";; databases:"))
        .collect::<Vec<_>>()
        .join("\n");
    let inputs = directive(text, ";; inputs:");
    let databases: Vec<DatabaseInput> = directive(text, ";; databases:")
        .iter()
        .map(database)
        .collect();
    let form = factlite_edn::parse(&query_text).expect("the query is EDN");
    let query = factlite_query::parse_query(&form).expect("the query parses");
    let context = Context {
        schema: &schema,
        statistics: &counts,
        source: Source::Current,
        named_sources: &[],
        functions: &[],
    };
    let planned = signature_with_databases(&query, &inputs, &databases)
        .and_then(|signature| compile(&context, &query, &signature))
        .and_then(|plan| plan.with_inputs(&inputs));
    match planned {
        Ok(plan) => match plan.parameters_with_databases(&[], Source::Current, &databases) {
            Ok(params) => format!(
                "{}{}\nparams: {:?}\n",
                fixpoint_programs(&plan),
                pretty(&plan.sql),
                params
            ),
            Err(error) => format!("error: {error}\n"),
        },
        Err(error) => format!("error: {error}\n"),
    }
}

#[test]
fn generated_sql_matches_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/sql exists")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no snapshot files in {}", dir.display());
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("readable snapshot");
        let (input, expected) = text.split_once("\n---\n").unwrap_or((text.as_str(), ""));
        let actual = render(input);
        if update {
            std::fs::write(&path, format!("{input}\n---\n{actual}")).expect("writable snapshot");
        } else if actual != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "SQL changed (UPDATE_SNAPSHOTS=1 to accept):\n{}",
        failures.join("\n")
    );
}
