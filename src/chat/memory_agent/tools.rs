//! The memory agent's two tools, as LibreChat offers them: `set_memory` (`{key, value}`: keep a
//! memory, or rewrite the one with that key) and `delete_memory` (`{key}`). Each checks the
//! limits of librechat.yaml's `memory` section (`validKeys`, `charLimit`, `tokenLimit`) and
//! answers a refusal to the model in LibreChat's words. What each did is reported as
//! LibreChat's memory artifact (`{key, value, tokenCount, type: update|delete|error}`), which
//! the client shows under the answer.
//!
//! The same pair serves the memory agent and an agent that carries the memory tools itself
//! (the `memory` marker in its tools, LibreChat's inline memory tools); each writes the
//! partition it is given (the shared pool, or an agent's own: [`memories::partition_of`]),
//! and an artifact from an agent's partition names it (`agentId`).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::agents::tools::{Context, Tool, ToolError, ToolFuture};
use crate::chat::memories::{self, MemoryError};
use crate::config::memory::MemoryConfig;
use crate::db::Db;
use crate::providers::ToolDef;

/// Where a tool reports what it did: the call's id and LibreChat's memory artifact.
pub type Sink = Arc<dyn Fn(&str, Value) + Send + Sync>;

/// What the tools share: the store, the limits, the partition they write, and where their
/// artifacts go.
#[derive(Clone)]
pub struct Memories {
    pub db: Db,
    pub config: MemoryConfig,
    /// The shared pool (`""`) or an agent's id.
    pub partition: String,
    pub sink: Sink,
}

impl Memories {
    /// `artifact`, naming the agent's partition when it is one (LibreChat's `agentId`).
    fn artifact(&self, mut artifact: Value) -> Value {
        if !self.partition.is_empty() {
            artifact["agentId"] = json!(self.partition);
        }
        artifact
    }
}

/// LibreChat's `attachment` for a memory tool's artifact: what the client shows under the
/// answer `message_id`, and what the saved answer keeps.
pub fn attachment(
    call_id: &str,
    message_id: &str,
    conversation_id: &str,
    artifact: Value,
) -> Value {
    json!({
        "type": "memory",
        "toolCallId": call_id,
        "messageId": message_id,
        "conversationId": conversation_id,
        "memory": artifact,
    })
}

/// The memory tools for a partition.
pub fn pair(m: Memories) -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(SetMemory::new(m.clone())),
        Arc::new(DeleteMemory::new(m)),
    ]
}

/// A key's description, naming the keys allowed when `validKeys` is set.
fn key_description(config: &MemoryConfig, what: &str, plain: &str) -> String {
    match &config.valid_keys {
        Some(keys) if !keys.is_empty() => format!("{what} Must be one of: {}", keys.join(", ")),
        _ => plain.to_owned(),
    }
}

/// LibreChat's `set_memory`.
pub struct SetMemory {
    def: ToolDef,
    m: Memories,
}

impl SetMemory {
    pub fn new(m: Memories) -> Self {
        let key = key_description(
            &m.config,
            "The key of the memory value.",
            "The key identifier for this memory",
        );
        SetMemory {
            def: ToolDef {
                name: "set_memory".into(),
                description: "Saves important information about the user into memory.".into(),
                parameters: json!({
                    "type": "object",
                    "properties": {
                        "key": {"type": "string", "description": key},
                        "value": {
                            "type": "string",
                            "description": "Value MUST be a complete sentence that fully describes relevant user information."
                        }
                    },
                    "required": ["key", "value"]
                }),
            },
            m,
        }
    }

