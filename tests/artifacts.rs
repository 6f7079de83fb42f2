//! Artifacts against the real server: the instructions reach the model only when a chat turns
//! them on, and `POST /api/messages/artifact/:messageId` changes an artifact of a stored answer
//! as LibreChat's does (its statuses and JSON), for its owner only, inside the artifact only,
//! with the search index following, and never a 500 on hostile input. The only fake is the
//! OpenAI provider, which echoes the question: an answer carries the artifact the question did.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";
const PAGE: &str = ":::artifact{identifier=\"tide-page\" type=\"text/html\" title=\"Tide page\"}\n````html\n<!DOCTYPE html>\n<p id=\"t\">High tide at 06:12</p>\n````\n:::";

async fn server(fake: &FakeOpenAi) -> TestServer {
    TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .start()
        .await
}

/// Asks `text` in a new conversation (with `extra` in the body); the system prompt the model
/// got, and the answer's message.
async fn ask(
    server: &TestServer,
    fake: &FakeOpenAi,
    s: &Session,
    text: &str,
    extra: Value,
) -> (Option<String>, Value) {
    let mut body = json!({"text": text, "parentMessageId": ROOT, "conversationId": null,
        "model": "gpt-4o", "endpoint": "openAI"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let last = server.chat(s, "openAI", body).await;
    assert_eq!(last["final"], true, "{last}");
    let sent = fake.last_chat();
    let first = &sent["messages"][0];
    let system = (first["role"] == "system").then(|| first["content"].as_str().unwrap().to_owned());
    (system, last["responseMessage"].clone())
}

/// `POST /api/messages/artifact/:id` as `s`: the status and the JSON body.
async fn edit(server: &TestServer, s: &Session, id: &str, body: Value) -> (u16, Value) {
    let resp = server
        .send(
            "POST",
            &format!("/api/messages/artifact/{id}"),
            &s.token,
            body,
        )
        .await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// The stored message `id` of conversation `convo`.
async fn stored(server: &TestServer, s: &Session, convo: &str, id: &str) -> Value {
    server
        .get_json(&format!("/api/messages/{convo}/{id}"), &s.token)
        .await
}

#[tokio::test]
async fn the_instructions_reach_the_model_only_when_artifacts_are_on() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake).await;
    let s = server.signed_in("alice@example.org", PW).await;

    let (off, _) = ask(&server, &fake, &s, "Hello", json!({})).await;
    assert_eq!(off, None);
    let (off, _) = ask(&server, &fake, &s, "Hello", json!({"artifacts": ""})).await;
    assert_eq!(off, None);

    // The conversation's setting: after the system prompt, with the syntax and the types.
    let (on, answer) = ask(
        &server,
        &fake,
        &s,
        "Hello",
        json!({"artifacts": "default", "promptPrefix": "Be brief."}),
    )
    .await;
    let on = on.expect("a system prompt");
    assert!(on.starts_with("Be brief.\n\n"), "{on}");
    assert!(on.contains(":::artifact{identifier="), "{on}");
    for t in [
        "text/html",
        "image/svg+xml",
        "application/vnd.mermaid",
        "application/vnd.react",
    ] {
        assert!(on.contains(t), "{t} is not in {on}");
    }
    assert!(!on.contains("/components/ui/accordion"), "{on}");
    // Kept with the conversation: the next message has them too.
    let convo = answer["conversationId"].as_str().unwrap();
    let body = json!({"text": "Again", "parentMessageId": answer["messageId"], "conversationId": convo,
        "model": "gpt-4o", "endpoint": "openAI"});
    server.chat(&s, "openAI", body).await;
    let again = fake.last_chat()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(again.contains(":::artifact{identifier="), "{again}");

    // shadcn/ui adds the components; custom leaves the instructions to the person.
    let (shadcn, _) = ask(
        &server,
        &fake,
        &s,
        "Hello",
        json!({"artifacts": "shadcnui"}),
    )
    .await;
    let shadcn = shadcn.unwrap();
    assert!(shadcn.contains("\"/components/ui/accordion\""), "{shadcn}");
    let (custom, _) = ask(
        &server,
        &fake,
        &s,
        "Hello",
        json!({"artifacts": "custom", "promptPrefix": "My own rules."}),
    )
    .await;
    assert_eq!(custom.as_deref(), Some("My own rules."));
}

#[tokio::test]
async fn the_composer_toggle_and_an_agent_turn_them_on_too() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake).await;
    let s = server.signed_in("alice@example.org", PW).await;
    // LibreChat's client sends the toggle with every message: a mode when on, "" when off.
    let toggle =
        |mode: &str| json!({"ephemeralAgent": {"mcp": [], "web_search": false, "artifacts": mode}});
    let (on, _) = ask(&server, &fake, &s, "Hello", toggle("default")).await;
    assert!(on.unwrap().contains(":::artifact{identifier="));
    let (shadcn, _) = ask(&server, &fake, &s, "Hello", toggle("shadcnui")).await;
    assert!(shadcn.unwrap().contains("\"/components/ui/button\""));
    let (off, _) = ask(&server, &fake, &s, "Hello", toggle("")).await;
    assert_eq!(off, None);
    let (custom, _) = ask(&server, &fake, &s, "Hello", toggle("custom")).await;
    assert_eq!(custom, None);

    // An agent's own mode, after its instructions; the toggle does not change an agent's.
    let agent = support::agents::create(
        &server,
        &s,
        json!({"name": "Artist", "artifacts": "default", "instructions": "Draw things."}),
    )
    .await;
    let id = agent["id"].as_str().unwrap();
    let body = json!({"text": "A tide chart", "endpoint": "agents", "agent_id": id,
        "parentMessageId": ROOT, "conversationId": null, "ephemeralAgent": {"artifacts": ""}});
    let last = server.chat(&s, "agents", body).await;
    assert_eq!(last["final"], true, "{last}");
    let system = fake.last_chat()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(system.starts_with("Draw things.\n\n"), "{system}");
    assert!(system.contains(":::artifact{identifier="), "{system}");
    let plain = support::agents::create(
        &server,
        &s,
        json!({"name": "Plain", "instructions": "Just talk."}),
    )
    .await;
    let body = json!({"text": "Hi", "endpoint": "agents", "agent_id": plain["id"],
        "parentMessageId": ROOT, "conversationId": null, "ephemeralAgent": {"artifacts": "default"}});
    server.chat(&s, "agents", body).await;
    assert_eq!(fake.last_chat()["messages"][0]["content"], "Just talk.");
}

