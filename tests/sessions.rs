//! Ending a session ends its access tokens too, not only its refresh token: after a logout, a
//! password reset or a password change, an access token of an ended session (stolen, or left
//! in a tab) is refused at once instead of working until it expires.

mod support;

use librechat::auth::tokens::token_hash;
use librechat::db::{self, tokens};
use serde_json::{Value, json};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const NEW_PW: &str = "a brand new passphrase";

async fn logout(server: &TestServer, bearer: Option<&str>, cookie: Option<&str>) -> u16 {
    let mut req = server.client.post(server.url("/api/auth/logout"));
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    if let Some(refresh) = cookie {
        req = req.header("cookie", format!("refreshToken={refresh}"));
    }
    req.send().await.unwrap().status().as_u16()
}

async fn status_of(server: &TestServer, s: &Session) -> (u16, u16) {
    (
        server.get_as("/api/user", &s.token).await.status().as_u16(),
        server.refresh(&s.refresh).await.status().as_u16(),
    )
}

#[tokio::test]
async fn logout_ends_the_sessions_access_tokens() {
    let server = TestServer::start().await;
    let phone = server.signed_in("alice@example.org", PW).await;
    let laptop = server.login("alice@example.org", PW).await;
    let tablet = server.login("alice@example.org", PW).await;

    // The web apps log out with the refresh cookie: an access token copied from that session
    // must stop working with it, not 15 minutes later.
    assert_eq!(logout(&server, None, Some(&phone.refresh)).await, 200);
    let resp = server.get_as("/api/user", &phone.token).await;
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "Unauthorized");
    assert_eq!(
        server.get_as("/api/convos", &phone.token).await.status(),
        401
    );

    // A client holding only the access token can sign its session out too.
    assert_eq!(logout(&server, Some(&laptop.token), None).await, 200);
    assert_eq!(status_of(&server, &laptop).await, (401, 401));

    // The other session is untouched.
    assert_eq!(
        server.get_as("/api/user", &tablet.token).await.status(),
        200
    );
    assert_eq!(server.count("sessions").await, 1);
    server.stop().await;
}

#[tokio::test]
async fn a_password_reset_ends_every_sessions_access_tokens() {
    let server = TestServer::builder()
        .env("ALLOW_PASSWORD_RESET", "true")
        .start()
        .await;
    let one = server.signed_in("alice@example.org", PW).await;
    let two = server.login("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    // A reset link as the mail would carry it (the mail itself is tested in tests/email.rs).
    let id = one.user["id"].as_str().unwrap().to_owned();
    let owner = id.clone();
    server
        .state
        .db
        .write(move |c| {
            let expires =
                db::to_rfc3339(time::OffsetDateTime::now_utc() + time::Duration::hours(1));
            tokens::create(
                c,
                "reset",
                Some(&owner),
                "alice@example.org",
                &token_hash("the-emailed-token"),
                &expires,
            )
        })
        .await
        .unwrap();
    let resp = server
        .post_json(
            "/api/auth/resetPassword",
            json!({"userId": id, "token": "the-emailed-token", "password": NEW_PW, "confirm_password": NEW_PW}),
        )
        .await;
    assert_eq!(resp.status(), 200);

    // Whoever held an access token (the owner, or whoever made the reset necessary) is out.
    assert_eq!(status_of(&server, &one).await, (401, 401));
    assert_eq!(status_of(&server, &two).await, (401, 401));
    assert_eq!(server.get_as("/api/user", &bob.token).await.status(), 200);
    server.login("alice@example.org", NEW_PW).await;
    server.stop().await;
}

async fn change_password(server: &TestServer, s: &Session, body: Value) -> reqwest::Response {
    server
        .send("POST", "/api/user/password", &s.token, body)
        .await
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let server = TestServer::builder().env("LOGIN_MAX", "50").start().await;
    let here = server.signed_in("alice@example.org", PW).await;
    let there = server.login("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;

    // A stolen access token alone cannot change the password.
    for (body, status, kind) in [
        (
            json!({"password": NEW_PW, "confirm_password": NEW_PW}),
            400,
            Some("reauth_password"),
        ),
        (
            json!({"currentPassword": "a wrong guess", "password": NEW_PW, "confirm_password": NEW_PW}),
            403,
            None,
        ),
    ] {
        let resp = change_password(&server, &there, body).await;
        assert_eq!(resp.status(), status);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["type"].as_str(), kind, "{body}");
    }
    let resp = change_password(
        &server,
        &here,
        json!({"currentPassword": PW, "password": NEW_PW, "confirm_password": "different"}),
    )
    .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(status_of(&server, &there).await.0, 200, "nothing changed");

    let resp = change_password(
        &server,
        &here,
        json!({"currentPassword": PW, "password": NEW_PW, "confirm_password": NEW_PW}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["sessionsEnded"], 1);

    // The other session is over, access token included; this one goes on.
    assert_eq!(status_of(&server, &there).await, (401, 401));
    assert_eq!(status_of(&server, &here).await, (200, 200));
    assert_eq!(server.get_as("/api/user", &bob.token).await.status(), 200);
    let old = server
        .post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": PW}),
        )
        .await;
    assert_eq!(old.status(), 401);
    server.login("alice@example.org", NEW_PW).await;
    server.stop().await;
}

#[tokio::test]
async fn accounts_without_a_password_here_cannot_set_one_this_way() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let id = s.user["id"].as_str().unwrap().to_owned();
    // As an account created by single sign-on is stored: no password.
    server
        .state
        .db
        .write(move |c| {
            c.execute(
                "UPDATE users SET password = NULL, provider = 'openid' WHERE id = ?1",
                [&id],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let resp = change_password(
        &server,
        &s,
        json!({"currentPassword": "", "password": NEW_PW, "confirm_password": NEW_PW}),
    )
    .await;
    assert_eq!(resp.status(), 403);
    let resp = server
        .post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": NEW_PW}),
        )
        .await;
    assert_eq!(resp.status(), 401);
    server.stop().await;
}
