//! A small Datalog AST (what the query generator builds) and its naive
//! evaluation over the model's datoms: a set of rows of variable bindings,
//! extended clause by clause with nested loops; `or`/`not` by evaluating
//! their bodies per row; rules by naive fixpoint over the whole database;
//! aggregates over the rows projected onto the find (and `:with`)
//! variables, as a set. A variable in a pattern's attribute position
//! holds a keyword (from `:in`) and matches the attribute of that ident; a
//! collection of tuples given as the data source `$src` is matched by
//! position; patterns on `$before` read the datoms of a second database
//! (the same store as of an earlier transaction).

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use factlite_edn::{Keyword, Symbol, Value};

use super::value::Val;

/// A variable, `?v0` … by number.
pub type Var = usize;

/// A term of a pattern, predicate or rule call.
#[derive(Clone, Debug)]
pub enum Term {
    Var(Var),
    Const(Val),
    Blank,
}

/// A comparison predicate.
#[derive(Clone, Copy, Debug)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// A function bound to an output variable.
#[derive(Clone, Copy, Debug)]
pub enum Func {
    Add,
    Sub,
    Str,
}

/// A clause of `:where` (or of a rule body).
#[derive(Clone, Debug)]
pub enum Clause {
    /// `[e :attr v]`, or `[e :attr v tx added]` against the history
    /// (the attribute is an index into the model's attributes).
    Pattern {
        e: Term,
        a: usize,
        v: Term,
        history: Option<(Term, Term)>,
    },
    Pred(Cmp, Term, Term),
    Call(Func, Vec<Term>, Var),
    Not(Vec<Clause>),
    NotJoin(Vec<Var>, Vec<Clause>),
    Or(Vec<Vec<Clause>>),
    OrJoin(Vec<Var>, Vec<Vec<Clause>>),
    /// `(rule-name args...)`.
    Rule(usize, Vec<Term>),
    /// `[(missing? $ ?e :attr)]`.
    Missing(Var, usize),
    /// `[(get-else $ ?e :attr default) ?out]` (cardinality-one attributes).
    GetElse(Var, usize, Val, Var),
    /// `[(ground value) ?out]`.
    Ground(Val, Var),
    /// `[e ?a v]` with `?a` bound to the keyword of an attribute's ident.
    AttrPattern {
        e: Term,
        a: Var,
        v: Term,
    },
    /// `[$src t0 t1 ...]`: a tuple of the data source given as `$src`.
    SourcePattern(Vec<Term>),
    /// `[$before e :attr v]`: a datom of the second database.
    BeforePattern {
        e: Term,
        a: usize,
        v: Term,
    },
}

/// One definition of a rule: `[(name ?a ?b) clause ...]`.
#[derive(Clone, Debug)]
pub struct RuleDef {
    pub name: usize,
    pub head: Vec<Var>,
    pub body: Vec<Clause>,
}

/// An aggregate of `:find`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    Count,
    CountDistinct,
    Sum,
    Min,
    Max,
    /// `(min n ?x)`: the n smallest, ascending.
    MinN(usize),
    /// `(max n ?x)`: the n largest, descending.
    MaxN(usize),
}

/// An element of `:find`.
#[derive(Clone, Debug)]
pub enum Elem {
    Var(Var),
    Agg(Agg, Var),
    /// `(pull ?e [attrs])`: the entity, shown as its pulled attributes
    /// (`None` is `:db/id`).
    Pull(Var, Vec<Option<usize>>),
}

/// The find spec.
#[derive(Clone, Debug)]
pub enum Find {
    Rel(Vec<Elem>),
    Coll(Elem),
    Scalar(Elem),
    Tuple(Vec<Elem>),
}

impl Find {
    /// The find elements, in order.
    pub fn elements(&self) -> Vec<&Elem> {
        match self {
            Find::Rel(elems) | Find::Tuple(elems) => elems.iter().collect(),
            Find::Coll(elem) | Find::Scalar(elem) => vec![elem],
        }
    }
}

