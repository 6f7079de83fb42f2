//! Agents' JSON: LibreChat's shapes out of the stored rows, its refusals, and the list's query
//! and cursor.

use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Value, json};

use crate::agents::BuildError;
use crate::db::agent_changes::Version;
use crate::db::agent_lists::{After, Filter, Listed};
use crate::db::agents::{Agent, Definition, Denied};
use crate::server::ApiError;
use crate::shapes::agent::{
    TAgent, TAgentListItem, TAgentSummary, TAgentVersion, mcp_server_names, owner_contact,
    safe_model_parameters,
};

/// The whole agent for `viewer_id`; `is_public` only on reads, as LibreChat answers.
pub fn full<'a>(a: &'a Agent, viewer_id: &str, is_public: Option<bool>) -> TAgent<'a, Definition> {
    TAgent {
        object_id: &a.object_id,
        id: &a.id,
        definition: &a.def,
        author: (a.author == viewer_id).then_some(a.author.as_str()),
        is_promoted: a.is_promoted,
        mcp_server_names: mcp_server_names(&a.def.tools),
        created_at: &a.created_at,
        updated_at: &a.updated_at,
        version: a.version_count,
        is_public,
        owner_contact: owner_contact(a.def.support_contact.as_ref(), &a.author_name),
    }
}

/// What a viewer of the agent reads.
pub fn summary<'a>(a: &'a Agent, viewer_id: &str) -> TAgentSummary<'a> {
    TAgentSummary {
        object_id: &a.object_id,
        id: &a.id,
        name: a.def.name.as_deref(),
        description: a.def.description.as_deref(),
        conversation_starters: &a.def.conversation_starters,
        avatar: a.def.avatar.as_ref(),
        author: (a.author == viewer_id).then_some(a.author.as_str()),
        provider: &a.def.provider,
        model: &a.def.model,
        model_parameters: safe_model_parameters(&a.def.model_parameters),
        is_public: a.is_public,
        version: a.version_count,
        created_at: &a.created_at,
        updated_at: &a.updated_at,
        support_contact: a.def.support_contact.as_ref(),
        owner_contact: owner_contact(a.def.support_contact.as_ref(), &a.author_name),
    }
}

pub fn list_item(a: &Listed) -> TAgentListItem<'_> {
    TAgentListItem {
        object_id: &a.object_id,
        id: &a.id,
        name: a.name.as_deref(),
        avatar: a.avatar.as_ref(),
        author: &a.author,
        description: a.description.as_deref(),
        conversation_starters: &a.conversation_starters,
        updated_at: &a.updated_at,
        category: &a.category,
        support_contact: a.support_contact.as_ref(),
        is_promoted: a.is_promoted,
        is_public: a.is_public,
        is_editable: a.bits & crate::db::agents::EDIT != 0,
        owner_contact: owner_contact(a.support_contact.as_ref(), &a.author_name),
    }
}

pub fn version(v: &Version) -> TAgentVersion<'_, Definition> {
    TAgentVersion {
        definition: &v.def,
        created_at: &v.created_at,
        updated_at: &v.updated_at,
        updated_by: v.updated_by.as_deref(),
    }
}

/// A refusal shaped as LibreChat shapes its own (`{error, message}`, with more when it adds).
fn shaped(status: StatusCode, error: &str, message: &str, more: Option<(&str, Value)>) -> ApiError {
    let mut body = json!({ "error": error, "message": message });
    if let Some((k, v)) = more {
        body[k] = v;
    }
    ApiError::Shaped { status, body }
}

/// A refusal of the store, as the client hears it.
pub fn denied(d: Denied) -> ApiError {
    match d {
        Denied::NotFound => shaped(StatusCode::NOT_FOUND, "Not Found", "agent not found", None),
        Denied::Forbidden => shaped(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Insufficient permissions to access this agent",
            None,
        ),
        Denied::EdgesMissing(ids) => {
            let m = "One or more agents referenced in edges do not exist";
            shaped(
                StatusCode::BAD_REQUEST,
                m,
                m,
                Some(("agent_ids", json!(ids))),
            )
        }
        Denied::EdgesForbidden(ids) => {
            let m = "You do not have access to one or more agents referenced in edges";
            shaped(StatusCode::FORBIDDEN, m, m, Some(("agent_ids", json!(ids))))
        }
        Denied::ForeignAvatar => shaped(
            StatusCode::BAD_REQUEST,
            "Invalid request data",
            "avatar: not a picture uploaded for this agent (POST /api/files/images/agents/:id/avatar)",
            None,
        ),
        Denied::NoVersion(i) => {
            let m = format!("Version {i} not found");
            shaped(StatusCode::BAD_REQUEST, &m, &m, None)
        }
    }
}

