//! The page the bundled app shows artifacts in: `artifact-sandbox.html`, framed by the app
//! with `sandbox="allow-scripts"` and given the artifact by `postMessage`; it puts it in an
//! `<iframe sandbox="allow-scripts" srcdoc>` of its own.
//!
//! Why a page of its own: a `srcdoc` frame inherits the Content-Security-Policy of the page
//! that made it, and the app's allows no inline script (`script-src 'self'`), so an artifact
//! framed by the app itself could not run its scripts; allowing them in the app's policy would
//! weaken it for the app. This page has its own policy, for artifacts only: inline scripts
//! (and eval, which some libraries need), scripts, styles and fonts from cdnjs (the one place
//! the instructions allow) and from the preview libraries' address, images and media from data
//! and blob URLs only, no network requests (`connect-src 'none'`), no forms, and `sandbox
//! allow-scripts`, so it has an opaque origin even when opened on its own: no cookies, no
//! storage, no reading the app's page or its API. The artifact in the inner frame inherits all
//! of that.
//!
//! React components and Mermaid diagrams are previewed with libraries loaded in that frame
//! from `ARTIFACT_LIBRARIES_URL` (ours; jsDelivr's npm mirror by default), each pinned to a
//! version and checked by its Subresource Integrity hash, so a mirror can serve nothing but the
//! published file: Babel turns the component's JSX and TypeScript into a script, React draws
//! it, Tailwind's browser build styles its classes, and lucide-react or recharts come when the
//! component imports them. Bundling them would add ~12 MB to the binary; LibreChat's client
//! uses a remote bundler (Sandpack) for the same reason.

use axum::body::Body;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::Response;
use serde_json::{Map, Value, json};

/// Where the bundled app finds the page (relative to its base).
pub const PATH: &str = "artifact-sandbox.html";

/// Where the preview libraries come from unless `ARTIFACT_LIBRARIES_URL` says otherwise.
pub const DEFAULT_LIBRARIES_URL: &str = "https://cdn.jsdelivr.net/npm";

/// One preview library: an npm package's file, at `<base>/<package>@<version>/<file>` (the
/// layout of jsDelivr's and unpkg's npm mirrors), and the SHA-384 of that file.
#[derive(Debug, Clone, Copy)]
pub struct Library {
    /// What the page calls it: an import name (`react`, `lucide-react`) or a tool (`babel`).
    pub name: &'static str,
    pub package: &'static str,
    pub version: &'static str,
    pub file: &'static str,
    pub integrity: &'static str,
}

