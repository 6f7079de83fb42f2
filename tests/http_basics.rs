//! The public surface of a fresh server over real HTTP: health, startup config, errors, the web
//! app and the headers every response carries.

mod support;

use serde_json::Value;
use support::TestServer;

#[tokio::test]
async fn health_answers_ok() {
    let server = TestServer::start().await;
    let resp = server.get("/health").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "OK");
    server.stop().await;
}

#[tokio::test]
async fn api_config_reflects_environment_and_yaml() {
    let server = TestServer::builder()
        .env("APP_TITLE", "Team Chat")
        .env("ALLOW_REGISTRATION", "false")
        .env("GOOGLE_CLIENT_ID", "id")
        .env("GOOGLE_CLIENT_SECRET", "secret")
        .env("DOMAIN_SERVER", "https://api.example.com/")
        .env("CUSTOM_FOOTER", "Run by the IT team")
        .yaml(
            "version: 1.3.17\ninterface:\n  customWelcome: Hello team\n  bookmarks: false\n  \
             privacyPolicy:\n    externalUrl: https://example.com/privacy\nregistration:\n  \
             socialLogins: [google, github]\nbalance:\n  enabled: true\n  startBalance: 500\n",
        )
        .start()
        .await;
    // Signed out: only what the sign-in pages need, as LibreChat answers a visitor.
    let resp = server.get("/api/config").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["vary"], "Authorization");
    let c: Value = resp.json().await.unwrap();
    assert_eq!(c["appTitle"], "Team Chat");
    assert_eq!(c["registrationEnabled"], false);
    assert_eq!(c["emailLoginEnabled"], true);
    assert_eq!(c["googleLoginEnabled"], true);
    assert_eq!(c["githubLoginEnabled"], false);
    assert_eq!(c["socialLogins"], serde_json::json!(["google", "github"]));
    assert_eq!(c["serverDomain"], "https://api.example.com");
    assert_eq!(c["minPasswordLength"], 8);
    assert_eq!(
        c["interface"],
        serde_json::json!({"privacyPolicy": {"externalUrl": "https://example.com/privacy"}}),
        "of the interface, only the legal links"
    );
    for hidden in [
        "balance",
        "modelSpecs",
        "customFooter",
        "helpAndFaqURL",
        "sharedLinksEnabled",
        "publicSharedLinksEnabled",
        "allowAccountDeletion",
        "instanceProjectId",
        "transactions",
        "conversationImportMaxFileSize",
        "showBirthdayIcon",
        "analyticsGtmId",
    ] {
        assert!(
            c.get(hidden).is_none(),
            "{hidden} shown before sign-in: {c}"
        );
    }
    // A token that does not check out is a visitor too.
    let forged = server.get_as("/api/config", "not.a.token").await;
    let forged: Value = forged.json().await.unwrap();
    assert_eq!(forged, c);

    // Signed in (invited, as registration is closed): everything.
    let pw = "correct horse battery";
    let invite = server
        .state
        .accounts
        .invite("alice@example.org")
        .await
        .unwrap();
    let resp = server
        .post_json(
            "/api/auth/register",
            serde_json::json!({"name": "Alice", "email": "alice@example.org", "password": pw,
                               "confirm_password": pw, "token": invite}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let s = server.login("alice@example.org", pw).await;
    let c = server.get_json("/api/config", &s.token).await;
    assert_eq!(c["appTitle"], "Team Chat");
    assert_eq!(c["googleLoginEnabled"], true);
    assert_eq!(c["customFooter"], "Run by the IT team");
    assert_eq!(c["helpAndFaqURL"], "https://librechat.ai");
    assert_eq!(c["interface"]["customWelcome"], "Hello team");
    assert_eq!(c["interface"]["bookmarks"], false);
    assert_eq!(c["interface"]["presets"], true, "defaults fill the rest");
    assert_eq!(
        c["interface"]["privacyPolicy"]["externalUrl"],
        "https://example.com/privacy"
    );
    assert_eq!(c["balance"]["enabled"], true);
    assert_eq!(c["balance"]["startBalance"], 500);
    assert_eq!(c["minPasswordLength"], 8);
    assert!(
        c["instanceProjectId"]
            .as_str()
            .is_some_and(|s| s.len() == 24)
    );
    // Secrets never appear in the public config.
    let text = c.to_string();
    assert!(!text.contains(server.state.settings.secrets.jwt_secret.value.expose()));
    server.stop().await;
}

#[tokio::test]
async fn server_domain_follows_proxy_headers_only_when_trusted() {
    let untrusted = TestServer::start().await;
    let c: Value = untrusted
        .client
        .get(untrusted.url("/api/config"))
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        c["serverDomain"], untrusted.base,
        "forwarded headers ignored without TRUST_PROXY"
    );
    untrusted.stop().await;

    let trusted = TestServer::builder().env("TRUST_PROXY", "1").start().await;
    let c: Value = trusted
        .client
        .get(trusted.url("/api/config"))
        .header("x-forwarded-host", "chat.example.com")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(c["serverDomain"], "https://chat.example.com");
    trusted.stop().await;
}

