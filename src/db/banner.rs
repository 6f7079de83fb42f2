//! The `banner` table: at most one site banner (LibreChat's Banner document).

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;

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

/// What a banner is made from (the API's and the CLI's input). Dates are RFC 3339.
#[derive(Debug, Default)]
pub struct BannerInput {
    pub message: String,
    pub display_from: Option<String>,
    pub display_to: Option<String>,
    pub kind: Option<String>,
    pub is_public: bool,
    pub persistable: bool,
}

impl BannerInput {
    /// The banner, or why the input is not one. The id is derived from the message (UUID
    /// v5), so a dismissal lasts until the message changes; `displayFrom` defaults to now.
    pub fn validate(self) -> Result<Banner, String> {
        use time::OffsetDateTime;
        use time::format_description::well_known::Rfc3339;
        let date = |field: &str, value: &str| {
            OffsetDateTime::parse(value, &Rfc3339)
                .map(super::to_rfc3339)
                .map_err(|_| format!("{field} must be an ISO 8601 date and time"))
        };
        let message = self.message.trim().to_owned();
        if message.is_empty() || message.chars().count() > 2000 {
            return Err("message must be 1 to 2,000 characters".into());
        }
        let display_from = match self.display_from.as_deref() {
            Some(d) if !d.is_empty() => date("displayFrom", d)?,
            _ => now(),
        };
        let display_to = match self.display_to.as_deref() {
            Some(d) if !d.is_empty() => Some(date("displayTo", d)?),
            _ => None,
        };
        if display_to
            .as_deref()
            .is_some_and(|to| to <= display_from.as_str())
        {
            return Err("displayTo must be after displayFrom".into());
        }
        let kind = self.kind.unwrap_or_else(|| "banner".into());
        if kind != "banner" && kind != "popup" {
            return Err("type must be banner or popup".into());
        }
        Ok(Banner {
            banner_id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, message.as_bytes())
                .to_string(),
            message,
            display_from,
            display_to,
            kind,
            is_public: self.is_public,
            persistable: self.persistable,
        })
    }
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
    conn.query_row(
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
    .optional()
}

/// The banner if it is showing now.
pub fn active(conn: &Connection) -> Result<Option<Banner>, DbError> {
    let now = now();
    Ok(get(conn)?.filter(|b| {
        b.display_from.as_str() <= now.as_str()
            && b.display_to.as_deref().is_none_or(|to| to > now.as_str())
    }))
}
