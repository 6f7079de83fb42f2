//! One writer connection and a few read-only ones, used from async code through the blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::OpenFlags;
use tokio::sync::Semaphore;

use super::sql::{Connection, pg};
use super::{DbError, configure, migrate};

/// A closure's answer, its type erased on the way through the blocking pool.
type Answer = Box<dyn std::any::Any + Send>;
type ReadJob = Box<dyn FnOnce(&Connection) -> Answer + Send>;
type WriteJob = Box<dyn FnOnce(&mut Connection) -> Answer + Send>;

/// How many read-only connections may be busy at once.
const READERS: usize = 4;

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    /// The SQLite file; for PostgreSQL, the URL without its password.
    path: PathBuf,
    /// Set when the data lives in PostgreSQL: where to open more connections.
    postgres: Option<String>,
    writer: Arc<tokio::sync::Mutex<Option<Connection>>>,
    readers: Mutex<Vec<Connection>>,
    reader_permits: Semaphore,
    /// Signalled after every write, for whoever follows changes (the search indexer).
    changed: tokio::sync::Notify,
}

impl Db {
    /// Opens (creating if needed) the database, switches it to WAL and applies pending
    /// migrations. Blocking: call it before the server starts or on a blocking thread.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        Self::open_reporting(path).map(|(db, _)| db)
    }

    /// [`Db::open`], also saying how many migrations it applied. Every path that migrates
    /// (the server, `librechat db migrate`) goes through here, so they behave the same.
    pub fn open_reporting(path: &Path) -> Result<(Self, usize), DbError> {
        let open_err = |source| DbError::Open {
            path: path.to_path_buf(),
            source,
        };
        let mut writer = rusqlite::Connection::open(path).map_err(open_err)?;
        private_file(path);
        super::set_busy_handler(&writer).map_err(open_err)?;
        let mode: String = writer
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(journal_mode = %mode, "SQLite could not switch to WAL mode");
        }
        // Foreign keys stay off while the schema changes (rebuilding a table must not cascade
        // deletes); each migration is checked for violations before it commits.
        writer
            .execute_batch("PRAGMA foreign_keys = OFF;")
            .map_err(open_err)?;
        let applied = migrate(&mut writer, path)?;
        configure(&writer).map_err(open_err)?;
        let writer = Connection::sqlite(writer);
        super::meta::ensure(&writer)?;
        let db = Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                postgres: None,
                writer: Arc::new(tokio::sync::Mutex::new(Some(writer))),
                readers: Mutex::new(Vec::new()),
                reader_permits: Semaphore::new(READERS),
                changed: tokio::sync::Notify::new(),
            }),
        };
        Ok((db, applied))
    }

    /// Connects to the PostgreSQL database at `url` and brings its schema up to date (one
    /// replica at a time: the others wait for the lock). Blocking, as [`Db::open`].
    pub fn open_postgres(url: &str) -> Result<(Self, usize), DbError> {
        let mut writer = Connection::postgres(pg::Client::connect(url)?);
        let applied = super::migrate_pg::migrate(&mut writer)?;
        super::meta::ensure(&writer)?;
        let db = Self {
            inner: Arc::new(Inner {
                path: PathBuf::from(pg::redacted(url)),
                postgres: Some(url.to_owned()),
                writer: Arc::new(tokio::sync::Mutex::new(Some(writer))),
                readers: Mutex::new(Vec::new()),
                reader_permits: Semaphore::new(READERS),
                changed: tokio::sync::Notify::new(),
            }),
        };
        Ok((db, applied))
    }

    /// The SQLite file, or the PostgreSQL URL without its password.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Whether the data lives in PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.inner.postgres.is_some()
    }

    /// Runs `f` on a read-only connection, off the async threads.
    pub async fn read<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    {
        let answer = self
            .read_any(Box::new(move |c: &Connection| -> Answer { Box::new(f(c)) }))
            .await?;
        *answer
            .downcast::<Result<T, DbError>>()
            .expect("the closure's own answer")
    }

    /// Runs `f` on the single writer connection, off the async threads. Writes queue here in
    /// arrival order instead of contending for SQLite's lock.
    pub async fn write<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let answer = self
            .write_any(Box::new(move |c: &mut Connection| -> Answer {
                Box::new(f(c))
            }))
            .await?;
        *answer
            .downcast::<Result<T, DbError>>()
            .expect("the closure's own answer")
    }

    // `read` and `write` hand their closures over boxed, so that the blocking task (and its
    // share of tokio's task machinery) is compiled once, not once per query in the program:
    // half a megabyte of the binary.

    async fn read_any(&self, f: ReadJob) -> Result<Answer, DbError> {
        let permit = self
            .inner
            .reader_permits
            .acquire()
            .await
            .map_err(|_| DbError::Closed)?;
        let pooled = self.inner.readers.lock().expect("reader list").pop();
        let path = self.inner.path.clone();
        let postgres = self.inner.postgres.clone();
        let (conn, answer) = tokio::task::spawn_blocking(move || {
            let conn = match (pooled, postgres) {
                (Some(c), _) if !c.is_broken() => c,
                (_, Some(url)) => open_pg_reader(&url)?,
                (_, None) => open_reader(&path)?,
            };
            let answer = f(&conn);
            Ok::<_, DbError>((conn, answer))
        })
        .await
        .map_err(|e| DbError::Io(format!("database task failed: {e}")))??;
        // A connection whose closure panicked is dropped above; a new one is opened on demand.
        self.inner.readers.lock().expect("reader list").push(conn);
        drop(permit);
        Ok(answer)
    }

    async fn write_any(&self, f: WriteJob) -> Result<Answer, DbError> {
        let mut guard = self.inner.writer.clone().lock_owned().await;
        let postgres = self.inner.postgres.clone();
        let answer = tokio::task::spawn_blocking(move || {
            // A PostgreSQL session that ended (the server restarted) is opened again.
            if let (Some(url), Some(conn)) = (postgres, guard.as_mut())
                && conn.is_broken()
            {
                *conn = Connection::postgres(pg::Client::connect(&url)?);
            }
            match guard.as_mut() {
                Some(conn) => Ok(f(conn)),
                None => Err(DbError::Closed),
            }
        })
        .await
        .map_err(|e| DbError::Io(format!("database task failed: {e}")))?;
        self.inner.changed.notify_one();
        answer
    }

    /// Waits until a write has happened since the last call returned (one waiter at a time).
    pub async fn changed(&self) {
        self.inner.changed.notified().await;
    }

    /// Checkpoints the WAL into the main file and closes every connection. Later calls fail with
    /// [`DbError::Closed`]. Waits for the write in progress, if any.
    pub async fn close(&self) -> Result<(), DbError> {
        self.inner.reader_permits.close();
        // Wakes whoever follows changes, so that it sees the database is closed.
        self.inner.changed.notify_one();
        let mut guard = self.inner.writer.clone().lock_owned().await;
        let readers: Vec<Connection> =
            std::mem::take(&mut *self.inner.readers.lock().expect("reader list"));
        tokio::task::spawn_blocking(move || {
            drop(readers);
            if let Some(conn) = guard.take().and_then(Connection::into_sqlite) {
                conn.execute_batch("PRAGMA optimize; PRAGMA wal_checkpoint(TRUNCATE);")?;
                conn.close().map_err(|(_, e)| DbError::Sqlite(e))?;
            }
            Ok(())
        })
        .await
        .map_err(|e| DbError::Io(format!("database task failed: {e}")))?
    }
}

