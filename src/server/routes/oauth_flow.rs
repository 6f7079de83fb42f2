//! What every `/oauth` sign-in shares: the cookie that binds a sign-in to the browser that
//! started it, the hop that turns a provider's cross-site form POST into a GET that carries
//! that cookie, and the end of every callback (a session, the two-factor step, or the login
//! page with why).

use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth::LoginOutcome;
use crate::auth::external::{ExternalIdentity, SignInFailure};
use crate::auth::sign_in_state::{is_browser_id, new_browser_id};
use crate::cookies;
use crate::server::middleware::Client;
use crate::server::middleware::auth::{check_ban, secure_cookies, set_refresh_cookie};
use crate::server::{ApiError, AppState};

/// The sign-in cookie: a random id for this browser, HttpOnly, SameSite=Lax (a provider's
/// redirect back is a top-level GET, which carries it), ten minutes. Over https cookies here
/// are Secure and `__Host-` prefixed, so a sibling subdomain cannot plant one.
const BROWSER_COOKIE: &str = "librechat_sso";
/// The key of a held form POST, set on the POST's answer (a top-level navigation may set a Lax
/// cookie) and required with the key in the URL, so a logged URL alone resumes nothing.
const HELD_COOKIE: &str = "librechat_sso_post";

/// A cookie of ours: `name`, or `__Host-name` over https.
struct Cookie {
    name: String,
    secure: bool,
}

impl Cookie {
    fn new(state: &AppState, client: &Client, name: &str) -> Self {
        let secure = secure_cookies(state, client);
        let name = if secure {
            format!("__Host-{name}")
        } else {
            name.to_owned()
        };
        Self { name, secure }
    }

    /// Its value in the request, if sent and shaped like our ids.
    fn read(&self, headers: &HeaderMap) -> Option<String> {
        cookies::values(headers, &self.name)
            .find(|v| is_browser_id(v))
            .map(str::to_owned)
    }

    /// `Set-Cookie` for `value`, good for `max_age` seconds.
    fn set(&self, value: &str, max_age: u32) -> String {
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
            self.name,
            if self.secure { "; Secure" } else { "" }
        )
    }
}

/// The id in this browser's sign-in cookie, if it sent one.
pub fn browser(state: &AppState, client: &Client, headers: &HeaderMap) -> Option<String> {
    Cookie::new(state, client, BROWSER_COOKIE).read(headers)
}

/// This browser's id for a sign-in it starts (the one it has, so sign-ins started in two
/// tabs both finish), and the `Set-Cookie` that keeps it ten more minutes.
pub fn bind_browser(state: &AppState, client: &Client, headers: &HeaderMap) -> (String, String) {
    let cookie = Cookie::new(state, client, BROWSER_COOKIE);
    let id = cookie.read(headers).unwrap_or_else(new_browser_id);
    let set = cookie.set(&id, 600);
    (id, set)
}

/// The app's root, where the browser goes back to.
pub fn app_root(state: &AppState) -> String {
    crate::web::WebOptions::base_href_from(state.settings.server.domain_client.as_deref())
}

pub fn redirect(to: &str, cookie: Option<String>) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(LOCATION, v);
    }
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(SET_COOKIE, c);
    }
    resp
}

/// A provider's form POST, held under `key`: on to a GET of the same callback (`?resume=`), a
/// top-level navigation that carries the SameSite=Lax sign-in cookie the cross-site POST did
/// not. 303, so the browser does not post again.
pub fn resume_with_get(state: &AppState, client: &Client, key: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    // Relative: the same path, whatever path the provider posted to.
    if let Ok(v) = HeaderValue::from_str(&format!("?resume={key}")) {
        resp.headers_mut().insert(LOCATION, v);
    }
    let held = Cookie::new(state, client, HELD_COOKIE).set(key, 120);
    if let Ok(v) = HeaderValue::from_str(&held) {
        resp.headers_mut().insert(SET_COOKIE, v);
    }
    resp
}

/// The key of the held POST this GET resumes: the one in the URL, if this browser holds the
/// cookie the POST's answer set with it.
pub fn held_key(
    state: &AppState,
    client: &Client,
    headers: &HeaderMap,
    in_url: Option<String>,
) -> Option<String> {
    let cookie = Cookie::new(state, client, HELD_COOKIE).read(headers)?;
    in_url.filter(|k| *k == cookie)
}

/// Back to the login page with `message` (LibreChat's `/login?redirect=false&error=...`).
pub fn to_login(state: &AppState, error: &str, message: &str) -> Response {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("redirect", "false")
        .append_pair("error", error)
        .append_pair("message", message)
        .finish();
    redirect(&format!("{}login?{q}", app_root(state)), None)
}

/// A failed sign-in's message for the person, and what to log (the provider's own failures).
pub fn refuse(state: &AppState, message: String, detail: Option<&str>, provider: &str) -> Response {
    if let Some(why) = detail {
        tracing::error!(error = %why, provider, "a sign-in failed");
    }
    to_login(state, "auth_failed", &message)
}

/// What the person reads when a sign-in failed on this server's side (the cause is logged).
const SERVER_FAILED: &str =
    "Sign-in failed because of a problem on this server. Please try again later.";

/// Back to the login page for a sign-in this server refused: its reason for a 4xx (a ban, a
/// limit, a refusal of the account), a general message for a 5xx, whose cause goes to the log
/// (inside the request's span, so with its id).
pub fn refused_here(state: &AppState, e: &ApiError) -> Response {
    if e.status().is_server_error() {
        let cause = match e {
            ApiError::Internal(cause) => format!("{cause:#}"),
            other => other.to_string(),
        };
        tracing::error!(error = %cause, "a sign-in failed on this server");
        return to_login(state, "auth_failed", SERVER_FAILED);
    }
    to_login(state, "auth_failed", &e.to_string())
}

/// The end of every callback: signed in and back to the app, or to the login page with why.
pub async fn conclude<E: SignInFailure>(
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

/// Links `identity` to an account and checks bans; then, as for a password login, a session,
/// or the two-factor step first. That step is LibreChat's client page `login/2fa?tempToken=`
/// (the bundled app has it too), which posts the code to `/api/auth/2fa/verify-temp`.
async fn sign_in_and_return(
    state: &AppState,
    client: &Client,
    identity: &ExternalIdentity,
    may_register: bool,
) -> Response {
    let outcome = async {
        let user = state.accounts.link_external(identity, may_register).await?;
        check_ban(state, Some(&user.id), client).await?;
        Ok::<_, ApiError>(state.accounts.finish_login(user).await?)
    }
    .await;
    match outcome {
        Ok(LoginOutcome::SignedIn(s)) => {
            let cookie = set_refresh_cookie(state, client, &s.refresh_token, s.refresh_max_age);
            redirect(&app_root(state), Some(cookie))
        }
        Ok(LoginOutcome::TwoFactorPending { temp_token }) => {
            let q = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("tempToken", &temp_token)
                .finish();
            redirect(&format!("{}login/2fa?{q}", app_root(state)), None)
        }
        Err(e) => refused_here(state, &e),
    }
}
