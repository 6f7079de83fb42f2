//! `/api/messages/:conversationId[/:messageId]`: a conversation's messages; save one, read one,
//! feedback, delete (with the replies below it).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::chat::present;
use crate::db::conversations;
use crate::db::messages::{self, NO_PARENT};
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState, JsonBody};
use crate::shapes::message::FeedbackAnswer;
use crate::shapes::{self, MessagePage, TMessage};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(page))
        .routes(routes!(list, save))
        .routes(routes!(get_one, edit, delete_one))
        .routes(routes!(feedback))
        // LibreChat's artifact editing lives under /api/messages too.
        .merge(super::artifacts::router())
}

fn not_found() -> ApiError {
    ApiError::NotFound("Conversation not found".into())
}

/// 404 unless the user owns the conversation (someone else's looks the same as none).
async fn owned(state: &AppState, user_id: &str, conversation_id: &str) -> Result<(), ApiError> {
    let (u, c) = (user_id.to_owned(), conversation_id.to_owned());
    match state
        .db
        .read(move |db| conversations::get(db, &u, &c))
        .await?
    {
        Some(_) => Ok(()),
        None => Err(not_found()),
    }
}

#[utoipa::path(get, path = "/api/messages/{conversation_id}", operation_id = "messages_list", summary = "The messages of a conversation", tag = "messages", params(("conversation_id" = String, Path)), responses((status = 200, description = "The messages, oldest first", body = Vec<TMessage>)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(conversation_id): Path<String>,
) -> Result<Json<Vec<TMessage>>, ApiError> {
    owned(&state, &user.id, &conversation_id).await?;
    let all = state
        .db
        .read(move |c| messages::list(c, &user.id, &conversation_id))
        .await?;
    Ok(Json(all.iter().map(present::message).collect()))
}

#[utoipa::path(get, path = "/api/messages/{conversation_id}/{message_id}", operation_id = "messages_get_one", summary = "One message", tag = "messages", params(("conversation_id" = String, Path), ("message_id" = String, Path)), responses((status = 200, description = "The message", body = TMessage)))]
async fn get_one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((conversation_id, message_id)): Path<(String, String)>,
) -> Result<Json<TMessage>, ApiError> {
    let m = state
        .db
        .read(move |c| messages::get(c, &user.id, &conversation_id, &message_id))
        .await?
        .ok_or_else(|| ApiError::NotFound("Message not found".into()))?;
    Ok(Json(present::message(&m)))
}

/// Saves a message into the user's conversation (LibreChat's `POST /api/messages/:id`).
#[utoipa::path(post, path = "/api/messages/{conversation_id}", operation_id = "messages_save", request_body(content = TMessage, description = "A `TMessage`: `messageId`, `parentMessageId`, `text` or `content`, `sender`, `isCreatedByUser`, ..."), tag = "messages", params(("conversation_id" = String, Path)), responses((status = 201, description = "The message as saved", body = TMessage)))]
async fn save(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(conversation_id): Path<String>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<(StatusCode, Json<TMessage>), ApiError> {
    owned(&state, &user.id, &conversation_id).await?;
    super::reject_deep(&Value::Object(body.clone()))?;
    let sent: TMessage = shapes::read(Value::Object(body))?;
    let message = present::message_row(sent, &user.id, &conversation_id)?;
    if message.parent_message_id != NO_PARENT {
        let (u, c, p) = (
            user.id.clone(),
            conversation_id.clone(),
            message.parent_message_id.clone(),
        );
        if state
            .db
            .read(move |db| messages::get(db, &u, &c, &p))
            .await?
            .is_none()
        {
            return Err(ApiError::BadRequest(
                "parentMessageId is not a message of this conversation".into(),
            ));
        }
    }
    let mut to_store = message;
    let (outcome, message_id) = state
        .db
        .write(move |c| {
            let mut outcome = messages::save(c, &to_store)?;
            // LibreChat keeps message ids per account, so another account's id is free there
            // and the message is saved (201). Ids are global here: it is saved under a new id,
            // as the chat start does, which the answer carries, telling the sender that the id
            // is taken (README); nothing more: the other account's message is neither read nor
            // touched.
            if outcome == messages::Saved::OtherUsers {
                to_store.message_id = uuid::Uuid::new_v4().to_string();
                outcome = messages::save(c, &to_store)?;
            }
            Ok((outcome, to_store.message_id))
        })
        .await?;
    match outcome {
        messages::Saved::Yes => {}
        messages::Saved::OtherUsers => {
            return Err(ApiError::Conflict("messageId is already used".into()));
        }
        messages::Saved::OtherConversation => {
            return Err(ApiError::BadRequest(
                "messageId belongs to another conversation".into(),
            ));
        }
        messages::Saved::Cycle => {
            return Err(ApiError::BadRequest(
                "parentMessageId lies below this message: the tree would loop".into(),
            ));
        }
    }
    let (u, c, id) = (user.id, conversation_id, message_id);
    let saved = state
        .db
        .read(move |db| messages::get(db, &u, &c, &id))
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("saved message vanished")))?;
    Ok((StatusCode::CREATED, Json(present::message(&saved))))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