/// The database holds every conversation: readable by its owner only. SQLite gives its -wal and
/// -shm files the same mode.
fn private_file(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}

/// A PostgreSQL session that refuses writes, as SQLite's read-only connections do, and whose
/// transactions read one snapshot, as SQLite's do: a reader's `BEGIN` (an export, a rebuild of
/// the search index, a balance read with its ledger) sees no write committed meanwhile.
/// Read-only transactions never fail to serialize, so this costs nothing.
fn open_pg_reader(url: &str) -> Result<Connection, DbError> {
    let conn = Connection::postgres(pg::Client::connect(url)?);
    conn.execute_batch(
        "SET default_transaction_read_only = on;
         SET default_transaction_isolation = 'repeatable read'",
    )?;
    Ok(conn)
}

fn open_reader(path: &Path) -> Result<Connection, DbError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|source| DbError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    configure(&conn)?;
    Ok(Connection::sqlite(conn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_are_visible_to_readers_and_readers_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        db.write(|c| {
            c.execute(
                "INSERT INTO meta (key, value, updated_at) VALUES ('k', 'v', 'now')",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
        let v: String = db
            .read(|c| c.query_row("SELECT value FROM meta WHERE key = 'k'", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(v, "v");
        let refused = db.read(|c| c.execute("DELETE FROM meta", [])).await;
        assert!(refused.is_err(), "a reader wrote");
        db.close().await.unwrap();
        assert!(matches!(db.write(|_| Ok(())).await, Err(DbError::Closed)));
        assert!(matches!(db.read(|_| Ok(())).await, Err(DbError::Closed)));
    }

    #[tokio::test]
    async fn a_panicking_reader_does_not_poison_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        for _ in 0..(READERS + 1) {
            let r: Result<(), _> = db.read(|_| panic!("boom")).await;
            assert!(r.is_err());
        }
        let n: i64 = db
            .read(|c| c.query_row("SELECT count(*) FROM meta", [], |r| r.get(0)))
            .await
            .unwrap();
        assert!(n >= 1);
    }
}
