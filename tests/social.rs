//! Social sign-in (Google, GitHub with an Enterprise base URL, Discord, Facebook) against a
//! local server that follows each provider's documented endpoints: the code flow with state
//! and PKCE, each provider's user API, the linking rule, ALLOW_SOCIAL_LOGIN and
//! ALLOW_SOCIAL_REGISTRATION, and the refusals: a state mismatch, a replayed callback, a
//! code used twice, an email already used by a local account, an unverified email.

mod support;

use serde_json::Value;
use support::TestServer;
use support::fake_social::{FakeSocial, SECRET};
use support::sso::{
    Landing, code_now, enable_two_factor, get, landing, location, no_redirects as http, outcome,
    second_step, session, sign_in_cookie, user,
};

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

/// Starts a sign-in with `provider` in a new browser and signs in at the provider as
/// `login`; the callback URL the provider sends back, and the browser's sign-in cookie.
async fn there_and_back(server: &TestServer, provider: &str, login: &str) -> (String, String) {
    let start = http()
        .get(server.url(&format!("/oauth/{provider}")))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302);
    let cookie = sign_in_cookie(&start);
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
    (location(&resp), cookie)
}

/// The callback, in the browser holding `cookie`.
async fn callback(url: &str, cookie: &str) -> Result<String, String> {
    outcome(&get(url, Some(cookie)).await)
}

/// A whole sign-in with `provider` as `login`, in one browser: where it lands.
async fn sign_in(server: &TestServer, provider: &str, login: &str) -> Result<String, String> {
    let (back, cookie) = there_and_back(server, provider, login).await;
    callback(&back, &cookie).await
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
        let cookie = sign_in(&server, p, "alice")
            .await
            .unwrap_or_else(|m| panic!("{p}: {m}"));
        let u = user(&server, &cookie).await;
        assert_eq!(u["provider"], p);
        assert_eq!(u["email"], format!("alice.{p}@example.org"));
        assert!(u["name"].as_str().unwrap().starts_with("alice"), "{u}");
        // Again: the same account.
        let again = sign_in(&server, p, "alice").await.unwrap();
        assert_eq!(user(&server, &again).await["id"], u["id"], "{p}");

        // The local account's email is no way in.
        let refused = sign_in(&server, p, "local").await;
        assert!(refused.unwrap_err().contains("signs in another way"), "{p}");
    }
    // GitHub without a public email: the primary verified one from /user/emails.
    let cookie = sign_in(&server, "github", "private").await.unwrap();
    assert_eq!(
        user(&server, &cookie).await["email"],
        "private.github@example.org"
    );
    // An address the provider has not verified opens nothing.
    for p in ["google", "github", "discord"] {
        let refused = sign_in(&server, p, "unverified").await;
        assert!(refused.unwrap_err().contains("verified"), "{p}");
    }
    assert_eq!(server.count("users").await, 6, "local + 4 alices + private");
}

