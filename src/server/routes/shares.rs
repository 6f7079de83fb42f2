//! `/api/share`: read-only links to part of a conversation.
//!
//! A link holds a snapshot taken when it is made: the branch from the first message to the
//! target message (or to the newest message), with every id replaced by a random one and only
//! the fields a reader needs (text and reasoning parts only). Nothing after the target, no
//! other conversation, and nothing about the owner (id, email, files) is ever in it. `GET /api/share/:shareId` is open to
//! anyone with `ALLOW_SHARED_LINKS_PUBLIC`, otherwise to signed-in users.
//!
//! A link's page is rendered once per version of the link and kept ([`PAGES`]): a flood of
//! views costs one small database read each (which also makes a deleted link stop at once),
//! never a render.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::bounded::BoundedCache;
use crate::chat::{artifacts, present, tree};
use crate::db::conversations;
use crate::db::messages::{self, Message, NO_PARENT};
use crate::db::shares::{self, SharedLink};
use crate::db::users::User;
use crate::server::middleware::permission::CreateSharedLinks;
use crate::server::middleware::{AuthUser, MaybeUser, Permitted};
use crate::server::{ApiError, AppState};
use crate::shapes::share::{SharedLinkOf, SharedPage, Snapshot};
use crate::shapes::{SharedLinkPage, TMessage, TSharedLink};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(link_for_conversation))
        // One path, one parameter name: `id` is a share id, or a conversation id for POST.
        .routes(routes!(read, create, regenerate, remove))
        .routes(routes!(read_config))
}

fn enabled(state: &AppState) -> Result<(), ApiError> {
    if state.settings.features.shared_links {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "Shared links are disabled on this server.".into(),
        ))
    }
}

/// A new share id: 21 random URL-safe characters.
fn new_share_id() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("system randomness");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)[..21].to_owned()
}

/// The shared view of a branch: random ids (parent links kept) and the reader's fields only.
pub(crate) fn snapshot(branch: &[Message]) -> Value {
    let anon: HashMap<&str, String> = branch
        .iter()
        .map(|m| (m.message_id.as_str(), format!("msg_{}", new_share_id())))
        .collect();
    let convo = format!("convo_{}", new_share_id());
    let messages: Vec<TMessage> = branch
        .iter()
        .map(|m| TMessage {
            message_id: anon[m.message_id.as_str()].clone(),
            parent_message_id: anon
                .get(m.parent_message_id.as_str())
                .map_or(NO_PARENT, String::as_str)
                .to_owned(),
            conversation_id: convo.clone(),
            sender: Some(m.sender.clone()),
            text: m.text.clone(),
            is_created_by_user: m.is_created_by_user,
            model: m.model.clone(),
            error: m.error,
            unfinished: m.unfinished,
            created_at: m.created_at.clone(),
            updated_at: m.updated_at.clone(),
            endpoint: m.endpoint.clone(),
            // Only text and reasoning parts: file and image parts carry storage paths that
            // name the owner, and tool calls carry the owner's inputs.
            content: present::parts(m.content.as_ref().unwrap_or(&Value::Null)).map(|parts| {
                parts
                    .into_iter()
                    .filter(|p| matches!(p.kind(), Some("text" | "think")))
                    .collect()
            }),
            // A web search's sources, which are public pages (see [`shared_sources`]).
            extra: shared_sources(&m.extra),
            // Nothing about the owner: no user, files, feedback or other fields.
            ..TMessage::default()
        })
        .collect();
    serde_json::to_value(Snapshot {
        conversation_id: convo,
        messages,
    })
    .unwrap_or_default()
}

/// A message's web search attachments as a reader sees them, `{type, web_search}` only, so its
/// citations resolve on the shared page: the pages found are public, while the ids beside them
/// name the owner's conversation. File search sources name the owner's files: never shared.
fn shared_sources(extra: &serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
    let web: Vec<Value> = extra
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a["type"] == "web_search" && a["web_search"].is_object())
        .map(|a| json!({"type": "web_search", "web_search": a["web_search"]}))
        .collect();
    let mut out = serde_json::Map::new();
    if !web.is_empty() {
        out.insert("attachments".into(), Value::Array(web));
    }
    out
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[schema(as = ShareCreate)]
struct CreateBody {
    #[serde(rename = "targetMessageId")]
    target_message_id: Option<String>,
}

