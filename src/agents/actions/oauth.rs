//! OAuth for actions (the authorization code flow, as LibreChat runs it): a call to an action
//! whose person has no token yet shows a sign-in link on the call and waits; the person signs
//! in with the provider, which sends them to `/api/actions/:id/oauth/callback` with a code; the
//! server trades it for tokens at the provider's token endpoint, stores them encrypted for that
//! person, and the waiting call goes on. A token near its end is refreshed with the refresh
//! token when there is one.
//!
//! The `state` a sign-in carries is a random value known only to the waiting call; the
//! callback is also bound to the browser that asked (the client's `POST .../oauth/bind` sets a
//! cookie the callback must bring, as LibreChat's CSRF cookie), so a link sent to someone else
//! cannot attach their provider account to the sender's LibreChat account.
//!
//! Sign-ins in flight and bindings are kept in the database ([`Flows`]), so with several
//! replicas the bind, the callback and the waiting call may each reach a different one.

use std::time::Duration;

use serde::Deserialize;

use super::Actions;
pub use super::flows::Flows;
use super::metadata::{Auth, Metadata};
use crate::db::actions::{self as store, Tokens};

/// How long a call waits for the person to sign in.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(180);
/// How long a browser binding lasts (LibreChat's CSRF cookie: ten minutes).
pub const BIND_TTL: Duration = Duration::from_secs(600);
/// The most of a token endpoint's answer read.
const TOKEN_BODY_LIMIT: usize = 64 * 1024;

/// 24 random bytes, hex: a state or a cookie value no one can guess.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("system randomness");
    hex::encode(bytes)
}

/// Why a callback did not complete a sign-in; the name is LibreChat's `error` for its page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("invalid_state")]
    InvalidState,
    #[error("csrf_validation_failed")]
    Csrf,
    #[error("callback_failed")]
    Failed,
}

/// A provider's token answer.
#[derive(Deserialize)]
pub struct TokenAnswer {
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    expires_in: Option<serde_json::Value>,
}

impl TokenAnswer {
    /// How many seconds the access token lasts: as the provider says (a number or a numeric
    /// string), else an hour; at most ten years.
    pub fn lifetime(&self) -> i64 {
        match &self.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .filter(|s| *s > 0)
        .unwrap_or(3600)
        .min(10 * 365 * 24 * 3600)
    }
}

/// How a client proves itself at a token endpoint: its id, and its secret when it has one
/// (in an `Authorization: Basic` header when `basic`, else in the form).
pub struct ClientAuth<'a> {
    pub id: &'a str,
    pub secret: Option<&'a str>,
    pub basic: bool,
}

impl ClientAuth<'_> {
    /// `req` as a form post of `form` with this client's credentials: in a Basic header when
    /// the server takes them only there, else in the form (the id alone for a public client).
    pub fn form_post(
        &self,
        req: reqwest::RequestBuilder,
        form: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let mut pairs: Vec<(&str, &str)> = form.to_vec();
        let mut req = req.header("accept", "application/json");
        match self.secret {
            Some(secret) if self.basic => req = req.basic_auth(self.id, Some(secret)),
            secret => {
                pairs.push(("client_id", self.id));
                if let Some(secret) = secret {
                    pairs.push(("client_secret", secret));
                }
            }
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        req.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }
}

/// Posts the grant `form` to `token_url` through `guarded` (HTTPS only, unless the
/// administrator listed the address) with `headers` added (an MCP server's `oauth_headers`),
/// within `timeout`; the answer, read to a bound.
pub async fn token_request(
    guarded: &crate::net::Guarded,
    token_url: &str,
    client: ClientAuth<'_>,
    form: &[(&str, &str)],
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<TokenAnswer, String> {
    let url = url::Url::parse(token_url).map_err(|_| "the token URL is not a URL")?;
    if url.scheme() != "https" && !guarded.listed(&url) {
        return Err("only HTTPS token URLs are permitted".into());
    }
    let http = guarded.client_for(&url).map_err(|b| b.to_string())?;
    let mut req = client.form_post(http.post(url.clone()), form);
    for (name, value) in headers {
        req = req.header(name.as_str(), value.as_str());
    }
    tokio::time::timeout(timeout, async {
        let resp = req
            .send()
            .await
            .map_err(|e| match crate::net::Blocked::find(&e) {
                Some(b) => b.to_string(),
                None => "the token endpoint could not be reached".to_owned(),
            })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("the token endpoint answered {status}"));
        }
        crate::net::json_bounded::<TokenAnswer>(resp, TOKEN_BODY_LIMIT, timeout)
            .await
            .ok_or_else(|| "the token endpoint's answer is not a token".to_owned())
    })
    .await
    .map_err(|_| "the token endpoint did not answer in time".to_owned())?
}