#[tokio::test]
async fn unknown_api_paths_get_a_json_404() {
    let server = TestServer::start().await;
    for (method, path) in [
        ("GET", "/api/nope"),
        ("POST", "/api/nothing/here"),
        ("DELETE", "/api"),
    ] {
        let resp = server
            .client
            .request(method.parse().unwrap(), server.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{method} {path}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body: Value = resp.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains(path), "{body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_method_on_a_known_route_gets_a_json_405() {
    let server = TestServer::start().await;
    let resp = server
        .client
        .post(server.url("/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["message"], "POST is not allowed on /health");
    server.stop().await;
}

#[tokio::test]
async fn other_paths_get_the_app_for_client_side_routing() {
    let server = TestServer::start().await;
    for path in ["/", "/c/new", "/login", "/share/abc"] {
        let resp = server.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
        assert_eq!(
            resp.headers()["cache-control"],
            "no-cache, no-store, must-revalidate"
        );
        let html = resp.text().await.unwrap();
        assert!(
            html.contains(r#"<base href="/">"#) && html.contains("app.js"),
            "{path}"
        );
    }
    // A missing file is a 404, not the page: a broken script link must not receive HTML.
    assert_eq!(server.get("/missing.js").await.status(), 404);
    // Writes to non-API paths are not pages.
    let post = server
        .client
        .post(server.url("/c/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn a_sub_path_deployment_gets_its_base_href() {
    let server = TestServer::builder()
        .env("DOMAIN_CLIENT", "https://example.com/chat")
        .start()
        .await;
    let html = server.get("/c/new").await.text().await.unwrap();
    assert!(html.contains(r#"<base href="/chat/">"#), "{html}");
    server.stop().await;
}

#[tokio::test]
async fn assets_have_types_and_revalidate_by_etag() {
    let server = TestServer::start().await;
    let resp = server.get("/js/app.js").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    assert!(resp.text().await.unwrap().contains("./router.js"));

    let again = server
        .client
        .get(server.url("/js/app.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    // Browsers get the gzip the binary holds, tagged as another form of the file; the
    // server's compression does not compress it again.
    let gzipped = server
        .client
        .get(server.url("/js/app.js"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    let h = gzipped.headers().clone();
    assert_eq!(h["content-encoding"], "gzip");
    assert_eq!(h["vary"], "accept-encoding");
    let gz_tag = h["etag"].to_str().unwrap().to_owned();
    assert_ne!(gz_tag, etag);
    let mut plain = String::new();
    let gz = gzipped.bytes().await.unwrap();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).unwrap();
    assert!(plain.contains("./router.js"));
    let again = server
        .client
        .get(server.url("/js/app.js"))
        .header("accept-encoding", "gzip")
        .header("if-none-match", &gz_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.headers().get("content-encoding").is_none());

    for (path, mime) in [
        ("/style.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
    ] {
        assert_eq!(server.get(path).await.headers()["content-type"], mime);
    }
    server.stop().await;

    let cached = TestServer::builder()
        .env("STATIC_CACHE_MAX_AGE", "172800")
        .start()
        .await;
    assert_eq!(
        cached.get("/js/app.js").await.headers()["cache-control"],
        "public, max-age=172800"
    );
    cached.stop().await;
}

#[tokio::test]
async fn every_response_carries_security_headers_and_a_request_id() {
    let server = TestServer::start().await;
    for path in ["/", "/health", "/api/config", "/api/nope"] {
        let resp = server.get(path).await;
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}"
        );
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-robots-tag"], "noindex, nofollow");
        assert!(!h["x-request-id"].is_empty());
    }
    let echoed = server
        .client
        .get(server.url("/health"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-42");
    server.stop().await;
}

#[tokio::test]
async fn responses_are_compressed_unless_disabled() {
    let server = TestServer::start().await;
    // gzip only: a brotli encoder would add a megabyte to the binary for a few percent less.
    for (accepted, used) in [
        ("gzip", Some("gzip")),
        ("gzip, br", Some("gzip")),
        ("br", None),
    ] {
        let resp = server
            .client
            .get(server.url("/"))
            .header("accept-encoding", accepted)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            used,
            "{accepted}"
        );
    }
    server.stop().await;

    let plain = TestServer::builder()
        .env("DISABLE_COMPRESSION", "true")
        .start()
        .await;
    let resp = plain
        .client
        .get(plain.url("/"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
    plain.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_json_413() {
    let server = TestServer::builder()
        .env("MAX_BODY_SIZE", "1000")
        .start()
        .await;
    let resp = server
        .client
        .post(server.url("/api/convos"))
        .header("content-type", "application/json")
        .body(vec![b' '; 2000])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("1000"));
    server.stop().await;
}

#[tokio::test]
async fn cors_is_off_unless_origins_are_configured() {
    let server = TestServer::start().await;
    let resp = server
        .client
        .get(server.url("/api/config"))
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    server.stop().await;

    let open = TestServer::builder()
        .env("CORS_ORIGINS", "https://app.example.com")
        .start()
        .await;
    let preflight = open
        .client
        .request(reqwest::Method::OPTIONS, open.url("/api/config"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let other = open
        .client
        .get(open.url("/api/config"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    open.stop().await;
}

/// `/ready` names the engines the server runs on. On SQLite alone: the database. Under the
/// PostgreSQL profile (`LIBRECHAT_TEST_DATABASE=postgres`) every server is on PostgreSQL and
/// Redis, and its shared state (here a sign-in limiter's count) sits under a key prefix of its
/// own, which no other server of the suite touches.
#[tokio::test]
async fn ready_names_the_engines_the_server_runs_on() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let resp = a.get("/ready").await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], "ok");
    let profile = std::env::var("LIBRECHAT_TEST_DATABASE").as_deref() == Ok("postgres");
    assert_eq!(a.state.db.is_postgres(), profile);
    if !profile {
        assert!(body.get("redis").is_none(), "{body}");
        return;
    }
    assert_eq!(body["redis"], "ok", "{body}");
    let prefix =
        |s: &TestServer| std::fs::read_to_string(s.dir.path().join("redis-prefix")).unwrap();
    let (pa, pb) = (prefix(&a), prefix(&b));
    assert_ne!(pa, pb);
    let redis = support::redis::shared().unwrap();
    let keys = |p: &str| {
        redis.command(&[
            "EVAL",
            "return #redis.call('KEYS', ARGV[1])",
            "0",
            &format!("{p}::*"),
        ])
    };
    let before_b = keys(&pb);
    let resp = a
        .client
        .post(a.url("/api/auth/login"))
        .json(&serde_json::json!({"email": "nobody@example.com", "password": "not the one"}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error(), "{:?}", resp.text().await);
    assert_ne!(
        keys(&pa),
        ":0",
        "the failed sign-in is counted in Redis, under a's prefix"
    );
    assert_eq!(keys(&pb), before_b, "nothing of a's lands under b's prefix");
}
