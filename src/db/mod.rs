//! The SQLite store: one file, `librechat.db`, in the data folder.
//!
//! # Conventions (every table follows them)
//!
//! * **Ids are TEXT.** Ids a LibreChat client chooses (`conversationId`, `messageId`, `presetId`,
//!   ...) are stored exactly as sent, usually UUIDs. Ids the server makes are 24 lowercase hex
//!   characters shaped like MongoDB ObjectIds ([`new_object_id`]): LibreChat's API hands those out
//!   as `_id`/`id`, so clients and import tools that expect that shape keep working, and their
//!   time prefix keeps them roughly ordered by creation.
//! * **Timestamps are TEXT in RFC 3339, UTC, with exactly three fractional digits and a `Z`**
//!   (`2026-11-25T20:47:39.123Z`, [`now`]): the same text JavaScript's `toISOString()` produces,
//!   so it goes to JSON unchanged, and because the width is fixed, comparing the text orders by
//!   time, which lets indexes on these columns serve "newest first" lists. [`now`] never repeats
//!   within a process, so rows written one after the other sort in that order.
//! * **Booleans are INTEGER 0/1; JSON blobs are TEXT** and only for values the server never
//!   queries inside. Tables are `STRICT`.
//! * **Every row a user owns carries `user_id`**, and every query on such a table filters on it.
//! * **Schema changes are new files in `migrations/`** (`NNNN_what.sql`), never edits of old ones.
//!   They are embedded at build time and applied in order at start, inside a transaction; the
//!   number applied is SQLite's `user_version`. A database with a higher number than the binary
//!   knows is refused.
//!
//! # Threads
//! SQLite calls block, so they never run on the async threads: [`Db::read`] and [`Db::write`] run
//! a closure on tokio's blocking pool. There is one writer connection (SQLite allows one writer at
//! a time anyway; queuing in-process beats spinning on `SQLITE_BUSY`) and a few read-only
//! connections, which WAL lets read while the writer writes.

pub mod acl;
pub mod actions;
pub mod agent_changes;
pub mod agent_files;
pub mod agent_lists;
pub mod agent_pictures;
pub mod agent_refs;
pub mod agents;
pub mod avatars;
pub mod balances;
pub mod banner;
pub mod bans;
pub mod chunk_vectors;
pub mod conversations;
pub mod file_search;
pub mod files;
pub mod from_librechat;
pub mod groups;
pub mod identities;
mod ids;
pub mod imports;
mod maintenance;
pub mod mcp_oauth;
pub mod mcp_servers;
pub mod memories;
pub mod messages;
mod meta;
mod migrate;
mod migrate_pg;
pub mod oauth_flows;
pub mod plugin_auth;
mod pool;
pub mod presets;
pub mod projects;
pub mod prompt_lists;
pub mod prompt_transfer;
pub mod prompts;
pub mod roles;
pub mod search;
pub mod sessions;
pub mod shares;
pub mod sql;
pub mod tags;
pub mod tokens;
pub mod tool_calls;
pub mod tool_favorites;
pub mod used_proofs;
pub mod user_keys;
pub mod users;

pub use ids::{new_object_id, now, to_rfc3339};
pub use maintenance::{backup_to, integrity_check, replace_with, with_sidecars};
pub use meta::{accept_secrets, differing_secrets, instance_id};
pub use migrate::{MIGRATIONS, SCHEMA_VERSION, migrate, schema_version};
pub use migrate_pg::{migrate as migrate_postgres, schema_version as postgres_schema_version};
pub use pool::Db;

use std::path::PathBuf;

/// What can go wrong in the store. `NotFound` is a normal answer; the rest are failures.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    #[error(
        "the database {} has schema version {found}, newer than this librechat knows ({known}); \
         run a newer librechat, or restore a backup made by this version",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error("cannot open the database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("the database is closed")]
    Closed,
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    /// A value read from the database is not what the store expected.
    #[error("{0}")]
    Column(String),
    #[error("{0}")]
    Io(String),
}

