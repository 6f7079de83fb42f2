//! The chat engine end to end: the real server, a fake OpenAI on 127.0.0.1 speaking the real
//! wire format, and LibreChat's resumable streaming protocol.

mod support;

use serde_json::{Value, json};
use support::events::{Events, Frame};
use support::fake_openai::{FakeOpenAi, KEY};
use support::poll::eventually;
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";
const MODELS: &str =
    "gpt-4o,gated,reasoning,split-utf8,halfway,garbage,error-in-stream,rate-limited,server-error";

async fn server_with(fake: &FakeOpenAi, env: &[(&str, &str)]) -> TestServer {
    let mut b = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", MODELS);
    for (k, v) in env {
        b = b.env(k, v);
    }
    b.start().await
}

async fn send(server: &TestServer, s: &Session, body: Value) -> reqwest::Response {
    server
        .send("POST", "/api/agents/chat/openAI", &s.token, body)
        .await
}

/// Starts a turn and returns its stream id.
async fn start(server: &TestServer, s: &Session, body: Value) -> String {
    let resp = send(server, s, body).await;
    assert_eq!(resp.status(), 200);
    let started: Value = resp.json().await.unwrap();
    assert_eq!(started["status"], "started");
    assert_eq!(started["streamId"], started["conversationId"]);
    started["streamId"].as_str().unwrap().to_owned()
}