struct FeedbackBody {
    feedback: Option<Value>,
}

#[utoipa::path(put, path = "/api/messages/{conversation_id}/{message_id}/feedback", operation_id = "messages_feedback", request_body = FeedbackBody, summary = "Rate a message", tag = "messages", params(("conversation_id" = String, Path), ("message_id" = String, Path)), responses((status = 200, description = "Success")))]
async fn feedback(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((conversation_id, message_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<FeedbackBody>,
) -> Result<Json<FeedbackAnswer>, ApiError> {
    let feedback = match body.feedback {
        None | Some(Value::Null) => None,
        Some(Value::Object(f)) => {
            match f.get("rating").and_then(Value::as_str) {
                Some("thumbsUp" | "thumbsDown") => {}
                _ => {
                    return Err(ApiError::BadRequest(
                        "feedback.rating must be thumbsUp or thumbsDown".into(),
                    ));
                }
            }
            if f.get("text").is_some_and(|t| {
                !t.is_null() && t.as_str().is_none_or(|s| s.chars().count() > 2000)
            }) {
                return Err(ApiError::BadRequest(
                    "feedback.text must be a string of at most 2000 characters".into(),
                ));
            }
            Some(Value::Object(f))
        }
        Some(_) => {
            return Err(ApiError::BadRequest(
                "feedback must be an object or null".into(),
            ));
        }
    };
    let (u, c, m, f) = (
        user.id,
        conversation_id.clone(),
        message_id.clone(),
        feedback.clone(),
    );
    state
        .db
        .write(move |db| messages::set_feedback(db, &u, &c, &m, f.as_ref()))
        .await
        .map_err(|e| ApiError::or_not_found(e, "Message"))?;
    Ok(Json(FeedbackAnswer {
        message_id,
        conversation_id,
        feedback,
    }))
}

/// Deletes the message and the replies below it (see `messages::delete_subtree`). 204.
#[utoipa::path(delete, path = "/api/messages/{conversation_id}/{message_id}", operation_id = "messages_delete_one", tag = "messages", params(("conversation_id" = String, Path), ("message_id" = String, Path)), responses((status = 200, description = "Success")))]
async fn delete_one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((conversation_id, message_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .db
        .write(move |c| messages::delete_subtree(c, &user.id, &conversation_id, &message_id))
        .await
        .map_err(|e| ApiError::or_not_found(e, "Message"))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
struct EditBody {
    text: String,
    /// Edit `content[index]` (a text or reasoning part) instead of `text`.
    index: Option<usize>,
}

/// Edits a message in place (LibreChat's PUT): its `text`, or one text/reasoning part of its
/// content, and recounts its tokens.
#[utoipa::path(put, path = "/api/messages/{conversation_id}/{message_id}", operation_id = "messages_edit", request_body = EditBody, tag = "messages", params(("conversation_id" = String, Path), ("message_id" = String, Path)), responses((status = 200, description = "The message as edited", body = TMessage)))]
async fn edit(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((conversation_id, message_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<EditBody>,
) -> Result<Json<TMessage>, ApiError> {
    if body.text.chars().count() > 1_000_000 {
        return Err(ApiError::BadRequest(
            "text is longer than 1,000,000 characters".into(),
        ));
    }
    let (u, c, m) = (user.id.clone(), conversation_id.clone(), message_id.clone());
    let mut message = state
        .db
        .read(move |db| messages::get(db, &u, &c, &m))
        .await?
        .ok_or_else(|| ApiError::NotFound("Message not found".into()))?;
    match body.index {
        None => message.text = body.text,
        Some(i) => {
            let part = message
                .content
                .as_mut()
                .and_then(Value::as_array_mut)
                .and_then(|parts| parts.get_mut(i))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!("the message has no content part {i}"))
                })?;
            match part["type"].as_str() {
                Some("text") if part["text"].is_object() => {
                    part["text"]["value"] = Value::String(body.text)
                }
                Some("text") => part["text"] = Value::String(body.text),
                Some("think") => part["think"] = Value::String(body.text),
                _ => {
                    return Err(ApiError::BadRequest(
                        "only text and reasoning parts can be edited".into(),
                    ));
                }
            }
        }
    }
    let all_text = crate::chat::tokens::message_text(&message.text, message.content.as_ref());
    // A user message carries no model; it is counted as the models of today (o200k) would.
    let model = message.model.clone().unwrap_or_else(|| "gpt-4o".into());
    let tokens = tokio::task::spawn_blocking(move || crate::chat::tokens::count(&model, &all_text))
        .await
        .map_err(ApiError::internal)?;
    let (u, c, m) = (user.id.clone(), conversation_id.clone(), message_id.clone());
    let (text, content) = (message.text.clone(), message.content.clone());
    state
        .db
        .write(move |db| {
            messages::edit(db, &u, &c, &m, &text, content.as_ref(), tokens)?;
            messages::get(db, &u, &c, &m)
        })
        .await?
        .map(|m| Json(present::message(&m)))
        .ok_or_else(|| ApiError::NotFound("Message not found".into()))
}

#[derive(serde::Deserialize)]
struct PageQuery {
    #[serde(rename = "conversationId")]
    conversation_id: Option<String>,
    cursor: Option<String>,
    #[serde(rename = "pageSize")]
    page_size: Option<String>,
    #[serde(rename = "sortBy")]
    sort_by: Option<String>,
    #[serde(rename = "sortDirection")]
    sort_direction: Option<String>,
    search: Option<String>,
}

/// `GET /api/messages`: the user's messages a page at a time, newest first by default,
/// optionally of one conversation. `{messages, nextCursor}`.
#[utoipa::path(get, path = "/api/messages", operation_id = "messages_page", tag = "messages", responses((status = 200, description = "Success")))]
async fn page(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let limit = super::paging::page_size(q.page_size.as_deref(), "pageSize", 25)?;
    let search = super::search::checked_query(q.search.as_deref().unwrap_or(""))?;
    if !search.is_empty() {
        // Best matches first; the cursor is the position of the next page.
        let offset = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => 0,
            Some(c) => super::paging::decode_offset(c)?,
        };
        let (found, total) =
            super::search::messages(&state, &user.id, search, offset, limit).await?;
        let next = offset + limit;
        return Ok(Json(MessagePage {
            messages: found,
            next_cursor: (next < total).then(|| super::paging::encode_offset(next)),
        }));
    }
    if q.sort_by
        .as_deref()
        .is_some_and(|s| !s.is_empty() && s != "createdAt")
    {
        return Err(ApiError::BadRequest(
            "sortBy: only createdAt is supported".into(),
        ));
    }
    let ascending = super::paging::ascending(q.sort_direction.as_deref(), "sortDirection")?;
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let (created_at, message_id) = super::paging::decode_cursor(c)?;
            Some(messages::Cursor {
                created_at,
                message_id,
            })
        }
    };
    let conversation = q.conversation_id.filter(|c| !c.is_empty());
    if let Some(c) = &conversation {
        owned(&state, &user.id, c).await?;
    }
    let (rows, next) = state
        .db
        .read(move |db| {
            messages::page(
                db,
                &user.id,
                conversation.as_deref(),
                ascending,
                cursor.as_ref(),
                limit,
            )
        })
        .await?;
    Ok(Json(MessagePage {
        messages: rows.iter().map(present::message).collect(),
        next_cursor: next.map(|c| super::paging::encode_cursor(&c.created_at, &c.message_id)),
    }))
}
