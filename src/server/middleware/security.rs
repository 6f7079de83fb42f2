//! Headers that every response carries.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The bundled app loads only its own scripts and styles (no inline code, no eval); images may
/// come from https (avatars from identity providers) and data/blob URLs (previews); nothing may
/// frame the app.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: blob: https:; font-src 'self' data:; \
    connect-src 'self'; media-src 'self' data: blob:; worker-src 'self' blob:; \
    object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Whether to add `X-Robots-Tag: noindex` (`NO_INDEX`).
#[derive(Clone, Copy)]
pub struct NoIndex(pub bool);

pub async fn headers(State(no_index): State<NoIndex>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let mut set = |name: &'static str, value: &'static str| {
        h.entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    };
    set("content-security-policy", CONTENT_SECURITY_POLICY);
    set("x-content-type-options", "nosniff");
    set("referrer-policy", "same-origin");
    set("x-frame-options", "DENY");
    set("cross-origin-opener-policy", "same-origin");
    if no_index.0 {
        set("x-robots-tag", "noindex, nofollow");
    }
    resp
}
