//! LibreChat's own web client, built, served from a folder (`CLIENT_DIR`).
//!
//! Only files under the folder are served: a request path is made of plain file-name segments
//! (no `..`, no hidden files, no escapes), and the file it names, once every symlink is
//! resolved, must still lie inside the folder. Files are read when asked for, so a rebuilt
//! client is served at once; their ETags are hashes of the content, kept per file while its
//! size, time and inode stay the same, so a revalidation (`If-None-Match`) reads nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::http::header::{CONTENT_SECURITY_POLICY, X_FRAME_OPTIONS};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::WebOptions;
use crate::cookies;

/// A LibreChat client build on disk.
#[derive(Debug)]
pub struct ClientFolder {
    /// The folder, every symlink resolved.
    root: PathBuf,
    /// The page's `img-src` sources.
    image_sources: String,
    /// What its `frame-src` allows beyond Sandpack's own bundlers (a self-hosted one).
    frame_sources: String,
    /// ETags by file, valid while the file's stamp is unchanged.
    tags: Mutex<HashMap<PathBuf, (Stamp, String)>>,
    /// `index.html` prepared for serving, valid while its stamp is unchanged.
    index: Mutex<Option<(Stamp, Arc<IndexPage>)>>,
}

/// What tells one version of a file from the next without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode: std::os::unix::fs::MetadataExt::ino(meta),
        }
    }
}

/// `index.html` with its `<base href>` set, and the Content-Security-Policy that lets its own
/// inline scripts run and nothing else inline.
#[derive(Debug)]
struct IndexPage {
    html: String,
    csp: HeaderValue,
}

impl ClientFolder {
    /// The client build in `dir` (the settings checked that it holds an `index.html`), whose
    /// page may show images from `image_sources` (CSP sources: the server's own list, so that
    /// images in answers load only from where the bundled app's would) and frame
    /// `frame_sources` besides Sandpack's bundlers (the admin's own bundler).
    pub fn new(dir: &Path, image_sources: &str, frame_sources: &str) -> Self {
        Self {
            root: std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
            image_sources: image_sources.to_owned(),
            frame_sources: frame_sources.to_owned(),
            tags: Mutex::default(),
            index: Mutex::default(),
        }
    }

    pub(super) async fn respond(
        &self,
        opts: &WebOptions,
        path: &str,
        headers: &HeaderMap,
    ) -> Response {
        if !path.is_empty() && path != "index.html" {
            if let Some(file) = self.resolve(path).await {
                return self.file(opts, path, file, headers).await;
            }
            if super::looks_like_a_file(path) {
                return super::not_found();
            }
        }
        self.index(opts, headers).await
    }