    async fn set(&self, key: String, value: String, cx: &Context) -> Result<String, ToolError> {
        let m = &self.m;
        let set = memories::set(
            &m.db,
            Some(&m.config),
            &cx.user_id,
            &m.partition,
            &key,
            &value,
        );
        match set.await {
            Ok(saved) => {
                (m.sink)(
                    &cx.call_id,
                    m.artifact(json!({"key": saved.key, "value": saved.value,
                           "tokenCount": saved.token_count, "type": "update"})),
                );
                Ok(format!(
                    "Memory set for key \"{}\" ({} tokens)",
                    saved.key, saved.token_count
                ))
            }
            Err(MemoryError::TokenLimit {
                limit,
                used,
                adding,
            }) => {
                let limit_i = i64::try_from(limit).unwrap_or(i64::MAX);
                let (kind, over, total, message) = if used >= limit_i {
                    (
                        "already_exceeded",
                        used - limit_i,
                        used,
                        "Memory storage exceeded. Cannot save new memories.",
                    )
                } else {
                    (
                        "would_exceed",
                        used + adding - limit_i,
                        used + adding,
                        "Memory storage would exceed limit. Cannot save this memory.",
                    )
                };
                let detail = json!({"errorType": kind, "tokenCount": over,
                                    "totalTokens": total, "tokenLimit": limit});
                (m.sink)(
                    &cx.call_id,
                    json!({"key": "system", "type": "error", "value": detail.to_string(),
                           "tokenCount": used}),
                );
                Err(ToolError(message.into()))
            }
            Err(MemoryError::KeyRequired) => {
                Err(ToolError(format!("Failed to set memory for key \"{key}\"")))
            }
            Err(MemoryError::Db(e)) => {
                tracing::error!(error = %e, "the memory agent could not set a memory");
                Err(ToolError(format!("Error setting memory for key \"{key}\"")))
            }
            Err(e) => Err(ToolError(e.to_string())),
        }
    }
}

impl Tool for SetMemory {
    fn def(&self) -> &ToolDef {
        &self.def
    }

    fn call<'a>(&'a self, args: Value, cx: &'a Context) -> ToolFuture<'a> {
        let key = args["key"].as_str().unwrap_or_default().to_owned();
        let value = args["value"].as_str().unwrap_or_default().to_owned();
        Box::pin(self.set(key, value, cx))
    }
}

/// LibreChat's `delete_memory`.
pub struct DeleteMemory {
    def: ToolDef,
    m: Memories,
}

impl DeleteMemory {
    pub fn new(m: Memories) -> Self {
        let key = key_description(
            &m.config,
            "The key of the memory to delete.",
            "The key identifier of the memory to delete",
        );
        DeleteMemory {
            def: ToolDef {
                name: "delete_memory".into(),
                description: "Deletes specific memory data about the user using the provided \
                    key. For updating existing memories, use the `set_memory` tool instead"
                    .into(),
                parameters: json!({
                    "type": "object",
                    "properties": {"key": {"type": "string", "description": key}},
                    "required": ["key"]
                }),
            },
            m,
        }
    }

    async fn delete(&self, key: String, cx: &Context) -> Result<String, ToolError> {
        let m = &self.m;
        if !m.config.allows_key(&key) {
            return Err(ToolError(
                MemoryError::InvalidKey {
                    key,
                    valid: m.config.valid_keys.clone().unwrap_or_default().join(", "),
                }
                .to_string(),
            ));
        }
        let deleted = memories::delete(&m.db, Some(&m.config), &cx.user_id, &m.partition, &key);
        match deleted.await {
            Ok(()) => {
                (m.sink)(
                    &cx.call_id,
                    m.artifact(json!({"key": key, "type": "delete"})),
                );
                Ok(format!("Memory deleted for key \"{key}\""))
            }
            Err(MemoryError::Db(e)) => {
                tracing::error!(error = %e, "the memory agent could not delete a memory");
                Err(ToolError(format!(
                    "Error deleting memory for key \"{key}\""
                )))
            }
            Err(_) => Err(ToolError(format!(
                "Failed to delete memory for key \"{key}\""
            ))),
        }
    }
}

impl Tool for DeleteMemory {
    fn def(&self) -> &ToolDef {
        &self.def
    }

    fn call<'a>(&'a self, args: Value, cx: &'a Context) -> ToolFuture<'a> {
        let key = args["key"].as_str().unwrap_or_default().to_owned();
        Box::pin(self.delete(key, cx))
    }
}
