//! MCP: tools from Model Context Protocol servers, for agents and plain chats.
//!
//! Servers come from `mcpServers` in librechat.yaml ([`config`]), and from people who add
//! their own ([`user_servers`], checked by [`user_input`]), shared like agents. Each is reached over stdio (a
//! supervised child process, [`stdio`]), streamable HTTP, SSE or a websocket ([`transport`]), and
//! its tools join the agent tool loop as `<tool>_mcp_<server>`, LibreChat's names ([`tool`]).
//! [`Mcp`] keeps the connections: one for everyone per server, or one per person for a server
//! that takes their own values or sign-in, reconnecting with backoff when a server dies; or one
//! per chat turn for a server using the chat request's values ([`turn`]).

pub mod config;
pub mod connection;
pub mod listing;
pub mod manager;
pub mod oauth;
pub mod probe;
pub mod protocol;
pub mod resolve;
pub mod rpc;
pub mod stdio;
pub mod tool;
pub mod transport;
pub mod turn;
pub mod user_input;
pub mod user_servers;

use std::time::Duration;

pub use manager::Mcp;

/// The largest message taken from a server (a line on stdio, a JSON body, an SSE event or a
/// websocket message): past it the connection ends with an error, so a server cannot fill our
/// memory.
pub use transport::MAX_MESSAGE as MAX_MESSAGE_BYTES;

/// What MCP connections go out through: the guarded client (no private address unless
/// `mcpSettings.allowedAddresses` lists it) and `mcpSettings.allowedDomains`.
#[derive(Clone)]
pub struct Net {
    pub guarded: crate::net::Guarded,
    /// When set, the only domains a server may be on (as actions' `allowedDomains` match).
    pub allowed_domains: Vec<String>,
}

/// Why an MCP server could not do what was asked. Each names the server, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McpError {
    #[error("MCP server `{0}` is not configured")]
    Unknown(String),
    #[error("MCP server `{server}` could not be reached: {why}")]
    Connect { server: String, why: String },
    #[error("MCP server `{server}` is not allowed: {why}")]
    Blocked { server: String, why: String },
    #[error("MCP server `{server}` did not answer {what} within {} ms", after.as_millis())]
    Timeout {
        server: String,
        what: &'static str,
        after: Duration,
    },
    #[error("MCP server `{server}` stopped (it will be restarted)")]
    Gone { server: String },
    #[error("MCP server `{server}` answered with an error: {why}")]
    Tool { server: String, why: String },
    #[error("MCP server `{server}` broke the protocol: {why}")]
    Protocol { server: String, why: String },
    #[error("MCP server `{server}` needs the person's {} first", vars.join(", "))]
    MissingVars { server: String, vars: Vec<String> },
    /// The server needs the person's sign-in (OAuth), and they have no token.
    #[error("MCP server `{server}` needs the person to sign in (OAuth)")]
    SignIn { server: String },
    /// The server refused the credentials sent (HTTP 401), before acting on anything.
    #[error("MCP server `{server}` refused the credentials (HTTP 401)")]
    Unauthorized { server: String },
    #[error("MCP server `{server}` failed recently; next try in {} s", wait.as_secs().max(1))]
    Backoff { server: String, wait: Duration },
}

impl Net {
    /// Refuses `server`'s `url` when `mcpSettings.allowedDomains` does not list its domain (the
    /// address checks are the transports', through the guarded client).
    pub fn check_domain(&self, server: &str, url: &str) -> Result<(), McpError> {
        let blocked = |why: String| McpError::Blocked {
            server: server.to_owned(),
            why,
        };
        let parsed =
            url::Url::parse(url).map_err(|e| blocked(format!("its URL does not read: {e}")))?;
        let shown = transport::shown(&parsed);
        if !crate::agents::actions::domain::allowed(&shown, &self.allowed_domains) {
            return Err(blocked(format!(
                "{shown} is not in mcpSettings.allowedDomains"
            )));
        }
        Ok(())
    }
}
