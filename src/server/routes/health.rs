//! `GET /health`: answers `OK` while the server runs, for load balancers and systemd checks.

use axum::Router;
use axum::routing::get;

use crate::server::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(|| async { "OK" }))
}
