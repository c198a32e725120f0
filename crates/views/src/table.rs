//! A view's SQLite table: its layout, and rows in and out.
//!
//! The table of view `NAME` is `"view_NAME"` (quoted: names may hold `-`),
//! with two columns per find element: the value, and its type. Any SQLite
//! client can read it:
//!
//! | find element's value | value column        | `<column>_type` |
//! | --- | --- | --- |
//! | long, entity id      | INTEGER             | `long`          |
//! | double               | REAL                | `double`        |
//! | string               | TEXT                | `string`        |
//! | boolean              | INTEGER 0 or 1      | `boolean`       |
//! | keyword              | TEXT `:ns/name`     | `keyword`       |
//! | instant              | INTEGER, ms since the epoch (UTC) | `instant` |
//! | uuid                 | TEXT, canonical     | `uuid`          |
//! | bytes                | BLOB                | `bytes`         |
//! | nil                  | NULL                | `nil`           |
//! | anything else (a tuple, a set from `distinct`, ...) | TEXT, EDN | `edn` |
//!
//! A pull in `:find` is kept as the entity id; the pull runs when the view
//! is read. Rows are distinct; an index on the key columns serves
//! maintenance. A view maintained by counting (see `counting`) has a
//! second table, `"view_NAME__support"`, with the same pairs of columns for
//! each variable of the aggregated tuple and `n`, the number of derivations
//! of that tuple; the view table of an aggregate then also has
//! `fl_tuples`, the number of tuples in the group.

use factlite_edn::{Instant, Uuid, Value};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params_from_iter, Connection};

use crate::error::{Error, Result};

/// A view's table.
#[derive(Clone, Debug)]
pub struct Table {
    /// The quoted table name.
    pub name: String,
    columns: Vec<String>,
    key_positions: Vec<usize>,
    /// An INTEGER column counting something per row, when the table has one.
    counter: Option<String>,
}

impl Table {
    /// The table `name` with the given value columns, indexed on the
    /// columns at `key_positions`, and a counter column when given.
    pub fn new(
        name: &str,
        columns: &[String],
        key_positions: &[usize],
        counter: Option<&str>,
    ) -> Table {
        Table {
            name: quote(name),
            columns: columns.to_vec(),
            key_positions: key_positions.to_vec(),
            counter: counter.map(quote),
        }
    }

    fn value_columns(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(|c| [quote(c), quote(&format!("{c}_type"))])
            .collect()
    }

    fn all_columns(&self) -> Vec<String> {
        let mut columns = self.value_columns();
        columns.extend(self.counter.clone());
        columns
    }

    /// Creates the table (replacing an old one) and its key index; a table
    /// with a counter also gets a unique index on all its values, since
    /// counted rows are looked up whole.
    pub fn create(&self, conn: &Connection) -> Result<()> {
        let bare = self.name.trim_matches('"').to_string();
        let mut columns = self.value_columns();
        if let Some(counter) = &self.counter {
            columns.push(format!("{counter} INTEGER NOT NULL"));
        }
        let mut sql = format!(
            "DROP TABLE IF EXISTS {name}; CREATE TABLE {name} ({});",
            columns.join(", "),
            name = self.name
        );
        let index = |suffix: &str, positions: &[usize], unique: bool| {
            let keys: Vec<String> = positions.iter().map(|&p| quote(&self.columns[p])).collect();
            format!(
                "CREATE {}INDEX {} ON {} ({});",
                if unique { "UNIQUE " } else { "" },
                quote(&format!("{bare}_{suffix}")),
                self.name,
                keys.join(", ")
            )
        };
        if !self.key_positions.is_empty() {
            sql.push_str(&index("key", &self.key_positions, false));
        }
        if self.counter.is_some() && !self.columns.is_empty() {
            let all: Vec<usize> = (0..self.columns.len()).collect();
            sql.push_str(&index("row", &all, false));
        }
        conn.execute_batch(&sql)?;
        Ok(())
    }

