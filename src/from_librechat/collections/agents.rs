//! Agents and what hangs on them: the marketplace's categories (schema/agentCategory.ts),
//! agents with their versions (agent.ts), their actions (action.ts), and the calls their tools
//! made in answers (toolCall.ts).

use serde_json::{Map, Value};

use super::{inserted, object_id, required_ref, settle};
use crate::db::agents::Definition;
use crate::db::from_librechat::{self as sql, Owned, insert};
use crate::from_librechat::doc::Doc;
use crate::from_librechat::report::Skip;
use crate::from_librechat::{Ctx, Mapped};

/// A marketplace category. The ones LibreChat seeds are here already (and stay as they are).
pub fn category(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let value = d.required("value")?.trim().to_lowercase();
    let label = d.required("label")?;
    let active = !matches!(d.0.remove("isActive"), Some(Value::Bool(false)));
    inserted(insert(
        ctx.conn,
        sql::AGENT_CATEGORY,
        &[
            &value,
            &label.trim(),
            &d.text("description")?.unwrap_or_default(),
            &d.int("order").unwrap_or(0),
            &active,
            &d.flag("custom"),
        ],
    )?)
}

/// Fields of an agent document, and of each of its versions, that are not its definition.
const NOT_DEFINITION: &[&str] = &[
    "_id",
    "__v",
    "id",
    "author",
    "authorName",
    "versions",
    "version",
    "is_promoted",
    "createdAt",
    "updatedAt",
    "updatedBy",
    "actionsHash",
    "tenantId",
    "_meiliIndex",
];

/// An agent's fields as this server's definition: LibreChat's names are ours, and fields of
/// features not built here are kept as given ([`Definition::extra`]).
fn definition(mut m: Map<String, Value>) -> Result<Definition, Skip> {
    for k in NOT_DEFINITION {
        m.remove(*k);
    }
    m.retain(|_, v| !v.is_null());
    for key in ["provider", "model"] {
        if m.get(key)
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            return Err(Skip::new("missing_field", format!("{key} is missing")));
        }
    }
    if m.get("category").and_then(Value::as_str) == Some("") {
        m.remove("category");
    }
    serde_json::from_value(Value::Object(m))
        .map_err(|e| Skip::new("bad_shape", format!("it does not read as an agent: {e}")))
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// One version: its definition, who made it, when.
struct Version {
    def: Definition,
    by: Option<String>,
    created: String,
    updated: String,
}

/// An agent keeps its `_id` (access entries name it) and its `agent_...` id (conversations and
/// other agents name it). Each of LibreChat's versions is a version here, in order; an agent
/// without any gets one, its current state.
pub fn agent(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let object_id = object_id(d)?;
    let id = d.required("id")?;
    let author = required_ref(d, "author")?;
    ctx.user_exists(&author)?;
    let promoted = d.flag("is_promoted");
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let mut versions = Vec::new();
    for (i, v) in d
        .array("versions")
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let Value::Object(m) = v else {
            return Err(Skip::new("bad_shape", format!("version {i} is not an object")).into());
        };
        let mut v = Doc(m);
        let by = v.reference("updatedBy").ok().flatten();
        let at = v.time("createdAt").unwrap_or_else(|| created.clone());
        let changed = v.time("updatedAt").unwrap_or_else(|| at.clone());
        let def =
            definition(v.0).map_err(|s| Skip::new(s.code, format!("version {i}: {}", s.why)))?;
        versions.push(Version {
            def,
            by,
            created: at,
            updated: changed,
        });
    }
    let def = definition(std::mem::take(&mut d.0))?;
    if versions.is_empty() {
        versions.push(Version {
            def: def.clone(),
            by: None,
            created: created.clone(),
            updated: updated.clone(),
        });
    }
    let row = insert(
        ctx.conn,
        sql::AGENT,
        &[
            &object_id,
            &id,
            &def.name,
            &def.description,
            &def.instructions,
            &def.provider,
            &def.model,
            &json(&def.model_parameters),
            &def.artifacts,
            &def.recursion_limit,
            &json(&def.tools),
            &def.actions.as_ref().map(json),
            &json(&def.tool_resources),
            &json(&def.conversation_starters),
            &def.agent_ids.as_ref().map(json),
            &json(&def.edges),
            &def.hide_sequential_outputs,
            &def.end_after_tools,
            &def.avatar.as_ref().map(json),
            &def.support_contact.as_ref().map(json),
            &def.category,
            &promoted,
            &json(&def.extra),
            &author,
            &(versions.len() as i64),
            &created,
            &updated,
        ],
    )?;
    if row {
        for (idx, v) in versions.iter().enumerate() {
            insert(
                ctx.conn,
                sql::AGENT_VERSION,
                &[
                    &object_id,
                    &(idx as i64),
                    &json(&v.def),
                    &v.by,
                    &v.created,
                    &v.updated,
                ],
            )?;
        }
    }
    settle(ctx, row, Owned::Agent, &object_id, &author)
}

/// The secrets of an action's metadata: LibreChat encrypts each (encryptV2) after
/// `encodeURIComponent`; here they are columns of their own, sealed with this server's key.
const SECRETS: [&str; 3] = ["api_key", "oauth_client_id", "oauth_client_secret"];

