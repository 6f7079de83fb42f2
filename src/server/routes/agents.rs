//! `/api/agents`: agents as stored and shared resources (LibreChat's `agents/v1.js`). Reading
//! needs the role's `AGENTS.USE`, changing needs `CREATE` too; which agents a person sees and
//! may change is the access entries' business, checked by the store in the same transaction as
//! the read or the write: an agent they cannot see is a 404, never its data. The builder's
//! checks (`endpoints.agents`, the body's fields) are `crate::agents`'.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::agent_shapes::{self as shapes, denied, refused};
use crate::access::{self, ResourceType, roles};
use crate::agents::Builder;
use crate::db::agents::{self, Copy};
use crate::db::{agent_changes, agent_lists, agent_refs};
use crate::server::middleware::AuthUser;
use crate::server::middleware::permission::{CreateAgents, Permitted, UseAgents};
use crate::server::{ApiError, AppState, JsonBody};
use crate::shapes::agent::{AgentListPage, TAgentCategory};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(categories))
        .routes(routes!(get, update, delete))
        .routes(routes!(expanded))
        .routes(routes!(versions))
        .routes(routes!(duplicate))
        .routes(routes!(revert))
}

fn builder(state: &AppState) -> Builder<'_> {
    Builder {
        config: &state.settings.agents,
        endpoints: &state.settings.endpoints,
    }
}

