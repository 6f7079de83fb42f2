//! `TConversation`, the answers that carry conversations, and LibreChat's export document.

use serde::Serialize;
use serde_json::{Map, Value};

use super::TMessage;

/// LibreChat's `TConversation`: the server's fields over the conversation's settings (`extra`:
/// `temperature`, `promptPrefix`, ..., as the client sent them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TConversation {
    pub conversation_id: String,
    pub user: String,
    pub title: String,
    /// The nullable fields of LibreChat's schema are written as `null` when unset.
    pub endpoint: Option<String>,
    pub endpoint_type: Option<String>,
    pub model: Option<String>,
    pub is_archived: bool,
    pub archived_at: Option<String>,
    pub pinned: bool,
    pub is_temporary: bool,
    pub expired_at: Option<String>,
    pub tags: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The user's project it is in; `null` when none, as LibreChat's schema defaults it.
    pub chat_project_id: Option<String>,
    /// The conversation's settings.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TConversation {
    /// The keys the typed fields own.
    pub const FIELDS: &[&str] = &[
        "conversationId",
        "user",
        "title",
        "endpoint",
        "endpointType",
        "model",
        "isArchived",
        "archivedAt",
        "pinned",
        "isTemporary",
        "expiredAt",
        "tags",
        "createdAt",
        "updatedAt",
        "chatProjectId",
    ];
}

/// `GET /api/convos`: a page of conversations and the cursor of the next.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationPage {
    pub conversations: Vec<TConversation>,
    /// `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A fork or a duplicate: the new conversation and its messages.
#[derive(Debug, Clone, Serialize)]
pub struct ForkResponse {
    pub conversation: TConversation,
    pub messages: Vec<TMessage>,
}

/// What a delete removed, as MongoDB reports it (LibreChat passes its answer on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteResult {
    pub acknowledged: bool,
    pub deleted_count: usize,
    /// With a conversation: its messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Deleted>,
}

/// The messages a conversation's delete removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub acknowledged: bool,
    pub deleted_count: usize,
}

impl DeleteResult {
    pub fn of(deleted_count: usize) -> Self {
        DeleteResult {
            acknowledged: true,
            deleted_count,
            messages: None,
        }
    }

    /// Conversations deleted, with their messages.
    pub fn with_messages(conversations: usize, messages: usize) -> Self {
        DeleteResult {
            messages: Some(Deleted {
                acknowledged: true,
                deleted_count: messages,
            }),
            ..DeleteResult::of(conversations)
        }
    }
}

/// LibreChat's export document, flat: every message once, each naming its `parentMessageId`
/// (LibreChat's importer reads this form as well as the nested one, with `children`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub conversation_id: String,
    /// `null` when the conversation has none.
    pub endpoint: Option<String>,
    pub title: String,
    /// The conversation's settings, which an import restores (LibreChat's `options`).
    pub options: Map<String, Value>,
    pub export_at: String,
    /// Always `true`: every branch is in it.
    pub branches: bool,
    /// Always `false`: the messages are flat.
    pub recursive: bool,
    pub messages: Vec<TMessage>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shapes::testing::{keys, sorted};
    use serde_json::json;

    #[test]
    fn fields_lists_every_typed_key_and_nullable_ones_stay_null() {
        let c = TConversation {
            conversation_id: "c".into(),
            ..TConversation::default()
        };
        assert_eq!(keys(&c), sorted(TConversation::FIELDS));
        let v = serde_json::to_value(&c).unwrap();
        for nullable in [
            "endpoint",
            "endpointType",
            "model",
            "archivedAt",
            "expiredAt",
            "chatProjectId",
        ] {
            assert_eq!(v[nullable], Value::Null, "{nullable}");
        }
    }

    #[test]
    fn settings_are_flattened() {
        let mut extra = Map::new();
        extra.insert("temperature".into(), json!(0.5));
        extra.insert("title".into(), json!("from the settings"));
        let c = TConversation {
            title: "T".into(),
            extra: crate::shapes::without(extra, TConversation::FIELDS),
            ..TConversation::default()
        };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(text.matches("\"title\"").count(), 1, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["temperature"], json!(0.5));
        assert_eq!(v["title"], "T");
    }

    #[test]
    fn deletes_report_as_mongodb_does() {
        assert_eq!(
            serde_json::to_value(DeleteResult::with_messages(1, 4)).unwrap(),
            json!({"acknowledged": true, "deletedCount": 1,
                "messages": {"acknowledged": true, "deletedCount": 4}})
        );
        assert_eq!(
            serde_json::to_value(DeleteResult::of(2)).unwrap(),
            json!({"acknowledged": true, "deletedCount": 2})
        );
    }
}
