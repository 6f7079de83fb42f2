//! Bookmarks: the `tags` table and which conversations carry them. Counts are counted, never
//! stored, so they cannot drift.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::{DbError, new_object_id, now};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Stays the same through renames.
    pub id: String,
    /// The owner.
    pub user_id: String,
    pub tag: String,
    pub description: String,
    pub position: i64,
    /// How many of the user's conversations carry it.
    pub count: i64,
    pub created_at: String,
    pub updated_at: String,
}

const SELECT: &str = "SELECT t.tag, t.description, t.position, t.created_at, t.updated_at,
        (SELECT count(*) FROM conversation_tags ct WHERE ct.user_id = t.user_id AND ct.tag = t.tag),
        t.id, t.user_id
    FROM tags t";

fn from_row(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<Tag> {
    Ok(Tag {
        tag: r.get(0)?,
        description: r.get(1)?,
        position: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        count: r.get(5)?,
        id: r.get(6)?,
        user_id: r.get(7)?,
    })
}

pub fn list(conn: &Connection, user_id: &str) -> Result<Vec<Tag>, DbError> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE t.user_id = ?1 ORDER BY t.position, t.tag"
    ))?;
    let rows = stmt.query_map([user_id], from_row)?;
    rows.collect::<Result<Vec<_>, _>>()
}

pub fn get(conn: &Connection, user_id: &str, tag: &str) -> Result<Option<Tag>, DbError> {
    conn.query_row(
        &format!("{SELECT} WHERE t.user_id = ?1 AND t.tag = ?2"),
        params![user_id, tag],
        from_row,
    )
    .optional()
}

/// Creates a bookmark at the end of the list; `Ok(false)` when the user already has it.
pub fn create(
    conn: &Connection,
    user_id: &str,
    tag: &str,
    description: &str,
) -> Result<bool, DbError> {
    let ts = now();
    let n = conn.execute(
        "INSERT INTO tags (id, user_id, tag, description, position, created_at, updated_at)
         VALUES (?5, ?1, ?2, ?3, (SELECT count(*) FROM tags WHERE user_id = ?1), ?4, ?4)
         ON CONFLICT (user_id, tag) DO NOTHING",
        params![user_id, tag, description, ts, new_object_id()],
    )?;
    Ok(n == 1)
}

/// Renames and/or redescribes a bookmark; conversations follow the rename. `NotFound` when the
/// user has no such bookmark; `Ok(false)` when the new name is taken.
pub fn update(
    conn: &Connection,
    user_id: &str,
    tag: &str,
    new_name: Option<&str>,
    description: Option<&str>,
    position: Option<i64>,
) -> Result<bool, DbError> {
    if let Some(n) = new_name
        && n != tag
        && get(conn, user_id, n)?.is_some()
    {
        return Ok(false);
    }
    let n = conn.execute(
        "UPDATE tags SET tag = coalesce(?3, tag), description = coalesce(?4, description),
                position = coalesce(?5, position), updated_at = ?6
         WHERE user_id = ?1 AND tag = ?2",
        params![user_id, tag, new_name, description, position, now()],
    )?;
    if n == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(true)
    }
}

/// Deletes a bookmark and takes it off every conversation.
/// Answers with the bookmark as it was; `NotFound` when the user has no such bookmark.
pub fn delete(conn: &mut Connection, user_id: &str, tag: &str) -> Result<Tag, DbError> {
    let tx = conn.transaction()?;
    let found = get(&tx, user_id, tag)?.ok_or(DbError::NotFound)?;
    tx.execute(
        "DELETE FROM tags WHERE user_id = ?1 AND tag = ?2",
        params![user_id, tag],
    )?;
    tx.commit()?;
    Ok(found)
}

/// Sets exactly these bookmarks on a conversation of the user's, creating bookmarks that do
/// not exist yet. `NotFound` when the conversation is not the user's.
pub fn set_for_conversation(
    conn: &mut Connection,
    user_id: &str,
    conversation_id: &str,
    tags: &[String],
) -> Result<(), DbError> {
    let tx = conn.transaction()?;
    if super::conversations::get(&tx, user_id, conversation_id)?.is_none() {
        return Err(DbError::NotFound);
    }
    tx.execute(
        "DELETE FROM conversation_tags WHERE conversation_id = ?1 AND user_id = ?2",
        params![conversation_id, user_id],
    )?;
    for tag in tags {
        create(&tx, user_id, tag, "")?;
        tx.execute(
            "INSERT INTO conversation_tags (conversation_id, user_id, tag) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            params![conversation_id, user_id, tag],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Adds one bookmark to a conversation of the user's.
pub fn add_to_conversation(
    conn: &Connection,
    user_id: &str,
    conversation_id: &str,
    tag: &str,
) -> Result<(), DbError> {
    if super::conversations::get(conn, user_id, conversation_id)?.is_none() {
        return Err(DbError::NotFound);
    }
    conn.execute(
        "INSERT INTO conversation_tags (conversation_id, user_id, tag) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
        params![conversation_id, user_id, tag],
    )?;
    Ok(())
}
