//! A stand-in for Sign in with Apple on 127.0.0.1 (as `APPLE_OAUTH_BASE_URL`), following
//! Apple's documented endpoints: `/auth/authorize` (answers, instead of Apple's page that
//! posts a form back, the fields that page would post: `code`, `state` and, with `first=1`,
//! `user`), `/auth/token` (checks the client secret is an ES256 JWT from the team, for the
//! client, signed with the team's key; single-use codes; the redirect URI) and `/auth/keys`.
//! ID tokens are RS256, issuer `https://appleid.apple.com`. Logins: any name gets
//! `<login>@example.org` (`someone~ann`, another person, shows ann's address); `local` gets
//! `local@example.org`; `unverified`, `wrongkey` (signed
//! with a key Apple does not publish), `badnonce` and `unsigned` (`alg: none`) misbehave.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

pub const TEAM_ID: &str = "TEAM123456";
pub const KEY_ID: &str = "KEY1234567";
pub const CLIENT_ID: &str = "org.example.librechat";

struct Grant {
    login: String,
    nonce: String,
    redirect_uri: String,
}

#[derive(Clone)]
struct Shared {
    codes: Arc<Mutex<HashMap<String, Grant>>>,
    signing: Arc<EncodingKey>,
    signing_jwk: Arc<Jwk>,
    other: Arc<EncodingKey>,
    team: Arc<DecodingKey>,
}

pub struct FakeApple {
    pub base: String,
    /// The team's `.p8` key, for APPLE_PRIVATE_KEY_PATH.
    pub team_key_path: PathBuf,
    _dir: tempfile::TempDir,
}

fn token_for(s: &Shared, g: &Grant) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let shown = g
        .login
        .split_once('~')
        .map_or(g.login.as_str(), |(_, whose)| whose);
    let email = format!("{shown}@example.org");
    let claims = json!({
        "iss": "https://appleid.apple.com", "aud": CLIENT_ID, "exp": now + 600, "iat": now,
        "sub": format!("000123.{}.0456", g.login), "email": email,
        "email_verified": if g.login == "unverified" { "false" } else { "true" },
        "nonce": if g.login == "badnonce" { "something else".to_owned() } else { g.nonce.clone() },
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("fake-apple-kid".into());
    match g.login.as_str() {
        "unsigned" => {
            let enc =
                |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            format!(
                "{}.{}.",
                enc(&json!({"alg": "none", "kid": "fake-apple-kid"})),
                enc(&claims)
            )
        }
        "wrongkey" => jsonwebtoken::encode(&header, &claims, &s.other).unwrap(),
        _ => jsonwebtoken::encode(&header, &claims, &s.signing).unwrap(),
    }
}

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let (Some(redirect_uri), Some(state), Some(nonce)) =
        (q.get("redirect_uri"), q.get("state"), q.get("nonce"))
    else {
        return (StatusCode::BAD_REQUEST, "missing parameters").into_response();
    };
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || q.get("response_mode").map(String::as_str) != Some("form_post")
    {
        return (StatusCode::BAD_REQUEST, "invalid_client").into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    let login = q.get("login").cloned().unwrap_or_else(|| "ann".into());
    s.codes.lock().unwrap().insert(
        code.clone(),
        Grant {
            login,
            nonce: nonce.clone(),
            redirect_uri: redirect_uri.clone(),
        },
    );
    let mut form = json!({"action": redirect_uri, "code": code, "state": state});
    if q.contains_key("first") {
        form["user"] =
            json!(json!({"name": {"firstName": "Ann", "lastName": "Apple"}}).to_string());
    }
    Json(form).into_response()
}

fn error(e: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": e}))).into_response()
}

async fn token(State(s): State<Shared>, body: String) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    // The client secret: ES256, from the team, for this client, signed with the team's key.
    let secret = form.get("client_secret").cloned().unwrap_or_default();
    let header = jsonwebtoken::decode_header(&secret);
    let mut v = Validation::new(Algorithm::ES256);
    v.set_issuer(&[TEAM_ID]);
    v.set_audience(&["https://appleid.apple.com"]);
    v.sub = Some(CLIENT_ID.into());
    let good = header.is_ok_and(|h| h.kid.as_deref() == Some(KEY_ID))
        && jsonwebtoken::decode::<Value>(&secret, &s.team, &v).is_ok();
    if !good || form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return error("invalid_client");
    }
    let Some(grant) = form
        .get("code")
        .and_then(|c| s.codes.lock().unwrap().remove(c))
    else {
        return error("invalid_grant");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return error("invalid_grant");
    }
    Json(
        json!({"access_token": "a", "token_type": "Bearer", "expires_in": 3600,
        "refresh_token": "r", "id_token": token_for(&s, &grant)}),
    )
    .into_response()
}

async fn keys(State(s): State<Shared>) -> Json<Value> {
    let mut jwk = serde_json::to_value(&*s.signing_jwk).unwrap();
    jwk["kid"] = json!("fake-apple-kid");
    jwk["use"] = json!("sig");
    Json(json!({"keys": [jwk]}))
}

impl FakeApple {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        super::openssl(
            dir.path(),
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "apple.pem",
            ],
        );
        super::openssl(
            dir.path(),
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "other.pem",
            ],
        );
        super::openssl(
            dir.path(),
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "team.p8",
            ],
        );
        let read = |f: &str| std::fs::read(dir.path().join(f)).unwrap();
        let signing = EncodingKey::from_rsa_pem(&read("apple.pem")).unwrap();
        let signing_jwk = Jwk::from_encoding_key(&signing, Algorithm::RS256).unwrap();
        let team_private = EncodingKey::from_ec_pem(&read("team.p8")).unwrap();
        let team = DecodingKey::from_jwk(
            &Jwk::from_encoding_key(&team_private, Algorithm::ES256).unwrap(),
        )
        .unwrap();
        let shared = Shared {
            codes: Arc::default(),
            signing: Arc::new(signing),
            signing_jwk: Arc::new(signing_jwk),
            other: Arc::new(EncodingKey::from_rsa_pem(&read("other.pem")).unwrap()),
            team: Arc::new(team),
        };
        let app = Router::new()
            .route("/auth/authorize", get(authorize))
            .route("/auth/token", post(token))
            .route("/auth/keys", get(keys))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            base: format!("http://{addr}"),
            team_key_path: dir.path().join("team.p8"),
            _dir: dir,
        }
    }
}
