//! The `acl_entries` table: who (a user, a group, a role, everyone) may do what (permission
//! bits) with one resource. The rules around it (access roles, who may share) are in
//! `crate::access`; this file holds the SQL, including the one filter every store of a shared
//! resource joins: [`grants_cte`].
//!
//! Nothing here is cached: every check and every list reads the entries and the group
//! memberships as they are now, so taking a person out of a group, deleting a group or removing
//! an entry ends the access it gave with the next request.

use crate::db::sql::{Connection, OptionalExtension};
use rusqlite::{ToSql, named_params, params};

use super::{DbError, new_object_id, now};

/// The kinds of resource LibreChat shares with access entries (its `ResourceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceType {
    Agent,
    PromptGroup,
    McpServer,
    RemoteAgent,
    Skill,
    SharedLink,
}

impl ResourceType {
    /// Every type, in LibreChat's order (its error messages list them so).
    pub const ALL: [ResourceType; 6] = [
        Self::Agent,
        Self::PromptGroup,
        Self::McpServer,
        Self::RemoteAgent,
        Self::Skill,
        Self::SharedLink,
    ];

    /// LibreChat's name (`promptGroup`), stored in `resource_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::PromptGroup => "promptGroup",
            Self::McpServer => "mcpServer",
            Self::RemoteAgent => "remoteAgent",
            Self::Skill => "skill",
            Self::SharedLink => "sharedLink",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Who a permission check is for: the user and their role. Their groups are looked up in the
/// same statement.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: String,
    pub role: String,
}

/// The caller's grants on resources of `rt`, as a common table expression
/// `grants(resource_id, perm_bits, via)`: one row per entry that applies to the viewer, directly,
/// through one of their groups, through their role, or to everyone (`via`: the principal type
/// of the entry). The statement binds the
/// viewer with [`Viewer::bind`] (`:acl_user`, `:acl_role`). A resource the viewer can see is
/// one with a grant carrying VIEW (`perm_bits & 1`); their effective bits on it are
/// [`BITS_OF_GRANTS`] over its rows.
pub fn grants_cte(rt: ResourceType) -> String {
    grants_cte_as(rt, "grants")
}

/// [`grants_cte`] under another name, for a statement that joins the grants of two resource
/// types (`name` is a constant of the caller's).
pub fn grants_cte_as(rt: ResourceType, name: &str) -> String {
    // `rt` comes from a closed set, so its name is safe to write into the statement; the
    // query planner then walks `acl_by_principal` from each principal.
    format!(
        "{name}(resource_id, perm_bits, via) AS (
            SELECT e.resource_id, e.perm_bits, p.t
            FROM (SELECT 'user' AS t, :acl_user AS id
                  UNION ALL SELECT 'role', :acl_role
                  UNION ALL SELECT 'public', ''
                  UNION ALL SELECT 'group', m.group_id FROM group_members m WHERE m.user_id = :acl_user) p
            JOIN acl_entries e
              ON e.principal_type = p.t AND e.principal_id = p.id AND e.resource_type = '{}')",
        rt.as_str()
    )
}

/// The viewer's access entries on one resource of `rt`, the one `resource` names (a column of
/// the row being read), as the `FROM ... WHERE` of a correlated subquery over `acl_entries e`:
/// the entries [`grants_cte`] would give for it, bound the same way. A list that walks its own
/// order and stops at a page probes each row with it (a few index lookups) instead of
/// gathering all the viewer's grants first.
pub fn entries_of(rt: ResourceType, resource: &str) -> String {
    entries_for(rt, resource, ":acl_user", ":acl_role")
}

/// [`entries_of`] for another person than the viewer: the one whose id and role the SQL
/// expressions `user` and `role` give (a column of the row being read, such as an agent's
/// author).
pub fn entries_for(rt: ResourceType, resource: &str, user: &str, role: &str) -> String {
    format!(
        "FROM acl_entries e
         WHERE e.resource_type = '{}' AND e.resource_id = {resource}
           AND ((e.principal_type = 'user' AND e.principal_id = {user})
                OR (e.principal_type = 'role' AND e.principal_id = {role})
                OR (e.principal_type = 'public' AND e.principal_id = '')
                OR (e.principal_type = 'group' AND e.principal_id IN
                    (SELECT m.group_id FROM group_members m WHERE m.user_id = {user})))",
        rt.as_str()
    )
}

/// The union of the bits of several grants (SQLite has no bitwise OR aggregate; four bits).
pub const BITS_OF_GRANTS: &str =
    "(max(perm_bits & 1) | max(perm_bits & 2) | max(perm_bits & 4) | max(perm_bits & 8))";

