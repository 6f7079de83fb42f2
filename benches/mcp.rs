//! MCP benchmark (not a test): `cargo bench --bench mcp`.
//!
//! What this server adds to an MCP tool call, and what its connections cost:
//! - **stdio**: the hostile test server's `echo` (the official Python SDK, `tests/mcp`), called
//!   `BENCH_CALLS` (500) times through the `echo_mcp_<server>` tool as a chat turn calls it,
//!   against the same call written by hand on the server's pipes (its own time);
//! - **HTTP**: npm's reference server over streamable HTTP, the same comparison against a
//!   hand-made JSON-RPC POST;
//! - **idle stdio connections**: this process's resident memory before and after opening
//!   `BENCH_IDLE` (20) connections (the servers' own processes are not counted);
//! - **100 people**: each with their own connection to the HTTP server (a `{{LIBRECHAT_USER_ID}}`
//!   header makes it personal): the time to connect them all at once, the memory it took, and
//!   p50/p99 of one call each, all at once.
//!
//! Needs `LIBRECHAT_TEST_PYTHON` (the venv `.ci/run` makes) and `npm ci` in tests/mcp.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::stream::{pct, rss_mb};
use librechat::agents::tools::Context;
use librechat::db::users::User;
use librechat::mcp::config::McpConfig;
use librechat::mcp::resolve::NoVars;
use librechat::mcp::{Mcp, Net};
use serde_json::{Value, json};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn user(id: &str) -> User {
    User {
        id: id.into(),
        email: format!("{id}@example.org"),
        name: id.into(),
        username: id.into(),
        avatar: None,
        role: "USER".into(),
        provider: "local".into(),
        password: None,
        email_verified: true,
        two_factor_enabled: false,
        totp_secret: None,
        pending_totp_secret: None,
        backup_codes: Value::Null,
        pending_backup_codes: Value::Null,
        totp_last_step: 0,
        terms_accepted: true,
        terms_accepted_at: None,
        plugins: Value::Null,
        personalization: Value::Null,
        favorites: Value::Null,
        created_at: String::new(),
        updated_at: String::new(),
    }
}

fn python() -> String {
    std::env::var("LIBRECHAT_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn hostile() -> String {
    format!("{}/tests/mcp/hostile_server.py", env!("CARGO_MANIFEST_DIR"))
}

fn mcp(yaml: Value, allowed: &[String]) -> Arc<Mcp> {
    let (config, warnings) =
        McpConfig::load(Some(&yaml), Some(&json!({"allowedAddresses": allowed})));
    assert!(warnings.is_empty(), "{warnings:?}");
    let net = Net {
        guarded: librechat::net::Guarded::new(config.settings.allowed_addresses.clone()),
        allowed_domains: Vec::new(),
    };
    Mcp::new(config, net, Arc::new(NoVars))
}

/// `calls` calls of `tool` through the tool loop's interface; their times, sorted.
async fn through_tool(
    mcp: &Arc<Mcp>,
    who: &User,
    tool: &str,
    args: Value,
    calls: usize,
) -> Vec<Duration> {
    let set = mcp
        .tools_for(who, &[tool.to_owned()], &Default::default())
        .await;
    let t = set.tools.first().expect("the tool is offered");
    let cx = Context::default();
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let out = t.call(args.clone(), &cx).await.expect("the call answers");
        times.push(started.elapsed());
        assert!(out.contains("bench"), "{out}");
    }
    times.sort();
    times
}

/// The same calls written by hand on a fresh server's pipes.
fn by_hand_stdio(calls: usize) -> Vec<Duration> {
    let mut child = Command::new(python())
        .arg(hostile())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut send = |v: Value, answer: bool, line: &mut String| {
        writeln!(stdin, "{v}").unwrap();
        stdin.flush().unwrap();
        if answer {
            line.clear();
            out.read_line(line).unwrap();
        }
    };
    send(
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}),
        true,
        &mut line,
    );
    send(
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        false,
        &mut line,
    );
    let mut times = Vec::with_capacity(calls);
    for i in 1..=calls {
        let started = Instant::now();
        send(
            json!({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "bench"}}}),
            true,
            &mut line,
        );
        times.push(started.elapsed());
        assert!(line.contains("bench"), "{line}");
    }
    let _ = child.kill();
    let _ = child.wait();
    times.sort();
    times
}

/// The same calls as hand-made POSTs to the streamable HTTP server.
async fn by_hand_http(url: &str, calls: usize) -> Vec<Duration> {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let post = |body: Value, session: Option<String>| {
        let mut r = http
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(s) = session {
            r = r
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-06-18");
        }
        r.send()
    };
    let init = post(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}), None).await.unwrap();
    let session = init.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    init.text().await.unwrap();
    post(
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        Some(session.clone()),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let mut times = Vec::with_capacity(calls);
    for i in 1..=calls {
        let started = Instant::now();
        let body = post(json!({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "bench"}}}), Some(session.clone())).await.unwrap().text().await.unwrap();
        times.push(started.elapsed());
        assert!(body.contains("bench"), "{body}");
    }
    times.sort();
    times
}

