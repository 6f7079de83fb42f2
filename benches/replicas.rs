//! Several replicas benchmark (not a test): `cargo bench --bench replicas`.
//!
//! The release server on SQLite (one process, as shipped by default) against 1, 2 and 3
//! replicas on one PostgreSQL with Redis, behind HAProxy with `packaging/compose/haproxy.cfg`,
//! all on this machine: requests per second and p50/p99 of `GET /api/convos` (25 of one person's
//! 100 conversations) and of chat turns (`POST /api/agents/chat/openAI`, then its stream to the
//! final frame, against the fast fake provider's five-token answer), and each replica's resident
//! memory afterwards. Each measurement runs `BENCH_SECONDS` (10) with `BENCH_CLIENTS` (32)
//! requests in flight.
//!
//! PostgreSQL runs with `synchronous_commit=off`, the durability SQLite has here (WAL with
//! `synchronous=NORMAL`: a power cut may lose the last commits, never corrupt). Chat turns
//! through HAProxy need a stream to be followed on any replica (`USE_REDIS_STREAMS`); each turn
//! asks one replica for both its POST and its stream, the replicas taken in turn by the client,
//! unless `BENCH_CHAT_THROUGH_LB=1`.
//!
//! Needs Debian's postgresql, redis-server and haproxy (`.ci/run` installs them).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::stream::{pct, rss_mb};
use serde_json::{Value, json};

const HAPROXY_CFG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/compose/haproxy.cfg");
const EMAIL: &str = "bench@example.org";
const SECRETS: [(&str, &str); 4] = [
    ("JWT_SECRET", "bench-replicas-jwt-secret-0123456789abcdef"),
    (
        "JWT_REFRESH_SECRET",
        "bench-replicas-refresh-secret-0123456789abcdef",
    ),
    (
        "CREDS_KEY",
        "5d1c9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d",
    ),
    ("CREDS_IV", "1f2e3d4c5b6a79880f1e2d3c4b5a6978"),
];

fn main() {
    if std::env::var_os("BENCH_FAKE_PROVIDER").is_some() {
        common::fake_llm::serve_forever();
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A throwaway PostgreSQL cluster (as the `postgres` user under root), on a free port.
fn postgres(dir: &Path) -> (Proc, String) {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (apt install postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .find(|b| b.join("initdb").exists())
        .expect("initdb");
    let data = dir.join("pg");
    std::fs::create_dir_all(&data).unwrap();
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    let as_owner = |program: &Path| {
        if root {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=postgres",
                "--regid=postgres",
                "--init-groups",
                "--",
            ])
            .arg(program);
            c
        } else {
            Command::new(program)
        }
    };
    if root {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let out = as_owner(&bin.join("initdb"))
        .arg("-D")
        .arg(data.join("data"))
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let child = as_owner(&bin.join("postgres"))
        .arg("-D")
        .arg(data.join("data"))
        .args(["-p", &port.to_string(), "-k"])
        .arg(&data)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "synchronous_commit=off",
        ])
        .args(["-c", "max_connections=200"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "postgres did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Accepting connections is not yet accepting sessions: wait for a query to work.
    while !Command::new(bin.join("psql"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args(["-c", "select 1", "-q", "-o", "/dev/null"])
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(Instant::now() < deadline, "postgres did not answer");
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        Proc(child),
        format!("postgres://postgres@127.0.0.1:{port}/postgres"),
    )
}

fn redis() -> (Proc, String) {
    let port = free_port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server is installed (apt install redis-server)");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    (Proc(child), format!("redis://127.0.0.1:{port}"))
}

fn haproxy(replicas: &[u16]) -> (Proc, String) {
    let port = free_port();
    let mut cmd = Command::new("haproxy");
    cmd.args(["-db", "-f", HAPROXY_CFG])
        .env("LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for i in 0..3 {
        let target = replicas.get(i).copied().unwrap_or(1);
        cmd.env(format!("REPLICA_{}", i + 1), format!("127.0.0.1:{target}"));
    }
    let child = cmd
        .spawn()
        .expect("haproxy is installed (apt install haproxy)");
    let base = format!("http://127.0.0.1:{port}");
    // Until HAProxy has checked a replica up, requests meet "no server available".
    let ready = || {
        common::request(port, "GET", "/ready", None, "")
            .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "haproxy did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Health checks run every second: by then all are marked up.
    std::thread::sleep(Duration::from_millis(2500));
    (Proc(child), base)
}

/// A replica (or the lone SQLite server): the release binary with the bench's settings.
fn server(dir: &Path, provider: &str, extra: &[(&str, &str)]) -> (Proc, u16) {
    std::fs::create_dir_all(dir).unwrap();
    let mut env: Vec<(&str, &str)> = vec![
        ("OPENAI_API_KEY", "bench"),
        ("OPENAI_REVERSE_PROXY", provider),
        ("OPENAI_MODELS", "calc-0"),
        ("TITLE_CONVO", "false"),
        ("LIMIT_CONCURRENT_MESSAGES", "false"),
        ("LIMIT_MESSAGE_IP", "false"),
        ("LIMIT_MESSAGE_USER", "false"),
        ("TRUST_PROXY", "1"),
        ("LOGIN_MAX", "100000"),
        ("REGISTER_MAX", "100000"),
    ];
    let data = dir.join("data");
    let data = data.to_str().unwrap().to_owned();
    env.push(("LIBRECHAT_DATA_DIR", &data));
    env.extend_from_slice(extra);
    let (child, port) = common::start_server(dir, &env);
    (Proc(child), port)
}

/// Runs `one` from `clients` tasks for `seconds`: requests per second, p50 and p99 (ms).
async fn load<F, Fut>(clients: u64, seconds: u64, one: F) -> (f64, f64, f64)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let one = Arc::new(one);
    let end = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let one = one.clone();
            tokio::spawn(async move {
                let mut times = Vec::new();
                let mut n = c;
                while Instant::now() < end {
                    let t = Instant::now();
                    one(n).await;
                    times.push(t.elapsed());
                    n += clients;
                }
                times
            })
        })
        .collect();
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.unwrap());
    }
    let took = started.elapsed().as_secs_f64();
    times.sort();
    (
        times.len() as f64 / took,
        pct(&times, 0.5),
        pct(&times, 0.99),
    )
}

