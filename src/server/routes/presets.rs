//! `/api/presets`: saved conversation settings.

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::presets::{self, Preset};
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, save))
        .routes(routes!(delete))
}

/// LibreChat's `TPreset`: the settings with the preset's own fields over them.
fn preset_json(p: &Preset) -> Value {
    let mut out = p.settings.clone();
    if let Value::Object(f) = json!({
        "presetId": p.preset_id,
        "user": p.user_id,
        "title": p.title,
        "defaultPreset": p.default_preset,
        "createdAt": p.created_at,
        "updatedAt": p.updated_at,
    }) {
        out.extend(f);
    }
    // LibreChat's client parses presets with a schema where `order` is a number or absent,
    // never null.
    if let Some(order) = p.position {
        out.insert("order".into(), json!(order));
    }
    Value::Object(out)
}

#[utoipa::path(get, path = "/api/presets", operation_id = "presets_list", summary = "The caller's presets", tag = "presets", responses((status = 200, description = "Success")))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Value>, ApiError> {
    let all = state.db.read(move |c| presets::list(c, &user.id)).await?;
    Ok(Json(Value::Array(all.iter().map(preset_json).collect())))
}

const RESERVED: [&str; 8] = [
    "_id",
    "user",
    "presetId",
    "title",
    "defaultPreset",
    "order",
    "createdAt",
    "updatedAt",
];

/// Creates (a new id when none is given) or replaces a preset by `presetId`.
#[utoipa::path(post, path = "/api/presets", operation_id = "presets_save", request_body(content = Object, description = "A `TPreset`: `presetId` (new when absent), `title`, `defaultPreset`, `order` and the conversation settings"), tag = "presets", responses((status = 200, description = "Success")))]
async fn save(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(mut body): JsonBody<Map<String, Value>>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    super::reject_deep(&Value::Object(body.clone()))?;
    let preset_id = match body.get("presetId") {
        None | Some(Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(Value::String(s))
            if !s.is_empty() && s.len() <= 200 && !s.chars().any(char::is_control) =>
        {
            s.clone()
        }
        Some(_) => return Err(ApiError::BadRequest("presetId must be an id string".into())),
    };
    let title = match body.get("title") {
        None | Some(Value::Null) => "New Preset".to_owned(),
        Some(Value::String(s)) if s.chars().count() <= 500 => s.clone(),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "title must be a string of at most 500 characters".into(),
            ));
        }
    };
    let default_preset = match body.get("defaultPreset") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "defaultPreset must be true or false".into(),
            ));
        }
    };
    let position = match body.get("order") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| ApiError::BadRequest("order must be a whole number".into()))?,
        ),
    };
    for key in RESERVED {
        body.remove(key);
    }
    let preset = Preset {
        preset_id,
        user_id: user.id,
        title,
        default_preset,
        position,
        settings: body,
        created_at: String::new(),
        updated_at: String::new(),
    };
    let saved = state
        .db
        .write(move |c| presets::upsert(c, &preset))
        .await?
        .ok_or_else(|| ApiError::NotFound("Preset not found".into()))?;
    Ok((axum::http::StatusCode::CREATED, Json(preset_json(&saved))))
}

/// Body: a preset (deletes that one, by `presetId`) or `{}` (deletes all of the user's).
#[utoipa::path(post, path = "/api/presets/delete", operation_id = "presets_delete", request_body(content = Object, description = "`{presetId}` deletes that preset; `{}` deletes them all"), tag = "presets", responses((status = 200, description = "Success")))]
async fn delete(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({ "acknowledged": true, "deletedCount": n })))
}
