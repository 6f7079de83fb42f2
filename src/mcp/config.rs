//! `mcpServers` and `mcpSettings` of librechat.yaml, read as LibreChat reads them (its
//! `MCPOptions` schemas): how each server is reached, and what people see of it.
//!
//! ```yaml
//! mcpServers:
//!   time:                                  # stdio: a child process
//!     command: uvx
//!     args: [mcp-server-time]
//!     env: {TZ: Europe/Paris}
//!     serverInstructions: true             # the server's own instructions, in the prompt
//!   tickets:                               # streamable HTTP (or `type: sse`, `websocket`)
//!     type: streamable-http
//!     url: https://mcp.example.org/mcp
//!     headers: {Authorization: "Bearer {{TICKETS_TOKEN}}"}
//!     customUserVars: {TICKETS_TOKEN: {title: Token, description: Your API token}}
//!     timeout: 60000
//! mcpSettings:
//!   allowedDomains: [mcp.example.org]
//! ```
//!
//! `${VAR}`s are expanded when the file loads. A server whose entry does not read is left
//! out with a warning; the others work.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

/// LibreChat's default time a tool call may take (`timeout`, in ms).
pub const DEFAULT_TIMEOUT_MS: u64 = 60_000;
/// LibreChat's default time to connect and initialize (`initTimeout`, in ms).
pub const DEFAULT_INIT_TIMEOUT_MS: u64 = 30_000;

/// How a server is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A child process speaking JSON-RPC on its stdin and stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
    },
    /// Streamable HTTP (`type: streamable-http` or `http`).
    Http {
        url: String,
        headers: BTreeMap<String, String>,
    },
    /// The older HTTP+SSE transport (`type: sse`).
    Sse {
        url: String,
        headers: BTreeMap<String, String>,
    },
    /// One JSON-RPC message per websocket text frame (`type: websocket`).
    WebSocket { url: String },
}

impl Transport {
    /// LibreChat's name of the type (`stdio`, `streamable-http`, `sse`, `websocket`).
    pub fn kind(&self) -> &'static str {
        match self {
            Transport::Stdio { .. } => "stdio",
            Transport::Http { .. } => "streamable-http",
            Transport::Sse { .. } => "sse",
            Transport::WebSocket { .. } => "websocket",
        }
    }

    /// The server's address, for the transports that have one.
    pub fn url(&self) -> Option<&str> {
        match self {
            Transport::Stdio { .. } => None,
            Transport::Http { url, .. } | Transport::Sse { url, .. } => Some(url),
            Transport::WebSocket { url } => Some(url),
        }
    }
}

/// A variable a person fills in for themselves (`customUserVars`), used in the server's
/// `headers`, `env` and `url` as `{{NAME}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct UserVar {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// What the server's own instructions add to the system prompt (`serverInstructions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instructions {
    /// Nothing (the default).
    None,
    /// Those the server gives when it initializes (`true`).
    FromServer,
    /// The administrator's own text.
    Text(String),
}

/// One server of `mcpServers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Its key in `mcpServers`: the `<server>` of its tools' `<tool>_mcp_<server>`.
    pub name: String,
    pub transport: Transport,
    /// How long a tool call may take.
    pub timeout: Duration,
    /// How long connecting and initializing may take.
    pub init_timeout: Duration,
    /// Connect when the server starts (LibreChat's `startup`, default true), not on first use.
    pub startup: bool,
    /// Listed in the composer's MCP menu for plain chats (`chatMenu`, default true).
    pub chat_menu: bool,
    pub instructions: Instructions,
    pub title: Option<String>,
    pub description: Option<String>,
    pub icon_path: Option<String>,
    /// Needs each person's sign-in (`requiresOAuth`, or an `oauth` block).
    pub requires_oauth: bool,
    /// The `oauth` block as written (authorization and token URLs, client, scope).
    pub oauth: Option<Value>,
    /// Neither `requiresOAuth` nor `oauth` is written: whether the server wants a sign-in is
    /// asked of it at start ([`McpConfig::detect_oauth`]).
    pub oauth_unsaid: bool,
    /// Headers sent with every request of its sign-in (`oauth_headers`): discovery,
    /// registration, tokens, refresh and revocation, as in LibreChat (`${VAR}`s filled when
    /// the file loads).
    pub oauth_headers: Vec<(String, String)>,
    pub custom_user_vars: BTreeMap<String, UserVar>,
    /// The id of a server a person added (LibreChat's `dbId`); none for librechat.yaml's.
    pub db_id: Option<String>,
}

