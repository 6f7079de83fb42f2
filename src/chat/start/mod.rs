//! Starting a chat turn, as a service: [`ChatService::start`] takes the person, where they
//! ask from and LibreChat's chat body ([`StartRequest`]), checks what it asks (limits, model,
//! key, moderation), registers the job, saves the message in one transaction
//! ([`PreparedTurn`]) and runs the answer in a task of its own. It answers at once with the
//! stream to follow, or [`StartError`] saying why the turn cannot start.
//!
//! Bans and the role's permissions are checked by the caller before it reads further (the
//! HTTP handler), as LibreChat's middleware does.

mod added;
mod agent;
mod agent_context;
mod checks;
mod context_docs;
mod error;
mod file_search;
mod graph;
mod keys;
mod launch;
mod mcp_sign_in;
mod memory;
mod prepare;
mod request;
mod tool_images;

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::json;

pub use error::StartError;
pub use keys::{UserValues, reach, user_values};
pub use prepare::PreparedTurn;
pub use request::{StartRequest, Unused};

use crate::agents::tools::web_search;
use crate::auth::crypto::Cipher;
use crate::cache::Guard;
use crate::chat::engine::Engine;
use crate::chat::input::parse_changes;
use crate::chat::jobs;
use crate::config::Settings;
use crate::db::users::User;
use crate::providers::models::ModelLists;
use launch::{Answer, Extras, Launch};
use prepare::{Again, Prepare, checked_id, prepare};

/// What starting a turn needs; built once when the server starts.
pub struct ChatService {
    /// Runs the answers (cloned into each answer's task).
    pub engine: Engine,
    pub settings: Arc<Settings>,
    /// Message limits, and the violations a refusal counts.
    pub guard: Arc<Guard>,
    /// Model lists fetched from providers.
    pub models: Arc<ModelLists>,
    /// Decrypts the keys people stored for endpoints.
    pub cipher: Arc<Cipher>,
    /// Agents' File Context documents as cut for the model, kept between turns.
    pub(crate) context_docs: Arc<context_docs::ContextDocs>,
}

/// An answer under way: followed at `/api/agents/chat/stream/{stream_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub stream_id: String,
    pub conversation_id: String,
}

