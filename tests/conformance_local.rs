//! The project's own scenarios, `tests/scenarios/*.edn`: behaviour beyond
//! the shared corpus, in the same format.

use factlite_tests::{assert_scenarios_pass, edn_files, workspace_root};

#[test]
fn local_scenarios_pass() {
    assert_scenarios_pass(&edn_files(&workspace_root().join("tests/scenarios")));
}