impl ServerConfig {
    /// Whether each person needs a connection of their own: the server takes their sign-in,
    /// their variables, or `{{LIBRECHAT_USER_...}}` values, or a person added it.
    pub fn per_user(&self) -> bool {
        if self.requires_oauth || !self.custom_user_vars.is_empty() || self.db_id.is_some() {
            return true;
        }
        let mentions = |s: &str| s.contains("{{LIBRECHAT_USER_") || s.contains("{{LIBRECHAT_BODY_");
        match &self.transport {
            Transport::Stdio { args, env, .. } => {
                args.iter().any(|a| mentions(a)) || env.values().any(|v| mentions(v))
            }
            Transport::Http { url, headers } | Transport::Sse { url, headers } => {
                mentions(url) || headers.values().any(|v| mentions(v))
            }
            Transport::WebSocket { url } => mentions(url),
        }
    }
}

/// `mcpSettings`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpSettings {
    /// Hosts (or addresses) the servers may be on, beyond the public ones: LibreChat's
    /// `allowedDomains`. Here they are also what lets a server on a private address be reached.
    pub allowed_domains: Vec<String>,
    /// `host:port` services on private addresses the servers may be on (`allowedAddresses`).
    pub allowed_addresses: crate::net::AllowedAddresses,
}

/// Everything MCP librechat.yaml configures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpConfig {
    /// By name.
    pub servers: Vec<ServerConfig>,
    pub settings: McpSettings,
}

impl McpConfig {
    /// LibreChat's detection: each server at an HTTP URL that says nothing of OAuth and
    /// connects at start is asked (within 5 s, all at once) whether it wants a sign-in; one
    /// that does becomes a sign-in server, with a connection per person. Its names.
    pub async fn detect_oauth(&mut self, guarded: &crate::net::Guarded) -> Vec<String> {
        const WITHIN: Duration = Duration::from_secs(5);
        let asked = self.servers.iter().enumerate().filter_map(|(i, s)| {
            let url = match &s.transport {
                Transport::Http { url, .. } | Transport::Sse { url, .. } => url,
                _ => return None,
            };
            let asked = s.oauth_unsaid && s.startup && !url.contains("{{") && !url.contains("${");
            asked.then_some(async move {
                (
                    i,
                    super::oauth::discover::wants_sign_in(guarded, url, &s.oauth_headers, WITHIN)
                        .await,
                )
            })
        });
        let answers = futures_util::future::join_all(asked).await;
        let mut found = Vec::new();
        for (i, wants) in answers {
            if wants {
                let s = &mut self.servers[i];
                s.requires_oauth = true;
                tracing::info!(mcp.server = %s.name, "MCP server wants each person's sign-in (OAuth), detected");
                found.push(s.name.clone());
            }
        }
        found
    }

    /// Reads the two sections; what does not read is warned about and left out.
    pub fn load(servers: Option<&Value>, settings: Option<&Value>) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let mut out = McpConfig::default();
        if let Some(Value::Object(list)) = settings
            && let Some(Value::Array(domains)) = list.get("allowedDomains")
        {
            out.settings.allowed_domains = domains
                .iter()
                .filter_map(Value::as_str)
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty())
                .collect();
        }
        if let Some(Value::Object(list)) = settings
            && let Some(Value::Array(entries)) = list.get("allowedAddresses")
        {
            let (allowed, more) =
                crate::net::AllowedAddresses::parse(entries.iter().filter_map(Value::as_str));
            out.settings.allowed_addresses = allowed;
            warnings.extend(more.into_iter().map(|w| format!("mcpSettings: {w}")));
        }
        match servers {
            None | Some(Value::Null) => {}
            Some(Value::Object(list)) => {
                for (name, entry) in list {
                    match parse_server(name, entry) {
                        Ok(s) => out.servers.push(s),
                        Err(why) => warnings.push(format!(
                            "librechat.yaml: MCP server `{name}` is left out: {why}"
                        )),
                    }
                }
            }
            Some(_) => {
                warnings.push("librechat.yaml: `mcpServers` must be a map of servers".into())
            }
        }
        (out, warnings)
    }

    pub fn get(&self, name: &str) -> Option<&ServerConfig> {
        self.servers.iter().find(|s| s.name == name)
    }
}

