//! The loop's [`Host`] for a chat turn: the provider behind the turn's endpoint, the job that
//! streams the steps, the store that keeps the answer and its calls, and billing.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::json;

use super::{Engine, Turn};
use crate::agents::run::{CallRecord, Host};
use crate::agents::steps::Steps;
use crate::chat::jobs::Job;
use crate::db::{messages, tool_calls};
use crate::providers::{self, ChatRequest, Endpoint, EventStream, ProviderError, Usage};

pub(super) struct TurnHost<'a> {
    engine: &'a Engine,
    job: &'a Arc<Job>,
    turn: &'a Turn,
    /// Where the model is asked, and the model billed: the turn's, or the agent's whose turn
    /// it is in an answer of several agents.
    endpoint: &'a Endpoint,
    api_key: &'a str,
    model: &'a str,
    /// The lane of the answer's steps this agent writes in (see [`Steps::lane`]).
    lane: usize,
    /// The steps left to the whole answer, when agents share it (see [`Host::take_step`]).
    budget: Option<&'a AtomicU32>,
}

impl<'a> TurnHost<'a> {
    pub fn new(engine: &'a Engine, job: &'a Arc<Job>, turn: &'a Turn) -> Self {
        Self::on(
            engine,
            job,
            turn,
            &turn.endpoint,
            &turn.api_key,
            &turn.model,
        )
    }

    /// The host for one agent of an answer of several.
    pub fn on(
        engine: &'a Engine,
        job: &'a Arc<Job>,
        turn: &'a Turn,
        endpoint: &'a Endpoint,
        api_key: &'a str,
        model: &'a str,
    ) -> Self {
        TurnHost {
            engine,
            job,
            turn,
            endpoint,
            api_key,
            model,
            lane: 0,
            budget: None,
        }
    }

    /// This host writing in `lane`, taking its steps from `budget`.
    pub fn sharing(self, lane: usize, budget: &'a AtomicU32) -> Self {
        TurnHost {
            lane,
            budget: Some(budget),
            ..self
        }
    }
}

impl Host for TurnHost<'_> {
    fn model(
        &self,
        request: ChatRequest,
    ) -> impl Future<Output = Result<EventStream, ProviderError>> + Send {
        providers::stream(
            &self.engine.http,
            &self.engine.guarded,
            self.endpoint,
            self.api_key,
            request,
        )
    }

    fn steps<R>(&self, change: impl FnOnce(&mut Steps) -> R) -> R {
        let lane = self.lane;
        self.job.update(|s| {
            s.lane(lane);
            change(s)
        })
    }

    fn take_step(&self) -> bool {
        self.budget.is_none_or(|left| {
            left.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                .is_ok()
        })
    }

    fn save(&self) -> impl Future<Output = ()> + Send {
        let row = self
            .engine
            .response_row(self.job, self.turn, true, None, None);
        async move {
            if let Err(e) = self.engine.save(row).await {
                tracing::warn!(error = %e, "saving a growing answer failed");
            }
        }
    }

    fn save_calls(&self, calls: Vec<CallRecord>) -> impl Future<Output = ()> + Send {
        let row = self
            .engine
            .response_row(self.job, self.turn, true, None, None);
        async move {
            let written = self
                .engine
                .db
                .write(move |c| {
                    let tx = c.transaction()?;
                    if messages::save_in(&tx, &row)? == messages::Saved::Yes {
                        for call in &calls {
                            tool_calls::record(
                                &tx,
                                &tool_calls::NewToolCall {
                                    user_id: &row.user_id,
                                    conversation_id: &row.conversation_id,
                                    message_id: &row.message_id,
                                    tool_id: &call.name,
                                    call_id: &call.call_id,
                                    result: &json!(call.output),
                                    part_index: call.part_index,
                                },
                            )?;
                        }
                    }
                    tx.commit()?;
                    Ok(())
                })
                .await;
            if let Err(e) = written {
                tracing::warn!(error = %e, "saving an answer's tool calls failed");
            }
        }
    }

    async fn afford(&self, prompt_tokens: u64) -> Result<(), ProviderError> {
        self.engine
            .afford(&self.turn.user_id, self.model, self.endpoint, prompt_tokens)
            .await
    }

    async fn bill(&self, usage: Usage, incomplete: bool) {
        let turn = self.turn;
        let spend = crate::billing::Spend {
            user_id: &turn.user_id,
            conversation_id: &turn.conversation.conversation_id,
            message_id: &turn.response.message_id,
            model: self.model,
            context: "message",
            usage,
            incomplete,
            token_config: self.endpoint.token_config.as_ref(),
        };
        self.engine.bill(spend).await;
    }

    fn aborted(&self) -> impl Future<Output = ()> + Send + 'static {
        self.job.aborted()
    }

    fn count(&self, text: String) -> impl Future<Output = u64> + Send {
        crate::chat::tokens::count_async(self.model.to_owned(), text)
    }
}
