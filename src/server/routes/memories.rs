//! `/api/memories`: what a person keeps for the assistant, as LibreChat's routes answer it
//! (`{error}` bodies included). Each route needs its MEMORIES permissions, as LibreChat's
//! `generateCheckAccess` checks them.
//!
//! The list holds every partition (the shared pool and each agent's, `agentId`); a write,
//! rename or delete acts on the shared pool unless the request names an agent's partition
//! (`agentId` in the body of a create, in the query of a change or a delete), as LibreChat's
//! routes do. Whatever it names, it is one of the caller's own partitions.

use axum::Json;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::chat::memories::{self, MemoryError};
use crate::server::middleware::permission::{Needs, Permitted};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(preferences))
        .routes(routes!(update, delete))
}

macro_rules! needs {
    ($name:ident, $($p:literal),+) => {
        pub struct $name;
        impl Needs for $name {
            const TYPE: &'static str = "MEMORIES";
            const PERMISSIONS: &'static [&'static str] = &[$($p),+];
        }
    };
}
needs!(ReadMemories, "USE", "READ");
needs!(CreateMemories, "USE", "CREATE");
needs!(UpdateMemories, "USE", "UPDATE");
needs!(OptOutMemories, "USE", "OPT_OUT");

impl From<MemoryError> for ApiError {
    fn from(e: MemoryError) -> Self {
        let status = match &e {
            MemoryError::Db(_) => return ApiError::internal(e),
            MemoryError::Disabled => return ApiError::Forbidden(e.to_string()),
            MemoryError::NotFound => StatusCode::NOT_FOUND,
            MemoryError::Exists => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        // LibreChat's memory routes answer `{error}`, not `{message}`.
        ApiError::Shaped {
            status,
            body: json!({ "error": e.to_string() }),
        }
    }
}

fn text<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

#[utoipa::path(get, path = "/api/memories", operation_id = "memories_list", summary = "The caller's memories, newest first, with their use of the token limit", tag = "memories", responses((status = 200, description = "`{memories, totalTokens, tokenLimit, charLimit, usagePercentage}`"), (status = 403, description = "The role may not read memories")))]
async fn list(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<ReadMemories>,
) -> Result<Json<memories::Listing>, ApiError> {
    let config = state.settings.yaml.memory.as_ref();
    let viewer = crate::access::viewer(&user);
    Ok(Json(memories::list(&state.db, config, viewer).await?))
}

#[utoipa::path(post, path = "/api/memories", operation_id = "memories_create", request_body(content = Object, description = "`{key, value, agentId?}`: `agentId` keeps it in that agent's partition"), summary = "Keep a new memory", tag = "memories", responses((status = 201, description = "`{created: true, memory}`"), (status = 400, description = "A key or value that is missing, too long, not allowed, or past the token limit"), (status = 409, description = "The key is taken")))]
async fn create(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreateMemories>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let config = state.settings.yaml.memory.as_ref();
    let (key, value) = (text(&body, "key"), text(&body, "value"));
    let partition = memories::requested_partition(text(&body, "agentId"))?;
    let memory = memories::create(&state.db, config, &user.id, &partition, key, value).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "created": true, "memory": memory })),
    ))
}

#[utoipa::path(patch, path = "/api/memories/preferences", operation_id = "memories_preferences", request_body(content = Object, description = "`{memories: boolean}`"), summary = "Turn memories on or off for the caller", tag = "memories", responses((status = 200, description = "`{updated: true, preferences: {memories}}`"), (status = 400, description = "`memories` is not a boolean")))]
async fn preferences(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<OptOutMemories>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let Some(on) = body.get("memories").and_then(Value::as_bool) else {
        return Err(ApiError::Shaped {
            status: StatusCode::BAD_REQUEST,
            body: json!({ "error": "memories must be a boolean value." }),
        });
    };
    let on = memories::set_preference(&state.db, &user.id, on)
        .await
        .map_err(|e| match e {
            MemoryError::NotFound => ApiError::Shaped {
                status: StatusCode::NOT_FOUND,
                body: json!({ "error": "User not found." }),
            },
            other => other.into(),
        })?;
    Ok(Json(
        json!({ "updated": true, "preferences": { "memories": on } }),
    ))
}

#[utoipa::path(patch, path = "/api/memories/{key}", operation_id = "memories_update", params(("key" = String, Path, description = "The memory's key"), ("agentId" = Option<String>, Query, description = "The agent's partition it is in (none: the shared pool)")), request_body(content = Object, description = "`{value, key?}`: a new `key` renames it"), summary = "Rewrite (and rename) one of the caller's memories", tag = "memories", responses((status = 200, description = "`{updated: true, memory}`"), (status = 404, description = "The caller has no such memory"), (status = 409, description = "The new key is taken")))]
async fn update(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UpdateMemories>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let config = state.settings.yaml.memory.as_ref();
    let (new_key, value) = (text(&body, "key"), text(&body, "value"));
    let partition = memories::requested_partition(query.get("agentId").map(String::as_str))?;
    let memory = memories::update(
        &state.db, config, &user.id, &partition, &key, new_key, value,
    )
    .await?;
    Ok(Json(json!({ "updated": true, "memory": memory })))
}

#[utoipa::path(delete, path = "/api/memories/{key}", operation_id = "memories_delete", params(("key" = String, Path, description = "The memory's key"), ("agentId" = Option<String>, Query, description = "The agent's partition it is in (none: the shared pool)")), summary = "Forget one of the caller's memories", tag = "memories", responses((status = 200, description = "`{deleted: true}`"), (status = 404, description = "The caller has no such memory")))]
async fn delete(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UpdateMemories>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let config = state.settings.yaml.memory.as_ref();
    let partition = memories::requested_partition(query.get("agentId").map(String::as_str))?;
    memories::delete(&state.db, config, &user.id, &partition, &key).await?;
    Ok(Json(json!({ "deleted": true })))
}
