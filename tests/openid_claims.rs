//! OpenID providers that send `email_verified` and `phone_number_verified` as the strings
//! "true" / "false" (AWS Cognito does), against a real provider: oidc-provider-mock puts a
//! user's claims into the ID token and the userinfo exactly as given, strings included.

mod support;

use serde_json::json;
use support::TestServer;
use support::oidc::{OidcProvider, to_provider_and_back};
use support::sso::{Landing, get, landing, session};

async fn server(idp: &OidcProvider) -> TestServer {
    TestServer::builder()
        .env("OPENID_CLIENT_ID", "librechat")
        .env("OPENID_CLIENT_SECRET", "client-secret")
        .env("OPENID_ISSUER", &idp.issuer)
        .env("OPENID_SESSION_SECRET", "session-secret")
        // `phone` too, so the provider sends `phone_number_verified`.
        .env("OPENID_SCOPE", "openid profile email phone")
        .env("ALLOW_SOCIAL_LOGIN", "true")
        .env("LOGIN_MAX", "1000")
        .start()
        .await
}

/// Signs in as `sub` through the provider in a new browser: where the callback lands.
async fn sign_in(server: &TestServer, sub: &str) -> Landing {
    let (back, cookie) = to_provider_and_back(server, sub).await;
    landing(&get(&back, Some(&cookie)).await)
}

#[tokio::test]
async fn verified_claims_sent_as_strings_sign_in_and_link_as_booleans() {
    let Some(idp) = OidcProvider::start(&[json!({
        "sub": "cognito", "email": "cog@example.org", "email_verified": "true",
        "phone_number": "+15550100", "phone_number_verified": "false", "name": "Cog"
    })]) else {
        return;
    };
    let server = server(&idp).await;
    // Failed before as "Failed to parse server response": nobody could sign in.
    let Landing::SignedIn(cookie) = sign_in(&server, "cognito").await else {
        panic!("string booleans must not stop the sign-in");
    };
    let me = session(&server, &cookie).await;
    assert_eq!(me["user"]["email"], "cog@example.org");
    assert_eq!(me["user"]["emailVerified"], true);
    let id = me["user"]["id"].clone();

    // Linking by email still needs the provider's word that the address is verified, and
    // "false" is not that word: an account with no subject at the provider yet (as an import
    // from LibreChat may leave one).
    server
        .state
        .db
        .write(|c| {
            c.execute(
                "UPDATE users SET openid_id = NULL WHERE email = 'cog@example.org'",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let claims = |verified: &str| json!({"email": "cog@example.org", "email_verified": verified});
    idp.set_claims("cognito-2", claims("false")).await;
    let Landing::Refused(why) = sign_in(&server, "cognito-2").await else {
        panic!("\"false\" links nothing");
    };
    assert!(why.contains("has not verified"), "{why}");
    // Anything else than "true" or "false" is not a boolean: no sign-in at all.
    idp.set_claims("cognito-2", claims("yes")).await;
    assert!(matches!(
        sign_in(&server, "cognito-2").await,
        Landing::Refused(_)
    ));
    idp.set_claims("cognito-2", claims("true")).await;
    let Landing::SignedIn(cookie) = sign_in(&server, "cognito-2").await else {
        panic!("\"true\" links the account that has no subject");
    };
    assert_eq!(session(&server, &cookie).await["user"]["id"], id);
    assert_eq!(server.count("users").await, 1);
}
