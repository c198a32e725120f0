//! The project's own scenarios, `tests/scenarios/*.edn`: behaviour beyond
//! the shared corpus, in the same format.

use factlite_cli::check::CheckOptions;
use factlite_tests::{assert_scenarios_pass_with, edn_files, local_scenarios_dir};

#[test]
fn local_scenarios_pass() {
    let files = edn_files(&local_scenarios_dir());
    assert_scenarios_pass_with(&files, &CheckOptions { views: false });
    assert_scenarios_pass_with(&files, &CheckOptions { views: true });
}
