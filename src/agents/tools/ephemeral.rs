//! The tools a plain chat asks for: LibreChat's `ephemeralAgent` (the composer's toggles,
//! sent with every message) and the conversation's `tools` (LibreChat's `TConversation.tools`,
//! plugin keys such as `calculator`, which its Plugins endpoint offered in plain chats).
//!
//! Both are read leniently: LibreChat's client sends `ephemeralAgent` on every message, with
//! `null`s and toggles for tools this server may not have, and that must never fail a message.

use serde::Deserialize;
use serde_json::Value;

/// LibreChat's `TEphemeralAgent`, the parts that name tools.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct EphemeralAgent {
    /// MCP servers whose tools to offer.
    #[serde(deserialize_with = "lenient::names")]
    pub mcp: Vec<String>,
    #[serde(deserialize_with = "lenient::flag")]
    pub web_search: bool,
    #[serde(deserialize_with = "lenient::flag")]
    pub file_search: bool,
    #[serde(deserialize_with = "lenient::flag")]
    pub execute_code: bool,
    #[serde(deserialize_with = "lenient::flag")]
    pub memory: bool,
    /// The artifacts mode (`default`, `shadcnui`, `custom`): instructions, not a tool.
    #[serde(deserialize_with = "lenient::text")]
    pub artifacts: Option<String>,
}

/// What LibreChat names the tools of every MCP server's (`sys__all__sys` + `_mcp_` + server).
pub const MCP_ALL: &str = "sys__all__sys_mcp_";

impl EphemeralAgent {
    /// Reads the chat body's `ephemeralAgent`; anything but an object reads as no tools.
    pub fn from_value(v: Option<&Value>) -> Self {
        v.filter(|v| v.is_object())
            .and_then(|v| EphemeralAgent::deserialize(v).ok())
            .unwrap_or_default()
    }

    /// The tool names the toggles stand for, as LibreChat's `loadEphemeralAgent` names them.
    pub fn tool_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for (on, name) in [
            (self.execute_code, "execute_code"),
            (self.file_search, "file_search"),
            (self.web_search, "web_search"),
            (self.memory, "memory"),
        ] {
            if on {
                names.push(name.to_owned());
            }
        }
        names.extend(self.mcp.iter().map(|s| format!("{MCP_ALL}{s}")));
        names
    }
}

/// A conversation's `tools`: plugin keys, as strings or as LibreChat's `TPlugin` objects
/// (`{pluginKey}`); anything else is left out.
pub fn conversation_tools(v: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(items)) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|t| match t {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o
                .get("pluginKey")
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        })
        .take(128)
        .collect()
}

mod lenient {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(matches!(Value::deserialize(d)?, Value::Bool(true)))
    }

    pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) if !s.is_empty() => Some(s),
            _ => None,
        })
    }

    /// Strings of an array (at most 64: more servers than anyone configures).
    pub fn names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) if !s.is_empty() => Some(s),
                    _ => None,
                })
                .take(64)
                .collect(),
            _ => Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_toggles_name_librechats_tools() {
        let a = EphemeralAgent::from_value(Some(&json!({
            "mcp": ["time", 5, null], "web_search": true, "file_search": false,
            "execute_code": true, "memory": null, "artifacts": "default", "skills": true,
        })));
        assert_eq!(
            a.tool_names(),
            ["execute_code", "web_search", "sys__all__sys_mcp_time"]
        );
        assert_eq!(a.artifacts.as_deref(), Some("default"));
    }

    #[test]
    fn anything_else_reads_as_no_tools() {
        for v in [
            json!(null),
            json!("x"),
            json!([1]),
            json!({"web_search": "yes", "mcp": "time"}),
        ] {
            assert!(EphemeralAgent::from_value(Some(&v)).tool_names().is_empty());
        }
        assert!(EphemeralAgent::from_value(None).tool_names().is_empty());
        assert_eq!(
            conversation_tools(Some(&json!(["calculator", {"pluginKey": "google"}, 3]))),
            ["calculator", "google"]
        );
        assert!(conversation_tools(Some(&json!("calculator"))).is_empty());
    }
}