impl Viewer {
    /// The named parameters [`grants_cte`] needs.
    pub fn bind(&self) -> [(&'static str, &dyn ToSql); 2] {
        [(":acl_user", &self.user_id), (":acl_role", &self.role)]
    }
}

/// The viewer's effective bits on one resource (0: none).
pub fn effective(
    conn: &Connection,
    viewer: &Viewer,
    rt: ResourceType,
    resource_id: &str,
) -> Result<u8, DbError> {
    let sql = format!(
        "WITH {} SELECT coalesce({BITS_OF_GRANTS}, 0) FROM grants WHERE resource_id = :id",
        grants_cte(rt)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let bits: i64 = stmt.query_row(
        named_params! {":acl_user": viewer.user_id, ":acl_role": viewer.role, ":id": resource_id},
        |r| r.get(0),
    )?;
    Ok(bits as u8)
}

/// The viewer's effective bits on every resource of `rt` they can see, by id.
pub fn effective_all(
    conn: &Connection,
    viewer: &Viewer,
    rt: ResourceType,
) -> Result<Vec<(String, u8)>, DbError> {
    let sql = format!(
        "WITH {} SELECT resource_id, {BITS_OF_GRANTS} AS bits FROM grants
         GROUP BY resource_id HAVING ({BITS_OF_GRANTS} & 1) <> 0 ORDER BY resource_id",
        grants_cte(rt)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(&viewer.bind()[..], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u8))
    })?;
    rows.collect::<Result<_, _>>()
}

/// One access entry of a resource, with what is known of its principal.
#[derive(Debug, Clone)]
pub struct Entry {
    pub principal_type: String,
    pub principal_id: String,
    pub role_id: String,
    /// For users: name (or username), email, avatar; for groups: name, email, description,
    /// avatar, source. `None` when the principal is gone.
    pub name: Option<String>,
    pub email: Option<String>,
    pub avatar: Option<String>,
    pub description: Option<String>,
    pub source: Option<String>,
}

/// The entries of one resource, oldest first.
pub fn entries(
    conn: &Connection,
    rt: ResourceType,
    resource_id: &str,
) -> Result<Vec<Entry>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.principal_type, e.principal_id, e.role_id,
                coalesce(nullif(u.name, ''), nullif(u.username, ''), u.email, g.name),
                coalesce(u.email, g.email), coalesce(u.avatar, g.avatar), g.description, g.source,
                u.id IS NOT NULL OR g.id IS NOT NULL
         FROM acl_entries e
         LEFT JOIN users u ON e.principal_type = 'user' AND u.id = e.principal_id
         LEFT JOIN groups g ON e.principal_type = 'group' AND g.id = e.principal_id
         WHERE e.resource_type = ?1 AND e.resource_id = ?2
         ORDER BY e.granted_at, e.id",
    )?;
    let rows = stmt.query_map(params![rt.as_str(), resource_id], |r| {
        let found: bool = r.get(8)?;
        Ok(Entry {
            principal_type: r.get(0)?,
            principal_id: r.get(1)?,
            role_id: r.get(2)?,
            name: if found { r.get(3)? } else { None },
            email: r.get(4)?,
            avatar: r.get(5)?,
            description: r.get(6)?,
            source: r.get(7)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// Grants `role_id` (with `bits`) to a principal on a resource, replacing what it had.
#[allow(clippy::too_many_arguments)]
pub fn grant(
    conn: &Connection,
    rt: ResourceType,
    resource_id: &str,
    principal_type: &str,
    principal_id: &str,
    role_id: &str,
    bits: u8,
    granted_by: Option<&str>,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO acl_entries (id, resource_type, resource_id, principal_type, principal_id,
             role_id, perm_bits, granted_by, granted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (resource_type, resource_id, principal_type, principal_id) DO UPDATE
         SET role_id = excluded.role_id, perm_bits = excluded.perm_bits,
             granted_by = excluded.granted_by, granted_at = excluded.granted_at",
    )?
    .execute(params![
        new_object_id(),
        rt.as_str(),
        resource_id,
        principal_type,
        principal_id,
        role_id,
        bits,
        granted_by,
        now()
    ])?;
    Ok(())
}

/// Removes a principal's entry on a resource; whether there was one.
pub fn revoke(
    conn: &Connection,
    rt: ResourceType,
    resource_id: &str,
    principal_type: &str,
    principal_id: &str,
) -> Result<bool, DbError> {
    let n = conn
        .prepare_cached(
            "DELETE FROM acl_entries WHERE resource_type = ?1 AND resource_id = ?2
             AND principal_type = ?3 AND principal_id = ?4",
        )?
        .execute(params![
            rt.as_str(),
            resource_id,
            principal_type,
            principal_id
        ])?;
    Ok(n > 0)
}

/// Whether a user with this id exists.
pub fn user_exists(conn: &Connection, id: &str) -> Result<bool, DbError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// A user as the people picker shows them.
#[derive(Debug, Clone)]
pub struct UserFound {
    pub id: String,
    pub name: String,
    pub email: String,
    pub username: String,
    pub avatar: Option<String>,
    pub provider: String,
}

/// Users whose name, email or username contains `pattern` (case aside), at most `limit`.
pub fn search_users(
    conn: &Connection,
    pattern: &str,
    limit: usize,
) -> Result<Vec<UserFound>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, email, username, avatar, provider FROM users
         WHERE instr(lower(name), lower(?1)) > 0 OR instr(email, lower(?1)) > 0
            OR instr(lower(username), lower(?1)) > 0
         ORDER BY email LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![pattern, limit as i64], |r| {
        Ok(UserFound {
            id: r.get(0)?,
            name: r.get(1)?,
            email: r.get(2)?,
            username: r.get(3)?,
            avatar: r.get(4)?,
            provider: r.get(5)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}
