//! One turn of a conversation, run as a [job](super::jobs): the [tool loop](crate::agents::run)
//! asks the provider (again after each round of tool calls), every subscriber gets what it
//! streams in LibreChat's event shapes, and the answer is saved as it grows.
//!
//! The user message is saved before the provider is called. The answer is saved with
//! `unfinished: true` at most every [`SAVE_EVERY`] while it streams and after each round of
//! tools (with that round's calls), and once more at the end: complete, or with `unfinished`
//! still set when it was stopped (abort, shutdown), or with `error` and the reason when the
//! provider failed. So a reload, a disconnect or a crash never loses more than the last half
//! second, and no message is left looking complete when it is not.

mod graph;
mod host;
mod prompt;

pub use graph::{Graph, Member, Next};

use std::sync::Arc;

use serde_json::{Map, Value};

use super::jobs::{Job, Jobs, Status};
use super::{memory_agent, present};
use crate::agents::run::{Ending, Limits, Outcome, Run};
use crate::agents::tools::{Context, CredentialSource, Registry, ToolSet};
use crate::db::conversations::{self, Conversation};
use crate::db::messages::{self, Message};
use crate::db::{Db, DbError};
use crate::providers::{ChatMessage, ChatRequest, Endpoint};
use crate::shapes::ContentPart;
use crate::shapes::stream::{Final, StreamError};

pub use crate::agents::run::SAVE_EVERY;

/// Everything a turn needs, prepared by the route.
pub struct Turn {
    pub endpoint: Endpoint,
    pub api_key: String,
    pub model: String,
    pub params: Map<String, Value>,
    pub system: Option<String>,
    pub user_id: String,
    pub conversation: Conversation,
    pub is_new_conversation: bool,
    /// The message being answered (already saved).
    pub request: Message,
    /// The answer's id, parent, sender, model and endpoint; its text is filled in here.
    pub response: Message,
    /// The branch from the first message down to `request`.
    pub branch: Vec<Message>,
    /// When continuing an answer: how many bytes of its text were there before this turn.
    pub seed_len: usize,
    /// Values for the `{{LIBRECHAT_...}}` placeholders of the endpoint's headers.
    pub vars: Vec<(String, String)>,
    /// The tools the model may call (none: one call, as a plain chat always was).
    pub tools: ToolSet,
    /// The loop's bounds (`recursionLimit` and the tools' timeout and output bound).
    pub limits: Limits,
    /// The memory agent to run alongside the answer, when it runs for this person.
    pub memory_agent: Option<super::memory_agent::Plan>,
    /// What the answer's own tools attached as they ran (an agent's memory tools: LibreChat's
    /// `attachment` events), saved with the answer.
    pub tool_attachments: Arc<std::sync::Mutex<Vec<Value>>>,
    /// Where the answer's tools attach what they make (sent, and kept in `tool_attachments`).
    pub attachments: crate::agents::tools::attach::Attachments,
    /// The agents that answer together, when the turn's agent hands on to others (`None`:
    /// one model answers, as every turn without such an agent).
    pub graph: Option<Box<Graph>>,
}

/// What the engine needs from the server.
#[derive(Clone)]
pub struct Engine {
    pub db: Db,
    pub http: reqwest::Client,
    /// For a base URL a person set.
    pub guarded: crate::net::Guarded,
    pub jobs: Arc<Jobs>,
    pub billing: Arc<crate::billing::Billing>,
    /// Counts tokens relayed and provider errors, when metrics are on.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
    /// The most tokens of one document's text given to the model (`fileConfig.fileTokenLimit`).
    pub file_token_limit: u64,
    /// Where uploaded files live (images are read from it for each turn).
    pub files: crate::files::Storage,
    /// The tools this server has.
    pub tools: Arc<Registry>,
    /// The tools' credentials: the server's, and each person's.
    pub tool_auth: Arc<super::tool_auth::ToolAuth>,
    /// Agents' actions: their tools, and the OAuth sign-ins they wait for.
    pub actions: Arc<crate::agents::actions::Actions>,
    /// The MCP servers, whose tools agents and chats may use.
    pub mcp: Arc<crate::mcp::Mcp>,
    /// The search index, for the `file_search` tool; `None` when search is off.
    pub search: Option<Arc<crate::search::SearchIndex>>,
    /// File search's dense retrieval; `None` when no embeddings endpoint is configured.
    pub embeddings: Option<Arc<crate::files::embeddings::Embeddings>>,
}