impl ChatService {
    /// Starts an answer on `endpoint` for `user` (asking from `ip`, for limits and
    /// violations).
    pub async fn start(
        &self,
        user: &User,
        ip: Option<IpAddr>,
        endpoint: &str,
        mut request: StartRequest,
    ) -> Result<Started, StartError> {
        // An agent chooses the endpoint and model it runs on.
        let (mut agent, provider, model) = if endpoint == agent::AGENTS_ENDPOINT {
            let (setup, provider, model) = self.agent_for(user, &request.settings).await?;
            (Some(setup), provider, Some(model))
        } else {
            (None, endpoint.to_owned(), request.model.take())
        };
        let found = self.settings.endpoints.get(&provider).cloned();
        let found = found.ok_or_else(|| StartError::EndpointNotConfigured(provider.clone()))?;
        self.limit(&user.id, ip).await?;
        let chosen = self.choose(found, model, &user.id, ip).await?;
        let access = self.memory_access(
            user,
            request.memories_allowed,
            request.memory_writes_allowed,
        );
        // The agents it hands on to, if any.
        let mut graph = match &agent {
            Some(a) => self.connected(user, ip, a, access).await,
            None => None,
        };
        // The tools the person's role may not use are offered to no agent and no model.
        let mut refused = std::mem::take(&mut request.refused_tools);
        let wants_search = request.ephemeral_agent.web_search
            || agent
                .iter()
                .chain(graph.iter().flat_map(graph::Found::setups))
                .any(|a| a.tools.iter().any(|t| t == web_search::NAME));
        // Web search without a provider for this person offers nothing.
        if wants_search
            && !refused.iter().any(|t| t == web_search::NAME)
            && !web_search::available(
                &self.settings.tools.web_search,
                self.engine.tool_auth.as_ref(),
                &user.id,
            )
            .await
        {
            refused.push(web_search::NAME.to_owned());
        }
        // MCP tools, for a role that may use MCP servers.
        let offered = |t: &String| {
            !refused.contains(t)
                && (request.mcp_allowed || !t.contains(crate::mcp::tool::DELIMITER))
        };
        let tool_names: Vec<String> = request
            .ephemeral_agent
            .tool_names()
            .into_iter()
            .filter(offered)
            .collect();
        for a in agent
            .iter_mut()
            .chain(graph.iter_mut().flat_map(graph::Found::setups_mut))
        {
            a.tools.retain(offered);
        }
        // The agents that get MCP tools (not a second model added beside them, as before).
        let with_mcp = graph.as_ref().map_or(0, |g| g.setups().count());
        // A second model answering beside it (LibreChat's `addedConvo`).
        let added_convo = request.asks_second_model();
        if added_convo {
            let added = request.added_convo.take().unwrap_or_default();
            if let Some(c) = self.added(user, ip, &added, &tool_names, access).await {
                graph.get_or_insert_with(graph::Found::alone).beside(c);
            }
        }

        let again = Again {
            regenerate: request.is_regenerate,
            // Continue: the same question, and more of an answer already there.
            continued: match request.is_continued {
                false => None,
                true => Some(
                    request
                        .response_message_id
                        .as_deref()
                        .map(|id| checked_id(id, "responseMessageId"))
                        .transpose()?
                        .ok_or(StartError::NoContinueId)?,
                ),
            },
        };
        let text = std::mem::take(&mut request.text);
        let files = crate::chat::attachments::requested_ids(&request.files);
        // A message may be files alone (LibreChat's client sends them with no text).
        if !again.regenerate
            && again.continued.is_none()
            && text.trim().is_empty()
            && files.is_empty()
        {
            return Err(StartError::TextRequired);
        }
        self.moderate(&text, &user.id, ip).await?;

        // The conversation: the one named, or a new one.
        let conversation_id = match request.conversation_id.as_deref() {
            Some(c) if c != "new" => checked_id(c, "conversationId")?,
            _ => uuid::Uuid::new_v4().to_string(),
        };
        let mut settings = std::mem::take(&mut request.settings);
        let endpoint_type = settings.get("endpointType").and_then(|t| t.as_str());
        let file_limits = self
            .settings
            .files
            .endpoint(endpoint, endpoint_type)
            .clone();
        settings.insert("conversationId".into(), json!(conversation_id));
        settings.insert("endpoint".into(), json!(endpoint));
        settings.insert("model".into(), json!(chosen.model));
        let (_, mut changes) = parse_changes(settings)?;
        // LibreChat drops a null `chatProjectId` sent with a message (only a project id moves
        // the conversation); the projects route takes it out of one.
        if changes.project == Some(None) {
            changes.project = None;
        }
        // Applies only if the conversation is created by this message.
        if request.is_temporary {
            let hours = self.settings.features.temporary_chat_retention_hours as i64;
            changes.expires_at = Some(crate::db::to_rfc3339(
                time::OffsetDateTime::now_utc() + time::Duration::hours(hours),
            ));
        }
        // Settings sent with a message update the conversation; its title stays.
        changes.title = None;

        let response_id = again
            .continued
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let job = self
            .register(&conversation_id, &response_id, &user.id, ip)
            .await?;
        // From here on the job is registered: however this ends, the guard ends the job
        // unless the answer's task took it.
        let launch = Launch::new(self.engine.jobs.clone(), job.clone());
        // The memories of the agent answering (its own, or the person's shared pool); with
        // their keys when it carries the memory tools.
        let partition = agent
            .as_ref()
            .map(|a| a.memory_partition.clone())
            .unwrap_or_default();
        let inline_memory = access.tools
            && memory::asks_for_tools(
                tool_names
                    .iter()
                    .chain(agent.iter().flat_map(|a| a.tools.iter())),
            );
        // Each agent's File Context.
        let agents: Vec<&mut agent::AgentSetup> = agent
            .iter_mut()
            .chain(graph.iter_mut().flat_map(graph::Found::setups_mut))
            .collect();
        let message_files = files.clone();
        let context_files = self.give_context(user, agents, &message_files, &chosen.model);
        // The person's memories and the agents' files are read while the message is saved.
        let (prepared, memory, ()) = tokio::join!(
            prepare(
                &self.engine.db,
                Prepare {
                    user_id: user.id.clone(),
                    conversation_id: conversation_id.clone(),
                    changes,
                    again,
                    text,
                    endpoint: endpoint.to_owned(),
                    model: chosen.model.clone(),
                    message_id: request.message_id.take(),
                    parent_message_id: request.parent_message_id.take(),
                    override_parent_message_id: request.override_parent_message_id.clone(),
                    files,
                    file_limits,
                    // A custom endpoint's models are the administrator's choice: sent as they are,
                    // a model that cannot see answers with its provider's own error.
                    blind_model: (!chosen.endpoint.custom
                        && !crate::chat::attachments::can_see(&chosen.model))
                    .then(|| chosen.model.clone()),
                },
            ),
            self.memory_context(user, access, &partition, inline_memory),
            context_files,
        );
        let prepared = prepared?;
        // MCP tools, once the turn's ids are known (a server may be sent them).
        let scope = crate::mcp::turn::TurnScope::new(crate::mcp::resolve::Turn {
            conversation_id: Some(prepared.conversation.conversation_id.clone()),
            parent_message_id: Some(prepared.request.parent_message_id.clone()),
            message_id: Some(prepared.request.message_id.clone()),
        });
        for a in agent.iter_mut().chain(
            graph
                .iter_mut()
                .flat_map(graph::Found::setups_mut)
                .take(with_mcp),
        ) {
            // Its MCP tools, and its servers' instructions after its own (as LibreChat adds them).
            let mcp = self.engine.mcp.tools_for(user, &a.tools, &scope).await;
            a.action_tools.extend(mcp.tools);
            a.instructions = graph::join(a.instructions.take(), mcp.instructions);
        }
        // A plain chat's, from the composer's MCP menu.
        let mut mcp = match &agent {
            None => self.engine.mcp.tools_for(user, &tool_names, &scope).await,
            Some(_) => Default::default(),
        };
        // Its servers that want the person's sign-in first, shown once the answer streams.
        let sign_ins = (!mcp.sign_ins.is_empty()).then(|| mcp_sign_in::Pending {
            user: user.clone(),
            servers: std::mem::take(&mut mcp.sign_ins),
        });
        let file_search = self
            .file_search_context(
                user,
                agent.as_ref(),
                &tool_names,
                request.file_search_allowed,
                &conversation_id,
            )
            .await;
        let answer = Answer {
            message_id: response_id,
            parent: request.override_parent_message_id.take(),
        };
        let extras = Extras {
            memory,
            memory_tools: inline_memory.then(|| partition.clone()),
            tools: tool_names,
            agent,
            graph,
            added_convo,
            artifacts: request.ephemeral_agent.artifacts.take(),
            memory_agent: self.memory_agent(access, &partition),
            file_search,
            file_search_allowed: request.file_search_allowed,
            file_citations_allowed: request.file_citations_allowed,
            mcp,
        };
        let turn = self.turn(&job, user, chosen, prepared, answer, extras);
        self.spawn(launch, turn, scope, sign_ins);
        Ok(Started {
            stream_id: conversation_id.clone(),
            conversation_id,
        })
    }

    /// Registers the answer's job: one per conversation, and at most
    /// `CONCURRENT_MESSAGE_MAX` per person (a violation past it).
    async fn register(
        &self,
        conversation_id: &str,
        response_id: &str,
        user_id: &str,
        ip: Option<IpAddr>,
    ) -> Result<Arc<jobs::Job>, StartError> {
        let limits = &self.settings.limits;
        let max = limits.concurrent_messages.map(|m| m as usize);
        let jobs = &self.engine.jobs;
        let started = match jobs.start(conversation_id, user_id, conversation_id, response_id, max)
        {
            Ok(job) => jobs.claim(&job, max).await.map(|()| job),
            Err(e) => Err(e),
        };
        match started {
            Ok(job) => Ok(job),
            Err(jobs::StartError::Busy) => Err(StartError::Busy),
            Err(jobs::StartError::TooMany(max)) => {
                self.guard
                    .violation("concurrent", limits.concurrent_score, Some(user_id), ip)
                    .await?;
                Err(StartError::TooMany(max))
            }
        }
    }
}
