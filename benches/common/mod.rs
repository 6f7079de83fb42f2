//! What the benchmark programs share: a minimal HTTP client for the server under test, and the
//! generated data set.
#![allow(dead_code)] // each benchmark uses a different part

pub mod dataset;
pub mod fake_llm;
pub mod pdf;
pub mod people;
pub mod stream;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One HTTP/1.1 request to 127.0.0.1:`port`; the whole response, or None if the server is not up.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).ok()?;
    Some(String::from_utf8_lossy(&resp).into_owned())
}

/// Starts the release `librechat serve` in `dir` on a free port with these environment
/// variables (and no others), and waits until `/health` answers. Returns the child and its port.
pub fn start_server(dir: &Path, env: &[(&str, &str)]) -> (Child, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_librechat"));
    cmd.args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()])
        .current_dir(dir)
        .env_clear()
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("spawn librechat");
    while request(port, "GET", "/health", None, "").is_none() {
        std::thread::sleep(Duration::from_millis(5));
    }
    (child, port)
}

/// Runs the release binary with `args` in `dir`, which must succeed: what it printed, how
/// long it took (seconds), and its peak resident memory in MB (its `VmHWM`, read from /proc
/// every 20 ms while it runs).
pub fn run_measured(dir: &Path, args: &[&str]) -> (String, f64, f64) {
    let started = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_librechat"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut peak = 0f64;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        peak = peak.max(stream::peak_rss_mb(child.id()));
        std::thread::sleep(Duration::from_millis(20));
    };
    let secs = started.elapsed().as_secs_f64();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(status.success(), "{args:?}: {out}");
    (out, secs, peak)
}

/// Registers `email` (password "benchmark password", its name's part before `@` as username)
/// and signs in; the access token.
pub async fn sign_up(http: &reqwest::Client, base: &str, email: &str) -> String {
    let pw = "benchmark password";
    http.post(format!("{base}/api/auth/register"))
        .json(
            &serde_json::json!({"email": email, "password": pw, "confirm_password": pw,
                                  "name": "Bench", "username": email.split('@').next().unwrap()}),
        )
        .send()
        .await
        .unwrap();
    let login: serde_json::Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"email": email, "password": pw}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["token"].as_str().unwrap().to_owned()
}