/// Why a saved answer carries an error part.
struct ErrorNote {
    message: String,
    /// The answer failed (`error: true`); otherwise it ended with a note (the recursion
    /// limit), as LibreChat saves it.
    failed: bool,
}

impl Engine {
    /// Runs the turn to its end. Never fails: every ending is saved and reported in the stream.
    pub async fn run(self, job: Arc<Job>, mut turn: Turn) {
        // The memory agent starts first and runs on its own; the answer never waits for it
        // to start.
        let mut memory = turn.memory_agent.take().map(|plan| {
            let inputs = memory_agent::Inputs {
                user_id: turn.user_id.clone(),
                conversation_id: turn.conversation.conversation_id.clone(),
                message_id: turn.response.message_id.clone(),
                vars: turn.vars.clone(),
                branch: turn.branch.clone(),
                partition: plan.partition.clone(),
            };
            memory_agent::start(self.clone(), job.clone(), plan, inputs)
        });
        let (messages, prompt_tokens) = self.prompt(&turn).await;
        let outcome = match &turn.graph {
            Some(graph) => {
                self.run_graph(&job, &turn, graph, messages, prompt_tokens)
                    .await
            }
            None => {
                let run = self.run_for(
                    &turn,
                    &turn.model,
                    &turn.params,
                    &turn.tools,
                    messages,
                    prompt_tokens,
                );
                run.run(&host::TurnHost::new(&self, &job, &turn)).await
            }
        };
        let status = match &outcome.ending {
            Ending::Answered | Ending::LimitReached(_) => Status::Done,
            Ending::Aborted => Status::Aborted,
            Ending::Failed(_) => Status::Failed,
        };
        // What the answer's tools attached, and what the memory agent did by now (it gets a
        // few seconds more), go with the answer.
        let mut attachments =
            std::mem::take(&mut *turn.tool_attachments.lock().expect("tool attachments"));
        if let Some(pending) = memory.as_mut() {
            attachments.extend(pending.settle().await);
        }
        let response = self.finish(&job, &turn, &outcome, &attachments).await;
        if let Some(pending) = memory {
            pending.saved();
        }
        if let Some(m) = &self.metrics {
            let endpoint = &turn.endpoint.name;
            m.tokens_relayed(endpoint, outcome.completion_tokens);
            match &outcome.ending {
                // Refused here, before any provider was asked.
                Ending::Failed(crate::providers::ProviderError::InsufficientBalance { .. }) => {}
                Ending::Failed(e) => m.provider_error(endpoint, e.code()),
                _ => {}
            }
        }
        let touched = self.touch_conversation(&turn).await;
        let still_there = touched.is_some();
        let conversation = touched.unwrap_or_else(|| turn.conversation.clone());
        let last = Final {
            is_final: true,
            conversation: present::conversation(&conversation),
            title: conversation.title.clone(),
            request_message: present::message(&turn.request),
            response_message: response.as_ref().map(present::message),
            aborted: matches!(outcome.ending, Ending::Aborted).then_some(true),
            error: match &outcome.ending {
                Ending::Failed(e) => Some(StreamError {
                    message: e.to_string(),
                    code: Some(e.code()),
                }),
                _ => None,
            },
        };
        job.emit_final(last, status);
        self.jobs.finish(&job, status);
        if status == Status::Done
            && still_there
            && turn.is_new_conversation
            && turn.endpoint.title_convo
            && conversation.title == "New Chat"
        {
            let text = job.read(|s| s.answer_text());
            self.title(&turn, &text).await;
        }
    }

