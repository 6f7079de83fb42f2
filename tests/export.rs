//! Exporting conversations: LibreChat's JSON (the tree) and Markdown over HTTP, and every
//! conversation of a user from the command line.

mod support;

use serde_json::{Value, json};
use support::{Session, TestServer, librechat, run, text};

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";

/// a ─ b ─ c, and b2 beside b (b2 written before c, so c is the newest).
async fn conversation(server: &TestServer, s: &Session, id: &str) {
    server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": id, "title": "Trip / plans", "endpoint": "openAI"}}),
        )
        .await;
    for (m, parent) in [("a", ROOT), ("b", "a"), ("b2", "a"), ("c", "b")] {
        let path: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let resp = server.send("POST", &format!("/api/messages/{path}"), &s.token, json!({"messageId": format!("{id}-{m}"), "parentMessageId": if parent == ROOT { ROOT.to_owned() } else { format!("{id}-{parent}") }, "text": format!("text {m}"), "isCreatedByUser": m == "a" || m == "c", "sender": "GPT-4o"})).await;
        assert_eq!(resp.status(), 201);
    }
}

#[tokio::test]
async fn json_keeps_the_tree_and_markdown_the_newest_branch() {
    let server = TestServer::start().await;
    server.register("alice@example.org", PW).await;
    server.register("bob@example.org", PW).await;
    let alice = server.login("alice@example.org", PW).await;
    let bob = server.login("bob@example.org", PW).await;
    conversation(&server, &alice, "c1").await;

    let resp = server.get_as("/api/convos/c1/export", &alice.token).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"Trip___plans.json\"")
    );
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["conversationId"], "c1");
    assert_eq!(
        doc["recursive"], false,
        "flat, with parent ids: a long chat cannot nest too deep"
    );
    let pairs: Vec<(&str, &str)> = doc["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["messageId"].as_str().unwrap(),
                m["parentMessageId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("c1-a", ROOT),
            ("c1-b", "c1-a"),
            ("c1-b2", "c1-a"),
            ("c1-c", "c1-b")
        ]
    );

    let md = server
        .get_as("/api/convos/c1/export?format=markdown", &alice.token)
        .await;
    assert_eq!(md.headers()["content-type"], "text/markdown; charset=utf-8");
    let md = md.text().await.unwrap();
    assert!(md.starts_with("# Trip / plans\n"), "{md}");
    assert!(
        md.contains("**User**\n\ntext a")
            && md.contains("**GPT-4o**\n\ntext b")
            && md.contains("text c"),
        "{md}"
    );
    assert!(!md.contains("text b2"), "only the newest branch: {md}");

    assert_eq!(
        server
            .get_as("/api/convos/c1/export?format=pdf", &alice.token)
            .await
            .status(),
        400
    );
    assert_eq!(
        server
            .get_as("/api/convos/c1/export", &bob.token)
            .await
            .status(),
        404
    );
    server.stop().await;
}

#[tokio::test]
async fn a_very_deep_conversation_exports() {
    let server = TestServer::start().await;
    let alice = server.signed_in("alice@example.org", PW).await;
    server
        .send(
            "POST",
            "/api/convos/update",
            &alice.token,
            json!({"arg": {"conversationId": "deep"}}),
        )
        .await;
    let uid = alice.user["id"].as_str().unwrap().to_owned();
    server
        .state
        .db
        .write(move |c| {
            let tx = c.transaction()?;
            for i in 0..5000 {
                let m = librechat::db::messages::Message {
                    message_id: format!("m{i}"),
                    conversation_id: "deep".into(),
                    user_id: uid.clone(),
                    parent_message_id: if i == 0 {
                        ROOT.into()
                    } else {
                        format!("m{}", i - 1)
                    },
                    sender: "User".into(),
                    is_created_by_user: i % 2 == 0,
                    text: format!("message {i}"),
                    content: None,
                    model: None,
                    endpoint: None,
                    token_count: None,
                    error: false,
                    unfinished: false,
                    feedback: None,
                    extra: Default::default(),
                    created_at: String::new(),
                    updated_at: String::new(),
                };
                librechat::db::messages::insert(&tx, &m)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
        .unwrap();
    let resp = server.get_as("/api/convos/deep/export", &alice.token).await;
    assert_eq!(resp.status(), 200);
    let body = resp.text().await.unwrap();
    assert!(body.contains("message 4999"));
    let md = server
        .get_as("/api/convos/deep/export?format=md", &alice.token)
        .await
        .text()
        .await
        .unwrap();
    assert!(md.contains("message 0") && md.contains("message 4999"));
    server.stop().await;
}

#[tokio::test]
async fn the_export_command_writes_every_conversation() {
    let server = TestServer::start().await;
    let alice = server.signed_in("alice@example.org", PW).await;
    conversation(&server, &alice, "c1").await;
    conversation(&server, &alice, "../../escape").await;
    server
        .send(
            "POST",
            "/api/convos/archive",
            &alice.token,
            json!({"arg": {"conversationId": "c1", "isArchived": true}}),
        )
        .await;
    let dir = server.dir.path().to_path_buf();
    let cli = |args: &[&str]| {
        run(librechat(&dir)
            .args(args)
            .env("LIBRECHAT_DATA_DIR", dir.join("data"))
            .env("CONFIG_PATH", dir.join("librechat.yaml")))
    };
    let out = cli(&["export", "--user", "alice@example.org", "out"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("exported 2 conversation(s)"));
    let mut files: Vec<String> = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    assert_eq!(files[1], "c1.json");
    assert!(
        files[0].starts_with("______escape.") && files[0].ends_with(".json"),
        "ids never escape the folder: {files:?}"
    );
    let doc: Value =
        serde_json::from_slice(&std::fs::read(dir.join("out/c1.json")).unwrap()).unwrap();
    assert_eq!(doc["messages"][3]["text"], "text c");
    assert_eq!(doc["messages"][3]["parentMessageId"], "c1-b");
    let out = cli(&["export", "--user", "nobody@example.org", "out"]);
    assert!(!out.status.success() && text(&out.stderr).contains("no account"));
    server.stop().await;
}
