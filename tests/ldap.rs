//! LDAP sign-in against a real slapd: the directory checks passwords, accounts are made and
//! found by the linking rule, filter injection and bad input are refused, and StartTLS and
//! ldaps work with a CA file (and fail without one).

mod support;

use serde_json::{Value, json};
use support::TestServer;
use support::slapd::{ADMIN_DN, ADMIN_PW, SUFFIX, Slapd};

const PEOPLE: &[(&str, &str, &str, &str)] = &[
    ("alice", "alice@example.org", "Alice Example", "alicepw"),
    ("bob", "", "Bob Nomail", "bobpw"),
    ("carol", "carol@example.org", "Carol Local", "carolpw"),
    ("star", "star@example.org", "Star", "starpw"),
];

async fn directory(tls: bool) -> Option<Slapd> {
    let slapd = Slapd::start(tls)?;
    slapd.add_people(PEOPLE).await;
    Some(slapd)
}

fn ldap_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("LDAP_URL", url.to_owned()),
        ("LDAP_USER_SEARCH_BASE", format!("ou=people,{SUFFIX}")),
        ("LDAP_BIND_DN", ADMIN_DN.to_owned()),
        ("LDAP_BIND_CREDENTIALS", ADMIN_PW.to_owned()),
        // Many attempts from one address here; the login limiter is tested elsewhere.
        ("LOGIN_MAX", "1000".to_owned()),
    ]
}

async fn server(env: &[(&str, String)]) -> TestServer {
    let mut b = TestServer::builder();
    for (k, v) in env {
        b = b.env(k, v);
    }
    b.start().await
}

async fn login(server: &TestServer, who: &str, pw: &str) -> reqwest::Response {
    server
        .post_json("/api/auth/login", json!({"email": who, "password": pw}))
        .await
}

#[tokio::test]
async fn the_directory_checks_passwords_and_accounts_follow_the_linking_rule() {
    let Some(slapd) = directory(false).await else {
        return;
    };
    let server = server(&ldap_env(&slapd.url)).await;
    let config: Value = server.get("/api/config").await.json().await.unwrap();
    assert_eq!(config["ldap"]["enabled"], true);
    assert_eq!(config["registrationEnabled"], false);

    let resp = login(&server, "alice@example.org", "alicepw").await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let first: Value = login(&server, "alice@example.org", "alicepw")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["user"]["provider"], "ldap");
    assert_eq!(first["user"]["email"], "alice@example.org");
    assert_eq!(first["user"]["name"], "Alice Example");
    assert_eq!(first["user"]["username"], "alice");
    let again: Value = login(&server, "ALICE@example.org", "alicepw")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["user"]["id"], first["user"]["id"], "the same account");
    assert_eq!(server.count("users").await, 1);
    // The session works like a local one.
    let token = again["token"].as_str().unwrap();
    assert_eq!(server.get_as("/api/user", token).await.status(), 200);

    // Wrong password, unknown person, injection, empty password: the same answer.
    for (who, pw) in [
        ("alice@example.org", "wrong"),
        ("nobody@example.org", "alicepw"),
        ("*", "alicepw"),
        ("alice@example.org)(mail=*", "alicepw"),
        ("*)(uid=*))(|(uid=*", "starpw"),
        ("alice@example.org", ""),
        ("", "alicepw"),
    ] {
        let resp = login(&server, who, pw).await;
        assert_eq!(resp.status(), 401, "{who:?}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["message"], "Incorrect email or password.", "{who:?}");
    }
    // A directory entry without an email cannot make an account.
    let resp = login(&server, "bob", "bobpw").await;
    assert_eq!(resp.status(), 401, "bob is found by mail, and has none");
    assert_eq!(server.count("users").await, 1);
}

