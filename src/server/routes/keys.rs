//! `/api/keys`: the API keys people bring for endpoints configured with `user_provided`.
//! `GET ?name=` says whether one is set and when it expires (`{expiresAt}`: a time, `never`,
//! or `null` when none is set); `PUT {name, value, expiresAt}` stores one, encrypted with
//! CREDS_KEY; `DELETE /:name` and `DELETE ?all=true` remove them. Values are never returned.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::user_keys;
use crate::providers::endpoints::Key;
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(expiry, set, delete_all))
        .routes(routes!(delete_one))
}

#[derive(serde::Deserialize)]
struct NameQuery {
    name: Option<String>,
    all: Option<String>,
}

#[utoipa::path(get, path = "/api/keys", operation_id = "keys_expiry", summary = "When a stored provider key expires", tag = "keys", responses((status = 200, description = "Success")))]
async fn expiry(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(q): Query<NameQuery>,
) -> Result<Json<Value>, ApiError> {
    let name = q
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::BadRequest("name is required".into()))?;
    let key = state
        .db
        .read(move |c| user_keys::get(c, &user.id, &name))
        .await?;
    Ok(Json(json!({
        "expiresAt": key.map(|k| k.expires_at.unwrap_or_else(|| "never".into())),
    })))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[schema(as = UserKey)]
struct SetBody {
    name: String,
    value: Value,
    #[serde(rename = "expiresAt")]
    expires_at: Option<Value>,
}

#[utoipa::path(put, path = "/api/keys", operation_id = "keys_set", request_body = SetBody, summary = "Store a provider key (encrypted)", tag = "keys", responses((status = 200, description = "Success")))]
async fn set(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<SetBody>,
) -> Result<StatusCode, ApiError> {
    let endpoint = state
        .settings
        .endpoints
        .get(&body.name)
        .filter(|e| e.key == Key::UserProvided || e.user_base_url)
        .ok_or_else(|| {
            ApiError::BadRequest(format!("{:?} does not take a user-provided key", body.name))
        })?;
    // A string, or LibreChat's JSON form ({apiKey, baseURL}) kept as its text.
    let value = match body.value {
        Value::String(s) => s,
        v @ Value::Object(_) => v.to_string(),
        _ => return Err(ApiError::BadRequest("value must be a string".into())),
    };
    if value.trim().is_empty() || value.len() > 16 * 1024 {
        return Err(ApiError::BadRequest(
            "value must be a key of at most 16 KB".into(),
        ));
    }
    let expires_at = match body.expires_at {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "never" => None,
        Some(Value::String(s)) => Some(
            time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
                .ok()
                .and_then(|t| t.checked_to_offset(time::UtcOffset::UTC))
                .filter(|t| (1970..=9998).contains(&t.year()))
                .map(crate::db::to_rfc3339)
                .ok_or_else(|| ApiError::BadRequest("expiresAt must be a date and time".into()))?,
        ),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "expiresAt must be a date and time".into(),
            ));
        }
    };
    let encrypted = state.cipher.encrypt(&value);
    let name = endpoint.name.clone();
    state
        .db
        .write(move |c| user_keys::set(c, &user.id, &name, &encrypted, expires_at.as_deref()))
        .await?;
    Ok(StatusCode::CREATED)
}

#[utoipa::path(delete, path = "/api/keys/{name}", operation_id = "keys_delete_one", summary = "Delete one stored provider key", tag = "keys", params(("name" = String, Path)), responses((status = 200, description = "Success")))]
async fn delete_one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .db
        .write(move |c| user_keys::delete(c, &user.id, Some(&name)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/keys", operation_id = "keys_delete_all", summary = "Delete every stored provider key", tag = "keys", responses((status = 200, description = "Success")))]
async fn delete_all(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(q): Query<NameQuery>,
) -> Result<StatusCode, ApiError> {
    if q.all.as_deref() != Some("true") {
        return Err(ApiError::BadRequest(
            "use DELETE /api/keys/:name, or ?all=true".into(),
        ));
    }
    state
        .db
        .write(move |c| user_keys::delete(c, &user.id, None))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
