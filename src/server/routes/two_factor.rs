//! `/api/auth/2fa/*`: enrolling, checking and turning off two-factor authentication, and the
//! second step of a login (`verify-temp`).

use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::signed_in;
use crate::auth::two_factor::Proof;
use crate::db::users;
use crate::server::middleware::auth::{check_ban, limit};
use crate::server::middleware::{AuthUser, Client};
use crate::server::{ApiError, AppState, JsonBody};

pub fn router() -> Router<AppState> {
    Router::new()
        // Older LibreChat clients use GET, newer ones POST.
        .route("/api/auth/2fa/enable", get(enable).post(enable))
        .route("/api/auth/2fa/verify", post(verify))
        .route("/api/auth/2fa/confirm", post(confirm))
        .route("/api/auth/2fa/disable", post(disable))
        .route("/api/auth/2fa/backup/regenerate", post(regenerate))
        .route("/api/auth/2fa/verify-temp", post(verify_temp))
}

#[derive(Debug, Default, Deserialize)]
struct CodeBody {
    token: Option<String>,
    #[serde(rename = "backupCode")]
    backup_code: Option<String>,
    #[serde(rename = "tempToken")]
    temp_token: Option<String>,
}

impl CodeBody {
    fn proof(&self) -> Result<Proof, ApiError> {
        Ok(Proof::from_body(
            self.token.as_deref(),
            self.backup_code.as_deref(),
        )?)
    }
}

/// Guessing six digits must be slow: every code check counts against the login limiter.
async fn limit_codes(
    state: &AppState,
    user_id: Option<&str>,
    client: &Client,
) -> Result<(), ApiError> {
    let spec = &state.settings.limits.login;
    limit(
        state,
        spec,
        "2fa",
        user_id,
        client,
        "Too many 2FA attempts, please try again later.",
    )
    .await
}

async fn enable(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Value>, ApiError> {
    let e = state.two_factor.enable(&user).await?;
    Ok(Json(
        json!({ "otpauthUrl": e.otpauth_url, "backupCodes": e.backup_codes }),
    ))
}

async fn verify(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    limit_codes(&state, Some(&user.id), &client).await?;
    state.two_factor.verify(&user, &body.proof()?).await?;
    Ok(Json(json!({ "message": "The code is valid." })))
}

async fn confirm(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    limit_codes(&state, Some(&user.id), &client).await?;
    let code = body.token.as_deref().unwrap_or("");
    state.two_factor.confirm(&user, code).await?;
    Ok(Json(
        json!({ "message": "Two-factor authentication is now enabled." }),
    ))
}

async fn disable(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    limit_codes(&state, Some(&user.id), &client).await?;
    state.two_factor.disable(&user, &body.proof()?).await?;
    Ok(Json(
        json!({ "message": "Two-factor authentication is disabled." }),
    ))
}

async fn regenerate(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Json<Value>, ApiError> {
    limit_codes(&state, Some(&user.id), &client).await?;
    let codes = state.two_factor.regenerate(&user, &body.proof()?).await?;
    Ok(Json(json!({ "backupCodes": codes })))
}

/// The second step of a login: the temp token from `/api/auth/login` plus a code.
async fn verify_temp(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<Response, ApiError> {
    check_ban(&state, None, &client).await?;
    let temp = body.temp_token.as_deref().unwrap_or("");
    let claims = state
        .accounts
        .tokens
        .verify_temp(temp)
        .ok_or_else(|| ApiError::Unauthorized("Invalid or expired temporary token.".into()))?;
    limit_codes(&state, Some(&claims.user_id), &client).await?;
    check_ban(&state, Some(&claims.user_id), &client).await?;
    let id = claims.user_id.clone();
    let user = state
        .db
        .read(move |c| users::find_by_id(c, &id))
        .await?
        .filter(|u| u.two_factor_enabled)
        .ok_or_else(|| ApiError::Unauthorized("Invalid or expired temporary token.".into()))?;
    state.two_factor.verify(&user, &body.proof()?).await?;
    let signed = state.accounts.start_session(user).await?;
    Ok(signed_in(&state, &client, &signed))
}
