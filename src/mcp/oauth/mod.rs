//! Each person's sign-in to the MCP servers that need one (`requiresOAuth`, an `oauth` block),
//! as LibreChat runs it: a flow `<userId>:<serverName>` starts with discovery ([`discover`]),
//! a client (configured, or registered for this person) and PKCE; the person follows the
//! authorization URL; the provider sends them to `/api/mcp/<server>/oauth/callback`, where the
//! code becomes tokens stored encrypted for that person; connections then send
//! `Authorization: Bearer`, refreshed before the token ends.
//!
//! The callback must come from the browser the person bound (`POST .../oauth/bind`, or the
//! cookie `/reinitialize` sets): the same binding as actions' sign-ins
//! (`crate::agents::actions::oauth::Flows`), so a link sent to someone else cannot attach
//! their account at the provider to the sender's.
//!
//! Flows and bindings are kept in the database (`crate::agents::actions::oauth::Flows`, the
//! PKCE verifier and client encrypted with `CREDS_KEY`), so with several replicas the bind,
//! the callback, the status route and the waiting tool call may each reach a different one.

pub mod discover;
mod status;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::config::ServerConfig;
use crate::agents::actions::flows::{CLAIMED, COMPLETED, FAILED, PENDING, now_ms};
use crate::agents::actions::oauth::{ClientAuth, Flows, random_token, token_request};
use crate::auth::crypto::Cipher;
use crate::db::Db;
use crate::db::mcp_oauth::{self as store, Stored};
use crate::db::oauth_flows::FlowRow;
use crate::net::Guarded;
use discover::Configured;

/// How long a sign-in waits for its callback (LibreChat's `MCP_OAUTH_HANDLING_TIMEOUT`).
pub const HANDLING_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a finished or failed flow is remembered for the status route (`MCP_OAUTH_FLOW_TTL`).
const FLOW_TTL: Duration = Duration::from_secs(900);
/// A token this close to its end is refreshed before it is used.
const REFRESH_MARGIN: i64 = 60;
/// Each call to an authorization server (discovery, registration, tokens).
const CALL_TIMEOUT: Duration = Duration::from_secs(15);
/// What a person cancelling a sign-in leaves as its error.
const CANCELLED: &str = "User cancelled OAuth flow";

/// A flow's state, as `GET /api/mcp/oauth/status/:flowId` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum FlowStatus {
    Pending,
    Completed,
    Failed,
}

/// The OAuth client a person's tokens come from, stored with them (encrypted).
#[derive(Clone, Serialize, Deserialize)]
struct Client {
    client_id: String,
    client_secret: Option<String>,
    token_url: String,
    #[serde(default)]
    basic: bool,
    resource: Option<String>,
    /// Where its tokens are revoked when the person signs out (RFC 7009).
    #[serde(default)]
    revocation: Option<String>,
    /// The server's `oauth_headers` when the sign-in started, for its token requests and
    /// revocation (a refresh sends the configuration's current ones).
    #[serde(default)]
    headers: Vec<(String, String)>,
}

/// What a flow keeps sealed (encrypted with `CREDS_KEY` in its row): never logged.
#[derive(Serialize, Deserialize)]
struct Sealed {
    verifier: String,
    client: Client,
    redirect_uri: String,
    url: String,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whether `flow` waits for its callback and may still get it.
fn pending_fresh(flow: &FlowRow, now: i64) -> bool {
    flow.status == PENDING && flow.started_at > now - ms(HANDLING_TIMEOUT)
}

/// What a started sign-in gives the person.
#[derive(Debug, Clone)]
pub struct Started {
    pub flow_id: String,
    pub url: String,
    /// How long the link works.
    pub expires_in: Duration,
}

/// What a flow's status route answers.
#[derive(Debug, Clone)]
pub struct FlowView {
    pub user_id: String,
    pub status: FlowStatus,
    pub error: Option<String>,
    pub expired: bool,
}

/// Why a callback did not complete a sign-in; the name is LibreChat's `error` for its page.
pub use crate::agents::actions::oauth::SignInError;

/// The sign-ins to MCP servers: flows in progress, and each person's tokens.
pub struct McpOAuth {
    db: Db,
    cipher: Arc<Cipher>,
    guarded: Guarded,
    /// `DOMAIN_SERVER`: where `/api/mcp/<server>/oauth/callback` is.
    callback_base: String,
    /// Flows in progress or just ended (`mcp:<flowId>`), and browser bindings (LibreChat's
    /// CSRF cookie) keyed by server name, in the database.
    pub flows: Flows,
}

/// LibreChat's flow id: `<userId>:<serverName>`.
pub fn flow_id(user_id: &str, server: &str) -> String {
    format!("{user_id}:{server}")
}

/// The row of the flow `id`.
fn row_id(id: &str) -> String {
    format!("mcp:{id}")
}

fn now_plus(seconds: i64) -> String {
    crate::db::to_rfc3339(time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds))
}

