//! The replicated log's record format: what one entry of a replicated
//! transaction log holds, encoded and decoded byte for byte the same way on
//! every node (no map iteration, doubles by their bits, integers
//! little-endian at fixed widths, every length given before its bytes).
//!
//! ```text
//! record   := magic "FLRC" · version u16 · kind u8 · id [16] · basis i64 · body
//! genesis  := layout i64 · store id [16] · bootstrap instant i64
//! tx       := tx i64 · instant i64 · next ids 3×i64
//!             · u32 count · (e i64 · a i64 · value)*   retracted
//!             · u32 count · (e i64 · a i64 · value)*   asserted
//!             · u32 count · (text · entity i64)*       tempids
//! barrier  := (nothing)
//! value    := tag u8 (the value type's tag) · payload (a tuple, a big
//!             integer or a big decimal: u32 length · its stored bytes)
//! text     := u32 length · UTF-8 bytes
//! ```
//!
//! The record id is random, chosen by the writer, and doubles as the
//! message id the log deduplicates by; `basis` is the newest transaction
//! of the store the record was resolved against.

use factlite_core::{Entid, TypedValue, ValueType};
use factlite_edn::{Keyword, Symbol};
use indexmap::IndexMap;

use crate::transact::{TxRecord, TxReport};

/// The record format this build writes and reads.
pub const RECORD_VERSION: u16 = 1;

const MAGIC: &[u8; 4] = b"FLRC";

/// One entry of a replicated log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    /// Random, chosen by the writer; also the log's message id.
    pub id: [u8; 16],
    /// The newest transaction of the store the record was made on (0 for
    /// a genesis or a barrier).
    pub basis: Entid,
    /// What the record does.
    pub body: RecordBody,
}

/// What a [`LogRecord`] does.
#[derive(Clone, Debug, PartialEq)]
pub enum RecordBody {
    /// The log's first record: every node's store starts from it, so every
    /// node's tables are identical.
    Genesis(Genesis),
    /// A resolved transaction, applied as it is.
    Transaction(TxRecord),
    /// Nothing: appended to learn what stands at a position of the log
    /// (settling a write whose outcome is unknown). Applying it moves the
    /// position only.
    Barrier,
}

/// The first record of a replicated log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Genesis {
    /// The store layout version (`FORMAT_VERSION`) of the nodes.
    pub layout: i64,
    /// The replicated store's id, random.
    pub store_id: [u8; 16],
    /// The instant of the bootstrap transaction, in milliseconds.
    pub bootstrap_instant: i64,
}

/// Why bytes are not a record this build reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordError(pub String);

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a factlite log record: {}", self.0)
    }
}

impl std::error::Error for RecordError {}

impl LogRecord {
    /// The record of a transaction, from its report (before the commit)
    /// and the partitions' next ids after it. The report's datoms are in
    /// log order, retractions first.
    pub fn transaction(id: [u8; 16], report: &TxReport, next_ids: [Entid; 3]) -> LogRecord {
        let triple = |d: &factlite_core::Datom| (d.e, d.a, d.v.clone());
        LogRecord {
            id,
            basis: report.basis_before,
            body: RecordBody::Transaction(TxRecord {
                tx: report.tx,
                instant: report.instant.0,
                retracted: report
                    .datoms
                    .iter()
                    .filter(|d| !d.added)
                    .map(triple)
                    .collect(),
                asserted: report
                    .datoms
                    .iter()
                    .filter(|d| d.added)
                    .map(triple)
                    .collect(),
                tempids: report.tempids.clone(),
                next_ids,
            }),
        }
    }

