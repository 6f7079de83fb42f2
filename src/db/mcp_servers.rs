//! The `mcp_servers` table: MCP servers people add themselves (LibreChat's `MCPServer`). Each
//! is shared through access entries (resource type `mcpServer`, by `id`).
//!
//! Every read takes the [`Viewer`] and answers only servers they hold VIEW on, with their bits,
//! and (LibreChat's `consumeOnly`) those an agent they can VIEW uses, when its author may see
//! the server, with no bits: usable in their chats, but neither readable nor changeable by
//! name. Changes check the bit they need
//! in the same transaction. A server the viewer cannot see is not found.

use crate::db::sql::{Connection, OptionalExtension, Row};
use rusqlite::{named_params, params};
use serde_json::Value;

use super::acl::{self, BITS_OF_GRANTS, ResourceType, Viewer};
use super::{DbError, new_object_id, now};

const RT: ResourceType = ResourceType::McpServer;

/// Permission bits (LibreChat's `PermissionBits`).
pub const VIEW: u8 = 1;
pub const EDIT: u8 = 2;
pub const DELETE: u8 = 4;

/// One server, as a viewer sees it.
#[derive(Debug, Clone)]
pub struct McpServer {
    /// LibreChat's `dbId`.
    pub id: String,
    pub server_name: String,
    pub config: Value,
    pub author: String,
    pub created_at: String,
    pub updated_at: String,
    /// The viewer's permission bits on it.
    pub bits: u8,
}

/// Why a change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No such server, or one the viewer may not see.
    NotFound,
    /// The viewer sees it, but lacks the bit the change needs.
    Forbidden,
}

const COLUMNS: &str = "s.id, s.server_name, s.config, s.author, s.created_at, s.updated_at";

fn from_row(r: &Row<'_>) -> crate::db::sql::Result<McpServer> {
    let config: String = r.get(2)?;
    Ok(McpServer {
        id: r.get(0)?,
        server_name: r.get(1)?,
        config: serde_json::from_str(&config).unwrap_or(Value::Null),
        author: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
        bits: r.get::<_, i64>(6)? as u8,
    })
}

/// The statement's common tables: the viewer's VIEW servers with their bits (`mine`), and the
/// MCP tool keys of the agents they can VIEW, with each agent's author (`used`, at most a few
/// hundred rows).
fn ctes() -> String {
    format!(
        "WITH {}, mine AS (SELECT resource_id, {BITS_OF_GRANTS} AS bits FROM grants
                           GROUP BY resource_id HAVING ({BITS_OF_GRANTS} & 1) <> 0),
         {}, seen AS (SELECT resource_id FROM agent_grants GROUP BY resource_id
                      HAVING max(perm_bits & 1) <> 0),
         used AS MATERIALIZED (SELECT DISTINCT t.value AS tool, a.author AS author
                  FROM seen JOIN agents a ON a.object_id = seen.resource_id, json_each(a.tools) t
                  WHERE t.type = 'text' AND instr(t.value, '_mcp_') > 0
                    AND instr(t.value, '_action_') = 0)",
        acl::grants_cte(RT),
        acl::grants_cte_as(ResourceType::Agent, "agent_grants"),
    )
}

/// Whether the row `s` is a server the viewer holds VIEW on (`mine`), or one whose tools
/// (`<tool>_mcp_<normalized name>`, as tool keys spell them) an agent they can see uses, when
/// that agent's author may see the server: naming a server in one's own agent gives nothing,
/// and an author who loses the server takes it from their agent's users too.
fn visible_row() -> String {
    format!(
        "(mine.bits IS NOT NULL OR EXISTS (SELECT 1 FROM used
           WHERE substr(used.tool, length(used.tool) - length(s.normalized_server_name) - 4)
                 = '_mcp_' || s.normalized_server_name
             AND EXISTS (SELECT 1 {} AND (e.perm_bits & 1) <> 0)))",
        acl::entries_for(
            RT,
            "s.id",
            "used.author",
            "(SELECT u.role FROM users u WHERE u.id = used.author)"
        )
    )
}

