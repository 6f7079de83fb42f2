//! `/api/roles`: read a role's permissions; administrators change them.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::permissions::{ADMIN, EDITABLE, RoleError};
use crate::server::middleware::{AdminUser, AuthUser};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_role))
        .routes(routes!(update_role))
}

/// A user may read their own role; administrators may read any.
#[utoipa::path(get, path = "/api/roles/{role}", operation_id = "roles_get_role", tag = "roles", params(("role" = String, Path)), responses((status = 200, description = "Success")))]
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

#[utoipa::path(put, path = "/api/roles/{role}/{kind}", operation_id = "roles_update_role", request_body(content = Object, description = "Permission names and their new values, e.g. `{\"USE\": true, \"CREATE\": false}`"), summary = "Change a role's permissions (admin)", tag = "roles", params(("role" = String, Path), ("kind" = String, Path)), responses((status = 200, description = "Success")))]
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
