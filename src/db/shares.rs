//! The `shared_links` table, scoped to the owner except for the public read by share id.

use crate::db::sql::{Connection, OptionalExtension, Row};
use rusqlite::params;
use serde_json::Value;

use super::{DbError, now};

#[derive(Debug, Clone)]
pub struct SharedLink {
    pub share_id: String,
    pub user_id: String,
    pub conversation_id: String,
    pub title: String,
    pub target_message_id: Option<String>,
    /// `{conversationId, messages}` with anonymized ids.
    pub snapshot: Value,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "share_id, user_id, conversation_id, title, target_message_id, snapshot, created_at, updated_at";

fn from_row(r: &Row<'_>) -> crate::db::sql::Result<SharedLink> {
    let snapshot: String = r.get(5)?;
    Ok(SharedLink {
        share_id: r.get(0)?,
        user_id: r.get(1)?,
        conversation_id: r.get(2)?,
        title: r.get(3)?,
        target_message_id: r.get(4)?,
        snapshot: serde_json::from_str(&snapshot).unwrap_or(Value::Null),
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// Stores a new link; `Ok(false)` when the conversation is already shared.
pub fn create(conn: &Connection, link: &SharedLink) -> Result<bool, DbError> {
    let ts = now();
    let n = conn.execute(
        "INSERT INTO shared_links (share_id, user_id, conversation_id, title, target_message_id, snapshot, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT (conversation_id) DO NOTHING",
        params![
            link.share_id,
            link.user_id,
            link.conversation_id,
            link.title,
            link.target_message_id,
            link.snapshot.to_string(),
            ts
        ],
    )?;
    Ok(n == 1)
}

/// Anyone's link by its share id (for the shared page).
pub fn by_share_id(conn: &Connection, share_id: &str) -> Result<Option<SharedLink>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM shared_links WHERE share_id = ?1");
    conn.query_row(&sql, [share_id], from_row).optional()
}

/// When a link last changed (its `updated_at`) and whose it is, if it exists: cheap (no
/// snapshot), for serving its page from a cache.
pub fn version(conn: &Connection, share_id: &str) -> Result<Option<(String, String)>, DbError> {
    conn.prepare_cached("SELECT updated_at, user_id FROM shared_links WHERE share_id = ?1")?
        .query_row([share_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

pub fn for_conversation(
    conn: &Connection,
    user_id: &str,
    conversation_id: &str,
) -> Result<Option<SharedLink>, DbError> {
    let sql =
        format!("SELECT {COLUMNS} FROM shared_links WHERE conversation_id = ?1 AND user_id = ?2");
    conn.query_row(&sql, params![conversation_id, user_id], from_row)
        .optional()
}

/// The user's links, newest first, after the link created at `before` (a cursor).
pub fn list(
    conn: &Connection,
    user_id: &str,
    before: Option<&str>,
    limit: usize,
) -> Result<Vec<SharedLink>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM shared_links WHERE user_id = ?1 AND (?2 IS NULL OR created_at < ?2)
         ORDER BY created_at DESC LIMIT ?3"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![user_id, before, limit as i64], from_row)?;
    rows.collect::<Result<Vec<_>, _>>()
}

/// Gives the user's link a new share id (the old address stops working) and a fresh snapshot.
pub fn regenerate(
    conn: &Connection,
    user_id: &str,
    share_id: &str,
    new_id: &str,
    title: &str,
    snapshot: &Value,
) -> Result<Option<SharedLink>, DbError> {
    let n = conn.execute(
        "UPDATE shared_links SET share_id = ?3, title = ?4, snapshot = ?5, updated_at = ?6
         WHERE share_id = ?1 AND user_id = ?2",
        params![
            share_id,
            user_id,
            new_id,
            title,
            snapshot.to_string(),
            now()
        ],
    )?;
    if n == 0 {
        return Ok(None);
    }
    by_share_id(conn, new_id)
}

pub fn delete(conn: &Connection, user_id: &str, share_id: &str) -> Result<(), DbError> {
    let n = conn.execute(
        "DELETE FROM shared_links WHERE share_id = ?1 AND user_id = ?2",
        params![share_id, user_id],
    )?;
    if n == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}
