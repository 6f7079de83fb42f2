//! Files, as LibreChat's routes under `/api/files`: upload (`POST /api/files`, multipart), the
//! caller's list, delete (downloads are in `file_download`), `POST /api/files/usage` (uploads waiting in the client's
//! queue), and `GET /api/files/config` (the upload limits merged from librechat.yaml's
//! `fileConfig`). The work is in `crate::files`.

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::agent_file_upload::{self, AgentForm};
use crate::chat::present;
use crate::db::files;
use crate::db::users::User;
use crate::files::documents::DocumentError;
use crate::files::intake::{self, IntakeError, Meta};
use crate::files::{PutError, Received};
use crate::server::middleware::auth::refresh_cookie;
use crate::server::middleware::auth::{check_ban, limit, limit_address};
use crate::server::middleware::slots::Slot;
use crate::server::middleware::{AuthUser, Client, MaybeUser};
use crate::server::{ApiError, AppState, JsonBody};
use crate::shapes::TFile;

/// Uploads one account may have streaming in at once.
const UPLOADS_PER_ACCOUNT: usize = 4;
/// The most a form field other than the file may hold.
const FIELD_BYTES: usize = 4096;
/// Files listed at most.
const LIST_MAX: u32 = 1000;
/// Ids one `POST /api/files/usage` may name, as in LibreChat.
const USAGE_MAX_IDS: usize = 10;

/// Routes that answer promptly.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, delete))
        .routes(routes!(usage))
        .routes(routes!(config))
}

/// Uploads and downloads: their own size limits, no request timeout.
pub fn transfer_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(upload_image))
        .routes(routes!(image))
        .layer(DefaultBodyLimit::disable())
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::TooLarge { .. } => ApiError::PayloadTooLarge(e.to_string()),
            IntakeError::Disabled(_) => ApiError::Forbidden(e.to_string()),
            IntakeError::Text(crate::files::text::TextError::TooLong) => {
                ApiError::PayloadTooLarge(e.to_string())
            }
            IntakeError::Image(crate::files::images::ImageError::TooLarge { .. }) => {
                ApiError::PayloadTooLarge(e.to_string())
            }
            IntakeError::Image(crate::files::images::ImageError::Encode(_)) => {
                ApiError::internal(anyhow::anyhow!(e.to_string()))
            }
            IntakeError::Unsupported
            | IntakeError::ImageForSearch
            | IntakeError::NotText(_)
            | IntakeError::Type(_)
            | IntakeError::Text(_)
            | IntakeError::Image(_) => ApiError::UnsupportedMediaType(e.to_string()),
            IntakeError::Document(DocumentError::TooLarge) => {
                ApiError::PayloadTooLarge(e.to_string())
            }
            IntakeError::Document(DocumentError::Io(e)) => ApiError::internal(e),
            IntakeError::Document(_) => ApiError::Unprocessable(e.to_string()),
            IntakeError::Db(e) => e.into(),
            IntakeError::Io(e) => ApiError::storage(e),
            _ => ApiError::BadRequest(e.to_string()),
        }
    }
}

pub(super) fn bad_form(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::BadRequest(format!("the upload could not be read: {}", e.body_text()))
}

/// A short text field of the form.
pub(super) async fn field_text(field: Field<'_>) -> Result<String, ApiError> {
    let name = field.name().unwrap_or("").to_owned();
    let bytes = field.bytes().await.map_err(bad_form)?;
    if bytes.len() > FIELD_BYTES {
        return Err(ApiError::BadRequest(format!(
            "the field {name} is too long"
        )));
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::BadRequest(format!("the field {name} is not text")))
}

/// Reads the form: the file streams into the storage as it comes (never whole in memory),
/// bounded by `max` bytes; the other fields are kept.
async fn read_form(
    state: &AppState,
    mut form: Multipart,
    max: u64,
    meta: &mut Meta,
    agent: &mut AgentForm,
) -> Result<Option<Received>, ApiError> {
    let mut received = None;
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        match field.name().unwrap_or("") {
            "file" if received.is_none() => {
                meta.filename = field.file_name().unwrap_or("").to_owned();
                meta.declared_type = field.content_type().unwrap_or("").to_owned();
                let too_large = |max: u64| {
                    ApiError::PayloadTooLarge(format!(
                        "File size limit of {} MB exceeded",
                        max as f64 / (1024.0 * 1024.0)
                    ))
                };
                received = Some(receive_file(state, &mut field, max, too_large).await?);
            }
            "file" => return Err(ApiError::BadRequest("send one file per upload".into())),
            "file_id" => meta.temp_file_id = Some(field_text(field).await?),
            "endpoint" => meta.endpoint = Some(field_text(field).await?).filter(|e| !e.is_empty()),
            "endpointType" => {
                meta.endpoint_type = Some(field_text(field).await?).filter(|e| !e.is_empty())
            }
            "conversationId" => {
                meta.conversation_id =
                    Some(field_text(field).await?).filter(|c| !c.is_empty() && c != "new")
            }
            "agent_id" => agent.agent_id = Some(field_text(field).await?),
            "tool_resource" => agent.tool_resource = Some(field_text(field).await?),
            "message_file" => agent.message_file = field_text(field).await? == "true",
            // width, height, version, model, isTemporary: read and not needed (every
            // document is given to the model as text).
            _ => {
                field_text(field).await?;
            }
        }
    }
    Ok(received)
}

