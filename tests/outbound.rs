//! Calls to URLs a person chose (`baseURL: user_provided`) go through the guarded client: no
//! address inside this network unless the administrator lists it, no redirects, none of the
//! server's secrets; and a provider that misbehaves (a line that never ends, an error body
//! that never ends) cannot hold the server's memory or an answer hostage.

mod support;

use serde_json::{Value, json};
use support::fake_hostile::FakeHostile;
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

/// librechat.yaml with `endpoints.allowedAddresses` and the given custom endpoints.
fn yaml(allowed: &[String], custom: &str) -> String {
    let list: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    format!(
        "version: 1.2.8\nendpoints:\n  allowedAddresses: [{}]\n  custom:\n{custom}",
        list.join(", ")
    )
}

/// An endpoint whose URL (and key) each person sets.
const MINE: &str = "    - name: Mine\n      apiKey: user_provided\n      baseURL: user_provided\n      models:\n        default: [gpt-4o, redirect]\n";

fn port_of(base: &str) -> u16 {
    url::Url::parse(base).unwrap().port().unwrap()
}

async fn set_key(server: &TestServer, s: &Session, endpoint: &str, value: Value) {
    let resp = server
        .send(
            "PUT",
            "/api/keys",
            &s.token,
            json!({"name": endpoint, "value": value.to_string(), "expiresAt": null}),
        )
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
}

async fn start(server: &TestServer, s: &Session, endpoint: &str, model: &str) -> reqwest::Response {
    server
        .send(
            "POST",
            &format!("/api/agents/chat/{endpoint}"),
            &s.token,
            json!({"text": "hi", "model": model}),
        )
        .await
}

/// Starts an answer and follows its stream to the `final` frame.
async fn answer(server: &TestServer, s: &Session, endpoint: &str, model: &str) -> Value {
    let resp = start(server, s, endpoint, model).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let id = resp.json::<Value>().await.unwrap()["streamId"]
        .as_str()
        .unwrap()
        .to_owned();
    server.final_frame(s, &id).await
}

#[tokio::test]
async fn a_user_base_url_into_this_network_is_refused_unless_allowed() {
    let fake = FakeOpenAi::start().await;
    let port = port_of(&fake.base);
    let server = TestServer::builder().yaml(&yaml(&[], MINE)).start().await;
    let s = server.signed_in("alice@example.org", PW).await;

    // An address in the URL: refused at once, with the reason and the way to allow it.
    for (url, kind) in [
        (fake.base.clone(), "loopback"),
        (format!("http://[::1]:{port}/v1"), "loopback"),
        (format!("http://[::ffff:127.0.0.1]:{port}/v1"), "loopback"),
        ("http://169.254.169.254/latest".to_owned(), "link-local"),
        ("http://10.0.0.8:11434/v1".to_owned(), "private"),
    ] {
        set_key(&server, &s, "Mine", json!({"apiKey": KEY, "baseURL": url})).await;
        let resp = start(&server, &s, "Mine", "gpt-4o").await;
        assert_eq!(resp.status(), 400, "{url}");
        let message = resp.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            message.contains(kind) && message.contains("allowedAddresses"),
            "{url}: {message}"
        );
    }
    // A name that resolves into this network: refused when the answer connects, without
    // saying what it resolved to (the server's log has that).
    set_key(
        &server,
        &s,
        "Mine",
        json!({"apiKey": KEY, "baseURL": format!("http://localhost:{port}/v1")}),
    )
    .await;
    let last = answer(&server, &s, "Mine", "gpt-4o").await;
    assert_eq!(last["error"]["code"], "invalid_base_url", "{last}");
    let message = last["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("localhost resolves to a private address")
            && message.contains("allowedAddresses")
            && !message.contains("127.0.0.1")
            && !message.contains("::1"),
        "{message}"
    );
    assert_eq!(last["responseMessage"]["error"], true);
    assert!(fake.requests().is_empty(), "nothing reached the fake");
    server.stop().await;

    // Listed by the administrator (with its port), the same service is reachable.
    let allowed = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    let server = TestServer::builder()
        .yaml(&yaml(&allowed, MINE))
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    for url in [fake.base.clone(), format!("http://localhost:{port}/v1")] {
        set_key(&server, &s, "Mine", json!({"apiKey": KEY, "baseURL": url})).await;
        let last = answer(&server, &s, "Mine", "gpt-4o").await;
        assert_eq!(last["responseMessage"]["text"], "Echo: hi", "{url}: {last}");
    }
    // Another port on the same host is still refused.
    set_key(
        &server,
        &s,
        "Mine",
        json!({"apiKey": KEY, "baseURL": format!("http://127.0.0.1:{}/v1", port.wrapping_add(1))}),
    )
    .await;
    assert_eq!(start(&server, &s, "Mine", "gpt-4o").await.status(), 400);
    server.stop().await;
}

