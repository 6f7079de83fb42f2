//! `POST /api/files/usage`, which LibreChat's client sends for the files of a message it queues
//! while an answer is being written: `{file_ids}` in, `{held}` out (the caller's uploads not
//! sent yet), LibreChat's 400s for bad ids.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

async fn upload(server: &TestServer, s: &Session, name: &str) -> String {
    let (status, file) = server
        .upload(s, "/api/files", name, "text/plain", b"Neap tides".to_vec())
        .await;
    assert_eq!(status, 200, "{file}");
    file["file_id"].as_str().unwrap().to_owned()
}

async fn usage(server: &TestServer, s: &Session, body: Value) -> (u16, Value) {
    let resp = server
        .send("POST", "/api/files/usage", &s.token, body)
        .await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_queued_files_held_are_the_caller_s_unsent_uploads() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .start()
        .await;
    let (alice, bob) = server.two_users(PW).await;
    let queued = upload(&server, &alice, "queued.txt").await;
    let sent = upload(&server, &alice, "sent.txt").await;
    let bobs = upload(&server, &bob, "bobs.txt").await;
    let done = server
        .chat(
            &alice,
            "openAI",
            json!({"text": "Read this", "model": "gpt-4o", "files": [{"file_id": sent}]}),
        )
        .await;
    assert!(done.get("error").is_none(), "{done}");

    // Another account's upload, one already sent, an unknown id and a repeat are not held.
    let ids = json!([queued, sent, bobs, "no-such-file", queued]);
    let (status, body) = usage(&server, &alice, json!({ "file_ids": ids })).await;
    assert_eq!((status, body), (200, json!({"held": 1})));
    let (status, body) = usage(&server, &bob, json!({ "file_ids": [bobs] })).await;
    assert_eq!((status, body), (200, json!({"held": 1})));
    // Nothing was sent or removed by it.
    let listed = server.get_json("/api/files", &alice.token).await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let resp = server
        .client
        .post(server.url("/api/files/usage"))
        .json(&json!({ "file_ids": [queued] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn bad_file_ids_are_refused_as_librechat_refuses_them() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let invalid = json!({"code": "INVALID_FILE_IDS"});
    for body in [
        json!({}),
        json!({"file_ids": []}),
        json!({"file_ids": "a-file"}),
        json!({"file_ids": ["a-file", 7]}),
        json!({"file_ids": ["a-file", ""]}),
    ] {
        assert_eq!(
            usage(&server, &s, body.clone()).await,
            (400, invalid.clone()),
            "{body}"
        );
    }
    let eleven: Vec<String> = (0..11).map(|i| format!("file-{i}")).collect();
    assert_eq!(
        usage(&server, &s, json!({ "file_ids": eleven })).await,
        (400, json!({"code": "TOO_MANY_FILES", "max": 10}))
    );
    let ten: Vec<String> = (0..10).map(|i| format!("file-{i}")).collect();
    assert_eq!(
        usage(&server, &s, json!({ "file_ids": ten })).await,
        (200, json!({"held": 0}))
    );
}