/// Streams a form's file field into the storage's holding area as it comes (never whole in
/// memory); past `max` bytes the upload stops with `too_large(max)`.
pub(super) async fn receive_file(
    state: &AppState,
    field: &mut Field<'_>,
    max: u64,
    too_large: impl Fn(u64) -> ApiError,
) -> Result<Received, ApiError> {
    let mut incoming = state
        .files
        .incoming(max)
        .await
        .map_err(ApiError::internal)?;
    while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
        incoming.write(&chunk).await.map_err(|e| match e {
            PutError::TooLarge(max) => too_large(max),
            PutError::Io(e) => ApiError::internal(e),
        })?;
    }
    incoming.finish().await.map_err(ApiError::internal)
}

/// Bans, the upload limiters (`FILE_UPLOAD_IP_*`, `FILE_UPLOAD_USER_*`), and a slot.
pub(super) async fn admit(
    state: &AppState,
    client: &Client,
    user_id: &str,
) -> Result<Slot, ApiError> {
    check_ban(state, Some(user_id), client).await?;
    let limits = &state.settings.limits;
    let message = "Too many file upload requests. Try again later";
    limit_address(
        state,
        &limits.file_upload_ip,
        "file_upload_ip",
        Some(user_id),
        client,
        message,
    )
    .await?;
    limit(
        state,
        &limits.file_upload_user,
        "file_upload_user",
        Some(user_id),
        client,
        message,
    )
    .await?;
    Slot::take("upload", user_id, UPLOADS_PER_ACCOUNT).ok_or_else(|| ApiError::TooManyRequests {
        message: format!(
            "You already have {UPLOADS_PER_ACCOUNT} uploads in progress; wait for them to finish"
        ),
        retry_after_secs: 5,
    })
}

/// What one more upload may weigh: the server's limit, and what is left of the account's
/// quota when there is one.
async fn room(state: &AppState, user_id: &str) -> Result<u64, ApiError> {
    let settings = &state.settings.files;
    let Some(quota) = settings.user_quota else {
        return Ok(settings.server_file_size_limit);
    };
    let u = user_id.to_owned();
    let used = state.db.read(move |c| files::total_bytes(c, &u)).await?;
    let left = quota.saturating_sub(u64::try_from(used).unwrap_or(0));
    if left == 0 {
        return Err(ApiError::PayloadTooLarge(format!(
            "Your files take all of your {} MB; delete some to upload more",
            quota / (1024 * 1024)
        )));
    }
    Ok(left.min(settings.server_file_size_limit))
}

