//! Helpers for the agents suites: a server with an OpenAI endpoint (no calls are made to it),
//! agents made through the API, sharing and role changes.

use serde_json::{Value, json};

use super::{Session, TestServer};

pub const PW: &str = "correct horse battery";

fn builder() -> super::Builder {
    TestServer::builder()
        .env("OPENAI_API_KEY", "sk-test")
        .env("OPENAI_MODELS", "gpt-4o,gpt-4o-mini")
        .env("ANTHROPIC_API_KEY", "sk-ant-test")
}

/// A server offering `openAI` (and `anthropic`), with librechat.yaml `yaml` if given.
pub async fn server(yaml: Option<&str>) -> TestServer {
    let mut b = builder();
    if let Some(y) = yaml {
        b = b.yaml(y);
    }
    b.start().await
}

/// [`server`] again on the folder of one stopped before.
pub async fn server_in(dir: std::sync::Arc<tempfile::TempDir>) -> TestServer {
    builder().in_dir(dir).start().await
}

/// The smallest agent LibreChat's builder creates, with `more` over it.
pub fn body(more: Value) -> Value {
    let mut b = json!({"provider": "openAI", "model": "gpt-4o", "name": "Helper"});
    for (k, v) in more.as_object().unwrap() {
        b[k] = v.clone();
    }
    b
}

/// Creates an agent as `s`; asserts 201 and returns it.
pub async fn create(server: &TestServer, s: &Session, more: Value) -> Value {
    let resp = server
        .send("POST", "/api/agents", &s.token, body(more))
        .await;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v
}

/// The agent's `id` and `_id`.
pub fn ids(agent: &Value) -> (String, String) {
    (
        agent["id"].as_str().unwrap().to_owned(),
        agent["_id"].as_str().unwrap().to_owned(),
    )
}

pub fn user_id(s: &Session) -> String {
    s.user["id"].as_str().unwrap().to_owned()
}

/// Changes who may use agent `object_id` (`PUT /api/permissions/agent/:id`).
pub async fn share(server: &TestServer, s: &Session, object_id: &str, body: Value) -> u16 {
    server
        .send(
            "PUT",
            &format!("/api/permissions/agent/{object_id}"),
            &s.token,
            body,
        )
        .await
        .status()
        .as_u16()
}

/// Shares agent `object_id` with `with` as `role` (`agent_viewer`, ...); asserts it worked.
pub async fn share_with(
    server: &TestServer,
    owner: &Session,
    object_id: &str,
    with: &Session,
    role: &str,
) {
    let body = json!({"updated": [{"type": "user", "id": user_id(with), "accessRoleId": role}]});
    assert_eq!(share(server, owner, object_id, body).await, 200);
}

/// Sets the USER role's permissions (`{"AGENTS": {"SHARE": true}}`) as the ADMIN `admin`.
pub async fn set_user_role(server: &TestServer, admin: &Session, permissions: Value) {
    let resp = server
        .send(
            "PATCH",
            "/api/admin/roles/USER/permissions",
            &admin.token,
            json!({ "permissions": permissions }),
        )
        .await;
    assert_eq!(resp.status(), 200);
}

/// The status of `method path` as `s`, and its body.
pub async fn call(
    server: &TestServer,
    s: &Session,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let resp = server.send(method, path, &s.token, body).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}
