//! LibreChat's chat project shapes (`TChatProject` and the answers of `/api/projects`).

use serde::Serialize;

use super::TConversation;

/// LibreChat's `TChatProject`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TChatProject {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub description: String,
    pub user: String,
    /// How many of its conversations its list shows (not archived, not temporary).
    pub conversation_count: i64,
    /// `null` while it holds no conversation, as LibreChat's schema defaults them.
    pub last_conversation_at: Option<String>,
    pub last_conversation_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /api/projects`: a page of projects and the cursor of the next.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectPage {
    pub projects: Vec<TChatProject>,
    /// `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `DELETE /api/projects/{id}`: as MongoDB counts it (the project, the conversations let go).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectDeleteResult {
    pub deleted_count: usize,
    pub modified_count: usize,
}

/// `PUT /api/projects/conversations/{id}`: the conversation as it now is, where it was and
/// where it is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectAssignment {
    pub conversation: TConversation,
    pub previous_project_id: Option<String>,
    pub project_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn a_project_without_conversations_has_null_activity() {
        let v = serde_json::to_value(TChatProject {
            id: "p".into(),
            ..TChatProject::default()
        })
        .unwrap();
        assert_eq!(v["_id"], "p");
        assert_eq!(v["lastConversationAt"], Value::Null);
        assert_eq!(v["conversationCount"], json!(0));
    }
}
