//! A real Redis for tests: Debian's `redis-server` on a free loopback port, with nothing saved
//! (`--save '' --appendonly no`) and its working folder in a temporary folder. Skipped with a
//! note where redis-server is missing, unless `LIBRECHAT_REQUIRE_PEERS=1`.
//!
//! redis-server runs under a small `sh` holding the read end of a pipe whose write end only
//! this process holds: when the [`Redis`] is dropped or killed, or this process ends however it
//! ends, the pipe closes and the shell kills redis-server, so nothing outlives the tests (the
//! Redis one test binary shares, [`shared`], is never dropped).
//!
//! Under `LIBRECHAT_TEST_DATABASE=postgres` every test server also shares state on Redis
//! ([`profile_redis`]): the test binary's one Redis, with a key prefix of each server's own.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::smtp::peers_required;

const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// Runs redis-server with the arguments that follow until standard input closes, then kills it
/// (nothing is saved, so a kill loses nothing a test wants; it is also what [`Redis::kill`]
/// means: a crash). A background command's standard input is /dev/null: hence fd 3.
const SUPERVISOR: &str = r#"
exec 3<&0
"$@" </dev/null 3<&- >/dev/null 2>&1 &
redis=$!
( read -r _ <&3; kill -KILL "$redis" 2>/dev/null ) &
watcher=$!
exec 3<&-
wait "$redis"; status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

pub struct Redis {
    supervisor: Child,
    /// Closing it kills redis-server.
    stop: Option<ChildStdin>,
    pub port: u16,
    /// `redis://127.0.0.1:PORT`
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Redis {
    /// Starts redis-server; `None` (after a note) when it is not installed.
    pub fn start() -> Option<Self> {
        if !Path::new(REDIS_SERVER).exists() {
            assert!(
                !peers_required(),
                "redis-server is required (LIBRECHAT_REQUIRE_PEERS=1) but {REDIS_SERVER} is missing"
            );
            eprintln!(
                "skipped: redis-server is not installed (apt install redis-server, or run .ci/run)"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let _one = super::PEER_START.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..10 {
            let port = super::free_port();
            let mut supervisor = Command::new("sh")
                .args(["-c", SUPERVISOR, "redis-supervisor", REDIS_SERVER])
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let stop = supervisor.stdin.take();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = supervisor.try_wait() {
                    break; // the port was taken: try another
                }
                if ping(port) {
                    return Some(Self {
                        supervisor,
                        stop,
                        port,
                        url: format!("redis://127.0.0.1:{port}"),
                        _dir: dir,
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            drop(stop);
            let _ = supervisor.wait();
        }
        panic!("redis-server did not start");
    }

    /// Stops the server now (as a crash would), to see what depends on it.
    pub fn kill(&mut self) {
        self.stop.take();
        let _ = self.supervisor.wait();
    }

    /// Runs one command (inline protocol) and returns the first line of the answer, such as
    /// `:3` or `$-1`.
    pub fn command(&self, words: &[&str]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut request = format!("*{}\r\n", words.len());
        for w in words {
            request.push_str(&format!("${}\r\n{w}\r\n", w.len()));
        }
        stream.write_all(request.as_bytes()).unwrap();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).unwrap();
        line.trim_end().to_owned()
    }
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("+PONG")
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The Redis this test binary shares, started on first use; `None` where redis-server is
/// missing (after a note; a failure under `LIBRECHAT_REQUIRE_PEERS=1`).
pub fn shared() -> Option<&'static Redis> {
    static SHARED: OnceLock<Option<Redis>> = OnceLock::new();
    SHARED.get_or_init(Redis::start).as_ref()
}

/// Under `LIBRECHAT_TEST_DATABASE=postgres`, the settings that put the server whose folder is
/// `dir` on the test binary's Redis (`USE_REDIS`, `REDIS_URI`, `REDIS_KEY_PREFIX`): a prefix of
/// its own, made the first time and remembered in `dir/redis-prefix`, so servers never see each
/// other's limits, bans or answers, and a restarted server, or an admin command run there, finds
/// its own. `None` otherwise.
pub fn profile_redis(dir: &Path) -> Option<[(&'static str, String); 3]> {
    if std::env::var("LIBRECHAT_TEST_DATABASE").as_deref() != Ok("postgres") {
        return None;
    }
    let redis = shared().expect("LIBRECHAT_TEST_DATABASE=postgres needs redis-server installed");
    let marker = dir.join("redis-prefix");
    let prefix = std::fs::read_to_string(&marker).unwrap_or_else(|_| {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let prefix = format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed));
        std::fs::write(&marker, &prefix).unwrap();
        prefix
    });
    Some([
        ("USE_REDIS", "true".to_owned()),
        ("REDIS_URI", redis.url.clone()),
        ("REDIS_KEY_PREFIX", prefix),
    ])
}
