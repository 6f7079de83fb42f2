//! `librechat db migrate | check | backup FILE | restore FILE | copy --to postgres://... |
//! accept-secrets`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use clap::Subcommand;
use rusqlite::{Connection, OpenFlags};

use crate::config::{Env, Overrides, data_dir, prepare_data_dir};
use crate::db;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create the database or bring it to this version's schema
    #[command(after_help = "Example:\n  librechat db migrate --data-dir /var/lib/librechat")]
    Migrate,
    /// Run SQLite's integrity and foreign-key checks
    #[command(after_help = "Example:\n  librechat db check --data-dir /var/lib/librechat")]
    Check,
    /// Copy the database to FILE, consistently, even while the server runs
    #[command(after_help = "Example:\n  librechat db backup /backups/librechat-$(date +%F).db")]
    Backup {
        /// Where to write the copy (must not exist yet)
        file: PathBuf,
    },
    /// Replace the database with the backup FILE (server stopped); the current one is kept
    #[command(
        after_help = "Example:\n  sudo systemctl stop librechat\n  sudo librechat db restore /var/backups/librechat-2026-11-01.db --data-dir /var/lib/librechat\n\n\
The backup is checked first (a SQLite database of this or an earlier librechat, passing its\n\
integrity check). The current database is copied to librechat.db.before-restore-<time> beside\n\
it, the backup takes its place and is migrated to this version, and the search index is\n\
removed so the next start rebuilds it from the restored data."
    )]
    Restore {
        /// The backup to restore (made by `librechat db backup`)
        file: PathBuf,
    },
    /// Copy this SQLite database into an empty PostgreSQL database, and verify the copy
    #[command(
        after_help = "Example:\n  librechat db copy --to postgres://librechat:secret@db.internal/librechat --data-dir /var/lib/librechat\n\n\
Stop the server first. The target database must exist and be empty; it is migrated to this\n\
version, every table is copied in one transaction, and each table's row count and checksum\n\
are compared on both sides. Then set DATABASE_URL to the same URL and start the server."
    )]
    Copy {
        /// The PostgreSQL database to copy into (postgres://user:password@host:port/database)
        #[arg(long)]
        to: String,
    },
    /// Make this environment's secrets the ones every replica must have (after rotating them)
    #[command(
        after_help = "Example:\n  DATABASE_URL=postgres://... JWT_SECRET=... JWT_REFRESH_SECRET=... CREDS_KEY=... CREDS_IV=... librechat db accept-secrets\n\n\
Replicas of one PostgreSQL database must share JWT_SECRET, JWT_REFRESH_SECRET, CREDS_KEY and\n\
CREDS_IV: the first replica records a one-way fingerprint of each, and a replica with other\n\
values is refused at start. After changing them on every replica (a leaked secret), run this\n\
once with the new values, then start the replicas. Changing CREDS_KEY or CREDS_IV makes the\n\
API keys people saved unreadable: they enter them again."
    )]
    AcceptSecrets,
}

