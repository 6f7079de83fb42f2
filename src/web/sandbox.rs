//! The page the bundled app shows artifacts in: `artifact-sandbox.html`, framed by the app
//! with `sandbox="allow-scripts"` and given the artifact by `postMessage`; it puts it in an
//! `<iframe sandbox="allow-scripts" srcdoc>` of its own.
//!
//! Why a page of its own: a `srcdoc` frame inherits the Content-Security-Policy of the page
//! that made it, and the app's allows no inline script (`script-src 'self'`), so an artifact
//! framed by the app itself could not run its scripts; allowing them in the app's policy would
//! weaken it for the app. This page has its own policy, for artifacts only: inline scripts
//! (and eval, which some libraries need), scripts, styles and fonts from cdnjs (the one place
//! the instructions allow), images and media from data and blob URLs only, no network requests
//! (`connect-src 'none'`), no forms, and `sandbox allow-scripts`, so it has an opaque origin
//! even when opened on its own: no cookies, no storage, no reading the app's page or its API.
//! The artifact in the inner frame inherits all of that.

use axum::body::Body;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::Response;

/// Where the bundled app finds the page (relative to its base).
pub const PATH: &str = "artifact-sandbox.html";

/// The page's policy (see the module's comment).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; \
    script-src 'unsafe-inline' 'unsafe-eval' https://cdnjs.cloudflare.com; \
    style-src 'unsafe-inline' https://cdnjs.cloudflare.com; font-src data: https://cdnjs.cloudflare.com; \
    img-src data: blob:; media-src data: blob:; connect-src 'none'; form-action 'none'; \
    base-uri 'none'; frame-ancestors 'self'; sandbox allow-scripts";

/// Takes the artifact's HTML from the page that framed it (only from there) into the inner
/// frame. A later message replaces it.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Artifact</title>
<style>html, body, iframe { margin: 0; border: 0; width: 100%; height: 100%; display: block; background: #fff; }</style>
</head>
<body>
<iframe sandbox="allow-scripts" title="Artifact"></iframe>
<script>
addEventListener('message', function (e) {
  if (e.source !== parent || !e.data || typeof e.data.html !== 'string') return;
  document.querySelector('iframe').srcdoc = e.data.html;
});
</script>
</body>
</html>
"#;

/// The page, with its own policy (the server's default headers leave it in place) and framable
/// by the app alone.
pub fn page() -> Response {
    let mut resp = Response::new(Body::from(PAGE));
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert("x-frame-options", HeaderValue::from_static("SAMEORIGIN"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}
