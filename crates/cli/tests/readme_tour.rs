//! The README's REPL tour works as written: every `factlite>` line of the
//! tour block is typed (on stdin) into `factlite` with no database argument
//! in an empty directory, so it creates the sample database, and the whole
//! output must equal the lines the README shows after each prompt. The
//! README's `created ...` line must be what factlite says on stderr.

mod support;

use std::path::Path;

/// What the README's tour block says: the statements typed, the output
/// expected on stdout, and the lines expected on stderr.
struct Tour {
    statements: Vec<String>,
    stdout: String,
    stderr: String,
}

/// A prompt as the REPL prints it: `factlite> ` or `factlite(as-of 123)> `.
fn after_prompt(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("factlite")?;
    let rest = match rest.strip_prefix('(') {
        Some(inside) => &inside[inside.find(')')? + 1..],
        None => rest,
    };
    rest.strip_prefix("> ")
}

fn read_tour(readme: &str) -> Tour {
    let start = readme
        .find("<!-- tour")
        .expect("the README has a tour block");
    let block = &readme[start..];
    let body_start = block.find("```text\n").expect("the tour is a text block") + "```text\n".len();
    let body = &block[body_start..];
    let body = &body[..body.find("```").expect("the tour block ends")];
    let mut tour = Tour {
        statements: Vec::new(),
        stdout: String::new(),
        stderr: String::new(),
    };
    for line in body.lines() {
        if let Some(statement) = after_prompt(line) {
            tour.statements.push(statement.to_string());
        } else if tour.statements.is_empty() {
            // Before the first prompt: the command, what factlite says on
            // stderr while creating the sample, and the interactive banner.
            if line.starts_with("created ") {
                tour.stderr.push_str(line);
                tour.stderr.push('\n');
            }
        } else {
            tour.stdout.push_str(line);
            tour.stdout.push('\n');
        }
    }
    tour
}

#[test]
fn the_readme_tour_prints_what_the_readme_shows() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(readme_path).expect("README.md");
    let tour = read_tour(&readme);
    assert!(tour.statements.len() >= 10, "{:?}", tour.statements);
    assert!(
        !tour.stderr.is_empty(),
        "the tour shows the sample being created"
    );

    let work = tempfile::tempdir().expect("temporary directory");
    let input = tour.statements.join("\n") + "\n";
    let output = support::factlite_with_input(work.path(), &[], &input);
    assert_eq!(String::from_utf8_lossy(&output.stderr), tour.stderr);
    assert_eq!(String::from_utf8_lossy(&output.stdout), tour.stdout);
    assert!(output.status.success());
    assert!(work.path().join("factlite-sample.db").exists());
}
