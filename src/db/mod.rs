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

pub mod balances;
pub mod banner;
pub mod bans;
pub mod conversations;
pub mod identities;
mod ids;
pub mod imports;
mod maintenance;
pub mod messages;
mod meta;
mod migrate;
mod pool;
pub mod presets;
pub mod roles;
pub mod search;
pub mod sessions;
pub mod shares;
pub mod tags;
pub mod tokens;
pub mod used_proofs;
pub mod user_keys;
pub mod users;

pub use ids::{new_object_id, now, to_rfc3339};
pub use maintenance::{backup_to, integrity_check, replace_with};
pub use meta::instance_id;
pub use migrate::{MIGRATIONS, SCHEMA_VERSION, migrate, schema_version};
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
    #[error("{0}")]
    Io(String),
}

/// Opens a connection with the settings every connection here uses.
pub(crate) fn configure(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // NORMAL in WAL mode keeps every committed transaction across a crash of this process; only
    // an OS crash or power cut can lose the last commits, and never corrupts the file.
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;",
    )
}
