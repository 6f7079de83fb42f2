//! Stored rows in LibreChat's JSON shapes ([`crate::shapes`]), and the shapes a client sends
//! as the rows to store. Here rather than in `shapes` or `db`, which call nothing of ours; the
//! routes, the engine, export and the command line all present rows through these.

use serde::Deserialize;
use serde_json::Value;

use super::input::Invalid;
use crate::db::balances::Balance;
use crate::db::conversations::Conversation;
use crate::db::files::File;
use crate::db::messages::{Message, NO_PARENT};
use crate::db::presets::Preset;
use crate::db::shares::SharedLink;
use crate::db::tags::Tag;
use crate::shapes::{
    ContentPart, MessageFile, TBalance, TConversation, TConversationTag, TFile, TMessage, TPreset,
    TSharedLink, without,
};

/// A stored message as `TMessage`: its other fields (as sent) under the server's.
pub fn message(m: &Message) -> TMessage {
    let mut extra = m.extra.clone();
    // The files the server recorded are typed; any other `files` stays as it came.
    let files = extra
        .get("files")
        .and_then(|f| Vec::<MessageFile>::deserialize(f).ok());
    if files.is_some() {
        extra.remove("files");
    }
    TMessage {
        message_id: m.message_id.clone(),
        conversation_id: m.conversation_id.clone(),
        parent_message_id: m.parent_message_id.clone(),
        user: Some(m.user_id.clone()),
        sender: Some(m.sender.clone()),
        text: m.text.clone(),
        is_created_by_user: m.is_created_by_user,
        model: m.model.clone(),
        endpoint: m.endpoint.clone(),
        error: m.error,
        unfinished: m.unfinished,
        token_count: m.token_count,
        content: m.content.as_ref().and_then(parts),
        files,
        feedback: m.feedback.clone(),
        created_at: m.created_at.clone(),
        updated_at: m.updated_at.clone(),
        extra: without(extra, TMessage::FIELDS),
    }
}

/// Stored content as parts: every part kept, known or not.
pub fn parts(content: &Value) -> Option<Vec<ContentPart>> {
    content
        .as_array()
        .map(|parts| parts.iter().cloned().map(ContentPart::from_value).collect())
}

/// Parts as they are stored.
pub fn parts_value(parts: &[ContentPart]) -> Value {
    serde_json::to_value(parts).unwrap_or_else(|_| Value::Array(Vec::new()))
}

/// A message a client sent for `conversation_id` (LibreChat's `POST /api/messages/:id`) as the
/// row to store: a `messageId` is required, a message cannot be its own parent, and the sender
/// is `User` or `Assistant` when none is given. Its other fields are kept as sent.
pub fn message_row(
    sent: TMessage,
    user_id: &str,
    conversation_id: &str,
) -> Result<Message, Invalid> {
    if sent.message_id.is_empty() {
        return Err(Invalid("messageId is required".into()));
    }
    let parent = if sent.parent_message_id.is_empty() {
        NO_PARENT.to_owned()
    } else {
        sent.parent_message_id
    };
    if parent == sent.message_id {
        return Err(Invalid("a message cannot be its own parent".into()));
    }
    let mut extra = sent.extra;
    extra.remove("_id");
    let by_user = sent.is_created_by_user;
    Ok(Message {
        message_id: sent.message_id,
        conversation_id: conversation_id.to_owned(),
        user_id: user_id.to_owned(),
        parent_message_id: parent,
        sender: sent
            .sender
            .unwrap_or_else(|| if by_user { "User" } else { "Assistant" }.into()),
        is_created_by_user: by_user,
        text: sent.text,
        content: sent.content.as_deref().map(parts_value),
        model: sent.model,
        endpoint: sent.endpoint,
        token_count: sent.token_count,
        error: sent.error,
        unfinished: sent.unfinished,
        feedback: None,
        extra,
        created_at: String::new(),
        updated_at: String::new(),
    })
}

