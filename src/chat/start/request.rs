//! The body of `POST /api/agents/chat/:endpoint`, typed: LibreChat's chat request.
//!
//! LibreChat's client sends `null` for fields it has no value for, and other clients send
//! what they like: a field of the wrong type reads as absent (an empty id, a `false` flag, no
//! files), never as an error, so a body the server accepted before is still accepted. What the
//! fields must say (a valid id, some text) is checked by the service where it uses them.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

use crate::agents::tools::ephemeral::EphemeralAgent;
use crate::chat::input::{Invalid, reject_deep};

/// What a person asks for when sending a message, regenerating or continuing an answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRequest {
    /// The message; anything but a string reads as empty.
    #[serde(default, deserialize_with = "lenient::string")]
    pub text: String,
    /// The id the client chose for the new message.
    #[serde(default, deserialize_with = "lenient::text")]
    pub message_id: Option<String>,
    /// The message this one answers; none starts a new root.
    #[serde(default, deserialize_with = "lenient::text")]
    pub parent_message_id: Option<String>,
    /// The question answered again. LibreChat's client names it here when regenerating (and
    /// sends its parent as `parentMessageId`); the bundled app names it `parentMessageId`.
    #[serde(default, deserialize_with = "lenient::text")]
    pub override_parent_message_id: Option<String>,
    /// The conversation; none (or `"new"`) starts one.
    #[serde(default, deserialize_with = "lenient::text")]
    pub conversation_id: Option<String>,
    /// Answer `overrideParentMessageId` (or `parentMessageId`) again.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_regenerate: bool,
    /// Carry on with the answer `responseMessageId`.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_continued: bool,
    /// The answer to continue.
    #[serde(default, deserialize_with = "lenient::text")]
    pub response_message_id: Option<String>,
    /// A temporary chat: the conversation, when this message creates it, expires.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub is_temporary: bool,
    /// A second model asked side by side (LibreChat's multi-conversation): only its
    /// permission is checked, as answering side by side is not built here.
    #[serde(default)]
    pub added_convo: Option<Value>,
    /// The model; none takes the endpoint's first.
    #[serde(default, deserialize_with = "lenient::text")]
    pub model: Option<String>,
    /// Files attached to the message, as LibreChat's client sends them (not used yet).
    #[serde(default, deserialize_with = "lenient::list")]
    pub files: Vec<Value>,
    /// The composer's tool toggles (LibreChat's `ephemeralAgent`, sent with every message):
    /// the tools of a plain chat. Anything but an object reads as none.
    #[serde(default, deserialize_with = "lenient::ephemeral")]
    pub ephemeral_agent: EphemeralAgent,
    /// About the message, not the conversation: kept out of [`settings`](Self::settings).
    #[serde(flatten)]
    pub unused: Unused,
    /// Everything else: the conversation's settings (`endpoint`, `temperature`,
    /// `promptPrefix`, ...), stored with the conversation.
    #[serde(flatten)]
    pub settings: Map<String, Value>,
    /// Set by the caller, never read from the body: whether the person's role may use memories
    /// (`MEMORIES.USE`), so that theirs go into the system prompt.
    #[serde(skip)]
    pub memories_allowed: bool,
    /// Set by the caller: whether the person's role may also write memories
    /// (`MEMORIES.CREATE` and `UPDATE`), which an agent's own memory tools need.
    #[serde(skip)]
    pub memory_writes_allowed: bool,
    /// Set by the caller: whether the person's role may use file search (`FILE_SEARCH.USE`).
    #[serde(skip)]
    pub file_search_allowed: bool,
    /// Set by the caller: whether the person's role may see file citations
    /// (`FILE_CITATIONS.USE`): the file search tool then cites, as LibreChat's does.
    #[serde(skip)]
    pub file_citations_allowed: bool,
    /// Set by the caller: the tools the person's role may not use (`web_search` without
    /// `WEB_SEARCH.USE`), offered to no model in this turn.
    #[serde(skip)]
    pub refused_tools: Vec<String>,
    /// Set by the caller: whether the person's role may use MCP servers (`MCP_SERVERS.USE`).
    #[serde(skip)]
    pub mcp_allowed: bool,
}

/// Fields LibreChat's client sends with a message that this server does not use: read so
/// that they are not stored as the conversation's settings.
#[derive(Debug, Default, Deserialize)]
// Read only to be kept out of the settings; no one looks at them.
#[allow(dead_code)]
#[serde(rename_all = "camelCase")]
pub struct Unused {
    client_timestamp: Option<IgnoredAny>,
    edited_content: Option<IgnoredAny>,
    client_request_id: Option<IgnoredAny>,
    timezone: Option<IgnoredAny>,
    is_created_by_user: Option<IgnoredAny>,
    sender: Option<IgnoredAny>,
    error: Option<IgnoredAny>,
    unfinished: Option<IgnoredAny>,
    generation: Option<IgnoredAny>,
    key: Option<IgnoredAny>,
    is_edited: Option<IgnoredAny>,
    messages: Option<IgnoredAny>,
    user: Option<IgnoredAny>,
    #[serde(rename = "_id")]
    id: Option<IgnoredAny>,
}

impl StartRequest {
    /// Reads a chat body: a JSON object nested at most
    /// [`MAX_JSON_DEPTH`](crate::chat::input::MAX_JSON_DEPTH) deep.
    pub fn from_body(body: Value) -> Result<Self, Invalid> {
        if !body.is_object() {
            return Err(Invalid("the body must be a JSON object".into()));
        }
        reject_deep(&body)?;
        // Every field takes any JSON value, so an object always reads; kept as a 400 all the
        // same, should a field ever become strict.
        serde_json::from_value(body).map_err(|e| Invalid(format!("invalid request body: {e}")))
    }

