//! The `presets` table, scoped to the owner.

use crate::db::sql::{Connection, OptionalExtension, Row};
use rusqlite::params;
use serde_json::{Map, Value};

use super::{DbError, now};

#[derive(Debug, Clone)]
pub struct Preset {
    pub preset_id: String,
    pub user_id: String,
    pub title: String,
    pub default_preset: bool,
    pub position: Option<i64>,
    pub settings: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str =
    "preset_id, user_id, title, default_preset, position, settings, created_at, updated_at";

fn from_row(r: &Row<'_>) -> crate::db::sql::Result<Preset> {
    let settings: String = r.get(5)?;
    Ok(Preset {
        preset_id: r.get(0)?,
        user_id: r.get(1)?,
        title: r.get(2)?,
        default_preset: r.get(3)?,
        position: r.get(4)?,
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// The user's presets: the default first, then by position, then newest.
pub fn list(conn: &Connection, user_id: &str) -> Result<Vec<Preset>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM presets WHERE user_id = ?1
         ORDER BY default_preset DESC, position IS NULL, position, updated_at DESC"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([user_id], from_row)?;
    rows.collect::<Result<Vec<_>, _>>()
}

pub fn get(conn: &Connection, user_id: &str, preset_id: &str) -> Result<Option<Preset>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM presets WHERE preset_id = ?1 AND user_id = ?2");
    conn.query_row(&sql, params![preset_id, user_id], from_row)
        .optional()
}

/// Creates or replaces a preset; making it the default takes that from the user's others.
/// `Ok(None)` when the id belongs to another user.
pub fn upsert(conn: &mut Connection, p: &Preset) -> Result<Option<Preset>, DbError> {
    let tx = conn.transaction()?;
    let ts = now();
    let n = tx.execute(
        "INSERT INTO presets (preset_id, user_id, title, default_preset, position, settings, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT (preset_id) DO UPDATE SET title = excluded.title,
             default_preset = excluded.default_preset, position = excluded.position,
             settings = excluded.settings, updated_at = excluded.updated_at
         WHERE presets.user_id = excluded.user_id",
        params![
            p.preset_id,
            p.user_id,
            p.title,
            p.default_preset,
            p.position,
            Value::Object(p.settings.clone()).to_string(),
            ts
        ],
    )?;
    if n == 0 {
        return Ok(None);
    }
    if p.default_preset {
        tx.execute(
            "UPDATE presets SET default_preset = 0 WHERE user_id = ?1 AND preset_id != ?2",
            params![p.user_id, p.preset_id],
        )?;
    }
    let saved = get(&tx, &p.user_id, &p.preset_id)?;
    tx.commit()?;
    Ok(saved)
}

/// Deletes one preset, or all of the user's when `preset_id` is `None`; returns how many.
pub fn delete(conn: &Connection, user_id: &str, preset_id: Option<&str>) -> Result<usize, DbError> {
    Ok(match preset_id {
        Some(id) => conn.execute(
            "DELETE FROM presets WHERE preset_id = ?1 AND user_id = ?2",
            params![id, user_id],
        )?,
        None => conn.execute("DELETE FROM presets WHERE user_id = ?1", [user_id])?,
    })
}
