//! `/api/mcp/.../oauth/...`: a person's sign-in to an MCP server that needs one, as LibreChat
//! answers (`api/server/routes/mcp.js`). The client binds the browser (`POST .../bind`, or the
//! cookie `/reinitialize` sets with the sign-in link); the provider sends the person to
//! `GET .../callback`, where the code becomes their tokens (`crate::mcp::oauth`); the person
//! lands on `/oauth/success?serverName=`, or on `/oauth/error?error=` with LibreChat's reason.
//! A flow is `<userId>:<serverName>`: only its person may read or cancel it.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::action_oauth::bind_cookie;
use super::oauth_flow::{app_root, redirect};
use crate::cookies;
use crate::db::users::User;
use crate::mcp::oauth::{FlowStatus, flow_id};
use crate::server::middleware::{AuthUser, Client};
use crate::server::{ApiError, AppState};

/// LibreChat's CSRF cookie, scoped to the MCP routes.
const CSRF_COOKIE: &str = "oauth_csrf";
const COOKIE_PATH: &str = "/api/mcp";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(initiate))
        .routes(routes!(callback))
        .routes(routes!(bind))
        .routes(routes!(status))
        .routes(routes!(tokens))
        .routes(routes!(cancel))
}

fn shaped(status: StatusCode, error: &str) -> ApiError {
    ApiError::Shaped {
        status,
        body: json!({ "error": error }),
    }
}

/// The browser binding for `user`'s sign-in to `server`, as a `Set-Cookie` value.
async fn binding(state: &AppState, client: &Client, user: &User, server: &str) -> Option<String> {
    let oauth = state.mcp.oauth()?;
    let value = oauth.flows.bind(&user.id, server).await;
    Some(bind_cookie(state, client, CSRF_COOKIE, &value, COOKIE_PATH))
}

/// `/reinitialize`'s answer when the person must sign in first: the link, the flow, and the
/// browser binding.
pub async fn needs_sign_in(state: &AppState, client: &Client, user: &User, name: &str) -> Response {
    let started = state.mcp.start_sign_in(name, user).await;
    let mut answer = json!({"serverName": name, "oauthRequired": true});
    let cookie = match started {
        Ok(s) => {
            answer["success"] = json!(true);
            answer["message"] = json!(format!(
                "MCP server '{name}' ready for OAuth authentication"
            ));
            answer["oauthUrl"] = json!(s.url);
            answer["flowId"] = json!(s.flow_id);
            answer["oauthTimeout"] = json!(s.expires_in.as_millis() as u64);
            binding(state, client, user, name).await
        }
        Err(why) => {
            tracing::warn!(mcp.server = %name, why, "an MCP server's sign-in could not start");
            answer["success"] = json!(false);
            answer["oauthUrl"] = Value::Null;
            answer["message"] = json!(format!("Failed to reinitialize MCP server '{name}'"));
            answer["failureReason"] = json!("oauth_required");
            None
        }
    };
    let mut resp = Json(answer).into_response();
    if let Some(v) = cookie.and_then(|c| c.parse().ok()) {
        resp.headers_mut().insert(axum::http::header::SET_COOKIE, v);
    }
    resp
}

#[derive(Debug, Deserialize)]
struct InitiateQuery {
    #[serde(rename = "userId")]
    user_id: Option<String>,
    #[serde(rename = "flowId")]
    flow_id: Option<String>,
}

/// Sends the person on to the provider: the sign-in in progress, or a new one.
#[utoipa::path(get, path = "/api/mcp/{server_name}/oauth/initiate", operation_id = "mcp_oauth_initiate", summary = "Starts (or resumes) the caller's sign-in to an MCP server: a redirect to its provider", tag = "mcp", params(("server_name" = String, Path), ("userId" = Option<String>, Query), ("flowId" = Option<String>, Query)), responses((status = 302, description = "To the provider"), (status = 403, description = "Another person's flow"), (status = 404, description = "No such server")))]
async fn initiate(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    client: Client,
    Path(name): Path<String>,
    Query(q): Query<InitiateQuery>,
) -> Result<Response, ApiError> {
    if q.user_id.is_some_and(|u| u != user.id) {
        return Err(shaped(StatusCode::FORBIDDEN, "User mismatch"));
    }
    if q.flow_id.is_some_and(|f| f != flow_id(&user.id, &name)) {
        return Err(shaped(StatusCode::FORBIDDEN, "Flow mismatch"));
    }
    if !state
        .mcp
        .config
        .get(&name)
        .is_some_and(|s| s.requires_oauth)
    {
        return Err(shaped(StatusCode::NOT_FOUND, "Flow not found"));
    }
    let started = state.mcp.start_sign_in(&name, &user).await.map_err(|why| {
        tracing::warn!(mcp.server = %name, why, "an MCP server's sign-in could not start");
        shaped(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Failed to initiate OAuth",
        )
    })?;
    Ok(redirect(
        &started.url,
        binding(&state, &client, &user, &name).await,
    ))
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The provider's return: the code becomes the person's tokens, then on to the client's page.
#[utoipa::path(get, path = "/api/mcp/{server_name}/oauth/callback", operation_id = "mcp_oauth_callback", summary = "Where an MCP server's OAuth provider sends the person back", tag = "mcp", params(("server_name" = String, Path), ("code" = Option<String>, Query), ("state" = Option<String>, Query), ("error" = Option<String>, Query)), responses((status = 302, description = "To `/oauth/success?serverName=` or `/oauth/error?error=`")))]
async fn callback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let root = app_root(&state);
    let root = root.trim_end_matches('/');
    let clear = format!("{CSRF_COOKIE}=; Path={COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age=0");
    let fail = |error: &str| {
        let e: String = url::form_urlencoded::byte_serialize(error.as_bytes()).collect();
        redirect(
            &format!("{root}/oauth/error?error={e}"),
            Some(clear.clone()),
        )
    };
    let Some(oauth) = state.mcp.oauth() else {
        return fail("callback_failed");
    };
    if let Some(error) = q.error.as_deref() {
        if let Some(s) = q.state.as_deref() {
            oauth.refuse(&name, s, error).await;
        }
        return fail(error);
    }
    let Some(code) = q.code else {
        return fail("missing_code");
    };
    let Some(flow) = q.state else {
        return fail("missing_state");
    };
    let cookie = cookies::values(&headers, CSRF_COOKIE).next();
    match oauth.finish(&name, &flow, &code, cookie).await {
        Ok(user_id) => {
            // The next use connects with the new token.
            state.mcp.forget(&name, &user_id);
            let n: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
            redirect(&format!("{root}/oauth/success?serverName={n}"), Some(clear))
        }
        Err(e) => fail(&e.to_string()),
    }
}

