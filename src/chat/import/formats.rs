//! The files people bring: LibreChat's own export (flat or nested), ChatGPT's
//! `conversations.json` and Claude's `conversations.json`. Each conversation arrives as one JSON
//! value; [`detect`] says which kind it is and the matching function turns it into a [`Convo`].

use serde_json::{Map, Value};

use super::model::{Convo, Msg, normalize_time, unix_time};
use crate::db::messages::NO_PARENT;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    LibreChat,
    ChatGpt,
    Claude,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::LibreChat => "LibreChat",
            Format::ChatGpt => "ChatGPT",
            Format::Claude => "Claude",
        }
    }
}

/// Which export a conversation comes from, by its telltale fields.
pub fn detect(v: &Value) -> Option<Format> {
    let o = v.as_object()?;
    if o.get("mapping").is_some_and(Value::is_object) {
        Some(Format::ChatGpt)
    } else if o.get("chat_messages").is_some_and(Value::is_array) {
        Some(Format::Claude)
    } else if o.get("messages").is_some_and(Value::is_array) {
        Some(Format::LibreChat)
    } else {
        None
    }
}

/// A conversation's title for reports, whatever its format.
pub fn title_of(v: &Value) -> Option<String> {
    ["title", "name"]
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_str))
        .map(|t| t.chars().take(100).collect())
}

