//! The tools agents may use and each person's credentials for them, as LibreChat's routes
//! answer: `GET /api/agents/tools` (the tools list, LibreChat's `TPlugin`s),
//! `GET /api/agents/tools/:toolId/auth` (`{authenticated, message}`: whether the tool is set up
//! for the caller) and `POST /api/user/plugins` (`{pluginKey, action, auth}`: install or
//! uninstall a tool, storing or forgetting its credentials, encrypted). Stored values are
//! never answered.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::chat::tool_auth::{Action, Change, ToolAuthError};
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(tool_auth))
        .routes(routes!(update_plugins))
}

impl From<ToolAuthError> for ApiError {
    fn from(e: ToolAuthError) -> Self {
        match e {
            ToolAuthError::Invalid(m) => ApiError::BadRequest(m),
            ToolAuthError::Db(e) => e.into(),
        }
    }
}

#[utoipa::path(get, path = "/api/agents/tools", operation_id = "tools_list", summary = "The tools agents may use", tag = "agents", responses((status = 200, description = "LibreChat's `TPlugin`s: `{name, pluginKey, description, icon, authConfig, authenticated?}`; `authenticated` when the server sets the tool's credentials")))]
async fn list(State(state): State<AppState>, AuthUser(_): AuthUser) -> Json<Vec<Value>> {
    Json(state.chat.engine.tool_auth.list())
}

/// Whether a tool is set up for the caller. For web search, LibreChat's `{authenticated,
/// authTypes}`: set up when the server has a search provider (its scraper and reranker are
/// built in).
#[utoipa::path(get, path = "/api/agents/tools/{tool_id}/auth", operation_id = "tools_auth", summary = "Whether a tool is set up for the caller", tag = "agents", params(("tool_id" = String, Path)), responses((status = 200, description = "`{authenticated, message}`: `message` is `system_defined` (the server's credentials) or `user_provided` (the caller's, or theirs to give)"), (status = 404, description = "No such tool")))]
async fn tool_auth(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(tool_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if tool_id == crate::agents::tools::web_search::NAME {
        return Ok(Json(
            crate::agents::tools::web_search::auth_status(
                &state.settings.tools.web_search,
                state.chat.engine.tool_auth.as_ref(),
                &user.id,
            )
            .await,
        ));
    }
    match state
        .chat
        .engine
        .tool_auth
        .status(&user.id, &tool_id)
        .await?
    {
        Some(status) => Ok(Json(json!(status))),
        None => Err(ApiError::NotFound("Tool not found".into())),
    }
}

#[utoipa::path(post, path = "/api/user/plugins", operation_id = "user_plugins", request_body(content = Object, description = "`{pluginKey, action: install|uninstall, auth?: {VARIABLE: value}, isEntityTool?}`"), summary = "Install or uninstall a tool, storing or forgetting the caller's credentials for it (encrypted)", tag = "user", responses((status = 200, description = "Done (no body)"), (status = 400, description = "An unknown action, tool or variable, or a value that is not a non-empty string")))]
async fn update_plugins(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<StatusCode, ApiError> {
    let plugin_key = body
        .get("pluginKey")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::BadRequest("pluginKey is required".into()))?;
    let action = match body.get("action").and_then(Value::as_str) {
        Some("install") => Action::Install,
        Some("uninstall") => Action::Uninstall,
        _ => {
            return Err(ApiError::BadRequest(
                "action must be install or uninstall".into(),
            ));
        }
    };
    let auth = match body.get("auth") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return Err(ApiError::BadRequest("auth must be an object".into())),
    };
    // A server the person added (or was given) takes its own variables.
    let user_server_vars = match plugin_key.strip_prefix("mcp_") {
        Some(server) if state.mcp.config.get(server).is_none() => state
            .mcp
            .config_for(server, &user)
            .await
            .map(|c| c.custom_user_vars.keys().cloned().collect()),
        _ => None,
    };
    let change = Change {
        plugin_key: plugin_key.to_owned(),
        action,
        auth,
        entity_tool: body.get("isEntityTool") == Some(&Value::Bool(true)),
        user_server_vars,
    };
    state.chat.engine.tool_auth.change(&user.id, change).await?;
    // An MCP server's variables changed: the person's connection to it is made again. As in
    // LibreChat, uninstalling also signs them out of it (their OAuth tokens go).
    if let Some(server) = plugin_key.strip_prefix("mcp_") {
        if action == Action::Uninstall
            && let Some(oauth) = state.mcp.oauth()
        {
            oauth.forget(&user.id, server).await;
        }
        state.mcp.forget(server, &user.id);
    }
    Ok(StatusCode::OK)
}
