//! No Rust debug text in any message: every scenario there is (the shared
//! corpus when present, and `tests/scenarios`) is run, and every error its
//! steps meet — expected or not — must read as a message, not as Rust's
//! `Debug` output (issue 13: `the input Binding(Variable(Variable("?t")))`).

use factlite_cli::check::{run_files, CheckOptions};
use factlite_cli::words::debug_text;
use factlite_tests::all_scenario_files;

#[test]
fn no_error_of_any_scenario_reads_like_rust_debug_output() {
    let files = all_scenario_files();
    let summary = run_files(&files, &CheckOptions { views: false });
    let errors: Vec<(String, &str)> = summary
        .scenarios
        .iter()
        .flat_map(|scenario| {
            let name = format!(
                "{} {}",
                scenario.file.display(),
                scenario.name.as_deref().unwrap_or("")
            );
            scenario
                .errors
                .iter()
                .map(move |message| (name.clone(), message.as_str()))
        })
        .collect();
    // Every step that expects an error met one (the scenario tests check
    // that they pass), so the runner has at least that many messages.
    let expected_errors: usize = files
        .iter()
        .map(|file| {
            std::fs::read_to_string(file)
                .expect("scenario file")
                .matches(":expect-error")
                .count()
        })
        .sum();
    assert!(
        errors.len() >= expected_errors && expected_errors > 0,
        "the scenarios met {} errors, and {expected_errors} steps expect one: \
         is the runner still collecting them?",
        errors.len()
    );
    let debug: Vec<String> = errors
        .iter()
        .filter(|(_, message)| debug_text(message).is_some())
        .map(|(scenario, message)| format!("{scenario}: {message}"))
        .collect();
    assert!(
        debug.is_empty(),
        "debug text in messages:\n{}",
        debug.join("\n")
    );
}
