//! `/api/actions/:action_id/oauth`: the end of an action's OAuth sign-in (LibreChat's
//! `routes/actions.js`). The client binds the browser first (`POST .../bind`, a cookie the
//! callback must bring back); the provider sends the person to `GET .../callback` with a code,
//! which the server trades for tokens (`crate::agents::actions::oauth`); the person lands on
//! `/oauth/success`, or on `/oauth/error?error=...` with LibreChat's reason.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::oauth_flow::{app_root, redirect};
use crate::agents::actions::oauth::BIND_TTL;
use crate::agents::actions::valid_id;
use crate::cookies;
use crate::server::middleware::auth::secure_cookies;
use crate::server::middleware::{AuthUser, Client};
use crate::server::{ApiError, AppState};

/// LibreChat's CSRF cookie, scoped to these routes.
const CSRF_COOKIE: &str = "oauth_csrf";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bind))
        .routes(routes!(callback))
}

/// Binds this browser to the caller's coming sign-in on the action (before it opens the
/// provider's page).
#[utoipa::path(post, path = "/api/actions/{action_id}/oauth/bind", operation_id = "actions_oauth_bind", summary = "Bind this browser to a coming action sign-in", tag = "agents", params(("action_id" = String, Path)), responses((status = 200, description = "`{success: true}`, with the binding cookie")))]
async fn bind(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    client: Client,
    Path(action_id): Path<String>,
) -> Result<Response, ApiError> {
    if !valid_id(&action_id) {
        return Err(ApiError::BadRequest("action_id is not valid".into()));
    }
    let value = state.actions.flows.bind(&user.id, &action_id).await;
    let cookie = bind_cookie(&state, &client, CSRF_COOKIE, &value, "/api/actions");
    let mut resp = Json(json!({"success": true})).into_response();
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().insert(SET_COOKIE, v);
    }
    Ok(resp)
}

/// A browser binding (LibreChat's CSRF cookie) as a `Set-Cookie` value, for the routes under
/// `path`, as long as a binding lasts.
pub(super) fn bind_cookie(
    state: &AppState,
    client: &Client,
    name: &str,
    value: &str,
    path: &str,
) -> String {
    format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={}{}",
        BIND_TTL.as_secs(),
        if secure_cookies(state, client) {
            "; Secure"
        } else {
            ""
        }
    )
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
}

/// The provider's return: trades the code for tokens, then on to the client's page.
#[utoipa::path(get, path = "/api/actions/{action_id}/oauth/callback", operation_id = "actions_oauth_callback", summary = "Where an action's OAuth provider sends the person back", tag = "agents", params(("action_id" = String, Path), ("code" = Option<String>, Query), ("state" = Option<String>, Query)), responses((status = 302, description = "To `/oauth/success?serverName=` or `/oauth/error?error=`")))]
async fn callback(
    State(state): State<AppState>,
    Path(action_id): Path<String>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let root = app_root(&state);
    let root = root.trim_end_matches('/');
    let clear = format!("{CSRF_COOKIE}=; Path=/api/actions; HttpOnly; SameSite=Lax; Max-Age=0");
    let (Some(code), Some(flow)) = (q.code, q.state) else {
        return redirect(
            &format!("{root}/oauth/error?error=invalid_state"),
            Some(clear),
        );
    };
    let cookie = cookies::values(&headers, CSRF_COOKIE).next();
    match state
        .actions
        .finish_sign_in(&action_id, &flow, &code, cookie)
        .await
    {
        Ok(name) => {
            let to = format!(
                "{root}/oauth/success?serverName={}",
                url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
            );
            redirect(&to, Some(clear))
        }
        Err(e) => redirect(&format!("{root}/oauth/error?error={e}"), Some(clear)),
    }
}