async fn receive(
    state: AppState,
    client: Client,
    user: User,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<TFile>, ApiError> {
    let _slot = admit(&state, &client, &user.id).await?;
    let form = form.map_err(|_| {
        ApiError::BadRequest("send the file as multipart/form-data in the field \"file\"".into())
    })?;
    let max = room(&state, &user.id).await?;
    let mut meta = Meta {
        user_id: user.id.clone(),
        ..Meta::default()
    };
    let mut agent = AgentForm::default();
    let received = read_form(&state, form, max, &mut meta, &mut agent)
        .await?
        .ok_or_else(|| ApiError::BadRequest("No file uploaded".into()))?;
    if let Some((agent_id, resource)) = agent_file_upload::target(&agent)? {
        return agent_file_upload::take(&state, &user, meta, received, agent_id, resource).await;
    }
    meta.file_search = agent_file_upload::for_chat_search(&agent, &state.settings.agents)?;
    let saved = intake::take(
        &state.db,
        &state.files,
        &state.settings.files,
        meta,
        received,
    )
    .await?;
    let mut body = present::file(&saved);
    body.extra.insert(
        "message".into(),
        json!("File uploaded and processed successfully"),
    );
    Ok(Json(body))
}

/// Uploads a file for a message: documents are read as text for the model, or, with
/// `tool_resource: file_search`, indexed for the `file_search` tool. With `agent_id` and
/// `tool_resource` (and no `message_file: true`), a document for the agent's File Context or
/// file search instead (see `agent_file_upload`).
#[utoipa::path(post, path = "/api/files", operation_id = "files_upload", request_body(content = Object, description = "multipart/form-data: `file`, `file_id` (the client's UUID for it), `endpoint`, `endpointType`, `conversationId`, `message_file`; `tool_resource: file_search` for file search; for an agent's files `agent_id` and `tool_resource` (`context`, the legacy `ocr`, or `file_search`)", content_type = "multipart/form-data"), tag = "files", responses((status = 200, description = "The stored file, with `message`", body = TFile), (status = 400, description = "Invalid, an agent without `tool_resource`, or an unknown `tool_resource`"), (status = 403, description = "No EDIT on the agent (`{error, message}`), `execute_code`/`image_edit`, which this server does not serve, or `file_search` when it is off"), (status = 404, description = "No such agent (`{error, message}`)"), (status = 413, description = "Too large"), (status = 415, description = "An unsupported type, or an image for an agent's File Context or for file search")))]
async fn upload(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<TFile>, ApiError> {
    receive(state, client, user, form).await
}

/// Uploads an image for a message (LibreChat's client sends images here, with their size).
#[utoipa::path(post, path = "/api/files/images", operation_id = "files_upload_image", request_body(content = Object, description = "multipart/form-data as for /api/files, with `width` and `height`", content_type = "multipart/form-data"), tag = "files", responses((status = 200, description = "The stored file", body = TFile)))]
async fn upload_image(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<TFile>, ApiError> {
    receive(state, client, user, form).await
}

/// The caller's files, newest first (avatars left out).
#[utoipa::path(get, path = "/api/files", operation_id = "files_list", tag = "files", responses((status = 200, description = "The caller's files", body = Vec<TFile>)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Vec<TFile>>, ApiError> {
    let all = state
        .db
        .read(move |c| files::list(c, &user.id, LIST_MAX))
        .await?;
    Ok(Json(all.iter().map(present::file).collect()))
}

#[derive(Deserialize)]
struct DeleteBody {
    #[serde(default)]
    files: Vec<FileRef>,
    /// With `tool_resource`: take the files out of this agent instead of deleting them.
    agent_id: Option<String>,
    tool_resource: Option<String>,
}

#[derive(Deserialize)]
struct FileRef {
    file_id: Option<String>,
}

/// `{files: [{file_id, ...}]}`: deletes the caller's files, record and bytes, and takes them
/// out of the agents that list them. Any file of another account in the list refuses the
/// whole request (403, `unauthorizedFiles`), as in LibreChat. With `agent_id` and
/// `tool_resource`, the files are only taken out of that agent (see
/// [`agent_file_upload::remove`]).
#[utoipa::path(delete, path = "/api/files", operation_id = "files_delete", request_body(content = Object, description = "`{files: [{file_id}], agent_id?, tool_resource?}`"), tag = "files", responses((status = 200, description = "Deleted, or taken out of the agent"), (status = 204, description = "No file named"), (status = 400, description = "An unknown `tool_resource`"), (status = 403, description = "Another account's files, or no EDIT on the agent (`unauthorizedFiles`)"), (status = 404, description = "No such agent")))]
async fn delete(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<DeleteBody>,
) -> Result<Response, ApiError> {
    let ids: Vec<String> = body
        .files
        .into_iter()
        .filter_map(|f| f.file_id)
        .filter(|id| id.len() <= 200)
        .collect();
    if ids.is_empty() {
        return Ok((
            axum::http::StatusCode::NO_CONTENT,
            Json(json!({"message": "Nothing provided to delete"})),
        )
            .into_response());
    }
    let agent_id = body.agent_id.filter(|a| !a.is_empty());
    let resource = body.tool_resource.filter(|r| !r.is_empty());
    if let (Some(agent_id), Some(resource)) = (agent_id, resource) {
        return Ok(
            agent_file_upload::remove(&state, &user, agent_id, &resource, ids)
                .await?
                .into_response(),
        );
    }
    let user_id = user.id.clone();
    let outcome = state
        .db
        .write(move |c| {
            let others = files::owned_by_others(c, &user_id, &ids)?;
            if !others.is_empty() {
                return Ok(Err(others));
            }
            Ok(Ok(files::delete(c, &user_id, &ids)?))
        })
        .await?;
    match outcome {
        Err(others) => Err(ApiError::Shaped {
            status: axum::http::StatusCode::FORBIDDEN,
            body: json!({
                "message": "You can only delete files you own",
                "unauthorizedFiles": others,
            }),
        }),
        Ok(gone) => {
            for f in &gone {
                if let Err(e) = state.files.remove(&f.storage_key).await {
                    tracing::warn!(error = %e, "removing a deleted file's bytes failed; the sweeper will");
                }
            }
            Ok(Json(json!({"message": "Files deleted successfully"})).into_response())
        }
    }
}

/// `{file_ids: [...]}` (at most [`USAGE_MAX_IDS`]): LibreChat's client says these uploads wait
/// in its queue of messages to send after the answer being written. LibreChat holds such an
/// upload until a day after it came unless an approval window is configured (which this server
/// has none of), and the sweeper keeps every unsent upload that long here too, so nothing needs
/// to change: the answer counts those of them that are the caller's and not sent yet
/// (`{held}`). Bad ids are a 400 with LibreChat's `code`.
#[utoipa::path(post, path = "/api/files/usage", operation_id = "files_usage", request_body(content = Object, description = "`{file_ids: [string]}`, 1 to 10 ids"), tag = "files", responses((status = 200, description = "`{held}`"), (status = 400, description = "`{code: INVALID_FILE_IDS}` or `{code: TOO_MANY_FILES, max}`")))]
async fn usage(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let refuse = |body: Value| ApiError::Shaped {
        status: axum::http::StatusCode::BAD_REQUEST,
        body,
    };
    let invalid = || refuse(json!({"code": "INVALID_FILE_IDS"}));
    let raw = body
        .get("file_ids")
        .and_then(Value::as_array)
        .filter(|ids| !ids.is_empty())
        .ok_or_else(invalid)?;
    if raw.len() > USAGE_MAX_IDS {
        return Err(refuse(
            json!({"code": "TOO_MANY_FILES", "max": USAGE_MAX_IDS}),
        ));
    }
    let ids = raw
        .iter()
        .map(|id| id.as_str().filter(|id| !id.is_empty()).map(str::to_owned))
        .collect::<Option<Vec<String>>>()
        .ok_or_else(invalid)?;
    let held = state
        .db
        .read(move |c| files::unsent(c, &user.id, &ids))
        .await?;
    Ok(Json(json!({ "held": held })))
}

/// The upload limits, in librechat.yaml's form, which LibreChat's client merges over its own.
#[utoipa::path(get, path = "/api/files/config", operation_id = "files_config", summary = "Upload limits per endpoint (librechat.yaml's fileConfig merged over the defaults)", tag = "files", responses((status = 200, description = "Success")))]
async fn config(State(state): State<AppState>, AuthUser(_): AuthUser) -> Json<Value> {
    let names = state.settings.endpoints.list.iter().map(|e| e.name.clone());
    Json(state.settings.files.for_client(names))
}

/// A stored image (`filepath` `/images/{userId}/{fileId}.{ext}`), to its owner only: by the
/// bearer token, or by the session's refresh cookie, which a browser sends with `<img>`
/// requests (LibreChat serves these to anyone holding the URL).
#[utoipa::path(get, path = "/images/{user_id}/{name}", operation_id = "files_image", tag = "files", params(("user_id" = String, Path), ("name" = String, Path, description = "`{file_id}.{ext}`")), responses((status = 200, description = "The image")))]
async fn image(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: axum::http::HeaderMap,
    Path((owner, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("Image not found".into());
    let viewer = match user {
        Some(u) => Some(u.id),
        None => match refresh_cookie(&headers) {
            Some(token) => state.accounts.user_of_refresh_token(&token).await?,
            None => None,
        },
    };
    let Some(viewer) = viewer else {
        return Err(ApiError::Unauthorized("Sign in to see this image".into()));
    };
    // Someone else's image reads the same as none.
    if viewer != owner {
        return Err(not_found());
    }
    let file_id = name
        .split_once('.')
        .map_or(name.as_str(), |(id, _)| id)
        .to_owned();
    let f = state
        .db
        .read(move |c| files::get(c, &viewer, &file_id))
        .await?
        .filter(|f| f.mime.starts_with("image/") && f.filepath.ends_with(&format!("/{name}")))
        .ok_or_else(not_found)?;
    let stream = state
        .files
        .open(&f.storage_key)
        .await
        .map_err(|e| ApiError::unopened(e, &f.file_id, "Image"))?;
    Ok((
        [
            (CONTENT_TYPE, f.mime.clone()),
            (CONTENT_LENGTH, f.bytes.to_string()),
            // Private: never kept by a shared cache; the browser may keep it a day.
            (CACHE_CONTROL, "private, max-age=86400".to_owned()),
        ],
        [("x-content-type-options", "nosniff")],
        Body::from_stream(stream),
    )
        .into_response())
}