    /// The file a request path names, when it is one inside the folder.
    async fn resolve(&self, path: &str) -> Option<PathBuf> {
        let plain = |s: &str| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-~@+".contains(&b))
        };
        if !path.split('/').all(plain) {
            return None;
        }
        // A symlink may point anywhere: what counts is where it ends.
        let real = tokio::fs::canonicalize(self.root.join(path)).await.ok()?;
        if !real.starts_with(&self.root) {
            return None;
        }
        let meta = tokio::fs::metadata(&real).await.ok()?;
        meta.is_file().then_some(real)
    }

    async fn file(
        &self,
        opts: &WebOptions,
        path: &str,
        file: PathBuf,
        headers: &HeaderMap,
    ) -> Response {
        let name = path.rsplit('/').next().unwrap_or(path);
        // As LibreChat does: the service worker and the manifest decide which release a
        // browser runs, so they are always checked again, whatever STATIC_CACHE_MAX_AGE says.
        let cache = if matches!(name, "sw.js" | "sw-heal.js" | "manifest.json")
            || name.ends_with(".webmanifest")
        {
            "no-cache".into()
        } else {
            opts.asset_cache_control()
        };
        let mime = super::content_type(path);
        // A revalidation with a known, unchanged file reads nothing.
        if let Ok(meta) = tokio::fs::metadata(&file).await {
            let stamp = Stamp::of(&meta);
            let known = self.known_tag(&file, stamp);
            if let Some(tag) = known.filter(|t| super::matches_etag(headers, t)) {
                return framable(super::asset(Vec::new(), mime, &tag, &cache, headers));
            }
        }
        match self.read(file).await {
            Some((data, tag)) => framable(super::asset(data, mime, &tag, &cache, headers)),
            None => super::not_found(),
        }
    }

    fn known_tag(&self, file: &Path, stamp: Stamp) -> Option<String> {
        let tags = self.tags.lock().unwrap_or_else(|e| e.into_inner());
        tags.get(file)
            .filter(|(s, _)| *s == stamp)
            .map(|(_, t)| t.clone())
    }

    /// The file's content and ETag, hashed again only when the file changed. Off the async
    /// threads: the largest files of a client build are a few MB.
    async fn read(&self, file: PathBuf) -> Option<(Vec<u8>, String)> {
        let (data, stamp) = tokio::task::spawn_blocking({
            let file = file.clone();
            move || -> std::io::Result<(Vec<u8>, Stamp)> {
                use std::io::Read;
                let mut f = std::fs::File::open(&file)?;
                // The stamp of what is read, not of what the path names a moment later.
                let stamp = Stamp::of(&f.metadata()?);
                let mut data = Vec::with_capacity(stamp.len as usize);
                f.read_to_end(&mut data)?;
                Ok((data, stamp))
            }
        })
        .await
        .ok()?
        .ok()?;
        if let Some(tag) = self.known_tag(&file, stamp) {
            return Some((data, tag));
        }
        let (data, tag) = tokio::task::spawn_blocking(move || {
            let tag = super::etag(&Sha256::digest(&data).into());
            (data, tag)
        })
        .await
        .ok()?;
        let mut tags = self.tags.lock().unwrap_or_else(|e| e.into_inner());
        tags.insert(file, (stamp, tag.clone()));
        Some((data, tag))
    }

    async fn index(&self, opts: &WebOptions, headers: &HeaderMap) -> Response {
        let Some(page) = self.index_page(&opts.base_href).await else {
            tracing::error!(folder = %self.root.display(), "CLIENT_DIR has no readable index.html");
            return (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "the web client cannot be read (CLIENT_DIR)",
            )
                .into_response();
        };
        // As LibreChat does: the page's language is the one the person chose (the `lang`
        // cookie), else the browser's first.
        let html = match language(headers) {
            Some(lang) => page
                .html
                .replace(r#"lang="en-US""#, &format!(r#"lang="{lang}""#)),
            None => page.html.clone(),
        };
        let mut resp = super::page(html, &opts.index_cache_control);
        resp.headers_mut()
            .insert(CONTENT_SECURITY_POLICY, page.csp.clone());
        resp
    }

    async fn index_page(&self, base_href: &str) -> Option<Arc<IndexPage>> {
        let path = self.root.join("index.html");
        let stamp = Stamp::of(&tokio::fs::metadata(&path).await.ok()?);
        {
            let index = self.index.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, page)) = index.as_ref().filter(|(s, _)| *s == stamp) {
                return Some(page.clone());
            }
        }
        let html = tokio::fs::read_to_string(&path).await.ok()?;
        let page = Arc::new(IndexPage::new(
            &html,
            base_href,
            &self.image_sources,
            &self.frame_sources,
        ));
        *self.index.lock().unwrap_or_else(|e| e.into_inner()) = Some((stamp, page.clone()));
        Some(page)
    }
}

impl IndexPage {
    fn new(html: &str, base_href: &str, image_sources: &str, frame_sources: &str) -> Self {
        // LibreChat's build writes `<base href="/" />`; a sub-path deployment needs its own.
        let html = html.replacen(
            r#"base href="/""#,
            &format!(r#"base href="{base_href}""#),
            1,
        );
        let csp = HeaderValue::from_str(&content_security_policy(
            &html,
            image_sources,
            frame_sources,
        ))
        .expect("a CSP made of ASCII tokens");
        Self { html, csp }
    }
}

/// For a file of the build: a document opened on its own (an SVG, the audio file the page
/// frames) runs nothing inline, and a worker (the service worker) loads only from here.
const ASSET_POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; object-src 'none'; frame-ancestors 'self'";

/// The page frames one of its own files (an `<iframe src="assets/silence.mp3">` that unlocks
/// audio playback): files of the build may be framed by this site, the page never. On a 304
/// too, as browsers update the stored headers from it.
fn framable(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(ASSET_POLICY),
    );
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    resp
}

