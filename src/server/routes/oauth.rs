//! `/oauth/*`: single sign-on that goes through the browser. `GET /oauth/openid` (or
//! `/oauth/google`, `github`, `discord`, `facebook`) sends the browser to the provider; the
//! `.../callback` comes back with a code, signs the person in by the linking rule and sets the
//! same refresh cookie as a local login before returning to the app; `GET /oauth/error` returns to the login page with a message, as
//! LibreChat's does. The whole router counts against the login limiter.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::auth::openid::OpenIdError;
use crate::server::middleware::Client;
use crate::server::middleware::auth::{check_ban, limit, set_refresh_cookie};
use crate::server::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/openid", get(openid_start))
        .route("/oauth/openid/callback", get(openid_callback))
        .route("/oauth/error", get(error_page))
        .route("/oauth/apple", get(apple_start))
        .route("/oauth/apple/callback", axum::routing::post(apple_callback))
        .route("/oauth/{provider}", get(social_start))
        .route("/oauth/{provider}/callback", get(social_callback))
}

/// The app's root, where the browser goes back to.
fn app_root(state: &AppState) -> String {
    crate::web::WebOptions::base_href_from(state.settings.server.domain_client.as_deref())
}

fn redirect(to: &str, cookie: Option<String>) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(LOCATION, v);
    }
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(SET_COOKIE, c);
    }
    resp
}

/// Back to the login page with `message` (LibreChat's `/login?redirect=false&error=...`).
fn to_login(state: &AppState, error: &str, message: &str) -> Response {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("redirect", "false")
        .append_pair("error", error)
        .append_pair("message", message)
        .finish();
    redirect(&format!("{}login?{q}", app_root(state)), None)
}

async fn limited(state: &AppState, client: &Client) -> Result<(), ApiError> {
    check_ban(state, None, client).await?;
    let spec = &state.settings.limits.login;
    limit(
        state,
        spec,
        "login",
        None,
        client,
        "Too many login attempts, please try again later.",
    )
    .await
}

