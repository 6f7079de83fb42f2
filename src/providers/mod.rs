//! The AI providers: one request shape, one stream of events, and one error type, whatever the
//! wire format behind them.
//!
//! [`endpoints`] reads which providers are configured (LibreChat's environment names and
//! librechat.yaml's `endpoints`); [`openai`] speaks OpenAI's chat completions, which OpenAI
//! itself and every OpenAI-compatible server (Ollama, OpenRouter, Groq, Mistral, DeepSeek,
//! vLLM, LiteLLM, ...) understand; [`responses`] OpenAI's Responses API, [`anthropic`] Anthropic's Messages API and
//! [`google`] Gemini's `streamGenerateContent`.

pub mod anthropic;
mod anthropic_tools;
pub mod content;
pub mod embeddings;
pub mod endpoints;
pub mod google;
mod google_tools;
pub mod models;
pub mod moderation;
pub mod openai;
pub mod probe;
pub mod responses;
mod sse;
pub mod tools;

use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;
use serde_json::{Map, Value};

pub(crate) use content::alternating;
pub use content::{ChatMessage, Detail, Image, Part, Role};
pub use endpoints::{Endpoint, Endpoints, Protocol};
pub use tools::{Answer, TOOL_CALLS_FINISH, ToolCall, ToolChoice, ToolDef, ToolResult};

/// One request for a completion.
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    pub model: String,
    /// Oldest first, the system prompt (if any) first of all.
    pub messages: Vec<ChatMessage>,
    /// Model parameters as the client sent them (`temperature`, `top_p`, `max_tokens`, ...),
    /// passed through under the provider's names.
    pub params: Map<String, Value>,
    /// Who asks, for providers that take a `user` field.
    pub user: Option<String>,
    /// Values for the `{{LIBRECHAT_...}}` placeholders of an endpoint's `headers`
    /// (`LIBRECHAT_USER_ID`, `LIBRECHAT_BODY_CONVERSATIONID`, ...).
    pub vars: Vec<(String, String)>,
    /// The tools the model may call; none leaves tools out of the request entirely.
    pub tools: Vec<ToolDef>,
    /// Whether it must or may not call them; `None` leaves the provider's default (the model
    /// decides). Written only when tools are offered (OpenAI refuses it otherwise).
    pub tool_choice: Option<ToolChoice>,
}

impl ChatRequest {
    /// An endpoint header's value with its `{{NAME}}` placeholders filled in; unknown ones stay.
    pub fn fill(&self, value: &str) -> String {
        let mut out = value.to_owned();
        for (name, v) in &self.vars {
            out = out.replace(&format!("{{{{{name}}}}}"), v);
        }
        out
    }
}

/// Token counts a provider reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens not read from or written to a cache.
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens read from the provider's cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_tokens: u64,
}

/// What a streaming provider sends, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// More of the answer.
    Text(String),
    /// More of the model's visible reasoning.
    Reasoning(String),
    /// The signature that closes the reasoning streamed since the previous one (an Anthropic
    /// thinking block's): that text and this signature go back unchanged as one
    /// [`Part::Thinking`] when the history carries the answer's tool calls.
    ReasoningSignature(String),
    /// Reasoning the provider encrypted (an Anthropic `redacted_thinking` block's `data`), to
    /// go back unchanged as a [`Part::RedactedThinking`].
    RedactedReasoning(String),
    /// The model starts tool call `index` (0, 1, ... in the order calls start in this answer).
    /// `signature` is Gemini's `thoughtSignature` for the call, to return with it.
    ///
    /// A call streams as one start and then its arguments in pieces, rather than as one event
    /// per call, so the client sees a call as soon as the model begins it (LibreChat's run
    /// step, then its `args` deltas) and parallel calls may interleave; `id` and `name` come
    /// once, not with every piece.
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
        signature: Option<String>,
    },
    /// More of call `index`'s arguments (JSON text; the pieces joined are the whole).
    ToolCallArgs {
        index: usize,
        delta: String,
    },
    Usage(Usage),
    /// The answer is complete (`stop`, `length`, ...); [`TOOL_CALLS_FINISH`] when it ends by
    /// calling the tools started above, whatever the provider's word for it.
    Finished(Option<String>),
}

