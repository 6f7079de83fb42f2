//! What the single sign-on tests share: an HTTP client that does not follow redirects (each
//! hop is checked), the sign-in cookie a start sets (sent back as the browser that started the
//! sign-in would), a provider's form POST as a browser makes it, and reading where a callback
//! sent the browser: back to the app with the refresh cookie, to the two-factor step, or to
//! the login page with a message.
#![allow(dead_code)]

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

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

/// The `name=value` of the sign-in cookie a start response set, to send back with the
/// callback as the same browser (empty when it set none: then the browser sends none).
pub fn sign_in_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("librechat_sso="))
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned()
}

/// Where a callback sent the browser.
#[derive(Debug)]
pub enum Landing {
    /// Back to the app with this refresh cookie (its value).
    SignedIn(String),
    /// To the two-factor page with this temp token, and no session.
    TwoFactor(String),
    /// To the login page with this message.
    Refused(String),
}

fn query_value(url: &str, key: &str) -> Option<String> {
    url::form_urlencoded::parse(url.split_once('?')?.1.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

pub fn landing(resp: &reqwest::Response) -> Landing {
    assert_eq!(resp.status(), 302);
    let to = location(resp);
    let refresh = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("refreshToken="))
        .map(|v| v.split(';').next().unwrap().to_owned());
    if let Some(cookie) = refresh {
        assert_eq!(to, "/", "back to the app");
        return Landing::SignedIn(cookie);
    }
    if to.starts_with("/login/2fa?") {
        return Landing::TwoFactor(query_value(&to, "tempToken").expect("a temp token"));
    }
    assert!(to.starts_with("/login?redirect=false&error="), "{to}");
    Landing::Refused(query_value(&to, "message").unwrap_or_default())
}

/// A callback's answer: `Ok(refresh cookie)` when it signed someone in and went back to the
/// app, `Err(message)` when it went to the login page.
pub fn outcome(resp: &reqwest::Response) -> Result<String, String> {
    match landing(resp) {
        Landing::SignedIn(cookie) => Ok(cookie),
        Landing::Refused(message) => Err(message),
        Landing::TwoFactor(_) => panic!("sent to the two-factor step"),
    }
}

/// GET `url` as a browser holding `cookie` (the sign-in cookie), or none.
pub async fn get(url: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = no_redirects().get(url);
    if let Some(c) = cookie.filter(|c| !c.is_empty()) {
        req = req.header(COOKIE, c);
    }
    req.send().await.unwrap()
}

/// The GET a provider's form POST is sent on to, and the cookie that POST's answer set with it
/// (`name=value`); `None` when the POST was answered otherwise (refused at once).
pub async fn post_form_only(
    action: &str,
    form: &[(String, String)],
) -> Result<(String, String), reqwest::Response> {
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
    if resp.status() != 303 {
        return Err(resp);
    }
    let next = reqwest::Url::parse(action)
        .unwrap()
        .join(&location(&resp))
        .unwrap();
    let held = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("librechat_sso_post="))
        .and_then(|v| v.split(';').next())
        .expect("the held answer's cookie")
        .to_owned();
    Ok((next.to_string(), held))
}

/// Posts `form` to `action` as a browser posts a provider's auto-submitting form: the
/// cross-site POST carries no SameSite=Lax cookie; the GET it is sent on to carries `cookie`
/// (the sign-in cookie of the browser, if any) and the cookie the POST's answer set. Where
/// that GET sent the browser.
pub async fn post_form_landing(
    action: &str,
    form: &[(String, String)],
    cookie: Option<&str>,
) -> Landing {
    match post_form_only(action, form).await {
        // Refused at once (a limit, or a form that is not an answer).
        Err(resp) => landing(&resp),
        Ok((next, held)) => {
            let jar = match cookie.filter(|c| !c.is_empty()) {
                Some(c) => format!("{c}; {held}"),
                None => held,
            };
            landing(&get(&next, Some(&jar)).await)
        }
    }
}

/// [`post_form_landing`] as [`outcome`] reads it.
pub async fn post_form(
    action: &str,
    form: &[(String, String)],
    cookie: Option<&str>,
) -> Result<String, String> {
    match post_form_landing(action, form, cookie).await {
        Landing::SignedIn(cookie) => Ok(cookie),
        Landing::Refused(message) => Err(message),
        Landing::TwoFactor(_) => panic!("sent to the two-factor step"),
    }
}

/// Trades the refresh cookie for the signed-in user, as the web app does after the redirect.
pub async fn user(server: &TestServer, cookie: &str) -> Value {
    session(server, cookie).await["user"].clone()
}

/// Trades the refresh cookie for `{token, user}`.
pub async fn session(server: &TestServer, cookie: &str) -> Value {
    let resp = server.refresh(cookie).await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()
}

/// Turns two-factor authentication on for the signed-in `token`'s account; its TOTP secret.
pub async fn enable_two_factor(server: &TestServer, token: &str) -> String {
    let enrol: Value = server
        .send("POST", "/api/auth/2fa/enable", token, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let url = enrol["otpauthUrl"].as_str().expect("an otpauth URL");
    let secret = url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "secret")
        .unwrap()
        .1
        .into_owned();
    let resp = server
        .send(
            "POST",
            "/api/auth/2fa/confirm",
            token,
            json!({"token": code_now(&secret, 0)}),
        )
        .await;
    assert_eq!(resp.status(), 200, "2FA confirmed");
    secret
}

/// The authenticator app's code for `secret`, `steps` 30-second steps from now.
pub fn code_now(secret: &str, steps: i64) -> String {
    let at = librechat::auth::tokens::now_secs() as i64 + steps * 30;
    librechat::auth::two_factor::current_code(secret, at as u64).unwrap()
}

/// The second step of a sign-in that landed on the two-factor page: `verify-temp` with
/// `code`. The response (the session with its refresh cookie, or the refusal).
pub async fn second_step(server: &TestServer, temp: &str, code: &str) -> reqwest::Response {
    server
        .post_json(
            "/api/auth/2fa/verify-temp",
            json!({"tempToken": temp, "token": code}),
        )
        .await
}
