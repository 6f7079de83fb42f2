//! The `messages` table: one row per message; a conversation's messages form a tree by
//! `parent_message_id`. Every function is scoped to the owner.

use crate::db::sql::{Backend, Connection, OptionalExtension, Row};
use rusqlite::params;
use serde_json::{Map, Value};

use super::{DbError, now};

/// The parent of a conversation's first message (LibreChat's `Constants.NO_PARENT`).
pub const NO_PARENT: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, Clone, Default)]
pub struct Message {
    pub message_id: String,
    pub conversation_id: String,
    pub user_id: String,
    pub parent_message_id: String,
    pub sender: String,
    pub is_created_by_user: bool,
    pub text: String,
    pub content: Option<Value>,
    pub model: Option<String>,
    pub endpoint: Option<String>,
    pub token_count: Option<i64>,
    pub error: bool,
    pub unfinished: bool,
    pub feedback: Option<Value>,
    /// The other TMessage fields, as sent.
    pub extra: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "message_id, conversation_id, user_id, parent_message_id, sender, \
    is_created_by_user, text, content, model, endpoint, token_count, error, unfinished, feedback, \
    extra, created_at, updated_at";

fn from_row(r: &Row<'_>) -> crate::db::sql::Result<Message> {
    let json = |i: usize| -> crate::db::sql::Result<Option<Value>> {
        let text: Option<String> = r.get(i)?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    };
    let extra: String = r.get(14)?;
    Ok(Message {
        message_id: r.get(0)?,
        conversation_id: r.get(1)?,
        user_id: r.get(2)?,
        parent_message_id: r.get(3)?,
        sender: r.get(4)?,
        is_created_by_user: r.get(5)?,
        text: r.get(6)?,
        content: json(7)?,
        model: r.get(8)?,
        endpoint: r.get(9)?,
        token_count: r.get(10)?,
        error: r.get(11)?,
        unfinished: r.get(12)?,
        feedback: json(13)?,
        extra: serde_json::from_str(&extra).unwrap_or_default(),
        created_at: r.get(15)?,
        updated_at: r.get(16)?,
    })
}

/// A conversation's messages, oldest first: one range scan of the conversation index.
pub fn list(
    conn: &Connection,
    user_id: &str,
    conversation_id: &str,
) -> Result<Vec<Message>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 AND user_id = ?2
         ORDER BY created_at, message_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![conversation_id, user_id], from_row)?;
    rows.collect::<Result<Vec<_>, _>>()
}

pub fn get(
    conn: &Connection,
    user_id: &str,
    conversation_id: &str,
    message_id: &str,
) -> Result<Option<Message>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE message_id = ?1 AND conversation_id = ?2 AND user_id = ?3"
    );
    conn.prepare_cached(&sql)?
        .query_row(params![message_id, conversation_id, user_id], from_row)
        .optional()
}

/// A message of the user's by its id alone (ids are global), in whichever conversation.
pub fn find(
    conn: &Connection,
    user_id: &str,
    message_id: &str,
) -> Result<Option<Message>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE message_id = ?1 AND user_id = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![message_id, user_id], from_row)
        .optional()
}

/// The text parts of a message's content (`{type: "text", text}`, where `text` is a string or
/// LibreChat's older `{value}`), in order; reasoning and other parts are left out.
pub fn text_parts(content: Option<&Value>) -> Vec<&str> {
    content
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| p["type"] == "text")
        .filter_map(|p| p["text"].as_str().or_else(|| p["text"]["value"].as_str()))
        .collect()
}

/// What became of a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Yes,
    /// The id belongs to another user's message (ids are global, like LibreChat's).
    OtherUsers,
    /// The id belongs to another conversation of the same user.
    OtherConversation,
    /// The new parent lies below the message: the tree would become a loop.
    Cycle,
}

/// Creates or replaces a message of the user's conversation.
pub fn save(conn: &mut Connection, m: &Message) -> Result<Saved, DbError> {
    let tx = conn.transaction()?;
    let saved = save_in(&tx, m)?;
    if saved == Saved::Yes {
        tx.commit()?;
    }
    Ok(saved)
}

