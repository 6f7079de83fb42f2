//! `/api/prompts` and `/api/categories`: the prompts library (LibreChat's `prompts.js` and
//! `categories.js`). Every route needs the role's `PROMPTS.USE`; changes need `CREATE` too.
//! Which groups a person sees and may change is the access entries' business, checked by the
//! store in the same statement as the read or the write: a group they cannot see is a 404,
//! never its data.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::prompt_shapes::{self as shapes, denied, group_json, prompt_json};
use crate::access::{self, ResourceType, roles};
use crate::db::{prompt_lists, prompts};
use crate::server::middleware::auth::limit;
use crate::server::middleware::permission::{CreatePrompts, Permitted, UsePrompts};
use crate::server::middleware::{AuthUser, Client};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(all))
        .routes(routes!(groups))
        .routes(routes!(random))
        .routes(routes!(get_group, update_group, delete_group))
        .routes(routes!(add_version))
        .routes(routes!(record_use))
        .routes(routes!(make_production))
        .routes(routes!(get_prompt, delete_prompt))
        .routes(routes!(list_prompts, create))
        .routes(routes!(categories))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    name: Option<String>,
    category: Option<String>,
    #[serde(rename = "pageSize")]
    page_size: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Every group the caller can see (the `/` picker's list), most used first.
#[utoipa::path(get, path = "/api/prompts/all", operation_id = "prompts_all", summary = "Every prompt group the caller can see", tag = "prompts", params(("name" = Option<String>, Query), ("category" = Option<String>, Query)), responses((status = 200, description = "`[TPromptGroup]`"), (status = 403, description = "The role may not use prompts")))]
async fn all(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UsePrompts>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (v, f) = (access::viewer(&user), shapes::filter(q.name, q.category));
    let list = state
        .db
        .read(move |c| prompt_lists::list(c, &v, &f, None, None))
        .await?;
    Ok(Json(list.iter().map(group_json).collect::<Vec<_>>()).into_response())
}

/// A page of the groups the caller can see, with LibreChat's cursor.
#[utoipa::path(get, path = "/api/prompts/groups", operation_id = "prompts_groups", summary = "A page of the prompt groups the caller can see", tag = "prompts", params(("pageSize" = Option<u32>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query), ("name" = Option<String>, Query), ("category" = Option<String>, Query)), responses((status = 200, description = "`{promptGroups, pageNumber, pageSize, pages, has_more, after}`"), (status = 403, description = "The role may not use prompts")))]
async fn groups(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UsePrompts>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = q
        .limit
        .or(q.page_size)
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|l| *l != 0)
        .unwrap_or(10)
        .clamp(1, 100) as usize;
    let after = shapes::read_cursor(q.cursor.as_deref());
    let (v, f) = (access::viewer(&user), shapes::filter(q.name, q.category));
    let mut page = state
        .db
        .read(move |c| prompt_lists::list(c, &v, &f, after.as_ref(), Some(limit + 1)))
        .await?;
    let has_more = page.len() > limit;
    page.truncate(limit);
    let after = if has_more {
        page.last().map(shapes::write_cursor)
    } else {
        None
    };
    Ok(Json(json!({
        "promptGroups": page.iter().map(group_json).collect::<Vec<_>>(),
        "pageNumber": "1",
        "pageSize": limit.to_string(),
        // LibreChat's: the count is not known, only whether there is more.
        "pages": if has_more { "9999" } else { "1" },
        "has_more": has_more,
        "after": after,
    })))
}

#[derive(Debug, Deserialize)]
struct RandomQuery {
    limit: Option<String>,
    skip: Option<String>,
}

/// One group from each of a few categories, picked at random among those the caller can see.
#[utoipa::path(get, path = "/api/prompts/random", operation_id = "prompts_random", summary = "Prompt groups of random categories", tag = "prompts", params(("limit" = Option<u32>, Query), ("skip" = Option<u32>, Query)), responses((status = 200, description = "`{prompts: [TPromptGroup]}`")))]
async fn random(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UsePrompts>,
    Query(q): Query<RandomQuery>,
) -> Result<Json<Value>, ApiError> {
    let num = |s: Option<String>, d: usize| s.and_then(|s| s.parse().ok()).unwrap_or(d);
    let (limit, skip) = (num(q.limit, 4).min(50), num(q.skip, 0).min(10_000));
    let v = access::viewer(&user);
    let list = state
        .db
        .read(move |c| prompt_lists::random(c, &v, skip, limit))
        .await?;
    Ok(Json(
        json!({ "prompts": list.iter().map(group_json).collect::<Vec<_>>() }),
    ))
}

