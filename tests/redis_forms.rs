//! The other forms of Redis that LibreChat's variables name, against real redis-servers: TLS
//! (`rediss://` with `REDIS_CA`, the server's certificate signed by a test CA) and a cluster of
//! three masters (`USE_REDIS_CLUSTER` with every node's URI). On each, a limiter counts across
//! two replicas and `/ready` reports Redis; a replica that does not trust the server's
//! certificate refuses to start, saying so.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::TestServer;
use support::smtp::peers_required;

const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// A redis-server child, killed when dropped.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn installed() -> bool {
    if Path::new(REDIS_SERVER).exists() {
        return true;
    }
    assert!(!peers_required(), "redis-server is required");
    eprintln!("skipped: redis-server is not installed (apt install redis-server)");
    false
}

/// Starts redis-server with `args` (nothing saved, working folder `dir`) and waits until
/// `port` accepts connections.
fn node(dir: &Path, port: u16, args: &[&str]) -> Node {
    let child = Command::new(REDIS_SERVER)
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Node(child)
}

fn redis_cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn replica(env: &[(&str, &str)]) -> TestServer {
    let mut b = TestServer::builder()
        .env("USE_REDIS", "true")
        .env("LOGIN_MAX", "3")
        .env("BAN_VIOLATIONS", "false");
    for (k, v) in env {
        b = b.env(k, v);
    }
    b.start().await
}

async fn bad_login(server: &TestServer) -> u16 {
    server
        .post_json(
            "/api/auth/login",
            json!({"email": "nobody@example.org", "password": "wrong password"}),
        )
        .await
        .status()
        .as_u16()
}

/// Two replicas on `env`: three failed logins pass (two on A, one on B), the fourth is refused
/// by either; both report Redis ready.
async fn limiter_counts_across(env: &[(&str, &str)]) {
    let (a, b) = (replica(env).await, replica(env).await);
    for server in [&a, &b] {
        let ready: Value = server.get("/ready").await.json().await.unwrap();
        assert_eq!(ready["redis"], "ok", "{ready}");
    }
    assert_eq!(bad_login(&a).await, 401);
    assert_eq!(bad_login(&b).await, 401);
    assert_eq!(bad_login(&a).await, 401);
    assert_eq!(bad_login(&b).await, 429);
    assert_eq!(bad_login(&a).await, 429);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn over_tls_with_the_ca_given() {
    if !installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    support::ca_and_server_cert(dir.path());
    let port = support::free_port();
    let file = |name: &str| dir.path().join(name).display().to_string();
    let _redis = node(
        dir.path(),
        port,
        &[
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--tls-cert-file",
            &file("server.pem"),
            "--tls-key-file",
            &file("server.key"),
            "--tls-ca-cert-file",
            &file("ca.pem"),
            "--tls-auth-clients",
            "no",
        ],
    );
    let uri = format!("rediss://127.0.0.1:{port}");
    limiter_counts_across(&[("REDIS_URI", &uri), ("REDIS_CA", &file("ca.pem"))]).await;

    // Without the CA the server's certificate is not trusted: the replica does not start.
    let scratch = tempfile::tempdir().unwrap();
    let settings = TestServer::builder()
        .env("USE_REDIS", "true")
        .env("REDIS_URI", &uri)
        .settings(scratch.path())
        .unwrap();
    std::fs::create_dir_all(&settings.data_dir).unwrap();
    let refused = librechat::server::AppState::init(settings).await.err();
    let text = refused.map(|e| e.to_string()).unwrap_or_default();
    assert!(text.contains("USE_REDIS"), "started untrusting: {text}");
}

#[tokio::test]
async fn on_a_cluster_of_three() {
    if !installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..3).map(|_| support::free_port()).collect();
    let _nodes: Vec<Node> = ports
        .iter()
        .map(|p| {
            let conf = format!("nodes-{p}.conf");
            node(
                dir.path(),
                *p,
                &[
                    "--port",
                    &p.to_string(),
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &conf,
                ],
            )
        })
        .collect();
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let mut create = vec!["--cluster", "create"];
    create.extend(addrs.iter().map(String::as_str));
    create.extend(["--cluster-replicas", "0", "--cluster-yes"]);
    redis_cli(&create);
    let deadline = Instant::now() + Duration::from_secs(60);
    for p in &ports {
        while !redis_cli(&["-p", &p.to_string(), "cluster", "info"]).contains("cluster_state:ok") {
            assert!(Instant::now() < deadline, "the cluster did not form");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let uri = addrs
        .iter()
        .map(|a| format!("redis://{a}"))
        .collect::<Vec<_>>()
        .join(",");
    limiter_counts_across(&[("REDIS_URI", &uri), ("USE_REDIS_CLUSTER", "true")]).await;
}
