//! `POST /api/messages/artifact/:messageId {index, original, updated}`: changes an artifact in
//! one of the caller's messages (see `chat::artifacts::edit`), as LibreChat's code editor does
//! when someone edits an artifact. Answers `{conversationId, content, text}`; refusals are
//! LibreChat's `{error}` with its statuses.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::chat::artifacts::edit::{self, Change, EditError};
use crate::chat::present;
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState, JsonBody};
use crate::shapes::ContentPart;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(edit_artifact))
}

/// The message as saved, as LibreChat answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ArtifactEdited {
    conversation_id: String,
    /// Absent when the message has no content parts (LibreChat's schema has no default).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    content: Option<Vec<ContentPart>>,
    text: String,
}

/// LibreChat's refusal shape here: `{error}`.
fn refused(status: StatusCode, error: &str) -> ApiError {
    ApiError::Shaped {
        status,
        body: json!({ "error": error }),
    }
}

/// The body as LibreChat checks it: a non-negative `index` and both texts present. A fractional
/// index or a text that is not a string is refused too (LibreChat fails on those with a 500).
fn change(body: &Value) -> Option<Change> {
    let index = &body["index"];
    let index = index.as_u64().or_else(|| {
        index
            .as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= u32::MAX as f64)
            .map(|f| f as u64)
    })?;
    Some(Change {
        index: usize::try_from(index).ok()?,
        original: body["original"].as_str()?.to_owned(),
        updated: body["updated"].as_str()?.to_owned(),
    })
}

#[utoipa::path(post, path = "/api/messages/artifact/{message_id}", operation_id = "messages_edit_artifact", summary = "Change an artifact in a message", tag = "messages", params(("message_id" = String, Path)), request_body(content = Object, description = "`{index, original, updated}`: in the `index`-th artifact of the message, `original` becomes `updated`"), responses((status = 200, description = "The message as saved", body = ArtifactEdited), (status = 400, description = "`{error}`: invalid parameters, no such artifact, or `original` is not in it"), (status = 404, description = "`{error}`: the caller has no such message")))]
async fn edit_artifact(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(message_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<ArtifactEdited>, ApiError> {
    let change = change(&body)
        .ok_or_else(|| refused(StatusCode::BAD_REQUEST, "Invalid request parameters"))?;
    let saved = edit::edit(&state.db, &user.id, &message_id, change)
        .await
        .map_err(|e| match e {
            EditError::NotFound => refused(StatusCode::NOT_FOUND, &e.to_string()),
            EditError::OutOfBounds | EditError::NotInArtifact => {
                refused(StatusCode::BAD_REQUEST, &e.to_string())
            }
            EditError::Db(e) => e.into(),
        })?;
    Ok(Json(ArtifactEdited {
        conversation_id: saved.conversation_id,
        content: saved.content.as_ref().and_then(present::parts),
        text: saved.text,
    }))
}
