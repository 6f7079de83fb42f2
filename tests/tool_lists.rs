//! librechat.yaml's `includedTools` and `filteredTools`, as LibreChat loads its tools: with
//! `filteredTools` the named tools are neither listed (`GET /api/agents/tools`) nor offered to
//! a model; with `includedTools` only the named ones are, and `filteredTools` is ignored.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

async fn server(fake: &FakeOpenAi, lists: &str) -> TestServer {
    TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .yaml(&format!("version: 1.3.17\n{lists}"))
        .start()
        .await
}

/// The tools listed for people, by `pluginKey`.
async fn listed(server: &TestServer, s: &Session) -> Vec<String> {
    let tools: Value = server.get_json("/api/agents/tools", &s.token).await;
    let mut keys: Vec<String> = tools
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["pluginKey"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys
}

/// The tools a model is offered in a chat whose conversation names both.
async fn offered(server: &TestServer, fake: &FakeOpenAi, s: &Session) -> Vec<String> {
    let last = server
        .chat(
            s,
            "openAI",
            json!({"text": "Which tools?", "model": "gpt-4o", "tools": ["calculator", "wolfram"]}),
        )
        .await;
    assert!(last.get("error").is_none(), "{last}");
    // The answer's request: the question is its last message (a title's request, which may
    // come later, quotes it inside its own prompt).
    let request = fake
        .requests()
        .into_iter()
        .find(|r| {
            r["messages"]
                .as_array()
                .and_then(|m| m.last())
                .is_some_and(|m| m["content"] == "Which tools?")
        })
        .expect("the model was asked");
    let mut names: Vec<String> = request["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn without_lists_every_tool_is_offered() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, "").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    assert_eq!(listed(&server, &alice).await, ["calculator", "wolfram"]);
    assert_eq!(
        offered(&server, &fake, &alice).await,
        ["calculator", "wolfram"]
    );
}

#[tokio::test]
async fn filtered_tools_are_neither_listed_nor_offered() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, "filteredTools: [wolfram]\n").await;
    let alice = server.signed_in("alice@example.org", PW).await;
    assert_eq!(listed(&server, &alice).await, ["calculator"]);
    assert_eq!(offered(&server, &fake, &alice).await, ["calculator"]);
}

#[tokio::test]
async fn included_tools_are_the_only_ones_and_win_over_filtered_ones() {
    let fake = FakeOpenAi::start().await;
    let server = server(
        &fake,
        "includedTools: [wolfram]\nfilteredTools: [wolfram, calculator]\n",
    )
    .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    assert_eq!(listed(&server, &alice).await, ["wolfram"]);
    assert_eq!(offered(&server, &fake, &alice).await, ["wolfram"]);
}
