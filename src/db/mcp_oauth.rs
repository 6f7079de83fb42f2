//! The `mcp_oauth` table: each person's tokens for the MCP servers they signed in to, and
//! the OAuth client that got them (all encrypted by the caller).

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::{DbError, now};

/// A person's sign-in to one MCP server, encrypted.
#[derive(Clone)]
pub struct Stored {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: String,
    /// The client, as encrypted JSON.
    pub client: String,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The person's sign-in to `server`, if any.
pub fn get(conn: &Connection, user_id: &str, server: &str) -> Result<Option<Stored>, DbError> {
    conn.prepare_cached(
        "SELECT access_token, refresh_token, expires_at, client FROM mcp_oauth
             WHERE user_id = ?1 AND server = ?2",
    )?
    .query_row(params![user_id, server], |r| {
        Ok(Stored {
            access_token: r.get(0)?,
            refresh_token: r.get(1)?,
            expires_at: r.get(2)?,
            client: r.get(3)?,
        })
    })
    .optional()
}

/// Records the person's sign-in to `server` (a refresh that brings no new refresh token keeps
/// the old one).
pub fn set(conn: &Connection, user_id: &str, server: &str, s: &Stored) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO mcp_oauth (user_id, server, access_token, refresh_token, expires_at, client,
             updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (user_id, server) DO UPDATE SET access_token = excluded.access_token,
             refresh_token = coalesce(excluded.refresh_token, mcp_oauth.refresh_token),
             expires_at = excluded.expires_at, client = excluded.client,
             updated_at = excluded.updated_at",
    )?
    .execute(params![
        user_id,
        server,
        s.access_token,
        s.refresh_token,
        s.expires_at,
        s.client,
        now()
    ])?;
    Ok(())
}

/// Forgets the person's sign-in to `server` (it no longer works, or they signed out).
pub fn forget(conn: &Connection, user_id: &str, server: &str) -> Result<(), DbError> {
    conn.prepare_cached("DELETE FROM mcp_oauth WHERE user_id = ?1 AND server = ?2")?
        .execute(params![user_id, server])?;
    Ok(())
}
