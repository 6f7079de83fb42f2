//! Agents' actions end to end: the real server, a real web API on 127.0.0.1 described by an
//! OpenAPI document (`support::fake_api`), and the fake model calling the action's tools.
//! Saving, listing and deleting actions with their access rules and secrets; calls with
//! each kind of authentication, OAuth's sign-in included; and what each attack gets.

#[path = "../support/mod.rs"]
mod support;

mod attacks;
mod calls;
mod derived;
mod oauth;
mod replicas;
mod saving;

use serde_json::{Value, json};
use support::agents::{create, ids};
use support::fake_api::FakeApi;
use support::fake_openai::{FakeOpenAi, KEY};
pub use support::poll::eventually;
pub use support::stream::Frames;
use support::{Session, TestServer};
pub use support::{contains, raw_database};

pub const PW: &str = "correct horse battery";

/// The model the tests script.
pub const MODEL: &str = "gpt-4o";

/// librechat.yaml letting actions reach the fake API (and more `actions` settings).
pub fn yaml(api: &FakeApi, more: &str) -> String {
    format!(
        "version: 1.2.8\nactions:\n  allowedAddresses: ['127.0.0.1:{}']\n{more}",
        api.port
    )
}

/// A server whose OpenAI endpoint is the fake, with librechat.yaml `yaml` and `env`.
pub async fn server(fake: &FakeOpenAi, yaml: &str, env: &[(&str, &str)]) -> TestServer {
    let mut b = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", MODEL)
        .yaml(yaml);
    for (k, v) in env {
        b = b.env(k, v);
    }
    b.start().await
}

/// What most tests start from: the fake model, the fake API, a server whose actions may reach
/// it, Alice signed in, and an agent of hers (its id). Keep the fake model bound to a name
/// (`_fake`, not `_`) for as long as the server runs.
pub type Scene = (FakeOpenAi, FakeApi, TestServer, Session, String);

/// A [`Scene`] with librechat.yaml [`yaml`]`(api, more)`.
pub async fn scene(more: &str) -> Scene {
    scene_with(|api| yaml(api, more), &[]).await
}

/// A [`Scene`] with the librechat.yaml `yaml` writes for the fake API, and the environment `env`.
pub async fn scene_with(yaml: impl FnOnce(&FakeApi) -> String, env: &[(&str, &str)]) -> Scene {
    let fake = FakeOpenAi::start().await;
    let api = FakeApi::start("http://example.com/").await;
    let server = server(&fake, &yaml(&api), env).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let agent_id = agent(&server, &s).await;
    (fake, api, server, s, agent_id)
}

/// An agent of `s`'s on the fake model; its `agent_...` id.
pub async fn agent(server: &TestServer, s: &Session) -> String {
    ids(&create(server, s, json!({"name": "Pets", "model": MODEL})).await).0
}

/// LibreChat's `functions` for these operation names.
pub fn functions(names: &[&str]) -> Value {
    json!(
        names
            .iter()
            .map(|n| json!({"type": "function", "function": {"name": n, "description": "", "parameters": {"type": "object", "properties": {}}}}))
            .collect::<Vec<_>>()
    )
}

/// Saves an action on `agent_id` as LibreChat's client does (`domain` as `protocol//host`);
/// `metadata` over `{domain, raw_spec}`. The status and the body.
pub async fn save(
    server: &TestServer,
    s: &Session,
    agent_id: &str,
    spec: &str,
    names: &[&str],
    metadata: Value,
) -> (u16, Value) {
    let server_url = serde_json::from_str::<Value>(spec)
        .ok()
        .and_then(|v| v["servers"][0]["url"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let domain = url::Url::parse(&server_url)
        .map(|u| format!("{}://{}", u.scheme(), u.host_str().unwrap_or("")))
        .unwrap_or_default();
    let mut meta = json!({"domain": domain, "raw_spec": spec});
    for (k, v) in metadata.as_object().unwrap() {
        meta[k] = v.clone();
    }
    let body = json!({"functions": functions(names), "metadata": meta});
    let resp = server
        .send(
            "POST",
            &format!("/api/agents/actions/{agent_id}"),
            &s.token,
            body,
        )
        .await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// [`save`], asserting it worked; the saved action.
pub async fn saved(
    server: &TestServer,
    s: &Session,
    agent_id: &str,
    spec: &str,
    names: &[&str],
    metadata: Value,
) -> Value {
    let (status, body) = save(server, s, agent_id, spec, names, metadata).await;
    assert_eq!(status, 200, "{body}");
    body[1].clone()
}

/// The name the model is offered for an operation of the fake API.
pub fn tool(op: &str) -> String {
    format!("{op}_action_127_0_0_1")
}

/// A turn with the agent; its stream id.
pub async fn start(server: &TestServer, s: &Session, agent_id: &str, text: &str) -> String {
    let body = json!({"text": text, "endpoint": "agents", "agent_id": agent_id});
    server.start_chat(s, "agents", body).await
}

/// Runs a turn to its end; the final frame's response message.
pub async fn answer(server: &TestServer, s: &Session, agent_id: &str) -> Value {
    let id = start(server, s, agent_id, "go").await;
    let frames = Frames::open(server, s, &id).await.until_final().await;
    let last = frames.last().unwrap();
    assert!(last.get("error").is_none(), "{last}");
    last["responseMessage"].clone()
}

/// The outputs of the answer's tool calls, in order.
pub fn outputs(message: &Value) -> Vec<String> {
    message["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "tool_call")
        .map(|p| p["tool_call"]["output"].as_str().unwrap_or("").to_owned())
        .collect()
}
