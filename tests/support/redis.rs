//! A real Redis for tests: Debian's `redis-server` on a free loopback port, with nothing saved
//! (`--save '' --appendonly no`) and its working folder in a temporary folder. Skipped with a
//! note where redis-server is missing, unless `LIBRECHAT_REQUIRE_PEERS=1`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::smtp::peers_required;

const REDIS_SERVER: &str = "/usr/bin/redis-server";

pub struct Redis {
    child: Child,
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
            let mut child = Command::new(REDIS_SERVER)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken: try another
                }
                if ping(port) {
                    return Some(Self {
                        child,
                        port,
                        url: format!("redis://127.0.0.1:{port}"),
                        _dir: dir,
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start");
    }

    /// Stops the server now (as a crash would), to see what depends on it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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
