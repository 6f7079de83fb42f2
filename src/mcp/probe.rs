//! Connecting to a configured server once, to see that it works: `librechat mcp test NAME`
//! and `librechat doctor`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::{McpConfig, ServerConfig, Transport};
use super::connection::Connection;
use super::resolve::{Values, resolve};
use super::{McpError, Net};

/// What one connection found.
#[derive(Debug)]
pub struct Probe {
    /// The names of its tools, as it lists them.
    pub tools: Vec<String>,
    /// It gave instructions when it initialized.
    pub instructions: bool,
    /// From starting to connect to having its tools.
    pub took: Duration,
}

/// The way to reach the MCP servers of `config` from the command line (no person's values).
pub fn net(config: &McpConfig) -> Net {
    Net {
        guarded: crate::net::Guarded::new(config.settings.allowed_addresses.clone()),
        allowed_domains: config.settings.allowed_domains.clone(),
    }
}

/// Where `server` is: its command line, or its URL without credentials or query.
pub fn target(server: &ServerConfig) -> String {
    match &server.transport {
        Transport::Stdio { command, args, .. } => {
            let mut s = command.clone();
            for a in args {
                s.push(' ');
                s.push_str(a);
            }
            s
        }
        t => t.url().and_then(|u| url::Url::parse(u).ok()).map_or_else(
            || "(an invalid URL)".into(),
            |u| super::transport::shown(&u),
        ),
    }
}

/// Connects to `server` as the server itself would for everyone, lists its tools and
/// disconnects (a stdio server's process ends). A server that needs each person's values or
/// sign-in is connected without them, so it may refuse.
pub async fn probe(server: &ServerConfig, net: &Net) -> Result<Probe, McpError> {
    let started = Instant::now();
    let conn = Connection::open(server, &resolve(server, &Values::default()), net).await?;
    let found = Probe {
        tools: conn.tools.iter().map(|t| t.name.to_string()).collect(),
        instructions: conn.instructions.is_some(),
        took: started.elapsed(),
    };
    conn.close().await;
    Ok(found)
}

/// Every server of `config` probed at once, in its order.
pub async fn probe_all(config: &McpConfig) -> Vec<(Arc<ServerConfig>, Result<Probe, McpError>)> {
    let net = net(config);
    let servers: Vec<Arc<ServerConfig>> = config.servers.iter().cloned().map(Arc::new).collect();
    let found = futures_util::future::join_all(servers.iter().map(|s| probe(s, &net))).await;
    servers.into_iter().zip(found).collect()
}
