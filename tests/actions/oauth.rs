//! An OAuth action: the call shows a sign-in link and waits; the person's browser binds itself,
//! signs in with the provider (the fake API's authorization server), comes back to the
//! callback; the server trades the code for tokens, stored encrypted for that person, and the
//! waiting call goes on with them; later calls use them without asking again.

use serde_json::{Value, json};

use crate::support::fake_api::{CLIENT_ID, CLIENT_SECRET};
use crate::support::fake_tools::ToolScript;
use crate::*;

/// Follows a URL one hop, without following its redirect: the `Location` it answers.
pub(crate) async fn location_of(
    client: &reqwest::Client,
    url: &str,
    cookie: Option<&str>,
) -> String {
    let mut req = client.get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 302, "{url}");
    resp.headers()["location"].to_str().unwrap().to_owned()
}

/// Waits for the frame that shows a sign-in link; the link.
pub(crate) async fn sign_in_link(frames: &mut Frames) -> String {
    while let Some(f) = frames.next().await {
        assert_ne!(
            f["final"], true,
            "the turn ended without asking to sign in: {f}"
        );
        if f["event"] == "on_run_step_delta"
            && let Some(link) = f["data"]["delta"]["auth"].as_str()
        {
            assert!(f["data"]["delta"]["expires_at"].as_i64().unwrap() > 0);
            assert_eq!(f["data"]["delta"]["tool_calls"][0]["name"], tool("getMe"));
            return link.to_owned();
        }
    }
    panic!("the stream ended");
}

/// A server with an OAuth action on an agent of Alice's, its model scripted to call `getMe`.
struct Setup {
    /// Kept for the server's life.
    _fake: FakeOpenAi,
    api: FakeApi,
    server: TestServer,
    s: Session,
    agent_id: String,
    action_id: String,
    browser: reqwest::Client,
}

async fn setup() -> Setup {
    let (fake, api, server, s, agent_id) = scene("").await;
    let auth = json!({
        "auth": {"type": "oauth", "authorization_url": format!("{}/oauth/authorize", api.base),
                 "client_url": format!("{}/oauth/token", api.base), "scope": "read",
                 "token_exchange_method": "default_post"},
        "oauth_client_id": CLIENT_ID, "oauth_client_secret": CLIENT_SECRET,
    });
    let action = saved(&server, &s, &agent_id, &api.spec(), &["getMe"], auth).await;
    assert!(!action.to_string().contains(CLIENT_SECRET));
    fake.script(
        MODEL,
        ToolScript::calls([(tool("getMe").as_str(), json!({}))]),
    );
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    Setup {
        action_id: action["action_id"].as_str().unwrap().to_owned(),
        _fake: fake,
        api,
        server,
        s,
        agent_id,
        browser,
    }
}

impl Setup {
    /// The provider approves the link: the callback URL on this server it sends the browser to.
    async fn approve(&self, link: &str) -> String {
        let back = url::Url::parse(&location_of(&self.browser, link, None).await).unwrap();
        self.server
            .url(&format!("{}?{}", back.path(), back.query().unwrap()))
    }

    /// Binds the browser as LibreChat's client does before it opens the link: the cookie.
    async fn bind(&self) -> String {
        let path = format!("/api/actions/{}/oauth/bind", self.action_id);
        let bind = self
            .server
            .send("POST", &path, &self.s.token, json!({}))
            .await;
        assert_eq!(bind.status(), 200);
        let set = bind.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            set.contains("Path=/api/actions") && set.contains("HttpOnly"),
            "{set}"
        );
        set.split(';').next().unwrap().to_owned()
    }

    /// A turn that asks to sign in, signed in from the person's browser; its frames to the end.
    async fn signed_in_turn(&self) -> Vec<Value> {
        let id = start(&self.server, &self.s, &self.agent_id, "who am I?").await;
        let mut frames = Frames::open(&self.server, &self.s, &id).await;
        let link = sign_in_link(&mut frames).await;
        let callback = self.approve(&link).await;
        let cookie = self.bind().await;
        let to = location_of(&self.browser, &callback, Some(&cookie)).await;
        assert!(to.starts_with("/oauth/success?"), "{to}");
        frames.until_final().await
    }
}

