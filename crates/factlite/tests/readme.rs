//! The repository's README shows library code only as copies of the
//! crate's guide (`crates/factlite/README.md`), whose examples are this
//! crate's doc tests: every ```rust block of the top-level README must
//! appear, verbatim, among the guide's, so it is compiled and run too.

/// The ```rust blocks of a Markdown text.
fn rust_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in markdown.lines() {
        let fence = line.trim_start();
        match current.as_mut() {
            None if fence == "```rust" => current = Some(Vec::new()),
            Some(_) if fence == "```" => {
                blocks.extend(current.take().map(|lines| lines.join("\n")))
            }
            Some(lines) => lines.push(line),
            None => {}
        }
    }
    blocks
}

#[test]
fn every_rust_block_of_the_readme_is_one_of_the_guides_compiled_examples() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let guide = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(root).expect("README.md");
    let guide = rust_blocks(&std::fs::read_to_string(guide).expect("crates/factlite/README.md"));
    let shown = rust_blocks(&readme);
    assert!(
        !shown.is_empty(),
        "the README shows the library's typed way"
    );
    assert!(guide.len() >= 5, "the guide has its examples");
    for block in shown {
        assert!(
            guide.contains(&block),
            "this README block is not one of the guide's compiled examples:\n{block}"
        );
    }
}

#[test]
fn the_block_reader_finds_fenced_rust_only() {
    let text = "intro\n```rust\nlet a = 1;\n```\n```sh\nls\n```\n  ```rust\n  b\n  ```\n";
    assert_eq!(rust_blocks(text), ["let a = 1;", "  b"]);
}