/// A refusal of the builder.
pub fn refused(e: BuildError) -> ApiError {
    match e {
        BuildError::Disabled => shaped(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The agent builder is turned off on this server (endpoints.agents.disableBuilder)",
            None,
        ),
        BuildError::Invalid(issues) => {
            let message = format!(
                "Invalid request data: {}",
                issues.first().map(|i| i.to_string()).unwrap_or_default()
            );
            let details: Vec<Value> = issues
                .iter()
                .map(|i| json!({"path": i.path, "message": i.message}))
                .collect();
            shaped(
                StatusCode::BAD_REQUEST,
                "Invalid request data",
                &message,
                Some(("details", json!(details))),
            )
        }
    }
}

/// The longest search text read (LibreChat's `MAX_SEARCH_LEN`).
const MAX_SEARCH: usize = 100;

/// The list's filters from its query, read as LibreChat reads them: an empty category or
/// search is none, `promoted` is `1` or `0`, a `requiredPermission` that is not a number is
/// VIEW.
pub fn filter(
    category: Option<String>,
    search: Option<String>,
    promoted: Option<&str>,
    required: Option<&str>,
) -> Filter {
    Filter {
        category: category.filter(|c| !c.trim().is_empty()),
        search: search
            .map(|s| s.trim().chars().take(MAX_SEARCH).collect::<String>())
            .filter(|s| !s.is_empty()),
        promoted: match promoted {
            Some("1") => Some(true),
            Some("0") => Some(false),
            _ => None,
        },
        required: required
            .and_then(|r| r.trim().parse::<i64>().ok())
            .map_or(crate::db::agents::VIEW, |b| (b & 15) as u8),
    }
}

/// A page's size: 100 when not asked, else LibreChat's `min(max(1, parseInt(limit) || 20),
/// 1000)`.
pub fn limit(asked: Option<&str>) -> usize {
    match asked {
        None => 100,
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) if n != 0 => n.clamp(1, 1000) as usize,
            _ => 20,
        },
    }
}

/// LibreChat's cursor: base64 of `{updatedAt, _id}`. One that does not read is ignored, as
/// LibreChat ignores it.
pub fn read_cursor(s: Option<&str>) -> Option<After> {
    let s = s.filter(|s| !s.is_empty() && *s != "undefined" && *s != "null")?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    Some(After {
        updated_at: v.get("updatedAt")?.as_str()?.to_owned(),
        object_id: v.get("_id")?.as_str()?.to_owned(),
    })
}

pub fn write_cursor(a: &Listed) -> String {
    let v = json!({"updatedAt": a.updated_at, "_id": a.object_id});
    base64::engine::general_purpose::STANDARD.encode(v.to_string())
}

/// LibreChat's name for a copy: the source's, then the time in its short US form
/// (`" (1/2/26, 14:05)"`, in UTC here).
pub fn copy_suffix(at: time::OffsetDateTime) -> String {
    format!(
        " ({}/{}/{:02}, {:02}:{:02})",
        u8::from(at.month()),
        at.day(),
        at.year() % 100,
        at.hour(),
        at.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_read_as_librechat_reads_it() {
        let f = filter(
            Some(" ".into()),
            Some("  tax ".into()),
            Some("1"),
            Some("x"),
        );
        assert_eq!(f.category, None);
        assert_eq!(f.search.as_deref(), Some("tax"));
        assert_eq!((f.promoted, f.required), (Some(true), 1));
        assert_eq!(filter(None, None, Some("0"), Some("2")).required, 2);
        assert_eq!(
            (limit(None), limit(Some("abc")), limit(Some("5000"))),
            (100, 20, 1000)
        );
        assert_eq!(limit(Some("-3")), 1);
        assert!(read_cursor(Some("not base64!")).is_none());
        let suffix = copy_suffix(time::macros::datetime!(2026-01-02 04:05 UTC));
        assert_eq!(suffix, " (1/2/26, 04:05)");
    }
}
