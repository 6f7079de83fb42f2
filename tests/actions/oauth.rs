//! An OAuth action: the call shows a sign-in link and waits; the person's browser binds itself,
//! signs in with the provider (the fake API's authorization server), comes back to the
//! callback; the server trades the code for tokens, stored encrypted for that person, and the
//! waiting call goes on with them; later calls use them without asking again.

use serde_json::{Value, json};

use crate::support::fake_api::{CLIENT_ID, CLIENT_SECRET};
use crate::support::fake_tools::ToolScript;
use crate::*;

/// Follows a URL one hop, without following its redirect: the `Location` it answers.
async fn location_of(client: &reqwest::Client, url: &str, cookie: Option<&str>) -> String {
    let mut req = client.get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 302, "{url}");
    resp.headers()["location"].to_str().unwrap().to_owned()
}

/// Waits for the frame that shows a sign-in link; the link.
async fn sign_in_link(frames: &mut Frames) -> String {
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

#[tokio::test]
async fn an_oauth_action_asks_to_sign_in_then_calls_as_the_person() {
    let fake = FakeOpenAi::start().await;
    let api = FakeApi::start("http://example.com/").await;
    let server = server(&fake, &yaml(&api, ""), &[]).await;
    let s = server.signed_in("alice@example.org", PW).await;
    let agent_id = agent(&server, &s).await;
    let auth = json!({
        "auth": {"type": "oauth", "authorization_url": format!("{}/oauth/authorize", api.base),
                 "client_url": format!("{}/oauth/token", api.base), "scope": "read",
                 "token_exchange_method": "default_post"},
        "oauth_client_id": CLIENT_ID, "oauth_client_secret": CLIENT_SECRET,
    });
    let action = saved(&server, &s, &agent_id, &api.spec(), &["getMe"], auth).await;
    let action_id = action["action_id"].as_str().unwrap().to_owned();
    assert!(!action.to_string().contains(CLIENT_SECRET));
    assert!(!contains(&raw_database(&server), CLIENT_SECRET));
    fake.script(
        MODEL,
        ToolScript::calls([(tool("getMe").as_str(), json!({}))]),
    );

    let id = start(&server, &s, &agent_id, "who am I?").await;
    let mut frames = Frames::open(&server, &s, &id).await;
    let link = sign_in_link(&mut frames).await;
    let parsed = url::Url::parse(&link).unwrap();
    assert!(
        link.starts_with(&format!("{}/oauth/authorize?", api.base)),
        "{link}"
    );
    let query: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["scope"], "read");
    assert_eq!(
        query["redirect_uri"],
        format!("http://localhost:3080/api/actions/{action_id}/oauth/callback")
    );

    // The provider approves and sends the browser back with a code.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let back = url::Url::parse(&location_of(&browser, &link, None).await).unwrap();
    let callback = server.url(&format!("{}?{}", back.path(), back.query().unwrap()));
    // Another browser (no binding) cannot finish it, and the sign-in still waits.
    let to = location_of(&browser, &callback, None).await;
    assert_eq!(to, "/oauth/error?error=csrf_validation_failed");
    // The person's browser binds itself first, as LibreChat's client does.
    let bind = server
        .send(
            "POST",
            &format!("/api/actions/{action_id}/oauth/bind"),
            &s.token,
            json!({}),
        )
        .await;
    assert_eq!(bind.status(), 200);
    let set = bind.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.contains("Path=/api/actions") && set.contains("HttpOnly"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    let to = location_of(&browser, &callback, Some(&cookie)).await;
    assert_eq!(to, format!("/oauth/success?serverName=Action+{action_id}"));
    // Spent: the same callback again gets nowhere.
    let to = location_of(&browser, &callback, Some(&cookie)).await;
    assert_eq!(to, "/oauth/error?error=invalid_state");

    // The call went on with the person's token; the link was taken away before it ended.
    let rest = frames.to_end().await;
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
    let last = rest.last().unwrap();
    let out = outputs(&last["responseMessage"]);
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
    let raw = raw_database(&server);
    assert!(!contains(&raw, "access-1") && !contains(&raw, "refresh-1"));

    // The next turn uses them without asking again.
    let message = answer(&server, &s, &agent_id).await;
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
    let message = answer(&server, &s, &agent_id).await;
    assert!(outputs(&message)[0].contains("oauth-person"));
    assert_eq!(api.tokens(), ["access-1", "access-2"]);
    assert_eq!(
        api.seen_at("/v1/me").last().unwrap().headers["authorization"],
        "Bearer access-2"
    );

    // A bad state, or none, gets LibreChat's error page.
    let to = location_of(
        &browser,
        &server.url(&format!(
            "/api/actions/{action_id}/oauth/callback?code=x&state=forged"
        )),
        Some(&cookie),
    )
    .await;
    assert_eq!(to, "/oauth/error?error=invalid_state");
    let to = location_of(
        &browser,
        &server.url(&format!("/api/actions/{action_id}/oauth/callback")),
        None,
    )
    .await;
    assert_eq!(to, "/oauth/error?error=invalid_state");

    // Deleting the action forgets everyone's tokens for it.
    let resp = server
        .send(
            "DELETE",
            &format!("/api/agents/actions/{agent_id}/{action_id}"),
            &s.token,
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(server.count("action_tokens").await, 0);
}
