//! LibreChat's agent shapes: the whole `Agent` (what its editors read), the summary its
//! viewers read, a marketplace list item, and a version. An agent's own fields keep
//! LibreChat's snake_case names (`model_parameters`, `tool_resources`); the timestamps and
//! flags LibreChat adds are camelCase (`createdAt`, `isPublic`). The definition (the fields a
//! person writes) is any `Serialize` whose keys are LibreChat's, flattened in.

use serde::Serialize;
use serde_json::{Map, Value};

/// LibreChat's `owner_contact`: who to ask about an agent that names no support contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OwnerContact<'a> {
    pub name: &'a str,
}

/// LibreChat's `Agent`, as create, update, revert, duplicate and `GET /:id/expanded` answer it
/// (without the heavy `versions`, which `GET /:id/versions` gives).
#[derive(Debug, Clone, Serialize)]
pub struct TAgent<'a, D: Serialize> {
    #[serde(rename = "_id")]
    pub object_id: &'a str,
    pub id: &'a str,
    #[serde(flatten)]
    pub definition: &'a D,
    /// Only to its author, as LibreChat answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<&'a str>,
    pub is_promoted: bool,
    /// The MCP servers its tools name.
    #[serde(rename = "mcpServerNames")]
    pub mcp_server_names: Vec<&'a str>,
    #[serde(rename = "createdAt")]
    pub created_at: &'a str,
    #[serde(rename = "updatedAt")]
    pub updated_at: &'a str,
    /// How many versions it has.
    pub version: i64,
    /// Whether everyone may see it (the reads say; the changes do not).
    #[serde(rename = "isPublic", skip_serializing_if = "Option::is_none")]
    pub is_public: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_contact: Option<OwnerContact<'a>>,
}

/// What `GET /api/agents/:id` answers a viewer: LibreChat's safe subset, without the
/// instructions, tools and files.
#[derive(Debug, Clone, Serialize)]
pub struct TAgentSummary<'a> {
    #[serde(rename = "_id")]
    pub object_id: &'a str,
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub conversation_starters: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<&'a str>,
    pub provider: &'a str,
    pub model: &'a str,
    /// Only `useResponsesApi`, when it is set.
    pub model_parameters: Map<String, Value>,
    #[serde(rename = "isPublic")]
    pub is_public: bool,
    pub version: i64,
    #[serde(rename = "createdAt")]
    pub created_at: &'a str,
    #[serde(rename = "updatedAt")]
    pub updated_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_contact: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_contact: Option<OwnerContact<'a>>,
}

/// One agent of `GET /api/agents` (LibreChat's list projection).
#[derive(Debug, Clone, Serialize)]
pub struct TAgentListItem<'a> {
    #[serde(rename = "_id")]
    pub object_id: &'a str,
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<&'a Value>,
    pub author: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub conversation_starters: &'a [Value],
    #[serde(rename = "updatedAt")]
    pub updated_at: &'a str,
    pub category: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_contact: Option<&'a Value>,
    pub is_promoted: bool,
    /// Present (and `true`) only when everyone may see it.
    #[serde(rename = "isPublic", skip_serializing_if = "std::ops::Not::not")]
    pub is_public: bool,
    /// Whether the caller may change it.
    #[serde(rename = "isEditable")]
    pub is_editable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_contact: Option<OwnerContact<'a>>,
}

/// LibreChat's `AgentListResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct AgentListPage<'a> {
    pub object: &'static str,
    pub data: Vec<TAgentListItem<'a>>,
    pub first_id: Option<&'a str>,
    pub last_id: Option<&'a str>,
    pub has_more: bool,
    /// The next page's cursor.
    pub after: Option<String>,
}

/// One entry of `GET /api/agents/:id/versions`: the definition then, and when.
#[derive(Debug, Clone, Serialize)]
pub struct TAgentVersion<'a, D: Serialize> {
    #[serde(flatten)]
    pub definition: &'a D,
    #[serde(rename = "createdAt")]
    pub created_at: &'a str,
    #[serde(rename = "updatedAt")]
    pub updated_at: &'a str,
    #[serde(rename = "updatedBy", skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<&'a str>,
}

/// One entry of `GET /api/agents/categories`.
#[derive(Debug, Clone, Serialize)]
pub struct TAgentCategory<'a> {
    pub value: &'a str,
    pub label: &'a str,
    /// Left out of LibreChat's `all` entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    pub description: &'a str,
}

/// The MCP servers an agent's tools name (`tool_mcp_server`; action tools are not MCP's),
/// LibreChat's `mcpServerNames`.
pub fn mcp_server_names(tools: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for t in tools {
        if t.contains("_action_") {
            continue;
        }
        if let Some((_, server)) = t.rsplit_once("_mcp_")
            && !server.is_empty()
            && !out.contains(&server)
        {
            out.push(server);
        }
    }
    out
}

/// LibreChat's `owner_contact`: the owner's name, unless the agent names a support contact or
/// the name looks like an email address (it is never shown).
pub fn owner_contact<'a>(
    support_contact: Option<&Value>,
    owner_name: &'a str,
) -> Option<OwnerContact<'a>> {
    let filled = |k: &str| {
        support_contact
            .and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    if filled("name") || filled("email") {
        return None;
    }
    let name = owner_name.trim();
    (!name.is_empty() && !name.contains('@')).then_some(OwnerContact { name })
}

/// A viewer's `model_parameters`: only `useResponsesApi`, when it is a switch.
pub fn safe_model_parameters(params: &Map<String, Value>) -> Map<String, Value> {
    params
        .get("useResponsesApi")
        .filter(|v| v.is_boolean())
        .map(|v| Map::from_iter([("useResponsesApi".to_owned(), v.clone())]))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mcp_servers_come_from_the_tools() {
        let tools = [
            "web_search".to_owned(),
            "get_time_mcp_clock".to_owned(),
            "now_mcp_clock".to_owned(),
            "call_action_example---com".to_owned(),
        ];
        assert_eq!(mcp_server_names(&tools), ["clock"]);
    }

    #[test]
    fn the_owner_is_named_unless_a_contact_is_or_the_name_is_an_address() {
        assert_eq!(owner_contact(None, "Bob").unwrap().name, "Bob");
        assert!(owner_contact(None, "bob@example.org").is_none());
        assert!(owner_contact(Some(&json!({"email": "help@x.org"})), "Bob").is_none());
        assert!(owner_contact(Some(&json!({"name": " "})), "Bob").is_some());
    }

    #[test]
    fn the_whole_agent_flattens_its_definition() {
        let def = json!({"name": "A", "tools": [], "model_parameters": {"useResponsesApi": true,
                         "temperature": 1}});
        let agent = TAgent {
            object_id: "o",
            id: "agent_x",
            definition: &def,
            author: None,
            is_promoted: false,
            mcp_server_names: vec![],
            created_at: "t",
            updated_at: "u",
            version: 2,
            is_public: Some(false),
            owner_contact: None,
        };
        let v = serde_json::to_value(&agent).unwrap();
        assert_eq!(v["_id"], "o");
        assert_eq!(v["name"], "A");
        assert_eq!(v["createdAt"], "t");
        assert!(v.get("author").is_none());
        assert_eq!(
            safe_model_parameters(def["model_parameters"].as_object().unwrap()),
            *json!({"useResponsesApi": true}).as_object().unwrap()
        );
    }
}
