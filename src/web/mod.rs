//! The web app in `assets/`, embedded in the binary, with client-side routing.
//!
//! Every GET that no API route answers is either an asset or a page of the app, which gets
//! `index.html` so the app's own router can show it. `index.html` is never cached (a new release
//! must reach users at once); other assets are revalidated with their ETag, or cached for
//! `STATIC_CACHE_MAX_AGE` seconds when that is set.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// How assets are served; from the settings.
#[derive(Clone, Debug)]
pub struct WebOptions {
    /// `<base href>` for the page: `/`, or the path of `DOMAIN_CLIENT` when it has one.
    pub base_href: String,
    pub index_cache_control: String,
    pub static_max_age: Option<u64>,
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
}

/// Serves an asset, or `index.html` for any other page path. `None` when the request is not one
/// for the web app (not GET/HEAD), so the caller answers with its own 404.
pub fn respond(
    opts: &WebOptions,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let path = uri.path().trim_start_matches('/');
    if !path.is_empty() && path != "index.html" {
        if let Some(file) = Assets::get(path) {
            let tag = etag(&file.metadata.sha256_hash());
            let cache = match opts.static_max_age {
                Some(secs) => Cow::Owned(format!("public, max-age={secs}")),
                None => Cow::Borrowed("no-cache"),
            };
            if matches_etag(headers, &tag) {
                return Some(not_modified(&tag, &cache));
            }
            return Some(asset(file.data, content_type(path), &tag, &cache));
        }
        // A missing file with an extension is a broken link, not a page of the app.
        if path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
        {
            return Some((StatusCode::NOT_FOUND, "not found").into_response());
        }
    }
    Some(index(opts))
}

fn index(opts: &WebOptions) -> Response {
    let file = Assets::get("index.html").expect("assets/index.html is embedded");
    let html = String::from_utf8_lossy(&file.data);
    // The page is written with `<base href="/">`; a sub-path deployment needs its own.
    let html = html.replacen(
        r#"<base href="/">"#,
        &format!(r#"<base href="{}">"#, opts.base_href),
        1,
    );
    let mut resp = Response::new(Body::from(html));
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&opts.index_cache_control) {
        h.insert(CACHE_CONTROL, v);
    }
    h.insert("pragma", HeaderValue::from_static("no-cache"));
    h.insert("expires", HeaderValue::from_static("0"));
    resp
}

fn asset(data: Cow<'static, [u8]>, mime: &'static str, tag: &str, cache: &str) -> Response {
    let mut resp = Response::new(Body::from(data));
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(mime));
    set_validators(h, tag, cache);
    resp
}

fn not_modified(tag: &str, cache: &str) -> Response {
    let mut resp = StatusCode::NOT_MODIFIED.into_response();
    set_validators(resp.headers_mut(), tag, cache);
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
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
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
    fn the_page_has_the_base_tag_that_is_rewritten() {
        let file = Assets::get("index.html").unwrap();
        assert!(String::from_utf8_lossy(&file.data).contains(r#"<base href="/">"#));
    }
}
