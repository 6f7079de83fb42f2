//! A stand-in for the social sign-in providers on 127.0.0.1, following each one's documented
//! endpoints at the same paths (so one server serves all four as GOOGLE_OAUTH_BASE_URL,
//! GITHUB_ENTERPRISE_BASE_URL, DISCORD_OAUTH_BASE_URL and FACEBOOK_OAUTH_BASE_URL):
//! authorize (signs in whoever `login=` names, a test-only parameter), the token endpoint
//! (checks the client secret, the redirect URI, the PKCE verifier, and that a code is used
//! once) and each provider's user API in its own shape. Logins: `alice` (email
//! `alice.<provider>@example.org`), `local` (`local@example.org`), `unverified` (an address
//! the provider has not checked), `private` (GitHub: no public email; `/user/emails` has it).
//! `someone~alice` is another person (another id) who shows alice's address.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};

pub const SECRET: &str = "social-secret";

struct Grant {
    provider: &'static str,
    login: String,
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
}

#[derive(Clone, Default)]
struct Shared {
    codes: Arc<Mutex<HashMap<String, Grant>>>,
    tokens: Arc<Mutex<HashMap<String, (&'static str, String)>>>,
}

pub struct FakeSocial {
    pub base: String,
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn authorize(
    provider: &'static str,
) -> impl Fn(State<Shared>, Query<HashMap<String, String>>) -> std::future::Ready<Response> + Clone
{
    move |State(s): State<Shared>, Query(q): Query<HashMap<String, String>>| {
        let resp = (|| {
            let redirect_uri = q.get("redirect_uri")?.clone();
            let state = q.get("state")?.clone();
            let code = random();
            s.codes.lock().unwrap().insert(
                code.clone(),
                Grant {
                    provider,
                    login: q.get("login").cloned().unwrap_or_else(|| "alice".into()),
                    client_id: q.get("client_id")?.clone(),
                    redirect_uri: redirect_uri.clone(),
                    challenge: q.get("code_challenge").cloned(),
                },
            );
            let sep = if redirect_uri.contains('?') { '&' } else { '?' };
            Some(
                Redirect::to(&format!("{redirect_uri}{sep}code={code}&state={state}"))
                    .into_response(),
            )
        })()
        .unwrap_or_else(|| (StatusCode::BAD_REQUEST, "missing parameters").into_response());
        std::future::ready(resp)
    }
}

fn oauth_error(error: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": error})),
    )
        .into_response()
}

async fn token(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    // Client credentials in the Authorization header (basic) or the form.
    let (client_id, secret) = match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(basic) if basic.starts_with("Basic ") => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(&basic[6..])
                .unwrap_or_default();
            let text = String::from_utf8(raw).unwrap_or_default();
            let (id, secret) = text.split_once(':').unwrap_or(("", ""));
            let dec = |v: &str| {
                url::form_urlencoded::parse(format!("x={v}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            (dec(id), dec(secret))
        }
        _ => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    if secret != SECRET {
        return oauth_error("invalid_client");
    }
    // A code is good once.
    let Some(grant) = form
        .get("code")
        .and_then(|c| s.codes.lock().unwrap().remove(c))
    else {
        return oauth_error("invalid_grant");
    };
    if grant.client_id != client_id || form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return oauth_error("invalid_grant");
    }
    if let Some(challenge) = &grant.challenge {
        use sha2::Digest;
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        let hashed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()));
        if &hashed != challenge {
            return oauth_error("invalid_grant");
        }
    }
    let access = random();
    s.tokens
        .lock()
        .unwrap()
        .insert(access.clone(), (grant.provider, grant.login));
    Json(json!({"access_token": access, "token_type": "bearer", "expires_in": 3600}))
        .into_response()
}

fn who(s: &Shared, headers: &HeaderMap) -> Option<(&'static str, String)> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    s.tokens.lock().unwrap().get(token).cloned()
}

/// The login whose address `login` shows (`someone~alice` shows alice's).
fn shown(login: &str) -> &str {
    login.split_once('~').map_or(login, |(_, whose)| whose)
}

fn email(provider: &str, login: &str) -> Value {
    match shown(login) {
        "local" => json!("local@example.org"),
        "private" => Value::Null,
        other => json!(format!("{other}.{provider}@example.org")),
    }
}

async fn user(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let Some((provider, login)) = who(&s, &headers) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        )
            .into_response();
    };
    let verified = login != "unverified";
    let id = format!("{login}-id-{provider}");
    let body = match provider {
        "google" => json!({"sub": id, "email": email(provider, &login), "email_verified": verified,
            "name": format!("{login} Google"), "given_name": login, "picture": "https://example.org/a.png"}),
        "github" => {
            let known = ["alice", "local", "unverified", "private"];
            let number = known.iter().position(|l| *l == login).map_or_else(
                || 1000 + login.bytes().map(u64::from).sum::<u64>(),
                |i| 100 + i as u64,
            );
            json!({"id": number, "login": login, "name": format!("{login} GitHub"),
            "email": email(provider, &login), "avatar_url": "https://example.org/g.png"})
        }
        "discord" => json!({"id": id, "username": login, "global_name": format!("{login} Discord"),
            "email": email(provider, &login), "verified": verified, "avatar": "abc"}),
        _ => {
            json!({"id": id, "name": format!("{login} Facebook"), "email": email(provider, &login),
            "picture": {"data": {"url": "https://example.org/f.png"}}})
        }
    };
    Json(body).into_response()
}

async fn github_emails(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let Some((_, login)) = who(&s, &headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // The profile's public address is one of these (GitHub lets only verified ones be shown;
    // `unverified` plays an account whose address was never checked).
    let primary = match email("github", &login) {
        Value::String(e) => e,
        _ => format!("{login}.github@example.org"),
    };
    Json(json!([
        {"email": format!("{login}.old@example.org"), "primary": false, "verified": true},
        {"email": primary, "primary": true, "verified": login != "unverified"},
    ]))
    .into_response()
}

impl FakeSocial {
    pub async fn start() -> Self {
        let app = Router::new()
            .route("/o/oauth2/v2/auth", get(authorize("google")))
            .route("/token", post(token))
            .route("/v1/userinfo", get(user))
            .route("/login/oauth/authorize", get(authorize("github")))
            .route("/login/oauth/access_token", post(token))
            .route("/api/v3/user", get(user))
            .route("/api/v3/user/emails", get(github_emails))
            .route("/oauth2/authorize", get(authorize("discord")))
            .route("/api/oauth2/token", post(token))
            .route("/api/users/@me", get(user))
            .route("/v18.0/dialog/oauth", get(authorize("facebook")))
            .route("/v18.0/oauth/access_token", post(token))
            .route("/v18.0/me", get(user))
            .with_state(Shared::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            base: format!("http://{addr}"),
        }
    }
}