/// An `:in` binding after `$` (and `%`), with the value bound to it.
#[derive(Clone, Debug)]
pub enum Input {
    Scalar(Var, Val),
    Coll(Var, Vec<Val>),
    Rel(Vec<Var>, Vec<Vec<Val>>),
    /// `$src`: a collection of tuples as a data source.
    Source(Vec<Vec<Val>>),
    /// `$before`: the database as of the model's user transaction n.
    Database(usize),
}

/// The name of the data source an [`Input::Source`] is given as.
pub const SOURCE: &str = "$src";

/// The name of the database an [`Input::Database`] is given as.
pub const BEFORE: &str = "$before";

/// A whole query.
#[derive(Clone, Debug)]
pub struct Query {
    pub find: Find,
    /// `:order-by` terms (a find element's position, descending?) and
    /// `:limit`: the result is then a vector.
    pub order_by: Vec<(usize, bool)>,
    pub limit: Option<usize>,
    /// `:keys k0 k1 ...`: a relation as maps.
    pub keys: bool,
    pub with: Vec<Var>,
    pub inputs: Vec<Input>,
    /// The input variable an n-ary aggregate `(min n ?x)` / `(max n ?x)`
    /// takes its count from (`(max ?n ?x)`), with that count.
    pub aggregate_count: Option<(usize, Var)>,
    pub rules: Vec<RuleDef>,
    pub clauses: Vec<Clause>,
}

/// A datom as the evaluator sees it: entity, attribute, value, and, in
/// the history, the transaction and whether it was an assertion.
#[derive(Clone, Debug)]
pub struct Datom {
    pub e: i64,
    pub a: usize,
    pub v: Val,
    pub tx: i64,
    pub added: bool,
}

/// A row: one binding (or none yet) per variable.
type Row = Vec<Option<Val>>;

/// The result, before shaping: a set of tuples.
pub type Tuples = BTreeSet<Vec<Val>>;

/// Evaluates a query over `datoms` with `var_count` variables; `None`
/// when arithmetic (`+`, `-`, `sum`) leaves the 64-bit range, where the
/// result depends on which rows the engine computes first (the store
/// reports an `:error/query`).
/// `idents` names the attributes (`idents[a]` is attribute `a`'s).
/// `before` holds the datoms of the database given as `$before`.
pub fn evaluate(
    query: &Query,
    datoms: &[Datom],
    before: &[Datom],
    idents: &[Keyword],
    var_count: usize,
) -> Option<Tuples> {
    let mut rows: BTreeSet<Row> = BTreeSet::from([vec![None; var_count]]);
    for input in &query.inputs {
        rows = rows.iter().flat_map(|row| bind_input(input, row)).collect();
    }
    let source = query.inputs.iter().find_map(|input| match input {
        Input::Source(tuples) => Some(tuples.as_slice()),
        _ => None,
    });
    let eval = Evaluator {
        datoms,
        before,
        idents,
        source: source.unwrap_or_default(),
        rules: rule_relations(&query.rules, datoms, idents, var_count),
        overflow: Cell::new(false),
    };
    let rows = eval.clauses(&query.clauses, rows);
    let elems = query.find.elements();
    if eval.overflow.get() {
        return None;
    }
    project(&elems, &query.with, &rows)
}

