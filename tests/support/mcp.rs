//! What the MCP suites share: real MCP servers (PyPI's `mcp-server-time`, the hostile server
//! of `tests/mcp/hostile_server.py` on the official Python SDK, npm's reference
//! `server-everything` over streamable HTTP), a server that uses them, and a chat turn whose
//! fake model calls one of their tools.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use super::fake_openai::{FakeOpenAi, KEY};
use super::fake_tools::ToolScript;
use super::{Session, TestServer, stream};

pub const PW: &str = "correct horse battery";

/// The Python with the MCP peers (`LIBRECHAT_TEST_PYTHON`, as `.ci/run` sets it).
pub fn python() -> String {
    let python = super::python();
    let ok = Command::new(&python)
        .args(["-c", "import mcp, mcp_server_time"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the MCP peers (pip: mcp, mcp-server-time) are needed next to {python}; .ci/run installs them"
    );
    python
}

/// The hostile server's script.
pub fn hostile_script() -> String {
    format!("{}/tests/mcp/hostile_server.py", env!("CARGO_MANIFEST_DIR"))
}

/// librechat.yaml with the time server (`time`) and the hostile one (`hostile`, its tool calls
/// bounded by `timeout_ms`), then `more`.
pub fn yaml(timeout_ms: u64, more: &str) -> String {
    let py = python();
    format!(
        "version: 1.3.17\nmcpServers:\n  time:\n    command: {py}\n    args: ['-m', 'mcp_server_time', '--local-timezone', 'UTC']\n    serverInstructions: 'Answer times in 24-hour format.'\n  hostile:\n    command: {py}\n    args: ['{}']\n    timeout: {timeout_ms}\n    serverInstructions: true\n{more}",
        hostile_script()
    )
}

/// The librechat.yaml entry of npm's reference server over stdio (`everything`), or `None`
/// when it is not installed (see [`super::mcp_peers::everything_bin`]).
pub fn everything_over_stdio() -> Option<String> {
    let bin = super::mcp_peers::everything_bin()?;
    Some(format!(
        "  everything:\n    command: {}\n    args: ['stdio']\n",
        bin.display()
    ))
}

/// A server with the fake model and `yaml`.
pub async fn server(fake: &FakeOpenAi, yaml: &str) -> TestServer {
    TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "caller,gpt-4o")
        .yaml(yaml)
        .start()
        .await
}

/// A plain chat with the composer's MCP menu on `servers`, whose model calls `tool` with
/// `args`; every frame of the answer.
pub async fn ask(
    fake: &FakeOpenAi,
    server: &TestServer,
    s: &Session,
    servers: &[&str],
    tool: &str,
    args: Value,
) -> Vec<Value> {
    fake.script("caller", ToolScript::calls([(tool, args)]));
    let id = server
        .start_chat(
            s,
            "openAI",
            json!({"text": "Use the tool.", "model": "caller", "ephemeralAgent": {"mcp": servers}}),
        )
        .await;
    stream::frames(server, s, &id, "").await
}

/// The saved output of the answer's call of `tool`.
pub fn output(frames: &[Value], tool: &str) -> String {
    let last = frames.last().unwrap();
    assert!(last.get("error").is_none(), "{last}");
    let parts = last["responseMessage"]["content"].as_array().unwrap();
    let call = parts
        .iter()
        .find(|p| p["type"] == "tool_call" && p["tool_call"]["name"] == tool)
        .unwrap_or_else(|| panic!("a call of {tool} in {parts:?}"));
    call["tool_call"]["output"].as_str().unwrap().to_owned()
}

/// The tools the model was offered in its last request.
pub fn offered(fake: &FakeOpenAi) -> Vec<String> {
    fake.last_chat()["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str().map(str::to_owned))
        .collect()
}

/// Whether the process `pid` is gone (reaped: not even a zombie).
pub fn gone(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// npm's reference MCP server (`@modelcontextprotocol/server-everything`) over `transport`
/// (`streamableHttp` or `sse`) on a free port, as [`super::mcp_peers::Peer`] starts it;
/// stopped when dropped.
pub struct Everything(super::mcp_peers::Peer);

impl Everything {
    pub async fn start(transport: &str) -> Self {
        let transport = transport.to_owned();
        let peer =
            tokio::task::spawn_blocking(move || super::mcp_peers::Peer::everything(&transport))
                .await
                .unwrap()
                .expect("npm's reference MCP server (npm ci in tests/mcp; .ci/run does)");
        Everything(peer)
    }

    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.0.port)
    }
}

