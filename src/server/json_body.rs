//! `JsonBody<T>`: a JSON request body whose rejections are [`ApiError`]s, read as LibreChat's
//! `express.json()` reads one.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use super::ApiError;

/// `Json<T>` whose rejections are [`ApiError`]s, so a bad body gets the same JSON error shape.
///
/// A request with no body at all reads as `{}`, so the route's own validation answers (a 400
/// naming what is missing) rather than a 415: LibreChat's client sends some requests without a
/// body (`POST /api/auth/2fa/disable` when its 2FA dialog closes), and `express.json()` leaves
/// such a body empty. A body that is there must still be sent as JSON (`Content-Type:
/// application/json`, else 415): a cross-site form can send `text/plain` or urlencoded data
/// without a preflight, JSON it cannot. An empty body carries nothing an attacker could choose.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        // Read with the route's body limit (it travels in the request's extensions).
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge("request body is too large".into())
                } else {
                    ApiError::BadRequest(e.body_text())
                }
            })?;
        let bytes = if bytes.is_empty() {
            // With a content type, axum still judges it: an empty `text/plain` body is a 415.
            if !parts.headers.contains_key(CONTENT_TYPE) {
                parts
                    .headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Bytes::from_static(b"{}")
        } else {
            bytes
        };
        let axum::Json(value) =
            axum::Json::<T>::from_request(Request::from_parts(parts, Body::from(bytes)), state)
                .await?;
        Ok(JsonBody(value))
    }
}
