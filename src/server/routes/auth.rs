//! `/api/auth`: register, login, refresh, logout.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::user::public_user;
use crate::auth::{AuthError, LoginOutcome, Registration, SignedIn};
use crate::server::middleware::Client;
use crate::server::middleware::auth::{
    bearer, check_ban, clear_refresh_cookie, limit, refresh_cookie, set_refresh_cookie,
};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(request_password_reset))
        .routes(routes!(reset_password))
}

#[utoipa::path(post, path = "/api/auth/register", operation_id = "auth_register", request_body = Registration, summary = "Create an account", tag = "auth", responses((status = 200, description = "Success")))]
async fn register(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody<Registration>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // A banned client hears that it is banned (with the end of the ban), not that it is fast.
    check_ban(&state, None, &client).await?;
    let spec = &state.settings.limits.register;
    let window = spec.window.as_secs() / 60;
    limit(
        &state,
        spec,
        "register",
        None,
        &client,
        &format!("Too many accounts created, please try again after {window} minutes"),
    )
    .await?;
    // With LDAP the directory is where accounts come from and the only way to log in: a local
    // account could never log in, and would only take a directory user's address from them.
    // (LibreChat's config says registration is off then, but its route still registers.)
    if state.settings.ldap.is_some() {
        return Err(ApiError::Forbidden(
            "Registration is not allowed: accounts come from the directory (LDAP).".into(),
        ));
    }
    if let Some(user) = state.accounts.register(body).await? {
        state.email.send_verification(&user);
    }
    Ok(Json(
        json!({ "message": state.accounts.registration_message() }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ResetRequest {
    #[serde(default)]
    email: String,
}

#[utoipa::path(post, path = "/api/auth/requestPasswordReset", operation_id = "auth_request_password_reset", request_body = ResetRequest, summary = "Email a password reset link", tag = "auth", responses((status = 200, description = "Success")))]
async fn request_password_reset(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody<ResetRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    check_ban(&state, None, &client).await?;
    let spec = &state.settings.limits.reset_password;
    limit(
        &state,
        spec,
        "reset_password",
        None,
        &client,
        "Too many password reset requests, please try again later.",
    )
    .await?;
    state.email.request_password_reset(&body.email)?;
    Ok(Json(json!({
        "message": "If an account with that email exists, a link to reset its password has been sent."
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ResetSubmission {
    #[serde(default, rename = "userId")]
    user_id: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm_password: String,
}

#[utoipa::path(post, path = "/api/auth/resetPassword", operation_id = "auth_reset_password", request_body = ResetSubmission, summary = "Set a new password with a reset token", tag = "auth", responses((status = 200, description = "Success")))]
async fn reset_password(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody<ResetSubmission>,
) -> Result<Json<serde_json::Value>, ApiError> {
    check_ban(&state, None, &client).await?;
    let spec = &state.settings.limits.reset_password_submission;
    limit(
        &state,
        spec,
        "reset_password_submit",
        None,
        &client,
        "Too many password reset attempts, please try again later.",
    )
    .await?;
    state
        .email
        .reset_password(
            &body.user_id,
            &body.token,
            &body.password,
            &body.confirm_password,
        )
        .await?;
    Ok(Json(json!({ "message": "Password reset was successful" })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LoginBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[utoipa::path(post, path = "/api/auth/login", operation_id = "auth_login", request_body = LoginBody, summary = "Log in with email and password (or LDAP); sets the refresh cookie", tag = "auth", responses((status = 200, description = "Success")))]
async fn login(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Response, ApiError> {
    check_ban(&state, None, &client).await?;
    let spec = &state.settings.limits.login;
    let window = spec.window.as_secs() / 60;
    limit(
        &state,
        spec,
        "login",
        None,
        &client,
        &format!("Too many login attempts, please try again after {window} minutes."),
    )
    .await?;
    if let Some(ldap) = &state.settings.ldap {
        return ldap_login(&state, &client, ldap, &body).await;
    }
    // A banned account is refused before its password is checked: the answer then says
    // nothing about the password, and no session is opened.
    if let Some(id) = state.accounts.user_id_for(&body.email).await? {
        check_ban(&state, Some(&id), &client).await?;
    }
    match state.accounts.login(&body.email, &body.password).await? {
        LoginOutcome::TwoFactorPending { temp_token } => {
            Ok(Json(json!({ "twoFAPending": true, "tempToken": temp_token })).into_response())
        }
        LoginOutcome::SignedIn(signed) => Ok(signed_in(&state, &client, &signed)),
    }
}

/// `/api/auth/login` when LDAP is configured: the directory checks the password (the form's
/// `email` is the login, an email or a username as `LDAP_SEARCH_FILTER` expects); the account
/// is found or created by the linking rule, and a ban on it is honoured before any session.
async fn ldap_login(
    state: &AppState,
    client: &Client,
    ldap: &crate::config::LdapSettings,
    body: &LoginBody,
) -> Result<Response, ApiError> {
    use crate::auth::ldap::{LdapFailure, authenticate};
    let identity = match authenticate(ldap, &body.email, &body.password).await {
        Ok(identity) => identity,
        Err(LdapFailure::BadCredentials) => {
            return Err(ApiError::Unauthorized(
                crate::auth::accounts::BAD_CREDENTIALS.into(),
            ));
        }
        Err(LdapFailure::NoEmail) => {
            return Err(ApiError::Forbidden(
                "Your directory entry has no email address; ask your administrator.".into(),
            ));
        }
        Err(LdapFailure::Unavailable(why)) => {
            tracing::error!(error = %why, "LDAP sign-in is unavailable");
            return Err(ApiError::Unavailable(
                "Sign-in is unavailable right now. Please try again later.".into(),
            ));
        }
    };
    // LibreChat's LDAP strategy creates the account of anyone the directory admits.
    let user = state.accounts.link_external(&identity, true).await?;
    check_ban(state, Some(&user.id), client).await?;
    match state.accounts.finish_login(user).await? {
        LoginOutcome::TwoFactorPending { temp_token } => {
            Ok(Json(json!({ "twoFAPending": true, "tempToken": temp_token })).into_response())
        }
        LoginOutcome::SignedIn(signed) => Ok(signed_in(state, client, &signed)),
    }
}

/// LibreChat answers the refresh route's refusals in plain text (Express's `res.send(string)`).
fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, [(CONTENT_TYPE, "text/html; charset=utf-8")], text).into_response()
}

/// Renews the access token from the refresh cookie, answering as LibreChat does: 200 and a note
/// without a cookie; 403 `Invalid refresh token` for a cookie that is not one of ours (bad
/// signature, malformed, expired); for a genuine token whose session is gone (logged out,
/// rotated away, revoked), 401, or 403 `No session found` when the client says it is retrying
/// (`?retry=true`). The cookie is left as it is, as LibreChat leaves it.
#[utoipa::path(post, path = "/api/auth/refresh", operation_id = "auth_refresh", summary = "A new access token from the refresh cookie", tag = "auth", responses((status = 200, description = "Success"), (status = 401, description = "The session is gone"), (status = 403, description = "Not a valid refresh token")))]
async fn refresh(
    State(state): State<AppState>,
    client: Client,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(token) = refresh_cookie(&headers) else {
        // LibreChat's answer: not an error, there is simply no session to renew (its client
        // reads "no token" and shows the login page).
        return Ok(plain(StatusCode::OK, "Refresh token not provided"));
    };
    // Bans are checked before the token is rotated: a refused refresh leaves the session and
    // its cookie as they were, to work again when the ban ends.
    let user_id = state.accounts.tokens.verify_refresh(&token).map(|c| c.id);
    check_ban(&state, user_id.as_deref(), &client).await?;
    if user_id.is_none() {
        return Ok(plain(StatusCode::FORBIDDEN, "Invalid refresh token"));
    }
    // LibreChat's client asks again with `?retry=true` after a 401 from this route.
    let retry = url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .any(|(k, v)| k == "retry" && !v.is_empty());
    match state.accounts.refresh(&token).await {
        Ok(signed) => Ok(signed_in(&state, &client, &signed)),
        Err(AuthError::Unauthorized(_)) if retry => {
            Ok(plain(StatusCode::FORBIDDEN, "No session found"))
        }
        Err(AuthError::Unauthorized(_)) => Ok(plain(
            StatusCode::UNAUTHORIZED,
            "Refresh token expired or not found for this user",
        )),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(post, path = "/api/auth/logout", operation_id = "auth_logout", summary = "Log out: end the session, with its refresh token and its access tokens", tag = "auth", responses((status = 200, description = "Success")))]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let cookie = refresh_cookie(&headers);
    let access = bearer(&headers);
    let tokens = &state.accounts.tokens;
    let user_id = cookie
        .as_deref()
        .and_then(|t| tokens.verify_refresh(t))
        .map(|c| c.id)
        .or_else(|| access.and_then(|t| tokens.verify_access(t)).map(|c| c.id));
    state.accounts.logout(cookie.as_deref(), access).await?;
    let mut body = json!({ "message": "Logout successful" });
    // Someone who signed in with OpenID is also signed out at the provider, when configured.
    if let (Some(openid), Some(id)) = (&state.openid, user_id) {
        let user = state
            .db
            .read(move |c| crate::db::users::find_by_id(c, &id))
            .await?;
        if user.is_some_and(|u| u.provider == "openid")
            && let Some(url) = openid.end_session_url().await
        {
            body["redirect"] = json!(url);
        }
    }
    Ok(([(SET_COOKIE, clear_refresh_cookie())], Json(body)).into_response())
}

/// `{token, user}` with the refresh cookie, LibreChat's answer to a successful sign-in.
pub fn signed_in(state: &AppState, client: &Client, s: &SignedIn) -> Response {
    let cookie = set_refresh_cookie(state, client, &s.refresh_token, s.refresh_max_age);
    (
        [(SET_COOKIE, cookie)],
        Json(json!({ "token": s.access_token, "user": public_user(&s.user) })),
    )
        .into_response()
}
