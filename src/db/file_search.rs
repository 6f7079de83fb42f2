//! Which files a file search may look in (LibreChat's `primeFiles` and the `embedded` files of
//! a conversation, its `categorizeFileForToolResources`): an agent's `file_search` files, read
//! through the agent for whoever may use it (whoever uploaded them: its author or an editor),
//! and the searcher's own files uploaded for file search in the conversation. Only files that
//! exist and are indexed for search (`embedded`) are named.

use crate::db::sql::Connection;
use rusqlite::params;

use super::DbError;
use super::acl::Viewer;
use super::agents::{VIEW, check};

/// A file a search may look in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Searchable {
    pub file_id: String,
    pub filename: String,
    /// One of the agent's own files (else attached in the conversation).
    pub from_agent: bool,
    /// Its media type, size in bytes and storage (`source`), for its citations.
    pub mime: String,
    pub bytes: i64,
    pub source: String,
}

fn from_row(r: &crate::db::sql::Row, from_agent: bool) -> crate::db::sql::Result<Searchable> {
    Ok(Searchable {
        file_id: r.get(0)?,
        filename: r.get(1)?,
        from_agent,
        mime: r.get(2)?,
        bytes: r.get(3)?,
        source: r.get(4)?,
    })
}

/// The most files one search looks in.
const MAX_FILES: usize = 1_000;

/// The files the agent `id`'s `tool_resources.file_search` lists, in its order, for a viewer
/// who may use (VIEW) the agent; none for an agent they may not see.
pub fn of_agent(conn: &Connection, viewer: &Viewer, id: &str) -> Result<Vec<Searchable>, DbError> {
    let Ok((object_id, _)) = check(conn, viewer, id, VIEW)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT file_id, filename, type, bytes, source FROM files JOIN (
             SELECT ids.value AS listed, min(CAST(ids.key AS INTEGER)) AS pos
               FROM agents a, json_each(a.tool_resources, '$.file_search.file_ids') ids
              WHERE a.object_id = ?1 AND json_valid(a.tool_resources)
              GROUP BY ids.value) AS listed_ids ON listed = file_id
          WHERE embedded = 1
          ORDER BY pos LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![object_id, MAX_FILES as i64], |r| from_row(r, true))?;
    rows.collect::<Result<_, _>>()
}

/// The user's own files uploaded for file search in the conversation, oldest first.
pub fn in_conversation(
    conn: &Connection,
    user_id: &str,
    conversation_id: &str,
) -> Result<Vec<Searchable>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT file_id, filename, type, bytes, source FROM files
          WHERE conversation_id = ?1 AND user_id = ?2 AND embedded = 1
          ORDER BY created_at, file_id LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![conversation_id, user_id, MAX_FILES as i64], |r| {
        from_row(r, false)
    })?;
    rows.collect::<Result<_, _>>()
}

/// What a search for `viewer` in the conversation may look in: the agent's files (when the
/// turn runs one), then the viewer's own in the conversation, each file once.
pub fn scope(
    conn: &Connection,
    viewer: &Viewer,
    agent_id: Option<&str>,
    conversation_id: &str,
) -> Result<Vec<Searchable>, DbError> {
    let mut out = match agent_id {
        Some(id) => of_agent(conn, viewer, id)?,
        None => Vec::new(),
    };
    for f in in_conversation(conn, &viewer.user_id, conversation_id)? {
        if !out.iter().any(|o| o.file_id == f.file_id) {
            out.push(f);
        }
    }
    Ok(out)
}

/// Whether any of the files `ids` has a change after `applied` (where this replica's search
/// index stands), that is one its index does not have yet (just uploaded, its chunks not yet
/// indexed). Changes other replicas still need do not count.
pub fn unindexed(
    conn: &Connection,
    ids: &[String],
    applied: super::search::Position,
) -> Result<bool, DbError> {
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM search_outbox
              WHERE kind = 'f' AND item_id IN (SELECT value FROM json_each(?1))
                AND (tx, seq) > (?2, ?3))",
    )?
    .query_row(params![list, applied.tx, applied.seq], |r| r.get(0))
}
