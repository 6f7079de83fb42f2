//! The `roles` table: each role's permissions as JSON `{TYPE: {PERMISSION: bool}}`.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;
use serde_json::Value;

use super::{DbError, now};

pub fn get(conn: &Connection, name: &str) -> Result<Option<Value>, DbError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT permissions FROM roles WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    Ok(text.map(|t| serde_json::from_str(&t).unwrap_or(Value::Null)))
}

pub fn put(conn: &Connection, name: &str, permissions: &Value) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO roles (name, permissions, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET permissions = excluded.permissions,
             updated_at = excluded.updated_at",
        params![name, permissions.to_string(), now()],
    )?;
    Ok(())
}

pub fn all(conn: &Connection) -> Result<Vec<(String, Value)>, DbError> {
    let mut stmt = conn.prepare("SELECT name, permissions FROM roles ORDER BY name")?;
    let rows = stmt.query_map([], |r| {
        let text: String = r.get(1)?;
        Ok((
            r.get(0)?,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        ))
    })?;
    rows.collect::<Result<Vec<_>, _>>()
}
