//! Local accounts over real HTTP: register, login, refresh, logout, the current user, and the
//! attacks each of them must withstand.

mod support;

use librechat::db::users::{self, NewUser};
use serde_json::{Value, json};
use support::{TestServer, refresh_cookie, refresh_cookie_line};

const PW: &str = "correct horse battery";

#[tokio::test]
async fn register_login_refresh_logout_round_trip() {
    let server = TestServer::start().await;
    server.register("Alice@Example.org", PW).await;
    server.register("bob@example.org", PW).await;

    let resp = server
        .post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": PW}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let cookie = refresh_cookie_line(&resp).unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/")
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
    let first_refresh = refresh_cookie(&resp).unwrap();
    let body: Value = resp.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        body["user"]["email"], "alice@example.org",
        "emails are stored lowercased"
    );
    assert_eq!(
        body["user"]["role"], "ADMIN",
        "the first account is the admin"
    );

    let me: Value = server
        .get_as("/api/user", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "alice@example.org");
    assert_eq!(me["provider"], "local");
    assert_eq!(me["twoFactorEnabled"], false);
    assert_eq!(me["id"], me["_id"]);
    let text = me.to_string();
    for secret in ["password", "totp", "backupCodes", "$argon2"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let bob = server.login("bob@example.org", PW).await;
    assert_eq!(bob.user["role"], "USER");

    // Refresh rotates the cookie and gives a working access token.
    let resp = server.refresh(&first_refresh).await;
    assert_eq!(resp.status(), 200);
    let second_refresh = refresh_cookie(&resp).unwrap();
    assert_ne!(second_refresh, first_refresh);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user"]["email"], "alice@example.org");
    let fresh = body["token"].as_str().unwrap();
    assert_eq!(server.get_as("/api/user", fresh).await.status(), 200);

    // The rotated-away token comes back: it leaked, so the whole session ends.
    let replay = server.refresh(&first_refresh).await;
    assert_eq!(replay.status(), 401);
    assert_eq!(
        server.refresh(&second_refresh).await.status(),
        401,
        "session revoked"
    );

    // Logout ends a session and clears the cookie.
    let s = server.login("alice@example.org", PW).await;
    let resp = server
        .client
        .post(server.url("/api/auth/logout"))
        .bearer_auth(&s.token)
        .header("cookie", format!("refreshToken={}", s.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(refresh_cookie_line(&resp).unwrap().contains("Max-Age=0"));
    assert_eq!(server.refresh(&s.refresh).await.status(), 401);
    let sessions = server.count("sessions").await;
    assert_eq!(sessions, 1, "only bob's session is left");
    server.stop().await;
}

#[tokio::test]
async fn the_cookie_is_secure_over_https() {
    let server = TestServer::builder()
        .env("TRUST_PROXY", "1")
        .env("LOGIN_MAX", "50")
        .start()
        .await;
    server.register("alice@example.org", PW).await;
    let resp = server
        .client
        .post(server.url("/api/auth/login"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": "alice@example.org", "password": PW}))
        .send()
        .await
        .unwrap();
    assert!(refresh_cookie_line(&resp).unwrap().contains("; Secure"));
    server.stop().await;

    let forced = TestServer::builder()
        .env("SESSION_COOKIE_SECURE", "true")
        .start()
        .await;
    forced.register("alice@example.org", PW).await;
    let resp = forced
        .post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": PW}),
        )
        .await;
    assert!(refresh_cookie_line(&resp).unwrap().contains("; Secure"));
    forced.stop().await;
}

#[tokio::test]
async fn registration_rules() {
    let server = TestServer::builder()
        .env("MIN_PASSWORD_LENGTH", "10")
        .env("REGISTER_MAX", "100")
        .yaml("version: 1.2.8\nregistration:\n  allowedDomains: [example.org]\n")
        .start()
        .await;
    let reg = |body: Value| server.post_json("/api/auth/register", body);
    let ok = json!({"name": "Alice", "email": "alice@example.org", "password": "0123456789", "confirm_password": "0123456789"});
    let first = reg(ok.clone()).await;
    assert_eq!(first.status(), 200);
    let first_body: Value = first.json().await.unwrap();

    // An existing email answers exactly like a new one, and creates nothing.
    let mut again = ok.clone();
    again["password"] = json!("another-password!");
    again["confirm_password"] = json!("another-password!");
    let dup = reg(again).await;
    assert_eq!(dup.status(), 200);
    assert_eq!(dup.json::<Value>().await.unwrap(), first_body);
    let count = server.state.db.read(users::count).await.unwrap();
    assert_eq!(count, 1);

    let cases = [
        (
            json!({"name": "Bob", "email": "not-an-email", "password": "0123456789", "confirm_password": "0123456789"}),
            400,
            "valid email",
        ),
        (
            json!({"name": "Bob", "email": "bob@example.org", "password": "short", "confirm_password": "short"}),
            400,
            "at least 10",
        ),
        (
            json!({"name": "Bob", "email": "bob@example.org", "password": "p".repeat(129), "confirm_password": "p".repeat(129)}),
            400,
            "at most 128",
        ),
        (
            json!({"name": "Bob", "email": "bob@example.org", "password": "0123456789", "confirm_password": "9876543210"}),
            400,
            "do not match",
        ),
        (
            json!({"name": "Bo", "email": "bob@example.org", "password": "0123456789", "confirm_password": "0123456789"}),
            400,
            "Name",
        ),
        (
            json!({"name": "Bob", "email": "bob@elsewhere.org", "password": "0123456789", "confirm_password": "0123456789"}),
            403,
            "cannot be used",
        ),
        (
            json!({"name": 42, "email": "bob@example.org"}),
            400,
            "invalid request body",
        ),
        (json!({}), 400, "valid email"),
    ];
    for (body, status, needle) in cases {
        let resp = reg(body.clone()).await;
        assert_eq!(resp.status(), status, "{body}");
        let msg: Value = resp.json().await.unwrap();
        assert!(
            msg["message"].as_str().unwrap().contains(needle),
            "{body} -> {msg}"
        );
    }
    let malformed = server
        .client
        .post(server.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(
        server.state.db.read(users::count).await.unwrap(),
        1,
        "nothing created"
    );
    server.stop().await;
}

#[tokio::test]
async fn closed_registration_admits_only_invited_emails() {
    let server = TestServer::builder()
        .env("ALLOW_REGISTRATION", "false")
        .start()
        .await;
    let body = |email: &str, token: Option<&str>| json!({"name": "Carol", "email": email, "password": PW, "confirm_password": PW, "token": token});
    let refused = server
        .post_json("/api/auth/register", body("carol@example.org", None))
        .await;
    assert_eq!(refused.status(), 403);

    let token = server
        .state
        .accounts
        .invite("carol@example.org")
        .await
        .unwrap();
    let wrong_email = server
        .post_json(
            "/api/auth/register",
            body("mallory@example.org", Some(&token)),
        )
        .await;
    assert_eq!(wrong_email.status(), 403);
    let invited = server
        .post_json(
            "/api/auth/register",
            body("carol@example.org", Some(&token)),
        )
        .await;
    assert_eq!(invited.status(), 200);
    server.login("carol@example.org", PW).await;
    // Used up.
    let reused = server
        .post_json(
            "/api/auth/register",
            body("carol2@example.org", Some(&token)),
        )
        .await;
    assert_eq!(reused.status(), 403);
    server.stop().await;
}

#[tokio::test]
async fn login_failures_are_clear_and_do_not_reveal_accounts() {
    let server = TestServer::builder().env("LOGIN_MAX", "100").start().await;
    server.register("alice@example.org", PW).await;
    let login = |email: &str, password: &str| {
        server.post_json(
            "/api/auth/login",
            json!({"email": email, "password": password}),
        )
    };
    let unknown = login("nobody@example.org", PW).await;
    let wrong = login("alice@example.org", "wrong password!").await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(wrong.status(), 401);
    assert!(refresh_cookie(&wrong).is_none());
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        wrong.json::<Value>().await.unwrap()
    );

    assert_eq!(login("", "").await.status(), 400);
    assert_eq!(
        login("alice@example.org", &"x".repeat(10_000))
            .await
            .status(),
        401
    );
    let form = server
        .client
        .post(server.url("/api/auth/login"))
        .body("email=alice@example.org&password=x")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let types = server
        .post_json(
            "/api/auth/login",
            json!({"email": ["alice@example.org"], "password": 1}),
        )
        .await;
    assert_eq!(types.status(), 400);
    server.stop().await;

    let closed = TestServer::builder()
        .env("ALLOW_EMAIL_LOGIN", "false")
        .start()
        .await;
    closed.register("alice@example.org", PW).await;
    let resp = closed
        .post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": PW}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    closed.stop().await;
}

#[tokio::test]
async fn unverified_emails_wait_when_configured_and_bcrypt_users_migrate() {
    let server = TestServer::builder()
        .env("ALLOW_UNVERIFIED_EMAIL_LOGIN", "false")
        .start()
        .await;
    let legacy = bcrypt::hash(PW, 4).unwrap();
    server
        .state
        .db
        .write(move |c| {
            for (email, verified) in [("old@example.org", true), ("new@example.org", false)] {
                users::create(
                    c,
                    &NewUser {
                        email: email.into(),
                        name: "Imported".into(),
                        username: String::new(),
                        password: Some(legacy.clone()),
                        provider: "local".into(),
                        email_verified: verified,
                        role: None,
                    },
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let unverified = server
        .post_json(
            "/api/auth/login",
            json!({"email": "new@example.org", "password": PW}),
        )
        .await;
    assert_eq!(unverified.status(), 403);
    assert!(unverified.text().await.unwrap().contains("not verified"));

    server.login("old@example.org", PW).await;
    let stored = server
        .state
        .db
        .read(|c| {
            Ok(users::find_by_email(c, "old@example.org")?
                .unwrap()
                .password
                .unwrap())
        })
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "rehashed: {stored}");
    server.login("old@example.org", PW).await;
    server.stop().await;
}

#[tokio::test]
async fn forged_expired_and_misused_tokens_are_refused() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let secrets = &server.state.settings.secrets;
    let id = s.user["id"].as_str().unwrap().to_owned();
    let now = librechat::auth::tokens::now_secs();
    let sign = |claims: Value, secret: &str| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    use base64::Engine;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let payload = json!({"id": id, "iat": now, "exp": now + 600}).to_string();
    let bad_tokens = [
        ("garbage", "not.a.jwt".to_owned()),
        (
            "expired",
            sign(
                json!({"id": id, "iat": now - 7200, "exp": now - 3600}),
                secrets.jwt_secret.value.expose(),
            ),
        ),
        (
            "refresh secret",
            sign(
                json!({"id": id, "iat": now, "exp": now + 600}),
                secrets.jwt_refresh_secret.value.expose(),
            ),
        ),
        (
            "other secret",
            sign(json!({"id": id, "iat": now, "exp": now + 600}), "guessed"),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(r#"{"alg":"none","typ":"JWT"}"#),
                b64(&payload)
            ),
        ),
        (
            "RS256 header",
            format!(
                "{}.{}.{}",
                b64(r#"{"alg":"RS256","typ":"JWT"}"#),
                b64(&payload),
                b64("sig")
            ),
        ),
        (
            "2FA temp token",
            server.state.accounts.tokens.issue_temp(&id),
        ),
        ("refresh token", s.refresh.clone()),
        (
            "unknown user",
            sign(
                json!({"id": "000000000000000000000000", "iat": now, "exp": now + 600}),
                secrets.jwt_secret.value.expose(),
            ),
        ),
    ];
    for (what, token) in bad_tokens {
        let resp = server.get_as("/api/user", &token).await;
        assert_eq!(resp.status(), 401, "{what}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["message"], "Unauthorized", "{what}");
    }
    assert_eq!(server.get("/api/user").await.status(), 401, "no token");
    let basic = server
        .client
        .get(server.url("/api/user"))
        .header("authorization", format!("Basic {}", s.token))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    // Tampered: valid token with one payload character changed.
    let mut parts: Vec<String> = s.token.split('.').map(str::to_owned).collect();
    parts[1] = b64(&json!({"id": id, "iat": now, "exp": now + 999_999}).to_string());
    assert_eq!(
        server.get_as("/api/user", &parts.join(".")).await.status(),
        401
    );
    // Garbage refresh cookies: LibreChat's 403 (see refused_refreshes_answer_as_librechat_does).
    for bad in ["x", "a.b.c", s.token.as_str()] {
        assert_eq!(server.refresh(bad).await.status(), 403, "{bad}");
    }
    let none = server
        .client
        .post(server.url("/api/auth/refresh"))
        .send()
        .await
        .unwrap();
    // LibreChat's answer when there is no session to renew: 200 and a note, no token.
    assert_eq!(none.status(), 200);
    assert!(refresh_cookie(&none).is_none());
    assert_eq!(none.text().await.unwrap(), "Refresh token not provided");
    assert_eq!(
        server.get_as("/api/user", &s.token).await.status(),
        200,
        "the real token still works"
    );
    server.stop().await;
}

#[tokio::test]
async fn terms_and_account_deletion() {
    let server = TestServer::start().await;
    server.register("alice@example.org", PW).await;
    server.register("bob@example.org", PW).await;
    let s = server.login("alice@example.org", PW).await;
    let terms: Value = server
        .get_as("/api/user/terms", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(terms["termsAccepted"], false);
    assert_eq!(terms["termsAcceptedAt"], Value::Null);
    let mut stamps = Vec::new();
    // Accepted twice: the first acceptance's time is the one kept.
    for _ in 0..2 {
        let resp = server
            .client
            .post(server.url("/api/user/terms/accept"))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["message"], "Terms accepted successfully");
        assert!(body["termsAcceptedAt"].is_string(), "{body}");
        stamps.push(body["termsAcceptedAt"].clone());
    }
    assert_eq!(stamps[0], stamps[1]);
    let me: Value = server
        .get_as("/api/user", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["termsAccepted"], true);
    assert_eq!(me["termsAcceptedAt"], stamps[0]);
    let terms: Value = server
        .get_as("/api/user/terms", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(terms["termsAcceptedAt"], stamps[0]);

    let resp = server
        .client
        .delete(server.url("/api/user/delete"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(server.get_as("/api/user", &s.token).await.status(), 401);
    assert_eq!(server.refresh(&s.refresh).await.status(), 401);
    let left = server.count("sessions").await;
    assert_eq!(left, 0, "the deleted user's sessions went with it");
    assert_eq!(
        server.state.db.read(users::count).await.unwrap(),
        1,
        "bob is untouched"
    );
    server.stop().await;

    let kept = TestServer::builder()
        .env("ALLOW_ACCOUNT_DELETION", "false")
        .start()
        .await;
    let s = kept.signed_in("alice@example.org", PW).await;
    let resp = kept
        .client
        .delete(kept.url("/api/user/delete"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(kept.get_as("/api/user", &s.token).await.status(), 200);
    kept.stop().await;
}

/// The refresh route's refusals as LibreChat answers them (its `refreshController`): plain text,
/// 403 for a token that is not one of ours, 401 for a genuine one whose session is gone (403
/// when the client says it is retrying), and the cookie left as it is.
#[tokio::test]
async fn refused_refreshes_answer_as_librechat_does() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let tokens = &server.state.accounts.tokens;
    let claims = tokens.verify_refresh(&s.refresh).unwrap();
    let now = librechat::auth::tokens::now_secs();
    let expired = tokens.issue_refresh(&claims.id, &claims.session_id, now - 3600);
    async fn refused(resp: reqwest::Response, status: u16, text: &str) {
        assert_eq!(resp.status(), status, "{text}");
        assert!(
            refresh_cookie_line(&resp).is_none(),
            "the cookie is left as it is"
        );
        let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/html"), "{kind}");
        assert_eq!(resp.text().await.unwrap(), text);
    }
    // Not a refresh token of ours: garbage, an access token, an expired one.
    for bad in ["x", "a.b.c", s.token.as_str(), expired.as_str()] {
        refused(server.refresh(bad).await, 403, "Invalid refresh token").await;
    }
    // A genuine token rotated away: its session is gone (and, as it came back, revoked).
    let first = server.refresh(&s.refresh).await;
    assert_eq!(first.status(), 200);
    let second = refresh_cookie(&first).unwrap();
    refused(
        server.refresh(&s.refresh).await,
        401,
        "Refresh token expired or not found for this user",
    )
    .await;
    let retried = server
        .client
        .post(server.url("/api/auth/refresh?retry=true"))
        .header("cookie", format!("refreshToken={second}"))
        .send()
        .await
        .unwrap();
    refused(retried, 403, "No session found").await;
    refused(
        server.refresh(&second).await,
        401,
        "Refresh token expired or not found for this user",
    )
    .await;
    // A new sign-in works as ever.
    let again = server.login("alice@example.org", PW).await;
    assert_eq!(server.refresh(&again.refresh).await.status(), 200);
    server.stop().await;
}
