//! From a prepared turn to a running one: the answer's place in the tree, the engine's
//! [`Turn`], and the task that runs it, apart from the request.

use std::sync::Arc;

use serde_json::Value;
use tracing::Instrument;

use super::checks::Chosen;
use super::{ChatService, PreparedTurn};
use crate::agents::run::Limits;
use crate::agents::tools::ephemeral;
use crate::chat::engine::{Member, Turn};
use crate::chat::jobs::{Job, Jobs, Status};
use crate::chat::present;
use crate::db::messages::Message;
use crate::db::users::User;
use crate::shapes::stream::{Created, Failed};

/// Ends a registered job whose request did not get as far as starting the engine: however
/// the request ends (an error, or the request itself dropped by a timeout), unless
/// [`ChatService::spawn`] took the job.
pub(super) struct Launch {
    jobs: Arc<Jobs>,
    job: Arc<Job>,
    armed: bool,
}

impl Launch {
    pub fn new(jobs: Arc<Jobs>, job: Arc<Job>) -> Self {
        Self {
            jobs,
            job,
            armed: true,
        }
    }
}

impl Drop for Launch {
    fn drop(&mut self) {
        if self.armed && self.job.status() == Status::Running {
            self.job.emit_final(
                Failed::new("The request ended before the answer started."),
                Status::Failed,
            );
            self.jobs.finish(&self.job, Status::Failed);
        }
    }
}

/// What the turn adds to what the model is given: the person's memories (the system prompt's
/// tail) and the tools the chat body asked for (by name).
pub(super) struct Extras {
    pub memory: Option<String>,
    /// The partition the agent's own memory tools write, when it carries them.
    pub memory_tools: Option<String>,
    pub tools: Vec<String>,
    /// The agent the turn runs, on the agents endpoint.
    pub agent: Option<super::agent::AgentSetup>,
    /// The agents it hands on to, and a second model beside it.
    pub graph: Option<super::graph::Found>,
    /// Whether the body asked for a second model (LibreChat's `addedConvo`): the answer is
    /// marked so (`addedConvo: true`), as LibreChat marks it.
    pub added_convo: bool,
    /// The composer's Artifacts toggle (`ephemeralAgent.artifacts`): the mode, when on.
    pub artifacts: Option<String>,
    /// The memory agent, when it runs alongside this answer.
    pub memory_agent: Option<crate::chat::memory_agent::Plan>,
    /// When the turn offers file search: what the system prompt says of it.
    pub file_search: Option<String>,
    /// The person's role may use file search (`FILE_SEARCH.USE`): for the agents it hands on
    /// to.
    pub file_search_allowed: bool,
    /// The person's role may see file citations (`FILE_CITATIONS.USE`).
    pub file_citations_allowed: bool,
    /// A plain chat's MCP tools (the composer's MCP menu) and their servers' instructions.
    pub mcp: crate::mcp::tool::Selection,
}

/// Where the answer goes: its id, and the question it answers when the client named one
/// (`overrideParentMessageId`, on a regeneration).
pub(super) struct Answer {
    pub message_id: String,
    pub parent: Option<String>,
}