/// An action's OAuth client, its secrets opened.
#[derive(Clone)]
pub(super) struct Client {
    pub authorization_url: String,
    pub token_url: String,
    pub scope: String,
    pub client_id: String,
    pub client_secret: String,
    /// `basic_auth_header`: the client's id and secret in an `Authorization: Basic` header.
    pub basic: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn from(auth: &Auth, client_id: String, client_secret: String) -> Option<Self> {
        Some(Client {
            authorization_url: auth.authorization_url.clone()?,
            token_url: auth.client_url.clone()?,
            scope: auth.scope.clone().unwrap_or_default(),
            client_id,
            client_secret,
            basic: auth.token_exchange_method.as_deref() == Some("basic_auth_header"),
        })
    }
}

fn rfc3339_in(seconds: i64) -> String {
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds);
    crate::db::to_rfc3339(at)
}

impl Actions {
    /// Where the provider sends the person back.
    pub(super) fn redirect_uri(&self, action_id: &str) -> String {
        format!(
            "{}/api/actions/{action_id}/oauth/callback",
            self.callback_base
        )
    }

    /// The link a person follows to sign in.
    pub(super) fn sign_in_url(&self, client: &Client, action_id: &str, state: &str) -> String {
        let mut url = match url::Url::parse(&client.authorization_url) {
            Ok(u) => u,
            Err(_) => return client.authorization_url.clone(),
        };
        url.query_pairs_mut()
            .append_pair("client_id", &client.client_id)
            .append_pair("scope", &client.scope)
            .append_pair("redirect_uri", &self.redirect_uri(action_id))
            .append_pair("access_type", "offline")
            .append_pair("response_type", "code")
            .append_pair("state", state);
        url.into()
    }

    /// Asks the token endpoint for tokens (`form`: the grant) and stores them for the person.
    pub(super) async fn fetch_tokens(
        &self,
        client: &Client,
        user_id: &str,
        action_id: &str,
        form: &[(&str, &str)],
    ) -> Result<String, String> {
        let auth = ClientAuth {
            id: &client.client_id,
            secret: Some(&client.client_secret),
            basic: client.basic,
        };
        let answer = token_request(
            &self.guarded,
            &client.token_url,
            auth,
            form,
            &[],
            self.timeout,
        )
        .await?;
        let expires_in = answer.lifetime();
        let access = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or("the token endpoint gave no access token")?;
        let tokens = Tokens {
            access_token: self.cipher.encrypt(&access),
            refresh_token: answer
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(|t| self.cipher.encrypt(&t)),
            expires_at: rfc3339_in(expires_in),
        };
        let (user, action) = (user_id.to_owned(), action_id.to_owned());
        self.db
            .write(move |c| store::set_tokens(c, &user, &action, &tokens))
            .await
            .map_err(|_| "the tokens could not be stored".to_owned())?;
        Ok(access)
    }

    /// Completes a sign-in from the provider's callback; the name to show on success. The
    /// waiting call learns the outcome, on whichever replica it waits.
    pub async fn finish_sign_in(
        &self,
        action_id: &str,
        state: &str,
        code: &str,
        cookie: Option<&str>,
    ) -> Result<String, SignInError> {
        let flow = self.flows.take(state, action_id, cookie).await?;
        let outcome = self.trade_code(action_id, &flow.user_id, code).await;
        self.flows
            .end(&flow.id, outcome.as_ref().err().map(|e| e.to_string()))
            .await;
        outcome?;
        tracing::info!(action.id = %action_id, user.id = %flow.user_id, "signed in to an action's provider");
        Ok(format!("Action {action_id}"))
    }

    /// Trades the callback's `code` for the person's tokens at the action's token endpoint.
    async fn trade_code(
        &self,
        action_id: &str,
        user_id: &str,
        code: &str,
    ) -> Result<(), SignInError> {
        let id = action_id.to_owned();
        let action = self
            .db
            .read(move |c| store::get(c, &id))
            .await
            .ok()
            .flatten()
            .ok_or(SignInError::Failed)?;
        let auth = Metadata::from_map(&action.metadata)
            .auth
            .unwrap_or_default();
        let open = |v: &Option<String>| v.as_deref().and_then(|v| self.cipher.decrypt(v).ok());
        let client = match (
            open(&action.sealed.oauth_client_id),
            open(&action.sealed.oauth_client_secret),
        ) {
            (Some(id), Some(secret)) => Client::from(&auth, id, secret),
            _ => None,
        }
        .ok_or(SignInError::Failed)?;
        let redirect = self.redirect_uri(action_id);
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
        ];
        if let Err(why) = self.fetch_tokens(&client, user_id, action_id, &form).await {
            tracing::warn!(action.id = %action_id, why, "an action's OAuth sign-in failed");
            return Err(SignInError::Failed);
        }
        Ok(())
    }
}
