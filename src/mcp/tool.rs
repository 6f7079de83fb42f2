//! MCP tools in the agent tool loop, under LibreChat's names: `<tool>_mcp_<server>` for one
//! tool, `sys__all__sys_mcp_<server>` for all of a server's (the composer's MCP menu), and
//! what their results become for the model.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::Mcp;
use super::McpError;
use super::config::{Instructions, ServerConfig};
use super::protocol::{CallToolResult, Tool as McpToolDef, field, kind};
use crate::agents::actions::oauth::SIGN_IN_WAIT;
use crate::agents::tools::{Context, SignIn, Tool, ToolError, ToolFuture, ToolProgress};
use crate::db::users::User;
use crate::providers::ToolDef;

/// Between a tool's name and its server's in a tool key.
pub const DELIMITER: &str = "_mcp_";
/// The tool part of a key that stands for every tool of its server.
pub const ALL: &str = "sys__all__sys";
/// The tool part of a key that only marks a server as chosen (LibreChat's agent builder).
pub const SERVER: &str = "sys__server__sys";

/// The largest image a result may carry (LibreChat's `MCP_IMAGE_DATA_MAX_BYTES`).
pub const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// What a call of an unreachable server's tool answers (LibreChat's words).
const UNAVAILABLE: &str =
    "This tool's MCP server is temporarily unavailable. Please try again shortly.";

/// A server's name as it appears in tool keys (LibreChat's `normalizeServerName`): as it is
/// when it is letters, digits, `_`, `.` and `-`; otherwise each other character becomes `_`,
/// with `_` trimmed from both ends.
pub fn normalize_server_name(name: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if !name.is_empty() && name.chars().all(plain) {
        return name.to_owned();
    }
    let out: String = name
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .collect();
    let out = out.trim_matches('_');
    if out.is_empty() {
        // LibreChat's fallback: a name from the original's 32-bit string hash.
        let mut h: i32 = 0;
        for c in name.encode_utf16() {
            h = h.wrapping_shl(5).wrapping_sub(h).wrapping_add(i32::from(c));
        }
        return format!("server_{}", h.unsigned_abs());
    }
    out.to_owned()
}

/// The key of `tool` of `server`.
pub fn key(tool: &str, server: &str) -> String {
    format!("{tool}{DELIMITER}{}", normalize_server_name(server))
}

/// The tools a turn gets from MCP servers, and what their servers' instructions add to the
/// system prompt.
#[derive(Default)]
pub struct Selection {
    pub tools: Vec<Arc<dyn Tool>>,
    pub instructions: Option<String>,
    /// Servers asked for whole (a plain chat's MCP menu) that want the person's sign-in
    /// first: the turn shows each sign-in link before the model runs ([`crate::chat`]'s
    /// `mcp_sign_in`), and takes their tools once signed in.
    pub sign_ins: Vec<String>,
}