/// tests/mcp/`script` (a server on the official Python SDK) on a free port, once it listens.
async fn python_peer(script: &str, env: &[(&str, String)]) -> (Child, u16) {
    let script = format!("{}/tests/mcp/{script}", env!("CARGO_MANIFEST_DIR"));
    let port = super::free_port();
    let child = Command::new(python())
        .arg(&script)
        .arg(port.to_string())
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python runs");
    super::poll::eventually(|| async move {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    (child, port)
}

/// tests/mcp/oauth_server.py (the official Python SDK): an OAuth-protected MCP server with its
/// own authorization server, on a free port; stopped when dropped.
pub struct OAuthServer {
    child: Child,
    pub port: u16,
}

impl OAuthServer {
    /// Its tokens last 5 s as announced, under the refresh margin: each use refreshes.
    pub async fn start() -> Self {
        Self::start_with_ttl(5).await
    }

    /// Its tokens announced to last `ttl` seconds.
    pub async fn start_with_ttl(ttl: u32) -> Self {
        let (child, port) = python_peer("oauth_server.py", &[("TOKEN_TTL", ttl.to_string())]).await;
        OAuthServer { child, port }
    }

    /// What the server records: `registered`, `codes`, `refreshed`, `last_token`, `resources`.
    pub async fn record(&self) -> Value {
        reqwest::get(format!("http://127.0.0.1:{}/record", self.port))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// librechat.yaml with this server as `guarded` (sign-in required), its port allowed.
    pub fn yaml(&self) -> String {
        format!("{}    requiresOAuth: true\n", self.yaml_unsaid())
    }

    /// [`yaml`](Self::yaml) without `requiresOAuth`: the server tells.
    pub fn yaml_unsaid(&self) -> String {
        format!(
            "version: 1.3.17\nmcpSettings:\n  allowedAddresses: ['127.0.0.1:{p}']\nmcpServers:\n  guarded:\n    type: streamable-http\n    url: http://127.0.0.1:{p}/mcp\n",
            p = self.port
        )
    }

    /// Makes every access token stop working at the server (refresh tokens still work).
    pub async fn revoke(&self) {
        let resp = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/revoke_all", self.port))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// tests/mcp/echo_server.py (the official Python SDK, streamable HTTP): its tool
/// `request_info` answers with the `x-` headers, the query and the session of the request that
/// called it; stopped when dropped.
pub struct EchoServer {
    child: Child,
    pub port: u16,
}

impl EchoServer {
    pub async fn start() -> Self {
        let (child, port) = python_peer("echo_server.py", &[]).await;
        EchoServer { child, port }
    }

    /// The sessions closed so far (`DELETE /mcp`), in order.
    pub async fn closed(&self) -> Vec<String> {
        let record: Value = reqwest::get(format!("http://127.0.0.1:{}/record", self.port))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        serde_json::from_value(record["closed"].clone()).unwrap()
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The browser's side of an MCP server's sign-in, shared by `mcp_oauth` and
/// `mcp_oauth_replicas`: a client that lets the test follow redirects itself.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// Where a redirect (302) sends the browser.
pub fn location(resp: &reqwest::Response) -> String {
    assert_eq!(resp.status(), 302, "a redirect");
    resp.headers()["location"].to_str().unwrap().to_owned()
}

/// The bind cookie a response sets, as `name=value`.
pub fn bind_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("oauth_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("the bind cookie")
        .to_owned()
}

/// The callback as the browser brings it to `server` (with `cookie` when given): where it
/// sends the person.
pub async fn callback(server: &TestServer, path: &str, cookie: Option<&str>) -> String {
    let mut req = browser().get(server.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    location(&req.send().await.unwrap())
}
