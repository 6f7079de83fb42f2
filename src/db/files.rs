//! The `files` table: what each person uploaded (LibreChat's `TFile`). The bytes are not here:
//! `storage_key` names them in the file storage (`crate::files`). Every query is scoped to
//! the owner, except the sweeper's, which only ever deletes.

use crate::db::sql::{Connection, OptionalExtension, Row, params_from_iter};
use rusqlite::params;

use super::{DbError, now};

/// A stored file's record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct File {
    pub file_id: String,
    pub user_id: String,
    pub temp_file_id: Option<String>,
    /// The uploader's name for it, for display only.
    pub filename: String,
    /// Where clients fetch it.
    pub filepath: String,
    /// Its name in the storage.
    pub storage_key: String,
    pub bytes: i64,
    /// Its media type, as found in its bytes.
    pub mime: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// LibreChat's `FileSources`: `local`, or `text` for a document given to the model as text.
    pub source: String,
    /// LibreChat's `FileContext`: `message_attachment`, `avatar`, ...
    pub context: Option<String>,
    pub usage: i64,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    /// The text read out of a document.
    pub text: Option<String>,
    pub embedded: bool,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "file_id, user_id, temp_file_id, filename, filepath, storage_key, bytes, \
    type, width, height, source, context, usage, conversation_id, message_id, text, embedded, \
    created_at, updated_at";

fn from_row(r: &Row<'_>) -> crate::db::sql::Result<File> {
    Ok(File {
        file_id: r.get(0)?,
        user_id: r.get(1)?,
        temp_file_id: r.get(2)?,
        filename: r.get(3)?,
        filepath: r.get(4)?,
        storage_key: r.get(5)?,
        bytes: r.get(6)?,
        mime: r.get(7)?,
        width: r.get(8)?,
        height: r.get(9)?,
        source: r.get(10)?,
        context: r.get(11)?,
        usage: r.get(12)?,
        conversation_id: r.get(13)?,
        message_id: r.get(14)?,
        text: r.get(15)?,
        embedded: r.get(16)?,
        created_at: r.get(17)?,
        updated_at: r.get(18)?,
    })
}

/// Records a file whose bytes are already stored; its times are set here. Returns it as stored.
pub fn insert(conn: &Connection, f: &File) -> Result<File, DbError> {
    let ts = now();
    conn.execute(
        &format!("INSERT INTO files ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?18)"),
        params![
            f.file_id,
            f.user_id,
            f.temp_file_id,
            f.filename,
            f.filepath,
            f.storage_key,
            f.bytes,
            f.mime,
            f.width,
            f.height,
            f.source,
            f.context,
            f.usage,
            f.conversation_id,
            f.message_id,
            f.text,
            f.embedded,
            ts,
        ],
    )?;
    Ok(File {
        created_at: ts.clone(),
        updated_at: ts,
        ..f.clone()
    })
}

pub fn get(conn: &Connection, user_id: &str, file_id: &str) -> Result<Option<File>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM files WHERE user_id = ?1 AND file_id = ?2");
    conn.prepare_cached(&sql)?
        .query_row(params![user_id, file_id], from_row)
        .optional()
}

/// The file `file_id` if the viewer may download it, as LibreChat's `fileAccess` allows: their
/// own, or one an agent they may use (VIEW, or its author) lists in any of its
/// `tool_resources` (only its author's and editors' own files get there: see
/// `agent_refs::prune_file_ids`). Anyone else's reads as none.
pub fn downloadable(
    conn: &Connection,
    viewer: &super::acl::Viewer,
    file_id: &str,
) -> Result<Option<File>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM files f WHERE f.file_id = :id AND (f.user_id = :acl_user
            OR EXISTS (SELECT 1 FROM agents a, json_each(a.tool_resources) r,
                              json_each(r.value, '$.file_ids') ids
                 WHERE json_valid(a.tool_resources) AND json_type(r.value, '$.file_ids') = 'array'
                   AND ids.value = f.file_id
                   AND (a.author = :acl_user OR EXISTS (SELECT 1 {} AND (e.perm_bits & 1) <> 0))))",
        super::acl::entries_of(super::acl::ResourceType::Agent, "a.object_id")
    );
    conn.prepare_cached(&sql)?
        .query_row(
            rusqlite::named_params! {
                ":id": file_id, ":acl_user": viewer.user_id, ":acl_role": viewer.role,
            },
            from_row,
        )
        .optional()
}

/// The user's files, newest first, at most `limit`, without their text: LibreChat's client
/// asks for the list on every page it opens, and a document's text may be 15 MB.
pub fn list(conn: &Connection, user_id: &str, limit: u32) -> Result<Vec<File>, DbError> {
    let sql = format!(
        "SELECT {} FROM files WHERE user_id = ?1
            AND coalesce(context, '') NOT IN ('avatar', 'agent_avatar')
          ORDER BY updated_at DESC, file_id LIMIT ?2",
        COLUMNS.replacen(" text,", " NULL,", 1)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![user_id, limit], from_row)?;
    rows.collect::<Result<_, _>>()
}