fn pkce_pair() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("system randomness");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let verifier = b64.encode(bytes);
    let challenge = b64.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

impl McpOAuth {
    pub fn new(db: Db, cipher: Arc<Cipher>, guarded: Guarded, callback_base: &str) -> Self {
        McpOAuth {
            flows: Flows::new(db.clone(), "mcp"),
            db,
            cipher,
            guarded,
            callback_base: callback_base.trim_end_matches('/').to_owned(),
        }
    }

    /// The sealed part of `flow`, opened.
    fn open(&self, flow: &FlowRow) -> Option<Sealed> {
        let sealed = self.cipher.decrypt(flow.secret.as_deref()?).ok()?;
        serde_json::from_str(&sealed).ok()
    }

    /// Where the provider sends the person back (the `oauth` block's `redirect_uri`, else
    /// LibreChat's default).
    fn redirect_uri(&self, config: &ServerConfig) -> String {
        Configured::from(config.oauth.as_ref())
            .redirect_uri
            .unwrap_or_else(|| {
                let name: String =
                    url::form_urlencoded::byte_serialize(config.name.as_bytes()).collect();
                format!("{}/api/mcp/{name}/oauth/callback", self.callback_base)
            })
    }

    /// The person's tokens for `server`, sealed, if they have any.
    async fn stored(&self, user_id: &str, server: &str) -> Option<Stored> {
        let (user, server) = (user_id.to_owned(), server.to_owned());
        self.db
            .read(move |c| store::get(c, &user, &server))
            .await
            .ok()
            .flatten()
    }

    /// The person's access token for `config`'s server: the stored one while it lasts, else
    /// one got with the refresh token; `None` when they must sign in (again).
    pub async fn access_token(&self, user_id: &str, config: &ServerConfig) -> Option<String> {
        let stored = self.stored(user_id, &config.name).await?;
        let fresh = time::OffsetDateTime::parse(
            &stored.expires_at,
            &time::format_description::well_known::Rfc3339,
        )
        .is_ok_and(|at| {
            at > time::OffsetDateTime::now_utc() + time::Duration::seconds(REFRESH_MARGIN)
        });
        if fresh && let Ok(token) = self.cipher.decrypt(&stored.access_token) {
            return Some(token);
        }
        self.refresh_stored(user_id, config, &stored).await
    }

    /// A new access token for the person on `config`'s server, got with their refresh token
    /// whatever the stored one's expiry (the server refused it); `None` when they must sign
    /// in again.
    pub async fn refresh(&self, user_id: &str, config: &ServerConfig) -> Option<String> {
        let stored = self.stored(user_id, &config.name).await?;
        self.refresh_stored(user_id, config, &stored).await
    }

