//! What the search index reads from the database: the outbox of changes (see migration 0006),
//! the current text of the items it names (messages, conversation titles, documents uploaded
//! for file search), and everything at once for a rebuild.

use crate::db::sql::{Backend, Connection, OptionalExtension};
use rusqlite::params;
use serde_json::Value;

use super::DbError;

/// A place in the change log, in the order changes are read: by writing transaction (always 0
/// in SQLite), then by number. "Up to" a position means every change at or before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub tx: i64,
    pub seq: i64,
}

impl Position {
    /// Reads what [`Position`]'s `Display` wrote (`tx:seq`), or a bare number (`seq`, what
    /// indexes made before several replicas could share a database hold).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        match s.split_once(':') {
            Some((tx, seq)) => Some(Self {
                tx: tx.parse().ok()?,
                seq: seq.parse().ok()?,
            }),
            None => Some(Self {
                tx: 0,
                seq: s.parse().ok()?,
            }),
        }
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.tx, self.seq)
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub at: Position,
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

/// PostgreSQL: the oldest transaction still running (everything before it has ended), as a
/// number comparable with `search_outbox.tx`.
const PG_OLDEST_RUNNING: &str =
    "CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT) AS BIGINT)";

/// Up to `limit` changes after `after`, in log order. In PostgreSQL only changes of
/// transactions that ended before every transaction still running: a change read later can
/// then never fall before one read now (see migration 0027).
pub fn changes(conn: &Connection, after: Position, limit: usize) -> Result<Vec<Change>, DbError> {
    let sql = match conn.backend() {
        Backend::Sqlite => "SELECT tx, seq, kind, item_id FROM search_outbox
             WHERE (tx, seq) > (?1, ?2) ORDER BY tx, seq LIMIT ?3"
            .to_owned(),
        Backend::Postgres => format!(
            "SELECT tx, seq, kind, item_id FROM search_outbox
             WHERE (tx, seq) > (?1, ?2) AND tx < {PG_OLDEST_RUNNING}
             ORDER BY tx, seq LIMIT ?3"
        ),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![after.tx, after.seq, limit as i64], |r| {
        let kind: String = r.get(2)?;
        Ok(Change {
            at: Position {
                tx: r.get(0)?,
                seq: r.get(1)?,
            },
            kind: match kind.as_str() {
                "m" => ChangeKind::Message,
                "C" => ChangeKind::WholeConversation,
                "f" => ChangeKind::File,
                _ => ChangeKind::Title,
            },
            item_id: r.get(3)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// The newest position the database has given out (numbers are never reused, even for
/// changes forgotten since): an index past it was made from a newer database than this one.
/// In PostgreSQL `tx` is the next transaction id to be handed out.
pub fn last_change(conn: &Connection) -> Result<Position, DbError> {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            "SELECT 0, (SELECT seq FROM sqlite_sequence WHERE name = 'search_outbox')"
        }
        Backend::Postgres => {
            "SELECT CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS TEXT) AS BIGINT),
                    pg_sequence_last_value(pg_get_serial_sequence('search_outbox', 'seq'))"
        }
    };
    let (tx, seq) = conn.query_row(sql, [], |r| {
        Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?))
    })?;
    Ok(Position {
        tx: tx.unwrap_or(0),
        seq: seq.unwrap_or(0),
    })
}

/// Where a rebuild that reads the database after this call stands: every change up to it is in
/// what it reads. Changes after it may be read too; applying them again does no harm.
pub fn rebuild_position(conn: &Connection) -> Result<Position, DbError> {
    match conn.backend() {
        Backend::Sqlite => last_change(conn),
        Backend::Postgres => Ok(Position {
            tx: conn.query_row(&format!("SELECT {PG_OLDEST_RUNNING}"), [], |r| r.get(0))?,
            seq: 0,
        }),
    }
}

/// How long a replica that stopped saying where its index stands still holds the change log
/// back: a replica away for longer rebuilds its index when it returns.
pub const LIVE_FOR_MS: i64 = 15 * 60 * 1000;
/// A replica not seen for this long is forgotten altogether.
const FORGET_REPLICA_MS: i64 = 30 * 24 * 3600 * 1000;
/// PostgreSQL: the advisory lock that makes replicas prune one at a time (so the recorded
/// pruning point only grows). Any constant the installation's other programs do not use.
const PRUNE_LOCK: i64 = 0x6c63_7365_6172_6368;

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Records that `replica`'s index holds every change up to `at` (and that the replica is
/// alive), then deletes the changes every live replica has: see [`prune`]. A SQLite database
/// has one server (its data folder's), so there the replica is the only one: an index made
/// afresh under another name does not wait for the one it replaced.
pub fn advance(conn: &mut Connection, replica: &str, at: Position) -> Result<usize, DbError> {
    let now = now_ms();
    if conn.backend() == Backend::Sqlite {
        conn.execute("DELETE FROM search_cursors WHERE replica <> ?1", [replica])?;
    }
    conn.execute(
        "INSERT INTO search_cursors (replica, tx, seq, seen_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (replica) DO UPDATE SET
             tx = excluded.tx, seq = excluded.seq, seen_at = excluded.seen_at",
        params![replica, at.tx, at.seq, now],
    )?;
    prune(conn, now)
}

/// Deletes the changes that every replica seen in the last [`LIVE_FOR_MS`] before `now` has
/// applied (all of them when no replica keeps an index: search is off everywhere), and
/// remembers how far changes were deleted: an index holding less than that has missed some
/// and must be rebuilt.
pub fn prune(conn: &mut Connection, now: i64) -> Result<usize, DbError> {
    let tx = conn.transaction()?;
    if tx.backend() == Backend::Postgres {
        tx.execute("SELECT pg_advisory_xact_lock(?1)", [PRUNE_LOCK])?;
    }
    let floor = tx
        .query_row(
            "SELECT tx, seq FROM search_cursors WHERE seen_at >= ?1 ORDER BY tx, seq LIMIT 1",
            [now - LIVE_FOR_MS],
            |r| {
                Ok(Position {
                    tx: r.get(0)?,
                    seq: r.get(1)?,
                })
            },
        )
        .optional()?;
    let floor = match floor {
        Some(floor) => floor,
        None => last_change(&tx)?,
    };
    let n = tx.execute(
        "DELETE FROM search_outbox WHERE (tx, seq) <= (?1, ?2)",
        params![floor.tx, floor.seq],
    )?;
    if floor > forgotten(&tx)? {
        tx.execute(
            "INSERT INTO meta (key, value, updated_at) VALUES ('search_forgotten', ?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                 updated_at = excluded.updated_at",
            params![floor.to_string(), super::now()],
        )?;
    }
    tx.execute(
        "DELETE FROM search_cursors WHERE seen_at < ?1",
        [now - FORGET_REPLICA_MS],
    )?;
    tx.commit()?;
    Ok(n)
}

/// [`prune`] for a server with search off: with SQLite it is the only one, so everything
/// goes; with PostgreSQL what the replicas that keep an index still need stays.
pub fn prune_while_off(conn: &mut Connection, now: i64) -> Result<usize, DbError> {
    if conn.backend() == Backend::Sqlite {
        conn.execute("DELETE FROM search_cursors", [])?;
    }
    prune(conn, now)
}

/// How far changes have been deleted (see [`prune`]).
pub fn forgotten(conn: &Connection) -> Result<Position, DbError> {
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'search_forgotten'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(value
        .as_deref()
        .and_then(Position::parse)
        .unwrap_or_default())
}

/// How many changes wait to be indexed (by the slowest replica).
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

    #[test]
    fn positions_read_back_and_order_by_transaction_first() {
        let p = Position { tx: 7, seq: 3 };
        assert_eq!(Position::parse(&p.to_string()), Some(p));
        assert_eq!(Position::parse("42"), Some(Position { tx: 0, seq: 42 }));
        assert_eq!(Position::parse("x"), None);
        assert!(Position { tx: 1, seq: 1 } > Position { tx: 0, seq: 99 });
    }
}
