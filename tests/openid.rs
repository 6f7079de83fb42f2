//! OpenID Connect sign-in against a real provider (oidc-provider-mock): the code flow with
//! state, nonce and PKCE, ID tokens checked against the provider's keys, claims mapping,
//! required and admin roles, the linking rule, replayed or forged callbacks, and logout at
//! the provider.

mod support;

use serde_json::{Value, json};
use support::TestServer;
use support::oidc::{OidcProvider, to_provider_and_back};
use support::sso::{
    Landing, code_now, enable_two_factor, get, landing, location, no_redirects, second_step,
    session, sign_in_cookie,
};

const PW: &str = "correct horse battery";

fn users() -> Vec<Value> {
    vec![
        json!({"sub": "alice", "email": "alice@example.org", "email_verified": true,
               "name": "Alice Example", "preferred_username": "alice", "roles": ["chat-user"],
               "nick": "ally", "display": "Alice E."}),
        json!({"sub": "bob", "email": "bob@example.org", "name": "Bob", "roles": []}),
        json!({"sub": "boss", "email": "boss@example.org", "name": "The Boss",
               "roles": ["chat-user", "librechat-admin"]}),
        json!({"sub": "local", "email": "local@example.org", "name": "Local Twin", "roles": ["chat-user"]}),
        json!({"sub": "nomail", "name": "No Mail", "roles": ["chat-user"]}),
    ]
}

async fn server(idp: &OidcProvider, extra: &[(&str, &str)]) -> TestServer {
    let mut b = TestServer::builder()
        .env("OPENID_CLIENT_ID", "librechat")
        .env("OPENID_CLIENT_SECRET", "client-secret")
        .env("OPENID_ISSUER", &idp.issuer)
        .env("OPENID_SESSION_SECRET", "session-secret")
        .env("ALLOW_SOCIAL_LOGIN", "true")
        .env("LOGIN_MAX", "1000");
    for (k, v) in extra {
        b = b.env(k, v);
    }
    b.start().await
}

/// The callback in the browser holding `cookie`: where it lands.
async fn callback(url: &str, cookie: Option<&str>) -> Landing {
    landing(&get(url, cookie).await)
}

async fn sign_in(server: &TestServer, sub: &str) -> Landing {
    let (back, cookie) = to_provider_and_back(server, sub).await;
    callback(&back, Some(&cookie)).await
}

