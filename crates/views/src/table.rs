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
//! | big integer          | TEXT, its digits (`-12345678901234567890`) | `bigint` |
//! | big decimal          | TEXT, its digits (`0.1`, `15e2`) | `bigdec` |
//! | nil                  | NULL                | `nil`           |
//! | anything else (a tuple, a set from `distinct`, ...) | TEXT, EDN | `edn` |
//!
//! A pull in `:find` is kept as the entity id; the pull runs when the view
//! is read. Rows are distinct; an index on the key columns serves
//! maintenance, and a view whose query has `:order-by` has an index
//! `"view_NAME_order"` on those value columns, in their directions, for
//! clients that read its top rows with `ORDER BY ... LIMIT`. A view
//! maintained by counting (see `counting`) also counts: a relation's table has `fl_derivations`, the number of derivations of
//! each row; an aggregate has a second table, `"view_NAME__support"`, with
//! the same pairs of columns for each variable of the aggregated tuple and
//! `n`, that tuple's derivations, and its view table has `fl_tuples`, the
//! number of tuples in each group. A counted table is `WITHOUT ROWID`, its
//! primary key the key columns (a group) or all of them (a tuple, a row),
//! so it is one B-tree; its nil values are `''` of type `nil`, since a
//! primary key cannot hold NULL.

use factlite_edn::{Instant, Uuid, Value};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params_from_iter, Connection};

use crate::error::{Error, Result};

/// Which values [`Table::values_from`] reads, beside its anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The anchor's key and those after it, in order.
    From,
    /// Those before the anchor's key, nearest first.
    Before,
}

/// A view's table, with its statements written once.
#[derive(Clone, Debug)]
pub struct Table {
    /// The quoted table name.
    pub name: String,
    columns: Vec<String>,
    key_positions: Vec<usize>,
    /// An INTEGER column counting something per row, when the table has one.
    counter: Option<String>,
    /// Whether rows are looked up whole (by all their values), not only by
    /// key.
    whole_rows: bool,
    select: String,
    select_by_key: String,
    select_by_row: String,
    insert: String,
    delete_row: String,
    update_counter: Option<String>,
    update_by_key: String,
    /// Integer columns of per-row state, after the counter (see
    /// [`Table::with_state`]).
    state: Vec<String>,
    select_state: String,
    update_state: String,
    /// `CREATE INDEX` statements beside the key's: on the value columns
    /// the view's `:order-by` sorts by ([`Table::with_order`]), and on a
    /// column whose values a group reads in order
    /// ([`Table::with_sorted_values`]).
    indexes: Vec<String>,
}

impl Table {
    /// The table `name` with the given value columns, indexed on the
    /// columns at `key_positions`.
    pub fn new(name: &str, columns: &[String], key_positions: &[usize]) -> Table {
        Table::build(name, columns, key_positions, None, false)
    }

    /// A table with a counter column; when `whole_rows`, rows are also
    /// looked up by all their values (the index then covers them all).
    pub fn counted(
        name: &str,
        columns: &[String],
        key_positions: &[usize],
        counter: &str,
        whole_rows: bool,
    ) -> Table {
        Table::build(name, columns, key_positions, Some(counter), whole_rows)
    }

    fn build(
        name: &str,
        columns: &[String],
        key_positions: &[usize],
        counter: Option<&str>,
        whole_rows: bool,
    ) -> Table {
        let name = quote(name);
        let counter = counter.map(quote);
        let mut all: Vec<String> = columns.iter().flat_map(|c| value_and_type(c)).collect();
        all.extend(counter.clone());
        let every: Vec<usize> = (0..columns.len()).collect();
        let select = format!("SELECT {} FROM {name}", all.join(", "));
        let row_condition = condition(columns, &every, 1);
        let placeholders: Vec<String> = (1..=all.len()).map(|i| format!("?{i}")).collect();
        let assignments: Vec<String> = all
            .iter()
            .zip(&placeholders)
            .map(|(column, placeholder)| format!("{column} = {placeholder}"))
            .collect();
        Table {
            update_by_key: format!(
                "UPDATE {name} SET {} WHERE {}",
                assignments.join(", "),
                condition(columns, key_positions, all.len() + 1)
            ),
            select_by_key: format!("{select} WHERE {}", condition(columns, key_positions, 1)),
            select_by_row: format!("{select} WHERE {row_condition}"),
            insert: format!(
                "INSERT INTO {name} ({}) VALUES ({})",
                all.join(", "),
                placeholders.join(", ")
            ),
            delete_row: format!("DELETE FROM {name} WHERE {row_condition}"),
            update_counter: counter.as_ref().map(|c| {
                format!(
                    "UPDATE {name} SET {c} = ?{} WHERE {row_condition}",
                    columns.len() * 2 + 1
                )
            }),
            select,
            name,
            columns: columns.to_vec(),
            key_positions: key_positions.to_vec(),
            counter,
            whole_rows,
            state: Vec::new(),
            select_state: String::new(),
            update_state: String::new(),
            indexes: Vec::new(),
        }
    }

