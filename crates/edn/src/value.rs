//! The EDN data model: [`Value`] and its parts ([`Keyword`], [`Symbol`],
//! [`Instant`], [`Uuid`]).
//!
//! Equality is structural. Maps and sets compare as unordered collections but
//! keep insertion order for printing. Floats compare by their bit pattern
//! (`total_cmp`), so `NaN == NaN` and every value can be a map key.
//! Arbitrary-precision decimals compare by numeric value, as Clojure's `=`
//! compares them (`1.50M` equals `1.5M`), though each keeps the scale it
//! was written with for printing.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use bigdecimal::BigDecimal;
use indexmap::{IndexMap, IndexSet};
use num_bigint::BigInt;

/// An EDN value.
#[derive(Clone, Debug)]
pub enum Value {
    /// `nil`.
    Nil,
    /// `true` or `false`.
    Boolean(bool),
    /// A 64-bit integer such as `42` or `-7`.
    Integer(i64),
    /// A double such as `1.5`, `1e-3`, `##NaN` or `##-Inf`.
    Float(f64),
    /// An arbitrary-precision integer: any integer with the `N` suffix,
    /// such as `7N` or `12345678901234567890123N` (Clojure's `BigInt`).
    BigInt(BigInt),
    /// An arbitrary-precision decimal: a number with the `M` suffix, such
    /// as `1.50M` or `3M` (Java's `BigDecimal`), kept exactly with the
    /// scale it was written with.
    BigDec(BigDecimal),
    /// A string, `"..."`.
    String(String),
    /// A character such as `\a`, `\newline` or `\u00e9`.
    Char(char),
    /// A keyword such as `:person/name`.
    Keyword(Keyword),
    /// A symbol such as `?x`.
    Symbol(Symbol),
    /// A list, `(...)`.
    List(Vec<Value>),
    /// A vector, `[...]`.
    Vector(Vec<Value>),
    /// A map, `{...}`, in the order written; keys are distinct.
    Map(IndexMap<Value, Value>),
    /// A set, `#{...}`, in the order written; elements are distinct.
    Set(IndexSet<Value>),
    /// `#inst "..."`: milliseconds since the Unix epoch, UTC.
    Inst(Instant),
    /// `#uuid "..."`.
    Uuid(Uuid),
    /// Any other tagged element, kept for the caller to interpret.
    Tagged(Symbol, Box<Value>),
}

/// A value drops level by level, with a stack of its own, once it holds
/// collections within collections: a value nested deeper than the call
/// stack allows (built in Rust; the reader makes none) would overflow it if
/// dropped as usual. A flat value drops as it would without this.
impl Drop for Value {
    fn drop(&mut self) {
        if !self.holds_collections() {
            return;
        }
        let mut pending = Vec::new();
        self.move_children_onto(&mut pending);
        while let Some(mut value) = pending.pop() {
            if value.holds_collections() {
                value.move_children_onto(&mut pending);
            }
        }
    }
}

/// A keyword such as `:name` or `:person/name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Keyword {
    /// The part before the `/`, if any.
    pub namespace: Option<String>,
    /// The part after the `/` (or after the `:` when there is no namespace).
    pub name: String,
}

/// A symbol such as `?x`, `foo` or `str/starts-with?`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    /// The part before the `/`, if any.
    pub namespace: Option<String>,
    /// The part after the `/`, or the whole symbol.
    pub name: String,
}

/// An instant in time, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Instant(pub i64);

/// A 128-bit UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(pub u128);

impl Keyword {
    /// A keyword without a namespace, `:name`.
    pub fn plain(name: impl Into<String>) -> Keyword {
        Keyword {
            namespace: None,
            name: name.into(),
        }
    }

    /// A keyword with a namespace, `:namespace/name`.
    pub fn namespaced(namespace: impl Into<String>, name: impl Into<String>) -> Keyword {
        Keyword {
            namespace: Some(namespace.into()),
            name: name.into(),
        }
    }

    /// Reads `":ns/name"`, `"ns/name"` or `"name"` (no validation of characters).
    pub fn from_str_lossy(text: &str) -> Keyword {
        let text = text.strip_prefix(':').unwrap_or(text);
        match split_namespace(text) {
            (Some(ns), name) => Keyword::namespaced(ns, name),
            (None, name) => Keyword::plain(name),
        }
    }

    /// `true` when the printed keyword reads back as itself: the namespace
    /// and name are valid EDN names (see `grammar/edn.ebnf`).
    pub fn is_readable(&self) -> bool {
        crate::reader::is_readable_name(self.namespace.as_deref(), &self.name)
    }

