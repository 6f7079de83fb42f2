//! The `tokens` table: single-use tokens (email verification, password reset, invites), kept as
//! SHA-256 hashes with an expiry.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::{DbError, new_object_id, now};

pub fn create(
    conn: &Connection,
    kind: &str,
    user_id: Option<&str>,
    email: &str,
    hash: &str,
    expires_at: &str,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO tokens (id, user_id, email, kind, token_hash, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            new_object_id(),
            user_id,
            email,
            kind,
            hash,
            expires_at,
            now()
        ],
    )?;
    Ok(())
}

/// Removes a user's tokens of one kind (a new reset link replaces the old one).
pub fn delete_for_user(conn: &Connection, user_id: &str, kind: &str) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM tokens WHERE user_id = ?1 AND kind = ?2",
        params![user_id, kind],
    )?;
    Ok(())
}

/// Uses up a live token of `kind` with this hash, if it belongs to `owner` (a user id or an
/// email, whichever the flow knows). Returns the user id it was issued for. A token that does
/// not match is left alone; an expired one is never accepted.
pub fn consume(
    conn: &Connection,
    kind: &str,
    hash: &str,
    owner: &str,
) -> Result<Option<String>, DbError> {
    conn
        .query_row(
            "DELETE FROM tokens
             WHERE kind = ?1 AND token_hash = ?2 AND expires_at > ?3 AND (user_id = ?4 OR email = ?4)
             RETURNING coalesce(user_id, '')",
            params![kind, hash, now(), owner],
            |r| r.get(0),
        )
        .optional()
}

/// Whether a live token of `kind` with this hash belongs to `owner`, without using it up: a
/// cheap check before expensive work (hashing a new password) that only a valid link earns.
pub fn is_live(conn: &Connection, kind: &str, hash: &str, owner: &str) -> Result<bool, DbError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM tokens
             WHERE kind = ?1 AND token_hash = ?2 AND expires_at > ?3 AND (user_id = ?4 OR email = ?4)",
            params![kind, hash, now(), owner],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

pub fn prune(conn: &Connection) -> Result<usize, DbError> {
    conn.execute("DELETE FROM tokens WHERE expires_at <= ?1", [now()])
}