fn text_of(frames: &[Frame]) -> String {
    frames
        .iter()
        .filter(|f| f.data["event"] == "on_message_delta")
        .map(|f| {
            f.data["data"]["delta"]["content"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn messages(server: &TestServer, s: &Session, convo: &str) -> Vec<Value> {
    server
        .get_as(&format!("/api/messages/{convo}"), &s.token)
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_conversation_streams_saves_and_gets_a_title() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;

    let endpoints: Value = server
        .get_as("/api/endpoints", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(endpoints["openAI"]["userProvide"], false);
    let models: Value = server
        .get_as("/api/models", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(models["openAI"][0], "gpt-4o");

    let id = start(&server, &s, json!({"text": "How do tides work?", "messageId": "u1", "parentMessageId": ROOT,
        "conversationId": null, "model": "gpt-4o", "endpoint": "openAI", "promptPrefix": "Answer briefly.", "temperature": 0.2})).await;
    let frames = Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    assert_eq!(frames[0].data["created"], true);
    assert_eq!(frames[0].data["message"]["messageId"], "u1");
    assert_eq!(frames[0].data["message"]["text"], "How do tides work?");
    assert_eq!(frames[1].data["event"], "on_run_step");
    assert_eq!(text_of(&frames), "Echo: How do tides work?");
    let ids: Vec<u64> = frames.iter().map(|f| f.id.unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[1] == w[0] + 1),
        "ids increase by one: {ids:?}"
    );
    let last = &frames.last().unwrap().data;
    assert_eq!(last["final"], true);
    assert_eq!(last["requestMessage"]["messageId"], "u1");
    let response = &last["responseMessage"];
    assert_eq!(response["text"], "Echo: How do tides work?");
    assert_eq!(response["parentMessageId"], "u1");
    assert_eq!(response["unfinished"], false);
    assert_eq!(response["isCreatedByUser"], false);
    assert_eq!(
        response["content"],
        json!([{"type": "text", "text": "Echo: How do tides work?"}])
    );
    assert_eq!(last["conversation"]["conversationId"], id);
    assert_eq!(last["conversation"]["model"], "gpt-4o");

    // What the provider was sent: the system prompt, the message, the parameters.
    let sent = fake.last_chat();
    assert_eq!(
        sent["messages"],
        json!([{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "How do tides work?"}])
    );
    assert_eq!(sent["temperature"], 0.2);
    assert_eq!(sent["stream"], true);

    // Saved: both messages, and the answer is complete, with its token count.
    let saved = messages(&server, &s, &id).await;
    assert_eq!(saved.len(), 2);
    assert_eq!(saved[1]["text"], "Echo: How do tides work?");
    assert_eq!(saved[1]["unfinished"], false);
    assert!(saved[1]["tokenCount"].as_i64().unwrap() > 0);
    assert!(saved[0]["tokenCount"].as_i64().unwrap() > 0);

    // The title is generated after the first exchange.
    eventually(|| async {
        server
            .get_as(&format!("/api/convos/gen_title/{id}"), &s.token)
            .await
            .status()
            == 200
    })
    .await;
    let title: Value = server
        .get_as(&format!("/api/convos/gen_title/{id}"), &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(title["title"], "Tides and the Moon");

    // A follow-up sends the whole branch.
    let id2 = start(&server, &s, json!({"text": "And the sun?", "messageId": "u2", "parentMessageId": response["messageId"], "conversationId": id, "model": "gpt-4o"})).await;
    assert_eq!(id2, id);
    Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    let sent = fake.last_chat();
    let roles: Vec<&str> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);

    // Regenerate: a sibling answer to the same question.
    start(&server, &s, json!({"isRegenerate": true, "parentMessageId": "u2", "conversationId": id, "model": "gpt-4o"})).await;
    let frames = Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    let regenerated = &frames.last().unwrap().data["responseMessage"];
    assert_eq!(regenerated["parentMessageId"], "u2");
    let all = messages(&server, &s, &id).await;
    assert_eq!(all.len(), 5);
    assert_eq!(
        all.iter().filter(|m| m["parentMessageId"] == "u2").count(),
        2
    );
}

#[tokio::test]
async fn reasoning_and_split_utf8_arrive_intact() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let id = start(&server, &s, json!({"text": "think", "model": "reasoning"})).await;
    let frames = Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    let thinking: String = frames
        .iter()
        .filter(|f| f.data["event"] == "on_reasoning_delta")
        .map(|f| {
            f.data["data"]["delta"]["content"][0]["think"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(thinking, "Thinking it over. Done thinking.");
    let response = &frames.last().unwrap().data["responseMessage"];
    assert_eq!(
        response["content"],
        json!([{"type": "think", "think": "Thinking it over. Done thinking."}, {"type": "text", "text": "The answer is 42."}])
    );

    let id = start(
        &server,
        &s,
        json!({"text": "unicode", "model": "split-utf8"}),
    )
    .await;
    let frames = Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    assert_eq!(text_of(&frames), "héllo wörld 東京 🦀");
    assert_eq!(
        frames.last().unwrap().data["responseMessage"]["text"],
        "héllo wörld 東京 🦀"
    );
}

#[tokio::test]
async fn provider_failures_end_the_stream_and_are_saved() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(
        &fake,
        &[("CONCURRENT_MESSAGE_MAX", "10"), ("MESSAGE_IP_MAX", "100")],
    )
    .await;
    let s = server.signed_in("alice@example.org", PW).await;
    for (model, needle, partial) in [
        ("rate-limited", "try again in 7 s", ""),
        ("server-error", "500", ""),
        (
            "halfway",
            "ended before the answer was complete",
            "This answer stops ",
        ),
        ("garbage", "not JSON", "ok so far"),
        ("error-in-stream", "overloaded", "Starting"),
    ] {
        let id = start(&server, &s, json!({"text": "hi", "model": model})).await;
        let frames = Events::open(&server, &s, &id, "", None)
            .await
            .until_final()
            .await;
        let last = &frames.last().unwrap().data;
        let message = last["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{model}: {message}");
        let saved = messages(&server, &s, &id).await;
        let answer = saved
            .iter()
            .find(|m| m["isCreatedByUser"] == false)
            .unwrap();
        assert_eq!(answer["error"], true, "{model}");
        assert_eq!(answer["unfinished"], false, "{model}");
        if partial.is_empty() {
            assert!(
                answer["text"].as_str().unwrap().contains(needle),
                "{model}: {answer}"
            );
        } else {
            assert_eq!(answer["text"], partial, "{model}");
        }
        assert!(
            answer["content"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["type"] == "error"),
            "{model}"
        );
    }

    // A wrong key and a provider that is not there.
    let bad_key = TestServer::builder()
        .env("OPENAI_API_KEY", "sk-wrong")
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .start()
        .await;
    let s = bad_key.signed_in("alice@example.org", PW).await;
    let id = start(&bad_key, &s, json!({"text": "hi", "model": "gpt-4o"})).await;
    let frames = Events::open(&bad_key, &s, &id, "", None)
        .await
        .until_final()
        .await;
    let error = &frames.last().unwrap().data["error"];
    assert_eq!(error["code"], "invalid_api_key");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Incorrect API key")
    );
    assert!(!error["message"].as_str().unwrap().contains("sk-wrong"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let nowhere = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &format!("http://{closed}/v1"))
        .start()
        .await;
    let s = nowhere.signed_in("alice@example.org", PW).await;
    let id = start(&nowhere, &s, json!({"text": "hi", "model": "gpt-4o"})).await;
    let frames = Events::open(&nowhere, &s, &id, "", None)
        .await
        .until_final()
        .await;
    assert_eq!(
        frames.last().unwrap().data["error"]["code"],
        "provider_unreachable"
    );
}

#[tokio::test]
async fn reconnecting_and_a_second_tab_see_the_same_answer() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let id = start(&server, &s, json!({"text": "tell me", "model": "gated"})).await;

    // First tab: reads up to "part one", then drops the connection.
    let mut first = Events::open(&server, &s, &id, "", None).await;
    let mut seen = Vec::new();
    while let Some(f) = first.next().await {
        let done = f.data["event"] == "on_message_delta";
        seen.push(f);
        if done {
            break;
        }
    }
    let last_seen = seen.last().unwrap().id.unwrap();
    drop(first);

    // The growing answer is already saved, marked unfinished.
    eventually(|| async {
        messages(&server, &s, &id)
            .await
            .iter()
            .any(|m| m["text"] == "part one" && m["unfinished"] == true)
    })
    .await;
    let status: Value = server
        .get_as(&format!("/api/agents/chat/status/{id}"), &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["active"], true);
    assert_eq!(status["aggregatedContent"][0]["text"], "part one");
    let active: Value = server
        .get_as("/api/agents/chat/active", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(active["activeJobIds"], json!([id]));

    // Reconnect with Last-Event-ID: exactly what was missed. A second tab resumes from a summary.
    let mut again = Events::open(&server, &s, &id, "", Some(last_seen)).await;
    let mut tab = Events::open(&server, &s, &id, "?resume=true", None).await;
    let sync = tab.next().await.unwrap();
    assert_eq!(sync.data["sync"], true);
    assert_eq!(
        sync.data["resumeState"]["aggregatedContent"][0]["text"],
        "part one"
    );
    assert_eq!(sync.data["resumeState"]["userMessage"]["text"], "tell me");
    fake.release();
    let rest = again.until_final().await;
    assert_eq!(rest.first().unwrap().id.unwrap(), last_seen + 1);
    assert_eq!(text_of(&rest), " part two");
    let tab_rest = tab.until_final().await;
    assert_eq!(text_of(&tab_rest), " part two");
    assert_eq!(
        rest.last().unwrap().data["responseMessage"]["text"],
        "part one part two"
    );

    // After the end the job lingers: a late subscriber still gets the final frame.
    let late = Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    assert_eq!(late.last().unwrap().data["final"], true);
    // Someone else's stream is not found.
    let bob = server.signed_in("bob@example.org", PW).await;
    let resp = server
        .get_as(&format!("/api/agents/chat/stream/{id}"), &bob.token)
        .await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn abort_keeps_the_partial_answer() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let id = start(&server, &s, json!({"text": "go", "model": "gated"})).await;
    let mut events = Events::open(&server, &s, &id, "", None).await;
    events.until_delta().await;
    // A second message in the same conversation while this one runs is refused.
    let busy = send(
        &server,
        &s,
        json!({"text": "again", "conversationId": id, "model": "gpt-4o"}),
    )
    .await;
    assert_eq!(busy.status(), 409);
    let resp = server
        .send(
            "POST",
            "/api/agents/chat/abort",
            &s.token,
            json!({"streamId": id}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let rest = events.until_final().await;
    let last = &rest.last().unwrap().data;
    assert_eq!(last["aborted"], true);
    assert_eq!(last["responseMessage"]["text"], "part one");
    assert_eq!(last["responseMessage"]["unfinished"], true);
    let saved = messages(&server, &s, &id).await;
    assert_eq!(saved[1]["text"], "part one");
    assert_eq!(saved[1]["unfinished"], true);
    let again = server
        .send(
            "POST",
            "/api/agents/chat/abort",
            &s.token,
            json!({"streamId": id}),
        )
        .await;
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn shutdown_saves_what_was_generated() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[("SHUTDOWN_TIMEOUT_MS", "300")]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let id = start(&server, &s, json!({"text": "go", "model": "gated"})).await;
    let mut events = Events::open(&server, &s, &id, "", None).await;
    events.until_delta().await;
    let stopping = tokio::spawn(async move { server.stop().await });
    let rest = events.until_final().await;
    assert_eq!(rest.last().unwrap().data["aborted"], true);
    let dir = stopping.await.unwrap();
    let server = TestServer::builder()
        .in_dir(dir)
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", MODELS)
        .start()
        .await;
    let s = server.login("alice@example.org", PW).await;
    let saved = messages(&server, &s, &id).await;
    assert_eq!(saved[1]["text"], "part one");
    assert_eq!(saved[1]["unfinished"], true);
}

#[tokio::test]
async fn bad_requests_and_limits() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[("CONCURRENT_MESSAGE_MAX", "2")]).await;
    let (alice, bob) = server.two_users(PW).await;
    let unknown = server
        .send(
            "POST",
            "/api/agents/chat/nowhere",
            &alice.token,
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(unknown.status(), 400);
    for (body, status) in [
        (json!({"text": "hi", "model": "gpt-2-turbo-max"}), 400),
        (json!({"text": "  "}), 400),
        (json!({"text": "hi", "isContinued": true}), 400),
        (json!([1, 2]), 400),
    ] {
        let resp = send(&server, &alice, body.clone()).await;
        assert_eq!(resp.status(), status, "{body}");
    }
    let resp = server
        .client
        .post(server.url("/api/agents/chat/openAI"))
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // Someone else's conversation.
    let id = start(&server, &alice, json!({"text": "mine", "model": "gpt-4o"})).await;
    Events::open(&server, &alice, &id, "", None)
        .await
        .until_final()
        .await;
    let resp = send(
        &server,
        &bob,
        json!({"text": "yours?", "conversationId": id, "model": "gpt-4o"}),
    )
    .await;
    assert_eq!(resp.status(), 404);
    assert_eq!(messages(&server, &alice, &id).await.len(), 2);

    // Two answers at a time per user; the third waits its turn.
    start(&server, &alice, json!({"text": "one", "model": "gated"})).await;
    start(&server, &alice, json!({"text": "two", "model": "gated"})).await;
    let third = send(&server, &alice, json!({"text": "three", "model": "gpt-4o"})).await;
    assert_eq!(third.status(), 429);
    // Bob is not affected.
    start(&server, &bob, json!({"text": "bob", "model": "gpt-4o"})).await;
    fake.release();
    fake.release();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_leaves_the_partial_answer_marked_unfinished() {
    let fake = FakeOpenAi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fake_base = fake.base.clone();
    let spawn = move |dir: &std::path::Path| {
        let mut cmd = support::librechat(dir);
        // SQLite, under any profile: the answer is watched growing in its file (on PostgreSQL,
        // tests/redis_streams.rs kills a replica mid-answer).
        cmd.env("DATABASE_URL", "")
            .env("OPENAI_API_KEY", KEY)
            .env("OPENAI_REVERSE_PROXY", &fake_base)
            .env("OPENAI_MODELS", MODELS);
        support::ServeProcess::start(cmd)
    };
    let spawn = std::sync::Arc::new(spawn);
    let server = spawn(dir.path());
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = server.base.clone();
    let resp = http.post(format!("{base}/api/auth/register")).json(&json!({"email": "alice@example.org", "password": PW, "confirm_password": PW, "name": "Alice", "username": "alice"})).send().await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let login: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": "alice@example.org", "password": PW}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let started: Value = http
        .post(format!("{base}/api/agents/chat/openAI"))
        .bearer_auth(&token)
        .json(&json!({"text": "go", "model": "gated"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["conversationId"].as_str().unwrap().to_owned();

    // Wait until the growing answer is in the database file, then kill -9.
    let db = dir.path().join("data/librechat.db");
    let saved = |db: &std::path::Path, id: &str| -> Option<(String, bool)> {
        let conn =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .ok()?;
        conn.query_row(
            "SELECT text, unfinished FROM messages WHERE conversation_id = ?1 AND is_created_by_user = 0",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()
    };
    eventually(|| {
        let found = saved(&db, &id);
        async move { found == Some(("part one".into(), true)) }
    })
    .await;
    let (exit, _) = tokio::task::spawn_blocking(move || server.signal_and_wait("KILL"))
        .await
        .unwrap();
    assert!(!exit.success());

    // After the crash: consistent, the partial answer kept and marked unfinished.
    let out = support::run(support::librechat(dir.path()).args(["db", "check"]));
    assert!(
        support::text(&out.stdout).contains("integrity: ok"),
        "{}",
        support::text(&out.stdout)
    );
    let server = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        let spawn = spawn.clone();
        move || spawn(&dir)
    })
    .await
    .unwrap();
    let login: Value = http
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({"email": "alice@example.org", "password": PW}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap();
    let all: Vec<Value> = http
        .get(format!("{}/api/messages/{id}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["text"], "part one");
    assert_eq!(all[1]["unfinished"], true);
    // The job did not survive: the conversation is free for a new message.
    let status: Value = http
        .get(format!("{}/api/agents/chat/status/{id}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["active"], false);
}

#[tokio::test]
async fn custom_endpoints_from_librechat_yaml() {
    let fake = FakeOpenAi::start().await;
    let yaml = format!(
        "version: 1.2.8\nendpoints:\n  custom:\n    - name: 'Local LLM'\n      apiKey: '{KEY}'\n      baseURL: '{}'\n      models:\n        default: ['gpt-4o']\n        fetch: true\n      titleConvo: false\n      modelDisplayLabel: 'Local'\n      headers:\n        X-Team: 'blue'\n        X-User: '{{{{LIBRECHAT_USER_ID}}}}'\n        X-Parent: '{{{{LIBRECHAT_BODY_PARENTMESSAGEID}}}}'\n        X-Other: '{{{{NOT_A_PLACEHOLDER}}}}'\n      addParams:\n        keep_alive: 30\n      dropParams: ['user', 'stream_options']\n    - name: 'Missing key'\n      apiKey: '${{UNSET_KEY_FOR_TEST}}'\n      baseURL: 'https://example.invalid/v1'\n      models:\n        default: ['m']\n",
        fake.base
    );
    let server = TestServer::builder().yaml(&yaml).start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let endpoints: Value = server
        .get_as("/api/endpoints", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(endpoints["Local LLM"]["type"], "custom");
    assert_eq!(endpoints["Local LLM"]["modelDisplayLabel"], "Local");
    assert!(endpoints.get("Missing key").is_none());
    assert!(endpoints.get("openAI").is_none());
    let models: Value = server
        .get_as("/api/models", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        models["Local LLM"],
        json!(["fetched-model-a", "fetched-model-b"])
    );

    let path = "/api/agents/chat/Local%20LLM";
    let resp = server
        .send(
            "POST",
            path,
            &s.token,
            json!({"text": "hello", "model": "gpt-4o"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let id = resp.json::<Value>().await.unwrap()["streamId"]
        .as_str()
        .unwrap()
        .to_owned();
    let frames = Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    let last = &frames.last().unwrap().data;
    assert_eq!(last["responseMessage"]["text"], "Echo: hello");
    assert_eq!(last["responseMessage"]["sender"], "Local");
    assert_eq!(last["responseMessage"]["endpoint"], "Local LLM");
    let sent = fake.last_chat();
    assert_eq!(sent["keep_alive"], 30);
    // Header placeholders are filled per request.
    assert_eq!(fake.last_header("x-team").as_deref(), Some("blue"));
    assert_eq!(fake.last_header("x-user").as_deref(), s.user["id"].as_str());
    assert_eq!(
        fake.last_header("x-parent").as_deref(),
        Some("00000000-0000-0000-0000-000000000000")
    );
    assert_eq!(
        fake.last_header("x-other").as_deref(),
        Some("{{NOT_A_PLACEHOLDER}}")
    );
    assert!(
        sent.get("user").is_none() && sent.get("stream_options").is_none(),
        "{sent}"
    );
}

#[tokio::test]
async fn user_provided_keys_are_stored_encrypted_and_used() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", "user_provided")
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", MODELS)
        .start()
        .await;
    let (alice, bob) = server.two_users(PW).await;
    let endpoints: Value = server
        .get_as("/api/endpoints", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(endpoints["openAI"]["userProvide"], true);

    let resp = send(&server, &alice, json!({"text": "hi", "model": "gpt-4o"})).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["type"], "no_user_key");

    let none: Value = server
        .get_as("/api/keys?name=openAI", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["expiresAt"], Value::Null);
    let later = "2999-01-01T00:00:00.000Z";
    let resp = server
        .send(
            "PUT",
            "/api/keys",
            &alice.token,
            json!({"name": "openAI", "value": KEY, "expiresAt": later}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let set: Value = server
        .get_as("/api/keys?name=openAI", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set["expiresAt"], later);
    // Encrypted at rest; Bob sees nothing of it.
    let stored: String = server
        .state
        .db
        .read(|c| c.query_row("SELECT value FROM user_keys", [], |r| r.get(0)))
        .await
        .unwrap();
    assert!(
        stored.starts_with("v3:") && !stored.contains(KEY),
        "{stored}"
    );
    let theirs: Value = server
        .get_as("/api/keys?name=openAI", &bob.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["expiresAt"], Value::Null);
    assert_eq!(
        send(&server, &bob, json!({"text": "hi", "model": "gpt-4o"}))
            .await
            .status(),
        400
    );

    let id = start(
        &server,
        &alice,
        json!({"text": "with my key", "model": "gpt-4o"}),
    )
    .await;
    let frames = Events::open(&server, &alice, &id, "", None)
        .await
        .until_final()
        .await;
    assert_eq!(
        frames.last().unwrap().data["responseMessage"]["text"],
        "Echo: with my key"
    );

    // Expired keys are refused with their own error; keys can be removed.
    let resp = server
        .send(
            "PUT",
            "/api/keys",
            &alice.token,
            json!({"name": "openAI", "value": KEY, "expiresAt": "2001-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let resp = send(&server, &alice, json!({"text": "hi", "model": "gpt-4o"})).await;
    assert_eq!(
        resp.json::<Value>().await.unwrap()["type"],
        "expired_user_key"
    );
    for (body, why) in [
        (
            json!({"name": "anthropic", "value": "k"}),
            "not a user-provided endpoint",
        ),
        (json!({"name": "openAI", "value": ""}), "empty"),
        (json!({"name": "openAI", "value": 5}), "not a string"),
        (
            json!({"name": "openAI", "value": "k", "expiresAt": "soon"}),
            "bad date",
        ),
    ] {
        let resp = server.send("PUT", "/api/keys", &alice.token, body).await;
        assert_eq!(resp.status(), 400, "{why}");
    }
    let resp = server
        .send("DELETE", "/api/keys/openAI", &alice.token, json!({}))
        .await;
    assert_eq!(resp.status(), 204);
    let gone: Value = server
        .get_as("/api/keys?name=openAI", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(gone["expiresAt"], Value::Null);
    let resp = server
        .send("DELETE", "/api/keys?all=true", &alice.token, json!({}))
        .await;
    assert_eq!(resp.status(), 204);
}

#[tokio::test]
async fn anthropic_messages_stream_with_thinking_and_cache() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_REVERSE_PROXY", &fake.anthropic_base())
        .env(
            "ANTHROPIC_MODELS",
            "claude-echo,claude-thinking,claude-overloaded,claude-error-mid",
        )
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let endpoints: Value = server
        .get_as("/api/endpoints", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(endpoints.get("anthropic").is_some() && endpoints.get("openAI").is_none());
    let path = "/api/agents/chat/anthropic";
    let go = |body: Value| async {
        let resp = server.send("POST", path, &s.token, body).await;
        assert_eq!(resp.status(), 200);
        let id = resp.json::<Value>().await.unwrap()["streamId"]
            .as_str()
            .unwrap()
            .to_owned();
        let frames = Events::open(&server, &s, &id, "", None)
            .await
            .until_final()
            .await;
        (id, frames)
    };

    let (id, frames) =
        go(json!({"text": "Hello there", "model": "claude-echo", "promptPrefix": "Be kind."}))
            .await;
    assert_eq!(text_of(&frames), "Claude says: Hello there");
    let sent = fake.last_chat();
    assert_eq!(sent["system"][0]["text"], "Be kind.");
    assert_eq!(sent["system"][0]["cache_control"]["type"], "ephemeral");
    assert_eq!(sent["stream"], true);
    assert!(sent["max_tokens"].as_u64().unwrap() > 0);
    assert_eq!(sent["messages"][0]["role"], "user");
    // The title comes from the same endpoint.
    eventually(|| async {
        server
            .get_as(&format!("/api/convos/gen_title/{id}"), &s.token)
            .await
            .status()
            == 200
    })
    .await;

    let (_, frames) = go(json!({"text": "Think", "model": "claude-thinking", "thinking": true, "thinkingBudget": 2048})).await;
    let response = &frames.last().unwrap().data["responseMessage"];
    assert_eq!(
        response["content"],
        json!([{"type": "think", "think": "Let me think. Yes."}, {"type": "text", "text": "Forty-two."}])
    );
    assert_eq!(
        response["tokenCount"], 12,
        "output tokens as Anthropic counted them"
    );
    let sent = fake.last_chat();
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );

    for (model, needle, saved_text) in [
        ("claude-overloaded", "529", "529"),
        ("claude-error-mid", "Overloaded", "Partial"),
    ] {
        let (id, frames) = go(json!({"text": "hi", "model": model})).await;
        let error = frames.last().unwrap().data["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(error.contains(needle), "{model}: {error}");
        let answer = messages(&server, &s, &id)
            .await
            .into_iter()
            .find(|m| m["isCreatedByUser"] == false)
            .unwrap();
        assert_eq!(answer["error"], true);
        assert!(
            answer["text"].as_str().unwrap().contains(saved_text),
            "{model}: {answer}"
        );
    }
}

#[tokio::test]
async fn google_gemini_streams_and_reports_its_errors() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("GOOGLE_KEY", KEY)
        .env("GOOGLE_REVERSE_PROXY", &fake.anthropic_base())
        .env("GOOGLE_MODELS", "gemini-echo,gemini-thinking,gemini-quota")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let go = |body: Value| async {
        let resp = server
            .send("POST", "/api/agents/chat/google", &s.token, body)
            .await;
        assert_eq!(resp.status(), 200);
        let id = resp.json::<Value>().await.unwrap()["streamId"]
            .as_str()
            .unwrap()
            .to_owned();
        let frames = Events::open(&server, &s, &id, "", None)
            .await
            .until_final()
            .await;
        (id, frames)
    };
    let (id, frames) = go(json!({"text": "Hi Gemini", "model": "gemini-echo", "promptPrefix": "Be brief.", "temperature": 0.4})).await;
    assert_eq!(text_of(&frames), "Gemini says: Hi Gemini");
    let sent = fake.last_chat();
    assert_eq!(sent["systemInstruction"]["parts"][0]["text"], "Be brief.");
    assert_eq!(sent["generationConfig"]["temperature"], 0.4);
    assert_eq!(
        frames.last().unwrap().data["responseMessage"]["tokenCount"],
        6
    );
    eventually(|| async {
        server
            .get_as(&format!("/api/convos/gen_title/{id}"), &s.token)
            .await
            .status()
            == 200
    })
    .await;

    let (_, frames) =
        go(json!({"text": "Sky colour?", "model": "gemini-thinking", "thinking": true})).await;
    assert_eq!(
        frames.last().unwrap().data["responseMessage"]["content"],
        json!([{"type": "think", "think": "Considering."}, {"type": "text", "text": "Blue."}])
    );

    let (_, frames) = go(json!({"text": "more", "model": "gemini-quota"})).await;
    let error = frames.last().unwrap().data["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("try again in 7 s") && error.contains("exhausted"),
        "{error}"
    );

    // A wrong key is reported as such.
    let bad = TestServer::builder()
        .env("GOOGLE_KEY", "wrong")
        .env("GOOGLE_REVERSE_PROXY", &fake.anthropic_base())
        .env("GOOGLE_MODELS", "gemini-echo")
        .start()
        .await;
    let s = bad.signed_in("alice@example.org", PW).await;
    let resp = bad
        .send(
            "POST",
            "/api/agents/chat/google",
            &s.token,
            json!({"text": "hi"}),
        )
        .await;
    let id = resp.json::<Value>().await.unwrap()["streamId"]
        .as_str()
        .unwrap()
        .to_owned();
    let frames = Events::open(&bad, &s, &id, "", None)
        .await
        .until_final()
        .await;
    assert_eq!(
        frames.last().unwrap().data["error"]["code"],
        "invalid_api_key"
    );
}

#[tokio::test]
async fn azure_openai_deployments() {
    let fake = FakeOpenAi::start().await;
    let base = fake.anthropic_base();
    let server = TestServer::builder()
        .env("AZURE_API_KEY", KEY)
        .env("AZURE_OPENAI_BASEURL", &format!("{base}/openai"))
        .env("AZURE_OPENAI_API_DEPLOYMENT_NAME", "team-deployment")
        .env("AZURE_OPENAI_API_VERSION", "2024-10-21")
        .env("AZURE_OPENAI_MODELS", "gpt-4o")
        .env("TITLE_CONVO", "false")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let models: Value = server
        .get_as("/api/models", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(models["azureOpenAI"], json!(["gpt-4o"]));
    let resp = server
        .send(
            "POST",
            "/api/agents/chat/azureOpenAI",
            &s.token,
            json!({"text": "hello azure", "model": "gpt-4o"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let id = resp.json::<Value>().await.unwrap()["streamId"]
        .as_str()
        .unwrap()
        .to_owned();
    let frames = Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    assert_eq!(
        frames.last().unwrap().data["responseMessage"]["text"],
        "Echo: hello azure"
    );

    // Model names as deployments: a missing deployment is the provider's clear 404.
    let by_model = TestServer::builder()
        .env("AZURE_API_KEY", KEY)
        .env("AZURE_OPENAI_BASEURL", &format!("{base}/openai"))
        .env("AZURE_USE_MODEL_AS_DEPLOYMENT_NAME", "true")
        .env("AZURE_OPENAI_MODELS", "gpt-4.1")
        .start()
        .await;
    let s = by_model.signed_in("alice@example.org", PW).await;
    let resp = by_model
        .send(
            "POST",
            "/api/agents/chat/azureOpenAI",
            &s.token,
            json!({"text": "hi", "model": "gpt-4.1"}),
        )
        .await;
    let id = resp.json::<Value>().await.unwrap()["streamId"]
        .as_str()
        .unwrap()
        .to_owned();
    let frames = Events::open(&by_model, &s, &id, "", None)
        .await
        .until_final()
        .await;
    let error = frames.last().unwrap().data["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("gpt-41") && error.contains("404"), "{error}");
}

#[tokio::test]
async fn continue_extends_an_unfinished_answer() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let id = start(
        &server,
        &s,
        json!({"text": "go", "messageId": "q1", "model": "gated"}),
    )
    .await;
    let mut events = Events::open(&server, &s, &id, "", None).await;
    events.until_delta().await;
    server
        .send(
            "POST",
            "/api/agents/chat/abort",
            &s.token,
            json!({"streamId": id}),
        )
        .await;
    let stopped = events.until_final().await.last().unwrap().data["responseMessage"].clone();
    let answer_id = stopped["messageId"].as_str().unwrap().to_owned();

    let resp = send(&server, &s, json!({"isContinued": true, "conversationId": id, "parentMessageId": "q1", "responseMessageId": answer_id, "model": "gpt-4o"})).await;
    assert_eq!(resp.status(), 200);
    let frames = Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    let response = &frames.last().unwrap().data["responseMessage"];
    assert_eq!(response["messageId"], answer_id.as_str());
    assert_eq!(response["text"], "part oneEcho: go");
    assert_eq!(response["unfinished"], false);
    // The model was shown the answer so far as the last turn.
    let sent = fake.last_chat();
    let last = sent["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last, json!({"role": "assistant", "content": "part one"}));
    let all = messages(&server, &s, &id).await;
    assert_eq!(all.len(), 2, "the same answer, continued");

    for body in [
        json!({"isContinued": true, "conversationId": id, "parentMessageId": "q1", "model": "gpt-4o"}),
        json!({"isContinued": true, "conversationId": id, "parentMessageId": "q1", "responseMessageId": "q1", "model": "gpt-4o"}),
    ] {
        assert_eq!(send(&server, &s, body).await.status(), 400);
    }
}

#[tokio::test]
async fn markdown_renders_to_safe_html() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let resp = server
        .send(
            "POST",
            "/api/render",
            &s.token,
            json!({"text": "**hi** <script>alert(1)</script>\n\n```python\nprint('x')\n```"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.json::<Value>().await.unwrap()["html"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(html.contains("<strong>hi</strong>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;") && !html.contains("<script"),
        "{html}"
    );
    assert!(
        html.contains("language-python") && html.contains("hl-"),
        "{html}"
    );
    let big = "x".repeat(600 * 1024);
    assert_eq!(
        server
            .send("POST", "/api/render", &s.token, json!({"text": big}))
            .await
            .status(),
        413
    );
    assert_eq!(
        server
            .send("POST", "/api/render", &s.token, json!({"nope": 1}))
            .await
            .status(),
        400
    );
    // A batch, in order, each one sanitized.
    let resp = server
        .send(
            "POST",
            "/api/render",
            &s.token,
            json!({"texts": ["*a*", "[x](javascript:alert(1))", ""]}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.json::<Value>().await.unwrap()["html"].clone();
    assert_eq!(html.as_array().unwrap().len(), 3);
    assert!(html[0].as_str().unwrap().contains("<em>a</em>"), "{html}");
    assert!(!html[1].as_str().unwrap().contains("javascript:"), "{html}");
    for bad in [
        json!({"text": "a", "texts": ["b"]}),
        json!({"texts": vec!["x"; 201]}),
        json!({"texts": "not a list"}),
    ] {
        let status = server
            .send("POST", "/api/render", &s.token, bad)
            .await
            .status();
        assert_eq!(status, 400);
    }
}

#[tokio::test]
async fn review_cases_deleted_conversations_stale_ids_and_other_users() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[]).await;
    let (alice, bob) = server.two_users(PW).await;

    // A conversation deleted while its answer streams stays deleted.
    let id = start(&server, &alice, json!({"text": "go", "model": "gated"})).await;
    let mut events = Events::open(&server, &alice, &id, "", None).await;
    events.until_delta().await;
    // Bob naming Alice's running conversation learns nothing: 404, not "busy".
    let resp = send(
        &server,
        &bob,
        json!({"text": "mine?", "conversationId": id, "model": "gpt-4o"}),
    )
    .await;
    assert_eq!(resp.status(), 404);
    let resp = server
        .send(
            "DELETE",
            "/api/convos",
            &alice.token,
            json!({"arg": {"conversationId": id}}),
        )
        .await;
    assert!(resp.status().is_success());
    fake.release();
    let last = events.until_final().await.last().unwrap().data.clone();
    assert_eq!(last["final"], true);
    assert_eq!(
        server
            .get_as(&format!("/api/convos/{id}"), &alice.token)
            .await
            .status(),
        404
    );

    // A Last-Event-ID from an earlier turn of the conversation gets the summary and the end,
    // never a stream that waits forever.
    let id = start(&server, &alice, json!({"text": "first", "model": "gpt-4o"})).await;
    let first = Events::open(&server, &alice, &id, "", None)
        .await
        .until_final()
        .await;
    let old_id = first.last().unwrap().id.unwrap();
    let answer = first.last().unwrap().data["responseMessage"]["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    start(&server, &alice, json!({"text": "second", "conversationId": id, "parentMessageId": answer, "model": "gpt-4o"})).await;
    let mut again = Events::open(&server, &alice, &id, "", Some(old_id)).await;
    let frames = again.until_final().await;
    assert_eq!(frames.last().unwrap().data["final"], true);
    assert_eq!(
        frames.last().unwrap().data["responseMessage"]["text"],
        "Echo: second"
    );
    let frames = Events::open(&server, &alice, &id, "", Some(u64::MAX))
        .await
        .until_final()
        .await;
    assert_eq!(frames.last().unwrap().data["final"], true);

    // A key expiring past the year 9999 is a clear 400, not a crash.
    let resp = server
        .send(
            "PUT",
            "/api/keys",
            &alice.token,
            json!({"name": "openAI", "value": "k", "expiresAt": "9999-12-31T23:00:00-05:00"}),
        )
        .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn the_responses_api_when_asked_for() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let id = start(&server, &s, json!({"text": "hello", "model": "gpt-4o", "useResponsesApi": true, "reasoning_summary": "auto", "promptPrefix": "Be brief."})).await;
    let frames = Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    let response = &frames.last().unwrap().data["responseMessage"];
    assert_eq!(response["text"], "Responses say: hello");
    assert_eq!(
        response["content"][0],
        json!({"type": "think", "think": "Summarized thinking."})
    );
    assert_eq!(response["tokenCount"], 3);
    let sent = fake.last_chat();
    assert_eq!(sent["instructions"], "Be brief.");
    assert_eq!(sent["input"][0]["content"][0]["text"], "hello");
    assert_eq!(sent["reasoning"]["summary"], "auto");
}

#[tokio::test]
async fn moderation_refuses_flagged_messages() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(
        &fake,
        &[
            ("OPENAI_MODERATION", "true"),
            ("OPENAI_MODERATION_API_KEY", KEY),
            ("OPENAI_MODERATION_REVERSE_PROXY", &fake.base),
        ],
    )
    .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let resp = send(
        &server,
        &s,
        json!({"text": "something forbidden", "model": "gpt-4o"}),
    )
    .await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"], "moderation");
    assert!(body["message"].as_str().unwrap().contains("violence"));
    assert_eq!(server.count("messages").await, 0, "nothing saved");
    start(
        &server,
        &s,
        json!({"text": "something fine", "model": "gpt-4o"}),
    )
    .await;

    // A moderation service that cannot be reached lets messages through.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = server_with(
        &fake,
        &[
            ("OPENAI_MODERATION", "true"),
            (
                "OPENAI_MODERATION_REVERSE_PROXY",
                &format!("http://{closed}/v1"),
            ),
        ],
    )
    .await;
    let s = down.signed_in("alice@example.org", PW).await;
    start(
        &down,
        &s,
        json!({"text": "forbidden but unchecked", "model": "gpt-4o"}),
    )
    .await;
}

#[tokio::test]
async fn a_user_provided_base_url_is_stored_with_the_key_and_used() {
    let fake = FakeOpenAi::start().await;
    // The fake is on loopback, which a person's URL may reach only when the admin allows it.
    let allowed = fake
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/v1");
    let server = TestServer::builder()
        .yaml(&format!(
            "version: 1.2.1\nendpoints:\n  allowedAddresses: ['{allowed}']\n  custom:\n    - name: Mine\n      apiKey: user_provided\n      baseURL: user_provided\n      models:\n        default: [gpt-4o]\n",
        ))
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;
    let endpoints = server.get_json("/api/endpoints", &s.token).await;
    assert_eq!(endpoints["Mine"]["userProvideURL"], true);
    assert_eq!(endpoints["Mine"]["userProvide"], true);
    let ask = || {
        server.send(
            "POST",
            "/api/agents/chat/Mine",
            &s.token,
            json!({"text": "hi", "model": "gpt-4o"}),
        )
    };
    let resp = ask().await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["type"], "no_user_key");

    let set = |value: Value| {
        server.send(
            "PUT",
            "/api/keys",
            &s.token,
            json!({"name": "Mine", "value": value.to_string(), "expiresAt": null}),
        )
    };
    // A key without its URL, then URLs that are not http(s): refused before any request.
    assert_eq!(set(json!({"apiKey": KEY})).await.status(), 201);
    let resp = ask().await;
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["type"], "no_base_url");
    for bad in ["ftp://example.org/v1", "not a url", "file:///etc/passwd"] {
        assert_eq!(
            set(json!({"apiKey": KEY, "baseURL": bad})).await.status(),
            201
        );
        assert_eq!(ask().await.status(), 400, "{bad}");
    }
    assert_eq!(fake.requests().len(), 0, "nothing was sent anywhere");

    assert_eq!(
        set(json!({"apiKey": KEY, "baseURL": format!("{}/", fake.base)}))
            .await
            .status(),
        201
    );
    let resp = ask().await;
    assert_eq!(resp.status(), 200);
    let id = resp.json::<Value>().await.unwrap()["streamId"]
        .as_str()
        .unwrap()
        .to_owned();
    let frames = Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    assert_eq!(text_of(&frames), "Echo: hi");
    assert_eq!(
        fake.last_header("authorization").as_deref(),
        Some(&*format!("Bearer {KEY}"))
    );
}

#[tokio::test]
async fn another_accounts_message_id_starts_the_chat_as_librechat_does() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[]).await;
    let (alice, bob) = server.two_users(PW).await;
    let hers = start(
        &server,
        &alice,
        json!({"text": "mine", "messageId": "alice-m1", "model": "gpt-4o"}),
    )
    .await;
    Events::open(&server, &alice, &hers, "", None)
        .await
        .until_final()
        .await;
    // LibreChat keeps message ids per account: bob choosing alice's id starts his chat, and no
    // answer tells him the id exists. Here his message gets a new id, which the events carry.
    let his = start(
        &server,
        &bob,
        json!({"text": "mine too", "messageId": "alice-m1", "model": "gpt-4o"}),
    )
    .await;
    let frames = Events::open(&server, &bob, &his, "", None)
        .await
        .until_final()
        .await;
    let last = &frames.last().unwrap().data;
    let request = &last["requestMessage"];
    assert_eq!(request["text"], "mine too");
    assert_ne!(request["messageId"], "alice-m1");
    assert_eq!(
        last["responseMessage"]["parentMessageId"],
        request["messageId"]
    );
    let saved = messages(&server, &bob, &his).await;
    assert_eq!(saved.len(), 2);
    assert_eq!(saved[0]["messageId"], request["messageId"]);
    let theirs = messages(&server, &alice, &hers).await;
    assert_eq!(theirs.len(), 2);
    assert_eq!(theirs[0]["messageId"], "alice-m1");
    assert_eq!(theirs[0]["text"], "mine", "alice's message is untouched");
    // Bob's own id in another of his conversations is still refused: LibreChat would move it.
    let again = send(
        &server,
        &bob,
        json!({"text": "x", "messageId": saved[0]["messageId"], "model": "gpt-4o"}),
    )
    .await;
    assert_eq!(again.status(), 409);
}

#[tokio::test]
async fn an_unknown_parent_starts_a_new_root_as_librechat_goes_ahead() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[]).await;
    let (alice, bob) = server.two_users(PW).await;
    let id = start(
        &server,
        &alice,
        json!({"text": "first", "messageId": "a-q1", "model": "gpt-4o"}),
    )
    .await;
    Events::open(&server, &alice, &id, "", None)
        .await
        .until_final()
        .await;
    let his = start(
        &server,
        &bob,
        json!({"text": "bob's", "messageId": "b-q1", "model": "gpt-4o"}),
    )
    .await;
    Events::open(&server, &bob, &his, "", None)
        .await
        .until_final()
        .await;
    // LibreChat goes ahead with a parent it cannot find, with no history. So do we, and the
    // message becomes a new root of the conversation instead of pointing at nothing: a made-up
    // id, and another account's message (which reads the same as none).
    for (n, parent) in ["nowhere", "b-q1"].into_iter().enumerate() {
        let text = format!("again {n}");
        let stream = start(
            &server,
            &alice,
            json!({"text": text, "conversationId": id, "parentMessageId": parent, "model": "gpt-4o"}),
        )
        .await;
        let frames = Events::open(&server, &alice, &stream, "", None)
            .await
            .until_final()
            .await;
        let created = frames.iter().find(|f| f.data["created"] == true).unwrap();
        assert_eq!(created.data["message"]["parentMessageId"], ROOT);
        let last = &frames.last().unwrap().data;
        let request = &last["requestMessage"];
        assert_eq!(request["parentMessageId"], ROOT, "{parent}");
        assert_eq!(
            last["responseMessage"]["parentMessageId"],
            request["messageId"]
        );
        let sent = fake.last_chat();
        assert_eq!(
            sent["messages"],
            json!([{"role": "user", "content": text}]),
            "no history"
        );
    }
    // Every message the client loads hangs from the root or from a message it also loads.
    let saved = messages(&server, &alice, &id).await;
    assert_eq!(saved.len(), 6);
    let ids: Vec<&Value> = saved.iter().map(|m| &m["messageId"]).collect();
    for m in &saved {
        assert!(
            m["parentMessageId"] == ROOT || ids.contains(&&m["parentMessageId"]),
            "{m}"
        );
    }
    let roots = saved
        .iter()
        .filter(|m| m["parentMessageId"] == ROOT)
        .count();
    assert_eq!(roots, 3);
    let theirs = messages(&server, &bob, &his).await;
    assert_eq!(theirs.len(), 2, "bob's conversation is untouched");
}

#[tokio::test]
async fn a_system_prompt_gets_librechats_special_variables_filled() {
    let fake = FakeOpenAi::start().await;
    let server = server_with(&fake, &[]).await;
    let s = server.signed_in("vars@example.org", PW).await;
    let me: Value = server
        .get_as("/api/user", &s.token)
        .await
        .json()
        .await
        .unwrap();
    let name = me["name"].as_str().unwrap().to_owned();
    assert!(!name.is_empty());

    let body = json!({"text": "hi", "model": "gpt-4o", "endpoint": "openAI",
        "promptPrefix": "Help {{ Current_User }} on {{current_date}}; keep {{topic}}."});
    let id = start(&server, &s, body).await;
    let frames = Events::open(&server, &s, &id, "", None)
        .await
        .until_final()
        .await;
    // Filled at the conversation's start (so the prompt reads the same every turn), in UTC.
    let created = frames.last().unwrap().data["conversation"]["createdAt"]
        .as_str()
        .unwrap()
        .to_owned();
    let started =
        time::OffsetDateTime::parse(&created, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let day = format!(
        "{}-{:02}-{:02} ({})",
        started.year(),
        started.month() as u8,
        started.day(),
        started.weekday()
    );
    let sent = fake.last_chat();
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": format!("Help {name} on {day}; keep {{{{topic}}}}.")})
    );
    // The stored setting keeps the variables, so the next conversation fills its own.
    assert_eq!(
        frames.last().unwrap().data["conversation"]["promptPrefix"],
        "Help {{ Current_User }} on {{current_date}}; keep {{topic}}."
    );
}
