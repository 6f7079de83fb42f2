//! [`Mcp`]: the configured servers and their connections.
//!
//! A server everyone uses the same way has one connection for everyone, made when the server
//! starts (`startup`, the default) or on first use. A server that takes each person's own
//! values (`{{LIBRECHAT_USER_...}}`, `customUserVars`) or sign-in gets one connection per
//! person, closed after [`PERSONAL_IDLE`] unused. A server that takes the chat request's values
//! (`{{LIBRECHAT_BODY_*}}`) is kept by neither: each chat turn connects to it
//! ([`super::turn`]).
//!
//! A connection that dies (a stdio server exits or crashes) is made again on next use; one
//! that keeps failing waits between tries, from 1 s doubling to [`MAX_BACKOFF`] (LibreChat's numbers). Only one try
//! runs at a time per connection: callers arriving meanwhile wait for its outcome.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::{McpConfig, ServerConfig};
use super::connection::Connection;
use super::oauth::McpOAuth;
use super::resolve::{UserVars, Values, resolve};
use super::{McpError, Net};
use crate::bounded::BoundedCache;

/// How long a person's own connection stays open unused.
pub const PERSONAL_IDLE: Duration = Duration::from_secs(15 * 60);

/// The longest wait between tries to connect to a server that keeps failing.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The most personal connections kept at once (the least recently used close first).
const MAX_PERSONAL: u64 = 10_000;

/// One connection's place: the connection when there is one, and its failures.
pub struct Slot {
    pub config: Arc<ServerConfig>,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    conn: Option<Arc<Connection>>,
    /// Tries that failed in a row (a connection that died counts once).
    failures: u32,
    not_before: Option<Instant>,
    last_error: Option<McpError>,
    /// A connection was made at least once.
    connected_once: bool,
}

/// A connection's state, as the status routes tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Connected,
    Connecting,
    Disconnected,
    Error,
}

impl Slot {
    fn new(config: Arc<ServerConfig>) -> Arc<Self> {
        Arc::new(Slot {
            config,
            state: tokio::sync::Mutex::default(),
        })
    }

    /// The live connection, made (again) when there is none; within the backoff of a failing
    /// server.
    pub async fn connection(
        &self,
        net: &Net,
        values: &Values,
    ) -> Result<Arc<Connection>, McpError> {
        self.connection_with(net, values, None).await
    }

