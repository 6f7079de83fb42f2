//! The agents an agent hands on to (its `edges`, and theirs, and its deprecated `agent_ids`),
//! found as LibreChat finds them: each one the person may see, on a provider agents may use,
//! with a model its endpoint offers, loaded with its own instructions, model, parameters and
//! tools; one that does not exist, that the person may not see or that cannot run is left
//! out with the edges that name it, and the turn goes on without it. At most
//! [`handoff::MAX_AGENTS`] agents answer together.

use std::collections::{HashSet, VecDeque};
use std::net::IpAddr;

use std::sync::Arc;

use super::ChatService;
use super::agent::{AgentSetup, setup};
use super::checks::Chosen;
use super::memory::{self, MemoryAccess};
use crate::access;
use crate::agents::handoff::{self, Edge, Kind, Transfer};
use crate::agents::parallel;
use crate::agents::tools::{Tool, ToolSet};
use crate::chat::engine::{Graph, Member, Next};
use crate::db::agents;
use crate::db::users::User;

/// An agent found through the graph, ready to run.
pub(super) struct Connected {
    pub(super) setup: AgentSetup,
    pub(super) chosen: Chosen,
    /// Its memories for the system prompt (see [`ChatService::member_memory`]).
    pub(super) memory: Option<String>,
    /// Whether it carries the memory tools (on its own partition).
    pub(super) memory_tools: bool,
}

/// The graph as found: the agents beside the first, and the edges between those that are
/// there.
pub(super) struct Found {
    connected: Vec<Connected>,
    edges: Vec<Edge>,
    hide_sequential_outputs: bool,
}

impl Found {
    /// A graph of the first agent alone, for others to join (a second model side by side).
    pub(super) fn alone() -> Self {
        Found {
            connected: Vec::new(),
            edges: Vec::new(),
            hide_sequential_outputs: false,
        }
    }

    /// Adds an agent no edge leads to: it starts with the first, side by side.
    pub(super) fn beside(&mut self, c: Connected) {
        self.connected.push(c);
    }

    /// The agents found beside the first.
    pub(super) fn setups(&self) -> impl Iterator<Item = &AgentSetup> {
        self.connected.iter().map(|c| &c.setup)
    }

    pub(super) fn setups_mut(&mut self) -> impl Iterator<Item = &mut AgentSetup> {
        self.connected.iter_mut().map(|c| &mut c.setup)
    }
}

impl ChatService {
    /// The agents `first` hands on to, when it has edges or chained agents.
    pub(super) async fn connected(
        &self,
        user: &User,
        ip: Option<IpAddr>,
        first: &AgentSetup,
        access: MemoryAccess,
    ) -> Option<Found> {
        if first.edges.is_empty() && first.agent_ids.is_empty() {
            return None;
        }
        let mut connected: Vec<Connected> = Vec::new();
        let mut skipped: HashSet<String> = HashSet::new();
        let mut edges: Vec<Edge> = Vec::new();
        let mut queue: VecDeque<String> = VecDeque::new();
        let known = |id: &str, connected: &[Connected], skipped: &HashSet<String>| {
            id == first.id || connected.iter().any(|c| c.setup.id == id) || skipped.contains(id)
        };
        collect(
            &mut edges,
            &mut queue,
            handoff::edges(&first.edges, &first.id),
        );
        while let Some(id) = queue.pop_front() {
            if known(&id, &connected, &skipped) {
                continue;
            }
            match self.load(user, ip, &id, connected.len(), access).await {
                Some(c) => {
                    collect(&mut edges, &mut queue, handoff::edges(&c.setup.edges, &id));
                    connected.push(c);
                }
                None => {
                    skipped.insert(id);
                }
            }
        }
        for id in &first.agent_ids {
            if known(id, &connected, &skipped) {
                continue;
            }
            match self.load(user, ip, id, connected.len(), access).await {
                Some(c) => connected.push(c),
                None => {
                    skipped.insert(id.clone());
                }
            }
        }
        collect(
            &mut edges,
            &mut VecDeque::new(),
            handoff::chain(&first.id, &first.agent_ids),
        );
        // Edges lose the agents that are not there; one left without a source or a
        // destination goes.
        for e in &mut edges {
            e.from.retain(|id| !skipped.contains(id));
            e.to.retain(|id| !skipped.contains(id));
        }
        edges.retain(|e| !e.from.is_empty() && !e.to.is_empty());
        Some(Found {
            connected,
            edges,
            hide_sequential_outputs: first.hide_sequential_outputs,
        })
    }

