//! Shared links: the link, a page of links, and the shared page a reader sees.

use serde::Serialize;
use serde_json::Value;

use super::TMessage;

/// LibreChat's `TSharedLink`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TSharedLink {
    pub share_id: String,
    pub conversation_id: String,
    pub title: String,
    /// `null` when the newest branch is shared.
    pub target_message_id: Option<String>,
    /// Always `true`: who may read a link is decided when it is read.
    pub is_public: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /api/share`: a page of the caller's links.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedLinkPage {
    pub links: Vec<TSharedLink>,
    /// `null` on the last page.
    pub next_cursor: Option<String>,
    pub has_next_page: bool,
}

/// `GET /api/share/link/:conversationId`: the conversation's link, if it has one.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedLinkOf {
    pub success: bool,
    /// `null` when the conversation is not shared.
    pub share_id: Option<String>,
    pub conversation_id: String,
}

/// What a link stores: the shared branch, with ids of its own.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub conversation_id: String,
    pub messages: Vec<TMessage>,
}

/// `GET /api/share/:shareId`: the shared page. Its messages are the snapshot's, answers with
/// their `html` added, and `htmlParts` (the text around their artifacts' cards, rendered) and
/// `htmlDocuments` (for each card, its Markdown document rendered, or null) when they hold
/// artifacts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedPage {
    pub share_id: String,
    pub conversation_id: Value,
    pub title: String,
    pub messages: Value,
    pub created_at: String,
    pub updated_at: String,
}
