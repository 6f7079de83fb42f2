//! The `bans` table: the durable copy of active bans, so a restart does not lift them.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

use super::{DbError, now};

/// A ban on `user:<id>` or `ip:<address>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    pub subject: String,
    /// The violation that caused it (`logins`, `registrations`, `manual`, ...).
    pub kind: String,
    pub violation_count: u32,
    /// RFC 3339, see the conventions in `db/mod.rs`.
    pub expires_at: String,
}

pub fn upsert(conn: &Connection, ban: &Ban) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO bans (subject, kind, violation_count, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (subject) DO UPDATE SET kind = excluded.kind,
             violation_count = excluded.violation_count, expires_at = excluded.expires_at",
        params![
            ban.subject,
            ban.kind,
            ban.violation_count,
            ban.expires_at,
            now()
        ],
    )?;
    Ok(())
}

/// The ban on `subject`, if one is in force.
pub fn find_live(conn: &Connection, subject: &str) -> Result<Option<Ban>, DbError> {
    conn.query_row(
        "SELECT subject, kind, violation_count, expires_at FROM bans
             WHERE subject = ?1 AND expires_at > ?2",
        params![subject, now()],
        |r| {
            Ok(Ban {
                subject: r.get(0)?,
                kind: r.get(1)?,
                violation_count: r.get(2)?,
                expires_at: r.get(3)?,
            })
        },
    )
    .optional()
}

/// Lifts a ban; returns whether there was one.
pub fn delete(conn: &Connection, subject: &str) -> Result<bool, DbError> {
    Ok(conn.execute("DELETE FROM bans WHERE subject = ?1", [subject])? > 0)
}

/// Every ban in force, soonest to end first.
pub fn list_live(conn: &Connection) -> Result<Vec<Ban>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT subject, kind, violation_count, expires_at FROM bans WHERE expires_at > ?1
         ORDER BY expires_at",
    )?;
    let rows = stmt.query_map([now()], |r| {
        Ok(Ban {
            subject: r.get(0)?,
            kind: r.get(1)?,
            violation_count: r.get(2)?,
            expires_at: r.get(3)?,
        })
    })?;
    rows.collect::<Result<Vec<_>, _>>()
}

pub fn prune(conn: &Connection) -> Result<usize, DbError> {
    conn.execute("DELETE FROM bans WHERE expires_at <= ?1", [now()])
}
