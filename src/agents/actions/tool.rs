//! One operation of an action as a tool: a call builds the request (`request`), adds the
//! action's credential (an API key, or the person's OAuth token), sends it through the guarded
//! client within the action timeout, and gives the model the answer's text, read to a bound.
//! Every failure (refused address, timeout, an error status, a redirect, which is never
//! followed) goes back to the model as the call's error.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use serde_json::Value;

use super::Actions;
use super::oauth::{Client, SIGN_IN_WAIT};
use super::request::{self, Prepared};
use super::spec::Operation;
use crate::agents::tools::{Context, SignIn, Tool, ToolError, ToolFuture};
use crate::db::actions as store;
use crate::providers::ToolDef;

/// The most of an answer read: what the loop gives the model of one call at most.
pub const RESPONSE_LIMIT: usize = crate::agents::run::MAX_OUTPUT_BYTES;

/// How an action authenticates its calls.
pub(super) enum Credential {
    None,
    Header(HeaderName, HeaderValue),
    Query(String, String),
    OAuth(Client),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::None => "None",
            Credential::Header(..) => "Header(..)",
            Credential::Query(..) => "Query(..)",
            Credential::OAuth(_) => "OAuth(..)",
        })
    }
}

/// What an action's tools share.
#[derive(Debug)]
pub(super) struct Bound {
    pub action_id: String,
    /// As the person wrote it, for messages.
    pub domain: String,
    pub server_url: String,
    pub credential: Credential,
}

/// One operation, callable.
pub(super) struct ActionTool {
    pub def: ToolDef,
    pub op: Operation,
    pub bound: Arc<Bound>,
    pub service: Arc<Actions>,
}

impl Tool for ActionTool {
    fn def(&self) -> &ToolDef {
        &self.def
    }

    fn call<'a>(&'a self, args: Value, cx: &'a Context) -> ToolFuture<'a> {
        Box::pin(self.run(args, cx))
    }

    fn timeout(&self) -> Option<Duration> {
        // A call that needs its person to sign in waits for them.
        match self.bound.credential {
            Credential::OAuth(_) => Some(SIGN_IN_WAIT + 2 * self.service.timeout),
            _ => Some(self.service.timeout + Duration::from_secs(5)),
        }
    }
}

impl ActionTool {
    fn failed(&self, why: impl std::fmt::Display) -> ToolError {
        ToolError(format!("API call to {} failed: {why}", self.bound.domain))
    }

    async fn run(&self, args: Value, cx: &Context) -> Result<String, ToolError> {
        let args = match args {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        let mut prepared = request::prepare(&self.bound.server_url, &self.op, &args)
            .map_err(|e| self.failed(e))?;
        match &self.bound.credential {
            Credential::None => {}
            Credential::Header(name, value) => {
                prepared.headers.retain(|(n, _)| n != name);
                prepared.headers.push((name.clone(), value.clone()));
            }
            Credential::Query(name, value) => {
                prepared.url.query_pairs_mut().append_pair(name, value);
            }
            Credential::OAuth(client) => {
                let token = self.token(client, cx).await?;
                let value = HeaderValue::try_from(format!("Bearer {token}"))
                    .map_err(|_| self.failed("the provider's token cannot be sent"))?;
                prepared.headers.retain(|(n, _)| n != AUTHORIZATION);
                prepared.headers.push((AUTHORIZATION, value));
            }
        }
        self.send(prepared).await
    }

    async fn send(&self, p: Prepared) -> Result<String, ToolError> {
        let http = self
            .service
            .guarded
            .client_for(&p.url)
            .map_err(|b| self.failed(super::blocked_text(&b)))?;
        let mut req = http.request(p.method, p.url);
        for (name, value) in p.headers {
            req = req.header(name, value);
        }
        if let Some((kind, bytes)) = p.body {
            req = req.header("content-type", kind).body(bytes);
        }
        let limit = self.service.timeout;
        let work = async {
            let resp = req
                .send()
                .await
                .map_err(|e| match crate::net::Blocked::find(&e) {
                    Some(b) => self.failed(super::blocked_text(b)),
                    None if e.is_connect() => self.failed("the API could not be reached"),
                    None => self.failed("the API did not answer"),
                })?;
            let status = resp.status();
            if status.is_redirection() {
                let to = resp
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .map(|l| format!(" to {}", l.chars().take(300).collect::<String>()))
                    .unwrap_or_default();
                return Err(self.failed(format!(
                    "the API answered {status} (a redirect{to}); redirects are not followed"
                )));
            }
            let kind = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let bytes = crate::net::body_prefix(resp, RESPONSE_LIMIT + 1, limit).await;
            if is_binary(&kind) {
                return Ok(format!(
                    "The API answered {status} with {kind} content, which is not text."
                ));
            }
            let text = text_of(bytes);
            if status.is_success() {
                Ok(text)
            } else {
                Err(self.failed(format!("the API answered {status}: {text}")))
            }
        };
        tokio::time::timeout(limit, work).await.map_err(|_| {
            self.failed(format!(
                "the API did not answer within {} seconds",
                limit.as_secs_f32()
            ))
        })?
    }

    /// The person's access token: stored and current, refreshed, or got by signing in.
    async fn token(&self, client: &Client, cx: &Context) -> Result<String, ToolError> {
        let s = &self.service;
        let (user, action) = (cx.user_id.clone(), self.bound.action_id.clone());
        let stored =
            s.db.read(move |c| store::tokens(c, &user, &action))
                .await
                .map_err(|_| self.failed("the stored sign-in could not be read"))?;
        if let Some(t) = stored {
            let fresh = time::OffsetDateTime::parse(
                &t.expires_at,
                &time::format_description::well_known::Rfc3339,
            )
            .is_ok_and(|at| at > time::OffsetDateTime::now_utc() + time::Duration::seconds(30));
            if fresh && let Ok(token) = s.cipher.decrypt(&t.access_token) {
                return Ok(token);
            }
            if let Some(refresh) = t.refresh_token.and_then(|r| s.cipher.decrypt(&r).ok()) {
                let form = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                ];
                match s
                    .fetch_tokens(client, &cx.user_id, &self.bound.action_id, &form)
                    .await
                {
                    Ok(token) => return Ok(token),
                    Err(why) => {
                        tracing::info!(action.id = %self.bound.action_id, why, "refreshing an action's token failed; asking to sign in");
                    }
                }
            }
        }
        self.sign_in(client, cx).await
    }

