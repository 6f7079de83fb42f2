//! The `users` table.

use crate::db::sql::{Backend, Connection, OptionalExtension, Row};
use rusqlite::{ToSql, params};
use serde_json::Value;

use super::{DbError, new_object_id, now};

/// A user as stored. Secrets (password hash, TOTP secrets, backup codes) are here for the auth
/// layer; the HTTP layer builds the public shape and leaves them out.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub username: String,
    pub avatar: Option<String>,
    pub role: String,
    pub provider: String,
    pub password: Option<String>,
    pub email_verified: bool,
    pub two_factor_enabled: bool,
    pub totp_secret: Option<String>,
    pub pending_totp_secret: Option<String>,
    pub backup_codes: Value,
    pub pending_backup_codes: Value,
    pub totp_last_step: u64,
    pub terms_accepted: bool,
    /// When the terms were first accepted in this terms cycle.
    pub terms_accepted_at: Option<String>,
    pub plugins: Value,
    pub personalization: Value,
    pub favorites: Value,
    pub created_at: String,
    pub updated_at: String,
}

/// What is needed to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub username: String,
    pub password: Option<String>,
    pub provider: String,
    pub email_verified: bool,
    /// `None`: ADMIN if this is the first user, else USER.
    pub role: Option<String>,
}

const COLUMNS: &str = "id, email, name, username, avatar, role, provider, password, email_verified, \
    two_factor_enabled, totp_secret, pending_totp_secret, backup_codes, terms_accepted, plugins, \
    personalization, favorites, created_at, updated_at, pending_backup_codes, totp_last_step, \
    terms_accepted_at";

fn from_row(r: &Row<'_>) -> crate::db::sql::Result<User> {
    let json = |i: usize| -> crate::db::sql::Result<Value> {
        let text: String = r.get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    };
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        username: r.get(3)?,
        avatar: r.get(4)?,
        role: r.get(5)?,
        provider: r.get(6)?,
        password: r.get(7)?,
        email_verified: r.get(8)?,
        two_factor_enabled: r.get(9)?,
        totp_secret: r.get(10)?,
        pending_totp_secret: r.get(11)?,
        backup_codes: json(12)?,
        terms_accepted: r.get(13)?,
        plugins: json(14)?,
        personalization: json(15)?,
        favorites: json(16)?,
        created_at: r.get(17)?,
        updated_at: r.get(18)?,
        pending_backup_codes: json(19)?,
        totp_last_step: r.get::<_, i64>(20)?.max(0) as u64,
        terms_accepted_at: r.get(21)?,
    })
}

/// Emails are compared lowercased and trimmed, as LibreChat stores them.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn find_by_id(conn: &Connection, id: &str) -> Result<Option<User>, DbError> {
    // Every authenticated request runs this: the parsed statement is kept per connection.
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()
}

/// The user signed in to session `session_id`: `None` unless the session is theirs and has
/// neither ended (logout, reset, ban, another process's `librechat user ...`) nor expired.
/// Every request with an access token runs this instead of [`find_by_id`]: one statement, kept
/// parsed, so checking the session costs a primary-key probe and no second read.
pub fn find_in_session(
    conn: &Connection,
    id: &str,
    session_id: &str,
) -> Result<Option<User>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE id = ?1 AND EXISTS
           (SELECT 1 FROM sessions WHERE id = ?2 AND user_id = ?1 AND expires_at > ?3)"
    );
    conn.prepare_cached(&sql)?
        .query_row(params![id, session_id, now()], from_row)
        .optional()
}

pub fn find_by_email(conn: &Connection, email: &str) -> Result<Option<User>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = ?1");
    conn.query_row(&sql, [normalize_email(email)], from_row)
        .optional()
}

/// Creates a user; `Ok(None)` when the email is taken. Run inside the writer so "first user
/// becomes ADMIN" cannot race.
pub fn create(conn: &Connection, new: &NewUser) -> Result<Option<User>, DbError> {
    let id = new_object_id();
    let ts = now();
    let role = match &new.role {
        Some(r) => r.clone(),
        None => {
            let any: bool =
                conn.query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |r| r.get(0))?;
            if any { "USER".into() } else { "ADMIN".into() }
        }
    };
    let inserted = conn.execute(
        "INSERT INTO users (id, email, name, username, role, provider, password, email_verified,
                            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT (email) DO NOTHING",
        params![
            id,
            normalize_email(&new.email),
            new.name,
            new.username,
            role,
            new.provider,
            new.password,
            new.email_verified,
            ts
        ],
    )?;
    if inserted == 0 {
        return Ok(None);
    }
    find_by_id(conn, &id)
}

pub fn set_password(conn: &Connection, id: &str, hash: &str) -> Result<(), DbError> {
    set_column(conn, id, "password", &hash)
}

pub fn set_role(conn: &Connection, id: &str, role: &str) -> Result<(), DbError> {
    set_column(conn, id, "role", &role)
}

