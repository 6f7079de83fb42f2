//! SAML 2.0 sign-in: against a real SimpleSAMLphp IdP (SP-initiated and IdP-initiated, with
//! the replays and crossed answers a browser can produce), and against responses the test
//! forges and signs with `xmlsec1` (tampering, signature wrapping, audience, destination,
//! issuer, times, other keys, unsigned, both signature policies).

mod support;

use serde_json::Value;
use support::TestServer;
use support::saml_forge::{Forge, IDP_ENTITY, TestIdp, encode};
use support::saml_sp::{SP, Started, form, saml_server, start};
use support::sso::{
    Landing, code_now, enable_two_factor, location, no_redirects as http, post_form,
    post_form_landing, second_step, session, user,
};
use support::ssp::{Browser, SimpleSamlPhp};

const PW: &str = "correct horse battery";

#[tokio::test]
async fn sign_in_with_simplesamlphp() {
    let Some(idp) = SimpleSamlPhp::start() else {
        return;
    };
    let server = saml_server(&idp.cert_path, &idp.sso_url)
        .env("SAML_IDP_ISSUER", &idp.entity_id)
        .env("SAML_USERNAME_CLAIM", "uid")
        .env("SAML_GIVEN_NAME_CLAIM", "givenName")
        .env("SAML_FAMILY_NAME_CLAIM", "sn")
        .env("SAML_BUTTON_LABEL", "Company sign-in")
        .env("SAML_ALLOW_IDP_INITIATED", "true")
        .start()
        .await;
    let acs = server.url("/oauth/saml/callback");
    idp.register_sp(SP, &acs);
    server.register("bob@example.org", PW).await;

    let config: Value = server.get("/api/config").await.json().await.unwrap();
    assert_eq!(config["samlLoginEnabled"], true);
    assert_eq!(config["samlLabel"], "Company sign-in");
    assert_eq!(config["openidLoginEnabled"], false);

    // Our metadata names our entity ID and callback.
    let metadata = server.get("/oauth/saml/metadata").await;
    assert_eq!(
        metadata.headers()["content-type"],
        "application/samlmetadata+xml"
    );
    let metadata = metadata.text().await.unwrap();
    assert!(
        metadata.contains(&format!("entityID=\"{SP}\"")),
        "{metadata}"
    );
    assert!(
        metadata.contains(&format!("Location=\"{acs}\"")),
        "{metadata}"
    );

    // SP-initiated: our request, the IdP's login page, its signed answer posted back.
    let started = start(&server).await;
    let to = &started.to;
    assert!(
        to.starts_with(&format!("{}?SAMLRequest=", idp.sso_url)),
        "{to}"
    );
    let mut browser = Browser::new();
    let answer = browser
        .sign_in(to, "alice", "alicepw")
        .await
        .unwrap_or_else(|| panic!("no answer from the IdP: {}", idp.log()));
    assert_eq!(answer.action, acs);
    assert_eq!(answer.field("RelayState"), Some(started.relay.as_str()));
    let mine = Some(started.cookie.as_str());
    let cookie = post_form(&answer.action, &answer.fields, mine)
        .await
        .expect("signed in");
    let alice = user(&server, &cookie).await;
    assert_eq!(alice["email"], "alice@example.org");
    assert_eq!(alice["provider"], "saml");
    assert_eq!(alice["name"], "Alice Example");
    assert_eq!(alice["username"], "alice");

    // The same answer a second time.
    assert!(
        post_form(&answer.action, &answer.fields, mine)
            .await
            .is_err()
    );

    // The answer to one request, sent back as the answer to another.
    let first = start(&server).await;
    let other = start(&server).await;
    let mut crossed = browser
        .sign_in(&first.to, "alice", "alicepw")
        .await
        .unwrap();
    crossed.fields.retain(|(k, _)| k != "RelayState");
    crossed.fields.push(("RelayState".into(), other.relay));
    let message = post_form(&acs, &crossed.fields, Some(&other.cookie))
        .await
        .unwrap_err();
    assert!(message.contains("could not be verified"), "{message}");

    // IdP-initiated: the IdP's portal starts it, with a RelayState of its own (a long URL,
    // which means nothing here and is not a place to go); the person is found again.
    let portal = format!("https://portal.example/apps/{}", "x".repeat(100));
    let unsolicited = Browser::new()
        .sign_in(
            &idp.idp_initiated_url(SP, Some(&portal)),
            "alice",
            "alicepw",
        )
        .await
        .unwrap();
    assert_eq!(unsolicited.field("RelayState"), Some(portal.as_str()));
    // First tampered with: the email changed after the IdP signed it.
    use base64::Engine;
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(unsolicited.field("SAMLResponse").unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(xml.contains("alice@example.org"));
    let tampered = xml.replace("alice@example.org", "alice@evil.example");
    assert!(
        post_form(&acs, &form(&tampered, None), None).await.is_err(),
        "a changed assertion is refused"
    );
    let again = post_form(&acs, &unsolicited.fields, None)
        .await
        .expect("signed in");
    assert_eq!(user(&server, &again).await["id"], alice["id"]);

    // Bob's email belongs to a local account: SAML does not take it over.
    let bob = Browser::new()
        .sign_in(&idp.idp_initiated_url(SP, None), "bob", "bobpw")
        .await
        .unwrap();
    let message = post_form(&acs, &bob.fields, None).await.unwrap_err();
    assert!(message.contains("signs in another way"), "{message}");
    assert_eq!(
        server.count("users").await,
        2,
        "Bob's local account and Alice"
    );
}

#[tokio::test]
async fn forged_responses_are_refused() {
    let Some(idp) = TestIdp::new() else {
        return;
    };
    // With DOMAIN_SERVER set, the callback address is on it, whatever port the test has.
    let builder = || {
        saml_server(&idp.cert, "https://idp.test/sso")
            .env("SAML_IDP_ISSUER", IDP_ENTITY)
            .env("DOMAIN_SERVER", "http://librechat.test")
            .env("SAML_ALLOW_IDP_INITIATED", "true")
    };
    let first = builder().start().await;
    let acs_named = "http://librechat.test/oauth/saml/callback";
    let dana = || Forge::new(SP, acs_named, "dana@example.org");
    let acs = first.url("/oauth/saml/callback");

    // The baseline: a well-made answer the IdP starts, with a RelayState that tries to send
    // the browser elsewhere (it goes back to the app: `outcome` checks the Location).
    let good = dana().signed_assertion_response(&idp);
    let cookie = post_form(&acs, &form(&good, Some("https://evil.example/")), None)
        .await
        .expect("a well-made answer signs in");
    let u = user(&first, &cookie).await;
    assert_eq!(u["email"], "dana@example.org");
    assert_eq!(u["name"], "Forged Person");
    assert_eq!(u["provider"], "saml");
    // Replayed, and replayed after a restart.
    let replay = post_form(&acs, &form(&good, None), None).await.unwrap_err();
    assert!(replay.contains("already used"), "{replay}");
    let dir = first.stop().await;
    let server = builder().in_dir(dir).start().await;
    let acs = server.url("/oauth/saml/callback");
    let replay = post_form(&acs, &form(&good, None), None).await.unwrap_err();
    assert!(replay.contains("already used"), "after a restart: {replay}");

    // SP-initiated: the answer must name our request; once.
    let started = start(&server).await;
    let mut answer = dana();
    answer.in_response_to = Some(started.id.clone());
    let signed = answer.signed_assertion_response(&idp);
    let mine = Some(started.cookie.as_str());
    post_form(&acs, &form(&signed, Some(&started.relay)), mine)
        .await
        .expect("an answer to our request");
    let mut again = dana();
    again.in_response_to = Some(started.id);
    let again = again.signed_assertion_response(&idp);
    assert!(
        post_form(&acs, &form(&again, Some(&started.relay)), mine)
            .await
            .is_err()
    );

    let eve = || Forge::new(SP, acs_named, "eve@example.org");
    let signed_eve = |f: &Forge| f.signed_assertion_response(&idp);
    let mut refused: Vec<(&str, String)> = Vec::new();

    // Tampered after signing.
    let f = eve();
    refused.push(("tampered", signed_eve(&f).replace("Forged", "Trusted")));
    // Signature wrapping: the signed assertion kept, an unsigned one beside it or around it.
    let f = eve();
    let signed_assertion = idp.sign(&f.assertion(true), "Assertion");
    let mut evil = f.clone();
    evil.email = "mallory@example.org".into();
    evil.assertion_id = "_evil".into();
    refused.push((
        "unsigned assertion before the signed one",
        f.response(
            &format!("{}{signed_assertion}", evil.assertion(false)),
            false,
        ),
    ));
    let mut same_id = evil.clone();
    same_id.assertion_id = f.assertion_id.clone();
    refused.push((
        "the signed assertion hidden in Extensions, a copy with its ID consumed",
        f.response(
            &format!(
                "<samlp:Extensions>{signed_assertion}</samlp:Extensions>{}",
                same_id.assertion(false)
            ),
            false,
        ),
    ));
    let wrapper = evil.assertion(false).replace(
        "<saml:AttributeStatement>",
        &format!("<saml:Advice>{signed_assertion}</saml:Advice><saml:AttributeStatement>"),
    );
    refused.push((
        "the signed assertion inside an unsigned one's Advice",
        f.response(&wrapper, false),
    ));
    // Checks on what was signed.
    let mut f = eve();
    f.audience = "urn:someone-else".into();
    refused.push(("another audience", signed_eve(&f)));
    let mut f = eve();
    f.not_before = -900;
    f.not_on_or_after = -600;
    refused.push(("expired", signed_eve(&f)));
    let mut f = eve();
    f.not_before = 600;
    f.not_on_or_after = 900;
    refused.push(("not yet valid", signed_eve(&f)));
    let mut f = eve();
    f.acs = "https://elsewhere.example/oauth/saml/callback".into();
    refused.push(("another destination", signed_eve(&f)));
    let mut f = eve();
    f.recipient = Some("https://elsewhere.example/oauth/saml/callback".into());
    refused.push(("the right destination, another recipient", signed_eve(&f)));
    let mut f = eve();
    f.issuer = "https://evil.idp/".into();
    refused.push(("another issuer", signed_eve(&f)));
    let f = eve();
    refused.push((
        "signed by another key",
        f.response(
            &idp.sign_with(
                &f.assertion(true),
                "Assertion",
                &idp.other_key,
                &idp.other_cert,
            ),
            false,
        ),
    ));
    let f = eve();
    refused.push(("unsigned", f.response(&f.assertion(false), false)));
    // Only the Response signed: the assertion must carry its own signature by default.
    let f = eve();
    refused.push((
        "only the response signed",
        idp.sign(&f.response(&f.assertion(false), true), "Response"),
    ));
    for (case, response) in &refused {
        let message = post_form(&acs, &form(response, None), None)
            .await
            .expect_err(case);
        assert!(
            message.contains("could not be verified"),
            "{case}: {message}"
        );
    }
    let mut f = eve();
    f.in_response_to = Some("_never_issued".into());
    let message = post_form(&acs, &form(&signed_eve(&f), None), None)
        .await
        .unwrap_err();
    assert!(message.contains("expired or was not started"), "{message}");
    // The IdP's own refusal, signed: its status is reported.
    let mut f = eve();
    f.status = "urn:oasis:names:tc:SAML:2.0:status:Responder".into();
    let message = post_form(&acs, &form(&signed_eve(&f), None), None)
        .await
        .unwrap_err();
    assert!(message.contains("refused"), "{message}");
    // Garbage.
    for junk in ["", "%%%", &encode("<not-saml/>")] {
        let f = vec![("SAMLResponse".to_owned(), junk.to_owned())];
        assert!(post_form(&acs, &f, None).await.is_err(), "{junk:?}");
    }
    let none: Vec<(String, String)> = vec![("RelayState".into(), "x".into())];
    assert!(post_form(&acs, &none, None).await.is_err());

    assert_eq!(server.count("users").await, 1, "only Dana has an account");
    // The control: the same maker's well-made answer for Eve is accepted.
    let cookie = post_form(&acs, &form(&signed_eve(&eve()), None), None)
        .await
        .expect("a well-made answer for Eve");
    assert_eq!(user(&server, &cookie).await["email"], "eve@example.org");
}

#[tokio::test]
async fn idp_initiated_sign_in_is_off_unless_allowed() {
    let Some(idp) = TestIdp::new() else {
        return;
    };
    let builder = || {
        saml_server(&idp.cert, "https://idp.test/sso").env("DOMAIN_SERVER", "http://librechat.test")
    };
    let server = builder().start().await;
    let acs = server.url("/oauth/saml/callback");
    let named = "http://librechat.test/oauth/saml/callback";
    // An answer nobody here asked for, such as an attacker holds for their own account and
    // posts from a victim's browser: refused by default.
    let unsolicited = Forge::new(SP, named, "ivy@example.org").signed_assertion_response(&idp);
    let message = post_form(&acs, &form(&unsolicited, None), None)
        .await
        .unwrap_err();
    assert!(message.contains("expired or was not started"), "{message}");
    assert_eq!(server.count("users").await, 0);
    // Answers to our own requests sign in, in the browser that asked.
    let started = start(&server).await;
    let mut f = Forge::new(SP, named, "ivy@example.org");
    f.in_response_to = Some(started.id);
    let relay = Some(started.relay.as_str());
    post_form(
        &acs,
        &form(&f.signed_assertion_response(&idp), relay),
        Some(&started.cookie),
    )
    .await
    .expect("an answer to our request");
    // With SAML_ALLOW_IDP_INITIATED=true, a portal's sign-in is accepted.
    let server = builder()
        .env("SAML_ALLOW_IDP_INITIATED", "true")
        .in_dir(server.stop().await)
        .start()
        .await;
    let acs = server.url("/oauth/saml/callback");
    let unsolicited = Forge::new(SP, named, "ivy@example.org").signed_assertion_response(&idp);
    post_form(&acs, &form(&unsolicited, None), None)
        .await
        .expect("allowed");
}

#[tokio::test]
async fn an_answer_is_taken_only_in_the_browser_that_asked_for_it() {
    let Some(idp) = TestIdp::new() else {
        return;
    };
    let server = saml_server(&idp.cert, "https://idp.test/sso")
        .env("DOMAIN_SERVER", "http://librechat.test")
        .start()
        .await;
    let acs = server.url("/oauth/saml/callback");
    let named = "http://librechat.test/oauth/saml/callback";
    // The attacker asks, signs in at the IdP as themselves, and has the victim's browser post
    // the answer: it carries no sign-in cookie, or its own.
    let answer_for = |s: &Started| {
        let mut f = Forge::new(SP, named, "mallory@example.org");
        f.in_response_to = Some(s.id.clone());
        form(&f.signed_assertion_response(&idp), Some(&s.relay))
    };
    let attackers = start(&server).await;
    let message = post_form(&acs, &answer_for(&attackers), None)
        .await
        .unwrap_err();
    assert!(message.contains("another browser"), "{message}");
    let attackers = start(&server).await;
    let victims = start(&server).await;
    let message = post_form(&acs, &answer_for(&attackers), Some(&victims.cookie))
        .await
        .unwrap_err();
    assert!(message.contains("another browser"), "{message}");
    assert_eq!(server.count("users").await, 0);
}

#[tokio::test]
async fn saml_asks_for_the_second_factor_and_never_rebinds_an_account() {
    let Some(idp) = TestIdp::new() else {
        return;
    };
    let server = saml_server(&idp.cert, "https://idp.test/sso")
        .env("DOMAIN_SERVER", "http://librechat.test")
        .env("SAML_ALLOW_IDP_INITIATED", "true")
        .start()
        .await;
    let acs = server.url("/oauth/saml/callback");
    let named = "http://librechat.test/oauth/saml/callback";
    let answer = |name_id: &str, format: Option<&str>| {
        let mut f = Forge::new(SP, named, "dana@example.org");
        f.name_id = name_id.into();
        if let Some(format) = format {
            f.name_id_format = format.into();
        }
        form(&f.signed_assertion_response(&idp), None)
    };
    let cookie = post_form(&acs, &answer("dana", None), None).await.unwrap();
    let first = session(&server, &cookie).await;
    // Another NameID with Dana's address is another person.
    let message = post_form(&acs, &answer("not-dana", None), None)
        .await
        .unwrap_err();
    assert!(
        message.contains("linked to another SAML account"),
        "{message}"
    );

    let secret = enable_two_factor(&server, first["token"].as_str().unwrap()).await;
    let Landing::TwoFactor(temp) = post_form_landing(&acs, &answer("dana", None), None).await
    else {
        panic!("signed in without the second factor");
    };
    let resp = second_step(&server, &temp, &code_now(&secret, 1)).await;
    assert_eq!(resp.status(), 200);
    let cookie = support::refresh_cookie(&resp).expect("a session after the code");
    assert_eq!(user(&server, &cookie).await["id"], first["user"]["id"]);

    // A transient NameID names no one (it changes at each sign-in): the address is the
    // subject then, and the same person is found again.
    let transient = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
    let erin = |name_id: &str| {
        let mut f = Forge::new(SP, named, "erin@example.org");
        f.name_id = name_id.into();
        f.name_id_format = transient.into();
        form(&f.signed_assertion_response(&idp), None)
    };
    let one = post_form(&acs, &erin("_t1"), None).await.unwrap();
    let two = post_form(&acs, &erin("_t2"), None).await.unwrap();
    assert_eq!(
        user(&server, &one).await["id"],
        user(&server, &two).await["id"]
    );
}

#[tokio::test]
async fn with_response_signing_the_response_signature_is_the_one_required() {
    let Some(idp) = TestIdp::new() else {
        return;
    };
    // No SAML_IDP_ISSUER: the issuer the response names is taken, the certificate decides.
    let server = saml_server(&idp.cert, "https://idp.test/sso")
        .env("SAML_USE_AUTHN_RESPONSE_SIGNED", "true")
        .env("SAML_ALLOW_IDP_INITIATED", "true")
        .start()
        .await;
    let acs = server.url("/oauth/saml/callback");
    let f = Forge::new(SP, &acs, "rita@example.org");
    let response_signed = idp.sign(&f.response(&f.assertion(false), true), "Response");
    let cookie = post_form(&acs, &form(&response_signed, None), None)
        .await
        .expect("a signed response");
    assert_eq!(user(&server, &cookie).await["email"], "rita@example.org");

    let f = Forge::new(SP, &acs, "sam@example.org");
    assert!(
        post_form(&acs, &form(&f.signed_assertion_response(&idp), None), None)
            .await
            .is_err(),
        "the response itself must be signed"
    );
    let mut f = Forge::new(SP, &acs, "sam@example.org");
    f.issuer = "https://evil.idp/".into();
    let other_key = idp.sign_with(
        &f.response(&f.assertion(false), true),
        "Response",
        &idp.other_key,
        &idp.other_cert,
    );
    assert!(
        post_form(&acs, &form(&other_key, None), None)
            .await
            .is_err(),
        "a response naming another issuer and signed by its key"
    );
}

#[tokio::test]
async fn saml_is_off_without_social_login_or_with_openid() {
    let Some(idp) = TestIdp::new() else {
        return;
    };
    let server = TestServer::builder()
        .env("SAML_ENTRY_POINT", "https://idp.test/sso")
        .env("SAML_ISSUER", SP)
        .env("SAML_CERT", idp.cert.to_str().unwrap())
        .env("SAML_SESSION_SECRET", "s")
        .start()
        .await;
    let resp = http().get(server.url("/oauth/saml")).send().await.unwrap();
    assert!(
        location(&resp).contains("not+configured"),
        "{}",
        location(&resp)
    );

    // With OpenID configured too, SAML is not offered (LibreChat offers one of the two).
    let dir = tempfile::tempdir().unwrap();
    let settings = saml_server(&idp.cert, "https://idp.test/sso")
        .env("OPENID_CLIENT_ID", "c")
        .env("OPENID_CLIENT_SECRET", "s")
        .env("OPENID_ISSUER", "https://op.test")
        .env("OPENID_SESSION_SECRET", "s")
        .settings(dir.path())
        .unwrap();
    assert!(settings.saml.is_none());
    assert!(!settings.logins.saml);

    // A SAML_CERT that is not a certificate stops the start, naming it.
    let bad = dir.path().join("bad.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = saml_server(&bad, "https://idp.test/sso")
        .settings(dir.path())
        .unwrap_err()
        .to_string();
    assert!(err.contains("SAML_CERT"), "{err}");
}
