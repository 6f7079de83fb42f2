//! Sensitive changes need recent proof of identity: a stolen access token (an XSS, a borrowed
//! unlocked laptop) from a session signed in long ago can neither delete the account nor tie
//! it to the thief's authenticator. LibreChat's client, which sends no proof for these when 2FA
//! is off, keeps working right after a sign-in (`REAUTH_WINDOW`).

mod support;

use librechat::auth::tokens::now_secs;
use librechat::auth::two_factor::current_code;
use librechat::db::users;
use serde_json::{Value, json};
use support::{Session, TestServer};

const PW: &str = "correct horse battery";

/// Moves every session's sign-in `minutes` into the past; a day, as for a token stolen from a
/// long-running session, unless said otherwise.
async fn age_sessions_by(server: &TestServer, minutes: i64) {
    let at = librechat::db::to_rfc3339(
        time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes),
    );
    server
        .state
        .db
        .write(move |c| {
            c.execute("UPDATE sessions SET created_at = ?1", [&at])?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn age_sessions(server: &TestServer) {
    age_sessions_by(server, 24 * 60).await;
}

/// A request without any body, as LibreChat's client sends these.
async fn bare(server: &TestServer, method: &str, path: &str, s: &Session) -> reqwest::Response {
    server
        .client
        .request(method.parse().unwrap(), server.url(path))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap()
}

async fn refused_with(resp: reqwest::Response, status: u16, kind: Option<&str>) {
    assert_eq!(resp.status(), status);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["type"].as_str(), kind, "{body}");
}

async fn account_exists(server: &TestServer) -> bool {
    server.state.db.read(users::count).await.unwrap() == 1
}

#[tokio::test]
async fn deleting_the_account_needs_recent_proof() {
    let server = TestServer::builder().env("LOGIN_MAX", "50").start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    age_sessions(&server).await;

    // The attack: a token from a session signed in a day ago, and no password.
    let del = bare(&server, "DELETE", "/api/user/delete", &s).await;
    refused_with(del, 400, Some("reauth_password")).await;
    let del = server
        .send(
            "DELETE",
            "/api/user/delete",
            &s.token,
            json!({"password": "a guess"}),
        )
        .await;
    refused_with(del, 403, None).await;
    assert!(account_exists(&server).await, "nothing was deleted");

    // The owner, with the password.
    let del = server
        .send(
            "DELETE",
            "/api/user/delete",
            &s.token,
            json!({"password": PW}),
        )
        .await;
    assert_eq!(del.status(), 200);
    assert!(!account_exists(&server).await);
    server.stop().await;
}

#[tokio::test]
async fn right_after_signing_in_librechats_client_needs_no_password() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let enrol = bare(&server, "POST", "/api/auth/2fa/enable", &s).await;
    assert_eq!(enrol.status(), 200);
    let del = bare(&server, "DELETE", "/api/user/delete", &s).await;
    assert_eq!(del.status(), 200);
    server.stop().await;

    // Five minutes after signing in: inside the default window, outside a one-minute one
    // (and 0 means one minute, so that single sign-on accounts keep a way to prove it).
    for (window, expected) in [(None, 200), (Some("1"), 400), (Some("0"), 400)] {
        let mut builder = TestServer::builder();
        if let Some(w) = window {
            builder = builder.env("REAUTH_WINDOW", w);
        }
        let server = builder.start().await;
        let s = server.signed_in("alice@example.org", PW).await;
        age_sessions_by(&server, 5).await;
        let enrol = bare(&server, "POST", "/api/auth/2fa/enable", &s).await;
        assert_eq!(enrol.status(), expected, "REAUTH_WINDOW={window:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn starting_two_factor_enrolment_needs_recent_proof() {
    let server = TestServer::builder().env("LOGIN_MAX", "50").start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    age_sessions(&server).await;

    // The attack: enrol the thief's authenticator, locking the owner out at the next login.
    let resp = bare(&server, "POST", "/api/auth/2fa/enable", &s).await;
    refused_with(resp, 400, Some("reauth_password")).await;
    let resp = server
        .send("GET", "/api/auth/2fa/enable", &s.token, json!({}))
        .await;
    refused_with(resp, 400, Some("reauth_password")).await;
    let resp = server
        .send(
            "POST",
            "/api/auth/2fa/enable",
            &s.token,
            json!({"password": "a guess"}),
        )
        .await;
    refused_with(resp, 403, None).await;
    let id = s.user["id"].as_str().unwrap().to_owned();
    let user = server
        .state
        .db
        .read(move |c| users::find_by_id(c, &id))
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.pending_totp_secret.is_none(),
        "no secret was handed out"
    );

    let resp = server
        .send(
            "POST",
            "/api/auth/2fa/enable",
            &s.token,
            json!({"password": PW}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    server.stop().await;
}

/// Enrols alice's authenticator; returns its secret and the backup codes.
async fn two_factor_on(server: &TestServer, s: &Session) -> (String, Vec<String>) {
    let enrol: Value = bare(server, "POST", "/api/auth/2fa/enable", s)
        .await
        .json()
        .await
        .unwrap();
    let url = enrol["otpauthUrl"].as_str().unwrap();
    let secret = url
        .split_once("secret=")
        .unwrap()
        .1
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let code = current_code(&secret, now_secs()).unwrap();
    let resp = server
        .send(
            "POST",
            "/api/auth/2fa/confirm",
            &s.token,
            json!({"token": code}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let codes = enrol["backupCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

#[tokio::test]
async fn with_two_factor_on_only_a_code_will_do() {
    let server = TestServer::builder().env("LOGIN_MAX", "50").start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (secret, backup) = two_factor_on(&server, &s).await;
    let now = now_secs();
    let valid: Vec<String> = [now - 30, now, now + 30]
        .iter()
        .map(|t| current_code(&secret, *t).unwrap())
        .collect();
    let wrong = ["000000", "111111", "222222", "333333"]
        .into_iter()
        .find(|c| !valid.iter().any(|v| v == c))
        .unwrap();

    // As in LibreChat: even right after signing in, and even with the password.
    let del = bare(&server, "DELETE", "/api/user/delete", &s).await;
    refused_with(del, 400, Some("reauth_code")).await;
    let del = server
        .send(
            "DELETE",
            "/api/user/delete",
            &s.token,
            json!({"password": PW}),
        )
        .await;
    refused_with(del, 400, Some("reauth_code")).await;
    let del = server
        .send(
            "DELETE",
            "/api/user/delete",
            &s.token,
            json!({"token": wrong}),
        )
        .await;
    assert_eq!(del.status(), 400);
    assert!(account_exists(&server).await);
    // Turning 2FA off or replacing the backup codes takes a code as well.
    for path in ["/api/auth/2fa/disable", "/api/auth/2fa/backup/regenerate"] {
        let resp = server
            .send("POST", path, &s.token, json!({"password": PW}))
            .await;
        assert_eq!(resp.status(), 400, "{path}");
    }

    // LibreChat's client sends a backup code like this.
    let del = server
        .send(
            "DELETE",
            "/api/user/delete",
            &s.token,
            json!({"backupCode": backup[0]}),
        )
        .await;
    assert_eq!(del.status(), 200);
    assert!(!account_exists(&server).await);
    server.stop().await;
}
