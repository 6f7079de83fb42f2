//! `/api/admin/*`, for the ADMIN role only: the users list with search, bans, roles and
//! balances, as the web app's admin screen uses them. (LibreChat does these with its CLI
//! scripts; `librechat user ...` and `librechat balance ...` do the same here.)

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::{bans, users};
use crate::server::middleware::AdminUser;
use crate::server::{ApiError, AppState, JsonBody};

const PAGE: u32 = 50;
/// The longest ban, in minutes (ten years: the end must be a date the database can hold).
const MAX_BAN_MINUTES: u64 = 10 * 366 * 24 * 60;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(ban, unban))
        .routes(routes!(role))
        .routes(routes!(balance))
}

#[derive(Deserialize)]
struct ListQuery {
    search: Option<String>,
    page: Option<u32>,
}

#[utoipa::path(get, path = "/api/admin/users", operation_id = "admin_list", summary = "List users, with search (admin)", tag = "admin", responses((status = 200, description = "Success")))]
async fn list(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let search = q.search.unwrap_or_default();
    if search.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "search is longer than 200 characters".into(),
        ));
    }
    let page = q.page.unwrap_or(0).min(100_000);
    let rows = state
        .db
        .read(move |c| {
            let found = users::search(c, search.trim(), PAGE + 1, page * PAGE)?;
            let mut out = Vec::with_capacity(found.len());
            for u in found {
                let ban = bans::find_live(c, &format!("user:{}", u.id))?;
                let credits = crate::db::balances::get(c, &u.id)?.map(|b| b.token_credits);
                out.push((u, ban, credits));
            }
            Ok(out)
        })
        .await?;
    let more = rows.len() > PAGE as usize;
    let users: Vec<Value> = rows
        .iter()
        .take(PAGE as usize)
        .map(|(u, ban, credits)| {
            json!({
                "id": u.id,
                "email": u.email,
                "name": u.name,
                "username": u.username,
                "role": u.role,
                "provider": u.provider,
                "emailVerified": u.email_verified,
                "twoFactorEnabled": u.two_factor_enabled,
                "createdAt": u.created_at,
                "bannedUntil": ban.as_ref().map(|b| b.expires_at.clone()),
                "tokenCredits": credits,
            })
        })
        .collect();
    Ok(Json(
        json!({ "users": users, "page": page, "hasMore": more }),
    ))
}

async fn target(state: &AppState, id: String) -> Result<users::User, ApiError> {
    state
        .db
        .read(move |c| users::find_by_id(c, &id))
        .await?
        .ok_or_else(|| ApiError::NotFound("User not found".into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BanBody {
    minutes: u64,
}

/// Bans the user for `minutes` and ends their sessions.
#[utoipa::path(post, path = "/api/admin/users/{id}/ban", operation_id = "admin_ban", request_body = BanBody, tag = "admin", params(("id" = String, Path)), responses((status = 200, description = "Success")))]
async fn ban(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<BanBody>,
) -> Result<Json<Value>, ApiError> {
    if !(1..=MAX_BAN_MINUTES).contains(&body.minutes) {
        return Err(ApiError::BadRequest(format!(
            "minutes must be between 1 and {MAX_BAN_MINUTES}"
        )));
    }
    let user = target(&state, id).await?;
    if user.id == admin.id {
        return Err(ApiError::BadRequest("You cannot ban yourself.".into()));
    }
    state
        .guard
        .ban(
            "manual",
            0,
            Some(&user.id),
            None,
            std::time::Duration::from_secs(body.minutes * 60),
        )
        .await?;
    Ok(Json(
        json!({ "message": format!("{} is banned.", user.email) }),
    ))
}

#[utoipa::path(delete, path = "/api/admin/users/{id}/ban", operation_id = "admin_unban", summary = "Lift a user's ban (admin)", tag = "admin", params(("id" = String, Path)), responses((status = 200, description = "Success")))]
async fn unban(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = target(&state, id).await?;
    let subject = format!("user:{}", user.id);
    let s = subject.clone();
    let lifted = state.db.write(move |c| bans::delete(c, &s)).await?;
    state.guard.forget(&subject).await.map_err(|e| {
        tracing::error!(error = %e, subject = %subject, "unban: Redis still holds the ban");
        ApiError::Unavailable(
            "The ban is lifted in the database, but the shared cache (Redis) cannot be reached \
             and still holds it. Try again when Redis is back."
                .into(),
        )
    })?;
    Ok(Json(json!({ "unbanned": lifted })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: String,
}

#[utoipa::path(put, path = "/api/admin/users/{id}/role", operation_id = "admin_role", request_body = RoleBody, summary = "Change a user's role (admin)", tag = "admin", params(("id" = String, Path)), responses((status = 200, description = "Success")))]
async fn role(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RoleBody>,
) -> Result<Json<Value>, ApiError> {
    if !state.roles.exists(&body.role) {
        return Err(ApiError::BadRequest(format!(
            "there is no role {:?}",
            body.role
        )));
    }
    let user = target(&state, id).await?;
    if user.id == admin.id && body.role != crate::auth::permissions::ADMIN {
        return Err(ApiError::BadRequest(
            "You cannot take the admin role from yourself.".into(),
        ));
    }
    let (uid, r) = (user.id.clone(), body.role.clone());
    state
        .db
        .write(move |c| users::set_role(c, &uid, &r))
        .await?;
    Ok(Json(json!({ "id": user.id, "role": body.role })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BalanceBody {
    add: Option<i64>,
    set: Option<i64>,
}

/// `{add: n}` or `{set: n}` token credits.
#[utoipa::path(post, path = "/api/admin/users/{id}/balance", operation_id = "admin_balance", request_body = BalanceBody, tag = "admin", params(("id" = String, Path)), responses((status = 200, description = "Success")))]
async fn balance(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<BalanceBody>,
) -> Result<Json<Value>, ApiError> {
    const LIMIT: i64 = 1_000_000_000_000;
    let (amount, set) = match (body.add, body.set) {
        (Some(a), None) => (a, false),
        (None, Some(s)) => (s, true),
        _ => return Err(ApiError::BadRequest("send either add or set".into())),
    };
    if !(-LIMIT..=LIMIT).contains(&amount) {
        return Err(ApiError::BadRequest(format!(
            "the amount must be between -{LIMIT} and {LIMIT}"
        )));
    }
    let user = target(&state, id).await?;
    let credits = state.billing.adjust(&user.id, amount, set).await?;
    Ok(Json(json!({ "id": user.id, "tokenCredits": credits })))
}
