//! `/api/projects`: a user's chat projects (LibreChat's `ChatProject`): list, create, read,
//! rename or describe, delete (its conversations stay, unassigned), and move a conversation in
//! or out. Every person may have projects: LibreChat has no role permission or `interface`
//! switch for them. Refusals are `{error}`, as LibreChat's project routes answer.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::paging;
use crate::chat::present;
use crate::db::projects::{self, AssignError, Cursor, ListFilter, SortBy};
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState, JsonBody};
use crate::shapes::{ProjectAssignment, ProjectDeleteResult, ProjectPage, TChatProject};

/// LibreChat's `MAX_CHAT_PROJECT_NAME_LENGTH` and `..._DESCRIPTION_LENGTH` (its dialogs stop
/// there too).
const MAX_NAME: usize = 100;
const MAX_DESCRIPTION: usize = 1000;
/// A search longer than any name or description could never match.
const MAX_SEARCH: usize = MAX_DESCRIPTION;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(assign))
}

/// A refusal shaped as LibreChat's project routes shape theirs.
fn refuse(status: StatusCode, message: &str) -> ApiError {
    ApiError::Shaped {
        status,
        body: json!({ "error": message }),
    }
}

fn not_found() -> ApiError {
    refuse(StatusCode::NOT_FOUND, "Project not found")
}

/// A name: trimmed, 1 to 100 characters, no control characters. Where LibreChat cuts a longer
/// one short, it is refused here: nothing a person typed is silently lost.
fn name(v: Option<&Value>) -> Result<String, ApiError> {
    let Some(Value::String(raw)) = v else {
        return Err(refuse(StatusCode::BAD_REQUEST, "name is required"));
    };
    let t = raw.trim();
    if t.is_empty() {
        return Err(refuse(StatusCode::BAD_REQUEST, "name is required"));
    }
    if t.chars().count() > MAX_NAME || t.chars().any(char::is_control) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            &format!("name must be at most {MAX_NAME} characters, on one line"),
        ));
    }
    Ok(t.to_owned())
}

/// A description: trimmed, at most 1000 characters; `null` is the empty one.
fn description(v: Option<&Value>) -> Result<Option<String>, ApiError> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(String::new())),
        Some(Value::String(s)) if s.trim().chars().count() <= MAX_DESCRIPTION => {
            Ok(Some(s.trim().to_owned()))
        }
        Some(_) => Err(refuse(
            StatusCode::BAD_REQUEST,
            &format!("description must be a string of at most {MAX_DESCRIPTION} characters"),
        )),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<String>,
    #[serde(rename = "sortBy")]
    sort_by: Option<String>,
    #[serde(rename = "sortDirection")]
    sort_direction: Option<String>,
    search: Option<String>,
}

fn sort_by(v: Option<&str>) -> Result<SortBy, ApiError> {
    Ok(match v.unwrap_or("") {
        "" | "lastConversationAt" => SortBy::LastConversationAt,
        "createdAt" => SortBy::CreatedAt,
        "name" => SortBy::Name,
        _ => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "sortBy must be one of name, createdAt, lastConversationAt",
            ));
        }
    })
}

/// The caller's projects, most recently active first unless asked otherwise, 25 a page.
#[utoipa::path(get, path = "/api/projects", operation_id = "projects_list", summary = "The caller's chat projects, paged", tag = "projects", params(("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query), ("sortBy" = Option<String>, Query, description = "lastConversationAt (default), createdAt or name"), ("sortDirection" = Option<String>, Query), ("search" = Option<String>, Query)), responses((status = 200, description = "A page of projects", body = ProjectPage), (status = 400, description = "A bad cursor, limit or order")))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<ProjectPage>, ApiError> {
    let limit = paging::page_size(q.limit.as_deref(), "limit", 25)?;
    let filter = ListFilter {
        sort: sort_by(q.sort_by.as_deref())?,
        ascending: paging::ascending(q.sort_direction.as_deref(), "sortDirection")?,
        search: q
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    };
    if filter
        .search
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_SEARCH)
    {
        return Err(refuse(StatusCode::BAD_REQUEST, "search is too long"));
    }
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let (key, id) = paging::decode_cursor(c)
                .map_err(|_| refuse(StatusCode::BAD_REQUEST, "invalid cursor"))?;
            Some(Cursor { key, id })
        }
    };
    let (page, next) = state
        .db
        .read(move |c| projects::list(c, &user.id, &filter, cursor.as_ref(), limit))
        .await?;
    Ok(Json(ProjectPage {
        projects: page.iter().map(present::project).collect(),
        next_cursor: next.map(|c| paging::encode_cursor(&c.key, &c.id)),
    }))
}

