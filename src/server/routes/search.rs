//! Full-text search: `/api/search/enable`, `/api/search` (the older combined search) and the
//! helpers behind `/api/messages?search=` and `/api/convos?search=`.
//!
//! Results are read back from the database with the caller's id after the index answers, so
//! an index that lags a moment behind never shows a deleted message or another user's text.

use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};

use crate::chat::present;
use crate::db::search::{self as store, Hit};
use crate::search::{Found, Kind, SearchIndex};
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState};
use crate::shapes::TMessage;

/// The longest search text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 512;
/// Results per page of `/api/search`.
const PAGE_SIZE: usize = 25;
/// The most conversations a title search may narrow a list to.
pub const MAX_TITLE_MATCHES: usize = 1_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enabled))
        .routes(routes!(search))
}

#[utoipa::path(get, path = "/api/search/enable", operation_id = "search_enabled", summary = "Whether search is on", tag = "search", responses((status = 200, description = "Success")))]
async fn enabled(State(state): State<AppState>, AuthUser(_): AuthUser) -> Json<bool> {
    Json(state.search.is_some())
}

/// The index, or 503 when search is off.
fn index(state: &AppState) -> Result<Arc<SearchIndex>, ApiError> {
    state.search.clone().ok_or_else(|| {
        ApiError::Unavailable("search is turned off on this server (SEARCH=false)".into())
    })
}

/// Checks the search text: not too long. Blank means "no search". It is not trimmed: a
/// trailing space says the last word is finished (no prefix matching).
pub fn checked_query(q: &str) -> Result<&str, ApiError> {
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::BadRequest(format!(
            "the search text is too long (at most {MAX_QUERY_CHARS} characters)"
        )));
    }
    Ok(if q.trim().is_empty() { "" } else { q })
}

/// Runs a search on the blocking pool.
async fn run(
    index: Arc<SearchIndex>,
    user_id: String,
    kind: Kind,
    q: String,
    offset: usize,
    limit: usize,
) -> Result<Found, ApiError> {
    tokio::task::spawn_blocking(move || index.search(&user_id, kind, &q, offset, limit))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// One page of the user's messages matching `q`, as LibreChat's search results (a `TMessage`
/// with the conversation's `title` and `model`, plus a highlighted `snippet`), and how many
/// match in all.
pub async fn messages(
    state: &AppState,
    user_id: &str,
    q: &str,
    offset: usize,
    limit: usize,
) -> Result<(Vec<TMessage>, usize), ApiError> {
    let index = index(state)?;
    let found = run(
        index.clone(),
        user_id.to_owned(),
        Kind::Message,
        q.to_owned(),
        offset,
        limit,
    )
    .await?;
    let (uid, ids) = (user_id.to_owned(), found.ids.clone());
    let hits = state.db.read(move |c| store::hits(c, &uid, &ids)).await?;
    let out = hits.iter().map(|h| hit_json(&index, h, &found)).collect();
    Ok((out, found.total))
}

fn hit_json(index: &SearchIndex, hit: &Hit, found: &Found) -> TMessage {
    let mut m = present::message(&hit.message);
    let text = store::searchable_text_of(&hit.message.text, hit.message.content.as_ref());
    if let Some(model) = &hit.conversation_model {
        m.model = Some(model.clone());
    }
    // LibreChat's search results: the conversation's title, a highlighted snippet.
    m.extra.insert("title".into(), json!(hit.title));
    m.extra
        .insert("snippet".into(), json!(index.snippet(&text, &found.wanted)));
    m.extra.insert("searchResult".into(), json!(true));
    m
}

/// The ids of the user's conversations whose titles match `q`, best first.
pub async fn conversation_ids(
    state: &AppState,
    user_id: &str,
    q: &str,
) -> Result<Vec<String>, ApiError> {
    let index = index(state)?;
    let found = run(
        index,
        user_id.to_owned(),
        Kind::Title,
        q.to_owned(),
        0,
        MAX_TITLE_MATCHES,
    )
    .await?;
    Ok(found.ids)
}

#[derive(serde::Deserialize)]
struct SearchQuery {
    q: Option<String>,
    #[serde(rename = "pageNumber")]
    page_number: Option<String>,
}

/// `GET /api/search?q&pageNumber`: messages and conversations (by title, or holding a
/// matching message) for the older search UI: `{conversations, messages, pageNumber,
/// pageSize, pages, filter}`.
#[utoipa::path(get, path = "/api/search", operation_id = "search_search", tag = "search", responses((status = 200, description = "Success")))]
async fn search(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let q = checked_query(query.q.as_deref().unwrap_or(""))?.to_owned();
    let page: usize = match query.page_number.as_deref() {
        None | Some("") => 1,
        Some(p) => p
            .parse()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| ApiError::BadRequest("pageNumber must be a number from 1".into()))?,
    };
    let offset = (page - 1) * PAGE_SIZE;
    let index = index(&state)?;
    let (messages, message_total) = messages(&state, &user.id, &q, offset, PAGE_SIZE).await?;
    let titles = run(index, user.id.clone(), Kind::Title, q, offset, PAGE_SIZE).await?;
    // Conversations: title matches first, then those of the messages found.
    let mut ids: Vec<String> = titles.ids.clone();
    for m in &messages {
        if !ids.contains(&m.conversation_id) {
            ids.push(m.conversation_id.clone());
        }
    }
    let uid = user.id.clone();
    let conversations = state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for id in &ids {
                if let Some(convo) = crate::db::conversations::get(c, &uid, id)? {
                    out.push(convo);
                }
            }
            Ok(out)
        })
        .await?;
    let total = message_total.max(titles.total);
    Ok(Json(json!({
        "conversations": conversations.iter().map(present::conversation).collect::<Vec<_>>(),
        "messages": messages,
        "pageNumber": page,
        "pageSize": PAGE_SIZE,
        "pages": total.div_ceil(PAGE_SIZE),
        "filter": {},
    })))
}
