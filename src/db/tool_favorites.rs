//! The `tool_favorites` table: the tools each person starred in LibreChat's Tool Library.
//! Every query is scoped to the person.

use crate::db::sql::Connection;
use rusqlite::params;

use super::{DbError, now};

/// A starred tool: LibreChat's `itemType` and `itemId`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolFavorite {
    pub item_type: String,
    pub item_id: String,
}

/// What starring did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Starred now.
    Yes,
    /// It was starred already: nothing changed.
    Already,
    /// The person has `max` already.
    Full,
}

/// The person's starred tools, oldest first.
pub fn list(conn: &Connection, user_id: &str) -> Result<Vec<ToolFavorite>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT item_type, item_id FROM tool_favorites WHERE user_id = ?1
         ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map([user_id], |r| {
        Ok(ToolFavorite {
            item_type: r.get(0)?,
            item_id: r.get(1)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// Stars a tool for the person, once, unless they have `max` already. Run on the one writer
/// connection, the count and the insert cannot race another star.
pub fn add(
    conn: &Connection,
    user_id: &str,
    item_type: &str,
    item_id: &str,
    max: usize,
) -> Result<Added, DbError> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM tool_favorites
                         WHERE user_id = ?1 AND item_type = ?2 AND item_id = ?3)",
        params![user_id, item_type, item_id],
        |r| r.get(0),
    )?;
    if exists {
        return Ok(Added::Already);
    }
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM tool_favorites WHERE user_id = ?1",
        [user_id],
        |r| r.get(0),
    )?;
    if usize::try_from(count).unwrap_or(usize::MAX) >= max {
        return Ok(Added::Full);
    }
    conn.execute(
        "INSERT INTO tool_favorites (user_id, item_type, item_id, created_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![user_id, item_type, item_id, now()],
    )?;
    Ok(Added::Yes)
}

/// Unstars a tool; whether it was starred.
pub fn remove(
    conn: &Connection,
    user_id: &str,
    item_type: &str,
    item_id: &str,
) -> Result<bool, DbError> {
    Ok(conn.execute(
        "DELETE FROM tool_favorites WHERE user_id = ?1 AND item_type = ?2 AND item_id = ?3",
        params![user_id, item_type, item_id],
    )? > 0)
}
