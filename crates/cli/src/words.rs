//! Small helpers for messages: plurals ("1 row", "2 rows"), articles ("an
//! integer"), "did you mean" suggestions for a misspelt name among the
//! known ones, and [`debug_text`], which finds Rust's `Debug` output where a
//! message should have none (the tests check every message with it).

/// `count` and its noun, in the plural unless the count is one:
/// `counted(1, "row")` is "1 row", `counted(2, "row")` is "2 rows".
pub fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// "a" or "an" before a kind name: `article("integer")` is "an integer".
pub fn article(kind: &str) -> String {
    let vowel = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {kind}", if vowel { "an" } else { "a" })
}

/// The known names closest to `wanted` (within a small edit distance,
/// nearest first, at most three), for a "did you mean" hint.
pub fn similar<'k>(wanted: &str, known: impl IntoIterator<Item = &'k str>) -> Vec<&'k str> {
    // One edit in a short name, up to three in a long one.
    let limit = (wanted.chars().count() / 4).clamp(1, 3);
    let mut close: Vec<(usize, &str)> = known
        .into_iter()
        .filter(|name| *name != wanted)
        .map(|name| (strsim::levenshtein(wanted, name), name))
        .filter(|(distance, _)| *distance <= limit)
        .collect();
    close.sort();
    close.dedup();
    close.into_iter().take(3).map(|(_, name)| name).collect()
}

/// `" (did you mean A or B?)"` for the names close to `wanted`, or nothing.
pub fn did_you_mean<'k>(wanted: &str, known: impl IntoIterator<Item = &'k str>) -> String {
    match similar(wanted, known).as_slice() {
        [] => String::new(),
        [one] => format!(" (did you mean {one}?)"),
        [first @ .., last] => format!(" (did you mean {} or {last}?)", first.join(", ")),
    }
}

/// The first line of `text` that reads like Rust's `Debug` output rather
/// than a message: a capitalised identifier right before `(`
/// (`Binding(Variable(`, `Integer(101)`, `Some(`) or before ` {` (a
/// struct, `Datom { e: 1, ... }`).
pub fn debug_text(text: &str) -> Option<&str> {
    let is_type_name = |before: &str| {
        let start = before
            .rfind(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .map_or(0, |at| at + 1);
        let name = &before[start..];
        name.len() > 1
            && name.starts_with(|c: char| c.is_ascii_uppercase())
            && name.chars().any(|c| c.is_ascii_lowercase())
    };
    text.lines().find(|line| {
        let calls = line
            .match_indices('(')
            .any(|(index, _)| is_type_name(&line[..index]));
        let structs = line
            .match_indices(" { ")
            .any(|(index, _)| is_type_name(&line[..index]));
        calls || structs
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_and_suggestions() {
        assert_eq!(counted(1, "transaction"), "1 transaction");
        assert_eq!(counted(0, "transaction"), "0 transactions");
        let known = [":city/name", ":city/population", ":person/name"];
        assert_eq!(
            did_you_mean(":city/nam", known),
            " (did you mean :city/name?)"
        );
        assert_eq!(did_you_mean(":zzz", known), "");
        assert_eq!(
            did_you_mean(".shema", [".schema", ".help"]),
            " (did you mean .schema?)"
        );
    }

    #[test]
    fn debug_text_is_recognised() {
        assert!(debug_text("the input Binding(Variable(Variable(\"?t\")))").is_some());
        assert!(debug_text("  ?1 = Integer(101)").is_some());
        assert!(debug_text("found Some(3)").is_some());
        assert!(debug_text("the datom Datom { e: 1, a: 2 }").is_some());
        assert!(debug_text(":error/query rule (costar ...) is not defined").is_none());
        assert!(debug_text("(count ?f) and (Tom Hanks)").is_none());
        assert!(debug_text("the map {:db/id 1} of (pull ?e [*])").is_none());
    }
}
