//! OAuth for MCP servers, against a real one: tests/mcp/oauth_server.py on the official Python
//! SDK (protected resource metadata, authorization server metadata, dynamic client
//! registration, PKCE, an authorization step that approves at once, short-lived tokens with
//! rotating refresh tokens). The browser is played by hand: no redirect followed on its own,
//! the bind cookie carried from `/reinitialize` to the callback.

mod support;

use serde_json::{Value, json};
use support::fake_openai::FakeOpenAi;
use support::fake_tools::ToolScript;
use support::mcp::{
    OAuthServer, PW, ask, bind_cookie, browser, callback, location, output, server,
};
use support::stream::Frames;
use support::{Session, TestServer};

/// `POST /reinitialize` for `guarded`: the answer and the response's bind cookie, if any.
async fn reinitialize(server: &TestServer, s: &Session) -> (Value, Option<String>) {
    let resp = server
        .send("POST", "/api/mcp/guarded/reinitialize", &s.token, json!({}))
        .await;
    assert_eq!(resp.status(), 200);
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap_or_default().starts_with("oauth_csrf="))
        .then(|| bind_cookie(&resp));
    (resp.json().await.unwrap(), cookie)
}

/// Follows the sign-in link to the provider, which approves at once: the callback's path and
/// query on our server (`/api/mcp/guarded/oauth/callback?code=..&state=..`).
async fn approve(url: &str) -> String {
    let to = location(&browser().get(url).send().await.unwrap());
    let u = url::Url::parse(&to).unwrap();
    assert_eq!(u.path(), "/api/mcp/guarded/oauth/callback");
    format!("{}?{}", u.path(), u.query().unwrap())
}

/// Signs in through a link shown in a chat, as LibreChat's client does: binds the browser,
/// opens the link, and comes back to the callback.
async fn follow(server: &TestServer, s: &Session, link: &str) {
    let bind = server
        .send("POST", "/api/mcp/guarded/oauth/bind", &s.token, json!({}))
        .await;
    assert_eq!(bind.status(), 200);
    let cookie = bind_cookie(&bind);
    let back = approve(link).await;
    assert_eq!(
        callback(server, &back, Some(&cookie)).await,
        "/oauth/success?serverName=guarded"
    );
}