    /// One agent of the graph, if the person may use it and it can run here. `loaded` is how
    /// many are already (with the first, at most [`handoff::MAX_AGENTS`]).
    pub(super) async fn load(
        &self,
        user: &User,
        ip: Option<IpAddr>,
        id: &str,
        loaded: usize,
        access: MemoryAccess,
    ) -> Option<Connected> {
        if loaded + 1 >= handoff::MAX_AGENTS {
            tracing::warn!(
                agent = id,
                "an answer has as many agents as it may; left out"
            );
            return None;
        }
        let viewer = access::viewer(user);
        let wanted = id.to_owned();
        let found = self
            .engine
            .db
            .read(move |c| agents::get(c, &viewer, &wanted, agents::VIEW))
            .await;
        let agent = match found {
            Ok(Ok(a)) => a,
            Ok(Err(_)) => {
                tracing::warn!(
                    agent = id,
                    "a connected agent is missing or not viewable; left out"
                );
                return None;
            }
            Err(e) => {
                tracing::warn!(agent = id, error = %e, "loading a connected agent failed; left out");
                return None;
            }
        };
        // Its own actions, as the first agent gets its own.
        let action_tools = self
            .engine
            .actions
            .tools_for(access::viewer(user), &agent.id, &agent.def.tools)
            .await;
        let (mut setup, provider, model) = setup(agent, &self.settings.agents);
        setup.action_tools = action_tools;
        if !self.settings.agents.allows_provider(&provider) {
            tracing::warn!(
                agent = id,
                "a connected agent's provider is not allowed; left out"
            );
            return None;
        }
        let endpoint = self.settings.endpoints.get(&provider).cloned()?;
        let memory_tools = access.tools && memory::asks_for_tools(&setup.tools);
        match self.choose(endpoint, Some(model), &user.id, ip).await {
            Ok(chosen) => Some(Connected {
                memory: self.member_memory(user, access, &setup, memory_tools).await,
                setup,
                chosen,
                memory_tools,
            }),
            Err(e) => {
                tracing::warn!(agent = id, error = %e, "a connected agent cannot run; left out");
                None
            }
        }
    }

    /// The memories of an agent of the graph beside the first, from its own partition: as
    /// LibreChat gives them, only when a memory agent runs or it carries the memory tools.
    async fn member_memory(
        &self,
        user: &User,
        access: MemoryAccess,
        setup: &AgentSetup,
        memory_tools: bool,
    ) -> Option<String> {
        let memory_agent = self
            .settings
            .yaml
            .memory
            .as_ref()
            .and_then(|m| m.agent())
            .is_some();
        if !memory_agent && !memory_tools {
            return None;
        }
        self.memory_context(user, access, &setup.memory_partition, memory_tools)
            .await
    }