/// What LibreChat's client needs, and no more: its scripts from this server, plus the page's own
/// inline scripts (each allowed by its hash, so no other inline script runs); inline styles
/// (React components, KaTeX and Mermaid set them); images from `image_sources` (this server,
/// data and blob URLs, the sign-in providers' avatars, `ALLOWED_IMAGE_HOSTS`: the client
/// renders answers' markdown itself, so this is what keeps an image URL in an answer from
/// carrying the chat away); fonts from this server; blob workers (image conversion); blob URLs
/// to read and frame (a file's preview fetches the download it made into one, and shows a PDF
/// in an `<iframe>` of it); nothing may frame it. For artifacts, what LibreChat's panel loads
/// and no more: its code editor (Monaco, from jsDelivr, that exact version's folder only) and
/// the frames of Sandpack's preview bundler (codesandbox.io, or the admin's own: `frame_sources`),
/// which run on their own origin.
fn content_security_policy(html: &str, image_sources: &str, frame_sources: &str) -> String {
    let hashes: String = inline_scripts(html)
        .map(|code| {
            let digest = Sha256::digest(code.as_bytes());
            let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
            format!(" 'sha256-{b64}'")
        })
        .collect();
    let frames: String = frame_sources
        .split_whitespace()
        .map(|f| format!(" {f}"))
        .collect();
    format!(
        "default-src 'self'; script-src 'self'{hashes} {MONACO}; \
         style-src 'self' 'unsafe-inline' {MONACO}; img-src {image_sources}; \
         font-src 'self' data: {MONACO}; connect-src 'self' blob:; \
         frame-src 'self' blob: {SANDPACK}{frames}; media-src 'self' data: blob:; worker-src 'self' blob:; \
         manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Where LibreChat's client (v0.8.8) loads Monaco, its artifact code editor, from: the
/// `@monaco-editor/loader` default for the version it was built with.
const MONACO: &str = "https://cdn.jsdelivr.net/npm/monaco-editor@0.55.1/min/";
/// Sandpack's preview bundlers (`https://<version>-sandpack.codesandbox.io` and its static
/// server), which LibreChat's artifact preview frames.
const SANDPACK: &str = "https://*.codesandbox.io";

/// The text of each `<script>` element without a `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("<script")?;
            let open_end = start + rest[start..].find('>')?;
            let close = open_end + rest[open_end..].find("</script>")?;
            let (open, code) = (&rest[start..open_end], &rest[open_end + 1..close]);
            rest = &rest[close + "</script>".len()..];
            if !open.contains(" src=") {
                return Some(code);
            }
        }
    })
}

/// The language to put in `<html lang>`: the `lang` cookie, else the first of
/// `Accept-Language`; only when it looks like a language tag.
fn language(headers: &HeaderMap) -> Option<String> {
    let cookie = cookies::values(headers, "lang").next();
    let accept = || {
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.split(';').next().unwrap_or(v).trim())
    };
    let lang = cookie.or_else(accept)?;
    let tag = !lang.is_empty()
        && lang.len() <= 35
        && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    tag.then(|| lang.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_inline_script_is_found_and_external_ones_are_not() {
        let html = "<script>a()</script><script type=\"module\" src=\"./x.js\"></script>\
                    <script id=\"s\">b()</script>";
        assert_eq!(inline_scripts(html).collect::<Vec<_>>(), ["a()", "b()"]);
    }

    #[test]
    fn the_policy_names_the_hash_of_each_inline_script() {
        let csp = content_security_policy(
            "<script>alert(1)</script>",
            "'self' data:",
            "https://bundler.example.com",
        );
        assert!(
            csp.contains(
                "frame-src 'self' blob: https://*.codesandbox.io https://bundler.example.com;"
            ),
            "{csp}"
        );
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert!(
            csp.contains("script-src 'self' 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-eval"));
    }

    #[test]
    fn the_language_comes_from_the_cookie_then_the_browser_and_is_checked() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de-DE,de;q=0.9"),
        );
        assert_eq!(language(&h).as_deref(), Some("de-DE"));
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("a=b; lang=fr"),
        );
        assert_eq!(language(&h).as_deref(), Some("fr"));
        h.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("lang=\"><script>"),
        );
        assert_eq!(language(&h), None);
    }
}