/// The result of a query with `:order-by`: the tuples sorted by its terms
/// (every find element is a term, so no two tuples tie), then limited.
pub fn ordered(query: &Query, tuples: &Tuples) -> Vec<Vec<Val>> {
    let mut sorted: Vec<Vec<Val>> = tuples.iter().cloned().collect();
    sorted.sort_by(|x, y| {
        query
            .order_by
            .iter()
            .map(|(i, descending)| {
                let order = x[*i].cmp(&y[*i]);
                if *descending {
                    order.reverse()
                } else {
                    order
                }
            })
            .find(|order| order.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    sorted.truncate(query.limit.unwrap_or(usize::MAX));
    sorted
}

fn bind_input(input: &Input, row: &Row) -> Vec<Row> {
    let bind = |pairs: &[(Var, &Val)]| {
        let mut row = row.clone();
        for (var, val) in pairs {
            row[*var] = Some((*val).clone());
        }
        row
    };
    match input {
        Input::Scalar(var, val) => vec![bind(&[(*var, val)])],
        Input::Coll(var, vals) => vals.iter().map(|val| bind(&[(*var, val)])).collect(),
        Input::Rel(vars, tuples) => tuples
            .iter()
            .map(|tuple| bind(&vars.iter().copied().zip(tuple).collect::<Vec<_>>()))
            .collect(),
        Input::Source(_) | Input::Database(_) => vec![row.clone()],
    }
}

/// Projects rows onto the find elements and applies the aggregates.
fn project(elems: &[&Elem], with: &[Var], rows: &BTreeSet<Row>) -> Option<Tuples> {
    let value = |row: &Row, var: &Var| row[*var].clone().expect("find variables are bound");
    let has_aggregate = elems.iter().any(|e| matches!(e, Elem::Agg(..)));
    if !has_aggregate {
        return Some(
            rows.iter()
                .map(|row| {
                    elems
                        .iter()
                        .map(|e| match e {
                            Elem::Var(v) | Elem::Pull(v, _) => value(row, v),
                            Elem::Agg(..) => unreachable!(),
                        })
                        .collect()
                })
                .collect(),
        );
    }
    // The set of (find variables, aggregated variables, :with variables).
    let mut vars: Vec<Var> = elems
        .iter()
        .map(|e| match e {
            Elem::Var(v) | Elem::Agg(_, v) | Elem::Pull(v, _) => *v,
        })
        .collect();
    vars.extend(with);
    let projected: BTreeSet<Vec<Val>> = rows
        .iter()
        .map(|row| vars.iter().map(|v| value(row, v)).collect())
        .collect();
    let mut groups: BTreeMap<Vec<Val>, Vec<&Vec<Val>>> = BTreeMap::new();
    for tuple in &projected {
        let key = elems
            .iter()
            .enumerate()
            .filter(|(_, e)| !matches!(e, Elem::Agg(..)))
            .map(|(i, _)| tuple[i].clone())
            .collect();
        groups.entry(key).or_default().push(tuple);
    }
    groups
        .values()
        .map(|members| {
            elems
                .iter()
                .enumerate()
                .map(|(i, e)| match e {
                    Elem::Var(_) | Elem::Pull(..) => Some(members[0][i].clone()),
                    Elem::Agg(agg, _) => aggregate(*agg, members.iter().map(|m| &m[i])),
                })
                .collect()
        })
        .collect()
}

/// An aggregate of a group; `None` when a sum leaves the 64-bit range.
fn aggregate<'v>(agg: Agg, values: impl Iterator<Item = &'v Val>) -> Option<Val> {
    let values: Vec<&Val> = values.collect();
    Some(match agg {
        Agg::Count => Val::Long(values.len() as i64),
        Agg::CountDistinct => Val::Long(values.iter().collect::<BTreeSet<_>>().len() as i64),
        Agg::Sum => {
            let longs = values.iter().map(|v| match v {
                Val::Long(i) => *i as i128,
                other => panic!("the generator sums only longs, not {other:?}"),
            });
            Val::Long(i64::try_from(longs.sum::<i128>()).ok()?)
        }
        Agg::Min => (*values.iter().min().expect("a group is never empty")).clone(),
        Agg::Max => (*values.iter().max().expect("a group is never empty")).clone(),
        Agg::MinN(n) | Agg::MaxN(n) => {
            let mut sorted: Vec<Val> = values.into_iter().cloned().collect();
            sorted.sort();
            if matches!(agg, Agg::MaxN(_)) {
                sorted.reverse();
            }
            sorted.truncate(n);
            Val::List(sorted)
        }
    })
}

/// Each rule's relation (tuples of its head), by naive fixpoint: evaluate
/// every definition against the relations so far until nothing is added.
fn rule_relations(
    rules: &[RuleDef],
    datoms: &[Datom],
    idents: &[Keyword],
    var_count: usize,
) -> BTreeMap<usize, Tuples> {
    let mut relations: BTreeMap<usize, Tuples> =
        rules.iter().map(|r| (r.name, Tuples::new())).collect();
    loop {
        let mut changed = false;
        for rule in rules {
            let eval = Evaluator {
                datoms,
                before: &[],
                idents,
                source: &[],
                rules: relations.clone(),
                overflow: Cell::new(false),
            };
            let rows = eval.clauses(&rule.body, BTreeSet::from([vec![None; var_count]]));
            let tuples: Tuples = rows
                .iter()
                .map(|row| {
                    rule.head
                        .iter()
                        .map(|v| row[*v].clone().expect("rule heads are bound"))
                        .collect()
                })
                .collect();
            let relation = relations
                .get_mut(&rule.name)
                .expect("every rule has a relation");
            for tuple in tuples {
                changed |= relation.insert(tuple);
            }
        }
        if !changed {
            return relations;
        }
    }
}

struct Evaluator<'d> {
    datoms: &'d [Datom],
    /// The datoms of the database `$before`.
    before: &'d [Datom],
    /// Each attribute's ident, for variables in the attribute position.
    idents: &'d [Keyword],
    /// The tuples of the data source `$src`.
    source: &'d [Vec<Val>],
    rules: BTreeMap<usize, Tuples>,
    /// Set when a function's result left the 64-bit range.
    overflow: Cell<bool>,
}

/// Unifies a term with a value in a row: binds a free variable, checks a
/// bound one or a constant.
fn unify(row: &mut Row, term: &Term, value: &Val) -> bool {
    match term {
        Term::Blank => true,
        Term::Const(c) => c == value,
        Term::Var(v) => match &row[*v] {
            Some(bound) => bound == value,
            None => {
                row[*v] = Some(value.clone());
                true
            }
        },
    }
}

fn resolve<'r>(row: &'r Row, term: &'r Term) -> Option<&'r Val> {
    match term {
        Term::Var(v) => row[*v].as_ref(),
        Term::Const(c) => Some(c),
        Term::Blank => None,
    }
}

impl Evaluator<'_> {
    fn clauses(&self, clauses: &[Clause], mut rows: BTreeSet<Row>) -> BTreeSet<Row> {
        for clause in clauses {
            rows = rows
                .iter()
                .flat_map(|row| self.clause(clause, row))
                .collect();
        }
        rows
    }

    fn clause(&self, clause: &Clause, row: &Row) -> Vec<Row> {
        match clause {
            Clause::Pattern { e, a, v, history } => self
                .datoms
                .iter()
                .filter(|d| d.a == *a)
                .filter_map(|d| {
                    let mut row = row.clone();
                    let mut ok = unify(&mut row, e, &Val::Ref(d.e)) && unify(&mut row, v, &d.v);
                    if let Some((tx, added)) = history {
                        ok = ok
                            && unify(&mut row, tx, &Val::Ref(d.tx))
                            && unify(&mut row, added, &Val::Bool(d.added));
                    }
                    ok.then_some(row)
                })
                .collect(),
            Clause::Pred(cmp, x, y) => {
                let (x, y) = (
                    resolve(row, x).expect("predicate arguments are bound"),
                    resolve(row, y).expect("predicate arguments are bound"),
                );
                let holds = match cmp {
                    Cmp::Lt => x < y,
                    Cmp::Le => x <= y,
                    Cmp::Gt => x > y,
                    Cmp::Ge => x >= y,
                    Cmp::Eq => x == y,
                    Cmp::Ne => x != y,
                };
                if holds {
                    vec![row.clone()]
                } else {
                    vec![]
                }
            }
            Clause::Call(func, args, out) => {
                let args: Vec<&Val> = args
                    .iter()
                    .map(|t| resolve(row, t).expect("function arguments are bound"))
                    .collect();
                let result = match (func, args.as_slice()) {
                    (Func::Add, [Val::Long(x), Val::Long(y)]) => x.checked_add(*y).map(Val::Long),
                    (Func::Sub, [Val::Long(x), Val::Long(y)]) => x.checked_sub(*y).map(Val::Long),
                    (Func::Str, [Val::Str(x), Val::Str(y)]) => Some(Val::Str(format!("{x}{y}"))),
                    other => panic!("the generator does not call {other:?}"),
                };
                let Some(result) = result else {
                    self.overflow.set(true);
                    return vec![];
                };
                let mut row = row.clone();
                if unify(&mut row, &Term::Var(*out), &result) {
                    vec![row]
                } else {
                    vec![]
                }
            }
            Clause::Not(body) => {
                let matched = self.clauses(body, BTreeSet::from([row.clone()]));
                if matched.is_empty() {
                    vec![row.clone()]
                } else {
                    vec![]
                }
            }
            Clause::NotJoin(vars, body) => {
                let matched = self.clauses(body, BTreeSet::from([only(row, vars)]));
                if matched.is_empty() {
                    vec![row.clone()]
                } else {
                    vec![]
                }
            }
            Clause::Or(branches) => branches
                .iter()
                .flat_map(|body| self.clauses(body, BTreeSet::from([row.clone()])))
                .collect(),
            Clause::OrJoin(vars, branches) => branches
                .iter()
                .flat_map(|body| self.clauses(body, BTreeSet::from([only(row, vars)])))
                .filter_map(|inner| {
                    let mut row = row.clone();
                    vars.iter()
                        .all(|v| {
                            let value = inner[*v].clone().expect("or-join variables are bound");
                            unify(&mut row, &Term::Var(*v), &value)
                        })
                        .then_some(row)
                })
                .collect(),
            Clause::Missing(e, a) => {
                let e = row[*e].clone().expect("missing? takes a bound entity");
                let present = self.datoms.iter().any(|d| d.a == *a && Val::Ref(d.e) == e);
                if present {
                    vec![]
                } else {
                    vec![row.clone()]
                }
            }
            Clause::GetElse(e, a, default, out) => {
                let e = row[*e].clone().expect("get-else takes a bound entity");
                let value = self
                    .datoms
                    .iter()
                    .find(|d| d.a == *a && Val::Ref(d.e) == e)
                    .map_or(default, |d| &d.v);
                let mut row = row.clone();
                if unify(&mut row, &Term::Var(*out), value) {
                    vec![row]
                } else {
                    vec![]
                }
            }
            Clause::Ground(value, out) => {
                let mut row = row.clone();
                if unify(&mut row, &Term::Var(*out), value) {
                    vec![row]
                } else {
                    vec![]
                }
            }
            Clause::AttrPattern { e, a, v } => {
                let Some(Val::Kw(ident)) = &row[*a] else {
                    panic!("the attribute variable holds a keyword from :in");
                };
                self.datoms
                    .iter()
                    .filter(|d| self.idents.get(d.a) == Some(ident))
                    .filter_map(|d| {
                        let mut row = row.clone();
                        (unify(&mut row, e, &Val::Ref(d.e)) && unify(&mut row, v, &d.v))
                            .then_some(row)
                    })
                    .collect()
            }
            Clause::BeforePattern { e, a, v } => self
                .before
                .iter()
                .filter(|d| d.a == *a)
                .filter_map(|d| {
                    let mut row = row.clone();
                    (unify(&mut row, e, &Val::Ref(d.e)) && unify(&mut row, v, &d.v)).then_some(row)
                })
                .collect(),
            Clause::SourcePattern(terms) => self
                .source
                .iter()
                .filter_map(|tuple| {
                    let mut row = row.clone();
                    terms
                        .iter()
                        .zip(tuple)
                        .all(|(term, value)| unify(&mut row, term, value))
                        .then_some(row)
                })
                .collect(),
            Clause::Rule(name, args) => self.rules[name]
                .iter()
                .filter_map(|tuple| {
                    let mut row = row.clone();
                    args.iter()
                        .zip(tuple)
                        .all(|(term, value)| unify(&mut row, term, value))
                        .then_some(row)
                })
                .collect(),
        }
    }
}

