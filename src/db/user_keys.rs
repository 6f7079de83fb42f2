//! The `user_keys` table: each person's own API keys, encrypted by the caller.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::{DbError, now};

/// A stored key: its encrypted value and when it expires (`None`: never).
pub struct StoredKey {
    pub value: String,
    pub expires_at: Option<String>,
}

pub fn get(conn: &Connection, user_id: &str, name: &str) -> Result<Option<StoredKey>, DbError> {
    conn.query_row(
        "SELECT value, expires_at FROM user_keys WHERE user_id = ?1 AND name = ?2",
        params![user_id, name],
        |r| {
            Ok(StoredKey {
                value: r.get(0)?,
                expires_at: r.get(1)?,
            })
        },
    )
    .optional()
}

pub fn set(
    conn: &Connection,
    user_id: &str,
    name: &str,
    encrypted: &str,
    expires_at: Option<&str>,
) -> Result<(), DbError> {
    let ts = now();
    conn.execute(
        "INSERT INTO user_keys (user_id, name, value, expires_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value,
             expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        params![user_id, name, encrypted, expires_at, ts],
    )?;
    Ok(())
}

/// Deletes one key (`Some(name)`) or all of the user's keys; returns how many went.
pub fn delete(conn: &Connection, user_id: &str, name: Option<&str>) -> Result<usize, DbError> {
    Ok(match name {
        Some(n) => conn.execute(
            "DELETE FROM user_keys WHERE user_id = ?1 AND name = ?2",
            params![user_id, n],
        )?,
        None => conn.execute("DELETE FROM user_keys WHERE user_id = ?1", [user_id])?,
    })
}
