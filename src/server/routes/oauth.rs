//! `/oauth/*`: single sign-on that goes through the browser. `GET /oauth/openid` (or
//! `/oauth/google`, `github`, `discord`, `facebook`, `apple`, `saml`) sends the browser to the
//! provider; the `.../callback` comes back with a code (or, for SAML, a signed assertion), signs the person in by the linking rule and sets the
//! same refresh cookie as a local login before returning to the app; `GET /oauth/error` returns to the login page with a message, as
//! LibreChat's does. The whole router counts against the login limiter.

use axum::extract::{Path, Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::external::{ExternalIdentity, SignInFailure};
use crate::server::middleware::Client;
use crate::server::middleware::auth::{check_ban, limit, set_refresh_cookie};
use crate::server::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openid_start))
        .routes(routes!(openid_callback))
        .routes(routes!(error_page))
        .routes(routes!(apple_start))
        .routes(routes!(apple_callback))
        .routes(routes!(saml_start))
        .routes(routes!(saml_callback))
        .routes(routes!(saml_metadata))
        .routes(routes!(social_start))
        .routes(routes!(social_callback))
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

/// A failed sign-in's message for the person, and what to log (the provider's own failures).
fn refuse(state: &AppState, message: String, detail: Option<&str>, provider: &str) -> Response {
    if let Some(why) = detail {
        tracing::error!(error = %why, provider, "a sign-in failed");
    }
    to_login(state, "auth_failed", &message)
}

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
        _ => Err("The sign-in answer was incomplete.".into()),
    }
}

