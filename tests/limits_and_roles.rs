//! Rate limits, violations and bans (roles: tests/roles.rs).

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::TestServer;

const PW: &str = "correct horse battery";

#[tokio::test]
async fn login_limiter_answers_429_with_retry_after() {
    let server = TestServer::builder()
        .env("LOGIN_MAX", "2")
        .env("LOGIN_WINDOW", "5")
        .start()
        .await;
    let attempt = || {
        server.post_json(
            "/api/auth/login",
            json!({"email": "x@example.org", "password": "nope-nope"}),
        )
    };
    assert_eq!(attempt().await.status(), 401);
    assert_eq!(attempt().await.status(), 401);
    let limited = attempt().await;
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry));
    let body: Value = limited.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Too many login attempts")
    );
    server.stop().await;
}

#[tokio::test]
async fn repeated_violations_ban_the_address_and_the_ban_survives_a_restart() {
    let server = TestServer::builder()
        .env("LOGIN_MAX", "1")
        .env("BAN_INTERVAL", "2")
        .env("REGISTER_MAX", "10")
        .start()
        .await;
    server.register("alice@example.org", PW).await;
    let login = || {
        server.post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": PW}),
        )
    };
    assert_eq!(login().await.status(), 200);
    assert_eq!(login().await.status(), 429, "violation 1");
    assert_eq!(
        login().await.status(),
        429,
        "violation 2 crosses the interval: ban"
    );
    let banned = login().await;
    assert_eq!(banned.status(), 403);
    let body: Value = banned.json().await.unwrap();
    assert_eq!(body["type"], "ban");
    let until = body["expiresAt"].as_str().unwrap().to_owned();
    assert!(until > librechat::db::now());
    // Other routes that check bans refuse too.
    let reg = server
        .post_json("/api/auth/register", json!({"name": "Bob", "email": "b@example.org", "password": PW, "confirm_password": PW}))
        .await;
    assert_eq!(reg.status(), 403);

    let dir = server.stop().await;
    let again = TestServer::builder().in_dir(dir).start().await;
    let resp = again
        .post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": PW}),
        )
        .await;
    assert_eq!(resp.status(), 403, "the ban outlives the restart");
    again.stop().await;
}

#[tokio::test]
async fn a_ban_ends_the_users_sessions_and_blocks_their_token() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let id = s.user["id"].as_str().unwrap().to_owned();
    server
        .state
        .guard
        .ban("manual", 0, Some(&id), None, Duration::from_secs(3600))
        .await
        .unwrap();
    let resp = server.get_as("/api/user", &s.token).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.json::<Value>().await.unwrap()["type"], "ban");
    assert_eq!(
        server.refresh(&s.refresh).await.status(),
        403,
        "refused while banned"
    );
    // The banned account is refused before its password is looked at, and gets no session.
    for pw in [PW, "wrong password!"] {
        let resp = server
            .post_json(
                "/api/auth/login",
                json!({"email": "alice@example.org", "password": pw}),
            )
            .await;
        assert_eq!(resp.status(), 403, "{pw}");
    }
    let sessions = server.count("sessions").await;
    assert_eq!(sessions, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_refresh_refused_by_a_ban_keeps_the_session() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    // A ban written as `librechat user ban` on another machine would be, sessions untouched
    // (an address ban no longer refuses a signed-in account: see tests/proxy_and_bans.rs).
    let subject = format!("user:{}", s.user["id"].as_str().unwrap());
    let ban = librechat::db::bans::Ban {
        subject: subject.clone(),
        kind: "manual".into(),
        violation_count: 0,
        expires_at: librechat::db::to_rfc3339(
            time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        ),
    };
    server
        .state
        .db
        .write(move |c| librechat::db::bans::upsert(c, &ban))
        .await
        .unwrap();
    server.state.guard.forget(&subject).await.unwrap();
    assert_eq!(server.refresh(&s.refresh).await.status(), 403);
    let lifted = subject.clone();
    server
        .state
        .db
        .write(move |c| librechat::db::bans::delete(c, &lifted))
        .await
        .unwrap();
    server.state.guard.forget(&subject).await.unwrap();
    assert_eq!(
        server.refresh(&s.refresh).await.status(),
        200,
        "the same cookie works again"
    );
    server.stop().await;
}

#[tokio::test]
async fn limits_count_the_real_client_behind_a_trusted_proxy_only() {
    let attempt = |server: &TestServer, forwarded: &str| {
        server
            .client
            .post(server.url("/api/auth/login"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"email": "x@example.org", "password": "nope-nope"}))
            .send()
    };
    // Behind one trusted proxy, each client has its own budget.
    let proxied = TestServer::builder()
        .env("TRUST_PROXY", "1")
        .env("LOGIN_MAX", "1")
        .start()
        .await;
    assert_eq!(
        attempt(&proxied, "203.0.113.7").await.unwrap().status(),
        401
    );
    assert_eq!(
        attempt(&proxied, "203.0.113.7").await.unwrap().status(),
        429
    );
    assert_eq!(
        attempt(&proxied, "203.0.113.8").await.unwrap().status(),
        401
    );
    // Junk further out in the header does not hide the address the proxy added.
    assert_eq!(
        attempt(&proxied, "junk, 203.0.113.8")
            .await
            .unwrap()
            .status(),
        429
    );
    // A client cannot pick its address by prepending to the header.
    assert_eq!(
        attempt(&proxied, "198.51.100.1, 203.0.113.7")
            .await
            .unwrap()
            .status(),
        429
    );
    proxied.stop().await;

    // Without TRUST_PROXY the header is ignored: changing it does not reset the budget.
    let direct = TestServer::builder().env("LOGIN_MAX", "1").start().await;
    assert_eq!(attempt(&direct, "203.0.113.7").await.unwrap().status(), 401);
    assert_eq!(attempt(&direct, "203.0.113.8").await.unwrap().status(), 429);
    direct.stop().await;
}
