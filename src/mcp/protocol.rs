//! The few MCP messages this client speaks, read leniently: a tool as a server lists it, and
//! a tool call's result. What a server adds beyond them is ignored; a tool without a name is
//! skipped.

use serde_json::{Map, Value, json};

/// The protocol version this client asks for. Older ones a server may answer with are
/// accepted too ([`SUPPORTED`]).
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// The versions this client can speak: the ones whose messages it uses are the same in all.
pub const SUPPORTED: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// The `initialize` request's parameters.
pub fn initialize_params() -> Value {
    json!({
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "librechat", "version": env!("CARGO_PKG_VERSION")},
    })
}

/// A tool a server offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// Its arguments' JSON Schema (an object; `{"type": "object"}` when the server gave none).
    pub input_schema: Map<String, Value>,
}

impl Tool {
    /// The tool a `tools/list` entry describes, or `None` without a name.
    pub fn read(v: &Value) -> Option<Tool> {
        let name = v.get("name")?.as_str()?.to_owned();
        let description = v
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let input_schema = match v.get("inputSchema") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::from_iter([("type".to_owned(), Value::from("object"))]),
        };
        Some(Tool {
            name,
            description,
            input_schema,
        })
    }
}

/// A page of `tools/list`: its tools and the cursor of the next page, if any.
pub fn tools_page(result: &Value) -> (Vec<Tool>, Option<String>) {
    let tools = result
        .get("tools")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Tool::read).collect())
        .unwrap_or_default();
    let next = result
        .get("nextCursor")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    (tools, next)
}

/// What a tool call answered: its content parts as the server sent them (`text`, `image`,
/// `audio`, `resource`, `resource_link`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallToolResult {
    pub content: Vec<Value>,
    /// The tool reported a failure (`isError`).
    pub is_error: bool,
}

impl CallToolResult {
    /// A `tools/call` result; a result without `content` has none.
    pub fn read(result: Value) -> CallToolResult {
        let Value::Object(mut m) = result else {
            return CallToolResult::default();
        };
        let content = match m.remove("content") {
            Some(Value::Array(parts)) => parts,
            _ => Vec::new(),
        };
        CallToolResult {
            content,
            is_error: m.get("isError").and_then(Value::as_bool).unwrap_or(false),
        }
    }
}

/// A content part's `type`.
pub fn kind(part: &Value) -> &str {
    part.get("type").and_then(Value::as_str).unwrap_or("")
}

/// A string field of a content part ("" when absent).
pub fn field<'a>(part: &'a Value, name: &str) -> &'a str {
    part.get(name).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_read_leniently() {
        let (tools, next) = tools_page(&json!({"tools": [
            {"name": "a", "description": "A", "inputSchema": {"type": "object", "properties": {}}},
            {"name": "b"},
            {"description": "no name"},
        ], "nextCursor": "2"}));
        assert_eq!(tools.len(), 2);
        assert_eq!(tools[1].input_schema["type"], "object");
        assert_eq!(tools[0].description.as_deref(), Some("A"));
        assert_eq!(next.as_deref(), Some("2"));
        assert_eq!(tools_page(&json!({"nextCursor": ""})), (vec![], None));
    }

    #[test]
    fn results_keep_their_parts() {
        let r = CallToolResult::read(
            json!({"content": [{"type": "text", "text": "x"}], "isError": true}),
        );
        assert!(r.is_error);
        assert_eq!(kind(&r.content[0]), "text");
        assert_eq!(field(&r.content[0], "text"), "x");
        assert_eq!(CallToolResult::read(json!(null)), CallToolResult::default());
    }
}
