//! The bundled web app in `assets/`, embedded in the binary: gzipped at build time (see
//! `build.rs`), sent as it is to browsers that accept gzip (`Content-Encoding: gzip`, which
//! the server's own compression leaves alone) and inflated for clients that do not. The two
//! forms have their own strong ETags and the answers say they vary by `Accept-Encoding`.

use std::io::Read;

use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::WebOptions;

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The page, kept as written: it is rewritten per deployment.
const INDEX: &str = include_str!("../../assets/index.html");

pub(super) fn respond(opts: &WebOptions, path: &str, headers: &HeaderMap) -> Response {
    if path == super::sandbox::PATH {
        return opts.sandbox.page();
    }
    if !path.is_empty() && path != "index.html" {
        if let Ok(i) = ASSETS.binary_search_by(|(p, ..)| (*p).cmp(path)) {
            return asset(opts, ASSETS[i], headers);
        }
        if super::looks_like_a_file(path) {
            return super::not_found();
        }
    }
    index(opts)
}

fn asset(
    opts: &WebOptions,
    (path, gz, tag, gz_tag): (&str, &'static [u8], &str, &str),
    headers: &HeaderMap,
) -> Response {
    let cache = opts.asset_cache_control();
    let mime = super::content_type(path);
    let mut resp = if accepts_gzip(headers) {
        let mut resp = super::asset(gz, mime, gz_tag, &cache, headers);
        if resp.status() == StatusCode::OK {
            let gzip = HeaderValue::from_static("gzip");
            resp.headers_mut().insert(CONTENT_ENCODING, gzip);
        }
        resp
    } else {
        let mut plain = Vec::new();
        if flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut plain)
            .is_err()
        {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        super::asset(plain, mime, tag, &cache, headers)
    };
    let vary = HeaderValue::from_static("accept-encoding");
    resp.headers_mut().insert(VARY, vary);
    resp
}

/// Whether `Accept-Encoding` lists gzip (or `*`) with a weight above zero.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let codings = headers.get_all(ACCEPT_ENCODING).iter();
    let codings = codings
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    codings.into_iter().any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let zero = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        ["gzip", "x-gzip", "*"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
            && !zero
    })
}

fn index(opts: &WebOptions) -> Response {
    // The page is written with `<base href="/">`; a sub-path deployment needs its own.
    let html = INDEX.replacen(
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
        assert!(INDEX.contains(r#"<base href="/">"#));
    }

    #[test]
    fn the_assets_are_sorted_gzipped_and_tagged_by_their_plain_bytes() {
        assert!(ASSETS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(ASSETS.iter().all(|a| a.0 != "index.html"));
        let (_, gz, tag, gz_tag) =
            ASSETS[ASSETS.binary_search_by(|a| a.0.cmp("js/app.js")).unwrap()];
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut plain)
            .unwrap();
        let on_disk = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/js/app.js"));
        assert_eq!(plain, on_disk.unwrap());
        use sha2::Digest;
        let hash: [u8; 32] = sha2::Sha256::digest(&plain).into();
        assert_eq!(tag, super::super::etag(&hash));
        assert_eq!(gz_tag, format!("{}-gz\"", tag.trim_end_matches('"')));
    }

    #[test]
    fn gzip_is_accepted_unless_weighed_zero() {
        for (accept, gzip) in [
            ("gzip", true),
            ("deflate, GZIP;q=0.5", true),
            ("br;q=1, *", true),
            ("gzip;q=0", false),
            ("gzip; q=0.0, br", false),
            ("identity", false),
            ("", false),
        ] {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
            assert_eq!(accepts_gzip(&h), gzip, "{accept}");
        }
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