    /// A run of the tool loop for `turn`: `model` with `params`, offered `tools`, asked
    /// `messages` (about `prompt_tokens`), within the turn's limits, continuing the answer
    /// already there if the turn does. The tools' calls are made for the turn's person, with
    /// their credentials.
    fn run_for(
        &self,
        turn: &Turn,
        model: &str,
        params: &Map<String, Value>,
        tools: &ToolSet,
        messages: Vec<ChatMessage>,
        prompt_tokens: u64,
    ) -> Run {
        Run {
            request: ChatRequest {
                model: model.to_owned(),
                messages,
                params: params.clone(),
                user: Some(turn.user_id.clone()),
                vars: turn.vars.clone(),
                tools: Vec::new(),
                tool_choice: None,
            },
            tools: tools.clone(),
            limits: turn.limits,
            context: Context {
                user_id: turn.user_id.clone(),
                conversation_id: turn.conversation.conversation_id.clone(),
                message_id: turn.response.message_id.clone(),
                credentials: Some(CredentialSource(self.tool_auth.clone())),
                attachments: turn.attachments.clone(),
                ..Context::default()
            },
            prompt_tokens,
            continuation: turn.seed_len > 0,
        }
    }

    /// The answer as it stands.
    fn response_row(
        &self,
        job: &Job,
        turn: &Turn,
        unfinished: bool,
        error: Option<&ErrorNote>,
        tokens: Option<i64>,
    ) -> Message {
        let (mut text, mut content) = job.read(|s| (s.answer_text(), s.parts()));
        // LibreChat's `hide_sequential_outputs`: the last words and the tool calls are kept,
        // not what the agents before the last said.
        if turn
            .graph
            .as_ref()
            .is_some_and(|g| g.hide_sequential_outputs)
        {
            text = graph::last_words_only(&mut content);
        }
        let mut m = turn.response.clone();
        m.text = text;
        if let Some(e) = error {
            if m.text.is_empty() && e.failed {
                m.text = e.message.clone();
            }
            content.retain(
                |p| !matches!(p, ContentPart::Text { text, .. } if text.as_str().is_empty()),
            );
            content.push(ContentPart::error(e.message.clone()));
            m.error = e.failed;
        }
        m.content = Some(present::parts_value(&content));
        m.unfinished = unfinished;
        m.token_count = tokens;
        m
    }

    /// Whether `user_id`'s balance covers a call to `model` with a prompt of about
    /// `prompt_tokens`, as the tool loop asks before each call (the answer's and the memory
    /// agent's). A balance that cannot be read lets the call go (and is logged).
    pub(crate) async fn afford(
        &self,
        user_id: &str,
        model: &str,
        endpoint: &crate::providers::Endpoint,
        prompt_tokens: u64,
    ) -> Result<(), crate::providers::ProviderError> {
        let checked = self
            .billing
            .check(
                user_id,
                model,
                prompt_tokens,
                endpoint.token_config.as_ref(),
            )
            .await;
        match checked {
            Ok(Ok(())) => Ok(()),
            Ok(Err(short)) => Err(crate::providers::ProviderError::InsufficientBalance {
                balance: short.balance,
                cost: short.cost,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "checking the balance failed; the call goes on");
                Ok(())
            }
        }
    }

    /// Records what a model call of the tool loop cost (the answer's, `message`, or the memory
    /// agent's, `memory`). A failure is logged: the call was made, the answer goes on.
    pub(crate) async fn bill(&self, spend: crate::billing::Spend<'_>) {
        let context = spend.context;
        if let Err(e) = self.billing.spend(spend).await {
            tracing::error!(error = %e, context, "recording what a model call cost failed");
        }
    }