pub fn set_email_verified(conn: &Connection, id: &str, verified: bool) -> Result<(), DbError> {
    set_column(conn, id, "email_verified", &verified)
}

/// Replaces the user's favorites (a JSON array, validated by the caller).
pub fn set_favorites(conn: &Connection, id: &str, favorites: &Value) -> Result<(), DbError> {
    set_column(conn, id, "favorites", &favorites.to_string())
}

/// Sets `personalization.memories` (the person's memory opt-out, where LibreChat keeps it),
/// keeping the rest of `personalization`.
pub fn set_memories_preference(conn: &Connection, id: &str, on: bool) -> Result<(), DbError> {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            "UPDATE users SET personalization = json_set(
                 CASE WHEN json_valid(personalization) AND json_type(personalization) = 'object'
                      THEN personalization ELSE '{}' END,
                 '$.memories', json(?2)), updated_at = ?3
             WHERE id = ?1"
        }
        Backend::Postgres => {
            "UPDATE users SET personalization = jsonb_set(
                 CASE WHEN json_valid(personalization) AND json_type(personalization) = 'object'
                      THEN personalization ELSE '{}' END::jsonb,
                 '{memories}', CAST(?2 AS jsonb))::text, updated_at = ?3
             WHERE id = ?1"
        }
    };
    let n = conn.execute(sql, params![id, if on { "true" } else { "false" }, now()])?;
    match n {
        0 => Err(DbError::NotFound),
        _ => Ok(()),
    }
}

/// Records that `id` accepts the terms; the time is stamped when none is kept (the first
/// acceptance of the terms cycle, or one recorded before times were kept) and a repeated
/// acceptance keeps it, as LibreChat does. Returns that time.
pub fn accept_terms(conn: &Connection, id: &str) -> Result<String, DbError> {
    conn.prepare_cached(
        "UPDATE users SET terms_accepted = 1, terms_accepted_at = coalesce(terms_accepted_at, ?2),
            updated_at = ?2
         WHERE id = ?1 RETURNING terms_accepted_at",
    )?
    .query_row(params![id, now()], |r| r.get(0))
    .optional()?
    .ok_or(DbError::NotFound)
}

/// Stores a new, unconfirmed TOTP secret (encrypted) and backup codes (hashed).
pub fn set_pending_two_factor(
    conn: &Connection,
    id: &str,
    secret: &str,
    codes: &Value,
) -> Result<(), DbError> {
    let n = conn.execute(
        "UPDATE users SET pending_totp_secret = ?2, pending_backup_codes = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, secret, codes.to_string(), now()],
    )?;
    if n == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}

/// Turns the pending secret and codes into the active ones. `step` is the TOTP step just used.
pub fn activate_two_factor(conn: &Connection, id: &str, step: u64) -> Result<(), DbError> {
    let n = conn.execute(
        "UPDATE users SET totp_secret = pending_totp_secret, backup_codes = pending_backup_codes,
                pending_totp_secret = NULL, pending_backup_codes = '[]', two_factor_enabled = 1,
                totp_last_step = ?2, updated_at = ?3
         WHERE id = ?1 AND pending_totp_secret IS NOT NULL",
        params![id, step as i64, now()],
    )?;
    if n == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}

pub fn clear_two_factor(conn: &Connection, id: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE users SET totp_secret = NULL, pending_totp_secret = NULL, backup_codes = '[]',
                pending_backup_codes = '[]', two_factor_enabled = 0, totp_last_step = 0, updated_at = ?2
         WHERE id = ?1",
        params![id, now()],
    )?;
    Ok(())
}

pub fn set_backup_codes(conn: &Connection, id: &str, codes: &Value) -> Result<(), DbError> {
    set_column(conn, id, "backup_codes", &codes.to_string())
}

/// Records that TOTP step `step` was used, only if it is newer than the last one: `false`
/// means the code was already used (a replay).
pub fn advance_totp_step(conn: &Connection, id: &str, step: u64) -> Result<bool, DbError> {
    let n = conn.execute(
        "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
        params![id, step as i64],
    )?;
    Ok(n == 1)
}

/// Sets `termsAccepted = false` for everyone; returns how many users must accept again.
pub fn reset_terms(conn: &Connection) -> Result<usize, DbError> {
    conn.execute(
        "UPDATE users SET terms_accepted = 0, terms_accepted_at = NULL, updated_at = ?1
         WHERE terms_accepted = 1",
        [now()],
    )
}

/// `column` is always a literal from this file, never user input.
fn set_column(conn: &Connection, id: &str, column: &str, value: &dyn ToSql) -> Result<(), DbError> {
    let sql = format!("UPDATE users SET {column} = ?2, updated_at = ?3 WHERE id = ?1");
    match conn.execute(&sql, params![id, value, now()])? {
        0 => Err(DbError::NotFound),
        _ => Ok(()),
    }
}

