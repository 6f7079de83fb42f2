//! The tool loop end to end: the real server, the fake providers speaking each wire format
//! (scripted to call tools, then to quote the results), LibreChat's run steps on the stream,
//! the saved answer, `GET /api/agents/tools/calls`, and what the loop does with bad calls, a
//! model that never stops, an abort, a reconnect and a crash.

#[path = "../support/mod.rs"]
mod support;

mod agents;
mod chains;
mod formats;
mod parallel;
mod recovery;
mod replay;
mod safety;
mod side_by_side;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
pub use support::poll::eventually;
pub use support::stream::frames;
use support::{Session, TestServer};

pub const PW: &str = "correct horse battery";

/// The models each test scripts, by endpoint.
pub const OPENAI_MODELS: &str = "calc,calc-responses,pair,bad-calls,forever,held,gpt-4o,router,specialist,first,second,left,right,joiner,gated,server-error";
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

/// A chat body asking `text` of `model`, with the calculator offered (the conversation's
/// `tools`) and LibreChat's composer toggles, which name tools this server does not have.
pub fn ask(model: &str, text: &str) -> Value {
    json!({
        "text": text, "model": model, "tools": ["calculator"],
        "ephemeralAgent": {"mcp": [], "web_search": false, "file_search": false,
            "execute_code": false, "artifacts": false},
    })
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
