//! The line editor's helper for rustyline: Tab completes dot commands at
//! the start of the input, file names after the commands that take a path,
//! mode names after `.mode`, `on`/`off` after the switches, view names
//! after `.view` and `.drop-view`, the variables of the statement being
//! typed (its earlier lines included) after `?`, and keywords (attribute
//! idents and other idents, factlite's internal ones left out) anywhere
//! else. The REPL itself gathers the lines of a statement until its
//! brackets balance ([`crate::input::is_complete`]), with a continuation
//! prompt.

use std::cell::RefCell;
use std::rc::Rc;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::commands::{is_internal, COMMANDS, FILE_COMMANDS, SWITCH_COMMANDS};
use crate::render::Mode;
use crate::session::Session;

/// The words Tab can complete besides the dot commands: idents, view
/// names, and the earlier lines of the statement being typed. The REPL
/// refreshes them after each statement ([`Completions::refresh`]).
#[derive(Clone, Default)]
pub struct Completions {
    words: Rc<RefCell<Vec<String>>>,
    views: Rc<RefCell<Vec<String>>>,
    pending: Rc<RefCell<String>>,
}

/// The commands whose argument is a view name.
const VIEW_COMMANDS: [&str; 2] = [".view", ".drop-view"];

/// Whether a character can be part of a variable's name.
fn in_variable(c: char) -> bool {
    c.is_alphanumeric() || "?-_*+!<>=/.'".contains(c)
}

impl Completions {
    /// Reads the idents of the session's store again (a statement may have
    /// added attributes, or `.open` changed the store).
    pub fn refresh(&self, session: &Session) {
        let Ok(schema) = session.store().schema() else {
            return;
        };
        let mut words: Vec<String> = schema
            .idents()
            .filter(|(ident, _)| !is_internal(ident))
            .map(|(ident, _)| format!(":{}", ident.qualified_name()))
            .collect();
        words.sort();
        *self.words.borrow_mut() = words;
        if let Ok(views) = session.store().views() {
            *self.views.borrow_mut() = views.into_iter().map(|info| info.name).collect();
        }
    }

    /// The earlier lines of the statement being typed (empty on its first).
    pub fn set_pending(&self, lines: &str) {
        *self.pending.borrow_mut() = lines.to_string();
    }

    /// The variables (`?name`) of the statement being typed, sorted.
    fn variables(&self, line: &str) -> Vec<String> {
        let text = format!("{} {line}", self.pending.borrow());
        let mut variables: Vec<String> = text
            .split(|c: char| !in_variable(c))
            .filter(|word| word.len() > 1 && word.starts_with('?'))
            .map(str::to_string)
            .collect();
        variables.sort();
        variables.dedup();
        variables
    }

    /// The candidates for the word that ends at `pos` in `line`, and where
    /// that word starts. (File names are completed by [`ReplHelper`].)
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let start = before
            .rfind(|c: char| c.is_whitespace() || "()[]{}\"".contains(c))
            .map_or(0, |index| index + 1);
        let word = &before[start..];
        let command = before[..start].trim();
        let first_line = self.pending.borrow().is_empty();
        let starting = |candidates: Vec<String>| -> Vec<String> {
            candidates
                .into_iter()
                .filter(|candidate| candidate.starts_with(word) && candidate != word)
                .collect()
        };
        let words: Vec<String> = if word.starts_with('.') && command.is_empty() && first_line {
            starting(COMMANDS.iter().map(|c| c.name.to_string()).collect())
        } else if command == ".mode" {
            starting(
                Mode::ALL
                    .iter()
                    .map(|mode| mode.name().to_string())
                    .collect(),
            )
        } else if SWITCH_COMMANDS.contains(&command) {
            starting(vec!["on".to_string(), "off".to_string()])
        } else if VIEW_COMMANDS.contains(&command) {
            starting(self.views.borrow().clone())
        } else if word.starts_with('?') {
            starting(self.variables(&line[..start]))
        } else if word.starts_with(':') {
            starting(self.words.borrow().clone())
        } else {
            Vec::new()
        };
        (start, words)
    }
}

/// rustyline's helper: completion.
pub struct ReplHelper {
    /// What Tab completes.
    pub completions: Completions,
}

/// Whether the file-name completer should answer: the line is a command
/// that takes a path, and the cursor is in its first argument.
fn wants_file_name(line: &str, pos: usize) -> bool {
    let Some((command, argument)) = line[..pos].split_once(char::is_whitespace) else {
        return false;
    };
    FILE_COMMANDS.contains(&command) && !argument.trim_start().contains(char::is_whitespace)
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if self.completions.pending.borrow().is_empty() && wants_file_name(line, pos) {
            return FilenameCompleter::new().complete(line, pos, ctx);
        }
        let (start, words) = self.completions.candidates(line, pos);
        let pairs = words
            .into_iter()
            .map(|word| Pair {
                display: word.clone(),
                replacement: word,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Validator for ReplHelper {}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_completes_commands_at_the_start_and_idents_elsewhere() {
        let completions = Completions::default();
        *completions.words.borrow_mut() = vec![
            ":film/title".into(),
            ":film/year".into(),
            ":person/name".into(),
        ];
        assert_eq!(
            completions.candidates(".ex", 3),
            (0, vec![".explain".to_string(), ".export".to_string()])
        );
        assert_eq!(
            completions.candidates("[:find ?t :where [?f :film/", 27).1,
            [":film/title", ":film/year"]
        );
        assert_eq!(completions.candidates("[?f :film/", 10).0, 4);
        assert!(completions.candidates("[:find .ex", 10).1.is_empty());
        *completions.views.borrow_mut() = vec!["by_year".into(), "busy".into(), "cast".into()];
        assert_eq!(
            completions.candidates(".drop-view b", 12),
            (11, vec!["by_year".to_string(), "busy".to_string()])
        );
        assert_eq!(completions.candidates(".view c", 7).1, ["cast"]);
    }

    /// Each case: the earlier lines of the statement, the line up to the
    /// cursor, and the candidates.
    #[test]
    fn tab_completes_modes_switches_and_the_statements_variables() {
        let completions = Completions::default();
        for (pending, line, expected) in [
            ("", ".mode m", &["markdown"][..]),
            (
                "",
                ".mode ",
                &[
                    "table", "box", "markdown", "line", "edn", "json", "csv", "tsv",
                ][..],
            ),
            ("", ".headers o", &["on", "off"][..]),
            (
                "",
                "[:find ?title ?year :where [?f :film/title ?t",
                &["?title"][..],
            ),
            (
                "[:find ?title ?tx",
                " :where [?f :film/title ?t",
                &["?title", "?tx"][..],
            ),
            ("[:find ?x", ".ex", &[][..]),
        ] {
            completions.set_pending(pending);
            assert_eq!(
                completions.candidates(line, line.len()).1,
                expected,
                "{pending:?} {line:?}"
            );
        }
        assert!(wants_file_name(".read ~/scr", 11));
        assert!(wants_file_name(".export out.", 12));
        assert!(!wants_file_name(".export out.csv [:find", 22));
        assert!(!wants_file_name(".schema :a", 10));
    }
}
