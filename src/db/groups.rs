//! The `groups` and `group_members` tables: groups of users that resources are shared with.
//! Deleting a group deletes its memberships and its access entries (see the migration's
//! triggers), so the access it gave ends at once.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{DbError, new_object_id, now};

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub email: Option<String>,
    pub avatar: Option<String>,
    pub source: String,
    pub id_on_the_source: Option<String>,
    pub member_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "g.id, g.name, g.description, g.email, g.avatar, g.source, \
    g.id_on_the_source, (SELECT count(*) FROM group_members m WHERE m.group_id = g.id), \
    g.created_at, g.updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        email: r.get(3)?,
        avatar: r.get(4)?,
        source: r.get(5)?,
        id_on_the_source: r.get(6)?,
        member_count: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// Creates a local group; `None` when one of that name (case aside) exists.
pub fn create(conn: &Connection, name: &str, description: &str) -> Result<Option<Group>, DbError> {
    let id = new_object_id();
    let ts = now();
    let n = conn.execute(
        "INSERT INTO groups (id, name, description, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT DO NOTHING",
        params![id, name, description, ts],
    )?;
    if n == 0 {
        return Ok(None);
    }
    get(conn, &id)
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<Group>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM groups g WHERE g.id = ?1");
    Ok(conn.query_row(&sql, [id], from_row).optional()?)
}

/// A group by its id or, failing that, its name (case aside): how the CLI names groups.
pub fn find(conn: &Connection, id_or_name: &str) -> Result<Option<Group>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM groups g WHERE g.id = ?1 OR g.name = ?1 COLLATE NOCASE
         ORDER BY g.id = ?1 DESC LIMIT 1"
    );
    Ok(conn.query_row(&sql, [id_or_name], from_row).optional()?)
}

/// Every group, by name.
pub fn list(conn: &Connection) -> Result<Vec<Group>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM groups g ORDER BY g.name COLLATE NOCASE");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Groups whose name or email contains `pattern` (case aside), at most `limit`.
pub fn search(conn: &Connection, pattern: &str, limit: usize) -> Result<Vec<Group>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM groups g
         WHERE instr(lower(g.name), lower(?1)) OR instr(lower(coalesce(g.email, '')), lower(?1))
         ORDER BY g.name COLLATE NOCASE LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![pattern, limit as i64], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes a group, its memberships and the access it was given; whether it existed.
pub fn delete(conn: &Connection, id: &str) -> Result<bool, DbError> {
    Ok(conn.execute("DELETE FROM groups WHERE id = ?1", [id])? > 0)
}

/// Adds a user to a group; false when they were in it already.
pub fn add_member(conn: &Connection, group_id: &str, user_id: &str) -> Result<bool, DbError> {
    let n = conn.execute(
        "INSERT INTO group_members (group_id, user_id, added_at) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        params![group_id, user_id, now()],
    )?;
    Ok(n > 0)
}

/// Takes a user out of a group; false when they were not in it.
pub fn remove_member(conn: &Connection, group_id: &str, user_id: &str) -> Result<bool, DbError> {
    let n = conn.execute(
        "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2",
        params![group_id, user_id],
    )?;
    Ok(n > 0)
}

/// The emails of a group's members, sorted.
pub fn member_emails(conn: &Connection, group_id: &str) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT u.email FROM group_members m JOIN users u ON u.id = m.user_id
         WHERE m.group_id = ?1 ORDER BY u.email",
    )?;
    let rows = stmt.query_map([group_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