impl Mcp {
    /// The configured server a tool key names (the longest server name it ends with), and the
    /// tool part.
    pub fn split_key<'a>(&'a self, key: &'a str) -> Option<(&'a ServerConfig, &'a str)> {
        split_in(&self.config.servers, key)
    }

    /// The MCP tools `names` ask for, for `user` in the chat turn `scope`: each server's
    /// connection is made (or reused; a request-scoped server's is the turn's own); a server
    /// that cannot be reached gives no tools, except those named one by one, which answer that
    /// it is unavailable.
    pub async fn tools_for(
        self: &Arc<Self>,
        user: &User,
        names: &[String],
        scope: &super::turn::TurnScope,
    ) -> Selection {
        // Server → the tools wanted (None: all).
        let mut wanted: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
        if !names.iter().any(|n| n.contains(DELIMITER)) {
            return Selection::default();
        }
        // librechat.yaml's servers and those the person added or was given.
        let servers = self.servers_for(user).await;
        for name in names.iter().filter(|n| n.contains(DELIMITER)) {
            let Some((server, tool)) = split_in(&servers, name) else {
                continue;
            };
            match tool {
                SERVER => {}
                ALL => {
                    wanted.insert(server.name.clone(), None);
                }
                t => {
                    let entry = wanted
                        .entry(server.name.clone())
                        .or_insert_with(|| Some(Vec::new()));
                    if let Some(list) = entry {
                        list.push(t.to_owned());
                    }
                }
            }
        }
        if wanted.is_empty() {
            return Selection::default();
        }
        let connections = futures_util::future::join_all(wanted.keys().map(|server| async {
            match servers.iter().find(|s| s.name == *server) {
                Some(c) if super::resolve::request_scoped(c) => {
                    scope.connection(self, c, user).await
                }
                _ => self.connection(server, user).await,
            }
        }))
        .await;
        let mut out = Selection::default();
        let mut instructions = Vec::new();
        for ((server, tools), conn) in wanted.into_iter().zip(connections) {
            let Some(config) = servers.iter().find(|s| s.name == server) else {
                continue;
            };
            let conn = match conn {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(mcp.server = %server, error = %e, "an MCP server's tools are left out of the turn");
                    // A tool named one by one whose server wants the person's sign-in asks
                    // for it when called, and goes on once they signed in.
                    let sign_in = matches!(e, McpError::SignIn { .. });
                    if sign_in && tools.is_none() {
                        out.sign_ins.push(server.clone());
                    }
                    for t in tools.unwrap_or_default() {
                        let mut tool = McpTool::unavailable(&t, &server);
                        if sign_in {
                            tool.mcp = Some((self.clone(), user.clone()));
                        }
                        out.tools.push(Arc::new(tool));
                    }
                    continue;
                }
            };
            match &config.instructions {
                Instructions::None => {}
                Instructions::FromServer => {
                    if let Some(i) = &conn.instructions {
                        instructions.push((server.clone(), i.clone()));
                    }
                }
                Instructions::Text(t) => instructions.push((server.clone(), t.clone())),
            }
            for t in &conn.tools {
                if tools
                    .as_ref()
                    .is_some_and(|list| !list.iter().any(|w| w == t.name.as_str()))
                {
                    continue;
                }
                let mut tool = McpTool::new(self.clone(), user.clone(), &server, t);
                tool.limit = Some(config.timeout * 4 + config.init_timeout);
                if super::resolve::request_scoped(config) {
                    tool.turn = Some(conn.clone());
                }
                out.tools.push(Arc::new(tool));
            }
        }
        out.instructions = prompt(&instructions);
        out
    }
}

/// The server of `servers` a tool key names (the longest name it ends with), and the tool part.
pub fn split_in<'a>(
    servers: &'a [ServerConfig],
    key: &'a str,
) -> Option<(&'a ServerConfig, &'a str)> {
    servers
        .iter()
        .filter_map(|s| {
            let suffix = format!("{DELIMITER}{}", normalize_server_name(&s.name));
            key.strip_suffix(&suffix).map(|tool| (s, tool))
        })
        .max_by_key(|(s, _)| s.name.len())
}

/// The servers' instructions, as LibreChat puts them in the system prompt.
fn prompt(servers: &[(String, String)]) -> Option<String> {
    if servers.is_empty() {
        return None;
    }
    let mut s = String::from(
        "# MCP Server Instructions\n\nThe following MCP servers are available with their specific instructions:",
    );
    for (name, text) in servers {
        s.push_str(&format!(
            "\n\n## {name} MCP Server Instructions\n\n{}",
            text.trim()
        ));
    }
    s.push_str(
        "\n\nPlease follow these instructions when using tools from the respective MCP servers.",
    );
    Some(s)
}

/// One tool of one MCP server.
pub struct McpTool {
    def: ToolDef,
    server: String,
    /// Its name on its server.
    tool: String,
    /// None: its server could not be reached when the turn started.
    mcp: Option<(Arc<Mcp>, User)>,
    /// The longest a call may run (its `timeout`, kept alive by progress up to four times),
    /// and the time to connect again if it must.
    limit: Option<std::time::Duration>,
    /// A request-scoped server's connection for this chat turn (see `turn`): every call of
    /// the turn goes through it.
    turn: Option<Arc<super::connection::Connection>>,
}

impl McpTool {
    fn new(mcp: Arc<Mcp>, user: User, server: &str, tool: &McpToolDef) -> Self {
        let mut parameters = Value::Object(tool.input_schema.clone());
        if parameters.get("type").is_none() {
            parameters["type"] = Value::from("object");
        }
        McpTool {
            def: ToolDef {
                name: key(&tool.name, server),
                description: tool.description.as_deref().unwrap_or_default().to_owned(),
                parameters,
            },
            server: server.to_owned(),
            tool: tool.name.clone(),
            mcp: Some((mcp, user)),
            limit: None,
            turn: None,
        }
    }

