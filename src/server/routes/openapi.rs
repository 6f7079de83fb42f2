//! `GET /api/openapi.json`: the OpenAPI 3.1 document of this API, made from the route
//! registrations themselves (every route is registered with `routes!`, which documents it).

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(document))
}

/// The OpenAPI document of this server's API.
#[utoipa::path(get, path = "/api/openapi.json", operation_id = "openapi_document", tag = "meta", responses((status = 200, description = "The OpenAPI 3.1 document")))]
async fn document() -> impl IntoResponse {
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| {
        crate::server::router::openapi()
            .to_json()
            .unwrap_or_else(|_| "{}".into())
    });
    ([(header::CONTENT_TYPE, "application/json")], json.as_str())
}
