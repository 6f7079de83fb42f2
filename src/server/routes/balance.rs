//! `GET /api/balance`: the user's token credits and auto-refill settings, when balances are on.

use axum::Json;
use axum::extract::State;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(balance))
}

#[utoipa::path(get, path = "/api/balance", operation_id = "balance_balance", summary = "The caller's token credits", tag = "balance", responses((status = 200, description = "Success")))]
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