    fn unavailable(tool: &str, server: &str) -> Self {
        McpTool {
            def: ToolDef {
                name: key(tool, server),
                description: String::new(),
                parameters: serde_json::json!({
                    "type": "object",
                    "properties": {"input": {"type": "string", "description": "Input for the tool"}},
                    "required": []
                }),
            },
            server: server.to_owned(),
            tool: tool.to_owned(),
            mcp: None,
            limit: None,
            turn: None,
        }
    }

    /// Shows the person a sign-in link on this call (as LibreChat does for a call that needs
    /// OAuth: the call's `auth` and `expires_at`) and waits for their sign-in.
    async fn sign_in(&self, mcp: &Mcp, user: &User, cx: &Context) -> Result<(), ToolError> {
        let required = || {
            ToolError(format!(
                "[MCP][{}][{}] OAuth authentication required. Please check the server logs for the authentication URL.",
                self.server, self.tool
            ))
        };
        let (Some(notify), Some(oauth)) = (cx.sign_in.clone(), mcp.oauth()) else {
            return Err(required());
        };
        let started = mcp
            .start_sign_in(&self.server, user)
            .await
            .map_err(|why| self.failed(why))?;
        let wait = started.expires_in.min(SIGN_IN_WAIT);
        let expires_at = (time::OffsetDateTime::now_utc() + wait).unix_timestamp() * 1000;
        let show = |url: Option<String>, expires_at: Option<i64>| {
            let _ = notify.send(SignIn {
                call_id: cx.call_id.clone(),
                url,
                expires_at,
            });
        };
        show(Some(started.url), Some(expires_at));
        let signed_in = oauth.wait(&started.flow_id, wait).await;
        show(None, None);
        if signed_in { Ok(()) } else { Err(required()) }
    }

    /// Keeps the result's images as the person's files, attached to the answer (LibreChat's
    /// image artifacts); one that is not base64 is skipped, one over [`MAX_IMAGE_BYTES`]
    /// fails the call, as in LibreChat.
    async fn keep_images(&self, result: &CallToolResult, cx: &Context) -> Result<(), ToolError> {
        use base64::Engine;
        let mut n = 0;
        for item in result.content.iter().filter(|p| kind(p) == "image") {
            let data = field(item, "data");
            if data.len() / 4 * 3 > MAX_IMAGE_BYTES {
                return Err(self.failed(format!(
                    "MCP image result exceeds maximum size of {MAX_IMAGE_BYTES} bytes: {} bytes",
                    data.len() / 4 * 3
                )));
            }
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data.trim()) else {
                tracing::warn!(mcp.server = %self.server, tool = %self.tool, "an image result is not base64; skipped");
                continue;
            };
            let name = format!("{}_img_{n}", self.def.name);
            n += 1;
            cx.attachments
                .image(crate::agents::tools::attach::NewImage {
                    bytes,
                    name,
                    call_id: cx.call_id.clone(),
                })
                .await;
        }
        Ok(())
    }

    /// The person's connection to the server; when it needs their sign-in, the link is shown
    /// on the call and the call waits for it.
    async fn connect(
        &self,
        mcp: &Mcp,
        user: &User,
        cx: &Context,
    ) -> Result<Arc<super::connection::Connection>, ToolError> {
        match mcp.connection(&self.server, user).await {
            Err(McpError::SignIn { .. }) => {
                self.sign_in(mcp, user, cx).await?;
                mcp.connection(&self.server, user).await
            }
            other => other,
        }
        .map_err(|e| self.mcp_failed(e))
    }

    /// Calls the tool on `conn`, its server's progress passed on to the loop as it comes.
    async fn call_on(
        &self,
        conn: &super::connection::Connection,
        arguments: serde_json::Map<String, Value>,
        cx: &Context,
    ) -> Result<CallToolResult, McpError> {
        let Some(sink) = &cx.progress else {
            return conn.call(&self.tool, arguments, None).await;
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<super::rpc::Progress>();
        // Ends when the call has ended (it drops `tx`), after its last report.
        let forward = async {
            while let Some(p) = rx.recv().await {
                let _ = sink.send(ToolProgress {
                    call_id: cx.call_id.clone(),
                    progress: p.progress,
                    total: p.total,
                    message: p.message,
                });
            }
        };
        let (result, ()) = tokio::join!(conn.call(&self.tool, arguments, Some(tx)), forward);
        result
    }

    fn mcp_failed(&self, why: McpError) -> ToolError {
        if let McpError::Unauthorized { .. } = why {
            // LibreChat's words for a server that refuses its credentials without OAuth.
            return ToolError(format!(
                "[MCP][{}][{}] upstream authentication failed; MCP OAuth is not configured for this server.",
                self.server, self.tool
            ));
        }
        self.failed(why)
    }

    fn failed(&self, why: impl std::fmt::Display) -> ToolError {
        ToolError(format!(
            "[MCP][{}][{}] tool call failed: {why}",
            self.server, self.tool
        ))
    }
}