impl ChatService {
    /// Announces the person's message to the job's followers and builds the engine's turn.
    pub(super) fn turn(
        &self,
        job: &Arc<Job>,
        user: &User,
        chosen: Chosen,
        prepared: PreparedTurn,
        answer: Answer,
        extras: Extras,
    ) -> Turn {
        let Extras {
            memory,
            memory_tools,
            tools,
            agent,
            graph,
            added_convo,
            artifacts,
            memory_agent,
            file_search,
            file_search_allowed,
            file_citations_allowed,
            mcp,
        } = extras;
        let PreparedTurn {
            conversation,
            request,
            mut branch,
            is_new,
            partial,
        } = prepared;
        let conversation_id = conversation.conversation_id.clone();
        let request_shape = present::message(&request);
        job.set_user_message(serde_json::to_value(&request_shape).unwrap_or_default());
        job.emit(Created {
            created: true,
            message: request_shape,
            stream_id: conversation_id.clone(),
        });

        let Chosen {
            endpoint,
            api_key,
            model,
        } = chosen;
        let mut response = Message {
            message_id: answer.message_id,
            conversation_id: conversation_id.clone(),
            user_id: user.id.clone(),
            parent_message_id: match answer.parent {
                Some(p) if branch.iter().any(|m| m.message_id == p) => p,
                _ => request.message_id.clone(),
            },
            sender: match &agent {
                Some(a) => a.name.clone(),
                None => endpoint
                    .model_display_label
                    .clone()
                    .unwrap_or_else(|| model.clone()),
            },
            model: Some(model.clone()),
            endpoint: Some(match &agent {
                Some(_) => super::agent::AGENTS_ENDPOINT.to_owned(),
                None => endpoint.name.clone(),
            }),
            unfinished: true,
            ..Message::default()
        };
        if added_convo {
            response
                .extra
                .insert("addedConvo".into(), Value::Bool(true));
        }
        let mut seed_len = 0;
        if let Some(partial) = partial {
            seed_len = partial.text.len();
            // Carry on from what is there: the model sees it as the start of its answer, and
            // the saved answer keeps its id, place and first part.
            job.update(|s| s.seed(&partial.text));
            response.parent_message_id = partial.parent_message_id.clone();
            response.created_at = partial.created_at.clone();
            branch.push(partial);
        }
        // The conversation's settings, as just updated by this request, are the parameters:
        // a client that sends only the text keeps its system prompt and temperature.
        // An agent's own parameters come over them.
        let mut params = conversation.settings.clone();
        if let Some(a) = &agent {
            params.extend(a.params.clone());
        }
        // The composer's toggles, and the conversation's own `tools` (plugin keys), or the
        // agent's.
        let own_tools = match &agent {
            Some(a) => a.tools.clone(),
            None => ephemeral::conversation_tools(params.get("tools")),
        };
        let tool_attachments: Arc<std::sync::Mutex<Vec<Value>>> = Arc::default();
        let attachments = {
            let (job, kept) = (job.clone(), tool_attachments.clone());
            let sink: Arc<dyn Fn(Value) + Send + Sync> = Arc::new(move |a: Value| {
                job.attach(&a);
                kept.lock().expect("tool attachments").push(a);
            });
            // Images tools make are kept as the person's files and attached too.
            let place = super::tool_images::Place {
                db: self.engine.db.clone(),
                files: self.engine.files.clone(),
                user_id: user.id.clone(),
                conversation_id: conversation_id.clone(),
                message_id: response.message_id.clone(),
                output: crate::files::images::OutputType::parse(
                    &self.settings.files.image_output_type,
                )
                .unwrap_or_default(),
            };
            crate::agents::tools::attach::Attachments::new(sink.clone())
                .with_images(super::tool_images::saver(place, sink))
        };
        let memory_tools = match &memory_tools {
            Some(partition) => self.inline_memory_tools(
                job,
                &response.message_id,
                &conversation_id,
                partition,
                &tool_attachments,
            ),
            None => Vec::new(),
        };
        let has_memory_tools = !memory_tools.is_empty();
        let file_search_tool = match &file_search {
            Some(_) => self.file_search_tool(
                user,
                agent.as_ref().map(|a| a.id.as_str()),
                file_citations_allowed,
            ),
            None => Vec::new(),
        };
        let tools = self
            .engine
            .tools
            .select(tools.iter().chain(&own_tools).map(String::as_str))
            .with(
                agent
                    .as_ref()
                    .map(|a| a.action_tools.clone())
                    .unwrap_or_default(),
            )
            .with(memory_tools)
            .with(file_search_tool)
            .with(mcp.tools);
        // The agent's instructions, or the conversation's `promptPrefix`.
        let instructions = match &agent {
            Some(a) => a.instructions.as_deref(),
            None => params.get("promptPrefix").and_then(Value::as_str),
        };
        // Filled at the conversation's start time, so it reads the same every turn.
        let started = time::OffsetDateTime::parse(
            &conversation.created_at,
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
        let fill = |s: &str| crate::chat::variables::fill_special(s, &user.name, started);
        let system = instructions.filter(|s| !s.trim().is_empty()).map(fill);
        // A plain chat's MCP servers' instructions, after its own (an agent's are in its own).
        let system = super::graph::join(system, mcp.instructions);
        // LibreChat's guard for an agent with the memory tools: only on the person's request.
        let guard = has_memory_tools.then(|| crate::chat::memories::TOOL_USAGE_GUARD.to_owned());
        let system = super::graph::join(system, guard);
        // LibreChat adds the memories after the instructions, as the system prompt's tail.
        let system = super::graph::join(system, memory);
        // The artifacts instructions, when the agent, the toggle or the conversation's setting
        // turns them on (chat::artifacts::prompt).
        let artifacts = crate::chat::artifacts::prompt::instructions(match &agent {
            Some(a) => a.artifacts.as_deref().filter(|m| !m.is_empty()),
            None => {
                crate::chat::artifacts::prompt::mode(artifacts.as_deref(), params.get("artifacts"))
            }
        });
        let system = super::graph::join(system, artifacts);
        // The files file search looks in (LibreChat's dynamic tool context).
        let system = super::graph::join(system, file_search);
        // How to search and cite, when the model may search.
        let system = super::graph::join(
            system,
            tools
                .get(crate::agents::tools::web_search::NAME)
                .map(|_| crate::agents::tools::web_search::instructions(started)),
        );
        // The agent's File Context, last, as LibreChat ends `additional_instructions` with it.
        let system = super::graph::join(system, agent.as_ref().and_then(|a| a.context.clone()));
        let vars = vec![
            ("LIBRECHAT_USER_ID".into(), user.id.clone()),
            ("LIBRECHAT_USER_EMAIL".into(), user.email.clone()),
            ("LIBRECHAT_USER_NAME".into(), user.name.clone()),
            ("LIBRECHAT_USER_USERNAME".into(), user.username.clone()),
            ("LIBRECHAT_BODY_CONVERSATIONID".into(), conversation_id),
            (
                "LIBRECHAT_BODY_PARENTMESSAGEID".into(),
                request.parent_message_id.clone(),
            ),
            (
                "LIBRECHAT_BODY_MESSAGEID".into(),
                request.message_id.clone(),
            ),
        ];
        // An agent that hands on to others, or a second model beside the first: they answer
        // with it. Without an agent, the first is named as LibreChat names a plain chat's
        // model (`encodeEphemeralAgentId`).
        let graph = match graph {
            Some(found) => {
                let (id, name) = match &agent {
                    Some(a) => (a.id.clone(), a.name.clone()),
                    None => {
                        let label = params
                            .get("modelLabel")
                            .and_then(Value::as_str)
                            .filter(|l| !l.is_empty())
                            .or(endpoint.model_display_label.as_deref())
                            .unwrap_or_default();
                        let id = super::added::ephemeral_id(&endpoint.name, &model, label, None);
                        (id, response.sender.clone())
                    }
                };
                let first = Member {
                    id,
                    name,
                    endpoint: endpoint.clone(),
                    api_key: api_key.clone(),
                    model: model.clone(),
                    params: params.clone(),
                    system: system.clone(),
                    tools: tools.clone(),
                    handoffs: Vec::new(),
                    next: Vec::new(),
                    group: None,
                };
                let inline = |partition: &str| {
                    self.inline_memory_tools(
                        job,
                        &response.message_id,
                        &conversation.conversation_id,
                        partition,
                        &tool_attachments,
                    )
                };
                let search = |agent_id: &str, names: &[String]| {
                    self.member_file_search(
                        user,
                        (file_search_allowed, file_citations_allowed),
                        agent_id,
                        names,
                    )
                };
                Some(Box::new(self.graph(first, found, &fill, &inline, &search)))
            }
            None => None,
        };
        Turn {
            graph,
            endpoint,
            api_key,
            model,
            params,
            system,
            user_id: user.id.clone(),
            conversation,
            is_new_conversation: is_new,
            request,
            response,
            branch,
            seed_len,
            vars,
            tools,
            limits: Limits {
                recursion_limit: match &agent {
                    Some(a) => a.recursion_limit,
                    None => super::agent::plain_recursion_limit(&self.settings.agents),
                },
                ..Limits::default()
            },
            memory_agent,
            tool_attachments,
            attachments,
        }
    }

    /// Runs the turn in a task of its own, in a span naming the person and the conversation
    /// (inside the request's span, so its log lines lead back to the request), after the
    /// sign-ins its MCP servers want first (`sign_ins`); the turn's request-scoped MCP
    /// connections (`scope`) close after it.
    pub(super) fn spawn(
        &self,
        mut launch: Launch,
        mut turn: Turn,
        scope: crate::mcp::turn::TurnScope,
        sign_ins: Option<super::mcp_sign_in::Pending>,
    ) {
        let job = launch.job.clone();
        let jobs = self.engine.jobs.clone();
        let (user_id, conversation_id) = (&turn.user_id, &turn.conversation.conversation_id);
        let span = tracing::info_span!(
            "answer",
            user.id = %user_id,
            conversation.id = %conversation_id,
        );
        // A new conversation gets its title with its first answer; until then, a request for
        // the title waits for it.
        let title = (turn.is_new_conversation && turn.endpoint.title_convo)
            .then(|| jobs.titles.writing(user_id, conversation_id));
        let engine = self.engine.clone();
        let task = async move {
            use futures_util::FutureExt;
            let _title = title;
            if let Some(pending) = sign_ins {
                super::mcp_sign_in::sign_in_first(&engine.mcp, &job, &mut turn, pending, &scope)
                    .await;
            }
            let run = std::panic::AssertUnwindSafe(engine.run(job.clone(), turn));
            if run.catch_unwind().await.is_err() {
                tracing::error!("an answer's task failed unexpectedly");
                if job.status() == Status::Running {
                    job.emit_final(
                        Failed::new("The answer failed unexpectedly."),
                        Status::Failed,
                    );
                    jobs.finish(&job, Status::Failed);
                }
            }
            scope.close().await;
        };
        tokio::spawn(task.instrument(span));
        launch.armed = false;
    }
}
