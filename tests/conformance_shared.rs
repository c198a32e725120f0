//! The shared conformance corpus (`../shared/conformance/*.edn`), one test
//! per file so the test output shows which feature areas pass, each run
//! plain and with every query materialized (`--views`). Without the corpus
//! (a fresh clone) each test passes having run nothing, and the test binary
//! says so once; `.ci/run` makes that a failure.

use factlite_cli::check::CheckOptions;
use factlite_tests::{assert_scenarios_pass_with, edn_files, shared_conformance_dir};

/// Runs one file of the shared corpus, as `check` and as `check --views`
/// (every query also materialized the first time it is met, and checked
/// against itself run from scratch after every later step).
fn check(file_name: &str) {
    let Some(dir) = shared_conformance_dir() else {
        return;
    };
    let file = [dir.join(file_name)];
    assert_scenarios_pass_with(&file, &CheckOptions { views: false });
    assert_scenarios_pass_with(&file, &CheckOptions { views: true });
}

macro_rules! shared_files {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check($file);
            }
        )*

        /// Every file the tests above run.
        const FILES: &[&str] = &[$($file),*];
    };
}

shared_files! {
    transact => "01-transact.edn",
    schema => "02-schema.edn",
    patterns_joins => "03-patterns-joins.edn",
    predicates_functions => "04-predicates-functions.edn",
    or_not => "05-or-not.edn",
    rules => "06-rules.edn",
    aggregates => "07-aggregates.edn",
    find_specs_inputs => "08-find-specs-inputs.edn",
    pull => "09-pull.edn",
    time => "10-time.edn",
    errors => "11-errors.edn",
    views => "12-views.edn",
}

/// A file added to the corpus needs a test above, or it would never run.
#[test]
fn every_shared_file_has_a_test() {
    let Some(dir) = shared_conformance_dir() else {
        return;
    };
    let on_disk: Vec<String> = edn_files(&dir)
        .iter()
        .filter_map(|path| path.file_name()?.to_str().map(str::to_string))
        .collect();
    let expected: Vec<&str> = FILES.to_vec();
    assert_eq!(
        on_disk, expected,
        "add a test per new file to tests/conformance_shared.rs"
    );
}
