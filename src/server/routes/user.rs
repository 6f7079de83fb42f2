//! `/api/user`: the signed-in user, terms of service, account deletion.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::db::users::{self, User};
use crate::server::middleware::AuthUser;
use crate::server::middleware::auth::clear_refresh_cookie;
use crate::server::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/user", get(current))
        .route("/api/user/terms", get(terms))
        .route("/api/user/terms/accept", post(accept_terms))
        .route("/api/user/delete", delete(delete_account))
}

/// LibreChat's `TUser`: never a password hash, TOTP secret or backup code.
pub fn public_user(u: &User) -> Value {
    json!({
        "_id": u.id,
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "name": u.name,
        "avatar": u.avatar,
        "role": u.role,
        "provider": u.provider,
        "plugins": u.plugins,
        "emailVerified": u.email_verified,
        "twoFactorEnabled": u.two_factor_enabled,
        "termsAccepted": u.terms_accepted,
        "personalization": u.personalization,
        "favorites": u.favorites,
        "createdAt": u.created_at,
        "updatedAt": u.updated_at,
    })
}

async fn current(AuthUser(user): AuthUser) -> Json<Value> {
    Json(public_user(&user))
}

async fn terms(AuthUser(user): AuthUser) -> Json<Value> {
    Json(json!({ "termsAccepted": user.terms_accepted }))
}

async fn accept_terms(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Value>, ApiError> {
    state
        .db
        .write(move |c| users::set_terms_accepted(c, &user.id, true))
        .await?;
    Ok(Json(json!({ "message": "Terms accepted successfully." })))
}

async fn delete_account(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Response, ApiError> {
    if !state.settings.auth.allow_account_deletion {
        return Err(ApiError::Forbidden(
            "Account deletion is not allowed.".into(),
        ));
    }
    state.accounts.delete_account(&user.id).await?;
    Ok((
        [(SET_COOKIE, clear_refresh_cookie())],
        Json(json!({ "message": "User deleted" })),
    )
        .into_response())
}