pub fn convert(format: Format, v: Value) -> Result<Convo, String> {
    match format {
        Format::LibreChat => librechat(v),
        Format::ChatGpt => chatgpt(v),
        Format::Claude => claude(v),
    }
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

// ---- LibreChat ----

/// Message fields that are columns (or belong to the old conversation, or the old owner) and
/// so are not carried over as extra fields.
const MESSAGE_FIELDS: &[&str] = &[
    "messageId",
    "parentMessageId",
    "conversationId",
    "user",
    "sender",
    "isCreatedByUser",
    "text",
    "content",
    "model",
    "endpoint",
    "createdAt",
    "updatedAt",
    "error",
    "unfinished",
    "feedback",
    "tokenCount",
    "children",
    "_id",
    "__v",
    "searchResult",
    "snippet",
    "title",
];

/// LibreChat's export: `{conversationId, title, endpoint, options, recursive, messages}` with
/// messages flat (each naming its `parentMessageId`) or nested under `children`.
fn librechat(v: Value) -> Result<Convo, String> {
    let Value::Object(mut o) = v else {
        return Err("not an object".into());
    };
    let options = match o.remove("options") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let pick = |key: &str| {
        o.get(key)
            .or_else(|| options.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut convo = Convo {
        title: pick("title").unwrap_or_default(),
        endpoint: pick("endpoint"),
        model: pick("model"),
        created_at: pick("createdAt"),
        updated_at: pick("updatedAt"),
        ..Convo::default()
    };
    for (k, val) in &options {
        if ![
            "conversationId",
            "title",
            "endpoint",
            "model",
            "user",
            "createdAt",
            "updatedAt",
            "_id",
            "__v",
            "messages",
            "tags",
            "isArchived",
            "expiredAt",
            "isTemporary",
        ]
        .contains(&k.as_str())
        {
            convo.settings.insert(k.clone(), val.clone());
        }
    }
    let Some(Value::Array(messages)) = o.remove("messages") else {
        return Err("it has no messages".into());
    };
    // Nested exports: walk the children with a stack (never recursion), parents first.
    let mut stack: Vec<(Value, Option<String>)> =
        messages.into_iter().rev().map(|m| (m, None)).collect();
    while let Some((mut m, nested_parent)) = stack.pop() {
        let children = m.as_object_mut().and_then(|o| o.remove("children"));
        let msg = librechat_message(m, nested_parent)?;
        if let Some(Value::Array(children)) = children {
            for child in children.into_iter().rev() {
                stack.push((child, Some(msg.id.clone())));
            }
        }
        convo.messages.push(msg);
    }
    Ok(convo)
}

fn librechat_message(m: Value, nested_parent: Option<String>) -> Result<Msg, String> {
    let Value::Object(o) = m else {
        return Err("a message is not an object".into());
    };
    let get = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
    let flag = |k: &str| o.get(k).and_then(Value::as_bool).unwrap_or(false);
    let parent = nested_parent
        .or_else(|| get("parentMessageId"))
        .filter(|p| p != NO_PARENT && !p.is_empty());
    let extra = o
        .iter()
        .filter(|(k, _)| !MESSAGE_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Msg {
        id: get("messageId").ok_or("a message has no messageId")?,
        parent,
        sender: get("sender").unwrap_or_default(),
        is_created_by_user: flag("isCreatedByUser"),
        text: get("text").unwrap_or_default(),
        content: o.get("content").filter(|c| c.is_array()).cloned(),
        model: get("model"),
        endpoint: get("endpoint"),
        created_at: get("createdAt"),
        error: flag("error"),
        unfinished: flag("unfinished"),
        feedback: o.get("feedback").filter(|f| f.is_object()).cloned(),
        extra,
        skip: false,
    })
}

// ---- ChatGPT ----

/// ChatGPT's export: `{title, create_time, update_time, mapping: {id: {message, parent,
/// children}}, current_node}`. Every node is kept, not only the branch `current_node` ends
/// on, so edits and regenerations come along as branches. System, tool and hidden messages
/// and nodes without text are left out (their children move up).
fn chatgpt(v: Value) -> Result<Convo, String> {
    let title = string(&v, "title").unwrap_or_default();
    let created_at = v
        .get("create_time")
        .and_then(Value::as_f64)
        .and_then(unix_time);
    let updated_at = v
        .get("update_time")
        .and_then(Value::as_f64)
        .and_then(unix_time);
    let Some(Value::Object(mapping)) = v.get("mapping") else {
        return Err("it has no mapping".into());
    };
    let mut model = None;
    let mut messages = Vec::with_capacity(mapping.len());
    for (key, node) in mapping {
        let id = string(node, "id").unwrap_or_else(|| key.clone());
        let parent = string(node, "parent");
        let message = node.get("message").filter(|m| m.is_object());
        let role = message
            .and_then(|m| m.pointer("/author/role"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let hidden = message
            .and_then(|m| m.pointer("/metadata/is_visually_hidden_from_conversation"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let text = message.map(chatgpt_text).unwrap_or_default();
        let slug = message
            .and_then(|m| m.pointer("/metadata/model_slug"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let is_user = role == "user";
        if role == "assistant" && slug.is_some() {
            model = slug.clone();
        }
        messages.push(Msg {
            id,
            parent,
            sender: if is_user {
                "User".into()
            } else {
                slug.clone().unwrap_or_else(|| "ChatGPT".into())
            },
            is_created_by_user: is_user,
            created_at: message
                .and_then(|m| m.get("create_time"))
                .and_then(Value::as_f64)
                .and_then(unix_time),
            model: if is_user { None } else { slug },
            endpoint: Some("openAI".into()),
            skip: !(role == "user" || role == "assistant") || hidden || text.trim().is_empty(),
            text,
            ..Msg::default()
        });
    }
    Ok(Convo {
        title,
        endpoint: Some("openAI".into()),
        model,
        created_at,
        updated_at,
        messages,
        ..Convo::default()
    })
}

/// The readable text of a ChatGPT message: its string parts (text and multimodal messages),
/// or the `text` of code and execution output.
fn chatgpt_text(m: &Value) -> String {
    let Some(content) = m.get("content") else {
        return String::new();
    };
    match content.get("content_type").and_then(Value::as_str) {
        Some("text") | Some("multimodal_text") => content
            .get("parts")
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default(),
        Some("code") | Some("execution_output") => string(content, "text")
            .map(|t| format!("```\n{t}\n```"))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

// ---- Claude ----

/// Claude's export: `{uuid, name, created_at, updated_at, chat_messages: [{uuid, sender,
/// text, content, created_at, parent_message_uuid?}]}`. Messages follow each other in order
/// unless they name their parent; thinking blocks become `think` content parts.
fn claude(v: Value) -> Result<Convo, String> {
    let Some(Value::Array(list)) = v.get("chat_messages") else {
        return Err("it has no chat_messages".into());
    };
    let ids: std::collections::HashSet<&str> = list
        .iter()
        .filter_map(|m| m.get("uuid").and_then(Value::as_str))
        .collect();
    let mut messages = Vec::with_capacity(list.len());
    let mut previous: Option<String> = None;
    for (i, m) in list.iter().enumerate() {
        let id = string(m, "uuid").unwrap_or_else(|| format!("claude-message-{i}"));
        let is_user = m.get("sender").and_then(Value::as_str) == Some("human");
        let mut text = string(m, "text").unwrap_or_default();
        let mut thinking = Vec::new();
        let mut texts = Vec::new();
        for part in m
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match part.get("type").and_then(Value::as_str) {
                Some("text") => texts.extend(string(part, "text")),
                Some("thinking") => thinking.extend(string(part, "thinking")),
                _ => {}
            }
        }
        if text.trim().is_empty() {
            text = texts.join("\n\n");
        }
        let content = (!thinking.is_empty()).then(|| {
            let mut parts: Vec<Value> = thinking
                .iter()
                .map(|t| serde_json::json!({"type": "think", "think": t}))
                .collect();
            parts.push(serde_json::json!({"type": "text", "text": text}));
            Value::Array(parts)
        });
        // The named parent when the file has one that exists (branches), else the previous message.
        let parent = string(m, "parent_message_uuid")
            .filter(|p| ids.contains(p.as_str()))
            .or_else(|| previous.clone());
        previous = Some(id.clone());
        messages.push(Msg {
            id,
            parent,
            sender: if is_user {
                "User".into()
            } else {
                "Claude".into()
            },
            is_created_by_user: is_user,
            created_at: string(m, "created_at").and_then(|t| normalize_time(&t)),
            endpoint: Some("anthropic".into()),
            skip: text.trim().is_empty() && content.is_none(),
            text,
            content,
            ..Msg::default()
        });
    }
    Ok(Convo {
        title: string(&v, "name").unwrap_or_default(),
        endpoint: Some("anthropic".into()),
        created_at: string(&v, "created_at"),
        updated_at: string(&v, "updated_at"),
        messages,
        ..Convo::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chatgpt_keeps_every_branch_and_drops_system_nodes() {
        let v = json!({
            "title": "Branches", "create_time": 1700000000.0, "update_time": 1700000100.0,
            "current_node": "a2",
            "mapping": {
                "root": {"id": "root", "message": null, "parent": null, "children": ["sys"]},
                "sys": {"id": "sys", "parent": "root", "children": ["u"], "message": {"author": {"role": "system"}, "content": {"content_type": "text", "parts": [""]}}},
                "u": {"id": "u", "parent": "sys", "children": ["a1", "a2"], "message": {"author": {"role": "user"}, "create_time": 1700000001.0, "content": {"content_type": "text", "parts": ["hello"]}}},
                "a1": {"id": "a1", "parent": "u", "children": [], "message": {"author": {"role": "assistant"}, "create_time": 1700000002.0, "content": {"content_type": "text", "parts": ["first answer"]}, "metadata": {"model_slug": "gpt-4o"}}},
                "a2": {"id": "a2", "parent": "u", "children": [], "message": {"author": {"role": "assistant"}, "create_time": 1700000003.0, "content": {"content_type": "text", "parts": ["second answer"]}, "metadata": {"model_slug": "gpt-4o"}}}
            }
        });
        assert_eq!(detect(&v), Some(Format::ChatGpt));
        let c = convert(Format::ChatGpt, v).unwrap();
        let p = super::super::model::prepare(c, "u", "2026-01-01T00:00:00.000Z").unwrap();
        assert_eq!(p.messages.len(), 3);
        assert_eq!(p.messages[0].text, "hello");
        assert_eq!(p.messages[0].parent_message_id, NO_PARENT);
        assert!(
            p.messages[1..]
                .iter()
                .all(|m| m.parent_message_id == p.messages[0].message_id)
        );
        assert_eq!(p.model.as_deref(), Some("gpt-4o"));
        assert_eq!(p.created_at, "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn claude_chains_messages_and_keeps_thinking() {
        let v = json!({"uuid": "c", "name": "Haiku", "created_at": "2024-05-01T10:00:00.000000Z",
        "chat_messages": [
            {"uuid": "1", "sender": "human", "text": "write a haiku", "created_at": "2024-05-01T10:00:01Z"},
            {"uuid": "2", "sender": "assistant", "text": "", "created_at": "2024-05-01T10:00:02Z",
             "content": [{"type": "thinking", "thinking": "syllables"}, {"type": "text", "text": "old pond"}]}
        ]});
        assert_eq!(detect(&v), Some(Format::Claude));
        let p = super::super::model::prepare(
            convert(Format::Claude, v).unwrap(),
            "u",
            "2026-01-01T00:00:00.000Z",
        )
        .unwrap();
        assert_eq!(p.title, "Haiku");
        assert_eq!(p.messages[1].parent_message_id, p.messages[0].message_id);
        assert_eq!(p.messages[1].text, "old pond");
        assert_eq!(
            p.messages[1].content.as_ref().unwrap()[0]["think"],
            "syllables"
        );
        assert_eq!(p.messages[1].sender, "Claude");
    }

    #[test]
    fn librechat_nested_and_flat_give_the_same_tree() {
        let nested = json!({"conversationId": "x", "title": "T", "endpoint": "openAI", "recursive": true,
            "messages": [{"messageId": "a", "parentMessageId": NO_PARENT, "text": "q", "isCreatedByUser": true,
                "children": [{"messageId": "b", "text": "r1", "children": []}, {"messageId": "c", "text": "r2"}]}]});
        let flat = json!({"conversationId": "x", "title": "T", "endpoint": "openAI", "recursive": false,
            "messages": [{"messageId": "a", "parentMessageId": NO_PARENT, "text": "q", "isCreatedByUser": true},
                {"messageId": "b", "parentMessageId": "a", "text": "r1"}, {"messageId": "c", "parentMessageId": "a", "text": "r2"}]});
        for v in [nested, flat] {
            assert_eq!(detect(&v), Some(Format::LibreChat));
            let c = convert(Format::LibreChat, v).unwrap();
            let parents: Vec<(String, Option<String>)> = c
                .messages
                .iter()
                .map(|m| (m.id.clone(), m.parent.clone()))
                .collect();
            assert_eq!(
                parents,
                [
                    ("a".into(), None),
                    ("b".into(), Some("a".into())),
                    ("c".into(), Some("a".into()))
                ]
            );
        }
        assert_eq!(detect(&json!({"history": []})), None);
        assert_eq!(detect(&json!([1])), None);
    }
}
