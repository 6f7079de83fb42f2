//! The files people bring: LibreChat's own export (flat or nested), ChatGPT's
//! `conversations.json` and Claude's `conversations.json`.
//!
//! A conversation is never held whole as JSON: [`super::stream`] reads its own fields as JSON
//! and hands its message list to a [`Messages`] one element at a time (a LibreChat message with
//! its nested replies, a ChatGPT mapping node, a Claude message), which turns each into a
//! [`Msg`] at once. A 50,000-message conversation as `serde_json::Value` took ~40 MB more than
//! its messages do.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::model::{Convo, Msg, normalize_time, unix_time};
use crate::db::messages::NO_PARENT;
use crate::shapes::{ContentPart, TMessage};

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

    /// The field that holds the messages, and whether it is an object (ChatGPT's mapping)
    /// rather than a list.
    pub fn list_field(self) -> (&'static str, bool) {
        match self {
            Format::LibreChat => ("messages", false),
            Format::ChatGpt => ("mapping", true),
            Format::Claude => ("chat_messages", false),
        }
    }

    /// Which export a conversation is when it has several of the telltale fields.
    pub const PRECEDENCE: [Format; 3] = [Format::ChatGpt, Format::Claude, Format::LibreChat];
}

/// A conversation's title for reports, from its own fields, whatever its format.
pub fn title_of(fields: &Map<String, Value>) -> Option<String> {
    ["title", "name"]
        .iter()
        .find_map(|k| fields.get(*k).and_then(Value::as_str))
        .map(|t| t.chars().take(100).collect())
}

/// One format's messages, converted as they are read. The first message that cannot be read
/// makes the whole conversation a skip, with that reason.
pub struct Messages {
    format: Format,
    messages: Vec<Msg>,
    error: Option<String>,
    /// ChatGPT: the model of the last answer read.
    model: Option<String>,
    /// Claude: the parent each message names, if any, checked once all ids are known.
    named: Vec<Option<String>>,
    /// Claude: whether each message's id is its own `uuid` (not one made up here).
    own_id: Vec<bool>,
}