/// The fields of a server entry, as written (LibreChat's union of its four option schemas).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(rename = "type")]
    kind: Option<String>,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    timeout: Option<u64>,
    init_timeout: Option<u64>,
    startup: Option<bool>,
    chat_menu: Option<bool>,
    server_instructions: Option<Value>,
    title: Option<String>,
    description: Option<String>,
    icon_path: Option<String>,
    #[serde(rename = "requiresOAuth")]
    requires_oauth: Option<bool>,
    oauth: Option<Value>,
    // LibreChat's spelling, unlike the other keys.
    #[serde(default, rename = "oauth_headers")]
    oauth_headers: BTreeMap<String, String>,
    #[serde(default)]
    custom_user_vars: BTreeMap<String, UserVar>,
}

/// Any name is a server's name (its tools' keys use it normalized), but one that holds the
/// tool keys' delimiter could not be told apart from a tool's name.
fn valid_name(name: &str) -> bool {
    !name.trim().is_empty() && name.len() <= 128 && !name.contains("_mcp_")
}

pub(crate) fn parse_server(name: &str, entry: &Value) -> Result<ServerConfig, String> {
    if !valid_name(name) {
        return Err("its name must be 1 to 128 characters, without `_mcp_`".into());
    }
    let raw = Raw::deserialize(entry).map_err(|e| e.to_string())?;
    let transport = transport(&raw)?;
    let instructions = match raw.server_instructions {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Instructions::None,
        Some(Value::Bool(true)) => Instructions::FromServer,
        Some(Value::String(s)) if s.trim().is_empty() => Instructions::None,
        Some(Value::String(s)) => match s.trim() {
            "true" => Instructions::FromServer,
            "false" => Instructions::None,
            _ => Instructions::Text(s),
        },
        Some(_) => return Err("`serverInstructions` must be true, false or text".into()),
    };
    let ms = |v: Option<u64>, default: u64| {
        Duration::from_millis(v.filter(|v| *v > 0).unwrap_or(default))
    };
    Ok(ServerConfig {
        name: name.to_owned(),
        transport,
        timeout: ms(raw.timeout, DEFAULT_TIMEOUT_MS),
        init_timeout: ms(raw.init_timeout, DEFAULT_INIT_TIMEOUT_MS),
        startup: raw.startup.unwrap_or(true),
        chat_menu: raw.chat_menu.unwrap_or(true),
        instructions,
        title: raw.title.filter(|t| !t.trim().is_empty()),
        description: raw.description.filter(|t| !t.trim().is_empty()),
        icon_path: raw.icon_path.filter(|t| !t.trim().is_empty()),
        // LibreChat: an `oauth` block means sign-in unless `requiresOAuth: false` says not.
        requires_oauth: raw
            .requires_oauth
            .unwrap_or_else(|| raw.oauth.as_ref().is_some_and(Value::is_object)),
        oauth_unsaid: raw.requires_oauth.is_none() && raw.oauth.is_none(),
        oauth: raw.oauth.filter(Value::is_object),
        oauth_headers: raw.oauth_headers.into_iter().collect(),
        custom_user_vars: raw.custom_user_vars,
        db_id: None,
    })
}

