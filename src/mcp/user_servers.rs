//! MCP servers people add themselves (`POST /api/mcp/servers`), beside librechat.yaml's.
//!
//! A person finds a server by name among librechat.yaml's first, then among the added servers
//! they may VIEW (their own, or shared with them), and those an agent they may VIEW uses
//! (LibreChat's `consumeOnly`: listed and usable in chats, never read or changed by name).
//! Another person's server is not found, and gives no tools, also in a chat. An added server is always a connection of each person's
//! own, whose only placeholders are its `{{customUserVars}}` (LibreChat's rules), and it is
//! checked by connecting to it before it is stored.

use std::sync::Arc;

use serde_json::{Value, json};

use super::config::{ServerConfig, parse_server};
use super::connection::Connection;
use super::manager::Status;
use super::resolve::{Values, resolve};
use super::{Mcp, McpError};
use crate::auth::crypto::Cipher;
use crate::db::mcp_servers::{self, McpServer};
use crate::db::users::User;

/// Where added servers are kept, and the key their secrets are sealed with (CREDS_KEY).
pub struct Store {
    db: crate::db::Db,
    cipher: Arc<Cipher>,
}

/// The secrets of a stored configuration: an administrator's API key and an OAuth client
/// secret (LibreChat encrypts the same two).
pub(crate) const SECRETS: [(&str, &str); 2] = [("apiKey", "key"), ("oauth", "client_secret")];

fn add_admin_key(c: &mut ServerConfig, config: &serde_json::Value) {
    let a = &config["apiKey"];
    let (Some("admin"), Some(key)) = (a["source"].as_str(), a["key"].as_str()) else {
        return;
    };
    let (name, value) = match a["authorization_type"].as_str() {
        Some("basic") => ("Authorization".to_owned(), format!("Basic {key}")),
        Some("bearer") => ("Authorization".to_owned(), format!("Bearer {key}")),
        _ => (
            a["custom_header"]
                .as_str()
                .unwrap_or("X-Api-Key")
                .to_owned(),
            key.to_owned(),
        ),
    };
    if let super::config::Transport::Http { headers, .. }
    | super::config::Transport::Sse { headers, .. } = &mut c.transport
    {
        headers.insert(name, value);
    }
}

impl Mcp {
    /// Serves the servers people add from `db`, their secrets sealed with `cipher` (set once,
    /// when the app starts).
    pub fn serve_user_servers(&self, db: crate::db::Db, cipher: Arc<Cipher>) {
        let _ = self.store.set(Store { db, cipher });
    }

    /// `config` with its secrets encrypted, to be stored.
    pub fn seal(&self, config: &mut Value) {
        let Some(store) = self.store.get() else {
            return;
        };
        for (block, field) in SECRETS {
            if let Some(plain) = config[block][field].as_str() {
                config[block][field] = json!(store.cipher.encrypt(plain));
            }
        }
    }

    /// A stored server as a configuration, its secrets decrypted (None when it no longer
    /// reads).
    pub fn server_config(&self, row: &McpServer) -> Option<ServerConfig> {
        let mut config = row.config.clone();
        if let Some(store) = self.store.get() {
            for (block, field) in SECRETS {
                let Some(sealed) = config[block][field].as_str() else {
                    continue;
                };
                match store.cipher.decrypt(sealed) {
                    Ok(plain) => config[block][field] = json!(plain),
                    Err(e) => {
                        tracing::warn!(mcp.server = %row.server_name, error = %e, "a stored MCP secret does not decrypt");
                        if let Some(b) = config[block].as_object_mut() {
                            b.remove(field);
                        }
                    }
                }
            }
        }
        match parse_server(&row.server_name, &config) {
            Ok(mut c) => {
                c.db_id = Some(row.id.clone());
                // An administrator's key (`apiKey.source: admin`) is sent as LibreChat sends it.
                add_admin_key(&mut c, &config);
                Some(c)
            }
            Err(why) => {
                tracing::warn!(mcp.server = %row.server_name, %why, "an added MCP server does not read");
                None
            }
        }
    }

