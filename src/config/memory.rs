//! `memory:` of librechat.yaml, read as LibreChat reads it (its `memorySchema`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// LibreChat's default `charLimit`: characters per memory value.
pub const DEFAULT_CHAR_LIMIT: u64 = 10_000;

/// LibreChat's default `messageWindowSize`: the recent messages the memory agent reads.
pub const DEFAULT_MESSAGE_WINDOW: u64 = 5;

/// LibreChat's default `maxInputTokens`: the most of the recent chat the memory agent reads.
pub const DEFAULT_MAX_INPUT_TOKENS: u64 = 12_000;

/// The memory agent (`memory.agent`): an agent stored here, or a model with its instructions.
#[derive(Debug, Clone, PartialEq)]
pub enum MemoryAgent {
    /// `{id}`: an agent made with the builder (`agent_...`), whatever its sharing.
    Stored { id: String },
    /// `{provider, model, instructions?, model_parameters?}`.
    Inline {
        /// An endpoint's name (`openAI`, `anthropic`, `google`, a custom endpoint's).
        provider: String,
        model: String,
        instructions: Option<String>,
        model_parameters: Map<String, Value>,
    },
}

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
    /// The most recent-chat tokens the memory agent reads (default 12,000).
    pub max_input_tokens: Option<u64>,
    /// Whether memories personalise answers (injected into the system prompt) and people may opt
    /// out; `false` keeps them out of every prompt. Default `true`.
    pub personalize: Option<bool>,
    /// How many recent messages the memory agent reads (default 5).
    pub message_window_size: Option<u64>,
    /// The memory agent (`{enabled, id}` or `{enabled, provider, model, instructions,
    /// model_parameters}`), which sets and deletes memories alongside each answer; it runs only
    /// with `enabled: true`, as in LibreChat (see [`MemoryConfig::agent`]).
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

    /// The recent messages the memory agent reads (`messageWindowSize`, default 5; at least 1).
    pub fn message_window(&self) -> usize {
        usize::try_from(self.message_window_size.unwrap_or(DEFAULT_MESSAGE_WINDOW))
            .unwrap_or(usize::MAX)
            .max(1)
    }

    /// The most tokens of the recent chat the memory agent reads (`maxInputTokens`).
    pub fn max_input_tokens(&self) -> u64 {
        self.max_input_tokens
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_MAX_INPUT_TOKENS)
    }

    /// The memory agent, when memories are on and `agent` names one (an `id`, or a `provider`
    /// and a `model`) with `enabled: true`. Without `enabled: true` none runs, as in LibreChat,
    /// where automatic memory writing became opt-in ([`MemoryConfig::agent_warning`]).
    pub fn agent(&self) -> Option<MemoryAgent> {
        if self.is_disabled() {
            return None;
        }
        let a = self.agent.as_ref()?;
        if a.get("enabled") != Some(&Value::Bool(true)) {
            return None;
        }
        named_agent(a)
    }

    /// A warning for an agent set without `enabled: true`, which therefore does not run.
    pub fn agent_warning(&self) -> Option<String> {
        let a = self.agent.as_ref()?;
        if self.is_disabled() || a.get("enabled").is_some() || named_agent(a).is_none() {
            return None;
        }
        Some(
            "librechat.yaml: `memory.agent` has no `enabled: true`, so it does not run;              automatic memory writing is opt-in (as in LibreChat): add `enabled: true` to it"
                .into(),
        )
    }

    /// Whether memories go into the system prompt: the section is there, not disabled, and
    /// `personalize` is not off.
    pub fn personalizes(&self) -> bool {
        !self.is_disabled() && self.personalize != Some(false)
    }
}

/// The agent `a` names: a non-empty `id`, or a non-empty `provider` and `model`.
fn named_agent(a: &Value) -> Option<MemoryAgent> {
    let text = |k: &str| {
        a.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(id) = text("id") {
        return Some(MemoryAgent::Stored { id });
    }
    Some(MemoryAgent::Inline {
        provider: text("provider")?,
        model: text("model")?,
        instructions: text("instructions"),
        model_parameters: a
            .get("model_parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with_agent(agent: Value) -> MemoryConfig {
        MemoryConfig {
            agent: Some(agent),
            ..MemoryConfig::default()
        }
    }

    #[test]
    fn the_agent_runs_only_when_enabled_and_named() {
        let c = with_agent(json!({"enabled": true, "id": "agent_x"}));
        assert_eq!(
            c.agent(),
            Some(MemoryAgent::Stored {
                id: "agent_x".into()
            })
        );
        let c = with_agent(
            json!({"enabled": true, "provider": "openAI", "model": "gpt-4o",
            "instructions": "Remember.", "model_parameters": {"temperature": 0.2}}),
        );
        let Some(MemoryAgent::Inline {
            provider,
            instructions,
            model_parameters,
            ..
        }) = c.agent()
        else {
            panic!("inline agent");
        };
        assert_eq!(provider, "openAI");
        assert_eq!(instructions.as_deref(), Some("Remember."));
        assert_eq!(model_parameters["temperature"], 0.2);
        assert_eq!(c.agent_warning(), None);

        let c = with_agent(json!({"provider": "openAI", "model": "gpt-4o"}));
        assert_eq!(c.agent(), None);
        assert!(c.agent_warning().unwrap().contains("enabled: true"));
        let c = with_agent(json!({"enabled": true, "provider": "openAI"}));
        assert_eq!(c.agent(), None);
        let mut c = with_agent(json!({"enabled": true, "id": "agent_x"}));
        c.disabled = Some(true);
        assert_eq!(c.agent(), None);
        assert_eq!(c.message_window(), 5);
        assert_eq!(c.max_input_tokens(), 12_000);
    }
}