    /// The record's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&RECORD_VERSION.to_le_bytes());
        let kind: u8 = match self.body {
            RecordBody::Genesis(_) => 0,
            RecordBody::Transaction(_) => 1,
            RecordBody::Barrier => 2,
        };
        out.push(kind);
        out.extend_from_slice(&self.id);
        put_i64(&mut out, self.basis);
        match &self.body {
            RecordBody::Genesis(genesis) => {
                put_i64(&mut out, genesis.layout);
                out.extend_from_slice(&genesis.store_id);
                put_i64(&mut out, genesis.bootstrap_instant);
            }
            RecordBody::Transaction(record) => {
                put_i64(&mut out, record.tx);
                put_i64(&mut out, record.instant);
                for next in record.next_ids {
                    put_i64(&mut out, next);
                }
                for datoms in [&record.retracted, &record.asserted] {
                    put_len(&mut out, datoms.len());
                    for (e, a, v) in datoms {
                        put_i64(&mut out, *e);
                        put_i64(&mut out, *a);
                        put_value(&mut out, v);
                    }
                }
                put_len(&mut out, record.tempids.len());
                for (tempid, entity) in &record.tempids {
                    put_text(&mut out, tempid);
                    put_i64(&mut out, *entity);
                }
            }
            RecordBody::Barrier => {}
        }
        out
    }

    /// Reads a record's bytes; anything left over, cut short or of an
    /// unknown version is an error.
    pub fn decode(bytes: &[u8]) -> Result<LogRecord, RecordError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(4)? != MAGIC {
            return Err(RecordError("it does not start with FLRC".into()));
        }
        let version = u16::from_le_bytes(reader.array()?);
        if version != RECORD_VERSION {
            return Err(RecordError(format!(
                "record format {version}; this build reads format {RECORD_VERSION}"
            )));
        }
        let kind = reader.u8()?;
        let id: [u8; 16] = reader.array()?;
        let basis = reader.i64()?;
        let body = match kind {
            0 => RecordBody::Genesis(Genesis {
                layout: reader.i64()?,
                store_id: reader.array()?,
                bootstrap_instant: reader.i64()?,
            }),
            1 => {
                let tx = reader.i64()?;
                let instant = reader.i64()?;
                let next_ids = [reader.i64()?, reader.i64()?, reader.i64()?];
                let retracted = reader.datoms()?;
                let asserted = reader.datoms()?;
                let count = reader.len()?;
                let mut tempids = IndexMap::with_capacity(count.min(1024));
                for _ in 0..count {
                    let tempid = reader.text()?;
                    tempids.insert(tempid, reader.i64()?);
                }
                RecordBody::Transaction(TxRecord {
                    tx,
                    instant,
                    retracted,
                    asserted,
                    tempids,
                    next_ids,
                })
            }
            2 => RecordBody::Barrier,
            other => return Err(RecordError(format!("unknown record kind {other}"))),
        };
        if reader.at != bytes.len() {
            return Err(RecordError(format!(
                "{} bytes follow the end of the record",
                bytes.len() - reader.at
            )));
        }
        Ok(LogRecord { id, basis, body })
    }
}

