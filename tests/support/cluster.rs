//! Several replicas of the real binary behind Debian's HAProxy, as packaging/compose runs them:
//! one PostgreSQL database, one Redis, one S3-compatible store (moto), the fake OpenAI
//! provider, and HAProxy started with the shipped `packaging/compose/haproxy.cfg` (its
//! addresses from the environment), plus a stats page of its own to see which replica is up and
//! how many requests each took. Replicas are child processes, so a test can kill one.
//!
//! Skipped with a note where a peer is missing, unless `LIBRECHAT_REQUIRE_PEERS=1`.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::fake_openai::{FakeOpenAi, KEY};
use super::moto::Moto;
use super::redis::Redis;
use super::smtp::peers_required;
use super::{SHARED_SECRETS, ServeProcess};

const HAPROXY: &str = "/usr/sbin/haproxy";
const HAPROXY_CFG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/compose/haproxy.cfg");
const REPLICA_YAML: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/packaging/compose/librechat.yaml"
);

pub struct Cluster {
    /// The load balancer's address (`http://127.0.0.1:PORT`): where people connect.
    pub lb: String,
    /// The replicas, `None` once killed.
    pub replicas: Vec<Option<ServeProcess>>,
    pub fake: FakeOpenAi,
    pub redis: Redis,
    pub moto: Moto,
    pub database_url: String,
    stats: String,
    haproxy: Child,
    _dir: tempfile::TempDir,
}

/// One server's (or the load balancer's) HTTP API, seen from outside.
pub struct Remote {
    pub base: String,
    pub client: reqwest::Client,
}