/// What an action's metadata keeps in the clear here.
const METADATA: [&str; 4] = ["domain", "raw_spec", "privacy_policy_url", "auth"];

/// An agent's action. Actions of OpenAI Assistants have no agent here and are refused.
pub fn action(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let object_id = object_id(d)?;
    let action_id = d.required("action_id")?;
    let Some(agent) = d.text("agent_id")?.filter(|a| !a.is_empty()) else {
        if d.text("assistant_id")?.is_some_and(|a| !a.is_empty()) {
            return Err(Skip::new(
                "assistants_not_supported",
                "an action of an OpenAI Assistant: assistants are not supported here",
            )
            .into());
        }
        return Err(Skip::new("missing_field", "agent_id is missing").into());
    };
    let user = required_ref(d, "user")?;
    ctx.user_exists(&user)?;
    if !sql::agent_exists(ctx.conn, &agent)? {
        return Err(Skip::new(
            "agent_not_found",
            format!("its agent {agent} was not imported"),
        )
        .into());
    }
    let Some(Value::Object(mut meta)) = d.json("metadata") else {
        return Err(Skip::new("missing_field", "metadata is missing").into());
    };
    let mut sealed: [Option<String>; 3] = Default::default();
    for (slot, key) in sealed.iter_mut().zip(SECRETS) {
        let Some(Value::String(stored)) = meta.remove(key) else {
            continue;
        };
        if stored.is_empty() {
            continue;
        }
        let field = format!("action's {key}");
        *slot = Some(ctx.reseal_field("action credentials", &field, &stored, true)?);
    }
    let kept: Map<String, Value> = meta
        .into_iter()
        .filter(|(k, v)| METADATA.contains(&k.as_str()) && !v.is_null())
        .collect();
    if !kept.get("domain").is_some_and(Value::is_string) {
        return Err(Skip::new("missing_field", "metadata.domain is missing").into());
    }
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let [api_key, client_id, client_secret] = sealed;
    let row = insert(
        ctx.conn,
        sql::ACTION,
        &[
            &object_id,
            &action_id,
            &agent,
            &user,
            &Value::Object(kept).to_string(),
            &api_key,
            &client_id,
            &client_secret,
            &created,
            &updated,
        ],
    )?;
    settle(ctx, row, Owned::Action, &action_id, &user)
}

/// What one tool call of an answer returned. The provider's id for the call is not in
/// LibreChat's document: it is read from the answer's content part the call belongs to.
pub fn tool_call(ctx: &mut Ctx, d: &mut Doc) -> Mapped {
    let id = object_id(d)?;
    let user = required_ref(d, "user")?;
    ctx.user_exists(&user)?;
    let conversation = d.required("conversationId")?;
    let message = d.required("messageId")?;
    let tool = d.required("toolId")?;
    let part = d
        .int("partIndex")
        .filter(|p| *p >= 0)
        .ok_or_else(|| Skip::new("missing_field", "partIndex is missing"))?;
    let Some(content) = sql::message_content(ctx.conn, &message, &user)? else {
        return Err(Skip::new(
            "message_not_found",
            format!("its message {message} was not imported"),
        )
        .into());
    };
    let call_id = content
        .and_then(|c| serde_json::from_str::<Value>(&c).ok())
        .and_then(|c| {
            c.get(usize::try_from(part).ok()?)?
                .get("tool_call")?
                .get("id")?
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_default();
    if d.json("attachments").is_some() {
        ctx.learned.not_carried("tool calls' attachments");
    }
    let result = d.json("result").map(|v| v.to_string());
    let created = d.created_at();
    let updated = d.updated_at(&created);
    let row = insert(
        ctx.conn,
        sql::TOOL_CALL,
        &[
            &id,
            &user,
            &conversation,
            &message,
            &tool,
            &call_id,
            &result,
            &part,
            &created,
            &updated,
        ],
    )?;
    settle(ctx, row, Owned::ToolCall, &id, &user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_version_reads_as_a_definition_keeping_unknown_fields() {
        let def = definition(map(json!({
            "_id": "x", "author": "a", "updatedBy": "b", "createdAt": "2024-01-01T00:00:00.000Z",
            "name": "Helper", "provider": "openAI", "model": "gpt-4o", "category": "",
            "tools": ["web_search"], "tool_kwargs": {"a": 1}, "description": null,
            "memory_scope": "agent"
        })))
        .unwrap();
        assert_eq!(def.name.as_deref(), Some("Helper"));
        assert_eq!(def.category, "general");
        assert_eq!(def.tools, ["web_search"]);
        assert_eq!(def.memory_scope(), Some("agent"));
        assert_eq!(def.extra["tool_kwargs"], json!({"a": 1}));
        for gone in ["author", "updatedBy", "createdAt", "_id"] {
            assert!(!def.extra.contains_key(gone), "{gone}");
        }
        let missing = definition(map(json!({"provider": "openAI"}))).unwrap_err();
        assert_eq!(missing.code, "missing_field");
        let wrong = definition(map(json!({"provider": "p", "model": "m", "tools": "x"})));
        assert_eq!(wrong.unwrap_err().code, "bad_shape");
    }
}
