//! Prometheus metrics on `METRICS_ADDR`: requests by route pattern and status, latency, tokens
//! relayed and provider errors by endpoint (through real turns against the fake OpenAI),
//! answers in progress, search lag, SQLite waits and memory; served on their own listener only.

mod support;

use std::time::Duration;

use serde_json::json;
use support::TestServer;
use support::fake_openai::{FakeOpenAi, KEY};

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";

/// A turn with `model`, read to its end.
async fn turn(server: &TestServer, token: &str, model: &str, message_id: &str) {
    let resp = server
        .send(
            "POST",
            "/api/agents/chat/openAI",
            token,
            json!({"text": "Hello", "messageId": message_id, "parentMessageId": ROOT,
                "conversationId": null, "model": model, "endpoint": "openAI"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let started: serde_json::Value = resp.json().await.unwrap();
    let id = started["streamId"].as_str().unwrap();
    let stream = server
        .client
        .get(server.url(&format!("/api/agents/chat/stream/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    // The stream ends after its final frame; the bound is for a broken build only.
    let body = tokio::time::timeout(Duration::from_secs(60), stream.text())
        .await
        .expect("the stream ended")
        .unwrap();
    assert!(body.contains("\"final\":true"), "{body}");
}

/// The value of the sample `name{labels}` (the whole line before the value must match).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_turns_and_errors() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o,server-error")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .start()
        .await;
    // The listener is bound as the server task starts: wait for it (a bound for a broken build).
    let metrics = server.state.metrics.clone().expect("metrics on");
    let mut waited = 0;
    while metrics.bound.get().is_none() {
        assert!(waited < 3000, "the metrics listener never bound");
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    let metrics_addr = *metrics.bound.get().unwrap();
    let metrics_url = format!("http://{metrics_addr}/metrics");

    let s = server.signed_in("m@example.org", PW).await;
    for _ in 0..3 {
        assert_eq!(server.get("/api/config").await.status(), 200);
    }
    assert_eq!(server.get("/api/no/such/route").await.status(), 404);
    turn(&server, &s.token, "gpt-4o", "u1").await;
    turn(&server, &s.token, "server-error", "u2").await;

    let resp = server.client.get(&metrics_url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = resp.text().await.unwrap();
    let get =
        |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series} in:\n{text}"));
    assert_eq!(
        get(r#"librechat_http_requests_total{route="/api/config",method="GET",status="200"}"#),
        3.0
    );
    assert_eq!(
        get(r#"librechat_http_requests_total{route="unmatched",method="GET",status="404"}"#),
        1.0,
        "unknown paths share one series"
    );
    assert_eq!(
        get(r#"librechat_http_request_duration_seconds_count{route="/api/config",method="GET"}"#),
        3.0
    );
    assert!(
        get(r#"librechat_tokens_relayed_total{endpoint="openAI"}"#) > 0.0,
        "the answer's tokens"
    );
    assert_eq!(
        get(r#"librechat_provider_errors_total{endpoint="openAI",code="provider_error"}"#),
        1.0
    );
    assert_eq!(get("librechat_generation_streams_active"), 0.0);
    assert!(get("librechat_search_index_pending_changes") >= 0.0);
    assert!(get("librechat_process_resident_memory_bytes") > 1_000_000.0);
    assert!(text.contains("librechat_build_info{version=\""));
    assert!(
        !text.contains("/api/no/such/route"),
        "paths never become labels"
    );
    assert!(text.ends_with("# EOF\n"));

    // A write that has to wait for SQLite's lock is counted: another process holds the lock,
    // a request writes, and the counter moves while it waits; then the lock goes and the
    // write completes.
    let scrape = |series: &'static str| {
        let (client, url) = (server.client.clone(), metrics_url.clone());
        async move {
            let text = client.get(url).send().await.unwrap().text().await.unwrap();
            sample(&text, series).unwrap_or_else(|| panic!("{series}"))
        }
    };
    // The search indexer writes too (it empties its change log): once it has caught up with
    // the turns above, the preset save is the only writer left to wait.
    for waited in 0.. {
        if scrape("librechat_search_index_pending_changes").await == 0.0 {
            break;
        }
        assert!(waited < 3000, "the search index never caught up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = scrape("librechat_sqlite_busy_waits_total").await;
    let blocker = rusqlite::Connection::open(server.state.settings.database_path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let saved_yet = std::sync::atomic::AtomicBool::new(false);
    let save = async {
        let resp = server
            .send("POST", "/api/presets", &s.token, json!({"title": "Waits"}))
            .await;
        saved_yet.store(true, std::sync::atomic::Ordering::SeqCst);
        resp
    };
    let watch = async {
        // A bound for a broken build only: the request waits until the lock goes.
        for _ in 0..2000 {
            if scrape("librechat_sqlite_busy_waits_total").await > before {
                assert!(
                    !saved_yet.load(std::sync::atomic::Ordering::SeqCst),
                    "the save was still waiting for the lock"
                );
                blocker.execute_batch("COMMIT").unwrap();
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the waiting write was never counted");
    };
    let (saved, ()) = tokio::join!(save, watch);
    assert_eq!(
        saved.status(),
        201,
        "the write went through once the lock was free"
    );

    // The metrics listener serves metrics only; the app's listener does not serve them.
    let other = server
        .client
        .get(format!("http://{metrics_addr}/api/config"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let on_app = server.get("/metrics").await;
    assert!(
        !on_app
            .text()
            .await
            .unwrap()
            .contains("librechat_http_requests_total"),
        "not on the app's port"
    );
}

#[tokio::test]
async fn metrics_are_off_unless_asked_for() {
    let server = TestServer::start().await;
    assert!(server.state.metrics.is_none());
    let dir = tempfile::tempdir().unwrap();
    let err = TestServer::builder()
        .env("METRICS_ADDR", "everywhere")
        .settings(dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("METRICS_ADDR"), "{err}");
}
