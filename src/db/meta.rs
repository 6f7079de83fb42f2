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

/// The `meta` key under which a secret's fingerprint is kept.
fn fingerprint_key(name: &str) -> String {
    format!("secret_fingerprint:{name}")
}

/// Records each secret's fingerprint (`(variable, fingerprint)`) the first time, and answers
/// the variables whose fingerprint differs from the one recorded: replicas sharing one
/// database must share their secrets, or the tokens one signs are refused by the others and the
/// keys one encrypts cannot be read by them. A fingerprint is a one-way hash; the secret
/// itself is never stored here.
pub fn differing_secrets(
    conn: &Connection,
    fingerprints: &[(&str, String)],
) -> Result<Vec<String>, DbError> {
    let ts = now();
    let mut differing = Vec::new();
    for (name, print) in fingerprints {
        let key = fingerprint_key(name);
        conn.execute(
            "INSERT INTO meta (key, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO NOTHING",
            params![key, print, ts],
        )?;
        let recorded: String =
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [&key], |r| {
                r.get(0)
            })?;
        if &recorded != print {
            differing.push((*name).to_owned());
        }
    }
    Ok(differing)
}

/// Records `fingerprints` as the secrets every replica must have, replacing those recorded
/// (after the secrets were rotated on every replica: `librechat db accept-secrets`).
pub fn accept_secrets(conn: &Connection, fingerprints: &[(&str, String)]) -> Result<(), DbError> {
    let ts = now();
    for (name, print) in fingerprints {
        conn.execute(
            "INSERT INTO meta (key, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![fingerprint_key(name), print, ts],
        )?;
    }
    Ok(())
}