/// Creates a project (201 with it).
#[utoipa::path(post, path = "/api/projects", operation_id = "projects_create", request_body = Object, summary = "Create a chat project ({name, description?})", tag = "projects", responses((status = 201, description = "The project", body = TChatProject), (status = 400, description = "No name, or too long")))]
async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<(StatusCode, Json<TChatProject>), ApiError> {
    let name = name(body.get("name"))?;
    let description = description(body.get("description"))?.unwrap_or_default();
    let project = state
        .db
        .write(move |c| projects::create(c, &user.id, &name, &description))
        .await?;
    Ok((StatusCode::CREATED, Json(present::project(&project))))
}

#[utoipa::path(get, path = "/api/projects/{project_id}", operation_id = "projects_get", summary = "One of the caller's projects", tag = "projects", params(("project_id" = String, Path)), responses((status = 200, description = "The project", body = TChatProject), (status = 404, description = "Not the caller's, or none")))]
async fn get_one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<TChatProject>, ApiError> {
    let project = state
        .db
        .read(move |c| projects::get(c, &user.id, &id))
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(present::project(&project)))
}

/// Renames and/or describes a project (`{name?, description?}`).
#[utoipa::path(patch, path = "/api/projects/{project_id}", operation_id = "projects_update", request_body = Object, summary = "Rename or describe a project", tag = "projects", params(("project_id" = String, Path)), responses((status = 200, description = "The project", body = TChatProject), (status = 400, description = "An empty or too long name"), (status = 404, description = "Not the caller's, or none")))]
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<TChatProject>, ApiError> {
    let name = match body.get("name") {
        None => None,
        v => Some(name(v)?),
    };
    let description = description(body.get("description"))?;
    let project = state
        .db
        .write(move |c| projects::update(c, &user.id, &id, name.as_deref(), description.as_deref()))
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(present::project(&project)))
}

/// Deletes a project; its conversations stay, in no project.
#[utoipa::path(delete, path = "/api/projects/{project_id}", operation_id = "projects_delete", summary = "Delete a project (its conversations stay)", tag = "projects", params(("project_id" = String, Path)), responses((status = 200, description = "What was deleted and how many conversations were let go", body = ProjectDeleteResult), (status = 404, description = "Not the caller's, or none")))]
async fn delete(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<ProjectDeleteResult>, ApiError> {
    match state
        .db
        .write(move |c| projects::delete(c, &user.id, &id))
        .await
    {
        Ok(modified) => Ok(Json(ProjectDeleteResult {
            deleted_count: 1,
            modified_count: modified,
        })),
        Err(crate::db::DbError::NotFound) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// Moves a conversation into a project (`{projectId}`), or out of any (`{projectId: null}`).
#[utoipa::path(put, path = "/api/projects/conversations/{conversation_id}", operation_id = "projects_assign", request_body = Object, summary = "Put a conversation in a project, or take it out", tag = "projects", params(("conversation_id" = String, Path)), responses((status = 200, description = "The conversation, and the projects it left and joined"), (status = 400, description = "projectId is not a string or null"), (status = 404, description = "The conversation or the project is not the caller's")))]
async fn assign(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(conversation_id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<ProjectAssignment>, ApiError> {
    // LibreChat reads a missing or empty `projectId` as "out of any project".
    let project_id = match body.get("projectId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(_) => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "projectId must be a string or null",
            ));
        }
    };
    let target = project_id.clone();
    let result = state
        .db
        .write(move |c| {
            Ok(projects::assign(
                c,
                &user.id,
                &conversation_id,
                target.as_deref(),
            ))
        })
        .await?;
    match result {
        Ok((conversation, previous)) => Ok(Json(ProjectAssignment {
            conversation: present::conversation(&conversation),
            previous_project_id: previous,
            project_id,
        })),
        Err(AssignError::ConversationNotFound) => {
            Err(refuse(StatusCode::NOT_FOUND, "Conversation not found"))
        }
        Err(AssignError::ProjectNotFound) => Err(not_found()),
        Err(AssignError::Db(e)) => Err(e.into()),
    }
}
