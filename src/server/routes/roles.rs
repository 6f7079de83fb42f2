//! `/api/roles`: read a role's permissions; administrators change them, there and at
//! `/api/admin/roles` (LibreChat's admin API, the only way to change the types that have no
//! `/api/roles` route: bookmarks, temporary chats, shared links, ...).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::permissions::{self, ADMIN, EDITABLE, RoleError, USER};
use crate::server::middleware::{AdminUser, AuthUser};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_role))
        .routes(routes!(update_role))
        .routes(routes!(admin_list_roles))
        .routes(routes!(admin_get_role))
        .routes(routes!(admin_update_permissions))
}

/// Anyone signed in reads their own role and USER (LibreChat's default roles but ADMIN);
/// administrators read any. Features this server does not have read as off.
#[utoipa::path(get, path = "/api/roles/{role}", operation_id = "roles_get_role", tag = "roles", params(("role" = String, Path)), responses((status = 200, description = "`{name, description, permissions}`"), (status = 403, description = "Another role, for someone not an administrator"), (status = 404, description = "No such role")))]
async fn get_role(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(role): Path<String>,
) -> Result<Json<Value>, ApiError> {
    // LibreChat: reading ADMIN or a role other than one's own needs READ_ROLES, which only
    // ADMIN has.
    let open_to_all = role == user.role || role == USER;
    if !open_to_all && user.role != ADMIN {
        return Err(ApiError::Forbidden("Unauthorized".into()));
    }
    state
        .roles
        .get(&role)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("Role not found".into()))
}

/// LibreChat's per-type permission routes: `prompts`, `agents`, `memories`, `people-picker`,
/// `mcp-servers`, `marketplace`, `remote-agents`, `skills`. Permissions the type does not have
/// are ignored. The change is stored even for a feature this server does not have yet; the
/// answer (and every check) keeps such a feature off until it exists.
#[utoipa::path(put, path = "/api/roles/{role}/{kind}", operation_id = "roles_update_role", request_body(content = Object, description = "Permission names and their new values, e.g. `{\"USE\": true, \"CREATE\": false}`"), summary = "Change a role's permissions (admin)", tag = "roles", params(("role" = String, Path), ("kind" = String, Path)), responses((status = 200, description = "The role, as GET answers it"), (status = 400, description = "`{message, error}`: a value is not a boolean"), (status = 403, description = "Not an administrator"), (status = 404, description = "No such role or permission type")))]
async fn update_role(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Path((role, kind)): Path<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let (_, permission_type, invalid) = EDITABLE
        .iter()
        .find(|(segment, ..)| *segment == kind)
        .ok_or_else(|| ApiError::NotFound(format!("no permission type {kind}")))?;
    // LibreChat validates the body before it looks the role up.
    let changes = permissions::changes_of_type(permission_type, &body).map_err(|issues| {
        ApiError::Shaped {
            status: StatusCode::BAD_REQUEST,
            body: json!({ "message": invalid, "error": issues }),
        }
    })?;
    match state.roles.update(&role, changes).await {
        Ok(updated) => Ok(Json(updated)),
        Err(RoleError::UnknownRole) => Err(ApiError::NotFound("Role not found".into())),
        Err(RoleError::Db(e)) => Err(e.into()),
    }
}

/// LibreChat's admin API answers its refusals as `{error}`.
fn admin_error(status: StatusCode, error: &str) -> ApiError {
    ApiError::Shaped {
        status,
        body: json!({ "error": error }),
    }
}

#[derive(serde::Deserialize)]
struct Page {
    limit: Option<String>,
    offset: Option<String>,
}

/// LibreChat's admin list of roles (`{roles: [{name, description}], total, limit, offset}`),
/// which its client's permission menus read (the Memories and Prompts panels).
#[utoipa::path(get, path = "/api/admin/roles", operation_id = "roles_admin_list", summary = "The roles (admin)", tag = "roles", params(("limit" = Option<u32>, Query, description = "1 to 200, default 50"), ("offset" = Option<u32>, Query)), responses((status = 200, description = "`{roles, total, limit, offset}`"), (status = 403, description = "Not an administrator")))]
async fn admin_list_roles(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    axum::extract::Query(page): axum::extract::Query<Page>,
) -> Json<Value> {
    // LibreChat's `parsePagination`: what does not read as a number takes the default.
    let number = |v: Option<String>| v.and_then(|s| s.trim().parse::<i64>().ok());
    let limit = number(page.limit).unwrap_or(50).clamp(1, 200) as usize;
    let offset = number(page.offset).unwrap_or(0).max(0) as usize;
    let names = state.roles.names();
    let roles: Vec<Value> = names
        .iter()
        .skip(offset)
        .take(limit)
        .map(|name| json!({ "name": name, "description": "" }))
        .collect();
    Json(json!({ "roles": roles, "total": names.len(), "limit": limit, "offset": offset }))
}

#[utoipa::path(get, path = "/api/admin/roles/{role}", operation_id = "roles_admin_get_role", summary = "A role (admin)", tag = "roles", params(("role" = String, Path)), responses((status = 200, description = "`{role}`"), (status = 404, description = "`{error}`: no such role")))]
async fn admin_get_role(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Path(role): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.roles.get(&role) {
        Some(role) => Ok(Json(json!({ "role": role }))),
        None => Err(admin_error(StatusCode::NOT_FOUND, "Role not found")),
    }
}

/// Changes permissions of any types at once: `{"permissions": {"BOOKMARKS": {"USE": false}}}`.
/// Types and permissions LibreChat does not have are ignored, as there.
#[utoipa::path(patch, path = "/api/admin/roles/{role}/permissions", operation_id = "roles_admin_update_permissions", request_body(content = Object, description = "`{\"permissions\": {TYPE: {PERMISSION: bool}}}`"), summary = "Change a role's permissions (admin)", tag = "roles", params(("role" = String, Path)), responses((status = 200, description = "`{role}`"), (status = 400, description = "`{error}`: no permissions object, or a value that is not a boolean"), (status = 403, description = "Not an administrator"), (status = 404, description = "`{error}`: no such role")))]
async fn admin_update_permissions(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Path(role): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let Some(Value::Object(asked)) = body.get("permissions") else {
        return Err(admin_error(
            StatusCode::BAD_REQUEST,
            "permissions object is required",
        ));
    };
    let changes = permissions::changes_of_all(asked)
        .map_err(|why| admin_error(StatusCode::BAD_REQUEST, &why))?;
    match state.roles.update(&role, changes).await {
        Ok(updated) => Ok(Json(json!({ "role": updated }))),
        Err(RoleError::UnknownRole) => Err(admin_error(StatusCode::NOT_FOUND, "Role not found")),
        Err(RoleError::Db(e)) => Err(e.into()),
    }
}
