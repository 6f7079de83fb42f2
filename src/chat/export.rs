//! Conversations written out: LibreChat's export JSON (the whole tree, so it imports back into
//! LibreChat or here) and Markdown (the newest branch, for reading).

use serde_json::Value;

use super::{present, tree};
use crate::db::conversations::Conversation;
use crate::db::messages::Message;
use crate::shapes::conversation::Export;

/// LibreChat's export document, flat: every message once, in order, with its
/// `parentMessageId`, which keeps the whole tree. (LibreChat's nested form, with `children`,
/// would nest a long conversation thousands of levels deep, more than JSON tools cope with;
/// LibreChat's importer reads both forms.)
pub fn to_json(convo: &Conversation, messages: &[Message]) -> Export {
    // LibreChat's `options`: the conversation's settings, which an import restores.
    let mut options = convo.settings.clone();
    if let Some(m) = &convo.model {
        options.insert("model".into(), Value::String(m.clone()));
    }
    Export {
        conversation_id: convo.conversation_id.clone(),
        endpoint: convo.endpoint.clone(),
        title: convo.title.clone(),
        options,
        export_at: crate::db::now(),
        branches: true,
        recursive: false,
        messages: messages.iter().map(present::message).collect(),
    }
}

/// The newest branch as Markdown: a heading, then each message under its sender's name.
pub fn to_markdown(convo: &Conversation, messages: &[Message]) -> String {
    let mut out = format!("# {}\n\n", convo.title.replace('\n', " "));
    for m in tree::branch(messages, None) {
        let who = if m.is_created_by_user {
            "User"
        } else {
            m.sender.as_str()
        };
        out.push_str(&format!("**{who}**\n\n{}\n\n", text_of(&m).trim()));
    }
    out
}

/// A message's text: `text`, or the text parts of its content.
fn text_of(m: &Message) -> String {
    if !m.text.is_empty() {
        return m.text.clone();
    }
    crate::db::messages::text_parts(m.content.as_ref()).join("\n\n")
}
