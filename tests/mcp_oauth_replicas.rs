//! An MCP server's sign-in across two replicas sharing one PostgreSQL database and one Redis
//! (separate servers, each with its own memory, as tests/redis_streams.rs runs them), against
//! tests/mcp/oauth_server.py: an agent's call on replica A shows the sign-in link and waits; B
//! tells the flow's status; the browser binds itself through A; the provider sends it back to
//! B; both replicas then tell the flow completed, and the call on A goes on with the token.
//! The second test runs the same across two processes of the real binary.
//! Skipped with a note where PostgreSQL or Redis is missing.

mod support;

use serde_json::{Value, json};
use support::cluster::Remote;
use support::fake_openai::FakeOpenAi;
use support::fake_tools::ToolScript;
use support::mcp::{OAuthServer, PW, bind_cookie, browser, callback, location, output};
use support::redis::Redis;
use support::stream::Frames;
use support::{Session, TestServer};

async fn replica(
    fake: &FakeOpenAi,
    peer: &OAuthServer,
    redis: &Redis,
    database: &str,
) -> TestServer {
    TestServer::builder()
        .env("OPENAI_API_KEY", support::fake_openai::KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "caller,gpt-4o")
        .env("DATABASE_URL", database)
        .env("USE_REDIS", "true")
        .env("REDIS_URI", &redis.url)
        .yaml(&peer.yaml())
        .start()
        .await
}

async fn flow_status(server: &TestServer, s: &Session, flow: &str) -> Value {
    server
        .get_json(&format!("/api/mcp/oauth/status/{flow}"), &s.token)
        .await
}

#[tokio::test]
async fn a_sign_in_started_on_one_replica_finishes_through_another() {
    let (Some(redis), Some(database)) = (Redis::start(), support::postgres::fresh_database())
    else {
        return;
    };
    let peer = OAuthServer::start().await;
    let fake = FakeOpenAi::start().await;
    let a = replica(&fake, &peer, &redis, &database).await;
    let b = replica(&fake, &peer, &redis, &database).await;
    let (alice, bob) = a.two_users(PW).await;
    let alice_id = alice.user["id"].as_str().unwrap().to_owned();
    let flow = format!("{alice_id}:guarded");

    // An agent's call on A needs the sign-in: it shows the link and waits.
    let resp = a
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
    let id = a.start_chat(&alice, "agents", body).await;
    let mut frames = Frames::open(&a, &alice, &id).await;
    let link = loop {
        let f = frames.next().await.expect("a sign-in link before the end");
        assert_ne!(f["final"], true, "the turn ended without a sign-in: {f}");
        if f["event"] == "on_run_step_delta"
            && let Some(link) = f["data"]["delta"]["auth"].as_str()
        {
            break link.to_owned();
        }
    };

    // B knows the flow A started, and keeps it to its person.
    assert_eq!(flow_status(&b, &alice, &flow).await["status"], "PENDING");
    let resp = b
        .get_as(&format!("/api/mcp/oauth/status/{flow}"), &bob.token)
        .await;
    assert_eq!(resp.status(), 403);

    // The browser binds itself through A; the provider sends it back to B.
    let bind = a
        .send(
            "POST",
            "/api/mcp/guarded/oauth/bind",
            &alice.token,
            json!({}),
        )
        .await;
    assert_eq!(bind.status(), 200);
    let cookie = bind_cookie(&bind);
    let to = location(&browser().get(&link).send().await.unwrap());
    let to = url::Url::parse(&to).unwrap();
    assert_eq!(to.path(), "/api/mcp/guarded/oauth/callback");
    let back = format!("{}?{}", to.path(), to.query().unwrap());
    // Without the bound browser's cookie, or with a forged state: refused, still waiting.
    assert_eq!(
        callback(&b, &back, Some("oauth_csrf=forged")).await,
        "/oauth/error?error=csrf_validation_failed"
    );
    let forged = back.replace("state=", "state=x");
    assert_eq!(
        callback(&b, &forged, Some(&cookie)).await,
        "/oauth/error?error=invalid_state"
    );
    assert_eq!(flow_status(&a, &alice, &flow).await["status"], "PENDING");
    assert_eq!(
        callback(&b, &back, Some(&cookie)).await,
        "/oauth/success?serverName=guarded"
    );
    // Taken once: the same callback again, through either replica.
    for r in [&a, &b] {
        assert_eq!(
            callback(r, &back, Some(&cookie)).await,
            "/oauth/error?error=invalid_state"
        );
    }
    let done = json!({"status": "COMPLETED", "completed": true, "failed": false});
    assert_eq!(flow_status(&a, &alice, &flow).await, done);
    assert_eq!(flow_status(&b, &alice, &flow).await, done);
    assert_eq!(peer.record().await["codes"], 1);

    // The call waiting on A learned the sign-in ended on B, and went on with the token.
    let frames = frames.until_final().await;
    assert_eq!(output(&frames, "whoami_mcp_guarded"), "alice (refreshed)");
    // The PKCE verifier and client were stored sealed, never in the clear.
    let secret: String = b
        .state
        .db
        .read(|c| c.query_row("SELECT secret FROM oauth_flows", [], |r| r.get(0)))
        .await
        .unwrap();
    assert!(secret.starts_with("v3:"), "{secret}");
}

