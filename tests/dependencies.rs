//! The crates form one pipeline, and a lower crate never depends on a
//! higher one (STYLE.md). Checked by scanning each `crates/*/Cargo.toml`.

use factlite_tests::workspace_root;

/// The pipeline, lowest first: (directory under `crates/`, package name).
const PIPELINE: [(&str, &str); 10] = [
    ("edn", "factlite-edn"),
    ("core", "factlite-core"),
    ("query", "factlite-query"),
    ("planner", "factlite-planner"),
    ("store", "factlite-store"),
    ("views", "factlite-views"),
    ("factlite", "factlite"),
    ("replica", "factlite-replica"),
    ("cli", "factlite-cli"),
    ("bench", "factlite-bench"),
];

/// The names of the dependencies a manifest declares, in every dependency
/// table (`[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`,
/// target-specific ones, and `[dependencies.NAME]` tables).
fn dependency_names(manifest: &str) -> Vec<String> {
    let is_dependency_table = |table: &str| {
        let last = table.rsplit('.').next().unwrap_or(table);
        matches!(
            last,
            "dependencies" | "dev-dependencies" | "build-dependencies"
        )
    };
    let mut names = Vec::new();
    let mut in_dependencies = false;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if let Some(table) = line.strip_prefix('[') {
            let table = table.trim_start_matches('[').trim_end_matches(']').trim();
            in_dependencies = is_dependency_table(table);
            for prefix in ["dependencies.", "dev-dependencies.", "build-dependencies."] {
                if let Some(name) = table.strip_prefix(prefix) {
                    names.push(name.to_string());
                }
            }
        } else if in_dependencies {
            if let Some((key, _)) = line.split_once('=') {
                let name = key.trim().split('.').next().unwrap_or_default();
                names.push(name.trim_matches('"').to_string());
            }
        }
    }
    names
}

#[test]
fn lower_crates_never_depend_on_higher_ones() {
    let crates_dir = workspace_root().join("crates");
    let mut directories: Vec<String> = std::fs::read_dir(&crates_dir)
        .expect("crates/ can be listed")
        .map(|entry| entry.expect("crates/ can be listed").file_name())
        .filter_map(|name| name.to_str().map(str::to_string))
        .collect();
    directories.sort();
    let mut known: Vec<String> = PIPELINE.iter().map(|(dir, _)| dir.to_string()).collect();
    known.sort();
    assert_eq!(directories, known, "every crate has a place in PIPELINE");

    let mut violations = Vec::new();
    for (position, (dir, package)) in PIPELINE.iter().enumerate() {
        let manifest_path = crates_dir.join(dir).join("Cargo.toml");
        let manifest = std::fs::read_to_string(&manifest_path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", manifest_path.display()));
        for dependency in dependency_names(&manifest) {
            let higher = PIPELINE[position..]
                .iter()
                .any(|(_, other)| *other == dependency);
            if higher {
                violations.push(format!("{package} depends on {dependency}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "lower crates depend on higher ones (order: {}):\n{}",
        PIPELINE.map(|(_, package)| package).join(" → "),
        violations.join("\n")
    );
}

/// What only the replica crate may link: an async runtime, a network client.
const NETWORK: [&str; 3] = ["tokio", "async-nats", "futures-util"];

#[test]
fn only_the_replica_crate_links_a_network_client_or_an_async_runtime() {
    let crates_dir = workspace_root().join("crates");
    let mut linked = Vec::new();
    for (dir, package) in PIPELINE {
        let manifest = std::fs::read_to_string(crates_dir.join(dir).join("Cargo.toml"))
            .unwrap_or_else(|error| panic!("cannot read {dir}'s manifest: {error}"));
        for dependency in dependency_names(&manifest) {
            if NETWORK.contains(&dependency.as_str()) {
                linked.push(format!("{package} → {dependency}"));
            }
        }
    }
    assert_eq!(
        linked,
        [
            "factlite-replica → async-nats",
            "factlite-replica → tokio",
            "factlite-replica → futures-util"
        ]
    );
}

#[test]
fn the_manifest_scan_finds_every_kind_of_dependency() {
    let manifest = r#"
[package]
name = "x"
version = "1"   # not a dependency

[dependencies]
factlite-edn.workspace = true
indexmap = { version = "2" }

[dev-dependencies]
"factlite-store" = { path = "../store" }

[target.'cfg(unix)'.dependencies]
libc = "0.2"

[dependencies.factlite-cli]
path = "../cli"

[features]
default = []
"#;
    assert_eq!(
        dependency_names(manifest),
        [
            "factlite-edn",
            "indexmap",
            "factlite-store",
            "libc",
            "factlite-cli"
        ]
    );
}
