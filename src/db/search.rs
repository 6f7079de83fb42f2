//! What the search index reads from the database: the outbox of changes (see migration 0006),
//! the current text of the items it names (messages, conversation titles, documents uploaded
//! for file search), and everything at once for a rebuild.

use crate::db::sql::{Backend, Connection, OptionalExtension};
use rusqlite::params;
use serde_json::Value;

use super::DbError;

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub kind: ChangeKind,
    pub item_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    Message,
    Title,
    WholeConversation,
    /// A file uploaded for file search: its chunks (migration 0022).
    File,
}

/// A searchable item as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    /// The message id or the conversation id.
    pub id: String,
    pub conversation_id: String,
    pub user_id: String,
    pub text: String,
}

/// Up to `limit` changes after `after`, oldest first.
pub fn changes(conn: &Connection, after: i64, limit: usize) -> Result<Vec<Change>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, kind, item_id FROM search_outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit as i64], |r| {
        let kind: String = r.get(1)?;
        Ok(Change {
            seq: r.get(0)?,
            kind: match kind.as_str() {
                "m" => ChangeKind::Message,
                "C" => ChangeKind::WholeConversation,
                "f" => ChangeKind::File,
                _ => ChangeKind::Title,
            },
            item_id: r.get(2)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// The number of the newest change ever recorded (0 when none is), even if it was forgotten
/// since: numbers are never reused, so an index holding a higher one was made from a newer
/// database than this one.
pub fn last_change(conn: &Connection) -> Result<i64, DbError> {
    let sql = match conn.backend() {
        Backend::Sqlite => "SELECT seq FROM sqlite_sequence WHERE name = 'search_outbox'",
        Backend::Postgres => {
            "SELECT pg_sequence_last_value(pg_get_serial_sequence('search_outbox', 'seq'))"
        }
    };
    Ok(conn
        .query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten()
        .unwrap_or(0))
}

/// Forgets the changes up to `up_to`, once the index has them (or when no index is kept),
/// and remembers how far changes were forgotten: an index holding less than that has missed
/// some and must be rebuilt.
pub fn forget(conn: &mut Connection, up_to: i64) -> Result<usize, DbError> {
    let tx = conn.transaction()?;
    let n = tx.execute("DELETE FROM search_outbox WHERE seq <= ?1", [up_to])?;
    // The larger of two values: SQLite's scalar max(), PostgreSQL's greatest().
    let larger = match tx.backend() {
        Backend::Sqlite => "MAX",
        Backend::Postgres => "GREATEST",
    };
    tx.execute(
        &format!(
            "INSERT INTO meta (key, value, updated_at) VALUES ('search_forgotten', ?1, ?2)
             ON CONFLICT (key) DO UPDATE SET
                 value = CAST({larger}(CAST(meta.value AS BIGINT), CAST(excluded.value AS BIGINT))
                              AS TEXT),
                 updated_at = excluded.updated_at"
        ),
        params![up_to.to_string(), super::now()],
    )?;
    tx.commit()?;
    Ok(n)
}

/// Forgets every change recorded so far: for when search is off.
pub fn forget_all(conn: &mut Connection) -> Result<usize, DbError> {
    let last = last_change(conn)?;
    forget(conn, last)
}

/// How far changes have been forgotten (see [`forget`]).
pub fn forgotten(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn
        .query_row(
            "SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'search_forgotten'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// How many changes wait to be indexed.
pub fn pending(conn: &Connection) -> Result<i64, DbError> {
    conn.query_row("SELECT COUNT(*) FROM search_outbox", [], |r| r.get(0))
}

/// The text search sees in a message: its `text` and the text parts of its content.
pub fn searchable_text(text: &str, content: Option<&str>) -> String {
    let parsed = content.and_then(|c| serde_json::from_str::<Value>(c).ok());
    searchable_text_of(text, parsed.as_ref())
}

/// [`searchable_text`] of content already parsed.
pub fn searchable_text_of(text: &str, content: Option<&Value>) -> String {
    let mut out = text.to_owned();
    for p in super::messages::text_parts(content) {
        if !p.is_empty() && !out.contains(p) {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(p);
        }
    }
    out
}

const MESSAGE_DOC: &str = "SELECT m.message_id, m.conversation_id, m.user_id, m.text, m.content
     FROM messages m JOIN conversations c ON c.conversation_id = m.conversation_id
     WHERE c.is_temporary = 0";

fn message_doc(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<Doc> {
    let text: String = r.get(3)?;
    let content: Option<String> = r.get(4)?;
    Ok(Doc {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        user_id: r.get(2)?,
        text: searchable_text(&text, content.as_deref()),
    })
}

/// A message as search should see it; `None` when it is gone or in a temporary chat.
pub fn message(conn: &Connection, message_id: &str) -> Result<Option<Doc>, DbError> {
    let mut stmt = conn.prepare_cached(&format!("{MESSAGE_DOC} AND m.message_id = ?1"))?;
    stmt.query_row([message_id], message_doc).optional()
}

/// Every searchable message of a conversation.
pub fn conversation_messages(
    conn: &Connection,
    conversation_id: &str,
) -> Result<Vec<Doc>, DbError> {
    let mut stmt = conn.prepare_cached(&format!("{MESSAGE_DOC} AND m.conversation_id = ?1"))?;
    let rows = stmt.query_map([conversation_id], message_doc)?;
    rows.collect::<Result<_, _>>()
}

const TITLE_DOC: &str =
    "SELECT conversation_id, user_id, title FROM conversations WHERE is_temporary = 0";

fn title_doc(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<Doc> {
    let id: String = r.get(0)?;
    Ok(Doc {
        conversation_id: id.clone(),
        id,
        user_id: r.get(1)?,
        text: r.get(2)?,
    })
}

/// A conversation's title as search should see it.
pub fn title(conn: &Connection, conversation_id: &str) -> Result<Option<Doc>, DbError> {
    let mut stmt = conn.prepare_cached(&format!("{TITLE_DOC} AND conversation_id = ?1"))?;
    stmt.query_row([conversation_id], title_doc).optional()
}

/// How many messages, titles and searched files a rebuild will index.
pub fn count_all(conn: &Connection) -> Result<u64, DbError> {
    Ok(conn.query_row(
        "SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM conversations)
              + (SELECT COUNT(*) FROM files WHERE embedded = 1)",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64)
}

/// Calls `title` for every searchable conversation title, `message` for every searchable
/// message and `file` for every file uploaded for file search, streaming (one row in memory
/// at a time), all from one consistent snapshot.
pub fn for_each(
    conn: &Connection,
    mut title: impl FnMut(Doc) -> Result<(), DbError>,
    mut message: impl FnMut(Doc) -> Result<(), DbError>,
    file: impl FnMut(FileDoc) -> Result<(), DbError>,
) -> Result<(), DbError> {
    conn.execute_batch("BEGIN")?;
    let result = (|| {
        let mut stmt = conn.prepare(TITLE_DOC)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            title(title_doc(&r)?)?;
        }
        let mut stmt = conn.prepare(MESSAGE_DOC)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            message(message_doc(&r)?)?;
        }
        for_each_file(conn, file)
    })();
    conn.execute_batch("COMMIT")?;
    result
}

/// A document uploaded for file search, as its chunks are made from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDoc {
    pub file_id: String,
    /// Its owner (the uploader).
    pub user_id: String,
    pub text: String,
}

const FILE_DOC: &str = "SELECT file_id, user_id, text FROM files
     WHERE embedded = 1 AND text IS NOT NULL";

fn file_doc(r: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<FileDoc> {
    Ok(FileDoc {
        file_id: r.get(0)?,
        user_id: r.get(1)?,
        text: r.get(2)?,
    })
}

/// A file as file search should see it; `None` when it is gone or not searched.
pub fn file(conn: &Connection, file_id: &str) -> Result<Option<FileDoc>, DbError> {
    let mut stmt = conn.prepare_cached(&format!("{FILE_DOC} AND file_id = ?1"))?;
    stmt.query_row([file_id], file_doc).optional()
}

/// Calls `each` for every file uploaded for file search, one in memory at a time (inside the
/// snapshot [`for_each`] opens).
fn for_each_file(
    conn: &Connection,
    mut each: impl FnMut(FileDoc) -> Result<(), DbError>,
) -> Result<(), DbError> {
    let mut stmt = conn.prepare(FILE_DOC)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        each(file_doc(&r)?)?;
    }
    Ok(())
}

/// A message found by search, with what the result list shows about its conversation.
#[derive(Debug, Clone)]
pub struct Hit {
    pub message: super::messages::Message,
    pub title: String,
    pub conversation_model: Option<String>,
}

/// The user's messages among `ids`, in the order of `ids`; ids that are not the user's are
/// skipped.
pub fn hits(conn: &Connection, user_id: &str, ids: &[String]) -> Result<Vec<Hit>, DbError> {
    let mut out = Vec::with_capacity(ids.len());
    // One snapshot for the whole page, so a conversation deleted meanwhile is simply absent.
    conn.execute_batch("BEGIN")?;
    let result = (|| {
        for id in ids {
            let found = conn
                .query_row(
                    "SELECT m.conversation_id, c.title, c.model FROM messages m
                       JOIN conversations c ON c.conversation_id = m.conversation_id
                      WHERE m.message_id = ?1 AND m.user_id = ?2 AND c.user_id = ?2",
                    params![id, user_id],
                    |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((conversation_id, title, conversation_model)) = found else {
                continue;
            };
            let Some(message) = super::messages::get(conn, user_id, &conversation_id, id)? else {
                continue;
            };
            out.push(Hit {
                message,
                title,
                conversation_model,
            });
        }
        Ok::<_, DbError>(())
    })();
    conn.execute_batch("COMMIT")?;
    result.map(|()| out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_parts_join_the_text() {
        assert_eq!(searchable_text("hi", None), "hi");
        let content = r#"[{"type":"think","think":"secret"},{"type":"text","text":"answer"},
            {"type":"text","text":{"value":"old shape"}},{"type":"text","text":"hi"}]"#;
        assert_eq!(
            searchable_text("hi", Some(content)),
            "hi\nanswer\nold shape"
        );
        assert_eq!(searchable_text("", Some(content)), "answer\nold shape\nhi");
        assert_eq!(searchable_text("x", Some("not json")), "x");
    }
}