/// Binds this browser to the caller's coming sign-in to the server.
#[utoipa::path(post, path = "/api/mcp/{server_name}/oauth/bind", operation_id = "mcp_oauth_bind", summary = "Bind this browser to a coming MCP sign-in", tag = "mcp", params(("server_name" = String, Path)), responses((status = 200, description = "`{success: true}`, with the binding cookie")))]
async fn bind(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    client: Client,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let cookie = binding(&state, &client, &user, &name)
        .await
        .ok_or_else(|| {
            shaped(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Failed to bind OAuth flow",
            )
        })?;
    let mut resp = Json(json!({"success": true})).into_response();
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().insert(axum::http::header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// The flow, if it is the caller's (LibreChat's `canAccessOAuthFlow`).
async fn own_flow(
    state: &AppState,
    user: &User,
    id: &str,
) -> Result<crate::mcp::oauth::FlowView, ApiError> {
    match id.split_once(':') {
        Some((owner, _)) if owner == user.id => {}
        _ => return Err(shaped(StatusCode::FORBIDDEN, "Access denied")),
    }
    let view = match state.mcp.oauth() {
        Some(o) => o.view(id).await,
        None => None,
    };
    view.filter(|v| v.user_id == user.id)
        .ok_or_else(|| shaped(StatusCode::NOT_FOUND, "Flow not found"))
}

#[utoipa::path(get, path = "/api/mcp/oauth/status/{flow_id}", operation_id = "mcp_oauth_status", summary = "The state of one of the caller's MCP sign-ins", tag = "mcp", params(("flow_id" = String, Path)), responses((status = 200, description = "`{status, completed, failed, error?}`"), (status = 403, description = "Another person's flow"), (status = 404, description = "No such flow")))]
async fn status(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = own_flow(&state, &user, &id).await?;
    let mut answer = json!({
        "status": view.status,
        "completed": view.status == FlowStatus::Completed,
        "failed": view.status == FlowStatus::Failed,
    });
    if let Some(e) = view.error {
        answer["error"] = json!(e);
    }
    Ok(Json(answer))
}

#[utoipa::path(get, path = "/api/mcp/oauth/tokens/{flow_id}", operation_id = "mcp_oauth_tokens", summary = "The access token a completed MCP sign-in of the caller's gave", tag = "mcp", params(("flow_id" = String, Path)), responses((status = 200, description = "`{tokens: {access_token, token_type}}`"), (status = 400, description = "Not completed"), (status = 403, description = "Another person's flow"), (status = 404, description = "No such flow")))]
async fn tokens(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = own_flow(&state, &user, &id).await?;
    if view.status != FlowStatus::Completed {
        return Err(shaped(StatusCode::BAD_REQUEST, "Flow not completed"));
    }
    let server = id.split_once(':').map(|(_, s)| s).unwrap_or_default();
    let config = state
        .mcp
        .config
        .get(server)
        .ok_or_else(|| shaped(StatusCode::NOT_FOUND, "Flow not found"))?;
    let token = match state.mcp.oauth() {
        Some(o) => o.access_token(&user.id, config).await,
        None => None,
    }
    .ok_or_else(|| shaped(StatusCode::INTERNAL_SERVER_ERROR, "Failed to get tokens"))?;
    // The refresh token stays on the server: only the server uses it.
    Ok(Json(
        json!({"tokens": {"access_token": token, "token_type": "Bearer"}}),
    ))
}

#[utoipa::path(post, path = "/api/mcp/oauth/cancel/{server_name}", operation_id = "mcp_oauth_cancel", summary = "Cancels the caller's sign-in to an MCP server", tag = "mcp", params(("server_name" = String, Path)), responses((status = 200, description = "`{success, message}`")))]
async fn cancel(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(name): Path<String>,
) -> Json<Value> {
    let cancelled = match state.mcp.oauth() {
        Some(o) => o.cancel(&user.id, &name).await,
        None => false,
    };
    let message = if cancelled {
        format!("OAuth flow for {name} cancelled successfully")
    } else {
        "No active OAuth flow to cancel".to_owned()
    };
    Json(json!({"success": true, "message": message}))
}
