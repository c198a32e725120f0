//! Small helpers for messages: plurals ("1 row", "2 rows"), articles ("an
//! integer") and "did you mean" suggestions for a misspelt name among the
//! known ones.

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
}
