//! Sign in with Apple against a local server following Apple's documented endpoints: the
//! form-POST callback, the ES256 client secret, ID tokens checked against Apple's keys, the
//! name Apple sends only the first time, the linking rule, and the refusals: a token signed by
//! another key, `alg: none`, a wrong nonce, an unverified email, a replayed callback.

mod support;

use reqwest::header::LOCATION;
use serde_json::Value;
use support::TestServer;
use support::fake_apple::{CLIENT_ID, FakeApple, KEY_ID, TEAM_ID};
use support::sso::{
    Landing, code_now, enable_two_factor, get, landing, no_redirects as http, outcome,
    post_form as post_back, post_form_landing, post_form_only, second_step, session,
    sign_in_cookie, user,
};

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

/// Goes to "Apple" as `login` in a new browser; the form its page would post back, and the
/// browser's sign-in cookie.
async fn to_apple(
    server: &TestServer,
    login: &str,
    first: bool,
) -> (Vec<(String, String)>, String) {
    let start = http().get(server.url("/oauth/apple")).send().await.unwrap();
    assert_eq!(start.status(), 302);
    let cookie = sign_in_cookie(&start);
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
    assert_eq!(page["action"], server.url("/oauth/apple/callback"));
    (form, cookie)
}

/// Goes to "Apple" as `login` and posts back what its page would, in one browser; the
/// refresh cookie, or the login page's message. Also returns the form and the browser's
/// cookie, to replay it.
async fn sign_in(
    server: &TestServer,
    login: &str,
    first: bool,
) -> (Result<String, String>, (Vec<(String, String)>, String)) {
    let (form, cookie) = to_apple(server, login, first).await;
    let action = server.url("/oauth/apple/callback");
    let outcome = post_back(&action, &form, Some(&cookie)).await;
    (outcome, (form, cookie))
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
    let (first, (form, cookie)) = sign_in(&server, "ann", true).await;
    let u = user(&server, &first.unwrap()).await;
    assert_eq!(u["provider"], "apple");
    assert_eq!(u["email"], "ann@example.org");
    assert_eq!(u["name"], "Ann Apple");
    let (again, _) = sign_in(&server, "ann", false).await;
    let again = user(&server, &again.unwrap()).await;
    assert_eq!(again["id"], u["id"]);
    assert_eq!(again["name"], "Ann Apple");
    // The same posted form a second time.
    let replay = post_back(&server.url("/oauth/apple/callback"), &form, Some(&cookie)).await;
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
        post_back(&server.url("/oauth/apple/callback"), &forged, None)
            .await
            .is_err()
    );
    let refused = vec![("error".to_owned(), "user_cancelled_authorize".to_owned())];
    assert!(
        post_back(&server.url("/oauth/apple/callback"), &refused, None)
            .await
            .unwrap_err()
            .contains("user_cancelled_authorize")
    );
}

#[tokio::test]
async fn apple_asks_for_the_second_factor_and_keeps_accounts_to_their_subject() {
    let fake = FakeApple::start().await;
    let server = builder(&fake).start().await;
    let (signed, _) = sign_in(&server, "ann", true).await;
    let first = session(&server, &signed.unwrap()).await;
    // Another Apple ID showing Ann's address does not get her account.
    let (refused, _) = sign_in(&server, "mallory~ann", false).await;
    let refused = refused.unwrap_err();
    assert!(
        refused.contains("linked to another Apple account"),
        "{refused}"
    );

    let secret = enable_two_factor(&server, first["token"].as_str().unwrap()).await;
    let (form, cookie) = to_apple(&server, "ann", false).await;
    let action = server.url("/oauth/apple/callback");
    let Landing::TwoFactor(temp) = post_form_landing(&action, &form, Some(&cookie)).await else {
        panic!("signed in without the second factor");
    };
    let resp = second_step(&server, &temp, &code_now(&secret, 1)).await;
    assert_eq!(resp.status(), 200);
    let cookie = support::refresh_cookie(&resp).expect("a session after the code");
    assert_eq!(user(&server, &cookie).await["id"], first["user"]["id"]);
}

#[tokio::test]
async fn apples_post_is_taken_only_in_the_browser_that_started_the_sign_in() {
    let fake = FakeApple::start().await;
    let server = builder(&fake).start().await;
    let action = server.url("/oauth/apple/callback");
    // The attacker's own answer from Apple, posted by the victim's browser, which has no
    // sign-in cookie or one of its own.
    let (attackers, _) = to_apple(&server, "ann", false).await;
    let message = post_back(&action, &attackers, None).await.unwrap_err();
    assert!(message.contains("another browser"), "{message}");
    let (attackers, _) = to_apple(&server, "ann", false).await;
    let (_, victims) = to_apple(&server, "local", false).await;
    let message = post_back(&action, &attackers, Some(&victims))
        .await
        .unwrap_err();
    assert!(message.contains("another browser"), "{message}");
    assert_eq!(server.count("users").await, 0);
    // The POST is held only for the GET it sends that browser on to, once: the address alone
    // (as a proxy's log shows it) resumes nothing.
    let (form, cookie) = to_apple(&server, "ann", false).await;
    let (next, held) = post_form_only(&action, &form).await.unwrap();
    for jar in [
        cookie.clone(),
        format!("{cookie}; librechat_sso_post=0123456789abcdef0123456789abcdef"),
    ] {
        let message = outcome(&get(&next, Some(&jar)).await).unwrap_err();
        assert!(message.contains("expired or was not started"), "{message}");
    }
    let both = format!("{cookie}; {held}");
    assert!(outcome(&get(&next, Some(&both)).await).is_ok());
    assert!(outcome(&get(&next, Some(&both)).await).is_err(), "once");
}

#[tokio::test]
async fn a_malformed_post_goes_back_to_the_login_page() {
    let fake = FakeApple::start().await;
    let server = builder(&fake).start().await;
    let action = server.url("/oauth/apple/callback");
    // Not a form at all, and a form that cannot be read (a field twice): the person lands on
    // the login page with a message, never on a bare 415 or 422.
    for (content_type, body) in [
        ("text/plain", "code=x&state=y"),
        ("application/x-www-form-urlencoded", "code=x&code=y&state=z"),
    ] {
        let resp = http()
            .post(&action)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        match landing(&resp) {
            Landing::Refused(message) => {
                assert!(message.contains("incomplete"), "{content_type}: {message}")
            }
            _ => panic!("{content_type}: not the login page"),
        }
    }
}

#[tokio::test]
async fn the_callback_address_is_on_domain_server_whatever_the_host_header() {
    let fake = FakeApple::start().await;
    let server = builder(&fake)
        .env("DOMAIN_SERVER", "https://chat.example.com")
        .start()
        .await;
    let start = http()
        .get(server.url("/oauth/apple"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    let authorize = start.headers()[LOCATION].to_str().unwrap();
    assert!(
        authorize
            .contains("redirect_uri=https%3A%2F%2Fchat.example.com%2Foauth%2Fapple%2Fcallback"),
        "{authorize}"
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
