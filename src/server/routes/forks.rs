//! `/api/convos/fork`, `/api/convos/duplicate` and `/api/convos/gen_title/:id`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::convos::conversation_id;
use crate::chat::present;
use crate::chat::tree::{self, ForkOption};
use crate::db::{conversations, messages};
use crate::server::middleware::auth::{limit, limit_address};
use crate::server::middleware::{AuthUser, Client};
use crate::server::{ApiError, AppState, JsonBody};
use crate::shapes::ForkResponse;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(fork))
        .routes(routes!(duplicate))
        // Older clients POST, newer ones GET.
        .routes(routes!(gen_title, gen_title_post))
}

/// The fork limiters (per IP, and per user when enabled), shared by fork and duplicate.
async fn fork_limits(state: &AppState, user_id: &str, client: &Client) -> Result<(), ApiError> {
    let message = "Too many conversation forks, please try again later.";
    if let Some(spec) = &state.settings.limits.fork_ip {
        limit_address(state, spec, "fork_ip", Some(user_id), client, message).await?;
    }
    if let Some(spec) = &state.settings.limits.fork_user {
        limit(state, spec, "fork_user", Some(user_id), client, message).await?;
    }
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ForkBody {
    #[serde(rename = "conversationId")]
    conversation_id: Value,
    #[serde(rename = "messageId")]
    message_id: String,
    option: Option<String>,
    #[serde(rename = "splitAtTarget", default)]
    split_at_target: bool,
    #[serde(rename = "latestMessageId")]
    latest_message_id: Option<String>,
}

/// Copies part of a conversation's tree (see `chat::tree`) into a new conversation.
#[utoipa::path(post, path = "/api/convos/fork", operation_id = "forks_fork", request_body = ForkBody, tag = "forks", responses((status = 200, description = "Success")))]
async fn fork(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<ForkBody>,
) -> Result<Json<ForkResponse>, ApiError> {
    fork_limits(&state, &user.id, &client).await?;
    let source_id = conversation_id(Some(&body.conversation_id))?;
    let option = match body.option.as_deref() {
        // LibreChat's default when the client sends no option.
        None | Some("") => ForkOption::TargetLevel,
        Some(o) => ForkOption::parse(o).ok_or_else(|| {
            ApiError::BadRequest("option must be directPath, includeBranches or targetLevel".into())
        })?,
    };
    let (source, all) = load(&state, &user.id, &source_id).await?;
    let picked = tree::fork(
        &all,
        &body.message_id,
        option,
        body.split_at_target,
        body.latest_message_id.as_deref(),
    )
    .ok_or_else(|| {
        ApiError::BadRequest("messageId is not a message of this conversation".into())
    })?;
    let copy = store_copy(
        &state,
        &user.id,
        source.clone(),
        source.title.clone(),
        picked,
    )
    .await?;
    Ok(Json(copy))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct DuplicateBody {
    #[serde(rename = "conversationId")]
    conversation_id: Value,
    title: Option<String>,
}

/// Copies a whole conversation; answers 201 with the copy.
#[utoipa::path(post, path = "/api/convos/duplicate", operation_id = "forks_duplicate", request_body = DuplicateBody, tag = "forks", responses((status = 200, description = "Success")))]
async fn duplicate(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<DuplicateBody>,
) -> Result<(StatusCode, Json<ForkResponse>), ApiError> {
    fork_limits(&state, &user.id, &client).await?;
    let source_id = conversation_id(Some(&body.conversation_id))?;
    if body.title.as_ref().is_some_and(|t| t.chars().count() > 500) {
        return Err(ApiError::BadRequest(
            "title is at most 500 characters".into(),
        ));
    }
    let (source, all) = load(&state, &user.id, &source_id).await?;
    let title = body
        .title
        .unwrap_or_else(|| format!("{} (Copy)", source.title));
    let copy = store_copy(&state, &user.id, source, title, all).await?;
    Ok((StatusCode::CREATED, Json(copy)))
}

async fn load(
    state: &AppState,
    user_id: &str,
    id: &str,
) -> Result<(conversations::Conversation, Vec<messages::Message>), ApiError> {
    let (u, c) = (user_id.to_owned(), id.to_owned());
    state
        .db
        .read(move |db| {
            Ok(match conversations::get(db, &u, &c)? {
                Some(convo) => Some((convo, messages::list(db, &u, &c)?)),
                None => None,
            })
        })
        .await?
        .ok_or_else(|| ApiError::NotFound("Conversation not found".into()))
}

async fn store_copy(
    state: &AppState,
    user_id: &str,
    source: conversations::Conversation,
    title: String,
    picked: Vec<messages::Message>,
) -> Result<ForkResponse, ApiError> {
    let new_id = uuid::Uuid::new_v4().to_string();
    let copies = tree::copy_for(picked, &new_id, user_id);
    let stored = copies.clone();
    let created = state
        .db
        .write(move |c| conversations::insert_copy(c, &source, &new_id, &title, &stored))
        .await?;
    let (u, id) = (user_id.to_owned(), created.conversation_id.clone());
    let saved = state.db.read(move |c| messages::list(c, &u, &id)).await?;
    Ok(ForkResponse {
        conversation: present::conversation(&created),
        messages: saved.iter().map(present::message).collect(),
    })
}

/// The title of a conversation once it has one. Titles are written by the chat engine just
/// after a new conversation's first answer; a request in that moment waits for the title (for
/// up to 15.5 seconds, as LibreChat polls), and one for a conversation whose title is not
/// coming answers 404 at once.
#[utoipa::path(get, path = "/api/convos/gen_title/{conversation_id}", operation_id = "forks_gen_title", tag = "forks", params(("conversation_id" = String, Path)), responses((status = 200, description = "Success")))]
async fn gen_title(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .jobs
        .titles
        .settled(&user.id, &id, crate::chat::title::WAIT)
        .await;
    let convo = state
        .db
        .read(move |c| conversations::get(c, &user.id, &id))
        .await?
        .filter(|c| c.title != "New Chat")
        .ok_or_else(|| {
            ApiError::NotFound(
                "Title not found or method not implemented for the conversation's endpoint".into(),
            )
        })?;
    Ok(Json(json!({ "title": convo.title })))
}

/// The conversation's title, as older clients ask for it (the same answer as the GET).
#[utoipa::path(post, path = "/api/convos/gen_title/{conversation_id}", operation_id = "forks_gen_title_post", tag = "forks", params(("conversation_id" = String, Path)), responses((status = 200, description = "Success")))]
async fn gen_title_post(
    state: State<AppState>,
    user: AuthUser,
    id: Path<String>,
) -> Result<Json<Value>, ApiError> {
    gen_title(state, user, id).await
}