#[tokio::test]
async fn usernames_other_providers_bans_and_an_unreachable_directory() {
    let Some(slapd) = directory(false).await else {
        return;
    };
    // A local account for carol first (made while LDAP was not configured).
    let local = TestServer::start().await;
    local.register("carol@example.org", "carol local pw").await;
    let dir = local.stop().await;
    let mut env = ldap_env(&slapd.url);
    env.push(("LDAP_SEARCH_FILTER", "(uid={{username}})".into()));
    env.push(("LDAP_LOGIN_USES_USERNAME", "true".into()));
    env.push(("LDAP_FULL_NAME", "cn".into()));
    let mut b = TestServer::builder().in_dir(dir);
    for (k, v) in &env {
        b = b.env(k, v);
    }
    let server = b.start().await;
    let config: Value = server.get("/api/config").await.json().await.unwrap();
    assert_eq!(config["ldap"]["username"], true);

    let resp = login(&server, "carol", "carolpw").await;
    assert_eq!(
        resp.status(),
        403,
        "carol's email belongs to a local account"
    );
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("signs in another way"),
        "{body}"
    );
    // Bob has no mail: said plainly.
    let resp = login(&server, "bob", "bobpw").await;
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("no email address"));

    let resp = login(&server, "alice", "alicepw").await;
    assert_eq!(resp.status(), 200);
    let alice: Value = resp.json().await.unwrap();
    assert_eq!(alice["user"]["name"], "Alice Example");
    assert_eq!(alice["user"]["role"], "USER", "carol was the first account");

    // A ban on the account is honoured before any session.
    let carol_admin = server
        .state
        .db
        .read(|c| {
            c.query_row(
                "SELECT id FROM users WHERE email = 'carol@example.org'",
                [],
                |r| r.get::<_, String>(0),
            )
        })
        .await
        .unwrap();
    assert!(!carol_admin.is_empty());
    let alice_id = alice["user"]["id"].as_str().unwrap().to_owned();
    server
        .state
        .guard
        .ban(
            "manual",
            0,
            Some(&alice_id),
            None,
            std::time::Duration::from_secs(600),
        )
        .await
        .unwrap();
    assert_eq!(login(&server, "alice", "alicepw").await.status(), 403);

    // The service account's password is wrong: sign-in is unavailable, said without details.
    let mut env = ldap_env(&slapd.url);
    env[3].1 = "not the password".into();
    let broken = self::server(&env).await;
    let resp = login(&broken, "alice@example.org", "alicepw").await;
    assert_eq!(resp.status(), 503);
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("unavailable") && !text.contains("adminpw"),
        "{text}"
    );
    // No directory at all.
    let gone = self::server(&ldap_env("ldap://127.0.0.1:1")).await;
    assert_eq!(
        login(&gone, "alice@example.org", "alicepw").await.status(),
        503
    );
}

#[tokio::test]
async fn starttls_and_ldaps_with_a_ca_file() {
    let Some(slapd) = directory(true).await else {
        return;
    };
    let ca = slapd.ca_pem.clone().unwrap().display().to_string();
    let with = |url: &str, extra: &[(&'static str, &str)]| {
        let mut env = ldap_env(url);
        env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        env
    };
    // StartTLS trusting the test CA.
    let s = server(&with(
        &slapd.url,
        &[("LDAP_STARTTLS", "true"), ("LDAP_CA_CERT_PATH", &ca)],
    ))
    .await;
    let resp = login(&s, "alice@example.org", "alicepw").await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    // ldaps trusting the test CA.
    let ldaps = slapd.ldaps_url.clone().unwrap();
    let s = server(&with(&ldaps, &[("LDAP_CA_CERT_PATH", &ca)])).await;
    assert_eq!(
        login(&s, "alice@example.org", "alicepw").await.status(),
        200
    );
    // The system's roots do not know the test CA: refused.
    let s = server(&with(&slapd.url, &[("LDAP_STARTTLS", "true")])).await;
    assert_eq!(
        login(&s, "alice@example.org", "alicepw").await.status(),
        503
    );
    let s = server(&with(&ldaps, &[])).await;
    assert_eq!(
        login(&s, "alice@example.org", "alicepw").await.status(),
        503
    );
    // Unless verification is turned off.
    let s = server(&with(&ldaps, &[("LDAP_TLS_REJECT_UNAUTHORIZED", "false")])).await;
    assert_eq!(
        login(&s, "alice@example.org", "alicepw").await.status(),
        200
    );
}

#[tokio::test]
async fn nobody_can_register_a_directory_users_address() {
    let Some(slapd) = directory(false).await else {
        return;
    };
    let server = server(&ldap_env(&slapd.url)).await;
    // Registration is open (ALLOW_REGISTRATION's default), but LDAP is the login method:
    // someone registering alice's address first would lock her out of her own account.
    let resp = server
        .post_json(
            "/api/auth/register",
            json!({"name": "Not Alice", "email": "alice@example.org",
                   "password": "squatter pw 1", "confirm_password": "squatter pw 1"}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("directory"),
        "{body}"
    );
    assert_eq!(server.count("users").await, 0);
    let resp = login(&server, "alice@example.org", "alicepw").await;
    assert_eq!(
        resp.status(),
        200,
        "alice signs in with the directory's account"
    );
    let me: Value = resp.json().await.unwrap();
    assert_eq!(me["user"]["provider"], "ldap");
}

#[tokio::test]
async fn a_directory_login_asks_for_the_second_factor() {
    let Some(slapd) = directory(false).await else {
        return;
    };
    let server = server(&ldap_env(&slapd.url)).await;
    let first: Value = login(&server, "alice@example.org", "alicepw")
        .await
        .json()
        .await
        .unwrap();
    let secret = support::sso::enable_two_factor(&server, first["token"].as_str().unwrap()).await;
    let resp = login(&server, "alice@example.org", "alicepw").await;
    assert_eq!(resp.status(), 200);
    assert!(support::refresh_cookie(&resp).is_none(), "no session yet");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["twoFAPending"], true);
    let temp = body["tempToken"].as_str().unwrap();
    let code = support::sso::code_now(&secret, 1);
    let resp = support::sso::second_step(&server, temp, &code).await;
    assert_eq!(resp.status(), 200);
    assert!(support::refresh_cookie(&resp).is_some());
}
