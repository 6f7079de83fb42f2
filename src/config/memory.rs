//! `memory:` of librechat.yaml, read as LibreChat reads it (its `memorySchema`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// LibreChat's default `charLimit`: characters per memory value.
pub const DEFAULT_CHAR_LIMIT: u64 = 10_000;

/// The memory settings. Without the section, people may still keep memories (the role
/// permissions allow it, as in LibreChat), but none reach the model.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryConfig {
    /// `true` turns memories off: the routes refuse every role and nothing is injected.
    pub disabled: Option<bool>,
    /// The keys a memory may have; unset or empty allows any key.
    pub valid_keys: Option<Vec<String>>,
    /// The most tokens (o200k_base) a person's memories may hold together; unset is no limit.
    pub token_limit: Option<u64>,
    /// The most characters one value may have (10,000 when unset or 0).
    pub char_limit: Option<u64>,
    /// The most recent-chat tokens the memory agent reads. Kept for the memory agent (not built).
    pub max_input_tokens: Option<u64>,
    /// Whether memories personalise answers (injected into the system prompt) and people may opt
    /// out; `false` keeps them out of every prompt. Default `true`.
    pub personalize: Option<bool>,
    /// How many recent messages the memory agent reads (default 5). Kept for the memory agent.
    pub message_window_size: Option<u64>,
    /// The memory agent (`{id}` or `{provider, model, instructions, model_parameters}`), which
    /// writes memories after a turn. Parsed and kept; not run here yet: it needs tool calling.
    pub agent: Option<Value>,
}

impl MemoryConfig {
    /// Whether `memory.disabled` is set.
    pub fn is_disabled(&self) -> bool {
        self.disabled == Some(true)
    }

    /// Characters allowed per value (`charLimit || 10000`, as LibreChat's routes read it).
    pub fn char_limit(&self) -> u64 {
        self.char_limit
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_CHAR_LIMIT)
    }

    /// The token limit, if one is set (0 means none, as in LibreChat).
    pub fn token_limit(&self) -> Option<u64> {
        self.token_limit.filter(|n| *n > 0)
    }

    /// Whether `key` is one of `validKeys` (any key when the list is unset or empty).
    pub fn allows_key(&self, key: &str) -> bool {
        match &self.valid_keys {
            Some(keys) if !keys.is_empty() => keys.iter().any(|k| k == key),
            _ => true,
        }
    }

    /// Whether memories go into the system prompt: the section is there, not disabled, and
    /// `personalize` is not off.
    pub fn personalizes(&self) -> bool {
        !self.is_disabled() && self.personalize != Some(false)
    }
}