    async fn save(&self, m: Message) -> Result<(), DbError> {
        self.db
            .write(move |c| messages::save(c, &m).map(|_| ()))
            .await
    }

    /// Saves the answer as it ended, with the memory agent's `attachments`. `None` when even
    /// that failed (logged).
    async fn finish(
        &self,
        job: &Arc<Job>,
        turn: &Turn,
        outcome: &Outcome,
        attachments: &[Value],
    ) -> Option<Message> {
        let (text_len, reasoning, calls) =
            job.read(|s| (s.answer_text().len(), s.reasoning_len(), s.has_calls()));
        // A continuation that failed before adding anything leaves the answer as it was.
        if turn.seed_len > 0
            && text_len <= turn.seed_len
            && reasoning == 0
            && !calls
            && matches!(outcome.ending, Ending::Failed(_))
        {
            if !attachments.is_empty() {
                let (u, m, a) = (
                    turn.user_id.clone(),
                    turn.response.message_id.clone(),
                    attachments.to_vec(),
                );
                if let Err(e) = self
                    .db
                    .write(move |c| messages::add_attachments(c, &u, &m, &a))
                    .await
                {
                    tracing::warn!(error = %e, "saving the memory agent's attachments failed");
                }
            }
            return None;
        }
        let question = turn
            .request
            .token_count
            .is_none()
            .then(|| turn.request.text.clone());
        let model = turn.model.clone();
        let question_tokens = match question {
            Some(q) => tokio::task::spawn_blocking(move || super::tokens::count(&model, &q))
                .await
                .ok(),
            None => None,
        };
        let tokens = i64::try_from(outcome.completion_tokens).unwrap_or(i64::MAX);
        let (unfinished, error) = match &outcome.ending {
            Ending::Answered => (false, None),
            Ending::Aborted => (true, None),
            Ending::Failed(e) => (
                false,
                Some(ErrorNote {
                    message: e.to_string(),
                    failed: true,
                }),
            ),
            Ending::LimitReached(limit) => (
                false,
                Some(ErrorNote {
                    message: Ending::limit_message(*limit),
                    failed: false,
                }),
            ),
        };
        let mut row = self.response_row(job, turn, unfinished, error.as_ref(), Some(tokens));
        if !attachments.is_empty() {
            let mut all = match row.extra.remove("attachments") {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
            all.extend(attachments.iter().cloned());
            row.extra.insert("attachments".into(), Value::Array(all));
        }
        let (saved, u, q) = (
            row.clone(),
            turn.user_id.clone(),
            turn.request.message_id.clone(),
        );
        let written = self
            .db
            .write(move |c| {
                let tx = c.transaction()?;
                messages::save_in(&tx, &saved)?;
                if let Some(n) = question_tokens {
                    messages::set_token_count(&tx, &u, &q, n)?;
                }
                // As stored, with its times.
                let stored = messages::get(&tx, &u, &saved.conversation_id, &saved.message_id)?;
                tx.commit()?;
                Ok(stored)
            })
            .await;
        match written {
            Ok(stored) => Some(stored.unwrap_or(row)),
            Err(e) => {
                tracing::error!(error = %e, "saving the answer failed");
                None
            }
        }
    }

    /// Records the endpoint and model on the conversation (and its new time).
    /// `None` when the conversation was deleted meanwhile (it is not brought back).
    async fn touch_conversation(&self, turn: &Turn) -> Option<Conversation> {
        let changes = conversations::Changes {
            // The answer's endpoint: the provider's, or `agents` for an agent's turn.
            endpoint: Some(turn.response.endpoint.clone()),
            model: Some(Some(turn.model.clone())),
            ..conversations::Changes::default()
        };
        let (u, c) = (
            turn.user_id.clone(),
            turn.conversation.conversation_id.clone(),
        );
        match self
            .db
            .write(move |db| conversations::update_existing(db, &u, &c, &changes))
            .await
        {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "updating the conversation failed");
                Some(turn.conversation.clone())
            }
        }
    }
}
