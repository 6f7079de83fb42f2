//! The `sessions` table: one row per signed-in device, holding only a hash of its refresh token.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::{DbError, now};

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub refresh_token_hash: String,
    pub expires_at: String,
}

pub fn create(
    conn: &Connection,
    id: &str,
    user_id: &str,
    hash: &str,
    expires_at: &str,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, user_id, hash, expires_at, now()],
    )?;
    Ok(())
}

/// The session, if it exists and has not expired.
pub fn find_live(conn: &Connection, id: &str) -> Result<Option<Session>, DbError> {
    conn.query_row(
        "SELECT id, user_id, refresh_token_hash, expires_at FROM sessions
             WHERE id = ?1 AND expires_at > ?2",
        params![id, now()],
        |r| {
            Ok(Session {
                id: r.get(0)?,
                user_id: r.get(1)?,
                refresh_token_hash: r.get(2)?,
                expires_at: r.get(3)?,
            })
        },
    )
    .optional()
}

/// Replaces the token hash only if it is still `old_hash`: of two refreshes racing with the same
/// token, exactly one wins. Returns whether this call won.
pub fn rotate(
    conn: &Connection,
    id: &str,
    old_hash: &str,
    new_hash: &str,
) -> Result<bool, DbError> {
    let n = conn.execute(
        "UPDATE sessions SET refresh_token_hash = ?3 WHERE id = ?1 AND refresh_token_hash = ?2",
        params![id, old_hash, new_hash],
    )?;
    Ok(n == 1)
}

/// When the user signed in to start this session (refreshing keeps it), if it is theirs and
/// live: what "recently signed in" is measured from.
pub fn signed_in_at(conn: &Connection, id: &str, user_id: &str) -> Result<Option<String>, DbError> {
    conn.query_row(
        "SELECT created_at FROM sessions WHERE id = ?1 AND user_id = ?2 AND expires_at > ?3",
        params![id, user_id, now()],
        |r| r.get(0),
    )
    .optional()
}

/// Ends one of the user's sessions (with every access token issued in it).
pub fn delete_owned(conn: &Connection, id: &str, user_id: &str) -> Result<bool, DbError> {
    let n = conn.execute(
        "DELETE FROM sessions WHERE id = ?1 AND user_id = ?2",
        params![id, user_id],
    )?;
    Ok(n == 1)
}

/// Ends every session of the user but `keep` (the one asking); returns how many ended.
pub fn delete_others(conn: &Connection, user_id: &str, keep: &str) -> Result<usize, DbError> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND id != ?2",
        params![user_id, keep],
    )
}

pub fn delete(conn: &Connection, id: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM sessions WHERE id = ?1", [id])?;
    Ok(())
}

/// Signs the user out everywhere.
pub fn delete_for_user(conn: &Connection, user_id: &str) -> Result<usize, DbError> {
    conn.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])
}

/// Removes expired sessions; returns how many.
pub fn prune(conn: &Connection) -> Result<usize, DbError> {
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now()])
}
