//! Test harness: the real server on 127.0.0.1:0 with a temporary data folder, and helpers to run
//! the built `librechat` binary.
#![allow(dead_code)] // each test file uses a different part of the harness

/// Held while a test peer picks a free port and starts listening on it, so that two tests of
/// one binary never take the same port and mistake each other's peer for their own.
pub static PEER_START: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The Python the test peers run on (`LIBRECHAT_TEST_PYTHON`, which `.ci/run` sets to the
/// virtual environment it installs them in), or `python3`.
pub fn python() -> String {
    std::env::var("LIBRECHAT_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

pub mod agents;
pub mod client_build;
pub mod cluster;
pub mod events;
pub mod fake_api;
pub mod fake_apple;
pub mod fake_embeddings;
pub mod fake_hostile;
pub mod fake_openai;
pub mod fake_search;
pub mod fake_services;
pub mod fake_social;
pub mod fake_tools;
pub mod fake_wolfram;
pub mod file_search;
pub mod filler;
pub mod librechat_dump;
pub mod mcp;
pub mod mcp_peers;
pub mod memory_agent;
pub mod moto;
pub mod node;
pub mod npm_mirror;
pub mod oidc;
pub mod poll;
pub mod postgres;
pub mod redis;
pub mod saml_forge;
pub mod saml_sp;
pub mod shared_prompts;
pub mod slapd;
pub mod smtp;
pub mod sso;
pub mod ssp;
pub mod stream;
pub mod web_search;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use librechat::config::{Env, Overrides, Settings};
use librechat::server::{self, AppState};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The server running in this test process.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// Holds the data folder (`<dir>/data`) and the config file; removed on drop.
    pub dir: Arc<TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// The secrets of test servers sharing a PostgreSQL database (replicas must share them).
pub const SHARED_SECRETS: [(&str, &str); 4] = [
    ("JWT_SECRET", "test-replicas-jwt-secret-0123456789abcdef"),
    (
        "JWT_REFRESH_SECRET",
        "test-replicas-refresh-secret-0123456789abcdef",
    ),
    (
        "CREDS_KEY",
        "7c3f9e1d2b4a6c8e0f1a3b5c7d9e2f4a6b8c0d2e4f6a8b1c3d5e7f9a0b2c4d6e",
    ),
    ("CREDS_IV", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
];

/// Settings for a [`TestServer`]: environment variables and librechat.yaml text.
#[derive(Default)]
pub struct Builder {
    env: Vec<(String, String)>,
    yaml: Option<String>,
    dir: Option<Arc<TempDir>>,
}

impl Builder {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
    pub fn yaml(mut self, text: &str) -> Self {
        self.yaml = Some(text.into());
        self
    }
    /// Reuse the folder of an earlier server (to test restarts).
    pub fn in_dir(mut self, dir: Arc<TempDir>) -> Self {
        self.dir = Some(dir);
        self
    }

    pub fn settings(&self, dir: &Path) -> Result<Settings, librechat::config::ConfigError> {
        let config = dir.join("librechat.yaml");
        std::fs::write(&config, self.yaml.as_deref().unwrap_or("version: 1.2.8\n")).unwrap();
        let mut pairs = vec![
            (
                "LIBRECHAT_DATA_DIR".to_string(),
                dir.join("data").display().to_string(),
            ),
            ("CONFIG_PATH".to_string(), config.display().to_string()),
        ];
        pairs.extend(self.env.iter().cloned());
        // LIBRECHAT_TEST_DATABASE=postgres: the same suites, same assertions, with the data in
        // PostgreSQL: one fresh database per data folder (a restarted server finds its own).
        // And its shared state on Redis, under a key prefix of its own.
        if !self.env.iter().any(|(k, _)| k == "DATABASE_URL")
            && let Some(url) = profile_database(dir)
        {
            pairs.push(("DATABASE_URL".into(), url));
            if !self.env.iter().any(|(k, _)| k == "USE_REDIS")
                && let Some(redis) = redis::profile_redis(dir)
            {
                pairs.extend(redis.map(|(k, v)| (k.to_owned(), v)));
            }
        }
        // Replicas of one PostgreSQL database must share their secrets (the server refuses to
        // start otherwise): test servers on PostgreSQL share these, unless a test sets its own.
        let on_postgres = pairs
            .iter()
            .any(|(k, v)| k == "DATABASE_URL" && !v.is_empty());
        if on_postgres {
            for (name, value) in SHARED_SECRETS {
                if !pairs.iter().any(|(k, _)| k == name) {
                    pairs.push((name.into(), value.into()));
                }
            }
        }
        Settings::load(&Env::from_pairs(pairs), &Overrides::default(), true)
    }

    pub async fn start(self) -> TestServer {
        let dir = self
            .dir
            .clone()
            .unwrap_or_else(|| Arc::new(tempfile::tempdir().unwrap()));
        let mut settings = self.settings(dir.path()).expect("test settings load");
        // Documents are read by `librechat read-document`, not by this test program.
        settings.files.document_reader = Some(env!("CARGO_BIN_EXE_librechat").into());
        let state = AppState::init(settings).await.expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, state.clone(), async {
            let _ = rx.await;
        }));
        TestServer {
            base,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            state,
            dir,
            shutdown: Some(tx),
            task: Some(task),
        }
    }
}

impl TestServer {
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub async fn start() -> Self {
        Builder::default().start().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Graceful stop, then the database is closed as `librechat serve` does.
    pub async fn stop(mut self) -> Arc<TempDir> {
        let _ = self.shutdown.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
        self.state.jobs.stop(std::time::Duration::ZERO).await;
        if let Some(search) = &self.state.search {
            search.close();
        }
        self.state.db.close().await.unwrap();
        self.dir.clone()
    }
}

/// The form LibreChat's client starts an upload with: the `endpoint`, the file (`bytes`
/// named `name`, of type `mime`) and a fresh `file_id`; the caller adds what says where the
/// file goes (`message_file`, `agent_id`, `tool_resource`).
pub fn upload_form(
    endpoint: &str,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> reqwest::multipart::Form {
    let file = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(mime)
        .unwrap();
    reqwest::multipart::Form::new()
        .text("endpoint", endpoint.to_owned())
        .part("file", file)
        .text("file_id", uuid::Uuid::new_v4().to_string())
}

/// A free loopback port (free now: a peer that then fails to bind it tries another).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A test CA (`ca.pem`, `ca.key`) and a certificate for 127.0.0.1 signed by it (`server.pem`,
/// `server.key`), in `dir`.
pub fn ca_and_server_cert(dir: &Path) {
    let ossl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(dir));
    ossl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=LibreChat Test CA",
        "-days",
        "2",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    ossl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    ossl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
}

/// Runs the `openssl` tool in `dir`; asserts it succeeded.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throwaway RSA key and self-signed certificate, `<name>.key` and `<name>.crt` in `dir`.
pub fn self_signed(dir: &Path, name: &str) {
    let (subject, key, crt) = (
        format!("/CN={name}"),
        format!("{name}.key"),
        format!("{name}.crt"),
    );
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", &subject,
            "-keyout", &key, "-out", &crt,
        ],
    );
}

/// Under `LIBRECHAT_TEST_DATABASE=postgres`, the database of the server whose folder is `dir`:
/// a fresh one in the test binary's PostgreSQL the first time, remembered in `dir/postgres-url`
/// (a restarted server, or an admin command run there, finds the same one). `None` otherwise.
pub fn profile_database(dir: &Path) -> Option<String> {
    if std::env::var("LIBRECHAT_TEST_DATABASE").as_deref() != Ok("postgres") {
        return None;
    }
    let marker = dir.join("postgres-url");
    Some(std::fs::read_to_string(&marker).unwrap_or_else(|_| {
        let url = postgres::fresh_database()
            .expect("LIBRECHAT_TEST_DATABASE=postgres needs PostgreSQL installed");
        std::fs::write(&marker, &url).unwrap();
        url
    }))
}

/// The built binary, run in `cwd` with an empty environment (plus PATH), so the developer's own
/// settings never leak into a test.
pub fn librechat(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_librechat"));
    cmd.current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    // Under LIBRECHAT_TEST_DATABASE=postgres, a command run in a test server's folder uses
    // that server's database, as an administrator's would with the server's DATABASE_URL.
    if let Ok(url) = std::fs::read_to_string(cwd.join("postgres-url")) {
        cmd.env("DATABASE_URL", url);
    }
    if cwd.join("redis-prefix").exists()
        && let Some(redis) = redis::profile_redis(cwd)
    {
        cmd.envs(redis);
    }
    cmd
}

/// A `librechat serve` child process on an ephemeral port.
pub struct ServeProcess {
    pub child: Child,
    pub base: String,
    pub stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl ServeProcess {
    /// Starts `librechat serve --host 127.0.0.1 --port 0` in `cwd` and waits until it listens.
    pub fn start(cmd: Command) -> Self {
        Self::start_on(cmd, 0)
    }

    /// A port free now, for a server that must know its own address before it starts (its
    /// `DOMAIN_SERVER`, for a provider to send people back to).
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port")
    }

    /// [`ServeProcess::start`] on `port` (0: any).
    /// Under `LIBRECHAT_TEST_DATABASE=postgres`, a server given no `DATABASE_URL` keeps its data
    /// in the database of its folder ([`profile_database`]) and its shared state on Redis
    /// ([`redis::profile_redis`]), as a [`TestServer`] does.
    pub fn start_on(mut cmd: Command, port: u16) -> Self {
        if !cmd.get_envs().any(|(k, _)| k == "DATABASE_URL")
            && let Some(dir) = cmd.get_current_dir().map(Path::to_path_buf)
            && let Some(url) = profile_database(&dir)
        {
            cmd.env("DATABASE_URL", url);
            if !cmd.get_envs().any(|(k, _)| k == "USE_REDIS")
                && let Some(redis) = redis::profile_redis(&dir)
            {
                cmd.envs(redis);
            }
        }
        cmd.args(["serve", "--host", "127.0.0.1", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn librechat");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let log = stderr.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let url = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(url);
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        // Generous: this is a bound for a broken build, not a performance check.
        let base = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not start:\n{}", stderr.lock().unwrap());
            }
        };
        Self {
            child,
            base,
            stderr,
            reader: Some(reader),
        }
    }

    /// Sends a signal by name (TERM, INT) and waits for the process to exit.
    pub fn signal_and_wait(mut self, signal: &str) -> (std::process::ExitStatus, String) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        // The pipe closes when the process exits: the reader ends after the last line.
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let log = self.stderr.lock().unwrap().clone();
        (exit, log)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP GET, for tests that talk to a child process outside an async runtime.
pub fn http_get(url: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    })
}

