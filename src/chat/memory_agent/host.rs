//! The loop's [`Host`] for the memory agent: its own model (from `memory.agent`), billed as
//! any call; nothing streamed to the person and nothing saved but the memories (its steps are
//! kept only while it runs); never stopped by the answer's abort (it runs on its own, within
//! [`super::RUN_TIMEOUT`]).

use std::future::Future;
use std::sync::Mutex;

use crate::agents::run::{CallRecord, Host};
use crate::agents::steps::Steps;
use crate::chat::engine::Engine;
use crate::providers::{self, ChatRequest, Endpoint, EventStream, ProviderError, Usage};

pub(super) struct MemoryHost<'a> {
    pub engine: &'a Engine,
    pub endpoint: Endpoint,
    pub api_key: String,
    pub model: String,
    pub user_id: &'a str,
    pub conversation_id: &'a str,
    /// The answer the run goes with (its transactions name it).
    pub message_id: &'a str,
    pub steps: Mutex<Steps>,
}

impl Host for MemoryHost<'_> {
    fn model(
        &self,
        request: ChatRequest,
    ) -> impl Future<Output = Result<EventStream, ProviderError>> + Send {
        providers::stream(
            &self.engine.http,
            &self.engine.guarded,
            &self.endpoint,
            &self.api_key,
            request,
        )
    }

    fn steps<R>(&self, change: impl FnOnce(&mut Steps) -> R) -> R {
        let mut steps = self.steps.lock().expect("memory steps");
        let r = change(&mut steps);
        // Nobody follows the memory agent's steps.
        steps.drain().for_each(drop);
        r
    }

    async fn save(&self) {}

    async fn save_calls(&self, _calls: Vec<CallRecord>) {}

    async fn afford(&self, prompt_tokens: u64) -> Result<(), ProviderError> {
        self.engine
            .afford(self.user_id, &self.model, &self.endpoint, prompt_tokens)
            .await
    }

    async fn bill(&self, usage: Usage, incomplete: bool) {
        let spend = crate::billing::Spend {
            user_id: self.user_id,
            conversation_id: self.conversation_id,
            message_id: self.message_id,
            model: &self.model,
            context: "memory",
            usage,
            incomplete,
            token_config: self.endpoint.token_config.as_ref(),
        };
        self.engine.bill(spend).await;
    }

    fn aborted(&self) -> impl Future<Output = ()> + Send + 'static {
        std::future::pending()
    }

    fn count(&self, text: String) -> impl Future<Output = u64> + Send {
        crate::chat::tokens::count_async(self.model.clone(), text)
    }
}
