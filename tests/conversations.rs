//! Conversations and messages over HTTP: the tree, paging, archiving, deleting, and isolation
//! between users.

mod support;

use serde_json::{Value, json};
use support::TestServer;

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";

async fn create(server: &TestServer, token: &str, id: &str, title: &str) -> Value {
    let resp = server.send("POST", "/api/convos/update", token, json!({"arg": {"conversationId": id, "title": title, "endpoint": "openAI", "model": "gpt-4o", "temperature": 0.5}})).await;
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

async fn message(
    server: &TestServer,
    token: &str,
    convo: &str,
    id: &str,
    parent: &str,
    text: &str,
) -> reqwest::Response {
    server.send("POST", &format!("/api/messages/{convo}"), token, json!({
        "messageId": id, "parentMessageId": parent, "text": text,
        "isCreatedByUser": parent == ROOT, "sender": if parent == ROOT { "User" } else { "GPT-4o" },
        "files": [{"file_id": "f1"}]
    }))
    .await
}

#[tokio::test]
async fn create_read_rename_archive_and_page_through_conversations() {
    let server = TestServer::start().await;
    let (alice, _) = server.two_users(PW).await;
    let c = create(&server, &alice.token, "c-0", "First").await;
    assert_eq!(c["title"], "First");
    assert_eq!(c["endpoint"], "openAI");
    assert_eq!(c["temperature"], 0.5, "other fields are kept as sent");
    assert_eq!(c["user"], alice.user["id"]);
    assert_eq!(c["isArchived"], false);
    for i in 1..5 {
        create(
            &server,
            &alice.token,
            &format!("c-{i}"),
            &format!("Chat {i}"),
        )
        .await;
    }
    // Renaming moves it to the top and keeps the other fields.
    let renamed: Value = server
        .send(
            "POST",
            "/api/convos/update",
            &alice.token,
            json!({"arg": {"conversationId": "c-0", "title": "Renamed"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (renamed["title"].as_str(), renamed["model"].as_str()),
        (Some("Renamed"), Some("gpt-4o"))
    );
    let got: Value = server
        .get_as("/api/convos/c-0", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["title"], "Renamed");

    // Pages of two, newest first, each conversation exactly once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("/api/convos?limit=2&cursor={c}"),
            None => "/api/convos?limit=2".into(),
        };
        let page: Value = server
            .get_as(&path, &alice.token)
            .await
            .json()
            .await
            .unwrap();
        for c in page["conversations"].as_array().unwrap() {
            seen.push(c["conversationId"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["c-0", "c-4", "c-3", "c-2", "c-1"]);
    let oldest: Value = server
        .get_as("/api/convos?order=asc&limit=1", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(oldest["conversations"][0]["conversationId"], "c-1");

    // Archived conversations leave the main list and appear in the archive.
    let resp = server
        .send(
            "POST",
            "/api/convos/archive",
            &alice.token,
            json!({"arg": {"conversationId": "c-2", "isArchived": true}}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let main: Value = server
        .get_as("/api/convos", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(main["conversations"].as_array().unwrap().len(), 4);
    let archived: Value = server
        .get_as("/api/convos?isArchived=true", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(archived["conversations"][0]["conversationId"], "c-2");
    assert_eq!(archived["conversations"][0]["isArchived"], true);

    for bad in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=ten",
        "cursor=%%%",
        "cursor=bm90aGluZw",
        "order=sideways",
        "isArchived=maybe",
        "sortBy=size",
    ] {
        let resp = server
            .get_as(&format!("/api/convos?{bad}"), &alice.token)
            .await;
        assert_eq!(resp.status(), 400, "{bad}");
        assert!(resp.json::<Value>().await.unwrap()["message"].is_string());
    }
    for bad in [
        json!({}),
        json!({"arg": {}}),
        json!({"arg": {"conversationId": 5}}),
        json!({"arg": {"conversationId": "x", "title": 5}}),
        json!({"arg": {"conversationId": "x", "isArchived": "yes"}}),
    ] {
        let resp = server
            .send("POST", "/api/convos/update", &alice.token, bad.clone())
            .await;
        assert_eq!(resp.status(), 400, "{bad}");
    }
    assert_eq!(
        server
            .get_as("/api/convos/nope", &alice.token)
            .await
            .status(),
        404
    );
    assert_eq!(server.get("/api/convos").await.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn messages_form_a_tree_and_deleting_takes_the_replies_along() {
    let server = TestServer::start().await;
    let (alice, _) = server.two_users(PW).await;
    create(&server, &alice.token, "c-1", "Tree").await;
    create(&server, &alice.token, "c-2", "Other").await;
    assert_eq!(
        message(&server, &alice.token, "c-1", "m-1", ROOT, "Hello")
            .await
            .status(),
        201
    );
    let reply = message(
        &server,
        &alice.token,
        "c-1",
        "m-2",
        "m-1",
        "Hi! How can I help?",
    )
    .await;
    assert_eq!(reply.status(), 201);
    let reply: Value = reply.json().await.unwrap();
    assert_eq!(reply["parentMessageId"], "m-1");
    assert_eq!(
        reply["files"][0]["file_id"], "f1",
        "other fields are kept as sent"
    );
    // A regenerated answer is a sibling; a follow-up hangs below the first answer.
    assert_eq!(
        message(&server, &alice.token, "c-1", "m-2b", "m-1", "Hello there")
            .await
            .status(),
        201
    );
    assert_eq!(
        message(&server, &alice.token, "c-1", "m-3", "m-2", "Tell me more")
            .await
            .status(),
        201
    );

    let all: Value = server
        .get_as("/api/messages/c-1", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["m-1", "m-2", "m-2b", "m-3"]);
    assert_eq!(all[0]["isCreatedByUser"], true);
    assert_eq!(all[0]["conversationId"], "c-1");
    let one: Value = server
        .get_as("/api/messages/c-1/m-3", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["text"], "Tell me more");

    // Bad messages change nothing.
    for (body, why) in [
        (json!({"text": "no id"}), "messageId is required"),
        (
            json!({"messageId": "m-9", "parentMessageId": "m-missing"}),
            "parentMessageId",
        ),
        (
            json!({"messageId": "m-9", "text": 5}),
            "text must be a string",
        ),
        (
            json!({"messageId": "m-9", "content": "not parts"}),
            "content must be",
        ),
        (json!({"messageId": "m-9", "tokenCount": -3}), "tokenCount"),
        (
            json!({"messageId": "m-9", "parentMessageId": "m-9"}),
            "own parent",
        ),
    ] {
        let resp = server
            .send("POST", "/api/messages/c-1", &alice.token, body.clone())
            .await;
        assert_eq!(resp.status(), 400, "{body}");
        assert!(resp.text().await.unwrap().contains(why), "{body}");
    }
    // A parent from another conversation is refused; a message id cannot move conversations.
    assert_eq!(
        message(&server, &alice.token, "c-2", "m-x", "m-1", "cross")
            .await
            .status(),
        400
    );
    assert_eq!(
        message(&server, &alice.token, "c-2", "m-1", ROOT, "steal")
            .await
            .status(),
        400
    );
    assert_eq!(
        server
            .get_as("/api/messages/c-1", &alice.token)
            .await
            .json::<Value>()
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Feedback.
    let fb = server
        .send(
            "PUT",
            "/api/messages/c-1/m-2/feedback",
            &alice.token,
            json!({"feedback": {"rating": "thumbsUp", "tag": "accurate", "text": "spot on"}}),
        )
        .await;
    assert_eq!(fb.status(), 200);
    let m2: Value = server
        .get_as("/api/messages/c-1/m-2", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(m2["feedback"]["rating"], "thumbsUp");
    for bad in [
        json!({"feedback": {"rating": "meh"}}),
        json!({"feedback": "good"}),
        json!({"feedback": {"rating": "thumbsDown", "text": 5}}),
    ] {
        assert_eq!(
            server
                .send(
                    "PUT",
                    "/api/messages/c-1/m-2/feedback",
                    &alice.token,
                    bad.clone()
                )
                .await
                .status(),
            400,
            "{bad}"
        );
    }
    assert_eq!(
        server
            .send(
                "PUT",
                "/api/messages/c-1/m-2/feedback",
                &alice.token,
                json!({"feedback": null})
            )
            .await
            .status(),
        200
    );
    let m2: Value = server
        .get_as("/api/messages/c-1/m-2", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(m2.get("feedback").is_none());

    // Deleting m-2 takes its reply m-3 along; the sibling m-2b stays.
    let resp = server
        .client
        .delete(server.url("/api/messages/c-1/m-2"))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let left: Value = server
        .get_as("/api/messages/c-1", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = left
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["m-1", "m-2b"]);
    let again = server
        .client
        .delete(server.url("/api/messages/c-1/m-2"))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);

    // Deleting the conversation deletes its messages.
    let resp = server
        .send(
            "DELETE",
            "/api/convos",
            &alice.token,
            json!({"arg": {"conversationId": "c-1"}}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["messages"]["deletedCount"], 2);
    assert_eq!(
        server
            .get_as("/api/messages/c-1", &alice.token)
            .await
            .status(),
        404
    );
    let resp = server
        .send("DELETE", "/api/convos/all", &alice.token, json!({}))
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(server.count("conversations").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn another_users_conversations_and_messages_do_not_exist_for_you() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    create(&server, &alice.token, "alice-c", "Private").await;
    assert_eq!(
        message(&server, &alice.token, "alice-c", "alice-m", ROOT, "secret")
            .await
            .status(),
        201
    );
    create(&server, &bob.token, "bob-c", "Bob's").await;

    let b = &bob.token;
    assert_eq!(server.get_as("/api/convos/alice-c", b).await.status(), 404);
    assert_eq!(
        server.get_as("/api/messages/alice-c", b).await.status(),
        404
    );
    assert_eq!(
        server
            .get_as("/api/messages/alice-c/alice-m", b)
            .await
            .status(),
        404
    );
    assert_eq!(
        server
            .get_as("/api/messages/bob-c/alice-m", b)
            .await
            .status(),
        404
    );
    let listed: Value = server.get_as("/api/convos", b).await.json().await.unwrap();
    assert_eq!(listed["conversations"].as_array().unwrap().len(), 1);
    for (method, path, body) in [
        (
            "POST",
            "/api/convos/update",
            json!({"arg": {"conversationId": "alice-c", "title": "pwned"}}),
        ),
        (
            "POST",
            "/api/convos/archive",
            json!({"arg": {"conversationId": "alice-c", "isArchived": true}}),
        ),
        (
            "DELETE",
            "/api/convos",
            json!({"arg": {"conversationId": "alice-c"}}),
        ),
        (
            "POST",
            "/api/messages/alice-c",
            json!({"messageId": "bob-m", "text": "hi"}),
        ),
        (
            "PUT",
            "/api/messages/alice-c/alice-m/feedback",
            json!({"feedback": {"rating": "thumbsDown"}}),
        ),
        ("DELETE", "/api/messages/alice-c/alice-m", json!({})),
    ] {
        assert_eq!(
            server.send(method, path, b, body).await.status(),
            404,
            "{method} {path}"
        );
    }
    // Bob cannot take over Alice's message id from his own conversation either, and cannot
    // tell it exists: LibreChat keeps ids per account and saves his message (201); here ids
    // are global, so it is saved under a new id, which the answer carries.
    let resp = message(&server, b, "bob-c", "alice-m", ROOT, "overwrite").await;
    assert_eq!(resp.status(), 201);
    let his: Value = resp.json().await.unwrap();
    assert_ne!(his["messageId"], "alice-m");
    assert_eq!(his["text"], "overwrite");
    assert_eq!(his["conversationId"], "bob-c");
    let listed: Value = server
        .get_as("/api/messages/bob-c", b)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["messageId"], his["messageId"]);
    // Saving it again under its new id updates his message, as for any of his own.
    let resp = server
        .send(
            "POST",
            "/api/messages/bob-c",
            b,
            json!({"messageId": his["messageId"], "text": "edited"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(server.count("messages").await, 2, "alice's and bob's");
    // Bob clearing all his conversations leaves Alice's.
    server.send("DELETE", "/api/convos/all", b, json!({})).await;
    let mine: Value = server
        .get_as("/api/convos/alice-c", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["title"], "Private");
    let msgs: Value = server
        .get_as("/api/messages/alice-c", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(msgs[0]["text"], "secret");

    // Deleting an account deletes its conversations and messages with it.
    let resp = server
        .client
        .delete(server.url("/api/user/delete"))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(server.count("conversations").await, 0);
    assert_eq!(server.count("messages").await, 0);
    server.stop().await;
}

#[tokio::test]
async fn editing_a_message_recounts_its_tokens() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    create(&server, &alice.token, "c-1", "Edits").await;
    let saved = server.send("POST", "/api/messages/c-1", &alice.token, json!({
        "messageId": "m", "text": "Hello", "tokenCount": 1,
        "content": [{"type": "think", "think": "hmm"}, {"type": "text", "text": "answer"}, {"type": "image_url", "image_url": {"url": "x"}}]
    }))
    .await;
    assert_eq!(saved.status(), 201);

    let edited: Value = edit(
        &server,
        json!({"text": "A much longer text than before, with many more tokens in it."}),
        alice.token.clone(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        edited["text"],
        "A much longer text than before, with many more tokens in it."
    );
    let after_text = edited["tokenCount"].as_i64().unwrap();
    assert!(after_text > 10, "recounted: {after_text}");

    let part: Value = edit(
        &server,
        json!({"text": "a new line of thought", "index": 0}),
        alice.token.clone(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(part["content"][0]["think"], "a new line of thought");
    assert_eq!(part["content"][1]["text"], "answer");
    assert!(
        part["tokenCount"].as_i64().unwrap() > after_text,
        "the part's tokens count too"
    );

    for (body, status) in [
        (json!({"text": "x", "index": 2}), 400),
        (json!({"text": "x", "index": 9}), 400),
        (json!({"index": 0}), 400),
        (json!({"text": 5}), 400),
    ] {
        assert_eq!(
            edit(&server, body.clone(), alice.token.clone())
                .await
                .status(),
            status,
            "{body}"
        );
    }
    assert_eq!(
        edit(&server, json!({"text": "mine now"}), bob.token.clone())
            .await
            .status(),
        404
    );
    let kept: Value = server
        .get_as("/api/messages/c-1/m", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["content"][0]["think"], "a new line of thought");
    server.stop().await;
}

async fn edit(server: &TestServer, body: Value, token: String) -> reqwest::Response {
    server
        .send("PUT", "/api/messages/c-1/m", &token, body)
        .await
}

#[tokio::test]
async fn messages_page_by_cursor_for_their_owner_only() {
    let server = TestServer::start().await;
    let (alice, bob) = server.two_users(PW).await;
    create(&server, &alice.token, "c-1", "One").await;
    create(&server, &alice.token, "c-2", "Two").await;
    for (c, id, parent) in [
        ("c-1", "a1", ROOT),
        ("c-2", "b1", ROOT),
        ("c-1", "a2", "a1"),
        ("c-2", "b2", "b1"),
        ("c-1", "a3", "a2"),
    ] {
        assert_eq!(
            message(&server, &alice.token, c, id, parent, id)
                .await
                .status(),
            201
        );
    }
    let mut seen = Vec::new();
    let mut path = "/api/messages?pageSize=2".to_owned();
    for _ in 0..10 {
        let page: Value = server
            .get_as(&path, &alice.token)
            .await
            .json()
            .await
            .unwrap();
        seen.extend(
            page["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["messageId"].as_str().unwrap().to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(c) => path = format!("/api/messages?pageSize=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["a3", "b2", "a2", "b1", "a1"],
        "newest first, each once"
    );
    let one: Value = server
        .get_as(
            "/api/messages?conversationId=c-1&sortDirection=asc",
            &alice.token,
        )
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = one["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["messageId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a1", "a2", "a3"]);
    assert!(one["nextCursor"].is_null());
    for bad in [
        "pageSize=0",
        "pageSize=1000",
        "pageSize=x",
        "cursor=@@",
        "sortDirection=up",
        "sortBy=text",
    ] {
        assert_eq!(
            server
                .get_as(&format!("/api/messages?{bad}"), &alice.token)
                .await
                .status(),
            400,
            "{bad}"
        );
    }
    assert_eq!(
        server
            .get_as("/api/messages?conversationId=c-1", &bob.token)
            .await
            .status(),
        404
    );
    let theirs: Value = server
        .get_as("/api/messages", &bob.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["messages"], json!([]));
    // Search is built in (tests/search.rs covers it).
    assert_eq!(
        server
            .get_as("/api/search/enable", &alice.token)
            .await
            .json::<Value>()
            .await
            .unwrap(),
        json!(true)
    );
    assert_eq!(server.get("/api/search/enable").await.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn loops_deep_json_and_reserved_ids_are_refused() {
    let server = TestServer::start().await;
    let (alice, _) = server.two_users(PW).await;
    create(&server, &alice.token, "c-1", "Loops").await;
    for (id, parent) in [("x", ROOT), ("y", "x"), ("z", "y")] {
        assert_eq!(
            message(&server, &alice.token, "c-1", id, parent, id)
                .await
                .status(),
            201
        );
    }
    // Re-saving x under its own grandchild would make the tree a loop.
    let looped = message(&server, &alice.token, "c-1", "x", "z", "x again").await;
    assert_eq!(looped.status(), 400);
    let x: Value = server
        .get_as("/api/messages/c-1/x", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (x["parentMessageId"].as_str(), x["text"].as_str()),
        (Some(ROOT), Some("x")),
        "unchanged"
    );
    // Moving a message to another branch is fine.
    assert_eq!(
        message(&server, &alice.token, "c-1", "z", "x", "z moved")
            .await
            .status(),
        201
    );

    let mut deep = json!("bottom");
    for _ in 0..40 {
        deep = json!([deep]);
    }
    let resp = server
        .send(
            "POST",
            "/api/messages/c-1",
            &alice.token,
            json!({"messageId": "d", "text": "t", "metadata": deep}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let resp = server
        .send(
            "POST",
            "/api/convos/update",
            &alice.token,
            json!({"arg": {"conversationId": "c-1", "tools": deep}}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let resp = server
        .send(
            "POST",
            "/api/presets",
            &alice.token,
            json!({"title": "p", "x": deep}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    for reserved in ["all", "fork", "update"] {
        let resp = server
            .send(
                "POST",
                "/api/convos/update",
                &alice.token,
                json!({"arg": {"conversationId": reserved}}),
            )
            .await;
        assert_eq!(resp.status(), 400, "{reserved}");
    }
    server.stop().await;
}
