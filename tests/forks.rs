//! Forking and duplicating conversations over HTTP, with LibreChat's fork options.

mod support;

use serde_json::{Value, json};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";

/// c-1:  a ─ b ─ c ─ d
///         │     └ e
///         └ b2 ─ c2
async fn tree(server: &TestServer, s: &Session) {
    let resp = server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "c-1", "title": "Original", "model": "gpt-4o"}}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    for (id, parent) in [
        ("a", ROOT),
        ("b", "a"),
        ("b2", "a"),
        ("c", "b"),
        ("c2", "b2"),
        ("d", "c"),
        ("e", "c"),
    ] {
        let resp = server
            .send(
                "POST",
                "/api/messages/c-1",
                &s.token,
                json!({"messageId": id, "parentMessageId": parent, "text": id}),
            )
            .await;
        assert_eq!(resp.status(), 201, "{id}");
    }
}

/// Texts of a fork's messages, and a check that every parent is inside the fork or a root.
fn texts(forked: &Value) -> Vec<String> {
    let msgs = forked["messages"].as_array().unwrap();
    let ids: Vec<&str> = msgs
        .iter()
        .map(|m| m["messageId"].as_str().unwrap())
        .collect();
    for m in msgs {
        let parent = m["parentMessageId"].as_str().unwrap();
        assert!(
            parent == ROOT || ids.contains(&parent),
            "dangling parent in {m}"
        );
        assert_eq!(
            m["conversationId"],
            forked["conversation"]["conversationId"]
        );
    }
    msgs.iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn fork_options_copy_the_right_part_of_the_tree() {
    let server = TestServer::builder()
        .env("FORK_IP_MAX", "100")
        .start()
        .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    tree(&server, &alice).await;
    let fork = |option: &str, split: bool| {
        server.send("POST",
            "/api/convos/fork",
            &alice.token,
            json!({"conversationId": "c-1", "messageId": "c", "option": option, "splitAtTarget": split}),
        )
    };
    let direct: Value = fork("directPath", false).await.json().await.unwrap();
    assert_eq!(texts(&direct), ["a", "b", "c"]);
    assert_ne!(direct["conversation"]["conversationId"], "c-1");
    assert_eq!(direct["conversation"]["title"], "Original");
    assert_eq!(direct["conversation"]["model"], "gpt-4o");
    assert!(
        direct["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| !["a", "b", "c"].contains(&m["messageId"].as_str().unwrap())),
        "fresh ids"
    );
    let branches: Value = fork("includeBranches", false).await.json().await.unwrap();
    assert_eq!(texts(&branches), ["a", "b", "b2", "c"]);
    let level: Value = fork("targetLevel", false).await.json().await.unwrap();
    assert_eq!(texts(&level), ["a", "b", "b2", "c", "c2"]);
    let split: Value = fork("targetLevel", true).await.json().await.unwrap();
    assert_eq!(texts(&split), ["c", "c2", "d", "e"]);
    // No option means LibreChat's default, targetLevel.
    let default: Value = fork("", false).await.json().await.unwrap();
    assert_eq!(texts(&default), ["a", "b", "b2", "c", "c2"]);
    // Splitting a direct path follows the branch down to the message the user was looking at.
    let followed: Value = server
        .send(
            "POST",
            "/api/convos/fork",
            &alice.token,
            json!({"conversationId": "c-1", "messageId": "c", "option": "directPath", "splitAtTarget": true, "latestMessageId": "d"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(texts(&followed), ["c", "d"]);

    // The fork is a real conversation of its own; the original is untouched.
    let id = direct["conversation"]["conversationId"].as_str().unwrap();
    let stored: Value = server
        .get_as(&format!("/api/messages/{id}"), &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored.as_array().unwrap().len(), 3);
    let original: Value = server
        .get_as("/api/messages/c-1", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(original.as_array().unwrap().len(), 7);

    let dup = server
        .send(
            "POST",
            "/api/convos/duplicate",
            &alice.token,
            json!({"conversationId": "c-1"}),
        )
        .await;
    assert_eq!(dup.status(), 201);
    let dup: Value = dup.json().await.unwrap();
    assert_eq!(dup["conversation"]["title"], "Original (Copy)");
    assert_eq!(texts(&dup), ["a", "b", "b2", "c", "c2", "d", "e"]);
    let named: Value = server
        .send(
            "POST",
            "/api/convos/duplicate",
            &alice.token,
            json!({"conversationId": "c-1", "title": "Mine"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(named["conversation"]["title"], "Mine");
    server.stop().await;
}

#[tokio::test]
async fn bad_forks_are_refused_and_store_nothing() {
    let server = TestServer::builder()
        .env("FORK_IP_MAX", "100")
        .start()
        .await;
    server.register("alice@example.org", PW).await;
    server.register("bob@example.org", PW).await;
    let alice = server.login("alice@example.org", PW).await;
    let bob = server.login("bob@example.org", PW).await;
    tree(&server, &alice).await;
    server
        .send(
            "POST",
            "/api/convos/update",
            &alice.token,
            json!({"arg": {"conversationId": "c-2"}}),
        )
        .await;
    server
        .send(
            "POST",
            "/api/messages/c-2",
            &alice.token,
            json!({"messageId": "other", "text": "x"}),
        )
        .await;
    let before = server.count("conversations").await;
    for (body, status) in [
        (
            json!({"conversationId": "c-1", "messageId": "c", "option": "everything"}),
            400,
        ),
        (json!({"conversationId": "c-1", "messageId": "other"}), 400),
        (json!({"conversationId": "c-1", "messageId": "nope"}), 400),
        (json!({"conversationId": "c-1"}), 400),
        (json!({"conversationId": 5, "messageId": "c"}), 400),
        (json!({"conversationId": "missing", "messageId": "c"}), 404),
    ] {
        let resp = server
            .send("POST", "/api/convos/fork", &alice.token, body.clone())
            .await;
        assert_eq!(resp.status(), status, "{body}");
    }
    // Bob cannot fork or copy Alice's conversation.
    assert_eq!(
        server
            .send(
                "POST",
                "/api/convos/fork",
                &bob.token,
                json!({"conversationId": "c-1", "messageId": "c"})
            )
            .await
            .status(),
        404
    );
    assert_eq!(
        server
            .send(
                "POST",
                "/api/convos/duplicate",
                &bob.token,
                json!({"conversationId": "c-1"})
            )
            .await
            .status(),
        404
    );
    assert_eq!(
        server.count("conversations").await,
        before,
        "nothing partial stored"
    );
    server.stop().await;
}

#[tokio::test]
async fn forks_are_rate_limited_and_titles_are_looked_up() {
    let server = TestServer::builder().env("FORK_IP_MAX", "2").start().await;
    let alice = server.signed_in("alice@example.org", PW).await;
    tree(&server, &alice).await;
    let dup = || {
        server.send(
            "POST",
            "/api/convos/duplicate",
            &alice.token,
            json!({"conversationId": "c-1"}),
        )
    };
    assert_eq!(dup().await.status(), 201);
    assert_eq!(dup().await.status(), 201);
    assert_eq!(dup().await.status(), 429);

    server
        .send(
            "POST",
            "/api/convos/update",
            &alice.token,
            json!({"arg": {"conversationId": "fresh"}}),
        )
        .await;
    assert_eq!(
        server
            .get_as("/api/convos/gen_title/fresh", &alice.token)
            .await
            .status(),
        404,
        "no title yet"
    );
    let title: Value = server
        .get_as("/api/convos/gen_title/c-1", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(title["title"], "Original");
    let bob = server.signed_in("bob@example.org", PW).await;
    assert_eq!(
        server
            .get_as("/api/convos/gen_title/c-1", &bob.token)
            .await
            .status(),
        404
    );
    server.stop().await;
}
