//! The MCP network transports against real servers: npm's reference server
//! (`@modelcontextprotocol/server-everything`, `npm ci` in tests/mcp) over legacy SSE and
//! streamable HTTP, PyPI's `mcp-server-time` behind a websocket bridge (tests/mcp/ws_bridge.py,
//! `websockets` in `$LIBRECHAT_TEST_PYTHON`), and small hostile servers written here for what
//! no real server does (an endpoint on another origin, a message that is not JSON, one that
//! never ends). Where a peer is missing its test is skipped with a note, unless
//! `LIBRECHAT_REQUIRE_PEERS=1` (as `.ci/run` sets).

mod support;

use std::collections::HashMap;

use std::time::Duration;

use librechat::mcp::McpError;
use librechat::mcp::connection::Connection;
use librechat::mcp::rpc::{Session, Transport};
use librechat::mcp::transport::{self, Why};
use librechat::net::{AllowedAddresses, Blocked, Guarded};
use serde_json::{Value, json};

use support::mcp_peers::{Peer, hostile_sse, hostile_ws, self_signed_tls};

const CAP: usize = transport::MAX_MESSAGE;

/// A guarded client that allows exactly this loopback port.
fn allowing(port: u16) -> Guarded {
    let (allowed, warnings) = AllowedAddresses::parse([format!("127.0.0.1:{port}").as_str()]);
    assert!(warnings.is_empty());
    Guarded::new(allowed)
}

fn no_headers() -> HashMap<String, String> {
    HashMap::new()
}

/// Initializes the protocol over `t` and lists the server's tools.
async fn connect<T: Transport>(t: T) -> Result<Connection, McpError> {
    let limit = Duration::from_secs(60);
    Connection::initialize(Session::start(t, "test"), "test", limit, limit).await
}

/// Calls `tool` with `args`; the result's content as JSON.
async fn call(client: &Connection, tool: &'static str, args: Value) -> Result<Value, McpError> {
    let Value::Object(args) = args else {
        unreachable!()
    };
    let result = client.call(tool, args, None).await?;
    Ok(json!({ "content": result.content }))
}

/// Lists the reference server's tools, calls `echo` and `get-tiny-image`.
async fn exercise_everything(client: Connection) {
    let names: Vec<&str> = client.tools.iter().map(|t| t.name.as_str()).collect();
    assert!(
        names.contains(&"echo") && names.contains(&"get-tiny-image"),
        "{names:?}"
    );
    let echoed = call(&client, "echo", json!({"message": "hello over the wire"}))
        .await
        .unwrap();
    assert_eq!(echoed["content"][0]["text"], "Echo: hello over the wire");
    // What the small-cap tests below send is fine under the default cap.
    let big = "x".repeat(100_000);
    let echoed = call(&client, "echo", json!({ "message": big }))
        .await
        .unwrap();
    assert_eq!(
        echoed["content"][0]["text"].as_str().unwrap().len(),
        100_006
    );
    let image = call(&client, "get-tiny-image", json!({})).await.unwrap();
    let parts = image["content"].as_array().unwrap();
    let png = parts
        .iter()
        .find(|p| p["type"] == "image")
        .expect("an image part");
    assert_eq!(png["mimeType"], "image/png");
    assert!(png["data"].as_str().unwrap().len() > 100);
    client.close().await;
}

#[tokio::test]
async fn sse_lists_and_calls_tools_on_the_reference_server() {
    let Some(peer) = Peer::everything("sse") else {
        return;
    };
    let url = format!("http://127.0.0.1:{}/sse", peer.port);
    let t = transport::sse(&url, &no_headers(), &allowing(peer.port), CAP)
        .await
        .unwrap();
    let ended = t.ended();
    exercise_everything(connect(t).await.unwrap()).await;
    assert!(ended.get().is_none(), "closed on our side: no failure");
}

#[tokio::test]
async fn streamable_http_lists_and_calls_tools_on_the_reference_server() {
    let Some(peer) = Peer::everything("streamableHttp") else {
        return;
    };
    let url = format!("http://127.0.0.1:{}/mcp", peer.port);
    let t = transport::streamable_http(&url, &no_headers(), &allowing(peer.port), CAP).unwrap();
    let ended = t.ended();
    exercise_everything(connect(t).await.unwrap()).await;
    assert!(ended.get().is_none(), "closed on our side: no failure");
}

