//! `/api/user/settings/favorites/tools`: the tools a person starred in LibreChat's Tool Library
//! (built-in tools, tools, MCP servers' tools, skills), kept with the account as LibreChat
//! keeps them: at most 100, in the order starred; starring twice changes nothing.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::tool_favorites::{self, Added};
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState};

/// LibreChat's limits: starred tools per person, and characters of an id.
const MAX_FAVORITES: usize = 100;
const MAX_ITEM_ID_LENGTH: usize = 256;
/// LibreChat's kinds of starred things.
const ITEM_TYPES: [&str; 4] = ["builtin", "tool", "mcp", "skill"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(add, remove))
}

#[utoipa::path(get, path = "/api/user/settings/favorites/tools", operation_id = "tool_favorites_list", summary = "The caller's starred tools, in the order starred", tag = "user", responses((status = 200, description = "`[{itemType, itemId}]`")))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Value>, ApiError> {
    let favorites = state
        .db
        .read(move |c| tool_favorites::list(c, &user.id))
        .await?;
    Ok(Json(json!(favorites)))
}

#[utoipa::path(put, path = "/api/user/settings/favorites/tools/{itemType}/{itemId}", operation_id = "tool_favorites_add", params(("itemType" = String, Path, description = "builtin, tool, mcp or skill"), ("itemId" = String, Path, description = "The tool's id, at most 256 characters")), summary = "Star a tool (starring it again changes nothing)", tag = "user", responses((status = 200, description = "`{itemType, itemId}`"), (status = 400, description = "`{code, message}`: INVALID_ITEM_TYPE, INVALID_ITEM_ID, or MAX_FAVORITES_EXCEEDED with its `limit`")))]
async fn add(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((item_type, item_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    check(&item_type, &item_id)?;
    let (t, i) = (item_type.clone(), item_id.clone());
    let added = state
        .db
        .write(move |c| tool_favorites::add(c, &user.id, &t, &i, MAX_FAVORITES))
        .await?;
    if added == Added::Full {
        return Err(refused(
            "MAX_FAVORITES_EXCEEDED",
            format!("Maximum of {MAX_FAVORITES} favorites reached"),
            Some(MAX_FAVORITES),
        ));
    }
    Ok(Json(json!({ "itemType": item_type, "itemId": item_id })))
}

#[utoipa::path(delete, path = "/api/user/settings/favorites/tools/{itemType}/{itemId}", operation_id = "tool_favorites_remove", params(("itemType" = String, Path, description = "builtin, tool, mcp or skill"), ("itemId" = String, Path, description = "The tool's id")), summary = "Unstar a tool (one not starred is no error)", tag = "user", responses((status = 200, description = "`{ok: true}`"), (status = 400, description = "`{code, message}`: INVALID_ITEM_TYPE or INVALID_ITEM_ID")))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((item_type, item_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    check(&item_type, &item_id)?;
    state
        .db
        .write(move |c| tool_favorites::remove(c, &user.id, &item_type, &item_id))
        .await?;
    Ok(Json(json!({ "ok": true })))
}

/// LibreChat's checks of the path, with its codes and messages.
fn check(item_type: &str, item_id: &str) -> Result<(), ApiError> {
    if !ITEM_TYPES.contains(&item_type) {
        return Err(refused(
            "INVALID_ITEM_TYPE",
            format!("itemType must be one of: {}", ITEM_TYPES.join(", ")),
            None,
        ));
    }
    // LibreChat counts UTF-16 code units; characters is the closest honest measure here.
    if item_id.is_empty() || item_id.chars().count() > MAX_ITEM_ID_LENGTH {
        return Err(refused(
            "INVALID_ITEM_ID",
            format!("itemId must be a non-empty string of at most {MAX_ITEM_ID_LENGTH} characters"),
            None,
        ));
    }
    Ok(())
}

fn refused(code: &str, message: String, limit: Option<usize>) -> ApiError {
    let mut body = json!({ "code": code, "message": message });
    if let Some(limit) = limit {
        body["limit"] = json!(limit);
    }
    ApiError::Shaped {
        status: StatusCode::BAD_REQUEST,
        body,
    }
}
