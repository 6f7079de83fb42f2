//! Brings a PostgreSQL database to [`SCHEMA_VERSION`] with `migrations/postgres/*.sql`.
//!
//! PostgreSQL starts from a baseline (the schema every SQLite migration up to its number
//! makes), then takes one file per later SQLite migration, with the same number; the schema
//! parity test holds the two sets to the same tables, columns, keys and indexes. The version
//! is the one row of `librechat_schema`.
//!
//! Several replicas may start at once: each takes the same advisory lock before looking, so
//! one migrates and the others then find nothing left to do.

use super::migrate::POSTGRES_MIGRATIONS;
use super::sql::{Connection, OptionalExtension};
use super::{DbError, SCHEMA_VERSION};

/// The advisory lock's key: any constant the installation's other programs do not use
/// ("librechat" in ASCII, folded to 63 bits).
const LOCK: i64 = 0x6c69_6272_6563_6861;

/// Applies what is missing, in one transaction per file; answers how many files were applied.
pub fn migrate(conn: &mut Connection) -> Result<usize, DbError> {
    conn.execute("SELECT pg_advisory_lock(?1)", [LOCK])?;
    let result = apply(conn);
    let unlocked = conn.execute("SELECT pg_advisory_unlock(?1)", [LOCK]);
    let applied = result?;
    unlocked?;
    Ok(applied)
}

/// The version recorded in the database; 0 when it has none yet.
pub fn schema_version(conn: &Connection) -> Result<usize, DbError> {
    let exists: bool = conn.query_row(
        "SELECT to_regclass('librechat_schema') IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(0);
    }
    let v: Option<i64> = conn
        .query_row("SELECT max(version) FROM librechat_schema", [], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    Ok(v.map_or(0, |v| usize::try_from(v).unwrap_or(usize::MAX)))
}

fn apply(conn: &mut Connection) -> Result<usize, DbError> {
    let found = schema_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(DbError::TooNew {
            path: "the PostgreSQL database".into(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    let mut applied = 0;
    for (number, name, sql) in POSTGRES_MIGRATIONS.iter().filter(|(n, ..)| *n > found) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .map_err(|e| DbError::Migration(format!("{name}: {e}")))?;
        tx.execute_batch("DELETE FROM librechat_schema")?;
        tx.execute(
            "INSERT INTO librechat_schema (version) VALUES (?1)",
            [*number as i64],
        )?;
        tx.commit()?;
        applied += 1;
    }
    let now = schema_version(conn)?;
    if now != SCHEMA_VERSION {
        return Err(DbError::Migration(format!(
            "the PostgreSQL migrations reach version {now}, this librechat needs {SCHEMA_VERSION}"
        )));
    }
    if applied > 0 {
        tracing::info!(from = found, to = now, "PostgreSQL database migrated");
    }
    Ok(applied)
}
