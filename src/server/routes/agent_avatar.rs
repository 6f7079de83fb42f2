//! An agent's picture: `POST /api/files/images/agents/:agent_id/avatar` (LibreChat's route, a
//! multipart `file`), made as a person's avatar is made (`crate::files::avatar`), and
//! `GET /images/agents/:agent_id/:name`, which shows it to whoever may see the agent.

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::agent_shapes::{self as shapes, denied, refused};
use super::files::{admit, bad_form, field_text, receive_file};
use crate::access;
use crate::db::agents::{self, Agent};
use crate::db::files::File;
use crate::db::{agent_changes, agent_pictures, users};
use crate::files::avatar::{self, Upload};
use crate::server::middleware::auth::refresh_cookie;
use crate::server::middleware::permission::{Permitted, UseAgents};
use crate::server::middleware::{Client, MaybeUser};
use crate::server::{ApiError, AppState};

/// The upload: its own size limit (`avatarSizeLimit`), counted as the picture streams in.
pub fn upload_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::disable())
}

/// Showing the pictures.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(image))
}

/// The `filepath` of an agent's picture.
fn path_of(agent_id: &str, file_id: &str, ext: &str) -> String {
    format!("/images/agents/{agent_id}/{file_id}.{ext}")
}

/// Makes an agent's picture from the uploaded one (its centred square, without metadata) and
/// sets it; the pictures before it stay while the agent does (its versions name them).
#[utoipa::path(post, path = "/api/files/images/agents/{agent_id}/avatar", operation_id = "agents_upload_avatar", request_body(content = Object, description = "multipart/form-data: `file` (a PNG, JPEG, GIF or WebP picture, at most `avatarSizeLimit`)", content_type = "multipart/form-data"), tag = "agents", params(("agent_id" = String, Path)), responses((status = 201, description = "`Agent`, with its new `avatar`"), (status = 400, description = "No picture, or an empty one"), (status = 403, description = "No EDIT permission, or the builder is off"), (status = 404, description = "Not found"), (status = 413, description = "Over `avatarSizeLimit`"), (status = 415, description = "Not an image")))]
async fn upload(
    State(state): State<AppState>,
    client: Client,
    Permitted(user, _): Permitted<UseAgents>,
    Path(agent_id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let builder = crate::agents::Builder {
        config: &state.settings.agents,
        endpoints: &state.settings.endpoints,
    };
    builder.open().map_err(refused)?;
    // Refused before the picture is read when the caller may not change the agent.
    let (v, id) = (access::viewer(&user), agent_id.clone());
    state
        .db
        .read(move |c| agents::get(c, &v, &id, agents::EDIT))
        .await?
        .map_err(denied)?;
    let _slot = admit(&state, &client, &user.id).await?;
    let mut form = form.map_err(|_| {
        ApiError::BadRequest("send the picture as multipart/form-data in the field \"file\"".into())
    })?;
    let mut upload = Upload {
        user_id: user.id.clone(),
        ..Upload::default()
    };
    let max = avatar::size_limit(&state.settings.files);
    let mut received = None;
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        match field.name().unwrap_or("") {
            "file" if received.is_none() => {
                upload.filename = field.file_name().unwrap_or("").to_owned();
                upload.declared_type = field.content_type().unwrap_or("").to_owned();
                let too_large = |_| avatar::too_large(&state.settings.files).into();
                received = Some(receive_file(&state, &mut field, max, too_large).await?);
            }
            "file" => return Err(ApiError::BadRequest("send one picture".into())),
            _ => {
                field_text(field).await?;
            }
        }
    }
    let received = received.ok_or_else(|| ApiError::BadRequest("No file uploaded".into()))?;
    let picture = avatar::picture(
        &state.files,
        &state.settings.files,
        &upload,
        received,
        |f, e| path_of(&agent_id, f, e),
    )
    .await?;
    let record = File {
        context: Some("agent_avatar".into()),
        ..picture
    };
    let key = record.storage_key.clone();
    let v = access::viewer(&user);
    let done = state
        .db
        .write(move |c| agent_changes::set_avatar(c, &v, &agent_id, &record))
        .await
        .map_err(ApiError::from)
        .and_then(|r| r.map_err(denied));
    if done.is_err() {
        let _ = state.files.remove(&key).await;
    }
    let agent = done?;
    tracing::info!(agent.id = %agent.id, "agent picture set");
    Ok((
        StatusCode::CREATED,
        Json(shapes::full(&agent, &user.id, None)),
    )
        .into_response())
}

/// A copy of `agent`'s picture for its copy `copy_id`, stored under a new file (`None` when
/// it has none of its own, or its bytes are gone). The record is not written: the copy's store
/// call does, or the caller removes the bytes.
pub(super) async fn copy_picture(
    state: &AppState,
    agent: &Agent,
    user_id: &str,
    copy_id: &str,
) -> Result<Option<File>, ApiError> {
    let a = agent.clone();
    let Some(original) = state
        .db
        .read(move |c| agent_pictures::picture_of(c, &a))
        .await?
    else {
        return Ok(None);
    };
    let Ok(bytes) = state.files.read(&original.storage_key).await else {
        return Ok(None);
    };
    let key = state
        .files
        .put_bytes(bytes)
        .await
        .map_err(ApiError::storage)?;
    let file_id = uuid::Uuid::new_v4().to_string();
    let ext = original.filepath.rsplit('.').next().unwrap_or("png");
    Ok(Some(File {
        filepath: path_of(copy_id, &file_id, ext),
        file_id,
        user_id: user_id.to_owned(),
        storage_key: key,
        ..original
    }))
}

/// An agent's picture (`filepath` `/images/agents/{agentId}/{fileId}.{ext}`), to whoever may
/// see the agent: by the bearer token, or by the session's refresh cookie, which a browser
/// sends with `<img>` requests.
#[utoipa::path(get, path = "/images/agents/{agent_id}/{name}", operation_id = "agents_image", tag = "agents", params(("agent_id" = String, Path), ("name" = String, Path, description = "`{file_id}.{ext}`")), responses((status = 200, description = "The picture"), (status = 401, description = "Not signed in"), (status = 404, description = "No such picture, or an agent the caller may not see")))]
async fn image(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: axum::http::HeaderMap,
    Path((agent_id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("Image not found".into());
    let user = match user {
        Some(u) => Some(u),
        None => match refresh_cookie(&headers) {
            Some(token) => match state.accounts.user_of_refresh_token(&token).await? {
                Some(id) => state.db.read(move |c| users::find_by_id(c, &id)).await?,
                None => None,
            },
            None => None,
        },
    };
    let Some(user) = user else {
        return Err(ApiError::Unauthorized("Sign in to see this image".into()));
    };
    let v = access::viewer(&user);
    let f = state
        .db
        .read(move |c| agent_pictures::picture(c, &v, &agent_id, &name))
        .await?
        .filter(|f| f.mime.starts_with("image/"))
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
            (CACHE_CONTROL, "private, max-age=86400".to_owned()),
        ],
        [("x-content-type-options", "nosniff")],
        Body::from_stream(stream),
    )
        .into_response())
}