    /// `true` for reverse-reference keywords: a name that starts with `_`
    /// and goes on, as `:person/_friend` (the reverse of `:person/friend`)
    /// or, for an attribute without a namespace, `:_friend`.
    pub fn is_reverse(&self) -> bool {
        self.name.starts_with('_') && self.name.len() > 1
    }

    /// `:person/_friend` → `:person/friend`, `:_friend` → `:friend`; other
    /// keywords unchanged.
    pub fn to_forward(&self) -> Keyword {
        if self.is_reverse() {
            Keyword {
                namespace: self.namespace.clone(),
                name: self.name[1..].to_string(),
            }
        } else {
            self.clone()
        }
    }

    /// `:person/friend` → `:person/_friend`.
    pub fn to_reverse(&self) -> Keyword {
        Keyword {
            namespace: self.namespace.clone(),
            name: format!("_{}", self.name),
        }
    }

    /// The text after the colon: `ns/name` or `name`.
    pub fn qualified_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

impl Symbol {
    /// A symbol without a namespace.
    pub fn plain(name: impl Into<String>) -> Symbol {
        Symbol {
            namespace: None,
            name: name.into(),
        }
    }

    /// Reads `"ns/name"` or `"name"` (no validation of characters).
    pub fn from_str_lossy(text: &str) -> Symbol {
        match split_namespace(text) {
            (Some(ns), name) => Symbol {
                namespace: Some(ns.to_string()),
                name: name.to_string(),
            },
            (None, name) => Symbol::plain(name),
        }
    }

    /// The full text of the symbol: `ns/name` or `name`.
    pub fn qualified_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// `true` when the printed symbol reads back as itself: the namespace
    /// and name are valid EDN names and the symbol is not `nil`, `true` or
    /// `false` (which read as those values).
    pub fn is_readable(&self) -> bool {
        let reserved =
            self.namespace.is_none() && matches!(self.name.as_str(), "nil" | "true" | "false");
        !reserved && crate::reader::is_readable_name(self.namespace.as_deref(), &self.name)
    }

    /// `true` when the symbol has no namespace and this name.
    pub fn is(&self, name: &str) -> bool {
        self.namespace.is_none() && self.name == name
    }
}

fn split_namespace(text: &str) -> (Option<&str>, &str) {
    // A lone "/" is a name; "a/b" splits at the first slash.
    match text.find('/') {
        Some(i) if i > 0 && i + 1 < text.len() => (Some(&text[..i]), &text[i + 1..]),
        _ => (None, text),
    }
}

impl Value {
    /// Whether collections (and tagged elements) nest more than `limit`
    /// levels deep in this value: `1` nests 0 levels, `[1]` one, `[[1]]`
    /// two. The reader refuses text nested deeper than [`crate::MAX_DEPTH`];
    /// a value built in Rust is checked with this before recursive code
    /// walks it. The walk keeps its own stack, so any depth is safe, and
    /// stops at the first level past the limit.
    pub fn nests_deeper_than(&self, limit: usize) -> bool {
        let mut pending: Vec<(&Value, usize)> = vec![(self, 0)];
        while let Some((value, depth)) = pending.pop() {
            if !value.is_nested() {
                continue;
            }
            if depth >= limit {
                return true;
            }
            let inner = depth + 1;
            match value {
                Value::List(items) | Value::Vector(items) => {
                    pending.extend(items.iter().map(|item| (item, inner)));
                }
                Value::Map(map) => {
                    pending.extend(map.iter().flat_map(|(k, v)| [(k, inner), (v, inner)]));
                }
                Value::Set(items) => pending.extend(items.iter().map(|item| (item, inner))),
                Value::Tagged(_, item) => pending.push((item, inner)),
                _ => {}
            }
        }
        false
    }

    /// Whether the value holds others: a collection or a tagged value.
    fn is_nested(&self) -> bool {
        matches!(
            self,
            Value::List(_) | Value::Vector(_) | Value::Map(_) | Value::Set(_) | Value::Tagged(..)
        )
    }

    /// Whether any of the value's direct children is itself a collection
    /// (or a tagged value): only then can dropping it recurse.
    fn holds_collections(&self) -> bool {
        let is_nested = Value::is_nested;
        match self {
            Value::List(items) | Value::Vector(items) => items.iter().any(is_nested),
            Value::Map(map) => map
                .iter()
                .any(|(key, item)| is_nested(key) || is_nested(item)),
            Value::Set(items) => items.iter().any(is_nested),
            Value::Tagged(_, inner) => is_nested(inner),
            _ => false,
        }
    }