async fn openid_start(State(state): State<AppState>, client: Client) -> Response {
    if let Err(e) = limited(&state, &client).await {
        return to_login(&state, "auth_failed", &e.to_string());
    }
    let Some(openid) = state.openid.clone() else {
        return to_login(
            &state,
            "auth_failed",
            "OpenID sign-in is not configured here.",
        );
    };
    match openid.start(&client.base_url).await {
        Ok(url) => redirect(&url, None),
        Err(e) => {
            tracing::error!(error = ?e, "starting an OpenID sign-in failed");
            to_login(&state, "auth_failed", &e.to_string())
        }
    }
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn openid_callback(
    State(state): State<AppState>,
    client: Client,
    Query(q): Query<Callback>,
) -> Response {
    if let Err(e) = limited(&state, &client).await {
        return to_login(&state, "auth_failed", &e.to_string());
    }
    let Some(openid) = state.openid.clone() else {
        return to_login(
            &state,
            "auth_failed",
            "OpenID sign-in is not configured here.",
        );
    };
    if let Some(err) = q.error {
        let message = q.error_description.unwrap_or(err);
        return to_login(
            &state,
            "auth_failed",
            &format!("The identity provider refused the sign-in: {message}"),
        );
    }
    let (Some(code), Some(st)) = (q.code, q.state) else {
        return to_login(&state, "auth_failed", "The sign-in answer was incomplete.");
    };
    let identity = match openid.finish(&code, &st).await {
        Ok(i) => i,
        Err(e) => {
            if let OpenIdError::Failed(why) = &e {
                tracing::error!(error = %why, "an OpenID sign-in failed");
            }
            return to_login(&state, "auth_failed", &e.to_string());
        }
    };
    // OpenID registers people whatever ALLOW_SOCIAL_REGISTRATION says, as LibreChat does.
    sign_in_and_return(&state, &client, &identity, true).await
}

async fn social_start(
    State(state): State<AppState>,
    client: Client,
    Path(provider): Path<String>,
) -> Response {
    if let Err(e) = limited(&state, &client).await {
        return to_login(&state, "auth_failed", &e.to_string());
    }
    if !state.settings.auth.allow_social_login {
        return to_login(&state, "auth_failed", "Social login is not allowed here.");
    }
    let Some(s) = state.social.get(&provider) else {
        return to_login(
            &state,
            "auth_failed",
            "This sign-in method is not configured here.",
        );
    };
    match state.social.start(s, &client.base_url) {
        Ok(url) => redirect(&url, None),
        Err(e) => {
            tracing::error!(error = ?e, provider, "starting a social sign-in failed");
            to_login(&state, "auth_failed", &e.to_string())
        }
    }
}

async fn social_callback(
    State(state): State<AppState>,
    client: Client,
    Path(provider): Path<String>,
    Query(q): Query<Callback>,
) -> Response {
    if let Err(e) = limited(&state, &client).await {
        return to_login(&state, "auth_failed", &e.to_string());
    }
    let Some(s) = state
        .social
        .get(&provider)
        .filter(|_| state.settings.auth.allow_social_login)
    else {
        return to_login(
            &state,
            "auth_failed",
            "This sign-in method is not configured here.",
        );
    };
    if let Some(err) = q.error {
        let message = q.error_description.unwrap_or(err);
        return to_login(
            &state,
            "auth_failed",
            &format!("The provider refused the sign-in: {message}"),
        );
    }
    let (Some(code), Some(st)) = (q.code, q.state) else {
        return to_login(&state, "auth_failed", "The sign-in answer was incomplete.");
    };
    let identity = match state.social.finish(s, &code, &st).await {
        Ok(i) => i,
        Err(e) => {
            if let crate::auth::social::SocialError::Failed(why) = &e {
                tracing::error!(error = %why, provider, "a social sign-in failed");
            }
            return to_login(&state, "auth_failed", &e.to_string());
        }
    };
    let may_register = state.settings.auth.allow_social_registration;
    sign_in_and_return(&state, &client, &identity, may_register).await
}

/// Links `identity` to an account, checks bans, opens a session and returns to the app.
async fn sign_in_and_return(
    state: &AppState,
    client: &Client,
    identity: &crate::auth::external::ExternalIdentity,
    may_register: bool,
) -> Response {
    let signed = async {
        let user = state.accounts.link_external(identity, may_register).await?;
        check_ban(state, Some(&user.id), client).await?;
        Ok::<_, ApiError>(state.accounts.start_session(user).await?)
    }
    .await;
    match signed {
        Ok(s) => {
            let cookie = set_refresh_cookie(state, client, &s.refresh_token, s.refresh_max_age);
            redirect(&app_root(state), Some(cookie))
        }
        Err(e) => to_login(state, "auth_failed", &e.to_string()),
    }
}

async fn apple_start(State(state): State<AppState>, client: Client) -> Response {
    if let Err(e) = limited(&state, &client).await {
        return to_login(&state, "auth_failed", &e.to_string());
    }
    match (&state.apple, state.settings.auth.allow_social_login) {
        (Some(apple), true) => redirect(&apple.start(&client.base_url), None),
        _ => to_login(
            &state,
            "auth_failed",
            "Sign in with Apple is not configured here.",
        ),
    }
}

/// What Apple posts back (`response_mode=form_post`).
#[derive(Deserialize)]
struct AppleCallback {
    code: Option<String>,
    state: Option<String>,
    user: Option<String>,
    error: Option<String>,
}

async fn apple_callback(
    State(state): State<AppState>,
    client: Client,
    axum::Form(f): axum::Form<AppleCallback>,
) -> Response {
    if let Err(e) = limited(&state, &client).await {
        return to_login(&state, "auth_failed", &e.to_string());
    }
    let Some(apple) = state
        .apple
        .clone()
        .filter(|_| state.settings.auth.allow_social_login)
    else {
        return to_login(
            &state,
            "auth_failed",
            "Sign in with Apple is not configured here.",
        );
    };
    if let Some(err) = f.error {
        return to_login(
            &state,
            "auth_failed",
            &format!("Apple refused the sign-in: {err}"),
        );
    }
    let (Some(code), Some(st)) = (f.code, f.state) else {
        return to_login(&state, "auth_failed", "The sign-in answer was incomplete.");
    };
    let identity = match apple.finish(&code, &st, f.user.as_deref()).await {
        Ok(i) => i,
        Err(e) => {
            if let crate::auth::apple::AppleError::Failed(why) = &e {
                tracing::error!(error = %why, "a Sign in with Apple failed");
            }
            return to_login(&state, "auth_failed", &e.to_string());
        }
    };
    let may_register = state.settings.auth.allow_social_registration;
    sign_in_and_return(&state, &client, &identity, may_register).await
}

#[derive(Deserialize)]
struct ErrorQuery {
    error: Option<String>,
    message: Option<String>,
}

async fn error_page(State(state): State<AppState>, Query(q): Query<ErrorQuery>) -> Response {
    to_login(
        &state,
        q.error.as_deref().unwrap_or("auth_failed"),
        q.message.as_deref().unwrap_or("Sign-in failed."),
    )
}
