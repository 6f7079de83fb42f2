//! Integrity checks, online backups and restores, for `librechat db check`, `db backup` and
//! `db restore`.

use std::path::Path;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::DbError;

/// Runs SQLite's `integrity_check` and `foreign_key_check`; an empty list means healthy.
pub fn integrity_check(conn: &Connection) -> Result<Vec<String>, DbError> {
    let mut problems = Vec::new();
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let row = row?;
        if row != "ok" {
            problems.push(row);
        }
    }
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let rows = stmt.query_map([], |r| {
        Ok(format!(
            "foreign key violation in table {} (row {:?}) referring to {}",
            r.get::<_, String>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, String>(2)?
        ))
    })?;
    for row in rows {
        problems.push(row?);
    }
    Ok(problems)
}

/// Copies the database at `src` to the new file `dest` through SQLite's online backup API, in a
/// single step so the copy is one consistent snapshot even while the server writes. The copy is
/// written to a fresh hidden file beside `dest` and renamed into place, so `dest` never holds
/// half a backup and no existing file is touched.
pub fn backup_to(src: &Path, dest: &Path) -> Result<(), DbError> {
    let io = |what: &str, e: &dyn std::fmt::Display| {
        DbError::Io(format!("{what} {}: {e}", dest.display()))
    };
    if dest.exists() {
        return Err(DbError::Io(format!(
            "{} already exists; choose a new file name",
            dest.display()
        )));
    }
    let source =
        Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|source| {
            DbError::Open {
                path: src.to_path_buf(),
                source,
            }
        })?;
    super::configure(&source)?;
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.partial", super::new_object_id()));
    // Claim the temporary name first, so nothing that exists is ever overwritten.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| io("cannot create the backup", &e))?;
    let result = (|| {
        let mut target = Connection::open(&tmp).map_err(|e| io("cannot write the backup", &e))?;
        {
            let backup = Backup::new(&source, &mut target)?;
            loop {
                match backup.step(-1)? {
                    StepResult::Done => break,
                    // Locked by a writer's checkpoint for a moment: try again.
                    StepResult::Busy | StepResult::Locked => {
                        std::thread::sleep(std::time::Duration::from_millis(20))
                    }
                    _ => {}
                }
            }
        }
        // The copy is a standalone file: fold its WAL in so one file is the whole backup.
        target.execute_batch("PRAGMA journal_mode = DELETE;")?;
        target.close().map_err(|(_, e)| DbError::Sqlite(e))?;
        std::fs::rename(&tmp, dest).map_err(|e| io("cannot write the backup", &e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The database file `db`, then SQLite's write-ahead log and shared-memory files beside it
/// (`-wal`, `-shm`), which belong to it.
pub fn with_sidecars(db: &Path) -> [std::path::PathBuf; 3] {
    ["", "-wal", "-shm"].map(|suffix| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    })
}

/// Puts a copy of the database `src` in place of `dest` (whose server is stopped): the copy is
/// made beside `dest` first, then the old write-ahead log is removed (it belongs to the old
/// file and would be replayed into the new one) and the copy renamed into place.
pub fn replace_with(src: &Path, dest: &Path) -> Result<(), DbError> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let staged = dir.join(format!(".librechat.db.restore-{}", super::new_object_id()));
    backup_to(src, &staged)?;
    let result = (|| {
        for side in &with_sidecars(dest)[1..] {
            match std::fs::remove_file(side) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(DbError::Io(format!(
                        "cannot remove {}: {e}",
                        side.display()
                    )));
                }
                _ => {}
            }
        }
        std::fs::rename(&staged, dest)
            .map_err(|e| DbError::Io(format!("cannot put the backup in place: {e}")))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&staged);
    }
    result
}