    /// Drops the table.
    pub fn drop_table(&self, conn: &Connection) -> Result<()> {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", self.name))?;
        Ok(())
    }

    /// Every row.
    pub fn rows(&self, conn: &Connection) -> Result<Vec<Vec<Value>>> {
        Ok(self
            .select(conn, "1", Vec::new())?
            .into_iter()
            .map(|(row, _)| row)
            .collect())
    }

    /// The rows whose key is `key` (values at the key positions).
    pub fn rows_with_key(&self, conn: &Connection, key: &[Value]) -> Result<Vec<Vec<Value>>> {
        Ok(self
            .counted_rows_with_key(conn, key)?
            .into_iter()
            .map(|(row, _)| row)
            .collect())
    }

    /// The rows whose key is `key`, with their counters.
    pub fn counted_rows_with_key(
        &self,
        conn: &Connection,
        key: &[Value],
    ) -> Result<Vec<(Vec<Value>, i64)>> {
        let (condition, params) = self.key_condition(key);
        self.select(conn, &condition, params)
    }

    fn select(
        &self,
        conn: &Connection,
        condition: &str,
        params: Vec<SqlValue>,
    ) -> Result<Vec<(Vec<Value>, i64)>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE {condition}",
            self.all_columns().join(", "),
            self.name
        );
        let mut statement = conn.prepare_cached(&sql)?;
        let mut rows = statement.query(params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let counter = match self.counter {
                Some(_) => row.get(self.columns.len() * 2)?,
                None => 0,
            };
            out.push((self.decode_row(row)?, counter));
        }
        Ok(out)
    }

    /// The counter of a row; 0 when the row is absent.
    pub fn counter(&self, conn: &Connection, row: &[Value]) -> Result<i64> {
        let positions: Vec<usize> = (0..row.len()).collect();
        let (condition, params) = self.condition(&positions, row);
        Ok(self
            .select(conn, &condition, params)?
            .first()
            .map_or(0, |(_, n)| *n))
    }

    /// Sets the counter of a row.
    pub fn set_counter(&self, conn: &Connection, row: &[Value], counter: i64) -> Result<()> {
        let Some(column) = &self.counter else {
            return Ok(());
        };
        let positions: Vec<usize> = (0..row.len()).collect();
        let (condition, mut params) = self.condition(&positions, row);
        params.push(SqlValue::Integer(counter));
        conn.prepare_cached(&format!(
            "UPDATE {} SET {column} = ?{} WHERE {condition}",
            self.name,
            params.len()
        ))?
        .execute(params_from_iter(params))?;
        Ok(())
    }

    /// Deletes every row.
    pub fn clear(&self, conn: &Connection) -> Result<()> {
        conn.execute_batch(&format!("DELETE FROM {}", self.name))?;
        Ok(())
    }

    /// The number of rows.
    pub fn count(&self, conn: &Connection) -> Result<i64> {
        Ok(conn
            .prepare_cached(&format!("SELECT count(*) FROM {}", self.name))?
            .query_row([], |row| row.get(0))?)
    }

    /// Inserts a row, with its counter when the table has one.
    pub fn insert(&self, conn: &Connection, row: &[Value], counter: i64) -> Result<()> {
        let columns = self.all_columns();
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.name,
            columns.join(", "),
            placeholders.join(", ")
        );
        let mut params = Vec::with_capacity(columns.len());
        for value in row {
            let (sql_value, kind) = encode(value);
            params.push(sql_value);
            params.push(SqlValue::Text(kind.to_string()));
        }
        if self.counter.is_some() {
            params.push(SqlValue::Integer(counter));
        }
        conn.prepare_cached(&sql)?
            .execute(params_from_iter(params))?;
        Ok(())
    }

    /// Deletes one row.
    pub fn delete(&self, conn: &Connection, row: &[Value]) -> Result<()> {
        let positions: Vec<usize> = (0..row.len()).collect();
        let (condition, params) = self.condition(&positions, row);
        conn.prepare_cached(&format!("DELETE FROM {} WHERE {condition}", self.name))?
            .execute(params_from_iter(params))?;
        Ok(())
    }

    fn key_condition(&self, key: &[Value]) -> (String, Vec<SqlValue>) {
        self.condition(&self.key_positions, key)
    }

    /// `col IS ?n AND col_type = ?m ...` for the values at `positions`.
    fn condition(&self, positions: &[usize], values: &[Value]) -> (String, Vec<SqlValue>) {
        let mut parts = Vec::new();
        let mut params = Vec::new();
        for (&position, value) in positions.iter().zip(values) {
            let column = &self.columns[position];
            let (sql_value, kind) = encode(value);
            params.push(sql_value);
            parts.push(format!("{} IS ?{}", quote(column), params.len()));
            params.push(SqlValue::Text(kind.to_string()));
            parts.push(format!(
                "{} = ?{}",
                quote(&format!("{column}_type")),
                params.len()
            ));
        }
        if parts.is_empty() {
            parts.push("1".to_string());
        }
        (parts.join(" AND "), params)
    }

    fn decode_row(&self, row: &rusqlite::Row<'_>) -> Result<Vec<Value>> {
        (0..self.columns.len())
            .map(|i| {
                let kind: String = row.get(2 * i + 1)?;
                decode(row.get_ref(2 * i)?, &kind)
            })
            .collect()
    }
}

