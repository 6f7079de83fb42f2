//! Every route and the layer stack, in one place.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::middleware::{client, limits, security};
use super::{ApiError, AppState, routes};
use crate::web::{self, WebOptions};

/// Every route, in the three groups the layers treat differently, and the OpenAPI document
/// their registrations make.
struct Routes {
    /// Answer promptly: bounded by the request timeout and the body limit.
    bounded: Router<AppState>,
    /// Uploads: their own size limits, no request timeout.
    imports: Router<AppState>,
    /// Answers stream for as long as they take.
    streaming: Router<AppState>,
    doc: utoipa::openapi::OpenApi,
}

fn routes() -> Routes {
    use utoipa::openapi::{InfoBuilder, OpenApiBuilder};
    use utoipa_axum::router::OpenApiRouter;
    let base = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("librechat")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "LibreChat's HTTP API as this server implements it. Authenticated routes take \
                     `Authorization: Bearer <token>` (from /api/auth/login or /api/auth/refresh).",
                ))
                .build(),
        )
        .build();
    let (bounded, mut doc) = OpenApiRouter::with_openapi(base)
        .merge(routes::health::router())
        .merge(routes::openapi::router())
        .merge(routes::config::router())
        .merge(routes::auth::router())
        .merge(routes::two_factor::router())
        .merge(routes::user::router())
        .merge(routes::favorites::router())
        .merge(routes::tool_favorites::router())
        .merge(routes::absent::router())
        .merge(routes::mcp::router())
        .merge(routes::mcp_servers::router())
        .merge(routes::mcp_oauth::router())
        .merge(routes::tool_calls::router())
        .merge(routes::tools::router())
        .merge(routes::permissions::router())
        .merge(routes::prompts::router())
        .merge(routes::agents::router())
        .merge(routes::actions::router())
        .merge(routes::action_oauth::router())
        .merge(routes::agent_avatar::router())
        .merge(routes::agent_files::router())
        .merge(routes::admin_groups::router())
        .merge(routes::files::router())
        .merge(routes::roles::router())
        .merge(routes::admin::router())
        .merge(routes::banner::router())
        .merge(routes::oauth::router())
        .merge(routes::convos::router())
        .merge(routes::forks::router())
        .merge(routes::messages::router())
        .merge(routes::presets::router())
        .merge(routes::tags::router())
        .merge(routes::projects::router())
        .merge(routes::shares::router())
        .merge(routes::search::router())
        .merge(routes::endpoints::router())
        .merge(routes::keys::router())
        .merge(routes::balance::router())
        .merge(routes::memories::router())
        .merge(routes::render::router())
        .merge(routes::chat::router())
        .split_for_parts();
    let (imports, more) = routes::imports::router()
        .merge(routes::files::transfer_router())
        .merge(routes::file_download::router())
        .merge(routes::avatar::router())
        .merge(routes::agent_avatar::upload_router())
        .split_for_parts();
    doc.merge(more);
    let (streaming, more) = routes::chat::streaming_router().split_for_parts();
    doc.merge(more);
    Routes {
        bounded,
        imports,
        streaming,
        doc,
    }
}

/// The OpenAPI 3.1 document of every route (`GET /api/openapi.json`, `librechat openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().doc
}

/// Builds the application: API routes, the web app, and the layers around them.
pub fn build(state: AppState) -> Router {
    let server = &state.settings.server;
    let web = WebOptions {
        base_href: WebOptions::base_href_from(server.domain_client.as_deref()),
        index_cache_control: server.index_cache_control.clone(),
        static_max_age: server.static_cache_max_age,
        client: server.client_dir.as_deref().map(|dir| {
            let images = security::image_sources(&state.settings).join(" ");
            let frames = security::frame_sources(&state.settings).join(" ");
            std::sync::Arc::new(web::ClientFolder::new(dir, &images, &frames))
        }),
        sandbox: std::sync::Arc::new(web::sandbox::Sandbox::new(
            state.settings.branding.artifact_libraries_url.as_deref(),
        )),
    };

    let Routes {
        bounded,
        imports,
        streaming,
        doc: _,
    } = routes();
    // Routes that answer promptly: bounded by the request timeout.
    let bounded = bounded
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(
            Duration::from_millis(server.request_timeout_ms),
            limits::timeout,
        ));
    // Streaming routes (the chat engine's SSE) are merged here, outside the timeout.

    let mut app = bounded
        .layer(DefaultBodyLimit::max(server.body_limit))
        .layer(from_fn_with_state(server.body_limit, limits::body_size))
        // Uploads: their own size limits, and no request timeout.
        .merge(imports)
        // Answers stream for as long as they take.
        .merge(streaming)
        .layer(axum::Extension(web));
    if server.compression {
        // Skips event streams, images and tiny bodies by default.
        app = app.layer(CompressionLayer::new());
    }
    if let Some(cors) = cors(&server.cors_origins) {
        app = app.layer(cors);
    }
    if let Some(metrics) = state.metrics.clone() {
        app = app.layer(from_fn_with_state(metrics, super::metrics::count_request));
    }
    let trust = server.trust_proxy;
    let warned = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let request_id = HeaderName::from_static("x-request-id");
    app.layer(from_fn_with_state(
        security::Headers::new(&state.settings),
        security::headers,
    ))
    .layer(PropagateRequestIdLayer::new(request_id.clone()))
    .layer(
        TraceLayer::new_for_http()
            .make_span_with(move |req: &Request| {
                let peer = req
                    .extensions()
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| c.0.ip());
                client::warn_untrusted_forwarding(req.headers(), peer, trust, &warned);
                let ip = client::client_ip(peer, req.headers(), trust);
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // The path only: query strings can carry tokens.
                tracing::info_span!(
                    "request",
                    id,
                    method = %req.method(),
                    path = req.uri().path(),
                    client = ip.map(|i| i.to_string()).unwrap_or_default(),
                    user = tracing::field::Empty,
                )
            })
            .on_request(())
            .on_response(DefaultOnResponse::new().level(Level::INFO)),
    )
    .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
    .layer(CatchPanicLayer::custom(panic_response))
    .with_state(state)
}

/// A panic in a handler is a bug; the client still gets the usual JSON error, and the server
/// keeps serving.
fn panic_response(_: Box<dyn std::any::Any + Send>) -> Response {
    ApiError::internal(anyhow::anyhow!("a request handler panicked")).into_response()
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path())).into_response()
}

/// Unknown `/api/...` paths get a JSON 404; every other GET gets the web app.
async fn fallback(axum::Extension(web): axum::Extension<WebOptions>, req: Request) -> Response {
    let (method, uri, headers) = (
        req.method().clone(),
        req.uri().clone(),
        req.headers().clone(),
    );
    let path = uri.path();
    let is_api = path == "/api" || path.starts_with("/api/");
    if !is_api && let Some(resp) = web::respond(&web, &method, &uri, &headers).await {
        return resp;
    }
    let method_note = if method == Method::HEAD {
        Method::GET
    } else {
        method
    };
    ApiError::NotFound(format!("no route for {method_note} {path}")).into_response()
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                axum::http::header::AUTHORIZATION,
                axum::http::header::CONTENT_TYPE,
            ]),
    )
}
