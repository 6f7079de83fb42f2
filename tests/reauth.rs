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

/// An access token from a refresh is no fresher proof than the sign-in it continues:
/// `REAUTH_WINDOW` counts from the sign-in, so a thief holding the refresh cookie cannot make
/// a day-old session "recent" by refreshing it.
#[tokio::test]
async fn a_refresh_does_not_make_the_session_recent() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    age_sessions(&server).await;
    let resp = server.refresh(&s.refresh).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let fresh = Session {
        token: body["token"].as_str().unwrap().to_owned(),
        refresh: String::new(),
        user: body["user"].clone(),
    };
    let del = bare(&server, "DELETE", "/api/user/delete", &fresh).await;
    refused_with(del, 400, Some("reauth_password")).await;
    let enrol = bare(&server, "POST", "/api/auth/2fa/enable", &fresh).await;
    refused_with(enrol, 400, Some("reauth_password")).await;
    assert!(account_exists(&server).await);
    server.stop().await;
}

async fn change_password(server: &TestServer, s: &Session, body: Value) -> reqwest::Response {
    server
        .send("POST", "/api/user/password", &s.token, body)
        .await
}

/// Whether `password` signs alice in (without counting against anything that matters here).
async fn signs_in_with(server: &TestServer, password: &str) -> bool {
    let resp = server
        .post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": password}),
        )
        .await;
    resp.status() == 200
}

#[tokio::test]
async fn with_two_factor_on_changing_the_password_needs_a_code_too() {
    const NEW_PW: &str = "a brand new horse battery";
    let server = TestServer::builder().env("LOGIN_MAX", "50").start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let (_, backup) = two_factor_on(&server, &s).await;

    // The attack: a stolen token and a phished password, but no authenticator.
    let change = json!({"currentPassword": PW, "password": NEW_PW, "confirm_password": NEW_PW});
    let resp = change_password(&server, &s, change.clone()).await;
    refused_with(resp, 400, Some("reauth_code")).await;
    let mut guessed = change.clone();
    guessed["backupCode"] = json!("deadbeef");
    let resp = change_password(&server, &s, guessed).await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    assert!(
        signs_in_with(&server, PW).await,
        "the password is unchanged"
    );

    // A code with a wrong password uses no backup code up.
    let mut wrong = change.clone();
    wrong["currentPassword"] = json!("a wrong guess");
    wrong["backupCode"] = json!(backup[0]);
    let resp = change_password(&server, &s, wrong).await;
    refused_with(resp, 403, None).await;

    // The owner, with both.
    let mut owner = change;
    owner["backupCode"] = json!(backup[0]);
    let resp = change_password(&server, &s, owner.clone()).await;
    assert_eq!(resp.status(), 200);
    assert!(signs_in_with(&server, NEW_PW).await);
    // Each backup code works once.
    owner["currentPassword"] = json!(NEW_PW);
    owner["password"] = json!(PW);
    owner["confirm_password"] = json!(PW);
    let resp = change_password(&server, &s, owner).await;
    assert_eq!(resp.status(), 400);
    server.stop().await;
}

/// Only a wrong current password or code is a guess: mistakes in the new password (too short,
/// typed differently twice) are refused without counting, however many there are.
#[tokio::test]
async fn mistakes_in_the_new_password_are_not_counted_as_guesses() {
    const NEW_PW: &str = "a brand new horse battery";
    // LOGIN_MAX is left at its default (7).
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    for _ in 0..5 {
        for (new, again) in [(NEW_PW, "typed differently"), ("short", "short")] {
            let resp = change_password(
                &server,
                &s,
                json!({"currentPassword": PW, "password": new, "confirm_password": again}),
            )
            .await;
            assert_eq!(resp.status(), 400, "{new} / {again}");
        }
    }
    let resp = change_password(
        &server,
        &s,
        json!({"currentPassword": PW, "password": NEW_PW, "confirm_password": NEW_PW}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    server.stop().await;
}

/// Guessing the password through the sensitive routes is limited as at login: after
/// `LOGIN_MAX` wrong passwords, even the right one is refused until the window ends.
#[tokio::test]
async fn guessing_the_password_through_a_sensitive_change_is_limited() {
    let server = TestServer::builder().env("LOGIN_MAX", "3").start().await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    age_sessions(&server).await;
    const NEW: &str = "a brand new horse battery";
    let deletion = |pw: &str| json!({"password": pw});
    let change =
        |pw: &str| json!({"currentPassword": pw, "password": NEW, "confirm_password": NEW});
    // A route's request body, given the password tried.
    type Body<'a> = &'a dyn Fn(&str) -> Value;
    let attempts: [(&Session, &str, &str, Body); 2] = [
        (&alice, "DELETE", "/api/user/delete", &deletion),
        (&bob, "POST", "/api/user/password", &change),
    ];
    for (s, method, path, body) in attempts {
        for i in 0..3 {
            let resp = server
                .send(method, path, &s.token, body(&format!("guess {i}")))
                .await;
            assert_eq!(resp.status(), 403, "{path}: guess {i}");
        }
        let resp = server.send(method, path, &s.token, body(PW)).await;
        assert_eq!(resp.status(), 429, "{path}: the right password, too late");
    }
    assert_eq!(server.state.db.read(users::count).await.unwrap(), 2);
    assert_eq!(
        server
            .post_json(
                "/api/auth/login",
                json!({"email": "bob@example.org", "password": NEW})
            )
            .await
            .status(),
        401,
        "bob's password is unchanged"
    );
    server.stop().await;
}