/// A stored conversation as `TConversation`: its settings under the server's fields.
pub fn conversation(c: &Conversation) -> TConversation {
    TConversation {
        conversation_id: c.conversation_id.clone(),
        user: c.user_id.clone(),
        title: c.title.clone(),
        endpoint: c.endpoint.clone(),
        endpoint_type: c.endpoint_type.clone(),
        model: c.model.clone(),
        is_archived: c.is_archived,
        archived_at: c.archived_at.clone(),
        pinned: c.pinned,
        is_temporary: c.is_temporary,
        expired_at: c.expired_at.clone(),
        tags: c.tags.clone(),
        created_at: c.created_at.clone(),
        updated_at: c.updated_at.clone(),
        chat_project_id: c.project_id.clone(),
        extra: without(c.settings.clone(), TConversation::FIELDS),
    }
}

/// A stored file as `TFile`.
pub fn file(f: &File) -> TFile {
    let (width, height) = match (f.width, f.height) {
        (Some(w), Some(h)) => (Some(w), Some(h)),
        _ => (None, None),
    };
    TFile {
        user: f.user_id.clone(),
        file_id: f.file_id.clone(),
        temp_file_id: f.temp_file_id.clone(),
        bytes: f.bytes,
        embedded: f.embedded,
        filename: f.filename.clone(),
        filepath: f.filepath.clone(),
        object: "file".into(),
        mime: f.mime.clone(),
        usage: f.usage,
        source: f.source.clone(),
        context: f.context.clone(),
        conversation_id: f.conversation_id.clone(),
        message_id: f.message_id.clone(),
        width,
        height,
        created_at: f.created_at.clone(),
        updated_at: f.updated_at.clone(),
        extra: Default::default(),
    }
}

/// A stored file as one of a message's `files`.
pub fn message_file(f: &File) -> MessageFile {
    let (width, height) = match (f.width, f.height) {
        (Some(w), Some(h)) => (Some(w), Some(h)),
        _ => (None, None),
    };
    MessageFile {
        file_id: f.file_id.clone(),
        filename: f.filename.clone(),
        filepath: f.filepath.clone(),
        mime: f.mime.clone(),
        bytes: f.bytes,
        source: f.source.clone(),
        width,
        height,
        extra: Default::default(),
    }
}

/// A stored preset as `TPreset`: its settings under its own fields.
pub fn preset(p: &Preset) -> TPreset {
    TPreset {
        preset_id: p.preset_id.clone(),
        user: p.user_id.clone(),
        title: Some(p.title.clone()),
        default_preset: p.default_preset,
        order: p.position,
        created_at: p.created_at.clone(),
        updated_at: p.updated_at.clone(),
        extra: without(p.settings.clone(), TPreset::FIELDS),
    }
}

/// A preset a client sent as the row to store: a new id when it names none, `New Preset` when
/// it has no title.
pub fn preset_row(sent: TPreset, user_id: &str) -> Preset {
    let mut settings = sent.extra;
    settings.remove("_id");
    Preset {
        preset_id: if sent.preset_id.is_empty() {
            uuid::Uuid::new_v4().to_string()
        } else {
            sent.preset_id
        },
        user_id: user_id.to_owned(),
        title: sent.title.unwrap_or_else(|| "New Preset".into()),
        default_preset: sent.default_preset,
        position: sent.order,
        settings,
        created_at: String::new(),
        updated_at: String::new(),
    }
}

/// A stored project as `TChatProject`.
pub fn project(p: &crate::db::projects::Project) -> crate::shapes::TChatProject {
    crate::shapes::TChatProject {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        user: p.user_id.clone(),
        conversation_count: p.conversation_count,
        last_conversation_at: p.last_conversation_at.clone(),
        last_conversation_id: p.last_conversation_id.clone(),
        created_at: p.created_at.clone(),
        updated_at: p.updated_at.clone(),
    }
}

pub fn tag(t: &Tag) -> TConversationTag {
    TConversationTag {
        id: t.id.clone(),
        user: t.user_id.clone(),
        tag: t.tag.clone(),
        description: t.description.clone(),
        count: t.count,
        position: t.position,
        created_at: t.created_at.clone(),
        updated_at: t.updated_at.clone(),
    }
}