#[tokio::test]
async fn websocket_lists_and_calls_tools_through_the_bridge() {
    let Some(peer) = Peer::ws_bridge(&["-m", "mcp_server_time", "--local-timezone", "UTC"]) else {
        return;
    };
    let url = format!("ws://127.0.0.1:{}/", peer.port);
    let t = transport::websocket(&url, &no_headers(), &allowing(peer.port), CAP)
        .await
        .unwrap();
    let client = connect(t).await.unwrap();
    assert!(client.tools.iter().any(|t| t.name == "get_current_time"));
    let now = call(
        &client,
        "get_current_time",
        json!({"timezone": "Europe/Paris"}),
    )
    .await
    .unwrap();
    let text = now["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Europe/Paris"), "{text}");
    client.close().await;
}

/// 64 KiB allows the handshake and the tool list; an echo of 100 KB comes back larger.
const SMALL_CAP: usize = 64 * 1024;

#[tokio::test]
async fn an_answer_over_the_cap_ends_an_sse_session() {
    let Some(peer) = Peer::everything("sse") else {
        return;
    };
    let url = format!("http://127.0.0.1:{}/sse", peer.port);
    let t = transport::sse(&url, &no_headers(), &allowing(peer.port), SMALL_CAP)
        .await
        .unwrap();
    let ended = t.ended();
    let client = connect(t).await.unwrap();
    let big = "x".repeat(100_000);
    assert!(
        call(&client, "echo", json!({"message": big}))
            .await
            .is_err()
    );
    let why = ended.get().expect("a reason").to_string();
    assert!(
        why.contains(&format!("over the {SMALL_CAP}-byte limit")),
        "{why}"
    );
    assert!(why.starts_with(&format!("MCP server {url}:")), "{why}");
}

#[tokio::test]
async fn an_answer_over_the_cap_fails_over_streamable_http() {
    let Some(peer) = Peer::everything("streamableHttp") else {
        return;
    };
    let url = format!("http://127.0.0.1:{}/mcp", peer.port);
    let t =
        transport::streamable_http(&url, &no_headers(), &allowing(peer.port), SMALL_CAP).unwrap();
    let ended = t.ended();
    let client = connect(t).await.unwrap();
    let big = "x".repeat(100_000);
    assert!(
        call(&client, "echo", json!({"message": big}))
            .await
            .is_err()
    );
    let why = ended.get().expect("a reason").to_string();
    assert_eq!(
        why,
        format!("MCP server {url}: the server sent a message over the {SMALL_CAP}-byte limit")
    );
}