fn report(what: &str, ours: &[Duration], theirs: &[Duration]) {
    println!(
        "{what}: through the tool p50 {:.3} ms p99 {:.3} ms; by hand p50 {:.3} ms p99 {:.3} ms; added p50 {:.3} ms",
        pct(ours, 0.5),
        pct(ours, 0.99),
        pct(theirs, 0.5),
        pct(theirs, 0.99),
        pct(ours, 0.5) - pct(theirs, 0.5)
    );
}

#[tokio::main]
async fn main() {
    let calls = env_usize("BENCH_CALLS", 500);
    let idle = env_usize("BENCH_IDLE", 20);
    let people = env_usize("BENCH_PEOPLE", 100);
    let me = std::process::id();

    // stdio: per call.
    let stdio = mcp(
        json!({"bench": {"command": python(), "args": [hostile()]}}),
        &[],
    );
    let alice = user("alice");
    let ours = through_tool(
        &stdio,
        &alice,
        "echo_mcp_bench",
        json!({"text": "bench"}),
        calls,
    )
    .await;
    let theirs = tokio::task::spawn_blocking(move || by_hand_stdio(calls))
        .await
        .unwrap();
    report(&format!("stdio, {calls} calls"), &ours, &theirs);

    // Idle stdio connections: a personal server (a per-person env value), one per person.
    let personal = mcp(
        json!({"bench": {"command": python(), "args": [hostile()], "env": {"WHO": "{{LIBRECHAT_USER_ID}}"}}}),
        &[],
    );
    let before = rss_mb(me);
    for i in 0..idle {
        personal
            .connection("bench", &user(&format!("idle{i}")))
            .await
            .expect("connects");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_mb(me);
    println!(
        "idle stdio connections: {idle} open, this process {before:.1} MB -> {after:.1} MB, {:.2} MB each",
        (after - before) / idle as f64
    );
    personal.shutdown().await;
    stdio.shutdown().await;

    // HTTP: npm's reference server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bin = format!(
        "{}/tests/mcp/node_modules/.bin/mcp-server-everything",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut node = Command::new("node")
        .args([bin.as_str(), "streamableHttp"])
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let url = format!("http://127.0.0.1:{port}/mcp");
    let allowed = vec![format!("127.0.0.1:{port}")];
    let shared = mcp(
        json!({"bench": {"type": "streamable-http", "url": url}}),
        &allowed,
    );
    let ours = through_tool(
        &shared,
        &alice,
        "echo_mcp_bench",
        json!({"message": "bench"}),
        calls,
    )
    .await;
    let theirs = by_hand_http(&url, calls).await;
    report(&format!("streamable HTTP, {calls} calls"), &ours, &theirs);
    shared.shutdown().await;

    // 100 people, each with their own connection.
    let personal = mcp(
        json!({"bench": {"type": "streamable-http", "url": url, "headers": {"X-User": "{{LIBRECHAT_USER_ID}}"}}}),
        &allowed,
    );
    let users: Vec<User> = (0..people).map(|i| user(&format!("p{i}"))).collect();
    let before = rss_mb(me);
    let started = Instant::now();
    let connected =
        futures_util::future::join_all(users.iter().map(|u| personal.connection("bench", u))).await;
    let took = started.elapsed();
    assert!(connected.iter().all(Result::is_ok), "every person connects");
    let after = rss_mb(me);
    let started = Instant::now();
    let mut each = futures_util::future::join_all(users.iter().map(|u| {
        let personal = personal.clone();
        async move {
            let set = personal
                .tools_for(u, &["echo_mcp_bench".to_owned()], &Default::default())
                .await;
            let t = Instant::now();
            set.tools[0]
                .call(json!({"message": "bench"}), &Context::default())
                .await
                .expect("answers");
            t.elapsed()
        }
    }))
    .await;
    let all = started.elapsed();
    each.sort();
    println!(
        "{people} people on one HTTP server: connected in {:.0} ms, this process {before:.1} MB -> {after:.1} MB ({:.2} MB each); one call each at once: p50 {:.1} ms p99 {:.1} ms, all in {:.0} ms",
        took.as_secs_f64() * 1000.0,
        (after - before) / people as f64,
        pct(&each, 0.5),
        pct(&each, 0.99),
        all.as_secs_f64() * 1000.0
    );
    personal.shutdown().await;
    let _ = node.kill();
    let _ = node.wait();
}
