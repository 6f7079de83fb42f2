//! `GET /api/admin/groups`: the groups and their members, for the admin screen (read only;
//! `librechat group ...` changes them).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::groups;
use crate::server::middleware::AdminUser;
use crate::server::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Every group, by name, with its members' emails.
#[utoipa::path(get, path = "/api/admin/groups", operation_id = "admin_groups", summary = "The groups and their members (admin)", tag = "admin", responses((status = 200, description = "`{groups: [{id, name, description, source, memberCount, members}]}`"), (status = 403, description = "Not an administrator")))]
async fn list(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> Result<Json<Value>, ApiError> {
    let all = state
        .db
        .read(|c| {
            let mut out = Vec::new();
            for g in groups::list(c)? {
                let members = groups::member_emails(c, &g.id)?;
                out.push(json!({
                    "id": g.id, "name": g.name, "description": g.description,
                    "source": g.source, "memberCount": g.member_count, "members": members,
                }));
            }
            Ok(out)
        })
        .await?;
    Ok(Json(json!({ "groups": all })))
}
