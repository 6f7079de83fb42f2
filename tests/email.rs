//! Mail flows against a real SMTP server (aiosmtpd): verify an address, reset a password,
//! invite; each link read from the delivered message and followed.

mod support;

use serde_json::{Value, json};
use support::smtp::{SmtpSink, link, query_param};
use support::{TestServer, librechat, run, text};

const PW: &str = "correct horse battery";

fn mail_env(builder: support::Builder, sink: &SmtpSink) -> support::Builder {
    builder
        .env("EMAIL_HOST", "127.0.0.1")
        .env("EMAIL_PORT", &sink.port.to_string())
        .env("EMAIL_FROM", "chat@example.org")
        .env("EMAIL_FROM_NAME", "Team Chat")
        .env("DOMAIN_CLIENT", "http://chat.example.org")
}

#[tokio::test]
async fn verification_link_from_the_mailbox_verifies_the_address() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let server = mail_env(TestServer::builder(), &sink)
        .env("ALLOW_UNVERIFIED_EMAIL_LOGIN", "false")
        .env("LOGIN_MAX", "100")
        .env("VERIFY_EMAIL_MAX", "20")
        .env("VERIFY_EMAIL_SUBMISSION_MAX", "20")
        .start()
        .await;
    let config: Value = server.get("/api/config").await.json().await.unwrap();
    assert_eq!(config["emailEnabled"], true);

    let resp = server
        .post_json("/api/auth/register", json!({"name": "Alice", "email": "alice@example.org", "password": PW, "confirm_password": PW}))
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("check your email"));
    let login = || {
        server.post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": PW}),
        )
    };
    assert_eq!(login().await.status(), 403, "not verified yet");

    let mail = sink.message_to("alice@example.org", 1).await;
    assert!(
        mail.contains("Subject: Verify your email for LibreChat"),
        "{mail}"
    );
    let url = link(&mail, "http://chat.example.org/verify?");
    let (token, email) = (query_param(&url, "token"), query_param(&url, "email"));
    assert_eq!(email, "alice@example.org");

    let verify = |email: &str, token: &str| {
        server.post_json("/api/user/verify", json!({"email": email, "token": token}))
    };
    assert_eq!(
        verify("bob@example.org", &token).await.status(),
        400,
        "a token is bound to its address"
    );
    assert_eq!(verify(&email, "0000").await.status(), 400);
    assert_eq!(verify(&email, &token).await.status(), 200);
    assert_eq!(verify(&email, &token).await.status(), 400, "single use");
    assert_eq!(login().await.status(), 200);

    // Resending answers the same for unknown and verified addresses.
    for who in ["alice@example.org", "nobody@example.org"] {
        let resp = server
            .post_json("/api/user/verify/resend", json!({"email": who}))
            .await;
        assert_eq!(resp.status(), 200, "{who}");
    }
    server.stop().await;
}

#[tokio::test]
async fn password_reset_by_mail_changes_the_password_once_and_ends_sessions() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let server = mail_env(TestServer::builder(), &sink)
        .env("ALLOW_PASSWORD_RESET", "true")
        .env("LOGIN_MAX", "100")
        .env("RESET_PASSWORD_MAX", "20")
        .env("RESET_PASSWORD_SUBMISSION_MAX", "20")
        .start()
        .await;
    let session = server.signed_in("alice@example.org", PW).await;

    // A forged Host header must not steer the link: links come from DOMAIN_CLIENT only.
    let request = |email: &str| {
        server
            .client
            .post(server.url("/api/auth/requestPasswordReset"))
            .header("host", "attacker.example")
            .json(&json!({"email": email}))
            .send()
    };
    let known: Value = request("alice@example.org")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unknown: Value = request("nobody@example.org")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(known, unknown, "no hint whether the account exists");
    assert_eq!(request("not-an-email").await.unwrap().status(), 400);

    // The verification mail was the first; the reset link is in the second.
    let mail = sink.message_to("alice@example.org", 2).await;
    assert!(mail.contains("Reset your LibreChat password"), "{mail}");
    let url = link(&mail, "http://chat.example.org/reset-password?");
    let (token, user_id) = (query_param(&url, "token"), query_param(&url, "userId"));
    assert_eq!(user_id, session.user["id"].as_str().unwrap());

    let reset = |token: &str, password: &str, confirm: &str| {
        server.post_json(
            "/api/auth/resetPassword",
            json!({"userId": user_id, "token": token, "password": password, "confirm_password": confirm}),
        )
    };
    assert_eq!(
        reset("wrong-token", "a new passphrase", "a new passphrase")
            .await
            .status(),
        400
    );
    assert_eq!(reset(&token, "short", "short").await.status(), 400);
    assert_eq!(
        reset(&token, "a new passphrase", "another one!!")
            .await
            .status(),
        400
    );
    // Bad attempts did not use the link up.
    assert_eq!(
        reset(&token, "a new passphrase", "a new passphrase")
            .await
            .status(),
        200
    );
    assert_eq!(
        reset(&token, "yet another passphrase", "yet another passphrase")
            .await
            .status(),
        400,
        "single use"
    );

    assert_eq!(
        server.refresh(&session.refresh).await.status(),
        401,
        "sessions ended"
    );
    let old = server
        .post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": PW}),
        )
        .await;
    assert_eq!(old.status(), 401);
    server.login("alice@example.org", "a new passphrase").await;
    let confirmation = sink.message_to("alice@example.org", 3).await;
    assert!(
        confirmation.contains("password was changed"),
        "{confirmation}"
    );

    // An expired link is refused.
    let id = user_id.clone();
    let hash = librechat::auth::tokens::token_hash("expired-token");
    server
        .state
        .db
        .write(move |c| {
            librechat::db::tokens::create(
                c,
                "reset",
                Some(&id),
                "alice@example.org",
                &hash,
                "2000-01-01T00:00:00.000Z",
            )
        })
        .await
        .unwrap();
    assert_eq!(
        reset("expired-token", "a third passphrase", "a third passphrase")
            .await
            .status(),
        400
    );
    server.stop().await;
}

#[tokio::test]
async fn password_reset_is_off_unless_allowed() {
    let server = TestServer::start().await;
    let resp = server
        .post_json(
            "/api/auth/requestPasswordReset",
            json!({"email": "a@example.org"}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    let resp = server
        .post_json(
            "/api/auth/resetPassword",
            json!({"userId": "x", "token": "y", "password": PW, "confirm_password": PW}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    server.stop().await;
}

#[tokio::test]
async fn the_invite_command_mails_a_link_that_registers() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let server = mail_env(TestServer::builder(), &sink)
        .env("ALLOW_REGISTRATION", "false")
        .start()
        .await;
    let dir = server.dir.path().to_path_buf();
    let out = run(librechat(&dir)
        .args(["user", "invite", "carol@example.org"])
        .env("LIBRECHAT_DATA_DIR", dir.join("data"))
        .env("CONFIG_PATH", dir.join("librechat.yaml"))
        .env("EMAIL_HOST", "127.0.0.1")
        .env("EMAIL_PORT", sink.port.to_string())
        .env("EMAIL_FROM", "chat@example.org")
        .env("DOMAIN_CLIENT", "http://chat.example.org"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mail = sink.message_to("carol@example.org", 1).await;
    assert!(mail.contains("invited"), "{mail}");
    let url = link(&mail, "http://chat.example.org/register?");
    let token = query_param(&url, "token");
    let resp = server
        .post_json("/api/auth/register", json!({"name": "Carol", "email": "carol@example.org", "password": PW, "confirm_password": PW, "token": token}))
        .await;
    assert_eq!(resp.status(), 200);
    server.stop().await;
}
