//! The memory agent's suites' setup (`tests/memory_agent*.rs`): a server whose librechat.yaml
//! has a `memory` section, answering from the fake OpenAI (`gated` waits for a release, `memo`
//! is the memory agent's model), and the saved answer the agent's doings end up on.

use serde_json::{Value, json};

use super::fake_openai::{FakeOpenAi, KEY};
use super::fake_tools::ToolScript;
use super::{Session, TestServer};

/// The memory agent on the fake's `memo` model, set inline in librechat.yaml.
pub const INLINE: &str = "    enabled: true\n    provider: openAI\n    model: memo\n";

/// librechat.yaml with a memory section whose agent is `agent` (YAML, indented by four) after
/// the `limits` (indented by two).
pub fn yaml(limits: &str, agent: &str) -> String {
    format!("version: 1.3.17\nmemory:\n{limits}  agent:\n{agent}")
}

/// A server with `yaml`, its OpenAI endpoint the fake (models `gpt-4o` and `gated`).
pub async fn boot(fake: &FakeOpenAi, yaml: &str) -> TestServer {
    TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o,gated")
        .yaml(yaml)
        .start()
        .await
}

/// The saved message `id` of the conversation `convo`, as `GET /api/messages` lists it.
pub async fn saved(server: &TestServer, s: &Session, convo: &str, id: &str) -> Value {
    let all = server
        .get_json(&format!("/api/messages/{convo}"), &s.token)
        .await;
    all.as_array()
        .unwrap()
        .iter()
        .find(|m| m["messageId"] == id)
        .cloned()
        .expect("the message is saved")
}

/// What a person asks to be remembered, `(key, value, message)`: the memory the memory model
/// sets and the message that asks for it.
pub type Remember<'a> = (&'a str, &'a str, &'a str);

/// The usual [`Remember`]: a liking for green tea.
pub const GREEN_TEA: Remember<'static> = (
    "likes",
    "The user likes green tea.",
    "Remember that I like green tea",
);

/// Has the memory model set `key` to `value`, then starts an answer to `text` on `gated`, which
/// waits (until the fake is released) while the memory agent runs beside it; the stream id.
pub async fn start_remembering(
    fake: &FakeOpenAi,
    server: &TestServer,
    s: &Session,
    (key, value, text): Remember<'_>,
) -> String {
    let set = json!({"key": key, "value": value});
    fake.script("memo", ToolScript::calls([("set_memory", set)]));
    let body = json!({"text": text, "model": "gated"});
    server.start_chat(s, "openAI", body).await
}
