//! Uploaded avatars: a `files` row of context `avatar` and the account's `avatar` URL, which
//! change together. An avatar file is kept while its account shows it (its URL is the file's
//! `filepath`, with LibreChat's `?manual=` after it); once the account shows another picture
//! (a new upload, or a social sign-in's), the file is the sweeper's.

use crate::db::sql::{Connection, params_from_iter};
use rusqlite::params;

use super::files::{self, File};
use super::{DbError, now};

/// Whether account `u`'s `avatar` is file `f`'s picture (SQL, for a query over `files f`
/// joined to `users u`).
const SHOWN: &str = "instr(COALESCE(u.avatar, ''), f.filepath) = 1";

/// Records the new avatar file `record`, sets `url` as its owner's avatar, and deletes the
/// owner's other avatar records; returns their storage keys (the bytes are the caller's to
/// remove, after this commits). `NotFound` when the account is gone.
pub fn replace(conn: &mut Connection, record: &File, url: &str) -> Result<Vec<String>, DbError> {
    let tx = conn.transaction()?;
    let n = tx.execute(
        "UPDATE users SET avatar = ?2, updated_at = ?3 WHERE id = ?1",
        params![record.user_id, url, now()],
    )?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    files::insert(&tx, record)?;
    let old: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT file_id, storage_key FROM files
              WHERE user_id = ?1 AND context = 'avatar' AND file_id <> ?2",
        )?;
        let rows = stmt.query_map(params![record.user_id, record.file_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    {
        let mut stmt = tx.prepare("DELETE FROM files WHERE user_id = ?1 AND file_id = ?2")?;
        for (id, _) in &old {
            stmt.execute(params![record.user_id, id])?;
        }
    }
    tx.commit()?;
    Ok(old.into_iter().map(|(_, key)| key).collect())
}

/// Deletes up to `limit` avatar files made before `before` that their account no longer
/// shows; returns their storage keys.
pub fn delete_unshown(
    conn: &mut Connection,
    before: &str,
    limit: u32,
) -> Result<Vec<String>, DbError> {
    let tx = conn.transaction()?;
    let gone: Vec<(String, String)> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT f.file_id, f.storage_key FROM files f JOIN users u ON u.id = f.user_id
              WHERE f.context = 'avatar' AND f.created_at < ?1 AND NOT ({SHOWN})
              ORDER BY f.created_at LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![before, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    if !gone.is_empty() {
        let marks = vec!["?"; gone.len()].join(", ");
        tx.execute(
            &format!("DELETE FROM files WHERE file_id IN ({marks})"),
            params_from_iter(gone.iter().map(|(id, _)| id)),
        )?;
    }
    tx.commit()?;
    Ok(gone.into_iter().map(|(_, key)| key).collect())
}