    /// [`connection`](Self::connection), a new one sending `Authorization: Bearer <bearer>`
    /// (a person's OAuth token) when given.
    pub async fn connection_with(
        &self,
        net: &Net,
        values: &Values,
        bearer: Option<&str>,
    ) -> Result<Arc<Connection>, McpError> {
        let mut state = self.state.lock().await;
        if let Some(conn) = &state.conn {
            if !conn.is_closed() {
                return Ok(conn.clone());
            }
            tracing::warn!(mcp.server = %self.config.name, "MCP server stopped; reconnecting");
            state.conn = None;
            state.failures += 1;
            // The first restart after a death is immediate.
            state.not_before =
                (state.failures > 1).then(|| Instant::now() + backoff(state.failures - 1));
        }
        if let Some(at) = state.not_before
            && let Some(wait) = at.checked_duration_since(Instant::now())
        {
            return Err(McpError::Backoff {
                server: self.config.name.clone(),
                wait,
            });
        }
        let mut resolved = resolve(&self.config, values);
        if let Some(token) = bearer {
            resolved
                .headers
                .insert("Authorization".into(), format!("Bearer {token}"));
        }
        match Connection::open(&self.config, &resolved, net).await {
            Ok(conn) => {
                let conn = Arc::new(conn);
                tracing::info!(mcp.server = %self.config.name, tools = conn.tools.len(), "MCP server connected");
                state.conn = Some(conn.clone());
                state.failures = 0;
                state.not_before = None;
                state.last_error = None;
                state.connected_once = true;
                Ok(conn)
            }
            // Refused credentials are the person's to renew, not the server failing.
            Err(e @ McpError::Unauthorized { .. }) => Err(e),
            Err(e) => {
                state.failures += 1;
                state.not_before = Some(Instant::now() + backoff(state.failures));
                tracing::warn!(mcp.server = %self.config.name, error = %e, "MCP server connection failed");
                state.last_error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// The connection's state now, without connecting.
    pub fn status(&self) -> Status {
        match self.state.try_lock() {
            Err(_) => Status::Connecting,
            Ok(s) => match &s.conn {
                Some(c) if !c.is_closed() => Status::Connected,
                _ if s.last_error.is_some() => Status::Error,
                _ => Status::Disconnected,
            },
        }
    }

    /// The live connection, if there is one now (never connects).
    pub fn current(&self) -> Option<Arc<Connection>> {
        let s = self.state.try_lock().ok()?;
        s.conn.clone().filter(|c| !c.is_closed())
    }

    /// Closes the connection (the next use makes a new one, at once).
    pub async fn reset(&self) {
        let mut state = self.state.lock().await;
        *state = State::default();
    }
}

/// The wait after `failures` failed tries: 1 s, 2 s, 4 s, ... up to [`MAX_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(6)).min(MAX_BACKOFF)
}

/// The configured MCP servers and their connections.
pub struct Mcp {
    pub config: McpConfig,
    pub net: Net,
    shared: HashMap<String, Arc<Slot>>,
    personal: BoundedCache<Arc<Slot>>,
    vars: Arc<dyn UserVars>,
    /// Where the servers people add are kept (see `user_servers`); unset: only
    /// librechat.yaml's.
    pub(super) store: std::sync::OnceLock<super::user_servers::Store>,
    /// People's sign-ins to the servers that need one (set once, at start).
    oauth: std::sync::OnceLock<Arc<McpOAuth>>,
}

impl Mcp {
    /// The servers of `config`, reached through `net`, with each person's variables from
    /// `vars`.
    pub fn new(config: McpConfig, net: Net, vars: Arc<dyn UserVars>) -> Arc<Self> {
        let shared = config
            .servers
            .iter()
            .filter(|s| !s.per_user())
            .map(|s| (s.name.clone(), Slot::new(Arc::new(s.clone()))))
            .collect();
        Arc::new(Mcp {
            config,
            net,
            shared,
            personal: BoundedCache::builder(MAX_PERSONAL)
                .time_to_idle(PERSONAL_IDLE)
                .build(),
            vars,
            store: std::sync::OnceLock::new(),
            oauth: std::sync::OnceLock::new(),
        })
    }

    /// Where people's sign-ins to OAuth servers are kept (without it, such a server cannot be
    /// used: the command line).
    pub fn set_oauth(&self, oauth: Arc<McpOAuth>) {
        let _ = self.oauth.set(oauth);
    }

    /// People's sign-ins, when kept.
    pub fn oauth(&self) -> Option<&Arc<McpOAuth>> {
        self.oauth.get()
    }

    /// Whether any server is configured.
    pub fn is_empty(&self) -> bool {
        self.config.servers.is_empty()
    }

    /// Connects the shared servers marked `startup`, in the background; each that fails is
    /// logged and tried again on first use.
    pub fn start(self: &Arc<Self>) {
        for slot in self.shared.values().filter(|s| s.config.startup) {
            let (mcp, slot) = (self.clone(), slot.clone());
            tokio::spawn(async move {
                let _ = slot.connection(&mcp.net, &Values::default()).await;
            });
        }
        // Idle personal connections close within a minute of their time (the cache drops
        // them only when used otherwise). The task ends with the last other holder.
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                match weak.upgrade() {
                    Some(mcp) => mcp.personal.run_pending_tasks(),
                    None => break,
                }
            }
        });
    }

    /// The place of `server`'s connection for the person `values` describe (`user_id` keys
    /// their own connection to a per-person server).
    pub fn slot(&self, server: &str, user_id: &str) -> Result<Arc<Slot>, McpError> {
        if let Some(slot) = self.shared.get(server) {
            return Ok(slot.clone());
        }
        let config = self
            .config
            .get(server)
            .ok_or_else(|| McpError::Unknown(server.to_owned()))?;
        Ok(self.personal_slot(config, user_id))
    }

    /// `user_id`'s own slot for `config`: made again when the configuration changed since (a
    /// person edited their server).
    pub(super) fn personal_slot(&self, config: &ServerConfig, user_id: &str) -> Arc<Slot> {
        let key = format!("{user_id}\u{1f}{}", config.name);
        self.personal.upsert_with(key, |had| match had {
            Some(slot) if *slot.config == *config => slot,
            _ => Slot::new(Arc::new(config.clone())),
        })
    }

    /// `server`'s live connection for `user`, made if needed. A request-scoped server (one
    /// using the chat request's values) has none outside a chat turn: see
    /// [`TurnScope`](super::turn::TurnScope).
    pub async fn connection(
        &self,
        server: &str,
        user: &crate::db::users::User,
    ) -> Result<Arc<Connection>, McpError> {
        let config = self
            .config_for(server, user)
            .await
            .ok_or_else(|| McpError::Unknown(server.to_owned()))?;
        if super::resolve::request_scoped(&config) {
            return Err(McpError::Connect {
                server: server.to_owned(),
                why: "it uses the chat request's values: it is connected in chat turns only".into(),
            });
        }
        let slot = match self.shared.get(server) {
            Some(slot) => slot.clone(),
            None => self.personal_slot(&config, &user.id),
        };
        let values = self.values_for(&slot.config, user).await?;
        if !slot.config.requires_oauth {
            return slot.connection(&self.net, &values).await;
        }
        if let Some(live) = slot.current() {
            return Ok(live);
        }
        let token = self.bearer(&slot.config, user, false).await?;
        match slot.connection_with(&self.net, &values, Some(&token)).await {
            // The server no longer takes a token that has not run out (revoked, or the
            // server restarted): refreshed once, else the person signs in again.
            Err(McpError::Unauthorized { .. }) => {
                let token = self.bearer(&slot.config, user, true).await?;
                match slot.connection_with(&self.net, &values, Some(&token)).await {
                    Err(McpError::Unauthorized { .. }) => Err(McpError::SignIn {
                        server: server.to_owned(),
                    }),
                    other => other,
                }
            }
            other => other,
        }
    }

    /// A new connection to `config` for `user` in one chat turn (`turn`'s values filled in),
    /// kept by no one but the caller.
    pub(super) async fn open_for_turn(
        &self,
        config: &ServerConfig,
        user: &crate::db::users::User,
        turn: &super::resolve::Turn,
    ) -> Result<Connection, McpError> {
        let values = self
            .values_for(config, user)
            .await?
            .with(Values::for_turn(turn).0);
        let mut resolved = resolve(config, &values);
        if config.requires_oauth {
            let token = self.bearer(config, user, false).await?;
            resolved
                .headers
                .insert("Authorization".into(), format!("Bearer {token}"));
        }
        let conn = Connection::open(config, &resolved, &self.net).await?;
        tracing::info!(mcp.server = %config.name, tools = conn.tools.len(), "MCP server connected for a chat turn");
        Ok(conn)
    }

    /// The values `config`'s placeholders take for `user`: their account's (librechat.yaml's
    /// servers only) and their own variables, all of which must be set.
    async fn values_for(
        &self,
        config: &ServerConfig,
        user: &crate::db::users::User,
    ) -> Result<Values, McpError> {
        // A server a person added fills only its own variables (LibreChat's rule): nothing of
        // the account of whoever uses it.
        let mut values = match config.db_id {
            None => Values::for_user(user),
            Some(_) => Values::default(),
        };
        if !config.custom_user_vars.is_empty() {
            let theirs = self.vars.values(&user.id, &config.name).await;
            // As LibreChat: not connected at all until the person set every variable.
            let missing: Vec<String> = config
                .custom_user_vars
                .keys()
                .filter(|k| !theirs.iter().any(|(f, v)| f == *k && !v.is_empty()))
                .cloned()
                .collect();
            if !missing.is_empty() {
                return Err(McpError::MissingVars {
                    server: config.name.clone(),
                    vars: missing,
                });
            }
            values = values.with(theirs);
        }
        Ok(values)
    }

    /// `user`'s OAuth access token for `config` (a new one by their refresh token when
    /// `renew`: the server refused the one stored), or why they must sign in first.
    async fn bearer(
        &self,
        config: &ServerConfig,
        user: &crate::db::users::User,
        renew: bool,
    ) -> Result<String, McpError> {
        let sign_in = || McpError::SignIn {
            server: config.name.clone(),
        };
        let oauth = self.oauth().ok_or_else(sign_in)?;
        let token = match renew {
            true => oauth.refresh(&user.id, config).await,
            false => oauth.access_token(&user.id, config).await,
        };
        token.ok_or_else(sign_in)
    }

    /// Closes `user_id`'s own connection to `server` (their variables changed): the next use
    /// connects with the new ones.
    pub fn forget(&self, server: &str, user_id: &str) {
        self.personal
            .invalidate(&format!("{user_id}\u{1f}{server}"));
    }

    /// The state of every server's connection for the person `user_id`.
    pub fn statuses(&self, user_id: &str) -> Vec<(String, Status)> {
        self.config
            .servers
            .iter()
            .map(|s| {
                let status = match self.shared.get(&s.name) {
                    Some(slot) => slot.status(),
                    None => self
                        .personal
                        .get(&format!("{user_id}\u{1f}{}", s.name))
                        .map_or(Status::Disconnected, |slot| slot.status()),
                };
                (s.name.clone(), status)
            })
            .collect()
    }

    /// Closes every connection (the server is stopping): stdio servers' processes end.
    pub async fn shutdown(&self) {
        for slot in self.shared.values() {
            slot.reset().await;
        }
        self.personal.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_bound() {
        let waits: Vec<u64> = (1..=9).map(|f| backoff(f).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30, 30]);
    }
}
