//! What the `/api/mcp/*` routes tell of the servers, in LibreChat's shapes: each server's
//! tools (`GET /api/mcp/tools`), its configuration without secrets (`GET /api/mcp/servers`),
//! and its connection's state (`GET /api/mcp/connection/status`).

use serde_json::{Map, Value, json};

use super::Mcp;
use super::config::{Instructions, ServerConfig};
use super::manager::Status;
use super::tool::key;
use crate::db::users::User;

impl Mcp {
    /// Every server with its tools, for `user` (LibreChat's `{servers: {name: {...}}}`): a
    /// server used by everyone is connected to if it is not yet; one with a connection per
    /// person lists the tools of theirs if it is open. A server that cannot be reached, or is
    /// connected in chat turns only (request-scoped), lists no tools.
    pub async fn tools_listing(&self, user: &User) -> Value {
        let all = self.servers_for(user).await;
        let lists = futures_util::future::join_all(all.iter().map(|s| async move {
            // A person's own connection to a server of librechat.yaml is never opened just to
            // list (as LibreChat); one they added is (LibreChat lists what inspecting it found).
            if s.per_user() && s.db_id.is_none() {
                let slot = self.slot(&s.name, &user.id).ok()?;
                return slot.current().map(|c| c.tools.clone());
            }
            self.connection(&s.name, user)
                .await
                .ok()
                .map(|c| c.tools.clone())
        }))
        .await;
        let mut servers = Map::new();
        for (s, tools) in all.iter().zip(lists) {
            let tools: Vec<Value> = tools
                .unwrap_or_default()
                .iter()
                .map(|t| {
                    json!({
                        "name": t.name,
                        "pluginKey": key(&t.name, &s.name),
                        "description": t.description.as_deref().unwrap_or_default(),
                    })
                })
                .collect();
            let auth_config: Vec<Value> = s
                .custom_user_vars
                .iter()
                .map(|(k, v)| {
                    json!({
                        "authField": k,
                        "label": if v.title.is_empty() { k } else { &v.title },
                        "description": v.description,
                    })
                })
                .collect();
            servers.insert(
                s.name.clone(),
                json!({
                    "name": s.name,
                    "icon": s.icon_path.as_deref().unwrap_or_default(),
                    // As LibreChat: a server with variables says false, set or not.
                    "authenticated": s.custom_user_vars.is_empty(),
                    "authConfig": auth_config,
                    "tools": tools,
                }),
            );
        }
        json!({ "servers": servers })
    }

    /// Every server's configuration as LibreChat's `GET /api/mcp/servers` shows it: no
    /// secrets (headers, environment, command, OAuth client secret), and its address only to
    /// an administrator (`can_edit`).
    pub fn servers_listing(&self, user_id: &str, can_edit: bool) -> Value {
        let mut out = Map::new();
        for s in &self.config.servers {
            let mut v = redacted(s, can_edit);
            if let Ok(slot) = self.slot(&s.name, user_id)
                && let Some(conn) = slot.current()
            {
                let names: Vec<&str> = conn.tools.iter().map(|t| t.name.as_ref()).collect();
                v["tools"] = Value::from(names.join(", "));
            }
            out.insert(s.name.clone(), v);
        }
        Value::Object(out)
    }

    /// The state of each server's connection for `user_id` (LibreChat's `connectionStatus`).
    pub fn statuses_listing(&self, user_id: &str) -> Value {
        let mut out = Map::new();
        for (name, status) in self.statuses(user_id) {
            let oauth = self.config.get(&name).is_some_and(|s| s.requires_oauth);
            out.insert(name, status_entry(status, oauth));
        }
        Value::Object(out)
    }
}

/// A connection's state and sign-in state.
pub fn status_entry(status: Status, requires_oauth: bool) -> Value {
    let authorization = match (requires_oauth, status) {
        (false, _) => "not_required",
        (true, Status::Connected) => "authorized",
        (true, Status::Connecting) => "authorizing",
        (true, Status::Error) => "error",
        (true, Status::Disconnected) => "needs_authorization",
    };
    json!({
        "requiresOAuth": requires_oauth,
        "connectionState": status,
        "authorizationState": authorization,
    })
}

/// `s` without what only the server may know.
pub(super) fn redacted(s: &ServerConfig, can_edit: bool) -> Value {
    let mut v = Map::new();
    v.insert("type".into(), Value::from(s.transport.kind()));
    if can_edit && let Some(url) = s.transport.url() {
        v.insert("url".into(), Value::from(url));
    }
    let mut put = |k: &str, val: Option<&String>| {
        if let Some(val) = val {
            v.insert(k.into(), Value::from(val.as_str()));
        }
    };
    put("title", s.title.as_ref());
    put("description", s.description.as_ref());
    put("iconPath", s.icon_path.as_ref());
    v.insert("chatMenu".into(), Value::Bool(s.chat_menu));
    v.insert("startup".into(), Value::Bool(s.startup));
    v.insert("requiresOAuth".into(), Value::Bool(s.requires_oauth));
    match &s.instructions {
        Instructions::None => {}
        Instructions::FromServer => {
            v.insert("serverInstructions".into(), Value::Bool(true));
        }
        Instructions::Text(t) => {
            v.insert("serverInstructions".into(), Value::from(t.as_str()));
        }
    }
    if !s.custom_user_vars.is_empty() {
        v.insert(
            "customUserVars".into(),
            serde_json::to_value(&s.custom_user_vars).unwrap_or_default(),
        );
    }
    // Only when true, as LibreChat: the client then knows its tools show in chat turns only.
    if super::resolve::request_scoped(s) {
        v.insert("requestScoped".into(), Value::Bool(true));
    }
    v.insert("source".into(), Value::from("yaml"));
    Value::Object(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::config::McpConfig;

    #[test]
    fn the_listing_keeps_secrets_and_addresses_back() {
        let (c, _) = McpConfig::load(
            Some(
                &json!({"t": {"type": "http", "url": "https://u:p@x.example/mcp",
                "headers": {"Authorization": "Bearer s3cret"}, "title": "T"}}),
            ),
            None,
        );
        let s = &c.servers[0];
        let shown = redacted(s, false).to_string();
        assert!(
            !shown.contains("s3cret") && !shown.contains("x.example"),
            "{shown}"
        );
        assert_eq!(redacted(s, true)["url"], "https://u:p@x.example/mcp");
        assert_eq!(redacted(s, false)["type"], "streamable-http");
        assert!(redacted(s, false).get("requestScoped").is_none());
        assert_eq!(
            status_entry(Status::Disconnected, true)["authorizationState"],
            "needs_authorization"
        );
    }
}
