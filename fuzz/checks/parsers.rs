//! The property the parser fuzz targets (`query_parser`, `pull_parser`,
//! `tx_parser`) check, in one place: included with `#[path]` by those
//! targets and by the ordinary test `tests/fuzz_corpus.rs`, which runs it
//! over the committed seeds and the grammar examples.
//!
//! For any input that reads as EDN: the parser never panics, and every AST
//! it accepts prints (`to_edn`) as a form that parses back to the same AST,
//! whose printed text is identical — directly and through EDN text.

use std::fmt::Debug;

use factlite_edn::Value;
use factlite_query::{
    parse_pull_pattern, parse_query, parse_rules, parse_tx_data, rules_to_edn, tx_data_to_edn,
};

/// Which parser to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parser {
    /// `parse_query`.
    Query,
    /// `parse_rules` (the `%` input).
    Rules,
    /// `parse_pull_pattern`.
    Pull,
    /// `parse_tx_data`.
    Tx,
}

/// Parses `form`; on success, the AST's `Debug` text (which also tells NaN
/// doubles apart, where `PartialEq` would not) and the AST printed as EDN.
fn parse_and_print(parser: Parser, form: &Value) -> Option<(String, Value)> {
    fn done<T: Debug>(ast: T, printed: Value) -> (String, Value) {
        (format!("{ast:?}"), printed)
    }
    match parser {
        Parser::Query => parse_query(form).ok().map(|query| {
            let printed = query.to_edn();
            done(query, printed)
        }),
        Parser::Rules => parse_rules(form).ok().map(|rules| {
            let printed = rules_to_edn(&rules);
            done(rules, printed)
        }),
        Parser::Pull => parse_pull_pattern(form).ok().map(|pattern| {
            let printed = pattern.to_edn();
            done(pattern, printed)
        }),
        Parser::Tx => parse_tx_data(form).ok().map(|forms| {
            let printed = tx_data_to_edn(&forms);
            done(forms, printed)
        }),
    }
}

/// Panics (which the fuzzer reports) when the property fails for `data`.
pub fn check_parser(parser: Parser, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(form) = factlite_edn::parse(text) else {
        return;
    };
    let Some((ast, printed)) = parse_and_print(parser, &form) else {
        return;
    };
    let again = parse_and_print(parser, &printed);
    let Some((again_ast, again_printed)) = again else {
        panic!("{parser:?}: accepted {text:?}, but not its printed form {printed}");
    };
    assert_eq!(
        ast, again_ast,
        "{parser:?}: {text:?} printed as {printed}, which parses to another AST"
    );
    assert_eq!(
        printed.to_string(),
        again_printed.to_string(),
        "{parser:?}: printing {text:?} is not stable"
    );
    let printed_text = printed.to_string();
    let reread = factlite_edn::parse(&printed_text)
        .unwrap_or_else(|error| panic!("{parser:?}: printed {printed_text:?} is not EDN: {error}"));
    let Some((reread_ast, _)) = parse_and_print(parser, &reread) else {
        panic!("{parser:?}: printed text {printed_text:?} does not parse");
    };
    assert_eq!(
        ast, reread_ast,
        "{parser:?}: {text:?} printed as text {printed_text:?}, which parses to another AST"
    );
}