    /// Moves the value's children onto `pending`, leaving it empty.
    fn move_children_onto(&mut self, pending: &mut Vec<Value>) {
        match self {
            Value::List(items) | Value::Vector(items) => pending.append(items),
            Value::Map(map) => {
                for (key, item) in map.drain(..) {
                    pending.push(key);
                    pending.push(item);
                }
            }
            Value::Set(items) => pending.extend(items.drain(..)),
            Value::Tagged(_, inner) => pending.push(std::mem::replace(&mut **inner, Value::Nil)),
            _ => {}
        }
    }

    /// The value, leaving `Nil` in its place: how code moves a part out
    /// of a value it owns (a `Value` cannot be destructured by move, as it
    /// has a [`Drop`] of its own).
    pub fn take(&mut self) -> Value {
        std::mem::replace(self, Value::Nil)
    }

    /// Shorthand for a keyword value.
    pub fn keyword(text: &str) -> Value {
        Value::Keyword(Keyword::from_str_lossy(text))
    }

    /// Shorthand for a symbol value.
    pub fn symbol(text: &str) -> Value {
        Value::Symbol(Symbol::from_str_lossy(text))
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Boolean(_) => "boolean",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::BigInt(_) => "big integer",
            Value::BigDec(_) => "big decimal",
            Value::String(_) => "string",
            Value::Char(_) => "character",
            Value::Keyword(_) => "keyword",
            Value::Symbol(_) => "symbol",
            Value::List(_) => "list",
            Value::Vector(_) => "vector",
            Value::Map(_) => "map",
            Value::Set(_) => "set",
            Value::Inst(_) => "instant",
            Value::Uuid(_) => "uuid",
            Value::Tagged(..) => "tagged element",
        }
    }

    /// The keyword, if this is one.
    pub fn as_keyword(&self) -> Option<&Keyword> {
        match self {
            Value::Keyword(k) => Some(k),
            _ => None,
        }
    }

