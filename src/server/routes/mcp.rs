//! `/api/mcp/*`: the MCP servers librechat.yaml configures, their tools, and their
//! connections, as LibreChat answers (`api/server/routes/mcp.js`). Listing and reconnecting
//! need the role's `MCP_SERVERS.USE`; the connection states only a signed-in person.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::users::User;
use crate::mcp::McpError;
use crate::mcp::config::ServerConfig;
use crate::mcp::listing::status_entry;
use crate::server::middleware::{AuthUser, Client, permission};
use crate::server::{ApiError, AppState};

/// How long LibreChat's client waits for an MCP sign-in (its `oauthTimeout`), in ms.
const OAUTH_TIMEOUT_MS: u64 = 600_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tools))
        .routes(routes!(reinitialize))
        .routes(routes!(statuses))
        .routes(routes!(status))
        .routes(routes!(auth_values))
}

fn may_use(state: &AppState, user: &User) -> Result<(), ApiError> {
    permission::require(state, user, "MCP_SERVERS", &["USE"])
}

/// LibreChat's answer for a server name that is not configured.
fn not_configured(name: &str) -> ApiError {
    ApiError::Shaped {
        status: StatusCode::NOT_FOUND,
        body: json!({ "error": format!("MCP server '{name}' not found in configuration") }),
    }
}

/// The server `name` as `user` may use it (librechat.yaml's, or one they added or were given),
/// else LibreChat's 404.
async fn configured(state: &AppState, name: &str, user: &User) -> Result<ServerConfig, ApiError> {
    state
        .mcp
        .config_for(name, user)
        .await
        .ok_or_else(|| not_configured(name))
}

