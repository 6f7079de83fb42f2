//! `/api/presets`: saved conversation settings.

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::chat::present;
use crate::db::presets;
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState, JsonBody};
use crate::shapes::{self, DeleteResult, TPreset};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, save))
        .routes(routes!(delete))
}

#[utoipa::path(get, path = "/api/presets", operation_id = "presets_list", summary = "The caller's presets", tag = "presets", responses((status = 200, description = "Success")))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Vec<TPreset>>, ApiError> {
    let all = state.db.read(move |c| presets::list(c, &user.id)).await?;
    Ok(Json(all.iter().map(present::preset).collect()))
}

/// Creates (a new id when none is given) or replaces a preset by `presetId`.
#[utoipa::path(post, path = "/api/presets", operation_id = "presets_save", request_body(content = Object, description = "A `TPreset`: `presetId` (new when absent), `title`, `defaultPreset`, `order` and the conversation settings"), tag = "presets", responses((status = 200, description = "Success")))]
async fn save(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<(axum::http::StatusCode, Json<TPreset>), ApiError> {
    super::reject_deep(&Value::Object(body.clone()))?;
    let sent: TPreset = shapes::read(Value::Object(body))?;
    let preset = present::preset_row(sent, &user.id);
    let saved = state
        .db
        .write(move |c| presets::upsert(c, &preset))
        .await?
        .ok_or_else(|| ApiError::NotFound("Preset not found".into()))?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(present::preset(&saved)),
    ))
}

/// Body: a preset (deletes that one, by `presetId`) or `{}` (deletes all of the user's).
#[utoipa::path(post, path = "/api/presets/delete", operation_id = "presets_delete", request_body(content = Object, description = "`{presetId}` deletes that preset; `{}` deletes them all"), tag = "presets", responses((status = 200, description = "Success")))]
async fn delete(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<DeleteResult>, ApiError> {
    let id = match body.get("presetId") {
        None | Some(Value::Null) if body.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        _ => {
            return Err(ApiError::BadRequest(
                "send a preset's presetId, or {} to delete all".into(),
            ));
        }
    };
    let n = state
        .db
        .write(move |c| presets::delete(c, &user.id, id.as_deref()))
        .await?;
    Ok(Json(DeleteResult::of(n)))
}
