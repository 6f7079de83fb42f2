//! `/api/tags`: bookmarks, with how many conversations carry each. Every route needs the
//! role's `BOOKMARKS`/`USE`, as in LibreChat.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::chat::present;
use crate::db::conversations;
use crate::db::tags;
use crate::server::middleware::Permitted;
use crate::server::middleware::permission::UseBookmarks;
use crate::server::{ApiError, AppState, JsonBody};
use crate::shapes::TConversationTag;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, delete))
        .routes(routes!(set_for_conversation))
}

/// A bookmark's name: 1 to 100 characters, no control characters, trimmed.
fn name(raw: &str) -> Result<String, ApiError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "a bookmark name is 1 to 100 characters".into(),
        ));
    }
    Ok(t.to_owned())
}

fn description(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw {
        Some(d) if d.chars().count() > 1000 => Err(ApiError::BadRequest(
            "description is at most 1000 characters".into(),
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

#[utoipa::path(get, path = "/api/tags", operation_id = "tags_list", summary = "The caller's bookmarks (tags)", tag = "tags", responses((status = 200, description = "Success")))]
async fn list(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UseBookmarks>,
) -> Result<Json<Vec<TConversationTag>>, ApiError> {
    let all = state.db.read(move |c| tags::list(c, &user.id)).await?;
    Ok(Json(all.iter().map(present::tag).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = TagCreate)]
struct CreateBody {
    tag: String,
    description: Option<String>,
    #[serde(rename = "addToConversation")]
    add_to_conversation: Option<bool>,
    #[serde(rename = "conversationId")]
    conversation_id: Option<String>,
}

/// Creates a bookmark (200, as LibreChat answers). A name the user already has answers with
/// that bookmark, as LibreChat does; `addToConversation` is applied either way.
#[utoipa::path(post, path = "/api/tags", operation_id = "tags_create", request_body = CreateBody, summary = "Create a bookmark", tag = "tags", responses((status = 200, description = "Success")))]
async fn create(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UseBookmarks>,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<Json<TConversationTag>, ApiError> {
    let tag = name(&body.tag)?;
    let desc = description(body.description.as_deref())?.unwrap_or_default();
    let convo = match (body.add_to_conversation, body.conversation_id) {
        (Some(true), Some(id)) => Some(id),
        (Some(true), None) => {
            return Err(ApiError::BadRequest(
                "addToConversation needs a conversationId".into(),
            ));
        }
        _ => None,
    };
    let uid = user.id.clone();
    let created = state
        .db
        .write(move |c| {
            let tx = c.transaction()?;
            tags::create(&tx, &uid, &tag, &desc)?;
            if let Some(cid) = &convo {
                tags::add_to_conversation(&tx, &uid, cid, &tag)?;
            }
            let t = tags::get(&tx, &uid, &tag)?;
            tx.commit()?;
            Ok(t)
        })
        .await
        .map_err(|e| ApiError::or_not_found(e, "Conversation"))?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the bookmark vanished")))?;
    Ok(Json(present::tag(&created)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = TagUpdate)]
struct UpdateBody {
    tag: Option<String>,
    description: Option<String>,
    position: Option<i64>,
}

#[utoipa::path(put, path = "/api/tags/{tag}", operation_id = "tags_update", request_body = UpdateBody, summary = "Rename or describe a bookmark", tag = "tags", params(("tag" = String, Path)), responses((status = 200, description = "Success")))]
async fn update(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UseBookmarks>,
    Path(tag): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<TConversationTag>, ApiError> {
    let new_name = body.tag.as_deref().map(name).transpose()?;
    let desc = description(body.description.as_deref())?;
    if body.position.is_some_and(|p| p < 0) {
        return Err(ApiError::BadRequest("position must be 0 or more".into()));
    }
    let uid = user.id.clone();
    let updated = state
        .db
        .write(move |c| {
            if !tags::update(
                c,
                &uid,
                &tag,
                new_name.as_deref(),
                desc.as_deref(),
                body.position,
            )? {
                return Ok(None);
            }
            tags::get(c, &uid, new_name.as_deref().unwrap_or(&tag))
        })
        .await
        .map_err(|e| ApiError::or_not_found(e, "Bookmark"))?
        .ok_or_else(|| ApiError::Conflict("You already have a bookmark with that name".into()))?;
    Ok(Json(present::tag(&updated)))
}

/// Deletes a bookmark; answers with it as it was, as LibreChat does.
#[utoipa::path(delete, path = "/api/tags/{tag}", operation_id = "tags_delete", summary = "Delete a bookmark", tag = "tags", params(("tag" = String, Path)), responses((status = 200, description = "Success")))]
async fn delete(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UseBookmarks>,
    Path(tag): Path<String>,
) -> Result<Json<TConversationTag>, ApiError> {
    let deleted = state
        .db
        .write(move |c| tags::delete(c, &user.id, &tag))
        .await
        .map_err(|e| ApiError::or_not_found(e, "Bookmark"))?;
    Ok(Json(present::tag(&deleted)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ConversationTags)]
struct SetBody {
    tags: Vec<String>,
}

/// Sets exactly these bookmarks on a conversation; answers with the conversation's bookmarks.
#[utoipa::path(put, path = "/api/tags/convo/{conversation_id}", operation_id = "tags_set_for_conversation", request_body = SetBody, tag = "tags", params(("conversation_id" = String, Path)), responses((status = 200, description = "Success")))]
async fn set_for_conversation(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<UseBookmarks>,
    Path(conversation_id): Path<String>,
    JsonBody(body): JsonBody<SetBody>,
) -> Result<Json<Vec<String>>, ApiError> {
    if body.tags.len() > 100 {
        return Err(ApiError::BadRequest(
            "at most 100 bookmarks per conversation".into(),
        ));
    }
    let names = body
        .tags
        .iter()
        .map(|t| name(t))
        .collect::<Result<Vec<_>, _>>()?;
    let (uid, cid) = (user.id.clone(), conversation_id.clone());
    let convo = state
        .db
        .write(move |c| {
            tags::set_for_conversation(c, &uid, &cid, &names)?;
            conversations::get(c, &uid, &cid)
        })
        .await
        .map_err(|e| ApiError::or_not_found(e, "Conversation"))?
        .ok_or_else(|| ApiError::NotFound("Conversation not found".into()))?;
    Ok(Json(convo.tags))
}
