//! `/api/convos`: list, read, rename and change, archive, delete.

use axum::Json;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::paging;
pub use crate::chat::input::{conversation_id, parse_changes};
use crate::chat::jobs::shared::Located;
use crate::chat::present;
use crate::db::conversations::{self, Changes, Cursor, ListFilter, ProjectFilter, SortBy};
use crate::server::middleware::{AuthUser, permission};
use crate::server::{ApiError, AppState, JsonBody};
use crate::shapes::{ConversationPage, DeleteResult, TConversation};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, delete_one))
        .routes(routes!(delete_all))
        .routes(routes!(update))
        .routes(routes!(archive))
        .routes(routes!(get_one))
        .routes(routes!(export))
        .routes(routes!(pin))
        .routes(routes!(archive_all))
}

#[derive(Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<String>,
    #[serde(rename = "isArchived")]
    is_archived: Option<String>,
    pinned: Option<String>,
    /// Ours, older: the same as `sortDirection`.
    order: Option<String>,
    #[serde(rename = "sortBy")]
    sort_by: Option<String>,
    #[serde(rename = "sortDirection")]
    sort_direction: Option<String>,
    search: Option<String>,
    /// A project's id, or `unassigned` (LibreChat's `projectId`).
    #[serde(rename = "projectId")]
    project_id: Option<String>,
}

/// LibreChat's `projectId` filter: a project id (24 hex characters), `unassigned`, or none.
/// Another user's project id simply matches nothing: the list is the caller's alone.
fn project_filter(v: Option<&str>) -> Result<ProjectFilter, ApiError> {
    match v.unwrap_or("") {
        "" => Ok(ProjectFilter::Any),
        "unassigned" => Ok(ProjectFilter::Unassigned),
        id if id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(ProjectFilter::In(id.to_owned()))
        }
        _ => Err(ApiError::Shaped {
            status: StatusCode::BAD_REQUEST,
            body: json!({"error": "projectId must be a valid project id or unassigned"}),
        }),
    }
}

/// LibreChat's `sortBy`: `updatedAt` (the default), `createdAt`, `title` or `archivedAt`.
fn sort_by(v: Option<&str>) -> Result<SortBy, ApiError> {
    Ok(match v.unwrap_or("") {
        "" | "updatedAt" => SortBy::UpdatedAt,
        "createdAt" => SortBy::CreatedAt,
        "title" => SortBy::Title,
        "archivedAt" => SortBy::ArchivedAt,
        other => {
            return Err(ApiError::BadRequest(format!(
                "Invalid sortBy field: {other}. Must be one of title, createdAt, updatedAt, \
                 archivedAt"
            )));
        }
    })
}

#[utoipa::path(get, path = "/api/convos", operation_id = "convos_list", summary = "Conversations, newest first, paged (search, tags, archived)", tag = "convos", responses((status = 200, description = "Success")))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    RawQuery(raw): RawQuery,
    Query(q): Query<ListQuery>,
) -> Result<Json<ConversationPage>, ApiError> {
    let limit = paging::page_size(q.limit.as_deref(), "limit", 25)?;
    let archived = flag(q.is_archived.as_deref(), "isArchived")?;
    let pinned = flag(q.pinned.as_deref(), "pinned")?;
    let ascending = match q.sort_direction.as_deref() {
        Some(d) => paging::ascending(Some(d), "sortDirection")?,
        None => paging::ascending(q.order.as_deref(), "order")?,
    };
    let sort = sort_by(q.sort_by.as_deref())?;
    let project = project_filter(q.project_id.as_deref())?;
    // A search narrows the list to the conversations whose titles match, as LibreChat does.
    let search = super::search::checked_query(q.search.as_deref().unwrap_or(""))?;
    let only = if search.is_empty() {
        None
    } else {
        Some(super::search::conversation_ids(&state, &user.id, search).await?)
    };
    // `tags=a&tags=b` or `tags[]=a&tags[]=b`: repeated keys, read from the raw query.
    let tags: Vec<String> = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "tags" || k == "tags[]")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
        .collect();
    let cursor = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(decode_cursor)
        .transpose()?;
    let filter = ListFilter {
        archived,
        pinned,
        sort,
        ascending,
        tags,
        only,
        project,
    };
    let uid = user.id.clone();
    let (page, next) = state
        .db
        .read(move |c| conversations::list(c, &uid, &filter, cursor.as_ref(), limit))
        .await?;
    Ok(Json(ConversationPage {
        conversations: page.iter().map(present::conversation).collect(),
        next_cursor: next.map(|c| encode_cursor(&c)),
    }))
}