/// [`save`] inside the caller's transaction.
pub fn save_in(tx: &Connection, m: &Message) -> Result<Saved, DbError> {
    let owner: Option<(String, String)> = tx
        .query_row(
            "SELECT user_id, conversation_id FROM messages WHERE message_id = ?1",
            [&m.message_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match &owner {
        Some((u, _)) if *u != m.user_id => return Ok(Saved::OtherUsers),
        Some((_, c)) if *c != m.conversation_id => return Ok(Saved::OtherConversation),
        _ => {}
    }
    if owner.is_some() {
        // Walk up from the new parent; meeting the message itself means a loop.
        // PostgreSQL wants the walk's first id in the ids' own collation.
        let start = match tx.backend() {
            Backend::Sqlite => "?1",
            Backend::Postgres => "CAST(?1 AS TEXT) COLLATE \"C\"",
        };
        let loops: bool = tx.query_row(
            &format!(
                "WITH RECURSIVE up(id) AS (
                     SELECT {start}
                     UNION
                     SELECT p.parent_message_id FROM messages p JOIN up ON p.message_id = up.id
                      WHERE p.conversation_id = ?2
                 )
                 SELECT EXISTS (SELECT 1 FROM up WHERE id = ?3)"
            ),
            params![m.parent_message_id, m.conversation_id, m.message_id],
            |r| r.get(0),
        )?;
        if loops {
            return Ok(Saved::Cycle);
        }
    }
    let ts = now();
    write_row(tx, m, true, (&ts, &ts))?;
    super::conversations::touch(tx, &m.user_id, &m.conversation_id)?;
    Ok(Saved::Yes)
}

/// Records a message's token count (counted after it was saved).
pub fn set_token_count(
    conn: &Connection,
    user_id: &str,
    message_id: &str,
    tokens: i64,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE messages SET token_count = ?3 WHERE message_id = ?2 AND user_id = ?1",
        params![user_id, message_id, tokens],
    )?;
    Ok(())
}

/// Inserts a new message as given (keeping its feedback), stamped now. For copies.
pub fn insert(conn: &Connection, m: &Message) -> Result<(), DbError> {
    let ts = now();
    write_row(conn, m, false, (&ts, &ts))
}

/// Inserts a message with the times it carries (an imported one).
pub fn insert_with_times(conn: &Connection, m: &Message) -> Result<(), DbError> {
    write_row(conn, m, false, (&m.created_at, &m.updated_at))
}

/// Writes a message row with `(created, updated)` times; with `replace`, an existing row with
/// the same id takes the new values (keeping its creation time and feedback).
fn write_row(
    conn: &Connection,
    m: &Message,
    replace: bool,
    (created, updated): (&str, &str),
) -> Result<(), DbError> {
    let on_conflict = if replace {
        "ON CONFLICT (message_id) DO UPDATE SET parent_message_id = excluded.parent_message_id,
             sender = excluded.sender, is_created_by_user = excluded.is_created_by_user,
             text = excluded.text, content = excluded.content, model = excluded.model,
             endpoint = excluded.endpoint, token_count = excluded.token_count,
             error = excluded.error, unfinished = excluded.unfinished, extra = excluded.extra,
             updated_at = excluded.updated_at"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO messages (message_id, conversation_id, user_id, parent_message_id, sender,
             is_created_by_user, text, content, model, endpoint, token_count, error, unfinished,
             feedback, extra, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) {on_conflict}"
    );
    conn.prepare_cached(&sql)?.execute(params![
        m.message_id,
        m.conversation_id,
        m.user_id,
        m.parent_message_id,
        m.sender,
        m.is_created_by_user,
        m.text,
        m.content.as_ref().map(Value::to_string),
        m.model,
        m.endpoint,
        m.token_count,
        m.error,
        m.unfinished,
        m.feedback.as_ref().map(Value::to_string),
        Value::Object(m.extra.clone()).to_string(),
        created,
        updated
    ])?;
    Ok(())
}