    /// The graph the engine runs: `first` (as the turn made it) and the agents found;
    /// `memory_tools` gives the memory tools of a partition to an agent that carries them,
    /// `search_tools` the file search over an agent's own files to one whose tools name it.
    pub(super) fn graph(
        &self,
        first: Member,
        found: Found,
        prompt: &dyn Fn(&str) -> String,
        memory_tools: &dyn Fn(&str) -> Vec<Arc<dyn Tool>>,
        search_tools: &SearchTools<'_>,
    ) -> Graph {
        let Found {
            connected,
            edges,
            hide_sequential_outputs,
        } = found;
        let mut members = vec![first];
        for c in connected {
            let Connected {
                setup,
                chosen,
                memory,
                memory_tools: carries,
            } = c;
            let instructions = setup.instructions.as_deref().map(prompt);
            let guard = carries.then(|| crate::chat::memories::TOOL_USAGE_GUARD.to_owned());
            let artifacts = crate::chat::artifacts::prompt::instructions(
                setup.artifacts.as_deref().filter(|m| !m.is_empty()),
            );
            let system = join(join(join(instructions, guard), memory), artifacts);
            let system = join(system, setup.context);
            let own_memory_tools = match carries {
                true => memory_tools(&setup.memory_partition),
                false => Vec::new(),
            };
            let own_search_tools = search_tools(&setup.id, &setup.tools);
            members.push(Member {
                id: setup.id,
                name: setup.name,
                endpoint: chosen.endpoint,
                api_key: chosen.api_key,
                model: chosen.model,
                params: setup.params,
                system,
                tools: self
                    .engine
                    .tools
                    .select(setup.tools.iter().map(String::as_str))
                    .with(setup.action_tools)
                    .with(own_memory_tools)
                    .with(own_search_tools),
                handoffs: Vec::new(),
                next: Vec::new(),
                group: None,
            });
        }
        let index = |id: &str, members: &[Member]| members.iter().position(|m| m.id == id);
        for edge in &edges {
            for from in &edge.from {
                let Some(at) = index(from, &members) else {
                    continue;
                };
                for to in &edge.to {
                    let Some(dest) = index(to, &members) else {
                        continue;
                    };
                    match edge.kind {
                        Kind::Handoff => {
                            let m = &mut members[at];
                            if m.handoffs.iter().any(|(id, _)| id == to) || dest == at {
                                continue;
                            }
                            let tool = Transfer::new(to, edge);
                            m.handoffs.push((to.clone(), tool.prompt_key.clone()));
                            m.tools = with_tool(&m.tools, tool);
                        }
                        Kind::Direct => members[at].next.push(Next {
                            to: dest,
                            prompt: edge.prompt.clone(),
                            exclude_results: edge.exclude_results,
                        }),
                    }
                }
            }
        }
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let starts = parallel::starts(&ids, &edges);
        let groups = parallel::groups(&ids, &edges, &starts);
        for (m, group) in members.iter_mut().zip(groups) {
            m.group = group;
        }
        Graph {
            members,
            hide_sequential_outputs,
            starts,
        }
    }
}

/// Adds `edges` not already there (the same sources, destinations and kind), and queues the
/// agents they name.
fn collect(edges: &mut Vec<Edge>, queue: &mut VecDeque<String>, more: Vec<Edge>) {
    let key = |e: &Edge| {
        let (mut f, mut t) = (e.from.clone(), e.to.clone());
        f.sort();
        t.sort();
        (f, t, e.kind)
    };
    for e in more {
        for id in e.participants() {
            if !queue.iter().any(|q| q == id) {
                queue.push_back(id.to_owned());
            }
        }
        if !edges.iter().any(|have| key(have) == key(&e)) {
            edges.push(e);
        }
    }
}

/// Two parts of a system prompt, one after the other.
pub(super) fn join(first: Option<String>, then: Option<String>) -> Option<String> {
    match (first, then) {
        (Some(s), Some(t)) => Some(format!("{s}\n\n{t}")),
        (s, t) => s.or(t),
    }
}

/// Gives the file search of an agent (by id) whose tools (by name) ask for it.
pub(super) type SearchTools<'a> = dyn Fn(&str, &[String]) -> Vec<Arc<dyn Tool>> + 'a;

/// `tools` and `tool`.
fn with_tool(tools: &ToolSet, tool: Transfer) -> ToolSet {
    tools.plus(std::sync::Arc::new(tool))
}
