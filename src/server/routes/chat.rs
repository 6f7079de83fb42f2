//! The chat: `POST /api/agents/chat/:endpoint` starts an answer and returns at once with
//! `{streamId, conversationId, status}`; `GET /api/agents/chat/stream/:streamId` follows it as
//! server-sent events (resumable: `Last-Event-ID` or `?resume=true`); `POST .../abort`,
//! `GET .../status/:conversationId` and `GET .../active` manage it. See `chat::engine` and
//! `chat::jobs`.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::chat::follow::{Follower, Next};
use crate::chat::jobs::Status;
use crate::chat::jobs::shared::follow::RemoteFollower;
use crate::chat::jobs::shared::{Located, Record};
use crate::chat::start::StartRequest;
use crate::server::middleware::auth::check_ban;
use crate::server::middleware::{AuthUser, Client, permission};
use crate::server::{ApiError, AppState, JsonBody};
use crate::shapes::stream::Started;

/// Routes that answer promptly.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(abort))
        .routes(routes!(active))
        .routes(routes!(status))
        .routes(routes!(start))
}

/// The event stream, which lasts as long as the answer: mounted outside the request timeout.
pub fn streaming_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(follow))
}

#[utoipa::path(post, path = "/api/agents/chat/{endpoint}", operation_id = "chat_start", request_body(content = Object, description = "LibreChat's chat request: `text`, `messageId`, `parentMessageId`, `conversationId`, `endpoint`, `model` and the endpoint's settings (temperature, maxOutputTokens, ...)"), summary = "Start an answer on an endpoint; follow it at /api/agents/chat/stream/{stream_id}", tag = "chat", params(("endpoint" = String, Path)), responses((status = 200, description = "Success")))]
async fn start(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    Path(endpoint): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Started>, ApiError> {
    check_ban(&state, Some(&user.id), &client).await?;
    let mut request = StartRequest::from_body(body)?;
    // The role's permissions for what the body asks, checked where LibreChat checks them:
    // before the endpoint and the conversation.
    if request.asks_second_model() {
        permission::require_multi_convo(&state, &user)?;
    }
    if endpoint == "agents" {
        permission::require(&state, &user, "AGENTS", &["USE"])?;
    }
    if request.is_temporary {
        permission::require(&state, &user, "TEMPORARY_CHAT", &["USE"])?;
    }
    request.memories_allowed = state.roles.allows(&user.role, "MEMORIES", "USE");
    if !state.roles.allows(&user.role, "WEB_SEARCH", "USE") {
        request.refused_tools.push("web_search".into());
    }
    // LibreChat's inline memory tools need the write permissions too.
    request.memory_writes_allowed = request.memories_allowed
        && ["CREATE", "UPDATE"]
            .iter()
            .all(|p| state.roles.allows(&user.role, "MEMORIES", p));
    request.file_search_allowed = state.roles.allows(&user.role, "FILE_SEARCH", "USE");
    request.file_citations_allowed = state.roles.allows(&user.role, "FILE_CITATIONS", "USE");
    request.mcp_allowed = state.roles.allows(&user.role, "MCP_SERVERS", "USE");
    let started = state
        .chat
        .start(&user, client.ip, &endpoint, request)
        .await?;
    Ok(Json(Started {
        stream_id: started.stream_id,
        conversation_id: started.conversation_id,
        status: "started",
    }))
}

/// Where a follower's frames come from: this replica's job, or another's through Redis.
enum Source {
    Local(Follower),
    Remote(Box<RemoteFollower>),
}

#[derive(serde::Deserialize)]
struct FollowQuery {
    resume: Option<String>,
}

/// Follows a job as server-sent events: what the client missed, then live frames, ending
/// with the final one.
#[utoipa::path(get, path = "/api/agents/chat/stream/{stream_id}", operation_id = "chat_follow", tag = "chat", params(("stream_id" = String, Path)), responses((status = 200, description = "Success")))]
async fn follow(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(stream_id): Path<String>,
    Query(q): Query<FollowQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let resume = matches!(q.resume.as_deref(), Some("true") | Some("1"));
    let not_found = || ApiError::NotFound("No active generation for this stream".into());
    let what = "answers of other replicas cannot be followed";
    let source = match state.jobs.locate(&user.id, &stream_id, what).await {
        Located::Local(job) => Source::Local(Follower::new(job, after, resume)),
        // Another replica's, with USE_REDIS_STREAMS. Redis failing is the same as no job.
        Located::Remote(record) => {
            let shared = state.jobs.shared().ok_or_else(not_found)?;
            match RemoteFollower::open(shared, record, &user.id, &stream_id, after, resume).await {
                Ok(f) => Source::Remote(Box::new(f)),
                Err(e) => {
                    shared.shared.degraded("streams", what, &e);
                    return Err(not_found());
                }
            }
        }
        Located::Nowhere => return Err(not_found()),
    };
    let events = stream::unfold(source, |mut f| async move {
        let next = match &mut f {
            Source::Local(l) => l.next().await?,
            Source::Remote(r) => r.next().await?,
        };
        let event = match next {
            Next::Sync(s) => Event::default().event("message").data(s),
            Next::Frame(frame) => Event::default()
                .id(frame.id.to_string())
                .event("message")
                .data(&frame.data),
        };
        Some((Ok::<_, Infallible>(event), f))
    });
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response();
    let h = response.headers_mut();
    h.insert(
        "cache-control",
        "no-cache, no-transform".parse().expect("static header"),
    );
    h.insert("x-accel-buffering", "no".parse().expect("static header"));
    Ok(response)
}

/// `{streamId?, conversationId?}`: stops the answer; what was generated is kept.
#[utoipa::path(post, path = "/api/agents/chat/abort", operation_id = "chat_abort", request_body(content = Object, description = "`{streamId?, conversationId?}`"), tag = "chat", responses((status = 200, description = "Success")))]
async fn abort(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let id = ["streamId", "conversationId", "abortKey"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        // LibreChat's abortKey is `conversationId:...`.
        .map(|k| k.split(':').next().unwrap_or(k).to_owned())
        .ok_or_else(|| ApiError::BadRequest("streamId or conversationId is required".into()))?;
    let not_found = || ApiError::NotFound("No active generation to abort".into());
    let what = "answers of other replicas cannot be stopped";
    match state.jobs.locate(&user.id, &id, what).await {
        Located::Local(job) if job.status() == Status::Running => job.abort(),
        // Another replica's: asked through Redis.
        Located::Remote(r) if r.active() => {
            let shared = state.jobs.shared().ok_or_else(not_found)?;
            if let Err(e) = shared.abort(&user.id, &id).await {
                shared.shared.degraded("streams", what, &e);
                return Err(ApiError::Unavailable(
                    "The answer could not be stopped; try again".into(),
                ));
            }
        }
        _ => return Err(not_found()),
    }
    Ok(Json(json!({"success": true, "aborted": id})))
}

#[utoipa::path(get, path = "/api/agents/chat/status/{conversation_id}", operation_id = "chat_status", summary = "Whether an answer is being generated in a conversation", tag = "chat", params(("conversation_id" = String, Path)), responses((status = 200, description = "Success")))]
async fn status(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(conversation_id): Path<String>,
) -> Json<Value> {
    let what = "answers of other replicas are not seen";
    match state.jobs.locate(&user.id, &conversation_id, what).await {
        Located::Local(job) => Json(json!({
            "active": job.status() == Status::Running,
            "streamId": job.stream_id,
            "status": job.status().as_str(),
            "aggregatedContent": job.aggregated_content(),
            "createdAt": job.created_at,
            "resumeState": job.resume_state(),
        })),
        Located::Remote(r) => Json(remote_status(&r)),
        Located::Nowhere => Json(json!({"active": false})),
    }
}

/// `/status` of a job another replica runs (with USE_REDIS_STREAMS), from its record.
fn remote_status(r: &Record) -> Value {
    let resume_state = r.resume_state();
    let status = if r.status == "running" && !r.alive {
        "error"
    } else {
        r.status.as_str()
    };
    json!({
        "active": r.active(),
        "streamId": r.stream_id,
        "status": status,
        "aggregatedContent": resume_state["aggregatedContent"],
        "createdAt": r.created_at,
        "resumeState": resume_state,
    })
}

#[utoipa::path(get, path = "/api/agents/chat/active", operation_id = "chat_active", summary = "The caller's answers being generated", tag = "chat", responses((status = 200, description = "Success")))]
async fn active(State(state): State<AppState>, AuthUser(user): AuthUser) -> Json<Value> {
    let mut ids: Vec<String> = state
        .jobs
        .running(&user.id)
        .iter()
        .map(|j| j.stream_id.clone())
        .collect();
    // Those of the other replicas too (with USE_REDIS_STREAMS).
    if let Some(shared) = state.jobs.shared() {
        match shared.running(&user.id).await {
            Ok(remote) => {
                for id in remote {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
            Err(e) => {
                shared
                    .shared
                    .degraded("streams", "answers of other replicas are not seen", &e)
            }
        }
    }
    Json(json!({"activeJobIds": ids}))
}
