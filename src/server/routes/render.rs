//! `POST /api/render {text}` → `{html}`, or `{texts: [...]}` → `{html: [...]}`: messages'
//! markdown as sanitized HTML (see `chat::render`), for the web app, also while an answer
//! streams. A batch lets the app render the messages on screen in one request.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState, JsonBody};

/// The most text rendered in one request, in bytes.
const MAX_TEXT: usize = 512 * 1024;
/// The most texts in one batch.
const MAX_TEXTS: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(render))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RenderBody {
    text: Option<String>,
    texts: Option<Vec<String>>,
}

#[utoipa::path(post, path = "/api/render", operation_id = "render_render", request_body = RenderBody, summary = "Render markdown to sanitized HTML", tag = "render", responses((status = 200, description = "Success")))]
async fn render(
    State(state): State<AppState>,
    AuthUser(_): AuthUser,
    JsonBody(body): JsonBody<RenderBody>,
) -> Result<Json<Value>, ApiError> {
    let (texts, single) = match (body.text, body.texts) {
        (Some(t), None) => (vec![t], true),
        (None, Some(ts)) => (ts, false),
        _ => {
            return Err(ApiError::BadRequest("send either text or texts".into()));
        }
    };
    if texts.len() > MAX_TEXTS {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_TEXTS} texts at once"
        )));
    }
    if texts.iter().map(String::len).sum::<usize>() > MAX_TEXT {
        return Err(ApiError::PayloadTooLarge(format!(
            "the text is longer than {MAX_TEXT} bytes"
        )));
    }
    let images = state.settings.images.clone();
    let mut html = tokio::task::spawn_blocking(move || {
        texts
            .iter()
            .map(|t| crate::chat::render::to_html(t, &images))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(if single {
        json!({ "html": html.pop().unwrap_or_default() })
    } else {
        json!({ "html": html })
    }))
}
