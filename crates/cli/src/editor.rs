//! The line editor's helper for rustyline: a statement goes on over
//! several lines until its brackets balance ([`input::is_complete`]), and
//! Tab completes dot commands at the start of the input, view names after
//! `.view` and `.drop-view`, and keywords (attribute idents and other
//! idents) anywhere else.

use std::cell::RefCell;
use std::rc::Rc;

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use crate::commands::COMMANDS;
use crate::input;
use crate::session::Session;

/// The words Tab can complete besides the dot commands: idents, and view
/// names after `.view` and `.drop-view`. The REPL refreshes them after each
/// statement ([`Completions::refresh`]).
#[derive(Clone, Default)]
pub struct Completions {
    words: Rc<RefCell<Vec<String>>>,
    views: Rc<RefCell<Vec<String>>>,
}

/// The commands whose argument is a view name.
const VIEW_COMMANDS: [&str; 2] = [".view", ".drop-view"];

impl Completions {
    /// Reads the idents of the session's store again (a statement may have
    /// added attributes, or `.open` changed the store).
    pub fn refresh(&self, session: &Session) {
        let Ok(schema) = session.store().schema() else {
            return;
        };
        let mut words: Vec<String> = schema
            .idents()
            .map(|(ident, _)| format!(":{}", ident.qualified_name()))
            .collect();
        words.sort();
        *self.words.borrow_mut() = words;
        if let Ok(views) = session.store().views() {
            *self.views.borrow_mut() = views.into_iter().map(|info| info.name).collect();
        }
    }

    /// The candidates for the word that ends at `pos` in `line`, and where
    /// that word starts.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let start = before
            .rfind(|c: char| c.is_whitespace() || "()[]{}\"".contains(c))
            .map_or(0, |index| index + 1);
        let word = &before[start..];
        let command = before[..start].trim();
        let words: Vec<String> = if word.starts_with('.') && command.is_empty() {
            COMMANDS
                .iter()
                .map(|command| command.name.to_string())
                .filter(|name| name.starts_with(word))
                .collect()
        } else if VIEW_COMMANDS.contains(&command) {
            self.views
                .borrow()
                .iter()
                .filter(|name| name.starts_with(word))
                .cloned()
                .collect()
        } else if word.starts_with(':') {
            self.words
                .borrow()
                .iter()
                .filter(|ident| ident.starts_with(word))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        (start, words)
    }
}

/// rustyline's helper: completion and multi-line input.
pub struct ReplHelper {
    /// What Tab completes.
    pub completions: Completions,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
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

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if input::is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

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
}