/// One group the caller can see.
#[utoipa::path(get, path = "/api/prompts/groups/{group_id}", operation_id = "prompts_get_group", summary = "A prompt group", tag = "prompts", params(("group_id" = String, Path)), responses((status = 200, description = "`TPromptGroup`"), (status = 404, description = "Not found")))]
async fn get_group(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UsePrompts>,
    Path(group_id): Path<String>,
) -> Result<Response, ApiError> {
    let v = access::viewer(&user);
    let group = state
        .db
        .read(move |c| prompts::get_group(c, &v, &group_id))
        .await?
        .ok_or_else(|| denied(prompts::Denied::NotFound))?;
    Ok(Json(group_json(&group)).into_response())
}

/// Creates a group with its first version; the caller becomes its owner.
#[utoipa::path(post, path = "/api/prompts", operation_id = "prompts_create", summary = "Create a prompt group", tag = "prompts", request_body(content = Object, description = "`{prompt: {prompt, type}, group: {name, oneliner?, category?, command?}}`"), responses((status = 200, description = "`{prompt, group}`"), (status = 400, description = "Invalid"), (status = 409, description = "The command is taken"), (status = 413, description = "The prompt is too long")))]
async fn create(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreatePrompts>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let fields = shapes::group_input(body.get("group"))?;
    let (text, kind) = shapes::prompt_input(body.get("prompt"))?;
    let owner = roles::owner_of(ResourceType::PromptGroup);
    let v = access::viewer(&user);
    let author_name = if user.name.is_empty() {
        user.username.clone()
    } else {
        user.name.clone()
    };
    let (prompt, group) = state
        .db
        .write(move |c| {
            prompts::create(
                c,
                &v,
                &author_name,
                &fields,
                &text,
                &kind,
                (owner.id, owner.bits),
            )
        })
        .await?
        .map_err(denied)?;
    Ok(Json(
        json!({ "prompt": prompt_json(&prompt), "group": group_json(&group) }),
    ))
}