pub fn tool_call(c: crate::db::tool_calls::ToolCallRow) -> crate::shapes::TToolCall {
    crate::shapes::TToolCall {
        id: c.id,
        conversation_id: c.conversation_id,
        message_id: c.message_id,
        tool_id: c.tool_id,
        user: c.user_id,
        result: c.result,
        part_index: c.part_index,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

pub fn shared_link(l: &SharedLink) -> TSharedLink {
    TSharedLink {
        share_id: l.share_id.clone(),
        conversation_id: l.conversation_id.clone(),
        title: l.title.clone(),
        target_message_id: l.target_message_id.clone(),
        is_public: true,
        created_at: l.created_at.clone(),
        updated_at: l.updated_at.clone(),
    }
}

pub fn balance(b: &Balance) -> TBalance {
    TBalance {
        token_credits: b.token_credits,
        auto_refill_enabled: b.auto_refill_enabled,
        refill_interval_value: b.refill_interval_value,
        refill_interval_unit: b.refill_interval_unit.clone(),
        last_refill: b.last_refill.clone(),
        refill_amount: b.refill_amount,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn row() -> Message {
        let Value::Object(extra) = json!({"iconURL": "i", "messageId": "stale", "endpoint": "old"})
        else {
            unreachable!()
        };
        Message {
            message_id: "m".into(),
            conversation_id: "c".into(),
            user_id: "u".into(),
            parent_message_id: NO_PARENT.into(),
            sender: "User".into(),
            is_created_by_user: true,
            text: "hi".into(),
            extra,
            created_at: "t1".into(),
            updated_at: "t2".into(),
            ..Message::default()
        }
    }

    #[test]
    fn a_row_is_presented_with_the_servers_fields_over_its_own() {
        let text = serde_json::to_string(&message(&row())).unwrap();
        assert_eq!(text.matches("\"messageId\"").count(), 1, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["messageId"], "m");
        assert_eq!(v["iconURL"], "i");
        assert_eq!(v["user"], "u");
        assert_eq!(v["model"], Value::Null);
        // No endpoint column: absent, not the stale extra one, not null.
        assert!(v.get("endpoint").is_none() && v.get("tokenCount").is_none());
    }

    #[test]
    fn recorded_files_are_typed_and_others_kept_as_they_came() {
        let mut m = row();
        let ours = json!([{"file_id": "f", "filename": "a.txt", "filepath": "/p", "type": "text/plain",
            "bytes": 3, "source": "text"}]);
        m.extra.insert("files".into(), ours.clone());
        let t = message(&m);
        assert_eq!(t.files.as_ref().map(Vec::len), Some(1));
        assert_eq!(serde_json::to_value(&t).unwrap()["files"], ours);
        let theirs = json!([{"file_id": "f", "embedded": false}]);
        m.extra.insert("files".into(), theirs.clone());
        let t = message(&m);
        assert!(t.files.is_none());
        assert_eq!(serde_json::to_value(&t).unwrap()["files"], theirs);
    }

    #[test]
    fn a_sent_message_becomes_a_row() {
        let sent: TMessage = crate::shapes::read(json!({"messageId": "m", "isCreatedByUser": true,
            "_id": "x", "content": [{"type": "text", "text": "a"}], "files": [{"file_id": "f"}]}))
        .unwrap();
        let r = message_row(sent, "u", "c").unwrap();
        assert_eq!(r.parent_message_id, NO_PARENT);
        assert_eq!(r.sender, "User");
        assert_eq!(r.content, Some(json!([{"type": "text", "text": "a"}])));
        assert_eq!(r.extra.get("files"), Some(&json!([{"file_id": "f"}])));
        assert!(!r.extra.contains_key("_id"));
        let refused = |v: Value| {
            message_row(crate::shapes::read(v).unwrap(), "u", "c")
                .unwrap_err()
                .0
        };
        assert_eq!(refused(json!({"text": "no id"})), "messageId is required");
        assert_eq!(
            refused(json!({"messageId": "a", "parentMessageId": "a"})),
            "a message cannot be its own parent"
        );
        let kept = message_row(
            crate::shapes::read(json!({"messageId": "a", "sender": ""})).unwrap(),
            "u",
            "c",
        )
        .unwrap();
        assert_eq!(kept.sender, "");
    }

    #[test]
    fn presets_get_an_id_and_a_title() {
        let p = preset_row(
            crate::shapes::read(json!({"_id": "x", "temperature": 1})).unwrap(),
            "u",
        );
        assert_eq!(p.title, "New Preset");
        assert_eq!(p.preset_id.len(), 36);
        let mut expected = Map::new();
        expected.insert("temperature".into(), json!(1));
        assert_eq!(p.settings, expected);
    }
}