#[tokio::test]
async fn an_artifact_is_edited_saved_and_found_by_search() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (_, answer) = ask(
        &server,
        &fake,
        &s,
        &format!("Here:\n{PAGE}\nThanks"),
        json!({}),
    )
    .await;
    let (convo, id) = (
        answer["conversationId"].as_str().unwrap(),
        answer["messageId"].as_str().unwrap(),
    );

    let (status, body) = edit(
        &server,
        &s,
        id,
        json!({"index": 0, "original": "<!DOCTYPE html>\n<p id=\"t\">High tide at 06:12</p>\n",
            "updated": "<!DOCTYPE html>\n<p id=\"t\">Low tide at noonday</p>"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conversationId"], convo);
    let want = "Echo: Here:\n:::artifact{identifier=\"tide-page\" type=\"text/html\" title=\"Tide page\"}\n````html\n<!DOCTYPE html>\n<p id=\"t\">Low tide at noonday</p>\n````\n:::\nThanks";
    assert_eq!(body["text"], want);
    assert_eq!(body["content"], json!([{"type": "text", "text": want}]));
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["content", "conversationId", "text"]);

    // Saved: the message reads back changed, text and content alike.
    let m = stored(&server, &s, convo, id).await;
    assert_eq!(m["text"], want);
    assert_eq!(m["content"][0]["text"], want);

    // The search index follows the change.
    let search = server.state.search.clone().unwrap();
    for _ in 0..600 {
        if server.count("search_outbox").await == 0 && search.rebuild_reason().is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let found = server
        .get_json("/api/messages?search=noonday", &s.token)
        .await;
    let ids: Vec<&str> = found["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id], "{found}");

    // LibreChat's client sends what it showed, with each `$` escaped for its TeX renderer:
    // matched as stored once unescaped, and what it sends back unescaped alike.
    let (status, body) = edit(
        &server,
        &s,
        id,
        json!({"index": 0, "original": "Low tide at noonday", "updated": "Entry: $5"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = edit(
        &server,
        &s,
        id,
        json!({"index": 0, "original": "<p id=\"t\">Entry: \\$5</p>", "updated": "<p id=\"t\">Entry: \\$6</p>"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("<p id=\"t\">Entry: $6</p>"),
        "{body}"
    );
    // A `\$` the person typed where nothing was escaped is kept as typed (LibreChat would
    // drop the backslash).
    let (status, body) = edit(
        &server,
        &s,
        id,
        json!({"index": 0, "original": "Entry", "updated": "echo \\$HOME"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["text"].as_str().unwrap().contains("echo \\$HOME: $6"),
        "{body}"
    );
}

#[tokio::test]
async fn librechats_refusals_and_another_persons_message() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake).await;
    let (alice, bob) = server.two_users(PW).await;
    let (_, answer) = ask(&server, &fake, &alice, &format!("x\n{PAGE}"), json!({})).await;
    let (convo, id) = (
        answer["conversationId"].as_str().unwrap(),
        answer["messageId"].as_str().unwrap(),
    );
    let invalid = json!({"error": "Invalid request parameters"});
    for body in [
        json!({}),
        json!({"original": "a", "updated": "b"}),
        json!({"index": -1, "original": "a", "updated": "b"}),
        json!({"index": "0", "original": "a", "updated": "b"}),
        json!({"index": 0.5, "original": "a", "updated": "b"}),
        json!({"index": 0, "original": null, "updated": "b"}),
        json!({"index": 0, "original": "a"}),
        json!({"index": 0, "original": 5, "updated": "b"}),
        json!({"index": 0, "original": "a", "updated": ["b"]}),
        json!([0, "a", "b"]),
    ] {
        assert_eq!(
            edit(&server, &alice, id, body.clone()).await,
            (400, invalid.clone()),
            "{body}"
        );
    }
    assert_eq!(
        edit(
            &server,
            &alice,
            id,
            json!({"index": 1, "original": "a", "updated": "b"})
        )
        .await,
        (400, json!({"error": "Artifact index out of bounds"}))
    );
    let not_in = (
        400,
        json!({"error": "Original content not found in target artifact"}),
    );
    // Not there; there, but outside the artifact (the question's own words).
    for original in ["<p>nowhere</p>", "Echo: x", "title=\"Tide page\""] {
        let body = json!({"index": 0, "original": original, "updated": "b"});
        assert_eq!(edit(&server, &alice, id, body).await, not_in, "{original}");
    }
    assert_eq!(
        edit(
            &server,
            &alice,
            "no-such-message",
            json!({"index": 0, "original": "a", "updated": "b"})
        )
        .await,
        (404, json!({"error": "Message not found"}))
    );
    // Bob cannot reach Alice's answer: the same 404 as no message, and nothing changes.
    let before = stored(&server, &alice, convo, id).await;
    let body = json!({"index": 0, "original": "High tide", "updated": "Bob was here"});
    assert_eq!(
        edit(&server, &bob, id, body.clone()).await,
        (404, json!({"error": "Message not found"}))
    );
    assert_eq!(stored(&server, &alice, convo, id).await, before);
    // Without a session: 401.
    let resp = server
        .post_json(&format!("/api/messages/artifact/{id}"), body)
        .await;
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn hostile_artifacts_are_edited_inside_their_bounds_or_refused() {
    let fake = FakeOpenAi::start().await;
    let server = server(&fake).await;
    let s = server.signed_in("alice@example.org", PW).await;
    // A markdown artifact whose code shows `:::` and a fence; an unclosed last artifact; unicode.
    let doc = ":::artifact{identifier=\"doc\" type=\"text/markdown\" title=\"Ünïcode 🦀\"}\n`````markdown\n# Syntax\n````\n:::\n````\nline — 東京 🦀\n`````\n:::";
    let open = ":::artifact{identifier=\"svg\" type=\"image/svg+xml\" title=\"Open\"}\n```\n<svg viewBox=\"0 0 1 1\"></svg>";
    let (_, answer) = ask(
        &server,
        &fake,
        &s,
        &format!("a\n{doc}\nthen\n{open}"),
        json!({}),
    )
    .await;
    let (convo, id) = (
        answer["conversationId"].as_str().unwrap(),
        answer["messageId"].as_str().unwrap(),
    );
    let (status, body) = edit(
        &server,
        &s,
        id,
        json!({"index": 0, "original": "line — 東京 🦀", "updated": "ligne — 京都 ✓"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let text = body["text"].as_str().unwrap();
    assert!(
        text.contains("````\n:::\n````\nligne — 京都 ✓\n`````\n:::\nthen\n"),
        "{text}"
    );
    let (status, body) = edit(
        &server,
        &s,
        id,
        json!({"index": 1, "original": "<svg viewBox=\"0 0 1 1\"></svg>", "updated": "<svg viewBox=\"0 0 2 2\"><circle r=\"1\"/></svg>"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .ends_with("```\n<svg viewBox=\"0 0 2 2\"><circle r=\"1\"/></svg>\n"),
        "{body}"
    );
    // The `:::` inside the code is content, not a third artifact.
    let (status, _) = edit(
        &server,
        &s,
        id,
        json!({"index": 2, "original": "x", "updated": "y"}),
    )
    .await;
    assert_eq!(status, 400);
    // Hostile texts and ids: refused or done, never a server error.
    let long = "é".repeat(200_000);
    for (target, body) in [
        (
            id.to_owned(),
            json!({"index": 0, "original": long, "updated": ":::"}),
        ),
        (
            id.to_owned(),
            json!({"index": 0, "original": "", "updated": "x"}),
        ),
        (
            id.to_owned(),
            json!({"index": 0, "original": "\n", "updated": "x"}),
        ),
        (
            id.to_owned(),
            json!({"index": 0, "original": "ligne", "updated": ":::\n:::artifact{}\n````"}),
        ),
        (
            id.to_owned(),
            json!({"index": u64::MAX, "original": "a", "updated": "b"}),
        ),
        (
            id.to_owned(),
            json!({"index": 1e300, "original": "a", "updated": "b"}),
        ),
        (
            "%F0%9F%A6%80".to_owned(),
            json!({"index": 0, "original": "a", "updated": "b"}),
        ),
        (
            "x".repeat(2000),
            json!({"index": 0, "original": "a", "updated": "b"}),
        ),
    ] {
        let (status, reply) = edit(&server, &s, &target, body).await;
        assert!(matches!(status, 200 | 400 | 404), "{status} {reply}");
    }
    // The answer is still whole and readable.
    let m = stored(&server, &s, convo, id).await;
    assert!(
        m["text"]
            .as_str()
            .unwrap()
            .starts_with("Echo: a\n:::artifact{identifier=\"doc\"")
    );

    // 2.5 MB of artifacts whose fences never close (read once each to the end, that was hours
    // of the database's one writer): found in one pass, and the last one edited.
    let many = ":::artifact\n```js\n:::\n".repeat(120_000);
    let resp = server
        .send(
            "POST",
            &format!("/api/messages/{convo}"),
            &s.token,
            json!({"messageId": "many-artifacts", "parentMessageId": id, "text": many, "sender": "Assistant"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let (status, body) = edit(
        &server,
        &s,
        "many-artifacts",
        json!({"index": 119_999, "original": "", "updated": "let last = true;"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .ends_with("```js\nlet last = true;\n:::\n")
    );
}

#[tokio::test]
async fn the_sandbox_page_has_a_policy_of_its_own_and_the_apps_is_unchanged() {
    let server = TestServer::start().await;
    let csp = |r: &reqwest::Response| {
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let app = server.get("/c/new").await;
    let app_csp = csp(&app);
    assert!(app_csp.contains("script-src 'self';"), "{app_csp}");
    assert!(
        !app_csp.contains("unsafe-inline") && !app_csp.contains("sandbox"),
        "{app_csp}"
    );
    assert!(app_csp.contains("frame-ancestors 'none'"), "{app_csp}");
    assert_eq!(app.headers()["x-frame-options"], "DENY");

    let page = server.get("/artifact-sandbox.html").await;
    assert_eq!(page.status(), 200);
    let page_csp = csp(&page);
    // Scripts run, but with an opaque origin, no network and only the app may frame it.
    for part in [
        "script-src 'unsafe-inline'",
        "connect-src 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",
        "sandbox allow-scripts",
    ] {
        assert!(page_csp.contains(part), "{part} is not in {page_csp}");
    }
    assert!(!page_csp.contains("allow-same-origin"), "{page_csp}");
    assert_eq!(page.headers()["x-frame-options"], "SAMEORIGIN");
    let html = page.text().await.unwrap();
    assert!(html.contains("<iframe sandbox=\"allow-scripts\""), "{html}");
    assert!(html.contains("e.source !== parent"), "{html}");
}
