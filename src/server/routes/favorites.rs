//! `/api/user/settings/favorites`: the models, agents and model specs a person pinned in the
//! model picker, kept with the account as LibreChat keeps them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::users;
use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState, JsonBody};

/// LibreChat's limits: favorites per person, and characters per field.
const MAX_FAVORITES: usize = 50;
const MAX_LENGTH: usize = 256;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, replace))
}

/// One favorite: an agent, a model of an endpoint, or a model spec.
#[derive(Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Favorite {
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spec: Option<String>,
}

#[utoipa::path(get, path = "/api/user/settings/favorites", operation_id = "favorites_list", summary = "The caller's favorite models, agents and specs", tag = "user", responses((status = 200, description = "Success")))]
async fn list(AuthUser(user): AuthUser) -> Json<Value> {
    // As LibreChat does, anything but a list reads as none.
    match user.favorites {
        Value::Array(items) => Json(Value::Array(items)),
        _ => Json(json!([])),
    }
}

#[utoipa::path(post, path = "/api/user/settings/favorites", operation_id = "favorites_replace", request_body(content = Object, description = "`{favorites: [{agentId} | {model, endpoint} | {spec}]}`, at most 50"), summary = "Replace the caller's favorites", tag = "user", responses((status = 200, description = "The favorites stored"), (status = 400, description = "A favorite is not valid")))]
async fn replace(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let items = match body.get("favorites") {
        None | Some(Value::Null | Value::Bool(false)) => {
            return Err(ApiError::BadRequest("Favorites data is required".into()));
        }
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::BadRequest("Favorites must be an array".into())),
    };
    if items.len() > MAX_FAVORITES {
        // LibreChat's client reads the code and the limit to say what went wrong.
        return Err(ApiError::Shaped {
            status: StatusCode::BAD_REQUEST,
            body: json!({
                "code": "MAX_FAVORITES_EXCEEDED",
                "message": format!("Maximum {MAX_FAVORITES} favorites allowed"),
                "limit": MAX_FAVORITES,
            }),
        });
    }
    let favorites = items
        .iter()
        .map(favorite)
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::BadRequest)?;
    let stored = serde_json::to_value(&favorites).map_err(ApiError::internal)?;
    let value = stored.clone();
    state
        .db
        .write(move |c| users::set_favorites(c, &user.id, &value))
        .await?;
    Ok(Json(stored))
}

/// Checks one favorite as LibreChat does: exactly one kind, each field a string of at most
/// 256 characters. The error is LibreChat's message.
fn favorite(item: &Value) -> Result<Favorite, String> {
    let Value::Object(fields) = item else {
        return Err(NO_KIND.into());
    };
    let field = |name: &str| -> Result<Option<String>, String> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() > MAX_LENGTH => {
                Err(format!("{name} exceeds maximum length of {MAX_LENGTH}"))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) if name == "spec" => Err("spec must be a non-empty string".into()),
            Some(_) => Err(format!("{name} must be a string")),
        }
    };
    let f = Favorite {
        agent_id: field("agentId")?,
        model: field("model")?,
        endpoint: field("endpoint")?,
        spec: field("spec")?,
    };
    if f.spec.as_deref() == Some("") {
        return Err("spec must be a non-empty string".into());
    }
    let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    let (agent, spec) = (given(&f.agent_id), given(&f.spec));
    let model = given(&f.model) && given(&f.endpoint);
    let partial_model = !model && (given(&f.model) || given(&f.endpoint));
    if partial_model && !agent && !spec {
        return Err("model and endpoint must be provided together".into());
    }
    match [agent, model, spec].iter().filter(|k| **k).count() {
        0 => return Err(NO_KIND.into()),
        1 => {}
        _ => {
            return Err(
                "Favorite cannot have multiple types (agentId, model/endpoint, or spec)".into(),
            );
        }
    }
    if spec && (given(&f.agent_id) || given(&f.model) || given(&f.endpoint)) {
        return Err("spec cannot be combined with agentId, model, or endpoint".into());
    }
    if agent && (given(&f.model) || given(&f.endpoint)) {
        return Err("agentId cannot be combined with model or endpoint".into());
    }
    Ok(f)
}

const NO_KIND: &str = "Each favorite must have either agentId, model+endpoint, or spec";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_favorite_is_one_kind() {
        assert!(favorite(&json!({"model": "gpt-4o", "endpoint": "openAI"})).is_ok());
        assert!(favorite(&json!({"agentId": "agent_1"})).is_ok());
        assert!(favorite(&json!({"spec": "fast"})).is_ok());
        assert_eq!(
            favorite(&json!({"model": "gpt-4o"})).unwrap_err(),
            "model and endpoint must be provided together"
        );
        assert_eq!(favorite(&json!({})).unwrap_err(), NO_KIND);
        assert_eq!(favorite(&json!("x")).unwrap_err(), NO_KIND);
        assert!(
            favorite(&json!({"agentId": "a", "spec": "b"}))
                .unwrap_err()
                .starts_with("Favorite cannot have multiple types")
        );
        assert_eq!(
            favorite(&json!({"spec": ""})).unwrap_err(),
            "spec must be a non-empty string"
        );
        assert_eq!(
            favorite(&json!({"agentId": "a".repeat(257)})).unwrap_err(),
            "agentId exceeds maximum length of 256"
        );
    }
}
