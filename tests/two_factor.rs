//! Two-factor authentication end to end: enrol, confirm, log in with a code or a backup code,
//! regenerate codes, disable; replays and misuse refused.

mod support;

use librechat::auth::tokens::now_secs;
use librechat::auth::two_factor::current_code;
use librechat::db::users;
use serde_json::{Value, json};
use support::{TestServer, refresh_cookie};

const PW: &str = "correct horse battery";

async fn post_as(server: &TestServer, path: &str, token: &str, body: Value) -> reqwest::Response {
    server
        .client
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn secret_of(otpauth_url: &str) -> String {
    let query = otpauth_url.split_once('?').unwrap().1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("secret="))
        .unwrap()
        .to_owned()
}

async fn login_step_one(server: &TestServer) -> String {
    let resp = server
        .post_json(
            "/api/auth/login",
            json!({"email": "alice@example.org", "password": PW}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(
        refresh_cookie(&resp).is_none(),
        "no session before the second factor"
    );
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["twoFAPending"], true);
    assert!(body.get("token").is_none());
    body["tempToken"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn enrol_confirm_and_log_in_with_codes() {
    let server = TestServer::builder().env("LOGIN_MAX", "100").start().await;
    let s = server.signed_in("alice@example.org", PW).await;

    let resp = post_as(&server, "/api/auth/2fa/enable", &s.token, json!({})).await;
    assert_eq!(resp.status(), 200);
    let enrol: Value = resp.json().await.unwrap();
    let url = enrol["otpauthUrl"].as_str().unwrap();
    // The QR code for the web app: an SVG, nothing scriptable in it.
    let svg = enrol["qrCodeSvg"].as_str().unwrap();
    assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
    assert!(!svg.to_lowercase().contains("script"), "{svg}");
    assert!(
        url.starts_with("otpauth://totp/LibreChat:alice%40example.org?")
            || url.starts_with("otpauth://totp/LibreChat:alice@example.org?"),
        "{url}"
    );
    // SHA-1, 6 digits and 30 s are the otpauth defaults, so the URL may leave them out.
    assert!(url.contains("issuer=LibreChat"), "{url}");
    let secret = secret_of(url);
    let backup: Vec<String> = enrol["backupCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(backup.len(), 10);
    assert!(
        backup
            .iter()
            .all(|c| c.len() == 8 && c.bytes().all(|b| b.is_ascii_hexdigit()))
    );

    // Stored encrypted, codes hashed.
    let stored = server
        .state
        .db
        .read(|c| Ok(users::find_by_email(c, "alice@example.org")?.unwrap()))
        .await
        .unwrap();
    let pending = stored.pending_totp_secret.unwrap();
    assert!(pending.starts_with("v3:") && !pending.contains(&secret));
    assert!(!stored.pending_backup_codes.to_string().contains(&backup[0]));

    // Not on until confirmed.
    let me: Value = server
        .get_as("/api/user", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["twoFactorEnabled"], false);
    let wrong = post_as(
        &server,
        "/api/auth/2fa/confirm",
        &s.token,
        json!({"token": "000000"}),
    )
    .await;
    assert_eq!(wrong.status(), 400);
    let now = now_secs();
    let code = current_code(&secret, now).unwrap();
    let ok = post_as(
        &server,
        "/api/auth/2fa/confirm",
        &s.token,
        json!({"token": code}),
    )
    .await;
    assert_eq!(ok.status(), 200);
    let me: Value = server
        .get_as("/api/user", &s.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["twoFactorEnabled"], true);
    assert!(
        !me.to_string().contains("v3:"),
        "no secrets in the public user"
    );

    // Login now stops halfway; the temp token is not an access token.
    let temp = login_step_one(&server).await;
    assert_eq!(server.get_as("/api/user", &temp).await.status(), 401);
    let verify_temp = |body: Value| server.post_json("/api/auth/2fa/verify-temp", body);
    assert_eq!(
        verify_temp(json!({"tempToken": temp, "token": "123456"}))
            .await
            .status(),
        400
    );
    assert_eq!(
        verify_temp(json!({"tempToken": temp})).await.status(),
        400,
        "no code"
    );
    assert_eq!(
        verify_temp(json!({"tempToken": "forged", "token": code}))
            .await
            .status(),
        401
    );
    assert_eq!(
        verify_temp(json!({"tempToken": s.token, "token": code}))
            .await
            .status(),
        401,
        "an access token is not a temp token"
    );
    // The code used to confirm cannot be replayed.
    assert_eq!(
        verify_temp(json!({"tempToken": temp, "token": code}))
            .await
            .status(),
        400
    );
    let next = current_code(&secret, now + 30).unwrap();
    let resp = verify_temp(json!({"tempToken": temp, "token": next})).await;
    assert_eq!(resp.status(), 200);
    assert!(refresh_cookie(&resp).is_some());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        server
            .get_as("/api/user", body["token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // A backup code works once.
    let temp = login_step_one(&server).await;
    let resp =
        verify_temp(json!({"tempToken": temp, "backupCode": backup[0].to_uppercase()})).await;
    assert_eq!(resp.status(), 200, "backup codes are case-insensitive");
    let temp = login_step_one(&server).await;
    assert_eq!(
        verify_temp(json!({"tempToken": temp, "backupCode": backup[0]}))
            .await
            .status(),
        400
    );

    // New codes replace the old ones.
    let resp = post_as(
        &server,
        "/api/auth/2fa/backup/regenerate",
        &s.token,
        json!({"backupCode": backup[1]}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let fresh: Vec<String> = resp.json::<Value>().await.unwrap()["backupCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fresh.len(), 10);
    let temp = login_step_one(&server).await;
    assert_eq!(
        verify_temp(json!({"tempToken": temp, "backupCode": backup[2]}))
            .await
            .status(),
        400
    );

    // Disabling needs a valid second factor.
    assert_eq!(
        post_as(&server, "/api/auth/2fa/disable", &s.token, json!({}))
            .await
            .status(),
        400
    );
    assert_eq!(
        post_as(
            &server,
            "/api/auth/2fa/disable",
            &s.token,
            json!({"backupCode": "deadbeef"})
        )
        .await
        .status(),
        400
    );
    let resp = post_as(
        &server,
        "/api/auth/2fa/disable",
        &s.token,
        json!({"backupCode": fresh[0]}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    server.login("alice@example.org", PW).await;
    server.stop().await;
}

#[tokio::test]
async fn code_guessing_is_rate_limited() {
    let server = TestServer::builder().env("LOGIN_MAX", "3").start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let enrol: Value = post_as(&server, "/api/auth/2fa/enable", &s.token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = secret_of(enrol["otpauthUrl"].as_str().unwrap());
    let code = current_code(&secret, now_secs()).unwrap();
    assert_eq!(
        post_as(
            &server,
            "/api/auth/2fa/confirm",
            &s.token,
            json!({"token": code})
        )
        .await
        .status(),
        200
    );
    // Right answers cost nothing: more of them than the limit allows still pass.
    let codes = enrol["backupCodes"].as_array().unwrap();
    for code in codes.iter().take(4) {
        let resp = post_as(
            &server,
            "/api/auth/2fa/verify",
            &s.token,
            json!({"backupCode": code}),
        )
        .await;
        assert_eq!(resp.status(), 200);
    }
    // Wrong ones do: after three, even a right answer waits for the window to end.
    let mut statuses = Vec::new();
    for guess in ["111111", "222222", "333333", "444444"] {
        let resp = post_as(
            &server,
            "/api/auth/2fa/verify",
            &s.token,
            json!({"token": guess}),
        )
        .await;
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, vec![400, 400, 400, 429]);
    let right = post_as(
        &server,
        "/api/auth/2fa/verify",
        &s.token,
        json!({"backupCode": codes[5]}),
    )
    .await;
    assert_eq!(right.status(), 429);
    server.stop().await;
}

/// LibreChat's client closes its 2FA dialog after enrolment with `POST /api/auth/2fa/disable`
/// and no body at all. The route's own validation answers (400), as behind `express.json()`,
/// not a 415; a body that is there must still be JSON, so a cross-site form (text/plain or
/// urlencoded, sent without a preflight) is refused before any route reads it.
#[tokio::test]
async fn a_request_with_no_body_is_answered_by_the_route_not_refused_for_its_type() {
    let server = TestServer::start().await;
    let s = server.signed_in("alice@example.org", PW).await;
    let bare = |path: &str, kind: Option<&str>, body: &str| {
        let mut req = server
            .client
            .post(server.url(path))
            .bearer_auth(&s.token)
            .body(body.to_owned());
        if let Some(k) = kind {
            req = req.header("content-type", k);
        }
        req.send()
    };
    let resp = post_as(&server, "/api/auth/2fa/enable", &s.token, json!({})).await;
    assert_eq!(resp.status(), 200);
    // The dialog closes: no body, no content type.
    let resp = bare("/api/auth/2fa/disable", None, "").await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(body["message"].is_string(), "{body}");
    // An empty JSON body reads the same, as `express.json()` reads it.
    let resp = bare("/api/auth/2fa/disable", Some("application/json"), "")
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // Any JSON route: the route names what is missing.
    let resp = bare("/api/tags", None, "").await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("tag"), "{body}");

    // With 2FA on, the body-less request changes nothing.
    let enrol: Value = post_as(&server, "/api/auth/2fa/enable", &s.token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = secret_of(enrol["otpauthUrl"].as_str().unwrap());
    let code = current_code(&secret, now_secs()).unwrap();
    let resp = post_as(
        &server,
        "/api/auth/2fa/confirm",
        &s.token,
        json!({"token": code}),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let backup = enrol["backupCodes"][0].as_str().unwrap();
    assert_eq!(
        bare("/api/auth/2fa/disable", None, "")
            .await
            .unwrap()
            .status(),
        400
    );
    // A body in another type than JSON is refused whatever it holds, even a valid code.
    let valid = json!({"backupCode": backup}).to_string();
    for kind in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let resp = bare("/api/auth/2fa/disable", kind, &valid).await.unwrap();
        assert_eq!(resp.status(), 415, "{kind:?}");
    }
    let me: Value = server.get_json("/api/user", &s.token).await;
    assert_eq!(me["twoFactorEnabled"], true, "still on");
    server.stop().await;
}