    /// The symbol, if this is one.
    pub fn as_symbol(&self) -> Option<&Symbol> {
        match self {
            Value::Symbol(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a list or vector, moved out; any other value is given
    /// back. (A `Value` cannot be destructured by move: it has a [`Drop`]
    /// of its own. These `into_` methods and [`Value::take`] stand in.)
    pub fn into_sequence(mut self) -> Result<Vec<Value>, Value> {
        match &mut self {
            Value::List(items) | Value::Vector(items) => Ok(std::mem::take(items)),
            _ => Err(self),
        }
    }

    /// The entries of a map, moved out; any other value is given back.
    pub fn into_map(mut self) -> Result<IndexMap<Value, Value>, Value> {
        match &mut self {
            Value::Map(map) => Ok(std::mem::take(map)),
            _ => Err(self),
        }
    }

    /// The elements of a set, moved out; any other value is given back.
    pub fn into_set(mut self) -> Result<IndexSet<Value>, Value> {
        match &mut self {
            Value::Set(items) => Ok(std::mem::take(items)),
            _ => Err(self),
        }
    }

    /// A string's text, moved out; any other value is given back.
    pub fn into_string(mut self) -> Result<String, Value> {
        match &mut self {
            Value::String(text) => Ok(std::mem::take(text)),
            _ => Err(self),
        }
    }

    /// A keyword, moved out; any other value is given back.
    pub fn into_keyword(mut self) -> Result<Keyword, Value> {
        match &mut self {
            Value::Keyword(keyword) => Ok(std::mem::replace(keyword, Keyword::plain(""))),
            _ => Err(self),
        }
    }

    /// A symbol, moved out; any other value is given back.
    pub fn into_symbol(mut self) -> Result<Symbol, Value> {
        match &mut self {
            Value::Symbol(symbol) => Ok(std::mem::replace(symbol, Symbol::plain(""))),
            _ => Err(self),
        }
    }

    /// The items of a list or vector.
    pub fn as_sequence(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Vector(items) => Some(items),
            _ => None,
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Nil => 0,
            Value::Boolean(_) => 1,
            Value::Integer(_) => 2,
            Value::Float(_) => 3,
            Value::String(_) => 4,
            Value::Char(_) => 5,
            Value::Keyword(_) => 6,
            Value::Symbol(_) => 7,
            Value::Inst(_) => 8,
            Value::Uuid(_) => 9,
            Value::List(_) => 10,
            Value::Vector(_) => 11,
            Value::Map(_) => 12,
            Value::Set(_) => 13,
            Value::Tagged(..) => 14,
            Value::BigInt(_) => 15,
            Value::BigDec(_) => 16,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Boolean(a), Value::Boolean(b)) => a == b,
            (Value::Integer(a), Value::Integer(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.total_cmp(b) == Ordering::Equal,
            (Value::BigInt(a), Value::BigInt(b)) => a == b,
            (Value::BigDec(a), Value::BigDec(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Char(a), Value::Char(b)) => a == b,
            (Value::Keyword(a), Value::Keyword(b)) => a == b,
            (Value::Symbol(a), Value::Symbol(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Vector(a), Value::Vector(b)) => a == b,
            // IndexMap and IndexSet compare as unordered collections.
            (Value::Map(a), Value::Map(b)) => a == b,
            (Value::Set(a), Value::Set(b)) => a == b,
            (Value::Inst(a), Value::Inst(b)) => a == b,
            (Value::Uuid(a), Value::Uuid(b)) => a == b,
            (Value::Tagged(ta, a), Value::Tagged(tb, b)) => ta == tb && a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            Value::Nil => {}
            Value::Boolean(b) => b.hash(state),
            Value::Integer(i) => i.hash(state),
            Value::Float(f) => f.to_bits().hash(state),
            Value::BigInt(i) => i.hash(state),
            // BigDecimal's hash ignores trailing zeros, as its equality does.
            Value::BigDec(d) => d.hash(state),
            Value::String(s) => s.hash(state),
            Value::Char(c) => c.hash(state),
            Value::Keyword(k) => k.hash(state),
            Value::Symbol(s) => s.hash(state),
            Value::List(items) | Value::Vector(items) => items.hash(state),
            Value::Map(map) => {
                // Order-independent: combine the entries' own hashes commutatively.
                let mut sum: u64 = 0;
                for (k, v) in map {
                    sum = sum.wrapping_add(hash_one(&(k, v)));
                }
                map.len().hash(state);
                sum.hash(state);
            }
            Value::Set(set) => {
                let mut sum: u64 = 0;
                for item in set {
                    sum = sum.wrapping_add(hash_one(item));
                }
                set.len().hash(state);
                sum.hash(state);
            }
            Value::Inst(i) => i.hash(state),
            Value::Uuid(u) => u.hash(state),
            Value::Tagged(tag, value) => {
                tag.hash(state);
                value.hash(state);
            }
        }
    }
}

fn hash_one<T: Hash>(value: &T) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A total order: values of one kind compare naturally (numbers numerically,
/// strings by code point, instants by time); different kinds order by kind.
/// Maps and sets compare by their sorted contents.
impl Ord for Value {
    fn cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Nil, Value::Nil) => Ordering::Equal,
            (Value::Boolean(a), Value::Boolean(b)) => a.cmp(b),
            (Value::Integer(a), Value::Integer(b)) => a.cmp(b),
            (Value::Float(a), Value::Float(b)) => a.total_cmp(b),
            (Value::BigInt(a), Value::BigInt(b)) => a.cmp(b),
            (Value::BigDec(a), Value::BigDec(b)) => a.cmp(b),
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (Value::Char(a), Value::Char(b)) => a.cmp(b),
            (Value::Keyword(a), Value::Keyword(b)) => a.cmp(b),
            (Value::Symbol(a), Value::Symbol(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) | (Value::Vector(a), Value::Vector(b)) => a.cmp(b),
            (Value::Map(a), Value::Map(b)) => {
                let mut a: Vec<_> = a.iter().collect();
                let mut b: Vec<_> = b.iter().collect();
                a.sort();
                b.sort();
                a.cmp(&b)
            }
            (Value::Set(a), Value::Set(b)) => {
                let mut a: Vec<_> = a.iter().collect();
                let mut b: Vec<_> = b.iter().collect();
                a.sort();
                b.sort();
                a.cmp(&b)
            }
            (Value::Inst(a), Value::Inst(b)) => a.cmp(b),
            (Value::Uuid(a), Value::Uuid(b)) => a.cmp(b),
            (Value::Tagged(ta, a), Value::Tagged(tb, b)) => ta.cmp(tb).then_with(|| a.cmp(b)),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::String(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::String(text)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Value {
        Value::Integer(number)
    }
}

impl From<f64> for Value {
    fn from(number: f64) -> Value {
        Value::Float(number)
    }
}

impl From<BigInt> for Value {
    fn from(number: BigInt) -> Value {
        Value::BigInt(number)
    }
}

impl From<BigDecimal> for Value {
    fn from(number: BigDecimal) -> Value {
        Value::BigDec(number)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Value {
        Value::Boolean(flag)
    }
}

impl From<Keyword> for Value {
    fn from(keyword: Keyword) -> Value {
        Value::Keyword(keyword)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value of `levels` vectors, one inside the other, around `1`.
    fn nested(levels: usize) -> Value {
        let mut value = Value::Integer(1);
        for _ in 0..levels {
            value = Value::Vector(vec![value]);
        }
        value
    }

    #[test]
    fn nesting_is_counted_in_collections_as_the_reader_counts_it() {
        assert!(!Value::Integer(1).nests_deeper_than(0));
        assert!(Value::Vector(vec![]).nests_deeper_than(0));
        assert!(!nested(2).nests_deeper_than(2));
        assert!(nested(3).nests_deeper_than(2));
        let text = format!(
            "{}1{}",
            "[".repeat(crate::MAX_DEPTH),
            "]".repeat(crate::MAX_DEPTH)
        );
        let read = crate::parse(&text).expect("the reader's deepest");
        assert!(!read.nests_deeper_than(crate::MAX_DEPTH));
        let deeper = format!("[{text}]");
        assert!(crate::parse(&deeper).is_err());
        assert!(Value::Vector(vec![read]).nests_deeper_than(crate::MAX_DEPTH));
        let tagged = Value::Tagged(Symbol::plain("t"), Box::new(nested(1)));
        assert!(tagged.nests_deeper_than(1));
    }

    #[test]
    fn a_value_deeper_than_the_stack_allows_is_checked_and_dropped() {
        let mut deep = Value::Integer(1);
        // (no sets: building one hashes its elements, which recurses)
        for level in 0..200_000 {
            deep = match level % 4 {
                0 => Value::Vector(vec![deep]),
                1 => Value::Map([(Value::Nil, deep)].into_iter().collect()),
                2 => Value::List(vec![Value::Set([Value::Nil].into_iter().collect()), deep]),
                _ => Value::Tagged(Symbol::plain("t"), Box::new(deep)),
            };
        }
        assert!(deep.nests_deeper_than(crate::MAX_DEPTH));
        assert!(!deep.nests_deeper_than(200_000));
        // Dropped as usual, this would overflow the test thread's stack.
        drop(deep);
    }

    #[test]
    fn maps_compare_without_order_and_hash_alike() {
        let mut a = IndexMap::new();
        a.insert(Value::from(1), Value::from("x"));
        a.insert(Value::from(2), Value::from("y"));
        let mut b = IndexMap::new();
        b.insert(Value::from(2), Value::from("y"));
        b.insert(Value::from(1), Value::from("x"));
        let (a, b) = (Value::Map(a), Value::Map(b));
        assert_eq!(a, b);
        assert_eq!(hash_one(&a), hash_one(&b));
        assert_eq!(a.cmp(&b), Ordering::Equal);
    }

    #[test]
    fn reverse_keywords() {
        let k = Keyword::from_str_lossy(":person/_friend");
        assert!(k.is_reverse());
        assert_eq!(k.to_forward(), Keyword::namespaced("person", "friend"));
        assert_eq!(k.to_forward().to_reverse(), k);
        let plain = Keyword::from_str_lossy(":_friend");
        assert!(plain.is_reverse());
        assert_eq!(plain.to_forward(), Keyword::plain("friend"));
        assert!(!Keyword::from_str_lossy(":_").is_reverse());
        assert!(!Keyword::from_str_lossy(":person/_").is_reverse());
    }

    #[test]
    fn equal_decimals_are_equal_values_and_hash_alike() {
        let (a, b) = (
            crate::parse("1.5M").unwrap(),
            crate::parse("1.50M").unwrap(),
        );
        assert_eq!(a, b);
        assert_eq!(hash_one(&a), hash_one(&b));
        assert_eq!(a.cmp(&b), Ordering::Equal);
        assert_ne!(a.to_string(), b.to_string(), "each prints as it was read");
        assert_ne!(crate::parse("1N").unwrap(), crate::parse("1M").unwrap());
        assert_ne!(crate::parse("1N").unwrap(), Value::Integer(1));
    }

    #[test]
    fn long_and_double_differ() {
        assert_ne!(Value::Integer(1), Value::Float(1.0));
    }
}
