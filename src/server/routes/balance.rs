//! `GET /api/balance`: the user's token credits and auto-refill settings, when balances are on.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::middleware::AuthUser;
use crate::server::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(balance))
}

#[utoipa::path(get, path = "/api/balance", operation_id = "balance_balance", summary = "The caller's token credits", tag = "balance", responses((status = 200, description = "Success"), (status = 204, description = "Balances are off")))]
async fn balance(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Response, ApiError> {
    match state.billing.balance(&user.id).await? {
        Some(b) => Ok(Json(crate::chat::present::balance(&b)).into_response()),
        // LibreChat answers 204 with no body when balances are off.
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}
