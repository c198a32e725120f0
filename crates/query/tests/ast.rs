//! The shapes the parsers build, checked on small inputs: one helper per
//! language reads EDN text and returns the AST, and each test states what a
//! form must become. The corpus tests cover acceptance and messages; these
//! cover what the parsed values hold.

use factlite_edn::{Keyword, Symbol, Value};
use factlite_query::{
    normalized_text, parse_pull_pattern, parse_query, parse_rules, parse_tx_data, AggregateArg,
    AttrRef, Binding, Clause, EntityRef, FindElem, FindSpec, Input, OrderKey, OrderTerm,
    PatternRef, PullAttr, PullEntry, PullPattern, PullSub, Query, ReturnMapKind, Rule, RuleVars,
    SrcVar, Term, TxForm, Variable, MAX_DEPTH,
};

fn edn(text: &str) -> Value {
    factlite_edn::parse(text)
        .unwrap_or_else(|error| panic!("test input {text} is not EDN: {error}"))
}

fn query(text: &str) -> Query {
    parse_query(&edn(text)).unwrap_or_else(|error| panic!("{text} does not parse: {error}"))
}

fn query_error(text: &str) -> String {
    match parse_query(&edn(text)) {
        Ok(parsed) => panic!("{text} parsed as {parsed}"),
        Err(error) => error.message,
    }
}

fn pull(text: &str) -> PullPattern {
    parse_pull_pattern(&edn(text)).unwrap_or_else(|error| panic!("{text} does not parse: {error}"))
}

fn tx(text: &str) -> Vec<TxForm> {
    parse_tx_data(&edn(text)).unwrap_or_else(|error| panic!("{text} does not parse: {error}"))
}

fn rules(text: &str) -> Vec<Rule> {
    parse_rules(&edn(text)).unwrap_or_else(|error| panic!("{text} does not parse: {error}"))
}

fn var(name: &str) -> Variable {
    Variable(name.to_string())
}

fn kw(text: &str) -> Keyword {
    Keyword::from_str_lossy(text)
}

#[test]
fn defaults_of_a_minimal_query() {
    let parsed = query("[:find ?e :where [?e :a/b]]");
    assert_eq!(
        parsed.find,
        FindSpec::Relation(vec![FindElem::Variable(var("?e"))])
    );
    assert_eq!(parsed.inputs, vec![Input::Source(SrcVar("$".to_string()))]);
    assert!(parsed.with.is_empty() && parsed.order_by.is_empty() && parsed.return_maps.is_none());
    assert_eq!((parsed.limit, parsed.offset), (None, None));
    let Clause::Pattern(pattern) = &parsed.where_clauses[0] else {
        panic!("not a pattern")
    };
    assert_eq!(pattern.source, None);
    assert_eq!(pattern.entity, Term::Variable(var("?e")));
    assert_eq!(pattern.attribute, Term::Constant(Value::keyword(":a/b")));
    assert_eq!(
        (&pattern.value, &pattern.tx, &pattern.added),
        (&Term::Blank, &Term::Blank, &Term::Blank)
    );
}

#[test]
fn find_specs() {
    let scalar = query("[:find (count ?e) . :where [?e :a/b]]").find;
    let count = FindElem::Aggregate {
        name: "count".to_string(),
        args: vec![AggregateArg::Variable(var("?e"))],
    };
    assert_eq!(scalar, FindSpec::Scalar(count));
    let collection = query("[:find [?x ...] :where [?e :a/b ?x]]").find;
    assert_eq!(
        collection,
        FindSpec::Collection(FindElem::Variable(var("?x")))
    );
    let tuple = query("[:find [?x (max 3 ?y)] :where [?e :a/b ?x] [?e :a/c ?y]]").find;
    let max = FindElem::Aggregate {
        name: "max".to_string(),
        args: vec![
            AggregateArg::Constant(Value::Integer(3)),
            AggregateArg::Variable(var("?y")),
        ],
    };
    assert_eq!(
        tuple,
        FindSpec::Tuple(vec![FindElem::Variable(var("?x")), max])
    );
}