impl Tool for McpTool {
    fn def(&self) -> &ToolDef {
        &self.def
    }

    fn call<'a>(&'a self, args: Value, cx: &'a Context) -> ToolFuture<'a> {
        Box::pin(async move {
            let Some((mcp, user)) = &self.mcp else {
                return Ok(UNAVAILABLE.to_owned());
            };
            let Value::Object(arguments) = args else {
                return Err(self.failed("its arguments must be a JSON object"));
            };
            // A request-scoped server's connection is the turn's.
            let conn = match &self.turn {
                Some(conn) => conn.clone(),
                None => self.connect(mcp, user, cx).await?,
            };
            let result = match self.call_on(&conn, arguments.clone(), cx).await {
                // The server refused the token before acting (that session is over): a new
                // connection renews it, or asks the person to sign in again.
                Err(McpError::Unauthorized { .. }) if self.turn.is_none() => {
                    let conn = self.connect(mcp, user, cx).await?;
                    self.call_on(&conn, arguments, cx).await
                }
                other => other,
            }
            .map_err(|e| self.mcp_failed(e))?;
            self.keep_images(&result, cx).await?;
            Ok(text_of(&result))
        })
    }

    fn timeout(&self) -> Option<std::time::Duration> {
        self.limit
    }
}

/// What the model reads of a result (LibreChat's `formatToolContent`): text as it is; a
/// resource as its text, URI and type; images out of the text; anything else as JSON.
pub fn text_of(result: &CallToolResult) -> String {
    let mut blocks: Vec<String> = Vec::new();
    let mut images = 0;
    for item in &result.content {
        match kind(item) {
            "text" => blocks.push(field(item, "text").to_owned()),
            "image" => images += 1,
            "resource" => {
                let r = &item["resource"];
                let mut lines = Vec::new();
                if let Some(text) = r.get("text").and_then(Value::as_str) {
                    lines.push(format!("Resource Text: {text}"));
                }
                let (uri, mime) = (field(r, "uri"), field(r, "mimeType"));
                if !uri.is_empty() {
                    lines.push(format!("Resource URI: {uri}"));
                }
                if !mime.is_empty() {
                    lines.push(format!("Resource MIME Type: {mime}"));
                }
                blocks.push(lines.join("\n"));
            }
            _ => blocks.push(serde_json::to_string_pretty(item).unwrap_or_default()),
        }
    }
    match blocks.is_empty() {
        false => blocks.join("\n\n"),
        true if images > 0 => String::new(),
        true => "(No response)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_are_normalized_as_librechat_does() {
        assert_eq!(normalize_server_name("time-2.x_y"), "time-2.x_y");
        assert_eq!(normalize_server_name(" My Server! "), "My_Server");
        assert!(normalize_server_name("日本").starts_with("server_"));
        assert_eq!(key("get_time", "My Server"), "get_time_mcp_My_Server");
    }

    #[test]
    fn instructions_read_as_librechats() {
        let p = prompt(&[("time".into(), "Use UTC.".into())]).unwrap();
        assert!(p.starts_with("# MCP Server Instructions\n\nThe following MCP servers"));
        assert!(p.contains("\n\n## time MCP Server Instructions\n\nUse UTC.\n\nPlease follow"));
        assert!(prompt(&[]).is_none());
    }

    #[test]
    fn results_read_as_librechat_formats_them() {
        let r = CallToolResult::read(serde_json::json!({"content": [
            {"type": "text", "text": "one"},
            {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
            {"type": "resource", "resource": {"uri": "file:///a.txt", "mimeType": "text/plain", "text": "hi"}},
        ]}));
        assert_eq!(
            text_of(&r),
            "one\n\nResource Text: hi\nResource URI: file:///a.txt\nResource MIME Type: text/plain"
        );
        let empty = CallToolResult::read(serde_json::json!({"content": []}));
        assert_eq!(text_of(&empty), "(No response)");
    }
}