impl Messages {
    pub fn new(format: Format) -> Self {
        Self {
            format,
            messages: Vec::new(),
            error: None,
            model: None,
            named: Vec::new(),
            own_id: Vec::new(),
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// One element of the list: ChatGPT's mapping entries come with their key.
    pub fn push(&mut self, key: Option<String>, v: Value) {
        if self.error.is_some() {
            return;
        }
        let result = match self.format {
            Format::LibreChat => librechat_tree(&mut self.messages, v),
            Format::ChatGpt => {
                let msg = chatgpt_node(key.unwrap_or_default(), &v, &mut self.model);
                self.messages.push(msg);
                Ok(())
            }
            Format::Claude => {
                let previous = self.messages.last().map(|m| m.id.clone());
                let (msg, named, own) = claude_message(self.messages.len(), &v, previous);
                self.messages.push(msg);
                self.named.push(named);
                self.own_id.push(own);
                Ok(())
            }
        };
        if let Err(e) = result {
            self.error = Some(e);
            self.messages = Vec::new();
        }
    }
}

/// A whole conversation: its own `fields` and its `messages`.
pub fn convert(fields: Map<String, Value>, messages: Messages) -> Result<Convo, String> {
    if let Some(e) = messages.error {
        return Err(e);
    }
    match messages.format {
        Format::LibreChat => Ok(librechat(fields, messages.messages)),
        Format::ChatGpt => Ok(chatgpt(&fields, messages.messages, messages.model)),
        Format::Claude => Ok(claude(
            &fields,
            messages.messages,
            &messages.named,
            &messages.own_id,
        )),
    }
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

// ---- LibreChat ----

/// Message fields that are not carried over as extra fields: `TMessage`'s typed fields (kept
/// as columns, or belonging to the old conversation or the old owner), and these, which belong
/// to LibreChat's database, its export's nesting, or a search result.
const NOT_CARRIED: &[&str] = &["children", "_id", "__v", "searchResult", "snippet", "title"];

/// LibreChat's export: `{conversationId, title, endpoint, options, recursive, messages}` with
/// messages flat (each naming its `parentMessageId`) or nested under `children`.
fn librechat(mut o: Map<String, Value>, messages: Vec<Msg>) -> Convo {
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
        messages,
        ..Convo::default()
    };
    for (k, val) in options {
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
            convo.settings.insert(k, val);
        }
    }
    convo
}

/// One element of a LibreChat export's `messages`: a message and, in nested exports, the
/// replies under its `children`, walked with a stack (never recursion), parents first.
fn librechat_tree(out: &mut Vec<Msg>, top: Value) -> Result<(), String> {
    let mut stack: Vec<(Value, Option<String>)> = vec![(top, None)];
    while let Some((mut m, nested_parent)) = stack.pop() {
        let children = m.as_object_mut().and_then(|o| o.remove("children"));
        let msg = librechat_message(m, nested_parent)?;
        if let Some(Value::Array(children)) = children {
            for child in children.into_iter().rev() {
                stack.push((child, Some(msg.id.clone())));
            }
        }
        out.push(msg);
    }
    Ok(())
}

fn librechat_message(m: Value, nested_parent: Option<String>) -> Result<Msg, String> {
    let Value::Object(mut o) = m else {
        return Err("a message is not an object".into());
    };
    // Moved out, not copied: the message's JSON is dropped as soon as it is read.
    let mut take = |k: &str| match o.remove(k) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let id = take("messageId").ok_or("a message has no messageId")?;
    let parent = nested_parent
        .or_else(|| take("parentMessageId"))
        .filter(|p| p != NO_PARENT && !p.is_empty());
    let (sender, text, model, endpoint, created_at) = (
        take("sender").unwrap_or_default(),
        take("text").unwrap_or_default(),
        take("model"),
        take("endpoint"),
        take("createdAt"),
    );
    let flag = |k: &str| o.get(k).and_then(Value::as_bool).unwrap_or(false);
    let (is_created_by_user, error, unfinished) =
        (flag("isCreatedByUser"), flag("error"), flag("unfinished"));
    let content = o.remove("content").filter(Value::is_array);
    let feedback = o.remove("feedback").filter(Value::is_object);
    // A new map, not `o` emptied: an emptied map keeps its node (~600 bytes) allocated.
    let extra: Map<String, Value> = o
        .into_iter()
        .filter(|(k, _)| {
            !TMessage::FIELDS.contains(&k.as_str()) && !NOT_CARRIED.contains(&k.as_str())
        })
        .collect();
    Ok(Msg {
        id,
        parent,
        sender,
        is_created_by_user,
        text,
        content,
        model,
        endpoint,
        created_at,
        error,
        unfinished,
        feedback,
        extra,
        skip: false,
    })
}

// ---- ChatGPT ----

/// ChatGPT's export: `{title, create_time, update_time, mapping: {id: {message, parent,
/// children}}, current_node}`. Every node is kept, not only the branch `current_node` ends
/// on, so edits and regenerations come along as branches. System, tool and hidden messages
/// and nodes without text are left out (their children move up).
fn chatgpt(fields: &Map<String, Value>, messages: Vec<Msg>, model: Option<String>) -> Convo {
    let time = |k: &str| fields.get(k).and_then(Value::as_f64).and_then(unix_time);
    Convo {
        title: fields
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        endpoint: Some("openAI".into()),
        model,
        created_at: time("create_time"),
        updated_at: time("update_time"),
        messages,
        ..Convo::default()
    }
}

/// One node of ChatGPT's mapping, under `key`; `model` follows the answers' model.
fn chatgpt_node(key: String, node: &Value, model: &mut Option<String>) -> Msg {
    let id = string(node, "id").unwrap_or(key);
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
        model.clone_from(&slug);
    }
    Msg {
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
    }
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
/// unless they name their parent (a branch) and it is in the file.
fn claude(
    fields: &Map<String, Value>,
    mut messages: Vec<Msg>,
    named: &[Option<String>],
    own_id: &[bool],
) -> Convo {
    let ids: HashSet<&str> = messages
        .iter()
        .zip(own_id)
        .filter(|(_, own)| **own)
        .map(|(m, _)| m.id.as_str())
        .collect();
    let resolved: Vec<Option<String>> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            named[i]
                .clone()
                .filter(|p| ids.contains(p.as_str()))
                .or_else(|| m.parent.clone())
        })
        .collect();
    drop(ids);
    for (m, parent) in messages.iter_mut().zip(resolved) {
        m.parent = parent;
    }
    let get = |k: &str| fields.get(k).and_then(Value::as_str).map(str::to_owned);
    Convo {
        title: get("name").unwrap_or_default(),
        endpoint: Some("anthropic".into()),
        created_at: get("created_at"),
        updated_at: get("updated_at"),
        messages,
        ..Convo::default()
    }
}

