//! A `fulltext` search as Datomic reads it (Lucene's query syntax: words
//! and quoted phrases, any of which matches, `AND`/`OR`/`NOT` between
//! them, `word*` for a prefix, `+word` required, `-word` excluded) turned
//! into an FTS5 query ([`to_fts5`]). Every word and phrase becomes an FTS5
//! string, which the index's tokenizer splits as it split the text, so
//! punctuation (`dogs.`, `don't`, `e-mail`, `text:red`) is part of a word
//! and never FTS5 syntax or a column name.

/// The FTS5 query for a Lucene-style search; one without a word (`*`,
/// `""`, punctuation) is the empty phrase, which matches nothing.
pub fn to_fts5(search: &str) -> String {
    positive_and_excluded(search).unwrap_or_else(|| NOTHING.to_string())
}

/// The FTS5 query that matches nothing: the empty phrase.
pub const NOTHING: &str = "\"\"";

fn positive_and_excluded(search: &str) -> Option<String> {
    let mut optional: Vec<String> = Vec::new();
    let mut required: Vec<String> = Vec::new();
    let mut excluded: Vec<String> = Vec::new();
    let mut pending_operator: Option<&str> = None;
    for token in tokens(search) {
        let (term, sign) = match token {
            Token::Operator(op) => {
                pending_operator = Some(op);
                continue;
            }
            Token::Term { text, prefix, sign } => (term_query(&text, prefix), sign),
        };
        let Some(term) = term else { continue };
        match (sign, pending_operator.take()) {
            (Sign::Excluded, _) | (Sign::None, Some("NOT")) => excluded.push(term),
            (Sign::Required, _) | (Sign::None, Some("AND")) => {
                // `a AND b`: both required.
                required.extend(optional.pop());
                required.push(term);
            }
            (Sign::None, _) => optional.push(term),
        }
    }
    let positive = match (required.is_empty(), optional.is_empty()) {
        (true, true) => return None,
        (false, _) => required.join(" AND "),
        (true, false) => format!("({})", optional.join(" OR ")),
    };
    Some(if excluded.is_empty() {
        positive
    } else {
        format!("{positive} NOT ({})", excluded.join(" OR "))
    })
}

#[derive(Debug, PartialEq)]
enum Sign {
    None,
    Required,
    Excluded,
}

#[derive(Debug, PartialEq)]
enum Token {
    Operator(&'static str),
    Term {
        text: String,
        prefix: bool,
        sign: Sign,
    },
}

/// The search's words, quoted phrases and operators.
fn tokens(search: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut rest = search.trim_start();
    while !rest.is_empty() {
        let (sign, after_sign) = match rest.as_bytes()[0] {
            b'+' => (Sign::Required, &rest[1..]),
            b'-' => (Sign::Excluded, &rest[1..]),
            _ => (Sign::None, rest),
        };
        let (text, after) = if let Some(quoted) = after_sign.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            let end = after_sign
                .find(char::is_whitespace)
                .unwrap_or(after_sign.len());
            (&after_sign[..end], &after_sign[end..])
        };
        let operator = match text {
            "AND" | "&&" => Some("AND"),
            "OR" | "||" => Some("OR"),
            "NOT" | "!" => Some("NOT"),
            _ => None,
        };
        match operator {
            Some(op) if sign == Sign::None && !after_sign.starts_with('"') => {
                tokens.push(Token::Operator(op))
            }
            _ => {
                let prefix = text.ends_with('*');
                tokens.push(Token::Term {
                    text: text.trim_end_matches('*').to_string(),
                    prefix,
                    sign,
                });
            }
        }
        rest = after.trim_start();
    }
    tokens
}

/// A word or phrase as an FTS5 string (`"don't"`), with `*` for a prefix;
/// `None` when it holds no letter or digit, which the tokenizer would drop.
fn term_query(text: &str, prefix: bool) -> Option<String> {
    if !text.chars().any(char::is_alphanumeric) {
        return None;
    }
    let quoted = format!("\"{}\"", text.replace('"', "\"\""));
    Some(if prefix {
        format!("{quoted} *")
    } else {
        quoted
    })
}

#[cfg(test)]
mod tests {
    use super::{to_fts5, NOTHING};

    #[test]
    fn searches_become_fts5_queries() {
        let cases = [
            ("red fox", Some(r#"("red" OR "fox")"#)),
            ("dogs.", Some(r#"("dogs.")"#)),
            (
                "don't e-mail text:red",
                Some(r#"("don't" OR "e-mail" OR "text:red")"#),
            ),
            (r#""red fox" jumps"#, Some(r#"("red fox" OR "jumps")"#)),
            ("red AND fox", Some(r#""red" AND "fox""#)),
            ("+red fox", Some(r#""red""#)),
            ("red -fox", Some(r#"("red") NOT ("fox")"#)),
            ("red NOT fox", Some(r#"("red") NOT ("fox")"#)),
            ("fo*", Some(r#"("fo" *)"#)),
            (r#"say "hi""#, Some(r#"("say" OR "hi")"#)),
            ("   ", None),
            ("... !!", None),
            ("*", None),
            ("\"", None),
        ];
        for (search, expected) in cases {
            assert_eq!(to_fts5(search), expected.unwrap_or(NOTHING), "{search}");
        }
    }
}