/// `"name"`, with inner quotes doubled.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A value as the table stores it, and its type name.
pub fn encode(value: &Value) -> (SqlValue, &'static str) {
    match value {
        Value::Integer(i) => (SqlValue::Integer(*i), "long"),
        Value::Float(x) => (SqlValue::Real(*x), "double"),
        Value::String(s) => (SqlValue::Text(s.clone()), "string"),
        Value::Boolean(b) => (SqlValue::Integer(i64::from(*b)), "boolean"),
        Value::Keyword(k) => (SqlValue::Text(Value::Keyword(k.clone()).to_string()), "keyword"),
        Value::Inst(i) => (SqlValue::Integer(i.0), "instant"),
        Value::Uuid(u) => (SqlValue::Text(u.to_string()), "uuid"),
        Value::Nil => (SqlValue::Null, "nil"),
        other => match factlite_core::TypedValue::from_edn(other, factlite_core::ValueType::Bytes)
        {
            Ok(factlite_core::TypedValue::Bytes(bytes)) => (SqlValue::Blob(bytes), "bytes"),
            _ => (SqlValue::Text(other.to_string()), "edn"),
        },
    }
}

/// A stored value back as EDN.
fn decode(raw: ValueRef<'_>, kind: &str) -> Result<Value> {
    let corrupt = || Error::Corrupt(format!("a {kind} cell holds {raw:?}"));
    Ok(match (kind, raw) {
        ("nil", _) => Value::Nil,
        ("long", ValueRef::Integer(i)) => Value::Integer(i),
        ("double", ValueRef::Real(x)) => Value::Float(x),
        ("double", ValueRef::Integer(i)) => Value::Float(i as f64),
        ("string", ValueRef::Text(t)) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ("boolean", ValueRef::Integer(i)) => Value::Boolean(i != 0),
        ("keyword", ValueRef::Text(t)) => match factlite_edn::parse(&String::from_utf8_lossy(t)) {
            Ok(keyword @ Value::Keyword(_)) => keyword,
            _ => return Err(corrupt()),
        },
        ("instant", ValueRef::Integer(i)) => Value::Inst(Instant(i)),
        ("uuid", ValueRef::Text(t)) => {
            Value::Uuid(Uuid::parse(&String::from_utf8_lossy(t)).map_err(|_| corrupt())?)
        }
        ("bytes", ValueRef::Blob(b)) => factlite_core::TypedValue::Bytes(b.to_vec()).to_edn(),
        ("edn", ValueRef::Text(t)) => {
            factlite_edn::parse(&String::from_utf8_lossy(t)).map_err(|_| corrupt())?
        }
        _ => return Err(corrupt()),
    })
}
