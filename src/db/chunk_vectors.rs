//! The vectors of file search's chunks (migration 0023): what the embedding worker still has
//! to do, what it made, and what a search scores. Vectors are f32 little-endian BLOBs of unit
//! length; a file is done for a model once `file_vectors` says so.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::DbError;

/// A document uploaded for file search whose chunks are not all embedded with the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub file_id: String,
    pub user_id: String,
}

/// A file's text as the worker cuts it into chunks, with what tells a later change apart.
#[derive(Debug, Clone)]
pub struct FileText {
    pub user_id: String,
    pub text: String,
    pub updated_at: String,
}

/// One chunk's vector, to store.
#[derive(Debug, Clone)]
pub struct NewVector {
    pub chunk: u32,
    pub page: Option<u32>,
    pub text: String,
    pub vector: Vec<f32>,
}

/// A stored chunk, as a search shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChunk {
    pub file_id: String,
    pub chunk: u32,
    pub page: Option<u32>,
    pub text: String,
}

pub fn encode(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn decode(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Up to `limit` files with chunks still to embed with `model`, oldest first.
pub fn pending(conn: &Connection, model: &str, limit: usize) -> Result<Vec<Pending>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.file_id, f.user_id FROM files f
          WHERE f.embedded = 1 AND f.text IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM file_vectors d
                             WHERE d.file_id = f.file_id AND d.model = ?1)
          ORDER BY f.created_at, f.file_id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![model, limit as i64], |r| {
        Ok(Pending {
            file_id: r.get(0)?,
            user_id: r.get(1)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// The file's text, while it is uploaded for file search.
pub fn file_text(conn: &Connection, file_id: &str) -> Result<Option<FileText>, DbError> {
    conn.query_row(
        "SELECT user_id, text, updated_at FROM files
              WHERE file_id = ?1 AND embedded = 1 AND text IS NOT NULL",
        [file_id],
        |r| {
            Ok(FileText {
                user_id: r.get(0)?,
                text: r.get(1)?,
                updated_at: r.get(2)?,
            })
        },
    )
    .optional()
}

/// The chunks of the file that have a vector of `model`, after dropping those of any other
/// model (a model changed since).
pub fn embedded_chunks(conn: &Connection, file_id: &str, model: &str) -> Result<Vec<u32>, DbError> {
    conn.prepare_cached("DELETE FROM chunk_vectors WHERE file_id = ?1 AND model <> ?2")?
        .execute(params![file_id, model])?;
    let mut stmt = conn.prepare_cached(
        "SELECT chunk FROM chunk_vectors WHERE file_id = ?1 AND model = ?2 ORDER BY chunk",
    )?;
    let rows = stmt.query_map(params![file_id, model], |r| r.get(0))?;
    rows.collect::<Result<_, _>>()
}

/// Stores vectors of the file's chunks made from its text as of `updated_at`; nothing when the
/// file has changed or gone since (those vectors would be of another text). Whether they
/// were stored.
pub fn store(
    conn: &mut Connection,
    file_id: &str,
    updated_at: &str,
    model: &str,
    vectors: &[NewVector],
) -> Result<bool, DbError> {
    let tx = conn.transaction()?;
    let Some(user_id) = tx
        .query_row(
            "SELECT user_id FROM files WHERE file_id = ?1 AND updated_at = ?2 AND embedded = 1",
            params![file_id, updated_at],
            |r| r.get::<_, String>(0),
        )
        .optional()?
    else {
        return Ok(false);
    };
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO chunk_vectors
                 (file_id, chunk, user_id, model, dims, page, text, vector)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (file_id, chunk) DO UPDATE SET user_id = excluded.user_id,
                 model = excluded.model, dims = excluded.dims, page = excluded.page,
                 text = excluded.text, vector = excluded.vector",
        )?;
        for v in vectors {
            insert.execute(params![
                file_id,
                v.chunk,
                user_id,
                model,
                v.vector.len() as i64,
                v.page,
                v.text,
                encode(&v.vector)
            ])?;
        }
    }
    tx.commit()?;
    Ok(true)
}

/// Records that all `chunks` chunks of the file have vectors of `model` (when they do: a
/// change since removed them).
pub fn complete(
    conn: &Connection,
    file_id: &str,
    model: &str,
    chunks: u32,
) -> Result<bool, DbError> {
    let have: u32 = conn.query_row(
        "SELECT count(*) FROM chunk_vectors WHERE file_id = ?1 AND model = ?2",
        params![file_id, model],
        |r| r.get(0),
    )?;
    if have < chunks {
        return Ok(false);
    }
    // A new row, so a new completion id.
    conn.execute("DELETE FROM file_vectors WHERE file_id = ?1", [file_id])?;
    conn.execute(
        "INSERT INTO file_vectors (file_id, model, chunks)
         SELECT file_id, CAST(?2 AS TEXT), CAST(?3 AS INTEGER) FROM files WHERE file_id = ?1",
        params![file_id, model, chunks],
    )?;
    Ok(true)
}

/// Of `file_ids`, those whose vectors of `model` are complete, each with the id of its
/// completion (new each time the file is embedded again).
pub fn completed(
    conn: &Connection,
    model: &str,
    file_ids: &[String],
) -> Result<Vec<(String, i64)>, DbError> {
    let ids = serde_json::to_string(file_ids).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(
        "SELECT d.file_id, d.id FROM json_each(?2) j
           JOIN file_vectors d ON d.file_id = j.value AND d.model = ?1",
    )?;
    let rows = stmt.query_map(params![model, ids], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_, _>>()
}

/// Every vector of `model` the file has, by chunk number.
pub fn vectors(
    conn: &Connection,
    model: &str,
    file_id: &str,
) -> Result<Vec<(u32, Vec<f32>)>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT chunk, vector FROM chunk_vectors WHERE file_id = ?1 AND model = ?2
          ORDER BY chunk",
    )?;
    let rows = stmt.query_map(params![file_id, model], |r| {
        Ok((r.get(0)?, decode(r.get_ref(1)?.as_blob()?)))
    })?;
    rows.collect::<Result<_, _>>()
}

/// The stored chunks named by `(file id, chunk)`, in no particular order.
pub fn chunks(conn: &Connection, wanted: &[(String, u32)]) -> Result<Vec<StoredChunk>, DbError> {
    let mut stmt = conn
        .prepare_cached("SELECT page, text FROM chunk_vectors WHERE file_id = ?1 AND chunk = ?2")?;
    let mut out = Vec::with_capacity(wanted.len());
    for (file_id, chunk) in wanted {
        let found = stmt
            .query_row(params![file_id, chunk], |r| {
                Ok((r.get::<_, Option<u32>>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?;
        if let Some((page, text)) = found {
            out.push(StoredChunk {
                file_id: file_id.clone(),
                chunk: *chunk,
                page,
                text,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_as_little_endian_f32() {
        let v = vec![0.25f32, -1.0, 3.5e-8];
        let bytes = encode(&v);
        assert_eq!(bytes.len(), 12);
        assert_eq!(&bytes[..4], &0.25f32.to_le_bytes());
        assert_eq!(decode(&bytes), v);
    }
}
