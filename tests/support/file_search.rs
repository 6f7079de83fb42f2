//! Helpers for file search tests: uploads for file search (an agent's, a chat's) and their
//! deletion, waiting for the indexer, and what the `file_search` tool answered the model.

use serde_json::{Value, json};

use super::fake_openai::FakeOpenAi;
use super::fake_tools::ToolScript;
use super::{Session, TestServer, upload_form};

/// The model the tests chat with (its script calls `file_search`).
pub const MODEL: &str = "gpt-4o";

/// Waits until the indexer has applied every change (the outbox is empty after a commit, and
/// no rebuild is pending).
pub async fn settle(server: &TestServer) {
    for _ in 0..1200 {
        let index = server.state.search.as_ref().expect("search is on");
        if server.count("search_outbox").await == 0 && index.rebuild_reason().is_none() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the search index did not catch up");
}

/// Uploads `bytes` for the agent's file search, as the Agent Builder does; status and body.
pub async fn upload_for_agent(
    server: &TestServer,
    s: &Session,
    agent_id: &str,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let form = upload_form("agents", name, mime, bytes)
        .text("agent_id", agent_id.to_owned())
        .text("tool_resource", "file_search");
    server.post_form(&s.token, "/api/files", form).await
}

/// Uploads `bytes` for file search in a chat, as LibreChat's client does (a message's file
/// with `tool_resource: file_search`); status and body.
pub async fn upload_for_chat(
    server: &TestServer,
    s: &Session,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let form = upload_form("agents", name, mime, bytes)
        .text("message_file", "true")
        .text("tool_resource", "file_search");
    server.post_form(&s.token, "/api/files", form).await
}

/// Uploads `text` (Markdown) for the agent's file search; asserts it was taken as a document
/// to search, returns its id.
pub async fn add_to_agent(
    server: &TestServer,
    s: &Session,
    agent: &str,
    name: &str,
    text: &str,
) -> String {
    let bytes = text.as_bytes().to_vec();
    let (status, file) = upload_for_agent(server, s, agent, name, "text/markdown", bytes).await;
    assert_eq!(status, 200, "{file}");
    assert_eq!(file["embedded"], true, "{file}");
    file["file_id"].as_str().unwrap().to_owned()
}

/// Uploads `text` (plain text) for file search in a chat; asserts it was taken, returns its id.
pub async fn add_to_chat(server: &TestServer, s: &Session, name: &str, text: &str) -> String {
    let bytes = text.as_bytes().to_vec();
    let (status, file) = upload_for_chat(server, s, name, "text/plain", bytes).await;
    assert_eq!(status, 200, "{file}");
    file["file_id"].as_str().unwrap().to_owned()
}

/// Deletes `s`'s file `file_id` as LibreChat's client does; asserts it was deleted.
pub async fn delete_file(server: &TestServer, s: &Session, file_id: &str) {
    let body = json!({"files": [{"file_id": file_id}]});
    let resp = server.send("DELETE", "/api/files", &s.token, body).await;
    assert_eq!(resp.status(), 200);
}

/// Deletes `s`'s account; asserts it was deleted.
pub async fn delete_account(server: &TestServer, s: &Session) {
    let resp = server
        .send("DELETE", "/api/user/delete", &s.token, json!({}))
        .await;
    assert_eq!(resp.status(), 200);
}

/// Makes the model call `file_search` with `query` whenever it is offered the tool.
pub fn script(fake: &FakeOpenAi, query: &str) {
    fake.script(
        MODEL,
        ToolScript::calls([("file_search", json!({ "query": query }))]).when("\"file_search\""),
    );
}

/// The tool names the model was offered in its last request.
pub fn offered(fake: &FakeOpenAi) -> Vec<String> {
    let asked = fake.last_chat();
    asked["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str().map(str::to_owned))
        .collect()
}

/// What the tools answered the model in its last request (each tool message's content).
pub fn tool_results(fake: &FakeOpenAi) -> Vec<String> {
    let asked = fake.last_chat();
    asked["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "tool")
        .map(|m| match &m["content"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// A plain chat message with the composer's file search toggle on (or off), naming `files`.
pub fn chat_body(text: &str, conversation: Option<&str>, files: &[&str], toggle: bool) -> Value {
    let files: Vec<Value> = files.iter().map(|f| json!({ "file_id": f })).collect();
    let mut body = json!({
        "text": text,
        "endpoint": "openAI",
        "model": MODEL,
        "files": files,
        "ephemeralAgent": {"file_search": toggle},
    });
    if let Some(c) = conversation {
        body["conversationId"] = json!(c);
    }
    body
}

/// Waits until `n` documents have all their chunks embedded.
pub async fn embedded(server: &TestServer, n: i64) {
    super::poll::eventually(|| async { server.count("file_vectors").await == n }).await;
}

/// The chunks a search of `file_ids` for `query` finds, best first: BM25 alone, or fused with
/// dense retrieval when `dense` and the server has an embeddings endpoint.
pub async fn found(
    server: &TestServer,
    file_ids: &[String],
    query: &str,
    dense: bool,
) -> Vec<librechat::search::chunks::Passage> {
    let index = server.state.search.clone().expect("search is on");
    let embeddings = server
        .state
        .chat
        .engine
        .embeddings
        .clone()
        .filter(|_| dense);
    librechat::agents::tools::file_search::passages(
        &index,
        embeddings.as_deref(),
        file_ids.to_vec(),
        query,
    )
    .await
    .unwrap()
}