/// Why a provider call failed: what the person sees, in the stream and in the saved message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("The provider rejected the API key ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    #[error("The provider is rate limiting requests{}: {message}", retry_after.map(|d| format!(" (try again in {} s)", d.as_secs().max(1))).unwrap_or_default())]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    #[error("The provider answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("Cannot reach the provider at {url}: {message}")]
    Unreachable { url: String, message: String },
    /// A base URL the person set leads where this server does not call for them.
    #[error("The base URL you set cannot be used: {0}")]
    Blocked(crate::net::Blocked),
    #[error("The provider's stream was malformed: {0}")]
    Malformed(String),
    #[error("The provider's stream ended before the answer was complete")]
    Interrupted,
    /// The answer reached the most this server keeps of one (`chat::jobs::MAX_ANSWER_BYTES`).
    #[error(
        "The answer passed {mib} MiB, the most this server keeps of one answer, and was stopped there"
    )]
    AnswerTooLong { mib: usize },
    /// A base URL a person set took longer than this in all (see [`USER_URL_DEADLINE`]).
    #[error(
        "The provider at the base URL you set took longer than {minutes} minutes to answer; the answer was stopped there"
    )]
    TooSlow { minutes: u64 },
    #[error("{0}")]
    Config(String),
    /// The balance does not cover the prompt (LibreChat's `token_balance`).
    #[error(
        "Insufficient funds: the balance is {balance} credits and this message needs about {cost}."
    )]
    InsufficientBalance { balance: i64, cost: i64 },
}

impl ProviderError {
    /// LibreChat-style error code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            ProviderError::Unauthorized { .. } => "invalid_api_key",
            ProviderError::RateLimited { .. } => "rate_limit",
            ProviderError::Status { .. } => "provider_error",
            ProviderError::Unreachable { .. } => "provider_unreachable",
            ProviderError::Blocked(_) => "invalid_base_url",
            ProviderError::Malformed(_) | ProviderError::Interrupted => "stream_error",
            ProviderError::AnswerTooLong { .. } => "answer_too_long",
            ProviderError::TooSlow { .. } => "provider_timeout",
            ProviderError::Config(_) => "config_error",
            ProviderError::InsufficientBalance { .. } => "token_balance",
        }
    }
}

pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, ProviderError>> + Send>>;

