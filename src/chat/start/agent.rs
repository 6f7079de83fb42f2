//! A turn with an agent (`POST /api/agents/chat/agents` with `agent_id`): the agent the person
//! may use, and what it gives the turn in place of the conversation's own settings: its
//! provider and model, its instructions as the system prompt, its tools, its model parameters
//! and its recursion limit (within `endpoints.agents.maxRecursionLimit`).

use serde_json::{Map, Value};

use super::{ChatService, StartError};
use crate::access;
use crate::config::agents::AgentsConfig;
use crate::db::agents::{self, Agent};
use crate::db::users::User;

/// The endpoint name under which agents are chatted with.
pub const AGENTS_ENDPOINT: &str = "agents";

/// What an agent gives its turn.
#[derive(Clone)]
pub(super) struct AgentSetup {
    /// Its id (`agent_...`).
    pub id: String,
    /// Shown as the answer's sender.
    pub name: String,
    /// The system prompt, before its special variables are filled.
    pub instructions: Option<String>,
    /// Tool names, as the builder stored them.
    pub tools: Vec<String>,
    /// Its model parameters, over the conversation's.
    pub params: Map<String, Value>,
    /// Steps a run may take.
    pub recursion_limit: u32,
    /// Its artifacts mode (LibreChat's `Agent.artifacts`), which gives its instructions.
    pub artifacts: Option<String>,
    /// The tools built for this turn that its `tools` name: its own actions', and its MCP
    /// servers'.
    pub action_tools: Vec<std::sync::Arc<dyn crate::agents::tools::Tool>>,
    /// The agents it hands on to (LibreChat's `edges`), as stored.
    pub edges: Vec<Value>,
    /// The agents it chains to (LibreChat's deprecated `agent_ids`).
    pub agent_ids: Vec<String>,
    /// Only the last agent's words are kept (LibreChat's `hide_sequential_outputs`).
    pub hide_sequential_outputs: bool,
    /// Whether its File Context (`tool_resources.context`, or the legacy `ocr`) lists files.
    pub has_context_files: bool,
    /// Its File Context's documents, as the tail of its system prompt (see
    /// [`super::agent_context`]).
    pub context: Option<String>,
    /// The memories it reads and writes: its own partition (`memory_scope: agent`) or the
    /// person's shared pool (`""`).
    pub memory_partition: String,
}

impl ChatService {
    /// The agent `settings.agent_id` names, if the person may see it (another's agent, or one
    /// that does not exist, is not found); with the endpoint and model it runs on.
    pub(super) async fn agent_for(
        &self,
        user: &User,
        settings: &Map<String, Value>,
    ) -> Result<(AgentSetup, String, String), StartError> {
        let id = settings
            .get("agent_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or(StartError::AgentRequired)?;
        let id = super::prepare::checked_id(id, "agent_id")?;
        let viewer = access::viewer(user);
        let reader = viewer.clone();
        let found = self
            .engine
            .db
            .read(move |c| agents::get(c, &reader, &id, agents::VIEW))
            .await?;
        let agent = found.map_err(|_| StartError::AgentNotFound)?;
        let action_tools = self
            .engine
            .actions
            .tools_for(viewer, &agent.id, &agent.def.tools)
            .await;
        let (mut setup, provider, model) = setup(agent, &self.settings.agents);
        setup.action_tools = action_tools;
        Ok((setup, provider, model))
    }
}

pub(super) fn setup(agent: Agent, config: &AgentsConfig) -> (AgentSetup, String, String) {
    let def = agent.def;
    let memory_partition = crate::chat::memories::partition_of(&agent.id, def.memory_scope());
    let max = config.max_recursion_limit.unwrap_or(u32::MAX);
    let default = config
        .recursion_limit
        .unwrap_or(crate::agents::run::DEFAULT_RECURSION_LIMIT);
    let recursion_limit = def
        .recursion_limit
        .and_then(|l| u32::try_from(l).ok())
        .filter(|l| *l > 0)
        .unwrap_or(default)
        .min(max)
        .max(1);
    let name = def.name.clone().filter(|n| !n.is_empty());
    let has_context_files = ["context", "ocr"].iter().any(|k| {
        def.tool_resources
            .get(*k)
            .and_then(|r| r.get("file_ids"))
            .and_then(Value::as_array)
            .is_some_and(|ids| !ids.is_empty())
    });
    (
        AgentSetup {
            id: agent.id,
            name: name.unwrap_or_else(|| def.model.clone()),
            instructions: def.instructions.filter(|i| !i.trim().is_empty()),
            tools: def.tools,
            params: def.model_parameters,
            recursion_limit,
            artifacts: def.artifacts,
            action_tools: Vec::new(),
            edges: def.edges,
            agent_ids: def.agent_ids.unwrap_or_default(),
            hide_sequential_outputs: def.hide_sequential_outputs == Some(true),
            has_context_files,
            context: None,
            memory_partition,
        },
        def.provider,
        def.model,
    )
}

/// The recursion limit of a turn without an agent: `endpoints.agents.recursionLimit`, within
/// its `maxRecursionLimit`.
pub(super) fn plain_recursion_limit(config: &AgentsConfig) -> u32 {
    let limit = config
        .recursion_limit
        .unwrap_or(crate::agents::run::DEFAULT_RECURSION_LIMIT);
    limit
        .min(config.max_recursion_limit.unwrap_or(u32::MAX))
        .max(1)
}