/// One chat turn on `base`: POST, then the stream to its final frame.
async fn turn(http: &reqwest::Client, base: &str, token: &str, text: &str) {
    let started: Value = http
        .post(format!("{base}/api/agents/chat/openAI"))
        .bearer_auth(token)
        .json(&json!({"text": text, "model": "calc-0", "endpoint": "openAI"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["streamId"].as_str().expect("a stream id");
    let body = http
        .get(format!("{base}/api/agents/chat/stream/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("\"final\":true"), "{body:.300}");
}

/// Measures one setup: `front` is where people connect, `replicas` the servers behind it.
async fn measure(name: &str, front: &str, replicas: &[(u16, u32)], provider_note: &str) {
    let (clients, seconds) = (env_num("BENCH_CLIENTS", 32), env_num("BENCH_SECONDS", 10));
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let token = common::sign_up(&http, front, EMAIL).await;
    let bases: Vec<String> = replicas
        .iter()
        .map(|(p, _)| format!("http://127.0.0.1:{p}"))
        .collect();
    for i in 0..100 {
        turn(
            &http,
            &bases[i % bases.len()],
            &token,
            &format!("question {i}"),
        )
        .await;
    }
    let (h, f, t) = (http.clone(), front.to_owned(), token.clone());
    let (rps, p50, p99) = load(clients, seconds, move |_| {
        let (h, f, t) = (h.clone(), f.clone(), t.clone());
        async move {
            let resp = h
                .get(format!("{f}/api/convos?limit=25"))
                .bearer_auth(&t)
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success());
            resp.bytes().await.unwrap();
        }
    })
    .await;
    println!("{name}: GET /api/convos {rps:.0} req/s, p50 {p50:.1} ms, p99 {p99:.1} ms");
    let through_lb = std::env::var("BENCH_CHAT_THROUGH_LB").is_ok_and(|v| v == "1");
    let targets: Arc<Vec<String>> = Arc::new(if through_lb {
        vec![front.to_owned()]
    } else {
        bases
    });
    let (h, t) = (http.clone(), token.clone());
    let (rps, p50, p99) = load(clients.min(16), seconds, move |n| {
        let (h, t, targets) = (h.clone(), t.clone(), targets.clone());
        async move {
            let base = &targets[n as usize % targets.len()];
            turn(&h, base, &t, "how are you").await;
        }
    })
    .await;
    println!("{name}: chat turns {rps:.0} /s, p50 {p50:.1} ms, p99 {p99:.1} ms{provider_note}");
    let rss: Vec<String> = replicas
        .iter()
        .map(|(_, pid)| format!("{:.0} MB", rss_mb(*pid)))
        .collect();
    println!("{name}: RSS per replica after the load: {}", rss.join(", "));
}

async fn run() {
    let fake = common::fake_llm::Fake::spawn();
    let only: Option<String> = std::env::var("BENCH_ONLY").ok();
    let wanted = |n: &str| only.as_deref().is_none_or(|o| o.split(',').any(|w| w == n));

    if wanted("sqlite") {
        let dir = tempfile::tempdir().unwrap();
        let (proc_, port) = server(dir.path(), &fake.base, &[]);
        let base = format!("http://127.0.0.1:{port}");
        measure("SQLite, 1 server", &base, &[(port, proc_.0.id())], "").await;
    }
    for n in [1usize, 2, 3] {
        if !wanted(&n.to_string()) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let (_pg, database_url) = postgres(dir.path());
        let (_redis, redis_url) = redis();
        let mut env: Vec<(&str, &str)> = vec![
            ("DATABASE_URL", &database_url),
            ("USE_REDIS", "true"),
            ("REDIS_URI", &redis_url),
            ("USE_REDIS_STREAMS", "true"),
        ];
        env.extend_from_slice(&SECRETS);
        let replicas: Vec<(Proc, u16)> = (0..n)
            .map(|i| server(&dir.path().join(format!("r{i}")), &fake.base, &env))
            .collect();
        let ports: Vec<u16> = replicas.iter().map(|(_, p)| *p).collect();
        let (_lb, front) = haproxy(&ports);
        let ids: Vec<(u16, u32)> = replicas.iter().map(|(c, p)| (*p, c.0.id())).collect();
        let note = if n > 1 && std::env::var("BENCH_CHAT_THROUGH_LB").is_err() {
            " (each turn on one replica, the replicas taken in turn)"
        } else {
            ""
        };
        measure(
            &format!("PostgreSQL + Redis, {n} replica(s) behind HAProxy"),
            &front,
            &ids,
            note,
        )
        .await;
    }
}
