//! The `meta` table: facts about this installation.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::{DbError, new_object_id, now};

/// Records the installation's id and creation time the first time the database is opened.
pub(super) fn ensure(conn: &Connection) -> Result<(), DbError> {
    let ts = now();
    conn.execute(
        "INSERT INTO meta (key, value, updated_at) VALUES ('instance_id', ?1, ?2),
                                                         ('created_at', ?2, ?2)
         ON CONFLICT (key) DO NOTHING",
        params![new_object_id(), ts],
    )?;
    Ok(())
}

/// This installation's id (LibreChat's client receives it as `instanceProjectId`).
pub fn instance_id(conn: &Connection) -> Result<String, DbError> {
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'instance_id'",
        [],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(DbError::NotFound)
}