/// The same across two replicas of the real binary (child processes, as packaging/compose runs
/// them): the sign-in starts on A (`/reinitialize`), B tells its status, the browser binds
/// through A and comes back to B, and both then tell it completed and B connects as Alice.
#[tokio::test]
async fn two_processes_share_a_sign_in() {
    let (Some(redis), Some(database)) = (Redis::start(), support::postgres::fresh_database())
    else {
        return;
    };
    let peer = OAuthServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("librechat.yaml");
    std::fs::write(&yaml, peer.yaml()).unwrap();
    let start = |i: usize| {
        let home = dir.path().join(format!("replica{i}"));
        std::fs::create_dir_all(home.join("data")).unwrap();
        let mut cmd = support::librechat(&home);
        cmd.env("LIBRECHAT_DATA_DIR", home.join("data"))
            .env("CONFIG_PATH", &yaml)
            .env("DATABASE_URL", &database)
            .env("USE_REDIS", "true")
            .env("REDIS_URI", &redis.url);
        for (k, v) in support::SHARED_SECRETS {
            cmd.env(k, v);
        }
        support::ServeProcess::start(cmd)
    };
    let (first, second) = (start(1), start(2));
    let (a, b) = (Remote::new(&first.base), Remote::new(&second.base));
    let (token, user_id) = a.signed_in("alice@example.org", PW).await;
    let flow = format!("/api/mcp/oauth/status/{user_id}:guarded");

    let resp = a
        .send("POST", "/api/mcp/guarded/reinitialize", &token, json!({}))
        .await;
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["flowId"], format!("{user_id}:guarded"), "{answer}");
    let link = answer["oauthUrl"]
        .as_str()
        .expect("a sign-in link")
        .to_owned();
    assert_eq!(b.get_json(&flow, &token).await["status"], "PENDING");

    let bind = a
        .send("POST", "/api/mcp/guarded/oauth/bind", &token, json!({}))
        .await;
    assert_eq!(bind.status(), 200);
    let cookie = bind_cookie(&bind);
    let to = location(&browser().get(&link).send().await.unwrap());
    let to = url::Url::parse(&to).unwrap();
    let back = format!("{}?{}", to.path(), to.query().unwrap());
    let landed = location(
        &browser()
            .get(b.url(&back))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap(),
    );
    assert!(
        landed.ends_with("/oauth/success?serverName=guarded"),
        "{landed}"
    );
    for r in [&a, &b] {
        assert_eq!(r.get_json(&flow, &token).await["status"], "COMPLETED");
    }
    let status = b.get_json("/api/mcp/connection/status", &token).await;
    assert_eq!(
        status["connectionStatus"]["guarded"]["authorizationState"], "authorized",
        "{status}"
    );
}