pub fn run(env: Env, overrides: Overrides, cmd: DbCommand) -> anyhow::Result<ExitCode> {
    crate::logging::init(&env, "warn").map_err(anyhow::Error::msg)?;
    let path = data_dir(&env, &overrides).join("librechat.db");
    // `copy` reads the SQLite file whatever DATABASE_URL says (it is how one moves over).
    if !matches!(cmd, DbCommand::Copy { .. })
        && let Some(url) = crate::config::database_url(&env)?
    {
        return on_postgres(&env, &overrides, url.expose(), cmd);
    }
    match cmd {
        DbCommand::Copy { to } => {
            if !path.is_file() {
                bail!("no database at {}", path.display());
            }
            let dir = path.parent().unwrap_or(Path::new("."));
            // Nothing may change the source while it is copied.
            let _lock = super::serve::lock_data_dir(dir)?;
            let report = super::db_copy::copy(&path, &to)?;
            let rows: u64 = report.iter().map(|t| t.rows).sum();
            for t in &report {
                println!(
                    "{:<28} {:>10} rows  checksum {}",
                    t.table, t.rows, t.checksum
                );
            }
            println!(
                "copied {rows} rows in {} tables into {}; counts and checksums match",
                report.len(),
                db::sql::pg::redacted(&to)
            );
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Migrate => {
            let dir = path.parent().unwrap_or(Path::new("."));
            prepare_data_dir(dir)?;
            // Not while a server runs on this folder: it expects the schema it started with.
            let _lock = super::serve::lock_data_dir(dir)?;
            let (database, applied) = db::Db::open_reporting(&path)?;
            tokio::runtime::Builder::new_current_thread()
                .build()?
                .block_on(database.close())?;
            give_to_folder_owner(dir, &path);
            println!(
                "{}: schema version {} ({applied} migration(s) applied)",
                path.display(),
                db::SCHEMA_VERSION
            );
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Check => {
            let conn = open_existing(&path)?;
            let version = db::schema_version(&conn)?;
            let problems = db::integrity_check(&conn)?;
            println!(
                "{}: schema version {version} of {}",
                path.display(),
                db::SCHEMA_VERSION
            );
            if version > db::SCHEMA_VERSION {
                println!("warning: this database was written by a newer librechat");
            }
            if problems.is_empty() {
                println!("integrity: ok");
                Ok(ExitCode::SUCCESS)
            } else {
                for p in &problems {
                    println!("problem: {p}");
                }
                Ok(ExitCode::FAILURE)
            }
        }
        DbCommand::Backup { file } => {
            open_existing(&path)?;
            db::backup_to(&path, &file)?;
            let conn = open_existing(&file)?;
            let problems = db::integrity_check(&conn)?;
            if !problems.is_empty() {
                bail!(
                    "the backup {} failed its integrity check: {}",
                    file.display(),
                    problems.join("; ")
                );
            }
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            println!(
                "backup written to {} ({size} bytes), integrity ok",
                file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Restore { file } => restore(&path, &file),
        DbCommand::AcceptSecrets => bail!(
            "DATABASE_URL is not set: only replicas sharing a PostgreSQL database compare their \
             secrets, so there is nothing to accept"
        ),
    }
}

/// The database commands with `DATABASE_URL` set: `migrate` brings PostgreSQL to this
/// version's schema; backups, restores and checks are PostgreSQL's own tools' work.
fn on_postgres(
    env: &Env,
    overrides: &Overrides,
    url: &str,
    cmd: DbCommand,
) -> anyhow::Result<ExitCode> {
    let name = db::sql::pg::redacted(url);
    let what = match cmd {
        DbCommand::Migrate => {
            let (database, applied) = db::Db::open_postgres(url)
                .map_err(|e| anyhow!("cannot open the database {name}: {e}"))?;
            tokio::runtime::Builder::new_current_thread()
                .build()?
                .block_on(database.close())?;
            println!(
                "{name}: schema version {} ({applied} migration(s) applied)",
                db::SCHEMA_VERSION
            );
            return Ok(ExitCode::SUCCESS);
        }
        DbCommand::AcceptSecrets => {
            let secrets = crate::config::Secrets::resolve(env, &data_dir(env, overrides), false)?;
            let generated = secrets.not_given();
            if !generated.is_empty() {
                bail!(
                    "{} not set: set all four secrets, as every replica has them",
                    generated.join(", ")
                );
            }
            let prints = secrets.fingerprints();
            let database = db::Db::open_postgres(url)
                .map_err(|e| anyhow!("cannot open the database {name}: {e}"))?
                .0;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                database
                    .write(move |c| db::accept_secrets(c, &prints))
                    .await?;
                database.close().await
            })?;
            println!(
                "{name}: JWT_SECRET, JWT_REFRESH_SECRET, CREDS_KEY and CREDS_IV are now the ones every replica must have"
            );
            return Ok(ExitCode::SUCCESS);
        }
        DbCommand::Check => "check",
        DbCommand::Backup { .. } => "backup",
        DbCommand::Restore { .. } => "restore",
        DbCommand::Copy { .. } => "copy",
    };
    bail!(
        "DATABASE_URL names PostgreSQL ({name}): `librechat db {what}` works on the data folder's SQLite file; \
         back PostgreSQL up and restore it with its own tools (pg_dump -Fc, pg_restore), or unset DATABASE_URL"
    )
}

fn restore(path: &Path, file: &Path) -> anyhow::Result<ExitCode> {
    let dir = path.parent().unwrap_or(Path::new("."));
    prepare_data_dir(dir)?;
    // Refused while a server runs on this folder: it holds the database open.
    let _lock = super::serve::lock_data_dir(dir)?;
    if !file.exists() {
        bail!("no backup at {}", file.display());
    }
    let backup = open_existing(file)?;
    let version = db::schema_version(&backup)?;
    if version == 0 {
        bail!(
            "{} is not a librechat database (it has no schema version)",
            file.display()
        );
    }
    if version > db::SCHEMA_VERSION {
        bail!(
            "{} was written by a newer librechat (schema {version}; this one knows {}); restore it with that version",
            file.display(),
            db::SCHEMA_VERSION
        );
    }
    let problems = db::integrity_check(&backup)?;
    if !problems.is_empty() {
        bail!(
            "{} fails its integrity check, so it was not restored: {}",
            file.display(),
            problems.join("; ")
        );
    }
    drop(backup);
    let kept = if path.exists() {
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let kept = dir.join(format!("librechat.db.before-restore-{stamp}"));
        if let Err(e) = db::backup_to(path, &kept) {
            // Unreadable (damaged, perhaps: the reason to restore): kept as the files it is.
            println!("the current database cannot be copied ({e}); moving its files aside");
            for (from, to) in db::with_sidecars(path).iter().zip(db::with_sidecars(&kept)) {
                if from.exists() {
                    std::fs::rename(from, to)
                        .map_err(|e| anyhow!("cannot move {} aside: {e}", from.display()))?;
                }
            }
        }
        Some(kept)
    } else {
        None
    };
    db::replace_with(file, path)?;
    let (database, applied) = db::Db::open_reporting(path)?;
    tokio::runtime::Builder::new_current_thread()
        .build()?
        .block_on(database.close())?;
    give_to_folder_owner(dir, path);
    // The index describes the data that was replaced: the next start rebuilds it.
    let search = dir.join("search");
    if search.exists() {
        std::fs::remove_dir_all(&search).map_err(|e| {
            anyhow!(
                "cannot remove the old search index {}: {e}",
                search.display()
            )
        })?;
    }
    println!(
        "restored {} into {} (schema {version}, {applied} migration(s) applied)",
        file.display(),
        path.display()
    );
    match kept {
        Some(k) => println!("the database it replaced is kept as {}", k.display()),
        None => println!("there was no database to keep"),
    }
    println!("the search index is rebuilt on the next start");
    Ok(ExitCode::SUCCESS)
}

/// Run with sudo on the service's folder, the database files this writes would belong to root
/// and the service (its own user) could not open them: they are given to the folder's owner.
/// Anyone but root cannot give files away, and needs not: the files are already theirs.
fn give_to_folder_owner(dir: &Path, db: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(folder) = std::fs::metadata(dir) else {
        return;
    };
    for file in db::with_sidecars(db) {
        match std::fs::metadata(&file) {
            Ok(m) if m.uid() != folder.uid() || m.gid() != folder.gid() => {
                if let Err(e) =
                    std::os::unix::fs::chown(&file, Some(folder.uid()), Some(folder.gid()))
                {
                    println!(
                        "warning: {} is not owned by the data folder's owner ({e}); fix: chown {}:{} {}",
                        file.display(),
                        folder.uid(),
                        folder.gid(),
                        file.display()
                    );
                }
            }
            _ => {}
        }
    }
}

/// Opens a database that must already exist, read-only, and checks that it is one.
fn open_existing(path: &Path) -> anyhow::Result<Connection> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => bail!("{} is not a file", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "no database at {} (start the server or run `librechat db migrate` first)",
            path.display()
        ),
        Err(e) => bail!("cannot read {}: {e}", path.display()),
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| anyhow!("cannot open {}: {}", path.display(), sqlite_reason(&e)))?;
    conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0))
        .map_err(|e| {
            anyhow!(
                "{} is not a readable SQLite database: {}",
                path.display(),
                sqlite_reason(&e)
            )
        })?;
    Ok(conn)
}

/// SQLite's own words for an error, once (rusqlite's display repeats them).
fn sqlite_reason(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        rusqlite::Error::SqliteFailure(code, None) => code.to_string(),
        other => other.to_string(),
    }
}