/// Adds a version to a group (needs EDIT on it).
#[utoipa::path(post, path = "/api/prompts/groups/{group_id}/prompts", operation_id = "prompts_add_version", summary = "Add a version to a prompt group", tag = "prompts", params(("group_id" = String, Path)), request_body(content = Object, description = "`{prompt: {prompt, type}}`"), responses((status = 200, description = "`{prompt}`"), (status = 403, description = "No EDIT permission"), (status = 404, description = "Not found")))]
async fn add_version(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UsePrompts>,
    Path(group_id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let (text, kind) = shapes::prompt_input(body.get("prompt"))?;
    let v = access::viewer(&user);
    let prompt = state
        .db
        .write(move |c| prompts::add_version(c, &v, &group_id, &text, &kind))
        .await?
        .map_err(denied)?;
    Ok(Json(json!({ "prompt": prompt_json(&prompt) })))
}

/// Counts one use of a group.
#[utoipa::path(post, path = "/api/prompts/groups/{group_id}/use", operation_id = "prompts_record_use", summary = "Count a use of a prompt group", tag = "prompts", params(("group_id" = String, Path)), responses((status = 200, description = "`{numberOfGenerations}`"), (status = 404, description = "Not found"), (status = 429, description = "More than 30 uses a minute")))]
async fn record_use(
    State(state): State<AppState>,
    client: Client,
    Permitted(user, _): Permitted<UsePrompts>,
    Path(group_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    // LibreChat's promptUsageLimiter: counted before the access check, so uses of groups the
    // caller cannot see count too.
    let spec = &state.settings.limits.prompt_usage;
    let message = "Too many prompt usage requests. Try again later";
    limit(
        &state,
        spec,
        "prompt_usage",
        Some(&user.id),
        &client,
        message,
    )
    .await?;
    let v = access::viewer(&user);
    let n = state
        .db
        .write(move |c| prompts::record_use(c, &v, &group_id))
        .await?
        .map_err(denied)?;
    Ok(Json(json!({ "numberOfGenerations": n })))
}

/// Changes a group's name, oneliner, category or command (needs EDIT on it).
#[utoipa::path(patch, path = "/api/prompts/groups/{group_id}", operation_id = "prompts_update_group", summary = "Change a prompt group", tag = "prompts", params(("group_id" = String, Path)), request_body(content = Object, description = "`{name?, oneliner?, category?, command?}`"), responses((status = 200, description = "`TPromptGroup`"), (status = 400, description = "Invalid"), (status = 403, description = "No EDIT permission"), (status = 404, description = "Not found"), (status = 409, description = "The command is taken")))]
async fn update_group(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreatePrompts>,
    Path(group_id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let patch = shapes::patch_input(&body)?;
    let v = access::viewer(&user);
    let group = state
        .db
        .write(move |c| prompts::update_group(c, &v, &group_id, &patch))
        .await?
        .map_err(denied)?;
    Ok(Json(group_json(&group)).into_response())
}

/// Deletes a group and its versions (needs DELETE on it).
#[utoipa::path(delete, path = "/api/prompts/groups/{group_id}", operation_id = "prompts_delete_group", summary = "Delete a prompt group", tag = "prompts", params(("group_id" = String, Path)), responses((status = 200, description = "`{message}`"), (status = 403, description = "No DELETE permission"), (status = 404, description = "Not found")))]
async fn delete_group(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreatePrompts>,
    Path(group_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let v = access::viewer(&user);
    state
        .db
        .write(move |c| prompts::delete_group(c, &v, &group_id))
        .await?
        .map_err(denied)?;
    Ok(Json(
        json!({ "message": "Prompt group deleted successfully" }),
    ))
}

/// Makes a version its group's production one (needs EDIT on the group).
#[utoipa::path(patch, path = "/api/prompts/{prompt_id}/tags/production", operation_id = "prompts_make_production", summary = "Make a version the production one", tag = "prompts", params(("prompt_id" = String, Path)), responses((status = 200, description = "`{message}`"), (status = 403, description = "No EDIT permission"), (status = 404, description = "Not found")))]
async fn make_production(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreatePrompts>,
    Path(prompt_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let v = access::viewer(&user);
    state
        .db
        .write(move |c| prompts::make_production(c, &v, &prompt_id))
        .await?
        .map_err(denied)?;
    Ok(Json(
        json!({ "message": "Prompt production made successfully" }),
    ))
}

/// One version, if the caller can see its group.
#[utoipa::path(get, path = "/api/prompts/{prompt_id}", operation_id = "prompts_get", summary = "A prompt version", tag = "prompts", params(("prompt_id" = String, Path)), responses((status = 200, description = "`TPrompt`"), (status = 404, description = "Not found")))]
async fn get_prompt(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UsePrompts>,
    Path(prompt_id): Path<String>,
) -> Result<Response, ApiError> {
    let v = access::viewer(&user);
    let prompt = state
        .db
        .read(move |c| prompts::get_prompt(c, &v, &prompt_id))
        .await?
        .ok_or_else(|| ApiError::NotFound("Prompt not found".into()))?;
    Ok(Json(prompt_json(&prompt)).into_response())
}

#[derive(Debug, Deserialize)]
struct GroupIdQuery {
    #[serde(rename = "groupId")]
    group_id: Option<String>,
}

/// Deletes one version (needs DELETE on its group); the last one takes the group with it.
#[utoipa::path(delete, path = "/api/prompts/{prompt_id}", operation_id = "prompts_delete", summary = "Delete a prompt version", tag = "prompts", params(("prompt_id" = String, Path), ("groupId" = String, Query)), responses((status = 200, description = "`{prompt, promptGroup?}`"), (status = 400, description = "No groupId"), (status = 403, description = "No DELETE permission"), (status = 404, description = "Not found")))]
async fn delete_prompt(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreatePrompts>,
    Path(prompt_id): Path<String>,
    Query(q): Query<GroupIdQuery>,
) -> Result<Json<Value>, ApiError> {
    let group_id = q
        .group_id
        .filter(|g| !g.is_empty())
        .ok_or_else(|| ApiError::BadRequest("Invalid or missing groupId".into()))?;
    let (v, gid) = (access::viewer(&user), group_id.clone());
    let done = state
        .db
        .write(move |c| prompts::delete_version(c, &v, &prompt_id, &gid))
        .await?
        .map_err(denied)?;
    let mut out = json!({ "prompt": "Prompt deleted successfully" });
    if done == prompts::VersionDeleted::Group {
        out["promptGroup"] =
            json!({"message": "Prompt group deleted successfully", "id": group_id});
    }
    Ok(Json(out))
}

/// The versions of a group the caller can see (`?groupId=`), or else the versions they wrote.
#[utoipa::path(get, path = "/api/prompts", operation_id = "prompts_list", summary = "The versions of a prompt group", tag = "prompts", params(("groupId" = Option<String>, Query)), responses((status = 200, description = "`[TPrompt]`"), (status = 404, description = "Not found")))]
async fn list_prompts(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UsePrompts>,
    Query(q): Query<GroupIdQuery>,
) -> Result<Response, ApiError> {
    let v = access::viewer(&user);
    let list = match q.group_id.filter(|g| !g.is_empty()) {
        Some(group_id) => state
            .db
            .read(move |c| prompts::versions(c, &v, &group_id))
            .await?
            .map_err(denied)?,
        None => {
            state
                .db
                .read(move |c| prompts::authored(c, &v.user_id))
                .await?
        }
    };
    Ok(Json(list.iter().map(prompt_json).collect::<Vec<_>>()).into_response())
}

/// LibreChat's prompt categories.
#[utoipa::path(get, path = "/api/categories", operation_id = "prompts_categories", summary = "The prompt categories", tag = "prompts", responses((status = 200, description = "`[{label, value}]`")))]
async fn categories(AuthUser(_): AuthUser) -> Json<Value> {
    Json(Value::Array(
        shapes::CATEGORIES
            .iter()
            .map(|c| json!({"label": format!("com_ui_{c}"), "value": c}))
            .collect(),
    ))
}
