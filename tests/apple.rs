//! Sign in with Apple against a local server following Apple's documented endpoints: the
//! form-POST callback, the ES256 client secret, ID tokens checked against Apple's keys, the
//! name Apple sends only the first time, the linking rule, and the refusals: a token signed by
//! another key, `alg: none`, a wrong nonce, an unverified email, a replayed callback.

mod support;

use reqwest::header::LOCATION;
use serde_json::Value;
use support::TestServer;
use support::fake_apple::{CLIENT_ID, FakeApple, KEY_ID, TEAM_ID};
use support::sso::{no_redirects as http, post_form as post_back, user};

const PW: &str = "correct horse battery";

fn builder(fake: &FakeApple) -> support::Builder {
    TestServer::builder()
        .env("ALLOW_SOCIAL_LOGIN", "true")
        .env("ALLOW_SOCIAL_REGISTRATION", "true")
        .env("LOGIN_MAX", "1000")
        .env("APPLE_CLIENT_ID", CLIENT_ID)
        .env("APPLE_TEAM_ID", TEAM_ID)
        .env("APPLE_KEY_ID", KEY_ID)
        .env(
            "APPLE_PRIVATE_KEY_PATH",
            fake.team_key_path.to_str().unwrap(),
        )
        .env("APPLE_OAUTH_BASE_URL", &fake.base)
}

/// Goes to "Apple" as `login` and posts back what its page would; the refresh cookie, or
/// the login page's message. Also returns the form, to replay it.
async fn sign_in(
    server: &TestServer,
    login: &str,
    first: bool,
) -> (Result<String, String>, Vec<(String, String)>) {
    let start = http().get(server.url("/oauth/apple")).send().await.unwrap();
    assert_eq!(start.status(), 302);
    let authorize = start.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(authorize.contains("response_mode=form_post") && authorize.contains("nonce="));
    let extra = if first { "&first=1" } else { "" };
    let page: Value = http()
        .get(format!("{authorize}&login={login}{extra}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut form = vec![
        ("code".to_owned(), page["code"].as_str().unwrap().to_owned()),
        (
            "state".to_owned(),
            page["state"].as_str().unwrap().to_owned(),
        ),
    ];
    if let Some(u) = page["user"].as_str() {
        form.push(("user".into(), u.to_owned()));
    }
    let outcome = post_back(page["action"].as_str().unwrap(), &form).await;
    (outcome, form)
}

#[tokio::test]
async fn sign_in_with_apple_and_its_refusals() {
    let fake = FakeApple::start().await;
    let local = TestServer::start().await;
    local.register("local@example.org", PW).await;
    let server = builder(&fake).in_dir(local.stop().await).start().await;
    let config: Value = server.get("/api/config").await.json().await.unwrap();
    assert_eq!(config["appleLoginEnabled"], true);

    // The first time Apple sends the name; later it does not, and the account is the same.
    let (first, form) = sign_in(&server, "ann", true).await;
    let u = user(&server, &first.unwrap()).await;
    assert_eq!(u["provider"], "apple");
    assert_eq!(u["email"], "ann@example.org");
    assert_eq!(u["name"], "Ann Apple");
    let (again, _) = sign_in(&server, "ann", false).await;
    let again = user(&server, &again.unwrap()).await;
    assert_eq!(again["id"], u["id"]);
    assert_eq!(again["name"], "Ann Apple");
    // The same posted form a second time.
    let replay = post_back(&server.url("/oauth/apple/callback"), &form).await;
    assert!(replay.unwrap_err().contains("expired or was not started"));

    for (login, why) in [
        ("local", "signs in another way"),
        ("unverified", "no verified email"),
        ("wrongkey", "Sign in with Apple failed"),
        ("unsigned", "Sign in with Apple failed"),
        ("badnonce", "Sign in with Apple failed"),
    ] {
        let (outcome, _) = sign_in(&server, login, false).await;
        let message = outcome.expect_err(login);
        assert!(message.contains(why), "{login}: {message}");
    }
    assert_eq!(server.count("users").await, 2, "the local account and Ann");

    // A state never issued, and Apple's own refusal.
    let forged = vec![
        ("code".to_owned(), "x".to_owned()),
        ("state".to_owned(), "nope".to_owned()),
    ];
    assert!(
        post_back(&server.url("/oauth/apple/callback"), &forged)
            .await
            .is_err()
    );
    let refused = vec![("error".to_owned(), "user_cancelled_authorize".to_owned())];
    assert!(
        post_back(&server.url("/oauth/apple/callback"), &refused)
            .await
            .unwrap_err()
            .contains("user_cancelled_authorize")
    );
}

#[tokio::test]
async fn a_key_file_that_is_not_an_apple_key_is_a_clear_start_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("key.p8");
    std::fs::write(&bad, "not a key").unwrap();
    let env = librechat::config::Env::from_pairs([
        ("APPLE_CLIENT_ID", CLIENT_ID),
        ("APPLE_TEAM_ID", TEAM_ID),
        ("APPLE_KEY_ID", KEY_ID),
        ("APPLE_PRIVATE_KEY_PATH", bad.to_str().unwrap()),
    ]);
    let err = librechat::config::AppleSettings::from_env(&env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("APPLE_PRIVATE_KEY_PATH"), "{err}");
}
