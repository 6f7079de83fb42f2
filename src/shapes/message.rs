//! `TMessage`: a message as LibreChat's client reads it, with its content parts and files.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::read;

/// LibreChat's `TMessage`, with `files` (the files sent with it) and any other fields it was
/// saved with. Read from a client (`POST /api/messages/:id`), the fields the server stores are
/// checked by type; `files` then stays with the other fields as sent, and `user`,
/// `conversationId`, the times and `feedback` are not taken from a client.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TMessage {
    #[serde(default, deserialize_with = "read::id")]
    pub message_id: String,
    #[serde(default, deserialize_with = "read::any_text")]
    pub conversation_id: String,
    /// `00000000-0000-0000-0000-000000000000` for a first message.
    #[serde(default, deserialize_with = "read::id")]
    pub parent_message_id: String,
    /// The owner's id; left out of shared links.
    #[serde(
        default,
        deserialize_with = "read::any_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub user: Option<String>,
    #[serde(
        default,
        deserialize_with = "read::optional_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub sender: Option<String>,
    #[serde(default, deserialize_with = "read::string")]
    pub text: String,
    #[serde(default, deserialize_with = "read::flag")]
    pub is_created_by_user: bool,
    /// `null` when none: LibreChat's schema makes it nullable.
    #[serde(default, deserialize_with = "read::optional_string")]
    pub model: Option<String>,
    /// A string or absent, never `null` (LibreChat's client parses it so): a message saved
    /// without an endpoint leaves it out.
    #[serde(
        default,
        deserialize_with = "read::optional_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub endpoint: Option<String>,
    #[serde(default, deserialize_with = "read::flag")]
    pub error: bool,
    #[serde(default, deserialize_with = "read::flag")]
    pub unfinished: bool,
    /// A number or absent, never `null`: a message not counted yet leaves it out.
    #[serde(
        default,
        deserialize_with = "read::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub token_count: Option<i64>,
    #[serde(
        default,
        deserialize_with = "parts",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Vec<Object>>)]
    pub content: Option<Vec<ContentPart>>,
    /// The files sent with the message, as the server recorded them.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub files: Option<Vec<MessageFile>>,
    /// `{rating, tag, text}`, as `PUT .../feedback` checked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub feedback: Option<Value>,
    #[serde(default, deserialize_with = "read::any_text")]
    pub created_at: String,
    #[serde(default, deserialize_with = "read::any_text")]
    pub updated_at: String,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TMessage {
    /// The keys the typed fields own, but `files`, which a message keeps in `extra` when its
    /// entries are not the server's (see [`MessageFile`]).
    pub const FIELDS: &[&str] = &[
        "messageId",
        "conversationId",
        "parentMessageId",
        "user",
        "sender",
        "text",
        "isCreatedByUser",
        "model",
        "endpoint",
        "error",
        "unfinished",
        "tokenCount",
        "content",
        "feedback",
        "createdAt",
        "updatedAt",
    ];
}

