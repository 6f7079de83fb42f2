//! `/api/search/enable`: whether full-text search is available. LibreChat's client asks at
//! start and hides its search box on `false`, which is the honest answer until the search
//! index lands.

use axum::routing::get;
use axum::{Json, Router};

use crate::server::AppState;
use crate::server::middleware::AuthUser;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/search/enable", get(enabled))
}

async fn enabled(AuthUser(_): AuthUser) -> Json<bool> {
    Json(false)
}