/// The row with only `vars` bound.
fn only(row: &Row, vars: &[Var]) -> Row {
    (0..row.len())
        .map(|v| {
            if vars.contains(&v) {
                row[v].clone()
            } else {
                None
            }
        })
        .collect()
}

// ---- printing ----------------------------------------------------------

fn sym(text: &str) -> Value {
    Value::Symbol(Symbol::plain(text))
}

fn var(v: Var) -> Value {
    sym(&format!("?v{v}"))
}

/// The name of rule number `n`.
pub fn rule_name(n: usize) -> String {
    format!("rule{n}")
}

impl Query {
    /// Whether the query adds, subtracts or sums longs.
    pub fn does_arithmetic(&self) -> bool {
        fn in_clauses(clauses: &[Clause]) -> bool {
            clauses.iter().any(|c| match c {
                Clause::Call(Func::Add | Func::Sub, ..) => true,
                Clause::Not(body) | Clause::NotJoin(_, body) => in_clauses(body),
                Clause::Or(branches) | Clause::OrJoin(_, branches) => {
                    branches.iter().any(|b| in_clauses(b))
                }
                _ => false,
            })
        }
        let sums = match &self.find {
            Find::Rel(elems) | Find::Tuple(elems) => {
                elems.iter().any(|e| matches!(e, Elem::Agg(Agg::Sum, _)))
            }
            Find::Coll(elem) | Find::Scalar(elem) => matches!(elem, Elem::Agg(Agg::Sum, _)),
        };
        sums || in_clauses(&self.clauses)
    }