#[tokio::test]
async fn the_servers_key_and_headers_never_reach_a_url_a_user_set() {
    let fake = FakeOpenAi::start().await;
    let theirs = "    - name: Theirs\n      apiKey: server-secret-key\n      baseURL: user_provided\n      headers:\n        X-Server-Secret: server-header-secret\n        X-Who: '{{LIBRECHAT_USER_EMAIL}}'\n      models:\n        default: [gpt-4o]\n";
    let server = TestServer::builder()
        .yaml(&yaml(
            &[format!("127.0.0.1:{}", port_of(&fake.base))],
            theirs,
        ))
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let endpoints = server.get_json("/api/endpoints", &s.token).await;
    assert_eq!(endpoints["Theirs"]["userProvideURL"], true);

    // The URL alone: the server's key does not go with it.
    set_key(&server, &s, "Theirs", json!({"baseURL": fake.base})).await;
    let last = answer(&server, &s, "Theirs", "gpt-4o").await;
    assert_eq!(last["error"]["code"], "invalid_api_key", "{last}");
    assert_eq!(fake.last_header("authorization"), None);
    assert_eq!(fake.last_header("x-server-secret"), None);
    assert_eq!(fake.last_header("x-who"), None);

    // With their own key: that key, and still none of the server's headers.
    set_key(
        &server,
        &s,
        "Theirs",
        json!({"apiKey": KEY, "baseURL": fake.base}),
    )
    .await;
    let last = answer(&server, &s, "Theirs", "gpt-4o").await;
    assert_eq!(last["responseMessage"]["text"], "Echo: hi", "{last}");
    assert_eq!(
        fake.last_header("authorization").as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(fake.last_header("x-server-secret"), None);
    assert_eq!(fake.last_header("x-who"), None);
    server.stop().await;
}

#[tokio::test]
async fn a_redirect_from_a_user_url_is_not_followed() {
    // The redirect leads to a service nobody allowed.
    let target = FakeOpenAi::start().await;
    let hostile = FakeHostile::start(&format!("{}/chat/completions", target.base)).await;
    let server = TestServer::builder()
        .yaml(&yaml(&[format!("127.0.0.1:{}", hostile.port())], MINE))
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    set_key(
        &server,
        &s,
        "Mine",
        json!({"apiKey": KEY, "baseURL": hostile.base}),
    )
    .await;
    let last = answer(&server, &s, "Mine", "redirect").await;
    let message = last["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("307"), "{last}");
    assert_eq!(hostile.requests(), 1);
    assert!(
        target.requests().is_empty(),
        "the redirect was not followed"
    );
    server.stop().await;
}

/// A custom endpoint the administrator configured, at the hostile provider.
async fn hostile_server(hostile: &FakeHostile) -> TestServer {
    let custom = format!(
        "    - name: Hostile\n      apiKey: k\n      baseURL: '{}'\n      models:\n        default: [endless-line, huge-error, flood]\n",
        hostile.base
    );
    TestServer::builder()
        .yaml(&yaml(&[], &custom))
        .start()
        .await
}

#[tokio::test]
async fn a_line_that_never_ends_ends_the_answer_and_keeps_what_came() {
    let hostile = FakeHostile::start("http://unused.invalid/").await;
    let server = hostile_server(&hostile).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let last = answer(&server, &s, "Hostile", "endless-line").await;
    assert_eq!(last["error"]["code"], "stream_error", "{last}");
    let message = last["error"]["message"].as_str().unwrap();
    assert!(message.contains("longer than 4 MiB"), "{message}");
    // What came before it is saved, marked as an error.
    let convo = last["conversation"]["conversationId"].as_str().unwrap();
    let stored: Vec<Value> = server
        .get_as(&format!("/api/messages/{convo}"), &s.token)
        .await
        .json()
        .await
        .unwrap();
    let answer = stored
        .iter()
        .find(|m| m["isCreatedByUser"] == false)
        .unwrap();
    assert_eq!(answer["text"], "Hello");
    assert_eq!(answer["error"], true);
    server.stop().await;
}

#[tokio::test]
async fn an_answer_without_end_is_cut_at_its_bound_and_kept() {
    let hostile = FakeHostile::start("http://unused.invalid/").await;
    let server = hostile_server(&hostile).await;
    let s = server.signed_in("alice@example.org", PW).await;
    // 12 MiB of reasoning and text in well-formed events: the answer stops at 4 MiB.
    let last = answer(&server, &s, "Hostile", "flood").await;
    assert_eq!(
        last["error"]["code"], "answer_too_long",
        "{}",
        last["error"]
    );
    let message = last["error"]["message"].as_str().unwrap();
    assert!(message.contains("passed 4 MiB"), "{message}");
    // What came is saved, marked as an error: reasoning and text together at the bound.
    let convo = last["conversation"]["conversationId"].as_str().unwrap();
    let stored: Vec<Value> = server
        .get_as(&format!("/api/messages/{convo}"), &s.token)
        .await
        .json()
        .await
        .unwrap();
    let answer = stored
        .iter()
        .find(|m| m["isCreatedByUser"] == false)
        .unwrap();
    assert_eq!(answer["error"], true);
    // Each switch between reasoning and text is a step (a part) of its own, as LibreChat's
    // agents stream them.
    let parts = answer["content"].as_array().unwrap();
    let sum = |kind: &str| -> usize {
        parts
            .iter()
            .filter(|p| p["type"] == kind)
            .map(|p| p[kind].as_str().unwrap().len())
            .sum()
    };
    let (think, text) = (sum("think"), sum("text"));
    assert_eq!(think + text, 4 * 1024 * 1024);
    assert!(text > 0 && think > 0, "both kinds were kept");
    server.stop().await;
}

#[tokio::test]
async fn an_error_body_that_never_ends_is_read_only_in_part() {
    let hostile = FakeHostile::start("http://unused.invalid/").await;
    let server = hostile_server(&hostile).await;
    let s = server.signed_in("alice@example.org", PW).await;
    // The body never ends: reading all of it would wait forever. A generous bound, for a
    // broken build only (the answer comes in milliseconds).
    let last = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        answer(&server, &s, "Hostile", "huge-error"),
    )
    .await
    .expect("the error is reported without reading the whole body");
    assert_eq!(last["error"]["code"], "provider_error", "{last}");
    let message = last["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("500") && message.contains("overloaded"),
        "{message}"
    );
    assert!(
        message.len() < 1_000,
        "the message is shortened: {}",
        message.len()
    );
    server.stop().await;
}