    /// Shows the person a sign-in link on this call and waits for the callback.
    async fn sign_in(&self, client: &Client, cx: &Context) -> Result<String, ToolError> {
        let s = &self.service;
        let Some(notify) = cx.sign_in.clone() else {
            return Err(self.failed("the person must sign in first"));
        };
        let (state, waiting) = s
            .flows
            .start(&cx.user_id, &self.bound.action_id, SIGN_IN_WAIT)
            .await
            .map_err(|_| self.failed("the sign-in could not be started"))?;
        let url = s.sign_in_url(client, &self.bound.action_id, &state);
        let expires_at = (time::OffsetDateTime::now_utc() + SIGN_IN_WAIT).unix_timestamp() * 1000;
        let _ = notify.send(SignIn {
            call_id: cx.call_id.clone(),
            url: Some(url),
            expires_at: Some(expires_at),
        });
        let signed_in = waiting.wait(SIGN_IN_WAIT).await;
        let _ = notify.send(SignIn {
            call_id: cx.call_id.clone(),
            url: None,
            expires_at: None,
        });
        if !signed_in {
            return Err(ToolError("Failed to authenticate OAuth tool".into()));
        }
        let (user, action) = (cx.user_id.clone(), self.bound.action_id.clone());
        let stored =
            s.db.read(move |c| store::tokens(c, &user, &action))
                .await
                .ok()
                .flatten();
        stored
            .and_then(|t| s.cipher.decrypt(&t.access_token).ok())
            .ok_or_else(|| ToolError("Failed to authenticate OAuth tool".into()))
    }
}

/// Content a model cannot read as text.
fn is_binary(kind: &str) -> bool {
    [
        "image/",
        "audio/",
        "video/",
        "application/octet-stream",
        "application/pdf",
        "application/zip",
    ]
    .iter()
    .any(|p| kind.starts_with(p))
}

/// An answer's bytes as text, cut with a note past [`RESPONSE_LIMIT`].
fn text_of(bytes: Vec<u8>) -> String {
    let longer = bytes.len() > RESPONSE_LIMIT;
    let mut text = String::from_utf8_lossy(&bytes[..bytes.len().min(RESPONSE_LIMIT)]).into_owned();
    if longer {
        let keep = crate::agents::steps::floor_boundary(&text, RESPONSE_LIMIT - 200);
        text.truncate(keep);
        text.push_str(&format!(
            "\n\n[The API's answer was longer than {} KiB; the rest was not read.]",
            RESPONSE_LIMIT / 1024
        ));
    }
    text
}