/// Sends a streaming request: `body` as JSON to `url`, with `headers` (the key's header, when
/// there is a key, and any the API needs) and then the endpoint's own (their placeholders
/// filled), except to a base URL a person set: that is theirs, and gets only their key, never
/// what the administrator configured (as LibreChat does). A connection failure is
/// [`ProviderError::Unreachable`] (or [`ProviderError::Blocked`]); a non-2xx answer becomes
/// what `on_error` makes of it.
pub(crate) async fn post<F, Fut>(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    request: &ChatRequest,
    url: &str,
    body: &serde_json::Map<String, serde_json::Value>,
    headers: Vec<(&'static str, String)>,
    on_error: F,
) -> Result<reqwest::Response, ProviderError>
where
    F: FnOnce(reqwest::Response) -> Fut,
    Fut: std::future::Future<Output = ProviderError>,
{
    let mut req = http
        .post(url)
        .header("accept", "text/event-stream")
        .json(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    if !endpoint.user_base_url {
        for (k, v) in &endpoint.headers {
            req = req.header(k.as_str(), request.fill(v));
        }
    }
    let response = req
        .send()
        .await
        .map_err(|e| match crate::net::Blocked::find(&e) {
            Some(blocked) => ProviderError::Blocked(blocked.clone()),
            None => ProviderError::Unreachable {
                url: endpoint.base_url.clone(),
                message: openai::cause(&e),
            },
        })?;
    if !response.status().is_success() {
        return Err(on_error(response).await);
    }
    Ok(response)
}

/// `(name, value)` for an API key header, or nothing when there is no key.
pub(crate) fn key_header(
    name: &'static str,
    value: impl Into<String>,
    key: &str,
) -> Vec<(&'static str, String)> {
    if key.is_empty() {
        Vec::new()
    } else {
        vec![(name, value.into())]
    }
}

/// The endpoint's `addParams` added to a request body and its `dropParams` taken out.
pub(crate) fn apply_params(
    endpoint: &Endpoint,
    body: &mut serde_json::Map<String, serde_json::Value>,
) {
    for (k, v) in &endpoint.add_params {
        body.insert(k.clone(), v.clone());
    }
    for k in &endpoint.drop_params {
        body.remove(k);
    }
}

/// How long a call to a base URL a person set may take in all, answer included: the client's
/// timeouts bound each read, and a server that sends a little now and then would renew them
/// for ever, holding a connection and a job here. Far longer than a real answer takes.
pub const USER_URL_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// Starts a streaming completion on `endpoint` with `api_key`: through `http` for the
/// administrator's URLs, through `guarded` for one a person set (`baseURL: user_provided`),
/// which must also finish within [`USER_URL_DEADLINE`].
pub async fn stream(
    http: &reqwest::Client,
    guarded: &crate::net::Guarded,
    endpoint: &Endpoint,
    api_key: &str,
    request: ChatRequest,
) -> Result<EventStream, ProviderError> {
    if !endpoint.user_base_url {
        return start(http, endpoint, api_key, request).await;
    }
    let http = guarded
        .client_for_str(&endpoint.base_url)
        .map_err(ProviderError::Blocked)?;
    let until = tokio::time::Instant::now() + USER_URL_DEADLINE;
    match tokio::time::timeout_at(until, start(http, endpoint, api_key, request)).await {
        Ok(started) => Ok(within(started?, until, USER_URL_DEADLINE)),
        Err(_) => Err(too_slow(USER_URL_DEADLINE)),
    }
}

fn too_slow(deadline: Duration) -> ProviderError {
    ProviderError::TooSlow {
        minutes: deadline.as_secs() / 60,
    }
}

/// `events` until `until`; then one [`ProviderError::TooSlow`] and the end.
fn within(events: EventStream, until: tokio::time::Instant, deadline: Duration) -> EventStream {
    use futures_util::StreamExt;
    let timer = Box::pin(tokio::time::sleep_until(until));
    Box::pin(futures_util::stream::unfold(
        Some((events, timer)),
        move |state| async move {
            let (mut events, mut timer) = state?;
            tokio::select! {
                event = events.next() => event.map(|e| (e, Some((events, timer)))),
                () = &mut timer => Some((Err(too_slow(deadline)), None)),
            }
        },
    ))
}

async fn start(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    api_key: &str,
    request: ChatRequest,
) -> Result<EventStream, ProviderError> {
    match endpoint.protocol {
        // `useResponsesApi` picks OpenAI's newer API (not on Azure deployments here).
        Protocol::OpenAi
            if request
                .params
                .get("useResponsesApi")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false) =>
        {
            responses::stream(http, endpoint, api_key, request).await
        }
        Protocol::OpenAi | Protocol::AzureOpenAi => {
            openai::stream(http, endpoint, api_key, request).await
        }
        Protocol::Anthropic => anthropic::stream(http, endpoint, api_key, request).await,
        Protocol::Google => google::stream(http, endpoint, api_key, request).await,
    }
}

/// The HTTP client every provider call shares: rustls, HTTP/2 when offered, and timeouts that
/// catch a dead connection without cutting off a slow answer.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(Duration::from_secs(300))
        .user_agent(concat!("librechat/", env!("CARGO_PKG_VERSION")))
        // Enough warm connections for bursts, without keeping one per past answer.
        .pool_max_idle_per_host(16)
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .expect("the HTTP client builds with static settings")
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn a_stream_past_its_deadline_ends_with_an_error() {
        // A provider that sends a little and then nothing, for ever.
        let trickle: EventStream = Box::pin(
            futures_util::stream::iter([Ok(StreamEvent::Text("Hel".into()))])
                .chain(futures_util::stream::pending()),
        );
        let deadline = Duration::from_millis(20);
        let until = tokio::time::Instant::now() + deadline;
        let got: Vec<_> = within(trickle, until, deadline).collect().await;
        assert_eq!(
            got,
            [
                Ok(StreamEvent::Text("Hel".into())),
                Err(ProviderError::TooSlow { minutes: 0 })
            ]
        );

        // One that ends in time is left as it is.
        let done: EventStream = Box::pin(futures_util::stream::iter([
            Ok(StreamEvent::Text("Hello".into())),
            Ok(StreamEvent::Finished(Some("stop".into()))),
        ]));
        let deadline = Duration::from_secs(3600);
        let until = tokio::time::Instant::now() + deadline;
        let got: Vec<_> = within(done, until, deadline).collect().await;
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(Result::is_ok));
    }
}
