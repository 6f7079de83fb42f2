//! One live connection to an MCP server: started, initialized within the server's
//! `initTimeout`, its tools listed; then tool calls, each within its `timeout`, with the
//! server's progress reported as it comes.

use std::time::Duration;

use serde_json::{Value, json};

use super::McpError;
use super::config::{ServerConfig, Transport};
use super::protocol::{CallToolResult, Tool};
use super::resolve::Resolved;
use super::rpc::{Failure, Limits, Session};

pub use super::rpc::Progress;

/// The most tools taken from one server (LibreChat's `MCP_TOOLS_LIST_MAX_TOOLS`): a server
/// that lists more is cut there, with a warning.
pub const MAX_TOOLS: usize = 1_000;

/// A connected, initialized server.
pub struct Connection {
    pub server: String,
    session: Session,
    /// Its tools, as it listed them (at most [`MAX_TOOLS`]).
    pub tools: Vec<Tool>,
    /// The instructions it gave when it initialized.
    pub instructions: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("server", &self.server)
            .field("tools", &self.tools.len())
            .finish()
    }
}

impl Connection {
    /// Connects to `config`'s server with the `resolved` values (its URL, headers and
    /// environment with their placeholders filled), through `net` for a URL, and lists its
    /// tools; all within its `initTimeout`.
    pub async fn open(
        config: &ServerConfig,
        resolved: &Resolved,
        net: &super::Net,
    ) -> Result<Connection, McpError> {
        let work = Self::open_unbounded(config, resolved, net);
        tokio::time::timeout(config.init_timeout, work)
            .await
            .map_err(|_| McpError::Timeout {
                server: config.name.clone(),
                what: "connecting",
                after: config.init_timeout,
            })?
    }

    async fn open_unbounded(
        config: &ServerConfig,
        resolved: &Resolved,
        net: &super::Net,
    ) -> Result<Connection, McpError> {
        let failed = |e: String| McpError::Connect {
            server: config.name.clone(),
            why: e,
        };
        let name = &config.name;
        let session = match &config.transport {
            Transport::Stdio { command, .. } => {
                let transport = super::stdio::spawn(name, command, &resolved.args, &resolved.env)
                    .map_err(|e| failed(e.to_string()))?;
                Session::start(transport, name)
            }
            Transport::Http { .. } | Transport::Sse { .. } | Transport::WebSocket { .. } => {
                let url = resolved.url.as_deref().unwrap_or_default();
                net.check_domain(name, url)?;
                let headers: std::collections::HashMap<String, String> = resolved
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let (guarded, max) = (&net.guarded, super::MAX_MESSAGE_BYTES);
                let wire = |e: super::transport::WireError| match e.why {
                    super::transport::Why::Blocked(_) => McpError::Blocked {
                        server: name.clone(),
                        why: e.to_string(),
                    },
                    super::transport::Why::Status(401) => McpError::Unauthorized {
                        server: name.clone(),
                    },
                    _ => failed(e.to_string()),
                };
                match &config.transport {
                    Transport::Sse { .. } => {
                        let t = super::transport::sse(url, &headers, guarded, max).await;
                        Session::start(t.map_err(wire)?, name)
                    }
                    Transport::WebSocket { .. } => {
                        let t = super::transport::websocket(url, &headers, guarded, max).await;
                        Session::start(t.map_err(wire)?, name)
                    }
                    _ => {
                        let t = super::transport::streamable_http(url, &headers, guarded, max);
                        Session::start(t.map_err(wire)?, name)
                    }
                }
            }
        };
        Self::initialize(session, name, config.init_timeout, config.timeout).await
    }

    /// Initializes the protocol over `session` (within `init_timeout` for each step) and lists
    /// the server's tools; its calls will have `timeout`.
    pub async fn initialize(
        session: Session,
        server: &str,
        init_timeout: Duration,
        timeout: Duration,
    ) -> Result<Connection, McpError> {
        let failed = |f: Failure| match f {
            Failure::Unauthorized => McpError::Unauthorized {
                server: server.to_owned(),
            },
            f => McpError::Connect {
                server: server.to_owned(),
                why: f.to_string(),
            },
        };
        let limits = Limits::plain(init_timeout);
        let init = session
            .request(
                "initialize",
                super::protocol::initialize_params(),
                limits,
                None,
            )
            .await
            .map_err(failed)?;
        let version = init["protocolVersion"].as_str().unwrap_or_default();
        if !super::protocol::SUPPORTED.contains(&version) {
            return Err(McpError::Protocol {
                server: server.to_owned(),
                why: format!("it speaks protocol version {version:?}, which this server does not"),
            });
        }
        session
            .notify("notifications/initialized", None)
            .await
            .map_err(failed)?;
        let instructions = init["instructions"]
            .as_str()
            .filter(|i| !i.trim().is_empty())
            .map(str::to_owned);
        let tools = list_tools(&session, server, limits).await?;
        Ok(Connection {
            server: server.to_owned(),
            session,
            tools,
            instructions,
            timeout,
        })
    }

    /// Whether the server is gone (its process ended, its stream closed).
    pub fn is_closed(&self) -> bool {
        self.session.is_closed()
    }

    /// Calls the tool `name` with `arguments`, within the server's `timeout`; each progress
    /// notification of the call goes to `progress`. Progress keeps a long call alive, as in
    /// LibreChat, within four times its timeout.
    pub async fn call(
        &self,
        name: &str,
        arguments: serde_json::Map<String, Value>,
        progress: Option<tokio::sync::mpsc::UnboundedSender<Progress>>,
    ) -> Result<CallToolResult, McpError> {
        let limits = Limits {
            quiet: self.timeout,
            total: self.timeout * 4,
            progress: true,
        };
        let params = json!({"name": name, "arguments": arguments});
        let result = self
            .session
            .request("tools/call", params, limits, progress)
            .await
            .map_err(|e| self.failed(e))?;
        Ok(CallToolResult::read(result))
    }

    fn failed(&self, e: Failure) -> McpError {
        let server = self.server.clone();
        match e {
            Failure::Timeout => McpError::Timeout {
                server,
                what: "a tool call",
                after: self.timeout,
            },
            Failure::Rpc { message, .. } => McpError::Tool {
                server,
                why: message,
            },
            Failure::Unauthorized => McpError::Unauthorized { server },
            // Why it could not be sent (the transport's reason) is kept.
            e @ Failure::Send(_) => McpError::Connect {
                server,
                why: e.to_string(),
            },
            Failure::Closed => McpError::Gone { server },
        }
    }

    /// Stops the connection (and a stdio server's process).
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.close()).await;
    }
}

/// Every tool the server lists, page by page, up to [`MAX_TOOLS`].
async fn list_tools(
    session: &Session,
    server: &str,
    limits: Limits,
) -> Result<Vec<Tool>, McpError> {
    let mut tools = Vec::new();
    let mut cursor: Option<String> = None;
    // A server that pages forever is stopped after this many pages.
    for _ in 0..64 {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let page = session
            .request("tools/list", params, limits, None)
            .await
            .map_err(|e| McpError::Protocol {
                server: server.to_owned(),
                why: format!("listing its tools failed: {e}"),
            })?;
        let (page, next) = super::protocol::tools_page(&page);
        tools.extend(page);
        if tools.len() >= MAX_TOOLS {
            tracing::warn!(
                mcp.server = server,
                kept = MAX_TOOLS,
                "MCP server lists more tools than are kept"
            );
            tools.truncate(MAX_TOOLS);
            break;
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(tools)
}
