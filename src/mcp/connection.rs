//! One live connection to an MCP server: started, initialized within the server's
//! `initTimeout`, its tools listed; then tool calls, each within its `timeout`, with the
//! server's progress reported as it comes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, ClientCapabilities, ClientRequest,
    Implementation, InitializeRequestParams, ProgressNotificationParam, ProgressToken,
    ServerResult,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService};
use rmcp::{ClientHandler, Peer, RoleClient, ServiceError};

use super::McpError;
use super::config::{ServerConfig, Transport};
use super::resolve::Resolved;

/// The most tools taken from one server (LibreChat's `MCP_TOOLS_LIST_MAX_TOOLS`): a server
/// that lists more is cut there, with a warning.
pub const MAX_TOOLS: usize = 1_000;

/// Progress of a running call, as the server reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
}

type ProgressSinks =
    Arc<Mutex<HashMap<ProgressToken, tokio::sync::mpsc::UnboundedSender<Progress>>>>;

/// What this server is to its MCP servers: its name, and where their progress goes.
#[derive(Clone)]
pub struct Client {
    progress: ProgressSinks,
}

impl ClientHandler for Client {
    fn get_info(&self) -> InitializeRequestParams {
        InitializeRequestParams::new(
            ClientCapabilities::default(),
            Implementation::new("librechat", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let sink = self
            .progress
            .lock()
            .expect("progress sinks")
            .get(&params.progress_token)
            .cloned();
        if let Some(sink) = sink {
            let _ = sink.send(Progress {
                progress: params.progress,
                total: params.total,
                message: params.message,
            });
        }
    }
}

/// A connected, initialized server.
pub struct Connection {
    pub server: String,
    service: RunningService<RoleClient, Client>,
    /// Its tools, as it listed them (at most [`MAX_TOOLS`]).
    pub tools: Vec<rmcp::model::Tool>,
    /// The instructions it gave when it initialized.
    pub instructions: Option<String>,
    timeout: Duration,
    progress: ProgressSinks,
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
        let progress: ProgressSinks = Arc::default();
        let client = Client {
            progress: progress.clone(),
        };
        let failed = |e: String| McpError::Connect {
            server: config.name.clone(),
            why: e,
        };
        let service = match &config.transport {
            Transport::Stdio { command, .. } => {
                let transport =
                    super::stdio::spawn(&config.name, command, &resolved.args, &resolved.env)
                        .map_err(|e| failed(e.to_string()))?;
                rmcp::serve_client(client, transport)
                    .await
                    .map_err(|e| failed(e.to_string()))?
            }
            Transport::Http { .. } | Transport::Sse { .. } | Transport::WebSocket { .. } => {
                let url = resolved.url.as_deref().unwrap_or_default();
                net.check_domain(&config.name, url)?;
                let headers: std::collections::HashMap<String, String> = resolved
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let (guarded, max) = (&net.guarded, super::MAX_MESSAGE_BYTES);
                let wire = |e: super::transport::WireError| match e.why {
                    super::transport::Why::Blocked(_) => McpError::Blocked {
                        server: config.name.clone(),
                        why: e.to_string(),
                    },
                    _ => McpError::Connect {
                        server: config.name.clone(),
                        why: e.to_string(),
                    },
                };
                let served = match &config.transport {
                    Transport::Sse { .. } => {
                        let t = super::transport::sse(url, &headers, guarded, max)
                            .await
                            .map_err(wire)?;
                        rmcp::serve_client(client, t).await
                    }
                    Transport::WebSocket { .. } => {
                        let t = super::transport::websocket(url, &headers, guarded, max)
                            .await
                            .map_err(wire)?;
                        rmcp::serve_client(client, t).await
                    }
                    _ => {
                        let t = super::transport::streamable_http(url, &headers, guarded, max)
                            .map_err(wire)?;
                        rmcp::serve_client(client, t).await
                    }
                };
                served.map_err(|e| failed(e.to_string()))?
            }
        };
        let instructions = service
            .peer()
            .peer_info()
            .and_then(|i| i.instructions.clone())
            .filter(|i| !i.trim().is_empty());
        let tools = list_tools(service.peer(), &config.name).await?;
        Ok(Connection {
            server: config.name.clone(),
            service,
            tools,
            instructions,
            timeout: config.timeout,
            progress,
        })
    }

    /// Whether the server is gone (its process ended, its stream closed).
    pub fn is_closed(&self) -> bool {
        self.service.is_closed() || self.service.peer().is_transport_closed()
    }

    /// Calls the tool `name` with `arguments`, within the server's `timeout`; each progress
    /// notification of the call goes to `progress`.
    pub async fn call(
        &self,
        name: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
        progress: Option<tokio::sync::mpsc::UnboundedSender<Progress>>,
    ) -> Result<CallToolResult, McpError> {
        let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        // Progress keeps a long call alive, as in LibreChat, within four times its timeout.
        let options = PeerRequestOptions::with_timeout(self.timeout)
            .reset_timeout_on_progress()
            .with_max_total_timeout(self.timeout * 4);
        let handle = self
            .service
            .peer()
            .send_request_with_option(request, options)
            .await
            .map_err(|e| self.failed(e))?;
        let token = handle.progress_token.clone();
        if let Some(sink) = progress {
            self.progress
                .lock()
                .expect("progress sinks")
                .insert(token.clone(), sink);
        }
        let answer = handle.await_response().await;
        self.progress.lock().expect("progress sinks").remove(&token);
        match answer.map_err(|e| self.failed(e))? {
            ServerResult::CallToolResult(r) => Ok(r),
            _ => Err(McpError::Protocol {
                server: self.server.clone(),
                why: "it answered a tool call with something else".into(),
            }),
        }
    }

    fn failed(&self, e: ServiceError) -> McpError {
        match e {
            ServiceError::Timeout { .. } => McpError::Timeout {
                server: self.server.clone(),
                what: "a tool call",
                after: self.timeout,
            },
            ServiceError::McpError(e) => McpError::Tool {
                server: self.server.clone(),
                why: e.message.to_string(),
            },
            ServiceError::TransportClosed | ServiceError::TransportSend(_) => McpError::Gone {
                server: self.server.clone(),
            },
            other => McpError::Protocol {
                server: self.server.clone(),
                why: other.to_string(),
            },
        }
    }

    /// Stops the connection (and a stdio server's process).
    pub async fn close(mut self) {
        let _ = self
            .service
            .close_with_timeout(Duration::from_secs(5))
            .await;
    }
}

/// Every tool the server lists, page by page, up to [`MAX_TOOLS`].
async fn list_tools(
    peer: &Peer<RoleClient>,
    server: &str,
) -> Result<Vec<rmcp::model::Tool>, McpError> {
    let mut tools = Vec::new();
    let mut cursor = None;
    // A server that pages forever is stopped after this many pages.
    for _ in 0..64 {
        let params =
            cursor.map(|c| rmcp::model::PaginatedRequestParams::default().with_cursor(Some(c)));
        let page = peer
            .list_tools(params)
            .await
            .map_err(|e| McpError::Protocol {
                server: server.to_owned(),
                why: format!("listing its tools failed: {e}"),
            })?;
        tools.extend(page.tools);
        if tools.len() >= MAX_TOOLS {
            tracing::warn!(
                mcp.server = server,
                kept = MAX_TOOLS,
                "MCP server lists more tools than are kept"
            );
            tools.truncate(MAX_TOOLS);
            break;
        }
        match page.next_cursor {
            Some(c) if !c.is_empty() => cursor = Some(c),
            _ => break,
        }
    }
    Ok(tools)
}