impl From<rusqlite::types::FromSqlError> for DbError {
    fn from(e: rusqlite::types::FromSqlError) -> Self {
        Self::Column(e.to_string())
    }
}

/// Times a connection found the database locked by another and waited (each wait counted once,
/// however long it lasted), for the metrics.
static BUSY_WAITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// [`BUSY_WAITS`] so far, in this process.
pub fn busy_waits() -> u64 {
    BUSY_WAITS.load(std::sync::atomic::Ordering::Relaxed)
}

/// SQLite's busy handler here: counts the wait, then backs off (1, 2, 4 ... 64 ms, then 100 ms
/// at a time) for about five seconds in all before giving up with `SQLITE_BUSY`, as a five
/// second busy timeout would.
fn wait_when_busy(attempt: i32) -> bool {
    if attempt == 0 {
        BUSY_WAITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    // 1 + 2 + ... + 64 = 127 ms in the first 7 attempts, then 100 ms each: 55 attempts ≈ 5 s.
    if attempt >= 55 {
        return false;
    }
    let ms = if attempt < 7 { 1u64 << attempt } else { 100 };
    std::thread::sleep(std::time::Duration::from_millis(ms));
    true
}

/// Waits for a lock as [`wait_when_busy`] says.
pub(crate) fn set_busy_handler(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.busy_handler(Some(wait_when_busy))
}

/// Opens a connection with the settings every connection here uses.
pub(crate) fn configure(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    set_busy_handler(conn)?;
    // The query planner's stability guarantee: plans never depend on the values bound. Without
    // it SQLite marks statements whose plan *could* use a bound value (a `LIMIT ?`, STAT4 on an
    // indexed column) and re-parses them at every new binding, so a cached statement was
    // compiled again on every request: 15% of the sidebar's CPU. Our plans are chosen by the
    // indexes, not by the values (measured: the sidebar under wrk went from 3.6k to 5.9k req/s).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    // NORMAL in WAL mode keeps every committed transaction across a crash of this process; only
    // an OS crash or power cut can lose the last commits, and never corrupts the file.
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn cached_statements_are_not_compiled_again_for_new_values() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        super::configure(&conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (owner TEXT, at INTEGER);
             CREATE INDEX t_by_owner ON t (owner, at);
             INSERT INTO t VALUES ('a', 1), ('a', 2), ('b', 3);",
        )
        .unwrap();
        let sql = "SELECT at FROM t WHERE owner = ?1 AND (?2 IS NULL OR at < ?2)
                   ORDER BY at DESC LIMIT ?3";
        for (owner, before, limit) in [("a", None, 25), ("b", Some(9), 2), ("a", Some(2), 1)] {
            let mut stmt = conn.prepare_cached(sql).unwrap();
            let rows: Vec<i64> = stmt
                .query_map(rusqlite::params![owner, before, limit], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(!rows.is_empty());
            assert_eq!(
                stmt.get_status(rusqlite::StatementStatus::RePrepare),
                0,
                "compiled again for new values"
            );
        }
    }

    #[test]
    fn a_writer_waits_for_a_lock_and_the_wait_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.db");
        let holder = rusqlite::Connection::open(&path).unwrap();
        super::configure(&holder).unwrap();
        holder
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        holder
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (1);")
            .unwrap();
        let before = super::busy_waits();
        let waiter = std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(&path).unwrap();
            super::configure(&conn).unwrap();
            conn.execute("INSERT INTO t VALUES (2)", []).map(|_| ())
        });
        // Held until the other writer has been seen waiting, then released: it goes through.
        while super::busy_waits() == before && !waiter.is_finished() {
            std::thread::yield_now();
        }
        assert!(super::busy_waits() > before, "the wait is counted");
        holder.execute_batch("COMMIT").unwrap();
        waiter
            .join()
            .unwrap()
            .expect("the waiting write succeeds once the lock is free");
        let n: i64 = holder
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }
}