#[tokio::test]
async fn forged_replayed_and_reused_callbacks_are_refused() {
    let fake = FakeSocial::start().await;
    let server = builder(&fake).start().await;
    // A state we never issued.
    let (back, c) = there_and_back(&server, "google", "alice").await;
    let forged = back.replace("state=", "state=forged");
    assert!(
        callback(&forged, &c)
            .await
            .unwrap_err()
            .contains("expired or was not started")
    );
    // The real one still works, once.
    assert!(callback(&back, &c).await.is_ok());
    assert!(callback(&back, &c).await.is_err(), "replayed");
    // A code already used, with a fresh state: the provider refuses it.
    let used_code = url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (fresh, c) = there_and_back(&server, "google", "alice").await;
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
    assert!(callback(&reused, &c).await.unwrap_err().contains("refused"));
    // A state made for one provider does not finish another's sign-in.
    let (github, c) = there_and_back(&server, "github", "alice").await;
    let crossed = github.replace("/oauth/github/callback", "/oauth/discord/callback");
    assert!(callback(&crossed, &c).await.is_err());
    // Nothing in the callback steers where the browser goes afterwards.
    let (back, c) = there_and_back(&server, "facebook", "alice").await;
    let resp = get(
        &format!("{back}&redirect=https://evil.example/&returnTo=//evil.example"),
        Some(&c),
    )
    .await;
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
    let refused = sign_in(&server, "discord", "alice").await;
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

#[tokio::test]
async fn each_provider_asks_for_the_second_factor_of_an_account_that_has_it() {
    let fake = FakeSocial::start().await;
    let server = builder(&fake).start().await;
    for p in PROVIDERS {
        let first = session(&server, &sign_in(&server, p, "alice").await.unwrap()).await;
        let secret = enable_two_factor(&server, first["token"].as_str().unwrap()).await;
        let (back, cookie) = there_and_back(&server, p, "alice").await;
        let Landing::TwoFactor(temp) = landing(&get(&back, Some(&cookie)).await) else {
            panic!("{p}: signed in without the second factor");
        };
        let resp = second_step(&server, &temp, &code_now(&secret, 1)).await;
        assert_eq!(resp.status(), 200, "{p}");
        let cookie = support::refresh_cookie(&resp).expect("a session after the code");
        assert_eq!(
            user(&server, &cookie).await["id"],
            first["user"]["id"],
            "{p}"
        );
    }
}

#[tokio::test]
async fn an_account_is_never_handed_to_another_person_at_the_same_provider() {
    let fake = FakeSocial::start().await;
    let server = builder(&fake).start().await;
    for p in PROVIDERS {
        let alice = user(&server, &sign_in(&server, p, "alice").await.unwrap()).await;
        // Another person there, showing alice's (verified) address.
        let refused = sign_in(&server, p, "mallory~alice").await.unwrap_err();
        assert!(refused.contains("linked to another"), "{p}: {refused}");
        let again = user(&server, &sign_in(&server, p, "alice").await.unwrap()).await;
        assert_eq!(again["id"], alice["id"], "{p}: alice keeps her account");
    }
    assert_eq!(server.count("users").await, 4);

    // Accounts with no subject at the provider yet (as an import from LibreChat may leave):
    // linked by email where the provider says it verified the address; Facebook says nothing.
    server
        .state
        .db
        .write(|c| {
            c.execute(
                "UPDATE users SET google_id = NULL, github_id = NULL, discord_id = NULL,
                 facebook_id = NULL",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    for p in ["google", "github", "discord"] {
        let linked = user(&server, &sign_in(&server, p, "newid~alice").await.unwrap()).await;
        assert_eq!(linked["email"], format!("alice.{p}@example.org"), "{p}");
    }
    let refused = sign_in(&server, "facebook", "newid~alice")
        .await
        .unwrap_err();
    assert!(refused.contains("has not verified"), "{refused}");
    assert_eq!(server.count("users").await, 4);
}

#[tokio::test]
async fn a_callback_brought_by_another_browser_is_refused() {
    let fake = FakeSocial::start().await;
    let server = builder(&fake).start().await;
    for p in PROVIDERS {
        let (attackers, _) = there_and_back(&server, p, "alice").await;
        let none = outcome(&get(&attackers, None).await).unwrap_err();
        assert!(none.contains("another browser"), "{p}: {none}");
        let (attackers, _) = there_and_back(&server, p, "alice").await;
        let (_, victims) = there_and_back(&server, p, "local").await;
        let other = callback(&attackers, &victims).await.unwrap_err();
        assert!(other.contains("another browser"), "{p}: {other}");
    }
    assert_eq!(server.count("users").await, 0);
}

#[tokio::test]
async fn callback_addresses_are_on_domain_server_whatever_the_host_header() {
    let fake = FakeSocial::start().await;
    let server = builder(&fake)
        .env("DOMAIN_SERVER", "https://chat.example.com")
        .start()
        .await;
    for p in PROVIDERS {
        let start = http()
            .get(server.url(&format!("/oauth/{p}")))
            .header("host", "evil.example")
            .send()
            .await
            .unwrap();
        let authorize = location(&start);
        let wanted =
            format!("redirect_uri=https%3A%2F%2Fchat.example.com%2Foauth%2F{p}%2Fcallback");
        assert!(authorize.contains(&wanted), "{p}: {authorize}");
    }
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_public_url_is_https() {
    // A password login, when the public URL of the app is https (a TLS-terminating proxy in
    // front; this hop is plain HTTP).
    let server = TestServer::builder()
        .env("DOMAIN_CLIENT", "https://chat.example.com")
        .start()
        .await;
    server.register("ann@example.org", PW).await;
    let resp = server
        .post_json(
            "/api/auth/login",
            serde_json::json!({"email": "ann@example.org", "password": PW}),
        )
        .await;
    let line = support::refresh_cookie_line(&resp).expect("signed in");
    assert!(line.contains("; Secure"), "{line}");

    // A single sign-on, the whole way, with the proxy serving https://chat.example.com.
    let fake = FakeSocial::start().await;
    let server = builder(&fake)
        .env("DOMAIN_SERVER", "https://chat.example.com")
        .start()
        .await;
    let (back, cookie) = there_and_back(&server, "google", "alice").await;
    assert!(back.starts_with("https://chat.example.com/oauth/google/callback?"));
    let proxied = back.replace("https://chat.example.com", &server.url(""));
    let resp = get(&proxied, Some(&cookie)).await;
    let line = support::refresh_cookie_line(&resp).expect("signed in");
    assert!(line.contains("; Secure"), "{line}");
}

/// A failure on this server's side during a sign-in (here the database, whose bans table is
/// taken away under the running server): the person reads a plain message on the login page,
/// and the cause is in the server's log.
#[test]
fn a_failure_on_this_server_during_sign_in_is_logged_and_told_plainly() {
    let dir = tempfile::tempdir().unwrap();
    // SQLite, under any profile: the table is renamed in its file.
    let mut cmd = support::librechat(dir.path());
    cmd.env("DATABASE_URL", "");
    let server = support::ServeProcess::start(cmd);
    let db = rusqlite::Connection::open(dir.path().join("data/librechat.db")).unwrap();
    db.execute_batch("ALTER TABLE bans RENAME TO bans_elsewhere")
        .unwrap();
    let to = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let resp = http()
                .get(format!("{}/oauth/google", server.base))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 302);
            location(&resp)
        });
    let (_, log) = server.signal_and_wait("TERM");
    let message = url::form_urlencoded::parse(to.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "message")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert_eq!(
        message,
        "Sign-in failed because of a problem on this server. Please try again later."
    );
    let line = log
        .lines()
        .find(|l| l.contains("a sign-in failed on this server"))
        .unwrap_or_else(|| panic!("the cause is logged:\n{log}"));
    assert!(line.contains("no such table: bans"), "{line}");
}