/// A signed-in user in tests: the access token and the refresh cookie's value.
pub struct Session {
    pub token: String,
    pub refresh: String,
    pub user: serde_json::Value,
}

impl TestServer {
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// Registers `email` with `password` (name "Test User"); asserts success.
    pub async fn register(&self, email: &str, password: &str) {
        let resp = self
            .post_json(
                "/api/auth/register",
                serde_json::json!({"name": "Test User", "email": email, "password": password, "confirm_password": password}),
            )
            .await;
        assert_eq!(
            resp.status(),
            200,
            "register {email}: {}",
            resp.text().await.unwrap()
        );
    }

    /// [`register`](Self::register), then [`login`](Self::login): a new account, signed in.
    pub async fn signed_in(&self, email: &str, password: &str) -> Session {
        self.register(email, password).await;
        self.login(email, password).await
    }

    /// Logs in; asserts success and returns the session.
    pub async fn login(&self, email: &str, password: &str) -> Session {
        let resp = self
            .post_json(
                "/api/auth/login",
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(resp.status(), 200, "login {email}");
        let refresh = refresh_cookie(&resp).expect("refresh cookie");
        let body: serde_json::Value = resp.json().await.unwrap();
        Session {
            token: body["token"].as_str().unwrap().to_owned(),
            refresh,
            user: body["user"].clone(),
        }
    }

    /// A JSON request with a bearer token.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// Sends a chat message to `endpoint` (`POST /api/agents/chat/:endpoint`) and asserts it
    /// started; the answer's stream id.
    pub async fn start_chat(&self, s: &Session, endpoint: &str, body: serde_json::Value) -> String {
        let resp = self
            .send(
                "POST",
                &format!("/api/agents/chat/{endpoint}"),
                &s.token,
                body,
            )
            .await;
        assert_eq!(resp.status(), 200, "the chat did not start");
        let started: serde_json::Value = resp.json().await.unwrap();
        started["streamId"].as_str().unwrap().to_owned()
    }

    /// [`TestServer::start_chat`], waiting for the answer's final frame.
    pub async fn chat(
        &self,
        s: &Session,
        endpoint: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let stream_id = self.start_chat(s, endpoint, body).await;
        self.final_frame(s, &stream_id).await
    }

    /// Follows an answer's stream to its final frame, and returns that frame.
    pub async fn final_frame(&self, s: &Session, stream_id: &str) -> serde_json::Value {
        let mut frames = stream::frames(self, s, stream_id, "").await;
        let last = frames.pop().expect("the stream has frames");
        assert_eq!(
            last["final"], true,
            "the stream ends with a final frame: {last}"
        );
        last
    }

    /// Uploads a file to `path` (`/api/files` or `/api/files/images`) as LibreChat's client
    /// does: `endpoint` openAI, the file, a fresh `file_id`, `message_file`. The status and
    /// the JSON body.
    pub async fn upload(
        &self,
        s: &Session,
        path: &str,
        name: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> (u16, serde_json::Value) {
        let form = upload_form("openAI", name, mime, bytes).text("message_file", "true");
        self.post_form(&s.token, path, form).await
    }

    /// Posts a multipart `form` to `path` with `token`: the status and the JSON body (`Null`
    /// when the body is not JSON).
    pub async fn post_form(
        &self,
        token: &str,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> (u16, serde_json::Value) {
        let resp = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Registers and signs in alice@example.org and bob@example.org.
    pub async fn two_users(&self, password: &str) -> (Session, Session) {
        self.register("alice@example.org", password).await;
        self.register("bob@example.org", password).await;
        (
            self.login("alice@example.org", password).await,
            self.login("bob@example.org", password).await,
        )
    }

    /// How many rows `table` holds (a literal table name from the test).
    pub async fn count(&self, table: &'static str) -> i64 {
        self.state
            .db
            .read(move |c| c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)))
            .await
            .unwrap()
    }

    /// GET with a bearer token.
    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// GET with a bearer token; asserts 200 and returns the JSON body.
    pub async fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        let resp = self.get_as(path, token).await;
        assert_eq!(resp.status(), 200, "GET {path}");
        resp.json().await.expect("a JSON body")
    }

    /// POST /api/auth/refresh with this refresh cookie value.
    pub async fn refresh(&self, refresh: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/auth/refresh"))
            .header("cookie", format!("refreshToken={refresh}"))
            .send()
            .await
            .expect("request")
    }
}

/// The value of the `refreshToken` cookie a response sets.
pub fn refresh_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("refreshToken="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .filter(|v| !v.is_empty())
}

/// The whole `Set-Cookie` line for `refreshToken`.
pub fn refresh_cookie_line(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("refreshToken="))
        .map(str::to_owned)
}

