//! One turn of a conversation, run as a [job](super::jobs): ask the provider, relay what it
//! streams to every subscriber in LibreChat's event shapes, and save the answer as it grows.
//!
//! The user message is saved before the provider is called. The answer is saved with
//! `unfinished: true` at most every [`SAVE_EVERY`] while it streams, and once more at the end:
//! complete, or with `unfinished` still set when it was stopped (abort, shutdown), or with
//! `error` and the reason when the provider failed. So a reload, a disconnect or a crash never
//! loses more than the last half second, and no message is left looking complete when it
//! is not.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::jobs::{Job, Jobs, Status};
use super::present;
use crate::db::conversations::{self, Conversation};
use crate::db::messages::{self, Message};
use crate::db::{Db, DbError};
use crate::providers::{self, ChatRequest, Endpoint, ProviderError, StreamEvent, Usage};
use crate::shapes::ContentPart;
use crate::shapes::stream::{Final, StreamError};

/// How often a growing answer is written to the database.
pub const SAVE_EVERY: Duration = Duration::from_millis(500);

/// Histories up to this size are counted without a hop to a blocking thread.
const INLINE_COUNT_BYTES: usize = 4096;

/// At most this many pieces go into one delta frame...
const GATHER_PIECES: usize = 32;
/// ...and about this many bytes.
const GATHER_BYTES: usize = 4096;

/// Appends to `into` the pieces of the same kind that have already arrived (a fast provider
/// sends many tokens in one read), so that they make one frame instead of one each; returns
/// the first event of another kind, if one came. Never waits.
fn gather(
    stream: &mut providers::EventStream,
    into: &mut String,
    reasoning: bool,
) -> Option<Option<Result<StreamEvent, ProviderError>>> {
    use futures_util::FutureExt;
    for _ in 1..GATHER_PIECES {
        if into.len() >= GATHER_BYTES {
            break;
        }
        match stream.next().now_or_never()? {
            Some(Ok(StreamEvent::Text(t))) if !reasoning => into.push_str(&t),
            Some(Ok(StreamEvent::Reasoning(t))) if reasoning => into.push_str(&t),
            other => return Some(other),
        }
    }
    None
}

/// An answer that reached the bound: it ends there, what came is kept.
fn too_long() -> ProviderError {
    ProviderError::AnswerTooLong {
        mib: super::jobs::MAX_ANSWER_BYTES / (1024 * 1024),
    }
}

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
}

/// How a turn ended.
enum Outcome {
    Done,
    Aborted,
    Failed(ProviderError),
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
}

impl Engine {
    /// Runs the turn to its end. Never fails: every ending is saved and reported in the stream.
    pub async fn run(self, job: Arc<Job>, turn: Turn) {
        let step_id = format!("step_{}", uuid::Uuid::new_v4().simple());
        job.emit(
            json!({"event": "on_run_step", "data": {
                "id": step_id, "runId": turn.response.message_id, "index": 0, "stepIndex": 0,
                "type": "message_creation",
                "stepDetails": {"type": "message_creation", "message_creation": {"message_id": turn.response.message_id}},
            }}),
        );
        let (outcome, usage, prompt_tokens) = self.generate(&job, &turn, &step_id).await;
        let status = match &outcome {
            Outcome::Done => Status::Done,
            Outcome::Aborted => Status::Aborted,
            Outcome::Failed(_) => Status::Failed,
        };
        let (response, completion_tokens) = self.finish(&job, &turn, &outcome, usage).await;
        if let Some(m) = &self.metrics {
            let endpoint = &turn.endpoint.name;
            m.tokens_relayed(endpoint, u64::try_from(completion_tokens).unwrap_or(0));
            match &outcome {
                // Refused here, before any provider was asked.
                Outcome::Failed(ProviderError::InsufficientBalance { .. }) => {}
                Outcome::Failed(e) => m.provider_error(endpoint, e.code()),
                Outcome::Done | Outcome::Aborted => {}
            }
        }
        self.bill(
            &job,
            &turn,
            &outcome,
            usage,
            prompt_tokens,
            completion_tokens,
        )
        .await;
        let touched = self.touch_conversation(&turn).await;
        let still_there = touched.is_some();
        let conversation = touched.unwrap_or_else(|| turn.conversation.clone());
        let last = Final {
            is_final: true,
            conversation: present::conversation(&conversation),
            title: conversation.title.clone(),
            request_message: present::message(&turn.request),
            response_message: response.as_ref().map(present::message),
            aborted: matches!(outcome, Outcome::Aborted).then_some(true),
            error: match &outcome {
                Outcome::Failed(e) => Some(StreamError {
                    message: e.to_string(),
                    code: Some(e.code()),
                }),
                Outcome::Aborted | Outcome::Done => None,
            },
        };
        job.emit_final(last, status);
        self.jobs.finish(&job, status);
        if matches!(outcome, Outcome::Done)
            && still_there
            && turn.is_new_conversation
            && turn.endpoint.title_convo
            && conversation.title == "New Chat"
        {
            let text = job.content().1;
            self.title(&turn, &text).await;
        }
    }

