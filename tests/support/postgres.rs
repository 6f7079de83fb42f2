//! A real PostgreSQL for tests: Debian's server binaries (`pg_config --bindir`, else the newest
//! `/usr/lib/postgresql/*/bin`), a throwaway cluster (`initdb`, `trust` authentication) in a
//! temporary folder, listening on a free port of 127.0.0.1 only, with durability off for speed.
//! initdb and postgres refuse to run as root, so under root (as in CI) they run as the
//! `postgres` system user, who is given the folder. SQL goes in through `psql`.
//!
//! One cluster serves a whole test binary ([`fresh_database`]: a new database in it per call).
//! The cluster runs under a small `sh` that holds the read end of a pipe whose write end only
//! this process holds: when the process ends, however it ends, the pipe closes and the shell
//! stops postgres and removes the folder, so nothing outlives the tests. A [`Postgres`] of one's
//! own ([`Postgres::start`]) is stopped the same way when dropped.
//!
//! Skipped with a note where the binaries are missing, unless `LIBRECHAT_REQUIRE_PEERS=1`.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::smtp::peers_required;

/// Makes the cluster in `$1/data` with the binaries of `$2` (as the user `$OWNER` names:
/// `setpriv ...` or nothing) and runs postgres there with the settings that follow, until its
/// standard input closes (this process has ended, however, or the [`Postgres`] was dropped);
/// then removes the folder. A cluster that failed leaves the end of its log on stderr.
/// (A background command's standard input is /dev/null unless redirected: hence fd 3. It also
/// ignores SIGINT until postgres sets its handler: hence the signal is sent until it goes.)
const SUPERVISOR: &str = r#"
dir=$1 bin=$2; shift 2
exec 3<&0
if $OWNER "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale --no-sync \
    --no-instructions </dev/null 3<&- >"$dir/postgres.log" 2>&1; then
  $OWNER "$bin/postgres" -D "$dir/data" "$@" </dev/null 3<&- >>"$dir/postgres.log" 2>&1 &
  pg=$!
  ( read -r _ <&3; while kill -INT "$pg" 2>/dev/null; do sleep 0.2; done ) &
  watcher=$!
  exec 3<&-
  wait "$pg"; status=$?
  kill "$watcher" 2>/dev/null
else
  status=1
fi
log=$(tail -n 20 "$dir/postgres.log" 2>/dev/null)
rm -rf "$dir"
[ "$status" = 0 ] || printf '%s\n' "$log" >&2
exit "$status"
"#;

pub struct Postgres {
    supervisor: Child,
    /// Closing it stops the cluster.
    stop: Option<ChildStdin>,
    /// Kept open so the supervisor's last words never meet a closed pipe.
    stderr: Option<ChildStderr>,
    pub port: u16,
    bindir: PathBuf,
}

/// The folder holding initdb, postgres and psql, if PostgreSQL's server is installed.
pub fn bindir() -> Option<&'static Path> {
    static BINDIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    BINDIR.get_or_init(find_bindir).as_deref()
}

fn find_bindir() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let has_server = |d: &PathBuf| d.join("initdb").exists() && d.join("postgres").exists();
    if let Some(dir) = from_pg_config.filter(has_server) {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_server(d))
        .collect();
    versions.sort();
    versions.pop().map(|(_, d)| d)
}

/// Whether this process runs as root (its effective user id, from /proc).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let uids = s.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            uids.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// How the supervisor runs initdb and postgres: as `postgres` when this process is root.
fn owner_prefix() -> &'static str {
    if is_root() {
        "setpriv --reuid=postgres --regid=postgres --init-groups --"
    } else {
        ""
    }
}

