//! Access level in the signature: `AuthUser` (a valid access token of an existing, unbanned
//! user, whose session has not ended), `AdminUser` (the same, with the ADMIN role),
//! `AuthSession` (the user and the token's session), and the checks routes share.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::Client;
use crate::auth::permissions::ADMIN;
use crate::config::LimitSpec;
use crate::cookies;
use crate::db::users::{self, User};
use crate::server::{ApiError, AppState};

/// The signed-in user of this request.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

/// The signed-in user, who is an administrator.
#[derive(Debug, Clone)]
pub struct AdminUser(pub User);

/// The signed-in user and the session their access token belongs to, for the routes that need
/// the session itself (sensitive changes, which check how recent the sign-in was).
#[derive(Debug, Clone)]
pub struct AuthSession {
    pub user: User,
    /// `None` for an OpenID provider's access token, which belongs to no session of ours.
    pub session_id: Option<String>,
}

impl FromRequestParts<AppState> for AuthSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = || ApiError::Unauthorized("Unauthorized".into());
        let token = bearer(&parts.headers).ok_or_else(unauthorized)?;
        let (id, session_id) = match state.accounts.tokens.verify_access(token) {
            Some(claims) => (claims.id, Some(claims.session_id)),
            // A token from the OpenID provider (OPENID_REUSE_TOKENS), for someone who has an
            // account.
            None => (openid_bearer(state, token).await?, None),
        };
        let client = Client::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|e| match e {});
        check_ban(state, Some(&id), &client).await?;
        // Our tokens are good only while their session lives: the same single read as the
        // user's, so logout, a reset or a ban (from any process) takes effect at once.
        let sid = session_id.clone();
        let mut user = state
            .db
            .read(move |c| match &sid {
                Some(sid) => users::find_in_session(c, &id, sid),
                None => users::find_by_id(c, &id),
            })
            .await?
            .ok_or_else(unauthorized)?;
        if session_id.is_none() {
            provider_token_limits(&mut user)?;
        }
        tracing::Span::current().record("user", user.id.as_str());
        Ok(AuthSession { user, session_id })
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthSession { user, .. } = AuthSession::from_request_parts(parts, state).await?;
        Ok(AuthUser(user))
    }
}

/// The account a token from the OpenID provider stands for (see `OpenId::verify_bearer`:
/// only with `OPENID_REUSE_TOKENS`, and the required role in the token).
async fn openid_bearer(state: &AppState, token: &str) -> Result<String, ApiError> {
    let unauthorized = || ApiError::Unauthorized("Unauthorized".into());
    let openid = state
        .openid
        .as_ref()
        .filter(|_| state.settings.auth.allow_social_login)
        .ok_or_else(unauthorized)?;
    let sub = openid.verify_bearer(token).await.ok_or_else(unauthorized)?;
    let user = state
        .db
        .read(move |c| {
            crate::db::identities::find(c, crate::db::identities::Provider::Openid, &sub)
        })
        .await?
        .ok_or_else(unauthorized)?;
    Ok(user.id)
}

/// What a token from the provider may not do. It proves the provider's sign-in only, so an
/// account with two-factor authentication on is refused (the code is asked here, at sign-in),
/// and it never carries the ADMIN role: the provider's admin role (`OPENID_ADMIN_ROLE`) is
/// checked at each sign-in here, not on its tokens, so administration needs a session signed
/// in here.
fn provider_token_limits(user: &mut User) -> Result<(), ApiError> {
    if user.two_factor_enabled {
        return Err(ApiError::Unauthorized(
            "This account uses two-factor authentication: sign in here to use it.".into(),
        ));
    }
    if user.role == ADMIN {
        user.role = crate::auth::permissions::USER.to_owned();
    }
    Ok(())
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if user.role != ADMIN {
            // LibreChat's `requireCapability` answers so.
            return Err(ApiError::Forbidden("Forbidden".into()));
        }
        Ok(AdminUser(user))
    }
}

/// 403 when the signed-in user is banned, or, for an anonymous request (`user_id` None), its
/// address: an address ban never blocks another account that is signed in (see `cache::Guard`).
pub async fn check_ban(
    state: &AppState,
    user_id: Option<&str>,
    client: &Client,
) -> Result<(), ApiError> {
    match state.guard.ban_of(user_id, client.ip).await? {
        Some(ban) => Err(ApiError::Banned {
            expires_at: ban.expires_at,
        }),
        None => Ok(()),
    }
}

/// Counts the request against a limiter: 429 past its maximum (recording a violation).
pub async fn limit(
    state: &AppState,
    spec: &LimitSpec,
    name: &str,
    user_id: Option<&str>,
    client: &Client,
    message: &str,
) -> Result<(), ApiError> {
    match state.guard.limit(spec, name, user_id, client.ip).await? {
        Ok(()) => Ok(()),
        Err(limited) => Err(ApiError::TooManyRequests {
            message: message.to_owned(),
            retry_after_secs: limited.retry_after.as_secs().max(1),
        }),
    }
}

/// Counts the request against a per-address limiter (`MESSAGE_IP_MAX`, ...): 429 past its
/// maximum, the violation scored on the signed-in `user_id` when there is one (see
/// `Guard::limit_address`).
pub async fn limit_address(
    state: &AppState,
    spec: &LimitSpec,
    name: &str,
    user_id: Option<&str>,
    client: &Client,
    message: &str,
) -> Result<(), ApiError> {
    match state
        .guard
        .limit_address(spec, name, user_id, client.ip)
        .await?
    {
        Ok(()) => Ok(()),
        Err(limited) => Err(ApiError::TooManyRequests {
            message: message.to_owned(),
            retry_after_secs: limited.retry_after.as_secs().max(1),
        }),
    }
}

/// The `Authorization: Bearer` token, if sent.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// The `refreshToken` cookie, if sent.
pub fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    cookies::values(headers, "refreshToken")
        .next()
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// `Set-Cookie` for the refresh token: HttpOnly, SameSite=Strict, Secure when the public URL
/// is https (or as `SESSION_COOKIE_SECURE` says).
pub fn set_refresh_cookie(state: &AppState, client: &Client, token: &str, max_age: u64) -> String {
    let secure = secure_cookies(state, client);
    format!(
        "refreshToken={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Whether cookies get the Secure flag: `SESSION_COOKIE_SECURE` when set (LibreChat's
/// override), else whenever the public URL is https, even if this request came over HTTP.
pub fn secure_cookies(state: &AppState, client: &Client) -> bool {
    state
        .settings
        .auth
        .session_cookie_secure
        .unwrap_or_else(|| client.public_https(&state.settings.server))
}

pub fn clear_refresh_cookie() -> &'static str {
    "refreshToken=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
}