    /// Streams the answer; returns how it ended and the provider's token counts.
    async fn generate(
        &self,
        job: &Arc<Job>,
        turn: &Turn,
        step_id: &str,
    ) -> (Outcome, Option<Usage>, u64) {
        let budget = super::context::budget(&turn.model, &turn.params);
        let attachments = self.attachments(turn).await;
        // A short history is counted right here (a few microseconds on the counting thread,
        // once its table is loaded); a long one, or one with files, on a blocking thread, so
        // the async threads never wait long.
        let size: usize = turn.branch.iter().map(|m| m.text.len()).sum::<usize>()
            + turn.system.as_ref().map_or(0, String::len);
        let (messages, prompt_tokens) = if size <= INLINE_COUNT_BYTES
            && attachments.is_empty()
            && super::tokens::ready(&turn.model)
        {
            super::context::build_counted(
                &turn.model,
                &turn.branch,
                turn.system.as_deref(),
                budget,
                &attachments,
            )
        } else {
            let (branch, system) = (turn.branch.clone(), turn.system.clone());
            let model = turn.model.clone();
            tokio::task::spawn_blocking(move || {
                super::context::build_counted(
                    &model,
                    &branch,
                    system.as_deref(),
                    budget,
                    &attachments,
                )
            })
            .await
            .unwrap_or_default()
        };
        match self
            .billing
            .check(
                &turn.user_id,
                &turn.model,
                prompt_tokens,
                turn.endpoint.token_config.as_ref(),
            )
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(short)) => {
                let e = ProviderError::InsufficientBalance {
                    balance: short.balance,
                    cost: short.cost,
                };
                return (Outcome::Failed(e), None, prompt_tokens);
            }
            Err(e) => tracing::warn!(error = %e, "checking the balance failed; answering anyway"),
        }
        let request = ChatRequest {
            model: turn.model.clone(),
            messages,
            params: turn.params.clone(),
            user: Some(turn.user_id.clone()),
            vars: turn.vars.clone(),
            tools: Vec::new(),
            tool_choice: None,
        };
        let aborted = job.aborted();
        tokio::pin!(aborted);
        let mut stream = tokio::select! {
            started = providers::stream(&self.http, &self.guarded, &turn.endpoint, &turn.api_key, request) => match started {
                Ok(s) => s,
                Err(e) => return (Outcome::Failed(e), None, prompt_tokens),
            },
            () = &mut aborted => return (Outcome::Aborted, None, prompt_tokens),
        };
        let mut usage = None;
        // A growing answer is saved SAVE_EVERY after its first unsaved piece, even when the
        // provider then pauses.
        let mut unsaved_since: Option<Instant> = None;
        let mut held = None;
        loop {
            let deadline = unsaved_since.map(|t| tokio::time::Instant::from_std(t + SAVE_EVERY));
            let event = if let Some(e) = held.take() {
                e
            } else {
                tokio::select! {
                e = stream.next() => e,
                () = &mut aborted => return (Outcome::Aborted, usage, prompt_tokens),
                () = async { tokio::time::sleep_until(deadline.expect("guarded")).await }, if deadline.is_some() => {
                    unsaved_since = None;
                    let partial = self.response_row(job, turn, true, None, None);
                    if let Err(e) = self.save(partial).await {
                        tracing::warn!(error = %e, "saving a growing answer failed");
                    }
                    continue;
                }
                }
            };
            match event {
                Some(Ok(StreamEvent::Text(mut t))) => {
                    held = gather(&mut stream, &mut t, false);
                    let frame = |t: &str| json!({"event": "on_message_delta", "data": {"id": step_id, "delta": {"content": [{"type": "text", "text": t}]}}});
                    if job.emit_delta(&t, false, frame).is_err() {
                        return (Outcome::Failed(too_long()), usage, prompt_tokens);
                    }
                }
                Some(Ok(StreamEvent::Reasoning(mut t))) => {
                    held = gather(&mut stream, &mut t, true);
                    let frame = |t: &str| json!({"event": "on_reasoning_delta", "data": {"id": step_id, "delta": {"content": [{"type": "think", "think": t}]}}});
                    if job.emit_delta(&t, true, frame).is_err() {
                        return (Outcome::Failed(too_long()), usage, prompt_tokens);
                    }
                }
                Some(Ok(StreamEvent::Usage(u))) => usage = Some(u),
                Some(Ok(StreamEvent::Finished(_))) => {}
                // No tools are offered here yet, and signatures matter only with tool calls.
                Some(Ok(
                    StreamEvent::ReasoningSignature(_)
                    | StreamEvent::RedactedReasoning(_)
                    | StreamEvent::ToolCallStart { .. }
                    | StreamEvent::ToolCallArgs { .. },
                )) => {}
                Some(Err(e)) => return (Outcome::Failed(e), usage, prompt_tokens),
                None => return (Outcome::Done, usage, prompt_tokens),
            }
            if unsaved_since.is_none() {
                unsaved_since = Some(Instant::now());
            }
            // Let the subscribers this frame woke run now. A woken task waits in this worker's
            // next-task slot, which other workers cannot take, until this one yields; with a
            // fast provider every read is ready at once, so without this the first piece of
            // an answer reached the client only after the whole burst (1.7 ms later).
            tokio::task::yield_now().await;
        }
    }

    /// What the branch's files give the model: documents before their message's text, and
    /// images (sent again with later turns unless the conversation sets `resendFiles: false`,
    /// at its `imageDetail`). A failure to read them is logged, and the turn goes on without.
    async fn attachments(&self, turn: &Turn) -> super::attachments::Attachments {
        if !turn.branch.iter().any(|m| m.extra.contains_key("files")) {
            return Default::default();
        }
        let resend = turn.params.get("resendFiles").and_then(Value::as_bool) != Some(false);
        let only = (!resend).then(|| turn.request.message_id.clone());
        let (user, branch) = (turn.user_id.clone(), turn.branch.clone());
        let (model, limit) = (turn.model.clone(), self.file_token_limit);
        let loaded = self
            .db
            .read(move |c| {
                super::attachments::load(c, &user, &branch, only.as_deref(), &model, limit)
            })
            .await;
        let mut loaded = match loaded {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "reading a message's files failed");
                return Default::default();
            }
        };
        let detail = match turn.params.get("imageDetail").and_then(Value::as_str) {
            Some("low") => providers::Detail::Low,
            Some("high") => providers::Detail::High,
            _ => providers::Detail::Auto,
        };
        for (message_id, f) in loaded.images {
            let bytes = match self.files.read(&f.storage_key).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, file.id = %f.file_id, "an image's bytes are missing");
                    continue;
                }
            };
            use base64::Engine as _;
            let image = providers::Image {
                mime: f.mime,
                base64: base64::engine::general_purpose::STANDARD
                    .encode(bytes)
                    .into(),
                detail: Some(detail),
            };
            loaded
                .documents
                .entry(message_id)
                .or_default()
                .push_image(image);
        }
        loaded.documents
    }

    /// The answer as it stands.
    fn response_row(
        &self,
        job: &Job,
        turn: &Turn,
        unfinished: bool,
        error: Option<&ProviderError>,
        tokens: Option<i64>,
    ) -> Message {
        let (_, text) = job.content();
        let mut content = job.aggregated_content();
        let mut m = turn.response.clone();
        m.text = text;
        if let Some(e) = error {
            if m.text.is_empty() {
                m.text = e.to_string();
            }
            content.retain(
                |p| !matches!(p, ContentPart::Text { text, .. } if text.as_str().is_empty()),
            );
            content.push(ContentPart::error(e.to_string()));
            m.error = true;
        }
        m.content = Some(present::parts_value(&content));
        m.unfinished = unfinished;
        m.token_count = tokens;
        m
    }

    async fn save(&self, m: Message) -> Result<(), DbError> {
        self.db
            .write(move |c| messages::save(c, &m).map(|_| ()))
            .await
    }

    /// Saves the answer as it ended. `None` when even that failed (logged).
    async fn finish(
        &self,
        job: &Arc<Job>,
        turn: &Turn,
        outcome: &Outcome,
        usage: Option<Usage>,
    ) -> (Option<Message>, i64) {
        let (think, text) = job.content();
        let new_text = text.get(turn.seed_len..).unwrap_or("").to_owned();
        // A continuation that failed before adding anything leaves the answer as it was.
        if turn.seed_len > 0
            && new_text.is_empty()
            && think.is_empty()
            && matches!(outcome, Outcome::Failed(_))
        {
            return (None, 0);
        }
        let text = new_text;
        let question = turn
            .request
            .token_count
            .is_none()
            .then(|| turn.request.text.clone());
        let model = turn.model.clone();
        let (tokens, question_tokens) = tokio::task::spawn_blocking(move || {
            let answer = match usage.filter(|u| u.completion_tokens > 0) {
                Some(u) => u.completion_tokens as i64,
                None => super::tokens::count(&model, &text),
            };
            (answer, question.map(|q| super::tokens::count(&model, &q)))
        })
        .await
        .unwrap_or((0, None));
        let (unfinished, error) = match outcome {
            Outcome::Done => (false, None),
            Outcome::Aborted => (true, None),
            Outcome::Failed(e) => (false, Some(e)),
        };
        let row = self.response_row(job, turn, unfinished, error, Some(tokens));
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
            Ok(stored) => (Some(stored.unwrap_or(row)), tokens),
            Err(e) => {
                tracing::error!(error = %e, "saving the answer failed");
                (None, tokens)
            }
        }
    }

    /// Records what the turn cost: the provider's counts where it gave them, ours otherwise. A
    /// stopped answer, or one cut off by an error after some text, is billed as incomplete;
    /// nothing is billed when nothing was generated.
    async fn bill(
        &self,
        job: &Job,
        turn: &Turn,
        outcome: &Outcome,
        usage: Option<Usage>,
        prompt_tokens: u64,
        completion_tokens: i64,
    ) {
        let (think, text) = job.content();
        let generated = text.len() > turn.seed_len || !think.is_empty();
        let incomplete = match outcome {
            Outcome::Done => false,
            // Refused before the provider was asked: nothing to pay.
            Outcome::Failed(ProviderError::InsufficientBalance { .. }) => return,
            Outcome::Aborted if !generated && turn.seed_len > 0 => return,
            Outcome::Aborted => true,
            Outcome::Failed(_) if generated => true,
            Outcome::Failed(_) => return,
        };
        let mut u = usage.unwrap_or_default();
        if u.prompt_tokens + u.cache_read_tokens + u.cache_write_tokens == 0 {
            u.prompt_tokens = prompt_tokens;
        }
        if u.completion_tokens == 0 {
            u.completion_tokens = completion_tokens.max(0) as u64;
        }
        let spend = crate::billing::Spend {
            user_id: &turn.user_id,
            conversation_id: &turn.conversation.conversation_id,
            message_id: &turn.response.message_id,
            model: &turn.model,
            context: "message",
            usage: u,
            incomplete,
            token_config: turn.endpoint.token_config.as_ref(),
        };
        if let Err(e) = self.billing.spend(spend).await {
            tracing::error!(error = %e, "recording what an answer cost failed");
        }
    }

    /// Records the endpoint and model on the conversation (and its new time).
    /// `None` when the conversation was deleted meanwhile (it is not brought back).
    async fn touch_conversation(&self, turn: &Turn) -> Option<Conversation> {
        let changes = conversations::Changes {
            endpoint: Some(Some(turn.endpoint.name.clone())),
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