fn check(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Postgres {
    /// Makes and starts a cluster of its own; `None` (after a note) when PostgreSQL is missing.
    pub fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// [`Postgres::start`] with more server settings (`name=value`, as `postgres -c` takes).
    pub fn start_with(extra: &[&str]) -> Option<Self> {
        let Some(bindir) = bindir() else {
            assert!(
                !peers_required(),
                "PostgreSQL is required (LIBRECHAT_REQUIRE_PEERS=1) but no initdb was found \
                 (pg_config --bindir, /usr/lib/postgresql/*/bin)"
            );
            eprintln!(
                "skipped: PostgreSQL is not installed (apt install postgresql, or run .ci/run)"
            );
            return None;
        };
        // One start at a time in this test binary (see `PEER_START`).
        let _one = super::PEER_START.lock().unwrap_or_else(|e| e.into_inner());
        let mut last_words = String::new();
        for _ in 0..5 {
            match Self::try_start(bindir, extra) {
                Ok(cluster) => return Some(cluster),
                // A port taken by someone else in the meantime, most likely: try another.
                Err(said) => last_words = said,
            }
        }
        panic!("postgres did not start: {last_words}");
    }

    /// A new cluster on a free port, or what postgres said when it stopped instead.
    fn try_start(bindir: &Path, extra: &[&str]) -> Result<Self, String> {
        // Removed by the supervisor once the cluster stops.
        let dir = tempfile::Builder::new()
            .prefix("librechat-pg")
            .tempdir()
            .unwrap()
            .keep();
        if is_root() {
            check(Command::new("chown").arg("postgres:postgres").arg(&dir));
        }
        let port = super::free_port();
        let mut settings = vec!["-p".to_owned(), port.to_string()];
        for setting in [
            "listen_addresses=127.0.0.1",
            "unix_socket_directories=",
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
            "shared_buffers=32MB",
            "max_connections=50",
        ]
        .iter()
        .chain(extra)
        {
            settings.extend(["-c".to_owned(), (*setting).to_owned()]);
        }
        let mut child = Command::new("sh")
            .args(["-c", SUPERVISOR, "postgres-supervisor"])
            .arg(&dir)
            .arg(bindir)
            .args(&settings)
            .env("OWNER", owner_prefix())
            .env("LC_ALL", "C")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let mut cluster = Postgres {
            stop: child.stdin.take(),
            stderr: child.stderr.take(),
            supervisor: child,
            port,
            bindir: bindir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline && matches!(cluster.supervisor.try_wait(), Ok(None)) {
            if cluster.ready() {
                return Ok(cluster);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Stopped by itself, or never answered: stop it, and say what it said.
        cluster.stop.take();
        let _ = cluster.supervisor.wait();
        let mut said = String::new();
        if let Some(mut stderr) = cluster.stderr.take() {
            use std::io::Read;
            let _ = stderr.read_to_string(&mut said);
        }
        Err(said)
    }

    /// Whether the server accepts connections.
    fn ready(&self) -> bool {
        Command::new(self.bindir.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", "postgres"])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// `postgres://postgres@127.0.0.1:PORT/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A new, empty database (`t_<n>`), by its URL.
    pub fn fresh_database(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let name = format!("t_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        psql(&self.url("postgres"), &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop.take();
        let _ = self.supervisor.wait();
    }
}

/// The cluster this test binary shares, started on first use; `None` where PostgreSQL is missing
/// (after a note; a failure under `LIBRECHAT_REQUIRE_PEERS=1`).
pub fn shared() -> Option<&'static Postgres> {
    static SHARED: OnceLock<Option<Postgres>> = OnceLock::new();
    SHARED.get_or_init(Postgres::start).as_ref()
}

/// A new, empty database in the shared cluster, by its URL
/// (`postgres://postgres@127.0.0.1:PORT/t_N`); `None` where PostgreSQL is missing.
pub fn fresh_database() -> Option<String> {
    shared().map(Postgres::fresh_database)
}

fn psql_command(url: &str) -> Command {
    let bindir = bindir().expect("PostgreSQL is installed");
    // NULL shows as \N, told apart from an empty text.
    let mut cmd = Command::new(bindir.join("psql"));
    // No ~/.psqlrc, stop at the first error, unaligned rows of tab-separated fields.
    cmd.args([
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-A",
        "-t",
        "-F",
        "\t",
        "-P",
        "null=\\N",
    ])
    .args(["-d", url])
    .env("LC_ALL", "C")
    .env("PGCONNECT_TIMEOUT", "30");
    cmd
}

fn output(mut cmd: Command) -> Result<String, String> {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8(out.stdout).expect("psql answers UTF-8"))
}

/// Everything the database at `url` holds, as `pg_dump` writes it in plain SQL: for a test to
/// look for a value where a person could (a backup), as it reads SQLite's files.
pub fn dump(url: &str) -> String {
    let bindir = bindir().expect("PostgreSQL is installed");
    let mut cmd = Command::new(bindir.join("pg_dump"));
    cmd.args(["--no-owner", "-d", url])
        .env("LC_ALL", "C")
        .env("PGCONNECT_TIMEOUT", "30");
    output(cmd).unwrap_or_else(|e| panic!("pg_dump {url}: {e}"))
}

/// Runs `sql` on the database at `url`; its rows, one per line, fields separated by tabs.
pub fn psql(url: &str, sql: &str) -> String {
    try_psql(url, sql).unwrap_or_else(|e| panic!("psql {sql}: {e}"))
}

/// [`psql`], or PostgreSQL's error.
pub fn try_psql(url: &str, sql: &str) -> Result<String, String> {
    let mut cmd = psql_command(url);
    cmd.args(["-c", sql]);
    output(cmd)
}

/// Runs the SQL file at `path` on the database at `url`, in one transaction.
pub fn psql_file(url: &str, path: &Path) {
    let mut cmd = psql_command(url);
    cmd.arg("--single-transaction").arg("-f").arg(path);
    if let Err(e) = output(cmd) {
        panic!("psql -f {}: {e}", path.display());
    }
}

/// A fresh PostgreSQL database given every `migrations/postgres/*.sql` in order, by its URL;
/// `None` where PostgreSQL is missing.
pub fn migrated_database() -> Option<String> {
    let url = fresh_database()?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    for file in &files {
        psql_file(&url, file);
        // Recorded as the binary records it (src/db/migrate_pg.rs): one row, the file's number.
        let number: u32 = file
            .file_name()
            .and_then(|n| n.to_str()?.split('_').next()?.parse().ok())
            .expect("migrations/postgres/NNNN_*.sql");
        psql(
            &url,
            &format!(
                "DELETE FROM librechat_schema; INSERT INTO librechat_schema (version) VALUES ({number})"
            ),
        );
    }
    Some(url)
}

/// A SQLite database in memory given every `migrations/*.sql` in order, each in a transaction
/// (as the binary applies them), with foreign keys enforced (as the server's connections do).
pub fn migrated_sqlite() -> rusqlite::Connection {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    for file in &files {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        tx.commit().unwrap();
    }
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    conn
}

/// The rows of `table` in SQLite (`conn`) and in PostgreSQL (`url`) that the other lacks, as
/// lines to report (none: the same rows). Only SQLite's columns are read, but for a rowid alias
/// (`INTEGER PRIMARY KEY`): its numbers follow the order rows were written, and the two engines
/// fire a cascade's triggers in different orders (SQLite the children's first). Nor
/// `search_outbox.tx`: PostgreSQL's triggers record the writing transaction there, SQLite's 0.
pub fn compare_rows(conn: &rusqlite::Connection, url: &str, table: &str) -> Vec<String> {
    let names: Vec<String> = conn
        .prepare(&format!(
            "SELECT name FROM pragma_table_info('{table}') t
             WHERE NOT (t.pk = 1 AND upper(t.type) = 'INTEGER'
                        AND (SELECT count(*) FROM pragma_table_info('{table}') WHERE pk > 0) = 1)
               AND NOT ('{table}' = 'search_outbox' AND t.name = 'tx')
             ORDER BY cid"
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let sql = format!("SELECT {} FROM {table}", names.join(", "));
    let mut stmt = conn.prepare(&sql).unwrap();
    let lite: Vec<String> = stmt
        .query_map([], |r| {
            (0..names.len())
                .map(|i| {
                    Ok(match r.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => "\\N".to_owned(),
                        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                        rusqlite::types::ValueRef::Real(v) => v.to_string(),
                        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                        rusqlite::types::ValueRef::Blob(b) => format!("\\x{}", hex(b)),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|v| v.join("\t"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let pg: Vec<String> = psql(url, &sql).lines().map(str::to_owned).collect();
    // Each row with how many times it is there.
    let count = |rows: Vec<String>| {
        let mut n: BTreeMap<String, usize> = BTreeMap::new();
        for row in rows {
            *n.entry(row).or_default() += 1;
        }
        n
    };
    let (lite, pg) = (count(lite), count(pg));
    let mut problems = Vec::new();
    for (row, (a, b)) in lite
        .keys()
        .chain(pg.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|row| {
            (
                row,
                (lite.get(row).unwrap_or(&0), pg.get(row).unwrap_or(&0)),
            )
        })
    {
        if a != b {
            problems.push(format!(
                "table {table}: row {row:?} is there {a} time(s) in SQLite, {b} in PostgreSQL"
            ));
        }
    }
    problems
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
