//! `ToolCallData`: a tool call of an answer, as LibreChat's `GET /api/agents/tools/calls`
//! lists them (its `toolCall` documents).

use serde::Serialize;
use serde_json::Value;

/// LibreChat's `toolCall` document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TToolCall {
    #[serde(rename = "_id")]
    pub id: String,
    pub conversation_id: String,
    pub message_id: String,
    /// The tool's name.
    pub tool_id: String,
    pub user: String,
    /// What the call returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The call's part in the answer's `content`.
    pub part_index: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_librechats() {
        let v = serde_json::to_value(TToolCall {
            id: "t".into(),
            result: Some(Value::from("4")),
            ..TToolCall::default()
        })
        .unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "_id",
                "conversationId",
                "createdAt",
                "messageId",
                "partIndex",
                "result",
                "toolId",
                "updatedAt",
                "user"
            ]
        );
    }
}