#[utoipa::path(get, path = "/api/mcp/tools", operation_id = "mcp_tools", summary = "Every MCP server with its tools (`{servers: {name: {name, icon, authenticated, authConfig, tools}}}`)", tag = "mcp", responses((status = 200, description = "Success"), (status = 403, description = "The role may not use MCP servers")))]
async fn tools(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Value>, ApiError> {
    may_use(&state, &user)?;
    Ok(Json(state.mcp.tools_listing(&user).await))
}

/// Drops the caller's connection to the server (the shared one, for a server everyone uses)
/// and connects again, as LibreChat's client asks after a person changes its settings.
#[utoipa::path(post, path = "/api/mcp/{server_name}/reinitialize", operation_id = "mcp_reinitialize", summary = "Reconnects to an MCP server and lists its tools again", tag = "mcp", params(("server_name" = String, Path)), responses((status = 200, description = "`{success, message, serverName, oauthRequired, oauthUrl}`"), (status = 404, description = "No such server")))]
async fn reinitialize(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    client: Client,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    may_use(&state, &user)?;
    let config = configured(&state, &name, &user).await?;
    let requires_oauth = config.requires_oauth;
    let mut answer = json!({
        "serverName": name,
        "oauthRequired": false,
        "oauthUrl": null,
    });
    // Variables the person has not set: told before anything connects, as LibreChat does.
    let missing = missing_vars(&state, &user, &config).await;
    if !missing.is_empty() {
        answer["success"] = json!(false);
        answer["message"] = json!(format!(
            "MCP server '{name}' requires user-provided variable(s) [{}] which are not set",
            missing.join(", ")
        ));
        answer["failureReason"] = json!("missing_custom_user_vars");
        answer["missingUserVars"] = json!(missing);
        return Ok(Json(answer).into_response());
    }
    // A server using the chat request's values connects in chat turns only (LibreChat's words).
    if crate::mcp::resolve::request_scoped(&config) {
        answer["success"] = json!(true);
        answer["connectionDeferred"] = json!(true);
        answer["message"] = json!(format!(
            "MCP server '{name}' uses request-scoped placeholders; connection will be established on first use in a chat turn"
        ));
        return Ok(Json(answer).into_response());
    }
    match state.mcp.slot(&name, &user.id) {
        Ok(slot) => slot.reset().await,
        // A server a person added: their own connection.
        Err(_) => state.mcp.forget(&name, &user.id),
    }
    let connected = state.mcp.connection(&name, &user).await;
    if let Err(McpError::SignIn { .. }) = connected {
        return Ok(super::mcp_oauth::needs_sign_in(&state, &client, &user, &name).await);
    }
    match connected {
        Ok(_) => {
            answer["success"] = json!(true);
            answer["message"] = json!(format!("MCP server '{name}' reinitialized successfully"));
        }
        Err(e) => {
            tracing::warn!(mcp.server = %name, error = %e, "reinitializing an MCP server failed");
            answer["success"] = json!(false);
            if requires_oauth {
                answer["oauthRequired"] = json!(true);
                answer["message"] = json!(format!("MCP server '{name}' requires sign-in"));
                answer["failureReason"] = json!("oauth_required");
            } else {
                answer["message"] = json!(format!("MCP server '{name}' is still unreachable"));
                answer["failureReason"] = json!("unreachable");
            }
        }
    }
    Ok(Json(answer).into_response())
}

/// The server's variables the person has not set.
async fn missing_vars(state: &AppState, user: &User, config: &ServerConfig) -> Vec<String> {
    if config.custom_user_vars.is_empty() {
        return Vec::new();
    }
    let set = state
        .chat
        .engine
        .tool_auth
        .mcp_values(&user.id, &config.name)
        .await
        .unwrap_or_default();
    config
        .custom_user_vars
        .keys()
        .filter(|k| !set.iter().any(|(f, v)| f == *k && !v.is_empty()))
        .cloned()
        .collect()
}

#[utoipa::path(get, path = "/api/mcp/connection/status", operation_id = "mcp_statuses", summary = "The state of the caller's connection to each MCP server", tag = "mcp", responses((status = 200, description = "`{success, connectionStatus: {name: {requiresOAuth, connectionState, authorizationState}}, oauthTimeout}`")))]
async fn statuses(State(state): State<AppState>, AuthUser(user): AuthUser) -> Json<Value> {
    // librechat.yaml's servers (with each sign-in's state), then those the person added.
    let mut all = state.mcp.statuses_with_sign_in(&user.id).await;
    for (c, now) in state.mcp.user_statuses(&user).await {
        all[c.name.as_str()] = status_entry(now, c.requires_oauth);
    }
    Json(json!({
        "success": true,
        "connectionStatus": all,
        "oauthTimeout": OAUTH_TIMEOUT_MS,
    }))
}

#[utoipa::path(get, path = "/api/mcp/connection/status/{server_name}", operation_id = "mcp_status", summary = "The state of the caller's connection to one MCP server", tag = "mcp", params(("server_name" = String, Path)), responses((status = 200, description = "Success"), (status = 404, description = "No such server")))]
async fn status(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let config = configured(&state, &name, &user).await?;
    let now = match config.db_id {
        None => state
            .mcp
            .statuses(&user.id)
            .into_iter()
            .find(|(n, _)| *n == name),
        Some(_) => state
            .mcp
            .user_statuses(&user)
            .await
            .into_iter()
            .find(|(c, _)| c.name == name)
            .map(|(c, s)| (c.name, s)),
    }
    .map(|(_, s)| s)
    .ok_or_else(|| not_configured(&name))?;
    let mut entry = status_entry(now, config.requires_oauth);
    if config.requires_oauth {
        let (conn, auth) = state.mcp.sign_in_state(&user.id, &name, now).await;
        entry = json!({"connectionState": conn, "authorizationState": auth});
    }
    Ok(Json(json!({
        "success": true,
        "serverName": name,
        "connectionStatus": entry["connectionState"],
        "requiresOAuth": config.requires_oauth,
        "authorizationState": entry["authorizationState"],
    })))
}

#[utoipa::path(get, path = "/api/mcp/{server_name}/auth-values", operation_id = "mcp_auth_values", summary = "Which of an MCP server's variables the caller has set (never their values)", tag = "mcp", params(("server_name" = String, Path)), responses((status = 200, description = "`{success, serverName, authValueFlags: {VAR: bool}}`"), (status = 404, description = "No such server")))]
async fn auth_values(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    may_use(&state, &user)?;
    let config = configured(&state, &name, &user).await?;
    let missing = missing_vars(&state, &user, &config).await;
    let flags: serde_json::Map<String, Value> = config
        .custom_user_vars
        .keys()
        .map(|k| (k.clone(), Value::Bool(!missing.contains(k))))
        .collect();
    Ok(Json(json!({
        "success": true,
        "serverName": name,
        "authValueFlags": flags,
    })))
}
