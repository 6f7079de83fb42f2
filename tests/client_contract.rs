//! What LibreChat's own web client sends and expects in a chat, as its library
//! (`librechat-data-provider`) parses it: regenerate as the client asks for it, no `null` where
//! its schemas want a number or a string, bookmarks with their ids, and a title request that
//! waits for the title being made.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::node::{self, Needs};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";

async fn server(fake: &FakeOpenAi, env: &[(&str, &str)]) -> TestServer {
    let mut b = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o,gated");
    for (k, v) in env {
        b = b.env(k, v);
    }
    b.start().await
}

/// Starts a turn as LibreChat's client does and returns every frame of its stream, the last
/// one final.
async fn turn(server: &TestServer, s: &Session, body: Value) -> Vec<Value> {
    let resp = server
        .send("POST", "/api/agents/chat/openAI", &s.token, body)
        .await;
    let status = resp.status();
    let started: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{started}");
    let id = started["streamId"].as_str().unwrap();
    let text = server
        .get_as(&format!("/api/agents/chat/stream/{id}"), &s.token)
        .await
        .text()
        .await
        .unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

/// The keys of `v` (recursively) whose value is null.
fn nulls(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Null => out.push(at.to_owned()),
        Value::Object(m) => m
            .iter()
            .for_each(|(k, v)| nulls(v, &format!("{at}.{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| nulls(v, &format!("{at}[{i}]"), out)),
        _ => {}
    }
}

#[tokio::test]
async fn regenerate_as_librechat_s_client_asks_for_it() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let first = turn(
        &server,
        &s,
        json!({"text": "How do tides work?", "messageId": "u1",
        "parentMessageId": ROOT, "conversationId": null, "model": "gpt-4o", "endpoint": "openAI"}),
    )
    .await;
    let convo = first.last().unwrap()["conversation"]["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();
    // LibreChat's client: the question's parent as `parentMessageId`, the question itself as
    // `overrideParentMessageId`, and a fresh `messageId` of its own.
    let again = turn(&server, &s, json!({"text": "How do tides work?", "isRegenerate": true,
        "messageId": "client-side-id", "parentMessageId": ROOT, "overrideParentMessageId": "u1",
        "responseMessageId": "u1_", "conversationId": convo, "model": "gpt-4o", "endpoint": "openAI"}))
    .await;
    let last = again.last().unwrap();
    assert_eq!(last["requestMessage"]["messageId"], "u1");
    assert_eq!(last["responseMessage"]["parentMessageId"], "u1");
    assert_eq!(last["responseMessage"]["text"], "Echo: How do tides work?");
    let all: Vec<Value> = server
        .get_json(&format!("/api/messages/{convo}"), &s.token)
        .await
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(all.len(), 3, "the question once, two answers to it");
    assert_eq!(
        all.iter().filter(|m| m["parentMessageId"] == "u1").count(),
        2
    );

    // A question that is not there is still refused.
    let resp = server
        .send("POST", "/api/agents/chat/openAI", &s.token, json!({"text": "x", "isRegenerate": true,
            "parentMessageId": ROOT, "overrideParentMessageId": "nope", "conversationId": convo, "model": "gpt-4o"}))
        .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn the_final_event_has_no_null_where_the_client_wants_a_number() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let frames = turn(
        &server,
        &s,
        json!({"text": "Hi", "messageId": "u1", "parentMessageId": ROOT,
        "conversationId": null, "model": "gpt-4o", "endpoint": "openAI"}),
    )
    .await;
    let last = frames.last().unwrap();
    for key in ["requestMessage", "responseMessage"] {
        let m = &last[key];
        assert!(
            m.get("tokenCount").is_none_or(Value::is_number),
            "{key}.tokenCount: {m}"
        );
        assert!(
            m.get("endpoint").is_none_or(Value::is_string),
            "{key}.endpoint: {m}"
        );
    }
    let created = &frames[0]["message"];
    assert!(
        created.get("tokenCount").is_none_or(Value::is_number),
        "{created}"
    );
}

#[tokio::test]
async fn presets_without_an_order_leave_it_out() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let resp = server
        .send(
            "POST",
            "/api/presets",
            &s.token,
            json!({"title": "Terse", "endpoint": "openAI", "model": "gpt-4o"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let saved: Value = resp.json().await.unwrap();
    assert!(saved.get("order").is_none(), "{saved}");
    let listed = server.get_json("/api/presets", &s.token).await;
    assert!(listed[0].get("order").is_none(), "{listed}");
    // An order given is kept and shown.
    let resp = server
        .send(
            "POST",
            "/api/presets",
            &s.token,
            json!({"presetId": saved["presetId"], "title": "Terse", "order": 2}),
        )
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["order"], 2);
}

#[tokio::test]
async fn bookmarks_carry_their_id_and_owner_through_a_rename() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let resp = server
        .send(
            "POST",
            "/api/tags",
            &s.token,
            json!({"tag": "Oceans", "description": "Salt water"}),
        )
        .await;
    assert!(resp.status().is_success());
    let listed = server.get_json("/api/tags", &s.token).await;
    let tag = &listed[0];
    let id = tag["_id"].as_str().expect("an _id");
    assert_eq!(id.len(), 24);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(tag["user"], s.user["id"]);
    let mut found = Vec::new();
    nulls(tag, "tag", &mut found);
    assert!(found.is_empty(), "{found:?}");

    let resp = server
        .send("PUT", "/api/tags/Oceans", &s.token, json!({"tag": "Seas"}))
        .await;
    assert!(resp.status().is_success());
    let listed = server.get_json("/api/tags", &s.token).await;
    assert_eq!(listed[0]["tag"], "Seas");
    assert_eq!(listed[0]["_id"], id, "a rename keeps the id");
}

#[tokio::test]
async fn a_title_request_waits_for_the_title_being_made() {
    let fake = FakeOpenAi::start().await;
    // Titles come from `gated`, which answers only when released.
    let server = server(&fake, &[("OPENAI_TITLE_MODEL", "gated")]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let frames = turn(
        &server,
        &s,
        json!({"text": "Tides?", "parentMessageId": ROOT,
        "conversationId": null, "model": "gpt-4o", "endpoint": "openAI"}),
    )
    .await;
    let convo = frames.last().unwrap()["conversation"]["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();
    // As LibreChat's client does, right after the answer: the title is still being made.
    let asking = {
        let (client, url, token) = (
            server.client.clone(),
            server.url(&format!("/api/convos/gen_title/{convo}")),
            s.token.clone(),
        );
        tokio::spawn(async move { client.get(url).bearer_auth(token).send().await.unwrap() })
    };
    // The request arrives and waits, for as long as the title is held back (no timing: the
    // title cannot exist before the release).
    let uid = s.user["id"].as_str().unwrap().to_owned();
    for _ in 0..1_000 {
        if server.state.jobs.titles.waiting(&uid, &convo) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        server.state.jobs.titles.waiting(&uid, &convo),
        1,
        "the request waits for the title"
    );
    assert!(!asking.is_finished(), "no answer before the title exists");
    fake.release();
    let resp = asking.await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["title"],
        "Tides and the Moon"
    );
}

#[tokio::test]
async fn a_title_request_with_no_title_coming_answers_at_once() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &[("TITLE_CONVO", "false")]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let frames = turn(
        &server,
        &s,
        json!({"text": "Tides?", "parentMessageId": ROOT,
        "conversationId": null, "model": "gpt-4o", "endpoint": "openAI"}),
    )
    .await;
    let convo = frames.last().unwrap()["conversation"]["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = server
        .get_as(&format!("/api/convos/gen_title/{convo}"), &s.token)
        .await;
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Title not found or method not implemented for the conversation's endpoint"
    );
    // Someone else's conversation looks the same.
    let bob = server.signed_in("bob@example.org", PW).await;
    let resp = server
        .get_as(&format!("/api/convos/gen_title/{convo}"), &bob.token)
        .await;
    assert_eq!(resp.status(), 404);
}

/// `tests/e2e/contract.test.mjs`: the answers above, and the others the client loads, parsed
/// with the zod schemas of `librechat-data-provider` itself. Skipped with a note when node or
/// the npm packages are missing, unless LIBRECHAT_REQUIRE_PEERS is set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_passes_the_client_library_s_own_schemas() {
    if !node::ready("the contract test", node::missing_peer(Needs::Library)) {
        return;
    }
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &[]).await;
    let base = format!("{}/", server.base);
    if let Err(out) = node::node_suite("contract.test.mjs", &[("BASE_URL", &base)]).await {
        panic!("answers fail librechat-data-provider's schemas:\n{out}");
    }
}