#[tokio::test]
async fn an_endpoint_on_another_origin_is_refused_and_credentials_stay_hidden() {
    let port = hostile_sse(vec![
        "event: endpoint\ndata: http://elsewhere.example/message?session=1\n\n".into(),
    ])
    .await;
    let url = format!("http://alice:s3cret@127.0.0.1:{port}/sse?api_key=k3y");
    let err = transport::sse(&url, &no_headers(), &allowing(port), CAP)
        .await
        .err()
        .expect("refused");
    let shown = err.to_string();
    assert!(
        shown.contains("another origin (http://elsewhere.example)"),
        "{shown}"
    );
    assert!(
        shown.starts_with(&format!("MCP server http://127.0.0.1:{port}/sse:")),
        "{shown}"
    );
    assert!(
        !shown.contains("s3cret") && !shown.contains("k3y"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_message_that_is_not_json_ends_an_sse_session() {
    let port = hostile_sse(vec![
        "event: endpoint\ndata: /message\n\n".into(),
        "event: message\ndata: <html>not json</html>\n\n".into(),
    ])
    .await;
    let url = format!("http://127.0.0.1:{port}/sse");
    let t = transport::sse(&url, &no_headers(), &allowing(port), CAP)
        .await
        .unwrap();
    let ended = t.ended();
    assert!(connect(t).await.is_err());
    let why = &ended.get().expect("a reason").why;
    assert!(matches!(why, Why::NotJson(_)), "{why:?}");
}

#[tokio::test]
async fn an_sse_line_that_never_ends_is_cut_at_the_cap() {
    // 1 MiB of one `data:` line, never finished, against a 64 KiB cap.
    let mut line = "data: ".to_string();
    line.push_str(&"y".repeat(1024 * 1024));
    let port = hostile_sse(vec!["event: endpoint\ndata: /message\n\n".into(), line]).await;
    let url = format!("http://127.0.0.1:{port}/sse");
    let t = transport::sse(&url, &no_headers(), &allowing(port), SMALL_CAP)
        .await
        .unwrap();
    let ended = t.ended();
    // Without the bound the parser would wait for the line's end forever: fail, not hang.
    let served = tokio::time::timeout(Duration::from_secs(120), connect(t)).await;
    assert!(served.expect("the session ended").is_err());
    let why = &ended.get().expect("a reason").why;
    assert!(matches!(why, Why::TooLarge(SMALL_CAP)), "{why:?}");
}

#[tokio::test]
async fn a_websocket_frame_over_the_cap_ends_the_connection() {
    let port = hostile_ws(2 * 1024 * 1024).await;
    let url = format!("ws://127.0.0.1:{port}/");
    let t = transport::websocket(&url, &no_headers(), &allowing(port), SMALL_CAP)
        .await
        .unwrap();
    let ended = t.ended();
    assert!(connect(t).await.is_err());
    let why = &ended.get().expect("a reason").why;
    assert!(matches!(why, Why::TooLarge(SMALL_CAP)), "{why:?}");
}

#[tokio::test]
async fn wss_verifies_the_server_certificate() {
    let Some(port) = self_signed_tls().await else {
        return;
    };
    let url = format!("wss://127.0.0.1:{port}/");
    let err = transport::websocket(&url, &no_headers(), &allowing(port), CAP)
        .await
        .err()
        .expect("refused");
    let shown = err.to_string();
    assert!(matches!(err.why, Why::Connect(_)), "{shown}");
    assert!(
        shown.contains("TLS") && shown.contains("certificate"),
        "{shown}"
    );
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    // Nothing needs to listen: the refusal comes before any connection.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let strict = Guarded::new(AllowedAddresses::default());
    let other_port = allowing(port.wrapping_add(1).max(1));
    for guarded in [&strict, &other_port] {
        let url = format!("http://127.0.0.1:{port}/sse");
        let err = transport::sse(&url, &no_headers(), guarded, CAP)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(err.why, Why::Blocked(Blocked::Address { .. })),
            "{err}"
        );
        assert!(err.to_string().contains("allowedAddresses"), "{err}");

        let url = format!("http://127.0.0.1:{port}/mcp");
        let err = transport::streamable_http(&url, &no_headers(), guarded, CAP)
            .err()
            .unwrap();
        assert!(
            matches!(err.why, Why::Blocked(Blocked::Address { .. })),
            "{err}"
        );

        let url = format!("ws://127.0.0.1:{port}/");
        let err = transport::websocket(&url, &no_headers(), guarded, CAP)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(err.why, Why::Blocked(Blocked::Address { .. })),
            "{err}"
        );

        // A name that resolves to loopback is judged by its answers.
        let url = format!("ws://localhost:{port}/");
        let err = transport::websocket(&url, &no_headers(), guarded, CAP)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(err.why, Why::Blocked(Blocked::Resolves { .. })),
            "{err}"
        );
    }
    // A name that resolves to loopback goes through streamable HTTP's resolver too.
    let url = format!("http://localhost:{port}/mcp");
    let t = transport::streamable_http(&url, &no_headers(), &strict, CAP).unwrap();
    let ended = t.ended();
    assert!(connect(t).await.is_err());
    let why = ended.get().expect("a reason").why;
    assert!(
        matches!(why, Why::Blocked(Blocked::Resolves { .. })),
        "{why:?}"
    );
}

/// A streamable HTTP server whose event stream for a request ends before the request's answer
/// (here after a notification): the request fails at once, not at its time limit, and the
/// session goes on.
#[tokio::test]
async fn an_event_stream_that_ends_without_the_answer_fails_the_request_at_once() {
    use axum::routing::post;
    use librechat::mcp::rpc::{Failure, Limits};
    let app = axum::Router::new().route(
        "/mcp",
        post(|| async {
            (
                [("content-type", "text/event-stream")],
                "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\",\"data\":\"working\"}}\n\n",
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://127.0.0.1:{port}/mcp");
    let t = transport::streamable_http(&url, &no_headers(), &allowing(port), CAP).unwrap();
    let ended = t.ended();
    let session = Session::start(t, "test");
    // A limit of an hour, which the failure must not wait for.
    for method in ["initialize", "tools/list"] {
        let asked = session.request(
            method,
            json!({}),
            Limits::plain(Duration::from_secs(3600)),
            None,
        );
        let r = tokio::time::timeout(Duration::from_secs(60), asked)
            .await
            .expect("the request failed at once, not at its time limit");
        assert_eq!(
            r,
            Err(Failure::Rpc {
                code: -32000,
                message: "the server's event stream ended without the answer".into()
            })
        );
    }
    assert!(!session.is_closed());
    assert!(ended.get().is_none());
}