/// The `i`th of Claude's messages, with the `previous` one as its parent for now; also the
/// parent it names and whether its id is its own. Thinking blocks become `think` parts.
fn claude_message(i: usize, m: &Value, previous: Option<String>) -> (Msg, Option<String>, bool) {
    let own = string(m, "uuid");
    let own_id = own.is_some();
    let id = own.unwrap_or_else(|| format!("claude-message-{i}"));
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
        let mut parts: Vec<ContentPart> = thinking.iter().map(ContentPart::think).collect();
        parts.push(ContentPart::text(text.as_str()));
        crate::chat::present::parts_value(&parts)
    });
    let msg = Msg {
        id,
        // The named parent replaces it in `claude`, once every id is known.
        parent: previous,
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
    };
    (msg, string(m, "parent_message_uuid"), own_id)
}

#[cfg(test)]
mod tests {
    use super::super::stream::Conversation;
    use super::*;
    use crate::db::messages::Message;
    use serde_json::json;

    /// The format found, and the conversation converted.
    fn read(v: Value) -> (Option<Format>, Result<Convo, String>) {
        let c = Conversation::from_value(v);
        (c.format(), c.into_convo())
    }

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
        let (format, c) = read(v);
        assert_eq!(format, Some(Format::ChatGpt));
        let c = c.unwrap();
        let mut p = super::super::model::prepare(c, "u", "2026-01-01T00:00:00.000Z").unwrap();
        let rows: Vec<Message> = p.messages().collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].text, "hello");
        assert_eq!(rows[0].parent_message_id, NO_PARENT);
        assert!(
            rows[1..]
                .iter()
                .all(|m| m.parent_message_id == rows[0].message_id)
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
        let (format, c) = read(v);
        assert_eq!(format, Some(Format::Claude));
        let mut p =
            super::super::model::prepare(c.unwrap(), "u", "2026-01-01T00:00:00.000Z").unwrap();
        let rows: Vec<Message> = p.messages().collect();
        assert_eq!(p.title, "Haiku");
        assert_eq!(rows[1].parent_message_id, rows[0].message_id);
        assert_eq!(rows[1].text, "old pond");
        assert_eq!(rows[1].content.as_ref().unwrap()[0]["think"], "syllables");
        assert_eq!(rows[1].sender, "Claude");
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
            let (format, c) = read(v);
            assert_eq!(format, Some(Format::LibreChat));
            let c = c.unwrap();
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
        assert_eq!(read(json!({"history": []})).0, None);
        assert_eq!(read(json!([1])).0, None);
        // A field named like a list but of another kind is an ordinary field.
        let (format, c) = read(json!({"title": "T", "mapping": [1], "messages": "no"}));
        assert_eq!(format, None);
        assert!(c.is_err());
    }
}
