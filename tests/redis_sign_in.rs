//! Sign-ins in flight are shared through Redis (`USE_REDIS`): an OpenID sign-in begun on one
//! replica finishes on another (each with its own data folder), its state works once across
//! both, and without Redis a sign-in fails closed with a clear message. Against real peers:
//! redis-server and oidc-provider-mock (each skipped with a note where missing).

mod support;

use serde_json::json;
use support::TestServer;
use support::oidc::{OidcProvider, to_provider_and_back};
use support::redis::Redis;
use support::sso::{Landing, get, landing, location, no_redirects};

async fn replica(redis: &Redis, idp: &OidcProvider) -> TestServer {
    TestServer::builder()
        .env("USE_REDIS", "true")
        .env("REDIS_URI", &redis.url)
        .env("OPENID_CLIENT_ID", "librechat")
        .env("OPENID_CLIENT_SECRET", "client-secret")
        .env("OPENID_ISSUER", &idp.issuer)
        .env("OPENID_SESSION_SECRET", "session-secret")
        .env("ALLOW_SOCIAL_LOGIN", "true")
        .env("LOGIN_MAX", "1000")
        .start()
        .await
}

/// Starts a sign-in on `server` as `sub` and goes through the provider: the callback's path
/// and query, and the browser's sign-in cookie.
async fn begin(server: &TestServer, sub: &str) -> (String, String) {
    let (back, cookie) = to_provider_and_back(server, sub).await;
    let path = &back[back.find("/oauth/openid/callback?").expect("a callback")..];
    (path.to_owned(), cookie)
}

#[tokio::test]
async fn a_sign_in_begun_on_one_replica_finishes_on_another_once() {
    let Some(redis) = Redis::start() else { return };
    let alice = json!({"sub": "alice", "email": "alice@example.org", "email_verified": true});
    let Some(idp) = OidcProvider::start(&[alice]) else {
        return;
    };
    let (a, b) = (replica(&redis, &idp).await, replica(&redis, &idp).await);

    let (callback, cookie) = begin(&a, "alice").await;
    let on_b = landing(&get(&b.url(&callback), Some(&cookie)).await);
    assert!(matches!(on_b, Landing::SignedIn(_)), "{on_b:?}");
    // The state was used up on B: brought again to A, it is refused.
    match landing(&get(&a.url(&callback), Some(&cookie)).await) {
        Landing::Refused(message) => assert!(message.contains("expired"), "{message}"),
        other => panic!("replayed: {other:?}"),
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn without_redis_a_sign_in_fails_closed_with_a_clear_message() {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let Some(idp) = OidcProvider::start(&[json!({"sub": "bob", "email": "bob@example.org"})])
    else {
        return;
    };
    let server = replica(&redis, &idp).await;
    let (callback, cookie) = begin(&server, "bob").await;
    redis.kill();
    // Its state is out of reach: finishing is refused, and so is starting another.
    match landing(&get(&server.url(&callback), Some(&cookie)).await) {
        Landing::Refused(message) => assert!(message.contains("unavailable"), "{message}"),
        other => panic!("without Redis: {other:?}"),
    }
    let start = no_redirects()
        .get(server.url("/oauth/openid"))
        .send()
        .await
        .unwrap();
    let to = location(&start);
    assert!(to.contains("/login?") && to.contains("unavailable"), "{to}");
    server.stop().await;
}
