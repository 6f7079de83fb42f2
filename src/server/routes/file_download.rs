//! Downloads, as LibreChat's routes: `GET /api/files/download/{userId}/{file_id}` streams the
//! bytes through this server (or, with `?direct=true` and S3 storage, redirects to a presigned
//! URL of the bucket), and `GET /api/files/download-url/{userId}/{file_id}` hands out that
//! URL. Who may download is decided here, before any URL is made; the URL then works for
//! `S3_URL_EXPIRY_SECONDS` (2 minutes by default) for whoever holds it, as LibreChat's do.
//!
//! LibreChat's client asks for a URL only for files whose `source` is `s3` or `cloudfront`;
//! this server records its own uploads as `local` (or `text`) whichever storage holds them, so
//! the client streams through `/download` (an `XMLHttpRequest` with the bearer token, which a
//! redirect to another origin would break without CORS on the bucket).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION,
};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::files::{self, File};
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState};

/// What RFC 8187's `filename*` must escape: all but its `attr-char`s.
const ATTR_CHAR_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// Merged with the transfer routes (no request timeout): a download streams for as long as
/// it takes. The URL route is answered at once, and sits beside its sibling.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(download))
        .routes(routes!(download_url))
}

fn encoded(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, ATTR_CHAR_ESCAPES).to_string()
}

fn attachment(f: &File) -> String {
    format!("attachment; filename*=UTF-8''{}", encoded(&f.filename))
}

/// The file `file_id` if `user` may download it: their own, or one an agent they may use
/// has (a cited file of the agent's file search, its File Context). LibreChat's client puts
/// the *reader's* id in the path (`/download/{userId}/{file_id}`); as LibreChat's
/// `fileAccess`, access rests on the file, so a path naming someone else gets nothing more,
/// nor anything less. Someone else's file reads the same as none.
async fn downloadable(
    state: &AppState,
    user: &crate::db::users::User,
    file_id: String,
) -> Result<File, ApiError> {
    let viewer = crate::access::viewer(user);
    state
        .db
        .read(move |c| files::downloadable(c, &viewer, &file_id))
        .await?
        .ok_or_else(|| ApiError::NotFound("File not found".into()))
}

/// LibreChat's `X-File-Metadata` and `metadata`: what the client caches about the file.
fn metadata(f: &File) -> Value {
    json!({"file_id": f.file_id, "filename": f.filename, "type": f.mime, "bytes": f.bytes})
}

/// A presigned URL of `f`'s bytes, answered as an attachment of its type; `None` when the
/// storage is the local disk.
fn signed_url(state: &AppState, f: &File) -> Result<Option<url::Url>, ApiError> {
    state
        .files
        .download_url(&f.storage_key, &attachment(f), &f.mime)
        .map_err(|e| ApiError::unopened(e, &f.file_id, "File"))
}

#[derive(Deserialize)]
struct DownloadQuery {
    /// `true`: a redirect to the bucket rather than the bytes (S3 storage only).
    direct: Option<String>,
}

/// The file's bytes, as an attachment, to whoever may see it; with `?direct=true` and S3
/// storage, a 302 to a short-lived presigned URL of the bucket instead, as LibreChat does.
#[utoipa::path(get, path = "/api/files/download/{user_id}/{file_id}", operation_id = "files_download", tag = "files", params(("user_id" = String, Path), ("file_id" = String, Path), ("direct" = Option<String>, Query, description = "`true`: redirect to a presigned URL (S3 storage)")), responses((status = 200, description = "The file"), (status = 302, description = "The file, at a presigned URL of the bucket")))]
async fn download(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((_, file_id)): Path<(String, String)>,
    Query(query): Query<DownloadQuery>,
) -> Result<Response, ApiError> {
    let f = downloadable(&state, &user, file_id).await?;
    if query.direct.as_deref() == Some("true")
        && let Some(url) = signed_url(&state, &f)?
    {
        return Ok((
            StatusCode::FOUND,
            [
                (LOCATION, url.to_string()),
                (CACHE_CONTROL, "no-store".to_owned()),
            ],
        )
            .into_response());
    }
    let stream = state
        .files
        .open(&f.storage_key)
        .await
        .map_err(|e| ApiError::unopened(e, &f.file_id, "File"))?;
    Ok((
        [
            (CONTENT_TYPE, "application/octet-stream".to_owned()),
            (CONTENT_LENGTH, f.bytes.to_string()),
            (CONTENT_DISPOSITION, attachment(&f)),
            (CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        [("x-file-metadata", encoded(&metadata(&f).to_string()))],
        Body::from_stream(stream),
    )
        .into_response())
}

/// A short-lived presigned URL of the file's bytes in the bucket, to whoever may download
/// it: `{url, filename, type, metadata}`. With local storage, 501 as LibreChat answers for a
/// storage without URLs (its client then streams through `/download`).
#[utoipa::path(get, path = "/api/files/download-url/{user_id}/{file_id}", operation_id = "files_download_url", tag = "files", params(("user_id" = String, Path), ("file_id" = String, Path)), responses((status = 200, description = "`{url, filename, type, metadata}`"), (status = 501, description = "The storage is the local disk")))]
async fn download_url(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((_, file_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let f = downloadable(&state, &user, file_id).await?;
    let Some(url) = signed_url(&state, &f)? else {
        return Err(ApiError::Shaped {
            status: StatusCode::NOT_IMPLEMENTED,
            body: json!({"message": "Not Implemented"}),
        });
    };
    Ok((
        [(CACHE_CONTROL, "no-store")],
        Json(json!({
            "url": url.as_str(),
            "filename": f.filename,
            "type": f.mime,
            "metadata": metadata(&f),
        })),
    )
        .into_response())
}