/// Deletes the user and, through the foreign keys, everything the user owns. Returns the
/// storage keys of the user's uploads, whose bytes the caller removes once this committed.
pub fn delete(conn: &mut Connection, id: &str) -> Result<Vec<String>, DbError> {
    let tx = conn.transaction()?;
    let uploads = super::files::storage_keys_of(&tx, id)?;
    let n = tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    tx.execute(
        "DELETE FROM bans WHERE subject = ?1",
        [format!("user:{id}")],
    )?;
    // Sign-ins in flight name their person without a foreign key (they live minutes): a
    // callback arriving after the account is gone finds no flow and is refused.
    tx.execute("DELETE FROM oauth_flows WHERE user_id = ?1", [id])?;
    tx.execute("DELETE FROM oauth_binds WHERE user_id = ?1", [id])?;
    tx.commit()?;
    Ok(uploads)
}

/// Every user, oldest first.
pub fn list(conn: &Connection) -> Result<Vec<User>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_at, id");
    let mut stmt = conn.prepare(&sql)?;
    let users = stmt
        .query_map([], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(users)
}

/// Up to `limit` users whose email, name or username contains `text` (any case), newest
/// first, skipping `offset`.
pub fn search(
    conn: &Connection,
    text: &str,
    limit: u32,
    offset: u32,
) -> Result<Vec<User>, DbError> {
    // The search text is literal: LIKE's wildcards in it are escaped.
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = format!("%{escaped}%");
    let sql = format!(
        "SELECT {COLUMNS} FROM users
          WHERE email LIKE ?1 ESCAPE '\\' OR name LIKE ?1 ESCAPE '\\' OR username LIKE ?1 ESCAPE '\\'
          ORDER BY created_at DESC, id LIMIT ?2 OFFSET ?3"
    );
    let mut stmt = conn.prepare(&sql)?;
    let users = stmt
        .query_map(rusqlite::params![pattern, limit, offset], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(users)
}

pub fn count(conn: &Connection) -> Result<u64, DbError> {
    let n: i64 = conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terms_reset_clears_the_acceptance_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("librechat.db");
        drop(crate::db::Db::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let user = create(
            &conn,
            &NewUser {
                email: "a@example.org".into(),
                name: "A".into(),
                username: "a".into(),
                password: None,
                provider: "local".into(),
                email_verified: true,
                role: None,
            },
        )
        .unwrap()
        .unwrap();
        let at = accept_terms(&conn, &user.id).unwrap();
        assert_eq!(accept_terms(&conn, &user.id).unwrap(), at);
        assert_eq!(reset_terms(&conn).unwrap(), 1);
        let time: Option<String> = conn
            .query_row(
                "SELECT terms_accepted_at FROM users WHERE id = ?1",
                [&user.id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(time, None);
        assert!(matches!(
            accept_terms(&conn, "nobody"),
            Err(DbError::NotFound)
        ));
    }

    fn person(conn: &Connection, name: &str) -> User {
        let new = NewUser {
            email: format!("{name}@example.org"),
            name: name.into(),
            username: name.into(),
            password: None,
            provider: "local".into(),
            email_verified: true,
            role: None,
        };
        create(conn, &new).unwrap().unwrap()
    }

    /// After `delete`, no table with a `user_id` column keeps a row of the person, including
    /// those without a foreign key to `users` (sign-ins in flight); another person's stay.
    #[test]
    fn deleting_a_person_leaves_no_row_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("librechat.db");
        drop(crate::db::Db::open(&path).unwrap());
        let mut conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        let (ada, bob) = (person(&conn, "ada"), person(&conn, "bob"));
        for (who, n) in [(&ada.id, 1), (&bob.id, 2)] {
            conn.execute(
                "INSERT INTO oauth_flows (id, kind, user_id, target, state, status, started_at,
                     expires_at) VALUES (?1, 'mcp', ?2, 'srv', ?3, 'PENDING', 0, 9e15)",
                params![format!("mcp:{who}:srv"), who, format!("state{n}")],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO oauth_binds (user_id, target, digest, expires_at)
                 VALUES (?1, 'mcp:srv', 'd', 9e15)",
                [who],
            )
            .unwrap();
        }
        delete(&mut conn, &ada.id).unwrap();
        let tables: Vec<String> = conn
            .prepare(
                "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
                 WHERE m.type = 'table' AND c.name = 'user_id'",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(tables.contains(&"oauth_flows".to_owned()), "{tables:?}");
        let rows = |who: &str| -> i64 {
            tables
                .iter()
                .map(|t| {
                    let sql = format!("SELECT count(*) FROM {t} WHERE user_id = ?1");
                    conn.query_row(&sql, [who], |r| r.get::<_, i64>(0)).unwrap()
                })
                .sum()
        };
        assert_eq!(rows(&ada.id), 0);
        assert_eq!(rows(&bob.id), 2, "bob's sign-in and binding stay");
    }
}