/// One part of a message's `content`, as LibreChat's client renders it. Parts of other kinds,
/// or of these kinds in another form, are kept as they are ([`ContentPart::Other`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// `{type: "text", text}`, `text` a string or LibreChat's older `{value}`.
    Text {
        text: PartText,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// Reasoning: `{type: "think", think}`.
    Think {
        think: PartText,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// Why an answer failed: `{type: "error", error}`.
    Error {
        error: String,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// An image: `{type: "image_url", image_url: {url, detail?}}`.
    ImageUrl {
        image_url: ImageUrl,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// Any other part (tool calls, agent updates, ...), as it is.
    #[serde(untagged)]
    Other(Value),
}

/// The text of a text or reasoning part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PartText {
    Plain(String),
    /// LibreChat's older `{value, annotations?}`.
    Value {
        value: String,
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
}

/// An image part's `image_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl {
    pub url: String,
    /// `detail` and anything else, as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ContentPart {
    /// Sets a field beside the part's own (LibreChat's `agentId` and `groupId`).
    pub fn set(&mut self, key: &str, value: Value) {
        match self {
            ContentPart::Text { extra, .. }
            | ContentPart::Think { extra, .. }
            | ContentPart::Error { extra, .. }
            | ContentPart::ImageUrl { extra, .. } => {
                extra.insert(key.to_owned(), value);
            }
            ContentPart::Other(Value::Object(fields)) => {
                fields.insert(key.to_owned(), value);
            }
            ContentPart::Other(_) => {}
        }
    }

    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text {
            text: PartText::Plain(text.into()),
            extra: Map::new(),
        }
    }

    pub fn think(think: impl Into<String>) -> Self {
        ContentPart::Think {
            think: PartText::Plain(think.into()),
            extra: Map::new(),
        }
    }

    pub fn error(error: impl Into<String>) -> Self {
        ContentPart::Error {
            error: error.into(),
            extra: Map::new(),
        }
    }

    /// A stored part. Never fails: what is not a known part is kept as [`ContentPart::Other`].
    pub fn from_value(v: Value) -> Self {
        // Read from a borrow: the part's text is copied once, and kept as it is on a miss.
        ContentPart::deserialize(&v).unwrap_or(ContentPart::Other(v))
    }

    /// The part's `type`, whatever its form.
    pub fn kind(&self) -> Option<&str> {
        match self {
            ContentPart::Text { .. } => Some("text"),
            ContentPart::Think { .. } => Some("think"),
            ContentPart::Error { .. } => Some("error"),
            ContentPart::ImageUrl { .. } => Some("image_url"),
            ContentPart::Other(v) => v.get("type").and_then(Value::as_str),
        }
    }
}

impl PartText {
    pub fn as_str(&self) -> &str {
        match self {
            PartText::Plain(s) | PartText::Value { value: s, .. } => s,
        }
    }
}

/// `content` as read from a client: an array of parts, or `null`.
fn parts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<ContentPart>>, D::Error> {
    use serde::de::Error as _;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(parts)) => Ok(Some(
            parts.into_iter().map(ContentPart::from_value).collect(),
        )),
        Some(_) => Err(D::Error::custom("must be an array of parts")),
    }
}