/// The files an agent's `tool_resources` name (any resource's `file_ids`), oldest first,
/// without their text. The caller has checked that the reader may edit the agent, whose
/// `_id` this is: such files are shared with the agent's editors.
pub(super) fn of_agent(conn: &Connection, agent_object_id: &str) -> Result<Vec<File>, DbError> {
    let sql = format!(
        "SELECT {} FROM files WHERE file_id IN (
             SELECT ids.value FROM agents a, json_each(a.tool_resources) r,
                  json_each(r.value, '$.file_ids') ids
              WHERE a.object_id = ?1 AND json_valid(a.tool_resources)
                AND json_type(r.value, '$.file_ids') = 'array')
          ORDER BY created_at, file_id LIMIT 1000",
        COLUMNS.replacen(" text,", " NULL,", 1)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([agent_object_id], from_row)?;
    rows.collect::<Result<_, _>>()
}

/// A document of an agent's File Context, named without its text (read with [`text_of`]
/// when the caller has not kept what it gave).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextDoc {
    pub file_id: String,
    pub filename: String,
    /// Changes with every write to the record: a text read at another time may be stale.
    pub updated_at: String,
}

/// The documents of an agent's File Context (`context`, then the legacy `ocr`), in the
/// agent's order, each once; files gone since and files without text are left out.
/// The caller has checked that the reader may use the agent, whose `_id` this is.
pub(super) fn context_of_agent(
    conn: &Connection,
    agent_object_id: &str,
) -> Result<Vec<ContextDoc>, DbError> {
    // `octet_length` is answered from the record's header: the texts are not read here.
    let mut stmt = conn.prepare_cached(
        "SELECT file_id, filename, updated_at FROM files JOIN (
             SELECT ids.value AS listed,
                    min(CASE WHEN r.key = 'ocr' THEN 1000000 ELSE 0 END + CAST(ids.key AS INTEGER)) AS pos
               FROM agents a, json_each(a.tool_resources) r, json_each(r.value, '$.file_ids') ids
              WHERE a.object_id = ?1 AND json_valid(a.tool_resources)
                AND r.key IN ('context', 'ocr') AND json_type(r.value, '$.file_ids') = 'array'
              GROUP BY ids.value) AS listed_ids ON listed = file_id
          WHERE source = 'text' AND octet_length(text) > 0
          ORDER BY pos LIMIT 1000",
    )?;
    let rows = stmt.query_map(params![agent_object_id], |r| {
        Ok(ContextDoc {
            file_id: r.get(0)?,
            filename: r.get(1)?,
            updated_at: r.get(2)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// The first `max_chars` characters of a file's text (what the model is given is cut
/// shorter anyway), if it has one. Not scoped to an owner: only for a file the caller
/// listed through an agent the reader may use ([`super::agent_files::context_files`]).
pub fn text_of(
    conn: &Connection,
    file_id: &str,
    max_chars: u64,
) -> Result<Option<String>, DbError> {
    let mut stmt =
        conn.prepare_cached("SELECT substr(text, 1, ?2) FROM files WHERE file_id = ?1")?;
    let max = i64::try_from(max_chars).unwrap_or(i64::MAX);
    Ok(stmt
        .query_row(params![file_id, max], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Those of `file_ids` that the user owns, in the order asked (each once).
pub fn owned(conn: &Connection, user_id: &str, file_ids: &[String]) -> Result<Vec<File>, DbError> {
    let mut out = Vec::with_capacity(file_ids.len());
    for id in file_ids {
        if out.iter().any(|f: &File| &f.file_id == id) {
            continue;
        }
        if let Some(f) = get(conn, user_id, id)? {
            out.push(f);
        }
    }
    Ok(out)
}

/// How many of `file_ids` are the user's uploads for a message not sent yet (each counted once).
pub fn unsent(conn: &Connection, user_id: &str, file_ids: &[String]) -> Result<usize, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM files WHERE user_id = ?1 AND file_id = ?2
            AND message_id IS NULL AND context = 'message_attachment'",
    )?;
    let mut seen: Vec<&String> = Vec::with_capacity(file_ids.len());
    for id in file_ids {
        if !seen.contains(&id) && stmt.exists(params![user_id, id])? {
            seen.push(id);
        }
    }
    Ok(seen.len())
}

/// Those of `file_ids` that exist and belong to someone else.
pub fn owned_by_others(
    conn: &Connection,
    user_id: &str,
    file_ids: &[String],
) -> Result<Vec<String>, DbError> {
    let mut stmt =
        conn.prepare_cached("SELECT 1 FROM files WHERE file_id = ?1 AND user_id <> ?2")?;
    let mut out = Vec::new();
    for id in file_ids {
        if stmt.exists(params![id, user_id])? && !out.contains(id) {
            out.push(id.clone());
        }
    }
    Ok(out)
}

/// The bytes the user's files take, for the quota.
pub fn total_bytes(conn: &Connection, user_id: &str) -> Result<i64, DbError> {
    conn.query_row(
        "SELECT COALESCE(SUM(bytes), 0) FROM files WHERE user_id = ?1",
        [user_id],
        |r| r.get(0),
    )
}

/// Records that a message carries these files (the user's own only): they are no longer
/// orphans, and count one more use. Returns how many were attached.
pub fn attach(
    conn: &Connection,
    user_id: &str,
    file_ids: &[String],
    conversation_id: &str,
    message_id: &str,
) -> Result<usize, DbError> {
    let mut stmt = conn.prepare_cached(
        "UPDATE files SET conversation_id = ?3, message_id = COALESCE(message_id, ?4),
                usage = usage + 1, updated_at = ?5
          WHERE user_id = ?1 AND file_id = ?2",
    )?;
    let ts = now();
    let mut n = 0;
    for id in file_ids {
        n += stmt.execute(params![user_id, id, conversation_id, message_id, ts])?;
    }
    Ok(n)
}

/// Deletes those of `file_ids` the user owns, and takes them out of the agents that listed
/// them; returns the deleted records (their bytes are the caller's to remove from the
/// storage, after this commits).
pub fn delete(
    conn: &mut Connection,
    user_id: &str,
    file_ids: &[String],
) -> Result<Vec<File>, DbError> {
    let tx = conn.transaction()?;
    let found = owned(&tx, user_id, file_ids)?;
    {
        let mut stmt =
            tx.prepare_cached("DELETE FROM files WHERE user_id = ?1 AND file_id = ?2")?;
        for f in &found {
            stmt.execute(params![user_id, f.file_id])?;
        }
    }
    let gone: Vec<String> = found.iter().map(|f| f.file_id.clone()).collect();
    super::agent_files::forget(&tx, &gone)?;
    tx.commit()?;
    Ok(found)
}

/// The storage keys of everything the user uploaded (read before the account goes: the
/// rows go with it, the bytes are removed after).
pub fn storage_keys_of(conn: &Connection, user_id: &str) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare("SELECT storage_key FROM files WHERE user_id = ?1")?;
    let rows = stmt.query_map([user_id], |r| r.get(0))?;
    rows.collect::<Result<_, _>>()
}

/// Deletes up to `limit` message attachments never attached to a message and made before
/// `before` (avatars and other kinds stay); returns their storage keys.
pub fn delete_unattached(
    conn: &mut Connection,
    before: &str,
    limit: u32,
) -> Result<Vec<String>, DbError> {
    let tx = conn.transaction()?;
    let gone: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT file_id, storage_key FROM files
              WHERE message_id IS NULL AND created_at < ?1 AND context = 'message_attachment'
              ORDER BY created_at LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![before, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    if !gone.is_empty() {
        let ids: Vec<&str> = gone.iter().map(|(id, _)| id.as_str()).collect();
        let marks = vec!["?"; ids.len()].join(", ");
        tx.execute(
            &format!("DELETE FROM files WHERE file_id IN ({marks})"),
            params_from_iter(ids),
        )?;
    }
    tx.commit()?;
    Ok(gone.into_iter().map(|(_, key)| key).collect())
}

/// Whether a storage key is recorded (the sweeper leaves recorded bytes alone).
pub fn key_known(conn: &Connection, storage_key: &str) -> Result<bool, DbError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM files WHERE storage_key = ?1")?
        .query_row([storage_key], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_leaves_the_text_of_documents_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("files.db");
        let mut conn = Connection::open(&path).unwrap();
        crate::db::migrate::migrate(conn.as_sqlite_mut().unwrap(), &path).unwrap();
        // No account row: the owner is not what this is about.
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        let doc = File {
            file_id: "f1".into(),
            user_id: "u1".into(),
            filename: "tides.md".into(),
            filepath: "/api/files/download/u1/f1".into(),
            storage_key: "ab/ab000000000000000000000000000000".into(),
            bytes: 11,
            mime: "text/markdown".into(),
            source: "text".into(),
            context: Some("message_attachment".into()),
            text: Some("Spring tide".into()),
            ..File::default()
        };
        insert(&conn, &doc).unwrap();
        let listed = list(&conn, "u1", 10).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].text, None);
        assert_eq!(listed[0].filename, "tides.md");
        // The record itself keeps it, for the model.
        let got = get(&conn, "u1", "f1").unwrap().unwrap();
        assert_eq!(got.text.as_deref(), Some("Spring tide"));
    }
}