#[tokio::test]
async fn an_oauth_action_asks_to_sign_in_then_calls_as_the_person() {
    let t = setup().await;
    let (server, api, action_id) = (&t.server, &t.api, &t.action_id);
    assert!(!contains(&raw_database(server), CLIENT_SECRET));
    let id = start(server, &t.s, &t.agent_id, "who am I?").await;
    let mut frames = Frames::open(server, &t.s, &id).await;
    let link = sign_in_link(&mut frames).await;
    assert!(
        link.starts_with(&format!("{}/oauth/authorize?", api.base)),
        "{link}"
    );
    let query: std::collections::HashMap<_, _> = url::Url::parse(&link)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["scope"], "read");
    assert_eq!(
        query["redirect_uri"],
        format!("http://localhost:3080/api/actions/{action_id}/oauth/callback")
    );

    let callback = t.approve(&link).await;
    // Another browser (no binding) cannot finish it, and the sign-in still waits.
    let to = location_of(&t.browser, &callback, None).await;
    assert_eq!(to, "/oauth/error?error=csrf_validation_failed");
    let cookie = t.bind().await;
    let to = location_of(&t.browser, &callback, Some(&cookie)).await;
    assert_eq!(to, format!("/oauth/success?serverName=Action+{action_id}"));
    // That is the web app's page (which says the sign-in is done), never a provider's start.
    let page = t.browser.get(server.url(&to)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    // Spent: the same callback again, a forged state, or none get LibreChat's error page.
    for url in [
        callback.clone(),
        server.url(&format!(
            "/api/actions/{action_id}/oauth/callback?code=x&state=forged"
        )),
        server.url(&format!("/api/actions/{action_id}/oauth/callback")),
    ] {
        let to = location_of(&t.browser, &url, Some(&cookie)).await;
        assert_eq!(to, "/oauth/error?error=invalid_state", "{url}");
    }

    // The call went on with the person's token; the link was taken away before it ended.
    let rest = frames.until_final().await;
    let cleared = rest
        .iter()
        .position(|f| {
            f["event"] == "on_run_step_delta"
                && f["data"]["delta"].get("auth").is_none()
                && f["data"]["delta"]["tool_calls"][0]["name"] == tool("getMe")
        })
        .expect("the link is taken away");
    let completed = rest
        .iter()
        .position(|f| f["event"] == "on_run_step_completed")
        .unwrap();
    assert!(cleared < completed);
    let out = outputs(&rest.last().unwrap()["responseMessage"]);
    assert_eq!(
        serde_json::from_str::<Value>(&out[0]).unwrap(),
        json!({"user": "oauth-person"})
    );
    assert_eq!(
        api.seen_at("/v1/me")[0].headers["authorization"],
        "Bearer access-1"
    );
    // The tokens are stored for Alice, encrypted.
    assert_eq!(server.count("action_tokens").await, 1);
    let raw = raw_database(server);
    assert!(!contains(&raw, "access-1") && !contains(&raw, "refresh-1"));
}

#[tokio::test]
async fn a_signed_in_person_is_not_asked_again_and_an_expired_token_is_refreshed() {
    let t = setup().await;
    let (server, api) = (&t.server, &t.api);
    let frames = t.signed_in_turn().await;
    assert!(outputs(&frames.last().unwrap()["responseMessage"])[0].contains("oauth-person"));
    assert_eq!(api.tokens(), ["access-1"]);

    // The next turn uses the token without asking again.
    let message = answer(server, &t.s, &t.agent_id).await;
    assert!(outputs(&message)[0].contains("oauth-person"));
    assert_eq!(api.tokens().len(), 1, "no new sign-in");

    // An expired token is refreshed with the refresh token, still without asking.
    server
        .state
        .db
        .write(|c| {
            c.execute(
                "UPDATE action_tokens SET expires_at = '2000-01-01T00:00:00.000Z'",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let message = answer(server, &t.s, &t.agent_id).await;
    assert!(outputs(&message)[0].contains("oauth-person"));
    assert_eq!(api.tokens(), ["access-1", "access-2"]);
    assert_eq!(
        api.seen_at("/v1/me").last().unwrap().headers["authorization"],
        "Bearer access-2"
    );

    // Deleting the action forgets everyone's tokens for it.
    let path = format!("/api/agents/actions/{}/{}", t.agent_id, t.action_id);
    let resp = server.send("DELETE", &path, &t.s.token, json!({})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(server.count("action_tokens").await, 0);
}
