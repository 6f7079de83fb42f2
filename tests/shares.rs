//! Shared links over HTTP: snapshots up to a target, anonymized, public only when allowed,
//! and under their owner's control.

mod support;

use serde_json::{Value, json};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";

/// c-1: a ─ b ─ c ─ d, and b2 beside b.
async fn conversation(server: &TestServer, s: &Session) {
    server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "c-1", "title": "Trip plans"}}),
        )
        .await;
    for (id, parent) in [("a", ROOT), ("b", "a"), ("b2", "a"), ("c", "b"), ("d", "c")] {
        let resp = server.send("POST", "/api/messages/c-1", &s.token, json!({"messageId": id, "parentMessageId": parent, "text": format!("text {id}"), "files": [{"filepath": "/private/alice.pdf"}]})).await;
        assert_eq!(resp.status(), 201);
    }
}

#[tokio::test]
async fn a_share_is_a_snapshot_up_to_the_target_with_nothing_of_the_owner() {
    let server = TestServer::start().await;
    server.register("alice@example.org", PW).await;
    server.register("bob@example.org", PW).await;
    let alice = server.login("alice@example.org", PW).await;
    let bob = server.login("bob@example.org", PW).await;
    conversation(&server, &alice).await;

    let created = server
        .send(
            "POST",
            "/api/share/c-1",
            &alice.token,
            json!({"targetMessageId": "c"}),
        )
        .await;
    assert_eq!(created.status(), 200);
    let created: Value = created.json().await.unwrap();
    let share = created["shareId"].as_str().unwrap().to_owned();
    assert_eq!(share.len(), 21);
    // Already shared; `{}` and `null` are both read as "no target" (the OpenAPI document
    // allows either).
    for body in [json!({}), Value::Null] {
        assert_eq!(
            server
                .send("POST", "/api/share/c-1", &alice.token, body)
                .await
                .status(),
            409
        );
    }

    // Not public on this server: signed-in users only.
    assert_eq!(
        server.get(&format!("/api/share/{share}")).await.status(),
        401
    );
    let shared: Value = server
        .get_as(&format!("/api/share/{share}"), &bob.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shared["title"], "Trip plans");
    let texts: Vec<&str> = shared["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["text a", "text b", "text c"],
        "the branch up to the target, nothing after"
    );
    let text = shared.to_string();
    for leak in [
        "alice",
        alice.user["id"].as_str().unwrap(),
        "c-1",
        "\"b2\"",
        "\"a\"",
        "/private",
        "\"user\"",
    ] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
    // Parent links survive anonymization.
    let msgs = shared["messages"].as_array().unwrap();
    assert_eq!(msgs[0]["parentMessageId"], ROOT);
    assert_eq!(msgs[1]["parentMessageId"], msgs[0]["messageId"]);
    assert_eq!(msgs[2]["parentMessageId"], msgs[1]["messageId"]);
    // Answers come rendered (a visitor cannot call /api/render); questions stay text.
    for m in msgs {
        if m["isCreatedByUser"] == true {
            assert!(m.get("html").is_none(), "{m}");
        } else {
            let html = m["html"].as_str().unwrap();
            assert!(html.contains(m["text"].as_str().unwrap()), "{m}");
        }
    }
    assert!(msgs.iter().any(|m| m.get("html").is_some()));

    // Later changes do not reach the snapshot.
    server
        .send(
            "POST",
            "/api/messages/c-1",
            &alice.token,
            json!({"messageId": "late", "parentMessageId": "c", "text": "added later"}),
        )
        .await;
    let again: Value = server
        .get_as(&format!("/api/share/{share}"), &bob.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["messages"], shared["messages"]);

    // The owner finds, lists, re-keys and removes it; nobody else can.
    let link: Value = server
        .get_as("/api/share/link/c-1", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (link["success"].as_bool(), link["shareId"].as_str()),
        (Some(true), Some(share.as_str()))
    );
    let theirs: Value = server
        .get_as("/api/share/link/c-1", &bob.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["success"], false);
    let listed: Value = server
        .get_as("/api/share?pageSize=5", &alice.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["links"].as_array().unwrap().len(), 1);
    assert_eq!(
        server
            .get_as("/api/share?pageSize=0", &alice.token)
            .await
            .status(),
        400
    );
    assert_eq!(
        server
            .get_as("/api/share?cursor=garbage", &alice.token)
            .await
            .status(),
        400
    );
    assert_eq!(
        server
            .send(
                "PATCH",
                &format!("/api/share/{share}"),
                &bob.token,
                json!({})
            )
            .await
            .status(),
        404
    );
    assert_eq!(
        server
            .send(
                "DELETE",
                &format!("/api/share/{share}"),
                &bob.token,
                json!({})
            )
            .await
            .status(),
        404
    );
    assert_eq!(
        server
            .send("POST", "/api/share/c-1", &bob.token, json!({}))
            .await
            .status(),
        404
    );
    let rekeyed: Value = server
        .send(
            "PATCH",
            &format!("/api/share/{share}"),
            &alice.token,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let new_id = rekeyed["shareId"].as_str().unwrap().to_owned();
    assert_ne!(new_id, share);
    assert_eq!(
        server
            .get_as(&format!("/api/share/{share}"), &bob.token)
            .await
            .status(),
        404,
        "the old address is dead"
    );
    assert_eq!(
        server
            .get_as(&format!("/api/share/{new_id}"), &bob.token)
            .await
            .status(),
        200
    );
    assert_eq!(
        server
            .send(
                "DELETE",
                &format!("/api/share/{new_id}"),
                &alice.token,
                json!({})
            )
            .await
            .status(),
        200
    );
    assert_eq!(
        server
            .get_as(&format!("/api/share/{new_id}"), &bob.token)
            .await
            .status(),
        404
    );
    server.stop().await;
}

#[tokio::test]
async fn public_links_bad_targets_and_deleted_conversations() {
    let server = TestServer::builder()
        .env("ALLOW_SHARED_LINKS_PUBLIC", "true")
        .start()
        .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    conversation(&server, &alice).await;
    server
        .send(
            "POST",
            "/api/convos/update",
            &alice.token,
            json!({"arg": {"conversationId": "empty"}}),
        )
        .await;
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
            json!({"messageId": "x", "text": "other"}),
        )
        .await;

    assert_eq!(
        server
            .send(
                "POST",
                "/api/share/c-1",
                &alice.token,
                json!({"targetMessageId": "x"})
            )
            .await
            .status(),
        400,
        "a message of another conversation"
    );
    assert_eq!(
        server
            .send("POST", "/api/share/empty", &alice.token, json!({}))
            .await
            .status(),
        400
    );
    let raw = server
        .client
        .post(server.url("/api/share/c-1"))
        .bearer_auth(&alice.token)
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(
        server.count("shared_links").await,
        0,
        "nothing stored by bad requests"
    );

    // No body: the newest branch.
    let created: Value = server
        .client
        .post(server.url("/api/share/c-1"))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let share = created["shareId"].as_str().unwrap().to_owned();
    let public = server.get(&format!("/api/share/{share}")).await;
    assert_eq!(public.status(), 200, "public links need no account");
    let public: Value = public.json().await.unwrap();
    let texts: Vec<&str> = public["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["text a", "text b", "text c", "text d"]);

    // Deleting the conversation deletes its link.
    server
        .send(
            "DELETE",
            "/api/convos",
            &alice.token,
            json!({"arg": {"conversationId": "c-1"}}),
        )
        .await;
    assert_eq!(
        server.get(&format!("/api/share/{share}")).await.status(),
        404
    );
    server.stop().await;

    let off = TestServer::builder()
        .env("ALLOW_SHARED_LINKS", "false")
        .start()
        .await;
    let alice = off.signed_in("alice@example.org", PW).await;
    assert_eq!(
        off.send("POST", "/api/share/c-1", &alice.token, json!({}))
            .await
            .status(),
        403
    );
    assert_eq!(off.get_as("/api/share", &alice.token).await.status(), 403);
    off.stop().await;
}

#[tokio::test]
async fn updating_a_link_refreshes_it_and_files_are_never_shared() {
    let server = TestServer::builder()
        .env("ALLOW_SHARED_LINKS_PUBLIC", "true")
        .start()
        .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let uid = alice.user["id"].as_str().unwrap().to_owned();
    server
        .send(
            "POST",
            "/api/convos/update",
            &alice.token,
            json!({"arg": {"conversationId": "c-1", "title": "Pics"}}),
        )
        .await;
    server
        .send("POST", "/api/messages/c-1", &alice.token, json!({
            "messageId": "m1", "text": "look",
            "content": [
                {"type": "text", "text": "look at this"},
                {"type": "image_file", "image_file": {"file_id": "f1", "filepath": format!("/images/{uid}/f1.png")}},
                {"type": "tool_call", "tool_call": {"name": "search", "args": "alice's private query"}}
            ]
        }))
        .await;
    let created: Value = server
        .send("POST", "/api/share/c-1", &alice.token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let share = created["shareId"].as_str().unwrap().to_owned();
    let shared: Value = server
        .get(&format!("/api/share/{share}"))
        .await
        .json()
        .await
        .unwrap();
    let text = shared.to_string();
    assert!(
        !text.contains(&uid) && !text.contains("private query") && !text.contains("f1.png"),
        "{text}"
    );
    assert_eq!(
        shared["messages"][0]["content"],
        json!([{"type": "text", "text": "look at this"}])
    );

    // Updating the link (PATCH) re-keys it and takes a fresh snapshot.
    server
        .send(
            "POST",
            "/api/messages/c-1",
            &alice.token,
            json!({"messageId": "m2", "parentMessageId": "m1", "text": "and this"}),
        )
        .await;
    let updated: Value = server
        .send(
            "PATCH",
            &format!("/api/share/{share}"),
            &alice.token,
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    let new_id = updated["shareId"].as_str().unwrap();
    let fresh: Value = server
        .get(&format!("/api/share/{new_id}"))
        .await
        .json()
        .await
        .unwrap();
    let texts: Vec<&str> = fresh["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["look", "and this"]);
    server.stop().await;
}

/// An answer holding an artifact comes with the rendered text around its card (the bundled
/// app's shared page shows the card between them), sanitized like the rest; the artifact's
/// text itself stays in `text` and is in no piece. An answer without one has no pieces.
#[tokio::test]
async fn an_answer_with_an_artifact_comes_with_the_text_around_its_card() {
    let server = TestServer::builder()
        .env("ALLOW_SHARED_LINKS_PUBLIC", "true")
        .start()
        .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let artifact = ":::artifact{identifier=\"p\" type=\"text/html\" title=\"Probe\"}\n````html\n<h1 id=\"x\">inside</h1>\n````\n:::";
    let doc = ":::artifact{identifier=\"d\" type=\"text/markdown\" title=\"Doc\"}\n# Tea notes\n<img src=x onerror=alert(1)>\n:::";
    let answer = format!("Before **it**<script>alert(1)</script>\n{artifact}\nafter it\n{doc}");
    server
        .send(
            "POST",
            "/api/convos/update",
            &alice.token,
            json!({"arg": {"conversationId": "c-art", "title": "Art"}}),
        )
        .await;
    for (id, parent, text, user) in [
        ("q", ROOT, "Make a page", true),
        ("a", "q", answer.as_str(), false),
        ("q2", "a", "Thanks", true),
        ("a2", "q2", "No artifact here", false),
    ] {
        let body = json!({"messageId": id, "parentMessageId": parent, "text": text, "isCreatedByUser": user});
        let resp = server
            .send("POST", "/api/messages/c-art", &alice.token, body)
            .await;
        assert_eq!(resp.status(), 201);
    }
    let created: Value = server
        .send("POST", "/api/share/c-art", &alice.token, Value::Null)
        .await
        .json()
        .await
        .unwrap();
    let shared: Value = server
        .get(&format!(
            "/api/share/{}",
            created["shareId"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    let msgs = shared["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 4);
    assert_eq!(msgs[1]["text"], answer.as_str());
    let parts: Vec<&str> = msgs[1]["htmlParts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts[0].contains("<strong>it</strong>"), "{parts:?}");
    assert!(parts[1].contains("after it"), "{parts:?}");
    for p in &parts {
        assert!(!p.contains("<script") && !p.contains("inside"), "{p}");
    }
    // For each card, its Markdown document rendered (a reader without an account cannot have
    // it rendered), sanitized like any answer; null for the web page.
    let docs = msgs[1]["htmlDocuments"].as_array().unwrap();
    assert_eq!(docs.len(), 2, "{docs:?}");
    assert!(docs[0].is_null(), "{docs:?}");
    let doc = docs[1].as_str().unwrap();
    assert!(doc.contains("<h1") && doc.contains("Tea notes"), "{doc}");
    assert!(!doc.contains("<img"), "{doc}");
    for m in [&msgs[0], &msgs[2], &msgs[3]] {
        assert!(m.get("htmlParts").is_none(), "{m}");
        assert!(m.get("htmlDocuments").is_none(), "{m}");
    }
    server.stop().await;
}
