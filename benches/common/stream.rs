//! Reading the server's event streams, and the figures the benchmarks print.

use std::time::Duration;

use serde_json::Value;

/// Reads SSE frames from a response until `stop` says so; returns how many it read. (A
/// reader slower than the provider's burst gets a `sync` frame with the text so far instead
/// of each delta: both count as the first content.)
pub async fn read_until(
    resp: &mut reqwest::Response,
    buf: &mut String,
    mut stop: impl FnMut(&Value) -> bool,
) -> usize {
    let mut n = 0;
    let mut seen: Vec<String> = Vec::new();
    loop {
        while let Some(end) = buf.find("\n\n") {
            let raw: String = buf.drain(..end + 2).collect();
            let Some(data) = raw.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let v: Value = serde_json::from_str(data).unwrap();
            if v["final"] == true && v.get("error").is_some() {
                panic!("the answer failed: {v}");
            }
            n += 1;
            seen.push(v.to_string().chars().take(200).collect());
            if stop(&v) {
                return n;
            }
        }
        let Some(chunk) = resp.chunk().await.unwrap() else {
            panic!("stream ended early: {seen:?}");
        };
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

pub fn rss_mb(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0
}

/// Peak resident memory of a process, MB (its `VmHWM`).
pub fn peak_rss_mb(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// The release server in front of the fake provider, with one person signed up and in: what
/// the chat benchmarks measure. Titles, search and the message limiters are off.
pub struct ChatServer {
    pub server: std::process::Child,
    pub port: u16,
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    _dir: tempfile::TempDir,
}

impl ChatServer {
    /// Starts it with `models` (the fake's) on the OpenAI endpoint at `provider`.
    pub async fn start(provider: &str, models: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (server, port) = super::start_server(
            dir.path(),
            &[
                ("OPENAI_API_KEY", "bench"),
                ("OPENAI_REVERSE_PROXY", provider),
                ("OPENAI_MODELS", models),
                ("TITLE_CONVO", "false"),
                ("LIMIT_CONCURRENT_MESSAGES", "false"),
                ("LIMIT_MESSAGE_IP", "false"),
                ("LIMIT_MESSAGE_USER", "false"),
                ("SEARCH", "false"),
            ],
        );
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(2000)
            .build()
            .unwrap();
        let (email, pw) = (super::dataset::EMAIL, super::dataset::PASSWORD);
        http.post(format!("{base}/api/auth/register"))
            .json(&serde_json::json!({"email": email, "password": pw, "confirm_password": pw, "name": "Bench", "username": "bench"}))
            .send()
            .await
            .unwrap();
        let login: Value = http
            .post(format!("{base}/api/auth/login"))
            .json(&serde_json::json!({"email": email, "password": pw}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().unwrap().to_owned();
        ChatServer {
            server,
            port,
            base,
            http,
            token,
            _dir: dir,
        }
    }

    /// Stops the server.
    pub fn stop(mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// `path` asked 300 times in a row with `token`; prints p50/p99 and, of the first answer, what
/// `count` finds in it (`unit` names it).
pub fn measure(
    port: u16,
    token: &str,
    what: &str,
    path: &str,
    unit: &str,
    count: impl Fn(&str) -> usize,
) {
    let mut times = Vec::new();
    let mut held = 0;
    for i in 0..300 {
        let t = std::time::Instant::now();
        let resp = super::request(port, "GET", path, Some(token), "").unwrap();
        times.push(t.elapsed());
        if i == 0 {
            assert!(resp.starts_with("HTTP/1.1 200"), "{path}: {resp:.300}");
            held = count(&resp);
        }
    }
    times.sort();
    println!(
        "{what}: p50 {:.2} ms, p99 {:.2} ms ({held} {unit}, 300 sequential requests)",
        pct(&times, 0.5),
        pct(&times, 0.99)
    );
}
