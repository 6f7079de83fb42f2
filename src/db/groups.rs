//! The `groups` and `group_members` tables: groups of users that resources are shared with.
//! Deleting a group deletes its memberships and its access entries (see the migration's
//! triggers), so the access it gave ends at once. Groups of `source` 'local' are made by
//! administrators; the others are kept in step with an identity provider at each sign-in
//! ([`sync_memberships`]).

use crate::db::sql::{Connection, OptionalExtension, Row};
use rusqlite::params;

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

fn from_row(r: &Row<'_>) -> crate::db::sql::Result<Group> {
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
    conn.query_row(&sql, [id], from_row).optional()
}

/// The group of that id or, failing that, those of that name (case aside; one local group
/// at most, but a provider's groups may share a name): how the CLI names groups.
pub fn find(conn: &Connection, id_or_name: &str) -> Result<Vec<Group>, DbError> {
    if let Some(g) = get(conn, id_or_name)? {
        return Ok(vec![g]);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM groups g WHERE lower(g.name) = lower(?1)
         ORDER BY g.source = 'local' DESC, g.source, g.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([id_or_name], from_row)?;
    rows.collect::<Result<_, _>>()
}

/// Every group, by name.
pub fn list(conn: &Connection) -> Result<Vec<Group>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM groups g ORDER BY lower(g.name), g.id");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], from_row)?;
    rows.collect::<Result<_, _>>()
}

/// Groups whose name or email contains `pattern` (case aside), at most `limit`.
pub fn search(conn: &Connection, pattern: &str, limit: usize) -> Result<Vec<Group>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM groups g
         WHERE instr(lower(g.name), lower(?1)) > 0
            OR instr(lower(coalesce(g.email, '')), lower(?1)) > 0
         ORDER BY lower(g.name), g.id LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![pattern, limit as i64], from_row)?;
    rows.collect::<Result<_, _>>()
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
    rows.collect::<Result<_, _>>()
}

/// What [`sync_memberships`] changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    pub created: usize,
    pub added: usize,
    pub removed: usize,
}

/// Sets `user_id`'s memberships of the groups of `source` (a provider's, never `local`) to
/// exactly `groups`, given as (id at the source, name): a group is created when first seen and
/// renamed when the source renamed it; memberships of the source's other groups are removed;
/// groups of other sources are not touched. Meant for the sign-in's transaction.
pub fn sync_memberships<'a>(
    conn: &Connection,
    user_id: &str,
    source: &str,
    groups: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Synced, DbError> {
    debug_assert_ne!(source, "local", "administrators' groups are never synced");
    let mut out = Synced::default();
    let mut keep = std::collections::HashSet::new();
    let ts = now();
    for (source_id, name) in groups {
        let found: Option<(String, String)> = conn
            .prepare_cached(
                "SELECT id, name FROM groups WHERE source = ?1 AND id_on_the_source = ?2",
            )?
            .query_row(params![source, source_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let id = match found {
            Some((id, known)) => {
                if known != name {
                    conn.execute(
                        "UPDATE groups SET name = ?2, updated_at = ?3 WHERE id = ?1",
                        params![id, name, ts],
                    )?;
                }
                id
            }
            None => {
                let id = new_object_id();
                conn.execute(
                    "INSERT INTO groups (id, name, source, id_on_the_source, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![id, name, source, source_id, ts],
                )?;
                out.created += 1;
                id
            }
        };
        if add_member(conn, &id, user_id)? {
            out.added += 1;
        }
        keep.insert(id);
    }
    let held: Vec<String> = conn
        .prepare_cached(
            "SELECT m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id
             WHERE m.user_id = ?1 AND g.source = ?2",
        )?
        .query_map(params![user_id, source], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for gid in held.iter().filter(|g| !keep.contains(*g)) {
        if remove_member(conn, gid, user_id)? {
            out.removed += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::users::{self, NewUser};

    fn names_of(conn: &Connection, user_id: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare(
                "SELECT g.source || ':' || g.name FROM group_members m
                 JOIN groups g ON g.id = m.group_id WHERE m.user_id = ?1 ORDER BY 1",
            )
            .unwrap();
        let rows = stmt.query_map([user_id], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn a_sources_memberships_follow_the_provider_and_others_stay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let mut conn = Connection::open(&path).unwrap();
        crate::db::migrate::migrate(conn.as_sqlite_mut().unwrap(), &path).unwrap();
        let user = users::create(
            &conn,
            &NewUser {
                email: "a@example.org".into(),
                name: "A".into(),
                username: "a".into(),
                password: None,
                provider: "openid".into(),
                email_verified: true,
                role: None,
            },
        )
        .unwrap()
        .unwrap();
        // An administrator's group named like a provider's: both may exist.
        let local = create(&conn, "Eng", "").unwrap().unwrap();
        add_member(&conn, &local.id, &user.id).unwrap();

        let first = sync_memberships(&conn, &user.id, "openid", [("eng", "Eng"), ("s", "S")]);
        let want = Synced {
            created: 2,
            added: 2,
            removed: 0,
        };
        assert_eq!(first.unwrap(), want);
        assert_eq!(
            names_of(&conn, &user.id),
            ["local:Eng", "openid:Eng", "openid:S"]
        );
        // LDAP's groups are another source's: openid's sync leaves them.
        sync_memberships(&conn, &user.id, "ldap", [("cn=eng,dc=x", "Eng")]).unwrap();

        let again = sync_memberships(&conn, &user.id, "openid", [("s", "Sales")]).unwrap();
        let want = Synced {
            created: 0,
            added: 0,
            removed: 1,
        };
        assert_eq!(again, want);
        assert_eq!(
            names_of(&conn, &user.id),
            ["ldap:Eng", "local:Eng", "openid:Sales"],
            "renamed as the provider renamed it"
        );
        sync_memberships(&conn, &user.id, "openid", []).unwrap();
        assert_eq!(names_of(&conn, &user.id), ["ldap:Eng", "local:Eng"]);
        // The groups stay (what was shared with them waits for their next member).
        assert_eq!(list(&conn).unwrap().len(), 4);
        assert_eq!(find(&conn, "eng").unwrap().len(), 3);
        assert_eq!(find(&conn, &local.id).unwrap()[0].source, "local");
    }
}