    /// The query as EDN (the vector form), with entity ids written by
    /// `entity`; the attribute of pattern index `a` is `attrs[a]`.
    pub fn to_edn(&self, attrs: &[Keyword], entity: &dyn Fn(i64) -> Value) -> Value {
        let p = Printer {
            attrs,
            entity,
            aggregate_count: self.aggregate_count,
        };
        let mut items = vec![Value::keyword("find")];
        match &self.find {
            Find::Rel(elems) => items.extend(elems.iter().map(|e| p.elem(e))),
            Find::Coll(elem) => items.push(Value::Vector(vec![p.elem(elem), sym("...")])),
            Find::Scalar(elem) => items.extend([p.elem(elem), sym(".")]),
            Find::Tuple(elems) => {
                items.push(Value::Vector(elems.iter().map(|e| p.elem(e)).collect()))
            }
        }
        if self.keys {
            let count = match &self.find {
                Find::Rel(elems) | Find::Tuple(elems) => elems.len(),
                Find::Coll(_) | Find::Scalar(_) => 1,
            };
            items.push(Value::keyword("keys"));
            items.extend((0..count).map(|n| sym(&format!("k{n}"))));
        }
        if !self.with.is_empty() {
            items.push(Value::keyword("with"));
            items.extend(self.with.iter().map(|v| var(*v)));
        }
        if !self.inputs.is_empty() || !self.rules.is_empty() {
            items.push(Value::keyword("in"));
            items.push(sym("$"));
            if !self.rules.is_empty() {
                items.push(sym("%"));
            }
            items.extend(self.inputs.iter().map(|input| match input {
                Input::Scalar(v, _) => var(*v),
                Input::Coll(v, _) => Value::Vector(vec![var(*v), sym("...")]),
                Input::Rel(vars, _) => {
                    Value::Vector(vec![Value::Vector(vars.iter().map(|v| var(*v)).collect())])
                }
                Input::Source(_) => sym(SOURCE),
                Input::Database(_) => sym(BEFORE),
            }));
        }
        items.push(Value::keyword("where"));
        items.extend(self.clauses.iter().map(|c| p.clause(c)));
        if !self.order_by.is_empty() {
            items.push(Value::keyword("order-by"));
            let elems = self.find.elements();
            for (i, descending) in &self.order_by {
                let Elem::Var(v) = elems[*i] else {
                    unreachable!("only variables are ordered")
                };
                let direction = if *descending { "desc" } else { "asc" };
                items.push(Value::List(vec![sym(direction), var(*v)]));
            }
        }
        if let Some(limit) = self.limit {
            items.extend([Value::keyword("limit"), Value::Integer(limit as i64)]);
        }
        Value::Vector(items)
    }

