//! The bundled app's artifact previews load React, Babel, Tailwind, lucide-react, recharts and
//! Mermaid from `ARTIFACT_LIBRARIES_URL`, each pinned and checked by its integrity hash
//! (src/web/sandbox.rs). Here the sandbox page's list is read as the browser reads it, every
//! file is fetched from a mirror of the npm CDN holding the packages npm installs for the
//! browser tests, and each hash must be the file's: a wrong one would make the browser refuse
//! the library and the preview fail.

mod support;

use base64::Engine;
use sha2::{Digest, Sha384};
use support::TestServer;
use support::node::{self, Needs};
use support::npm_mirror::NpmMirror;

/// The sandbox page's libraries JSON (`null` when previews are off) and its policy.
async fn sandbox(server: &TestServer) -> (serde_json::Value, String) {
    let page = server.get("/artifact-sandbox.html").await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let start = r#"<script type="application/json" id="libraries">"#;
    let at = html.find(start).expect("the page lists its libraries") + start.len();
    let end = at + html[at..].find("</script>").unwrap();
    (serde_json::from_str(&html[at..end]).unwrap(), csp)
}

#[tokio::test]
async fn every_preview_library_is_served_with_the_hash_the_page_checks() {
    if !node::ready(
        "the preview libraries check",
        node::missing_peer(Needs::Library),
    ) {
        return;
    }
    let mirror = NpmMirror::start().await;
    let server = TestServer::builder()
        .env("ARTIFACT_LIBRARIES_URL", &mirror.base)
        .start()
        .await;
    let (libs, csp) = sandbox(&server).await;
    let origin = mirror.base.trim_end_matches("/npm");
    assert!(
        csp.contains(&format!("https://cdnjs.cloudflare.com {origin};")),
        "{csp}"
    );
    let libs = libs.as_object().expect("previews are on");
    assert_eq!(libs.len(), librechat::web::sandbox::LIBRARIES.len());
    for (name, lib) in libs {
        let src = lib["src"].as_str().unwrap();
        assert!(src.starts_with(&mirror.base), "{name}: {src}");
        let res = server.client.get(src).send().await.unwrap();
        assert_eq!(res.status(), 200, "{name}: {src} is not in the mirror");
        let bytes = res.bytes().await.unwrap();
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&bytes));
        assert_eq!(
            lib["integrity"].as_str().unwrap(),
            format!("sha384-{hash}"),
            "{name}: the hash is not {src}'s"
        );
    }
}

#[tokio::test]
async fn previews_are_off_when_the_admin_says_so_and_a_bad_address_is_refused() {
    let server = TestServer::builder()
        .env("ARTIFACT_LIBRARIES_URL", "off")
        .start()
        .await;
    let (libs, csp) = sandbox(&server).await;
    assert!(libs.is_null(), "{libs}");
    assert!(csp.contains("https://cdnjs.cloudflare.com;"), "{csp}");

    // By default, jsDelivr's npm mirror.
    let server = TestServer::start().await;
    let (libs, csp) = sandbox(&server).await;
    assert_eq!(
        libs["react"]["src"],
        "https://cdn.jsdelivr.net/npm/react@18.3.1/umd/react.production.min.js"
    );
    assert!(
        csp.contains("https://cdnjs.cloudflare.com https://cdn.jsdelivr.net;"),
        "{csp}"
    );

    for bad in [
        "ftp://mirror.example.org/npm",
        "not a url",
        "javascript:alert(1)",
    ] {
        let err = TestServer::builder()
            .env("ARTIFACT_LIBRARIES_URL", bad)
            .settings(tempfile::tempdir().unwrap().path())
            .expect_err(bad);
        assert!(
            err.to_string().contains("ARTIFACT_LIBRARIES_URL"),
            "{bad}: {err}"
        );
    }
}
