//! The chat: `POST /api/agents/chat/:endpoint` starts an answer and returns at once with
//! `{streamId, conversationId, status}`; `GET /api/agents/chat/stream/:streamId` follows it as
//! server-sent events (resumable: `Last-Event-ID` or `?resume=true`); `POST .../abort`,
//! `GET .../status/:conversationId` and `GET .../active` manage it. See `chat::engine` and
//! `chat::jobs`.

use std::convert::Infallible;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::{Value, json};

use super::convos::{conversation_json, parse_changes};
use super::messages::message_json;
use crate::chat::engine::{Engine, Turn};
use crate::chat::follow::{Follower, Next};
use crate::chat::jobs::{Job, Jobs, StartError, Status};
use crate::chat::start::{
    Again, Prepare, PreparedTurn, StartRequest, checked_id, prepare, user_values,
};
use crate::db::messages::Message;
use crate::providers::endpoints::Key;
use crate::server::middleware::auth::{check_ban, limit, limit_address};
use crate::server::middleware::{AuthUser, Client, permission};
use crate::server::{ApiError, AppState, JsonBody};

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
    Path(endpoint_name): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    check_ban(&state, Some(&user.id), &client).await?;
    let mut body = StartRequest::from_body(body)?;
    // The role's permissions for what the body asks, checked where LibreChat checks them:
    // before the endpoint and the conversation.
    if body.added_convo.as_ref().is_some_and(Value::is_object) {
        permission::require_multi_convo(&state, &user)?;
    }
    if body.is_temporary {
        permission::require(&state, &user, "TEMPORARY_CHAT", &["USE"])?;
    }
    let endpoint = state
        .settings
        .endpoints
        .get(&endpoint_name)
        .cloned()
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "the endpoint {endpoint_name:?} is not configured here"
            ))
        })?;

    let limits = &state.settings.limits;
    let message = "Too many messages. Please wait a moment before sending another.";
    if let Some(spec) = &limits.message_ip {
        limit_address(&state, spec, "message_ip", Some(&user.id), &client, message).await?;
    }
    if let Some(spec) = &limits.message_user {
        limit(
            &state,
            spec,
            "message_user",
            Some(&user.id),
            &client,
            message,
        )
        .await?;
    }
    // The model: asked for, or the endpoint's first; one the endpoint does not offer is refused.
    let model = match body.model.clone() {
        Some(m) => m,
        None => endpoint
            .models
            .first()
            .cloned()
            .ok_or_else(|| ApiError::BadRequest("model is required".into()))?,
    };
    let offered = if endpoint.fetch_models {
        state.models.get(&state.http, &endpoint).await
    } else {
        endpoint.models.clone()
    };
    if !offered.contains(&model) && !endpoint.models.contains(&model) {
        state
            .guard
            .violation(
                "illegal_model_request",
                limits.illegal_model_score,
                Some(&user.id),
                client.ip,
            )
            .await?;
        return Err(ApiError::BadRequest(format!(
            "the model {model:?} is not offered by {endpoint_name}"
        )));
    }
    let mut endpoint = endpoint;
    let mine = match endpoint.key == Key::UserProvided || endpoint.user_base_url {
        true => Some(user_values(&state.db, &state.cipher, &user.id, &endpoint_name).await?),
        false => None,
    };
    // A URL the person chose gets their key only, never the server's (as in LibreChat).
    let api_key = match (&endpoint.key, &mine) {
        (_, Some(m)) if endpoint.user_base_url => m.api_key.clone(),
        (Key::Value(k), _) => k.clone(),
        (Key::UserProvided, Some(m)) => m.api_key.clone(),
        _ => String::new(),
    };
    if endpoint.user_base_url {
        let url = mine
            .as_ref()
            .and_then(|m| m.base_url.clone())
            .ok_or_else(|| ApiError::Typed {
                kind: "no_base_url",
                message: format!("Set the base URL for {endpoint_name} with your key first."),
            })?;
        endpoint = endpoint
            .with_user_base_url(&url)
            .map_err(ApiError::BadRequest)?;
        // Refused here, before anything is saved, when the URL names a private address; a
        // name is checked again on what it resolves to when the answer starts.
        if let Err(blocked) = state.guarded.client_for_str(&endpoint.base_url) {
            return Err(ApiError::BadRequest(format!(
                "The base URL you set for {endpoint_name} cannot be used: {blocked}"
            )));
        }
    }

    let regenerate = body.is_regenerate;
    // Continue: the same question, and more of an answer already there (responseMessageId).
    let continued = match body.is_continued {
        false => None,
        true => Some(
            body.response_message_id
                .as_deref()
                .map(|id| checked_id(id, "responseMessageId"))
                .transpose()?
                .ok_or_else(|| {
                    ApiError::BadRequest("responseMessageId names the answer to continue".into())
                })?,
        ),
    };
    let text = std::mem::take(&mut body.text);
    if !regenerate && continued.is_none() && text.trim().is_empty() {
        return Err(ApiError::BadRequest("text is required".into()));
    }

    // OpenAI moderation, when on: flagged text is refused (and counted as a violation).
    if let Some(moderation) = &state.settings.moderation
        && !text.trim().is_empty()
    {
        let flagged = moderation.flagged(&state.http, &text).await;
        if !flagged.is_empty() {
            state
                .guard
                .violation("moderation", 1, Some(&user.id), client.ip)
                .await?;
            return Err(ApiError::Typed {
                kind: "moderation",
                message: format!(
                    "The message was flagged by moderation ({}).",
                    flagged.join(", ")
                ),
            });
        }
    }

    // The conversation: the one named, or a new one.
    let requested = body.conversation_id.as_deref().filter(|c| *c != "new");
    let conversation_id = match requested {
        Some(c) => checked_id(c, "conversationId")?,
        None => uuid::Uuid::new_v4().to_string(),
    };
    let mut settings = std::mem::take(&mut body.settings);
    settings.insert("conversationId".into(), json!(conversation_id));
    settings.insert("endpoint".into(), json!(endpoint_name));
    settings.insert("model".into(), json!(model));
    let (_, mut changes) = parse_changes(settings)?;
    // Applies only if the conversation is created by this message.
    if body.is_temporary {
        let hours = state.settings.features.temporary_chat_retention_hours as i64;
        changes.expires_at = Some(crate::db::to_rfc3339(
            time::OffsetDateTime::now_utc() + time::Duration::hours(hours),
        ));
    }
    // Settings sent with a message update the conversation; its title stays.
    changes.title = None;

    let response_id = continued
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let job = match state.jobs.start(
        &conversation_id,
        &user.id,
        &conversation_id,
        &response_id,
        limits.concurrent_messages.map(|m| m as usize),
    ) {
        Ok(job) => job,
        Err(StartError::Busy) => {
            return Err(ApiError::Conflict(
                "An answer is already being generated in this conversation.".into(),
            ));
        }
        Err(StartError::TooMany(max)) => {
            state
                .guard
                .violation(
                    "concurrent",
                    limits.concurrent_score,
                    Some(&user.id),
                    client.ip,
                )
                .await?;
            return Err(ApiError::TooManyRequests {
                message: format!(
                    "Only {max} message(s) at a time. Please allow any other responses to complete before sending another message."
                ),
                retry_after_secs: 1,
            });
        }
    };
    // From here on the job is registered: however this request ends (an error below, or the
    // request itself dropped by a timeout), the guard ends the job unless the engine took it.
    let mut launch = Launch {
        jobs: state.jobs.clone(),
        job: job.clone(),
        armed: true,
    };
    let PreparedTurn {
        conversation,
        request,
        mut branch,
        is_new,
        partial,
    } = prepare(
        &state.db,
        Prepare {
            user_id: user.id.clone(),
            conversation_id: conversation_id.clone(),
            changes,
            again: Again {
                regenerate,
                continued: continued.clone(),
            },
            text,
            endpoint: endpoint_name.clone(),
            model: model.clone(),
            message_id: body.message_id.take(),
            parent_message_id: body.parent_message_id.take(),
            override_parent_message_id: body.override_parent_message_id.clone(),
        },
    )
    .await?;
    let request_json = message_json(&request);
    let (request_id, request_parent) = (
        request.message_id.clone(),
        request.parent_message_id.clone(),
    );
    job.set_user_message(request_json.clone());
    job.emit(json!({"created": true, "message": request_json, "streamId": conversation_id}));

    let mut response = Message {
        message_id: response_id,
        conversation_id: conversation_id.clone(),
        user_id: user.id.clone(),
        parent_message_id: match body.override_parent_message_id {
            Some(p) if branch.iter().any(|m| m.message_id == p) => p,
            _ => request.message_id.clone(),
        },
        sender: endpoint
            .model_display_label
            .clone()
            .unwrap_or_else(|| model.clone()),
        model: Some(model.clone()),
        endpoint: Some(endpoint_name.clone()),
        unfinished: true,
        ..Message::default()
    };
    let mut seed_len = 0;
    if let Some(partial) = partial {
        seed_len = partial.text.len();
        // Carry on from what is there: the model sees it as the start of its answer, and the
        // saved answer keeps its id, place and first part.
        job.append(&partial.text, false);
        response.parent_message_id = partial.parent_message_id.clone();
        response.created_at = partial.created_at.clone();
        branch.push(partial);
    }
    // The conversation's settings, as just updated by this request, are the parameters: a
    // client that sends only the text keeps its system prompt and temperature.
    let params = conversation.settings.clone();
    let system = params
        .get("promptPrefix")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned);
    let turn = Turn {
        endpoint,
        api_key,
        model,
        params,
        system,
        user_id: user.id.clone(),
        conversation,
        is_new_conversation: is_new,
        request,
        response,
        branch,
        seed_len,
        vars: vec![
            ("LIBRECHAT_USER_ID".into(), user.id.clone()),
            ("LIBRECHAT_USER_EMAIL".into(), user.email.clone()),
            ("LIBRECHAT_USER_NAME".into(), user.name.clone()),
            ("LIBRECHAT_USER_USERNAME".into(), user.username.clone()),
            (
                "LIBRECHAT_BODY_CONVERSATIONID".into(),
                conversation_id.clone(),
            ),
            ("LIBRECHAT_BODY_PARENTMESSAGEID".into(), request_parent),
            ("LIBRECHAT_BODY_MESSAGEID".into(), request_id),
        ],
    };
    let engine = Engine {
        db: state.db.clone(),
        http: state.http.clone(),
        guarded: state.guarded.clone(),
        jobs: state.jobs.clone(),
        billing: state.billing.clone(),
        metrics: state.metrics.clone(),
        message_json,
        conversation_json,
    };
    // A new conversation gets its title with its first answer; until then, a request for the
    // title waits for it.
    let title = (turn.is_new_conversation && turn.endpoint.title_convo)
        .then(|| state.jobs.titles.writing(&user.id, &conversation_id));
    let jobs = state.jobs.clone();
    tokio::spawn(async move {
        use futures_util::FutureExt;
        let _title = title;
        let run = std::panic::AssertUnwindSafe(engine.run(job.clone(), turn));
        if run.catch_unwind().await.is_err() {
            tracing::error!("an answer's task failed unexpectedly");
            if job.status() == Status::Running {
                job.emit_final(
                    json!({"final": true, "error": {"message": "The answer failed unexpectedly."}}),
                    Status::Failed,
                );
                jobs.finish(&job, Status::Failed);
            }
        }
    });
    launch.armed = false;
    Ok(Json(json!({
        "streamId": conversation_id,
        "conversationId": conversation_id,
        "status": "started",
    })))
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
    let job = state
        .jobs
        .get(&user.id, &stream_id)
        .ok_or_else(|| ApiError::NotFound("No active generation for this stream".into()))?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let resume = matches!(q.resume.as_deref(), Some("true") | Some("1"));
    let follower = Follower::new(job, after, resume);
    let events = stream::unfold(follower, |mut f| async move {
        let event = match f.next().await? {
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

/// Ends a registered job whose request did not get as far as starting the engine.
struct Launch {
    jobs: Arc<Jobs>,
    job: Arc<Job>,
    armed: bool,
}

impl Drop for Launch {
    fn drop(&mut self) {
        if self.armed && self.job.status() == Status::Running {
            self.job.emit_final(
                json!({"final": true, "error": {"message": "The request ended before the answer started."}}),
                Status::Failed,
            );
            self.jobs.finish(&self.job, Status::Failed);
        }
    }
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
    let job = state
        .jobs
        .get(&user.id, &id)
        .filter(|j| j.status() == crate::chat::jobs::Status::Running)
        .ok_or_else(|| ApiError::NotFound("No active generation to abort".into()))?;
    job.abort();
    Ok(Json(json!({"success": true, "aborted": id})))
}

#[utoipa::path(get, path = "/api/agents/chat/status/{conversation_id}", operation_id = "chat_status", summary = "Whether an answer is being generated in a conversation", tag = "chat", params(("conversation_id" = String, Path)), responses((status = 200, description = "Success")))]
async fn status(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(conversation_id): Path<String>,
) -> Json<Value> {
    match state.jobs.get(&user.id, &conversation_id) {
        Some(job) => {
            let sync: Value = serde_json::from_str(&job.sync_frame()).unwrap_or(Value::Null);
            Json(json!({
                "active": job.status() == crate::chat::jobs::Status::Running,
                "streamId": job.stream_id,
                "status": job.status().as_str(),
                "aggregatedContent": job.aggregated_content(),
                "createdAt": job.created_at,
                "resumeState": sync["resumeState"],
            }))
        }
        None => Json(json!({"active": false})),
    }
}

#[utoipa::path(get, path = "/api/agents/chat/active", operation_id = "chat_active", summary = "The caller's answers being generated", tag = "chat", responses((status = 200, description = "Success")))]
async fn active(State(state): State<AppState>, AuthUser(user): AuthUser) -> Json<Value> {
    let ids: Vec<String> = state
        .jobs
        .running(&user.id)
        .iter()
        .map(|j| j.stream_id.clone())
        .collect();
    Json(json!({"activeJobIds": ids}))
}
