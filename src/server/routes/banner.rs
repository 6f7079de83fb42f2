//! The site banner: `GET /api/banner` (public banners need no account), and for admins
//! `PUT /api/admin/banner` `{message, displayFrom?, displayTo?, type?, isPublic?,
//! persistable?}` and `DELETE /api/admin/banner` (also `librechat banner`).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::banner::{self, Banner, BannerInput};
use crate::server::middleware::{AdminUser, MaybeUser};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(current))
        .routes(routes!(set, remove, stored))
}

fn banner_json(b: &Banner) -> Value {
    json!({
        "bannerId": b.banner_id,
        "message": b.message,
        "displayFrom": b.display_from,
        "displayTo": b.display_to,
        "type": b.kind,
        "isPublic": b.is_public,
        "persistable": b.persistable,
    })
}

/// The banner showing now, or `null` (also when it is for signed-in users only and the caller
/// is not signed in).
#[utoipa::path(get, path = "/api/banner", operation_id = "banner_current", tag = "banner", responses((status = 200, description = "Success")))]
async fn current(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
) -> Result<Json<Value>, ApiError> {
    let b = state.db.read(banner::active).await?;
    Ok(Json(match b {
        Some(b) if b.is_public || user.is_some() => banner_json(&b),
        _ => Value::Null,
    }))
}

/// The stored banner, showing or not, for the admin screen.
#[utoipa::path(get, path = "/api/admin/banner", operation_id = "banner_stored", tag = "banner", responses((status = 200, description = "Success")))]
async fn stored(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> Result<Json<Value>, ApiError> {
    let b = state.db.read(banner::get).await?;
    Ok(Json(b.as_ref().map_or(Value::Null, banner_json)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = Banner)]
#[serde(deny_unknown_fields)]
struct SetBody {
    message: String,
    #[serde(rename = "displayFrom")]
    display_from: Option<String>,
    #[serde(rename = "displayTo")]
    display_to: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "isPublic")]
    is_public: Option<bool>,
    persistable: Option<bool>,
}

#[utoipa::path(put, path = "/api/admin/banner", operation_id = "banner_set", request_body = SetBody, summary = "Set the site banner (admin)", tag = "banner", responses((status = 200, description = "Success")))]
async fn set(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    JsonBody(body): JsonBody<SetBody>,
) -> Result<Json<Value>, ApiError> {
    let b = BannerInput {
        message: body.message,
        display_from: body.display_from,
        display_to: body.display_to,
        kind: body.kind,
        is_public: body.is_public.unwrap_or(false),
        persistable: body.persistable.unwrap_or(false),
    }
    .validate()
    .map_err(ApiError::BadRequest)?;
    let saved = b.clone();
    state.db.write(move |c| banner::set(c, &saved)).await?;
    Ok(Json(banner_json(&b)))
}

#[utoipa::path(delete, path = "/api/admin/banner", operation_id = "banner_remove", summary = "Remove the site banner (admin)", tag = "banner", responses((status = 200, description = "Success")))]
async fn remove(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> Result<Json<Value>, ApiError> {
    let removed = state.db.write(|c| banner::delete(c)).await?;
    Ok(Json(json!({ "deleted": removed })))
}