    /// The database input, if any: its position among [`Query::args`]
    /// (where `args` holds `nil`) and the model's user transaction it is
    /// as of.
    pub fn database_input(&self) -> Option<(usize, usize)> {
        let rules = usize::from(!self.rules.is_empty());
        self.inputs
            .iter()
            .enumerate()
            .find_map(|(i, input)| match input {
                Input::Database(n) => Some((rules + i, *n)),
                _ => None,
            })
    }

    /// The values for `:in` after `$`: the rule set first, if any, then
    /// each input (`nil` for the database, given as a `Db`).
    pub fn args(&self, attrs: &[Keyword], entity: &dyn Fn(i64) -> Value) -> Vec<Value> {
        let p = Printer {
            attrs,
            entity,
            aggregate_count: None,
        };
        let mut args = Vec::new();
        if !self.rules.is_empty() {
            args.push(Value::Vector(
                self.rules.iter().map(|r| p.rule(r)).collect(),
            ));
        }
        args.extend(self.inputs.iter().map(|input| {
            match input {
                Input::Scalar(_, val) => val.to_edn(entity),
                Input::Coll(_, vals) => {
                    Value::Vector(vals.iter().map(|v| v.to_edn(entity)).collect())
                }
                Input::Database(_) => Value::Nil,
                Input::Rel(_, tuples) | Input::Source(tuples) => Value::Vector(
                    tuples
                        .iter()
                        .map(|t| Value::Vector(t.iter().map(|v| v.to_edn(entity)).collect()))
                        .collect(),
                ),
            }
        }));
        args
    }
}

