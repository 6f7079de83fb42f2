//! `oauth_flows` and `oauth_binds`: the OAuth sign-ins in flight to MCP servers and actions'
//! providers, and the browsers bound to them, kept in the database so that every replica sees
//! them (see `migrations/0028_oauth_flows.sql`). Times are Unix milliseconds, given by the
//! caller; expired rows are never answered and are dropped as new ones are written. Secrets
//! come in sealed (the caller encrypts them) or as digests.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::DbError;

/// The most bindings one person may hold at once (each is a sign-in about to start).
const MAX_BINDS_PER_USER: i64 = 100;

/// A sign-in as stored.
#[derive(Clone)]
pub struct FlowRow {
    pub id: String,
    pub kind: String,
    pub user_id: String,
    pub target: String,
    pub state: String,
    pub status: String,
    pub error: Option<String>,
    /// Encrypted by the caller.
    pub secret: Option<String>,
    pub started_at: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for FlowRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowRow")
            .field("id", &self.id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str =
    "id, kind, user_id, target, state, status, error, secret, started_at, expires_at";

fn row(r: &crate::db::sql::Row<'_>) -> Result<FlowRow, DbError> {
    Ok(FlowRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        user_id: r.get(2)?,
        target: r.get(3)?,
        state: r.get(4)?,
        status: r.get(5)?,
        error: r.get(6)?,
        secret: r.get(7)?,
        started_at: r.get(8)?,
        expires_at: r.get(9)?,
    })
}

/// Records `flow`, replacing the one with its id; expired flows are dropped on the way.
pub fn put(conn: &mut Connection, flow: &FlowRow, now: i64) -> Result<(), DbError> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM oauth_flows WHERE expires_at <= ?1", [now])?;
    tx.execute(
        &format!(
            "INSERT INTO oauth_flows ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id,
                 target = excluded.target, state = excluded.state, status = excluded.status,
                 error = excluded.error, secret = excluded.secret,
                 started_at = excluded.started_at, expires_at = excluded.expires_at"
        ),
        params![
            flow.id,
            flow.kind,
            flow.user_id,
            flow.target,
            flow.state,
            flow.status,
            flow.error,
            flow.secret,
            flow.started_at,
            flow.expires_at
        ],
    )?;
    tx.commit()?;
    Ok(())
}

/// The unexpired flow `id`.
pub fn get(conn: &Connection, id: &str, now: i64) -> Result<Option<FlowRow>, DbError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM oauth_flows WHERE id = ?1 AND expires_at > ?2"
    ))?
    .query_row(params![id, now], row)
    .optional()
}

/// The unexpired flow of `kind` on `target` whose state is `state`.
pub fn by_state(
    conn: &Connection,
    kind: &str,
    target: &str,
    state: &str,
    now: i64,
) -> Result<Option<FlowRow>, DbError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM oauth_flows
             WHERE state = ?1 AND kind = ?2 AND target = ?3 AND expires_at > ?4"
    ))?
    .query_row(params![state, kind, target, now], row)
    .optional()
}

/// Moves the flow `id` from status `from` to `to` (with `error`) if it is still in `from`
/// and was started after `started_after`; whether it moved. Only one of several replicas
/// racing for the same move wins it.
pub fn advance(
    conn: &mut Connection,
    id: &str,
    from: &str,
    to: &str,
    error: Option<&str>,
    started_after: i64,
) -> Result<bool, DbError> {
    let n = conn
        .prepare_cached(
            "UPDATE oauth_flows SET status = ?3, error = ?4
                 WHERE id = ?1 AND status = ?2 AND started_at > ?5",
        )?
        .execute(params![id, from, to, error, started_after])?;
    Ok(n == 1)
}

/// Forgets the flow `id`.
pub fn delete(conn: &mut Connection, id: &str) -> Result<(), DbError> {
    conn.prepare_cached("DELETE FROM oauth_flows WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Binds a browser (the `digest` of its cookie) to `user_id`'s coming sign-in on `target`
/// until `expires_at`, replacing an earlier binding; `Ok(false)`, recording nothing, when the
/// person already holds [`MAX_BINDS_PER_USER`] live ones. Expired bindings are dropped.
pub fn bind(
    conn: &mut Connection,
    user_id: &str,
    target: &str,
    digest: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, DbError> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM oauth_binds WHERE expires_at <= ?1", [now])?;
    let held: i64 = tx.query_row(
        "SELECT count(*) FROM oauth_binds WHERE user_id = ?1 AND target <> ?2",
        params![user_id, target],
        |r| r.get(0),
    )?;
    if held >= MAX_BINDS_PER_USER {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO oauth_binds (user_id, target, digest, expires_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, target) DO UPDATE SET digest = excluded.digest,
             expires_at = excluded.expires_at",
        params![user_id, target, digest, expires_at],
    )?;
    tx.commit()?;
    Ok(true)
}

/// The digest of `user_id`'s live binding on `target`, if any.
pub fn binding(
    conn: &Connection,
    user_id: &str,
    target: &str,
    now: i64,
) -> Result<Option<String>, DbError> {
    conn.prepare_cached(
        "SELECT digest FROM oauth_binds WHERE user_id = ?1 AND target = ?2 AND expires_at > ?3",
    )?
    .query_row(params![user_id, target, now], |r| r.get(0))
    .optional()
}

/// Spends `user_id`'s binding on `target` whose digest is `digest` (the caller compared it);
/// whether this call spent it (a binding is spent once, whichever replica asks first).
pub fn spend(
    conn: &mut Connection,
    user_id: &str,
    target: &str,
    digest: &str,
    now: i64,
) -> Result<bool, DbError> {
    let n = conn
        .prepare_cached(
            "DELETE FROM oauth_binds
                 WHERE user_id = ?1 AND target = ?2 AND digest = ?3 AND expires_at > ?4",
        )?
        .execute(params![user_id, target, digest, now])?;
    Ok(n == 1)
}