/// Every library the previews use (tests/artifact_libraries.rs checks each hash against the
/// package npm installs for the browser tests).
pub const LIBRARIES: &[Library] = &[
    Library {
        name: "react",
        package: "react",
        version: "18.3.1",
        file: "umd/react.production.min.js",
        integrity: "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    },
    Library {
        name: "react-dom",
        package: "react-dom",
        version: "18.3.1",
        file: "umd/react-dom.production.min.js",
        integrity: "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    },
    Library {
        name: "babel",
        package: "@babel/standalone",
        version: "7.29.15",
        file: "babel.min.js",
        integrity: "sha384-Ss/vAy5WJ/pgOuQj8fpWo8I/lIbCYJW0kNY8PbhsygEsxmwpdsXz47HC5+sIUypz",
    },
    Library {
        name: "tailwind",
        package: "@tailwindcss/browser",
        version: "4.3.5",
        file: "dist/index.global.js",
        integrity: "sha384-t+qLIxS5zM/KF99/doWY+dxTsavdvgayaZt8A9ntLsUjEkiXzYl5M3Ij8zVFPL9j",
    },
    Library {
        name: "lucide-react",
        package: "lucide-react",
        version: "0.577.0",
        file: "dist/umd/lucide-react.min.js",
        integrity: "sha384-XxyqC4xuuJj8YwDW/CKsRysDNvfi1N2I/hnvfF1LYjspiLJsbiN5Jqao79BYkBbl",
    },
    Library {
        name: "prop-types",
        package: "prop-types",
        version: "15.8.1",
        file: "prop-types.min.js",
        integrity: "sha384-/AfDwVDXNopzPvhxMPQ11y1OCpR6mVkWx47qzSwIiquvxkcMkZddEzDNtIOtfCpk",
    },
    Library {
        name: "recharts",
        package: "recharts",
        version: "2.15.4",
        file: "umd/Recharts.js",
        integrity: "sha384-8WLbYxXTeAFm5KD1lWOhUghb4T1QP+Y15d4aEGIFc6zzN2BMObhTK1u7mXiLbp8p",
    },
    Library {
        name: "mermaid",
        package: "mermaid",
        version: "12.4.0",
        file: "dist/mermaid.min.js",
        integrity: "sha384-n1jHfucCtiftsu9hl/KCcarRUTI3jLj33rYUj5vXdu3PkUfNVZh6p9TcXnwiHLv/",
    },
];

/// The policy's fixed parts (see the module's comment); `{libs}` is the libraries' origin.
const POLICY: &str = "default-src 'none'; \
    script-src 'unsafe-inline' 'unsafe-eval' https://cdnjs.cloudflare.com{libs}; \
    style-src 'unsafe-inline' https://cdnjs.cloudflare.com; font-src data: https://cdnjs.cloudflare.com; \
    img-src data: blob:; media-src data: blob:; connect-src 'none'; form-action 'none'; \
    base-uri 'none'; frame-ancestors 'self'; sandbox allow-scripts";

/// The page; `{libraries}` is the JSON the script reads (`null` when previews are off).
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Artifact</title>
<style>html, body, iframe { margin: 0; border: 0; width: 100%; height: 100%; display: block; background: #fff; }</style>
</head>
<body>
<iframe sandbox="allow-scripts" title="Artifact"></iframe>
<script type="application/json" id="libraries">{libraries}</script>
<script>
{script}
</script>
</body>
</html>
"#;

/// The page's script: it takes the artifact from the page that framed it (only from there).
const SCRIPT: &str = include_str!("sandbox.js");

/// The sandbox page as this server serves it, made once from the settings.
#[derive(Debug)]
pub struct Sandbox {
    page: String,
    policy: HeaderValue,
}

impl Sandbox {
    /// `libraries`: the base address of the preview libraries (`ARTIFACT_LIBRARIES_URL`, an
    /// http(s) URL without a trailing slash), or `None` when previews of React components and
    /// Mermaid diagrams are off.
    pub fn new(libraries: Option<&str>) -> Self {
        let origin = libraries
            .and_then(|base| url::Url::parse(base).ok())
            .map(|u| u.origin().ascii_serialization())
            .filter(|o| o != "null");
        let listed = match (libraries, &origin) {
            (Some(base), Some(_)) => {
                let mut by_name = Map::new();
                for l in LIBRARIES {
                    let src = format!("{base}/{}@{}/{}", l.package, l.version, l.file);
                    by_name.insert(
                        l.name.into(),
                        json!({"src": src, "integrity": l.integrity, "name": l.package}),
                    );
                }
                Value::Object(by_name)
            }
            _ => Value::Null,
        };
        // Inside a script element, `<` could close it: JSON lets it be written `\u003c`.
        let listed = listed.to_string().replace('<', "\\u003c");
        let page = PAGE
            .replace("{libraries}", &listed)
            .replace("{script}", SCRIPT.trim_end());
        let libs = origin.map(|o| format!(" {o}")).unwrap_or_default();
        let policy = HeaderValue::from_str(&POLICY.replace("{libs}", &libs))
            .expect("an origin is a valid header value");
        Self { page, policy }
    }

    /// The page, with its own policy (the server's default headers leave it in place) and
    /// framable by the app alone.
    pub fn page(&self) -> Response {
        let mut resp = Response::new(Body::from(self.page.clone()));
        let h = resp.headers_mut();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert("content-security-policy", self.policy.clone());
        h.insert("x-frame-options", HeaderValue::from_static("SAMEORIGIN"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(s: &Sandbox) -> &str {
        s.policy.to_str().unwrap()
    }

    #[test]
    fn the_libraries_origin_is_allowed_to_load_scripts_and_nothing_more() {
        let s = Sandbox::new(Some("https://mirror.example.org:8443/npm"));
        assert!(
            policy(&s).contains(
                "script-src 'unsafe-inline' 'unsafe-eval' https://cdnjs.cloudflare.com https://mirror.example.org:8443;"
            ),
            "{}",
            policy(&s)
        );
        assert!(policy(&s).contains("connect-src 'none'"));
        assert!(
            s.page
                .contains(r#""src":"https://mirror.example.org:8443/npm/react@18.3.1/umd/react.production.min.js""#),
            "{}",
            s.page
        );
    }

    #[test]
    fn without_libraries_the_page_says_so_and_the_policy_is_the_old_one() {
        let s = Sandbox::new(None);
        assert!(policy(&s).contains("https://cdnjs.cloudflare.com;"));
        assert!(
            s.page
                .contains(r#"<script type="application/json" id="libraries">null</script>"#)
        );
    }

    #[test]
    fn the_script_cannot_end_its_element_early() {
        // Inside `<script>`, `</script` ends the element wherever it is, also in a string.
        let lower = SCRIPT.to_ascii_lowercase();
        assert!(!lower.contains("</script") && !lower.contains("<!--"));
    }

    #[test]
    fn every_library_is_pinned_and_checked() {
        for l in LIBRARIES {
            assert!(
                l.integrity.starts_with("sha384-") && l.integrity.len() == 71,
                "{l:?}"
            );
            assert!(
                l.version.chars().all(|c| c.is_ascii_digit() || c == '.'),
                "{l:?}"
            );
        }
    }
}
