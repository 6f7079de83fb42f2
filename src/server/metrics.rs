//! The metrics listener (`METRICS_ADDR`): `GET /metrics` for Prometheus, on its own address so
//! it can stay on a private interface while the app faces the world; and the middleware that
//! counts every request of the app by route pattern, method and status.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use crate::metrics::{Metrics, Snapshot};

/// Counts the request once answered (a streamed answer: once its headers are sent).
pub async fn count_request(
    State(metrics): State<Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    // The route's pattern, never the path: the number of series stays bounded.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let method = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(req).await;
    metrics.request(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The listener's router: `/metrics` and nothing else.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    let Some(metrics) = state.metrics.clone() else {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    };
    let search_pending = state
        .db
        .read(|c| {
            c.query_row("SELECT count(*) FROM search_outbox", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .await
        .unwrap_or(-1);
    let now = Snapshot {
        active_streams: i64::try_from(state.jobs.running_count()).unwrap_or(i64::MAX),
        search_pending,
        sqlite_busy_waits: crate::db::busy_waits(),
        resident_bytes: crate::metrics::resident_bytes(),
    };
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(now),
    )
        .into_response()
}