struct Printer<'p> {
    attrs: &'p [Keyword],
    entity: &'p dyn Fn(i64) -> Value,
    /// The count an n-ary aggregate of this count takes from `:in`.
    aggregate_count: Option<(usize, Var)>,
}

impl Printer<'_> {
    fn term(&self, term: &Term) -> Value {
        match term {
            Term::Var(v) => var(*v),
            Term::Const(c) => c.to_edn(self.entity),
            Term::Blank => sym("_"),
        }
    }

    fn elem(&self, elem: &Elem) -> Value {
        match elem {
            Elem::Var(v) => var(*v),
            Elem::Pull(v, attrs) => {
                let keys = attrs.iter().map(|a| match a {
                    Some(a) => Value::Keyword(self.attrs[*a].clone()),
                    None => Value::Keyword(Keyword::namespaced("db", "id")),
                });
                Value::List(vec![sym("pull"), var(*v), Value::Vector(keys.collect())])
            }
            Elem::Agg(agg, v) => {
                let (name, n) = match agg {
                    Agg::Count => ("count", None),
                    Agg::CountDistinct => ("count-distinct", None),
                    Agg::Sum => ("sum", None),
                    Agg::Min => ("min", None),
                    Agg::Max => ("max", None),
                    Agg::MinN(n) => ("min", Some(*n)),
                    Agg::MaxN(n) => ("max", Some(*n)),
                };
                let n = n.map(|n| match self.aggregate_count {
                    Some((count, input)) if count == n => var(input),
                    _ => Value::Integer(n as i64),
                });
                Value::List([sym(name)].into_iter().chain(n).chain([var(*v)]).collect())
            }
        }
    }

    fn body(&self, clauses: &[Clause]) -> Vec<Value> {
        clauses.iter().map(|c| self.clause(c)).collect()
    }

    fn branch(&self, clauses: &[Clause]) -> Value {
        match clauses {
            [one] => self.clause(one),
            many => Value::List([sym("and")].into_iter().chain(self.body(many)).collect()),
        }
    }

    fn clause(&self, clause: &Clause) -> Value {
        let list = |head: &str, rest: Vec<Value>| {
            Value::List([sym(head)].into_iter().chain(rest).collect())
        };
        let vars = |vars: &[Var]| Value::Vector(vars.iter().map(|v| var(*v)).collect());
        match clause {
            Clause::Pattern { e, a, v, history } => {
                let mut items = vec![
                    self.term(e),
                    Value::Keyword(self.attrs[*a].clone()),
                    self.term(v),
                ];
                if let Some((tx, added)) = history {
                    items.extend([self.term(tx), self.term(added)]);
                }
                Value::Vector(items)
            }
            Clause::Pred(cmp, x, y) => {
                let name = match cmp {
                    Cmp::Lt => "<",
                    Cmp::Le => "<=",
                    Cmp::Gt => ">",
                    Cmp::Ge => ">=",
                    Cmp::Eq => "=",
                    Cmp::Ne => "!=",
                };
                Value::Vector(vec![list(name, vec![self.term(x), self.term(y)])])
            }
            Clause::Call(func, args, out) => {
                let name = match func {
                    Func::Add => "+",
                    Func::Sub => "-",
                    Func::Str => "str",
                };
                let call = list(name, args.iter().map(|t| self.term(t)).collect());
                Value::Vector(vec![call, var(*out)])
            }
            Clause::Not(body) => list("not", self.body(body)),
            Clause::NotJoin(join, body) => list(
                "not-join",
                [vars(join)].into_iter().chain(self.body(body)).collect(),
            ),
            Clause::Or(branches) => list("or", branches.iter().map(|b| self.branch(b)).collect()),
            Clause::OrJoin(join, branches) => list(
                "or-join",
                [vars(join)]
                    .into_iter()
                    .chain(branches.iter().map(|b| self.branch(b)))
                    .collect(),
            ),
            Clause::Missing(e, a) => Value::Vector(vec![list(
                "missing?",
                vec![sym("$"), var(*e), Value::Keyword(self.attrs[*a].clone())],
            )]),
            Clause::GetElse(e, a, default, out) => Value::Vector(vec![
                list(
                    "get-else",
                    vec![
                        sym("$"),
                        var(*e),
                        Value::Keyword(self.attrs[*a].clone()),
                        default.to_edn(self.entity),
                    ],
                ),
                var(*out),
            ]),
            Clause::Ground(value, out) => Value::Vector(vec![
                list("ground", vec![value.to_edn(self.entity)]),
                var(*out),
            ]),
            Clause::AttrPattern { e, a, v } => {
                Value::Vector(vec![self.term(e), var(*a), self.term(v)])
            }
            Clause::BeforePattern { e, a, v } => Value::Vector(vec![
                sym(BEFORE),
                self.term(e),
                Value::Keyword(self.attrs[*a].clone()),
                self.term(v),
            ]),
            Clause::SourcePattern(terms) => Value::Vector(
                [sym(SOURCE)]
                    .into_iter()
                    .chain(terms.iter().map(|t| self.term(t)))
                    .collect(),
            ),
            Clause::Rule(name, args) => list(
                &rule_name(*name),
                args.iter().map(|t| self.term(t)).collect(),
            ),
        }
    }

    fn rule(&self, rule: &RuleDef) -> Value {
        let head = Value::List(
            [sym(&rule_name(rule.name))]
                .into_iter()
                .chain(rule.head.iter().map(|v| var(*v)))
                .collect(),
        );
        Value::Vector([head].into_iter().chain(self.body(&rule.body)).collect())
    }
}
