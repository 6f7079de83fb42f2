//! An OAuth action's sign-in across two replicas sharing one PostgreSQL database and one
//! Redis (separate servers, each with its own memory): the call waits on replica A, the
//! browser binds itself through A, the provider sends it back to replica B, and the call on A
//! goes on with the person's token.

use serde_json::{Value, json};

use super::oauth::{location_of, sign_in_link};
use crate::support::fake_api::{CLIENT_ID, CLIENT_SECRET};
use crate::support::fake_tools::ToolScript;
use crate::support::redis::Redis;
use crate::*;

#[tokio::test]
async fn a_call_waiting_on_one_replica_goes_on_when_the_callback_reaches_another() {
    let (Some(redis), Some(database)) = (Redis::start(), support::postgres::fresh_database())
    else {
        return;
    };
    let env = [
        ("DATABASE_URL", database.as_str()),
        ("USE_REDIS", "true"),
        ("REDIS_URI", redis.url.as_str()),
    ];
    let fake = FakeOpenAi::start().await;
    let api = FakeApi::start("http://example.com/").await;
    let a = server(&fake, &yaml(&api, ""), &env).await;
    let b = server(&fake, &yaml(&api, ""), &env).await;
    let s = a.signed_in("alice@example.org", PW).await;
    let agent_id = agent(&a, &s).await;
    let auth = json!({
        "auth": {"type": "oauth", "authorization_url": format!("{}/oauth/authorize", api.base),
                 "client_url": format!("{}/oauth/token", api.base), "scope": "read",
                 "token_exchange_method": "default_post"},
        "oauth_client_id": CLIENT_ID, "oauth_client_secret": CLIENT_SECRET,
    });
    let action = saved(&a, &s, &agent_id, &api.spec(), &["getMe"], auth).await;
    let action_id = action["action_id"].as_str().unwrap().to_owned();
    fake.script(
        MODEL,
        ToolScript::calls([(tool("getMe").as_str(), json!({}))]),
    );
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();

    // The call runs and waits on A.
    let id = start(&a, &s, &agent_id, "who am I?").await;
    let mut frames = Frames::open(&a, &s, &id).await;
    let link = sign_in_link(&mut frames).await;
    let back = url::Url::parse(&location_of(&browser, &link, None).await).unwrap();
    let path = format!("{}?{}", back.path(), back.query().unwrap());

    // The browser binds itself through A; the provider sends it back to B.
    let bind = a
        .send(
            "POST",
            &format!("/api/actions/{action_id}/oauth/bind"),
            &s.token,
            json!({}),
        )
        .await;
    assert_eq!(bind.status(), 200);
    let cookie = bind.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    // Another browser's cookie on B: refused, and the sign-in still waits.
    let to = location_of(&browser, &b.url(&path), Some("oauth_csrf=forged")).await;
    assert_eq!(to, "/oauth/error?error=csrf_validation_failed");
    let to = location_of(&browser, &b.url(&path), Some(&cookie)).await;
    assert_eq!(to, format!("/oauth/success?serverName=Action+{action_id}"));
    // Spent on every replica: the same callback again, on A or B.
    for r in [&a, &b] {
        let to = location_of(&browser, &r.url(&path), Some(&cookie)).await;
        assert_eq!(to, "/oauth/error?error=invalid_state");
    }

    // The call waiting on A learned it and went on with Alice's token.
    let rest = frames.until_final().await;
    let out = outputs(&rest.last().unwrap()["responseMessage"]);
    assert_eq!(
        serde_json::from_str::<Value>(&out[0]).unwrap(),
        json!({"user": "oauth-person"})
    );
    assert_eq!(b.count("action_tokens").await, 1);
}
