//! The chat stream's payloads that carry messages: the answer to a chat start, the `created`
//! event, the final event, and the `sync` state a client (re)joining a stream is given.

use serde::Serialize;
use serde_json::Value;

use super::{ContentPart, TConversation, TMessage};

/// `POST /api/agents/chat/:endpoint`: where to follow the answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    pub stream_id: String,
    pub conversation_id: String,
    /// Always `"started"`.
    pub status: &'static str,
}

/// The first event of a turn: the person's message, as saved.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// Always `true`.
    pub created: bool,
    pub message: TMessage,
    pub stream_id: String,
}

/// The last event of a turn that ran: both messages as saved and the conversation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Final {
    /// Always `true`.
    #[serde(rename = "final")]
    pub is_final: bool,
    pub conversation: TConversation,
    pub title: String,
    pub request_message: TMessage,
    /// `null` when the answer could not be saved.
    pub response_message: Option<TMessage>,
    /// `true` when the answer was stopped; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aborted: Option<bool>,
    /// Why the answer failed; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<StreamError>,
}

/// The last event of a turn that could not run at all.
#[derive(Debug, Clone, Serialize)]
pub struct Failed {
    /// Always `true`.
    #[serde(rename = "final")]
    pub is_final: bool,
    pub error: StreamError,
}

impl Failed {
    pub fn new(message: impl Into<String>) -> Self {
        Failed {
            is_final: true,
            error: StreamError {
                message: message.into(),
                code: None,
            },
        }
    }
}

/// Why a turn failed, as the stream reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamError {
    pub message: String,
    /// A short, stable name of the failure (`rate_limit`, `invalid_api_key`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

/// The `sync` event: everything generated so far, for a client that (re)joins a stream.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sync {
    /// Always `true`.
    pub sync: bool,
    pub resume_state: ResumeState,
    /// Always empty: the state covers them.
    pub pending_events: [Value; 0],
}

/// The state of an answer being generated (LibreChat's resumable streams).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResumeState {
    /// The run steps so far, as each was first streamed (LibreChat's client replays them to
    /// know which step a later delta belongs to).
    pub run_steps: Vec<Value>,
    pub aggregated_content: Vec<ContentPart>,
    /// The person's message, as the `created` event gave it (`null` before).
    pub user_message: Value,
    pub response_message_id: String,
    pub conversation_id: String,
    /// `running`, `complete`, `aborted` or `error`.
    pub status: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn final_events_say_final_and_leave_out_what_did_not_happen() {
        let f = Final {
            is_final: true,
            conversation: TConversation::default(),
            title: "T".into(),
            request_message: TMessage::default(),
            response_message: None,
            aborted: None,
            error: None,
        };
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["final"], true);
        assert_eq!(v["responseMessage"], Value::Null);
        assert!(v.get("aborted").is_none() && v.get("error").is_none());
        assert_eq!(
            serde_json::to_value(Failed::new("no")).unwrap(),
            json!({"final": true, "error": {"message": "no"}})
        );
    }

    #[test]
    fn sync_carries_the_state() {
        let s = Sync {
            sync: true,
            resume_state: ResumeState {
                run_steps: Vec::new(),
                aggregated_content: vec![ContentPart::text("so far")],
                user_message: Value::Null,
                response_message_id: "r".into(),
                conversation_id: "c".into(),
                status: "running",
            },
            pending_events: [],
        };
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"sync": true, "pendingEvents": [], "resumeState": {"runSteps": [],
                "aggregatedContent": [{"type": "text", "text": "so far"}], "userMessage": null,
                "responseMessageId": "r", "conversationId": "c", "status": "running"}})
        );
    }
}