impl Cluster {
    /// `n` replicas (at most 3: the shipped haproxy.cfg names three) behind HAProxy, each
    /// started with `extra` environment on top of the cluster's, waited for until HAProxy
    /// sees them all up. `None` when a peer is missing (and peers are not required).
    pub async fn start(n: usize, extra: &[(&str, &str)]) -> Option<Self> {
        assert!((1..=3).contains(&n));
        if !Path::new(HAPROXY).exists() {
            assert!(
                !peers_required(),
                "haproxy is required (LIBRECHAT_REQUIRE_PEERS=1) but {HAPROXY} is missing"
            );
            eprintln!("skipped: haproxy is not installed (apt install haproxy, or run .ci/run)");
            return None;
        }
        let database_url = super::postgres::fresh_database()?;
        let redis = Redis::start()?;
        let moto = Moto::start().await?;
        let fake = FakeOpenAi::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut replicas = Vec::new();
        for i in 0..n {
            replicas.push(Some(Self::replica(
                dir.path(),
                i,
                &database_url,
                &redis,
                &moto,
                &fake,
                extra,
            )));
        }
        let lb_port = super::free_port();
        let stats_port = super::free_port();
        let stats_cfg = dir.path().join("stats.cfg");
        std::fs::write(
            &stats_cfg,
            format!(
                "listen stats\n    bind 127.0.0.1:{stats_port}\n    stats enable\n    stats uri /stats\n"
            ),
        )
        .unwrap();
        let mut cmd = Command::new(HAPROXY);
        cmd.args(["-db", "-f", HAPROXY_CFG, "-f"])
            .arg(&stats_cfg)
            .env("LISTEN", format!("127.0.0.1:{lb_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Fewer than three replicas: the rest point at a closed port and stay down.
        for i in 0..3 {
            let addr = replicas
                .get(i)
                .and_then(Option::as_ref)
                .map_or_else(|| "127.0.0.1:1".to_owned(), |r| host_port(&r.base));
            cmd.env(format!("REPLICA_{}", i + 1), addr);
        }
        let haproxy = cmd.spawn().expect("spawn haproxy");
        let cluster = Self {
            lb: format!("http://127.0.0.1:{lb_port}"),
            replicas,
            fake,
            redis,
            moto,
            database_url,
            stats: format!("http://127.0.0.1:{stats_port}/stats;csv"),
            haproxy,
            _dir: dir,
        };
        cluster.wait_until_up(n).await;
        Some(cluster)
    }

    fn replica(
        dir: &Path,
        i: usize,
        database_url: &str,
        redis: &Redis,
        moto: &Moto,
        fake: &FakeOpenAi,
        extra: &[(&str, &str)],
    ) -> ServeProcess {
        let home = dir.join(format!("replica{}", i + 1));
        std::fs::create_dir_all(home.join("data")).unwrap();
        let mut cmd = super::librechat(&home);
        cmd.env("LIBRECHAT_DATA_DIR", home.join("data"))
            .env("CONFIG_PATH", REPLICA_YAML)
            .env("DATABASE_URL", database_url)
            .env("USE_REDIS", "true")
            .env("REDIS_URI", &redis.url)
            .env("USE_REDIS_STREAMS", "true")
            .env("TRUST_PROXY", "1")
            .env("OPENAI_API_KEY", KEY)
            .env("OPENAI_REVERSE_PROXY", &fake.base)
            .env("OPENAI_MODELS", "gpt-4o");
        for (k, v) in SHARED_SECRETS {
            cmd.env(k, v);
        }
        for (k, v) in moto.env() {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        ServeProcess::start(cmd)
    }

    /// HAProxy's view of each replica: (name, status such as `UP`/`DOWN`, requests sent).
    pub async fn servers(&self) -> Vec<(String, String, u64)> {
        let Ok(resp) = reqwest::Client::new().get(&self.stats).send().await else {
            return Vec::new();
        };
        let text = resp.text().await.unwrap_or_default();
        let mut lines = text.lines();
        let header: Vec<&str> = lines
            .next()
            .unwrap_or("")
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let col = |name: &str| header.iter().position(|h| *h == name);
        let (Some(px), Some(sv), Some(status), Some(total)) =
            (col("pxname"), col("svname"), col("status"), col("stot"))
        else {
            return Vec::new();
        };
        lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.get(px) == Some(&"replicas") && f[sv].starts_with("replica"))
            .map(|f| {
                (
                    f[sv].to_owned(),
                    f[status].to_owned(),
                    f[total].parse().unwrap_or(0),
                )
            })
            .collect()
    }

    /// Waits (generously: a loaded machine is slow, not broken) until HAProxy counts `n`
    /// replicas up.
    pub async fn wait_until_up(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let servers = self.servers().await;
            if servers.iter().filter(|s| s.1 == "UP").count() == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "HAProxy did not see {n} replicas up: {servers:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Kills replica `i` at once (SIGKILL: no goodbye, as a machine failing) and waits until
    /// HAProxy has taken it out of rotation.
    pub async fn kill(&mut self, i: usize) {
        let mut replica = self.replicas[i].take().expect("a live replica");
        let _ = replica.child.kill();
        let _ = replica.child.wait();
        let name = format!("replica{}", i + 1);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let servers = self.servers().await;
            if servers
                .iter()
                .any(|s| s.0 == name && s.1.starts_with("DOWN"))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "HAProxy did not take {name} out: {servers:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The load balancer.
    pub fn front(&self) -> Remote {
        Remote::new(&self.lb)
    }

    /// Replica `i` directly, past the load balancer.
    pub fn direct(&self, i: usize) -> Remote {
        Remote::new(&self.replicas[i].as_ref().expect("a live replica").base)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.haproxy.kill();
        let _ = self.haproxy.wait();
    }
}

fn host_port(base: &str) -> String {
    base.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

impl Remote {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A JSON request, with a bearer token unless it is empty.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Value,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method.parse().unwrap(), self.url(path))
            .json(&body);
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request")
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request")
    }

    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let resp = self.get(path, token).await;
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.expect("JSON")
    }

    /// Registers and logs in: the access token and the user's id.
    pub async fn signed_in(&self, email: &str, password: &str) -> (String, String) {
        let body = json!({"name": "Test User", "email": email, "password": password, "confirm_password": password});
        let resp = self.send("POST", "/api/auth/register", "", body).await;
        assert_eq!(resp.status(), 200, "register {email}");
        self.login(email, password).await
    }

    /// Logs in: the access token and the user's id.
    pub async fn login(&self, email: &str, password: &str) -> (String, String) {
        let resp = self
            .send(
                "POST",
                "/api/auth/login",
                "",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(resp.status(), 200, "login {email}");
        let body: Value = resp.json().await.unwrap();
        let token = body["token"].as_str().expect("a token").to_owned();
        (
            token,
            body["user"]["id"].as_str().expect("an id").to_owned(),
        )
    }

    /// Follows an answer's stream (`GET /api/agents/chat/stream/:id`) until it ends: its
    /// frames' JSON, in order.
    pub async fn frames(&self, token: &str, stream_id: &str) -> Vec<Value> {
        let resp = self
            .get(&format!("/api/agents/chat/stream/{stream_id}"), token)
            .await;
        assert_eq!(resp.status(), 200, "the stream");
        let text = resp.text().await.expect("the stream's body");
        text.lines()
            .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    }

    /// Starts an answer; its stream id.
    pub async fn start_chat(&self, token: &str, body: Value) -> String {
        let resp = self
            .send("POST", "/api/agents/chat/openAI", token, body)
            .await;
        assert_eq!(resp.status(), 200, "the chat did not start");
        let started: Value = resp.json().await.unwrap();
        started["streamId"]
            .as_str()
            .expect("a stream id")
            .to_owned()
    }

    /// Uploads `bytes` as a file of `name`: the status and body.
    pub async fn upload(
        &self,
        token: &str,
        name: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> (u16, Value) {
        let form = super::upload_form("openAI", name, mime, bytes).text("message_file", "true");
        let resp = self
            .client
            .post(self.url("/api/files"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}