fn put_i64(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Lengths past u32 cannot occur: a record that large is refused by the
    // log long before (and SQLite values stop at 1 GB).
    let len = u32::try_from(len).unwrap_or_else(|_| unreachable!("a record part over 4 GiB"));
    out.extend_from_slice(&len.to_le_bytes());
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_len(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn put_name(out: &mut Vec<u8>, namespace: &Option<String>, name: &str) {
    match namespace {
        Some(namespace) => {
            out.push(1);
            put_text(out, namespace);
        }
        None => out.push(0),
    }
    put_text(out, name);
}

fn put_value(out: &mut Vec<u8>, value: &TypedValue) {
    // Tags fit in a byte: there are fifteen types.
    out.push(value.value_type().tag() as u8);
    match value {
        TypedValue::Ref(v) | TypedValue::Instant(v) | TypedValue::Long(v) => put_i64(out, *v),
        TypedValue::Boolean(v) => out.push(u8::from(*v)),
        TypedValue::Double(v) => out.extend_from_slice(&v.to_bits().to_le_bytes()),
        TypedValue::String(v) | TypedValue::Uri(v) => put_text(out, v),
        TypedValue::Keyword(k) => put_name(out, &k.namespace, &k.name),
        TypedValue::Symbol(s) => put_name(out, &s.namespace, &s.name),
        TypedValue::Uuid(v) => out.extend_from_slice(&v.to_le_bytes()),
        TypedValue::Bytes(v) => {
            put_len(out, v.len());
            out.extend_from_slice(v);
        }
        TypedValue::Float(v) => out.extend_from_slice(&v.to_bits().to_le_bytes()),
        TypedValue::Tuple(elements) => {
            // A tuple's own encoding (`core::tuple`): deterministic, and
            // read back by the same code that reads it from the tables.
            let bytes = factlite_core::tuple::encode(elements);
            put_len(out, bytes.len());
            out.extend_from_slice(&bytes);
        }
        TypedValue::BigInt(_) | TypedValue::BigDec(_) => {
            // The number key they are stored as (`core::number`): one
            // form per value, read back by the tables' decoder.
            let bytes = factlite_core::number::stored_key(value).unwrap_or_default();
            put_len(out, bytes.len());
            out.extend_from_slice(&bytes);
        }
    }
}

/// A cursor over a record's bytes.
struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8], RecordError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| {
                RecordError(format!(
                    "it is cut short: {n} bytes wanted at byte {} of {}",
                    self.at,
                    self.bytes.len()
                ))
            })?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RecordError> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn u8(&mut self) -> Result<u8, RecordError> {
        Ok(self.take(1)?[0])
    }

    fn i64(&mut self) -> Result<i64, RecordError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    fn len(&mut self) -> Result<usize, RecordError> {
        Ok(u32::from_le_bytes(self.array()?) as usize)
    }

    fn text(&mut self) -> Result<String, RecordError> {
        let len = self.len()?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| RecordError(format!("text that is not UTF-8 at byte {}", self.at - len)))
    }

    fn name(&mut self) -> Result<(Option<String>, String), RecordError> {
        let namespace = match self.u8()? {
            0 => None,
            1 => Some(self.text()?),
            other => return Err(RecordError(format!("a name marked {other}, not 0 or 1"))),
        };
        Ok((namespace, self.text()?))
    }

    fn value(&mut self) -> Result<TypedValue, RecordError> {
        let tag = self.u8()?;
        let value_type = ValueType::from_tag(i64::from(tag))
            .ok_or_else(|| RecordError(format!("unknown value type tag {tag}")))?;
        Ok(match value_type {
            ValueType::Ref => TypedValue::Ref(self.i64()?),
            ValueType::Instant => TypedValue::Instant(self.i64()?),
            ValueType::Long => TypedValue::Long(self.i64()?),
            ValueType::Boolean => match self.u8()? {
                0 => TypedValue::Boolean(false),
                1 => TypedValue::Boolean(true),
                other => return Err(RecordError(format!("a boolean of {other}"))),
            },
            ValueType::Double => {
                TypedValue::Double(f64::from_bits(u64::from_le_bytes(self.array()?)))
            }
            ValueType::String => TypedValue::String(self.text()?),
            ValueType::Uri => TypedValue::Uri(self.text()?),
            ValueType::Keyword => {
                let (namespace, name) = self.name()?;
                TypedValue::Keyword(Box::new(Keyword { namespace, name }))
            }
            ValueType::Symbol => {
                let (namespace, name) = self.name()?;
                TypedValue::Symbol(Box::new(Symbol { namespace, name }))
            }
            ValueType::Float => {
                TypedValue::Float(f32::from_bits(u32::from_le_bytes(self.array()?)))
            }
            ValueType::Tuple => {
                let len = self.len()?;
                let elements = factlite_core::tuple::decode(self.take(len)?).map_err(|error| {
                    RecordError(format!("a tuple that does not read back: {error}"))
                })?;
                TypedValue::Tuple(elements)
            }
            ValueType::BigInt | ValueType::BigDec => {
                let len = self.len()?;
                factlite_core::number::from_stored_key(value_type, self.take(len)?).map_err(
                    |error| {
                        RecordError(format!(
                            "a {value_type} value that does not read back: {error}"
                        ))
                    },
                )?
            }
            ValueType::Uuid => TypedValue::Uuid(u128::from_le_bytes(self.array()?)),
            ValueType::Bytes => {
                let len = self.len()?;
                TypedValue::Bytes(self.take(len)?.to_vec())
            }
        })
    }

    fn datoms(&mut self) -> Result<Vec<(Entid, Entid, TypedValue)>, RecordError> {
        let count = self.len()?;
        // Each datom takes at least 17 bytes: a count past what is left is
        // a damaged record, not a reason to allocate.
        if count > (self.bytes.len() - self.at) / 17 {
            return Err(RecordError(format!(
                "{count} datoms announced in {} bytes",
                self.bytes.len() - self.at
            )));
        }
        let mut datoms = Vec::with_capacity(count);
        for _ in 0..count {
            datoms.push((self.i64()?, self.i64()?, self.value()?));
        }
        Ok(datoms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_type() -> Vec<(Entid, Entid, TypedValue)> {
        vec![
            (1, 2, TypedValue::Ref(3)),
            (1, 2, TypedValue::Boolean(true)),
            (1, 2, TypedValue::Instant(-5)),
            (1, 2, TypedValue::Long(i64::MIN)),
            (1, 2, TypedValue::Double(-0.0)),
            (1, 2, TypedValue::Double(f64::NAN)),
            (1, 2, TypedValue::String("naïve".into())),
            (
                1,
                2,
                TypedValue::Keyword(Box::new(Keyword::namespaced("a", "b"))),
            ),
            (1, 2, TypedValue::Keyword(Box::new(Keyword::plain("c")))),
            (1, 2, TypedValue::Symbol(Box::new(Symbol::plain("d")))),
            (1, 2, TypedValue::Float(-1.5)),
            (
                1,
                2,
                TypedValue::Tuple(vec![
                    Some(TypedValue::Long(7)),
                    None,
                    Some(TypedValue::String("t".into())),
                ]),
            ),
            (1, 2, TypedValue::Uuid(u128::MAX - 7)),
            (1, 2, TypedValue::Bytes(vec![0, 255, 7])),
            (1, 2, TypedValue::Uri("https://example.org/x".into())),
            (1, 2, big("-12345678901234567890123N", ValueType::BigInt)),
            (1, 2, big("0.1M", ValueType::BigDec)),
            (1, 2, big("-1e40M", ValueType::BigDec)),
        ]
    }

    /// The typed value the EDN `text` reads as, of type `value_type`.
    fn big(text: &str, value_type: ValueType) -> TypedValue {
        TypedValue::from_edn(&factlite_edn::parse(text).expect("EDN"), value_type).expect("fits")
    }

    fn transaction() -> LogRecord {
        let mut tempids = IndexMap::new();
        tempids.insert("ann".to_string(), 65_537);
        tempids.insert("bob".to_string(), 65_538);
        LogRecord {
            id: [9; 16],
            basis: 536_870_913,
            body: RecordBody::Transaction(TxRecord {
                tx: 536_870_914,
                instant: 1_700_000_000_000,
                retracted: every_type(),
                asserted: every_type().into_iter().rev().collect(),
                tempids,
                next_ids: [100, 536_870_915, 65_539],
            }),
        }
    }

    #[test]
    fn every_kind_reads_back_as_itself_and_encodes_to_the_same_bytes() {
        let genesis = LogRecord {
            id: [1; 16],
            basis: 0,
            body: RecordBody::Genesis(Genesis {
                layout: 4,
                store_id: [2; 16],
                bootstrap_instant: 1_234,
            }),
        };
        let barrier = LogRecord {
            id: [3; 16],
            basis: 0,
            body: RecordBody::Barrier,
        };
        for record in [genesis, barrier, transaction()] {
            let bytes = record.encode();
            let back = LogRecord::decode(&bytes).expect("a record just encoded reads back");
            assert_eq!(back.encode(), bytes);
            // NaN is not equal to itself: compare the bytes, then the rest.
            if !matches!(record.body, RecordBody::Transaction(_)) {
                assert_eq!(back, record);
            }
        }
    }

    #[test]
    fn doubles_keep_their_bits() {
        let bytes = transaction().encode();
        let RecordBody::Transaction(back) = LogRecord::decode(&bytes).unwrap().body else {
            panic!("a transaction record reads back as a transaction");
        };
        let bits: Vec<u64> = back
            .retracted
            .iter()
            .filter_map(|(_, _, v)| match v {
                TypedValue::Double(d) => Some(d.to_bits()),
                _ => None,
            })
            .collect();
        assert_eq!(bits, vec![(-0.0f64).to_bits(), f64::NAN.to_bits()]);
    }

    #[test]
    fn damaged_bytes_are_errors_never_panics() {
        let bytes = transaction().encode();
        for cut in 0..bytes.len() {
            assert!(LogRecord::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            LogRecord::decode(&longer).unwrap_err().0,
            "1 bytes follow the end of the record"
        );
        let mut newer = bytes.clone();
        newer[4] = 2;
        assert_eq!(
            LogRecord::decode(&newer).unwrap_err().0,
            "record format 2; this build reads format 1"
        );
        let mut huge_count = bytes;
        // The retracted count sits after magic, version, kind, id, basis,
        // tx, instant and the next ids.
        let at = 4 + 2 + 1 + 16 + 8 + 8 + 8 + 24;
        huge_count[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(LogRecord::decode(&huge_count)
            .unwrap_err()
            .0
            .contains("datoms announced"));
    }
}