/// Runs a command to completion. A command that should fail at once but serves instead must not
/// hang the suite: after a bound no healthy run reaches, it is killed and the test fails.
pub fn run(cmd: &mut std::process::Command) -> Output {
    run_with_input(cmd, None)
}

/// [`run`], with `input` written to the command's standard input.
pub fn run_with_input(cmd: &mut std::process::Command, input: Option<&str>) -> Output {
    use std::io::{Read, Write};
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run librechat");
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(text.as_bytes()).unwrap();
    }
    let mut pipes = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        pipes.0.read_to_end(&mut buf).ok();
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        pipes.1.read_to_end(&mut buf).ok();
        buf
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("command still running after 120 s: {cmd:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

/// Everything the server's database holds, as bytes, to search for what must not be stored in
/// clear: SQLite's file and its write-ahead log; on PostgreSQL, a dump.
pub fn raw_database(server: &TestServer) -> Vec<u8> {
    if let Ok(url) = std::fs::read_to_string(server.dir.path().join("postgres-url")) {
        return postgres::dump(&url).into_bytes();
    }
    let dir = server.data_dir();
    let mut out = std::fs::read(dir.join("librechat.db")).unwrap();
    if let Ok(wal) = std::fs::read(dir.join("librechat.db-wal")) {
        out.extend(wal);
    }
    out
}

/// Whether `needle` is somewhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A failure must be one clear line, never a panic or a backtrace.
pub fn assert_clean_failure(out: &Output, needle: &str) {
    let err = text(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure, got success; stderr: {err}"
    );
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    let error_lines = err.lines().filter(|l| l.contains("error")).count();
    assert_eq!(error_lines, 1, "one error line expected: {err}");
}

/// A PNG of `w` × `h` pixels of one colour.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([20, 120, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A valid PNG header declaring `w` × `h` pixels, a few dozen bytes long: a pixel bomb.
pub fn declared_png(w: u32, h: u32) -> Vec<u8> {
    let mut bomb = png(1, 1);
    bomb[16..20].copy_from_slice(&w.to_be_bytes());
    bomb[20..24].copy_from_slice(&h.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    bomb
}

/// What uploads left in the data folder's `files/`.
impl TestServer {
    /// Stored objects (partial uploads not counted).
    pub fn stored_files(&self) -> usize {
        let root = self.data_dir().join("files");
        std::fs::read_dir(&root).map_or(0, |shards| {
            shards
                .flatten()
                .filter(|s| s.file_name() != "tmp")
                .map(|s| std::fs::read_dir(s.path()).map_or(0, |f| f.count()))
                .sum()
        })
    }

    /// Uploads still being received (or left behind by one that failed).
    pub fn partial_uploads(&self) -> usize {
        std::fs::read_dir(self.data_dir().join("files/tmp")).map_or(0, |f| f.count())
    }
}