#[tokio::test]
async fn the_code_flow_signs_people_in_and_links_them_by_the_rule() {
    let Some(idp) = OidcProvider::start(&users()) else {
        return;
    };
    // A local account whose email the provider also vouches for.
    let local = TestServer::start().await;
    local.register("local@example.org", PW).await;
    let dir = local.stop().await;
    let mut b = TestServer::builder().in_dir(dir);
    for (k, v) in [
        ("OPENID_CLIENT_ID", "librechat"),
        ("OPENID_CLIENT_SECRET", "client-secret"),
        ("OPENID_ISSUER", idp.issuer.as_str()),
        ("OPENID_SESSION_SECRET", "session-secret"),
        ("ALLOW_SOCIAL_LOGIN", "true"),
        ("OPENID_USE_PKCE", "true"),
        ("OPENID_USE_END_SESSION_ENDPOINT", "true"),
        ("LOGIN_MAX", "1000"),
    ] {
        b = b.env(k, v);
    }
    let server = b.start().await;
    let config: Value = server.get("/api/config").await.json().await.unwrap();
    assert_eq!(config["openidLoginEnabled"], true);

    let Landing::SignedIn(cookie) = sign_in(&server, "alice").await else {
        panic!("alice should get in");
    };
    let first = session(&server, &cookie).await;
    assert_eq!(first["user"]["provider"], "openid");
    assert_eq!(first["user"]["email"], "alice@example.org");
    assert_eq!(first["user"]["name"], "Alice Example");
    assert_eq!(first["user"]["username"], "alice");
    assert_eq!(first["user"]["emailVerified"], true);
    let Landing::SignedIn(again) = sign_in(&server, "alice").await else {
        panic!("alice again");
    };
    assert_eq!(
        session(&server, &again).await["user"]["id"],
        first["user"]["id"]
    );

    // The email of a local account is not a way into it.
    let Landing::Refused(why) = sign_in(&server, "local").await else {
        panic!("the local account must not be taken over");
    };
    assert!(why.contains("signs in another way"), "{why}");
    let Landing::Refused(why) = sign_in(&server, "nomail").await else {
        panic!("no email, no account");
    };
    assert!(why.contains("no email"), "{why}");

    // A callback works once; a forged state or code does not work at all.
    let (back, c) = to_provider_and_back(&server, "bob").await;
    assert!(matches!(
        callback(&back, Some(&c)).await,
        Landing::SignedIn(_)
    ));
    let Landing::Refused(why) = callback(&back, Some(&c)).await else {
        panic!("a replayed callback");
    };
    assert!(why.contains("expired or was not started here"), "{why}");
    let forged = back.replace("state=", "state=x");
    assert!(matches!(
        callback(&forged, Some(&c)).await,
        Landing::Refused(_)
    ));
    let (back, c) = to_provider_and_back(&server, "bob").await;
    let wrong_code = {
        let mut u = url::Url::parse(&back).unwrap();
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "code" {
                    "nope".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
        u.to_string()
    };
    assert!(matches!(
        callback(&wrong_code, Some(&c)).await,
        Landing::Refused(_)
    ));
    let refused = no_redirects()
        .get(
            server
                .url("/oauth/openid/callback?error=access_denied&error_description=denied+by+user"),
        )
        .send()
        .await
        .unwrap();
    assert!(
        location(&refused).contains("denied+by+user")
            || location(&refused).contains("denied%20by%20user")
    );

    // Logging out also ends the session at the provider.
    let resp = server
        .client
        .post(server.url("/api/auth/logout"))
        .header("cookie", format!("refreshToken={again}"))
        .send()
        .await
        .unwrap();
    let out: Value = resp.json().await.unwrap();
    let redirect = out["redirect"].as_str().unwrap();
    assert!(
        redirect.starts_with(&idp.issuer) && redirect.contains("client_id=librechat"),
        "{redirect}"
    );
}

#[tokio::test]
async fn roles_and_claims_mapping() {
    let Some(idp) = OidcProvider::start(&users()) else {
        return;
    };
    let server = server(
        &idp,
        &[
            ("OPENID_REQUIRED_ROLE", "chat-user"),
            ("OPENID_REQUIRED_ROLE_PARAMETER_PATH", "roles"),
            ("OPENID_REQUIRED_ROLE_TOKEN_KIND", "id"),
            ("OPENID_ADMIN_ROLE", "librechat-admin"),
            ("OPENID_ADMIN_ROLE_TOKEN_KIND", "userinfo"),
            ("OPENID_USERNAME_CLAIM", "nick"),
            ("OPENID_NAME_CLAIM", "display"),
        ],
    )
    .await;
    // Without the required role: refused, and no account is made.
    let Landing::Refused(why) = sign_in(&server, "bob").await else {
        panic!("bob lacks the role");
    };
    assert!(why.contains("role"), "{why}");
    assert_eq!(server.count("users").await, 0);

    let Landing::SignedIn(c) = sign_in(&server, "alice").await else {
        panic!("alice has the role");
    };
    let alice = session(&server, &c).await;
    assert_eq!(alice["user"]["username"], "ally");
    assert_eq!(alice["user"]["name"], "Alice E.");
    assert_eq!(
        alice["user"]["role"], "USER",
        "with OPENID_ADMIN_ROLE the provider decides, for the first account too"
    );

    let Landing::SignedIn(c) = sign_in(&server, "boss").await else {
        panic!("the boss has the role");
    };
    assert_eq!(
        session(&server, &c).await["user"]["role"],
        "ADMIN",
        "mapped"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_a_message_not_a_crash() {
    let server = TestServer::builder()
        .env("OPENID_CLIENT_ID", "librechat")
        .env("OPENID_CLIENT_SECRET", "client-secret")
        .env("OPENID_ISSUER", "http://127.0.0.1:1")
        .env("OPENID_SESSION_SECRET", "session-secret")
        .env("ALLOW_SOCIAL_LOGIN", "true")
        .start()
        .await;
    let resp = no_redirects()
        .get(server.url("/oauth/openid"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert!(location(&resp).starts_with("/login?redirect=false&error="));
    let resp = no_redirects()
        .get(server.url("/oauth/error?error=auth_failed&message=Nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&resp),
        "/login?redirect=false&error=auth_failed&message=Nope"
    );
}

/// An ID token straight from the provider for `client_id` (as another app of the same
/// organisation would hold).
async fn provider_token(idp: &OidcProvider, client_id: &str, sub: &str) -> String {
    let http = no_redirects();
    let authorize = format!(
        "{}/oauth2/authorize?client_id={client_id}&redirect_uri=http://127.0.0.1:9/cb&response_type=code&scope=openid%20email&state=s&nonce=n",
        idp.issuer
    );
    let resp = http
        .post(&authorize)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("sub={sub}"))
        .send()
        .await
        .unwrap();
    let back = location(&resp);
    let code = url::Url::parse(&back)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens: Value = http
        .post(format!("{}/oauth2/token", idp.issuer))
        .basic_auth(client_id, Some("client-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=authorization_code&code={code}&redirect_uri=http://127.0.0.1:9/cb"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["id_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn provider_tokens_work_as_bearer_tokens_for_existing_accounts() {
    let Some(idp) = OidcProvider::start(&users()) else {
        return;
    };
    let server = server(&idp, &[("OPENID_REUSE_TOKENS", "true")]).await;
    assert!(matches!(
        sign_in(&server, "alice").await,
        Landing::SignedIn(_)
    ));

    let token = provider_token(&idp, "librechat", "alice").await;
    let resp = server.get_as("/api/user", &token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["email"],
        "alice@example.org"
    );

    // No account here yet: refused (bearer tokens do not create accounts).
    let bob = provider_token(&idp, "librechat", "bob").await;
    assert_eq!(server.get_as("/api/user", &bob).await.status(), 401);
    // Issued for another application.
    let other = provider_token(&idp, "another-app", "alice").await;
    assert_eq!(server.get_as("/api/user", &other).await.status(), 401);
    // Tampered with: the payload changed, the signature kept.
    let parts: Vec<&str> = token.split('.').collect();
    let forged_payload = base64_url(
        &json!({"sub": "alice", "iss": idp.issuer, "aud": "librechat", "exp": 4_000_000_000u64}),
    );
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_eq!(server.get_as("/api/user", &forged).await.status(), 401);
    // A token "signed" with a shared secret instead of the provider's key (algorithm confusion).
    let hs_header = base64_url(&json!({"alg": "HS256", "typ": "JWT"}));
    let hs = format!("{hs_header}.{forged_payload}.c2lnbmF0dXJl");
    assert_eq!(server.get_as("/api/user", &hs).await.status(), 401);
    // And one that claims no signature is needed at all.
    let none_header = base64_url(&json!({"alg": "none", "typ": "JWT"}));
    let unsigned = format!("{none_header}.{forged_payload}.");
    assert_eq!(server.get_as("/api/user", &unsigned).await.status(), 401);
    assert_eq!(
        server.get_as("/api/user", "not.a.token").await.status(),
        401
    );
}

#[tokio::test]
async fn provider_tokens_are_refused_unless_reuse_is_on() {
    let Some(idp) = OidcProvider::start(&users()) else {
        return;
    };
    // As in LibreChat, only OPENID_REUSE_TOKENS lets a provider's token stand for a session.
    for reuse in [None, Some("false")] {
        let extra: Vec<(&str, &str)> = reuse
            .map(|v| ("OPENID_REUSE_TOKENS", v))
            .into_iter()
            .collect();
        let server = server(&idp, &extra).await;
        assert!(matches!(
            sign_in(&server, "alice").await,
            Landing::SignedIn(_)
        ));
        let token = provider_token(&idp, "librechat", "alice").await;
        assert_eq!(
            server.get_as("/api/user", &token).await.status(),
            401,
            "{reuse:?}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn a_provider_token_skips_neither_two_factor_nor_roles() {
    let Some(idp) = OidcProvider::start(&users()) else {
        return;
    };
    let server = server(
        &idp,
        &[
            ("OPENID_REUSE_TOKENS", "true"),
            ("OPENID_REQUIRED_ROLE", "chat-user"),
            ("OPENID_ADMIN_ROLE", "librechat-admin"),
        ],
    )
    .await;
    // Two-factor on: the provider's token is not the second factor.
    let Landing::SignedIn(c) = sign_in(&server, "alice").await else {
        panic!("alice gets in");
    };
    let first = session(&server, &c).await;
    let token = provider_token(&idp, "librechat", "alice").await;
    assert_eq!(server.get_as("/api/user", &token).await.status(), 200);
    enable_two_factor(&server, first["token"].as_str().unwrap()).await;
    let token = provider_token(&idp, "librechat", "alice").await;
    let resp = server.get_as("/api/user", &token).await;
    assert_eq!(resp.status(), 401);
    assert!(
        resp.text().await.unwrap().contains("two-factor"),
        "says why"
    );

    // The required role: read from the token itself, at each request.
    let Landing::SignedIn(_) = sign_in(&server, "local").await else {
        panic!("local has the role");
    };
    let token = provider_token(&idp, "librechat", "local").await;
    assert_eq!(server.get_as("/api/user", &token).await.status(), 200);
    let without = json!({"email": "local@example.org", "name": "Local Twin", "roles": []});
    idp.set_claims("local", without).await;
    let token = provider_token(&idp, "librechat", "local").await;
    assert_eq!(server.get_as("/api/user", &token).await.status(), 401);

    // The admin: a provider token acts as USER, so administration needs a session signed in
    // here (where OPENID_ADMIN_ROLE is checked at each sign-in).
    let Landing::SignedIn(c) = sign_in(&server, "boss").await else {
        panic!("the boss gets in");
    };
    let boss = session(&server, &c).await;
    assert_eq!(boss["user"]["role"], "ADMIN");
    let ours = boss["token"].as_str().unwrap();
    assert_eq!(server.get_as("/api/admin/users", ours).await.status(), 200);
    let theirs = provider_token(&idp, "librechat", "boss").await;
    let me: Value = server
        .get_as("/api/user", &theirs)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "USER");
    assert_eq!(
        server.get_as("/api/admin/users", &theirs).await.status(),
        403
    );
}

fn base64_url(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn the_admin_role_is_taken_back_when_the_token_no_longer_has_it() {
    let Some(idp) = OidcProvider::start(&users()) else {
        return;
    };
    let server = server(&idp, &[("OPENID_ADMIN_ROLE", "librechat-admin")]).await;
    let Landing::SignedIn(c) = sign_in(&server, "boss").await else {
        panic!("the boss gets in");
    };
    assert_eq!(session(&server, &c).await["user"]["role"], "ADMIN");
    // The directory takes the role away: the next sign-in takes ADMIN back.
    let boss = json!({"email": "boss@example.org", "name": "The Boss", "roles": ["chat-user"]});
    idp.set_claims("boss", boss.clone()).await;
    let Landing::SignedIn(c) = sign_in(&server, "boss").await else {
        panic!("the boss still gets in");
    };
    let demoted = session(&server, &c).await;
    assert_eq!(demoted["user"]["role"], "USER");
    let token = demoted["token"].as_str().unwrap();
    assert_eq!(server.get_as("/api/admin/users", token).await.status(), 403);
    // And given again when it comes back.
    let mut again = boss;
    again["roles"] = json!(["chat-user", "librechat-admin"]);
    idp.set_claims("boss", again).await;
    let Landing::SignedIn(c) = sign_in(&server, "boss").await else {
        panic!("the boss gets in");
    };
    assert_eq!(session(&server, &c).await["user"]["role"], "ADMIN");
}

#[tokio::test]
async fn an_account_with_two_factor_gets_no_session_before_the_code() {
    let Some(idp) = OidcProvider::start(&users()) else {
        return;
    };
    let server = server(&idp, &[]).await;
    let Landing::SignedIn(c) = sign_in(&server, "alice").await else {
        panic!("alice gets in");
    };
    let first = session(&server, &c).await;
    let secret = enable_two_factor(&server, first["token"].as_str().unwrap()).await;

    // Through the provider again: the two-factor page, no refresh cookie.
    let Landing::TwoFactor(temp) = sign_in(&server, "alice").await else {
        panic!("the provider's word is not the second factor");
    };
    assert_eq!(server.get_as("/api/user", &temp).await.status(), 401);
    let wrong = second_step(&server, &temp, "000000").await;
    assert!(wrong.status().is_client_error(), "{}", wrong.status());
    assert!(support::refresh_cookie(&wrong).is_none());
    let right = second_step(&server, &temp, &code_now(&secret, 1)).await;
    assert_eq!(right.status(), 200);
    let cookie = support::refresh_cookie(&right).expect("the session, after the code");
    assert_eq!(
        session(&server, &cookie).await["user"]["id"],
        first["user"]["id"]
    );
}

#[tokio::test]
async fn a_callback_brought_by_another_browser_is_refused() {
    let Some(idp) = OidcProvider::start(&users()) else {
        return;
    };
    let server = server(&idp, &[]).await;
    // The attacker starts a sign-in and signs in at the provider as themselves; the victim's
    // browser is made to open the callback: without the attacker's cookie, or with its own.
    let (attackers, _) = to_provider_and_back(&server, "bob").await;
    let Landing::Refused(why) = callback(&attackers, None).await else {
        panic!("a callback without the sign-in cookie");
    };
    assert!(why.contains("another browser"), "{why}");
    let (attackers, _) = to_provider_and_back(&server, "bob").await;
    let (_, victims) = to_provider_and_back(&server, "alice").await;
    let Landing::Refused(why) = callback(&attackers, Some(&victims)).await else {
        panic!("a callback with another browser's cookie");
    };
    assert!(why.contains("another browser"), "{why}");
    assert_eq!(server.count("users").await, 0, "nobody signed in");
    // Two sign-ins started in one browser both finish there.
    let http = no_redirects();
    let first = http.get(server.url("/oauth/openid")).send().await.unwrap();
    let cookie = sign_in_cookie(&first);
    assert!(cookie.starts_with("librechat_sso="), "{cookie}");
    let second = http
        .get(server.url("/oauth/openid"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in_cookie(&second), cookie, "the browser keeps its id");
}

#[tokio::test]
async fn another_subject_showing_the_same_address_does_not_get_the_account() {
    let Some(idp) = OidcProvider::start(&users()) else {
        return;
    };
    let server = server(&idp, &[]).await;
    let Landing::SignedIn(c) = sign_in(&server, "alice").await else {
        panic!("alice gets in");
    };
    let alice = session(&server, &c).await["user"]["id"].clone();
    // Another person at the same provider, showing alice's address, even a verified one.
    let mallory = json!({"email": "alice@example.org", "email_verified": true, "name": "M"});
    idp.set_claims("mallory", mallory).await;
    let Landing::Refused(why) = sign_in(&server, "mallory").await else {
        panic!("alice's account must not be handed to another subject");
    };
    assert!(why.contains("linked to another OpenID account"), "{why}");
    let Landing::SignedIn(c) = sign_in(&server, "alice").await else {
        panic!("alice still gets in");
    };
    assert_eq!(session(&server, &c).await["user"]["id"], alice);

    // An account with no subject at the provider yet (as an import from LibreChat may leave
    // one) is linked by email only on the provider's word that the address is verified.
    let carol = json!({"email": "carol@example.org", "email_verified": true, "name": "Carol"});
    idp.set_claims("carol", carol).await;
    let Landing::SignedIn(c) = sign_in(&server, "carol").await else {
        panic!("carol gets in");
    };
    let carol_id = session(&server, &c).await["user"]["id"].clone();
    server
        .state
        .db
        .write(|c| {
            c.execute(
                "UPDATE users SET openid_id = NULL WHERE email = 'carol@example.org'",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let unverified = json!({"email": "carol@example.org", "email_verified": false});
    idp.set_claims("carol-new", unverified).await;
    let Landing::Refused(why) = sign_in(&server, "carol-new").await else {
        panic!("an unverified address links nothing");
    };
    assert!(why.contains("has not verified"), "{why}");
    let verified = json!({"email": "carol@example.org", "email_verified": true});
    idp.set_claims("carol-new", verified).await;
    let Landing::SignedIn(c) = sign_in(&server, "carol-new").await else {
        panic!("a verified address links the account that has no subject");
    };
    assert_eq!(session(&server, &c).await["user"]["id"], carol_id);
    // Linked now: the old subject is someone else.
    assert!(matches!(
        sign_in(&server, "carol").await,
        Landing::Refused(_)
    ));
    assert_eq!(server.count("users").await, 2);
}

#[tokio::test]
async fn an_administrator_unlinks_a_subject_the_provider_changed() {
    let Some(idp) = OidcProvider::start(&users()) else {
        return;
    };
    let server = server(&idp, &[]).await;
    let Landing::SignedIn(c) = sign_in(&server, "alice").await else {
        panic!("alice gets in");
    };
    let alice = session(&server, &c).await["user"]["id"].clone();
    // The directory was rebuilt: alice is another subject now, with the same verified address.
    let moved = json!({"email": "alice@example.org", "email_verified": true, "name": "Alice"});
    idp.set_claims("alice-v2", moved).await;
    assert!(matches!(
        sign_in(&server, "alice-v2").await,
        Landing::Refused(_)
    ));
    // `librechat user unlink`, on the running server's data folder.
    let out = support::run(
        support::librechat(server.dir.path())
            .args(["user", "unlink", "alice@example.org", "openid"])
            .env("LIBRECHAT_DATA_DIR", server.data_dir()),
    );
    assert!(out.status.success(), "{}", support::text(&out.stderr));
    let Landing::SignedIn(c) = sign_in(&server, "alice-v2").await else {
        panic!("the new subject links the account by its verified address");
    };
    assert_eq!(session(&server, &c).await["user"]["id"], alice);
    assert!(matches!(
        sign_in(&server, "alice").await,
        Landing::Refused(_)
    ));
}

#[tokio::test]
async fn the_callback_address_is_on_domain_server_whatever_the_host_header() {
    let Some(idp) = OidcProvider::start(&users()) else {
        return;
    };
    let server = server(&idp, &[("DOMAIN_SERVER", "https://chat.example.com")]).await;
    let start = no_redirects()
        .get(server.url("/oauth/openid"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    let authorize = location(&start);
    assert!(
        authorize
            .contains("redirect_uri=https%3A%2F%2Fchat.example.com%2Foauth%2Fopenid%2Fcallback"),
        "{authorize}"
    );
    // Reached over https: the sign-in cookie is Secure and cannot be planted by a subdomain.
    let line = start.headers()["set-cookie"].to_str().unwrap();
    assert!(
        line.starts_with("__Host-librechat_sso=") && line.contains("; Secure"),
        "{line}"
    );
}
