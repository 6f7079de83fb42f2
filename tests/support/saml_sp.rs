//! Our side of the SAML tests: a server set up as the service provider, a sign-in started as a
//! browser starts it (with the AuthnRequest read back), and the form an IdP posts.
#![allow(dead_code)]

use std::io::Read;

use super::TestServer;
use super::saml_forge::encode;
use super::sso::{location, no_redirects as http, sign_in_cookie};

/// Our entity ID in these tests (`SAML_ISSUER`).
pub const SP: &str = "urn:librechat:test-sp";
/// A server that is a SAML service provider for the IdP at `entry_point` signing with `cert`.
pub fn saml_server(cert: &std::path::Path, entry_point: &str) -> super::Builder {
    TestServer::builder()
        .env("ALLOW_SOCIAL_LOGIN", "true")
        .env("LOGIN_MAX", "1000")
        .env("SAML_ENTRY_POINT", entry_point)
        .env("SAML_ISSUER", SP)
        .env("SAML_CERT", cert.to_str().unwrap())
        .env("SAML_SESSION_SECRET", "kept for .env compatibility")
}

/// A sign-in started in a new browser.
pub struct Started {
    /// The IdP's address, with the AuthnRequest.
    pub to: String,
    /// The AuthnRequest's ID.
    pub id: String,
    pub relay: String,
    /// The browser's sign-in cookie.
    pub cookie: String,
}

/// Starts a sign-in in a new browser, checking the AuthnRequest is LibreChat's.
pub async fn start(server: &TestServer) -> Started {
    let resp = http().get(server.url("/oauth/saml")).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let cookie = sign_in_cookie(&resp);
    let to = location(&resp);
    let url = reqwest::Url::parse(&to).unwrap();
    let q = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no {k} in {to}"))
    };
    // HTTP-Redirect binding: raw DEFLATE, then base64.
    use base64::Engine;
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(q("SAMLRequest"))
        .unwrap();
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .read_to_string(&mut xml)
        .unwrap();
    assert!(xml.contains("AuthnRequest"), "{xml}");
    assert!(xml.contains(&format!(">{SP}<")), "our Issuer: {xml}");
    // As LibreChat asks: an email address as NameID, which the IdP may create.
    assert!(
        xml.contains(r#"Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress""#)
            && xml.contains(r#"AllowCreate="true""#),
        "{xml}"
    );
    let id_at = xml.find(" ID=\"").unwrap() + 5;
    let id = xml[id_at..id_at + xml[id_at..].find('"').unwrap()].to_owned();
    let relay = q("RelayState");
    Started {
        to,
        id,
        relay,
        cookie,
    }
}

/// The IdP's form: the SAMLResponse for `response`, and `relay` as RelayState.
pub fn form(response: &str, relay: Option<&str>) -> Vec<(String, String)> {
    let mut f = vec![("SAMLResponse".to_owned(), encode(response))];
    if let Some(r) = relay {
        f.push(("RelayState".into(), r.into()));
    }
    f
}
