//! `/api/roles`: read a role's permissions; administrators change them.

use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::{Map, Value};

use crate::auth::permissions::{ADMIN, EDITABLE, RoleError};
use crate::server::middleware::{AdminUser, AuthUser};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/roles/{role}", get(get_role))
        .route("/api/roles/{role}/{kind}", put(update_role))
}

/// A user may read their own role; administrators may read any.
async fn get_role(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(role): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if role != user.role && user.role != ADMIN {
        return Err(ApiError::Forbidden(
            "You may only read your own role.".into(),
        ));
    }
    state
        .roles
        .get(&role)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no role {role}")))
}

async fn update_role(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Path((role, kind)): Path<(String, String)>,
    JsonBody(changes): JsonBody<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let (_, permission_type) = EDITABLE
        .iter()
        .find(|(segment, _)| *segment == kind)
        .ok_or_else(|| ApiError::NotFound(format!("no permission type {kind}")))?;
    match state.roles.update(&role, permission_type, changes).await {
        Ok(updated) => Ok(Json(updated)),
        Err(RoleError::UnknownRole) => Err(ApiError::NotFound(format!("no role {role}"))),
        Err(RoleError::Db(e)) => Err(e.into()),
        Err(other) => Err(ApiError::BadRequest(other.to_string())),
    }
}