    /// Whether a second model is asked to answer side by side (`addedConvo` is an object).
    pub fn asks_second_model(&self) -> bool {
        self.added_convo.as_ref().is_some_and(Value::is_object)
    }
}

/// Readers that take any JSON value and keep only what has the expected type.
mod lenient {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    use crate::agents::tools::ephemeral::EphemeralAgent;

    /// A string; anything else reads as empty.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => s,
            _ => String::new(),
        })
    }

    /// A non-empty string, else none.
    pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) if !s.is_empty() => Some(s),
            _ => None,
        })
    }

    /// `true`; anything else is false.
    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(matches!(Value::deserialize(d)?, Value::Bool(true)))
    }

    /// LibreChat's `ephemeralAgent`; anything but an object reads as no tools.
    pub fn ephemeral<'de, D: Deserializer<'de>>(d: D) -> Result<EphemeralAgent, D::Error> {
        Ok(EphemeralAgent::from_value(Some(&Value::deserialize(d)?)))
    }

    /// An array; anything else reads as empty.
    pub fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => items,
            _ => Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn librechat_body_is_read() {
        let r = StartRequest::from_body(json!({
            "text": "hi", "messageId": "m1", "parentMessageId": "00000000-0000-0000-0000-000000000000",
            "conversationId": "c1", "isRegenerate": false, "isContinued": true,
            "responseMessageId": "r1", "isTemporary": true, "addedConvo": {"model": "b"},
            "model": "gpt", "files": [{"file_id": "f"}], "overrideParentMessageId": "o1",
            "endpoint": "openAI", "temperature": 0.5, "promptPrefix": "be brief",
        }))
        .unwrap();
        assert_eq!(r.text, "hi");
        assert_eq!(r.message_id.as_deref(), Some("m1"));
        assert_eq!(r.conversation_id.as_deref(), Some("c1"));
        assert_eq!(r.override_parent_message_id.as_deref(), Some("o1"));
        assert_eq!(r.response_message_id.as_deref(), Some("r1"));
        assert!(r.is_continued && r.is_temporary && !r.is_regenerate);
        assert!(r.asks_second_model());
        assert_eq!(r.model.as_deref(), Some("gpt"));
        assert_eq!(r.files, vec![json!({"file_id": "f"})]);
        let keys: Vec<&str> = r.settings.keys().map(String::as_str).collect();
        assert_eq!(keys, ["endpoint", "promptPrefix", "temperature"]);
    }

    #[test]
    fn nulls_and_wrong_types_read_as_absent() {
        for v in [
            json!(null),
            json!(5),
            json!("yes"),
            json!({"a": [1]}),
            json!([]),
        ] {
            let r = StartRequest::from_body(json!({
                "text": v, "messageId": v, "parentMessageId": v, "conversationId": v,
                "overrideParentMessageId": v, "responseMessageId": v, "model": v,
                "isRegenerate": v, "isContinued": v, "isTemporary": v, "files": v,
            }))
            .unwrap();
            if !v.is_string() {
                assert_eq!(r.text, "");
            }
            if !v.is_array() {
                assert!(r.files.is_empty());
            }
            let ids = [
                &r.message_id,
                &r.parent_message_id,
                &r.conversation_id,
                &r.override_parent_message_id,
                &r.response_message_id,
                &r.model,
            ];
            assert!(ids.iter().all(|id| id.is_none() || v.is_string()));
            assert!(!r.is_regenerate && !r.is_continued && !r.is_temporary);
            assert!(r.settings.is_empty(), "{:?}", r.settings);
        }
    }

    #[test]
    fn empty_ids_are_none_and_empty_text_is_kept() {
        let r = StartRequest::from_body(json!({"text": "", "messageId": "", "model": ""})).unwrap();
        assert_eq!(r.text, "");
        assert!(r.message_id.is_none() && r.model.is_none());
        let r = StartRequest::from_body(json!({})).unwrap();
        assert!(r.conversation_id.is_none() && !r.asks_second_model());
        let r = StartRequest::from_body(json!({"addedConvo": "x"})).unwrap();
        assert!(!r.asks_second_model());
    }

    #[test]
    fn message_fields_are_not_settings() {
        let r = StartRequest::from_body(json!({
            "clientTimestamp": "2024", "editedContent": {"index": 0}, "ephemeralAgent": null,
            "clientRequestId": "x", "timezone": "UTC", "isCreatedByUser": true, "sender": "User",
            "error": false, "unfinished": false, "generation": "", "key": "k", "isEdited": true,
            "messages": [{"text": "old"}], "user": "someone", "_id": "abc", "iconURL": "i",
        }))
        .unwrap();
        let keys: Vec<&str> = r.settings.keys().map(String::as_str).collect();
        assert_eq!(keys, ["iconURL"]);
        let r = StartRequest::from_body(
            json!({"ephemeralAgent": {"web_search": true, "mcp": ["time"]}}),
        )
        .unwrap();
        assert_eq!(
            r.ephemeral_agent.tool_names(),
            ["web_search", "sys__all__sys_mcp_time"]
        );
        assert!(r.settings.is_empty());
    }

    #[test]
    fn not_an_object_or_too_deep_is_refused() {
        for body in [json!([]), json!("text"), json!(null), json!(1)] {
            assert_eq!(
                StartRequest::from_body(body).unwrap_err().0,
                "the body must be a JSON object"
            );
        }
        let mut deep = json!(1);
        for _ in 0..40 {
            deep = json!([deep]);
        }
        let refused = StartRequest::from_body(json!({"temperature": deep})).unwrap_err();
        assert!(refused.0.contains("nests deeper"), "{refused}");
    }
}