fn flag(v: Option<&str>, name: &str) -> Result<bool, ApiError> {
    match v {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::BadRequest(format!(
            "{name} must be true or false"
        ))),
    }
}

fn encode_cursor(c: &Cursor) -> String {
    paging::encode_cursor(&c.key, &c.conversation_id)
}

fn decode_cursor(s: &str) -> Result<Cursor, ApiError> {
    let (key, conversation_id) = paging::decode_cursor(s)?;
    Ok(Cursor {
        key,
        conversation_id,
    })
}

#[utoipa::path(get, path = "/api/convos/{conversation_id}", operation_id = "convos_get_one", summary = "One conversation", tag = "convos", params(("conversation_id" = String, Path)), responses((status = 200, description = "The conversation", body = TConversation)))]
async fn get_one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<TConversation>, ApiError> {
    let convo = state
        .db
        .read(move |c| conversations::get(c, &user.id, &id))
        .await?
        .ok_or_else(|| ApiError::NotFound("Conversation not found".into()))?;
    Ok(Json(present::conversation(&convo)))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ArgBody {
    arg: Map<String, Value>,
}

async fn save(
    state: &AppState,
    user_id: String,
    id: String,
    changes: Changes,
) -> Result<TConversation, ApiError> {
    let convo = state
        .db
        .write(move |c| conversations::upsert(c, &user_id, &id, &changes))
        .await?
        .ok_or_else(|| ApiError::NotFound("Conversation not found".into()))?;
    Ok(present::conversation(&convo))
}

/// Renames or changes a conversation, creating it if it does not exist yet (LibreChat's
/// `saveConvo` upserts). Answers 201 with the conversation.
#[utoipa::path(post, path = "/api/convos/update", operation_id = "convos_update", request_body = ArgBody, tag = "convos", responses((status = 201, description = "The conversation as saved", body = TConversation)))]
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<ArgBody>,
) -> Result<(StatusCode, Json<TConversation>), ApiError> {
    let mut arg = body.arg;
    // A temporary chat (LibreChat's `isTemporary`) is deleted after the retention period; the
    // flag only takes effect when the conversation is created.
    let temporary = match arg.remove("isTemporary") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "isTemporary must be true or false".into(),
            ));
        }
    };
    if temporary {
        permission::require(&state, &user, "TEMPORARY_CHAT", &["USE"])?;
    }
    let (id, mut changes) = parse_changes(arg)?;
    if temporary {
        let hours = state.settings.features.temporary_chat_retention_hours as i64;
        changes.expires_at = Some(crate::db::to_rfc3339(
            time::OffsetDateTime::now_utc() + time::Duration::hours(hours),
        ));
    }
    Ok((
        StatusCode::CREATED,
        Json(save(&state, user.id, id, changes).await?),
    ))
}

#[utoipa::path(post, path = "/api/convos/archive", operation_id = "convos_archive", request_body = ArgBody, summary = "Archive or unarchive a conversation", tag = "convos", responses((status = 200, description = "The conversation", body = TConversation)))]
async fn archive(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<ArgBody>,
) -> Result<Json<TConversation>, ApiError> {
    let id = conversation_id(body.arg.get("conversationId"))?;
    let archived = body
        .arg
        .get("isArchived")
        .and_then(Value::as_bool)
        .ok_or_else(|| ApiError::BadRequest("isArchived must be true or false".into()))?;
    // Filing a chat away is not activity (LibreChat's `preserveUpdatedAt`), and a chat deleted
    // meanwhile stays deleted (its `noUpsert`).
    let changes = Changes {
        is_archived: Some(archived),
        keep_updated_at: true,
        ..Changes::default()
    };
    let convo = state
        .db
        .write(move |c| conversations::update_existing(c, &user.id, &id, &changes))
        .await?
        .ok_or_else(|| ApiError::NotFound("Conversation not found".into()))?;
    Ok(Json(present::conversation(&convo)))
}

#[utoipa::path(delete, path = "/api/convos", operation_id = "convos_delete_one", request_body = ArgBody, summary = "Delete a conversation", tag = "convos", responses((status = 200, description = "Success")))]
async fn delete_one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<ArgBody>,
) -> Result<(StatusCode, Json<DeleteResult>), ApiError> {
    let id = conversation_id(body.arg.get("conversationId"))?;
    // An answer still being generated there stops (and finds its conversation gone).
    let what = "answers of other replicas cannot be stopped";
    match state.jobs.locate(&user.id, &id, what).await {
        Located::Local(job) => job.abort(),
        Located::Remote(r) if r.active() => {
            abort_elsewhere(&state, &user.id, std::slice::from_ref(&id)).await
        }
        _ => {}
    }
    let messages = state
        .db
        .write(move |c| conversations::delete(c, &user.id, &id))
        .await
        .map_err(|e| ApiError::or_not_found(e, "Conversation"))?;
    Ok((
        StatusCode::CREATED,
        Json(DeleteResult::with_messages(1, messages)),
    ))
}

