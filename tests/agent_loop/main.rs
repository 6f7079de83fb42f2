//! The tool loop end to end: the real server, the fake providers speaking each wire format
//! (scripted to call tools, then to quote the results), LibreChat's run steps on the stream,
//! the saved answer, `GET /api/agents/tools/calls`, and what the loop does with bad calls, a
//! model that never stops, an abort, a reconnect and a crash.

#[path = "../support/mod.rs"]
mod support;

mod agents;
mod chains;
mod formats;
mod recovery;
mod replay;
mod safety;

use std::time::Duration;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

pub const PW: &str = "correct horse battery";

/// The models each test scripts, by endpoint.
pub const OPENAI_MODELS: &str =
    "calc,calc-responses,pair,bad-calls,forever,held,gpt-4o,router,specialist,first,second";
pub const ANTHROPIC_MODELS: &str = "claude-calc";
pub const GOOGLE_MODELS: &str = "gemini-calc";

/// The server's environment: every endpoint leads to the fake.
pub fn env(fake: &FakeOpenAi) -> Vec<(&'static str, String)> {
    let root = fake.anthropic_base();
    vec![
        ("OPENAI_API_KEY", KEY.into()),
        ("OPENAI_REVERSE_PROXY", fake.base.clone()),
        ("OPENAI_MODELS", OPENAI_MODELS.into()),
        ("ANTHROPIC_API_KEY", KEY.into()),
        ("ANTHROPIC_REVERSE_PROXY", root.clone()),
        ("ANTHROPIC_MODELS", ANTHROPIC_MODELS.into()),
        ("GOOGLE_KEY", KEY.into()),
        ("GOOGLE_REVERSE_PROXY", root),
        ("GOOGLE_MODELS", GOOGLE_MODELS.into()),
    ]
}

pub async fn server_with(fake: &FakeOpenAi, yaml: Option<&str>) -> TestServer {
    let mut b = TestServer::builder();
    for (k, v) in env(fake) {
        b = b.env(k, &v);
    }
    if let Some(y) = yaml {
        b = b.yaml(y);
    }
    b.start().await
}

/// Starts a turn on `endpoint`; its stream id.
pub async fn start(server: &TestServer, s: &Session, endpoint: &str, body: Value) -> String {
    let resp = server
        .send(
            "POST",
            &format!("/api/agents/chat/{endpoint}"),
            &s.token,
            body,
        )
        .await;
    assert_eq!(resp.status(), 200, "the chat did not start");
    let started: Value = resp.json().await.unwrap();
    started["streamId"].as_str().unwrap().to_owned()
}

/// A chat body asking `text` of `model`, with the calculator offered (the conversation's
/// `tools`) and LibreChat's composer toggles, which name tools this server does not have.
pub fn ask(model: &str, text: &str) -> Value {
    json!({
        "text": text, "model": model, "tools": ["calculator"],
        "ephemeralAgent": {"mcp": [], "web_search": false, "file_search": false,
            "execute_code": false, "artifacts": false},
    })
}

/// The frames of a stream (its `data`), up to and including the final one. `query` is added
/// to the URL (`?resume=true`).
pub async fn frames(server: &TestServer, s: &Session, stream_id: &str, query: &str) -> Vec<Value> {
    let mut resp = server
        .get_as(
            &format!("/api/agents/chat/stream/{stream_id}{query}"),
            &s.token,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let mut buf = String::new();
    let mut out = Vec::new();
    loop {
        while let Some(end) = buf.find("\n\n") {
            let raw: String = buf.drain(..end + 2).collect();
            let data: String = raw
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            if data.is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(&data).unwrap();
            let last = v["final"] == true;
            out.push(v);
            if last {
                return out;
            }
        }
        let chunk = tokio::time::timeout(Duration::from_secs(60), resp.chunk())
            .await
            .expect("the stream stalled")
            .unwrap();
        match chunk {
            Some(c) => buf.push_str(std::str::from_utf8(&c).unwrap()),
            None => return out,
        }
    }
}

/// The frames of one event, by name.
pub fn events<'a>(frames: &'a [Value], name: &str) -> Vec<&'a Value> {
    frames.iter().filter(|f| f["event"] == name).collect()
}

/// The text the stream's `on_message_delta` frames carry.
pub fn streamed_text(frames: &[Value]) -> String {
    events(frames, "on_message_delta")
        .iter()
        .map(|f| {
            f["data"]["delta"]["content"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The content parts of `kind` in a message.
pub fn parts<'a>(message: &'a Value, kind: &str) -> Vec<&'a Value> {
    message["content"]
        .as_array()
        .map(|c| c.iter().filter(|p| p["type"] == kind).collect())
        .unwrap_or_default()
}

/// The saved messages of a conversation.
pub async fn messages(server: &TestServer, s: &Session, convo: &str) -> Vec<Value> {
    server
        .get_json(&format!("/api/messages/{convo}"), &s.token)
        .await
        .as_array()
        .cloned()
        .unwrap()
}

/// `GET /api/agents/tools/calls?conversationId=`.
pub async fn tool_calls(server: &TestServer, s: &Session, convo: &str) -> Vec<Value> {
    server
        .get_json(
            &format!("/api/agents/tools/calls?conversationId={convo}"),
            &s.token,
        )
        .await
        .as_array()
        .cloned()
        .unwrap()
}

/// Polls until `check` holds.
pub async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the condition never held");
}
