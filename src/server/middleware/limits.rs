//! Bounds on what one request may cost: body size and time.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::ApiError;

/// Refuses a declared body over the limit before reading it. Bodies without a length (chunked)
/// are cut at the same limit by axum's `DefaultBodyLimit` when a handler reads them.
pub async fn body_size(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::PayloadTooLarge(format!(
            "request body is larger than the limit of {limit} bytes"
        ))
        .into_response();
    }
    next.run(req).await
}

/// Stops a request that has not produced its response within the bound. Streaming routes are
/// mounted outside this layer: their response starts at once and then streams for as long as
/// the answer takes.
pub async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            ApiError::Timeout.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn slow_requests_get_a_json_503() {
        let with_bound =
            |ms| axum::middleware::from_fn_with_state(Duration::from_millis(ms), timeout);
        let slow_app = Router::new()
            .route("/slow", get(std::future::pending::<&'static str>))
            .layer(with_bound(50));
        // A bound no healthy machine reaches, so this part cannot fail on a loaded one.
        let fast_app = Router::new()
            .route("/fast", get(|| async { "ok" }))
            .layer(with_bound(600_000));
        let slow = slow_app
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(slow.status(), 503);
        let body = axum::body::to_bytes(slow.into_body(), 1024).await.unwrap();
        assert!(
            std::str::from_utf8(&body)
                .unwrap()
                .contains("took too long")
        );
        let fast = fast_app
            .oneshot(Request::get("/fast").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(fast.status(), 200);
    }
}
