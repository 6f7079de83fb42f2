//! The `plugin_auth` table: the credentials each person stores for tools (LibreChat's
//! `pluginauths`), encrypted by the caller; and the person's list of installed tools
//! (`users.plugins`). Every query is scoped to the person.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::params;
use serde_json::Value;

use super::{DbError, now};

/// Stores (or replaces) the person's value of `field` for the tool `plugin_key`.
pub fn set(
    conn: &Connection,
    user_id: &str,
    plugin_key: &str,
    field: &str,
    encrypted: &str,
) -> Result<(), DbError> {
    let ts = now();
    conn.execute(
        "INSERT INTO plugin_auth (user_id, plugin_key, auth_field, value, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (user_id, plugin_key, auth_field) DO UPDATE SET value = excluded.value,
             updated_at = excluded.updated_at",
        params![user_id, plugin_key, field, encrypted, ts],
    )?;
    Ok(())
}

/// The person's encrypted value of `field`, whichever tool stored it (the newest).
pub fn get(conn: &Connection, user_id: &str, field: &str) -> Result<Option<String>, DbError> {
    conn.prepare_cached(
        "SELECT value FROM plugin_auth WHERE user_id = ?1 AND auth_field = ?2
             ORDER BY updated_at DESC, plugin_key LIMIT 1",
    )?
    .query_row(params![user_id, field], |r| r.get(0))
    .optional()
}

/// The person's encrypted values stored for the tool `plugin_key` (an MCP server's
/// variables, `mcp_<server>`), by field.
pub fn of_plugin(
    conn: &Connection,
    user_id: &str,
    plugin_key: &str,
) -> Result<Vec<(String, String)>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT auth_field, value FROM plugin_auth WHERE user_id = ?1 AND plugin_key = ?2
         ORDER BY auth_field",
    )?;
    let rows = stmt.query_map(params![user_id, plugin_key], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_, _>>()
}

/// Forgets every value the person stored for the tool `plugin_key`; how many went.
pub fn delete_plugin(conn: &Connection, user_id: &str, plugin_key: &str) -> Result<usize, DbError> {
    conn.execute(
        "DELETE FROM plugin_auth WHERE user_id = ?1 AND plugin_key = ?2",
        params![user_id, plugin_key],
    )
}

/// Forgets the person's values of `field` (for every tool, as LibreChat deletes them); how
/// many went.
pub fn delete(conn: &Connection, user_id: &str, field: &str) -> Result<usize, DbError> {
    conn.execute(
        "DELETE FROM plugin_auth WHERE user_id = ?1 AND auth_field = ?2",
        params![user_id, field],
    )
}

/// Adds `plugin_key` to the person's installed tools (`users.plugins`), once, unless they
/// already have `max`; or takes it out. `Ok(false)` when the list is full; `NotFound` when
/// there is no such person.
pub fn set_installed(
    conn: &Connection,
    user_id: &str,
    plugin_key: &str,
    installed: bool,
    max: usize,
) -> Result<bool, DbError> {
    let stored: Option<String> = conn
        .query_row("SELECT plugins FROM users WHERE id = ?1", [user_id], |r| {
            r.get(0)
        })
        .optional()?;
    let stored = stored.ok_or(DbError::NotFound)?;
    let mut plugins: Vec<Value> = match serde_json::from_str(&stored) {
        Ok(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let had = plugins.iter().any(|p| p.as_str() == Some(plugin_key));
    match (installed, had) {
        (true, true) | (false, false) => return Ok(true),
        (true, false) if plugins.len() >= max => return Ok(false),
        (true, false) => plugins.push(Value::String(plugin_key.to_owned())),
        (false, true) => plugins.retain(|p| p.as_str() != Some(plugin_key)),
    }
    conn.execute(
        "UPDATE users SET plugins = ?2, updated_at = ?3 WHERE id = ?1",
        params![user_id, Value::Array(plugins).to_string(), now()],
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE users (id TEXT PRIMARY KEY, plugins TEXT NOT NULL DEFAULT '[]',
                 updated_at TEXT);
             INSERT INTO users (id) VALUES ('a'), ('b');",
        )
        .unwrap();
        c.execute_batch(include_str!("../../migrations/0019_plugin_auth.sql"))
            .unwrap();
        c
    }

    #[test]
    fn values_are_per_person_and_installs_are_listed_once() {
        let c = conn();
        set(&c, "a", "wolfram", "WOLFRAM_APP_ID", "enc-a").unwrap();
        set(&c, "a", "wolfram", "WOLFRAM_APP_ID", "enc-a2").unwrap();
        assert_eq!(
            get(&c, "a", "WOLFRAM_APP_ID").unwrap().as_deref(),
            Some("enc-a2")
        );
        assert_eq!(get(&c, "b", "WOLFRAM_APP_ID").unwrap(), None);
        assert_eq!(delete(&c, "b", "WOLFRAM_APP_ID").unwrap(), 0);
        assert_eq!(delete(&c, "a", "WOLFRAM_APP_ID").unwrap(), 1);
        assert_eq!(get(&c, "a", "WOLFRAM_APP_ID").unwrap(), None);

        let plugins = |id: &str| -> String {
            c.query_row("SELECT plugins FROM users WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap()
        };
        assert!(set_installed(&c, "a", "wolfram", true, 2).unwrap());
        assert!(set_installed(&c, "a", "wolfram", true, 2).unwrap());
        assert!(set_installed(&c, "a", "calculator", true, 2).unwrap());
        assert!(!set_installed(&c, "a", "third", true, 2).unwrap(), "full");
        assert_eq!(plugins("a"), r#"["wolfram","calculator"]"#);
        assert!(set_installed(&c, "a", "wolfram", false, 2).unwrap());
        assert_eq!(plugins("a"), r#"["calculator"]"#);
        assert_eq!(plugins("b"), "[]");
        assert!(matches!(
            set_installed(&c, "nobody", "wolfram", true, 2),
            Err(DbError::NotFound)
        ));
    }
}
