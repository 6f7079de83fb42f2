//! A second model answering beside the first: LibreChat's multi-conversation (the client's
//! "+" beside the model), sent as the chat body's `addedConvo`, the second conversation's
//! settings. As LibreChat's `processAddedConvo` runs it, it becomes one more agent of the
//! turn's graph with no edge leading to it, so it starts with the first and both answer side
//! by side in one response (their parts grouped for the client's columns):
//!
//! * with an `agent_id`, that agent (if the person may see it and it can run here), its id
//!   suffixed `____1` so two columns of one agent stay apart;
//! * else the `endpoint` and `model` given, as an ephemeral agent named by LibreChat's
//!   `encodeEphemeralAgentId` (`<endpoint>__<model>___<label>____1`), with the conversation's
//!   `promptPrefix` as instructions, its sampling parameters and the composer's tools.
//!
//! One that cannot run (no such agent, a model its endpoint does not offer) is left out and
//! the first answers alone, as in LibreChat; the person sees the single answer.
//! `MULTI_CONVO.USE` is checked before (src/server/middleware/permission.rs).

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::ChatService;
use super::agent::{AGENTS_ENDPOINT, AgentSetup, plain_recursion_limit};
use super::graph::Connected;
use super::memory::MemoryAccess;
use crate::db::users::User;

/// The sampling parameters an ephemeral second model takes from its conversation (LibreChat's
/// list in `loadAddedAgent`).
const PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "topP",
    "topK",
    "presence_penalty",
    "frequency_penalty",
    "maxOutputTokens",
    "maxTokens",
    "max_tokens",
];

/// LibreChat's `encodeEphemeralAgentId`: the id of a model chatted with without an agent.
/// `:` becomes `__`; `___` comes before the label, `____` before the index.
pub(super) fn ephemeral_id(endpoint: &str, model: &str, label: &str, index: Option<u32>) -> String {
    let mut id = format!("{endpoint}:{model}").replace(':', "__");
    if !label.is_empty() {
        id = format!("{id}___{}", label.replace(':', "__"));
    }
    if let Some(i) = index {
        id = format!("{id}____{i}");
    }
    id
}

/// Whether `id` names a stored agent (LibreChat's `agent_` ids) rather than a model.
fn is_stored_agent(id: &str) -> bool {
    id.starts_with("agent_")
}

impl ChatService {
    /// The second model `added` (the body's `addedConvo`) describes, ready to run beside the
    /// first; `None` (logged) when there is none that can run.
    pub(super) async fn added(
        &self,
        user: &User,
        ip: Option<IpAddr>,
        added: &Value,
        tools: &[String],
        access: MemoryAccess,
    ) -> Option<Connected> {
        let text = |k: &str| {
            added
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        if let Some(id) = text("agent_id").filter(|id| is_stored_agent(id)) {
            let Ok(id) = super::prepare::checked_id(id, "agent_id") else {
                tracing::warn!("the added conversation's agent id is not valid; left out");
                return None;
            };
            let mut c = self.load(user, ip, &id, 0, access).await?;
            c.setup.id = format!("{id}____1");
            return Some(c);
        }
        let (Some(endpoint), Some(model)) = (text("endpoint"), text("model")) else {
            tracing::warn!("the added conversation names no endpoint and model; left out");
            return None;
        };
        if endpoint == AGENTS_ENDPOINT {
            tracing::warn!(
                "the added conversation names the agents endpoint without an agent; left out"
            );
            return None;
        }
        let Some(found) = self.settings.endpoints.get(endpoint).cloned() else {
            tracing::warn!(
                endpoint,
                "the added conversation's endpoint is not configured; left out"
            );
            return None;
        };
        let label = text("modelLabel")
            .map(str::to_owned)
            .or_else(|| found.model_display_label.clone())
            .unwrap_or_default();
        let chosen = match self
            .choose(found, Some(model.to_owned()), &user.id, ip)
            .await
        {
            Ok(chosen) => chosen,
            Err(e) => {
                tracing::warn!(error = %e, "the added conversation's model cannot run; left out");
                return None;
            }
        };
        let params: Map<String, Value> = PARAMS
            .iter()
            .filter_map(|k| {
                added
                    .get(*k)
                    .filter(|v| !v.is_null())
                    .map(|v| ((*k).to_owned(), v.clone()))
            })
            .collect();
        let setup = AgentSetup {
            id: ephemeral_id(endpoint, model, &label, Some(1)),
            name: if label.is_empty() {
                model.to_owned()
            } else {
                label
            },
            instructions: text("promptPrefix").map(str::to_owned),
            tools: tools.to_vec(),
            params,
            recursion_limit: plain_recursion_limit(&self.settings.agents),
            artifacts: added
                .get("ephemeralAgent")
                .and_then(|e| e.get("artifacts"))
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty())
                .map(str::to_owned),
            action_tools: Vec::new(),
            edges: Vec::new(),
            agent_ids: Vec::new(),
            hide_sequential_outputs: false,
            has_context_files: false,
            context: None,
            memory_partition: String::new(),
        };
        Some(Connected {
            setup,
            chosen,
            memory: None,
            memory_tools: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ephemeral_id;

    #[test]
    fn ids_are_encoded_as_librechat_encodes_them() {
        assert_eq!(ephemeral_id("openAI", "gpt-4o", "", None), "openAI__gpt-4o");
        assert_eq!(
            ephemeral_id("Ollama", "llama3:8b", "Local: fast", Some(1)),
            "Ollama__llama3__8b___Local__ fast____1"
        );
    }
}
