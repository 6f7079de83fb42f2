//! `GET /api/balance`: the user's token credits and auto-refill settings, when balances are on.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/balance", get(balance))
}

async fn balance(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Value>, ApiError> {
    let b = state
        .billing
        .balance(&user.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Balances are not enabled on this server".into()))?;
    Ok(Json(serde_json::to_value(b).map_err(ApiError::internal)?))
}