/// The access roles a new agent's author holds: LibreChat's `agent_owner` and
/// `remoteAgent_owner`.
fn owners() -> [(ResourceType, &'static str, u8); 2] {
    [ResourceType::Agent, ResourceType::RemoteAgent].map(|rt| {
        let o = roles::owner_of(rt);
        (rt, o.id, o.bits)
    })
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    category: Option<String>,
    search: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    promoted: Option<String>,
    #[serde(rename = "requiredPermission")]
    required_permission: Option<String>,
}

/// The agents the caller can see (the marketplace and the model picker), most recently changed
/// first, a page at a time.
#[utoipa::path(get, path = "/api/agents", operation_id = "agents_list", summary = "A page of the agents the caller can see", tag = "agents", params(("category" = Option<String>, Query), ("search" = Option<String>, Query, description = "Part of the name or description"), ("promoted" = Option<String>, Query, description = "`1`: promoted only; `0`: the others"), ("requiredPermission" = Option<u8>, Query, description = "Permission bits the caller must hold (1 view, 2 edit, ...)"), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)), responses((status = 200, description = "`{object, data, first_id, last_id, has_more, after}`"), (status = 403, description = "The role may not use agents")))]
async fn list(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UseAgents>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let filter = shapes::filter(
        q.category,
        q.search,
        q.promoted.as_deref(),
        q.required_permission.as_deref(),
    );
    let limit = shapes::limit(q.limit.as_deref());
    let after = shapes::read_cursor(q.cursor.as_deref());
    let v = access::viewer(&user);
    let mut page = state
        .db
        .read(move |c| agent_lists::list(c, &v, &filter, after.as_ref(), limit + 1))
        .await?;
    let has_more = page.len() > limit;
    page.truncate(limit);
    let data: Vec<_> = page.iter().map(shapes::list_item).collect();
    Ok(Json(AgentListPage {
        object: "list",
        first_id: page.first().map(|a| a.id.as_str()),
        last_id: page.last().map(|a| a.id.as_str()),
        has_more,
        after: if has_more {
            page.last().map(shapes::write_cursor)
        } else {
            None
        },
        data,
    })
    .into_response())
}

/// Creates an agent; the caller becomes its owner.
#[utoipa::path(post, path = "/api/agents", operation_id = "agents_create", summary = "Create an agent", tag = "agents", request_body(content = Object, description = "LibreChat's `AgentCreateParams`: `provider`, `model`, and `name`, `description`, `instructions`, `tools`, `model_parameters`, `conversation_starters`, `category`, `edges`, ..."), responses((status = 201, description = "`Agent`"), (status = 400, description = "Invalid, or a provider this server does not offer agents"), (status = 403, description = "The role may not create agents, the builder is off, or an edge names an agent the caller cannot see")))]
async fn create(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreateAgents>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let mut def = builder(&state).create(&body).map_err(refused)?;
    let id = agents::new_agent_id();
    agent_refs::replace_edge_source(&mut def.edges, "", &id);
    let v = access::viewer(&user);
    let owners = owners();
    let agent = state
        .db
        .write(move |c| agents::create(c, &v, &id, &def, &owners))
        .await?
        .map_err(denied)?;
    tracing::info!(agent.id = %agent.id, "agent created");
    Ok((
        StatusCode::CREATED,
        Json(shapes::full(&agent, &user.id, None)),
    )
        .into_response())
}

/// LibreChat's marketplace categories, each with how many agents the caller can see in it;
/// `promoted` first when there are any, `all` last.
#[utoipa::path(get, path = "/api/agents/categories", operation_id = "agents_categories", summary = "The agent categories, with counts", tag = "agents", responses((status = 200, description = "`[{value, label, count, description}]`")))]
async fn categories(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Response, ApiError> {
    let v = access::viewer(&user);
    let (list, promoted) = state
        .db
        .read(move |c| agent_lists::categories(c, &v))
        .await?;
    let mut out: Vec<TAgentCategory<'_>> = Vec::with_capacity(list.len() + 2);
    if promoted > 0 {
        out.push(TAgentCategory {
            value: "promoted",
            label: "Promoted",
            count: Some(promoted),
            description: "Our recommended agents",
        });
    }
    out.extend(list.iter().map(|c| TAgentCategory {
        value: &c.value,
        label: &c.label,
        count: Some(c.count),
        description: &c.description,
    }));
    out.push(TAgentCategory {
        value: "all",
        label: "All",
        count: None,
        description: "All available agents",
    });
    Ok(Json(out).into_response())
}

/// What a viewer may read of an agent (needs VIEW).
#[utoipa::path(get, path = "/api/agents/{id}", operation_id = "agents_get", summary = "An agent, as its viewers see it", tag = "agents", params(("id" = String, Path, description = "`agent_...`")), responses((status = 200, description = "The agent's name, description, starters, avatar, provider and model"), (status = 404, description = "Not found, or not shared with the caller")))]
async fn get(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UseAgents>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let v = access::viewer(&user);
    let agent = state
        .db
        .read(move |c| agents::get(c, &v, &id, agents::VIEW))
        .await?
        .map_err(denied)?;
    Ok(Json(shapes::summary(&agent, &user.id)).into_response())
}

/// The whole agent, as its editors read it (needs EDIT).
#[utoipa::path(get, path = "/api/agents/{id}/expanded", operation_id = "agents_expanded", summary = "An agent, whole", tag = "agents", params(("id" = String, Path)), responses((status = 200, description = "`Agent`"), (status = 403, description = "No EDIT permission"), (status = 404, description = "Not found")))]
async fn expanded(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UseAgents>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let v = access::viewer(&user);
    let agent = state
        .db
        .read(move |c| agents::get(c, &v, &id, agents::EDIT))
        .await?
        .map_err(denied)?;
    let is_public = Some(agent.is_public);
    Ok(Json(shapes::full(&agent, &user.id, is_public)).into_response())
}

/// The agent's versions, oldest first (needs EDIT).
#[utoipa::path(get, path = "/api/agents/{id}/versions", operation_id = "agents_versions", summary = "An agent's versions", tag = "agents", params(("id" = String, Path)), responses((status = 200, description = "`[version]`, oldest first"), (status = 403, description = "No EDIT permission"), (status = 404, description = "Not found")))]
async fn versions(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UseAgents>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let v = access::viewer(&user);
    let list = state
        .db
        .read(move |c| agent_changes::versions(c, &v, &id))
        .await?
        .map_err(denied)?;
    Ok(Json(list.iter().map(shapes::version).collect::<Vec<_>>()).into_response())
}

/// Changes an agent (needs EDIT): a new version, unless nothing changed.
#[utoipa::path(patch, path = "/api/agents/{id}", operation_id = "agents_update", summary = "Change an agent", tag = "agents", params(("id" = String, Path)), request_body(content = Object, description = "LibreChat's `AgentUpdateParams`"), responses((status = 200, description = "`Agent`"), (status = 400, description = "Invalid"), (status = 403, description = "No EDIT permission, or the builder is off"), (status = 404, description = "Not found")))]
async fn update(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreateAgents>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let patch = builder(&state).update(&body).map_err(refused)?;
    let v = access::viewer(&user);
    let agent = state
        .db
        .write(move |c| agent_changes::update(c, &v, &id, &patch))
        .await?
        .map_err(denied)?;
    Ok(Json(shapes::full(&agent, &user.id, None)).into_response())
}

/// Copies an agent the caller may edit as a new agent of theirs.
#[utoipa::path(post, path = "/api/agents/{id}/duplicate", operation_id = "agents_duplicate", summary = "Copy an agent", tag = "agents", params(("id" = String, Path)), responses((status = 201, description = "`{agent, actions}`: the copy and its actions (copied without their secrets)"), (status = 403, description = "No EDIT permission on the source, or the builder is off"), (status = 404, description = "Not found")))]
async fn duplicate(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreateAgents>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    builder(&state).open().map_err(refused)?;
    let v = access::viewer(&user);
    let (source, viewer) = (id.clone(), v.clone());
    let original = state
        .db
        .read(move |c| agents::get(c, &viewer, &source, agents::EDIT))
        .await?
        .map_err(denied)?;
    let new_id = agents::new_agent_id();
    let copy = Copy {
        name_suffix: shapes::copy_suffix(time::OffsetDateTime::now_utc()),
        picture: super::agent_avatar::copy_picture(&state, &original, &user.id, &new_id).await?,
        id: new_id,
    };
    let key = copy.picture.as_ref().map(|p| p.storage_key.clone());
    let owners = owners();
    let done = state
        .db
        .write(move |c| agents::duplicate(c, &v, &id, &copy, &owners))
        .await;
    let done = done.map_err(ApiError::from).and_then(|r| r.map_err(denied));
    if let (Err(_), Some(key)) = (&done, key) {
        let _ = state.files.remove(&key).await;
    }
    let agent = done?;
    let (viewer, copy_id) = (access::viewer(&user), agent.id.clone());
    let actions = state
        .db
        .read(move |c| crate::db::actions::usable(c, &viewer, &copy_id))
        .await?
        .unwrap_or_default();
    let actions: Vec<Value> = actions.iter().map(super::actions::shape).collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "agent": shapes::full(&agent, &user.id, None), "actions": actions })),
    )
        .into_response())
}

