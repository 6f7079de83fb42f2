//! `POST /api/convos/import`: a multipart upload (field `file`) of a ChatGPT, Claude or
//! LibreChat export. The upload is written to a private temporary file as it arrives (never
//! held in memory), refused once it passes `CONVERSATION_IMPORT_MAX_FILE_SIZE_BYTES`, and
//! imported conversation by conversation (see `chat::import`).
//!
//! Answers 201 with `{message, conversations, messages, skipped, formats}` when anything was
//! imported, and 400 with the reasons when nothing was: never "success" for an empty import.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::chat::import::{self, ImportError};
use crate::server::middleware::auth::{limit, limit_address};
use crate::server::middleware::slots::Slot;
use crate::server::middleware::{AuthUser, Client};
use crate::server::{ApiError, AppState};

/// Mounted outside the general body limit and request timeout: its own size limit applies,
/// and a large import may take longer than an ordinary request.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_conversations))
        .layer(DefaultBodyLimit::disable())
}

/// How many imports run at once, server-wide; more wait their turn. Each holds up to one large
/// conversation in memory and writes through the single database writer. A turn is taken only
/// once the upload is on disk: a client that sends slowly (or stalls) holds its connection and
/// its temporary file, never a turn someone else is waiting for.
static RUNNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Imports one account may have in progress (uploading, waiting or running); more are refused
/// (429). Each holds a temporary file of up to the import size limit.
const IMPORTS_PER_USER: usize = 2;

/// Accounts with imports in progress, and how many each has.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Where uploads wait while they are imported; emptied at start.
pub fn temp_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("tmp")
}

#[utoipa::path(post, path = "/api/convos/import", operation_id = "imports_import_conversations", request_body(content = Object, description = "multipart/form-data with the export file in a `file` field", content_type = "multipart/form-data"), summary = "Import conversations (ChatGPT, Claude or LibreChat exports)", tag = "imports", responses((status = 200, description = "Success")))]
async fn import_conversations(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let message = "Too many conversation import requests. Try again later";
    if let Some(spec) = &state.settings.limits.import_ip {
        limit_address(&state, spec, "import_ip", Some(&user.id), &client, message).await?;
    }
    if let Some(spec) = &state.settings.limits.import_user {
        limit(
            &state,
            spec,
            "import_user",
            Some(&user.id),
            &client,
            message,
        )
        .await?;
    }
    let max = state.settings.features.conversation_import_max_file_size;
    let mut multipart = multipart.map_err(|_| {
        ApiError::BadRequest("send the file as multipart/form-data in the field \"file\"".into())
    })?;
    let _mine = Slot::take("import", &user.id, IMPORTS_PER_USER).ok_or_else(|| {
        ApiError::TooManyRequests {
            message: format!(
                "You already have {IMPORTS_PER_USER} imports in progress; wait for them to finish"
            ),
            retry_after_secs: 5,
        }
    })?;
    let dir = temp_dir(&state.settings.data_dir);
    let mut builder = std::fs::DirBuilder::new();
    std::os::unix::fs::DirBuilderExt::mode(builder.recursive(true), 0o700);
    builder.create(&dir).map_err(ApiError::internal)?;
    let temp = TempFile(dir.join(format!("import-{}.json", uuid::Uuid::new_v4())));
    let mut found = false;
    while let Some(mut field) = multipart.next_field().await.map_err(bad_upload)? {
        if field.name() != Some("file") {
            continue;
        }
        found = true;
        // Readable by this account only: it holds someone's conversations.
        let mut out = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp.0)
            .await
            .map_err(ApiError::internal)?;
        let mut size: u64 = 0;
        while let Some(chunk) = field.chunk().await.map_err(bad_upload)? {
            size += chunk.len() as u64;
            if size > max {
                return Err(ApiError::PayloadTooLarge(format!(
                    "the file is larger than the import limit of {max} bytes \
                     (CONVERSATION_IMPORT_MAX_FILE_SIZE_BYTES)"
                )));
            }
            out.write_all(&chunk).await.map_err(ApiError::internal)?;
        }
        out.flush().await.map_err(ApiError::internal)?;
        break;
    }
    if !found {
        return Err(ApiError::BadRequest(
            "no file: send it in the multipart field \"file\"".into(),
        ));
    }
    let _turn = RUNNING.acquire().await.map_err(ApiError::internal)?;
    let report = import::import_file(&state.db, &user.id, &temp.0, Arc::new(AtomicU64::new(0)))
        .await
        .map_err(|e| match e {
            ImportError::Db(e) => ApiError::from(e),
            ImportError::Io(e) => ApiError::internal(anyhow::anyhow!(e)),
            other => ApiError::BadRequest(other.to_string()),
        })?;
    tracing::info!(
        conversations = report.conversations,
        messages = report.messages,
        skipped = report.skipped_count,
        "conversations imported"
    );
    let body = |message: String| {
        json!({
            "message": message,
            "conversations": report.conversations,
            "messages": report.messages,
            "skipped": report.skipped,
            "skippedCount": report.skipped_count,
            "formats": report.formats,
        })
    };
    if report.conversations == 0 {
        let why = match report.skipped.first() {
            Some(s) => format!("Nothing was imported: {}", s.reason),
            None => "Nothing was imported: the file holds no conversations".into(),
        };
        return Ok((StatusCode::BAD_REQUEST, Json(body(why))));
    }
    let mut message = format!(
        "Imported {} conversation(s) with {} message(s)",
        report.conversations, report.messages
    );
    if report.skipped_count > 0 {
        message.push_str(&format!("; skipped {}", report.skipped_count));
    }
    Ok((StatusCode::CREATED, Json(body(message))))
}

fn bad_upload(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(e.body_text())
    } else {
        ApiError::BadRequest(format!(
            "the upload was cut short or malformed: {}",
            e.body_text()
        ))
    }
}
