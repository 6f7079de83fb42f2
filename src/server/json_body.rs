//! `JsonBody<T>`: a JSON request body whose rejections are [`ApiError`]s, read as LibreChat's
//! `express.json()` reads one.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::ApiError;

/// A JSON request body read as a `T`, whose rejections are [`ApiError`]s with the same JSON
/// error shape as every other refusal.
///
/// A request with no body at all reads as `{}`, so the route's own validation answers (a 400
/// naming what is missing) rather than a 415: LibreChat's client sends some requests without a
/// body (`POST /api/auth/2fa/disable` when its 2FA dialog closes), and `express.json()` leaves
/// such a body empty. A body that is there must still be sent as JSON (`Content-Type:
/// application/json` or `application/*+json`, else 415), and so must an empty one that names a
/// content type: a cross-site form can send `text/plain` or urlencoded data without a
/// preflight, JSON it cannot. An empty body carries nothing an attacker could choose.
///
/// Malformed JSON is a 400 "malformed JSON: ..."; JSON that is not a `T` a 400 "invalid request
/// body: ...", with serde's reason and the line and column it failed at. The body is read
/// with `serde_json` directly: axum's `Json` tracks the failing field's path through
/// `serde_path_to_error`, a second copy of every body type's deserializer in the binary.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = json_bytes(req, state).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| match e.classify() {
                Category::Data => ApiError::BadRequest(format!("invalid request body: {e}")),
                Category::Syntax | Category::Eof | Category::Io => {
                    ApiError::BadRequest(format!("malformed JSON: {e}"))
                }
            })
    }
}

/// The body's bytes, read with the route's body limit (it travels in the request's
/// extensions), after the content type is checked; `{}` for an empty body without one.
/// Not generic over the body's type, so the binary holds it once.
async fn json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let json = is_json(req.headers());
    let typed = req.headers().contains_key(CONTENT_TYPE);
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge("request body is too large".into())
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })?;
    if !json && (typed || !bytes.is_empty()) {
        return Err(ApiError::UnsupportedMediaType(
            "expected a JSON body (Content-Type: application/json)".into(),
        ));
    }
    Ok(if bytes.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        bytes
    })
}

/// Whether the request says its body is JSON: `application/json` or `application/*+json`,
/// with any parameters (as axum's `Json` decides).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(mime) = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
    else {
        return false;
    };
    mime.type_() == "application"
        && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
}
