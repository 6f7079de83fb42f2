//! Social sign-in (Google, GitHub with an Enterprise base URL, Discord, Facebook) against a
//! local server that follows each provider's documented endpoints: the code flow with state
//! and PKCE, each provider's user API, the linking rule, ALLOW_SOCIAL_LOGIN and
//! ALLOW_SOCIAL_REGISTRATION, and the refusals: a state mismatch, a replayed callback, a
//! code used twice, an email already used by a local account, an unverified email.

mod support;

use serde_json::Value;
use support::TestServer;
use support::fake_social::{FakeSocial, SECRET};
use support::sso::{location, no_redirects as http, outcome, user};

const PW: &str = "correct horse battery";
const PROVIDERS: [&str; 4] = ["google", "github", "discord", "facebook"];

fn builder(fake: &FakeSocial) -> support::Builder {
    let mut b = TestServer::builder()
        .env("ALLOW_SOCIAL_LOGIN", "true")
        .env("ALLOW_SOCIAL_REGISTRATION", "true")
        .env("LOGIN_MAX", "1000")
        .env("GOOGLE_OAUTH_BASE_URL", &fake.base)
        .env("GITHUB_ENTERPRISE_BASE_URL", &fake.base)
        .env("DISCORD_OAUTH_BASE_URL", &fake.base)
        .env("FACEBOOK_OAUTH_BASE_URL", &fake.base);
    for p in PROVIDERS {
        let prefix = p.to_uppercase();
        b = b
            .env(&format!("{prefix}_CLIENT_ID"), &format!("{p}-client"))
            .env(&format!("{prefix}_CLIENT_SECRET"), SECRET);
    }
    b
}

/// Starts a sign-in with `provider` and signs in at the provider as `login`; the callback
/// URL the provider sends back.
async fn there_and_back(server: &TestServer, provider: &str, login: &str) -> String {
    let start = http()
        .get(server.url(&format!("/oauth/{provider}")))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302);
    let authorize = location(&start);
    assert!(
        authorize.contains("code_challenge=") && authorize.contains("state="),
        "{authorize}"
    );
    let resp = http()
        .get(format!("{authorize}&login={login}"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    location(&resp)
}

async fn callback(url: &str) -> Result<String, String> {
    outcome(&http().get(url).send().await.unwrap())
}

#[tokio::test]
async fn each_provider_signs_people_in_by_the_linking_rule() {
    let fake = FakeSocial::start().await;
    // A local account whose email a provider will also vouch for.
    let local = TestServer::start().await;
    local.register("local@example.org", PW).await;
    let server = builder(&fake).in_dir(local.stop().await).start().await;
    let config: Value = server.get("/api/config").await.json().await.unwrap();
    for p in PROVIDERS {
        assert_eq!(config[format!("{p}LoginEnabled")], true, "{p}");
    }

    for p in PROVIDERS {
        let back = there_and_back(&server, p, "alice").await;
        let cookie = callback(&back).await.unwrap_or_else(|m| panic!("{p}: {m}"));
        let u = user(&server, &cookie).await;
        assert_eq!(u["provider"], p);
        assert_eq!(u["email"], format!("alice.{p}@example.org"));
        assert!(u["name"].as_str().unwrap().starts_with("alice"), "{u}");
        // Again: the same account.
        let again = callback(&there_and_back(&server, p, "alice").await)
            .await
            .unwrap();
        assert_eq!(user(&server, &again).await["id"], u["id"], "{p}");

        // The local account's email is no way in.
        let refused = callback(&there_and_back(&server, p, "local").await).await;
        assert!(refused.unwrap_err().contains("signs in another way"), "{p}");
    }
    // GitHub without a public email: the primary verified one from /user/emails.
    let cookie = callback(&there_and_back(&server, "github", "private").await)
        .await
        .unwrap();
    assert_eq!(
        user(&server, &cookie).await["email"],
        "private.github@example.org"
    );
    // An address the provider has not verified opens nothing.
    for p in ["google", "discord"] {
        let refused = callback(&there_and_back(&server, p, "unverified").await).await;
        assert!(refused.unwrap_err().contains("verified"), "{p}");
    }
    assert_eq!(server.count("users").await, 6, "local + 4 alices + private");
}

#[tokio::test]
async fn forged_replayed_and_reused_callbacks_are_refused() {
    let fake = FakeSocial::start().await;
    let server = builder(&fake).start().await;
    // A state we never issued.
    let back = there_and_back(&server, "google", "alice").await;
    let forged = back.replace("state=", "state=forged");
    assert!(
        callback(&forged)
            .await
            .unwrap_err()
            .contains("expired or was not started")
    );
    // The real one still works, once.
    assert!(callback(&back).await.is_ok());
    assert!(callback(&back).await.is_err(), "replayed");
    // A code already used, with a fresh state: the provider refuses it.
    let used_code = url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let fresh = there_and_back(&server, "google", "alice").await;
    let state = url::Url::parse(&fresh)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let reused = server.url(&format!(
        "/oauth/google/callback?code={used_code}&state={state}"
    ));
    assert!(callback(&reused).await.unwrap_err().contains("refused"));
    // A state made for one provider does not finish another's sign-in.
    let github = there_and_back(&server, "github", "alice").await;
    let crossed = github.replace("/oauth/github/callback", "/oauth/discord/callback");
    assert!(callback(&crossed).await.is_err());
    // Nothing in the callback steers where the browser goes afterwards.
    let back = there_and_back(&server, "facebook", "alice").await;
    let resp = http()
        .get(format!(
            "{back}&redirect=https://evil.example/&returnTo=//evil.example"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&resp), "/");
    // A provider's own refusal.
    let resp = http()
        .get(server.url("/oauth/google/callback?error=access_denied"))
        .send()
        .await
        .unwrap();
    assert!(location(&resp).starts_with("/login?redirect=false&error="));
}

#[tokio::test]
async fn social_login_and_registration_switches() {
    let fake = FakeSocial::start().await;
    // Registration off: existing accounts only.
    let server = builder(&fake)
        .env("ALLOW_SOCIAL_REGISTRATION", "false")
        .start()
        .await;
    let refused = callback(&there_and_back(&server, "discord", "alice").await).await;
    assert!(refused.unwrap_err().contains("Registration is not allowed"));
    assert_eq!(server.count("users").await, 0);
    // Social login off: not even started.
    let server = builder(&fake)
        .env("ALLOW_SOCIAL_LOGIN", "false")
        .start()
        .await;
    let resp = http()
        .get(server.url("/oauth/google"))
        .send()
        .await
        .unwrap();
    assert!(location(&resp).starts_with("/login?redirect=false&error="));
    // Unknown provider names.
    let resp = http()
        .get(server.url("/oauth/myspace"))
        .send()
        .await
        .unwrap();
    assert!(location(&resp).starts_with("/login?"));
}