/// One of a message's `files`, as the server records it when a message is sent with files
/// (LibreChat's client shows them from these fields). Entries of another form (a LibreChat
/// export's, a client's own) stay in the message's `extra` as they came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageFile {
    pub file_id: String,
    pub filename: String,
    pub filepath: String,
    #[serde(rename = "type")]
    pub mime: String,
    pub bytes: i64,
    pub source: String,
    /// An image's size: both or neither, never `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /api/messages`: a page of messages and the cursor of the next.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    pub messages: Vec<TMessage>,
    /// `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `PUT /api/messages/:conversationId/:messageId/feedback`: the feedback as stored.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackAnswer {
    pub message_id: String,
    pub conversation_id: String,
    /// `null` when it was taken back.
    pub feedback: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shapes::testing::{keys, sorted};
    use serde_json::json;

    fn full() -> TMessage {
        TMessage {
            message_id: "m".into(),
            conversation_id: "c".into(),
            parent_message_id: "p".into(),
            user: Some("u".into()),
            sender: Some("User".into()),
            text: "hi".into(),
            model: Some("gpt".into()),
            endpoint: Some("openAI".into()),
            token_count: Some(3),
            content: Some(vec![ContentPart::text("hi")]),
            feedback: Some(json!({"rating": "thumbsUp"})),
            created_at: "t".into(),
            updated_at: "t".into(),
            ..TMessage::default()
        }
    }

    #[test]
    fn fields_lists_every_typed_key() {
        let mut expected = TMessage::FIELDS.to_vec();
        let mut m = full();
        m.files = Some(vec![]);
        assert_eq!(keys(&m), {
            expected.push("files");
            sorted(&expected)
        });
    }

    #[test]
    fn absent_not_null_where_the_client_wants_a_value() {
        let m = TMessage {
            message_id: "m".into(),
            ..TMessage::default()
        };
        let v = serde_json::to_value(&m).unwrap();
        for absent in [
            "endpoint",
            "tokenCount",
            "content",
            "files",
            "feedback",
            "user",
            "sender",
        ] {
            assert!(v.get(absent).is_none(), "{absent}: {v}");
        }
        // Nullable in LibreChat's schema: written as null.
        assert_eq!(v["model"], Value::Null);
        assert_eq!(v["error"], false);
    }

    #[test]
    fn unknown_fields_are_kept_both_ways() {
        let body = json!({"messageId": "m", "text": "hi", "iconURL": "x", "files": [{"file_id": "f"}],
            "metadata": {"a": [1, {"b": null}]}});
        let m: TMessage = crate::shapes::read(body).unwrap();
        assert_eq!(m.extra.get("iconURL"), Some(&json!("x")));
        assert_eq!(m.extra.get("files"), Some(&json!([{"file_id": "f"}])));
        assert!(m.files.is_none());
        let out = serde_json::to_value(&m).unwrap();
        assert_eq!(out["metadata"], json!({"a": [1, {"b": null}]}));
        assert_eq!(out["files"], json!([{"file_id": "f"}]));
    }

    #[test]
    fn server_fields_are_not_taken_from_a_client() {
        let m: TMessage = crate::shapes::read(json!({"messageId": "m", "user": 5,
            "createdAt": {"$date": 1}, "conversationId": 3, "feedback": "odd"}))
        .unwrap();
        assert_eq!(m.user, None);
        assert_eq!(m.created_at, "");
        assert!(m.extra.is_empty(), "{:?}", m.extra);
        let refused = |v: Value| crate::shapes::read::<TMessage>(v).unwrap_err().0;
        assert_eq!(
            refused(json!({"content": "no"})),
            "content must be an array of parts"
        );
        assert_eq!(refused(json!({"sender": 1})), "sender must be a string");
        assert_eq!(
            refused(json!({"isCreatedByUser": 1})),
            "isCreatedByUser must be true or false"
        );
    }

    #[test]
    fn parts_keep_their_form() {
        let stored = json!([
            {"type": "think", "think": "hmm"},
            {"type": "text", "text": "plain"},
            {"type": "text", "text": {"value": "old", "annotations": []}},
            {"type": "text", "text": null},
            {"type": "error", "error": "boom"},
            {"type": "image_url", "image_url": {"url": "/images/a.png", "detail": "auto"}},
            {"type": "tool_call", "tool_call": {"id": "t"}},
            {"no": "type"},
            7,
        ]);
        let parts: Vec<ContentPart> = stored
            .as_array()
            .unwrap()
            .iter()
            .cloned()
            .map(ContentPart::from_value)
            .collect();
        assert!(matches!(&parts[0], ContentPart::Think { think, .. } if think.as_str() == "hmm"));
        assert!(matches!(
            &parts[2],
            ContentPart::Text {
                text: PartText::Value { .. },
                ..
            }
        ));
        assert!(matches!(&parts[3], ContentPart::Other(_)));
        assert!(matches!(&parts[5], ContentPart::ImageUrl { .. }));
        let kinds: Vec<Option<&str>> = parts.iter().map(ContentPart::kind).collect();
        assert_eq!(
            kinds,
            [
                Some("think"),
                Some("text"),
                Some("text"),
                Some("text"),
                Some("error"),
                Some("image_url"),
                Some("tool_call"),
                None,
                None
            ]
        );
        assert_eq!(serde_json::to_value(&parts).unwrap(), stored);
    }

    #[test]
    fn message_files_leave_out_a_missing_size() {
        let f = MessageFile {
            file_id: "f".into(),
            filename: "a.txt".into(),
            filepath: "/x".into(),
            mime: "text/plain".into(),
            bytes: 3,
            source: "local".into(),
            width: None,
            height: None,
            extra: Map::new(),
        };
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(
            v,
            json!({"file_id": "f", "filename": "a.txt", "filepath": "/x", "type": "text/plain",
                "bytes": 3, "source": "local"})
        );
        assert_eq!(serde_json::from_value::<MessageFile>(v).unwrap(), f);
    }
}
