//! `/oauth/*`: single sign-on that goes through the browser. `GET /oauth/openid` (or
//! `/oauth/google`, `github`, `discord`, `facebook`, `apple`, `saml`) sends the browser to the
//! provider, bound to it by the sign-in cookie; the `.../callback` comes back with a code (or,
//! for SAML, a signed assertion) in that browser, signs the person in by the linking rule and
//! sets the same refresh cookie as a local login (or goes to the two-factor step) before
//! returning to the app; `GET /oauth/error` returns to the login page with a message, as
//! LibreChat's does; `GET /oauth/success` is the web app's page where an action's sign-in
//! window ends (never taken for a provider's name). Starts and provider answers count against the login limiter.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::oauth_flow::{
    bind_browser, browser, conclude, held_key, redirect, refuse, refused_here, resume_with_get,
    to_login,
};
use crate::auth::apple::ApplePost;
use crate::auth::external::SignInFailure;
use crate::auth::saml::{SamlPost, SamlSignInError};
use crate::auth::sign_in_state::Unavailable;
use crate::server::middleware::Client;
use crate::server::middleware::auth::{check_ban, limit};
use crate::server::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openid_start))
        .routes(routes!(openid_callback))
        .routes(routes!(error_page))
        .routes(routes!(success_page))
        .routes(routes!(apple_start))
        .routes(routes!(apple_callback, apple_resume))
        .routes(routes!(saml_start))
        .routes(routes!(saml_callback, saml_resume))
        .routes(routes!(saml_metadata))
        .routes(routes!(social_start))
        .routes(routes!(social_callback))
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

const INCOMPLETE: &str = "The sign-in answer was incomplete.";

/// What a callback brings back: a code and a state, or why not (the provider's refusal, or
/// an incomplete answer).
fn code_and_state(
    error: Option<String>,
    description: Option<String>,
    code: Option<String>,
    st: Option<String>,
) -> Result<(String, String), String> {
    if let Some(err) = error {
        let message = description.unwrap_or(err);
        return Err(format!("The provider refused the sign-in: {message}"));
    }
    match (code, st) {
        (Some(code), Some(st)) => Ok((code, st)),
        _ => Err(INCOMPLETE.into()),
    }
}