/// Deletes an agent (needs DELETE): its versions, access entries and pictures go with it.
#[utoipa::path(delete, path = "/api/agents/{id}", operation_id = "agents_delete", summary = "Delete an agent", tag = "agents", params(("id" = String, Path)), responses((status = 200, description = "`{message}`"), (status = 403, description = "No DELETE permission"), (status = 404, description = "Not found")))]
async fn delete(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreateAgents>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let v = access::viewer(&user);
    let keys = state
        .db
        .write(move |c| agents::delete(c, &v, &id))
        .await?
        .map_err(denied)?;
    for key in keys {
        if let Err(e) = state.files.remove(&key).await {
            tracing::warn!(error = %e, "removing a deleted agent's picture failed; the sweeper will");
        }
    }
    Ok(Json(json!({ "message": "Agent deleted" })))
}

/// Restores one of the agent's versions, by its index in `GET /:id/versions` (needs EDIT).
#[utoipa::path(post, path = "/api/agents/{id}/revert", operation_id = "agents_revert", summary = "Restore a version of an agent", tag = "agents", params(("id" = String, Path)), request_body(content = Object, description = "`{version_index}`"), responses((status = 200, description = "`Agent`"), (status = 400, description = "No or no such version_index"), (status = 403, description = "No EDIT permission, or the builder is off"), (status = 404, description = "Not found")))]
async fn revert(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreateAgents>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    builder(&state).open().map_err(refused)?;
    let index = match body.get("version_index") {
        None | Some(Value::Null) => {
            return Err(ApiError::Shaped {
                status: StatusCode::BAD_REQUEST,
                body: json!({"error": "version_index is required",
                             "message": "version_index is required"}),
            });
        }
        Some(v) => v
            .as_i64()
            .filter(|i| *i >= 0)
            .ok_or_else(|| ApiError::Shaped {
                status: StatusCode::BAD_REQUEST,
                body: json!({"error": "Invalid request data",
                         "message": "version_index must be a whole number, 0 or more"}),
            })?,
    };
    let v = access::viewer(&user);
    let agent = state
        .db
        .write(move |c| agent_changes::revert(c, &v, &id, index))
        .await?
        .map_err(denied)?;
    Ok(Json(shapes::full(&agent, &user.id, None)).into_response())
}
