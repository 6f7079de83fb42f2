//! The bundled web app in `assets/`, embedded in the binary.

use axum::http::HeaderMap;
use axum::response::Response;
use rust_embed::RustEmbed;

use super::WebOptions;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub(super) fn respond(opts: &WebOptions, path: &str, headers: &HeaderMap) -> Response {
    if path == super::sandbox::PATH {
        return opts.sandbox.page();
    }
    if !path.is_empty() && path != "index.html" {
        if let Some(file) = Assets::get(path) {
            let tag = super::etag(&file.metadata.sha256_hash());
            let cache = opts.asset_cache_control();
            return super::asset(file.data, super::content_type(path), &tag, &cache, headers);
        }
        if super::looks_like_a_file(path) {
            return super::not_found();
        }
    }
    index(opts)
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
    super::page(html, &opts.index_cache_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_the_base_tag_that_is_rewritten() {
        let file = Assets::get("index.html").unwrap();
        assert!(String::from_utf8_lossy(&file.data).contains(r#"<base href="/">"#));
    }
}