    /// The added servers `user` may see (with their bits on each) or use through an agent
    /// (with none).
    pub async fn user_servers(&self, user: &User) -> Vec<McpServer> {
        let Some(Store { db, .. }) = self.store.get() else {
            return Vec::new();
        };
        let v = crate::access::viewer(user);
        db.read(move |c| mcp_servers::visible(c, &v))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "reading the added MCP servers failed");
                Vec::new()
            })
    }

    /// The added server `name`, if `user` may see it (with their bits) or use it through an
    /// agent (with none).
    pub async fn user_server(&self, user: &User, name: &str) -> Option<McpServer> {
        let db = &self.store.get()?.db;
        let (v, name) = (crate::access::viewer(user), name.to_owned());
        db.read(move |c| mcp_servers::get(c, &v, &name))
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "reading an added MCP server failed");
                None
            })
    }

    /// `name`'s configuration for `user`: librechat.yaml's, else an added server they may see.
    pub async fn config_for(&self, name: &str, user: &User) -> Option<ServerConfig> {
        if let Some(c) = self.config.get(name) {
            return Some(c.clone());
        }
        self.server_config(&self.user_server(user, name).await?)
    }

    /// Every server `user` may use: librechat.yaml's, then the added ones they may see whose
    /// name librechat.yaml does not take (by name, or as tool keys spell it).
    pub async fn servers_for(&self, user: &User) -> Vec<ServerConfig> {
        let mut all = self.config.servers.clone();
        if self.store.get().is_none() {
            return all;
        }
        let yaml: Vec<String> = all
            .iter()
            .map(|s| super::tool::normalize_server_name(&s.name))
            .collect();
        for row in self.user_servers(user).await {
            let normalized = super::tool::normalize_server_name(&row.server_name);
            if yaml.contains(&normalized) || self.config.get(&row.server_name).is_some() {
                continue;
            }
            all.extend(self.server_config(&row));
        }
        all
    }

    /// The state of `user`'s connection to each added server they may see.
    pub async fn user_statuses(&self, user: &User) -> Vec<(ServerConfig, Status)> {
        let mut out = Vec::new();
        for c in self.servers_for(user).await {
            if c.db_id.is_none() {
                continue;
            }
            let status = self.personal_slot(&c, &user.id).status();
            out.push((c, status));
        }
        out
    }

    /// Checks a server before it is stored, as LibreChat inspects it: its address must be one
    /// MCP servers may be on (`mcpSettings`), and unless it needs each person's sign-in or key,
    /// it must answer MCP. The connection is closed after.
    pub async fn inspect(&self, config: &ServerConfig) -> Result<(), McpError> {
        let url = config.transport.url().unwrap_or_default();
        self.net.check_domain(&config.name, url)?;
        let parsed = url::Url::parse(url).map_err(|e| McpError::Blocked {
            server: config.name.clone(),
            why: e.to_string(),
        })?;
        self.net
            .guarded
            .preflight(&parsed)
            .await
            .map_err(|e| McpError::Blocked {
                server: config.name.clone(),
                why: e.to_string(),
            })?;
        if config.requires_oauth || !config.custom_user_vars.is_empty() {
            return Ok(());
        }
        let resolved = resolve(config, &Values::default());
        drop(Connection::open(config, &resolved, &self.net).await?);
        Ok(())
    }
}

/// An added server as `GET /api/mcp/servers` shows it (LibreChat's redacted config): no
/// secrets, `dbId` and `source: "user"`, and its address and OAuth endpoints only for those
/// who may edit it; `consumeOnly: true` when only an agent gives it to them. `tools` are the
/// live connection's, when `user_id` has one.
pub fn user_listing(mcp: &Mcp, row: &McpServer, config: &ServerConfig, user_id: &str) -> Value {
    let can_edit = row.bits & mcp_servers::EDIT != 0;
    let mut v = super::listing::redacted(config, can_edit);
    if let Value::Object(m) = &mut v {
        m.remove("startup");
    }
    if row.bits & mcp_servers::VIEW == 0 {
        v["consumeOnly"] = json!(true);
    }
    v["source"] = json!("user");
    v["dbId"] = json!(row.id);
    if let Ok(at) = time::OffsetDateTime::parse(
        &row.updated_at,
        &time::format_description::well_known::Rfc3339,
    ) {
        v["updatedAt"] = json!((at.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let a = &row.config["apiKey"];
    if a.is_object() {
        let mut shown =
            json!({"source": a["source"], "authorization_type": a["authorization_type"]});
        if a["custom_header"].is_string() {
            shown["custom_header"] = a["custom_header"].clone();
        }
        v["apiKey"] = shown;
    }
    if let Some(Value::Object(o)) = row.config.get("oauth") {
        let mut o = o.clone();
        o.remove("client_secret");
        if !can_edit {
            for k in ["authorization_url", "token_url", "revocation_endpoint"] {
                o.remove(k);
            }
        }
        v["oauth"] = Value::Object(o);
    }
    if let Some(obo) = row.config.get("obo") {
        v["obo"] = obo.clone();
    }
    if let Some(conn) = mcp.personal_slot(config, user_id).current() {
        let names: Vec<&str> = conn.tools.iter().map(|t| t.name.as_ref()).collect();
        v["tools"] = Value::from(names.join(", "));
    }
    v
}
