//! Splitting what a user types into statements: a statement is a dot
//! command (a line starting with `.`) or EDN forms, and it goes on over
//! several lines until its brackets balance. The scanner knows EDN's
//! strings, characters and `;` comments, so a bracket inside them does not
//! count. The REPL's line editor asks [`is_complete`]; scripts, `-e` text
//! and imported files are cut with [`statements`] and [`top_level_forms`].

/// One statement of a script, with the 1-based line it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The statement's text, without surrounding blank lines.
    pub text: String,
    /// The line of the script its first character is on.
    pub line: usize,
}

/// How far a text's brackets are from balancing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Scan {
    /// Brackets opened and not yet closed (negative when more closed).
    depth: i64,
    /// The text ends inside a string.
    in_string: bool,
}

fn scan(text: &str) -> Scan {
    let mut state = Scan::default();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if state.in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => state.in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => state.in_string = true,
            '\\' => {
                // A character literal such as `\(` or `\newline`.
                chars.next();
            }
            ';' => {
                for rest in chars.by_ref() {
                    if rest == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => state.depth += 1,
            ')' | ']' | '}' => state.depth -= 1,
            _ => {}
        }
    }
    state
}

/// Whether `text` is a whole statement: no string left open and no bracket
/// left unclosed. Too many closing brackets count as complete, so that the
/// reader reports them.
pub fn is_complete(text: &str) -> bool {
    let state = scan(text);
    !state.in_string && state.depth <= 0
}

/// Cuts a script into statements. A statement ends at the end of a line
/// where its brackets balance; blank lines and lines holding only a `;`
/// comment between statements are skipped. A text that ends inside an open
/// bracket yields that last incomplete statement too, for the reader to
/// reject with a position.
pub fn statements(script: &str) -> Vec<Statement> {
    let mut result = Vec::new();
    let mut current = String::new();
    let mut start_line = 0;
    for (index, line) in script.lines().enumerate() {
        if current.is_empty() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with(';') {
                continue;
            }
            start_line = index + 1;
        } else {
            current.push('\n');
        }
        current.push_str(line);
        if is_complete(&current) {
            result.push(Statement {
                text: std::mem::take(&mut current).trim().to_string(),
                line: start_line,
            });
        }
    }
    if !current.trim().is_empty() {
        result.push(Statement {
            text: current.trim().to_string(),
            line: start_line,
        });
    }
    result
}

/// The byte ranges of the top-level forms of an EDN text that is a sequence
/// of collections (an import file of transaction vectors), found without
/// reading the forms, so that a large file can be read and transacted one
/// form at a time. Text outside any bracket other than whitespace, commas and
/// comments ends up in a range of its own, for the reader to reject.
pub fn top_level_forms(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut depth = 0i64;
    let mut start: Option<usize> = None;
    let mut in_string = false;
    let mut chars = text.char_indices();
    while let Some((offset, c)) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if depth == 0 && start.is_none() {
            if c.is_whitespace() || c == ',' {
                continue;
            }
            if c == ';' {
                for (_, rest) in chars.by_ref() {
                    if rest == '\n' {
                        break;
                    }
                }
                continue;
            }
            start = Some(offset);
        }
        match c {
            '"' => in_string = true,
            '\\' => {
                chars.next();
            }
            ';' => {
                for (_, rest) in chars.by_ref() {
                    if rest == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth <= 0 {
                    if let Some(begin) = start.take() {
                        ranges.push(begin..offset + c.len_utf8());
                    }
                    depth = 0;
                }
            }
            c if depth == 0 && (c.is_whitespace() || c == ',') => {
                if let Some(begin) = start.take() {
                    ranges.push(begin..offset);
                }
            }
            _ => {}
        }
    }
    if let Some(begin) = start {
        ranges.push(begin..text.len());
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completeness_ignores_brackets_in_strings_characters_and_comments() {
        let cases = [
            ("[:find ?x", false),
            ("[:find ?x]", true),
            ("[\"]\"", false),
            ("[\\]", false),
            ("[\\] ]", true),
            ("[; ]\n", false),
            ("[; ]\n]", true),
            ("\"open", false),
            ("]", true),
            (".help", true),
            (".explain [:find ?x\n :where [?x :a/b]]", true),
        ];
        for (text, complete) in cases {
            assert_eq!(is_complete(text), complete, "{text:?}");
        }
    }

    #[test]
    fn statements_span_lines_until_balanced_and_keep_their_line() {
        let script =
            "; a comment\n\n.mode csv\n[:find ?x\n :where\n [?x :a/b]]\n\n[{:a/b 1}]\n[:find";
        let found = statements(script);
        let expected = [
            (".mode csv", 3),
            ("[:find ?x\n :where\n [?x :a/b]]", 4),
            ("[{:a/b 1}]", 8),
            ("[:find", 9),
        ];
        assert_eq!(found.len(), expected.len());
        for (statement, (text, line)) in found.iter().zip(expected) {
            assert_eq!((statement.text.as_str(), statement.line), (text, line));
        }
    }

    #[test]
    fn top_level_forms_are_cut_between_collections() {
        let text = "[1 \"]\" 2]\n; note [\n[3] ,{:a [4]} x";
        let forms: Vec<&str> = top_level_forms(text)
            .into_iter()
            .map(|range| &text[range])
            .collect();
        assert_eq!(forms, ["[1 \"]\" 2]", "[3]", "{:a [4]}", "x"]);
    }
}
