//! `factlite verify FILE`: runs [`factlite::Store::verify`] on a database
//! opened read-only and prints what it found, as text or (`--json`) as one
//! JSON object.

use std::path::Path;

use factlite::{Store, VerifyReport};
use serde_json::json;

use crate::error::CliError;

/// Opens the database for reading only (nothing is written to it or
/// beside it) and verifies it.
pub fn verify_file(path: &Path) -> Result<VerifyReport, CliError> {
    Ok(Store::open_read_only(path)?.verify()?)
}

/// The report as text: one line per problem and a last line naming the file
/// and the verdict.
pub fn report_text(path: &Path, report: &VerifyReport) -> String {
    let file = path.display();
    if report.is_clean() {
        return format!("{file}: no problems found\n");
    }
    let mut text = String::new();
    for problem in &report.problems {
        text.push_str(&format!("{problem}\n"));
    }
    let found = crate::words::counted(report.problems.len(), "problem");
    text.push_str(&format!("{file}: {found} found\n"));
    text
}

/// The report as JSON: `{"file", "clean", "problems": [{"kind", "summary",
/// "count", "examples"}]}`.
pub fn report_json(path: &Path, report: &VerifyReport) -> serde_json::Value {
    let problems: Vec<serde_json::Value> = report
        .problems
        .iter()
        .map(|problem| {
            json!({
                "kind": problem.kind.name(),
                "summary": problem.summary,
                "count": problem.count,
                "examples": problem.examples,
            })
        })
        .collect();
    json!({
        "file": path.display().to_string(),
        "clean": report.is_clean(),
        "problems": problems,
    })
}
