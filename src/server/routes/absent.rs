//! What LibreChat's web client asks about on every page load for features this server does not
//! have yet (speech, agents' tools, MCP servers, prompts, shared resources).
//! Each is answered as LibreChat answers when the feature is off or holds nothing (MCP servers
//! and prompts refuse a role without their `USE` permission, as LibreChat's do), so the client
//! shows them off or empty instead of failing; `/api/config` says they are off too.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::server::middleware::{AuthUser, permission};
use crate::server::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(speech_config))
        .routes(routes!(tool_calls))
        .routes(routes!(tool_auth))
        .routes(routes!(effective_permissions))
        .routes(routes!(mcp_servers))
        .routes(routes!(all_prompts))
        .routes(routes!(prompt_groups))
}

/// The speech settings LibreChat's client starts from: no server-side speech-to-text or
/// text-to-speech (`sttExternal`/`ttsExternal` false), so it uses the browser's own; what
/// librechat.yaml's `speech.speechTab` sets is passed on, except an engine that would need
/// the server.
#[utoipa::path(get, path = "/api/files/speech/config/get", operation_id = "absent_speech_config", summary = "Speech settings (the browser's own engines only)", tag = "files", responses((status = 200, description = "Success")))]
async fn speech_config(State(state): State<AppState>, AuthUser(_): AuthUser) -> Json<Value> {
    let tab = state
        .settings
        .yaml
        .speech
        .as_ref()
        .and_then(|s| s.get("speechTab"));
    Json(speech_settings(tab))
}

fn speech_settings(tab: Option<&Value>) -> Value {
    let mut out = Map::new();
    out.insert("sttExternal".into(), json!(false));
    out.insert("ttsExternal".into(), json!(false));
    let Some(Value::Object(tab)) = tab else {
        return Value::Object(out);
    };
    if let Some(v) = tab.get("advancedMode") {
        out.insert("advancedMode".into(), v.clone());
    }
    for (section, switch) in [
        ("speechToText", "speechToText"),
        ("textToSpeech", "textToSpeech"),
    ] {
        match tab.get(section) {
            Some(Value::Bool(on)) => {
                out.insert(switch.into(), json!(on));
            }
            Some(Value::Object(fields)) => {
                for (k, v) in fields {
                    let engine = k == "engineSTT" || k == "engineTTS";
                    // Only the browser's engines work here.
                    if engine && v.as_str() != Some("browser") {
                        continue;
                    }
                    out.insert(k.clone(), v.clone());
                }
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// No agent tools run here, so no conversation has tool calls.
#[utoipa::path(get, path = "/api/agents/tools/calls", operation_id = "absent_tool_calls", summary = "The tool calls of a conversation (none: tools are not available yet)", tag = "agents", params(("conversationId" = Option<String>, Query)), responses((status = 200, description = "Success")))]
async fn tool_calls(AuthUser(_): AuthUser) -> Json<Value> {
    Json(json!([]))
}

/// Whether a tool is set up for the caller. Web search is not available here, so it is not (and
/// LibreChat's client then offers no web search); other tools are unknown, as in LibreChat for
/// tools that are not called directly.
#[utoipa::path(get, path = "/api/agents/tools/{tool_id}/auth", operation_id = "absent_tool_auth", summary = "Whether a tool is set up for the caller", tag = "agents", params(("tool_id" = String, Path)), responses((status = 200, description = "Success"), (status = 404, description = "No such tool")))]
async fn tool_auth(
    AuthUser(_): AuthUser,
    Path(tool_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if tool_id != "web_search" {
        return Err(ApiError::NotFound("Tool not found".into()));
    }
    // LibreChat's answer when no search provider or scraper has a key, and no reranker is
    // asked for.
    Ok(Json(json!({
        "authenticated": false,
        "authTypes": [
            ["providers", "user_provided"],
            ["scrapers", "user_provided"],
            ["rerankers", "system_defined"],
        ],
    })))
}

/// MCP servers: none (a role without `MCP_SERVERS.USE` is refused, as in LibreChat).
#[utoipa::path(get, path = "/api/mcp/servers", operation_id = "absent_mcp_servers", summary = "The MCP servers the caller may use (none yet)", tag = "mcp", responses((status = 200, description = "Success"), (status = 403, description = "The role may not use MCP servers")))]
async fn mcp_servers(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Value>, ApiError> {
    permission::require(&state, &user, "MCP_SERVERS", &["USE"])?;
    Ok(Json(json!({})))
}

/// Prompt groups: none (a role without `PROMPTS.USE` is refused, as in LibreChat).
#[utoipa::path(get, path = "/api/prompts/all", operation_id = "absent_all_prompts", summary = "Every prompt group the caller may use (none yet)", tag = "prompts", responses((status = 200, description = "Success"), (status = 403, description = "The role may not use prompts")))]
async fn all_prompts(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Value>, ApiError> {
    permission::require(&state, &user, "PROMPTS", &["USE"])?;
    Ok(Json(json!([])))
}

#[derive(serde::Deserialize)]
struct GroupsQuery {
    limit: Option<String>,
    #[serde(rename = "pageSize")]
    page_size: Option<String>,
}

/// A page of prompt groups: LibreChat's empty page (a role without `PROMPTS.USE` is refused).
#[utoipa::path(get, path = "/api/prompts/groups", operation_id = "absent_prompt_groups", summary = "A page of the caller's prompt groups (none yet)", tag = "prompts", responses((status = 200, description = "Success"), (status = 403, description = "The role may not use prompts")))]
async fn prompt_groups(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    axum::extract::Query(q): axum::extract::Query<GroupsQuery>,
) -> Result<Json<Value>, ApiError> {
    permission::require(&state, &user, "PROMPTS", &["USE"])?;
    let size = q
        .limit
        .or(q.page_size)
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(10);
    Ok(Json(json!({
        "promptGroups": [],
        "pageNumber": "1",
        "pageSize": size.to_string(),
        "pages": "0",
        "has_more": false,
        "after": null,
    })))
}

/// The kinds of resource LibreChat shares with access control.
const RESOURCE_TYPES: [&str; 6] = [
    "agent",
    "promptGroup",
    "mcpServer",
    "remoteAgent",
    "skill",
    "sharedLink",
];

/// The caller's permission bits on each resource of a type it can see: none here, as agents,
/// prompts, MCP servers and skills are not available yet and shared links are their owner's
/// alone. LibreChat answers an unknown type with a 500; here it is a 400.
#[utoipa::path(get, path = "/api/permissions/{resource_type}/effective/all", operation_id = "absent_effective_permissions", summary = "The caller's permission bits on every resource of a type", tag = "permissions", params(("resource_type" = String, Path)), responses((status = 200, description = "Success"), (status = 400, description = "Unknown resource type")))]
async fn effective_permissions(
    AuthUser(_): AuthUser,
    Path(resource_type): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !RESOURCE_TYPES.contains(&resource_type.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "Invalid resourceType: {resource_type}. Valid types: {}",
            RESOURCE_TYPES.join(", ")
        )));
    }
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_uses_the_browsers_engines_only() {
        assert_eq!(
            speech_settings(None),
            json!({"sttExternal": false, "ttsExternal": false})
        );
        let tab = json!({
            "advancedMode": true,
            "speechToText": {"engineSTT": "openai", "autoSendText": 3},
            "textToSpeech": false,
        });
        assert_eq!(
            speech_settings(Some(&tab)),
            json!({"sttExternal": false, "ttsExternal": false, "advancedMode": true,
                   "autoSendText": 3, "textToSpeech": false})
        );
    }
}