#[test]
fn pull_in_find() {
    let parsed = query("[:find (pull $db ?e [:a/b]) (pull ?e ?p) :in $db ?p :where [$db ?e :a/b]]");
    let [first, second] = parsed.find.elements() else {
        panic!("two elements expected")
    };
    let FindElem::Pull {
        source,
        var: entity,
        pattern: PatternRef::Pattern(pattern),
    } = first
    else {
        panic!("inline pull expected")
    };
    assert_eq!(
        (source.clone(), entity.clone()),
        (Some(SrcVar("$db".to_string())), var("?e"))
    );
    assert_eq!(
        pattern.entries,
        vec![PullEntry::Attr(PullAttr::plain(kw(":a/b")))]
    );
    assert!(
        matches!(second, FindElem::Pull { source: None, pattern: PatternRef::Variable(p), .. } if p.0 == "?p")
    );
}

#[test]
fn inputs_and_bindings() {
    let parsed = query("[:find ?a :in $ % ?a [?b ?c] [?d ...] [[?e _]] _ :where [?a :x/y]]");
    let binding = |b: Binding| Input::Binding(b);
    assert_eq!(
        parsed.inputs,
        vec![
            Input::Source(SrcVar("$".to_string())),
            Input::Rules,
            binding(Binding::Variable(var("?a"))),
            binding(Binding::Tuple(vec![
                Binding::Variable(var("?b")),
                Binding::Variable(var("?c"))
            ])),
            binding(Binding::Collection(Box::new(Binding::Variable(var("?d"))))),
            binding(Binding::Relation(vec![
                Binding::Variable(var("?e")),
                Binding::Blank
            ])),
            binding(Binding::Blank),
        ]
    );
}

#[test]
fn predicates_functions_and_sources_in_calls() {
    let parsed = query("[:find ?n :where [(< ?a 10)] [(get-else $ ?e :a/n \"-\") ?n]]");
    let Clause::Predicate(call) = &parsed.where_clauses[0] else {
        panic!("predicate expected")
    };
    assert_eq!((call.name.as_str(), call.args.len()), ("<", 2));
    let Clause::Function { call, binding } = &parsed.where_clauses[1] else {
        panic!("function expected")
    };
    assert_eq!(call.name, "get-else");
    assert_eq!(call.args[0], Term::Source(SrcVar("$".to_string())));
    assert_eq!(binding, &Binding::Variable(var("?n")));
}

#[test]
fn or_join_not_join_and_rule_calls() {
    let parsed = query(
        "[:find ?a :where (or-join [[?a] ?b] (and [?a :x/y ?b] [(> ?b 1)]) [?a :x/z ?b]) \
         (not-join [?a] [?a :x/w 1]) ($src reach ?a _ 3)]",
    );
    let Clause::Or {
        join: Some(join),
        branches,
    } = &parsed.where_clauses[0]
    else {
        panic!("or-join expected")
    };
    assert_eq!(
        join,
        &RuleVars {
            required: vec![var("?a")],
            free: vec![var("?b")]
        }
    );
    assert_eq!(
        branches.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![2, 1]
    );
    let Clause::Not {
        join: Some(join),
        clauses,
    } = &parsed.where_clauses[1]
    else {
        panic!("not-join expected")
    };
    assert_eq!((join.clone(), clauses.len()), (vec![var("?a")], 1));
    let Clause::RuleCall { source, name, args } = &parsed.where_clauses[2] else {
        panic!("rule call expected")
    };
    assert_eq!(
        (source.clone(), name.as_str()),
        (Some(SrcVar("$src".to_string())), "reach")
    );
    assert_eq!(
        args,
        &vec![
            Term::Variable(var("?a")),
            Term::Blank,
            Term::Constant(Value::Integer(3))
        ]
    );
}

