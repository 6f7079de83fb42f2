//! Applies the embedded `migrations/*.sql` in order (see the conventions in `db/mod.rs`).

use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use super::DbError;

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// The schema version this binary creates: the number of migrations it carries.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// The version recorded in the database (`PRAGMA user_version`).
pub fn schema_version(conn: &Connection) -> Result<usize, DbError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(usize::try_from(v).unwrap_or(usize::MAX))
}

/// Brings the database to [`SCHEMA_VERSION`] in one transaction, or refuses a database that a
/// newer binary has already migrated further. Returns how many migrations were applied.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<usize, DbError> {
    let found = schema_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(DbError::TooNew {
            path: path.to_path_buf(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    let migrations = Migrations::new(
        MIGRATIONS
            .iter()
            .map(|(_, sql)| M::up(sql).foreign_key_check())
            .collect(),
    );
    migrations
        .to_latest(conn)
        .map_err(|e| DbError::Migration(e.to_string()))?;
    let applied = SCHEMA_VERSION - found;
    if applied > 0 {
        let names: Vec<&str> = MIGRATIONS[found..].iter().map(|(n, _)| *n).collect();
        tracing::info!(
            from = found,
            to = SCHEMA_VERSION,
            ?names,
            "database migrated"
        );
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_is_embedded_and_valid() {
        // One entry per file in migrations/; adding a file without rebuilding would show here.
        let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "sql")
            })
            .count();
        assert_eq!(SCHEMA_VERSION, on_disk);
        assert_eq!(
            SCHEMA_VERSION, 28,
            "update this count when adding a migration"
        );
        let migrations = Migrations::new(MIGRATIONS.iter().map(|(_, sql)| M::up(sql)).collect());
        migrations.validate().unwrap();
    }

    #[test]
    fn applies_once_then_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(migrate(&mut conn, &path).unwrap(), SCHEMA_VERSION);
        assert_eq!(migrate(&mut conn, &path).unwrap(), 0);
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn refuses_a_newer_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let mut conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA user_version = 999").unwrap();
        let err = migrate(&mut conn, &path).unwrap_err();
        assert!(matches!(err, DbError::TooNew { found: 999, .. }), "{err}");
        assert!(err.to_string().contains("newer"));
    }
}
