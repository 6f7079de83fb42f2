//! Work an anonymous or hostile client must not be able to make the server do: hashing a
//! password for a guessed reset link, rendering without bound, rendering a shared page again
//! for every visitor.

mod support;

use serde_json::{Value, json};
use support::TestServer;

const PW: &str = "correct horse battery";

/// Stores a live reset link for `user_id` and returns its token, as the reset mail would.
async fn reset_link(server: &TestServer, user_id: &str, email: &str) -> String {
    let token = "a-real-reset-token-from-the-mailbox".to_owned();
    let hash = librechat::auth::tokens::token_hash(&token);
    let (id, email) = (user_id.to_owned(), email.to_owned());
    server
        .state
        .db
        .write(move |c| {
            librechat::db::tokens::create(
                c,
                "reset",
                Some(&id),
                &email,
                &hash,
                "2999-01-01T00:00:00.000Z",
            )
        })
        .await
        .unwrap();
    token
}

#[tokio::test]
async fn a_reset_with_a_wrong_link_is_refused_before_the_password_is_looked_at() {
    let server = TestServer::builder()
        .env("ALLOW_PASSWORD_RESET", "true")
        .env("RESET_PASSWORD_SUBMISSION_MAX", "100")
        .start()
        .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let user_id = alice.user["id"].as_str().unwrap().to_owned();
    let reset = |token: &str, password: &str, confirm: &str| {
        server.post_json(
            "/api/auth/resetPassword",
            json!({"userId": user_id, "token": token, "password": password, "confirm_password": confirm}),
        )
    };
    let message = |resp: reqwest::Response| async move {
        assert_eq!(resp.status(), 400);
        resp.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // A guessed link with a password that would be hashed, one too short and two that do not
    // match: each is answered by the link check, which comes first, so no guess ever gets as
    // far as the password (and its ~50 ms, 19 MiB hash).
    for (password, confirm) in [
        ("a long enough passphrase", "a long enough passphrase"),
        ("short", "short"),
        ("a long enough passphrase", "a different passphrase"),
    ] {
        let why = message(reset("guessed-token", password, confirm).await).await;
        assert_eq!(why, "Invalid or expired password reset link.", "{password}");
    }
    // With the real link the password is checked, and a refused one does not use the link up.
    let token = reset_link(&server, &user_id, "alice@example.org").await;
    let why = message(reset(&token, "short", "short").await).await;
    assert!(why.contains("8"), "the password's own error: {why}");
    let why = message(reset(&token, "a new passphrase", "another one!!").await).await;
    assert!(why.contains("match"), "{why}");
    let done = reset(&token, "a new passphrase", "a new passphrase").await;
    assert_eq!(done.status(), 200);
    server.login("alice@example.org", "a new passphrase").await;
    let why = message(reset(&token, "a third passphrase", "a third passphrase").await).await;
    assert_eq!(why, "Invalid or expired password reset link.", "single use");
}

#[tokio::test]
async fn rendering_is_limited_per_account() {
    let server = TestServer::builder()
        .env("RENDER_USER_MAX", "3")
        .start()
        .await;
    let (alice, bob) = server.two_users(PW).await;
    let render = |token: String| {
        let server = &server;
        async move {
            server
                .send(
                    "POST",
                    "/api/render",
                    &token,
                    json!({"texts": ["**a**", "b"]}),
                )
                .await
        }
    };
    for _ in 0..3 {
        assert_eq!(render(alice.token.clone()).await.status(), 200);
    }
    let refused = render(alice.token.clone()).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    // Per account: someone else still renders, and nobody was banned for it (score 0).
    assert_eq!(render(bob.token.clone()).await.status(), 200);
    assert_eq!(
        server
            .get_as("/api/convos?limit=1", &alice.token)
            .await
            .status(),
        200
    );
    // The size of one request stays bounded as before.
    let big = "x".repeat(600 * 1024);
    let resp = server
        .send("POST", "/api/render", &bob.token, json!({"text": big}))
        .await;
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn a_shared_page_is_rendered_once_however_many_visit() {
    let server = TestServer::builder()
        .env("ALLOW_SHARED_LINKS_PUBLIC", "true")
        .start()
        .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    server
        .send(
            "POST",
            "/api/convos/update",
            &alice.token,
            json!({"arg": {"conversationId": "c-1", "title": "Shared"}}),
        )
        .await;
    for (id, parent, text) in [
        ("q", "00000000-0000-0000-0000-000000000000", "question"),
        ("a", "q", "**the first answer**"),
    ] {
        let resp = server
            .send(
                "POST",
                "/api/messages/c-1",
                &alice.token,
                json!({"messageId": id, "parentMessageId": parent, "text": text, "isCreatedByUser": id == "q"}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    let share: Value = server
        .send("POST", "/api/share/c-1", &alice.token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let share_id = share["shareId"].as_str().unwrap().to_owned();
    let view = || async {
        let resp = server.get(&format!("/api/share/{share_id}")).await;
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap_or(Value::Null))
    };
    let (status, first) = view().await;
    assert_eq!(status, 200, "{first}");
    assert!(
        first["messages"][1]["html"]
            .as_str()
            .unwrap()
            .contains("<strong>the first answer</strong>")
    );
    // What the page is made from changes behind the link's back (same version): visitors are
    // still served the page made the first time, so they cost no new render.
    let set_answer = |text: &'static str, touch: bool| {
        let id = share_id.clone();
        server.state.db.write(move |c| {
            let snapshot: String = c.query_row(
                "SELECT snapshot FROM shared_links WHERE share_id = ?1",
                [&id],
                |r| r.get(0),
            )?;
            let mut snapshot: serde_json::Value = serde_json::from_str(&snapshot).unwrap();
            snapshot["messages"][1]["text"] = text.into();
            c.execute(
                "UPDATE shared_links SET snapshot = ?2,
                     updated_at = CASE WHEN ?3 THEN '2999-01-01T00:00:00.000Z' ELSE updated_at END
                 WHERE share_id = ?1",
                rusqlite::params![id, snapshot.to_string(), touch],
            )?;
            Ok(())
        })
    };
    set_answer("**a second answer**", false).await.unwrap();
    for _ in 0..20 {
        assert_eq!(view().await, (200, first.clone()));
    }
    // A new version of the link (as updating it makes) is rendered again.
    set_answer("**a second answer**", true).await.unwrap();
    let (_, second) = view().await;
    assert!(
        second["messages"][1]["html"]
            .as_str()
            .unwrap()
            .contains("<strong>a second answer</strong>"),
        "{second}"
    );
    // Deleting the conversation ends the page at once, cached or not.
    let resp = server
        .send(
            "DELETE",
            "/api/convos",
            &alice.token,
            json!({"arg": {"conversationId": "c-1"}}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(view().await.0, 404);
}

#[tokio::test]
async fn text_that_would_take_minutes_or_the_process_is_shown_plain() {
    let server = TestServer::builder()
        .env("ALLOW_SHARED_LINKS_PUBLIC", "true")
        .start()
        .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let render = |text: String| {
        let (server, token) = (&server, alice.token.clone());
        async move {
            let resp = server
                .send("POST", "/api/render", &token, json!({"text": text}))
                .await;
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()["html"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    // A chain of 5,000 square roots overflowed the TeX renderer's stack: the process ended.
    let roots = format!("$${} x$$", "\\sqrt".repeat(5_000));
    // 200,000 nested quotes: the sanitizer's parser needed minutes of a core.
    let quotes = format!("{} deep", ">".repeat(200_000));
    for (text, shown) in [(&roots, "\\sqrt\\sqrt"), (&quotes, "&gt;&gt;&gt;")] {
        let html = render(text.clone()).await;
        assert!(
            html.starts_with("<p>") && html.contains(shown),
            "{html:.200}"
        );
        assert!(!html.contains("<math") && !html.contains("<blockquote"));
    }
    // What people write still renders.
    let html = render("> > quoted twice\n\n$$\\sqrt{\\frac{a}{b}}$$".into()).await;
    assert!(html.matches("<blockquote>").count() == 2, "{html}");
    assert!(html.contains("<math"), "{html}");

    // The shared page of an answer holding the same text stays up too.
    server
        .send(
            "POST",
            "/api/convos/update",
            &alice.token,
            json!({"arg": {"conversationId": "c-2", "title": "Roots"}}),
        )
        .await;
    for (id, parent, text) in [
        ("q", "00000000-0000-0000-0000-000000000000", "go"),
        ("a", "q", roots.as_str()),
    ] {
        let resp = server
            .send(
                "POST",
                "/api/messages/c-2",
                &alice.token,
                json!({"messageId": id, "parentMessageId": parent, "text": text, "isCreatedByUser": id == "q"}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    let share: Value = server
        .send("POST", "/api/share/c-2", &alice.token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let resp = server
        .get(&format!(
            "/api/share/{}",
            share["shareId"].as_str().unwrap()
        ))
        .await;
    assert_eq!(resp.status(), 200);
    let page: Value = resp.json().await.unwrap();
    assert!(
        page["messages"][1]["html"]
            .as_str()
            .unwrap()
            .starts_with("<p>$$\\sqrt")
    );
}