    async fn refresh_stored(
        &self,
        user_id: &str,
        config: &ServerConfig,
        stored: &Stored,
    ) -> Option<String> {
        let refresh = stored
            .refresh_token
            .as_deref()
            .and_then(|r| self.cipher.decrypt(r).ok())?;
        let mut client: Client = self
            .cipher
            .decrypt(&stored.client)
            .ok()
            .and_then(|c| serde_json::from_str(&c).ok())?;
        client.headers = config.oauth_headers.clone();
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ];
        if let Some(r) = &client.resource {
            form.push(("resource", r));
        }
        match self.tokens(user_id, &config.name, &client, &form).await {
            Ok(token) => {
                tracing::info!(mcp.server = %config.name, user.id = %user_id, "refreshed an MCP server's token");
                Some(token)
            }
            Err(why) => {
                tracing::info!(mcp.server = %config.name, why, "refreshing an MCP server's token failed; the person must sign in again");
                None
            }
        }
    }

    /// Whether the person has tokens for `server` (signed in, as the status routes say).
    pub async fn signed_in(&self, user_id: &str, server: &str) -> bool {
        self.stored(user_id, server).await.is_some()
    }

    /// Asks `client`'s token endpoint for tokens (`form`: the grant) and stores them, with the
    /// client, for the person; the access token.
    async fn tokens(
        &self,
        user_id: &str,
        server: &str,
        client: &Client,
        form: &[(&str, &str)],
    ) -> Result<String, String> {
        let auth = ClientAuth {
            id: &client.client_id,
            secret: client.client_secret.as_deref(),
            basic: client.basic,
        };
        let answer = token_request(
            &self.guarded,
            &client.token_url,
            auth,
            form,
            &client.headers,
            CALL_TIMEOUT,
        )
        .await?;
        let access = answer
            .access_token
            .clone()
            .filter(|t| !t.is_empty())
            .ok_or("the token endpoint gave no access token")?;
        let stored = Stored {
            access_token: self.cipher.encrypt(&access),
            refresh_token: answer
                .refresh_token
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| self.cipher.encrypt(t)),
            expires_at: now_plus(answer.lifetime()),
            client: self
                .cipher
                .encrypt(&serde_json::to_string(client).unwrap_or_default()),
        };
        let (user, server) = (user_id.to_owned(), server.to_owned());
        self.db
            .write(move |c| store::set(c, &user, &server, &stored))
            .await
            .map_err(|_| "the tokens could not be stored".to_owned())?;
        Ok(access)
    }

    /// A sign-in for the person on `config`'s server at `server_url`: the one in progress if it
    /// is fresh, else a new one (discovery, a client, PKCE).
    pub async fn start(
        &self,
        user_id: &str,
        config: &ServerConfig,
        server_url: &str,
    ) -> Result<Started, String> {
        let id = flow_id(user_id, &config.name);
        let now = now_ms();
        let current = self.flows.get(&row_id(&id)).await;
        if let Some(f) = current.filter(|f| pending_fresh(f, now))
            && let Some(sealed) = self.open(&f)
        {
            let left = ms(HANDLING_TIMEOUT) - (now - f.started_at);
            return Ok(Started {
                flow_id: id,
                url: sealed.url,
                expires_in: Duration::from_millis(u64::try_from(left).unwrap_or(0)),
            });
        }
        let configured = Configured::from(config.oauth.as_ref());
        let headers = &config.oauth_headers;
        let found = discover::discover(
            &self.guarded,
            server_url,
            &configured,
            headers,
            CALL_TIMEOUT,
        )
        .await?;
        let redirect_uri = self.redirect_uri(config);
        let (client_id, client_secret, basic) = match &configured.client_id {
            Some(id) => (
                id.clone(),
                configured.client_secret.clone(),
                configured.token_exchange_method.as_deref() == Some("basic_auth_header")
                    || found.basic_only,
            ),
            None => {
                let endpoint = found
                    .registration
                    .as_deref()
                    .ok_or("the authorization server offers no client registration, and librechat.yaml names no client_id")?;
                discover::register(
                    &self.guarded,
                    endpoint,
                    &redirect_uri,
                    found.scope.as_deref(),
                    headers,
                    CALL_TIMEOUT,
                )
                .await?
            }
        };
        let (verifier, challenge) = pkce_pair();
        let state = random_token();
        let mut url = url::Url::parse(&found.authorization)
            .map_err(|_| "the authorization URL is not a URL")?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &client_id)
                .append_pair("redirect_uri", &redirect_uri)
                .append_pair("state", &state)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
            if let Some(s) = &found.scope {
                q.append_pair("scope", s);
            }
            if let Some(r) = &found.resource {
                q.append_pair("resource", r);
            }
        }
        let sealed = Sealed {
            verifier,
            client: Client {
                client_id,
                client_secret,
                token_url: found.token,
                basic,
                resource: found.resource,
                revocation: found.revocation,
                headers: headers.clone(),
            },
            redirect_uri,
            url: url.to_string(),
        };
        let started_at = now_ms();
        let flow = FlowRow {
            id: row_id(&id),
            kind: "mcp".into(),
            user_id: user_id.to_owned(),
            target: config.name.clone(),
            state,
            status: PENDING.into(),
            error: None,
            secret: Some(
                self.cipher
                    .encrypt(&serde_json::to_string(&sealed).unwrap_or_default()),
            ),
            started_at,
            expires_at: started_at + ms(FLOW_TTL),
        };
        self.flows
            .put(flow)
            .await
            .map_err(|_| "the sign-in could not be stored")?;
        Ok(Started {
            flow_id: id,
            url: sealed.url,
            expires_in: HANDLING_TIMEOUT,
        })
    }

    /// Completes a sign-in from the provider's callback: the code becomes the person's tokens.
    /// Returns the person's id.
    pub async fn finish(
        &self,
        server: &str,
        state: &str,
        code: &str,
        cookie: Option<&str>,
    ) -> Result<String, SignInError> {
        let now = now_ms();
        let flow = self
            .flows
            .by_state(server, state)
            .await
            .filter(|f| pending_fresh(f, now))
            .ok_or(SignInError::InvalidState)?;
        if !self
            .flows
            .spend_binding(&flow.user_id, server, cookie)
            .await
        {
            return Err(SignInError::Csrf);
        }
        let fresh_since = now - ms(HANDLING_TIMEOUT);
        if !self
            .flows
            .advance(&flow.id, PENDING, CLAIMED, None, fresh_since)
            .await
        {
            return Err(SignInError::InvalidState);
        }
        let (id, user_id) = (flow.id.clone(), flow.user_id.clone());
        let Some(Sealed {
            verifier,
            client,
            redirect_uri,
            ..
        }) = self.open(&flow)
        else {
            tracing::warn!(mcp.server = %server, "an MCP sign-in's stored flow could not be opened (another CREDS_KEY?)");
            self.flows.end(&id, Some("callback_failed".into())).await;
            return Err(SignInError::Failed);
        };
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ];
        if let Some(r) = &client.resource {
            form.push(("resource", r));
        }
        let outcome = self.tokens(&user_id, server, &client, &form).await;
        if let Err(why) = &outcome {
            tracing::warn!(mcp.server = %server, why, "an MCP server's OAuth sign-in failed");
        }
        self.flows
            .end(
                &id,
                outcome.as_ref().err().map(|_| "callback_failed".to_owned()),
            )
            .await;
        outcome.map_err(|_| SignInError::Failed)?;
        tracing::info!(mcp.server = %server, user.id = %user_id, "signed in to an MCP server");
        Ok(user_id)
    }

    /// The provider said no (`error=` on the callback): the flow with `state` fails.
    pub async fn refuse(&self, server: &str, state: &str, error: &str) {
        let now = now_ms();
        if let Some(f) = self
            .flows
            .by_state(server, state)
            .await
            .filter(|f| pending_fresh(f, now))
        {
            let fresh_since = now - ms(HANDLING_TIMEOUT);
            self.flows
                .advance(&f.id, PENDING, FAILED, Some(error.to_owned()), fresh_since)
                .await;
        }
    }

    /// The flow `id`, as its status route shows it (from whichever replica it ran on).
    pub async fn view(&self, id: &str) -> Option<FlowView> {
        let f = self.flows.get(&row_id(id)).await?;
        let status = match f.status.as_str() {
            COMPLETED => FlowStatus::Completed,
            FAILED => FlowStatus::Failed,
            _ => FlowStatus::Pending,
        };
        let expired =
            status == FlowStatus::Pending && f.started_at <= now_ms() - ms(HANDLING_TIMEOUT);
        Some(FlowView {
            user_id: f.user_id,
            status,
            error: f.error,
            expired,
        })
    }

    /// Cancels the person's sign-in to `server`; whether one was in progress.
    pub async fn cancel(&self, user_id: &str, server: &str) -> bool {
        let id = row_id(&flow_id(user_id, server));
        let fresh_since = now_ms() - ms(HANDLING_TIMEOUT);
        self.flows
            .advance(&id, PENDING, FAILED, Some(CANCELLED.into()), fresh_since)
            .await
    }

    /// Waits (at most `within`) for the flow `id` to end, on whichever replica its callback
    /// lands; whether it completed.
    pub async fn wait(&self, id: &str, within: Duration) -> bool {
        self.flows.wait(&row_id(id), within).await
    }

    /// Revokes the person's tokens for `server` where its authorization server revokes them
    /// (RFC 7009; LibreChat does so when a person signs out of a server). A failure is logged:
    /// the tokens are forgotten here all the same. Without a known revocation endpoint nothing
    /// is sent (LibreChat would guess `/revoke` on the MCP server).
    async fn revoke(&self, user_id: &str, server: &str) {
        let Some(stored) = self.stored(user_id, server).await else {
            return;
        };
        let Some(client) = self
            .cipher
            .decrypt(&stored.client)
            .ok()
            .and_then(|c| serde_json::from_str::<Client>(&c).ok())
        else {
            return;
        };
        let Some(endpoint) = client
            .revocation
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
        else {
            return;
        };
        if endpoint.scheme() != "https" && !self.guarded.listed(&endpoint) {
            return;
        }
        let Ok(http) = self.guarded.client_for(&endpoint) else {
            return;
        };
        let auth = ClientAuth {
            id: &client.client_id,
            secret: client.client_secret.as_deref(),
            basic: client.basic,
        };
        let tokens = [
            (Some(&stored.access_token), "access_token"),
            (stored.refresh_token.as_ref(), "refresh_token"),
        ];
        for (sealed, hint) in tokens {
            let Some(token) = sealed.and_then(|t| self.cipher.decrypt(t).ok()) else {
                continue;
            };
            let form = [("token", token.as_str()), ("token_type_hint", hint)];
            let req = auth.form_post(http.post(endpoint.clone()), &form);
            let sent = discover::with_headers(req, &client.headers)
                .timeout(CALL_TIMEOUT)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    tracing::warn!(mcp.server = %server, status = r.status().as_u16(), "revoking an MCP server's token failed")
                }
                Err(_) => {
                    tracing::warn!(mcp.server = %server, "revoking an MCP server's token failed: unreachable")
                }
            }
        }
    }

    /// Forgets the person's tokens for `server` (they signed out, or the server refused them).
    pub async fn forget(&self, user_id: &str, server: &str) {
        self.revoke(user_id, server).await;
        let (user, server) = (user_id.to_owned(), server.to_owned());
        let _ = self
            .db
            .write(move |c| store::forget(c, &user, &server))
            .await;
    }
}