#[test]
fn return_maps_order_limit_offset() {
    let parsed = query("[:find ?a ?b :keys a b :with ?c :where [?c :x/a ?a] [?c :x/b ?b] :order-by (desc ?a) (asc ?b) :limit 5 :offset 2]");
    let maps = parsed.return_maps.clone().expect(":keys");
    assert_eq!(
        (maps.kind, maps.names),
        (ReturnMapKind::Keys, vec!["a".to_string(), "b".to_string()])
    );
    assert_eq!(parsed.with, vec![var("?c")]);
    assert_eq!(
        parsed.order_by,
        vec![
            OrderTerm {
                key: OrderKey::Variable(var("?a")),
                descending: true
            },
            OrderTerm {
                key: OrderKey::Variable(var("?b")),
                descending: false
            }
        ]
    );
    assert_eq!((parsed.limit, parsed.offset), (Some(5), Some(2)));
}

#[test]
fn map_and_vector_forms_share_a_normalized_text() {
    let vector =
        query("[:find ?n :in $ ?x :where [?e :a/n ?n] [?e :a/x ?x] :order-by (asc ?n) :limit 3]");
    let map = query(
        "{:limit 3 :where [[?e :a/n ?n] [?e :a/x ?x ]] :find [?n] :order-by [?n] :in [$ ?x]}",
    );
    assert_eq!(vector, map);
    assert_eq!(normalized_text(&vector), normalized_text(&map));
    assert_eq!(
        normalized_text(&vector),
        "[:find ?n :in $ ?x :where [?e :a/n ?n] [?e :a/x ?x] :order-by ?n :limit 3]"
    );
}

#[test]
fn explicit_default_inputs_print_like_absent_ones() {
    let explicit = query("[:find ?e :in $ :where [?e :a/b _ _]]");
    assert_eq!(explicit.to_string(), "[:find ?e :where [?e :a/b]]");
}

#[test]
fn rules_with_required_and_free_variables() {
    let parsed = rules(
        "[[(reach [?s] ?t) [?s :n/edge ?t]] [(reach [?s] ?t) [?s :n/edge ?m] (reach ?m ?t)]]",
    );
    assert_eq!(parsed.len(), 2);
    assert_eq!(
        (parsed[1].name.as_str(), parsed[1].required.clone()),
        ("reach", vec![var("?s")])
    );
    assert_eq!(
        (parsed[1].free.clone(), parsed[1].body.len()),
        (vec![var("?t")], 2)
    );
    assert_eq!(parsed[0].to_string(), "[(reach [?s] ?t) [?s :n/edge ?t]]");
}

#[test]
fn pull_attribute_options_in_every_spelling() {
    let limited = |limit| PullAttr {
        limit: Some(limit),
        ..PullAttr::plain(kw(":a/b"))
    };
    let entries = |text: &str| pull(text).entries;
    assert_eq!(
        entries("[(:a/b :limit 5)]"),
        vec![PullEntry::Attr(limited(Some(5)))]
    );
    assert_eq!(
        entries("[[:a/b :limit 5]]"),
        vec![PullEntry::Attr(limited(Some(5)))]
    );
    assert_eq!(
        entries("[(limit :a/b 5)]"),
        vec![PullEntry::Attr(limited(Some(5)))]
    );
    assert_eq!(
        entries("[(:a/b :limit nil)]"),
        vec![PullEntry::Attr(limited(None))]
    );
    let full = PullAttr {
        alias: Some(Value::from("n")),
        default: Some(Value::Integer(0)),
        ..PullAttr::plain(kw(":a/b"))
    };
    assert_eq!(
        entries("[(:a/b :as \"n\" :default 0)]"),
        vec![PullEntry::Attr(full.clone())]
    );
    assert_eq!(
        pull("[(:a/b :default 0 :as \"n\")]").to_string(),
        "[(:a/b :as \"n\" :default 0)]"
    );
}