    /// The table with an index on the value columns at `order` (position,
    /// descending), the view's `:order-by`: so that a client reading the
    /// table with `ORDER BY` those columns (and a `LIMIT`) walks the index
    /// instead of sorting every row — the top of a ranking, say.
    pub fn with_order(mut self, order: &[(usize, bool)]) -> Table {
        if order.is_empty() {
            return self;
        }
        let bare = self.name.trim_matches('"').to_string();
        let keys: Vec<String> = order
            .iter()
            .map(|&(position, descending)| {
                let column = quote(&self.columns[position]);
                if descending {
                    format!("{column} DESC")
                } else {
                    column
                }
            })
            .collect();
        self.indexes.push(format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} ({});",
            quote(&format!("{bare}_order")),
            self.name,
            keys.join(", ")
        ));
        self
    }

    /// The table with an index on its key columns and then the column at
    /// `position` (a long before an equal double), so that a group's
    /// values of that column are read in order from the index, a few at a
    /// time ([`Table::values_from`]): how a `median` moves without reading
    /// its whole group.
    pub fn with_sorted_values(mut self, position: usize) -> Table {
        let bare = self.name.trim_matches('"').to_string();
        let mut keys: Vec<String> = self
            .key_positions
            .iter()
            .flat_map(|&p| value_and_type(&self.columns[p]))
            .collect();
        let [value, kind] = value_and_type(&self.columns[position]);
        keys.extend([value, format!("{kind} DESC")]);
        self.indexes.push(format!(
            "CREATE INDEX IF NOT EXISTS {} ON {} ({});",
            quote(&format!("{bare}_sorted{position}")),
            self.name,
            keys.join(", ")
        ));
        self
    }

    /// Creates the indexes beside the key's when the table lacks them (one
    /// made by an older build, before views had them).
    pub fn ensure_indexes(&self, conn: &Connection) -> Result<()> {
        for index in &self.indexes {
            conn.execute_batch(index)?;
        }
        Ok(())
    }

    /// Up to `count` values of the column at `position` among the rows
    /// whose key is `key`, in order from `anchor` (a long or a double):
    /// the values at or after it, or (`Side::Before`) those before it,
    /// nearest first. The order is SQLite's of the stored values, a long
    /// before an equal double — the query's, when every value is a plain
    /// number. Reads the index [`Table::with_sorted_values`] makes.
    pub fn values_from(
        &self,
        conn: &Connection,
        key: &[Value],
        position: usize,
        anchor: &Value,
        side: Side,
        count: i64,
    ) -> Result<Vec<Value>> {
        let [value, kind] = value_and_type(&self.columns[position]);
        let mut params = self.params(key);
        let (at, kind_at) = (params.len() + 1, params.len() + 2);
        let (range, order) = match side {
            Side::From => (
                format!("{value} >= ?{at} AND NOT ({value} = ?{at} AND {kind} > ?{kind_at})"),
                format!("{value}, {kind} DESC"),
            ),
            Side::Before => (
                format!("{value} <= ?{at} AND NOT ({value} = ?{at} AND {kind} <= ?{kind_at})"),
                format!("{value} DESC, {kind}"),
            ),
        };
        let sql = format!(
            "SELECT {value}, {kind} FROM {} WHERE {} AND {range} ORDER BY {order} LIMIT ?{}",
            self.name,
            condition(&self.columns, &self.key_positions, 1),
            params.len() + 3
        );
        let (anchor_value, anchor_kind) = encode(anchor);
        params.extend([
            anchor_value,
            SqlValue::Text(anchor_kind.to_string()),
            SqlValue::Integer(count),
        ]);
        let mut statement = conn.prepare_cached(&sql)?;
        let mut rows = statement.query(params_from_iter(params))?;
        let mut values = Vec::new();
        while let Some(row) = rows.next()? {
            let kind: String = row.get(1)?;
            values.push(decode(row.get_ref(0)?, &kind)?);
        }
        Ok(values)
    }

    /// How many rows whose key is `key` hold `value` (of its type) in the
    /// column at `position`.
    pub fn count_equal(
        &self,
        conn: &Connection,
        key: &[Value],
        position: usize,
        value: &Value,
    ) -> Result<i64> {
        let mut params = self.params(key);
        let sql = format!(
            "SELECT count(*) FROM {} WHERE {} AND {}",
            self.name,
            condition(&self.columns, &self.key_positions, 1),
            condition(&self.columns, &[position], params.len() + 1)
        );
        params.extend(self.params(std::slice::from_ref(value)));
        Ok(conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(params), |row| row.get(0))?)
    }

    /// The table with integer state columns `names` (nullable, after the
    /// counter): what a row keeps beside its values so that it can move in
    /// place (an average's or a variance's exact sums), read and written by key
    /// ([`Table::state`], [`Table::set_state`]).
    pub fn with_state(mut self, names: Vec<String>) -> Table {
        let quoted: Vec<String> = names.iter().map(|name| quote(name)).collect();
        let key_condition = condition(&self.columns, &self.key_positions, 1);
        self.select_state = format!(
            "SELECT {} FROM {} WHERE {key_condition}",
            quoted.join(", "),
            self.name
        );
        let first = 2 * self.key_positions.len() + 1;
        let assignments: Vec<String> = quoted
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} = ?{}", first + i))
            .collect();
        self.update_state = format!(
            "UPDATE {} SET {} WHERE {key_condition}",
            self.name,
            assignments.join(", ")
        );
        self.state = quoted;
        self
    }

    /// Creates the table (replacing an old one) and its index on the key
    /// columns (for rows looked up whole, then on all the others).
    pub fn create(&self, conn: &Connection) -> Result<()> {
        let bare = self.name.trim_matches('"').to_string();
        let mut columns: Vec<String> = self
            .columns
            .iter()
            .flat_map(|c| value_and_type(c))
            .collect();
        if let Some(counter) = &self.counter {
            columns.push(format!("{counter} INTEGER NOT NULL"));
        }
        columns.extend(self.state.iter().map(|column| format!("{column} INTEGER")));
        let clustered = self.clustered_positions();
        let sql = if clustered.is_empty() {
            // Rows are found by key: an index on the key columns.
            let mut sql = format!(
                "DROP TABLE IF EXISTS {name}; CREATE TABLE {name} ({});",
                columns.join(", "),
                name = self.name
            );
            if !self.key_positions.is_empty() {
                let keys: Vec<String> = self
                    .key_positions
                    .iter()
                    .map(|&p| quote(&self.columns[p]))
                    .collect();
                sql.push_str(&format!(
                    "CREATE INDEX {} ON {} ({});",
                    quote(&format!("{bare}_key")),
                    self.name,
                    keys.join(", ")
                ));
            }
            sql
        } else {
            // A counted table is its own index: one B-tree, key first.
            let primary: Vec<String> = clustered
                .iter()
                .flat_map(|&p| value_and_type(&self.columns[p]))
                .collect();
            format!(
                "DROP TABLE IF EXISTS {name}; CREATE TABLE {name} ({}, PRIMARY KEY ({})) WITHOUT ROWID;",
                columns.join(", "),
                primary.join(", "),
                name = self.name
            )
        };
        conn.execute_batch(&sql)?;
        self.ensure_indexes(conn)
    }

    /// A row's (or key's) values as statements bind them. Primary key
    /// columns cannot hold NULL: in a counted table nil is `''` (of type
    /// `nil`).
    fn params(&self, values: &[Value]) -> Vec<SqlValue> {
        let nil = if self.counter.is_some() {
            SqlValue::Text(String::new())
        } else {
            SqlValue::Null
        };
        params(values, &nil)
    }

    /// The primary key of a counted table, whose rows are unique by key
    /// (a group) or whole (a tuple): key columns first. Empty for a table
    /// kept by rowid.
    fn clustered_positions(&self) -> Vec<usize> {
        if self.counter.is_none() {
            return Vec::new();
        }
        let mut positions = self.key_positions.clone();
        if self.whole_rows {
            positions.extend((0..self.columns.len()).filter(|p| !self.key_positions.contains(p)));
        }
        positions
    }

    /// Drops the table.
    pub fn drop_table(&self, conn: &Connection) -> Result<()> {
        conn.execute_batch(&format!("DROP TABLE IF EXISTS {}", self.name))?;
        Ok(())
    }

    /// Every row.
    pub fn rows(&self, conn: &Connection) -> Result<Vec<Vec<Value>>> {
        Ok(self
            .select(conn, &self.select, Vec::new())?
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
        self.select(conn, &self.select_by_key, self.params(key))
    }

    fn select(
        &self,
        conn: &Connection,
        sql: &str,
        params: Vec<SqlValue>,
    ) -> Result<Vec<(Vec<Value>, i64)>> {
        let mut statement = conn.prepare_cached(sql)?;
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
        Ok(self
            .select(conn, &self.select_by_row, self.params(row))?
            .first()
            .map_or(0, |(_, n)| *n))
    }

    /// Sets the counter of a row.
    pub fn set_counter(&self, conn: &Connection, row: &[Value], counter: i64) -> Result<()> {
        if let Some(sql) = &self.update_counter {
            let mut params = self.params(row);
            params.push(SqlValue::Integer(counter));
            conn.prepare_cached(sql)?
                .execute(params_from_iter(params))?;
        }
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
        let mut params = self.params(row);
        if self.counter.is_some() {
            params.push(SqlValue::Integer(counter));
        }
        conn.prepare_cached(&self.insert)?
            .execute(params_from_iter(params))?;
        Ok(())
    }

    /// Replaces the row whose key is `key` (the only one) by `row`.
    pub fn update_by_key(
        &self,
        conn: &Connection,
        key: &[Value],
        row: &[Value],
        counter: i64,
    ) -> Result<()> {
        let mut all = self.params(row);
        if self.counter.is_some() {
            all.push(SqlValue::Integer(counter));
        }
        all.extend(self.params(key));
        conn.prepare_cached(&self.update_by_key)?
            .execute(params_from_iter(all))?;
        Ok(())
    }

    /// Whether the table on file has the state columns (one made by an
    /// older build may not).
    pub fn has_its_columns(&self, conn: &Connection) -> Result<bool> {
        if self.state.is_empty() {
            return Ok(true);
        }
        let mut statement = conn.prepare_cached("SELECT name FROM pragma_table_info(?1)")?;
        let names: Vec<String> = statement
            .query_map([self.name.trim_matches('"').replace("\"\"", "\"")], |row| {
                row.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(self
            .state
            .iter()
            .all(|column| names.iter().any(|name| quote(name) == *column)))
    }

    /// The state of the row whose key is `key` (none when the table keeps
    /// none, or has no such row); a `None` is state not known.
    pub fn state(&self, conn: &Connection, key: &[Value]) -> Result<Vec<Option<i64>>> {
        if self.state.is_empty() {
            return Ok(Vec::new());
        }
        let mut statement = conn.prepare_cached(&self.select_state)?;
        let mut rows = statement.query(params_from_iter(self.params(key)))?;
        match rows.next()? {
            Some(row) => (0..self.state.len()).map(|i| Ok(row.get(i)?)).collect(),
            None => Ok(Vec::new()),
        }
    }

    /// Sets the state of the row whose key is `key`.
    pub fn set_state(&self, conn: &Connection, key: &[Value], state: &[Option<i64>]) -> Result<()> {
        if self.state.is_empty() {
            return Ok(());
        }
        let mut params = self.params(key);
        params.extend(
            (0..self.state.len()).map(|i| match state.get(i).copied().flatten() {
                Some(value) => SqlValue::Integer(value),
                None => SqlValue::Null,
            }),
        );
        conn.prepare_cached(&self.update_state)?
            .execute(params_from_iter(params))?;
        Ok(())
    }

    /// Deletes one row.
    pub fn delete(&self, conn: &Connection, row: &[Value]) -> Result<()> {
        conn.prepare_cached(&self.delete_row)?
            .execute(params_from_iter(self.params(row)))?;
        Ok(())
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

/// `col IS ?n AND col_type = ?n+1 AND ...` over the columns at
/// `positions`, numbering from `first` (`1` for no columns), for the values
/// [`params`] binds in that order.
fn condition(columns: &[String], positions: &[usize], first: usize) -> String {
    let parts: Vec<String> = positions
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            format!(
                "{} IS ?{} AND {} = ?{}",
                quote(&columns[p]),
                first + 2 * i,
                quote(&format!("{}_type", columns[p])),
                first + 2 * i + 1
            )
        })
        .collect();
    if parts.is_empty() {
        "1".to_string()
    } else {
        parts.join(" AND ")
    }
}

/// Each value and its type name, as [`condition`] and inserts expect.
fn params(values: &[Value], nil: &SqlValue) -> Vec<SqlValue> {
    values
        .iter()
        .flat_map(|value| {
            let (sql_value, kind) = encode(value);
            let sql_value = match sql_value {
                SqlValue::Null => nil.clone(),
                other => other,
            };
            [sql_value, SqlValue::Text(kind.to_string())]
        })
        .collect()
}

/// A value column and its type column, quoted.
fn value_and_type(column: &str) -> [String; 2] {
    [quote(column), quote(&format!("{column}_type"))]
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
        Value::Keyword(k) => (
            SqlValue::Text(Value::Keyword(k.clone()).to_string()),
            "keyword",
        ),
        Value::Inst(i) => (SqlValue::Integer(i.0), "instant"),
        Value::Uuid(u) => (SqlValue::Text(u.to_string()), "uuid"),
        Value::BigInt(i) => (SqlValue::Text(i.to_string()), "bigint"),
        Value::BigDec(_) => {
            // The printed decimal without its `M`.
            let mut text = value.to_string();
            text.pop();
            (SqlValue::Text(text), "bigdec")
        }
        Value::Nil => (SqlValue::Null, "nil"),
        other => {
            match factlite_core::TypedValue::from_edn(other, factlite_core::ValueType::Bytes) {
                Ok(factlite_core::TypedValue::Bytes(bytes)) => (SqlValue::Blob(bytes), "bytes"),
                _ => (SqlValue::Text(other.to_string()), "edn"),
            }
        }
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
        // SQLite stores NaN (an aggregate of ##Inf and ##-Inf) as NULL;
        // the query reads it back as nil, and so does its view.
        ("double", ValueRef::Null) => Value::Nil,
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
        ("bigint" | "bigdec", ValueRef::Text(t)) => {
            let suffix = if kind == "bigint" { 'N' } else { 'M' };
            let text = format!("{}{suffix}", String::from_utf8_lossy(t));
            match factlite_edn::parse(&text) {
                Ok(number @ (Value::BigInt(_) | Value::BigDec(_))) => number,
                _ => return Err(corrupt()),
            }
        }
        ("edn", ValueRef::Text(t)) => {
            factlite_edn::parse(&String::from_utf8_lossy(t)).map_err(|_| corrupt())?
        }
        _ => return Err(corrupt()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Big numbers are their digits in the table, and read back exactly.
    #[test]
    fn big_numbers_are_cells_of_their_digits() {
        for (text, cell, kind) in [
            (
                "-12345678901234567890123N",
                "-12345678901234567890123",
                "bigint",
            ),
            ("0.1M", "0.1", "bigdec"),
            ("15e2M", "15e2", "bigdec"),
        ] {
            let value = factlite_edn::parse(text).expect("EDN");
            let (stored, stored_kind) = encode(&value);
            assert_eq!(
                (stored.clone(), stored_kind),
                (SqlValue::Text(cell.into()), kind)
            );
            let back = decode(ValueRef::from(&stored), kind).expect("decodes");
            assert_eq!(back.to_string(), text);
        }
        assert!(decode(ValueRef::Text(b"1.5"), "bigint").is_err());
    }
}