fn auth_state(status: &Value) -> &str {
    status["connectionStatus"]["guarded"]["authorizationState"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn a_person_signs_in_and_the_tools_work_with_refreshed_tokens() {
    let peer = OAuthServer::start().await;
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &peer.yaml()).await;
    let (alice, bob) = server.two_users(PW).await;
    let alice_id = alice.user["id"].as_str().unwrap().to_owned();

    let status = server
        .get_json("/api/mcp/connection/status", &alice.token)
        .await;
    assert_eq!(auth_state(&status), "needs_authorization");

    // No token: the answer is a sign-in link at the discovered authorization server, a flow,
    // and the bind cookie.
    let (answer, cookie) = reinitialize(&server, &alice).await;
    assert_eq!(answer["success"], true, "{answer}");
    assert_eq!(answer["oauthRequired"], true);
    assert_eq!(answer["flowId"], format!("{alice_id}:guarded"));
    let cookie = cookie.expect("reinitialize binds the browser");
    let url = answer["oauthUrl"].as_str().unwrap();
    let parsed = url::Url::parse(url).unwrap();
    assert_eq!(parsed.path(), "/authorize");
    let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["resource"], format!("http://127.0.0.1:{}/mcp", peer.port));
    assert_eq!(
        peer.record().await["registered"],
        1,
        "a client was registered"
    );
    let flow = format!("/api/mcp/oauth/status/{alice_id}:guarded");
    let pending = server.get_json(&flow, &alice.token).await;
    assert_eq!(pending["status"], "PENDING");
    let status = server
        .get_json("/api/mcp/connection/status", &alice.token)
        .await;
    assert_eq!(auth_state(&status), "authorizing");

    // Another person may not read the flow.
    let resp = server.get_as(&flow, &bob.token).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "Access denied"
    );
    let resp = server
        .get_as(
            &format!("/api/mcp/oauth/tokens/{alice_id}:guarded"),
            &bob.token,
        )
        .await;
    assert_eq!(resp.status(), 403);

    let back = approve(url).await;
    // Another state, or no bound browser: refused, and the sign-in still waits.
    let forged = back.replace("state=", "state=x");
    assert_eq!(
        callback(&server, &forged, Some(&cookie)).await,
        "/oauth/error?error=invalid_state"
    );
    assert_eq!(
        callback(&server, &back, None).await,
        "/oauth/error?error=csrf_validation_failed"
    );
    assert_eq!(
        callback(&server, &back, Some("oauth_csrf=forged")).await,
        "/oauth/error?error=csrf_validation_failed"
    );
    assert_eq!(server.count("mcp_oauth").await, 0);
    assert_eq!(
        callback(&server, &back, Some(&cookie)).await,
        "/oauth/success?serverName=guarded"
    );
    assert_eq!(peer.record().await["codes"], 1);
    let done = server.get_json(&flow, &alice.token).await;
    assert_eq!(
        done,
        json!({"status": "COMPLETED", "completed": true, "failed": false})
    );
    // Stored encrypted.
    let stored: String = server
        .state
        .db
        .read(|c| c.query_row("SELECT access_token FROM mcp_oauth", [], |r| r.get(0)))
        .await
        .unwrap();
    assert!(stored.starts_with("v3:"), "{stored}");
    let status = server
        .get_json("/api/mcp/connection/status", &alice.token)
        .await;
    assert_eq!(auth_state(&status), "authorized");

    // The tools work with the token. It lasts 5 s, under the refresh margin: the connection
    // refreshed it first (the old one then stops working at the server).
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["guarded"],
        "whoami_mcp_guarded",
        json!({}),
    )
    .await;
    assert_eq!(output(&frames, "whoami_mcp_guarded"), "alice (refreshed)");
    let record = peer.record().await;
    assert!(record["refreshed"].as_u64().unwrap() >= 1, "{record}");
    assert_eq!(record["codes"], 1);
    // The resource indicator went with the code and the refresh.
    assert!(
        record["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r == &json!(format!("http://127.0.0.1:{}/mcp", peer.port)))
    );

    // Reconnecting refreshes again (the rotated refresh token was stored).
    let before = peer.record().await["refreshed"].as_u64().unwrap();
    let (answer, _) = reinitialize(&server, &alice).await;
    assert_eq!(answer["oauthRequired"], false, "{answer}");
    assert_eq!(answer["success"], true, "{answer}");
    assert!(peer.record().await["refreshed"].as_u64().unwrap() > before);
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["guarded"],
        "whoami_mcp_guarded",
        json!({}),
    )
    .await;
    assert_eq!(output(&frames, "whoami_mcp_guarded"), "alice (refreshed)");

    // Bob never signed in.
    let status = server
        .get_json("/api/mcp/connection/status/guarded", &bob.token)
        .await;
    assert_eq!(status["authorizationState"], "needs_authorization");

    // Uninstalling the server's plugin signs Alice out of it, as in LibreChat.
    let resp = server
        .send(
            "POST",
            "/api/user/plugins",
            &alice.token,
            json!({"pluginKey": "mcp_guarded", "action": "uninstall", "auth": {}}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(server.count("mcp_oauth").await, 0);
    // Its tokens were revoked at the authorization server's revocation endpoint (RFC 7009),
    // the access token and the refresh token.
    assert_eq!(peer.record().await["revoked"], 2);
    let (answer, _) = reinitialize(&server, &alice).await;
    assert_eq!(answer["oauthRequired"], true, "{answer}");
}

#[tokio::test]
async fn a_sign_in_can_be_cancelled() {
    let peer = OAuthServer::start().await;
    let fake = FakeOpenAi::start().await;
    // Without `requiresOAuth`: the server's 401 and metadata tell, at start.
    let server = server(&fake, &peer.yaml_unsaid()).await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let servers = server.get_json("/api/mcp/servers", &bob.token).await;
    assert_eq!(servers["guarded"]["requiresOAuth"], true, "{servers}");
    let cancel = |s: &Session| {
        let token = s.token.clone();
        let server = &server;
        async move {
            let resp = server
                .send("POST", "/api/mcp/oauth/cancel/guarded", &token, json!({}))
                .await;
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(
        cancel(&bob).await,
        json!({"success": true, "message": "No active OAuth flow to cancel"})
    );
    let (answer, cookie) = reinitialize(&server, &bob).await;
    let url = answer["oauthUrl"].as_str().unwrap().to_owned();
    let flow_id = answer["flowId"].as_str().unwrap().to_owned();
    assert_eq!(
        cancel(&bob).await["message"],
        "OAuth flow for guarded cancelled successfully"
    );
    let flow = server
        .get_json(&format!("/api/mcp/oauth/status/{flow_id}"), &bob.token)
        .await;
    assert_eq!(flow["status"], "FAILED");
    assert_eq!(flow["error"], "User cancelled OAuth flow");
    // The cancelled flow's callback is refused.
    let back = approve(&url).await;
    assert_eq!(
        callback(&server, &back, cookie.as_deref()).await,
        "/oauth/error?error=invalid_state"
    );
    assert_eq!(server.count("mcp_oauth").await, 0);
    let resp = server
        .get_as(&format!("/api/mcp/oauth/tokens/{flow_id}"), &bob.token)
        .await;
    assert_eq!(resp.status(), 400);
    // A provider's refusal lands on the error page with its reason.
    assert_eq!(
        callback(
            &server,
            "/api/mcp/guarded/oauth/callback?error=access_denied&state=x",
            None
        )
        .await,
        "/oauth/error?error=access_denied"
    );
    assert_eq!(
        callback(&server, "/api/mcp/guarded/oauth/callback?state=x", None).await,
        "/oauth/error?error=missing_code"
    );
}

#[tokio::test]
async fn an_agents_call_shows_a_sign_in_and_goes_on_once_signed_in() {
    let peer = OAuthServer::start().await;
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &peer.yaml()).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let resp = server
        .send(
            "POST",
            "/api/agents",
            &alice.token,
            json!({"provider": "openAI", "model": "caller", "name": "Signer",
                   "tools": ["whoami_mcp_guarded"]}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let agent: Value = resp.json().await.unwrap();
    fake.script(
        "caller",
        ToolScript::calls([("whoami_mcp_guarded", json!({}))]),
    );
    let body = json!({"text": "Who am I?", "endpoint": "agents", "agent_id": agent["id"]});
    let id = server.start_chat(&alice, "agents", body).await;
    let mut frames = Frames::open(&server, &alice, &id).await;
    // The call shows the sign-in link (LibreChat's `auth` on the call's step) and waits.
    let link = loop {
        let f = frames.next().await.expect("a sign-in link before the end");
        assert_ne!(f["final"], true, "the turn ended without a sign-in: {f}");
        if f["event"] == "on_run_step_delta"
            && let Some(link) = f["data"]["delta"]["auth"].as_str()
        {
            assert_eq!(
                f["data"]["delta"]["tool_calls"][0]["name"],
                "whoami_mcp_guarded"
            );
            assert!(f["data"]["delta"]["expires_at"].as_i64().unwrap() > 0);
            break link.to_owned();
        }
    };
    follow(&server, &alice, &link).await;
    let frames = frames.until_final().await;
    assert_eq!(output(&frames, "whoami_mcp_guarded"), "alice (refreshed)");
}

#[tokio::test]
async fn a_token_the_server_stops_taking_is_refreshed_and_the_call_goes_on() {
    // Tokens that last an hour: nothing is refreshed before the server refuses one.
    let peer = OAuthServer::start_with_ttl(3600).await;
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &peer.yaml()).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let (answer, cookie) = reinitialize(&server, &alice).await;
    let back = approve(answer["oauthUrl"].as_str().unwrap()).await;
    assert_eq!(
        callback(&server, &back, cookie.as_deref()).await,
        "/oauth/success?serverName=guarded"
    );
    let whoami = || {
        ask(
            &fake,
            &server,
            &alice,
            &["guarded"],
            "whoami_mcp_guarded",
            json!({}),
        )
    };
    assert_eq!(
        output(&whoami().await, "whoami_mcp_guarded"),
        "alice (code)"
    );
    assert_eq!(peer.record().await["refreshed"], 0);

    // The server stops taking the token mid-session: the call is refused (401) before the
    // tool runs, the token refreshed, and the call made again on a new connection.
    peer.revoke().await;
    assert_eq!(
        output(&whoami().await, "whoami_mcp_guarded"),
        "alice (refreshed)"
    );
    assert_eq!(peer.record().await["refreshed"], 1);

    // Refused again, and the refresh token gone too: the person must sign in again, and the
    // call says so instead of failing on the server's 401.
    peer.revoke().await;
    let stored: i64 = server
        .state
        .db
        .write(|c| Ok(c.execute("UPDATE mcp_oauth SET refresh_token = NULL", [])? as i64))
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let status = server
        .get_json("/api/mcp/connection/status/guarded", &alice.token)
        .await;
    assert_eq!(status["requiresOAuth"], true, "{status}");
    let (answer, _) = reinitialize(&server, &alice).await;
    assert_eq!(answer["oauthRequired"], true, "{answer}");
}

#[tokio::test]
async fn a_plain_chat_shows_the_sign_in_first_and_then_has_the_tools() {
    let peer = OAuthServer::start().await;
    let fake = FakeOpenAi::start().await;
    let server = server(&fake, &peer.yaml()).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    fake.script(
        "caller",
        ToolScript::calls([("whoami_mcp_guarded", json!({}))]),
    );
    let body =
        json!({"text": "Who am I?", "model": "caller", "ephemeralAgent": {"mcp": ["guarded"]}});
    let id = server.start_chat(&alice, "openAI", body).await;
    let mut frames = Frames::open(&server, &alice, &id).await;
    // Before the model runs: LibreChat's step with the call `oauth_mcp_guarded`, then its link.
    let step = loop {
        let f = frames.next().await.expect("the sign-in step");
        assert_ne!(f["final"], true, "the turn ended without a sign-in: {f}");
        if f["event"] == "on_run_step" {
            break f;
        }
    };
    assert_eq!(step["data"]["runId"], "USE_PRELIM_RESPONSE_MESSAGE_ID");
    assert_eq!(step["data"]["id"], "step_oauth_login_guarded");
    assert_eq!(
        step["data"]["stepDetails"]["tool_calls"][0]["name"],
        "oauth_mcp_guarded"
    );
    let f = frames.next().await.expect("the link");
    assert_eq!(f["event"], "on_run_step_delta", "{f}");
    let link = f["data"]["delta"]["auth"]
        .as_str()
        .expect("a link")
        .to_owned();
    assert!(f["data"]["delta"]["expires_at"].as_i64().unwrap() > 0);
    assert!(
        fake.requests().is_empty(),
        "the model waits for the sign-in"
    );

    follow(&server, &alice, &link).await;
    let frames = frames.until_final().await;
    // The link was taken away, and the model had the server's tools.
    assert!(frames.iter().any(|f| f["event"] == "on_run_step_delta"
        && f["data"]["id"] == "step_oauth_login_guarded"
        && f["data"]["delta"].get("auth").is_none()));
    assert_eq!(output(&frames, "whoami_mcp_guarded"), "alice (refreshed)");
}

/// `oauth_headers` go with every request of the sign-in: discovery, registration, the code's
/// exchange, the refresh and the revocation; the MCP requests themselves do not carry them.
#[tokio::test]
async fn oauth_headers_go_with_each_request_of_the_sign_in() {
    let peer = OAuthServer::start().await;
    let fake = FakeOpenAi::start().await;
    let yaml = format!(
        "{}    oauth_headers:\n      X-OAuth-Test: tenant-7\n",
        peer.yaml()
    );
    let server = server(&fake, &yaml).await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let (answer, cookie) = reinitialize(&server, &alice).await;
    let url = answer["oauthUrl"].as_str().unwrap();
    let back = approve(url).await;
    assert_eq!(
        callback(&server, &back, cookie.as_deref()).await,
        "/oauth/success?serverName=guarded"
    );
    // The token lasts 5 s, under the refresh margin: the call refreshes it first.
    let frames = ask(
        &fake,
        &server,
        &alice,
        &["guarded"],
        "whoami_mcp_guarded",
        json!({}),
    )
    .await;
    assert_eq!(output(&frames, "whoami_mcp_guarded"), "alice (refreshed)");
    let resp = server
        .send(
            "POST",
            "/api/user/plugins",
            &alice.token,
            json!({"pluginKey": "mcp_guarded", "action": "uninstall", "auth": {}}),
        )
        .await;
    assert_eq!(resp.status(), 200);

    let record = peer.record().await;
    assert_eq!(record["revoked"], 2, "{record}");
    let seen: Vec<&str> = record["oauth_headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let times = |what: &str| seen.iter().filter(|s| **s == what).count();
    assert!(
        times("GET /.well-known/oauth-protected-resource/mcp tenant-7") >= 1,
        "{seen:?}"
    );
    assert!(
        times("GET /.well-known/oauth-authorization-server tenant-7") >= 1,
        "{seen:?}"
    );
    assert_eq!(times("POST /register tenant-7"), 1, "{seen:?}");
    // The code's exchange and at least one refresh.
    assert!(times("POST /token tenant-7") >= 2, "{seen:?}");
    assert_eq!(times("POST /revoke tenant-7"), 2, "{seen:?}");
    // The only request to the MCP endpoint with them is discovery's bare one, unauthenticated.
    assert!(times("POST /mcp tenant-7") <= 1, "{seen:?}");
}
