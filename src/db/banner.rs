//! The `banner` table: at most one site banner (LibreChat's Banner document).

use rusqlite::{Connection, OptionalExtension, params};

use super::{DbError, now};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    pub banner_id: String,
    pub message: String,
    /// RFC 3339, as stored (see `db/mod.rs`).
    pub display_from: String,
    pub display_to: Option<String>,
    /// `banner` or `popup`.
    pub kind: String,
    pub is_public: bool,
    pub persistable: bool,
}

/// Sets the banner (replacing any other).
pub fn set(conn: &Connection, b: &Banner) -> Result<(), DbError> {
    let ts = now();
    conn.execute(
        "INSERT INTO banner (slot, banner_id, message, display_from, display_to, type, is_public,
                             persistable, created_at, updated_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (slot) DO UPDATE SET banner_id = excluded.banner_id,
             message = excluded.message, display_from = excluded.display_from,
             display_to = excluded.display_to, type = excluded.type,
             is_public = excluded.is_public, persistable = excluded.persistable,
             updated_at = excluded.updated_at",
        params![
            b.banner_id,
            b.message,
            b.display_from,
            b.display_to,
            b.kind,
            b.is_public,
            b.persistable,
            ts
        ],
    )?;
    Ok(())
}

/// Removes the banner; whether there was one.
pub fn delete(conn: &Connection) -> Result<bool, DbError> {
    Ok(conn.execute("DELETE FROM banner", [])? > 0)
}

/// The banner, whether or not it is showing now.
pub fn get(conn: &Connection) -> Result<Option<Banner>, DbError> {
    Ok(conn
        .query_row(
            "SELECT banner_id, message, display_from, display_to, type, is_public, persistable
               FROM banner WHERE slot = 1",
            [],
            |r| {
                Ok(Banner {
                    banner_id: r.get(0)?,
                    message: r.get(1)?,
                    display_from: r.get(2)?,
                    display_to: r.get(3)?,
                    kind: r.get(4)?,
                    is_public: r.get(5)?,
                    persistable: r.get(6)?,
                })
            },
        )
        .optional()?)
}

/// The banner if it is showing now.
pub fn active(conn: &Connection) -> Result<Option<Banner>, DbError> {
    let now = now();
    Ok(get(conn)?.filter(|b| {
        b.display_from.as_str() <= now.as_str()
            && b.display_to.as_deref().is_none_or(|to| to > now.as_str())
    }))
}
