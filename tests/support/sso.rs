//! What the single sign-on tests share: an HTTP client that does not follow redirects (each
//! hop is checked), and reading where a callback sent the browser: back to the app with the
//! refresh cookie, or to the login page with a message.
#![allow(dead_code)]

use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::Value;

use super::TestServer;

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// A callback's answer: `Ok(refresh cookie)` when it signed someone in and went back to the
/// app, `Err(message)` when it went to the login page.
pub fn outcome(resp: &reqwest::Response) -> Result<String, String> {
    assert_eq!(resp.status(), 302);
    let to = location(resp);
    match resp.headers().get(SET_COOKIE) {
        Some(c) => {
            assert_eq!(to, "/", "back to the app");
            Ok(c.to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .trim_start_matches("refreshToken=")
                .to_owned())
        }
        None => {
            assert!(to.starts_with("/login?redirect=false&error="), "{to}");
            Err(
                url::form_urlencoded::parse(to.split_once('?').unwrap().1.as_bytes())
                    .find(|(k, _)| k == "message")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default(),
            )
        }
    }
}

/// Posts `form` to `action` as a browser posts a provider's auto-submitting form; the outcome
/// as [`outcome`] reads it.
pub async fn post_form(action: &str, form: &[(String, String)]) -> Result<String, String> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let resp = no_redirects()
        .post(action)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    outcome(&resp)
}

/// Trades the refresh cookie for the signed-in user, as the web app does after the redirect.
pub async fn user(server: &TestServer, cookie: &str) -> Value {
    let resp = server.refresh(cookie).await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["user"].clone()
}
