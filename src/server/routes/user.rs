//! `/api/user`: the signed-in user, terms of service, account deletion.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::db::users::{self, User};
use crate::server::middleware::auth::{clear_refresh_cookie, limit};
use crate::server::middleware::{AuthUser, Client};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/user", get(current))
        .route("/api/user/terms", get(terms))
        .route("/api/user/terms/accept", post(accept_terms))
        .route("/api/user/delete", delete(delete_account))
        .route("/api/user/verify", post(verify_email))
        .route("/api/user/verify/resend", post(resend_verification))
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

#[derive(serde::Deserialize)]
struct VerifyBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    token: String,
}

async fn verify_email(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody<VerifyBody>,
) -> Result<Json<Value>, ApiError> {
    let spec = &state.settings.limits.verify_email_submission;
    limit(
        &state,
        spec,
        "verify_email_submit",
        None,
        &client,
        "Too many verification attempts, please try again later.",
    )
    .await?;
    state.email.verify(&body.email, &body.token).await?;
    Ok(Json(
        json!({ "message": "Email verification was successful" }),
    ))
}

async fn resend_verification(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody<VerifyBody>,
) -> Result<Json<Value>, ApiError> {
    let spec = &state.settings.limits.verify_email;
    limit(
        &state,
        spec,
        "verify_email",
        None,
        &client,
        "Too many verification emails requested, please try again later.",
    )
    .await?;
    state.email.resend_verification(&body.email)?;
    Ok(Json(
        json!({ "message": "If that address waits for verification, a new link has been sent." }),
    ))
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
