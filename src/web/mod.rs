//! The web app: the one in `assets/`, embedded in the binary, or a LibreChat client build
//! read from `CLIENT_DIR`; both with client-side routing.
//!
//! Every GET that no API route answers is either an asset or a page of the app, which gets
//! `index.html` so the app's own router can show it. `index.html` is never cached (a new release
//! must reach users at once); other assets are revalidated with their ETag, or cached for
//! `STATIC_CACHE_MAX_AGE` seconds when that is set.

mod bundled;
mod folder;
pub mod sandbox;

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

pub use folder::ClientFolder;

/// How assets are served; from the settings.
#[derive(Clone, Debug)]
pub struct WebOptions {
    /// `<base href>` for the page: `/`, or the path of `DOMAIN_CLIENT` when it has one.
    pub base_href: String,
    pub index_cache_control: String,
    pub static_max_age: Option<u64>,
    /// LibreChat's own client from `CLIENT_DIR`, served instead of the bundled app.
    pub client: Option<Arc<ClientFolder>>,
    /// The bundled app's artifact sandbox page.
    pub sandbox: Arc<sandbox::Sandbox>,
}

impl WebOptions {
    /// The path part of `DOMAIN_CLIENT`, always starting and ending with `/`.
    pub fn base_href_from(domain_client: Option<&str>) -> String {
        let path = domain_client
            .and_then(|d| url::Url::parse(d).ok())
            .map(|u| u.path().trim_matches('/').to_owned())
            .unwrap_or_default();
        if path.is_empty() {
            "/".into()
        } else {
            format!("/{path}/")
        }
    }

    /// How long a browser may keep an asset without asking again.
    fn asset_cache_control(&self) -> Cow<'static, str> {
        match self.static_max_age {
            Some(secs) => Cow::Owned(format!("public, max-age={secs}")),
            None => Cow::Borrowed("no-cache"),
        }
    }
}

/// Serves an asset, or `index.html` for any other page path. `None` when the request is not one
/// for the web app (not GET/HEAD), so the caller answers with its own 404.
pub async fn respond(
    opts: &WebOptions,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let path = uri.path().trim_start_matches('/');
    Some(match &opts.client {
        Some(folder) => folder.respond(opts, path, headers).await,
        None => bundled::respond(opts, path, headers),
    })
}

/// Whether a path that matched no file names a file (its last segment has an extension): a
/// broken link answers 404, not the page, so a script tag never receives HTML.
fn looks_like_a_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// The page, with the headers that keep browsers from caching it.
fn page(html: String, cache_control: &str) -> Response {
    let mut resp = Response::new(Body::from(html));
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(cache_control) {
        h.insert(CACHE_CONTROL, v);
    }
    h.insert("pragma", HeaderValue::from_static("no-cache"));
    h.insert("expires", HeaderValue::from_static("0"));
    resp
}

/// An asset, or 304 when the browser's copy (`If-None-Match`) is this one.
fn asset(
    data: impl Into<Body>,
    mime: &'static str,
    tag: &str,
    cache: &str,
    headers: &HeaderMap,
) -> Response {
    if matches_etag(headers, tag) {
        let mut resp = StatusCode::NOT_MODIFIED.into_response();
        set_validators(resp.headers_mut(), tag, cache);
        return resp;
    }
    let mut resp = Response::new(data.into());
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(mime));
    set_validators(h, tag, cache);
    resp
}

fn set_validators(h: &mut HeaderMap, tag: &str, cache: &str) {
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(cache) {
        h.insert(CACHE_CONTROL, v);
    }
}

/// A strong ETag from the first 96 bits of a SHA-256 of the content.
fn etag(hash: &[u8; 32]) -> String {
    let hex: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn matches_etag(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == tag || t == "*")
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "wasm" => "application/wasm",
        "mp3" => "audio/mpeg",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_href_comes_from_the_client_domain_path() {
        assert_eq!(WebOptions::base_href_from(None), "/");
        assert_eq!(WebOptions::base_href_from(Some("https://x.org")), "/");
        assert_eq!(
            WebOptions::base_href_from(Some("https://x.org/chat/")),
            "/chat/"
        );
        assert_eq!(
            WebOptions::base_href_from(Some("https://x.org/a/b")),
            "/a/b/"
        );
    }

    #[test]
    fn an_etag_matches_itself_weak_or_in_a_list() {
        let mut h = HeaderMap::new();
        h.insert(IF_NONE_MATCH, HeaderValue::from_static("\"a\", W/\"b\""));
        assert!(matches_etag(&h, "\"b\""));
        assert!(!matches_etag(&h, "\"c\""));
    }
}