#[utoipa::path(get, path = "/oauth/openid", operation_id = "oauth_openid_start", summary = "OpenID Connect: go to the provider", tag = "oauth", responses((status = 200, description = "Success")))]
async fn openid_start(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
) -> Response {
    let openid = match entry(&state, &client, state.openid.clone()).await {
        Ok(o) => o,
        Err(to_login_page) => return to_login_page,
    };
    let (id, cookie) = bind_browser(&state, &client, &headers);
    let origin = client.server_url(&state.settings.server);
    match openid.start(origin, &id).await {
        Ok(url) => redirect(&url, Some(cookie)),
        Err(e) => refuse(&state, e.to_string(), Some(&format!("{e:?}")), "openid"),
    }
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

const NOT_CONFIGURED: &str = "This sign-in method is not configured here.";

#[utoipa::path(get, path = "/oauth/openid/callback", operation_id = "oauth_openid_callback", summary = "OpenID Connect: the provider's redirect back", tag = "oauth", responses((status = 200, description = "Success")))]
async fn openid_callback(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let openid = match entry(&state, &client, state.openid.clone()).await {
        Ok(o) => o,
        Err(to_login_page) => return to_login_page,
    };
    let (code, st) = match code_and_state(q.error, q.error_description, q.code, q.state) {
        Ok(c) => c,
        Err(message) => return to_login(&state, "auth_failed", &message),
    };
    let browser = browser(&state, &client, &headers);
    // OpenID registers people whatever ALLOW_SOCIAL_REGISTRATION says, as LibreChat does.
    let result = openid.finish(&code, &st, browser.as_deref()).await;
    conclude(&state, &client, result, true, "openid").await
}

/// How every `/oauth` route begins: the login limiter, then the sign-in method if it is
/// `configured` and social login is on (as in LibreChat, every browser sign-in but LDAP needs
/// ALLOW_SOCIAL_LOGIN). `Err` is the way back to the login page with why.
async fn entry<T>(state: &AppState, client: &Client, configured: Option<T>) -> Result<T, Response> {
    if let Err(e) = limited(state, client).await {
        return Err(refused_here(state, &e));
    }
    switched_on(state, configured).ok_or_else(|| to_login(state, "auth_failed", NOT_CONFIGURED))
}

/// The sign-in method if it is `configured` and social login is on.
fn switched_on<T>(state: &AppState, configured: Option<T>) -> Option<T> {
    configured.filter(|_| state.settings.auth.allow_social_login)
}

#[utoipa::path(get, path = "/oauth/{provider}", operation_id = "oauth_social_start", summary = "Google, GitHub, Discord or Facebook: go to the provider", tag = "oauth", params(("provider" = String, Path)), responses((status = 200, description = "Success")))]
async fn social_start(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Path(provider): Path<String>,
) -> Response {
    let s = match entry(&state, &client, state.social.get(&provider)).await {
        Ok(s) => s,
        Err(to_login_page) => return to_login_page,
    };
    let (id, cookie) = bind_browser(&state, &client, &headers);
    let origin = client.server_url(&state.settings.server);
    match state.social.start(s, origin, &id).await {
        Ok(url) => redirect(&url, Some(cookie)),
        Err(e) => refuse(&state, e.to_string(), Some(&format!("{e:?}")), &provider),
    }
}

#[utoipa::path(get, path = "/oauth/{provider}/callback", operation_id = "oauth_social_callback", summary = "Google, GitHub, Discord or Facebook: the provider's redirect back", tag = "oauth", params(("provider" = String, Path)), responses((status = 200, description = "Success")))]
async fn social_callback(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Path(provider): Path<String>,
    Query(q): Query<Callback>,
) -> Response {
    let s = match entry(&state, &client, state.social.get(&provider)).await {
        Ok(s) => s,
        Err(to_login_page) => return to_login_page,
    };
    let (code, st) = match code_and_state(q.error, q.error_description, q.code, q.state) {
        Ok(c) => c,
        Err(message) => return to_login(&state, "auth_failed", &message),
    };
    let browser = browser(&state, &client, &headers);
    let result = state.social.finish(s, &code, &st, browser.as_deref()).await;
    let may_register = state.settings.auth.allow_social_registration;
    conclude(&state, &client, result, may_register, &provider).await
}

#[utoipa::path(get, path = "/oauth/apple", operation_id = "oauth_apple_start", summary = "Sign in with Apple: go to Apple", tag = "oauth", responses((status = 200, description = "Success")))]
async fn apple_start(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
) -> Response {
    match entry(&state, &client, state.apple.as_ref()).await {
        Ok(apple) => {
            let (id, cookie) = bind_browser(&state, &client, &headers);
            let origin = client.server_url(&state.settings.server);
            match apple.start(origin, &id).await {
                Ok(url) => redirect(&url, Some(cookie)),
                Err(e) => refuse(&state, e.to_string(), Some(&format!("{e:?}")), "apple"),
            }
        }
        Err(to_login_page) => to_login_page,
    }
}

#[utoipa::path(post, path = "/oauth/apple/callback", operation_id = "oauth_apple_callback", request_body(content = ApplePost, content_type = "application/x-www-form-urlencoded"), summary = "Sign in with Apple: Apple's form POST (held, then on to the GET)", tag = "oauth", responses((status = 303, description = "On to the GET of the same address")))]
async fn apple_callback(
    State(state): State<AppState>,
    client: Client,
    form: Result<axum::Form<ApplePost>, axum::extract::rejection::FormRejection>,
) -> Response {
    let apple = match entry(&state, &client, state.apple.clone()).await {
        Ok(a) => a,
        Err(to_login_page) => return to_login_page,
    };
    match form {
        Ok(axum::Form(f)) => match apple.posted.hold(f).await {
            Ok(key) => resume_with_get(&state, &client, &key),
            Err(e) => to_login(&state, "auth_failed", &e.to_string()),
        },
        // Not the form Apple sends: back to the login page, as any failed sign-in.
        Err(_) => to_login(&state, "auth_failed", INCOMPLETE),
    }
}

#[derive(Deserialize)]
struct Resume {
    resume: Option<String>,
}

/// The browser's GET after a held form POST: the held answer, if any (and if this browser
/// posted it), for the sign-in method if it is still on. Bans are checked; the limiter
/// already counted the POST.
async fn resumed<T, A>(
    state: &AppState,
    client: &Client,
    headers: &HeaderMap,
    configured: Option<T>,
    key: Option<String>,
    take: impl AsyncFnOnce(&T, &str) -> Result<Option<A>, Unavailable>,
) -> Result<(T, A), Response> {
    if let Err(e) = check_ban(state, None, client).await {
        return Err(refused_here(state, &e));
    }
    let method = switched_on(state, configured)
        .ok_or_else(|| to_login(state, "auth_failed", NOT_CONFIGURED))?;
    let expired = || {
        to_login(
            state,
            "auth_failed",
            "The sign-in expired or was not started here. Please try again.",
        )
    };
    let key = held_key(state, client, headers, key).ok_or_else(expired)?;
    let answer = take(&method, &key)
        .await
        .map_err(|e| to_login(state, "auth_failed", &e.to_string()))?
        .ok_or_else(expired)?;
    Ok((method, answer))
}

#[utoipa::path(get, path = "/oauth/apple/callback", operation_id = "oauth_apple_resume", summary = "Sign in with Apple: the browser's GET after Apple's form POST", tag = "oauth", params(("resume" = String, Query)), responses((status = 302, description = "To the app, the two-factor step, or the login page")))]
async fn apple_resume(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Query(q): Query<Resume>,
) -> Response {
    let held = resumed(
        &state,
        &client,
        &headers,
        state.apple.clone(),
        q.resume,
        async |a, k| a.posted.take(k).await,
    );
    let (apple, f) = match held.await {
        Ok(h) => h,
        Err(to_login_page) => return to_login_page,
    };
    let (code, st) = match code_and_state(f.error, None, f.code, f.state) {
        Ok(c) => c,
        Err(message) => return to_login(&state, "auth_failed", &message),
    };
    let browser = browser(&state, &client, &headers);
    let result = apple
        .finish(&code, &st, f.user.as_deref(), browser.as_deref())
        .await;
    let may_register = state.settings.auth.allow_social_registration;
    conclude(&state, &client, result, may_register, "apple").await
}

/// Our SAML callback address: `SAML_CALLBACK_URL` on `DOMAIN_SERVER` (or this request's address).
fn acs(state: &AppState, saml: &crate::auth::saml::Saml, client: &Client) -> String {
    saml.acs_url(client.server_url(&state.settings.server))
}

#[utoipa::path(get, path = "/oauth/saml", operation_id = "oauth_saml_start", summary = "SAML: go to the identity provider with an AuthnRequest", tag = "oauth", responses((status = 200, description = "Success")))]
async fn saml_start(State(state): State<AppState>, client: Client, headers: HeaderMap) -> Response {
    let saml = match entry(&state, &client, state.saml.clone()).await {
        Ok(s) => s,
        Err(to_login_page) => return to_login_page,
    };
    let (id, cookie) = bind_browser(&state, &client, &headers);
    match saml.start(&acs(&state, &saml, &client), &id).await {
        Ok(url) => redirect(&url, Some(cookie)),
        Err(e) => refuse(&state, e.to_string(), e.detail(), "saml"),
    }
}

fn malformed(state: &AppState) -> Response {
    to_login(
        state,
        "auth_failed",
        &SamlSignInError::Malformed.to_string(),
    )
}

#[utoipa::path(post, path = "/oauth/saml/callback", operation_id = "oauth_saml_callback", request_body(content = SamlPost, content_type = "application/x-www-form-urlencoded"), summary = "SAML: the identity provider's HTTP-POST answer (held, then on to the GET)", tag = "oauth", responses((status = 303, description = "On to the GET of the same address")))]
async fn saml_callback(
    State(state): State<AppState>,
    client: Client,
    form: Result<axum::Form<SamlPost>, axum::extract::rejection::FormRejection>,
) -> Response {
    use crate::auth::saml::MAX_RESPONSE_BYTES;
    let saml = match entry(&state, &client, state.saml.clone()).await {
        Ok(s) => s,
        Err(to_login_page) => return to_login_page,
    };
    match form {
        Ok(axum::Form(f))
            if f.response
                .as_ref()
                .is_some_and(|r| !r.is_empty() && r.len() <= MAX_RESPONSE_BYTES)
                && f.relay_state.as_ref().is_none_or(|r| r.len() <= 4096) =>
        {
            match saml.posted.hold(f).await {
                Ok(key) => resume_with_get(&state, &client, &key),
                Err(e) => to_login(&state, "auth_failed", &e.to_string()),
            }
        }
        _ => malformed(&state),
    }
}

#[utoipa::path(get, path = "/oauth/saml/callback", operation_id = "oauth_saml_resume", summary = "SAML: the browser's GET after the identity provider's POST", tag = "oauth", params(("resume" = String, Query)), responses((status = 302, description = "To the app, the two-factor step, or the login page")))]
async fn saml_resume(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Query(q): Query<Resume>,
) -> Response {
    let held = resumed(
        &state,
        &client,
        &headers,
        state.saml.clone(),
        q.resume,
        async |s, k| s.posted.take(k).await,
    );
    let (saml, f) = match held.await {
        Ok(h) => h,
        Err(to_login_page) => return to_login_page,
    };
    let Some(response) = f.response else {
        return malformed(&state);
    };
    let acs = acs(&state, &saml, &client);
    let browser = browser(&state, &client, &headers);
    let result = saml
        .finish(&state.db, acs, response, f.relay_state, browser)
        .await;
    // SAML registers people whatever ALLOW_SOCIAL_REGISTRATION says, as LibreChat does.
    conclude(&state, &client, result, true, "saml").await
}

/// Our SAML metadata, to register this server with the IdP.
#[utoipa::path(get, path = "/oauth/saml/metadata", operation_id = "oauth_saml_metadata", tag = "oauth", responses((status = 200, description = "Success")))]
async fn saml_metadata(State(state): State<AppState>, client: Client) -> Response {
    let Some(saml) = state.saml.clone() else {
        return (StatusCode::NOT_FOUND, "SAML is not configured.").into_response();
    };
    match saml.metadata(&acs(&state, &saml, &client)) {
        Ok(xml) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "application/samlmetadata+xml",
            )],
            xml,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "SAML metadata");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Where an action's sign-in window lands once the server kept the tokens (the callback's
/// redirect): the web app's page, LibreChat's client's or ours, which says so.
#[utoipa::path(get, path = "/oauth/success", operation_id = "oauth_success_page", summary = "The web app's page that ends an action's sign-in window", tag = "oauth", params(("serverName" = Option<String>, Query)), responses((status = 200, description = "The web app", content_type = "text/html")))]
async fn success_page(
    axum::Extension(web): axum::Extension<crate::web::WebOptions>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    crate::web::respond(&web, &method, &uri, &headers)
        .await
        .unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

#[derive(Deserialize)]
struct ErrorQuery {
    error: Option<String>,
    message: Option<String>,
}

#[utoipa::path(get, path = "/oauth/error", operation_id = "oauth_error_page", summary = "Back to the login page with a sign-in error", tag = "oauth", responses((status = 200, description = "Success")))]
async fn error_page(State(state): State<AppState>, Query(q): Query<ErrorQuery>) -> Response {
    to_login(
        &state,
        q.error.as_deref().unwrap_or("auth_failed"),
        q.message.as_deref().unwrap_or("Sign-in failed."),
    )
}