#[utoipa::path(post, path = "/api/share/{id}", operation_id = "shares_create", request_body(content = Option<CreateBody>, description = "Optional: without a body the newest branch is shared"), summary = "Share a conversation", tag = "shares", params(("id" = String, Path)), responses((status = 200, description = "Success")))]
async fn create(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreateSharedLinks>,
    Path(conversation_id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<TSharedLink>, ApiError> {
    enabled(&state)?;
    // The body is optional: none shares the newest branch.
    let body: CreateBody = if body.iter().all(u8::is_ascii_whitespace) {
        CreateBody::default()
    } else {
        // `null` is as good as no body, as the document says.
        serde_json::from_slice::<Option<CreateBody>>(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid request body: {e}")))?
            .unwrap_or_default()
    };
    let target = body.target_message_id.filter(|t| !t.is_empty());
    let (uid, cid) = (user.id.clone(), conversation_id.clone());
    let (convo, all) = state
        .db
        .read(move |c| {
            Ok(match conversations::get(c, &uid, &cid)? {
                Some(convo) => Some((convo, messages::list(c, &uid, &cid)?)),
                None => None,
            })
        })
        .await?
        .ok_or_else(|| ApiError::NotFound("Conversation not found".into()))?;
    let branch = tree::branch(&all, target.as_deref());
    if branch.is_empty() {
        return Err(ApiError::BadRequest(match target {
            Some(_) => "targetMessageId is not a message of this conversation".into(),
            None => "there is nothing to share in an empty conversation".into(),
        }));
    }
    let link = SharedLink {
        share_id: new_share_id(),
        user_id: user.id,
        conversation_id: convo.conversation_id,
        title: convo.title,
        target_message_id: target,
        snapshot: snapshot(&branch),
        created_at: String::new(),
        updated_at: String::new(),
    };
    let stored = link.clone();
    let saved = state
        .db
        .write(move |c| {
            if !shares::create(c, &stored)? {
                return Ok(None);
            }
            shares::by_share_id(c, &stored.share_id)
        })
        .await?
        .ok_or_else(|| ApiError::Conflict("This conversation is already shared.".into()))?;
    Ok(Json(present::shared_link(&saved)))
}

/// Shared pages as served, by share id and the link's `updated_at`: a change to the link
/// (it is given a new id and snapshot) makes a new key, and a deleted link is never looked up.
/// At most 32 MiB, each page dropped after an hour unseen.
static PAGES: LazyLock<BoundedCache<Bytes>> = LazyLock::new(|| {
    BoundedCache::builder(32 * 1024 * 1024)
        .weigher(|key: &str, page: &Bytes| {
            u32::try_from(key.len() + page.len()).unwrap_or(u32::MAX)
        })
        .time_to_idle(Duration::from_secs(60 * 60))
        .build()
});

/// A share id and version as one key (a unit separator cannot occur in either).
fn page_key(share_id: &str, version: &str) -> String {
    format!("{share_id}\u{1f}{version}")
}

fn json_page(page: Bytes) -> Response {
    ([(CONTENT_TYPE, "application/json")], page).into_response()
}

/// The shared page's data.
#[utoipa::path(get, path = "/api/share/{id}", operation_id = "shares_read", tag = "shares", params(("id" = String, Path)), responses((status = 200, description = "Success")))]
async fn read(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(share_id): Path<String>,
) -> Result<Response, ApiError> {
    let version = may_read(&state, user.as_ref(), &share_id).await?;
    let not_found = || ApiError::NotFound("Shared link not found".into());
    if let Some(page) = PAGES.get(&page_key(&share_id, &version)) {
        return Ok(json_page(page));
    }
    let link = state
        .db
        .read(move |c| shares::by_share_id(c, &share_id))
        .await?
        .ok_or_else(not_found)?;
    // A visitor without an account cannot use /api/render: answers come rendered here, whole
    // (`html`) and, when they hold artifacts, as the pieces of text around their cards
    // (`htmlParts`) with their Markdown documents (`htmlDocuments`); LibreChat's client reads
    // none of them.
    let mut messages = link.snapshot["messages"].clone();
    let images = state.settings.images.clone();
    let messages = super::render::rendering(None, move || {
        for m in messages.as_array_mut().into_iter().flatten() {
            if m["isCreatedByUser"] != true {
                let text = m["text"].as_str().unwrap_or("").to_owned();
                m["html"] = json!(super::render::to_html(&text, &images));
                // The bundled app shows an artifact as a card between pieces of markdown.
                if let Some(pieces) = artifacts::text_around_cards(&text) {
                    let parts: Vec<String> = pieces
                        .into_iter()
                        .map(|p| super::render::to_html(p, &images))
                        .collect();
                    m["htmlParts"] = json!(parts);
                }
                // ... and its Markdown documents, rendered, one entry per card.
                if let Some(docs) = artifacts::documents_of_cards(&text) {
                    let docs: Vec<Option<String>> = docs
                        .into_iter()
                        .map(|d| d.map(|d| super::render::to_html(d, &images)))
                        .collect();
                    m["htmlDocuments"] = json!(docs);
                }
            }
        }
        messages
    })
    .await?;
    let page = Bytes::from(
        serde_json::to_vec(&SharedPage {
            share_id: link.share_id.clone(),
            conversation_id: link.snapshot["conversationId"].clone(),
            title: link.title,
            messages,
            created_at: link.created_at,
            updated_at: link.updated_at.clone(),
        })
        .map_err(ApiError::internal)?,
    );
    PAGES.insert(page_key(&link.share_id, &link.updated_at), page.clone());
    Ok(json_page(page))
}

/// Whether `user` (`None`: a visitor) may read the link, LibreChat's `canAccessSharedLink`:
/// one decision for the page and its startup configuration alike. Returns the link's version.
async fn may_read(
    state: &AppState,
    user: Option<&User>,
    share_id: &str,
) -> Result<String, ApiError> {
    enabled(state)?;
    if user.is_none() && !state.settings.features.public_shared_links {
        return Err(ApiError::Unauthorized(
            "Sign in to view shared conversations.".into(),
        ));
    }
    let not_found = || ApiError::NotFound("Shared link not found".into());
    // Every view: the link's version and its owner's role (both small).
    let sid = share_id.to_owned();
    let (version, owner_id, owner_role) = state
        .db
        .read(move |c| {
            let Some((version, owner_id)) = shares::version(c, &sid)? else {
                return Ok(None);
            };
            let owner = crate::db::users::find_by_id(c, &owner_id)?;
            Ok(Some((
                version,
                owner_id,
                owner.map(|o| o.role).unwrap_or_default(),
            )))
        })
        .await?
        .ok_or_else(not_found)?;
    // LibreChat makes a link public (visible to others than its owner) only when the owner's
    // role has SHARED_LINKS/SHARE_PUBLIC. Here that is read at every view, so taking the
    // permission away also closes the links made before.
    let own = user.is_some_and(|u| u.id == owner_id);
    if !own
        && !state
            .roles
            .allows(&owner_role, "SHARED_LINKS", "SHARE_PUBLIC")
    {
        return Err(match user {
            None => ApiError::Unauthorized("Authentication required".into()),
            Some(_) => ApiError::Forbidden("This shared link is not public.".into()),
        });
    }
    Ok(version)
}

/// What a shared page shows around the conversation (LibreChat's `TSharedLinkStartupConfig`):
/// the app's title, footer and legal links, for whoever may read the link.
#[utoipa::path(get, path = "/api/share/{id}/config", operation_id = "shares_read_config", summary = "The startup configuration of a shared page", tag = "shares", params(("id" = String, Path)), responses((status = 200, description = "Success"), (status = 404, description = "No such link")))]
async fn read_config(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(share_id): Path<String>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    may_read(&state, user.as_ref(), &share_id).await?;
    // Per reader (access was checked): never kept by a shared cache.
    Ok((
        [(axum::http::header::CACHE_CONTROL, "private, no-store")],
        Json(super::config::shared_page(&state.settings)),
    ))
}

#[utoipa::path(get, path = "/api/share/link/{conversation_id}", operation_id = "shares_link_for_conversation", summary = "The shared link of a conversation", tag = "shares", params(("conversation_id" = String, Path)), responses((status = 200, description = "Success")))]
async fn link_for_conversation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(conversation_id): Path<String>,
) -> Result<Json<SharedLinkOf>, ApiError> {
    enabled(&state)?;
    let cid = conversation_id.clone();
    let link = state
        .db
        .read(move |c| shares::for_conversation(c, &user.id, &cid))
        .await?;
    Ok(Json(SharedLinkOf {
        success: link.is_some(),
        share_id: link.map(|l| l.share_id),
        conversation_id,
    }))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(rename = "pageSize")]
    page_size: Option<String>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/share", operation_id = "shares_list", summary = "The caller's shared links", tag = "shares", responses((status = 200, description = "Success")))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<SharedLinkPage>, ApiError> {
    enabled(&state)?;
    let size = super::paging::page_size(q.page_size.as_deref(), "pageSize", 10)?;
    let cursor = q.cursor.filter(|c| !c.is_empty());
    if cursor
        .as_deref()
        .is_some_and(|c| c.len() != 24 || !c.ends_with('Z'))
    {
        return Err(ApiError::BadRequest("invalid cursor".into()));
    }
    let mut links = state
        .db
        .read(move |c| shares::list(c, &user.id, cursor.as_deref(), size + 1))
        .await?;
    let more = links.len() > size;
    links.truncate(size);
    Ok(Json(SharedLinkPage {
        links: links.iter().map(present::shared_link).collect(),
        next_cursor: if more {
            links.last().map(|l| l.created_at.clone())
        } else {
            None
        },
        has_next_page: more,
    }))
}

/// LibreChat's "update link": a new share id and a fresh snapshot of the same branch, so the
/// shared page shows what the conversation holds now.
#[utoipa::path(patch, path = "/api/share/{id}", operation_id = "shares_regenerate", tag = "shares", params(("id" = String, Path)), responses((status = 200, description = "Success")))]
async fn regenerate(
    State(state): State<AppState>,
    Permitted(user, _): Permitted<CreateSharedLinks>,
    Path(share_id): Path<String>,
) -> Result<Json<TSharedLink>, ApiError> {
    enabled(&state)?;
    let (uid, sid) = (user.id.clone(), share_id.clone());
    let (link, convo, all) = state
        .db
        .read(move |c| {
            let Some(link) = shares::by_share_id(c, &sid)?.filter(|l| l.user_id == uid) else {
                return Ok(None);
            };
            let convo = conversations::get(c, &uid, &link.conversation_id)?;
            let all = messages::list(c, &uid, &link.conversation_id)?;
            Ok(convo.map(|convo| (link, convo, all)))
        })
        .await?
        .ok_or_else(|| ApiError::NotFound("Shared link not found".into()))?;
    // The target may have been deleted since: then share the newest branch.
    let mut branch = tree::branch(&all, link.target_message_id.as_deref());
    if branch.is_empty() {
        branch = tree::branch(&all, None);
    }
    let (new_id, snap, title) = (new_share_id(), snapshot(&branch), convo.title);
    let updated = state
        .db
        .write(move |c| shares::regenerate(c, &user.id, &share_id, &new_id, &title, &snap))
        .await?
        .ok_or_else(|| ApiError::NotFound("Shared link not found".into()))?;
    Ok(Json(present::shared_link(&updated)))
}

#[utoipa::path(delete, path = "/api/share/{id}", operation_id = "shares_remove", summary = "Delete a shared link", tag = "shares", params(("id" = String, Path)), responses((status = 200, description = "Success")))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(share_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    enabled(&state)?;
    let id = share_id.clone();
    state
        .db
        .write(move |c| shares::delete(c, &user.id, &id))
        .await
        .map_err(|e| ApiError::or_not_found(e, "Shared link"))?;
    Ok(Json(
        json!({ "success": true, "shareId": share_id, "message": "Shared link deleted" }),
    ))
}