#[utoipa::path(delete, path = "/api/convos/all", operation_id = "convos_delete_all", summary = "Delete every conversation of the caller", tag = "convos", responses((status = 200, description = "Success")))]
async fn delete_all(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<(StatusCode, Json<DeleteResult>), ApiError> {
    for job in state.jobs.running(&user.id) {
        job.abort();
    }
    if let Some(shared) = state.jobs.shared()
        && let Ok(ids) = shared.running(&user.id).await
    {
        abort_elsewhere(&state, &user.id, &ids).await;
    }
    let (convos, messages) = state
        .db
        .write(move |c| conversations::delete_all(c, &user.id))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DeleteResult::with_messages(convos, messages)),
    ))
}

#[derive(Deserialize)]
struct ExportQuery {
    format: Option<String>,
}

/// The conversation as LibreChat's export JSON (the whole tree) or as Markdown (the newest
/// branch), as a download.
#[utoipa::path(get, path = "/api/convos/{conversation_id}/export", operation_id = "convos_export", tag = "convos", params(("conversation_id" = String, Path)), responses((status = 200, description = "Success")))]
async fn export(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let markdown = match q.format.as_deref() {
        None | Some("") | Some("json") => false,
        Some("markdown" | "md") => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "format must be json or markdown".into(),
            ));
        }
    };
    let (convo, all) = state
        .db
        .read(move |c| {
            Ok(match conversations::get(c, &user.id, &id)? {
                Some(convo) => Some((convo.clone(), crate::db::messages::list(c, &user.id, &id)?)),
                None => None,
            })
        })
        .await?
        .ok_or_else(|| ApiError::NotFound("Conversation not found".into()))?;
    let name: String = convo
        .title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let (body, mime, ext) = if markdown {
        (
            crate::chat::export::to_markdown(&convo, &all),
            "text/markdown; charset=utf-8",
            "md",
        )
    } else {
        let doc = crate::chat::export::to_json(&convo, &all);
        (
            serde_json::to_string_pretty(&doc).unwrap_or_default(),
            "application/json",
            "json",
        )
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, mime.to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{ext}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// `{arg: {conversationId, pinned}}`: pins or unpins a conversation (LibreChat's messages).
#[utoipa::path(post, path = "/api/convos/pin", operation_id = "convos_pin", request_body = ArgBody, summary = "Pin or unpin a conversation", tag = "convos", responses((status = 200, description = "The conversation", body = TConversation), (status = 404, description = "No such conversation")))]
async fn pin(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<ArgBody>,
) -> Result<Json<TConversation>, ApiError> {
    let id = match body.arg.get("conversationId") {
        None | Some(Value::Null) => {
            return Err(ApiError::BadRequest("conversationId is required".into()));
        }
        v => conversation_id(v)?,
    };
    let pinned = match body.arg.get("pinned") {
        None => return Err(ApiError::BadRequest("pinned is required".into())),
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::BadRequest("pinned must be a boolean".into())),
    };
    let convo = state
        .db
        .write(move |c| conversations::set_pinned(c, &user.id, &id, pinned))
        .await?
        .ok_or_else(|| ApiError::NotFound("Conversation not found".into()))?;
    Ok(Json(present::conversation(&convo)))
}

/// Archives every conversation in the caller's list; `{archivedCount}`.
#[utoipa::path(post, path = "/api/convos/archive/all", operation_id = "convos_archive_all", summary = "Archive every conversation", tag = "convos", responses((status = 200, description = "How many were archived")))]
async fn archive_all(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Value>, ApiError> {
    let n = state
        .db
        .write(move |c| conversations::archive_all(c, &user.id))
        .await?;
    Ok(Json(json!({ "archivedCount": n })))
}

/// Stops the user's answers `ids` that other replicas run (with USE_REDIS_STREAMS); best
/// effort: a conversation deleted meanwhile ends its answer when it is saved.
async fn abort_elsewhere(state: &AppState, user_id: &str, ids: &[String]) {
    let Some(shared) = state.jobs.shared() else {
        return;
    };
    for id in ids {
        if let Err(e) = shared.abort(user_id, id).await {
            shared
                .shared
                .degraded("streams", "answers of other replicas cannot be stopped", &e);
            return;
        }
    }
}
