//! `POST /api/render {text}` → `{html}`: a message's markdown as sanitized HTML (see
//! `chat::render`), for the web app, also while an answer streams.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState, JsonBody};

/// The longest text rendered, in bytes.
const MAX_TEXT: usize = 512 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/render", post(render))
}

#[derive(serde::Deserialize)]
struct RenderBody {
    text: String,
}

async fn render(
    State(_): State<AppState>,
    AuthUser(_): AuthUser,
    JsonBody(body): JsonBody<RenderBody>,
) -> Result<Json<Value>, ApiError> {
    if body.text.len() > MAX_TEXT {
        return Err(ApiError::PayloadTooLarge(format!(
            "text is longer than {MAX_TEXT} bytes"
        )));
    }
    let html = tokio::task::spawn_blocking(move || crate::chat::render::to_html(&body.text))
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({ "html": html })))
}
