//! A real SMTP server for tests: PyPI's `aiosmtpd` with its Mailbox handler, delivering into a
//! maildir that tests read back.
//!
//! The Python used is `$LIBRECHAT_TEST_PYTHON`, else `python3`. Where aiosmtpd is missing the
//! tests that need it are skipped with a note, so a plain `cargo test` passes anywhere; CI sets
//! `LIBRECHAT_REQUIRE_PEERS=1` (and installs aiosmtpd), which turns a missing peer into a failure.

use super::python;
use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    maildir: tempfile::TempDir,
}

/// Whether the suite must not skip tests whose peers are missing.
pub fn peers_required() -> bool {
    std::env::var("LIBRECHAT_REQUIRE_PEERS").is_ok_and(|v| v == "1" || v == "true")
}

impl SmtpSink {
    /// Starts aiosmtpd on a free loopback port; `None` (after a note) when it is not installed.
    pub fn start() -> Option<Self> {
        let available = Command::new(python())
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            assert!(
                !peers_required(),
                "aiosmtpd is required (LIBRECHAT_REQUIRE_PEERS=1) but {} cannot import it",
                python()
            );
            eprintln!("skipped: aiosmtpd is not installed (pip install aiosmtpd, or run .ci/run)");
            return None;
        }
        let maildir = tempfile::tempdir().unwrap();
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir(maildir.path().join(sub)).unwrap();
        }
        // The free port is found by binding and releasing it; if another process takes it in
        // between, aiosmtpd fails to start and we try another.
        for _ in 0..20 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = Command::new(python())
                .args([
                    "-m",
                    "aiosmtpd",
                    "-n",
                    "-l",
                    &format!("127.0.0.1:{port}"),
                    "-c",
                    "aiosmtpd.handlers.Mailbox",
                ])
                .arg(maildir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn aiosmtpd");
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: the port was taken
                }
                if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                    let mut banner = [0u8; 3];
                    if s.read_exact(&mut banner).is_ok() && &banner == b"220" {
                        return Some(Self {
                            child,
                            port,
                            maildir,
                        });
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("aiosmtpd did not start");
    }

    /// Waits (bounded) for the `nth` message (counting from 1) addressed to `to`; returns its
    /// decoded text part. Async, so the server in the same runtime keeps sending meanwhile.
    pub async fn message_to(&self, to: &str, nth: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut found: Vec<(std::time::SystemTime, String)> = Vec::new();
            for dir in ["new", "cur"] {
                for entry in std::fs::read_dir(self.maildir.path().join(dir)).unwrap() {
                    let path: PathBuf = entry.unwrap().path();
                    let raw = std::fs::read_to_string(&path).unwrap_or_default();
                    let to_line = raw
                        .lines()
                        .find(|l| l.to_ascii_lowercase().starts_with("to:"))
                        .unwrap_or("");
                    if to_line.contains(to) {
                        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).unwrap();
                        found.push((modified, raw));
                    }
                }
            }
            if found.len() >= nth {
                found.sort_by_key(|(t, _)| *t);
                return text_part(&found[nth - 1].1);
            }
            if Instant::now() > deadline {
                let mut seen = Vec::new();
                for dir in ["new", "cur", "tmp"] {
                    for entry in std::fs::read_dir(self.maildir.path().join(dir)).unwrap() {
                        let raw =
                            std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
                        let heads: Vec<&str> = raw
                            .lines()
                            .filter(|l| l.starts_with("To:") || l.starts_with("Subject:"))
                            .collect();
                        seen.push(heads.join(" | "));
                    }
                }
                panic!("no message {nth} to {to} arrived; the mailbox has: {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The subject and decoded `text/plain` part of a raw message.
fn text_part(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let subject = raw
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap_or("")
        .to_owned();
    let start = raw.find("Content-Type: text/plain").expect("a text part");
    let part = &raw[start..];
    let (headers, body) = part.split_once("\n\n").unwrap();
    let body = body.split("\n--").next().unwrap();
    let decoded = if headers.contains("quoted-printable") {
        decode_qp(body)
    } else if headers.contains("base64") {
        let joined: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap(),
        )
        .unwrap()
    } else {
        body.to_owned()
    };
    format!("{subject}\n{decoded}")
}

fn decode_qp(s: &str) -> String {
    let joined = s.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 3 <= bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first URL in `text` that starts with `prefix`.
pub fn link(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in:\n{text}"));
    text[start..].split_whitespace().next().unwrap().to_owned()
}

/// The value of query parameter `name` in `url`, percent-decoded.
pub fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}