/// Every server the viewer can see or use through an agent, by name.
pub fn visible(conn: &Connection, viewer: &Viewer) -> Result<Vec<McpServer>, DbError> {
    let sql = format!(
        "{} SELECT {COLUMNS}, coalesce(mine.bits, 0)
         FROM mcp_servers s LEFT JOIN mine ON mine.resource_id = s.id
         WHERE {} ORDER BY s.server_name",
        ctes(),
        visible_row()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(&viewer.bind()[..], from_row)?;
    rows.collect::<Result<_, _>>()
}

/// The server called `name`, if the viewer can see it or use it through an agent (then with
/// no bits).
pub fn get(conn: &Connection, viewer: &Viewer, name: &str) -> Result<Option<McpServer>, DbError> {
    let sql = format!(
        "{} SELECT {COLUMNS}, coalesce(mine.bits, 0)
         FROM mcp_servers s LEFT JOIN mine ON mine.resource_id = s.id
         WHERE s.server_name = :name AND {}",
        ctes(),
        visible_row()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_row(
        named_params! {":acl_user": viewer.user_id, ":acl_role": viewer.role, ":name": name},
        from_row,
    )
    .optional()
}

/// The name to give a server called `base` when `taken` are in use (LibreChat's
/// `findNextAvailableServerName`): `base`, or `base-N` after the highest `N` in use.
pub fn next_name(base: &str, taken: &[String]) -> String {
    let numbers: Vec<u64> = taken
        .iter()
        .filter_map(|t| {
            let rest = t.strip_prefix(base)?;
            if rest.is_empty() {
                return Some(1);
            }
            let n = rest.strip_prefix('-')?;
            (!n.is_empty() && n.chars().all(|c| c.is_ascii_digit())).then(|| n.parse().ok())?
        })
        .collect();
    match numbers.iter().max() {
        None => base.to_owned(),
        Some(max) => format!("{base}-{}", max + 1),
    }
}

/// Adds a server named after `base` (`base`, or `base-N` when it or one of `reserved` is
/// taken: LibreChat's naming) in one transaction, and grants its author `owner` (an access
/// role's id and bits). Chosen and written by the one writer, so two requests cannot pick the
/// same name.
pub fn create(
    conn: &mut Connection,
    viewer: &Viewer,
    base: &str,
    reserved: &[String],
    config: &Value,
    owner: (&str, u8),
    normalize: fn(&str) -> String,
) -> Result<McpServer, DbError> {
    let tx = conn.transaction()?;
    let mut taken: Vec<String> = tx
        .prepare_cached(
            "SELECT server_name FROM mcp_servers WHERE server_name = ?1
             OR (substr(server_name, 1, length(?1) + 1) = ?1 || '-')",
        )?
        .query_map([base], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    taken.extend(reserved.iter().cloned());
    let name = next_name(base, &taken);
    let normalized = normalize(&name);
    let (id, at) = (new_object_id(), now());
    tx.prepare_cached(
        "INSERT INTO mcp_servers (id, server_name, normalized_server_name, config, author,
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![
        id,
        name,
        normalized,
        config.to_string(),
        viewer.user_id,
        at
    ])?;
    acl::grant(
        &tx,
        RT,
        &id,
        "user",
        &viewer.user_id,
        owner.0,
        owner.1,
        Some(&viewer.user_id),
    )?;
    tx.commit()?;
    Ok(McpServer {
        id,
        server_name: name,
        config: config.clone(),
        author: viewer.user_id.clone(),
        created_at: at.clone(),
        updated_at: at,
        bits: owner.1,
    })
}

/// Replaces the configuration of the server called `name` (needs EDIT).
pub fn update(
    conn: &mut Connection,
    viewer: &Viewer,
    name: &str,
    config: &Value,
) -> Result<Result<McpServer, Denied>, DbError> {
    let tx = conn.transaction()?;
    let Some(mut found) = get(&tx, viewer, name)? else {
        return Ok(Err(Denied::NotFound));
    };
    if found.bits & EDIT == 0 {
        return Ok(Err(Denied::Forbidden));
    }
    let at = now();
    tx.prepare_cached("UPDATE mcp_servers SET config = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![found.id, config.to_string(), at])?;
    tx.commit()?;
    found.config = config.clone();
    found.updated_at = at;
    Ok(Ok(found))
}

/// Deletes the server called `name` and its access entries (needs DELETE).
pub fn delete(
    conn: &mut Connection,
    viewer: &Viewer,
    name: &str,
) -> Result<Result<McpServer, Denied>, DbError> {
    let tx = conn.transaction()?;
    let Some(found) = get(&tx, viewer, name)? else {
        return Ok(Err(Denied::NotFound));
    };
    if found.bits & DELETE == 0 {
        return Ok(Err(Denied::Forbidden));
    }
    tx.prepare_cached("DELETE FROM mcp_servers WHERE id = ?1")?
        .execute([&found.id])?;
    tx.commit()?;
    Ok(Ok(found))
}

#[cfg(test)]
mod tests {
    use super::next_name;

    #[test]
    fn a_taken_name_gets_the_next_number() {
        assert_eq!(next_name("tools", &[]), "tools");
        assert_eq!(next_name("tools", &["tools".into()]), "tools-2");
        let taken = ["tools".into(), "tools-7".into(), "toolsy".into()];
        assert_eq!(next_name("tools", &taken), "tools-8");
    }
}