/// The transport an entry names, or the one LibreChat infers: a `command` is stdio, a
/// `ws(s)://` URL a websocket, any other URL SSE.
fn transport(raw: &Raw) -> Result<Transport, String> {
    let url = || {
        let u = raw
            .url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .ok_or("it has no `url`")?;
        Ok::<_, String>(u.trim().to_owned())
    };
    let scheme_is = |u: &str, schemes: &[&str]| {
        let lower = u.to_ascii_lowercase();
        schemes
            .iter()
            .any(|s| lower.starts_with(&format!("{s}://")))
    };
    let http = |u: String| {
        if scheme_is(&u, &["http", "https"]) {
            Ok(u)
        } else {
            Err(format!(
                "its `url` must be http:// or https:// for type {}",
                raw.kind.as_deref().unwrap_or("sse")
            ))
        }
    };
    let kind = match raw.kind.as_deref() {
        Some(k) => k.to_owned(),
        None if raw.command.is_some() => "stdio".into(),
        None => match &raw.url {
            Some(u) if scheme_is(u, &["ws", "wss"]) => "websocket".into(),
            Some(_) => "sse".into(),
            None => return Err("it has neither `command` nor `url`".into()),
        },
    };
    Ok(match kind.as_str() {
        "stdio" => Transport::Stdio {
            command: raw
                .command
                .clone()
                .filter(|c| !c.trim().is_empty())
                .ok_or("it has no `command`")?,
            args: raw.args.clone(),
            env: raw.env.clone(),
        },
        "streamable-http" | "http" => Transport::Http {
            url: http(url()?)?,
            headers: raw.headers.clone(),
        },
        "sse" => Transport::Sse {
            url: http(url()?)?,
            headers: raw.headers.clone(),
        },
        "websocket" => {
            let u = url()?;
            if !scheme_is(&u, &["ws", "wss"]) {
                return Err("its `url` must be ws:// or wss:// for type websocket".into());
            }
            Transport::WebSocket { url: u }
        }
        other => {
            return Err(format!(
                "unknown type `{other}` (stdio, sse, streamable-http, http or websocket)"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_are_read_or_inferred_as_librechat_does() {
        let (c, w) = McpConfig::load(
            Some(&json!({
                "time": {"command": "uvx", "args": ["mcp-server-time"], "serverInstructions": true},
                "old": {"url": "https://a.example/sse"},
                "ws": {"url": "wss://a.example/ws"},
                "http": {"type": "http", "url": "https://a.example/mcp", "headers": {"X": "y"},
                         "timeout": 5000, "startup": false, "chatMenu": false},
                "bad": {"type": "carrier-pigeon", "url": "https://a.example"},
                "nourl": {"type": "sse"},
                "a_mcp_b": {"command": "x"},
            })),
            Some(&json!({"allowedDomains": ["a.example", ""]})),
        );
        let kinds: Vec<(&str, &str)> = c
            .servers
            .iter()
            .map(|s| (s.name.as_str(), s.transport.kind()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("http", "streamable-http"),
                ("old", "sse"),
                ("time", "stdio"),
                ("ws", "websocket"),
            ]
        );
        assert_eq!(w.len(), 3, "{w:?}");
        let http = c.get("http").unwrap();
        assert_eq!(http.timeout, Duration::from_millis(5000));
        assert!(!http.startup && !http.chat_menu);
        assert_eq!(
            c.get("time").unwrap().instructions,
            Instructions::FromServer
        );
        assert_eq!(
            c.get("time").unwrap().init_timeout,
            Duration::from_millis(DEFAULT_INIT_TIMEOUT_MS)
        );
        assert_eq!(c.settings.allowed_domains, ["a.example"]);
    }

    #[test]
    fn a_server_with_personal_values_is_per_person() {
        let (c, _) = McpConfig::load(
            Some(&json!({
                "shared": {"type": "http", "url": "https://a.example/mcp"},
                "mine": {"type": "http", "url": "https://a.example/mcp",
                         "headers": {"X-User": "{{LIBRECHAT_USER_ID}}"}},
                "vars": {"command": "x", "customUserVars": {"K": {"title": "Key"}}},
                "signin": {"type": "http", "url": "https://a.example/mcp", "requiresOAuth": true},
            })),
            None,
        );
        let per: Vec<bool> = c.servers.iter().map(ServerConfig::per_user).collect();
        // By name: mine, shared, signin, vars.
        assert_eq!(per, [true, false, true, true]);
    }

    #[test]
    fn an_oauth_block_means_sign_in_unless_said_otherwise() {
        let (c, _) = McpConfig::load(
            Some(&json!({
                "block": {"type": "http", "url": "https://a.example/mcp",
                          "oauth": {"client_id": "c"}},
                "off": {"type": "http", "url": "https://a.example/mcp",
                        "requiresOAuth": false, "oauth": {"client_id": "c"}},
            })),
            None,
        );
        let oauth: Vec<bool> = c.servers.iter().map(|s| s.requires_oauth).collect();
        assert_eq!(oauth, [true, false]);
    }
}
