//! Role permissions are enforced, not only shown: an administrator takes a permission away from
//! USER, the user hears LibreChat's 403 on the routes it guards, and gets them back with it.

mod support;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, KEY};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";
const FORBIDDEN: &str = "Forbidden: Insufficient permissions";

/// An administrator (alice) and a user (bob).
async fn admin_and_user(server: &TestServer) -> (Session, Session) {
    server.two_users(PW).await
}

/// Sets one permission of USER through LibreChat's admin API.
async fn set(server: &TestServer, admin: &Session, kind: &str, permission: &str, on: bool) {
    let resp = server
        .send(
            "PATCH",
            "/api/admin/roles/USER/permissions",
            &admin.token,
            json!({"permissions": { kind: { permission: on } }}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let role: Value = resp.json().await.unwrap();
    assert_eq!(role["role"]["permissions"][kind][permission], on);
}

async fn assert_forbidden(resp: reqwest::Response, what: &str) {
    assert_eq!(resp.status(), 403, "{what}");
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({ "message": FORBIDDEN }),
        "{what}"
    );
}

/// A conversation `c-1` with one message, owned by `s`.
async fn conversation(server: &TestServer, s: &Session) {
    let resp = server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "c-1", "title": "Plans"}}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let resp = server
        .send(
            "POST",
            "/api/messages/c-1",
            &s.token,
            json!({"messageId": "m-1", "parentMessageId": ROOT, "text": "hello"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn without_bookmarks_every_tags_route_is_refused() {
    let server = TestServer::start().await;
    let (admin, user) = admin_and_user(&server).await;
    conversation(&server, &user).await;
    let calls = [
        ("GET", "/api/tags", json!(null)),
        ("POST", "/api/tags", json!({"tag": "work"})),
        ("PUT", "/api/tags/work", json!({"tag": "job"})),
        ("PUT", "/api/tags/convo/c-1", json!({"tags": ["job"]})),
        ("DELETE", "/api/tags/job", json!(null)),
    ];
    set(&server, &admin, "BOOKMARKS", "USE", false).await;
    for (method, path, body) in &calls {
        let resp = server.send(method, path, &user.token, body.clone()).await;
        assert_forbidden(resp, &format!("{method} {path}")).await;
    }
    assert_eq!(server.count("tags").await, 0, "nothing was stored");
    // ADMIN keeps its own permissions.
    assert_eq!(server.get_as("/api/tags", &admin.token).await.status(), 200);

    set(&server, &admin, "BOOKMARKS", "USE", true).await;
    for (method, path, body) in &calls {
        let resp = server.send(method, path, &user.token, body.clone()).await;
        assert!(
            resp.status().is_success(),
            "{method} {path}: {}",
            resp.status()
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn without_create_shared_links_are_neither_made_nor_updated() {
    let server = TestServer::start().await;
    let (admin, user) = admin_and_user(&server).await;
    conversation(&server, &user).await;
    let created = server
        .send("POST", "/api/share/c-1", &user.token, json!({}))
        .await;
    assert_eq!(created.status(), 200);
    let share: Value = created.json().await.unwrap();
    let share_id = share["shareId"].as_str().unwrap();

    set(&server, &admin, "SHARED_LINKS", "CREATE", false).await;
    let update = format!("/api/share/{share_id}");
    assert_forbidden(
        server
            .send("PATCH", &update, &user.token, json!(null))
            .await,
        "update a link",
    )
    .await;
    // Reading and listing stay open, and an owner can always take a link back.
    assert_eq!(server.get_as(&update, &user.token).await.status(), 200);
    assert_eq!(server.get_as("/api/share", &user.token).await.status(), 200);
    let removed = server
        .send("DELETE", &update, &user.token, json!(null))
        .await;
    assert_eq!(removed.status(), 200);
    assert_forbidden(
        server
            .send("POST", "/api/share/c-1", &user.token, json!({}))
            .await,
        "create a link",
    )
    .await;
    assert_eq!(server.count("shared_links").await, 0);

    set(&server, &admin, "SHARED_LINKS", "CREATE", true).await;
    let created = server
        .send("POST", "/api/share/c-1", &user.token, json!({}))
        .await;
    assert_eq!(created.status(), 200);
    let share: Value = created.json().await.unwrap();
    let path = format!("/api/share/{}", share["shareId"].as_str().unwrap());
    assert_eq!(
        server
            .send("PATCH", &path, &user.token, json!(null))
            .await
            .status(),
        200
    );
    server.stop().await;
}

#[tokio::test]
async fn without_temporary_chat_no_chat_is_temporary() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .start()
        .await;
    let (admin, user) = admin_and_user(&server).await;
    let chat = |body: Value| server.send("POST", "/api/agents/chat/openAI", &user.token, body);
    let temporary = json!({"text": "hi", "model": "gpt-4o", "isTemporary": true});

    set(&server, &admin, "TEMPORARY_CHAT", "USE", false).await;
    assert_forbidden(chat(temporary.clone()).await, "a temporary chat").await;
    assert_forbidden(
        server
            .send(
                "POST",
                "/api/convos/update",
                &user.token,
                json!({"arg": {"conversationId": "t-1", "isTemporary": true}}),
            )
            .await,
        "a temporary conversation",
    )
    .await;
    assert_eq!(server.count("conversations").await, 0);
    // Ordinary chats go on.
    let ordinary = chat(json!({"text": "hi", "model": "gpt-4o"})).await;
    assert_eq!(ordinary.status(), 200);

    set(&server, &admin, "TEMPORARY_CHAT", "USE", true).await;
    let started = chat(temporary).await;
    assert_eq!(started.status(), 200);
    let id = started.json::<Value>().await.unwrap()["conversationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let convo = server
        .get_json(&format!("/api/convos/{id}"), &user.token)
        .await;
    assert_eq!(convo["isTemporary"], true);
    server.stop().await;
}

#[tokio::test]
async fn a_second_model_needs_multi_convo_as_librechat_checks_it() {
    let fake = FakeOpenAi::start().await;
    let server = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o")
        .start()
        .await;
    let (admin, user) = admin_and_user(&server).await;
    let body = json!({"text": "hi", "model": "gpt-4o",
        "addedConvo": {"endpoint": "openAI", "model": "gpt-4o"}});
    let ask = |token: String| {
        let body = body.clone();
        let server = &server;
        async move {
            server
                .send("POST", "/api/agents/chat/openAI", &token, body)
                .await
        }
    };
    // On by default (LibreChat's USER defaults).
    assert_eq!(ask(user.token.clone()).await.status(), 200);
    set(&server, &admin, "MULTI_CONVO", "USE", false).await;
    let resp = ask(user.token.clone()).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"error": "Forbidden", "message": "Multi-conversation feature is not enabled"})
    );
    assert_eq!(ask(admin.token.clone()).await.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn without_share_public_a_link_is_its_owners_only() {
    let server = TestServer::builder()
        .env("ALLOW_SHARED_LINKS_PUBLIC", "true")
        .start()
        .await;
    let (admin, user) = admin_and_user(&server).await;
    let carol = server.signed_in("carol@example.org", PW).await;
    conversation(&server, &user).await;
    let created = server
        .send("POST", "/api/share/c-1", &user.token, json!({}))
        .await;
    let share: Value = created.json().await.unwrap();
    let page = format!("/api/share/{}", share["shareId"].as_str().unwrap());
    // The page and its startup configuration are decided alike.
    let config = format!("{page}/config");
    for path in [&page, &config] {
        // USER may share publicly by default, as in LibreChat.
        assert_eq!(server.get_as(path, &carol.token).await.status(), 200);
        assert_eq!(server.get(path).await.status(), 200);
    }

    set(&server, &admin, "SHARED_LINKS", "SHARE_PUBLIC", false).await;
    for path in [&page, &config] {
        assert_eq!(
            server.get_as(path, &carol.token).await.status(),
            403,
            "{path}"
        );
        let anonymous = server.get(path).await;
        assert_eq!(anonymous.status(), 401, "{path}");
        assert_eq!(
            anonymous.json::<Value>().await.unwrap(),
            json!({"message": "Authentication required"})
        );
        assert_eq!(
            server.get_as(path, &user.token).await.status(),
            200,
            "the owner: {path}"
        );
    }

    set(&server, &admin, "SHARED_LINKS", "SHARE_PUBLIC", true).await;
    for path in [&page, &config] {
        assert_eq!(server.get_as(path, &carol.token).await.status(), 200);
    }
    server.stop().await;
}
