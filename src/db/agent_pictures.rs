//! An agent's pictures: files of context `agent_avatar` that name their agent (`agent_id`),
//! shown to whoever may see the agent, kept while it is (its versions may name any of them).

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;
use serde_json::Value;

use super::DbError;
use super::acl::Viewer;
use super::agents::{Agent, VIEW, check};
use super::files::{self, File};

/// The stored picture of an agent's avatar (`{filepath}`) when it is one uploaded for it.
pub fn picture_of(conn: &Connection, agent: &Agent) -> Result<Option<File>, DbError> {
    let Some(path) = agent
        .def
        .avatar
        .as_ref()
        .and_then(|a| a.get("filepath"))
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    agent_picture(conn, &agent.object_id, path)
}

/// The picture of agent `object_id` at `filepath`, read as its uploader's file.
fn agent_picture(
    conn: &Connection,
    object_id: &str,
    filepath: &str,
) -> Result<Option<File>, DbError> {
    let found: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT user_id, file_id FROM files WHERE agent_id = ?1 AND context = 'agent_avatar'
             AND filepath = ?2",
        )?
        .query_row(params![object_id, filepath], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match found {
        Some((user_id, file_id)) => files::get(conn, &user_id, &file_id),
        None => Ok(None),
    }
}

/// The picture `name` (`{file_id}.{ext}`) of the agent `id`, if the viewer may see the agent.
pub fn picture(
    conn: &Connection,
    viewer: &Viewer,
    id: &str,
    name: &str,
) -> Result<Option<File>, DbError> {
    let Ok((object_id, _)) = check(conn, viewer, id, VIEW)? else {
        return Ok(None);
    };
    agent_picture(conn, &object_id, &format!("/images/agents/{id}/{name}"))
}

/// Deletes up to `limit` agent pictures made before `before` whose agent is gone (deleted with
/// its author, say); returns their storage keys.
pub fn delete_orphan_pictures(
    conn: &mut Connection,
    before: &str,
    limit: u32,
) -> Result<Vec<String>, DbError> {
    let tx = conn.transaction()?;
    let keys: Vec<String> = {
        let mut stmt = tx.prepare_cached(
            "DELETE FROM files WHERE file_id IN (SELECT file_id FROM files
                 WHERE context = 'agent_avatar' AND agent_id IS NULL AND created_at < ?1
                 LIMIT ?2)
             RETURNING storage_key",
        )?;
        let rows = stmt.query_map(params![before, limit], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    tx.commit()?;
    Ok(keys)
}