/// Adds `items` to the person's message's `attachments` (after those it has); `false` when
/// there is no such message of theirs.
pub fn add_attachments(
    conn: &mut Connection,
    user_id: &str,
    message_id: &str,
    items: &[Value],
) -> Result<bool, DbError> {
    let tx = conn.transaction()?;
    let extra: Option<String> = tx
        .query_row(
            "SELECT extra FROM messages WHERE message_id = ?1 AND user_id = ?2",
            params![message_id, user_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(extra) = extra else {
        return Ok(false);
    };
    let mut extra: Map<String, Value> = serde_json::from_str(&extra).unwrap_or_default();
    let mut all = match extra.remove("attachments") {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    all.extend(items.iter().cloned());
    extra.insert("attachments".into(), Value::Array(all));
    tx.execute(
        "UPDATE messages SET extra = ?3, updated_at = ?4 WHERE message_id = ?1 AND user_id = ?2",
        params![message_id, user_id, Value::Object(extra).to_string(), now()],
    )?;
    tx.commit()?;
    Ok(true)
}

/// Replaces a message's text and content, with their new token count.
pub fn edit(
    conn: &Connection,
    user_id: &str,
    conversation_id: &str,
    message_id: &str,
    text: &str,
    content: Option<&Value>,
    token_count: i64,
) -> Result<(), DbError> {
    let n = conn.execute(
        "UPDATE messages SET text = ?4, content = ?5, token_count = ?6, updated_at = ?7
         WHERE message_id = ?1 AND conversation_id = ?2 AND user_id = ?3",
        params![
            message_id,
            conversation_id,
            user_id,
            text,
            content.map(Value::to_string),
            token_count,
            now()
        ],
    )?;
    if n == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}

/// Sets or clears (`None`) the feedback on a message.
pub fn set_feedback(
    conn: &Connection,
    user_id: &str,
    conversation_id: &str,
    message_id: &str,
    feedback: Option<&Value>,
) -> Result<(), DbError> {
    let n = conn.execute(
        "UPDATE messages SET feedback = ?4, updated_at = ?5
         WHERE message_id = ?1 AND conversation_id = ?2 AND user_id = ?3",
        params![
            message_id,
            conversation_id,
            user_id,
            feedback.map(Value::to_string),
            now()
        ],
    )?;
    if n == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}

/// Deletes a message and every message below it in the tree: a reply whose parent is gone
/// could never be reached from the conversation again. Returns how many were deleted.
pub fn delete_subtree(
    conn: &mut Connection,
    user_id: &str,
    conversation_id: &str,
    message_id: &str,
) -> Result<usize, DbError> {
    let tx = conn.transaction()?;
    let n = tx.execute(
        "WITH RECURSIVE doomed(id) AS (
             SELECT message_id FROM messages
              WHERE message_id = ?1 AND conversation_id = ?2 AND user_id = ?3
             UNION
             SELECT m.message_id FROM messages m JOIN doomed d ON m.parent_message_id = d.id
              WHERE m.conversation_id = ?2 AND m.user_id = ?3
         )
         DELETE FROM messages WHERE message_id IN (SELECT id FROM doomed)",
        params![message_id, conversation_id, user_id],
    )?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    tx.commit()?;
    Ok(n)
}

/// A position in a message listing: the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: String,
    pub message_id: String,
}

/// One page of the user's messages (of one conversation, or all), by creation time.
pub fn page(
    conn: &Connection,
    user_id: &str,
    conversation_id: Option<&str>,
    ascending: bool,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<Message>, Option<Cursor>), DbError> {
    let (cmp, dir) = if ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM messages
         WHERE user_id = ?1 AND (?2 IS NULL OR conversation_id = ?2)
           AND (?3 IS NULL OR (created_at, message_id) {cmp} (?3, ?4))
         ORDER BY created_at {dir}, message_id {dir} LIMIT ?5"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt
        .query_map(
            params![
                user_id,
                conversation_id,
                after.map(|c| c.created_at.as_str()),
                after.map(|c| c.message_id.as_str()),
                (limit + 1) as i64
            ],
            from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|m| Cursor {
            created_at: m.created_at.clone(),
            message_id: m.message_id.clone(),
        })
    } else {
        None
    };
    Ok((rows, next))
}
