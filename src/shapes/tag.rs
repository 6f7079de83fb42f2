//! `TConversationTag`: a bookmark.

use serde::Serialize;

/// LibreChat's `TConversationTag`, whose schema requires `_id` and `user`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TConversationTag {
    #[serde(rename = "_id")]
    pub id: String,
    pub user: String,
    pub tag: String,
    pub description: String,
    /// How many of the user's conversations carry it.
    pub count: i64,
    pub position: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_mongodbs_name() {
        let v = serde_json::to_value(TConversationTag {
            id: "t1".into(),
            ..TConversationTag::default()
        })
        .unwrap();
        assert_eq!(v["_id"], "t1");
        assert!(v.get("id").is_none());
        assert_eq!(v.as_object().unwrap().len(), 8);
    }
}
