//! `GET /health`: answers `OK` while the server runs, for load balancers and systemd checks.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Answers `OK` while the server runs.
#[utoipa::path(get, path = "/health", operation_id = "health_health", tag = "health", responses((status = 200, description = "Success")))]
async fn health() -> &'static str {
    "OK"
}