#[utoipa::path(get, path = "/oauth/openid", operation_id = "oauth_openid_start", summary = "OpenID Connect: go to the provider", tag = "oauth", responses((status = 200, description = "Success")))]
async fn openid_start(State(state): State<AppState>, client: Client) -> Response {
    let openid = match entry(&state, &client, state.openid.clone()).await {
        Ok(o) => o,
        Err(to_login_page) => return to_login_page,
    };
    match openid.start(&client.base_url).await {
        Ok(url) => redirect(&url, None),
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
    // OpenID registers people whatever ALLOW_SOCIAL_REGISTRATION says, as LibreChat does.
    let result = openid.finish(&code, &st).await;
    conclude(&state, &client, result, true, "openid").await
}

/// How every `/oauth` route begins: the login limiter, then the sign-in method if it is
/// `configured` and social login is on (as in LibreChat, every browser sign-in but LDAP needs
/// ALLOW_SOCIAL_LOGIN). `Err` is the way back to the login page with why.
async fn entry<T>(state: &AppState, client: &Client, configured: Option<T>) -> Result<T, Response> {
    if let Err(e) = limited(state, client).await {
        return Err(to_login(state, "auth_failed", &e.to_string()));
    }
    configured
        .filter(|_| state.settings.auth.allow_social_login)
        .ok_or_else(|| to_login(state, "auth_failed", NOT_CONFIGURED))
}

#[utoipa::path(get, path = "/oauth/{provider}", operation_id = "oauth_social_start", summary = "Google, GitHub, Discord or Facebook: go to the provider", tag = "oauth", params(("provider" = String, Path)), responses((status = 200, description = "Success")))]
async fn social_start(
    State(state): State<AppState>,
    client: Client,
    Path(provider): Path<String>,
) -> Response {
    let s = match entry(&state, &client, state.social.get(&provider)).await {
        Ok(s) => s,
        Err(to_login_page) => return to_login_page,
    };
    match state.social.start(s, &client.base_url) {
        Ok(url) => redirect(&url, None),
        Err(e) => refuse(&state, e.to_string(), Some(&format!("{e:?}")), &provider),
    }
}

#[utoipa::path(get, path = "/oauth/{provider}/callback", operation_id = "oauth_social_callback", summary = "Google, GitHub, Discord or Facebook: the provider's redirect back", tag = "oauth", params(("provider" = String, Path)), responses((status = 200, description = "Success")))]
async fn social_callback(
    State(state): State<AppState>,
    client: Client,
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
    let result = state.social.finish(s, &code, &st).await;
    let may_register = state.settings.auth.allow_social_registration;
    conclude(&state, &client, result, may_register, &provider).await
}

#[utoipa::path(get, path = "/oauth/apple", operation_id = "oauth_apple_start", summary = "Sign in with Apple: go to Apple", tag = "oauth", responses((status = 200, description = "Success")))]
async fn apple_start(State(state): State<AppState>, client: Client) -> Response {
    match entry(&state, &client, state.apple.as_ref()).await {
        Ok(apple) => redirect(&apple.start(&client.base_url), None),
        Err(to_login_page) => to_login_page,
    }
}

/// What Apple posts back (`response_mode=form_post`).
#[derive(Deserialize, utoipa::ToSchema)]
struct AppleCallback {
    code: Option<String>,
    state: Option<String>,
    user: Option<String>,
    error: Option<String>,
}

#[utoipa::path(post, path = "/oauth/apple/callback", operation_id = "oauth_apple_callback", request_body(content = AppleCallback, content_type = "application/x-www-form-urlencoded"), summary = "Sign in with Apple: Apple's form POST", tag = "oauth", responses((status = 200, description = "Success")))]
async fn apple_callback(
    State(state): State<AppState>,
    client: Client,
    axum::Form(f): axum::Form<AppleCallback>,
) -> Response {
    let apple = match entry(&state, &client, state.apple.clone()).await {
        Ok(a) => a,
        Err(to_login_page) => return to_login_page,
    };
    let (code, st) = match code_and_state(f.error, None, f.code, f.state) {
        Ok(c) => c,
        Err(message) => return to_login(&state, "auth_failed", &message),
    };
    let result = apple.finish(&code, &st, f.user.as_deref()).await;
    let may_register = state.settings.auth.allow_social_registration;
    conclude(&state, &client, result, may_register, "apple").await
}

/// [`entry`] for SAML, with the callback address for this request.
async fn saml_entry(
    state: &AppState,
    client: &Client,
) -> Result<(std::sync::Arc<crate::auth::saml::Saml>, String), Response> {
    let saml = entry(state, client, state.saml.clone()).await?;
    let acs = saml.acs_url(
        state.settings.server.domain_server.as_deref(),
        &client.base_url,
    );
    Ok((saml, acs))
}

#[utoipa::path(get, path = "/oauth/saml", operation_id = "oauth_saml_start", summary = "SAML: go to the identity provider with an AuthnRequest", tag = "oauth", responses((status = 200, description = "Success")))]
async fn saml_start(State(state): State<AppState>, client: Client) -> Response {
    let (saml, acs) = match saml_entry(&state, &client).await {
        Ok(s) => s,
        Err(to_login_page) => return to_login_page,
    };
    match saml.start(&acs) {
        Ok(url) => redirect(&url, None),
        Err(e) => refuse(&state, e.to_string(), e.detail(), "saml"),
    }
}

/// What the IdP posts back (HTTP-POST binding).
#[derive(Deserialize, utoipa::ToSchema)]
struct SamlCallback {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

#[utoipa::path(post, path = "/oauth/saml/callback", operation_id = "oauth_saml_callback", request_body(content = SamlCallback, content_type = "application/x-www-form-urlencoded"), summary = "SAML: the identity provider's HTTP-POST answer", tag = "oauth", responses((status = 200, description = "Success")))]
async fn saml_callback(
    State(state): State<AppState>,
    client: Client,
    form: Result<axum::Form<SamlCallback>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (saml, acs) = match saml_entry(&state, &client).await {
        Ok(s) => s,
        Err(to_login_page) => return to_login_page,
    };
    let Ok(axum::Form(SamlCallback {
        saml_response: Some(response),
        relay_state,
    })) = form
    else {
        return to_login(
            &state,
            "auth_failed",
            &crate::auth::saml::SamlSignInError::Malformed.to_string(),
        );
    };
    let result = saml.finish(&state.db, acs, response, relay_state).await;
    // SAML registers people whatever ALLOW_SOCIAL_REGISTRATION says, as LibreChat does.
    conclude(&state, &client, result, true, "saml").await
}

/// Our SAML metadata, to register this server with the IdP.
#[utoipa::path(get, path = "/oauth/saml/metadata", operation_id = "oauth_saml_metadata", tag = "oauth", responses((status = 200, description = "Success")))]
async fn saml_metadata(State(state): State<AppState>, client: Client) -> Response {
    let Some(saml) = state.saml.clone() else {
        return (StatusCode::NOT_FOUND, "SAML is not configured.").into_response();
    };
    let acs = saml.acs_url(
        state.settings.server.domain_server.as_deref(),
        &client.base_url,
    );
    match saml.metadata(&acs) {
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

/// The end of every callback: signed in and back to the app, or to the login page with why.
async fn conclude<E: SignInFailure>(
    state: &AppState,
    client: &Client,
    result: Result<ExternalIdentity, E>,
    may_register: bool,
    provider: &str,
) -> Response {
    match result {
        Ok(identity) => sign_in_and_return(state, client, &identity, may_register).await,
        Err(e) => refuse(state, e.to_string(), e.detail(), provider),
    }
}

/// Links `identity` to an account, checks bans, opens a session and returns to the app.
async fn sign_in_and_return(
    state: &AppState,
    client: &Client,
    identity: &ExternalIdentity,
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