#[test]
fn pull_maps_wildcards_and_recursion() {
    let parsed = pull("[* \"*\" {:p/_friend [:db/id] :p/parent ... :p/child 2}]");
    assert_eq!(
        parsed.entries[..2],
        [PullEntry::Wildcard, PullEntry::Wildcard]
    );
    let PullEntry::Map(pairs) = &parsed.entries[2] else {
        panic!("map expected")
    };
    assert!(pairs[0].0.name.is_reverse());
    assert!(matches!(&pairs[0].1, PullSub::Pattern(sub) if sub.entries.len() == 1));
    assert_eq!(
        (&pairs[1].1, &pairs[2].1),
        (&PullSub::Recursion(None), &PullSub::Recursion(Some(2)))
    );
}

#[test]
fn transaction_forms_and_entity_references() {
    let forms = tx("[{:db/id [:u/email \"a\"] :u/name \"A\" :u/_follows 7}
                      [:db/add \"t\" :u/name \"T\"] [:db/retract :my/ident 72] [:db/retract 1 :u/tags \"x\"]
                      [:db.fn/retractEntity 5] [:db.fn/cas 5 :u/n nil 1]]");
    let TxForm::Map(map) = &forms[0] else {
        panic!("map expected")
    };
    assert_eq!(
        map.db_id,
        Some(EntityRef::LookupRef(kw(":u/email"), Value::from("a")))
    );
    assert_eq!(
        map.attrs.keys().cloned().collect::<Vec<_>>(),
        vec![kw(":u/name"), kw(":u/_follows")]
    );
    let add = TxForm::Add {
        e: EntityRef::TempId("t".to_string()),
        a: AttrRef::Ident(kw(":u/name")),
        v: Value::from("T"),
    };
    assert_eq!(forms[1], add);
    assert_eq!(
        forms[2],
        TxForm::Retract {
            e: EntityRef::Ident(kw(":my/ident")),
            a: AttrRef::Id(72),
            v: None
        }
    );
    assert!(matches!(&forms[3], TxForm::Retract { v: Some(_), .. }));
    assert_eq!(forms[4], TxForm::RetractEntity(EntityRef::Id(5)));
    assert!(matches!(
        &forms[5],
        TxForm::Cas {
            old: Value::Nil,
            new: Value::Integer(1),
            ..
        }
    ));
    assert_eq!(forms[5].to_string(), "[:db/cas 5 :u/n nil 1]");
}

#[test]
fn errors_name_the_section_they_occur_in() {
    assert!(query_error("[:find ?x :where 42]").starts_with("in :where: 42 is not a clause"));
    assert!(query_error("[:find 42]").starts_with("in :find: 42 is not a find element"));
    assert!(query_error("[:find ?x :in 4]").starts_with("in :in: 4 is not an input"));
}

/// `depth` nested `(not ...)` around one pattern, built without the reader
/// (whose own nesting limit would stop it first).
fn nested_nots(depth: usize) -> Value {
    let mut clause = edn("[?x :a/b 1]");
    for _ in 0..depth {
        clause = Value::List(vec![Value::Symbol(Symbol::plain("not")), clause]);
    }
    Value::Vector(vec![
        Value::keyword(":find"),
        Value::symbol("?x"),
        Value::keyword(":where"),
        clause,
    ])
}

#[test]
fn nesting_is_bounded_without_overflowing_the_stack() {
    assert!(parse_query(&nested_nots(MAX_DEPTH - 1)).is_ok());
    let error = parse_query(&nested_nots(2_000)).expect_err("too deep");
    assert!(
        error.message.contains("nested more than 128 levels deep"),
        "{}",
        error.message
    );
    let mut pattern = edn("[:a/c]");
    for _ in 0..2_000 {
        let map = [(Value::keyword(":a/b"), pattern)].into_iter().collect();
        pattern = Value::Vector(vec![Value::Map(map)]);
    }
    let error = parse_pull_pattern(&pattern).expect_err("too deep");
    assert!(
        error.message.contains("nested more than 128 levels deep"),
        "{}",
        error.message
    );
}
