//! `/api/user`: the signed-in user, terms of service, password change, account deletion.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::sensitive::{Confirmation, Rule};
use crate::db::users::{self, User};
use crate::server::middleware::auth::{clear_refresh_cookie, limit};
use crate::server::middleware::proof::Sensitive;
use crate::server::middleware::{AuthSession, AuthUser, Client, RecentProof};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(current))
        .routes(routes!(terms))
        .routes(routes!(accept_terms))
        .routes(routes!(delete_account))
        .routes(routes!(change_password))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
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
        "termsAcceptedAt": u.terms_accepted_at,
        "personalization": u.personalization,
        "favorites": u.favorites,
        "createdAt": u.created_at,
        "updatedAt": u.updated_at,
    })
}

#[utoipa::path(get, path = "/api/user", operation_id = "user_current", summary = "The signed-in user", tag = "user", responses((status = 200, description = "Success")))]
async fn current(AuthUser(user): AuthUser) -> Json<Value> {
    Json(public_user(&user))
}

#[utoipa::path(get, path = "/api/user/terms", operation_id = "user_terms", summary = "The terms of service and whether they were accepted", tag = "user", responses((status = 200, description = "Success")))]
async fn terms(AuthUser(user): AuthUser) -> Json<Value> {
    Json(json!({
        "termsAccepted": user.terms_accepted,
        "termsAcceptedAt": user.terms_accepted_at,
    }))
}

#[utoipa::path(post, path = "/api/user/terms/accept", operation_id = "user_accept_terms", summary = "Accept the terms of service", tag = "user", responses((status = 200, description = "Success")))]
async fn accept_terms(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Value>, ApiError> {
    let at = state
        .db
        .write(move |c| users::accept_terms(c, &user.id))
        .await?;
    Ok(Json(json!({
        "message": "Terms accepted successfully",
        "termsAcceptedAt": at,
    })))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
struct VerifyBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    token: String,
}

#[utoipa::path(post, path = "/api/user/verify", operation_id = "user_verify_email", request_body = VerifyBody, summary = "Verify an email address with its token", tag = "user", responses((status = 200, description = "Success")))]
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

#[utoipa::path(post, path = "/api/user/verify/resend", operation_id = "user_resend_verification", request_body = VerifyBody, summary = "Send the verification email again", tag = "user", responses((status = 200, description = "Success")))]
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

/// Deleting the account needs recent proof ([`crate::auth::sensitive`]): with 2FA on a code
/// (as in LibreChat), else the password or a sign-in within `REAUTH_WINDOW`.
#[utoipa::path(delete, path = "/api/user/delete", operation_id = "user_delete_account", request_body = Confirmation, summary = "Delete the caller's account and data", tag = "user", responses((status = 200, description = "Success")))]
async fn delete_account(
    State(state): State<AppState>,
    RecentProof { session, .. }: RecentProof<Deletion>,
) -> Result<Response, ApiError> {
    let uploads = state.accounts.delete_account(&session.user.id).await?;
    crate::files::sweep::remove_all(&state.files, &uploads).await;
    Ok((
        [(SET_COOKIE, clear_refresh_cookie())],
        Json(json!({ "message": "User deleted" })),
    )
        .into_response())
}

/// The proof that deletes an account, where `ALLOW_ACCOUNT_DELETION` lets it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
struct Deletion(Confirmation);

impl Sensitive for Deletion {
    fn confirmation(&self) -> Confirmation {
        self.0.clone()
    }

    fn validate(&self, state: &AppState, _: &User) -> Result<(), ApiError> {
        if !state.settings.auth.allow_account_deletion {
            return Err(ApiError::Forbidden(
                "Account deletion is not allowed.".into(),
            ));
        }
        Ok(())
    }
}

/// A new password, and the proof: the current password, and with 2FA on a code too.
#[derive(Default, serde::Deserialize, utoipa::ToSchema)]
struct PasswordChange {
    #[serde(default, rename = "currentPassword")]
    current_password: String,
    /// The new password.
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm_password: String,
    /// With 2FA on: a code from the authenticator app, or `backupCode`.
    #[serde(default)]
    token: Option<String>,
    #[serde(default, rename = "backupCode")]
    backup_code: Option<String>,
}

impl Sensitive for PasswordChange {
    const RULE: Rule = Rule::PasswordAndCode;

    fn confirmation(&self) -> Confirmation {
        Confirmation {
            password: Some(self.current_password.clone()),
            token: self.token.clone(),
            backup_code: self.backup_code.clone(),
        }
    }

    fn validate(&self, state: &AppState, user: &User) -> Result<(), ApiError> {
        Ok(state
            .accounts
            .check_new_password(user, &self.password, &self.confirm_password)?)
    }
}

/// Ours (LibreChat has no such route): a new password for a local account, given the current
/// one (and a code with 2FA on). Every other session ends, with its access tokens; this one
/// stays signed in.
#[utoipa::path(post, path = "/api/user/password", operation_id = "user_change_password", request_body = PasswordChange, summary = "Change the password; other sessions are signed out", tag = "user", responses((status = 200, description = "Success")))]
async fn change_password(
    State(state): State<AppState>,
    RecentProof { session, body }: RecentProof<PasswordChange>,
) -> Result<Json<Value>, ApiError> {
    let AuthSession { user, session_id } = session;
    let ended = state
        .accounts
        .set_password(&user, session_id.as_deref(), &body.password)
        .await?;
    Ok(Json(json!({
        "message": "Password changed.",
        "sessionsEnded": ended,
    })))
}
