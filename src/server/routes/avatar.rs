//! `POST /api/files/images/avatar`: the signed-in person's avatar, as LibreChat's Settings →
//! Account sends it (multipart `file`, and `manual`). The work is in `crate::files::avatar`.

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::files::{admit, bad_form, field_text, receive_file};
use crate::files::Received;
use crate::files::avatar::{self, AvatarError, Upload};
use crate::files::images::ImageError;
use crate::server::middleware::{AuthUser, Client};
use crate::server::{ApiError, AppState};

/// The upload route: its own size limit (`avatarSizeLimit`), counted as the picture streams in.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::disable())
}

/// LibreChat's answer: where the new avatar is.
#[derive(Serialize, utoipa::ToSchema)]
struct AvatarAnswer {
    /// The account's `avatar` now: `/images/{userId}/{fileId}.{ext}?manual=true`.
    url: String,
}

impl From<AvatarError> for ApiError {
    fn from(e: AvatarError) -> Self {
        match e {
            AvatarError::Empty => ApiError::BadRequest(e.to_string()),
            AvatarError::TooLarge { .. } | AvatarError::Image(ImageError::TooLarge { .. }) => {
                ApiError::PayloadTooLarge(e.to_string())
            }
            AvatarError::NotAnImage
            | AvatarError::Type(_)
            | AvatarError::Image(ImageError::Broken(_)) => {
                ApiError::UnsupportedMediaType(e.to_string())
            }
            AvatarError::Image(ImageError::Encode(_)) => {
                ApiError::internal(anyhow::anyhow!(e.to_string()))
            }
            AvatarError::Db(e) => e.into(),
            AvatarError::Io(e) => ApiError::storage(e),
        }
    }
}

/// Reads the form: the picture streams to the storage's holding area, refused past `max`
/// bytes; `manual` is kept, any other field read and left.
async fn read_form(
    state: &AppState,
    mut form: Multipart,
    max: u64,
    upload: &mut Upload,
) -> Result<Option<Received>, ApiError> {
    let mut received = None;
    while let Some(mut field) = form.next_field().await.map_err(bad_form)? {
        match field.name().unwrap_or("") {
            "file" if received.is_none() => {
                upload.filename = field.file_name().unwrap_or("").to_owned();
                upload.declared_type = field.content_type().unwrap_or("").to_owned();
                let too_large = |_| avatar::too_large(&state.settings.files).into();
                received = Some(receive_file(state, &mut field, max, too_large).await?);
            }
            "file" => return Err(ApiError::BadRequest("send one picture".into())),
            "manual" => upload.manual = field_text(field).await? == "true",
            _ => {
                field_text(field).await?;
            }
        }
    }
    Ok(received)
}

/// Sets the caller's avatar from an uploaded picture: cut to its centred square, 150 × 150
/// pixels, without metadata. The avatar before it is deleted.
#[utoipa::path(post, path = "/api/files/images/avatar", operation_id = "files_upload_avatar", request_body(content = Object, description = "multipart/form-data: `file` (a PNG, JPEG, GIF or WebP picture, at most `avatarSizeLimit`), `manual` (`\"true\"`: a social sign-in will not replace it)", content_type = "multipart/form-data"), tag = "files", responses((status = 200, description = "The new avatar's URL, as `/api/user` now shows it", body = AvatarAnswer), (status = 400, description = "No picture, or an empty one"), (status = 413, description = "Over `avatarSizeLimit`, or more pixels than the server decodes"), (status = 415, description = "Not an image, or not the type it says")))]
async fn upload(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<AvatarAnswer>, ApiError> {
    let _slot = admit(&state, &client, &user.id).await?;
    let form = form.map_err(|_| {
        ApiError::BadRequest("send the picture as multipart/form-data in the field \"file\"".into())
    })?;
    let mut upload = Upload {
        user_id: user.id,
        ..Upload::default()
    };
    let max = avatar::size_limit(&state.settings.files);
    let received = read_form(&state, form, max, &mut upload)
        .await?
        .ok_or_else(|| ApiError::BadRequest("No file uploaded".into()))?;
    let set = avatar::take(
        &state.db,
        &state.files,
        &state.settings.files,
        upload,
        received,
    )
    .await?;
    tracing::info!(file.id = %set.file.file_id, "avatar set");
    Ok(Json(AvatarAnswer { url: set.url }))
}
