//! `CLIENT_DIR`: a LibreChat client build served from a folder instead of the bundled app,
//! with the bundled app's rules (base href, page paths, 404 for missing assets, ETags), a CSP
//! made for that page, and nothing outside the folder ever served.

mod support;

use std::io::{Read, Write};
use std::path::Path;

use support::TestServer;

/// A small stand-in for LibreChat's build: its `<base href="/" />`, an inline script, a
/// module script, a service worker.
const INDEX: &str = r#"<!doctype html>
<html lang="en-US">
  <head>
    <base href="/" />
    <script>
      const theme = localStorage.getItem('color-theme');
    </script>
    <script type="module" crossorigin src="./assets/index.js"></script>
  </head>
  <body><div id="root"></div></body>
</html>
"#;

/// The CSP source that allows INDEX's inline script: the sha256 of its text, exactly as
/// between the tags (whitespace included), in base64.
fn inline_hash() -> String {
    use base64::Engine;
    use sha2::Digest;
    let code = INDEX
        .split_once("<script>")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .unwrap()
        .0;
    assert!(code.contains("color-theme"));
    let digest = sha2::Sha256::digest(code.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn client_folder(dir: &Path) -> std::path::PathBuf {
    let client = dir.join("client");
    std::fs::create_dir_all(client.join("assets")).unwrap();
    std::fs::write(client.join("index.html"), INDEX).unwrap();
    std::fs::write(client.join("assets/index.js"), "console.log('app');\n").unwrap();
    std::fs::write(
        client.join("sw.js"),
        "self.addEventListener('fetch', () => {});\n",
    )
    .unwrap();
    client
}

async fn serving(client: &Path, env: &[(&str, &str)]) -> TestServer {
    let mut b = TestServer::builder().env("CLIENT_DIR", client.to_str().unwrap());
    for (k, v) in env {
        b = b.env(k, v);
    }
    b.start().await
}

/// A request with the path exactly as written (HTTP clients tidy `..` away), status and body.
fn raw_get(base: &str, path: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_owned();
    (status, body)
}

#[tokio::test]
async fn the_client_s_page_answers_every_page_path_with_its_base_and_policy() {
    let dir = tempfile::tempdir().unwrap();
    let client = client_folder(dir.path());
    let server = serving(
        &client,
        &[("DOMAIN_CLIENT", "https://chat.example.org/lc/")],
    )
    .await;
    for path in ["/", "/c/new", "/login", "/share/AbC123", "/index.html"] {
        let resp = server.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let csp = resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            resp.headers()["cache-control"],
            "no-cache, no-store, must-revalidate"
        );
        let html = resp.text().await.unwrap();
        assert!(html.contains(r#"<base href="/lc/" />"#), "{path}: {html}");
        // The page's own inline script may run, by its hash; no other inline script may.
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        // Beyond its own scripts, only the one Monaco release LibreChat's code editor loads
        // (for artifacts).
        assert_eq!(
            script_src.trim(),
            format!(
                "script-src 'self' {} https://cdn.jsdelivr.net/npm/monaco-editor@0.55.1/min/",
                inline_hash()
            )
        );
        assert!(!csp.contains("unsafe-eval"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
    // Images only from where the bundled app's may come: the client renders answers' markdown
    // itself, and an image URL in an answer could carry the chat away.
    let resp = server.get("/c/new").await;
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    let img = csp
        .split(';')
        .find(|d| d.trim().starts_with("img-src"))
        .unwrap();
    assert!(!img.split_whitespace().any(|s| s == "https:"), "{img}");
    // A file's preview reads the download it made into a blob URL (and frames a PDF's), and
    // may reach nothing else.
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find(|d| d.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {csp}"))
            .to_owned()
    };
    assert_eq!(directive("connect-src"), "connect-src 'self' blob:");
    // ...and artifacts' previews are Sandpack's frames.
    assert_eq!(
        directive("frame-src"),
        "frame-src 'self' blob: https://*.codesandbox.io"
    );
    let allowed = serving(&client, &[("ALLOWED_IMAGE_HOSTS", "images.example.org")]).await;
    let resp = allowed.get("/c/new").await;
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("images.example.org"), "{csp}");
    // The language the person chose.
    let resp = server
        .client
        .get(server.url("/c/new"))
        .header("cookie", "lang=de-DE")
        .send()
        .await
        .unwrap();
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains(r#"<html lang="de-DE">"#)
    );
}

#[tokio::test]
async fn assets_are_served_with_etags_and_a_missing_one_is_a_404() {
    let dir = tempfile::tempdir().unwrap();
    let client = client_folder(dir.path());
    let server = serving(&client, &[]).await;
    let resp = server.get("/assets/index.js").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    // The page frames one of its files (an audio file): same-origin framing of assets only.
    assert_eq!(resp.headers()["x-frame-options"], "SAMEORIGIN");
    let tag = resp.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(resp.text().await.unwrap(), "console.log('app');\n");
    let again = server
        .client
        .get(server.url("/assets/index.js"))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // A rebuilt file is a new version at once.
    std::fs::write(client.join("assets/index.js"), "console.log('v2');\n").unwrap();
    let changed = server
        .client
        .get(server.url("/assets/index.js"))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), tag);

    assert_eq!(server.get("/assets/missing.js").await.status(), 404);
    assert_eq!(
        server.get("/assets/fonts/missing.woff2").await.status(),
        404
    );
    // The service worker is always checked again, whatever STATIC_CACHE_MAX_AGE says.
    let cached = serving(&client, &[("STATIC_CACHE_MAX_AGE", "3600")]).await;
    assert_eq!(
        cached.get("/assets/index.js").await.headers()["cache-control"],
        "public, max-age=3600"
    );
    assert_eq!(
        cached.get("/sw.js").await.headers()["cache-control"],
        "no-cache"
    );
    // API paths are never the page.
    assert_eq!(server.get("/api/nothing-here").await.status(), 404);
}

#[tokio::test]
async fn nothing_outside_the_folder_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let client = client_folder(dir.path());
    std::fs::write(dir.path().join("secret.txt"), "the data folder's secrets").unwrap();
    std::fs::write(client.join(".env"), "JWT_SECRET=hidden").unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("secret.txt"),
        client.join("assets/leak.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path(), client.join("assets/up")).unwrap();
    // A link that stays inside the folder is fine.
    std::os::unix::fs::symlink(
        client.join("assets/index.js"),
        client.join("assets/alias.js"),
    )
    .unwrap();
    let server = serving(&client, &[]).await;
    let base = server.base.clone();
    tokio::task::spawn_blocking(move || {
        for path in [
            "/../secret.txt",
            "/assets/../../secret.txt",
            "/assets/..%2f..%2fsecret.txt",
            "/%2e%2e/secret.txt",
            "/assets/leak.txt",
            "/assets/up/secret.txt",
            "/.env",
            "/assets/%2fetc%2fpasswd",
            "//etc/passwd",
        ] {
            let (status, body) = raw_get(&base, path);
            assert!(
                !body.contains("secrets") && !body.contains("hidden") && !body.contains("root:"),
                "{path} leaked: {status} {body}"
            );
        }
        let (status, body) = raw_get(&base, "/assets/alias.js");
        assert_eq!((status, body.as_str()), (200, "console.log('app');\n"));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_bundled_app_stays_the_default() {
    let server = TestServer::start().await;
    let resp = server.get("/c/new").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains(r#"<base href="/">"#));
}

#[test]
fn a_client_dir_that_is_missing_or_has_no_page_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for (client, why) in [
        (dir.path().join("nowhere"), "does not exist"),
        (empty.clone(), "no index.html"),
    ] {
        let err = TestServer::builder()
            .env("CLIENT_DIR", client.to_str().unwrap())
            .settings(dir.path())
            .expect_err("refused");
        let text = err.to_string();
        assert!(text.contains("CLIENT_DIR") && text.contains(why), "{text}");
    }
    // `config check` and `doctor` say so, and fail.
    for args in [&["config", "check"][..], &["doctor"][..]] {
        let out = support::librechat(dir.path())
            .args(args)
            .env("CLIENT_DIR", &empty)
            .env("LIBRECHAT_DATA_DIR", dir.path().join("data"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("CLIENT_DIR") && text.contains("no index.html"),
            "{args:?}: {text}"
        );
    }
}

#[tokio::test]
async fn a_self_hosted_sandpack_bundler_is_given_to_the_client_and_may_be_framed() {
    let dir = tempfile::tempdir().unwrap();
    let client = client_folder(dir.path());
    let server = serving(
        &client,
        &[
            (
                "SANDPACK_BUNDLER_URL",
                "https://bundler.example.org/sandpack/",
            ),
            (
                "SANDPACK_STATIC_BUNDLER_URL",
                "https://static.example.org:8443",
            ),
        ],
    )
    .await;
    // LibreChat's client reads them from the startup config (`bundlerURL`,
    // `staticBundlerURL`) and from a shared page's.
    let s = server
        .signed_in("ada@example.org", "correct horse battery")
        .await;
    let config = server.get_json("/api/config", &s.token).await;
    assert_eq!(config["bundlerURL"], "https://bundler.example.org/sandpack");
    assert_eq!(
        config["staticBundlerURL"],
        "https://static.example.org:8443"
    );
    let shared = librechat::server::routes::config::shared_page(&server.state.settings);
    assert_eq!(shared["bundlerURL"], "https://bundler.example.org/sandpack");
    // The page may frame them, by origin, besides Sandpack's own.
    let resp = server.get("/c/new").await;
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains(
            "frame-src 'self' blob: https://*.codesandbox.io https://bundler.example.org https://static.example.org:8443;"
        ),
        "{csp}"
    );
    // Without them, nothing is said and nothing more is framed.
    let plain = serving(&client, &[]).await;
    let s = plain
        .signed_in("ada@example.org", "correct horse battery")
        .await;
    let config = plain.get_json("/api/config", &s.token).await;
    assert!(config.get("bundlerURL").is_none() && config.get("staticBundlerURL").is_none());
}

#[test]
fn a_sandpack_bundler_url_that_is_not_one_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::librechat(dir.path())
        .env("SANDPACK_BUNDLER_URL", "javascript:alert(1)")
        .env("LIBRECHAT_DATA_DIR", dir.path().join("data"))
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SANDPACK_BUNDLER_URL"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
